//! Planner parity: for each corpus query planned on both sides, equal fingerprints are the same
//! shape; otherwise the trees are aligned by the set of relations under each node (not by
//! child position) and the differences are said in words: access path, index, join method,
//! join order, aggregate strategy, sorts, parallelism. A query that plans on one side and fails
//! on the other ranks high.

use std::collections::{BTreeMap, BTreeSet};

use super::{each_key, Sides};
use crate::finding::{Category, Finding, Severity};
use crate::plan::{PlanNode, PlannedQuery};

/// What the aligned trees hold: scans per relation, joins per relation set, and counts.
#[derive(Default)]
struct Shape {
    scans: BTreeMap<String, String>,
    joins: BTreeMap<BTreeSet<String>, String>,
    aggregates: Vec<String>,
    sorts: usize,
    gathers: usize,
}

fn shape(root: &PlanNode) -> Shape {
    let mut s = Shape::default();
    root.walk(&mut |n| {
        if let Some(r) = &n.relation {
            let how = match &n.index {
                Some(i) => format!("{} using {i}", n.node_type),
                None => n.node_type.clone(),
            };
            s.scans.entry(r.clone()).or_insert(how);
        }
        if n.join_type.is_some() && n.children.len() == 2 {
            let rels = n.relations();
            if rels.len() >= 2 {
                s.joins.entry(rels).or_insert_with(|| n.node_type.clone());
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
    });
    s.aggregates.sort();
    s
}

fn names(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// The differences between two plans in words, and whether one is a likely regression on the
/// right side (a sequential scan or nested loop appearing there).
fn differences(l: &PlanNode, r: &PlanNode, left: &str, right: &str) -> (Vec<String>, bool) {
    let (a, b) = (shape(l), shape(r));
    let mut out = Vec::new();
    let mut worse = false;
    for (rel, x) in &a.scans {
        if let Some(y) = b.scans.get(rel) {
            if x != y {
                out.push(format!(
                    "access path on {rel}: {x} in {left} → {y} in {right}"
                ));
                worse |= y.starts_with("Seq Scan") && r.rows > 1000.0;
            }
        }
    }
    for (rels, x) in &a.joins {
        if let Some(y) = b.joins.get(rels) {
            if x != y {
                out.push(format!(
                    "join method between {}: {x} in {left} → {y} in {right}",
                    names(rels)
                ));
                worse |= y == "Nested Loop";
            }
        }
    }
    let only = |p: &Shape, q: &Shape| p.joins.keys().filter(|k| !q.joins.contains_key(*k)).count();
    if only(&a, &b) > 0 || only(&b, &a) > 0 {
        out.push("join order differs".into());
    }
    if a.aggregates != b.aggregates {
        out.push(format!(
            "aggregate strategy: {} in {left} → {} in {right}",
            a.aggregates.join(", "),
            b.aggregates.join(", ")
        ));
    }
    if a.sorts != b.sorts {
        out.push(format!(
            "sorts: {} in {left}, {} in {right}",
            a.sorts, b.sorts
        ));
    }
    if (a.gathers > 0) != (b.gathers > 0) {
        out.push(format!(
            "parallel query {}",
            if b.gathers > 0 {
                format!("only in {right}")
            } else {
                format!("only in {left}")
            }
        ));
    }
    if out.is_empty() {
        out.push("plan shape differs".into());
    }
    (out, worse)
}

pub fn compare(s: &Sides, out: &mut Vec<Finding>) {
    let (Some(lp), Some(rp)) = (s.left.plans.as_ref(), s.right.plans.as_ref()) else {
        return;
    };
    each_key(lp, rp, |path, l, r| {
        let (Some(l), Some(r)) = (l, r) else { return };
        let object = format!("query:{path}");
        match (&l.plan, &r.plan, &l.error, &r.error) {
            (Some(a), Some(b), _, _) => {
                if l.fingerprint == r.fingerprint {
                    return;
                }
                let (diffs, worse) = differences(a, b, &s.left_name, &s.right_name);
                out.push(
                    Finding::new(Category::Plan, if worse { Severity::High } else { Severity::Medium }, object, "shape")
                        .values(Some(summary(a, l)), Some(summary(b, r)))
                        .message(format!("{path} plans differently: {}", diffs.join("; ")))
                        .why("a query planned one way where it is tested runs another way where it matters: its speed and locking in staging predict nothing")
                        .hint("compare the two plans (JSON report or snapshots); check the settings, indexes and statistics findings on the relations involved"),
                );
            }
            (Some(_), None, _, Some(err)) | (None, Some(_), Some(err), _) => {
                let fails_left = l.plan.is_none();
                out.push(
                    Finding::new(Category::Plan, Severity::High, object, "error")
                        .values(
                            Some(l.error.clone().unwrap_or_else(|| "plans".into())),
                            Some(r.error.clone().unwrap_or_else(|| "plans".into())),
                        )
                        .message(format!("{path} plans in {} but fails in {}: {err}", s.name(!fails_left), s.name(fails_left)))
                        .why("a missing table, column or function makes the query fail on one side only")
                        .hint(format!("apply the missing migration to {}", s.name(fails_left))),
                );
            }
            (None, None, Some(el), Some(_)) => {
                if l.error == r.error {
                    out.push(
                        Finding::new(Category::Plan, Severity::Info, object, "error")
                            .values(Some(el.clone()), r.error.clone())
                            .message(format!("{path} fails on both sides: {el}"))
                            .why("the query itself is broken, not the environments")
                            .hint("fix the query or remove it from the corpus"),
                    );
                }
            }
            _ => {}
        }
    });
}

fn summary(n: &PlanNode, q: &PlannedQuery) -> String {
    let mut s = n.shape();
    if s.chars().count() > 300 {
        s = s.chars().take(297).collect::<String>() + "...";
    }
    format!("{s} ({} plan, cost {:.0})", q.method, n.cost)
}
