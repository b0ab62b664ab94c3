//! The HTML report: one self-contained file (inline CSS and SVG, no script, no network: a
//! Content-Security-Policy forbids any fetch), readable on a laptop and printable. Sections:
//! summary, history, environment differences side by side, data gaps with plots, plans side
//! by side with the differing nodes marked, what could not be measured, accepted differences.

mod plots;
mod sections;

use plots::*;
use sections::*;

use std::collections::BTreeMap;
use std::fmt::Write;

use super::escape::esc;
use super::svg;
use super::{status_text, Detail, Report};
use crate::finding::{Category, Finding, Severity};
use crate::policy::{Evaluated, Status};
use crate::snapshot::plan::PlanNode;
use crate::snapshot::QUANTILES;

/// Data findings drawn with plots, and plan findings with both trees; the rest are listed (a
/// report of thousands of findings stays small and fast).
const PLOTTED: usize = 200;

/// An element id for a finding id.
pub(crate) fn anchor(id: &str) -> String {
    let mut s = String::from("f-");
    for c in id.chars() {
        s.push(if c.is_ascii_alphanumeric() { c } else { '_' });
    }
    s
}

const CSS: &str = r#"
:root{--l:#2b6cb0;--r:#c05621;--line:#e2e8f0;--muted:#4a5568}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a202c;margin:0 auto;max-width:1200px;padding:20px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;border-bottom:2px solid var(--line);padding-bottom:4px;margin-top:32px} h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;width:100%;margin:8px 0} th,td{border-bottom:1px solid var(--line);padding:5px 6px;text-align:left;vertical-align:top}
th{background:#f7fafc;font-weight:600} td.v{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-word;max-width:260px}
.sev{display:inline-block;border-radius:3px;padding:0 6px;color:#fff;font-size:12px;font-weight:600}
.critical{background:#9b2c2c}.high{background:#c53030}.medium{background:#dd6b20}.low{background:#d69e2e}.info{background:#718096}
.verdict{font-size:16px;font-weight:700;padding:6px 10px;border-radius:4px;display:inline-block}
.pass{background:#c6f6d5;color:#22543d}.fail{background:#fed7d7;color:#822727}
.why{color:var(--muted);font-size:13px} .hint{color:var(--muted);font-size:13px;font-style:italic}
.card{border:1px solid var(--line);border-radius:6px;padding:10px 12px;margin:12px 0;page-break-inside:avoid}
.charts{display:flex;flex-wrap:wrap;gap:12px} svg.chart{font-size:11px;max-width:100%;height:auto} svg text.axis{fill:#4a5568;font-size:10px}
.plans{display:grid;grid-template-columns:1fr 1fr;gap:12px} .plans>div{overflow-x:auto;border:1px solid var(--line);border-radius:4px;padding:6px}
ul.plan{list-style:none;padding-left:14px;margin:0;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px} ul.plan li{margin:1px 0;white-space:nowrap}
.node.diff{background:#fefcbf;outline:1px solid #d69e2e} .est{color:#718096}
.cause{margin:4px 0} .cause b{text-transform:uppercase;font-size:11px;color:var(--muted)}
.counts td,.counts th{text-align:center} nav a{margin-right:12px}
.new{color:#c53030;font-weight:600}.fixed{color:#2f855a;font-weight:600}
@media print{body{max-width:none;padding:0} nav{display:none} .card{border-color:#ccc}}
"#;

fn sev(s: Severity) -> String {
    format!(r#"<span class="sev {s}">{s}</span>"#)
}

fn value_cell(v: &Option<String>) -> String {
    match v {
        Some(x) => format!(r#"<td class="v">{}</td>"#, esc(x)),
        None => r#"<td class="v"><i>absent</i></td>"#.into(),
    }
}

fn finding_text(f: &Finding) -> String {
    format!(
        r#"{}<div class="why">why: {}</div><div class="hint">hint: {}</div>"#,
        esc(&f.message),
        esc(&f.why),
        esc(&f.hint)
    )
}

fn is_environment(c: Category) -> bool {
    matches!(
        c,
        Category::Version
            | Category::Collation
            | Category::Topology
            | Category::Extension
            | Category::Setting
            | Category::Schema
            | Category::Statistics
    )
}

/// Finding `i` of `total` past the drawn ones, as a row of the table that lists the rest.
fn listed(o: &mut String, i: usize, total: usize, f: &Finding, what: &str) {
    if i == PLOTTED {
        let _ = write!(o, "<h3>{} more {what}</h3><table>", total - PLOTTED);
    }
    let _ = write!(
        o,
        r#"<tr id="{}"><td>{}</td><td class="v">{}</td><td>{}</td></tr>"#,
        anchor(&f.id),
        sev(f.severity),
        esc(&f.id),
        esc(&f.message)
    );
    if i + 1 == total {
        o.push_str("</table>");
    }
}

fn causes(f: &Finding, ids: &std::collections::BTreeSet<&str>) -> String {
    let mut out = String::new();
    for c in &f.causes {
        let links: Vec<String> = c
            .links
            .iter()
            .map(|l| {
                if ids.contains(l.as_str()) {
                    format!(r##"<a href="#{}">{}</a>"##, anchor(l), esc(l))
                } else {
                    esc(l)
                }
            })
            .collect();
        let _ = write!(
            out,
            r#"<div class="cause"><b>{}</b> {}{}</div>"#,
            esc(c.kind.as_str()),
            esc(&c.evidence),
            if links.is_empty() {
                String::new()
            } else {
                format!(" — {}", links.join(", "))
            }
        );
    }
    out
}

pub fn render(r: &Report) -> String {
    let mut o = String::with_capacity(64 * 1024 + r.findings.len() * 600);
    let title = format!("pgparity: {} vs {}", r.left.name, r.right.name);
    let _ = write!(
        o,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{}</title><style>{CSS}</style></head><body>"#,
        esc(&title)
    );
    let open: Vec<&Evaluated> = r.open().collect();
    summary(&mut o, r, &title, &open);
    history(&mut o, r);
    environment(&mut o, r, &open);
    data(&mut o, r, &open);
    plans(&mut o, r, &open);
    problems(&mut o, r);
    accepted(&mut o, r);
    let _ = writeln!(
        o,
        "<footer><p class=\"why\">pgparity {}</p></footer></body></html>",
        env!("CARGO_PKG_VERSION")
    );
    o
}
