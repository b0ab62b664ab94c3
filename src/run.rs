//! The library's entry points, one per command, taking resolved requests (never raw flags):
//! capture a snapshot, compare two sides (live or snapshot files) into a report, write a
//! baseline policy. The binary's `cli` module builds the requests.

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::capture::{self, CaptureOptions, Target};
use crate::compare::thresholds::ThresholdSet;
use crate::compare::{self, Sides};
use crate::error::{Error, Result};
use crate::explain::replay::{add_counterfactuals, add_plans, effective_corpus};
use crate::explain::PlanOptions;
use crate::finding::{Finding, Severity};
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
    /// The environment, when the side is live.
    pub fn live(&self) -> Option<&Target> {
        match self {
            Side::Live(t) => Some(t),
            Side::File(_) => None,
        }
    }

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
    pub corpus: Vec<crate::explain::corpus::Query>,
    /// How the corpus is planned.
    pub plan: PlanOptions,
    /// Relationships to profile besides the declared foreign keys (configured ones).
    pub relationships: Vec<RelSpec>,
    /// Policy, thresholds, failing level and date: what makes the differences a verdict.
    pub gate: Gate,
}

/// What turns two snapshots' differences into a verdict: the accepted differences, the data
/// comparers' thresholds, the level at which an open finding fails, and the day that decides
/// which acceptances have expired (the caller's clock; nothing here reads one).
#[derive(Debug, Clone)]
pub struct Gate {
    pub policy: Vec<Acceptance>,
    pub thresholds: ThresholdSet,
    pub fail_on: Severity,
    pub today: NaiveDate,
}

impl Gate {
    /// No policy, default thresholds, failing at low, on `today`.
    pub fn new(today: NaiveDate) -> Gate {
        Gate {
            policy: Vec::new(),
            thresholds: ThresholdSet::default(),
            fail_on: Severity::Low,
            today,
        }
    }
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the async runtime: {e}")))
}

pub(crate) async fn load(
    side: &Side,
    opts: &CaptureOptions,
    progress: &dyn Progress,
) -> Result<Snapshot> {
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
pub(crate) async fn add_profile(
    side: &Side,
    snap: &mut Snapshot,
    extra: &[RelSpec],
    popts: &ProfileOptions,
    copts: &CaptureOptions,
    progress: &dyn Progress,
) -> Result<()> {
    let Side::Live(t) = side else { return Ok(()) };
    progress.start(&t.name, "profiling data");
    let (profile, problems) = crate::profile::profile(t, snap, extra, popts, copts, progress)
        .await
        .inspect_err(|_| progress.finish(&t.name, "failed"))?;
    progress.finish(
        &t.name,
        &format!("profiled {} tables", profile.tables.len()),
    );
    snap.profile = Some(profile);
    snap.pack();
    snap.problems.extend(problems);
    Ok(())
}

/// The top `top` statements of `target`'s pg_stat_statements as a weighted corpus.
pub fn corpus_from_stats(
    target: &Target,
    top: usize,
    opts: &CaptureOptions,
) -> Result<(
    Vec<crate::explain::corpus::Query>,
    Vec<crate::snapshot::Problem>,
)> {
    runtime()?.block_on(crate::explain::workload::from_stats(target, top, opts))
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
    corpus: &[crate::explain::corpus::Query],
    plan: &PlanOptions,
    progress: &dyn Progress,
) -> Result<Snapshot> {
    runtime()?.block_on(async {
        let side = Side::Live(target.clone());
        let mut snap = load(&side, opts, progress).await?;
        add_plans(Some(target), &mut snap, corpus, plan, opts, progress).await?;
        if let Some(p) = profile {
            add_profile(&side, &mut snap, relationships, p, opts, progress).await?;
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
                let (lt, rt) = (req.left.live(), req.right.live());
                let (a, b) = tokio::join!(
                    add_plans(lt, &mut l, &corpus, &req.plan, &req.capture, progress),
                    add_plans(rt, &mut r, &corpus, &req.plan, &req.capture, progress)
                );
                a?;
                b?;
                add_counterfactuals((lt, rt), (&mut l, &mut r), &corpus, &req.capture, &req.plan)
                    .await?;
                if let (true, Some(lt), Some(rt)) = (req.plan.analyze, lt, rt) {
                    crate::explain::timed::interleaved(
                        (lt, rt),
                        (&mut l, &mut r),
                        req.plan.runs,
                        progress,
                    )
                    .await?;
                }
                if let Some(p) = &req.profile {
                    let mut extra_l = RelSpec::declared(&r);
                    extra_l.extend(req.relationships.iter().cloned());
                    let mut extra_r = RelSpec::declared(&l);
                    extra_r.extend(req.relationships.iter().cloned());
                    let (a, b) = tokio::join!(
                        add_profile(&req.left, &mut l, &extra_l, p, &req.capture, progress),
                        add_profile(&req.right, &mut r, &extra_r, p, &req.capture, progress)
                    );
                    a?;
                    b?;
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
    check_with_sides(req, progress).map(|(report, _, _)| report)
}

/// `check`, also returning both sides' snapshots (a history keeps their figures).
pub fn check_with_sides(
    req: &CompareRequest,
    progress: &dyn Progress,
) -> Result<(Report, Snapshot, Snapshot)> {
    let (l, r) = load_sides(req, progress)?;
    let report = build_report(&l, &r, (&req.left.source(), &req.right.source()), &req.gate);
    Ok((report, l, r))
}

/// The pure part of `check`: compare two snapshots and apply the gate; `sources` say where
/// each side came from (`live`, a file name).
pub fn build_report(
    left: &Snapshot,
    right: &Snapshot,
    sources: (&str, &str),
    gate: &Gate,
) -> Report {
    let mut sides = Sides::new(left, right);
    sides.thresholds = gate.thresholds.clone();
    report_from(compare::compare_sides(&sides), left, right, sources, gate)
}

/// A report of `findings` (ranked by [`crate::finding::sort`]) between two snapshots, through
/// the gate: what `build_report` does after comparing, for callers that add findings of their
/// own (a rehearsal's changed results).
pub fn report_from(
    findings: Vec<Finding>,
    left: &Snapshot,
    right: &Snapshot,
    sources: (&str, &str),
    gate: &Gate,
) -> Report {
    let (left_source, right_source) = sources;
    let sides = Sides::new(left, right);
    let (findings, unused_acceptances) =
        policy::apply(findings, &gate.policy, gate.today, &sides.left_name);
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
            volumes.push((t.clone(), lp.tables.rows(t), rp.tables.rows(t)));
        }
    }
    Report {
        left: SideInfo::of(&sides.left_name, left, left_source),
        right: SideInfo::of(&sides.right_name, right, right_source),
        fail_on: gate.fail_on,
        findings,
        problems,
        unused_acceptances,
        details,
        volumes,
        history: None,
        setup: Vec::new(),
    }
}

/// `baseline`: today's differences as a policy file's text.
pub fn baseline(req: &CompareRequest, progress: &dyn Progress) -> Result<(String, Vec<Finding>)> {
    let (l, r) = load_sides(req, progress)?;
    let findings = compare::compare(&l, &r);
    Ok((policy::baseline(&findings, req.gate.today), findings))
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

/// `seed`: fill the target, then (with `verify`) profile it and compare it with the snapshot.
pub fn seed(
    req: &SeedRequest,
    progress: &dyn Progress,
) -> Result<(
    crate::seed::SeedReport,
    Option<crate::seed::verify::Verification>,
)> {
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
        gate: Gate {
            thresholds: req.thresholds.clone(),
            ..Gate::new(chrono::Utc::now().date_naive())
        },
    };
    let (target, source) = load_sides(&compare_req, progress)?;
    let scaled = req.options.scale != 1.0 || !req.options.rows.is_empty();
    let mut sides = Sides::new(&target, &source);
    sides.thresholds = req.thresholds.clone();
    let all = compare::compare_sides(&sides);
    Ok((
        report,
        Some(crate::seed::verify::summarize(
            &target, &source, &all, scaled,
        )),
    ))
}
