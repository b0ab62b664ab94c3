//! `pgparity rehearse`: an upgrade rehearsed without a production row. Two throwaway
//! clusters — the snapshot's major and the target major — get production's planner settings
//! and the same synthetic data (seed, same seed: the same bytes on both), then the snapshot's
//! recorded corpus is planned on both (the usual shape comparison, causes and cost-tie
//! re-plans) and every statement's result is compared between the majors on the identical
//! data (a read query's rows, hashed; a write's changed rows, in a transaction rolled back).
//! The clusters stop when the rehearsal ends, however it ends, unless `--keep` leaves them
//! running for inspection (the next rehearsal, or `--clean`, stops them).
//!
//! With `--execute N`, each statement also runs N times on each side, interleaved, under
//! `EXPLAIN (ANALYZE, BUFFERS)` (writes rolled back): a regression needs a ratio, a floor and
//! to hold across runs.
//!
//! On a new side of PostgreSQL 18 or later, the old side's planner statistics are copied into
//! it (`pg_restore_relation_stats`, `pg_restore_attribute_stats`), so both plan from the same
//! numbers; below 18 each side's ANALYZE stands and cost ties are told apart by re-plans.
//!
//! Not yet: restart-only settings other than shared_buffers and max_worker_processes (named,
//! not applied).

mod clusters;
mod executions;
mod results;
mod statistics;

use std::path::PathBuf;

use futures_util::StreamExt;
use tokio_postgres::Client;

use crate::capture::{CaptureOptions, Target};
use crate::cluster::{Cluster, ClusterOptions, Install};
use crate::compare::settings::{class, Class};
use crate::conninfo::ConnInfo;
use crate::error::{Error, Result};
use crate::explain::corpus::{Query, QueryKind};
use crate::finding::{Category, CauseKind, Finding, Severity};
use crate::progress::Progress;
use crate::report::Report;
use crate::run::{CompareRequest, Gate, Side};
use crate::seed::SeedOptions;
use crate::snapshot::Snapshot;

use clusters::*;
use executions::*;
use results::*;
use statistics::*;

/// The database the rehearsal seeds on both clusters.
const DATABASE: &str = "rehearsal";

/// What `rehearse` needs.
#[derive(Debug, Clone)]
pub struct RehearseRequest {
    pub snapshot: PathBuf,
    /// The old major (default: the snapshot's own).
    pub from_major: Option<u32>,
    pub to_major: u32,
    pub scale: f64,
    pub seed: u64,
    /// Queries to rehearse (empty: the snapshot's recorded corpus).
    pub corpus: Vec<Query>,
    /// Timed runs of each statement on each side (0: none).
    pub execute: usize,
    /// What makes a difference in time or buffers a regression (or an improvement).
    pub limits: Limits,
    /// Settings for the new major only (`enable_hashjoin=off`): a change tried with the upgrade.
    pub new_settings: Vec<(String, String)>,
    /// Leave both clusters running when the rehearsal ends (their addresses in the setup).
    pub keep: bool,
    pub gate: Gate,
}

pub use crate::compare::plan::executions::Limits;

/// A rehearsal: its report (plans, results, timings; what was set up in `report.setup`).
#[derive(Debug, Clone)]
pub struct Rehearsal {
    pub report: Report,
}

/// Production's planner settings: the ones `ALTER SYSTEM` sets on a running server, the
/// ones given at server start (capped to what this machine holds, each cap said), and the
/// ones not applied (named in the setup).
struct Planned {
    reload: Vec<(String, String)>,
    start: Vec<(String, String)>,
    notes: Vec<String>,
}

/// "1 statement", "2 statements".
fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// Rehearses the upgrade; the clusters are gone when it returns.
pub fn rehearse(req: &RehearseRequest, progress: &dyn Progress) -> Result<Rehearsal> {
    let (snap, from, corpus) = checked(req)?;
    // Clusters an earlier rehearsal kept, and folders of runs that were killed.
    let (kept_before, orphans) = crate::cluster::clean_leftovers(true);
    let planned = planner_settings(&snap);
    let (old_label, new_label) = (
        format!("PostgreSQL {from}"),
        format!("PostgreSQL {}", req.to_major),
    );
    let mut laps = Laps::default();
    let (old, new, notes) = start_both(
        req,
        from,
        &planned,
        &snap,
        progress,
        (&old_label, &new_label),
    )?;
    laps.lap("clusters");
    crate::pause::at("rehearse:clusters");
    let mut setup = setup_lines(req, from, &snap, &planned, notes);
    if kept_before + orphans > 0 {
        setup.push(format!(
            "stopped and removed {kept_before} clusters kept by an earlier rehearsal and {orphans} folders of interrupted runs"
        ));
    }
    let (old_t, new_t) = (target(&old_label, &old)?, target(&new_label, &new)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the async runtime: {e}")))?;
    let problems = seed_both(&runtime, req, &snap, (&old_t, &new_t), progress, &mut setup)?;
    laps.lap("seeding");
    setup.push(runtime.block_on(statistics(
        req,
        (&old_t, &new_t),
        (&old_label, &new_label),
        progress,
    ))?);
    laps.lap("statistics");
    // Plans: the check of old against new, the corpus replayed on both.
    let compare = CompareRequest {
        left: Side::Live(old_t.clone()),
        right: Side::Live(new_t.clone()),
        left_name: Some(old_label.clone()),
        right_name: Some(new_label.clone()),
        capture: CaptureOptions::default(),
        profile: None,
        corpus: corpus.clone(),
        plan: Default::default(),
        relationships: Vec::new(),
        gate: req.gate.clone(),
    };
    let (l, r) = crate::run::load_sides(&compare, progress)?;
    laps.lap("plans");
    let mut sides = crate::compare::Sides::new(&l, &r);
    sides.thresholds = req.gate.thresholds.clone();
    let mut findings = crate::compare::compare_sides(&sides);
    noise_as_notes(&mut findings);
    // Results on identical data.
    progress.start(
        "results",
        &format!("running {} statements on both", corpus.len()),
    );
    let (runnable, skipped) = runnable(&corpus);
    let names = (old_label.as_str(), new_label.as_str());
    let (changed, both_fail) =
        runtime.block_on(compare_results(&old_t, &new_t, &runnable, names))?;
    progress.finish("results", "compared");
    laps.lap("results");
    let mut details = Vec::new();
    if req.execute > 0 {
        let timed = runtime.block_on(timed_runs(
            req,
            (&old_t, &new_t),
            &runnable,
            progress,
            &mut setup,
        ))?;
        let (found, charts) = timing_findings(&timed, &findings, &req.limits, names);
        findings.extend(found);
        details = charts;
        laps.lap("timed runs");
    }
    setup.push(laps.took());
    if !skipped.is_empty() {
        setup.push(format!(
            "results not compared for {} queries: {}",
            skipped.len(),
            skipped.join("; ")
        ));
    }
    if !both_fail.is_empty() {
        setup.push(format!(
            "fails on both sides, not compared: {}",
            both_fail.join("; ")
        ));
    }
    findings.extend(changed);
    crate::finding::sort(&mut findings);
    let mut report =
        crate::run::report_from(findings, &l, &r, ("rehearsal", "rehearsal"), &req.gate);
    report
        .problems
        .extend(problems.into_iter().map(|p| crate::report::SideProblem {
            side: "seed".into(),
            area: "seed".into(),
            message: p,
        }));
    report.setup = setup;
    report.details.extend(details);
    keep_or_stop(
        req,
        [(&old_label, old), (&new_label, new)],
        &mut report,
        progress,
    )?;
    Ok(Rehearsal { report })
}

/// The snapshot (with a profile), the old major (the snapshot's unless given) and the
/// corpus (the snapshot's recorded one unless given); majors outside 13–18 refused.
fn checked(req: &RehearseRequest) -> Result<(Snapshot, u32, Vec<Query>)> {
    let snap = Snapshot::read(&req.snapshot)?;
    let from = req
        .from_major
        .unwrap_or_else(|| snap.major_version().max(0) as u32);
    for m in [from, req.to_major] {
        if !(13..=18).contains(&m) {
            return Err(Error::Usage(format!(
                "PostgreSQL {m} cannot be rehearsed; hint: pgparity rehearses majors 13 to 18 (--from-major, --to)"
            )));
        }
    }
    if snap.profile.is_none() {
        return Err(Error::snapshot(
            &req.snapshot,
            "has no data profile to seed from; hint: take the snapshot without --no-profile",
        ));
    }
    let corpus = if req.corpus.is_empty() {
        crate::explain::replay::effective_corpus(&[], Some(&snap))
    } else {
        req.corpus.clone()
    };
    Ok((snap, from, corpus))
}

/// How long each step took, said in the setup.
struct Laps {
    clock: std::time::Instant,
    took: Vec<(&'static str, f64)>,
}

impl Default for Laps {
    fn default() -> Self {
        Laps {
            clock: std::time::Instant::now(),
            took: Vec::new(),
        }
    }
}

impl Laps {
    fn lap(&mut self, what: &'static str) {
        self.took.push((what, self.clock.elapsed().as_secs_f64()));
        self.clock = std::time::Instant::now();
    }

    fn took(&self) -> String {
        format!(
            "took {}",
            self.took
                .iter()
                .map(|(what, s)| format!("{what} {s:.1} s"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// Both clusters at once (initdb and start are mostly waiting), with production's planner
/// settings; the new one with `--set` too.
fn start_both(
    req: &RehearseRequest,
    from: u32,
    planned: &Planned,
    snap: &Snapshot,
    progress: &dyn Progress,
    (old_label, new_label): (&str, &str),
) -> Result<(Cluster, Cluster, Vec<String>)> {
    let settings = &planned.reload;
    let (old, new) = std::thread::scope(|s| {
        let old = s.spawn(|| {
            start_side(
                from,
                &planned.start,
                settings,
                &[],
                snap,
                progress,
                old_label,
            )
        });
        let new = start_side(
            req.to_major,
            &planned.start,
            settings,
            &req.new_settings,
            snap,
            progress,
            new_label,
        );
        let old = old
            .join()
            .unwrap_or_else(|_| Err(Error::Cluster("the cluster starter panicked".into())));
        (old, new)
    });
    let ((old, mut notes), (new, new_notes)) = (old?, new?);
    notes.extend(new_notes);
    Ok((old, new, notes))
}

/// The setup's first lines: the two majors, production's planner settings applied, the new
/// side's own, and the clusters' notes.
fn setup_lines(
    req: &RehearseRequest,
    from: u32,
    snap: &Snapshot,
    planned: &Planned,
    notes: Vec<String>,
) -> Vec<String> {
    let mut setup = vec![format!(
        "PostgreSQL {from} (the snapshot's {}) and PostgreSQL {} as throwaway clusters",
        snap.inventory.server_version, req.to_major
    )];
    setup.push(format!(
        "{} of production applied to both ({} at server start){}",
        count(
            planned.reload.len() + planned.start.len(),
            "planner setting"
        ),
        planned.start.len(),
        if planned.notes.is_empty() {
            String::new()
        } else {
            format!("; {}", planned.notes.join("; "))
        }
    ));
    if !req.new_settings.is_empty() {
        setup.push(format!(
            "on PostgreSQL {} only: {}",
            req.to_major,
            req.new_settings
                .iter()
                .map(|(n, v)| format!("{n} = {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    setup.extend(notes);
    setup
}

/// Both sides seeded at once from the snapshot, each with its own sessions: the same seed,
/// the same bytes. Returns what seed could not honour.
fn seed_both(
    runtime: &tokio::runtime::Runtime,
    req: &RehearseRequest,
    snap: &Snapshot,
    (old_t, new_t): (&Target, &Target),
    progress: &dyn Progress,
    setup: &mut Vec<String>,
) -> Result<Vec<String>> {
    let options = SeedOptions {
        scale: req.scale,
        seed: req.seed,
        create_schema: true,
        ..Default::default()
    };
    let (seeded_old, seeded_new) = runtime.block_on(async {
        tokio::join!(
            crate::seed::seed(snap, old_t, &options, progress),
            crate::seed::seed(snap, new_t, &options, progress)
        )
    });
    let (r, _) = (seeded_old?, seeded_new?);
    crate::pause::at("rehearse:seeded");
    setup.push(format!(
        "{} rows seeded into {} tables on each side (seed {}, scale {}), ANALYZE on each side",
        crate::finding::thousands(r.rows() as f64),
        r.tables.len(),
        req.seed,
        req.scale
    ));
    Ok(r.problems.into_iter().map(|p| p.message).collect())
}

/// Onto PostgreSQL 18 or later, the old side's statistics copied into the new one, so both
/// plan from the same statistics; else each side's own ANALYZE. The setup's line says which.
async fn statistics(
    req: &RehearseRequest,
    (old_t, new_t): (&Target, &Target),
    (old_label, new_label): (&str, &str),
    progress: &dyn Progress,
) -> Result<String> {
    if req.to_major < 18 {
        return Ok("statistics: each side's own ANALYZE of the same rows (copying statistics needs PostgreSQL 18 on the new side); plan differences that are cost ties (the other plan costs almost the same) are reported as noise".into());
    }
    progress.start(new_label, "copying the planner statistics");
    let (tables, columns) = copy_statistics(old_t, new_t).await?;
    progress.finish(new_label, "statistics copied");
    Ok(format!(
        "statistics: {old_label}'s ANALYZE copied into {new_label} with pg_restore_relation_stats and pg_restore_attribute_stats ({tables} relations, {columns} columns): both plan from the same statistics, so a plan difference is the planner's"
    ))
}

/// The versions differ by design, and so do the settings the new major adds or changes
/// (production's own were applied to both): notes, linked from plan causes. Identical rows on
/// both sides: a plan difference that is a cost tie is the two ANALYZE samples', not the
/// upgrade's.
fn noise_as_notes(findings: &mut [Finding]) {
    for f in findings {
        let noise = matches!(f.category, Category::Version | Category::Setting)
            || (f.category == Category::Plan
                && f.causes
                    .first()
                    .is_some_and(|c| c.kind == CauseKind::StatisticsNoise));
        if noise {
            f.severity = Severity::Info;
        }
    }
}

/// `--execute N`: each runnable statement timed N times on each side, interleaved.
async fn timed_runs<'q>(
    req: &RehearseRequest,
    (old_t, new_t): (&Target, &Target),
    runnable: &[Runnable<'q>],
    progress: &dyn Progress,
    setup: &mut Vec<String>,
) -> Result<Vec<Timed<'q>>> {
    progress.start(
        "executions",
        &format!(
            "{} timed runs of {} queries on each side",
            req.execute,
            runnable.len()
        ),
    );
    let timed = execute_all(old_t, new_t, runnable, req.execute, progress).await?;
    progress.finish("executions", "done");
    setup.push(format!(
        "{} run {} on each side, interleaved, with EXPLAIN (ANALYZE, BUFFERS), writes rolled back; a regression needs {}× the time or {}× the buffers, {} ms more, and no overlap between the runs",
        count(timed.len(), "statement"),
        count(req.execute, "time"),
        req.limits.time_ratio,
        req.limits.buffers_ratio,
        req.limits.floor_ms
    ));
    Ok(timed)
}

/// `--keep`: both clusters restarted detached and said how to reach; else stopped.
fn keep_or_stop(
    req: &RehearseRequest,
    clusters: [(&String, Cluster); 2],
    report: &mut crate::report::Report,
    progress: &dyn Progress,
) -> Result<()> {
    if !req.keep {
        progress.note("stopping the rehearsal clusters");
        for (_, c) in clusters {
            c.stop();
        }
        return Ok(());
    }
    for (label, cluster) in clusters {
        let kept = cluster.keep()?;
        let line = format!(
            "kept: {label} runs on port {}, connect with {} (until the next rehearsal or pgparity rehearse --clean)",
            kept.port,
            kept.psql(DATABASE)
        );
        progress.note(&line);
        report.setup.push(line);
    }
    Ok(())
}

/// A query's result on one side: rows and a hash (order-insensitive unless the query orders
/// its rows), or the server's error.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Rows { rows: u64, hash: u64 },
    Error(String),
}

/// A corpus statement as it runs: values substituted for `$n`; a write (or a statement
/// sqlparser could not read) runs in a transaction that is rolled back.
struct Runnable<'q> {
    query: &'q Query,
    sql: String,
    write: bool,
}

/// One timed run: execution time (ms), shared buffers (hit + read), temp blocks, the plan.
#[derive(Debug, Clone)]
struct Run {
    timing: crate::snapshot::plan::Timing,
    plan: crate::snapshot::plan::PlanNode,
}

/// A query's timed runs on both sides.
struct Timed<'q> {
    query: &'q Query,
    old: Vec<Run>,
    new: Vec<Run>,
}
