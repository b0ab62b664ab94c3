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

use std::path::PathBuf;
use tokio_postgres::types::Type;

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

/// A regression needs a ratio (time or buffers) and an absolute floor, and must hold across
/// runs (the slower side's fastest run slower than the other side's slowest).
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    pub time_ratio: f64,
    pub buffers_ratio: f64,
    /// Milliseconds.
    pub floor_ms: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            time_ratio: 1.5,
            buffers_ratio: 2.0,
            floor_ms: 5.0,
        }
    }
}

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

/// Server-start settings a rehearsal applies, with the most this machine is asked to hold:
/// shared_buffers (8 kB pages) a quarter of its memory, worker slots 64.
fn start_cap(name: &str) -> Option<f64> {
    match name {
        "shared_buffers" => {
            let kb = std::fs::read_to_string("/proc/meminfo")
                .ok()
                .and_then(|m| {
                    m.lines()
                        .find(|l| l.starts_with("MemTotal:"))
                        .and_then(|l| l.split_whitespace().nth(1))
                        .and_then(|v| v.parse::<f64>().ok())
                })
                .unwrap_or(4.0 * 1024.0 * 1024.0);
            Some((kb / 4.0 / 8.0).floor())
        }
        "max_worker_processes" => Some(64.0),
        _ => None,
    }
}

fn planner_settings(snap: &Snapshot) -> Planned {
    let mut p = Planned {
        reload: Vec::new(),
        start: Vec::new(),
        notes: Vec::new(),
    };
    for (name, s) in &snap.inventory.settings {
        if class(name, &s.category) != Class::Planner
            || matches!(s.source.as_str(), "default" | "override")
        {
            continue;
        }
        if s.context == "postmaster" || s.context == "internal" {
            match (start_cap(name), s.value.parse::<f64>()) {
                (Some(cap), Ok(v)) if v > cap => {
                    p.notes.push(format!(
                        "{name} capped from {} to {cap} (this machine's limit for a rehearsal)",
                        s.value
                    ));
                    p.start.push((name.clone(), cap.to_string()));
                }
                (Some(_), Ok(_)) => p.start.push((name.clone(), s.value.clone())),
                _ => p.notes.push(format!(
                    "{name} = {} not applied (needs a restart)",
                    s.value
                )),
            }
        } else {
            p.reload.push((name.clone(), s.value.clone()));
        }
    }
    p
}

/// One side of the rehearsal: a cluster of `major` with production's settings and an empty
/// database; returns the notes of what did not apply.
fn start_side(
    major: u32,
    start: &[(String, String)],
    settings: &[(String, String)],
    only_here: &[(String, String)],
    snap: &Snapshot,
    progress: &dyn Progress,
    label: &str,
) -> Result<(Cluster, Vec<String>)> {
    let install = Install::find(major)?;
    progress.start(label, &format!("starting PostgreSQL {major}"));
    let mut options = ClusterOptions::default();
    options.settings.extend(start.iter().cloned());
    let cluster = Cluster::start(&install, &options)?;
    let mut notes = Vec::new();
    for (name, value) in settings.iter().chain(only_here) {
        let sql = format!(
            "ALTER SYSTEM SET {} = {}",
            crate::sql::ident(name),
            crate::sql::literal(value)
        );
        if let Err(e) = cluster.execute("postgres", &sql) {
            notes.push(format!("{name} not set on PostgreSQL {major}: {e}"));
        }
    }
    cluster.execute("postgres", "SELECT pg_reload_conf()")?;
    notes.extend(create_database(&cluster, &snap.inventory.database, major)?);
    progress.finish(label, "ready");
    Ok((cluster, notes))
}

/// Creates the rehearsal's database in production's encoding, locale and locale provider
/// (ICU from PostgreSQL 15, builtin from 17) where this machine and this major have them,
/// falling back a step at a time (the provider with a C.UTF-8 libc locale, then C.UTF-8
/// alone); returns what could not be matched.
fn create_database(
    cluster: &Cluster,
    db: &crate::snapshot::DatabaseLocale,
    major: u32,
) -> Result<Vec<String>> {
    use crate::sql::literal;
    let provider = match (db.locale_provider.as_str(), db.locale.as_deref()) {
        ("icu", Some(l)) if major >= 15 => {
            Some(format!(" LOCALE_PROVIDER icu ICU_LOCALE {}", literal(l)))
        }
        ("builtin", Some(l)) if major >= 17 => Some(format!(
            " LOCALE_PROVIDER builtin BUILTIN_LOCALE {}",
            literal(l)
        )),
        _ => None,
    };
    let create = |libc: &str, provider: Option<&str>| {
        format!(
            "CREATE DATABASE {DATABASE} TEMPLATE template0 {libc}{}",
            provider.unwrap_or("")
        )
    };
    let production = format!(
        "ENCODING {} LC_COLLATE {} LC_CTYPE {}",
        literal(&db.encoding),
        literal(&db.collate),
        literal(&db.ctype)
    );
    let fallback = "ENCODING 'UTF8' LOCALE 'C.UTF-8'";
    let wanted = match (&provider, db.locale.as_deref()) {
        (Some(_), Some(l)) => format!(
            "{} {l} with {} {}",
            db.locale_provider, db.collate, db.encoding
        ),
        _ => format!("{} {} ({})", db.encoding, db.collate, db.locale_provider),
    };
    let mut notes = Vec::new();
    if db.locale_provider != "libc" && provider.is_none() {
        notes.push(format!(
            "PostgreSQL {major} has no {} locale provider for a database: libc's is used, so text sorts by libc's rules on this side",
            db.locale_provider
        ));
    }
    let attempts = [
        (!db.encoding.is_empty()).then(|| create(&production, provider.as_deref())),
        provider.as_ref().map(|p| create(fallback, Some(p))),
    ];
    for (i, sql) in attempts.iter().enumerate() {
        if let Some(sql) = sql {
            if cluster.execute("postgres", sql).is_ok() {
                if i > 0 {
                    notes.push(format!(
                        "the database is UTF8 with libc locale C.UTF-8 and the {} locale on PostgreSQL {major}: this machine cannot create {wanted}",
                        db.locale_provider
                    ));
                }
                return Ok(notes);
            }
        }
    }
    cluster.execute("postgres", &create(fallback, None))?;
    notes.push(format!(
        "the database is UTF8 with locale C.UTF-8 on PostgreSQL {major}: this machine cannot create {wanted}"
    ));
    Ok(notes)
}

/// "1 statement", "2 statements".
fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn target(name: &str, cluster: &Cluster) -> Result<Target> {
    Ok(Target {
        name: name.into(),
        conninfo: ConnInfo::parse(&cluster.conninfo(DATABASE)).map_err(|m| Error::env(name, m))?,
        protected: false,
    })
}

/// Rehearses the upgrade; the clusters are gone when it returns.
pub fn rehearse(req: &RehearseRequest, progress: &dyn Progress) -> Result<Rehearsal> {
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
    // Clusters an earlier rehearsal kept, and folders of runs that were killed.
    let (kept_before, orphans) = crate::cluster::clean_leftovers(true);
    let planned = planner_settings(&snap);
    let settings = &planned.reload;
    let (old_label, new_label) = (
        format!("PostgreSQL {from}"),
        format!("PostgreSQL {}", req.to_major),
    );
    let mut took: Vec<(&str, f64)> = Vec::new();
    let mut clock = std::time::Instant::now();
    let mut lap = |took: &mut Vec<(&'static str, f64)>, what: &'static str| {
        took.push((what, clock.elapsed().as_secs_f64()));
        clock = std::time::Instant::now();
    };
    // Both clusters at once: initdb and start are mostly waiting.
    let (old, new) = std::thread::scope(|s| {
        let old = s.spawn(|| {
            start_side(
                from,
                &planned.start,
                settings,
                &[],
                &snap,
                progress,
                &old_label,
            )
        });
        let new = start_side(
            req.to_major,
            &planned.start,
            settings,
            &req.new_settings,
            &snap,
            progress,
            &new_label,
        );
        let old = old
            .join()
            .unwrap_or_else(|_| Err(Error::Cluster("the cluster starter panicked".into())));
        (old, new)
    });
    let ((old, mut notes), (new, new_notes)) = (old?, new?);
    notes.extend(new_notes);
    lap(&mut took, "clusters");
    crate::pause::at("rehearse:clusters");
    let mut setup = vec![format!(
        "PostgreSQL {from} (the snapshot's {}) and PostgreSQL {} as throwaway clusters",
        snap.inventory.server_version, req.to_major
    )];
    setup.push(format!(
        "{} of production applied to both ({} at server start){}",
        count(settings.len() + planned.start.len(), "planner setting"),
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
    if kept_before + orphans > 0 {
        setup.push(format!(
            "stopped and removed {kept_before} clusters kept by an earlier rehearsal and {orphans} folders of interrupted runs"
        ));
    }
    let (old_t, new_t) = (target(&old_label, &old)?, target(&new_label, &new)?);
    let options = SeedOptions {
        scale: req.scale,
        seed: req.seed,
        create_schema: true,
        ..Default::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the async runtime: {e}")))?;
    // Both sides seeded at once, each with its own sessions: the same seed, the same bytes.
    let (seeded_old, seeded_new) = runtime.block_on(async {
        tokio::join!(
            crate::seed::seed(&snap, &old_t, &options, progress),
            crate::seed::seed(&snap, &new_t, &options, progress)
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
    let problems: Vec<String> = r.problems.into_iter().map(|p| p.message).collect();
    lap(&mut took, "seeding");
    if req.to_major >= 18 {
        progress.start(&new_label, "copying the planner statistics");
        let (tables, columns) = runtime.block_on(copy_statistics(&old_t, &new_t))?;
        progress.finish(&new_label, "statistics copied");
        setup.push(format!(
            "statistics: {old_label}'s ANALYZE copied into {new_label} with pg_restore_relation_stats and pg_restore_attribute_stats ({tables} relations, {columns} columns): both plan from the same statistics, so a plan difference is the planner's"
        ));
    } else {
        setup.push(
            "statistics: each side's own ANALYZE of the same rows (copying statistics needs PostgreSQL 18 on the new side); plan differences that are cost ties (the other plan costs almost the same) are reported as noise".into(),
        );
    }
    lap(&mut took, "statistics");
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
    lap(&mut took, "plans");
    let mut sides = crate::compare::Sides::new(&l, &r);
    sides.thresholds = req.gate.thresholds.clone();
    let mut findings = crate::compare::compare_sides(&sides);
    for f in &mut findings {
        // The versions differ by design, and so do the settings the new major adds or
        // changes (production's own were applied to both): notes, linked from plan causes.
        // Identical rows on both sides: a plan difference that is a cost tie is the two
        // ANALYZE samples', not the upgrade's.
        let noise = matches!(f.category, Category::Version | Category::Setting)
            || (f.category == Category::Plan
                && f.causes
                    .first()
                    .is_some_and(|c| c.kind == CauseKind::StatisticsNoise));
        if noise {
            f.severity = Severity::Info;
        }
    }
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
    lap(&mut took, "results");
    let mut details = Vec::new();
    if req.execute > 0 {
        progress.start(
            "executions",
            &format!(
                "{} timed runs of {} queries on each side",
                req.execute,
                runnable.len()
            ),
        );
        let timed = runtime.block_on(execute_all(
            &old_t,
            &new_t,
            &runnable,
            req.execute,
            progress,
        ))?;
        progress.finish("executions", "done");
        setup.push(format!(
            "{} run {} on each side, interleaved, with EXPLAIN (ANALYZE, BUFFERS), writes rolled back; a regression needs {}× the time or {}× the buffers, {} ms more, and no overlap between the runs",
            count(timed.len(), "statement"),
            count(req.execute, "time"),
            req.limits.time_ratio,
            req.limits.buffers_ratio,
            req.limits.floor_ms
        ));
        let (found, charts) = timing_findings(&timed, &findings, &req.limits, names);
        findings.extend(found);
        details = charts;
        lap(&mut took, "timed runs");
    }
    setup.push(format!(
        "took {}",
        took.iter()
            .map(|(what, s)| format!("{what} {s:.1} s"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
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
    for p in problems {
        report.problems.push(crate::report::SideProblem {
            side: "seed".into(),
            area: "seed".into(),
            message: p,
        });
    }
    report.setup = setup;
    report.details.extend(details);
    if req.keep {
        for (label, cluster) in [(&old_label, old), (&new_label, new)] {
            let kept = cluster.keep()?;
            let line = format!(
                "kept: {label} runs on port {}, connect with {} (until the next rehearsal or pgparity rehearse --clean)",
                kept.port,
                kept.psql(DATABASE)
            );
            progress.note(&line);
            report.setup.push(line);
        }
    } else {
        progress.note("stopping the rehearsal clusters");
        old.stop();
        new.stop();
    }
    Ok(Rehearsal { report })
}

/// Copies the old side's planner statistics into the new side (PostgreSQL 18's
/// `pg_restore_relation_stats` and `pg_restore_attribute_stats`, what pg_dump --statistics
/// emits): relation sizes, then every column's pg_stats. Returns (relations, columns) copied.
async fn copy_statistics(old: &Target, new: &Target) -> Result<(usize, usize)> {
    let (a, b) = (
        crate::capture::connect(old).await?,
        crate::capture::connect(new).await?,
    );
    fn db(env: &str) -> impl Fn(tokio_postgres::Error) -> Error + '_ {
        move |e| Error::database(env, crate::capture::db_message(&e), &e)
    }
    let relations = a
        .query_typed(
            "SELECT n.nspname::text, c.relname::text, c.relpages::int4, c.reltuples::float4, c.relallvisible::int4 \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p', 'm', 'i') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
             AND n.nspname NOT LIKE 'pg\\_toast%'",
            &[],
        )
        .await
        .map_err(db(&old.name))?;
    let mut copied = 0;
    for r in &relations {
        let get = |i| crate::capture::column::<String>(r, i).map_err(|m| Error::env(&old.name, m));
        let (schema, rel) = (get(0)?, get(1)?);
        let pages: i32 = crate::capture::column(r, 2).map_err(|m| Error::env(&old.name, m))?;
        let tuples: f32 = crate::capture::column(r, 3).map_err(|m| Error::env(&old.name, m))?;
        let visible: i32 = crate::capture::column(r, 4).map_err(|m| Error::env(&old.name, m))?;
        b.execute_typed(
            "SELECT pg_catalog.pg_restore_relation_stats('schemaname', $1::text, 'relname', $2::text, \
             'relpages', $3::int4, 'reltuples', $4::float4, 'relallvisible', $5::int4)",
            &[
                (&schema, Type::TEXT),
                (&rel, Type::TEXT),
                (&pages, Type::INT4),
                (&tuples, Type::FLOAT4),
                (&visible, Type::INT4),
            ],
        )
        .await
        .map_err(db(&new.name))?;
        copied += 1;
    }
    // pg_stats' arrays as text: the restore function reads them with the column's type.
    let columns = a
        .query_typed(
            "SELECT schemaname::text, tablename::text, attname::text, inherited, null_frac, avg_width, n_distinct, \
             most_common_vals::text, most_common_freqs::text, histogram_bounds::text, correlation, \
             most_common_elems::text, most_common_elem_freqs::text, elem_count_histogram::text \
             FROM pg_stats WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
            &[],
        )
        .await
        .map_err(db(&old.name))?;
    let mut attributes = 0;
    for r in &columns {
        let text = |i| -> Result<Option<String>> {
            crate::capture::column::<Option<String>>(r, i).map_err(|m| Error::env(&old.name, m))
        };
        let real = |i| -> Result<Option<f32>> {
            crate::capture::column::<Option<f32>>(r, i).map_err(|m| Error::env(&old.name, m))
        };
        let inherited: bool = crate::capture::column(r, 3).map_err(|m| Error::env(&old.name, m))?;
        let width: Option<i32> =
            crate::capture::column(r, 5).map_err(|m| Error::env(&old.name, m))?;
        let mut args = vec![
            format!(
                "'schemaname', {}::text",
                crate::sql::literal(&text(0)?.unwrap_or_default())
            ),
            format!(
                "'relname', {}::text",
                crate::sql::literal(&text(1)?.unwrap_or_default())
            ),
            format!(
                "'attname', {}::text",
                crate::sql::literal(&text(2)?.unwrap_or_default())
            ),
            format!("'inherited', {inherited}"),
        ];
        for (name, v) in [
            ("null_frac", real(4)?),
            ("n_distinct", real(6)?),
            ("correlation", real(10)?),
        ] {
            if let Some(v) = v {
                args.push(format!("'{name}', '{v}'::real"));
            }
        }
        if let Some(w) = width {
            args.push(format!("'avg_width', {w}::int4"));
        }
        for (name, i, cast) in [
            ("most_common_vals", 7, "text"),
            ("most_common_freqs", 8, "real[]"),
            ("histogram_bounds", 9, "text"),
            ("most_common_elems", 11, "text"),
            ("most_common_elem_freqs", 12, "real[]"),
            ("elem_count_histogram", 13, "real[]"),
        ] {
            if let Some(v) = text(i)? {
                args.push(format!("'{name}', {}::{cast}", crate::sql::literal(&v)));
            }
        }
        b.batch_execute(&format!(
            "SELECT pg_catalog.pg_restore_attribute_stats({})",
            args.join(", ")
        ))
        .await
        .map_err(db(&new.name))?;
        attributes += 1;
    }
    Ok((copied, attributes))
}

/// A query's result on one side: rows and a hash (order-insensitive unless the query orders
/// its rows), or the server's error.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Rows { rows: u64, hash: u64 },
    Error(String),
}

/// Whether the statement's outermost query has ORDER BY: then the order is part of the result.
fn ordered(sql: &str) -> bool {
    use sqlparser::ast::Statement;
    match sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::PostgreSqlDialect {}, sql) {
        Ok(s) => matches!(s.first(), Some(Statement::Query(q)) if q.order_by.is_some()),
        Err(_) => false,
    }
}

/// Runs a data-changing statement in a transaction that is rolled back: its outcome is the
/// number of rows it changed (or returned), or its error.
async fn write_outcome(client: &Client, sql: &str) -> Outcome {
    if let Err(e) = client
        .batch_execute("BEGIN; SET LOCAL statement_timeout = '60s'")
        .await
    {
        return Outcome::Error(crate::capture::db_message(&e));
    }
    let r = client.simple_query(sql).await;
    let _ = client.batch_execute("ROLLBACK").await;
    match r {
        Ok(messages) => Outcome::Rows {
            rows: messages
                .iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::CommandComplete(n) => Some(*n),
                    _ => None,
                })
                .sum(),
            hash: 0,
        },
        Err(e) => Outcome::Error(crate::capture::db_message(&e)),
    }
}

/// Runs a statement on one side: a read query as `COPY (...) TO STDOUT` in a read-only
/// transaction, hashing its rows as they stream (never held); a write rolled back.
async fn outcome(client: &Client, q: &Runnable<'_>) -> Outcome {
    if q.write {
        return write_outcome(client, &q.sql).await;
    }
    read_outcome(client, &q.sql, ordered(&q.sql)).await
}

async fn read_outcome(client: &Client, sql: &str, ordered: bool) -> Outcome {
    use std::hash::Hasher;
    if let Err(e) = client
        .batch_execute("BEGIN READ ONLY; SET LOCAL statement_timeout = '60s'")
        .await
    {
        return Outcome::Error(crate::capture::db_message(&e));
    }
    let copy = format!("COPY ({}) TO STDOUT", sql.trim().trim_end_matches(';'));
    let result = async {
        let stream = client.copy_out(copy.as_str()).await?;
        futures_util::pin_mut!(stream);
        let (mut rows, mut sum, mut seq) = (0u64, 0u64, siphasher::sip::SipHasher13::new());
        let mut pending = Vec::new();
        while let Some(chunk) = stream.next().await {
            pending.extend_from_slice(&chunk?);
            // Every whole line of the buffer, then the rest kept for the next chunk (one
            // shift per chunk, not per row).
            let mut start = 0;
            for end in memchr::memchr_iter(b'\n', &pending) {
                let line = &pending[start..end];
                let mut h = siphasher::sip::SipHasher13::new();
                h.write(line);
                sum = sum.wrapping_add(h.finish());
                seq.write(line);
                seq.write_u8(b'\n');
                rows += 1;
                start = end + 1;
            }
            pending.drain(..start);
        }
        Ok::<_, tokio_postgres::Error>(Outcome::Rows {
            rows,
            hash: if ordered { seq.finish() } else { sum },
        })
    }
    .await;
    let _ = client.batch_execute("ROLLBACK").await;
    result.unwrap_or_else(|e| Outcome::Error(crate::capture::db_message(&e)))
}

/// Every runnable statement run on both sides: a different result is critical, an error on
/// one side only is high.
async fn compare_results(
    old: &Target,
    new: &Target,
    queries: &[Runnable<'_>],
    names: (&str, &str),
) -> Result<(Vec<Finding>, Vec<String>)> {
    let (old_name, new_name) = names;
    let (a, b) = (
        crate::capture::connect(old).await?,
        crate::capture::connect(new).await?,
    );
    let (mut findings, mut both_fail) = (Vec::new(), Vec::new());
    for r in queries {
        let q = r.query;
        let (x, y) = tokio::join!(outcome(&a, r), outcome(&b, r));
        let object = format!("query:{}", q.path);
        let f = match (&x, &y) {
            (Outcome::Rows { .. }, Outcome::Rows { .. }) if x == y => continue,
            (Outcome::Error(e), Outcome::Error(_)) => {
                both_fail.push(format!("{} ({e})", q.path));
                continue;
            }
            (Outcome::Rows { rows: r1, .. }, Outcome::Rows { rows: r2, .. }) => {
                Finding::new(Category::Plan, Severity::Critical, object, "result")
                    .values(Some(describe(&x)), Some(describe(&y)))
                    .message(if r.write {
                        format!(
                            "{} changes {r2} rows on {new_name} and {r1} on {old_name} with the same data (rolled back on both)",
                            q.path
                        )
                    } else {
                        format!(
                            "{} returns a different result on {new_name} than on {old_name} with the same data ({r1} rows vs {r2}{})",
                            q.path,
                            if r1 == r2 { ", other values or order" } else { "" }
                        )
                    })
                    .why("the upgrade changes what the application reads: collation order, float or date output, jsonb or function behaviour")
                    .hint("compare the two results by hand on the rehearsal clusters, then fix the query or accept the change")
            }
            _ => {
                let new_fails = matches!(y, Outcome::Error(_));
                Finding::new(Category::Plan, Severity::High, object, "result-error")
                    .values(Some(describe(&x)), Some(describe(&y)))
                    .message(format!(
                        "{} fails on {} only: {}",
                        q.path,
                        if new_fails { new_name } else { old_name },
                        match (&x, &y) {
                            (_, Outcome::Error(e)) | (Outcome::Error(e), _) => e.as_str(),
                            _ => "",
                        }
                    ))
                    .why("a statement that runs on one major and fails on the other breaks the application at the upgrade")
                    .hint("rewrite the statement for the new major (removed functions, changed casts or reserved words)")
            }
        };
        findings.push(f);
    }
    Ok((findings, both_fail))
}

fn describe(o: &Outcome) -> String {
    match o {
        Outcome::Rows { rows, hash } => format!("{rows} rows, hash {hash:016x}"),
        Outcome::Error(e) => format!("error: {e}"),
    }
}

/// A corpus statement as it runs: values substituted for `$n`; a write (or a statement
/// sqlparser could not read) runs in a transaction that is rolled back.
struct Runnable<'q> {
    query: &'q Query,
    sql: String,
    write: bool,
}

/// The statements that can run as they are (values substituted for `$n` from their values
/// file), and the ones left out, with why.
fn runnable(corpus: &[Query]) -> (Vec<Runnable<'_>>, Vec<String>) {
    let (mut out, mut skipped) = (Vec::new(), Vec::new());
    for q in corpus {
        if q.params > 0 && q.values.len() != q.params {
            skipped.push(format!("{} (parameters without values)", q.path));
            continue;
        }
        // Values as literals in place of $n, highest first ($10 before $1).
        let mut sql = q.sql.clone();
        for (i, v) in q.values.iter().enumerate().rev() {
            sql = sql.replace(&format!("${}", i + 1), v);
        }
        out.push(Runnable {
            query: q,
            sql,
            write: q.kind != QueryKind::Read,
        });
    }
    (out, skipped)
}

/// One timed run: execution time (ms), shared buffers (hit + read), temp blocks, the plan.
#[derive(Debug, Clone)]
struct Run {
    ms: f64,
    buffers: f64,
    temp: f64,
    plan: crate::snapshot::plan::PlanNode,
}

/// A query's timed runs on both sides.
struct Timed<'q> {
    query: &'q Query,
    old: Vec<Run>,
    new: Vec<Run>,
}

/// One `EXPLAIN (ANALYZE, BUFFERS)` of a statement, in a transaction rolled back after it
/// (read-only for a read query).
async fn timed_run(client: &Client, q: &Runnable<'_>) -> std::result::Result<Run, String> {
    client
        .batch_execute(if q.write {
            "BEGIN; SET LOCAL statement_timeout = '120s'"
        } else {
            "BEGIN READ ONLY; SET LOCAL statement_timeout = '120s'"
        })
        .await
        .map_err(|e| crate::capture::db_message(&e))?;
    let explain = format!(
        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {}",
        q.sql.trim().trim_end_matches(';')
    );
    let r = client.simple_query(&explain).await;
    let _ = client.batch_execute("ROLLBACK").await;
    let text = r
        .map_err(|e| crate::capture::db_message(&e))?
        .into_iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(String::from),
            _ => None,
        })
        .ok_or("EXPLAIN returned nothing")?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let top = &v[0];
    let plan = &top["Plan"];
    let n = |k: &str| plan[k].as_f64().unwrap_or(0.0);
    Ok(Run {
        ms: top["Execution Time"].as_f64().unwrap_or(0.0),
        buffers: n("Shared Hit Blocks") + n("Shared Read Blocks"),
        temp: n("Temp Read Blocks") + n("Temp Written Blocks"),
        plan: crate::snapshot::plan::PlanNode::from_json(plan),
    })
}

/// `n` runs of every query on each side, interleaved (old, new, old, new...) so a noisy
/// moment of the machine falls on both; a query that fails is left out (its result finding
/// says why).
async fn execute_all<'q>(
    old: &Target,
    new: &Target,
    queries: &[Runnable<'q>],
    n: usize,
    progress: &dyn Progress,
) -> Result<Vec<Timed<'q>>> {
    let (a, b) = (
        crate::capture::connect(old).await?,
        crate::capture::connect(new).await?,
    );
    let mut out = Vec::new();
    'queries: for (i, q) in queries.iter().enumerate() {
        let mut t = Timed {
            query: q.query,
            old: Vec::new(),
            new: Vec::new(),
        };
        for _ in 0..n {
            // One after the other, never at once: a query's parallel workers would compete
            // with the other side's for the cores and time that instead of the plan.
            for (client, runs) in [(&a, &mut t.old), (&b, &mut t.new)] {
                match timed_run(client, q).await {
                    Ok(r) => runs.push(r),
                    Err(_) => continue 'queries,
                }
            }
        }
        out.push(t);
        progress.step("executions", i + 1, queries.len(), "queries timed");
    }
    Ok(out)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn spread(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(*x), hi.max(*x))
        })
}

/// Whether side `b` is worse than side `a`: a ratio of time or buffers, the floor in time,
/// and `b`'s fastest run slower than `a`'s slowest.
fn worse(a: &[Run], b: &[Run], limits: &Limits) -> bool {
    let times = |r: &[Run]| r.iter().map(|x| x.ms).collect::<Vec<_>>();
    let bufs = |r: &[Run]| median(r.iter().map(|x| x.buffers + x.temp).collect());
    let (ma, mb) = (median(times(a)), median(times(b)));
    let ((_, hi_a), (lo_b, _)) = (spread(&times(a)), spread(&times(b)));
    (mb >= limits.time_ratio * ma || bufs(b) >= limits.buffers_ratio * bufs(a).max(1.0))
        && mb - ma >= limits.floor_ms
        && lo_b > hi_a
}

/// Regressions (high) and improvements (info) from the timed runs, each with its runs for the
/// report's chart; a regression links the query's plan-shape finding when its plan changed.
fn timing_findings(
    timed: &[Timed],
    found: &[Finding],
    limits: &Limits,
    names: (&str, &str),
) -> (Vec<Finding>, Vec<(String, crate::report::Detail)>) {
    let (mut out, mut details) = (Vec::new(), Vec::new());
    for t in timed {
        let (regressed, improved) = (worse(&t.old, &t.new, limits), worse(&t.new, &t.old, limits));
        if !regressed && !improved {
            continue;
        }
        let figures = |r: &[Run]| {
            let times: Vec<f64> = r.iter().map(|x| x.ms).collect();
            let (lo, hi) = spread(&times);
            let m = median(times);
            let b = median(r.iter().map(|x| x.buffers + x.temp).collect());
            (
                m,
                format!(
                    "median {m:.1} ms ({lo:.1}–{hi:.1}), {} buffers",
                    crate::finding::thousands(b)
                ),
            )
        };
        let ((mo, fo), (mn, fnew)) = (figures(&t.old), figures(&t.new));
        let object = crate::compare::plan::query_object(&t.query.path);
        let mut f = if regressed {
            Finding::new(Category::Plan, Severity::High, object, "regression")
                .message(format!(
                    "{} is {:.1}× slower on {}: {fnew} against {fo} on {}",
                    t.query.path, mn / mo.max(1e-3), names.1, names.0
                ))
                .why("the query the application runs gets slower with the upgrade, on the same rows and settings")
                .hint("compare the two plans; check the planner settings whose defaults moved, or pin the plan's shape (indexes, statistics targets) before upgrading")
        } else {
            Finding::new(Category::Plan, Severity::Info, object, "improvement").message(format!(
                "{} is {:.1}× faster on {}: {fnew} against {fo} on {}",
                t.query.path, mo / mn.max(1e-3), names.1, names.0
            ))
        }
        .values(Some(fo), Some(fnew));
        f.weight = t.query.weight;
        let shape = crate::compare::plan::shape_id(&t.query.path);
        f.causes.push(match found.iter().find(|x| x.id == shape) {
            Some(s) => {
                let mut c = s.causes.first().cloned().unwrap_or(crate::finding::Cause {
                    kind: CauseKind::PlannerVersion,
                    evidence: "the plan's shape changed".into(),
                    links: Vec::new(),
                });
                c.links.push(shape);
                c
            }
            None => crate::finding::Cause {
                kind: CauseKind::Unknown,
                evidence:
                    "the same plan shape on both: the executor or the costs of its nodes changed"
                        .into(),
                links: Vec::new(),
            },
        });
        f.plans = Some(Box::new(crate::snapshot::plan::PlanPair {
            left: t.old.first().map(|r| r.plan.clone()),
            right: t.new.first().map(|r| r.plan.clone()),
        }));
        let runs = |r: &[Run]| r.iter().map(|x| (x.ms, x.buffers + x.temp)).collect();
        details.push((
            f.id.clone(),
            crate::report::Detail::Timings {
                left: runs(&t.old),
                right: runs(&t.new),
            },
        ));
        out.push(f);
    }
    (out, details)
}
