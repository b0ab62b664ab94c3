//! Planner parity: for each corpus query planned on both sides, equal fingerprints are the same
//! shape; otherwise the trees are aligned by the set of relations under each node (not by
//! child position) and the differences are said in words: access path, index, join method,
//! join order, aggregate strategy, sorts, parallelism. A query that plans on one side and fails
//! on the other ranks high.

use std::collections::{BTreeMap, BTreeSet};

use super::{each_key, Sides};
use crate::finding::{Category, Cause, Finding, Severity};
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
                let causes = causes(s, l, r, a, b);
                let mut f = Finding::new(
                    Category::Plan,
                    if worse {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                    object,
                    "shape",
                );
                f.causes = causes;
                out.push(
                    f
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

/// Why two plans differ, where the evidence allows: the other side's settings make the shapes
/// converge; an index one plan uses is missing on the other side; the relations' sizes differ
/// by 10× or more; else, across major versions, the planner itself.
fn causes(s: &Sides, l: &PlannedQuery, r: &PlannedQuery, a: &PlanNode, b: &PlanNode) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(cf) = &l.counterfactual {
        if cf.fingerprint.is_some() && cf.fingerprint == r.fingerprint {
            out.push(Cause {
                kind: "setting".into(),
                evidence: format!(
                    "re-planned in {} with {}'s planner settings ({}): the same shape as {}",
                    s.left_name,
                    s.right_name,
                    cf.settings.join(", "),
                    s.right_name
                ),
                links: cf
                    .settings
                    .iter()
                    .map(|x| format!("setting:{}", x.split(" = ").next().unwrap_or("")))
                    .collect(),
            });
        }
    }
    let mut missing = Vec::new();
    for (plan, other, other_name) in [(a, s.right, &s.right_name), (b, s.left, &s.left_name)] {
        plan.walk(&mut |n| {
            if let Some(idx) = &n.index {
                let exists = other
                    .schema
                    .indexes
                    .keys()
                    .any(|k| k == idx || k.ends_with(&format!(".{idx}")));
                if !exists && !missing.iter().any(|(i, _): &(String, String)| i == idx) {
                    missing.push((idx.clone(), other_name.clone()));
                }
            }
        });
    }
    if !missing.is_empty() {
        out.push(Cause {
            kind: "schema".into(),
            evidence: missing
                .iter()
                .map(|(i, side)| format!("index {i} does not exist in {side}"))
                .collect::<Vec<_>>()
                .join("; "),
            links: missing
                .iter()
                .filter_map(|(i, _)| {
                    s.left
                        .schema
                        .indexes
                        .keys()
                        .chain(s.right.schema.indexes.keys())
                        .find(|k| *k == i || k.ends_with(&format!(".{i}")))
                })
                .map(|k| format!("schema:{k}:missing"))
                .collect(),
        });
    }
    let mut sizes = Vec::new();
    let mut unanalyzed = Vec::new();
    for rel in a.relations().intersection(&b.relations()) {
        let (Some(x), Some(y)) = (
            s.left.statistics.tables.get(rel),
            s.right.statistics.tables.get(rel),
        ) else {
            continue;
        };
        if x.analyzed() != y.analyzed() {
            unanalyzed.push((rel.clone(), s.name(!x.analyzed()).to_string()));
            continue;
        }
        let (x, y) = (x.reltuples.max(1.0), y.reltuples.max(1.0));
        if x / y >= 10.0 || y / x >= 10.0 {
            sizes.push((rel.clone(), x, y));
        }
    }
    if !unanalyzed.is_empty() {
        out.push(Cause {
            kind: "statistics".into(),
            evidence: unanalyzed
                .iter()
                .map(|(r, side)| format!("{r} was never analyzed in {side}"))
                .collect::<Vec<_>>()
                .join("; "),
            links: unanalyzed
                .iter()
                .map(|(r, _)| format!("statistics:{r}:never-analyzed"))
                .collect(),
        });
    }
    if !sizes.is_empty() {
        out.push(Cause {
            kind: "data".into(),
            evidence: sizes
                .iter()
                .map(|(r, x, y)| {
                    format!(
                        "{r}: {} rows in {} vs {} in {} (planner estimates)",
                        crate::finding::thousands(*x),
                        s.left_name,
                        crate::finding::thousands(*y),
                        s.right_name
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
            links: sizes
                .iter()
                .map(|(r, _, _)| format!("volume:{r}"))
                .collect(),
        });
    }
    if out.is_empty() {
        let (lm, rm) = (s.left.major_version(), s.right.major_version());
        out.push(if lm != rm {
            Cause {
                kind: "planner-version".into(),
                evidence: format!("no setting, index or size difference explains it; PostgreSQL {lm} and {rm} plan differently"),
                links: vec!["version:server:version".into()],
            }
        } else {
            Cause { kind: "unknown".into(), evidence: "no setting, index or size difference explains it".into(), links: Vec::new() }
        });
    }
    out
}

fn summary(n: &PlanNode, q: &PlannedQuery) -> String {
    let mut s = n.shape();
    if s.chars().count() > 300 {
        s = s.chars().take(297).collect::<String>() + "...";
    }
    format!("{s} ({} plan, cost {:.0})", q.method, n.cost)
}
