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
    /// Corpus queries to plan on both live sides.
    pub corpus: Vec<crate::corpus::Query>,
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
            let s = capture::capture(t, opts).await;
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
    snap.problems.extend(problems);
}

/// Plans the corpus on a live side (EXPLAIN only, read-only, rolled back).
async fn add_plans(
    side: &Side,
    snap: &mut Snapshot,
    corpus: &[crate::corpus::Query],
    opts: &CaptureOptions,
    progress: &dyn Progress,
) {
    let Side::Live(t) = side else { return };
    if corpus.is_empty() {
        return;
    }
    progress.start(&t.name, &format!("planning {} queries", corpus.len()));
    match capture::connect(t).await {
        Ok(client) => match capture::read_only_session(&client, &t.name, opts).await {
            Ok(()) => {
                snap.plans =
                    Some(crate::plan::explain_all(&client, corpus, snap.major_version()).await);
            }
            Err(e) => snap.problems.push(crate::snapshot::Problem {
                area: "plans".into(),
                message: e.to_string(),
            }),
        },
        Err(e) => snap.problems.push(crate::snapshot::Problem {
            area: "plans".into(),
            message: e.to_string(),
        }),
    }
    progress.finish(&t.name, "planned");
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

/// For queries whose shapes differ, re-plans on the left with the right side's planner
/// settings: if the shape converges, the settings are the cause.
async fn add_counterfactuals(
    left: &Side,
    l: &mut Snapshot,
    r: &Snapshot,
    corpus: &[crate::corpus::Query],
    opts: &CaptureOptions,
) {
    let (Side::Live(t), Some(lp), Some(rp)) = (left, l.plans.as_ref(), r.plans.as_ref()) else {
        return;
    };
    let sets = planner_differences(l, r);
    if sets.is_empty() {
        return;
    }
    let divergent: Vec<&crate::corpus::Query> = corpus
        .iter()
        .filter(|q| match (lp.get(&q.path), rp.get(&q.path)) {
            (Some(a), Some(b)) => {
                a.fingerprint.is_some() && b.fingerprint.is_some() && a.fingerprint != b.fingerprint
            }
            _ => false,
        })
        .collect();
    if divergent.is_empty() {
        return;
    }
    let Ok(client) = capture::connect(t).await else {
        return;
    };
    if capture::read_only_session(&client, &t.name, opts)
        .await
        .is_err()
    {
        return;
    }
    let major = l.major_version();
    let settings: Vec<String> = sets.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    let mut results = Vec::new();
    for q in divergent {
        let re = crate::plan::explain_with(&client, q, major, &sets).await;
        results.push((q.path.clone(), re.fingerprint));
    }
    if let Some(plans) = l.plans.as_mut() {
        for (path, fingerprint) in results {
            if let Some(p) = plans.get_mut(&path) {
                p.counterfactual = Some(crate::plan::Counterfactual {
                    settings: settings.clone(),
                    fingerprint,
                });
            }
        }
    }
}

/// Captures one live environment, with its data profile unless `profile` is `None`.
pub fn snapshot(
    target: &Target,
    opts: &CaptureOptions,
    profile: Option<&ProfileOptions>,
    relationships: &[RelSpec],
    progress: &dyn Progress,
) -> Result<Snapshot> {
    runtime()?.block_on(async {
        let side = Side::Live(target.clone());
        let mut snap = load(&side, opts, progress).await?;
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
                tokio::join!(
                    add_plans(&req.left, &mut l, &req.corpus, &req.capture, progress),
                    add_plans(&req.right, &mut r, &req.corpus, &req.capture, progress)
                );
                add_counterfactuals(&req.left, &mut l, &r, &req.corpus, &req.capture).await;
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
    Report {
        left: SideInfo::of(&sides.left_name, left, left_source),
        right: SideInfo::of(&sides.right_name, right, right_source),
        fail_on,
        findings,
        problems,
        unused_acceptances,
    }
}

/// `baseline`: today's differences as a policy file's text.
pub fn baseline(req: &CompareRequest, progress: &dyn Progress) -> Result<(String, Vec<Finding>)> {
    let (l, r) = load_sides(req, progress)?;
    let findings = compare::compare(&l, &r);
    Ok((policy::baseline(&findings, req.today), findings))
}
