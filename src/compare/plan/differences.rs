//! Two shapes' differences said in words: access path, index, join method and type, swapped
//! inputs, join order, aggregate strategy, sorts, parallelism; what the severity needs (a
//! sequential scan of a relation in production, a nested loop's outer side); the partitions each
//! plan scans.

use super::*;

/// The differences between two plans in words, with what they imply for the severity.
pub(super) struct Differences {
    pub(super) words: Vec<String>,
    /// Sequential scans that appear on the right side (production), by relation.
    pub(super) seq_on_right: Vec<String>,
    /// Outer row estimate of a nested loop that appears on the right side.
    pub(super) nestloop_outer_right: f64,
    /// Nothing differs but which index serves a scan.
    pub(super) only_index_choice: bool,
    pub(super) qerror: Option<(f64, String, f64, f64)>,
}

/// Partitions a plan reads: scanned relations that are partitions in that side's schema.
pub(super) fn partitions(p: &PlanNode, snap: &crate::snapshot::Snapshot) -> BTreeSet<String> {
    p.relations()
        .into_iter()
        .filter(|r| {
            snap.schema
                .tables
                .get(r)
                .is_some_and(|t| t.parent.is_some())
        })
        .collect()
}

pub(super) fn differences(l: &PlanNode, r: &PlanNode, left: &str, right: &str) -> Differences {
    let (a, b) = (shape(l), shape(r));
    let mut d = Differences {
        words: Vec::new(),
        seq_on_right: Vec::new(),
        nestloop_outer_right: 0.0,
        only_index_choice: true,
        qerror: qerror(&a, &b),
    };
    for (rel, x) in &a.scans {
        if let Some(y) = b.scans.get(rel) {
            if x == y {
                continue;
            }
            let same_kind = x.split(" using ").next() == y.split(" using ").next();
            if same_kind {
                d.words.push(format!(
                    "different index on {rel}: {x} in {left} → {y} in {right}"
                ));
            } else {
                d.only_index_choice = false;
                d.words.push(format!(
                    "access path on {rel}: {x} in {left} → {y} in {right}"
                ));
                if y.starts_with("Seq Scan") {
                    d.seq_on_right.push(rel.clone());
                }
            }
        }
    }
    for (rels, x) in &a.joins {
        let Some(y) = b.joins.get(rels) else { continue };
        if x.label != y.label {
            d.only_index_choice = false;
            let swapped = if x.outer != y.outer {
                " (inputs swapped)"
            } else {
                ""
            };
            d.words.push(format!(
                "join between {}: {} in {left} → {} in {right}{swapped}",
                names(rels),
                x.label,
                y.label
            ));
            if y.label.starts_with("Nested Loop") && !x.label.starts_with("Nested Loop") {
                d.nestloop_outer_right = d.nestloop_outer_right.max(y.outer_rows);
            }
        } else if x.outer != y.outer {
            d.only_index_choice = false;
            d.words.push(format!(
                "join inputs swapped between {}: {} drives in {left}, {} in {right}",
                names(rels),
                names(&x.outer),
                names(&y.outer)
            ));
        }
    }
    let only = |p: &Shape, q: &Shape| p.joins.keys().filter(|k| !q.joins.contains_key(*k)).count();
    if only(&a, &b) > 0 || only(&b, &a) > 0 {
        d.only_index_choice = false;
        d.words.push("join order differs".into());
    }
    if a.aggregates != b.aggregates {
        d.only_index_choice = false;
        d.words.push(format!(
            "aggregate strategy: {} in {left} → {} in {right}",
            a.aggregates.join(", "),
            b.aggregates.join(", ")
        ));
    }
    if a.sorts != b.sorts {
        d.only_index_choice = false;
        d.words.push(format!(
            "sorts: {} in {left}, {} in {right}",
            a.sorts, b.sorts
        ));
    }
    if (a.gathers > 0) != (b.gathers > 0) {
        d.only_index_choice = false;
        d.words.push(format!(
            "parallel query only in {}",
            if b.gathers > 0 { right } else { left }
        ));
    }
    if d.words.is_empty() {
        d.only_index_choice = false;
        d.words.push("plan shape differs".into());
    }
    d
}
