//! The library's entry points, one per command, taking resolved requests (never raw flags):
//! capture a snapshot, compare two sides (live or snapshot files) into a report, write a
//! baseline policy. The binary's `cli` module builds the requests.

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::capture::{self, CaptureOptions, Target};
use crate::compare::thresholds::ThresholdSet;
use crate::compare::{self, Sides};
use crate::error::{Error, Result};
use crate::finding::{Finding, Severity};
use crate::plan::PlanOptions;
use crate::policy::{self, Acceptance};
use crate::profile::{ProfileOptions, RelSpec};
use crate::progress::Progress;
use crate::report::{Report, SideInfo, SideProblem};
use crate::snapshot::Snapshot;

/// One side of a comparison: a live environment or a snapshot file.
#[derive(Debug, Clone)]
pub enum Side {
    Live(Target),
    File(PathBuf),
}

impl Side {
    fn source(&self) -> String {
        match self {
            Side::Live(_) => "live".into(),
            Side::File(p) => p.display().to_string(),
        }
    }
}

/// What `check`, `diff` and `baseline` need.
#[derive(Debug, Clone)]
pub struct CompareRequest {
    pub left: Side,
    pub right: Side,
    /// Names for the report; default: the environment's or the snapshot's name.
    pub left_name: Option<String>,
    pub right_name: Option<String>,
    pub capture: CaptureOptions,
    /// Profile the data of live sides (`None`: `--no-profile`).
    pub profile: Option<ProfileOptions>,
    /// Corpus queries to plan on both live sides (empty: a snapshot side's recorded corpus).
    pub corpus: Vec<crate::corpus::Query>,
    /// How the corpus is planned.
    pub plan: PlanOptions,
    /// Relationships to profile besides the declared foreign keys (configured ones).
    pub relationships: Vec<RelSpec>,
    pub policy: Vec<Acceptance>,
    /// Data comparers' thresholds (defaults, or the config's).
    pub thresholds: ThresholdSet,
    pub fail_on: Severity,
    /// Decides which acceptances have expired.
    pub today: NaiveDate,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the async runtime: {e}")))
}

async fn load(side: &Side, opts: &CaptureOptions, progress: &dyn Progress) -> Result<Snapshot> {
    match side {
        Side::Live(t) => {
            progress.start(&t.name, "capturing");
            let s = capture::capture(t, opts).await.map(|mut s| {
                s.pack();
                s
            });
            progress.finish(&t.name, if s.is_ok() { "captured" } else { "failed" });
            s
        }
        Side::File(p) => Snapshot::read(p),
    }
}

/// Profiles a live side's data into its snapshot; `extra` adds relationships to measure.
async fn add_profile(
    side: &Side,
    snap: &mut Snapshot,
    extra: &[RelSpec],
    popts: &ProfileOptions,
    copts: &CaptureOptions,
    progress: &dyn Progress,
) {
    let Side::Live(t) = side else { return };
    progress.start(&t.name, "profiling data");
    let (profile, problems) = crate::profile::profile(t, snap, extra, popts, copts, progress).await;
    progress.finish(
        &t.name,
        &format!("profiled {} tables", profile.tables.len()),
    );
    snap.profile = Some(profile);
    snap.pack();
    snap.problems.extend(problems);
}

/// Plans the corpus on a live side (EXPLAIN only, read-only, rolled back).
async fn add_plans(
    side: &Side,
    snap: &mut Snapshot,
    corpus: &[crate::corpus::Query],
    popts: &PlanOptions,
    copts: &CaptureOptions,
    progress: &dyn Progress,
) {
    let Side::Live(t) = side else { return };
    if corpus.is_empty() {
        return;
    }
    progress.start(&t.name, &format!("planning {} queries", corpus.len()));
    let (plans, problems) =
        crate::plan::explain_all(t, corpus, snap.major_version(), popts, copts, progress).await;
    progress.finish(&t.name, &format!("planned {} queries", plans.len()));
    if !plans.is_empty() {
        snap.plans = Some(plans);
    }
    snap.problems.extend(problems);
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

/// Queries planned on both sides with different shapes.
fn divergent<'q>(
    corpus: &'q [crate::corpus::Query],
    l: &Snapshot,
    r: &Snapshot,
) -> Vec<(
    &'q crate::corpus::Query,
    crate::plan::PlanNode,
    crate::plan::PlanNode,
)> {
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

/// Re-plans the queries whose shapes differ, on each live side: steered toward the other
/// side's plan (a cost tie shows as the same shape at almost the same cost), and on the left
/// with the right side's planner settings (if the shape converges, the settings are the cause).
async fn add_counterfactuals(
    req: &CompareRequest,
    l: &mut Snapshot,
    r: &mut Snapshot,
    corpus: &[crate::corpus::Query],
) {
    let divergent = divergent(corpus, l, r);
    if divergent.is_empty() {
        return;
    }
    let sets = planner_differences(l, r);
    let (lm, rm) = (l.major_version(), r.major_version());
    let replans = |side: &Side, major: i32, left: bool| {
        let divergent = &divergent;
        let sets = &sets;
        let side = side.clone();
        async move {
            let mut out = Vec::new();
            let Side::Live(t) = side else { return out };
            let Ok(client) = crate::plan::open_session(&t, &req.capture, req.plan.timeout).await
            else {
                return out;
            };
            for (q, a, b) in divergent {
                let (mine, theirs) = if left { (a, b) } else { (b, a) };
                let steer = crate::plan::steering(mine, theirs);
                let steered = if steer.is_empty() {
                    None
                } else {
                    Some(crate::plan::replan(&client, q, major, &steer).await)
                };
                let cf = if left && !sets.is_empty() {
                    Some(crate::plan::replan(&client, q, major, sets).await)
                } else {
                    None
                };
                out.push((q.path.clone(), steered, cf));
            }
            out
        }
    };
    let (lres, rres) = tokio::join!(replans(&req.left, lm, true), replans(&req.right, rm, false));
    for (snap, res) in [(l, lres), (r, rres)] {
        if let Some(plans) = snap.plans.as_mut() {
            for (path, steered, cf) in res {
                if let Some(p) = plans.get_mut(&path) {
                    p.steered = steered;
                    p.counterfactual = cf;
                }
            }
        }
    }
}

/// The corpus for live sides: the request's, or else the one a snapshot side recorded (so an
/// upgrade check replays a production snapshot's workload on a candidate server).
fn effective_corpus(
    given: &[crate::corpus::Query],
    recorded: Option<&Snapshot>,
) -> Vec<crate::corpus::Query> {
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

/// The top `top` statements of `target`'s pg_stat_statements as a weighted corpus.
pub fn corpus_from_stats(
    target: &Target,
    top: usize,
    opts: &CaptureOptions,
) -> Result<(Vec<crate::corpus::Query>, Vec<crate::snapshot::Problem>)> {
    runtime()?.block_on(crate::workload::from_stats(target, top, opts))
}

/// Captures one live environment, with its data profile unless `profile` is `None`.
pub fn snapshot(
    target: &Target,
    opts: &CaptureOptions,
    profile: Option<&ProfileOptions>,
    relationships: &[RelSpec],
    progress: &dyn Progress,
) -> Result<Snapshot> {
    snapshot_planned(
        target,
        opts,
        profile,
        relationships,
        &[],
        &PlanOptions::default(),
        progress,
    )
}

/// Captures one live environment with its profile and the plans of `corpus`, which the
/// snapshot records (SQL, weights and plans) so a later check can replay it elsewhere.
pub fn snapshot_planned(
    target: &Target,
    opts: &CaptureOptions,
    profile: Option<&ProfileOptions>,
    relationships: &[RelSpec],
    corpus: &[crate::corpus::Query],
    plan: &PlanOptions,
    progress: &dyn Progress,
) -> Result<Snapshot> {
    runtime()?.block_on(async {
        let side = Side::Live(target.clone());
        let mut snap = load(&side, opts, progress).await?;
        add_plans(&side, &mut snap, corpus, plan, opts, progress).await;
        if let Some(p) = profile {
            add_profile(&side, &mut snap, relationships, p, opts, progress).await;
        }
        Ok(snap)
    })
}

/// Loads both sides (captured concurrently when live), then profiles live sides; each side
/// measures the foreign keys declared on either side.
pub fn load_sides(req: &CompareRequest, progress: &dyn Progress) -> Result<(Snapshot, Snapshot)> {
    let (mut l, mut r) = match (&req.left, &req.right) {
        (Side::File(a), Side::File(b)) => Snapshot::read_pair(a, b)?,
        _ => {
            let rt = runtime()?;
            rt.block_on(async {
                let (l, r) = tokio::join!(
                    load(&req.left, &req.capture, progress),
                    load(&req.right, &req.capture, progress)
                );
                let (mut l, mut r) = (l?, r?);
                let recorded = match (&req.left, &req.right) {
                    (Side::File(_), _) => Some(&l),
                    (_, Side::File(_)) => Some(&r),
                    _ => None,
                };
                let corpus = effective_corpus(&req.corpus, recorded);
                tokio::join!(
                    add_plans(
                        &req.left,
                        &mut l,
                        &corpus,
                        &req.plan,
                        &req.capture,
                        progress
                    ),
                    add_plans(
                        &req.right,
                        &mut r,
                        &corpus,
                        &req.plan,
                        &req.capture,
                        progress
                    )
                );
                add_counterfactuals(req, &mut l, &mut r, &corpus).await;
                if let Some(p) = &req.profile {
                    let mut extra_l = RelSpec::declared(&r);
                    extra_l.extend(req.relationships.iter().cloned());
                    let mut extra_r = RelSpec::declared(&l);
                    extra_r.extend(req.relationships.iter().cloned());
                    tokio::join!(
                        add_profile(&req.left, &mut l, &extra_l, p, &req.capture, progress),
                        add_profile(&req.right, &mut r, &extra_r, p, &req.capture, progress)
                    );
                }
                Ok::<_, Error>((l, r))
            })?
        }
    };
    if let Some(n) = &req.left_name {
        l.meta.environment = n.clone();
    }
    if let Some(n) = &req.right_name {
        r.meta.environment = n.clone();
    }
    Ok((l, r))
}

/// `check` / `diff`: both sides, compared, with the policy applied.
pub fn check(req: &CompareRequest, progress: &dyn Progress) -> Result<Report> {
    let (l, r) = load_sides(req, progress)?;
    Ok(build_report(
        &l,
        &r,
        &req.left.source(),
        &req.right.source(),
        &req.policy,
        &req.thresholds,
        req.fail_on,
        req.today,
    ))
}

/// The pure part of `check`: compare two snapshots and apply the policy.
#[expect(
    clippy::too_many_arguments,
    reason = "to become a request type when the CLI leaves the library (issue 12, item 3)"
)]
pub fn build_report(
    left: &Snapshot,
    right: &Snapshot,
    left_source: &str,
    right_source: &str,
    policy: &[Acceptance],
    thresholds: &ThresholdSet,
    fail_on: Severity,
    today: NaiveDate,
) -> Report {
    let mut sides = Sides::new(left, right);
    sides.thresholds = thresholds.clone();
    let findings = compare::compare_sides(&sides);
    let (findings, unused_acceptances) = policy::apply(findings, policy, today);
    let mut problems = Vec::new();
    for (snap, name) in [(left, &sides.left_name), (right, &sides.right_name)] {
        for p in &snap.problems {
            problems.push(SideProblem {
                side: name.clone(),
                area: p.area.clone(),
                message: p.message.clone(),
            });
        }
    }
    let details = findings
        .iter()
        .filter_map(|e| {
            crate::report::Detail::of(&e.finding, left, right).map(|d| (e.finding.id.clone(), d))
        })
        .collect();
    let mut volumes: Vec<(String, Option<f64>, Option<f64>)> = Vec::new();
    if let (Some(lp), Some(rp)) = (left.profile.as_ref(), right.profile.as_ref()) {
        let names: std::collections::BTreeSet<&String> =
            lp.tables.keys().chain(rp.tables.keys()).collect();
        for t in names {
            volumes.push((
                t.clone(),
                lp.tables.get(t).map(|x| x.rows),
                rp.tables.get(t).map(|x| x.rows),
            ));
        }
    }
    Report {
        left: SideInfo::of(&sides.left_name, left, left_source),
        right: SideInfo::of(&sides.right_name, right, right_source),
        fail_on,
        findings,
        problems,
        unused_acceptances,
        details,
        volumes,
        history: None,
    }
}

/// `baseline`: today's differences as a policy file's text.
pub fn baseline(req: &CompareRequest, progress: &dyn Progress) -> Result<(String, Vec<Finding>)> {
    let (l, r) = load_sides(req, progress)?;
    let findings = compare::compare(&l, &r);
    Ok((policy::baseline(&findings, req.today), findings))
}

/// What `seed` needs: the production snapshot, the target, how, and whether to verify.
#[derive(Debug, Clone)]
pub struct SeedRequest {
    pub snapshot: PathBuf,
    pub target: Target,
    pub options: crate::seed::SeedOptions,
    pub verify: bool,
    pub capture: CaptureOptions,
    pub profile: ProfileOptions,
    pub thresholds: ThresholdSet,
}

/// The closed loop: the seeded target profiled and compared with the snapshot.
#[derive(Debug, Clone)]
pub struct Verification {
    /// Data findings (volume left out when a scale or row counts were asked for).
    pub findings: Vec<Finding>,
    /// Corpus queries (the snapshot's recorded ones) planned with the same shape, of those
    /// planned on both.
    pub plans_same: usize,
    /// Planned differently, but a cost tie: not a regression.
    pub plans_tied: usize,
    pub plans_total: usize,
    pub plans_divergent: Vec<String>,
    /// The planner's view (pg_stats) of every foreign-key column, in the snapshot and in the
    /// seeded target: parameterized lookups on a foreign key plan from these.
    pub fk_stats: Vec<FkStats>,
}

/// pg_stats of one foreign-key column on both sides.
#[derive(Debug, Clone, PartialEq)]
pub struct FkStats {
    /// `public.orders.customer_id`.
    pub column: String,
    /// (distinct values per row, NULL share, most common value's share), as pg_stats says.
    pub source: Option<(f64, f64, Option<f64>)>,
    pub target: Option<(f64, f64, Option<f64>)>,
    /// Far enough apart to plan differently: distinct per row 2× apart, or NULL or most
    /// common shares 0.1 apart (and half of the larger).
    pub differs: bool,
}

impl FkStats {
    pub fn describe(&self) -> String {
        let side = |x: &Option<(f64, f64, Option<f64>)>| match x {
            Some((d, n, t)) => format!(
                "{:.3} distinct per row, {:.1} % NULL, most common {}",
                d,
                n * 100.0,
                t.map(|t| format!("{:.1} %", t * 100.0))
                    .unwrap_or_else(|| "none".into())
            ),
            None => "no statistics".into(),
        };
        format!(
            "{}: {} in the snapshot; {} seeded{}",
            self.column,
            side(&self.source),
            side(&self.target),
            if self.differs { " (differs)" } else { "" }
        )
    }
}

/// The pg_stats comparison for every foreign-key column of the snapshot.
fn fk_stats(source: &Snapshot, target: &Snapshot) -> Vec<FkStats> {
    let view = |snap: &Snapshot, table: &str, col: &str| {
        let st = snap.statistics.columns.get(table)?.get(col)?;
        let rows = snap
            .statistics
            .tables
            .get(table)
            .map(|t| t.reltuples.max(1.0))
            .unwrap_or(1.0);
        let per_row = if st.n_distinct < 0.0 {
            -st.n_distinct
        } else {
            (st.n_distinct / rows).min(1.0)
        };
        Some((per_row, st.null_frac, st.top_freq))
    };
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for c in source.schema.constraints.values() {
        if c.kind != crate::snapshot::ConstraintKind::ForeignKey {
            continue;
        }
        for col in &c.columns {
            let column = format!("{}.{}", c.table, crate::sql::ident(col));
            if !seen.insert(column.clone()) {
                continue;
            }
            let (a, b) = (view(source, &c.table, col), view(target, &c.table, col));
            let far = |x: f64, y: f64| (x - y).abs() > 0.1 && (x - y).abs() > 0.5 * x.max(y);
            let differs = match (&a, &b) {
                (Some((d1, n1, t1)), Some((d2, n2, t2))) => {
                    d1.max(*d2) > 2.0 * d1.min(*d2).max(1e-9)
                        || far(*n1, *n2)
                        || far(t1.unwrap_or(0.0), t2.unwrap_or(0.0))
                }
                (Some(_), None) => true,
                _ => false,
            };
            out.push(FkStats {
                column,
                source: a,
                target: b,
                differs,
            });
        }
    }
    out
}

/// `seed`: fill the target, then (with `verify`) profile it and compare it with the snapshot.
pub fn seed(
    req: &SeedRequest,
    progress: &dyn Progress,
) -> Result<(crate::seed::SeedReport, Option<Verification>)> {
    let source = Snapshot::read(&req.snapshot)?;
    let rt = runtime()?;
    let report = rt.block_on(crate::seed::seed(
        &source,
        &req.target,
        &req.options,
        progress,
    ))?;
    if !req.verify {
        return Ok((report, None));
    }
    // Hashes of synthetic values never match production's: profile with a fresh key so the
    // comparison weighs categories by their frequencies, unless raw values were captured.
    let mut popts = req.profile.clone();
    if !source.profile.as_ref().is_some_and(|p| p.raw_values) {
        popts.hash_key = Some(format!(
            "seed-verify-{}",
            std::process::id() as u64 ^ req.options.seed
        ));
    }
    // The target against the snapshot, replaying the snapshot's corpus on the target.
    let compare_req = CompareRequest {
        left: Side::Live(req.target.clone()),
        right: Side::File(req.snapshot.clone()),
        left_name: Some(req.target.name.clone()),
        right_name: None,
        capture: req.capture.clone(),
        profile: Some(popts),
        corpus: Vec::new(),
        plan: PlanOptions::default(),
        relationships: Vec::new(),
        policy: Vec::new(),
        thresholds: req.thresholds.clone(),
        fail_on: Severity::Low,
        today: chrono::Utc::now().date_naive(),
    };
    let (target, source) = load_sides(&compare_req, progress)?;
    let scaled = req.options.scale != 1.0 || !req.options.rows.is_empty();
    let mut sides = Sides::new(&target, &source);
    sides.thresholds = req.thresholds.clone();
    use crate::finding::Category as C;
    let all = compare::compare_sides(&sides);
    let findings: Vec<Finding> = all
        .iter()
        .filter(|f| {
            f.severity != Severity::Info
                && (matches!(
                    f.category,
                    C::Nulls | C::Distinct | C::Distribution | C::Encoding | C::Relationship
                ) || (f.category == C::Volume && !scaled))
        })
        .cloned()
        .collect();
    // Plans: the same shape, or a cost tie (the target steered toward the snapshot's plan
    // reaches it at almost the same cost).
    let (mut same, mut tied, mut total, mut divergent) = (0, 0, 0, Vec::new());
    if let (Some(a), Some(b)) = (target.plans.as_ref(), source.plans.as_ref()) {
        for (path, p) in a {
            let Some(q) = b.get(path) else { continue };
            if p.fingerprint.is_none() || q.fingerprint.is_none() {
                continue;
            }
            total += 1;
            if p.fingerprint == q.fingerprint {
                same += 1;
                continue;
            }
            let id = format!("plan:query:{path}:shape");
            let tie = all.iter().any(|f| {
                f.id == id
                    && f.causes
                        .first()
                        .is_some_and(|c| c.kind == crate::finding::CauseKind::StatisticsNoise)
            });
            if tie {
                tied += 1;
            } else {
                divergent.push(path.clone());
            }
        }
    }
    Ok((
        report,
        Some(Verification {
            findings,
            plans_same: same,
            plans_tied: tied,
            plans_total: total,
            plans_divergent: divergent,
            fk_stats: fk_stats(&source, &target),
        }),
    ))
}
