//! Planner parity: for each corpus query planned on both sides, equal fingerprints are the same
//! shape (then only row estimates are compared, as a q-error); otherwise the trees are aligned
//! by the set of relations under each node (not by child position) and the differences are
//! said in words: access path, index, join method and type, join inputs and order, aggregate
//! strategy, sorts, parallelism. Each divergence gets its causes (setting, schema, statistics,
//! data, planner-version, statistics-noise for a cost tie, unknown) and a severity by how
//! likely it hides a production problem. A query that plans on one side and fails on the
//! other ranks high; one that fails on both is reported once, as the author's problem.

use std::collections::{BTreeMap, BTreeSet};

use super::{each_key, Sides};
use crate::finding::{Category, Cause, CauseKind, Finding, Severity};
use crate::snapshot::plan::{PlanNode, PlanPair, PlannedQuery};

/// The aspect of a plan finding whose query plans with another shape.
pub const SHAPE: &str = "shape";

/// The object of a corpus query's plan findings (`query:q07.sql`).
pub fn query_object(path: &str) -> String {
    format!("query:{path}")
}

/// The id of the finding "`path` plans with another shape".
pub fn shape_id(path: &str) -> String {
    Finding::id_of(Category::Plan, &query_object(path), SHAPE)
}

/// A steered re-plan that reaches the other side's shape within this share of the cost the
/// planner chose is a cost tie: which plan wins depends on ANALYZE's sample, not on the data.
const TIE_MARGIN: f64 = 0.05;
/// Row estimates of aligned nodes this many times apart mean the planner sees different data.
const QERROR_NOTE: f64 = 10.0;
/// ... and this many times apart rank high.
const QERROR_HIGH: f64 = 100.0;
/// A sequential scan appearing on a relation with at least this many rows ranks high.
const LARGE_RELATION: f64 = 100_000.0;
/// A nested loop appearing over an outer input of at least this many rows ranks high.
const LARGE_OUTER: f64 = 10_000.0;

/// A join, as aligned by the relations under it.
#[derive(PartialEq)]
struct Join {
    /// `Hash Join`, or `Hash Join (Right Anti)` for a join type other than inner.
    label: String,
    /// Relations under the outer (first) input.
    outer: BTreeSet<String>,
    /// The outer input's row estimate.
    outer_rows: f64,
}

/// What the aligned trees hold: scans per relation, joins per relation set, counts, and the
/// row estimates of aligned nodes.
#[derive(Default)]
struct Shape {
    scans: BTreeMap<String, String>,
    joins: BTreeMap<BTreeSet<String>, Join>,
    aggregates: Vec<String>,
    sorts: usize,
    gathers: usize,
    rows: BTreeMap<String, f64>,
}

fn shape(root: &PlanNode) -> Shape {
    let mut s = Shape::default();
    s.rows.insert("the result".into(), root.rows);
    visit(root, 1.0, &mut s);
    s.aggregates.sort();
    s
}

/// Walks the plan; `loops` is how many times the planner expects the node to run (the inner
/// side of a nested loop runs once per outer row), so row estimates compare as totals.
fn visit(n: &PlanNode, loops: f64, s: &mut Shape) {
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
    if n.join_type.is_some() && n.children.len() == 2 {
        let rels = n.relations();
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
                    outer: n.children[0].relations(),
                    outer_rows: n.children[0].rows * loops,
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
    for (i, c) in n.children.iter().enumerate() {
        let inner_loops = if n.node_type == "Nested Loop" && i == 1 {
            loops * n.children[0].rows.max(1.0)
        } else {
            loops
        };
        visit(c, inner_loops, s);
    }
}

fn names(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// The largest q-error (max(a/b, b/a)) between row estimates of aligned nodes, and where.
fn qerror(a: &Shape, b: &Shape) -> Option<(f64, String, f64, f64)> {
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

/// The differences between two plans in words, with what they imply for the severity.
struct Differences {
    words: Vec<String>,
    /// Sequential scans that appear on the right side (production), by relation.
    seq_on_right: Vec<String>,
    /// Outer row estimate of a nested loop that appears on the right side.
    nestloop_outer_right: f64,
    /// Nothing differs but which index serves a scan.
    only_index_choice: bool,
    qerror: Option<(f64, String, f64, f64)>,
}

/// Partitions a plan reads: scanned relations that are partitions in that side's schema.
fn partitions(p: &PlanNode, snap: &crate::snapshot::Snapshot) -> BTreeSet<String> {
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

fn differences(l: &PlanNode, r: &PlanNode, left: &str, right: &str) -> Differences {
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

fn weight_note(w: Option<f64>) -> String {
    match w {
        Some(w) => format!(" [{:.1} % of the workload's execution time]", w * 100.0),
        None => String::new(),
    }
}

pub fn compare(s: &Sides, out: &mut Vec<Finding>) {
    let (Some(lp), Some(rp)) = (s.left.plans.as_ref(), s.right.plans.as_ref()) else {
        return;
    };
    let moved = planner_settings_moved(s, out);
    let mut found = Vec::new();
    each_key(lp, rp, |path, l, r| {
        let (Some(l), Some(r)) = (l, r) else { return };
        let object = query_object(path);
        let weight = l.weight.or(r.weight);
        let pair = || {
            Some(Box::new(PlanPair {
                left: l.plan.clone(),
                right: r.plan.clone(),
            }))
        };
        let mut f = match (&l.plan, &r.plan, &l.error, &r.error) {
            (Some(a), Some(b), _, _) if l.fingerprint == r.fingerprint => {
                // Same shape: only the row estimates can tell the data apart.
                let Some((q, node, x, y)) = qerror(&shape(a), &shape(b)) else {
                    return;
                };
                if q < QERROR_NOTE {
                    return;
                }
                let mut f = Finding::new(
                    Category::Plan,
                    if q >= QERROR_HIGH {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                    object,
                    "estimates",
                );
                f.causes = data_causes(s, a, b);
                f.values(Some(format!("{} rows", crate::finding::thousands(x))), Some(format!("{} rows", crate::finding::thousands(y))))
                    .message(format!(
                        "{path} plans the same shape, but the planner's row estimates differ {q:.0}× ({} in {} vs {} in {} for {node})",
                        crate::finding::thousands(x), s.left_name, crate::finding::thousands(y), s.right_name
                    ))
                    .why("the planner sees different data: the same plan meets very different row counts, and a small change tips it to another plan in one environment only")
                    .hint("compare the volume and statistics findings of the relations involved; seed staging at production's scale")
            }
            (Some(a), Some(b), _, _) => {
                let mut d = differences(a, b, &s.left_name, &s.right_name);
                let (pa, pb) = (partitions(a, s.left), partitions(b, s.right));
                if pa != pb {
                    let only = |x: &BTreeSet<String>, y: &BTreeSet<String>| x.difference(y).count();
                    d.only_index_choice = false;
                    d.words.retain(|w| w != "plan shape differs");
                    d.words.push(format!(
                        "partitions pruned differently: {} scanned in {}, {} in {} ({} only in {}, {} only in {})",
                        pa.len(),
                        s.left_name,
                        pb.len(),
                        s.right_name,
                        only(&pa, &pb),
                        s.left_name,
                        only(&pb, &pa),
                        s.right_name
                    ));
                }
                let tie = cost_tie(s, l, r);
                let mut causes = causes(s, l, r, a, b, &moved);
                let qe = d.qerror.as_ref().filter(|x| x.0 >= QERROR_NOTE);
                let severity =
                    if tie.is_some() && !causes.iter().any(|c| c.kind == CauseKind::Setting) {
                        Severity::Low
                    } else if !d
                        .seq_on_right
                        .iter()
                        .filter(|rel| {
                            s.right
                                .statistics
                                .tables
                                .get(*rel)
                                .is_some_and(|t| t.reltuples >= LARGE_RELATION)
                        })
                        .collect::<Vec<_>>()
                        .is_empty()
                        || d.nestloop_outer_right >= LARGE_OUTER
                        || qe.is_some_and(|x| x.0 >= QERROR_HIGH)
                    {
                        Severity::High
                    } else if d.only_index_choice {
                        Severity::Low
                    } else {
                        Severity::Medium
                    };
                if let Some(t) = tie {
                    if severity == Severity::Low {
                        causes.retain(|c| {
                            c.kind != CauseKind::PlannerVersion && c.kind != CauseKind::Unknown
                        });
                        causes.insert(0, t);
                    }
                }
                let mut words = d.words.join("; ");
                if let Some((q, node, x, y)) = qe {
                    words.push_str(&format!(
                        "; row estimates differ {q:.0}× for {node} ({} vs {})",
                        crate::finding::thousands(*x),
                        crate::finding::thousands(*y)
                    ));
                }
                let unstable = severity == Severity::Low
                    && causes
                        .first()
                        .is_some_and(|c| c.kind == CauseKind::StatisticsNoise);
                let mut f = Finding::new(Category::Plan, severity, object, SHAPE);
                f.causes = causes;
                f.values(Some(summary(a, l)), Some(summary(b, r)))
                    .message(if unstable {
                        format!("{path} plans differently, but the two plans cost the same within {:.0} %: an unstable choice, not a regression ({words})", TIE_MARGIN * 100.0)
                    } else {
                        format!("{path} plans differently: {words}")
                    })
                    .why(if unstable {
                        "two plans of almost equal cost: which one wins flips with ANALYZE's sample, in any environment"
                    } else {
                        "a query planned one way where it is tested runs another way where it matters: its speed and locking in staging predict nothing"
                    })
                    .hint("compare the two plans (the JSON report holds both); check the settings, indexes and statistics findings linked in the causes")
            }
            (Some(_), None, _, Some(err)) | (None, Some(_), Some(err), _) => {
                let fails_left = l.plan.is_none();
                Finding::new(Category::Plan, Severity::High, object, "error")
                    .values(
                        Some(l.error.clone().unwrap_or_else(|| "plans".into())),
                        Some(r.error.clone().unwrap_or_else(|| "plans".into())),
                    )
                    .message(format!(
                        "{path} plans in {} but fails in {}: {err}",
                        s.name(!fails_left),
                        s.name(fails_left)
                    ))
                    .why(
                        "a missing table, column or function makes the query fail on one side only",
                    )
                    .hint(format!(
                        "apply the missing migration to {}",
                        s.name(fails_left)
                    ))
            }
            (None, None, Some(el), Some(_)) => {
                let f = Finding::new(Category::Plan, Severity::Info, object, "error")
                    .values(Some(el.clone()), r.error.clone());
                if l.error == r.error {
                    f.message(format!("{path} fails on both sides: {el}"))
                        .why("the query itself is broken, not the environments")
                        .hint("fix the query or remove it from the corpus")
                } else {
                    f.message(format!("{path} fails on both sides, differently: {el} in {}, {} in {}", s.left_name, r.error.as_deref().unwrap_or(""), s.right_name))
                        .why("the query is broken on both sides; the two errors differ, so the environments differ too")
                        .hint("fix the query, then compare again")
                }
            }
            _ => return,
        };
        f.message.push_str(&weight_note(weight));
        f.weight = weight;
        if f.id.ends_with(":shape") {
            f.plans = pair();
        }
        found.push(f);
    });
    out.extend(found);
}

/// On the side that chose one plan, the re-plan steered toward the other side's plan reached
/// the same shape at almost the same cost: a tie that ANALYZE's sampling can flip.
fn cost_tie(s: &Sides, l: &PlannedQuery, r: &PlannedQuery) -> Option<Cause> {
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
fn planner_settings_moved(s: &Sides, found: &[Finding]) -> Vec<String> {
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
                super::settings::class(name, &x.category) == super::settings::Class::Planner
            })
        })
        .map(|f| f.id.clone())
        .collect()
}

/// Plan features a major version introduced: a plan of the newer side that uses one the older
/// side's version lacks is planner-version evidence.
const FEATURES: &[(&str, i32, &str)] = &[
    ("Incremental Sort", 13, "incremental sorts"),
    ("Memoize", 14, "Memoize nodes"),
    ("Right Anti", 16, "right anti joins"),
    ("Right Semi", 18, "right semi joins"),
];

fn version_features(newer: &PlanNode, older_major: i32) -> Vec<String> {
    let shape = newer.shape();
    FEATURES
        .iter()
        .filter(|(pat, since, _)| older_major < *since && shape.contains(pat))
        .map(|(_, since, what)| format!("{what} exist since PostgreSQL {since}"))
        .collect()
}

/// Relations under both plans whose size or analysis differs: data and statistics causes.
fn data_causes(s: &Sides, a: &PlanNode, b: &PlanNode) -> Vec<Cause> {
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

/// Why two plans differ, where the evidence allows: the other side's settings make the shapes
/// converge; an index one plan uses is missing on the other side; the relations' sizes differ
/// by 10× or more; else, across major versions, the planner itself (with the plan features and
/// the planner settings the newer version brought).
fn causes(
    s: &Sides,
    l: &PlannedQuery,
    r: &PlannedQuery,
    a: &PlanNode,
    b: &PlanNode,
    moved: &[String],
) -> Vec<Cause> {
    let mut out = Vec::new();
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
    if out.is_empty() {
        let (lm, rm) = (s.left.major_version(), s.right.major_version());
        out.push(if lm != rm {
            let (newer, older) = if rm > lm { (b, lm) } else { (a, rm) };
            let mut evidence = vec![format!(
                "no setting, index or size difference explains it; PostgreSQL {lm} and {rm} plan differently"
            )];
            evidence.extend(version_features(newer, older));
            let mut links = vec!["version:server:version".to_string()];
            if !moved.is_empty() {
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
                evidence: "no setting, index or size difference explains it".into(),
                links: Vec::new(),
            }
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
