//! A plan tree read as a shape: its joins (method, type, the relation sets of both inputs),
//! scans by relation, and each node's row estimate, so two trees align by what they join rather
//! than by child position; the largest q-error between two shapes' estimates.

use super::*;

/// A join, as aligned by the relations under it.
#[derive(PartialEq)]
pub(super) struct Join {
    /// `Hash Join`, or `Hash Join (Right Anti)` for a join type other than inner.
    pub(super) label: String,
    /// Relations under the outer (first) input.
    pub(super) outer: BTreeSet<String>,
    /// The outer input's row estimate.
    pub(super) outer_rows: f64,
}

/// What the aligned trees hold: scans per relation, joins per relation set, counts, and the
/// row estimates of aligned nodes.
#[derive(Default)]
pub(super) struct Shape {
    pub(super) scans: BTreeMap<String, String>,
    pub(super) joins: BTreeMap<BTreeSet<String>, Join>,
    pub(super) aggregates: Vec<String>,
    pub(super) sorts: usize,
    pub(super) gathers: usize,
    pub(super) rows: BTreeMap<String, f64>,
}

pub(super) fn shape(root: &PlanNode) -> Shape {
    let mut s = Shape::default();
    s.rows.insert("the result".into(), root.rows);
    visit(root, 1.0, &mut s);
    s.aggregates.sort();
    s
}

/// Walks the plan; `loops` is how many times the planner expects the node to run (the inner
/// side of a nested loop runs once per outer row), so row estimates compare as totals.
pub(super) fn visit(n: &PlanNode, loops: f64, s: &mut Shape) {
    if let Some(r) = &n.relation {
        let how = match &n.index {
            Some(i) => format!("{} using {i}", n.node_type),
            None => n.node_type.clone(),
        };
        if !s.scans.contains_key(r) {
            // Keyed by the access path too: a parameterized index scan and a full scan of the
            // same relation return different row sets, so only like scans compare.
            s.rows.insert(format!("the {how} of {r}"), n.rows * loops);
            s.scans.insert(r.clone(), how);
        }
    }
    let inputs = n.inputs();
    if n.join_type.is_some() && inputs.len() == 2 {
        let rels = n.joined_relations();
        if rels.len() >= 2 && !s.joins.contains_key(&rels) {
            let label = match n.join_type.as_deref() {
                Some("Inner") | None => n.node_type.clone(),
                Some(t) => format!("{} ({t})", n.node_type),
            };
            s.rows
                .insert(format!("the join of {}", names(&rels)), n.rows * loops);
            s.joins.insert(
                rels,
                Join {
                    label,
                    outer: inputs[0].joined_relations(),
                    outer_rows: inputs[0].rows * loops,
                },
            );
        }
    }
    match n.node_type.as_str() {
        "Aggregate" => s
            .aggregates
            .push(n.strategy.clone().unwrap_or_default().to_lowercase()),
        "Sort" | "Incremental Sort" => s.sorts += 1,
        "Gather" | "Gather Merge" => s.gathers += 1,
        _ => {}
    }
    for c in &n.children {
        let inner = n.node_type == "Nested Loop" && inputs.len() == 2 && std::ptr::eq(c, inputs[1]);
        let inner_loops = if inner {
            loops * inputs[0].rows.max(1.0)
        } else {
            loops
        };
        visit(c, inner_loops, s);
    }
}

pub(super) fn names(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// The largest q-error (max(a/b, b/a)) between row estimates of aligned nodes, and where.
pub(super) fn qerror(a: &Shape, b: &Shape) -> Option<(f64, String, f64, f64)> {
    let mut worst: Option<(f64, String, f64, f64)> = None;
    for (k, x) in &a.rows {
        if let Some(y) = b.rows.get(k) {
            let (x1, y1) = (x.max(1.0), y.max(1.0));
            let q = (x1 / y1).max(y1 / x1);
            if worst.as_ref().is_none_or(|w| q > w.0) {
                worst = Some((q, k.clone(), *x, *y));
            }
        }
    }
    worst
}
