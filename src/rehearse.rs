//! `pgparity rehearse`: an upgrade rehearsed without a production row. Two throwaway
//! clusters — the snapshot's major and the target major — get production's planner settings
//! and the same synthetic data (seed, same seed: the same bytes on both), then the snapshot's
//! recorded corpus is planned on both (the usual shape comparison, causes and cost-tie
//! re-plans) and every read query's result is compared between the majors on the identical
//! data. The clusters stop when the rehearsal ends, however it ends.
//!
//! Not yet: timed executions (`--execute`), planner statistics copied with
//! `pg_restore_*_stats` on 18, settings that need a restart (they are named, not applied),
//! and `--keep`.

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
    pub gate: Gate,
}

/// A rehearsal: the report (plans, results, setup differences) and what was set up.
#[derive(Debug, Clone)]
pub struct Rehearsal {
    pub report: Report,
    /// What was set up, one line each: versions, settings applied or not, rows seeded, how
    /// statistics were aligned.
    pub setup: Vec<String>,
}

/// Production's planner settings as `ALTER SYSTEM` can set them (no restart), and the ones it
/// cannot (named in the setup).
fn planner_settings(snap: &Snapshot) -> (Vec<(String, String)>, Vec<String>) {
    let (mut apply, mut skipped) = (Vec::new(), Vec::new());
    for (name, s) in &snap.inventory.settings {
        if class(name, &s.category) != Class::Planner
            || matches!(s.source.as_str(), "default" | "override")
        {
            continue;
        }
        if s.context == "postmaster" || s.context == "internal" {
            skipped.push(format!("{name} = {} (needs a restart)", s.value));
        } else {
            apply.push((name.clone(), s.value.clone()));
        }
    }
    (apply, skipped)
}

/// One side of the rehearsal: a cluster of `major` with production's settings and an empty
/// database; returns the notes of what did not apply.
fn start_side(
    major: u32,
    settings: &[(String, String)],
    snap: &Snapshot,
    progress: &dyn Progress,
    label: &str,
) -> Result<(Cluster, Vec<String>)> {
    let install = Install::find(major)?;
    progress.start(label, &format!("starting PostgreSQL {major}"));
    let cluster = Cluster::start(&install, &ClusterOptions::default())?;
    let mut notes = Vec::new();
    for (name, value) in settings {
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
    // The snapshot's encoding and locale where this machine has them, else C.UTF-8.
    let db = &snap.inventory.database;
    let wanted = format!(
        "CREATE DATABASE {DATABASE} TEMPLATE template0 ENCODING {} LC_COLLATE {} LC_CTYPE {}",
        crate::sql::literal(&db.encoding),
        crate::sql::literal(&db.collate),
        crate::sql::literal(&db.ctype)
    );
    if db.encoding.is_empty() || cluster.execute("postgres", &wanted).is_err() {
        cluster.execute(
            "postgres",
            &format!(
                "CREATE DATABASE {DATABASE} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8'"
            ),
        )?;
        notes.push(format!(
            "the database is UTF8 with locale C.UTF-8 on PostgreSQL {major}: this machine cannot create {} {}",
            db.encoding, db.collate
        ));
    }
    progress.finish(label, "ready");
    Ok((cluster, notes))
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
    let (settings, not_applied) = planner_settings(&snap);
    let (old_label, new_label) = (
        format!("PostgreSQL {from}"),
        format!("PostgreSQL {}", req.to_major),
    );
    let (old, mut notes) = start_side(from, &settings, &snap, progress, &old_label)?;
    let (new, new_notes) = start_side(req.to_major, &settings, &snap, progress, &new_label)?;
    notes.extend(new_notes);
    let mut setup = vec![format!(
        "PostgreSQL {from} (the snapshot's {}) and PostgreSQL {} as throwaway clusters",
        snap.inventory.server_version, req.to_major
    )];
    setup.push(format!(
        "{} planner settings of production applied to both{}",
        settings.len(),
        if not_applied.is_empty() {
            String::new()
        } else {
            format!("; not applied: {}", not_applied.join(", "))
        }
    ));
    setup.extend(notes);
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
    let mut problems = Vec::new();
    for (i, t) in [&old_t, &new_t].into_iter().enumerate() {
        progress.start(&t.name, "seeding");
        let r = runtime.block_on(crate::seed::seed(&snap, t, &options, progress))?;
        progress.finish(&t.name, "seeded");
        if i == 0 {
            setup.push(format!(
                "{} rows seeded into {} tables on each side (seed {}, scale {}), ANALYZE on each side",
                crate::finding::thousands(r.rows() as f64),
                r.tables.len(),
                req.seed,
                req.scale
            ));
            problems.extend(r.problems.into_iter().map(|p| p.message));
        }
    }
    setup.push(
        "statistics: each side's own ANALYZE of the same rows; plan differences that are cost ties (the other plan costs almost the same) are reported as noise".into(),
    );
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
        &format!("running {} read queries on both", corpus.len()),
    );
    let results = runtime.block_on(compare_results(
        &old_t, &new_t, &corpus, &old_label, &new_label,
    ));
    progress.finish("results", "compared");
    let (changed, skipped) = results?;
    if !skipped.is_empty() {
        setup.push(format!(
            "results not compared for {} queries: {}",
            skipped.len(),
            skipped.join("; ")
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
    progress.note("stopping the rehearsal clusters");
    old.stop();
    new.stop();
    Ok(Rehearsal { report, setup })
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

/// Runs a read query as `COPY (...) TO STDOUT` in a read-only transaction, hashing its rows as
/// they stream (never held).
async fn outcome(client: &Client, sql: &str, ordered: bool) -> Outcome {
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
            while let Some(pos) = memchr::memchr(b'\n', &pending) {
                let line = &pending[..pos];
                let mut h = siphasher::sip::SipHasher13::new();
                h.write(line);
                sum = sum.wrapping_add(h.finish());
                seq.write(line);
                seq.write_u8(b'\n');
                rows += 1;
                pending.drain(..=pos);
            }
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

/// Every read query without parameters run on both sides: a different result is critical,
/// an error on one side only is high. Returns the findings and the queries left out (why).
async fn compare_results(
    old: &Target,
    new: &Target,
    corpus: &[Query],
    old_name: &str,
    new_name: &str,
) -> Result<(Vec<Finding>, Vec<String>)> {
    let (a, b) = (
        crate::capture::connect(old).await?,
        crate::capture::connect(new).await?,
    );
    let (mut findings, mut skipped) = (Vec::new(), Vec::new());
    for q in corpus {
        if q.kind != QueryKind::Read {
            continue;
        }
        if q.params > 0 && q.values.len() != q.params {
            skipped.push(format!("{} (parameters without values)", q.path));
            continue;
        }
        let sql = if q.params > 0 {
            // Values from the query's values file, as literals in place of $n (highest first).
            let mut s = q.sql.clone();
            for (i, v) in q.values.iter().enumerate().rev() {
                s = s.replace(&format!("${}", i + 1), v);
            }
            s
        } else {
            q.sql.clone()
        };
        let ord = ordered(&sql);
        let (x, y) = (outcome(&a, &sql, ord).await, outcome(&b, &sql, ord).await);
        let object = format!("query:{}", q.path);
        let f = match (&x, &y) {
            (Outcome::Rows { .. }, Outcome::Rows { .. }) if x == y => continue,
            (Outcome::Error(_), Outcome::Error(_)) => continue,
            (Outcome::Rows { rows: r1, .. }, Outcome::Rows { rows: r2, .. }) => {
                Finding::new(Category::Plan, Severity::Critical, object, "result")
                    .values(Some(describe(&x)), Some(describe(&y)))
                    .message(format!(
                        "{} returns a different result on {new_name} than on {old_name} with the same data ({r1} rows vs {r2}{})",
                        q.path,
                        if r1 == r2 { ", other values or order" } else { "" }
                    ))
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
    Ok((findings, skipped))
}

fn describe(o: &Outcome) -> String {
    match o {
        Outcome::Rows { rows, hash } => format!("{rows} rows, hash {hash:016x}"),
        Outcome::Error(e) => format!("error: {e}"),
    }
}
