//! The database store: schema `pgparity_history` in a PostgreSQL database the user names
//! (never one of the compared environments unless named). The first run creates the schema;
//! its version is kept in `schema_version` and migrated forward by the tool, under an
//! advisory lock so two runs never migrate at once. Each run is written in one transaction
//! (binary COPY for findings, figures and plans): a run that fails midway writes nothing.
//!
//! Figures carry no foreign key: a per-row check would double the write of a run's 244,000
//! rows (2,000 tables × 20 columns, both sides); the run is written whole or not at all.
//!
//! Tables (documented for readers in docs/history-format.md):
//! - `runs (run_id, at, left_name, right_name, tool_version)`
//! - `findings (run_id, finding_id, status, severity, message)`, status `open`, `accepted` or
//!   `fixed` (open in the previous run, gone in this one)
//! - `figures (run_id, side, table_name, column_name, figure, value)`
//! - `plans (run_id, side, query, fingerprint)`
//! - `fleet_shards (fleet_run, shard, shards, at, report)`: a fleet run's report per shard
//!   (JSON, docs/report-format.md), replaced when the shard runs again

use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;
use tokio_postgres::GenericClient;

use super::{Figure, Recent, Run, RunFinding, FORMAT, VERSION};
use crate::capture::Target;
use crate::error::{Error, Result};
use crate::finding::Severity;

/// The schema's version this pgparity writes; older ones are migrated forward.
pub const SCHEMA_VERSION: i32 = 2;

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 0 → 1: the first schema.
    "CREATE TABLE pgparity_history.runs (
         run_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
         at timestamptz NOT NULL,
         left_name text NOT NULL,
         right_name text NOT NULL,
         tool_version text NOT NULL
     );
     CREATE INDEX ON pgparity_history.runs (at);
     CREATE TABLE pgparity_history.findings (
         run_id bigint NOT NULL REFERENCES pgparity_history.runs ON DELETE CASCADE,
         finding_id text NOT NULL,
         status text NOT NULL CHECK (status IN ('open', 'accepted', 'fixed')),
         severity text NOT NULL,
         message text NOT NULL,
         PRIMARY KEY (run_id, finding_id)
     );
     CREATE TABLE pgparity_history.figures (
         run_id bigint NOT NULL,
         side text NOT NULL CHECK (side IN ('left', 'right')),
         table_name text NOT NULL,
         column_name text,
         figure text NOT NULL,
         value double precision NOT NULL
     );
     CREATE INDEX ON pgparity_history.figures (run_id);
     CREATE TABLE pgparity_history.plans (
         run_id bigint NOT NULL REFERENCES pgparity_history.runs ON DELETE CASCADE,
         side text NOT NULL CHECK (side IN ('left', 'right')),
         query text NOT NULL,
         fingerprint text NOT NULL,
         PRIMARY KEY (run_id, side, query)
     );",
    // 1 → 2: fleet reports, one per shard of a fleet run (`fleet --history`), merged by
    // `fleet report --run`.
    "CREATE TABLE pgparity_history.fleet_shards (
         fleet_run text NOT NULL,
         shard int NOT NULL,
         shards int NOT NULL CHECK (shard BETWEEN 1 AND shards),
         at timestamptz NOT NULL,
         report text NOT NULL,
         PRIMARY KEY (fleet_run, shard)
     );",
];

/// A run's time as RFC 3339 text in UTC, read from the timestamptz column `$col`.
macro_rules! rfc3339 {
    ($col:literal) => {
        concat!(
            "to_char(",
            $col,
            " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"
        )
    };
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the async runtime: {e}")))
}

fn db_error(t: &Target, what: &str) -> impl Fn(tokio_postgres::Error) -> Error {
    let (env, what) = (t.name.clone(), what.to_string());
    move |e| {
        Error::database(
            &env,
            format!("history: {what}: {}", crate::capture::db_message(&e)),
            &e,
        )
    }
}

/// The installed schema's version, `None` where there is none yet; a newer one than this
/// pgparity knows is an error.
async fn installed(client: &impl GenericClient, t: &Target) -> Result<Option<i32>> {
    let row = client
        .query_typed_one(
            "SELECT to_regclass('pgparity_history.schema_version') IS NOT NULL",
            &[],
        )
        .await
        .map_err(db_error(t, "reading the schema"))?;
    if !row.get::<_, bool>(0) {
        return Ok(None);
    }
    let v: i32 = client
        .query_typed_one(
            "SELECT max(version) FROM pgparity_history.schema_version",
            &[],
        )
        .await
        .map_err(db_error(t, "reading the schema version"))?
        .get::<_, Option<i32>>(0)
        .unwrap_or(0);
    if v > SCHEMA_VERSION {
        return Err(Error::env(
            &t.name,
            format!(
                "history schema pgparity_history is version {v}, newer than this pgparity writes ({SCHEMA_VERSION}); hint: upgrade pgparity"
            ),
        ));
    }
    Ok(Some(v))
}

/// The last `n` runs' open findings, oldest first (none where the schema does not exist yet).
pub fn load(t: &Target, n: usize) -> Result<Vec<Run>> {
    runtime()?.block_on(async {
        let client = crate::capture::connect(t).await?;
        if installed(&client, t).await?.is_none() {
            return Ok(Vec::new());
        }
        let rows = client
            .query_typed(
                concat!("SELECT run_id, ", rfc3339!("at"), ", left_name, right_name
                 FROM pgparity_history.runs ORDER BY at DESC, run_id DESC LIMIT $1"),
                &[(&(n as i64), Type::INT8)],
            )
            .await
            .map_err(db_error(t, "reading runs"))?;
        let mut runs: Vec<(i64, Run)> = rows
            .iter()
            .rev()
            .map(|r| {
                (r.get(0), empty_run(r.get(1), r.get(2), r.get(3)))
            })
            .collect();
        let ids: Vec<i64> = runs.iter().map(|(id, _)| *id).collect();
        let rows = client
            .query_typed(
                "SELECT run_id, finding_id, status, severity, message FROM pgparity_history.findings
                 WHERE run_id = ANY($1) AND status IN ('open', 'accepted') ORDER BY run_id, finding_id",
                &[(&ids, Type::INT8_ARRAY)],
            )
            .await
            .map_err(db_error(t, "reading findings"))?;
        for r in rows {
            let id: i64 = r.get(0);
            let Some((_, run)) = runs.iter_mut().find(|(i, _)| *i == id) else {
                continue;
            };
            let f = RunFinding {
                id: r.get(1),
                severity: Severity::parse(r.get(3)).unwrap_or(Severity::Info),
                message: r.get(4),
            };
            if r.get::<_, &str>(2) == "open" {
                run.findings.push(f);
            } else {
                run.accepted.push(f);
            }
        }
        Ok(runs.into_iter().map(|(_, r)| r).collect())
    })
}

/// The last `n` runs' ids, newest first (none where the schema does not exist yet).
async fn last_runs(client: &impl GenericClient, t: &Target, n: usize) -> Result<Vec<i64>> {
    if installed(client, t).await?.is_none() {
        return Ok(Vec::new());
    }
    Ok(client
        .query_typed(
            "SELECT run_id FROM pgparity_history.runs ORDER BY at DESC, run_id DESC LIMIT $1",
            &[(&(n as i64), Type::INT8)],
        )
        .await
        .map_err(db_error(t, "reading runs"))?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// Production's (the right side's) figures over the last `n` runs, as ranges (aggregated by
/// the server), and the last run's plan fingerprints.
pub fn recent(t: &Target, n: usize) -> Result<Recent> {
    runtime()?.block_on(async {
        let client = crate::capture::connect(t).await?;
        let ids = last_runs(&client, t, n).await?;
        let mut recent = Recent {
            runs: ids.len(),
            ..Default::default()
        };
        if ids.is_empty() {
            return Ok(recent);
        }
        for r in client
            .query_typed(
                "SELECT table_name, column_name, figure, min(value), max(value)
                 FROM pgparity_history.figures WHERE side = 'right' AND run_id = ANY($1)
                 GROUP BY 1, 2, 3",
                &[(&ids, Type::INT8_ARRAY)],
            )
            .await
            .map_err(db_error(t, "reading figures"))?
        {
            recent
                .ranges
                .insert((r.get(0), r.get(1), r.get(2)), (r.get(3), r.get(4)));
        }
        for r in client
            .query_typed(
                "SELECT query, fingerprint FROM pgparity_history.plans
                 WHERE side = 'right' AND run_id = $1",
                &[(&ids[0], Type::INT8)],
            )
            .await
            .map_err(db_error(t, "reading plans"))?
        {
            recent.plans.insert(r.get(0), r.get(1));
        }
        Ok(recent)
    })
}

/// The last `n` runs, oldest first, each with only the figures `wanted` names (object,
/// figure) — no findings.
pub fn figures(
    t: &Target,
    n: usize,
    wanted: &std::collections::BTreeSet<(String, String)>,
) -> Result<Vec<Run>> {
    runtime()?.block_on(async {
        let client = crate::capture::connect(t).await?;
        let ids = last_runs(&client, t, n).await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let objects: Vec<&str> = wanted.iter().map(|(o, _)| o.as_str()).collect();
        let names: Vec<&str> = wanted.iter().map(|(_, f)| f.as_str()).collect();
        let rows = client
            .query_typed(
                concat!(
                    "SELECT r.run_id, ",
                    rfc3339!("r.at"),
                    ",
                        f.side, f.table_name, f.column_name, f.figure, f.value
                 FROM pgparity_history.figures f JOIN pgparity_history.runs r USING (run_id)
                 WHERE f.run_id = ANY($1) AND f.figure = ANY($3)
                   AND CASE WHEN f.column_name IS NULL THEN f.table_name
                            ELSE f.table_name || '.' || f.column_name END = ANY($2)
                 ORDER BY r.at, r.run_id"
                ),
                &[
                    (&ids, Type::INT8_ARRAY),
                    (&objects, Type::TEXT_ARRAY),
                    (&names, Type::TEXT_ARRAY),
                ],
            )
            .await
            .map_err(db_error(t, "reading figures"))?;
        let mut runs: Vec<(i64, Run)> = Vec::new();
        for r in rows {
            let id: i64 = r.get(0);
            if runs.last().is_none_or(|(last, _)| *last != id) {
                runs.push((id, empty_run(r.get(1), String::new(), String::new())));
            }
            let f = Figure {
                side: r.get(2),
                table: r.get(3),
                column: r.get(4),
                figure: r.get(5),
                value: r.get(6),
            };
            if wanted.contains(&(super::trend::object_of(&f), f.figure.clone())) {
                if let Some((_, run)) = runs.last_mut() {
                    run.figures.push(f);
                }
            }
        }
        Ok(runs.into_iter().map(|(_, r)| r).collect())
    })
}

/// Every run, oldest first, whole (findings open and accepted, figures, plans) with its
/// fixed findings, one run in memory at a time.
pub fn each(
    t: &Target,
    mut visit: impl FnMut(i64, Run, Vec<RunFinding>) -> Result<()>,
) -> Result<()> {
    runtime()?.block_on(async {
        let client = crate::capture::connect(t).await?;
        if installed(&client, t).await?.is_none() {
            return Ok(());
        }
        let runs = client
            .query_typed(
                concat!("SELECT run_id, ", rfc3339!("at"), ", left_name, right_name
                 FROM pgparity_history.runs ORDER BY at, run_id"),
                &[],
            )
            .await
            .map_err(db_error(t, "reading runs"))?;
        for r in runs {
            let id: i64 = r.get(0);
            let mut run = empty_run(r.get(1), r.get(2), r.get(3));
            let mut fixed = Vec::new();
            for f in client
                .query_typed(
                    "SELECT finding_id, status, severity, message FROM pgparity_history.findings
                     WHERE run_id = $1 ORDER BY finding_id",
                    &[(&id, Type::INT8)],
                )
                .await
                .map_err(db_error(t, "reading findings"))?
            {
                let finding = RunFinding {
                    id: f.get(0),
                    severity: Severity::parse(f.get(2)).unwrap_or(Severity::Info),
                    message: f.get(3),
                };
                match f.get::<_, &str>(1) {
                    "open" => run.findings.push(finding),
                    "accepted" => run.accepted.push(finding),
                    _ => fixed.push(finding),
                }
            }
            for f in client
                .query_typed(
                    "SELECT side, table_name, column_name, figure, value FROM pgparity_history.figures
                     WHERE run_id = $1",
                    &[(&id, Type::INT8)],
                )
                .await
                .map_err(db_error(t, "reading figures"))?
            {
                run.figures.push(Figure {
                    side: f.get(0),
                    table: f.get(1),
                    column: f.get(2),
                    figure: f.get(3),
                    value: f.get(4),
                });
            }
            for p in client
                .query_typed(
                    "SELECT side, query, fingerprint FROM pgparity_history.plans WHERE run_id = $1",
                    &[(&id, Type::INT8)],
                )
                .await
                .map_err(db_error(t, "reading plans"))?
            {
                run.plans.push(super::PlanPrint {
                    side: p.get(0),
                    query: p.get(1),
                    fingerprint: p.get(2),
                });
            }
            visit(id, run, fixed)?;
        }
        Ok(())
    })
}

fn empty_run(at: String, left: String, right: String) -> Run {
    Run {
        format: FORMAT.into(),
        version: VERSION,
        at,
        left,
        right,
        findings: Vec::new(),
        accepted: Vec::new(),
        figures: Vec::new(),
        plans: Vec::new(),
    }
}

/// Writes one run (its findings, `fixed` since the previous run, its figures and plan
/// fingerprints) in one transaction, creating or migrating the schema first.
/// A transaction on the store with its schema created or migrated to this version (under an
/// advisory lock: one migrating run at a time; the lock ends with the transaction).
async fn migrated<'c>(
    client: &'c mut tokio_postgres::Client,
    t: &Target,
) -> Result<tokio_postgres::Transaction<'c>> {
    let tx = client
        .transaction()
        .await
        .map_err(db_error(t, "starting the transaction"))?;
    // One migrating run at a time; the lock ends with the transaction.
    tx.batch_execute(
        "SET LOCAL lock_timeout = '30s';
         SELECT pg_advisory_xact_lock(hashtext('pgparity_history'));
         CREATE SCHEMA IF NOT EXISTS pgparity_history;
         CREATE TABLE IF NOT EXISTS pgparity_history.schema_version (version int NOT NULL);",
    )
    .await
    .map_err(|e| {
        let denied = e.code() == Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE);
        let mut err = db_error(t, "creating schema pgparity_history")(e);
        if let (true, Error::Database { message, .. }) = (denied, &mut err) {
            message.push_str("; hint: GRANT CREATE ON DATABASE to this role once, or create schema pgparity_history owned by it");
        }
        err
    })?;
    let from = installed(&tx, t).await?.unwrap_or(0);
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        tx.batch_execute(sql)
            .await
            .map_err(db_error(t, &format!("migrating to version {}", i + 1)))?;
    }
    if from < SCHEMA_VERSION {
        tx.execute_typed(
            "INSERT INTO pgparity_history.schema_version VALUES ($1)",
            &[(&SCHEMA_VERSION, Type::INT4)],
        )
        .await
        .map_err(db_error(t, "recording the schema version"))?;
    }
    Ok(tx)
}

/// Keeps one shard's fleet report (`report`: its JSON) of fleet run `fleet_run`, replacing
/// what that shard kept before.
pub fn record_shard(
    t: &Target,
    fleet_run: &str,
    (shard, shards): (usize, usize),
    at: &str,
    report: &str,
) -> Result<()> {
    runtime()?.block_on(async {
        let mut client = crate::capture::connect(t).await?;
        let tx = migrated(&mut client, t).await?;
        let (k, n) = (shard as i32, shards as i32);
        tx.execute_typed(
            "DELETE FROM pgparity_history.fleet_shards WHERE fleet_run = $1 AND shard = $2",
            &[(&fleet_run, Type::TEXT), (&k, Type::INT4)],
        )
        .await
        .map_err(db_error(t, "replacing the fleet shard"))?;
        tx.execute_typed(
            "INSERT INTO pgparity_history.fleet_shards (fleet_run, shard, shards, at, report) \
             VALUES ($1, $2, $3, $4::text::timestamptz, $5)",
            &[
                (&fleet_run, Type::TEXT),
                (&k, Type::INT4),
                (&n, Type::INT4),
                (&at, Type::TEXT),
                (&report, Type::TEXT),
            ],
        )
        .await
        .map_err(db_error(t, "recording the fleet shard"))?;
        tx.commit()
            .await
            .map_err(db_error(t, "committing the fleet shard"))
    })
}

/// A connection to a store that keeps fleet runs (schema 2 or later); `None` where it keeps
/// none yet.
async fn with_fleets(t: &Target) -> Result<Option<tokio_postgres::Client>> {
    let client = crate::capture::connect(t).await?;
    Ok((installed(&client, t).await?.unwrap_or(0) >= 2).then_some(client))
}

/// The complete fleet runs kept (every shard there), oldest first.
pub fn fleet_runs(t: &Target) -> Result<Vec<String>> {
    runtime()?.block_on(async {
        let Some(client) = with_fleets(t).await? else {
            return Ok(Vec::new());
        };
        let rows = client
            .query_typed(
                "SELECT fleet_run FROM pgparity_history.fleet_shards GROUP BY fleet_run \
                 HAVING count(*) = max(shards) ORDER BY max(at), fleet_run",
                &[],
            )
            .await
            .map_err(db_error(t, "reading the fleet runs"))?;
        Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect())
    })
}

/// A fleet run's kept shards: (shard, shards, report JSON), in shard order.
pub fn shards(t: &Target, fleet_run: &str) -> Result<Vec<(usize, usize, String)>> {
    runtime()?.block_on(async {
        let Some(client) = with_fleets(t).await? else {
            return Ok(Vec::new());
        };
        let rows = client
            .query_typed(
                "SELECT shard, shards, report FROM pgparity_history.fleet_shards \
                 WHERE fleet_run = $1 ORDER BY shard",
                &[(&fleet_run, Type::TEXT)],
            )
            .await
            .map_err(db_error(t, "reading the fleet shards"))?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get::<_, i32>(0) as usize,
                    r.get::<_, i32>(1) as usize,
                    r.get::<_, String>(2),
                )
            })
            .collect())
    })
}

pub fn record(t: &Target, run: &Run, fixed: &[RunFinding]) -> Result<()> {
    runtime()?.block_on(async {
        let mut client = crate::capture::connect(t).await?;
        let tx = migrated(&mut client, t).await?;
        let run_id: i64 = tx
            .query_typed_one(
                "INSERT INTO pgparity_history.runs (at, left_name, right_name, tool_version)
                 VALUES ($1::text::timestamptz, $2, $3, $4) RETURNING run_id",
                &[
                    (&run.at, Type::TEXT),
                    (&run.left, Type::TEXT),
                    (&run.right, Type::TEXT),
                    (&env!("CARGO_PKG_VERSION"), Type::TEXT),
                ],
            )
            .await
            .map_err(db_error(t, "recording the run"))?
            .get(0);
        let findings = [
            ("open", &run.findings[..]),
            ("accepted", &run.accepted[..]),
            ("fixed", fixed),
        ];
        let what = "writing findings";
        let mut w = copy_in(
            &tx,
            t,
            "findings (run_id, finding_id, status, severity, message)",
            &[Type::INT8, Type::TEXT, Type::TEXT, Type::TEXT, Type::TEXT],
        )
        .await?;
        for (status, list) in findings {
            for f in list {
                w.as_mut()
                    .write(&[&run_id, &f.id, &status, &f.severity.name(), &f.message])
                    .await
                    .map_err(db_error(t, what))?;
            }
        }
        w.as_mut().finish().await.map_err(db_error(t, what))?;
        let what = "writing figures";
        let mut w = copy_in(
            &tx,
            t,
            "figures (run_id, side, table_name, column_name, figure, value)",
            &[
                Type::INT8,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::FLOAT8,
            ],
        )
        .await?;
        for f in &run.figures {
            w.as_mut()
                .write(&[&run_id, &f.side, &f.table, &f.column, &f.figure, &f.value])
                .await
                .map_err(db_error(t, what))?;
        }
        w.as_mut().finish().await.map_err(db_error(t, what))?;
        let what = "writing plans";
        let mut w = copy_in(
            &tx,
            t,
            "plans (run_id, side, query, fingerprint)",
            &[Type::INT8, Type::TEXT, Type::TEXT, Type::TEXT],
        )
        .await?;
        for p in &run.plans {
            w.as_mut()
                .write(&[&run_id, &p.side, &p.query, &p.fingerprint])
                .await
                .map_err(db_error(t, what))?;
        }
        w.as_mut().finish().await.map_err(db_error(t, what))?;
        tx.commit()
            .await
            .map_err(db_error(t, "committing the run"))?;
        Ok(())
    })
}

/// A binary COPY into `pgparity_history.TABLE (COLUMNS)`, pinned for writing row by row.
async fn copy_in(
    tx: &tokio_postgres::Transaction<'_>,
    t: &Target,
    table: &str,
    types: &[Type],
) -> Result<std::pin::Pin<Box<BinaryCopyInWriter>>> {
    let sink = tx
        .copy_in(&format!("COPY pgparity_history.{table} FROM STDIN BINARY"))
        .await
        .map_err(db_error(t, "starting a COPY"))?;
    Ok(Box::pin(BinaryCopyInWriter::new(sink, types)))
}
