//! Statistics freshness: a table analyzed on one side and never on the other, or with many
//! rows modified since its last analyze on one side only.
//!
//! Analyze times and modification counters are each server's own: a standby has none, though
//! it plans with the statistics its primary's ANALYZE wrote (replicated). Where a side is a
//! standby, "analyzed" is judged from what the planner reads (`pg_stats`, `reltuples`) and
//! the counters are not compared.

use super::{each_key, Sides};
use crate::finding::{Category, Finding, Severity};
use crate::snapshot::TableStats;

/// Like autovacuum's trigger: 10 % of the rows plus 50.
fn stale(t: &TableStats) -> bool {
    let rows = t.reltuples.max(t.live_tuples as f64).max(0.0);
    t.analyzed() && t.mod_since_analyze as f64 > 0.1 * rows + 50.0
}

fn state(t: &TableStats) -> String {
    if !t.analyzed() {
        format!("never analyzed ({} live rows)", t.live_tuples)
    } else if stale(t) {
        format!(
            "stale ({} rows modified since analyze)",
            t.mod_since_analyze
        )
    } else {
        "analyzed".into()
    }
}

/// Analyzed, judged only from what a standby replicates.
fn planner_analyzed(t: &TableStats) -> bool {
    t.planner_stats || t.reltuples >= 0.0 && t.relpages > 0
}

pub fn compare(s: &Sides, out: &mut Vec<Finding>) {
    let standby = s.left.inventory.topology.in_recovery || s.right.inventory.topology.in_recovery;
    let analyzed = |t: &TableStats| {
        if standby {
            planner_analyzed(t)
        } else {
            t.analyzed()
        }
    };
    each_key(
        &s.left.statistics.tables,
        &s.right.statistics.tables,
        |table, l, r| {
            let (Some(l), Some(r)) = (l, r) else { return };
            // Before 14, pg_stat_all_tables has no row for a partitioned table: its analyze
            // is not recorded, so "never analyzed" there says nothing.
            let partitioned = s
                .left
                .schema
                .tables
                .get(table)
                .or(s.right.schema.tables.get(table))
                .is_some_and(|t| t.kind == crate::snapshot::TableKind::Partitioned);
            let oldest =
                (s.left.inventory.server_version_num).min(s.right.inventory.server_version_num);
            if partitioned && oldest > 0 && oldest < 140000 {
                return;
            }
            if analyzed(l) != analyzed(r) {
                let never_left = !analyzed(l);
                let unanalyzed = if never_left { l } else { r };
                let sev = if unanalyzed.live_tuples > 0 {
                    Severity::Medium
                } else {
                    Severity::Low
                };
                out.push(
                Finding::new(Category::Statistics, sev, table.clone(), "never-analyzed")
                    .values(Some(state(l)), Some(state(r)))
                    .message(format!("{table} was never analyzed in {}", s.name(never_left)))
                    .why("without statistics the planner guesses row counts: plans (and their speed) in that environment say nothing about the other")
                    .hint(format!("ANALYZE {table} in {} (and check autovacuum)", s.name(never_left))),
            );
            } else if !standby && stale(l) != stale(r) {
                let stale_left = stale(l);
                out.push(
                Finding::new(Category::Statistics, Severity::Low, table.clone(), "stale")
                    .values(Some(state(l)), Some(state(r)))
                    .message(format!("{table} has many rows modified since its last analyze in {}", s.name(stale_left)))
                    .why("stale statistics make the planner misjudge row counts: plans differ from what fresh statistics give")
                    .hint(format!("ANALYZE {table} in {}", s.name(stale_left))),
            );
            }
        },
    );
}
