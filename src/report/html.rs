//! The HTML report: one self-contained file (inline CSS and SVG, no script, no network: a
//! Content-Security-Policy forbids any fetch), readable on a laptop and printable. Sections:
//! summary, history, environment differences side by side, data gaps with plots, plans side
//! by side with the differing nodes marked, what could not be measured, accepted differences.

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

/// The node as one line: type, join type or strategy, relation, index.
fn node_label(n: &PlanNode) -> String {
    let mut s = n.node_type.clone();
    for part in [&n.join_type, &n.strategy].into_iter().flatten() {
        s.push_str(&format!(" ({part})"));
    }
    if let Some(r) = &n.relation {
        s.push_str(&format!(" on {r}"));
    }
    if let Some(i) = &n.index {
        s.push_str(&format!(" using {i}"));
    }
    s
}

fn labels(n: &PlanNode, out: &mut BTreeMap<String, usize>) {
    *out.entry(node_label(n)).or_default() += 1;
    for c in &n.children {
        labels(c, out);
    }
}

fn tree(n: &PlanNode, other: &BTreeMap<String, usize>, out: &mut String) {
    let l = node_label(n);
    let diff = !other.contains_key(&l);
    let _ = write!(
        out,
        r#"<li><span class="node{}">{}</span> <span class="est">rows≈{} cost {:.0}{}</span>"#,
        if diff { " diff" } else { "" },
        esc(&l),
        crate::finding::thousands(n.rows),
        n.cost,
        n.actual_rows
            .map(|a| format!(", actual {}", crate::finding::thousands(a)))
            .unwrap_or_default()
    );
    if !n.children.is_empty() {
        out.push_str(r#"<ul class="plan">"#);
        for c in &n.children {
            tree(c, other, out);
        }
        out.push_str("</ul>");
    }
    out.push_str("</li>");
}

fn plots(r: &Report, f: &Finding) -> String {
    let names = (r.left.name.as_str(), r.right.name.as_str());
    let mut out = String::new();
    if let Some(points) = r.history.as_ref().and_then(|h| h.series.get(&f.id)) {
        let points: Vec<(String, Option<f64>, Option<f64>)> = points
            .iter()
            .map(|p| (p.at.clone(), p.left, p.right))
            .collect();
        out.push_str(&svg::spark(
            &format!("{}: over the last {} runs", f.object, points.len()),
            &points,
            names,
        ));
    }
    match r.details.get(&f.id) {
        Some(Detail::Column { left, right }) => {
            let (a, b) = (left.as_deref(), right.as_deref());
            let temporal = a
                .or(b)
                .is_some_and(|c| c.kind == crate::snapshot::ValueKind::Temporal);
            fn seven(v: &[f64]) -> Option<&[f64]> {
                (v.len() == QUANTILES.len()).then_some(v)
            }
            let qa = a.and_then(|c| seven(&c.quantiles));
            let qb = b.and_then(|c| seven(&c.quantiles));
            if qa.is_some() || qb.is_some() {
                out.push_str(&svg::cdf(
                    &format!("{}: values (cumulative share)", f.object),
                    &QUANTILES,
                    qa,
                    qb,
                    names,
                    temporal,
                ));
            }
            let la = a.and_then(|c| seven(&c.length_chars).or(seven(&c.length_bytes)));
            let lb = b.and_then(|c| seven(&c.length_chars).or(seven(&c.length_bytes)));
            if la.is_some() || lb.is_some() {
                out.push_str(&svg::cdf(
                    &format!("{}: lengths (cumulative share)", f.object),
                    &QUANTILES,
                    la,
                    lb,
                    names,
                    false,
                ));
            }
            let share = |c: Option<&crate::snapshot::ColumnProfile>, k: &str, labels: bool| {
                c.map(|c| {
                    let n = (c.rows - c.nulls).max(1) as f64;
                    let m = if labels { &c.labels } else { &c.classes };
                    m.get(k).copied().unwrap_or(0) as f64 / n
                })
                .unwrap_or(0.0)
            };
            for (labels_kind, title) in [(false, "character classes"), (true, "values")] {
                let keys: std::collections::BTreeSet<&String> = a
                    .into_iter()
                    .chain(b)
                    .flat_map(|c| {
                        if labels_kind {
                            c.labels.keys()
                        } else {
                            c.classes.keys()
                        }
                    })
                    .collect();
                let rows: Vec<(String, f64, f64)> = keys
                    .into_iter()
                    .map(|k| {
                        (
                            k.clone(),
                            share(a, k, labels_kind),
                            share(b, k, labels_kind),
                        )
                    })
                    .filter(|(_, x, y)| *x > 0.0 || *y > 0.0)
                    .collect();
                out.push_str(&svg::bars(
                    &format!("{}: {title}", f.object),
                    &rows,
                    names,
                    false,
                ));
            }
        }
        Some(Detail::Fanout { left, right }) => {
            let curve = |p: &crate::snapshot::RelationshipProfile| {
                let mut v = p.fanout.clone();
                v.push(p.max);
                v
            };
            let (a, b) = (left.as_deref().map(curve), right.as_deref().map(curve));
            out.push_str(&svg::fanout(
                &format!("{}: children per parent (log scale)", f.object),
                a.as_deref(),
                b.as_deref(),
                names,
            ));
        }
        Some(Detail::Timings { left, right }) => {
            let ms = |v: &[(f64, f64)]| v.iter().map(|r| r.0).collect::<Vec<_>>();
            out.push_str(&svg::runs(
                &format!("{}: execution time of each run", f.object),
                &ms(left),
                &ms(right),
                names,
            ));
            let buffers = |v: &[(f64, f64)]| {
                let mut b: Vec<f64> = v.iter().map(|r| r.1).collect();
                b.sort_by(f64::total_cmp);
                b.get(b.len() / 2).copied().unwrap_or(0.0)
            };
            out.push_str(&svg::bars(
                &format!("{}: buffers", f.object),
                &[("shared + temp".into(), buffers(left), buffers(right))],
                names,
                true,
            ));
        }
        None => {}
    }
    out
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

/// The verdict, the two sides, and open findings per category and severity.
fn summary(o: &mut String, r: &Report, title: &str, open: &[&Evaluated]) {
    let _ = write!(
        o,
        r#"<header><h1>{}</h1><span class="verdict {}">{}</span> <span>{} · fail level {}</span></header>"#,
        esc(title),
        if r.failed() { "fail" } else { "pass" },
        if r.failed() { "FAIL" } else { "PASS" },
        esc(&r.summary()),
        r.fail_on
    );
    o.push_str(r##"<nav><a href="#summary">Summary</a><a href="#history">History</a><a href="#environment">Environment</a><a href="#data">Data</a><a href="#plans">Plans</a><a href="#problems">Not measured</a><a href="#accepted">Accepted</a></nav>"##);
    o.push_str(r#"<h2 id="summary">Summary</h2><table><tr><th></th>"#);
    for s in [&r.left, &r.right] {
        let _ = write!(o, "<th>{}</th>", esc(&s.name));
    }
    o.push_str("</tr>");
    for (label, a, b) in [
        (
            "PostgreSQL",
            &r.left.server_version,
            &r.right.server_version,
        ),
        ("database", &r.left.database, &r.right.database),
        ("target", &r.left.target, &r.right.target),
        ("captured at", &r.left.captured_at, &r.right.captured_at),
        ("source", &r.left.source, &r.right.source),
    ] {
        let _ = write!(
            o,
            r#"<tr><th>{label}</th><td class="v">{}</td><td class="v">{}</td></tr>"#,
            esc(a),
            esc(b)
        );
    }
    o.push_str("</table>");
    if !r.setup.is_empty() {
        o.push_str("<h3>Setup</h3><ul>");
        for line in &r.setup {
            let _ = write!(o, "<li>{}</li>", esc(line));
        }
        o.push_str("</ul>");
    }
    let mut by_cat: BTreeMap<Category, [usize; 5]> = BTreeMap::new();
    for e in open {
        let i = Severity::ALL
            .iter()
            .position(|s| *s == e.finding.severity)
            .unwrap_or(4);
        by_cat.entry(e.finding.category).or_default()[i] += 1;
    }
    o.push_str(r#"<table class="counts"><tr><th>category</th>"#);
    for s in Severity::ALL {
        let _ = write!(o, "<th>{}</th>", sev(s));
    }
    o.push_str("</tr>");
    for (c, n) in &by_cat {
        let _ = write!(o, "<tr><td>{c}</td>");
        for x in n {
            let _ = write!(
                o,
                "<td>{}</td>",
                if *x > 0 { x.to_string() } else { String::new() }
            );
        }
        o.push_str("</tr>");
    }
    let _ = write!(
        o,
        "</table><p>{} open findings in {} categories; {} accepted.</p>",
        open.len(),
        by_cat.len(),
        r.accepted().count()
    );
}

/// What is new, fixed and persisting since the previous run, and the trend.
fn history(o: &mut String, r: &Report) {
    o.push_str(r#"<h2 id="history">Since the previous run</h2>"#);
    match &r.history {
        None => o.push_str("<p>No history kept (run with <code>--history DIR</code>).</p>"),
        Some(h) => {
            match &h.previous {
                Some(p) => {
                    let _ = write!(o, "<p>Previous run: {}.</p>", esc(p));
                }
                None => o.push_str("<p>First run in this history folder.</p>"),
            }
            for (class, label, list) in [
                ("new", "New", &h.new),
                ("fixed", "Fixed", &h.fixed),
                ("", "Persisting", &h.persisting),
            ] {
                let _ = write!(o, r#"<h3 class="{class}">{label} ({})</h3>"#, list.len());
                if !list.is_empty() {
                    o.push_str("<ul>");
                    for f in list.iter().take(200) {
                        let _ = write!(
                            o,
                            "<li>{} <code>{}</code> {}</li>",
                            sev(f.severity),
                            esc(&f.id),
                            esc(&f.message)
                        );
                    }
                    if list.len() > 200 {
                        let _ = write!(o, "<li>… {} more</li>", list.len() - 200);
                    }
                    o.push_str("</ul>");
                }
            }
            o.push_str(&svg::trend(&h.trend));
            let _ = write!(
                o,
                r#"<h3 id="changed">Changed in {} since the previous runs ({})</h3>"#,
                esc(&r.right.name),
                h.changed.len()
            );
            if h.changed.is_empty() {
                o.push_str("<p>No table, column or plan moved outside its recent range.</p>");
            } else {
                o.push_str("<table><tr><th>object</th><th>figure</th><th>recent</th><th>now</th><th></th></tr>");
                for c in &h.changed {
                    let _ = write!(
                        o,
                        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        esc(&c.object),
                        esc(&c.figure),
                        esc(&c.before),
                        esc(&c.now),
                        esc(&c.message)
                    );
                }
                o.push_str("</table>");
            }
        }
    }
}

/// Version, settings, collations, topology, extensions, schema and statistics, side by side in rank order; info notes folded.
fn environment(o: &mut String, r: &Report, open: &[&Evaluated]) {
    o.push_str(r#"<h2 id="environment">Environment</h2>"#);
    let (env, notes): (Vec<&&Evaluated>, Vec<&&Evaluated>) = open
        .iter()
        .filter(|e| is_environment(e.finding.category))
        .partition(|e| e.finding.severity > Severity::Info);
    if env.is_empty() {
        o.push_str("<p>No differences in version, settings, collations, topology, extensions, schema or statistics.</p>");
    } else {
        let _ = write!(
            o,
            r#"<table><tr><th>#</th><th>severity</th><th>finding</th><th>{}</th><th>{}</th><th>what and why</th></tr>"#,
            esc(&r.left.name),
            esc(&r.right.name)
        );
        for (i, e) in env.iter().enumerate() {
            let f = &e.finding;
            let _ = write!(
                o,
                r#"<tr id="{}"><td>{}</td><td>{}</td><td class="v">{}</td>{}{}<td>{}{}</td></tr>"#,
                anchor(&f.id),
                i + 1,
                sev(f.severity),
                esc(&f.id),
                value_cell(&f.left),
                value_cell(&f.right),
                finding_text(f),
                if e.status == Status::Open {
                    String::new()
                } else {
                    format!(r#"<div class="why">{}</div>"#, esc(&status_text(e)))
                }
            );
        }
        o.push_str("</table>");
    }
    if !notes.is_empty() {
        let _ = write!(
            o,
            "<details><summary>{} info notes (defaults that moved, settings one version has)</summary><table>",
            notes.len()
        );
        for e in notes {
            let f = &e.finding;
            let _ = write!(
                o,
                r#"<tr id="{}"><td class="v">{}</td>{}{}<td>{}</td></tr>"#,
                anchor(&f.id),
                esc(&f.id),
                value_cell(&f.left),
                value_cell(&f.right),
                esc(&f.message)
            );
        }
        o.push_str("</table></details>");
    }
}

/// Data gaps: rows per table, then a card per finding with its plots.
fn data(o: &mut String, r: &Report, open: &[&Evaluated]) {
    o.push_str(r#"<h2 id="data">Data</h2>"#);
    let mut vols: Vec<&(String, Option<f64>, Option<f64>)> = r.volumes.iter().collect();
    vols.sort_by(|a, b| {
        let m = |x: &(String, Option<f64>, Option<f64>)| x.1.unwrap_or(0.0).max(x.2.unwrap_or(0.0));
        m(b).partial_cmp(&m(a)).unwrap_or(std::cmp::Ordering::Equal)
    });
    let vol_rows: Vec<(String, f64, f64)> = vols
        .iter()
        .take(25)
        .map(|(t, a, b)| (t.clone(), a.unwrap_or(0.0), b.unwrap_or(0.0)))
        .collect();
    if !vol_rows.is_empty() {
        o.push_str("<h3>Rows per table (log scale, largest 25)</h3>");
        o.push_str(&svg::bars(
            "rows per table",
            &vol_rows,
            (&r.left.name, &r.right.name),
            true,
        ));
    }
    let data: Vec<&&Evaluated> = open
        .iter()
        .filter(|e| e.finding.category.is_data())
        .collect();
    if data.is_empty() {
        o.push_str("<p>No data gaps.</p>");
    }
    for (i, e) in data.iter().enumerate() {
        let f = &e.finding;
        if i < PLOTTED {
            let _ = write!(
                o,
                r#"<div class="card" id="{}"><div>{} <code>{}</code></div><p>{}</p><table><tr><th>{}</th><th>{}</th></tr><tr>{}{}</tr></table><div class="charts">{}</div></div>"#,
                anchor(&f.id),
                sev(f.severity),
                esc(&f.id),
                finding_text(f),
                esc(&r.left.name),
                esc(&r.right.name),
                value_cell(&f.left),
                value_cell(&f.right),
                plots(r, f)
            );
        } else {
            listed(o, i, data.len(), f, "data findings (without plots)");
        }
    }
}

/// Plan differences: causes, and both plan trees with their differing nodes marked.
fn plans(o: &mut String, r: &Report, open: &[&Evaluated]) {
    let ids: std::collections::BTreeSet<&str> =
        r.findings.iter().map(|e| e.finding.id.as_str()).collect();
    o.push_str(r#"<h2 id="plans">Plans</h2>"#);
    let plans: Vec<&&Evaluated> = open
        .iter()
        .filter(|e| e.finding.category == Category::Plan)
        .collect();
    if plans.is_empty() {
        o.push_str("<p>No plan differences (or no corpus planned).</p>");
    }
    for (i, e) in plans.iter().enumerate() {
        let f = &e.finding;
        if i >= PLOTTED {
            listed(o, i, plans.len(), f, "plan findings (without trees)");
            continue;
        }
        let _ = write!(
            o,
            r#"<div class="card" id="{}"><div>{} <code>{}</code></div><p>{}</p>{}"#,
            anchor(&f.id),
            sev(f.severity),
            esc(&f.id),
            finding_text(f),
            causes(f, &ids)
        );
        o.push_str(&plots(r, f));
        if let Some(p) = &f.plans {
            let (mut la, mut lb) = (BTreeMap::new(), BTreeMap::new());
            if let Some(a) = &p.left {
                labels(a, &mut la);
            }
            if let Some(b) = &p.right {
                labels(b, &mut lb);
            }
            o.push_str(r#"<div class="plans">"#);
            for (name, plan, other) in
                [(&r.left.name, &p.left, &lb), (&r.right.name, &p.right, &la)]
            {
                let _ = write!(o, "<div><h3>{}</h3>", esc(name));
                if let Some(n) = plan {
                    o.push_str(r#"<ul class="plan">"#);
                    tree(n, other, o);
                    o.push_str("</ul>");
                }
                o.push_str("</div>");
            }
            o.push_str("</div>");
        } else {
            let _ = write!(
                o,
                r#"<table><tr><th>{}</th><th>{}</th></tr><tr>{}{}</tr></table>"#,
                esc(&r.left.name),
                esc(&r.right.name),
                value_cell(&f.left),
                value_cell(&f.right)
            );
        }
        o.push_str("</div>");
    }
}

/// What could not be read on either side.
fn problems(o: &mut String, r: &Report) {
    o.push_str(r#"<h2 id="problems">Not measured</h2>"#);
    if r.problems.is_empty() {
        o.push_str("<p>Everything was read.</p>");
    } else {
        o.push_str("<table><tr><th>side</th><th>area</th><th>what</th></tr>");
        for p in &r.problems {
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&p.side),
                esc(&p.area),
                esc(&p.message)
            );
        }
        o.push_str("</table>");
    }
}

/// Accepted differences, apart, and acceptances that matched nothing.
fn accepted(o: &mut String, r: &Report) {
    o.push_str(r#"<h2 id="accepted">Accepted differences</h2>"#);
    let accepted: Vec<&Evaluated> = r.accepted().collect();
    if accepted.is_empty() {
        o.push_str("<p>None.</p>");
    } else {
        o.push_str("<table><tr><th>finding</th><th>reason</th><th>expires</th><th>what</th></tr>");
        for e in accepted {
            let a = e.acceptance.as_ref();
            let _ = write!(
                o,
                r#"<tr id="{}"><td class="v">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                anchor(&e.finding.id),
                esc(&e.finding.id),
                esc(a.map(|a| a.reason.as_str()).unwrap_or("")),
                esc(a.and_then(|a| a.expires.as_deref()).unwrap_or("never")),
                esc(&e.finding.message)
            );
        }
        o.push_str("</table>");
    }
    if !r.unused_acceptances.is_empty() {
        let _ = write!(
            o,
            "<p>Acceptances that matched nothing (fixed?): {}</p>",
            esc(&r.unused_acceptances.join(", "))
        );
    }
}
