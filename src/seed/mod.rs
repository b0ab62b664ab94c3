//! Seed: fill a target environment with synthetic data shaped like a production snapshot's
//! profile, never copying a production row. The only module besides the test clusters that
//! writes to a database, and only to the target it is given, never to one marked protected.
//!
//! The model (`model.rs`) decides row counts and a generator per column from the snapshot
//! alone; `gen.rs` draws values; `ddl.rs` writes the schema for `--create-schema`. Loading is
//! a few COPY streams at once, each in its own transaction: a small table in one, a large one
//! in ranges of its chunks on every stream (emptied if any range fails), so a table ends
//! either complete or empty; rows are generated in parallel chunks (rayon) ahead of the
//! streams, the same rows whatever the streams. Keys, checks and foreign keys are added after
//! the load, then every table is
//! analyzed.

pub mod checks;
pub mod ddl;
pub mod gen;
pub mod literal;
pub mod model;
pub mod pattern;
pub mod verify;

use std::sync::Arc;
use std::time::Instant;
use tokio_postgres::types::Type;

use futures_util::SinkExt;
use tokio_postgres::Client;

use crate::capture::Target;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::snapshot::{Problem, Snapshot};
pub use model::{Model, SeedOptions};

/// Rows per generated chunk at most (fewer where rows are wide: `TableModel::chunk_rows`):
/// values depend on it (each chunk has its own streams), never on the number of threads.
pub const CHUNK_ROWS: u64 = 8192;
/// About the most bytes of COPY text a chunk holds (see `TableModel::chunk_rows`).
pub const CHUNK_BYTES: u64 = 16 << 20;
/// The most bytes of chunks every load together holds at once (being generated, queued, being
/// sent), counted at each chunk's bound (`TableModel::chunk_bytes`) and taken from one budget
/// before a chunk is generated: however many streams, however slow the server, generators wait
/// for the server instead of piling chunks up.
const IN_FLIGHT_BYTES: u64 = 48 << 20;

/// The budget of bytes in flight shared by every load, in KiB.
#[derive(Clone)]
struct Budget(Arc<tokio::sync::Semaphore>);

impl Budget {
    fn new(bytes: u64) -> Budget {
        Budget(Arc::new(tokio::sync::Semaphore::new(
            (bytes >> 10) as usize,
        )))
    }

    fn kib(bytes: u64) -> u32 {
        (bytes.div_ceil(1024)).clamp(1, IN_FLIGHT_BYTES >> 10) as u32
    }

    /// Waits (on a blocking thread) until a chunk of about `bytes` fits; what it returns holds
    /// the chunk's share until dropped. A chunk larger than the whole budget takes all of it.
    fn take(&self, bytes: u64) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let sem = self.0.clone();
        tokio::runtime::Handle::current()
            .block_on(sem.acquire_many_owned(Budget::kib(bytes)))
            .ok()
    }

    /// A chunk's share if it fits now.
    fn try_take(&self, bytes: u64) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.0
            .clone()
            .try_acquire_many_owned(Budget::kib(bytes))
            .ok()
    }
}

/// The most bytes sent to the connection in one message: a chunk goes in slices of its one
/// buffer (the connection copies each into its write buffer, so that copy stays a slice).
const SEND_SLICE: usize = 1 << 20;

/// A generated chunk with its share of the budget: the share ends when the chunk's memory is
/// freed, i.e. when the connection has dropped the last slice it was sent in.
struct Chunk {
    bytes: Vec<u8>,
    _share: tokio::sync::OwnedSemaphorePermit,
}

impl AsRef<[u8]> for Chunk {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

/// One table's load.
#[derive(Debug, Clone, PartialEq)]
pub struct TableLoad {
    pub table: String,
    pub rows: u64,
    pub bytes: u64,
    pub seconds: f64,
}

/// What a seed did.
#[derive(Debug, Clone, Default)]
pub struct SeedReport {
    pub tables: Vec<TableLoad>,
    pub problems: Vec<Problem>,
    /// Tables left empty because they cannot be generated or need rows of one that cannot:
    /// (table, why). Also in `problems`.
    pub skipped: Vec<(String, String)>,
    /// Loading only (COPY), and everything (schema, load, constraints, ANALYZE).
    pub load_seconds: f64,
    pub seconds: f64,
}

impl SeedReport {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

/// One chunk of a table as COPY text.
pub fn chunk(model: &Model, t: usize, k: u64) -> Vec<u8> {
    let table = &model.tables[t];
    let (start, end) = (
        k * table.chunk_rows,
        ((k + 1) * table.chunk_rows).min(table.rows),
    );
    let mut rngs: Vec<_> = (0..table.columns.len())
        .map(|c| gen::rng_for(&[table.id, c as u64, k]))
        .collect();
    let salts: Vec<u64> = table
        .columns
        .iter()
        .map(|c| table.id ^ gen::name_id(&c.name))
        .collect();
    let mut drawn: Vec<gen::Drawn> = table.columns.iter().map(|_| Default::default()).collect();
    // Room for 16 bytes a column: a chunk seldom grows (and copies) itself.
    let mut out = Vec::with_capacity(((end - start) as usize) * (16 * table.columns.len()).max(64));
    for row in start..end {
        let mut first = true;
        for (c, col) in table.columns.iter().enumerate() {
            if matches!(col.gen, model::Gen::Default) {
                continue;
            }
            if !first {
                out.push(b'\t');
            }
            first = false;
            let written = match &col.gen {
                model::Gen::Values(v) => {
                    v.write_row(&mut rngs[c], salts[c], &mut out, row, &mut drawn[c])
                }
                model::Gen::Null => false,
                _ => match model.key_text(t, c, row) {
                    Some(s) => {
                        gen::push_escaped(&mut out, &s);
                        true
                    }
                    None => false,
                },
            };
            if !written {
                out.extend_from_slice(b"\\N");
            }
        }
        out.push(b'\n');
    }
    out
}

use crate::sql::ident;

/// What every seed transaction begins with: no statement timeout for the load and its index
/// builds, set for the transaction only (a session's `SET` would stay on the server connection
/// a transaction pooler hands to the next client, and be missing from the next one it gives us).
const BEGIN: &str = "BEGIN; SET LOCAL statement_timeout = 0";

/// Runs `sql` in a transaction of its own.
async fn exec(client: &Client, env: &str, sql: &str) -> Result<()> {
    let r = client
        .batch_execute(&format!("{BEGIN};\n{sql};\nCOMMIT"))
        .await;
    if let Err(e) = r {
        // The failed statement left the transaction aborted: end it.
        let _ = client.batch_execute("ROLLBACK").await;
        let head: String = sql.chars().take(80).collect();
        return Err(Error::env(
            env,
            format!("{}: {}", head, crate::capture::db_message(&e)),
        ));
    }
    Ok(())
}

/// Runs `chunk` in one transaction (a round trip and a commit per statement cost seconds at
/// 2,000 tables); if it fails, rolls it back and runs the statements one by one, so each has
/// its own outcome. Stops at the first failure when `stop_at_error`. Every outcome, in order.
async fn exec_chunk<S: AsRef<str>>(
    client: &Client,
    env: &str,
    chunk: &[S],
    stop_at_error: bool,
) -> Vec<Result<()>> {
    if chunk.len() > 1 {
        let sql: Vec<&str> = chunk.iter().map(AsRef::as_ref).collect();
        let batch = format!("{BEGIN};\n{};\nCOMMIT", sql.join(";\n"));
        if client.batch_execute(&batch).await.is_ok() {
            return chunk.iter().map(|_| Ok(())).collect();
        }
        let _ = client.batch_execute("ROLLBACK").await;
    }
    let mut out = Vec::new();
    for sql in chunk {
        let r = exec(client, env, sql.as_ref()).await;
        let failed = r.is_err();
        out.push(r);
        if failed && stop_at_error {
            break;
        }
    }
    out
}

/// Runs `statements` in order, 200 to a transaction; the first error names its statement
/// (the ones before it stay done).
async fn exec_all(client: &Client, env: &str, statements: &[&str]) -> Result<()> {
    for chunk in statements.chunks(200) {
        for r in exec_chunk(client, env, chunk, true).await {
            r?;
        }
    }
    Ok(())
}

/// Runs statements on `sessions` sessions of their own, each taking the next 25 statements
/// (one transaction: a commit per statement cost seconds at 2,000 tables) until none is left;
/// every statement's outcome, in no particular order. A failing transaction is rolled back
/// and its statements run one by one, so each keeps its own outcome.
async fn run_many(
    target: &Target,
    statements: &[String],
    sessions: usize,
) -> Result<Vec<(String, Result<()>)>> {
    if statements.is_empty() {
        return Ok(Vec::new());
    }
    let env = target.name.as_str();
    let queue = std::sync::Mutex::new(statements.iter().collect::<std::collections::VecDeque<_>>());
    let mut clients = Vec::new();
    for _ in 0..sessions.min(statements.len()) {
        clients.push(crate::capture::connect(target).await?);
    }
    let workers = clients.iter().map(|c| async {
        let mut done = Vec::new();
        loop {
            let chunk: Vec<&String> = {
                let mut q = queue.lock().expect("queue");
                let n = q.len().min(25);
                q.drain(..n).collect()
            };
            if chunk.is_empty() {
                break;
            }
            let outcomes = exec_chunk(c, env, &chunk, false).await;
            done.extend(chunk.into_iter().cloned().zip(outcomes));
        }
        done
    });
    Ok(futures_util::future::join_all(workers)
        .await
        .into_iter()
        .flatten()
        .collect())
}

/// Records in the database's comment which snapshot the data was seeded from (one line,
/// `pgparity seed: {json}`, replacing an earlier one and keeping the rest of the comment), so
/// a later capture knows the data is synthetic and a check compares categories by shape.
async fn record_provenance(
    client: &Client,
    env: &str,
    snap: &Snapshot,
    opts: &model::SeedOptions,
) -> Result<()> {
    let row = client
        .query_typed_one(
            "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
            &[],
        )
        .await
        .map_err(|e| Error::env(env, crate::capture::db_message(&e)))?;
    let now: String = crate::capture::column(&row, 0).map_err(|m| Error::env(env, m))?;
    let provenance = crate::snapshot::SeedProvenance {
        environment: snap.meta.environment.clone(),
        captured_at: snap.meta.captured_at.clone(),
        seed: opts.seed,
        scale: opts.scale,
        seeded_at: now,
    };
    let line = format!(
        "{}{}",
        crate::snapshot::SeedProvenance::PREFIX,
        serde_json::to_string(&provenance).expect("provenance serializes")
    );
    rewrite_comment(
        client,
        env,
        crate::snapshot::SeedProvenance::PREFIX,
        Some(line),
    )
    .await
}

/// The database's comment with its line starting `prefix` replaced by `line` (or removed);
/// other lines are kept.
async fn rewrite_comment(
    client: &Client,
    env: &str,
    prefix: &str,
    line: Option<String>,
) -> Result<()> {
    let (db, comment) = database_comment(client, env).await?;
    let mut lines: Vec<String> = comment
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with(prefix))
        .map(str::to_string)
        .collect();
    lines.extend(line);
    let text = if lines.is_empty() {
        "NULL".to_string()
    } else {
        crate::sql::literal(&lines.join("\n"))
    };
    exec(
        client,
        env,
        &format!("COMMENT ON DATABASE {} IS {text}", ident(&db)),
    )
    .await
}

/// The current database's name and comment.
async fn database_comment(client: &Client, env: &str) -> Result<(String, Option<String>)> {
    let row = client
        .query_typed_one(
            "SELECT current_database()::text, \
             (SELECT shobj_description(d.oid, 'pg_database') FROM pg_database d WHERE d.datname = current_database())",
            &[],
        )
        .await
        .map_err(|e| Error::env(env, crate::capture::db_message(&e)))?;
    Ok((
        crate::capture::column(&row, 0).map_err(|m| Error::env(env, m))?,
        crate::capture::column(&row, 1).map_err(|m| Error::env(env, m))?,
    ))
}

/// Tables a seed stopped midway (killed) left half full — it loaded them in ranges, each
/// committed on its own, and names them in the database's comment until the load ends — are
/// emptied, each said in the report, and the mark removed.
async fn finish_stopped_seed(client: &Client, env: &str, report: &mut SeedReport) -> Result<()> {
    let (_, comment) = database_comment(client, env).await?;
    let tables = crate::snapshot::SeedProvenance::unfinished(comment.as_deref().unwrap_or(""));
    if tables.is_empty() {
        return Ok(());
    }
    for t in &tables {
        // The name was written by a seed (quoted, qualified); a table since dropped is fine.
        let emptied = exec(client, env, &format!("TRUNCATE ONLY {t}"))
            .await
            .is_ok()
            || exec(client, env, &format!("DELETE FROM ONLY {t}"))
                .await
                .is_ok();
        if emptied {
            report.problems.push(Problem {
                area: format!("seed {t}"),
                message:
                    "left half-loaded by a seed that was stopped midway: emptied before this seed"
                        .into(),
            });
        }
    }
    rewrite_comment(client, env, crate::snapshot::SeedProvenance::LOADING, None).await
}

/// `ONLY ` for a table with rows of its own (not its inheritance children's); nothing for a
/// partitioned table, whose rows are its partitions'.
fn only(t: &model::TableModel) -> &'static str {
    if t.partitioned {
        ""
    } else {
        "ONLY "
    }
}

/// Tables of at least this many rows are loaded by every session at once, each a range of
/// their chunks in a transaction of its own (a table that fails in any range is emptied).
pub const SPLIT_MIN_ROWS: u64 = 262_144;

/// One piece of the load: a table's chunks `chunks` (all of them, or one range of a table
/// loaded by several sessions at once).
#[derive(Debug, Clone)]
struct Piece {
    table: usize,
    chunks: std::ops::Range<u64>,
    /// The table is loaded in one piece (and may then be written frozen).
    whole: bool,
}

/// The load's pieces, biggest table first; a table of `SPLIT_MIN_ROWS` or more is cut into
/// `streams` ranges of chunks, next to each other so every session works on it at once.
fn pieces(model: &Model, streams: usize) -> Vec<Piece> {
    let mut order: Vec<usize> = (0..model.tables.len()).collect();
    order.sort_by_key(|&t| std::cmp::Reverse(model.tables[t].rows));
    let mut out = Vec::new();
    for t in order {
        let chunks = model.tables[t].rows.div_ceil(model.tables[t].chunk_rows);
        let parts = if streams > 1 && model.tables[t].rows >= SPLIT_MIN_ROWS {
            (streams as u64).min(chunks.max(1))
        } else {
            1
        };
        for i in 0..parts {
            out.push(Piece {
                table: t,
                chunks: chunks * i / parts..chunks * (i + 1) / parts,
                whole: parts == 1,
            });
        }
    }
    out
}

/// The tables loaded in more than one piece.
fn split_tables(model: &Model, streams: usize) -> Vec<String> {
    let pieces = pieces(model, streams);
    let mut names: Vec<String> = pieces
        .iter()
        .filter(|p| !p.whole)
        .map(|p| model.tables[p.table].name.clone())
        .collect();
    names.dedup();
    names
}

/// Loads one piece of a table in its own transaction: a table loaded whole ends complete or
/// empty; a table in pieces is emptied by the caller if any piece fails. `sent` counts the
/// table's rows sent by all its pieces (for progress).
async fn load(
    client: &Client,
    model: Arc<Model>,
    piece: Piece,
    sent_rows: &std::sync::atomic::AtomicU64,
    budget: &Budget,
    progress: &dyn Progress,
) -> std::result::Result<TableLoad, String> {
    let started = Instant::now();
    let t = piece.table;
    let table = &model.tables[t];
    let cols: Vec<String> = table
        .columns
        .iter()
        .filter(|c| !matches!(c.gen, model::Gen::Default))
        .map(|c| ident(&c.name))
        .collect();
    let db = |e: tokio_postgres::Error| crate::capture::db_message(&e);
    client
        .batch_execute("BEGIN; SET LOCAL statement_timeout = 0")
        .await
        .map_err(db)?;
    // The table is empty (checked, or emptied): truncated again in this transaction, COPY can
    // write its rows frozen (no hint-bit or freeze pass later). Where TRUNCATE is refused (a
    // foreign key from a table not seeded), a plain COPY.
    // Small tables skip it: a TRUNCATE costs more than freezing a few thousand rows saves.
    // Pieces of one table load at once: none may truncate (its lock would wait for them all).
    let try_freeze = piece.whole && !table.partitioned && table.rows >= 65_536;
    let freeze = try_freeze
        && client
            .batch_execute(&format!(
                "SAVEPOINT pgparity_truncate; TRUNCATE ONLY {}; RELEASE SAVEPOINT pgparity_truncate",
                table.name
            ))
            .await
            .is_ok();
    if try_freeze && !freeze {
        let _ = client
            .batch_execute("ROLLBACK TO SAVEPOINT pgparity_truncate")
            .await;
    }
    // COPY text, not binary: binary saved the server a third of a lineitem load (dates and
    // numerics unparsed) but cost the client as much in encoding (10% faster on 2 cores), and
    // on PostgreSQL 16+ it flushes 1,000 rows at a time whatever their size, so bulk extension
    // left empty pages at the end of the table (partsupp 152 → 204 pages): more pages, other
    // plans than production's (branch experiment/seed-binary-copy).
    let sink = client
        .copy_in::<_, bytes::Bytes>(&format!(
            "COPY {} ({}) FROM STDIN{}",
            table.name,
            cols.join(", "),
            if freeze { " WITH (FREEZE)" } else { "" }
        ))
        .await
        .map_err(db)?;
    futures_util::pin_mut!(sink);
    let (first, chunks) = (piece.chunks.start, piece.chunks.end);
    // Chunks in flight bounded by bytes, across every load at once: each chunk's share of the
    // budget is taken before it is generated and given back when its memory is freed (the
    // share is owned by the chunk's bytes, whose slices the connection holds until written).
    // Twelve chunks of 4 MB documents were 400 MB while the server was slow to take them; a
    // bound per load grew with the streams. A producer waits for one share holding none
    // (more for the same batch only if they are free), and a share held elsewhere belongs to a
    // chunk on its way to the server: every load can always go on.
    let slots = (IN_FLIGHT_BYTES / table.chunk_bytes.max(1)).clamp(1, 8);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(slots as usize);
    let m = model.clone();
    let budget = budget.clone();
    let producer = tokio::task::spawn_blocking(move || {
        use rayon::prelude::*;
        let batch = (rayon::current_num_threads() as u64 * 2).clamp(1, slots);
        let mut k = first;
        while k < chunks {
            let end = (k + batch).min(chunks);
            let bound = m.tables[t].chunk_bytes;
            let Some(first) = budget.take(bound) else {
                return;
            };
            let mut shares = vec![first];
            shares.extend((k + 1..end).map_while(|_| budget.try_take(bound)));
            let end = k + shares.len() as u64;
            let bufs: Vec<Vec<u8>> = (k..end).into_par_iter().map(|i| chunk(&m, t, i)).collect();
            for (b, share) in bufs.into_iter().zip(shares) {
                let chunk = Chunk {
                    bytes: b,
                    _share: share,
                };
                if tx.blocking_send(bytes::Bytes::from_owner(chunk)).is_err() {
                    return;
                }
            }
            k = end;
        }
    });
    let (mut bytes, mut sent) = (0u64, 0u64);
    let mut failed = None;
    'chunks: while let Some(buf) = rx.recv().await {
        bytes += buf.len() as u64;
        let mut at = 0;
        while at < buf.len() {
            let slice = buf.slice(at..(at + SEND_SLICE).min(buf.len()));
            at += slice.len();
            if let Err(e) = sink.send(slice).await {
                failed = Some(db(e));
                break 'chunks;
            }
        }
        sent += 1;
        let all = sent_rows.fetch_add(table.chunk_rows, std::sync::atomic::Ordering::Relaxed)
            + table.chunk_rows;
        if sent % 16 == 0 {
            progress.step(
                &table.name,
                all.min(table.rows) as usize,
                table.rows as usize,
                "rows",
            );
        }
    }
    drop(rx);
    let _ = producer.await;
    let result = match failed {
        Some(e) => Err(e),
        None => sink.as_mut().finish().await.map_err(db),
    };
    match result {
        Ok(n) => {
            client.batch_execute("COMMIT").await.map_err(db)?;
            if !piece.whole {
                crate::pause::at("seed:range-committed");
            }
            Ok(TableLoad {
                table: table.name.clone(),
                rows: n,
                bytes,
                seconds: started.elapsed().as_secs_f64(),
            })
        }
        Err(e) => {
            let _ = client.batch_execute("ROLLBACK").await;
            Err(e)
        }
    }
}

/// The target's columns of `table` (name, type), or `None` when the table does not exist.
/// The columns of those of `tables` (qualified, quoted names) the target has, in order; a
/// table it lacks is absent from the map. One statement for all: a round trip per table cost
/// seconds at 2,000 tables.
async fn target_columns(
    client: &Client,
    tables: &[&str],
) -> Result<std::collections::HashMap<String, Vec<String>>> {
    let names: Vec<&str> = tables.to_vec();
    let rows = client
        .query_typed(
            "SELECT t.name, a.attname::text FROM unnest($1::text[]) AS t(name) \
             LEFT JOIN pg_attribute a ON a.attrelid = to_regclass(t.name) AND a.attnum > 0 AND NOT a.attisdropped \
             WHERE to_regclass(t.name) IS NOT NULL ORDER BY t.name, a.attnum",
            &[(&names, Type::TEXT_ARRAY)],
        )
        .await
        .map_err(|e| Error::Usage(crate::capture::db_message(&e)))?;
    let mut out: std::collections::HashMap<String, Vec<String>> = Default::default();
    for r in rows {
        let db = |e: tokio_postgres::Error| Error::Usage(crate::capture::db_message(&e));
        let (table, column): (String, Option<String>) =
            (r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?);
        out.entry(table).or_default().extend(column);
    }
    Ok(out)
}

/// A foreign key dropped for the load: (table, constraint name, definition).
type DroppedFk = (String, String, String);

/// Seeds `target` from `snap`'s profile, in phases: the schema (created, or the target's
/// checked against the snapshot), the tables emptied or refused, the load on `streams`
/// sessions, then keys, indexes, constraints, statistics and provenance.
pub async fn seed(
    snap: &Snapshot,
    target: &Target,
    opts: &SeedOptions,
    progress: &dyn Progress,
) -> Result<SeedReport> {
    let started = Instant::now();
    if target.protected {
        return Err(Error::Usage(format!(
            "refusing to seed {}: it is marked protected in the config; hint: seed a staging environment",
            target.name
        )));
    }
    let model = Arc::new(model::build(snap, opts)?);
    let mut report = SeedReport {
        problems: model.problems.clone(),
        skipped: model.skipped.clone(),
        ..Default::default()
    };
    let env = target.name.as_str();
    let client = crate::capture::connect(target).await?;
    finish_stopped_seed(&client, env, &mut report).await?;
    let dropped_fks = if opts.create_schema {
        create_schema(&client, env, snap, &mut report, progress).await?;
        Vec::new()
    } else {
        check_schema(&client, env, snap, &model).await?
    };
    let to_truncate = if opts.create_schema {
        Vec::new() // tables just created are empty
    } else {
        non_empty(&client, env, &model, opts).await?
    };
    for (table, name, _) in &dropped_fks {
        exec(
            &client,
            env,
            &format!("ALTER TABLE {table} DROP CONSTRAINT {}", ident(name)),
        )
        .await?;
    }
    if !to_truncate.is_empty() {
        exec(
            &client,
            env,
            &format!("TRUNCATE {}", to_truncate.join(", ")),
        )
        .await?;
    }
    // Tables loaded in ranges commit range by range: until the load ends they are named in
    // the database's comment, so a seed killed midway is seen (capture says so) and undone
    // (the next seed empties them first).
    let split: Vec<String> = split_tables(&model, opts.streams.max(1));
    if !split.is_empty() {
        let names = serde_json::to_string(&split).expect("names serialize");
        let line = format!("{}{names}", crate::snapshot::SeedProvenance::LOADING);
        rewrite_comment(
            &client,
            env,
            crate::snapshot::SeedProvenance::LOADING,
            Some(line),
        )
        .await?;
    }
    let failures = load_all(target, &model, opts, &mut report, progress).await;
    if !split.is_empty() {
        rewrite_comment(&client, env, crate::snapshot::SeedProvenance::LOADING, None).await?;
    }
    after_load(
        &client,
        target,
        snap,
        opts,
        &dropped_fks,
        &mut report,
        progress,
    )
    .await?;
    report.seconds = started.elapsed().as_secs_f64();
    if !failures.is_empty() {
        return Err(Error::env(
            env,
            format!(
                "{} table(s) could not be loaded and were left empty: {}",
                failures.len(),
                failures.join("; ")
            ),
        ));
    }
    Ok(report)
}

/// The snapshot's schema created on an empty target: extensions (a missing one is a note),
/// types and functions, then the tables, 200 statements a transaction.
async fn create_schema(
    client: &Client,
    env: &str,
    snap: &Snapshot,
    report: &mut SeedReport,
    progress: &dyn Progress,
) -> Result<()> {
    let names: Vec<&str> = snap.schema.tables.keys().map(String::as_str).collect();
    let existing = target_columns(client, &names).await?;
    if let Some(name) = names.iter().find(|n| existing.contains_key(**n)) {
        return Err(Error::env(env, format!("table {name} already exists; hint: drop --create-schema to fill the existing schema, or seed an empty database")));
    }
    progress.start(env, "creating the schema");
    for sql in ddl::extensions(snap) {
        if let Err(e) = exec(client, env, &sql).await {
            report.problems.push(Problem {
                area: "schema".into(),
                message: format!("{e}; what needs the extension will fail below"),
            });
        }
    }
    let before = ddl::before_load(snap);
    for sql in &before.prelude {
        exec(client, env, sql).await?;
    }
    // One session, in order: creating tables on parallel sessions was measured slower
    // (22.6 s against 17.8 s at 2,000 tables: catalog invalidations between sessions).
    let tables: Vec<&str> = before.tables.iter().flatten().map(String::as_str).collect();
    exec_all(client, env, &tables).await?;
    progress.finish(env, "schema created");
    if let Some(note) = ddl::left_out(snap) {
        report.problems.push(Problem {
            area: "schema".into(),
            message: note,
        });
    }
    Ok(())
}

/// The target's tables and columns checked against the snapshot's (every difference named,
/// up to five); returns the foreign keys among seeded tables, dropped for the load and added
/// back after.
async fn check_schema(
    client: &Client,
    env: &str,
    snap: &Snapshot,
    model: &model::Model,
) -> Result<Vec<DroppedFk>> {
    let mut differences = Vec::new();
    let names: Vec<&str> = model.tables.iter().map(|t| t.name.as_str()).collect();
    let existing = target_columns(client, &names).await?;
    for t in &model.tables {
        match existing.get(&t.name) {
            None => differences.push(format!("table {} is missing", t.name)),
            Some(cols) => {
                let have: Vec<&str> = cols.iter().map(String::as_str).collect();
                let want: Vec<&str> = snap.schema.tables[&t.name]
                    .columns
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect();
                for c in &want {
                    if !have.contains(c) {
                        differences.push(format!("{}.{} is missing", t.name, ident(c)));
                    }
                }
                for c in &have {
                    if !want.contains(c) {
                        differences.push(format!("{}.{} is not in the snapshot", t.name, ident(c)));
                    }
                }
            }
        }
    }
    if !differences.is_empty() {
        let n = differences.len();
        differences.truncate(5);
        return Err(Error::env(env, format!(
            "the target's schema differs from the snapshot's ({n} differences: {}{}); hint: migrate the target first, or seed an empty database with --create-schema",
            differences.join(", "),
            if n > 5 { ", ..." } else { "" }
        )));
    }
    // Foreign keys among seeded tables are dropped for the load and added back after.
    let names: Vec<String> = model.tables.iter().map(|t| t.name.clone()).collect();
    let rows = client
        .query_typed(
            "SELECT format('%I.%I', n.nspname, c.relname), con.conname::text, pg_get_constraintdef(con.oid) \
             FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_class p ON p.oid = con.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace \
             WHERE con.contype = 'f' AND format('%I.%I', n.nspname, c.relname) = ANY($1) \
               AND format('%I.%I', pn.nspname, p.relname) = ANY($1) AND con.conparentid = 0",
            &[(&names, Type::TEXT_ARRAY)],
        )
        .await
        .map_err(|e| Error::env(env, crate::capture::db_message(&e)))?;
    rows.iter()
        .map(|r| {
            let get = |i| crate::capture::column::<String>(r, i).map_err(|m| Error::env(env, m));
            Ok((get(0)?, get(1)?, get(2)?))
        })
        .collect::<Result<_>>()
}

/// The seeded tables that hold rows, as `TRUNCATE` targets; an error unless `--truncate`.
/// Asked 500 tables a statement: a round trip per table cost seconds at 2,000 tables.
async fn non_empty(
    client: &Client,
    env: &str,
    model: &model::Model,
    opts: &SeedOptions,
) -> Result<Vec<String>> {
    let (mut non_empty, mut to_truncate) = (Vec::new(), Vec::new());
    for chunk in model.tables.chunks(500) {
        // ONLY: an inheritance parent's children are tables of their own.
        let sql = chunk
            .iter()
            .enumerate()
            .map(|(i, t)| {
                format!(
                    "SELECT {i} WHERE EXISTS (SELECT 1 FROM {}{})",
                    only(t),
                    t.name
                )
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        for r in client
            .query_typed(&sql, &[])
            .await
            .map_err(|e| Error::env(env, crate::capture::db_message(&e)))?
        {
            let i: i32 = r
                .try_get(0)
                .map_err(|e| Error::env(env, crate::capture::db_message(&e)))?;
            let t = &chunk[i as usize];
            non_empty.push(t.name.clone());
            to_truncate.push(format!("{}{}", only(t), t.name));
        }
    }
    if !non_empty.is_empty() && !opts.truncate {
        return Err(Error::env(
            env,
            format!(
                "{} not empty: {}; hint: --truncate empties them first",
                if non_empty.len() == 1 {
                    "table is"
                } else {
                    "tables are"
                },
                non_empty.join(", ")
            ),
        ));
    }
    Ok(to_truncate)
}

/// The load: `streams` sessions, each loading one table after another, biggest first;
/// returns the tables that failed (left empty), with why.
async fn load_all(
    target: &Target,
    model: &Arc<model::Model>,
    opts: &SeedOptions,
    report: &mut SeedReport,
    progress: &dyn Progress,
) -> Vec<String> {
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    let load_started = Instant::now();
    let pieces = pieces(model, opts.streams.max(1));
    // Per table: its pieces not yet finished, and its rows sent (for progress).
    let left: Vec<AtomicUsize> = (0..model.tables.len())
        .map(|_| AtomicUsize::new(0))
        .collect();
    for p in &pieces {
        left[p.table].fetch_add(1, Ordering::Relaxed);
    }
    let sent: Vec<AtomicU64> = (0..model.tables.len()).map(|_| AtomicU64::new(0)).collect();
    let parts: Vec<usize> = left.iter().map(|l| l.load(Ordering::Relaxed)).collect();
    // `streams` sessions, each loading one piece after another (a session per table cost
    // more than loading thousands of small tables); a session a failure broke is replaced.
    let queue = std::sync::Mutex::new(std::collections::VecDeque::from(pieces));
    let budget = Budget::new(IN_FLIGHT_BYTES);
    let workers = (0..opts.streams.max(1)).map(|_| async {
        let mut done = Vec::new();
        let mut session: Option<Client> = None;
        loop {
            let Some(piece) = queue.lock().expect("queue").pop_front() else {
                break;
            };
            let t = piece.table;
            let name = model.tables[t].name.clone();
            if piece.chunks.start == 0 {
                progress.start(
                    &name,
                    &format!(
                        "seeding {} rows",
                        crate::finding::thousands(model.tables[t].rows as f64)
                    ),
                );
            }
            let r = match &session {
                Some(c) if !c.is_closed() => Ok(()),
                _ => crate::capture::connect(target).await.map(|c| {
                    session = Some(c);
                }),
            };
            let r = match r {
                Ok(()) => {
                    let c = session.as_ref().expect("connected above");
                    let r = load(c, model.clone(), piece, &sent[t], &budget, progress).await;
                    if r.is_err() {
                        let _ = c.batch_execute("ROLLBACK").await;
                    }
                    r
                }
                Err(e) => Err(e.to_string()),
            };
            if left[t].fetch_sub(1, Ordering::AcqRel) == 1 {
                progress.finish(&name, "loaded");
            }
            done.push((t, r));
        }
        done
    });
    let results: Vec<(usize, std::result::Result<TableLoad, String>)> =
        futures_util::future::join_all(workers)
            .await
            .into_iter()
            .flatten()
            .collect();
    report.load_seconds = load_started.elapsed().as_secs_f64();
    // Pieces back into tables: a table loads when all its pieces did; one that failed in a
    // piece has the other pieces' rows removed, so it ends empty as a table loaded whole.
    let mut tables: std::collections::BTreeMap<usize, std::result::Result<TableLoad, String>> =
        Default::default();
    for (t, r) in results {
        match (tables.remove(&t), r) {
            (None, r) => tables.insert(t, r),
            (Some(Err(e)), _) | (Some(Ok(_)), Err(e)) => tables.insert(t, Err(e)),
            (Some(Ok(a)), Ok(b)) => tables.insert(
                t,
                Ok(TableLoad {
                    rows: a.rows + b.rows,
                    bytes: a.bytes + b.bytes,
                    seconds: a.seconds.max(b.seconds),
                    ..a
                }),
            ),
        };
    }
    let mut failures = Vec::new();
    for (t, r) in tables {
        match r {
            Ok(l) => report.tables.push(l),
            Err(e) if parts[t] > 1 => {
                let name = &model.tables[t].name;
                let emptied = empty_table(target, &model.tables[t]).await;
                failures.push(match emptied {
                    Ok(()) => format!("{name}: {e}"),
                    Err(why) => format!(
                        "{name}: {e} (and the rows its other sessions loaded could not be removed: {why};                          hint: TRUNCATE it before seeding again)"
                    ),
                });
            }
            Err(e) => failures.push(format!("{}: {e}", model.tables[t].name)),
        }
    }
    report.tables.sort_by(|a, b| a.table.cmp(&b.table));
    failures
}

/// Removes every row of a table loaded in pieces of which one failed: TRUNCATE, or DELETE
/// where TRUNCATE is refused (a foreign key from a table not seeded).
async fn empty_table(
    target: &Target,
    table: &model::TableModel,
) -> std::result::Result<(), String> {
    let client = crate::capture::connect(target)
        .await
        .map_err(|e| e.to_string())?;
    let db = |e: tokio_postgres::Error| crate::capture::db_message(&e);
    let truncate = format!("TRUNCATE {}{}", only(table), table.name);
    if client.batch_execute(&truncate).await.is_ok() {
        return Ok(());
    }
    client
        .batch_execute(&format!("DELETE FROM {}{}", only(table), table.name))
        .await
        .map_err(db)
}

/// After the load: keys, indexes and checks on parallel sessions, foreign keys in order,
/// sequences; a constraint the rows break is added NOT VALID (and said); ANALYZE; the
/// provenance comment.
async fn after_load(
    client: &Client,
    target: &Target,
    snap: &Snapshot,
    opts: &SeedOptions,
    dropped_fks: &[DroppedFk],
    report: &mut SeedReport,
    progress: &dyn Progress,
) -> Result<()> {
    let env = target.name.as_str();
    progress.start(env, "adding keys, indexes and constraints");
    let after = if opts.create_schema {
        ddl::after_load(snap)
    } else {
        ddl::AfterLoad {
            single_table: Vec::new(),
            foreign_keys: dropped_fks
                .iter()
                .map(|(table, name, def)| {
                    format!("ALTER TABLE {table} ADD CONSTRAINT {} {def}", ident(name))
                })
                .collect(),
            sequences: Vec::new(),
        }
    };
    let sessions = opts.streams.max(1);
    let mut outcomes = run_many(target, &after.single_table, sessions).await?;
    for sql in &after.foreign_keys {
        outcomes.push((sql.clone(), exec(client, env, sql).await));
    }
    outcomes.extend(run_many(target, &after.sequences, sessions).await?);
    for (sql, r) in outcomes {
        let Err(e) = r else { continue };
        // A check or foreign key the generated rows break (a form seed cannot honour) is
        // still added, NOT VALID, so new rows are checked; the note says which.
        let retry = sql.contains(" ADD CONSTRAINT ")
            && (sql.contains(" CHECK ") || sql.contains(" FOREIGN KEY "))
            && exec(client, env, &format!("{sql} NOT VALID")).await.is_ok();
        report.problems.push(Problem {
            area: "constraints".into(),
            message: if retry {
                format!("{e}; added NOT VALID: the generated rows do not all satisfy it")
            } else {
                e.to_string()
            },
        });
    }
    let analyze: Vec<String> = report
        .tables
        .iter()
        .map(|t| format!("ANALYZE {}", t.table))
        .collect();
    for (_, r) in run_many(target, &analyze, sessions).await? {
        r?;
    }
    if let Err(e) = record_provenance(client, env, snap, opts).await {
        report.problems.push(Problem {
            area: "provenance".into(),
            message: format!("{e}; a later check of this database against the snapshot will compare categories by identity (hint: seed as the database's owner)"),
        });
    }
    progress.finish(env, "constraints added, tables analyzed");
    Ok(())
}
