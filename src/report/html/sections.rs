//! The report's sections, in the page's order: summary, history, environment differences side
//! by side, data gaps with their plots, plans side by side, what could not be measured, accepted
//! differences.

use super::*;

/// The verdict, the two sides, and open findings per category and severity.
pub(super) fn summary(o: &mut String, r: &Report, title: &str, open: &[&Evaluated]) {
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
pub(super) fn history(o: &mut String, r: &Report) {
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
pub(super) fn environment(o: &mut String, r: &Report, open: &[&Evaluated]) {
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
pub(super) fn data(o: &mut String, r: &Report, open: &[&Evaluated]) {
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
pub(super) fn plans(o: &mut String, r: &Report, open: &[&Evaluated]) {
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
pub(super) fn problems(o: &mut String, r: &Report) {
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
pub(super) fn accepted(o: &mut String, r: &Report) {
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
