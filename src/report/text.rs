//! The terminal report: grouped by severity, colour only when asked (a terminal), meaning
//! never carried by colour alone.

use std::fmt::Write;

use anstyle::{AnsiColor, Style};

use super::{status_text, Report};
use crate::finding::Severity;
use crate::policy::{Evaluated, Status};

fn style(sev: Severity) -> Style {
    let c = match sev {
        Severity::Critical => AnsiColor::BrightRed,
        Severity::High => AnsiColor::Red,
        Severity::Medium => AnsiColor::Yellow,
        Severity::Low => AnsiColor::Cyan,
        Severity::Info => AnsiColor::BrightBlack,
    };
    Style::new().fg_color(Some(c.into())).bold()
}

fn paint(color: bool, st: Style, s: &str) -> String {
    if color {
        format!("{st}{s}{st:#}")
    } else {
        s.to_string()
    }
}

fn finding(out: &mut String, r: &Report, e: &Evaluated, color: bool) {
    let f = &e.finding;
    let dim = Style::new().dimmed();
    let _ = writeln!(
        out,
        "  {} [{}] {}",
        paint(
            color,
            style(f.severity),
            &format!("{:<8}", f.severity.name())
        ),
        f.category,
        f.message
    );
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(absent)".into());
    let _ = writeln!(
        out,
        "           {}: {}  |  {}: {}",
        r.left.name,
        show(&f.left),
        r.right.name,
        show(&f.right)
    );
    let _ = writeln!(
        out,
        "           {}",
        paint(color, dim, &format!("why: {}", f.why))
    );
    let _ = writeln!(
        out,
        "           {}",
        paint(color, dim, &format!("hint: {}", f.hint))
    );
    for c in &f.causes {
        let _ = writeln!(out, "           cause ({}): {}", c.kind, c.evidence);
    }
    if e.status != Status::Open {
        let reason = e
            .acceptance
            .as_ref()
            .map(|a| a.reason.clone())
            .unwrap_or_default();
        let _ = writeln!(out, "           {}: {reason}", status_text(e));
    }
    let _ = writeln!(
        out,
        "           {}",
        paint(color, dim, &format!("id: {}", f.id))
    );
}

/// Informational notes, one line per category: a terminal report stays readable when two
/// major versions bring dozens of settings that exist on one side only.
fn info_summary(out: &mut String, r: &Report, group: &[&Evaluated]) {
    use std::collections::BTreeMap;
    // category → where ("only in staging", "both sides") → objects
    let mut by_category: BTreeMap<crate::finding::Category, BTreeMap<String, Vec<&str>>> =
        BTreeMap::new();
    for e in group {
        let f = &e.finding;
        let name = f
            .object
            .strip_prefix(&format!("{}:", f.category))
            .unwrap_or(&f.object);
        let side = match (&f.left, &f.right) {
            (Some(_), None) => format!("only in {}", r.left.name),
            (None, Some(_)) => format!("only in {}", r.right.name),
            _ => "differs".to_string(),
        };
        by_category
            .entry(f.category)
            .or_default()
            .entry(side)
            .or_default()
            .push(name);
    }
    for (category, sides) in by_category {
        for (side, names) in sides {
            let _ = writeln!(
                out,
                "  [{category}] {side} ({}): {}",
                names.len(),
                names.join(", ")
            );
        }
    }
    let _ = writeln!(out, "  (details with --format json or markdown)");
}

pub fn render(r: &Report, color: bool) -> String {
    let mut out = String::new();
    let bold = Style::new().bold();
    let _ = writeln!(
        out,
        "{}",
        paint(
            color,
            bold,
            &format!(
                "pgparity: {} (PostgreSQL {}) vs {} (PostgreSQL {})",
                r.left.name, r.left.server_version, r.right.name, r.right.server_version
            )
        )
    );
    let _ = writeln!(
        out,
        "  {}: {} [{}], captured {}",
        r.left.name, r.left.target, r.left.source, r.left.captured_at
    );
    let _ = writeln!(
        out,
        "  {}: {} [{}], captured {}",
        r.right.name, r.right.target, r.right.source, r.right.captured_at
    );
    if let Some(h) = &r.history {
        for c in &h.changed {
            let _ = writeln!(out, "  changed in {}: {}", r.right.name, c.message);
        }
    }
    for line in &r.setup {
        let _ = writeln!(out, "  setup: {line}");
    }
    let _ = writeln!(out);
    if r.open().next().is_none() {
        let _ = writeln!(out, "No open differences.");
    }
    for sev in Severity::ALL {
        let group: Vec<&Evaluated> = r.open().filter(|e| e.finding.severity == sev).collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "{}",
            paint(
                color,
                style(sev),
                &format!("{} ({})", sev.name().to_uppercase(), group.len())
            )
        );
        if sev == Severity::Info {
            info_summary(&mut out, r, &group);
        } else {
            for e in group {
                finding(&mut out, r, e, color);
            }
        }
        let _ = writeln!(out);
    }
    let accepted: Vec<&Evaluated> = r.accepted().collect();
    if !accepted.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            paint(color, bold, &format!("ACCEPTED ({})", accepted.len()))
        );
        for e in accepted {
            let a = e.acceptance.as_ref();
            let _ = writeln!(
                out,
                "  {:<8} [{}] {}\n           accepted: {}{}",
                e.finding.severity.name(),
                e.finding.category,
                e.finding.message,
                a.map(|a| a.reason.as_str()).unwrap_or(""),
                a.and_then(|a| a.expires.as_ref())
                    .map(|x| format!(" (until {x})"))
                    .unwrap_or_default()
            );
        }
        let _ = writeln!(out);
    }
    if !r.unused_acceptances.is_empty() {
        let _ = writeln!(
            out,
            "Acceptances that matched nothing (fixed? remove them): {}",
            r.unused_acceptances.join(", ")
        );
        let _ = writeln!(out);
    }
    if !r.problems.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            paint(color, bold, &format!("NOT MEASURED ({})", r.problems.len()))
        );
        for p in &r.problems {
            let _ = writeln!(out, "  {}: {}: {}", p.side, p.area, p.message);
        }
        let _ = writeln!(out);
    }
    let verdict = if r.failed() {
        paint(
            color,
            style(Severity::High),
            &format!(
                "FAIL: {} open at or above {}",
                r.failing().count(),
                r.fail_on
            ),
        )
    } else {
        format!("PASS: nothing open at or above {}", r.fail_on)
    };
    let _ = writeln!(out, "{}; {verdict}", r.summary());
    out
}
