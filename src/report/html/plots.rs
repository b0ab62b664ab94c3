//! What a finding shows besides its words: its plot (quantile curves, histograms, class shares,
//! fan-out) and, for a plan, both trees with the nodes only one side has marked.

use super::*;

/// The node as one line: type, join type or strategy, relation, index.
pub(super) fn node_label(n: &PlanNode) -> String {
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

pub(super) fn labels(n: &PlanNode, out: &mut BTreeMap<String, usize>) {
    *out.entry(node_label(n)).or_default() += 1;
    for c in &n.children {
        labels(c, out);
    }
}

pub(super) fn tree(n: &PlanNode, other: &BTreeMap<String, usize>, out: &mut String) {
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

pub(super) fn plots(r: &Report, f: &Finding) -> String {
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
