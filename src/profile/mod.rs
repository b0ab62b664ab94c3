//! Profile: measured truth about the data, read safely from a live environment. Tables are
//! profiled in parallel by a small pool of read-only sessions; each table is read in one pass
//! for all its columns (`COPY (SELECT ... TABLESAMPLE ...) TO STDOUT`), and the rows are
//! measured in parallel per column (rayon) with bounded memory. Foreign-key fan-out is computed
//! by the server, one aggregate per relationship. Anything that cannot be measured becomes a
//! recorded problem and the run goes on.

pub(crate) mod accum;
mod copytext;
mod fanout;
mod partitions;
mod plan;
mod read;
mod table;

use std::collections::BTreeMap;
use std::hash::Hasher;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio_postgres::types::Type;

use crate::capture::sessions::{Session, Sessions};
use std::time::Duration;

use rayon::prelude::*;
use siphasher::sip::SipHasher24;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::capture::{self, column, CaptureOptions, Target};
use crate::progress::Progress;
use crate::snapshot::measure::{kind_of, Kind};
use crate::snapshot::{
    ConstraintKind, Method, Problem, Profile, ProfileTables, RelationshipProfile, SampleKind,
    Snapshot, Table, TableKind, TableProfile, FANOUT_QUANTILES,
};
use accum::ColumnAcc;
use fanout::*;
use plan::*;
use read::*;
use table::*;

/// How profiling behaves.
#[derive(Debug, Clone)]
pub struct ProfileOptions {
    /// Rows to sample per table; `None`: 300 × the server's default_statistics_target, as ANALYZE.
    pub sample_rows: Option<u64>,
    /// Read every row.
    pub exact: bool,
    /// Tables profiled at once (sessions opened).
    pub concurrency: usize,
    /// TABLESAMPLE ... REPEATABLE seed.
    pub seed: u32,
    /// The secret the value hashes are keyed with; `None`: a built-in key (hashes comparable
    /// between environments but not protected against lookup).
    pub hash_key: Option<String>,
    /// Keep raw frequent values (explicit opt-in).
    pub raw_values: bool,
    /// statement_timeout for profiling queries.
    pub statement_timeout: Duration,
    /// Sessions reading one large table at once when every row is read (PostgreSQL 14+:
    /// ranges of its blocks, one exported snapshot); 1 reads every table in one stream.
    pub streams: usize,
    /// Tables read whole of at least this many bytes are read in `streams` streams.
    pub stream_min_bytes: i64,
    /// Small tables (read whole, under 40,000 rows) read by one statement; 1 reads each
    /// table on its own.
    pub tables_per_statement: usize,
}

/// Streams per large table by default: one per core, at most 4.
pub fn default_streams() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4))
}

impl Default for ProfileOptions {
    fn default() -> Self {
        ProfileOptions {
            sample_rows: None,
            exact: false,
            concurrency: 2,
            seed: 42,
            hash_key: None,
            raw_values: false,
            statement_timeout: Duration::from_secs(300),
            streams: default_streams(),
            stream_min_bytes: 64 << 20,
            tables_per_statement: 100,
        }
    }
}

/// A relationship to profile: declared on either side, or configured.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RelSpec {
    pub child: String,
    pub child_columns: Vec<String>,
    pub parent: String,
    pub parent_columns: Vec<String>,
}

impl RelSpec {
    pub fn key(&self) -> String {
        format!(
            "{}({})->{}({})",
            self.child,
            self.child_columns.join(","),
            self.parent,
            self.parent_columns.join(",")
        )
    }

    /// Every foreign key a snapshot declares.
    pub fn declared(snap: &Snapshot) -> Vec<RelSpec> {
        snap.schema
            .constraints
            .values()
            .filter(|c| c.kind == ConstraintKind::ForeignKey && c.references.is_some())
            .map(|c| RelSpec {
                child: c.table.clone(),
                child_columns: c.columns.clone(),
                parent: c.references.clone().unwrap_or_default(),
                parent_columns: c.ref_columns.clone(),
            })
            .collect()
    }
}

/// Identifiers in generated SQL, quoted by the one quoter.
pub(crate) use crate::sql::ident;

/// Text values longer than this (in bytes) are measured without being sent whole: the server
/// sends their byte and character lengths and their first and last 2 KB (the classes are read
/// from those), behind [`accum::LONG_MARKER`].
pub const LONG_VALUE: usize = 65_536;

/// What a worker needs to profile tables.
struct Job<'a> {
    /// Streams one table may be read in: --max-connections shared by the lanes.
    max_streams: usize,
    target: &'a Target,
    /// The profiling sessions' settings (for the extra sessions of a table read in streams).
    session_opts: &'a CaptureOptions,
    snap: &'a Snapshot,
    opts: &'a ProfileOptions,
    key: (u64, u64),
    sample_rows: u64,
    /// Sizes of every ordinary table, read in one statement up front (a statement per
    /// table cost more than reading thousands of small tables).
    sizes: std::collections::HashMap<String, Sizes>,
    /// Set when a session is gone (server restarted, backend terminated): the run fails.
    lost: std::sync::Mutex<Option<String>>,
    /// Groups read but still being measured (off their session): a permit each.
    measuring: std::sync::Arc<tokio::sync::Semaphore>,
    /// The tables profiled so far, kept as bytes as each is done (never all parsed at once).
    store: std::sync::Arc<std::sync::Mutex<Store>>,
}

/// A table's sizes and the planner's row estimate.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    table_bytes: i64,
    index_bytes: i64,
    pages: i64,
    reltuples: Option<f64>,
    analyzed: bool,
}

/// Profiles every table and relationship of a captured environment.
pub async fn profile(
    target: &Target,
    snap: &Snapshot,
    extra: &[RelSpec],
    opts: &ProfileOptions,
    capture_opts: &CaptureOptions,
    progress: &dyn Progress,
) -> crate::error::Result<(Profile, Vec<Problem>)> {
    let (key, key_id) = keys(opts.hash_key.as_deref());
    let target_stat = u64::from(snap.default_statistics_target());
    let sample_rows = opts.sample_rows.unwrap_or(300 * target_stat).max(100);
    // Profiling sessions wait longer per statement than the catalog capture: a table is read
    // whole (or sampled) in one statement.
    let session_opts = CaptureOptions {
        statement_timeout: opts.statement_timeout,
        ..capture_opts.clone()
    };
    let mut problems = Vec::new();
    let queue = queue(snap, &mut problems);
    // Sessions within --max-connections: every lane may read a large table in streams at
    // once, each stream a session of its own.
    let n = opts
        .concurrency
        .min(capture_opts.max_connections)
        .max(1)
        .min(queue.len().max(1));
    let max_streams = (capture_opts.max_connections / n).max(1);
    let sessions = match Sessions::open(target, &session_opts, n, SESSION_SETUP).await {
        Ok(s) => s,
        Err(e) => {
            problems.push(Problem {
                area: "profile".into(),
                message: e.to_string(),
            });
            let empty = Profile {
                hash_key_id: key_id,
                raw_values: opts.raw_values,
                sample_rows,
                ..Default::default()
            };
            return Ok((empty, problems));
        }
    };
    let job = Job {
        max_streams,
        target,
        session_opts: &session_opts,
        snap,
        opts,
        key,
        sample_rows,
        sizes: all_sizes(sessions.first()).await,
        lost: std::sync::Mutex::new(None),
        // One group more than the sessions: each session reads its next group while the
        // last is measured, and at most this many groups' rows are held (each ≤ GROUP_BYTES).
        measuring: std::sync::Arc::new(tokio::sync::Semaphore::new(n + 1)),
        store: Default::default(),
    };
    let measured = read_tables(&sessions, &job, queue, progress).await;
    if let Some(m) = job.lost.lock().expect("lost").take() {
        return Err(capture::lost_error(&target.name, "profile", &m));
    }
    let Store { tables, failed } = std::mem::take(&mut *job.store.lock().expect("store"));
    if let Some(e) = failed {
        return Err(e);
    }
    for (name, r) in measured {
        let notes = r.unwrap_or_else(|e| vec![e]);
        problems.extend(notes.into_iter().map(|message| Problem {
            area: format!("profile {name}"),
            message,
        }));
    }
    let relationships = relationships(&sessions, snap, extra, &job, &mut problems).await;
    let profile = Profile {
        hash_key_id: key_id,
        raw_values: opts.raw_values,
        sample_rows,
        tables,
        relationships,
    };
    Ok((profile, problems))
}

/// The tables to profile: partitions through their parent, foreign tables not at all (said
/// as a problem).
fn queue<'s>(snap: &'s Snapshot, problems: &mut Vec<Problem>) -> Vec<(&'s String, &'s Table)> {
    let mut queue = Vec::new();
    for (name, table) in &snap.schema.tables {
        if table.kind == TableKind::Foreign {
            problems.push(Problem {
                area: format!("profile {name}"),
                message: "foreign table: not profiled (it would read a remote server)".into(),
            });
        } else if table.parent.is_some() && table.partition_bound.is_some() {
            // Partitions are profiled through their parent; inheritance children hold rows of
            // their own and are profiled like any table (their parent with ONLY).
        } else {
            queue.push((name, table));
        }
    }
    queue
}

/// Every table read on the lanes, a table alone or small ones grouped; each table's notes
/// (or why it has no profile), in order, once its profile is in the store.
async fn read_tables<'s>(
    sessions: &Sessions,
    job: &Job<'_>,
    queue: Vec<(&'s String, &'s Table)>,
    progress: &dyn Progress,
) -> Vec<(&'s String, Kept)> {
    let total = queue.len();
    let done = AtomicUsize::new(0);
    let units = units(job, queue);
    let read = sessions
        .run(&units, |client, unit| {
            let done = &done;
            async move {
                let r = match unit {
                    // The store cannot keep profiles (a full temporary folder): the run
                    // fails, so the tables left are not read.
                    _ if job.store.lock().expect("store").failed.is_some() => {
                        let names = match unit {
                            Unit::One(name, _) => vec![*name],
                            Unit::Group(tables) => tables.iter().map(|(n, _)| *n).collect(),
                        };
                        Read::Done(names.into_iter().map(|n| (n, Ok(Vec::new()))).collect())
                    }
                    Unit::One(name, table) => {
                        let outcome = profile_table(client, job, name, table).await;
                        Read::Done(vec![(*name, Store::keep(&job.store, name, outcome))])
                    }
                    Unit::Group(tables) => profile_group(client, job, tables).await,
                };
                let d = done.fetch_add(r.len(), Ordering::Relaxed) + r.len();
                progress.step(&job.target.name, d, total, "tables profiled");
                r
            }
        })
        .await;
    let mut measured = Vec::new();
    for r in read {
        match r {
            Read::Done(v) => measured.extend(v),
            Read::Measuring(names, handle) => measured.extend(
                names.into_iter().zip(
                    handle
                        .await
                        .expect("measuring a group's tables ends without panicking"),
                ),
            ),
        }
    }
    measured
}

/// Every foreign key's fan-out (declared on the snapshot's side, or asked for), one server
/// aggregate each; a relationship whose tables are missing is left to the schema comparison.
async fn relationships(
    sessions: &Sessions,
    snap: &Snapshot,
    extra: &[RelSpec],
    job: &Job<'_>,
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, RelationshipProfile> {
    let mut relationships = BTreeMap::new();
    let mut rels: Vec<RelSpec> = RelSpec::declared(snap);
    rels.extend(extra.iter().cloned());
    rels.sort();
    rels.dedup();
    for rel in rels.into_iter().filter(|rel| exists(snap, rel)) {
        match fanout(sessions.first(), &rel, job).await {
            Ok(r) => {
                relationships.insert(rel.key(), r);
            }
            Err(e) => problems.push(Problem {
                area: format!("relationship {}", rel.key()),
                message: e,
            }),
        }
    }
    relationships
}

/// Dates and timestamps are read on the client in ISO style, in UTC.
const SESSION_SETUP: &str =
    "SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL TimeZone = 'UTC'; SET LOCAL extra_float_digits = 1";

/// How a table's rows are read and measured.
struct Plan {
    kinds: Vec<(String, Kind)>,
    /// What the COPY sends for each column.
    expressions: Vec<String>,
    /// Each expression's result type (`result_type`). Tables read together whose
    /// expressions at a place share it send them as they are (no cast to text).
    shape: Vec<String>,
    reading: Reading,
}

/// What one profiling statement reads: a table, or several small tables at once.
enum Unit<'s> {
    One(&'s String, &'s Table),
    Group(Vec<(&'s String, &'s Table)>),
}

/// Small tables are read whole under this many estimated rows: below the reservoir's size,
/// where the order rows arrive in changes nothing.
const SMALL_ROWS: f64 = 40_000.0;

/// ... and this many bytes (TOAST included: a bound on the values they hold).
const SMALL_BYTES: i64 = 8 << 20;

/// A group's tables hold at most this many bytes together.
const GROUP_BYTES: i64 = 32 << 20;

/// Rows measured per batch.
const BATCH_ROWS: usize = 65_536;

/// What a session's statement gave: tables profiled, or a group's tables read and being
/// measured off the session (their results in the group's order).
enum Read<'s> {
    Done(Vec<(&'s String, Kept)>),
    Measuring(Vec<&'s String>, tokio::task::JoinHandle<Vec<Kept>>),
}

/// A table's profile with its notes, or why it has none.
type Outcome = Result<(TableProfile, Vec<String>), String>;

/// A table's notes once its profile is in the store, or why it has none.
type Kept = Result<Vec<String>, String>;

/// The tables profiled so far, and the first error writing them.
#[derive(Default)]
struct Store {
    tables: ProfileTables,
    failed: Option<crate::error::Error>,
}

impl Store {
    /// Puts a table's profile into the store as soon as it is measured: a profile of 20,000
    /// tables held parsed until the end was most of the run's memory.
    fn keep(store: &std::sync::Mutex<Store>, name: &str, outcome: Outcome) -> Kept {
        let (tp, notes) = outcome?;
        let mut s = store.lock().expect("the store's lock is never poisoned");
        if let Err(e) = s.tables.insert(name.to_string(), &tp) {
            s.failed.get_or_insert(e);
        }
        drop(s);
        crate::pause::at("profile:table");
        Ok(notes)
    }
}

impl Read<'_> {
    fn len(&self) -> usize {
        match self {
            Read::Done(v) => v.len(),
            Read::Measuring(names, _) => names.len(),
        }
    }
}

/// A table of a group: its accumulators, its last batch (not yet measured) and its rows.
type GroupRead = (Vec<ColumnAcc>, copytext::Batch, u64);

/// At most this many sessions read one table.
const MAX_STREAMS: usize = 16;

/// What measuring a table's rows needs, owned (a stream runs as a task of its own).
#[derive(Clone)]
struct Reading {
    kinds: Vec<Kind>,
    key: (u64, u64),
    seed: u64,
    raw_values: bool,
    /// Streams reading the table at once: each batches a share of the rows.
    share: usize,
    /// The rows the statistics expect (0: unknown), for sizing the count maps.
    rows_hint: u64,
}

impl Reading {
    fn new(kinds: &[(String, Kind)], job: &Job) -> Reading {
        Reading {
            kinds: kinds.iter().map(|(_, k)| *k).collect(),
            key: job.key,
            seed: job.opts.seed as u64,
            raw_values: job.opts.raw_values,
            share: 1,
            rows_hint: 0,
        }
    }

    fn accumulators(&self) -> Vec<ColumnAcc> {
        self.kinds
            .iter()
            .enumerate()
            .map(|(i, k)| {
                ColumnAcc::new(
                    *k,
                    self.key,
                    self.seed ^ ((i as u64) << 20),
                    self.raw_values,
                )
                .expecting(self.rows_hint)
            })
            .collect()
    }
}
