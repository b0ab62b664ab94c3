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
mod loading;
mod marks;
pub mod model;
pub mod pattern;
mod schema;
mod statements;
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

use loading::*;
use marks::*;
use schema::*;
use statements::*;

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
