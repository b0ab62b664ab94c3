//! Small hand-written SVG charts for the HTML report: two cumulative distributions overlaid
//! (from quantiles), grouped bars (character classes, volumes), fan-out curves on a log
//! scale, and the timed runs of a query on both sides. Plain SVG elements only: readable without script, printable.

use std::fmt::Write;

use super::escape::esc;

pub const LEFT_COLOR: &str = "#2b6cb0";
pub const RIGHT_COLOR: &str = "#c05621";

/// A short label for a value: dates for temporal columns, else a compact number.
pub fn label(x: f64, temporal: bool) -> String {
    if temporal {
        return chrono::DateTime::from_timestamp(x.floor() as i64, 0)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| format!("{x}"));
    }
    let a = x.abs();
    if a >= 1e9 {
        format!("{:.1}G", x / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", x / 1e6)
    } else if a >= 1e4 {
        format!("{:.1}k", x / 1e3)
    } else if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

/// The visible caption: what follows the object in a title ("values", "lengths"...).
fn caption(out: &mut String, w: f64, title: &str) {
    let short = title.rsplit(": ").next().unwrap_or(title);
    let _ = write!(
        out,
        r#"<text x="{}" y="12" class="axis" text-anchor="end">{}</text>"#,
        w - 4.0,
        esc(short)
    );
}

/// An SVG chart's opening tag, titled (the title is its accessible name too).
fn open_chart(w: f64, h: f64, title: &str) -> String {
    format!(
        r#"<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{}"><title>{}</title>"#,
        esc(title),
        esc(title)
    )
}

fn legend(out: &mut String, x: f64, y: f64, left: &str, right: &str) {
    let _ = write!(
        out,
        r#"<rect x="{x}" y="{}" width="10" height="10" fill="{LEFT_COLOR}"/><text x="{}" y="{y}">{}</text><rect x="{}" y="{}" width="10" height="10" fill="{RIGHT_COLOR}"/><text x="{}" y="{y}">{}</text>"#,
        y - 9.0,
        x + 14.0,
        esc(left),
        x + 150.0,
        y - 9.0,
        x + 164.0,
        esc(right)
    );
}

/// Cumulative distributions of two sides from their quantiles (`at` are the probabilities).
pub fn cdf(
    title: &str,
    at: &[f64],
    left: Option<&[f64]>,
    right: Option<&[f64]>,
    names: (&str, &str),
    temporal: bool,
) -> String {
    let (w, h, pad) = (420.0, 190.0, 36.0);
    let all: Vec<f64> = left
        .into_iter()
        .chain(right)
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    if all.is_empty() {
        return String::new();
    }
    let (lo, hi) = all
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let span = if hi > lo { hi - lo } else { 1.0 };
    let px = |v: f64| pad + (v - lo) / span * (w - 2.0 * pad);
    let py = |p: f64| h - pad - p * (h - 2.0 * pad);
    let mut out = open_chart(w, h, title);
    let _ = write!(
        out,
        r##"<line x1="{pad}" y1="{}" x2="{}" y2="{}" stroke="#999"/><line x1="{pad}" y1="{pad}" x2="{pad}" y2="{}" stroke="#999"/>"##,
        h - pad,
        w - pad,
        h - pad,
        h - pad
    );
    let _ = write!(
        out,
        r#"<text x="{pad}" y="{}" class="axis">{}</text><text x="{}" y="{}" class="axis" text-anchor="end">{}</text><text x="4" y="{}" class="axis">100%</text><text x="4" y="{}" class="axis">0%</text>"#,
        h - pad + 14.0,
        esc(&label(lo, temporal)),
        w - pad,
        h - pad + 14.0,
        esc(&label(hi, temporal)),
        pad + 4.0,
        h - pad
    );
    for (values, color) in [(left, LEFT_COLOR), (right, RIGHT_COLOR)] {
        let Some(values) = values else { continue };
        let pts: Vec<String> = at
            .iter()
            .zip(values)
            .filter(|(_, v)| v.is_finite())
            .map(|(p, v)| format!("{:.1},{:.1}", px(*v), py(*p)))
            .collect();
        let _ = write!(
            out,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            pts.join(" ")
        );
    }
    legend(&mut out, pad, 14.0, names.0, names.1);
    caption(&mut out, w, title);
    out.push_str("</svg>");
    out
}

/// Horizontal grouped bars: per label, a value on each side (shares 0..1, or counts with
/// `log` for volumes).
pub fn bars(title: &str, rows: &[(String, f64, f64)], names: (&str, &str), log: bool) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let (w, row_h, label_w) = (520.0, 26.0, 170.0);
    let h = 24.0 + rows.len() as f64 * row_h + 8.0;
    let max = rows
        .iter()
        .map(|r| r.1.max(r.2))
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let scale = |v: f64| {
        let frac = if log {
            (v.max(0.0) + 1.0).log10() / (max + 1.0).log10()
        } else {
            v / max
        };
        frac.clamp(0.0, 1.0) * (w - label_w - 70.0)
    };
    let mut out = open_chart(w, h, title);
    legend(&mut out, label_w, 14.0, names.0, names.1);
    caption(&mut out, w, title);
    for (i, (name, a, b)) in rows.iter().enumerate() {
        let y = 24.0 + i as f64 * row_h;
        let shown = |v: f64| {
            if log {
                label(v, false)
            } else {
                format!("{:.1}%", v * 100.0)
            }
        };
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text><rect x="{label_w}" y="{y}" width="{:.1}" height="10" fill="{LEFT_COLOR}"/><text x="{:.1}" y="{}" class="axis">{}</text><rect x="{label_w}" y="{}" width="{:.1}" height="10" fill="{RIGHT_COLOR}"/><text x="{:.1}" y="{}" class="axis">{}</text>"#,
            label_w - 6.0,
            y + 14.0,
            esc(name),
            scale(*a),
            label_w + scale(*a) + 4.0,
            y + 9.0,
            esc(&shown(*a)),
            y + 11.0,
            scale(*b),
            label_w + scale(*b) + 4.0,
            y + 20.0,
            esc(&shown(*b))
        );
    }
    out.push_str("</svg>");
    out
}

/// Children per parent at p50, p90, p99, p99.9 and the maximum, both sides, log scale.
pub fn fanout(
    title: &str,
    left: Option<&[f64]>,
    right: Option<&[f64]>,
    names: (&str, &str),
) -> String {
    let (w, h, pad) = (420.0, 190.0, 36.0);
    let labels = ["p50", "p90", "p99", "p99.9", "max"];
    let max = left
        .into_iter()
        .chain(right)
        .flatten()
        .fold(1.0f64, |a, &b| a.max(b));
    let py = |v: f64| h - pad - (v.max(0.0) + 1.0).log10() / (max + 1.0).log10() * (h - 2.0 * pad);
    let px = |i: usize| pad + i as f64 * (w - 2.0 * pad) / (labels.len() - 1) as f64;
    let mut out = open_chart(w, h, title);
    let _ = write!(
        out,
        r##"<line x1="{pad}" y1="{}" x2="{}" y2="{}" stroke="#999"/><text x="4" y="{}" class="axis">{}</text><text x="4" y="{}" class="axis">0</text>"##,
        h - pad,
        w - pad,
        h - pad,
        pad + 4.0,
        esc(&label(max, false)),
        h - pad
    );
    for (i, l) in labels.iter().enumerate() {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{}" class="axis" text-anchor="middle">{l}</text>"#,
            px(i),
            h - pad + 14.0
        );
    }
    for (values, color) in [(left, LEFT_COLOR), (right, RIGHT_COLOR)] {
        let Some(values) = values else { continue };
        let pts: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", px(i), py(*v)))
            .collect();
        let _ = write!(
            out,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            pts.join(" ")
        );
        for (i, v) in values.iter().enumerate() {
            let _ = write!(
                out,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"><title>{}: {}</title></circle>"#,
                px(i),
                py(*v),
                labels[i],
                label(*v, false)
            );
        }
    }
    legend(&mut out, pad, 14.0, names.0, names.1);
    caption(&mut out, w, title);
    out.push_str("</svg>");
    out
}

/// Every timed run of a query on both sides as a dot on one time axis (from 0 ms), one row
/// per side, the median marked: how far apart the sides are and how much each spreads.
pub fn runs(title: &str, left: &[f64], right: &[f64], names: (&str, &str)) -> String {
    if left.is_empty() && right.is_empty() {
        return String::new();
    }
    let (w, pad, label_w, row_h) = (520.0, 36.0, 120.0, 30.0);
    let h = 24.0 + 2.0 * row_h + 28.0;
    let max = left.iter().chain(right).fold(1e-3f64, |a, &b| a.max(b)) * 1.05;
    let px = |v: f64| label_w + v.max(0.0) / max * (w - label_w - pad);
    let mut out = open_chart(w, h, title);
    legend(&mut out, label_w, 14.0, names.0, names.1);
    caption(&mut out, w, title);
    let axis_y = 24.0 + 2.0 * row_h + 4.0;
    let _ = write!(
        out,
        r##"<line x1="{label_w}" y1="{axis_y}" x2="{}" y2="{axis_y}" stroke="#999"/><text x="{label_w}" y="{}" class="axis">0 ms</text><text x="{:.1}" y="{}" class="axis" text-anchor="end">{} ms</text>"##,
        w - pad,
        axis_y + 14.0,
        w - pad,
        axis_y + 14.0,
        esc(&label(max, false))
    );
    for (i, (name, values, color)) in [(names.0, left, LEFT_COLOR), (names.1, right, RIGHT_COLOR)]
        .into_iter()
        .enumerate()
    {
        let y = 24.0 + i as f64 * row_h + row_h / 2.0;
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            label_w - 8.0,
            y + 4.0,
            esc(name)
        );
        for (n, v) in values.iter().enumerate() {
            let _ = write!(
                out,
                r#"<circle cx="{:.1}" cy="{y}" r="4" fill="{color}" fill-opacity="0.6"><title>run {}: {:.2} ms</title></circle>"#,
                px(*v),
                n + 1,
                v
            );
        }
        if !values.is_empty() {
            let mut sorted = values.to_vec();
            sorted.sort_by(f64::total_cmp);
            let m = sorted.len();
            let median = if m % 2 == 1 {
                sorted[m / 2]
            } else {
                (sorted[m / 2 - 1] + sorted[m / 2]) / 2.0
            };
            let _ = write!(
                out,
                r#"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{}" stroke="{color}" stroke-width="2"><title>median {median:.2} ms</title></line>"#,
                y - 10.0,
                y + 10.0,
                x = px(median)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// A finding's figure on both sides over the history's runs: two small lines on one scale
/// (from 0), each point titled with its run and value.
pub fn spark(
    title: &str,
    points: &[(String, Option<f64>, Option<f64>)],
    names: (&str, &str),
) -> String {
    if points.len() < 2 {
        return String::new();
    }
    let (w, h, pad) = (260.0, 64.0, 6.0);
    let max = points
        .iter()
        .flat_map(|(_, a, b)| [*a, *b])
        .flatten()
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let px = |i: usize| pad + i as f64 * (w - 2.0 * pad) / (points.len() - 1) as f64;
    let py = |v: f64| h - pad - v / max * (h - 2.0 * pad - 12.0);
    let mut out = open_chart(w, h, title);
    caption(&mut out, w, title);
    for (side, color, name) in [(0, LEFT_COLOR, names.0), (1, RIGHT_COLOR, names.1)] {
        let pts: Vec<(usize, &String, f64)> = points
            .iter()
            .enumerate()
            .filter_map(|(i, (at, a, b))| if side == 0 { *a } else { *b }.map(|v| (i, at, v)))
            .collect();
        let line: Vec<String> = pts
            .iter()
            .map(|(i, _, v)| format!("{:.1},{:.1}", px(*i), py(*v)))
            .collect();
        let _ = write!(
            out,
            r#"<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{}"/>"#,
            line.join(" ")
        );
        for (i, at, v) in pts {
            let _ = write!(
                out,
                r#"<circle cx="{:.1}" cy="{:.1}" r="2" fill="{color}"><title>{} {}: {}</title></circle>"#,
                px(i),
                py(v),
                esc(name),
                esc(at),
                esc(&label(v, false))
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// Open findings per severity over the history's runs, as stacked bars.
pub fn trend(runs: &[(String, [usize; 5])]) -> String {
    if runs.is_empty() {
        return String::new();
    }
    let colors = ["#9b2c2c", "#c53030", "#dd6b20", "#d69e2e", "#718096"];
    let (w, h, pad) = (420.0, 120.0, 20.0);
    let max = runs
        .iter()
        .map(|r| r.1.iter().sum::<usize>())
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let bw = (w - 2.0 * pad) / runs.len() as f64;
    let mut out = format!(
        r#"<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="open findings per run"><title>open findings per run</title>"#
    );
    for (i, (at, c)) in runs.iter().enumerate() {
        let mut y = h - pad;
        for (k, n) in c.iter().enumerate() {
            let bh = *n as f64 / max * (h - 2.0 * pad);
            if bh > 0.0 {
                y -= bh;
                let _ = write!(
                    out,
                    r#"<rect x="{:.1}" y="{y:.1}" width="{:.1}" height="{bh:.1}" fill="{}"><title>{}: {n} {}</title></rect>"#,
                    pad + i as f64 * bw + 2.0,
                    (bw - 4.0).max(1.0),
                    colors[k],
                    esc(at),
                    crate::finding::Severity::ALL[k]
                );
            }
        }
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{}" class="axis" text-anchor="middle">{}</text>"#,
            pad + (i as f64 + 0.5) * bw,
            h - 6.0,
            c.iter().sum::<usize>()
        );
    }
    out.push_str("</svg>");
    out
}
