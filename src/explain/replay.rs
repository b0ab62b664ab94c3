//! A corpus replayed on live sides: planned on each, then the queries whose shapes differ
//! re-planned — steered toward the other side's plan (a cost tie shows as the same shape at
//! almost the same cost) and, on the left, with the right side's planner settings (if the
//! shape converges, the settings are the cause), on the newer major with the planner features
//! it added turned off, and on a side of PostgreSQL 18+ with the other side's planner
//! statistics restored (rolled back). A side that is a snapshot file (`None` here) keeps the
//! plans it recorded.

use crate::capture::{CaptureOptions, Target};
use crate::error::Result;
use crate::progress::Progress;
use crate::snapshot::plan::{Counterfactual, PlanNode};
use crate::snapshot::Snapshot;

use super::corpus::Query;
use super::PlanOptions;

/// Plans the corpus on a live side (EXPLAIN only, read-only, rolled back) into its snapshot.
pub async fn add_plans(
    target: Option<&Target>,
    snap: &mut Snapshot,
    corpus: &[Query],
    popts: &PlanOptions,
    copts: &CaptureOptions,
    progress: &dyn Progress,
) -> Result<()> {
    let Some(t) = target else { return Ok(()) };
    if corpus.is_empty() {
        return Ok(());
    }
    progress.start(&t.name, &format!("planning {} queries", corpus.len()));
    let (plans, problems) =
        super::explain_all(t, corpus, snap.major_version(), popts, copts, progress).await?;
    progress.finish(&t.name, &format!("planned {} queries", plans.len()));
    if !plans.is_empty() {
        snap.plans = Some(plans);
    }
    snap.problems.extend(problems);
    Ok(())
}

/// The right side's values of the planner settings that differ: what a counterfactual re-plan
/// on the left applies.
fn planner_differences(l: &Snapshot, r: &Snapshot) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, rs) in &r.inventory.settings {
        let Some(ls) = l.inventory.settings.get(name) else {
            continue;
        };
        if crate::compare::settings::is_ignored(name)
            || crate::compare::settings::class(name, &rs.category)
                != crate::compare::settings::Class::Planner
            || ls.value == rs.value
            || !matches!(rs.context.as_str(), "user" | "superuser")
        {
            continue;
        }
        out.push((name.clone(), rs.value.clone()));
    }
    out
}

/// On the newer major of a pair, what turns off the planner features it added: each boolean
/// planner setting only the newer side has (`enable_group_by_reordering`) set off, and each
/// planner setting whose built-in default moved set to the older side's default. Empty when
/// the majors are the same.
fn features_off(newer: &Snapshot, older: &Snapshot) -> Vec<(String, String)> {
    if newer.major_version() <= older.major_version() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (name, ns) in &newer.inventory.settings {
        if crate::compare::settings::is_ignored(name)
            || crate::compare::settings::class(name, &ns.category)
                != crate::compare::settings::Class::Planner
            || !matches!(ns.context.as_str(), "user" | "superuser")
        {
            continue;
        }
        match older.inventory.settings.get(name) {
            None if ns.vartype == "bool" && name.starts_with("enable_") => {
                out.push((name.clone(), "off".to_string()))
            }
            Some(os) if os.boot_val.is_some() && os.boot_val != ns.boot_val => {
                out.push((name.clone(), os.boot_val.clone().unwrap_or_default()))
            }
            _ => {}
        }
    }
    out
}

/// Queries planned on both sides with different shapes.
fn divergent<'q>(
    corpus: &'q [Query],
    l: &Snapshot,
    r: &Snapshot,
) -> Vec<(&'q Query, PlanNode, PlanNode)> {
    let (Some(lp), Some(rp)) = (l.plans.as_ref(), r.plans.as_ref()) else {
        return Vec::new();
    };
    corpus
        .iter()
        .filter_map(|q| match (lp.get(&q.path), rp.get(&q.path)) {
            (Some(a), Some(b)) if a.fingerprint != b.fingerprint => {
                Some((q, a.plan.clone()?, b.plan.clone()?))
            }
            _ => None,
        })
        .collect()
}

/// The side whose re-plan with the other side's statistics is the statistics'
/// counterfactual: a live side of PostgreSQL 18 or later (`pg_restore_*_stats`) not marked
/// protected, the other side live too (its statistics are read from it, never from a file);
/// the newer of two majors (same statistics, different shape: the planner's doing), else the
/// left. `Some(true)` is the left.
fn transplant_into(
    sides: (Option<&Target>, Option<&Target>),
    majors: (i32, i32),
    plan: &PlanOptions,
) -> Option<bool> {
    let (Some(l), Some(r)) = sides else {
        return None;
    };
    let can = |t: &Target, major: i32| plan.transplant && major >= 18 && !t.protected;
    match (can(l, majors.0), can(r, majors.1)) {
        (true, true) => Some(majors.0 >= majors.1),
        (true, false) => Some(true),
        (false, true) => Some(false),
        (false, false) => None,
    }
}

/// The statements that restore `source`'s statistics of every relation a divergent query
/// plans over; a source that cannot be read gives none (no statistics counterfactual).
async fn statistics_of(
    source: &Target,
    divergent: &[(&Query, PlanNode, PlanNode)],
    capture: &CaptureOptions,
    plan: &PlanOptions,
) -> std::result::Result<Vec<String>, String> {
    let relations: Vec<String> = divergent
        .iter()
        .flat_map(|(_, a, b)| a.relations().into_iter().chain(b.relations()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let session = super::open_session(source, capture, plan.timeout)
        .await
        .map_err(|e| e.to_string())?;
    session
        .transaction(|c| super::transplant::statements(c, Some(&relations)))
        .await
        .map_err(|e| crate::capture::db_message(&e))
}

/// Re-plans the queries whose shapes differ on each live side (see the module's doc) and
/// records the re-plans beside the plans.
pub async fn add_counterfactuals(
    sides: (Option<&Target>, Option<&Target>),
    snaps: (&mut Snapshot, &mut Snapshot),
    corpus: &[Query],
    capture: &CaptureOptions,
    plan: &PlanOptions,
) -> Result<()> {
    let (l, r) = snaps;
    let divergent = divergent(corpus, l, r);
    if divergent.is_empty() {
        return Ok(());
    }
    let sets = planner_differences(l, r);
    let (lm, rm) = (l.major_version(), r.major_version());
    let (off_l, off_r) = (features_off(l, r), features_off(r, l));
    // The statistics' counterfactual: one side re-planned with the other's statistics.
    let into = transplant_into(sides, (lm, rm), plan);
    let restore = match (into, sides) {
        (Some(left), (Some(lt), Some(rt))) => {
            let source = if left { rt } else { lt };
            Some((
                left,
                statistics_of(source, &divergent, capture, plan).await,
                source.name.clone(),
            ))
        }
        _ => None,
    };
    let replans = |target: Option<&Target>, major: i32, left: bool| {
        let divergent = &divergent;
        let sets = &sets;
        let off = if left { &off_l } else { &off_r };
        let restore = restore.as_ref().filter(|(into, _, _)| *into == left);
        let target = target.cloned();
        async move {
            let mut out = Vec::new();
            let Some(t) = target else { return Ok(out) };
            let Ok(client) = super::open_session(&t, capture, plan.timeout).await else {
                return Ok(out);
            };
            let lost =
                |super::pool::Lost(m)| crate::capture::lost_error(&t.name, "re-planning", &m);
            for (q, a, b) in divergent {
                let (mine, theirs) = if left { (a, b) } else { (b, a) };
                let steer = super::steering(mine, theirs);
                let steered = if steer.is_empty() {
                    None
                } else {
                    Some(
                        super::replan(&client, q, major, &steer)
                            .await
                            .map_err(lost)?,
                    )
                };
                let cf = if left && !sets.is_empty() {
                    Some(super::replan(&client, q, major, sets).await.map_err(lost)?)
                } else {
                    None
                };
                let unfeatured = if off.is_empty() {
                    None
                } else {
                    Some(super::replan(&client, q, major, off).await.map_err(lost)?)
                };
                let what = |source: &str| format!("{source}'s planner statistics");
                let transplanted = match restore {
                    Some((_, Ok(statements), source)) if !statements.is_empty() => Some(
                        super::pool::replan_restored(&client, q, major, statements, what(source))
                            .await
                            .map_err(lost)?,
                    ),
                    Some((_, Err(e), source)) => Some(Counterfactual {
                        settings: vec![what(source)],
                        fingerprint: None,
                        cost: None,
                        error: Some(format!("{source}'s statistics could not be read: {e}")),
                    }),
                    _ => None,
                };
                out.push((q.path.clone(), steered, cf, unfeatured, transplanted));
            }
            Ok::<_, crate::error::Error>(out)
        }
    };
    let (lres, rres) = tokio::join!(replans(sides.0, lm, true), replans(sides.1, rm, false));
    let (lres, rres) = (lres?, rres?);
    for (snap, res) in [(l, lres), (r, rres)] {
        if let Some(plans) = snap.plans.as_mut() {
            for (path, steered, cf, unfeatured, transplanted) in res {
                if let Some(p) = plans.get_mut(&path) {
                    p.steered = steered;
                    p.counterfactual = cf;
                    p.unfeatured = unfeatured;
                    p.transplanted = transplanted;
                }
            }
        }
    }
    Ok(())
}

/// The corpus for live sides: the one given, or else the one a snapshot side recorded (so an
/// upgrade check replays a production snapshot's workload on a candidate server).
pub fn effective_corpus(given: &[Query], recorded: Option<&Snapshot>) -> Vec<Query> {
    if !given.is_empty() {
        return given.to_vec();
    }
    recorded
        .and_then(|s| s.plans.as_ref())
        .map(|plans| {
            plans
                .iter()
                .filter(|(_, p)| !p.sql.is_empty())
                .map(|(path, p)| p.to_query(path))
                .collect()
        })
        .unwrap_or_default()
}
