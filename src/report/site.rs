//! The history site's pages (`pgparity history site`): an index of every pair (a fleet's
//! reference and each target, a check's two sides) with its current state and a sparkline of
//! its open findings over the runs, a page per pair with its runs, the findings each run
//! opened and fixed, and links to each run's report. Static HTML, relative links, no script,
//! nothing fetched: it works from a file:// URL and from any object store. Pure: the pages
//! from the data the history holds.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::escape::esc;
use crate::finding::Severity;

/// One pair's runs, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    /// The file name of its page, without `.html` (letters, digits, `-`).
    pub slug: String,
    /// `fleet` or `check`.
    pub kind: &'static str,
    /// The side matched (the fleet's reference, the check's right side).
    pub reference: String,
    /// The side compared (the fleet's target, the check's left side).
    pub target: String,
    pub runs: Vec<PairRun>,
}

/// One run of a pair.
#[derive(Debug, Clone, PartialEq)]
pub struct PairRun {
    /// RFC 3339.
    pub at: String,
    /// The run's name (a fleet run's id, or the check run's time).
    pub run: String,
    /// The run's report, relative to the site's root (`runs/….html`).
    pub report: String,
    /// Open findings per severity, critical first.
    pub open: [usize; 5],
    /// Open findings: id → (severity, message).
    pub findings: BTreeMap<String, (Severity, String)>,
    /// The target could not be compared in this run.
    pub error: Option<String>,
}

const CSS: &str = r#"
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a202c;margin:0 auto;max-width:1200px;padding:18px 20px}
h1{font-size:21px;margin:0 0 4px} h2{font-size:17px;border-bottom:2px solid #e2e8f0;padding-bottom:4px;margin-top:26px}
table{border-collapse:collapse;width:100%} th,td{border-bottom:1px solid #e2e8f0;padding:5px 6px;text-align:left;vertical-align:middle}
th{background:#f7fafc;font-weight:600}
.sev{display:inline-block;border-radius:3px;padding:0 5px;color:#fff;font-size:11px;font-weight:600;margin-right:2px}
.critical{background:#742a2a}.high{background:#c53030}.medium{background:#dd6b20}.low{background:#d69e2e}.info{background:#a0aec0}
.ok{color:#22543d;font-weight:600} .err{color:#822727;font-weight:600}
.muted{color:#4a5568;font-size:13px} code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
.opened{color:#c53030} .fixed{color:#2f855a} ul{margin:4px 0;padding-left:18px}
svg.spark{vertical-align:middle}
"#;

fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{}</title><style>{CSS}</style></head><body>{body}</body></html>
"#,
        esc(title)
    )
}

/// Open findings weighed by severity, as the fleet ranks targets.
fn distance(open: &[usize; 5]) -> u64 {
    open.iter()
        .zip([10_000u64, 1_000, 100, 10, 1])
        .map(|(n, w)| *n as u64 * w)
        .sum()
}

fn state(r: &PairRun) -> String {
    if let Some(e) = &r.error {
        return format!(
            r#"<span class="err" title="{}">not compared</span>"#,
            esc(e)
        );
    }
    let mut s = String::new();
    for (sev, n) in Severity::ALL.iter().zip(r.open) {
        if n > 0 {
            let _ = write!(s, r#"<span class="sev {sev}">{n} {sev}</span>"#);
        }
    }
    if s.is_empty() {
        s = r#"<span class="ok">no open finding</span>"#.into();
    }
    s
}

/// The open findings' count over the runs, as a small line (the last run a dot, in the color
/// of its worst severity).
fn sparkline(runs: &[PairRun]) -> String {
    let (w, h) = (140.0, 26.0);
    let values: Vec<f64> = runs
        .iter()
        .map(|r| {
            if r.error.is_some() {
                f64::NAN
            } else {
                r.open.iter().sum::<usize>() as f64
            }
        })
        .collect();
    let top = values
        .iter()
        .filter(|v| v.is_finite())
        .fold(1.0f64, |m, v| m.max(*v));
    let x = |i: usize| {
        if values.len() <= 1 {
            w / 2.0
        } else {
            2.0 + (w - 4.0) * i as f64 / (values.len() - 1) as f64
        }
    };
    let y = |v: f64| h - 3.0 - (h - 6.0) * v / top;
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
        .collect();
    let color = match runs.last().map(|r| (r.error.is_some(), r.open)) {
        Some((true, _)) => "#742a2a",
        Some((_, o)) if o[0] + o[1] > 0 => "#c53030",
        Some((_, o)) if o[2] > 0 => "#dd6b20",
        Some((_, o)) if o[3] + o[4] > 0 => "#d69e2e",
        _ => "#2f855a",
    };
    let last = values
        .iter()
        .enumerate()
        .rev()
        .find(|(_, v)| v.is_finite())
        .map(|(i, v)| {
            format!(
                r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{color}"/>"#,
                x(i),
                y(*v)
            )
        })
        .unwrap_or_default();
    format!(
        r#"<svg class="spark" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="open findings over {} runs"><polyline fill="none" stroke="{color}" stroke-width="1.5" points="{}"/>{last}</svg>"#,
        runs.len(),
        points.join(" ")
    )
}

/// `index.html`: every pair, the worst first.
pub fn render_index(pairs: &[Pair], generated_at: &str) -> String {
    let mut order: Vec<&Pair> = pairs.iter().filter(|p| !p.runs.is_empty()).collect();
    order.sort_by(|a, b| {
        let last = |p: &Pair| {
            let r = p.runs.last().expect("a run");
            (r.error.is_some(), distance(&r.open))
        };
        last(b)
            .cmp(&last(a))
            .then_with(|| (a.kind, &a.reference, &a.target).cmp(&(b.kind, &b.reference, &b.target)))
    });
    let mut body = format!(
        r#"<h1>pgparity history</h1><div class="muted">{} pairs, {} runs; written {}</div><h2>Pairs, the farthest first</h2><table><thead><tr><th>target</th><th>against</th><th>kind</th><th>now</th><th>open findings over the runs</th><th>runs</th><th>last run</th></tr></thead><tbody>"#,
        order.len(),
        pairs.iter().map(|p| p.runs.len()).sum::<usize>(),
        esc(generated_at)
    );
    for p in order {
        let last = p.runs.last().expect("a run");
        let _ = write!(
            body,
            r#"<tr><td><a href="pairs/{}.html">{}</a></td><td>{}</td><td class="muted">{}</td><td>{}</td><td>{}</td><td>{}</td><td class="muted"><a href="{}">{}</a></td></tr>"#,
            p.slug,
            esc(&p.target),
            esc(&p.reference),
            p.kind,
            state(last),
            sparkline(&p.runs),
            p.runs.len(),
            esc(&last.report),
            esc(&last.at)
        );
    }
    body.push_str("</tbody></table>");
    page("pgparity history", &body)
}

/// `pairs/<slug>.html`: the pair's runs, newest first, each with what it opened and fixed.
pub fn render_pair(p: &Pair) -> String {
    let mut body = format!(
        r#"<div class="muted"><a href="../index.html">← every pair</a></div><h1>{} against {}</h1><div class="muted">{} · {} runs</div><p>{}</p><h2>Runs, the newest first</h2><table><thead><tr><th>run</th><th>at</th><th>open</th><th>opened</th><th>fixed</th></tr></thead><tbody>"#,
        esc(&p.target),
        esc(&p.reference),
        p.kind,
        p.runs.len(),
        sparkline(&p.runs)
    );
    for (i, r) in p.runs.iter().enumerate().rev() {
        let before = i.checked_sub(1).map(|j| &p.runs[j]);
        let opened: Vec<(&String, &(Severity, String))> = r
            .findings
            .iter()
            .filter(|(id, _)| before.is_some_and(|b| !b.findings.contains_key(*id)))
            .collect();
        let fixed: Vec<(&String, &(Severity, String))> = before
            .map(|b| {
                b.findings
                    .iter()
                    .filter(|(id, _)| !r.findings.contains_key(*id) && r.error.is_none())
                    .collect()
            })
            .unwrap_or_default();
        let list = |items: &[(&String, &(Severity, String))], class: &str| {
            if items.is_empty() {
                return String::new();
            }
            let mut s = format!(r#"<ul class="{class}">"#);
            for (id, (sev, message)) in items {
                let _ = write!(
                    s,
                    r#"<li><span class="sev {sev}">{sev}</span> <code>{}</code> <span class="muted">{}</span></li>"#,
                    esc(id),
                    esc(message)
                );
            }
            s.push_str("</ul>");
            s
        };
        let _ = write!(
            body,
            r#"<tr><td><a href="../{}">{}</a></td><td class="muted">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            esc(&r.report),
            esc(&r.run),
            esc(&r.at),
            state(r),
            list(&opened, "opened"),
            list(&fixed, "fixed")
        );
    }
    body.push_str("</tbody></table>");
    if let Some(last) = p.runs.last() {
        let _ = write!(body, "<h2>Open in the last run</h2>");
        if last.findings.is_empty() {
            body.push_str(r#"<p class="ok">none</p>"#);
        } else {
            body.push_str(&findings_table(&last.findings));
        }
    }
    page(&format!("{} against {}", p.target, p.reference), &body)
}

/// Findings as a table: severity, id, message.
fn findings_table(findings: &BTreeMap<String, (Severity, String)>) -> String {
    let mut t = String::from("<table><tbody>");
    for (id, (sev, message)) in findings {
        let _ = write!(
            t,
            r#"<tr><td><span class="sev {sev}">{sev}</span></td><td><code>{}</code></td><td>{}</td></tr>"#,
            esc(id),
            esc(message)
        );
    }
    t.push_str("</tbody></table>");
    t
}

/// A check run's page (`runs/….html`): its open findings, from the history.
pub fn render_check_run(p: &Pair, r: &PairRun) -> String {
    let body = format!(
        r#"<div class="muted"><a href="../index.html">← every pair</a> · <a href="../pairs/{}.html">{} against {}</a></div><h1>Run of {}</h1><p>{}</p>{}"#,
        p.slug,
        esc(&p.target),
        esc(&p.reference),
        esc(&r.at),
        state(r),
        findings_table(&r.findings)
    );
    page(
        &format!("{} against {}, {}", p.target, p.reference, r.at),
        &body,
    )
}

/// A name made safe for a file, kept apart from names that read the same once made safe.
pub fn slug(parts: &[&str]) -> String {
    use sha2::Digest as _;
    let joined = parts.join("\u{1f}");
    let mut s: String = parts
        .join("--")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    s.truncate(80);
    let digest = sha2::Sha256::digest(joined.as_bytes());
    let _ = write!(
        s,
        "-{:02x}{:02x}{:02x}{:02x}",
        digest[0], digest[1], digest[2], digest[3]
    );
    s
}
