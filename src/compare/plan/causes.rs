//! Why a plan differs, where the evidence allows: a cost tie (statistics noise), planner
//! settings, a missing index, statistics or data, the planner's version (with the plan features
//! the newer major introduced), unknown.

use super::*;

/// On the side that chose one plan, the re-plan steered toward the other side's plan reached
/// the same shape at almost the same cost: a tie that ANALYZE's sampling can flip.
pub(super) fn cost_tie(s: &Sides, l: &PlannedQuery, r: &PlannedQuery) -> Option<Cause> {
    for (mine, theirs, left) in [(l, r, true), (r, l, false)] {
        let (Some(st), Some(plan)) = (&mine.steered, &mine.plan) else {
            continue;
        };
        let (Some(cost), Some(fp)) = (st.cost, &st.fingerprint) else {
            continue;
        };
        if Some(fp) != theirs.fingerprint.as_ref() || plan.cost <= 0.0 {
            continue;
        }
        let gap = (cost - plan.cost) / plan.cost;
        if gap <= TIE_MARGIN {
            return Some(Cause {
                kind: CauseKind::StatisticsNoise,
                evidence: format!(
                    "in {}, {}'s plan (steered with {}) costs {:.0} against {:.0} for the plan chosen: {:.1} % apart",
                    s.name(left),
                    s.name(!left),
                    st.settings.join(", "),
                    cost,
                    plan.cost,
                    gap.max(0.0) * 100.0
                ),
                links: Vec::new(),
            });
        }
    }
    None
}

/// Setting findings a new major version brings to the planner: planner settings whose default
/// moved, and planner settings only one version has.
pub(super) fn planner_settings_moved(s: &Sides, found: &[Finding]) -> Vec<String> {
    found
        .iter()
        .filter(|f| {
            f.category == Category::Setting
                && (f.id.ends_with(":default") || f.id.ends_with(":presence"))
        })
        .filter(|f| {
            let name = f.object.trim_start_matches("setting:");
            let setting = s
                .right
                .inventory
                .settings
                .get(name)
                .or_else(|| s.left.inventory.settings.get(name));
            setting.is_some_and(|x| {
                crate::compare::settings::class(name, &x.category)
                    == crate::compare::settings::Class::Planner
            })
        })
        .map(|f| f.id.clone())
        .collect()
}

/// Plan features a major version introduced: a plan of the newer side that uses one the older
/// side's version lacks is planner-version evidence.
pub(super) const FEATURES: &[(&str, i32, &str)] = &[
    ("Incremental Sort", 13, "incremental sorts"),
    ("Memoize", 14, "Memoize nodes"),
    ("Right Anti", 16, "right anti joins"),
    ("Right Semi", 18, "right semi joins"),
];

pub(super) fn version_features(newer: &PlanNode, older_major: i32) -> Vec<String> {
    let shape = newer.shape();
    FEATURES
        .iter()
        .filter(|(pat, since, _)| older_major < *since && shape.contains(pat))
        .map(|(_, since, what)| format!("{what} exist since PostgreSQL {since}"))
        .collect()
}

/// Relations under both plans whose size or analysis differs: data and statistics causes.
pub(super) fn data_causes(s: &Sides, a: &PlanNode, b: &PlanNode) -> Vec<Cause> {
    let mut out = Vec::new();
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
            kind: CauseKind::Statistics,
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
            kind: CauseKind::Data,
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
    out
}

/// The relations each plan scans exactly once, with the scan's row estimate; a scan on a
/// nested loop's inner side is estimated per loop (one outer row's matches) and compares with
/// nothing, so it is left out.
fn scans(p: &PlanNode) -> std::collections::BTreeMap<String, Option<&PlanNode>> {
    fn walk<'a>(
        n: &'a PlanNode,
        per_loop: bool,
        m: &mut std::collections::BTreeMap<String, Option<&'a PlanNode>>,
    ) {
        if let Some(rel) = &n.relation {
            let seen = m.contains_key(rel);
            m.insert(rel.clone(), (!seen && !per_loop).then_some(n));
        }
        let inputs = n.inputs();
        for c in &n.children {
            let inner =
                n.node_type == "Nested Loop" && inputs.len() == 2 && std::ptr::eq(c, inputs[1]);
            walk(c, per_loop || inner, m);
        }
    }
    let mut m = Default::default();
    walk(p, false, &mut m);
    m
}

/// Estimates ANALYZE's sample can move this far apart on the same data (the ratio of the two
/// sides' row estimates for one scan): beyond it the statistics differ for another reason
/// (a statistics target, extended statistics, the data).
const SAMPLE_RATIO: f64 = 3.0;

/// The rows ANALYZE samples from `rel` on one side: 300 × the largest statistics target of
/// its columns (a column's own, else `default_statistics_target`).
fn sample_rows(snap: &crate::snapshot::Snapshot, rel: &str) -> f64 {
    let default = f64::from(snap.default_statistics_target());
    let target = snap
        .schema
        .tables
        .get(rel)
        .and_then(|t| {
            t.columns
                .iter()
                .map(|c| c.stattarget.filter(|x| *x >= 0).map_or(default, f64::from))
                .reduce(f64::max)
        })
        .unwrap_or(default);
    300.0 * target
}

/// The same relations, of the same size on both sides (reltuples within 10 %), scanned with
/// row estimates [`APART`] or more apart: the plans follow the statistics. Where every such table
/// is larger than ANALYZE's sample (300 × its columns' largest statistics target rows) and
/// the estimates are within [`SAMPLE_RATIO`], the sample explains it: another ANALYZE may
/// flip the plan (statistics noise); else the statistics differ.
fn estimates_apart(s: &Sides, a: &PlanNode, b: &PlanNode) -> Option<Estimates> {
    let (sa, sb) = (scans(a), scans(b));
    let mut apart = Vec::new();
    let mut samples = Vec::new();
    let mut sampled = true;
    let mut compared = 0;
    for (rel, na) in &sa {
        let (Some(na), Some(Some(nb))) = (na, sb.get(rel)) else {
            continue;
        };
        let (ea, eb) = (&na.rows, &nb.rows);
        let (Some(x), Some(y)) = (
            s.left.statistics.tables.get(rel),
            s.right.statistics.tables.get(rel),
        ) else {
            continue;
        };
        let (tx, ty) = (x.reltuples.max(1.0), y.reltuples.max(1.0));
        let (lo, hi) = (ea.min(*eb).max(1.0), ea.max(*eb));
        if tx.max(ty) / tx.min(ty) > 1.1 {
            continue;
        }
        compared += 1;
        if hi / lo < APART || hi - lo < 10.0 {
            continue;
        }
        let sample = sample_rows(s.left, rel).max(sample_rows(s.right, rel));
        sampled &= tx.min(ty) > sample && hi / lo <= SAMPLE_RATIO;
        samples.push(sample);
        // The truth, where the plans were executed (EXPLAIN ANALYZE).
        let truth = match (na.actual_rows, nb.actual_rows) {
            (Some(x), Some(y)) if x != y => format!(
                ", {} returned in {} and {} in {}",
                crate::finding::thousands(x),
                s.left_name,
                crate::finding::thousands(y),
                s.right_name
            ),
            (Some(x), _) | (None, Some(x)) => {
                format!(", {} actually returned", crate::finding::thousands(x))
            }
            (None, None) => String::new(),
        };
        apart.push(format!(
            "{rel}: {} rows estimated in {} vs {} in {} ({} rows on both{truth})",
            crate::finding::thousands(*ea),
            s.left_name,
            crate::finding::thousands(*eb),
            s.right_name,
            crate::finding::thousands(tx)
        ));
    }
    if apart.is_empty() {
        return (compared > 0).then(|| Estimates::Alike(format!(
            "{compared} scan{} of the same tables, of the same size, estimated alike on both sides (within {:.0} %): the same statistics, planned differently",
            if compared == 1 { "" } else { "s" },
            (APART - 1.0) * 100.0
        )));
    }
    let evidence = apart.join("; ");
    Some(Estimates::Apart(if sampled {
        Cause {
            kind: CauseKind::StatisticsNoise,
            evidence: format!(
                "follows the statistics sample: the same tables of the same size are estimated differently ({evidence}), within what ANALYZE's sample of {} rows moves; another ANALYZE may flip it",
                crate::finding::thousands(samples.iter().copied().fold(0.0, f64::max))
            ),
            links: Vec::new(),
        }
    } else {
        Cause {
            kind: CauseKind::Statistics,
            evidence: format!(
                "the statistics differ: the same tables of the same size are estimated differently ({evidence})"
            ),
            links: Vec::new(),
        }
    }))
}

/// Scan estimates ANALYZE's sample gave apart by this ratio or more (and by 10 rows) make the
/// plans follow the statistics; under it, the scans are estimated alike.
const APART: f64 = 1.1;

/// What the scan estimates of two plans over the same tables say.
enum Estimates {
    /// Apart: a statistics cause (noise where the sample explains it).
    Apart(Cause),
    /// Alike: evidence for another cause.
    Alike(String),
}

/// Why two plans differ, where the evidence allows: the other side's settings make the shapes
/// converge; an index one plan uses is missing on the other side; the relations' sizes differ
/// by 10× or more; else, across major versions, the planner itself (with the plan features and
/// the planner settings the newer version brought).
pub(super) fn causes(
    s: &Sides,
    l: &PlannedQuery,
    r: &PlannedQuery,
    a: &PlanNode,
    b: &PlanNode,
    moved: &[String],
) -> Vec<Cause> {
    let mut out = Vec::new();
    let restored = same_statistics(s, l, r);
    if let Some(cf) = &l.counterfactual {
        if cf.fingerprint.is_some() && cf.fingerprint == r.fingerprint {
            out.push(Cause {
                kind: CauseKind::Setting,
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
                let exists = other.schema.indexes.keys().any(|k| names_index(k, idx));
                if !exists && !missing.iter().any(|(i, _): &(String, String)| i == idx) {
                    missing.push((idx.clone(), other_name.clone()));
                }
            }
        });
    }
    if !missing.is_empty() {
        out.push(Cause {
            kind: CauseKind::Schema,
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
    out.extend(data_causes(s, a, b));
    if let Restored::Converges(evidence) = &restored {
        // The strongest test there is: under the other side's statistics the plans agree.
        let sample = match estimates_apart(s, a, b) {
            Some(Estimates::Apart(c)) => Some(c),
            _ => None,
        };
        let noise = sample
            .as_ref()
            .is_some_and(|c| c.kind == CauseKind::StatisticsNoise);
        let mut evidence = evidence.clone();
        if let Some(c) = sample {
            evidence.push_str("; ");
            evidence.push_str(&c.evidence);
        }
        out.insert(
            0,
            Cause {
                kind: if noise {
                    CauseKind::StatisticsNoise
                } else {
                    CauseKind::Statistics
                },
                evidence,
                links: Vec::new(),
            },
        );
        return out;
    }
    // A node type the older major lacks is the planner's own doing, whatever the estimates;
    // else estimates apart on tables of the same size are the statistics' doing.
    let (lm, rm) = (s.left.major_version(), s.right.major_version());
    let features = match (lm != rm, rm > lm) {
        (false, _) => Vec::new(),
        (true, true) => version_features(b, lm),
        (true, false) => version_features(a, rm),
    };
    // The counterfactual of the planner version: the newer side re-planned with the features
    // its major added turned off. Reverting to the older side's shape proves them; staying
    // clears them.
    let (newer_q, older_q, newer_name, older_name) = if rm > lm {
        (r, l, &s.right_name, &s.left_name)
    } else {
        (l, r, &s.left_name, &s.right_name)
    };
    let unfeatured = newer_q.unfeatured.as_ref().filter(|_| lm != rm);
    let reverted =
        unfeatured.filter(|u| u.fingerprint.is_some() && u.fingerprint == older_q.fingerprint);
    if let Some(u) = reverted {
        let names: Vec<&str> = u
            .settings
            .iter()
            .map(|x| x.split(" = ").next().unwrap_or(""))
            .collect();
        let mut links = vec!["version:server:version".to_string()];
        links.extend(
            moved
                .iter()
                .filter(|id| {
                    names.contains(
                        &id.trim_start_matches("setting:")
                            .split(':')
                            .next()
                            .unwrap_or(""),
                    )
                })
                .cloned(),
        );
        out.insert(
            0,
            Cause {
                kind: CauseKind::PlannerVersion,
                evidence: format!(
                    "re-planned in {newer_name} with the planner features PostgreSQL {} added turned off ({}): the shape reverts to {older_name}'s",
                    lm.max(rm),
                    u.settings.join(", ")
                ),
                links,
            },
        );
        return out;
    }
    let mut alike = None;
    if out.is_empty() && features.is_empty() && !matches!(restored, Restored::Stays(_)) {
        match estimates_apart(s, a, b) {
            Some(Estimates::Apart(c)) => out.push(c),
            Some(Estimates::Alike(e)) => alike = Some(e),
            None => {}
        }
    }
    if out.is_empty() {
        out.push(if lm != rm {
            let (newer, older) = if rm > lm { (b, lm) } else { (a, rm) };
            let mut evidence = vec![format!(
                "no setting, index or size difference explains it; PostgreSQL {lm} and {rm} plan differently"
            )];
            evidence.extend(version_features(newer, older));
            let mut links = vec!["version:server:version".to_string()];
            evidence.extend(restored.said());
            evidence.extend(alike.clone());
            if let Some(u) = unfeatured {
                // Re-planned without them, the shape stayed: they are not why.
                evidence.push(format!(
                    "re-planned in {newer_name} with its new planner features off ({}), the shape stays: not those features",
                    u.settings.join(", ")
                ));
            } else if !moved.is_empty() {
                evidence.push(format!(
                    "planner settings new or with a new default: {}",
                    moved
                        .iter()
                        .map(|id| id.trim_start_matches("setting:").split(':').next().unwrap_or(""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                links.extend(moved.iter().cloned());
            }
            Cause {
                kind: CauseKind::PlannerVersion,
                evidence: evidence.join("; "),
                links,
            }
        } else {
            Cause {
                kind: CauseKind::Unknown,
                evidence: std::iter::once(
                    "no setting, index or size difference explains it".to_string(),
                )
                .chain(restored.said())
                .chain(alike)
                .collect::<Vec<_>>()
                .join("; "),
                links: Vec::new(),
            }
        });
    }
    out
}

/// What the statistics' counterfactual showed: one side re-planned with the other side's
/// planner statistics restored (PostgreSQL 18+, rolled back).
enum Restored {
    /// Not run (an older major, a protected or a file side, `--no-statistics-replan`).
    NotRun,
    /// The shape became the other side's: the statistics are why.
    Converges(String),
    /// The shape stayed: under the same statistics the plans still differ.
    Stays(String),
    /// The statistics could not be restored or read (a permission, a standby).
    Failed(String),
}

impl Restored {
    /// Evidence for a cause other than the statistics.
    fn said(&self) -> Option<String> {
        match self {
            Restored::Stays(e) | Restored::Failed(e) => Some(e.clone()),
            _ => None,
        }
    }
}

fn same_statistics(s: &Sides, l: &PlannedQuery, r: &PlannedQuery) -> Restored {
    let (t, other, into_left) = match (&l.transplanted, &r.transplanted) {
        (Some(t), _) => (t, r, true),
        (None, Some(t)) => (t, l, false),
        (None, None) => return Restored::NotRun,
    };
    let (into, from) = (s.name(into_left), s.name(!into_left));
    match (&t.fingerprint, &t.error) {
        (Some(fp), _) if Some(fp) == other.fingerprint.as_ref() => Restored::Converges(format!(
            "re-planned in {into} with {from}'s planner statistics (pg_restore_relation_stats and pg_restore_attribute_stats, rolled back): the same shape as {from}"
        )),
        (Some(_), _) => Restored::Stays(format!(
            "re-planned in {into} with {from}'s planner statistics, the shape stays: not the statistics"
        )),
        (None, Some(e)) => Restored::Failed(format!(
            "the re-plan with {from}'s statistics in {into} failed: {e}"
        )),
        (None, None) => Restored::NotRun,
    }
}

/// Whether a snapshot's index key (`"Odd Ops"."Events old_state_idx"`, quoted where needed)
/// is the index EXPLAIN names bare (`Events old_state_idx`).
fn names_index(key: &str, explained: &str) -> bool {
    key == explained || crate::sql::split_qualified(key).1 == crate::sql::ident(explained)
}

#[cfg(test)]
mod tests {
    use super::names_index;

    #[test]
    fn an_index_explain_names_bare_is_found_under_its_quoted_key() {
        assert!(names_index("public.orders_idx", "orders_idx"));
        assert!(names_index(
            "\"Odd Ops\".\"Events old_state_idx\"",
            "Events old_state_idx"
        ));
        assert!(names_index("s.\"Ix\"\"q\"", "Ix\"q"));
        assert!(!names_index("public.orders_idx", "orders"));
        assert!(!names_index("public.\"Orders_idx\"", "orders_idx"));
    }
}
