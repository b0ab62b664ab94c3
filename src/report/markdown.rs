//! The Markdown report, for scheduled reports and pull request comments.

use std::fmt::Write;

use super::{status_text, Report};
use crate::finding::Severity;
use crate::policy::Evaluated;

/// Escapes text for a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn row(out: &mut String, e: &Evaluated) {
    let f = &e.finding;
    let show = |v: &Option<String>| {
        v.as_deref()
            .map(|x| format!("`{}`", cell(x).replace('`', "'")))
            .unwrap_or_else(|| "_absent_".into())
    };
    let _ = writeln!(
        out,
        "| {} | {} | `{}` | {} | {} | {}<br>_why:_ {}<br>_hint:_ {} |",
        f.severity,
        f.category,
        cell(&f.object),
        show(&f.left),
        show(&f.right),
        cell(&f.message),
        cell(&f.why),
        cell(&f.hint)
    );
    for c in &f.causes {
        let _ = writeln!(
            out,
            "| | | | | | _cause ({}):_ {} |",
            c.kind,
            cell(&c.evidence)
        );
    }
}

pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let verdict = if r.failed() { "❌ fail" } else { "✅ pass" };
    let _ = writeln!(
        out,
        "## pgparity: {} vs {} — {verdict}\n",
        cell(&r.left.name),
        cell(&r.right.name)
    );
    if !r.setup.is_empty() {
        let _ = writeln!(out, "**Setup**\n");
        for line in &r.setup {
            let _ = writeln!(out, "- {}", cell(line));
        }
        let _ = writeln!(out);
    }
    if let Some(h) = &r.history {
        let _ = writeln!(
            out,
            "**Since {}:** {} new, {} fixed, {} persisting\n",
            h.previous.as_deref().unwrap_or("the first run"),
            h.new.len(),
            h.fixed.len(),
            h.persisting.len()
        );
        for (label, list) in [("New", &h.new), ("Fixed", &h.fixed)] {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(out, "**{label}**");
            for f in list.iter().take(10) {
                let _ = writeln!(
                    out,
                    "- {} `{}` {}",
                    f.severity,
                    cell(&f.id),
                    cell(&f.message)
                );
            }
            if list.len() > 10 {
                let _ = writeln!(out, "- … {} more", list.len() - 10);
            }
            out.push('\n');
        }
        if !h.persisting.is_empty() {
            let _ = writeln!(
                out,
                "**Persisting:** {} findings (details below)\n",
                h.persisting.len()
            );
        }
        if !h.changed.is_empty() {
            let _ = writeln!(
                out,
                "**Changed in {} since the previous runs**",
                cell(&r.right.name)
            );
            for c in h.changed.iter().take(10) {
                let _ = writeln!(out, "- {}", cell(&c.message));
            }
            if h.changed.len() > 10 {
                let _ = writeln!(out, "- … {} more", h.changed.len() - 10);
            }
            out.push('\n');
        }
    }
    let _ = writeln!(
        out,
        "| | {} | {} |\n|---|---|---|",
        cell(&r.left.name),
        cell(&r.right.name)
    );
    let _ = writeln!(
        out,
        "| PostgreSQL | {} | {} |",
        cell(&r.left.server_version),
        cell(&r.right.server_version)
    );
    let _ = writeln!(
        out,
        "| target | `{}` | `{}` |",
        cell(&r.left.target),
        cell(&r.right.target)
    );
    let _ = writeln!(
        out,
        "| captured | {} | {} |",
        r.left.captured_at, r.right.captured_at
    );
    let _ = writeln!(
        out,
        "| source | {} | {} |\n",
        cell(&r.left.source),
        cell(&r.right.source)
    );
    let _ = writeln!(
        out,
        "**{}**; gate: fail on {} and above.\n",
        r.summary(),
        r.fail_on
    );
    let header = format!(
        "| severity | category | object | {} | {} | difference |\n|---|---|---|---|---|---|",
        cell(&r.left.name),
        cell(&r.right.name)
    );
    for sev in Severity::ALL {
        let group: Vec<&Evaluated> = r.open().filter(|e| e.finding.severity == sev).collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {} ({})\n\n{header}", sev.name(), group.len());
        for e in group {
            row(&mut out, e);
            if e.status != crate::policy::Status::Open {
                let _ = writeln!(out, "| | | | | | _{}_ |", status_text(e));
            }
        }
        let _ = writeln!(out);
    }
    let accepted: Vec<&Evaluated> = r.accepted().collect();
    if !accepted.is_empty() {
        let _ = writeln!(
            out,
            "### accepted ({})\n\n| object | difference | reason | expires |\n|---|---|---|---|",
            accepted.len()
        );
        for e in accepted {
            let a = e.acceptance.as_ref();
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                cell(&e.finding.object),
                cell(&e.finding.message),
                cell(a.map(|a| a.reason.as_str()).unwrap_or("")),
                a.and_then(|a| a.expires.clone())
                    .unwrap_or_else(|| "—".into())
            );
        }
        let _ = writeln!(out);
    }
    if !r.problems.is_empty() {
        let _ = writeln!(out, "### not measured\n");
        for p in &r.problems {
            let _ = writeln!(
                out,
                "- **{}** {}: {}",
                cell(&p.side),
                cell(&p.area),
                cell(&p.message)
            );
        }
        let _ = writeln!(out);
    }
    out
}
