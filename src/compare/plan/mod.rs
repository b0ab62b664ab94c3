//! Planner parity: for each corpus query planned on both sides, equal fingerprints are the same
//! shape (then only row estimates are compared, as a q-error); otherwise the trees are aligned
//! by the set of relations under each node (not by child position) and the differences are
//! said in words: access path, index, join method and type, join inputs and order, aggregate
//! strategy, sorts, parallelism. Each divergence gets its causes (setting, schema, statistics,
//! data, planner-version, statistics-noise for a cost tie, unknown) and a severity by how
//! likely it hides a production problem. A query that plans on one side and fails on the
//! other ranks high; one that fails on both is reported once, as the author's problem.

use std::collections::{BTreeMap, BTreeSet};

mod causes;
mod differences;
pub mod executions;
mod shape;

use causes::*;
use differences::*;
use shape::*;

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
        let q = Query { path, l, r };
        let f = match (&l.plan, &r.plan, &l.error, &r.error) {
            (Some(a), Some(b), _, _) if l.fingerprint == r.fingerprint => estimates(s, &q, a, b),
            (Some(a), Some(b), _, _) => Some(other_shape(s, &q, a, b, &moved)),
            (Some(_), None, _, Some(err)) | (None, Some(_), Some(err), _) => {
                Some(fails_on_one_side(s, &q, err))
            }
            (None, None, Some(el), Some(_)) => Some(fails_on_both(s, &q, el)),
            _ => None,
        };
        let Some(mut f) = f else { return };
        let weight = l.weight.or(r.weight);
        f.message.push_str(&weight_note(weight));
        f.weight = weight;
        if f.id.ends_with(":shape") {
            f.plans = Some(Box::new(PlanPair {
                left: l.plan.clone(),
                right: r.plan.clone(),
            }));
        }
        found.push(f);
    });
    let mut timed = Vec::new();
    executions::compare(s, &found, &mut timed);
    out.extend(found);
    out.extend(timed);
}

/// One corpus query as both sides planned it.
struct Query<'a> {
    path: &'a str,
    l: &'a PlannedQuery,
    r: &'a PlannedQuery,
}

impl Query<'_> {
    fn finding(&self, severity: Severity, aspect: &str) -> Finding {
        Finding::new(Category::Plan, severity, query_object(self.path), aspect)
    }
}

/// Same shape: only the row estimates can tell the data apart (a finding when they are 10×
/// apart or more).
fn estimates(s: &Sides, q: &Query, a: &PlanNode, b: &PlanNode) -> Option<Finding> {
    let (qe, node, x, y) = qerror(&shape(a), &shape(b))?;
    if qe < QERROR_NOTE {
        return None;
    }
    let severity = if qe >= QERROR_HIGH {
        Severity::High
    } else {
        Severity::Medium
    };
    let mut f = q.finding(severity, "estimates");
    f.causes = data_causes(s, a, b);
    let rows = |n: f64| format!("{} rows", crate::finding::thousands(n));
    Some(f.values(Some(rows(x)), Some(rows(y)))
        .message(format!(
            "{} plans the same shape, but the planner's row estimates differ {qe:.0}× ({} in {} vs {} in {} for {node})",
            q.path, crate::finding::thousands(x), s.left_name, crate::finding::thousands(y), s.right_name
        ))
        .why("the planner sees different data: the same plan meets very different row counts, and a small change tips it to another plan in one environment only")
        .hint("compare the volume and statistics findings of the relations involved; seed staging at production's scale"))
}

/// Another shape: the differences in words (partition pruning included), their causes, and
/// a severity by how likely the difference hides a production problem.
fn other_shape(s: &Sides, q: &Query, a: &PlanNode, b: &PlanNode, moved: &[String]) -> Finding {
    let mut d = differences(a, b, &s.left_name, &s.right_name);
    pruning(s, a, b, &mut d);
    let tie = cost_tie(s, q.l, q.r);
    let tied = tie.is_some();
    let mut causes = causes(s, q.l, q.r, a, b, moved);
    let qe = d.qerror.as_ref().filter(|x| x.0 >= QERROR_NOTE);
    // The plans follow ANALYZE's sample: as unstable as a cost tie.
    let sampled = causes
        .first()
        .is_some_and(|c| c.kind == CauseKind::StatisticsNoise);
    let severity = shape_severity(s, &d, tied || sampled, &causes, qe);
    if let Some(t) = tie {
        if severity == Severity::Low {
            causes.retain(|c| c.kind != CauseKind::PlannerVersion && c.kind != CauseKind::Unknown);
            // Where the estimates show why the costs flip, that comes first.
            causes.insert(usize::from(sampled), t);
        }
    }
    let mut words = d.words.join("; ");
    if let Some((qe, node, x, y)) = qe {
        words.push_str(&format!(
            "; row estimates differ {qe:.0}× for {node} ({} vs {})",
            crate::finding::thousands(*x),
            crate::finding::thousands(*y)
        ));
    }
    let unstable = severity == Severity::Low
        && causes
            .first()
            .is_some_and(|c| c.kind == CauseKind::StatisticsNoise);
    let path = q.path;
    let mut f = q.finding(severity, SHAPE);
    f.causes = causes;
    f.values(Some(summary(a, q.l)), Some(summary(b, q.r)))
        .message(if unstable && sampled {
            let tie = if tied { ", and the two plans cost almost the same" } else { "" };
            format!("{path} plans differently, following the statistics sample: another ANALYZE may flip it, on either side{tie} ({words})")
        } else if unstable {
            format!("{path} plans differently, but the two plans cost the same within {:.0} %: an unstable choice, not a regression ({words})", TIE_MARGIN * 100.0)
        } else {
            format!("{path} plans differently: {words}")
        })
        .why(if unstable {
            "two plans of almost equal cost: which one wins flips with ANALYZE's sample, in any environment"
        } else {
            "a query planned one way where it is tested runs another way where it matters: its speed and locking in staging predict nothing"
        })
        .hint(if sampled {
            "raise the statistics target of the columns the query filters on (ALTER TABLE ... ALTER COLUMN ... SET STATISTICS), or create extended statistics on them, so ANALYZE measures them finely enough to plan alike"
        } else {
            "compare the two plans (the JSON report holds both); check the settings, indexes and statistics findings linked in the causes"
        })
}

/// Partitions pruned differently are said as such (not as "plan shape differs").
fn pruning(s: &Sides, a: &PlanNode, b: &PlanNode, d: &mut Differences) {
    let (pa, pb) = (partitions(a, s.left), partitions(b, s.right));
    if pa == pb {
        return;
    }
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

/// Low for a cost tie not explained by a setting and for another index alone; high for a
/// sequential scan of a large relation in production, a large nested loop's outer side, or
/// estimates 100× apart; medium otherwise.
fn shape_severity(
    s: &Sides,
    d: &Differences,
    tie: bool,
    causes: &[Cause],
    qe: Option<&(f64, String, f64, f64)>,
) -> Severity {
    let large_seq_scan = d.seq_on_right.iter().any(|rel| {
        s.right
            .statistics
            .tables
            .get(rel)
            .is_some_and(|t| t.reltuples >= LARGE_RELATION)
    });
    if tie && !causes.iter().any(|c| c.kind == CauseKind::Setting) {
        Severity::Low
    } else if large_seq_scan
        || d.nestloop_outer_right >= LARGE_OUTER
        || qe.is_some_and(|x| x.0 >= QERROR_HIGH)
    {
        Severity::High
    } else if d.only_index_choice {
        Severity::Low
    } else {
        Severity::Medium
    }
}

/// Plans on one side, fails on the other: a missing migration.
fn fails_on_one_side(s: &Sides, q: &Query, err: &str) -> Finding {
    let fails_left = q.l.plan.is_none();
    let plans = |p: &PlannedQuery| p.error.clone().unwrap_or_else(|| "plans".into());
    q.finding(Severity::High, "error")
        .values(Some(plans(q.l)), Some(plans(q.r)))
        .message(format!(
            "{} plans in {} but fails in {}: {err}",
            q.path,
            s.name(!fails_left),
            s.name(fails_left)
        ))
        .why("a missing table, column or function makes the query fail on one side only")
        .hint(format!(
            "apply the missing migration to {}",
            s.name(fails_left)
        ))
}

/// Fails on both sides: the query's author's problem, said once.
fn fails_on_both(s: &Sides, q: &Query, el: &str) -> Finding {
    let path = q.path;
    let f = q
        .finding(Severity::Info, "error")
        .values(Some(el.to_string()), q.r.error.clone());
    if q.l.error == q.r.error {
        f.message(format!("{path} fails on both sides: {el}"))
            .why("the query itself is broken, not the environments")
            .hint("fix the query or remove it from the corpus")
    } else {
        f.message(format!(
            "{path} fails on both sides, differently: {el} in {}, {} in {}",
            s.left_name,
            q.r.error.as_deref().unwrap_or(""),
            s.right_name
        ))
        .why("the query is broken on both sides; the two errors differ, so the environments differ too")
        .hint("fix the query, then compare again")
    }
}

fn summary(n: &PlanNode, q: &PlannedQuery) -> String {
    let mut s = n.shape();
    if s.chars().count() > 300 {
        s = s.chars().take(297).collect::<String>() + "...";
    }
    format!("{s} ({} plan, cost {:.0})", q.method, n.cost)
}
