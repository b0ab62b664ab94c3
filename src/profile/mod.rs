//! Profile: measured truth about the data, read safely from a live environment. Tables are
//! profiled in parallel by a small pool of read-only sessions; each table is read in one pass
//! for all its columns (`COPY (SELECT ... TABLESAMPLE ...) TO STDOUT`), and the rows are
//! measured in parallel per column (rayon) with bounded memory. Foreign-key fan-out is computed
//! by the server, one aggregate per relationship. Anything that cannot be measured becomes a
//! recorded problem and the run goes on.

pub(crate) mod accum;
mod copytext;

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

fn keys(secret: Option<&str>) -> ((u64, u64), String) {
    let secret = secret.unwrap_or("pgparity built-in key: hashes are comparable, not secret");
    let h = |tag: u64| {
        let mut s = SipHasher24::new_with_keys(tag, !tag);
        s.write(secret.as_bytes());
        s.finish()
    };
    let id = if secret.starts_with("pgparity built-in key") {
        "built-in".to_string()
    } else {
        format!("{:016x}", h(3))
    };
    ((h(1), h(2)), id)
}

/// Identifiers in generated SQL, quoted by the one quoter.
pub(crate) use crate::sql::ident;

/// Text values longer than this (in bytes) are measured without being sent whole: the server
/// sends their byte and character lengths and their first and last 2 KB (the classes are read
/// from those), behind [`accum::LONG_MARKER`].
pub const LONG_VALUE: usize = 65_536;

/// What the COPY sends for a column. With `wide` (the table's rows average over 2 KB: some
/// values may be huge), text-like columns go through the long-value guard.
fn expression(kind: Kind, col: &str, data_type: &str, wide: bool) -> String {
    let c = ident(col);
    if wide && matches!(kind, Kind::Text | Kind::Char | Kind::Json | Kind::Other) {
        let t = format!("{c}::text");
        return format!(
            "CASE WHEN octet_length({t}) > {LONG_VALUE} THEN {} || octet_length({t}) || ':' || char_length({t}) || ':' \
             || left({t}, 2048) || right({t}, 2048) ELSE {t} END",
            crate::sql::literal(accum::LONG_MARKER)
        );
    }
    match kind {
        // Sent as stored: the cheapest output (dates and timestamps parse on the client,
        // character(n) loses its padding there).
        Kind::Number | Kind::Text | Kind::Char | Kind::Boolean | Kind::Enum | Kind::Json => c,
        Kind::Temporal if data_type.starts_with("date") || data_type.starts_with("timestamp") => c,
        Kind::Temporal => format!("extract(epoch from {c})::float8"),
        Kind::Bytea => format!("octet_length({c})::text || ':' || md5({c})"),
        Kind::Array => format!("coalesce(cardinality({c}), 0)::text || ':' || md5({c}::text)"),
        // Any other type is measured through its text output: nulls, distinct, lengths and
        // character classes (never skipped).
        Kind::Other => format!("{c}::text"),
    }
}

/// The type of what `expression` sends for a column: its own type where it is sent as it
/// is, else text (or float8 for intervals and times). Kept beside `expression`: were the two
/// to disagree, a group's statement would fail on mismatched types and its tables be read
/// one by one (slower, the same profiles).
fn result_type(kind: Kind, data_type: &str, wide: bool) -> String {
    let guarded = wide && matches!(kind, Kind::Text | Kind::Char | Kind::Json | Kind::Other);
    match kind {
        _ if guarded => "text".into(),
        Kind::Other | Kind::Bytea | Kind::Array => "text".into(),
        Kind::Temporal
            if !(data_type.starts_with("date") || data_type.starts_with("timestamp")) =>
        {
            "float8".into()
        }
        _ => data_type.into(),
    }
}

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

/// The sizes of every ordinary table, in one statement; empty if it cannot be read (each
/// table is then measured on its own).
async fn all_sizes(client: &Session) -> std::collections::HashMap<String, Sizes> {
    let rows = client
        .transaction(|c| c.query_typed(
            "SELECT format('%I.%I', n.nspname, c.relname), pg_table_size(c.oid)::bigint, pg_indexes_size(c.oid)::bigint, \
             (pg_relation_size(c.oid) / current_setting('block_size')::bigint)::bigint, greatest(c.reltuples, 0)::float8, \
             c.reltuples >= 0 \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'",
            &[],
        ))
        .await
        .unwrap_or_default();
    let sizes = |r: &tokio_postgres::Row| -> Result<(String, Sizes), String> {
        Ok((
            column(r, 0)?,
            Sizes {
                table_bytes: column(r, 1)?,
                index_bytes: column(r, 2)?,
                pages: column(r, 3)?,
                reltuples: column(r, 4)?,
                analyzed: column(r, 5)?,
            },
        ))
    };
    rows.iter()
        .map(sizes)
        .collect::<Result<_, _>>()
        .unwrap_or_default()
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
    let target_stat = snap
        .inventory
        .settings
        .get("default_statistics_target")
        .and_then(|s| s.value.parse::<u64>().ok())
        .unwrap_or(100);
    let sample_rows = opts.sample_rows.unwrap_or(300 * target_stat).max(100);
    // Profiling sessions wait longer per statement than the catalog capture: a table is read
    // whole (or sampled) in one statement.
    let session_opts = CaptureOptions {
        statement_timeout: opts.statement_timeout,
        ..capture_opts.clone()
    };
    let mut problems = Vec::new();
    let mut queue: Vec<(&String, &Table)> = Vec::new();
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
    let total = queue.len();
    let done = AtomicUsize::new(0);
    let units = units(&job, queue);
    let read = sessions
        .run(&units, |client, unit| {
            let (job, done) = (&job, &done);
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
                progress.step(&target.name, d, total, "tables profiled");
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
    if let Some(m) = job.lost.lock().expect("lost").take() {
        return Err(capture::lost_error(&target.name, "profile", &m));
    }
    let Store { tables, failed } = std::mem::take(&mut *job.store.lock().expect("store"));
    if let Some(e) = failed {
        return Err(e);
    }
    for (name, r) in measured {
        match r {
            Ok(notes) => {
                for n in notes {
                    problems.push(Problem {
                        area: format!("profile {name}"),
                        message: n,
                    });
                }
            }
            Err(e) => problems.push(Problem {
                area: format!("profile {name}"),
                message: e,
            }),
        }
    }

    let mut relationships = BTreeMap::new();
    let mut rels: Vec<RelSpec> = RelSpec::declared(snap);
    rels.extend(extra.iter().cloned());
    rels.sort();
    rels.dedup();
    for rel in rels {
        if !exists(snap, &rel) {
            continue; // the schema comparison reports what is missing
        }
        match fanout(sessions.first(), &rel, &job).await {
            Ok(r) => {
                relationships.insert(rel.key(), r);
            }
            Err(e) => problems.push(Problem {
                area: format!("relationship {}", rel.key()),
                message: e,
            }),
        }
    }
    let profile = Profile {
        hash_key_id: key_id,
        raw_values: opts.raw_values,
        sample_rows,
        tables,
        relationships,
    };
    Ok((profile, problems))
}

/// Dates and timestamps are read on the client in ISO style, in UTC.
const SESSION_SETUP: &str =
    "SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL TimeZone = 'UTC'; SET LOCAL extra_float_digits = 1";

fn exists(snap: &Snapshot, rel: &RelSpec) -> bool {
    let has = |t: &str, cols: &[String]| {
        snap.schema
            .tables
            .get(t)
            .is_some_and(|tb| cols.iter().all(|c| tb.columns.iter().any(|x| &x.name == c)))
    };
    !rel.child_columns.is_empty()
        && rel.child_columns.len() == rel.parent_columns.len()
        && has(&rel.child, &rel.child_columns)
        && has(&rel.parent, &rel.parent_columns)
}

/// Sampling clause and the share of the table it reads.
fn sampling(job: &Job, est_rows: Option<f64>, pages: i64) -> (String, Method, f64) {
    let target = job.sample_rows as f64;
    let rows = est_rows.filter(|r| *r > 0.0).unwrap_or(pages as f64 * 50.0);
    let small = est_rows.map_or(pages <= 128, |r| r <= 2.0 * target);
    let percent = if rows > 0.0 {
        (100.0 * target / rows).clamp(0.0001, 100.0)
    } else {
        100.0
    };
    // Small tables, and samples that would read half the table anyway, are read whole.
    if job.opts.exact || small || percent >= 50.0 {
        let method = Method {
            kind: SampleKind::Exact,
            percent: None,
            rows_read: 0,
            streams: None,
        };
        return (String::new(), method, 1.0);
    }
    // SYSTEM samples whole pages: only where that means many pages (a handful of pages may
    // hold no row at all, and clusters rows); else BERNOULLI, row by row.
    let pages_sampled = pages as f64 * percent / 100.0;
    let kind = if rows <= 100.0 * target || pages_sampled < 100.0 {
        SampleKind::Bernoulli
    } else {
        SampleKind::System
    };
    let clause = format!(
        " TABLESAMPLE {} ({percent:.6}) REPEATABLE ({})",
        kind.as_str().to_uppercase(),
        job.opts.seed
    );
    (
        clause,
        Method {
            kind,
            percent: Some(percent),
            rows_read: 0,
            streams: None,
        },
        percent / 100.0,
    )
}

/// One table's sizes, summed over partitions for a partitioned table (its own relation is
/// empty): a never-analyzed partitioned table must not be read whole.
async fn table_sizes(client: &Session, name: &str) -> Result<Sizes, String> {
    let param = [(
        &name as &(dyn tokio_postgres::types::ToSql + Sync),
        Type::TEXT,
    )];
    let sizes = client
        .transaction(|c| c.query_typed_one(
            "WITH r AS (SELECT to_regclass($1) AS c), \
             parts AS (SELECT p.relid, p.isleaf FROM r, pg_partition_tree(r.c) p \
                       UNION ALL SELECT r.c, true FROM r WHERE NOT EXISTS (SELECT 1 FROM pg_partition_tree(r.c))) \
             SELECT sum(pg_table_size(relid))::bigint, sum(pg_indexes_size(relid))::bigint, \
               (sum(pg_relation_size(relid)) FILTER (WHERE isleaf) / current_setting('block_size')::bigint)::bigint, \
               (sum(greatest(k.reltuples, 0)) FILTER (WHERE isleaf))::float8, \
               bool_and(k.reltuples >= 0) FILTER (WHERE isleaf), \
               (SELECT c FROM r) IS NOT NULL \
             FROM parts JOIN pg_class k ON k.oid = parts.relid",
            &param,
        ))
        .await
        .map_err(|e| capture::db_message(&e))?;
    if !column::<bool>(&sizes, 5)? {
        return Err("the table was dropped during the run".into());
    }
    Ok(Sizes {
        table_bytes: column::<Option<i64>>(&sizes, 0)?.unwrap_or(0),
        index_bytes: column::<Option<i64>>(&sizes, 1)?.unwrap_or(0),
        pages: column::<Option<i64>>(&sizes, 2)?.unwrap_or(0),
        reltuples: column(&sizes, 3)?,
        analyzed: column::<Option<bool>>(&sizes, 4)?.unwrap_or(false),
    })
}

async fn profile_table(
    client: &Session,
    job: &Job<'_>,
    name: &str,
    table: &Table,
) -> Result<(TableProfile, Vec<String>), String> {
    let mut notes = Vec::new();
    // Sizes and the planner's row estimate, summed over partitions for a partitioned table
    // (its own relation is empty): a never-analyzed partitioned table must not be read whole.
    let known = job.sizes.get(name).copied();
    let sizes = match known {
        Some(s) => s,
        None => table_sizes(client, name).await?,
    };
    let Plan {
        kinds,
        expressions,
        reading,
        ..
    } = plan(job, table, &sizes);
    let Sizes {
        table_bytes, pages, ..
    } = sizes;
    let (mut clause, mut method, mut fraction) = sampling(job, estimate(&sizes), pages);
    let select = if expressions.is_empty() {
        "NULL".to_string()
    } else {
        expressions.join(", ")
    };
    let mut attempt = 0;
    let mut conflicted = false;
    let mut streamed = None;
    let streams = job.opts.streams.min(MAX_STREAMS).min(job.max_streams);
    if method.kind == SampleKind::Exact
        && streams > 1
        && table.kind != TableKind::Partitioned
        && table_bytes >= job.opts.stream_min_bytes
        && pages >= streams as i64
        && job.snap.inventory.server_version_num >= 140_000
    {
        match read_streams(client, job, name, &select, pages, streams, &reading).await {
            Ok(Some((accs, rows, n))) => {
                method.streams = Some(n as u32);
                streamed = Some((accs, rows));
            }
            Ok(None) => {}
            Err(e) => notes.push(format!(
                "reading in {streams} streams failed ({}); read in one",
                capture::db_message(&e)
            )),
        }
    }
    let (accs, rows_read) = loop {
        if let Some(done) = streamed.take() {
            break done;
        }
        let only = if table.kind == TableKind::Partitioned {
            ""
        } else {
            "ONLY "
        };
        let sql = format!("COPY (SELECT {select} FROM {only}{name}{clause}) TO STDOUT");
        match client.transaction(|c| read_table(c, &sql, &reading)).await {
            Ok(r) => break r,
            Err(e) if e.code() == Some(&SqlState::QUERY_CANCELED) && attempt < 2 => {
                attempt += 1;
                let p = method.percent.unwrap_or(100.0) / 10.0;
                notes.push(format!(
                    "statement_timeout while reading {}; retried with a {p:.4} % block sample",
                    if method.kind == SampleKind::Exact {
                        "every row".to_string()
                    } else {
                        format!("a {:.4} % sample", method.percent.unwrap_or(0.0))
                    }
                ));
                (clause, method, fraction) = block_sample(p, job.opts.seed);
            }
            // A standby cancels a read that holds back the replay of its primary's changes
            // (max_standby_streaming_delay): once more with a ten times smaller block sample,
            // a shorter read, then not measured, with the settings that decide it.
            Err(e) if recovery_conflict(&e) && !conflicted => {
                conflicted = true;
                let p = method.percent.unwrap_or(100.0) / 10.0;
                notes.push(format!(
                    "the standby cancelled the read for a conflict with recovery; retried with a {p:.4} % block sample"
                ));
                (clause, method, fraction) = block_sample(p, job.opts.seed);
            }
            Err(e) if recovery_conflict(&e) => {
                return Err(format!(
                    "not measured: the standby cancelled the read twice for a conflict with recovery ({}); hint: raise max_standby_streaming_delay or turn hot_standby_feedback on on the standby, or profile the primary",
                    capture::db_message(&e)
                ));
            }
            Err(e) if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => {
                return Err("no SELECT privilege: not profiled; hint: GRANT SELECT on it to the capture role".into());
            }
            Err(e) if capture::connection_lost(&e) => {
                let m = capture::db_message(&e);
                *job.lost.lock().expect("lost") = Some(m.clone());
                return Err(m);
            }
            Err(e) => return Err(format!("could not be read: {}", capture::db_message(&e))),
        }
    };
    method.rows_read = rows_read;
    Ok((finished(accs, &kinds, method, fraction, &sizes), notes))
}

/// A table's profile from its columns' accumulators over `method.rows_read` rows.
fn finished(
    accs: Vec<ColumnAcc>,
    kinds: &[(String, Kind)],
    method: Method,
    fraction: f64,
    sizes: &Sizes,
) -> TableProfile {
    let rows_read = method.rows_read;
    let exact = method.kind == SampleKind::Exact;
    let finish = |(acc, (name, _)): (ColumnAcc, &(String, Kind))| {
        (name.clone(), Box::new(acc.finish(fraction)))
    };
    // Columns of a small table are finished right here: waking the thread pool for each of
    // thousands of small tables cost more than their sorting.
    let columns = if rows_read < 65_536 {
        accs.into_iter().zip(kinds).map(finish).collect()
    } else {
        accs.into_par_iter()
            .zip(kinds.par_iter())
            .map(finish)
            .collect::<BTreeMap<_, _>>()
    };
    let rows = if exact {
        rows_read as f64
    } else {
        (rows_read as f64 / fraction).round()
    };
    TableProfile {
        method,
        rows,
        rows_exact: exact,
        table_bytes: sizes.table_bytes,
        index_bytes: sizes.index_bytes,
        columns,
    }
}

/// The planner's row estimate, where it is one: PostgreSQL 13 reports 0 rows (not -1) for a
/// never-analyzed table.
fn estimate(s: &Sizes) -> Option<f64> {
    s.reltuples
        .filter(|r| s.analyzed && (*r > 0.0 || s.pages <= 128))
}

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

fn plan(job: &Job, table: &Table, sizes: &Sizes) -> Plan {
    let est = estimate(sizes);
    let kinds: Vec<(String, Kind)> = table
        .columns
        .iter()
        .map(|c| (c.name.clone(), kind_of(&c.data_type, c.type_kind, job.snap)))
        .collect();
    // Rows over 2 KB on average (TOAST included), or a size we cannot tell: some values may
    // be megabytes, so text is measured behind the long-value guard.
    let wide = est.is_none_or(|r| sizes.table_bytes as f64 / r.max(1.0) > 2048.0);
    let expressions = kinds
        .iter()
        .zip(&table.columns)
        .map(|((c, k), col)| expression(*k, c, &col.data_type, wide))
        .collect();
    let shape = kinds
        .iter()
        .zip(&table.columns)
        .map(|((_, k), col)| result_type(*k, &col.data_type, wide))
        .collect();
    let mut reading = Reading::new(&kinds, job);
    reading.rows_hint = est.map_or(0, |r| r as u64);
    Plan {
        kinds,
        expressions,
        shape,
        reading,
    }
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

/// The queue in statements: small tables (read whole, well under a batch, with columns)
/// grouped up to `tables_per_statement`, a batch's rows and `GROUP_BYTES`, the rest one by
/// one.
fn units<'s>(job: &Job, queue: Vec<(&'s String, &'s Table)>) -> Vec<Unit<'s>> {
    let per = job.opts.tables_per_statement.max(1);
    let small = |name: &str, table: &Table| {
        let sizes = job.sizes.get(name)?;
        let est = estimate(sizes)?;
        let whole = sampling(job, Some(est), sizes.pages).1.kind == SampleKind::Exact;
        (per > 1
            && table.kind == TableKind::Table
            && !table.columns.is_empty()
            && whole
            && est <= SMALL_ROWS
            && sizes.table_bytes <= SMALL_BYTES)
            .then_some((est, sizes.table_bytes))
    };
    let mut units = Vec::new();
    // Small tables of one shape (the columns' types in order) next to each other: read
    // together, their values need no cast to a common type.
    let mut smalls = Vec::new();
    for (name, table) in queue {
        match small(name, table) {
            Some(size) => smalls.push((name, table, size)),
            None => units.push(Unit::One(name, table)),
        }
    }
    fn shape(t: &Table) -> Vec<&str> {
        t.columns.iter().map(|c| &*c.data_type).collect()
    }
    smalls.sort_by_cached_key(|(name, table, _)| (shape(table), *name));
    let mut group: Vec<(&String, &Table)> = Vec::new();
    let (mut rows, mut bytes) = (0.0, 0);
    let close = |group: &mut Vec<(&'s String, &'s Table)>, units: &mut Vec<Unit<'s>>| {
        match group.len() {
            0 => {}
            1 => units.push(Unit::One(group[0].0, group[0].1)),
            _ => units.push(Unit::Group(std::mem::take(group))),
        }
        group.clear();
    };
    for (name, table, (est, size)) in smalls {
        if group.len() == per || rows + est > BATCH_ROWS as f64 || bytes + size > GROUP_BYTES {
            close(&mut group, &mut units);
            (rows, bytes) = (0.0, 0);
        }
        group.push((name, table));
        rows += est;
        bytes += size;
    }
    close(&mut group, &mut units);
    units
}

/// Rows measured per batch.
const BATCH_ROWS: usize = 65_536;

/// Measures a batch's columns, on this thread (a small table's batch).
fn measure(accs: &mut [ColumnAcc], batch: &copytext::Batch) {
    for (a, c) in accs.iter_mut().zip(&batch.columns) {
        a.update(c);
    }
}

/// A column's expression as the text COPY would send for it. A cast to text is the type's
/// output function except where pg_cast names a function: boolean (`true` where COPY sends
/// `t`), inet and cidr (measured through `::text` already), character(n) (loses its padding,
/// as the measure does), "char" and name (the same text).
fn as_text(e: &str, kind: Kind) -> String {
    if kind == Kind::Boolean {
        format!("CASE WHEN ({e}) THEN 't' WHEN NOT ({e}) THEN 'f' END")
    } else {
        format!("({e})::text")
    }
}

/// Profiles small tables in one statement: each table's rows, tagged with its place in the
/// group, in one `UNION ALL` whose columns are the values' text as COPY sends it (`as_text`).
/// The same profile as each read alone; if the statement fails (a table without SELECT
/// privilege, a timeout...) each is read alone.
async fn profile_group<'s>(
    client: &Session,
    job: &Job<'_>,
    group: &[(&'s String, &'s Table)],
) -> Read<'s> {
    let plans: Vec<(Plan, Sizes)> = group
        .iter()
        .map(|(name, table)| {
            let sizes = job.sizes[name.as_str()];
            (plan(job, table, &sizes), sizes)
        })
        .collect();
    let width = plans
        .iter()
        .map(|(p, _)| p.expressions.len())
        .max()
        .unwrap_or(0);
    // A place where every table sends the same type is sent as it is: what COPY sends for
    // the table alone, without a cast's second pass over the text (tables of one shape, as
    // a schema per tenant has, are read together: see `units`).
    let native: Vec<bool> = (0..width)
        .map(|i| {
            let first = plans[0].0.shape.get(i);
            plans.iter().all(|(p, _)| p.shape.get(i) == first)
        })
        .collect();
    let branches: Vec<String> = plans
        .iter()
        .zip(group)
        .enumerate()
        .map(|(i, ((p, _), (name, _)))| {
            let mut cols = vec![i.to_string()];
            cols.extend(
                p.expressions
                    .iter()
                    .zip(&p.kinds)
                    .zip(&native)
                    .map(|((e, (_, k)), n)| if *n { e.clone() } else { as_text(e, *k) }),
            );
            cols.resize(width + 1, "NULL::text".into());
            format!("SELECT {} FROM ONLY {name}", cols.join(", "))
        })
        .collect();
    let sql = format!("COPY ({}) TO STDOUT", branches.join(" UNION ALL "));
    let permit = job
        .measuring
        .clone()
        .acquire_owned()
        .await
        .expect("the measuring semaphore is never closed");
    match client.transaction(|c| read_group(c, &sql, &plans)).await {
        Ok(read) => {
            // The rows are all here: they are measured off the session, which reads its next
            // statement meanwhile (the server works while this client measures).
            let tables: Vec<_> = read
                .into_iter()
                .zip(plans)
                .map(|((accs, batch, rows), (p, sizes))| (accs, batch, rows, p.kinds, sizes))
                .collect();
            let store = job.store.clone();
            let names: Vec<String> = group.iter().map(|(name, _)| (*name).clone()).collect();
            let handle = tokio::task::spawn_blocking(move || {
                let _permit = permit;
                tables
                    .into_iter()
                    .zip(names)
                    .map(|((mut accs, batch, rows, kinds, sizes), name)| {
                        measure(&mut accs, &batch);
                        drop(batch);
                        let method = Method {
                            kind: SampleKind::Exact,
                            percent: None,
                            rows_read: rows,
                            streams: None,
                        };
                        let tp = finished(accs, &kinds, method, 1.0, &sizes);
                        Store::keep(&store, &name, Ok((tp, Vec::new())))
                    })
                    .collect()
            });
            Read::Measuring(group.iter().map(|(name, _)| *name).collect(), handle)
        }
        Err(Some(e)) if capture::connection_lost(&e) => {
            let m = capture::db_message(&e);
            *job.lost.lock().expect("lost") = Some(m.clone());
            Read::Done(
                group
                    .iter()
                    .map(|(name, _)| (*name, Err(m.clone())))
                    .collect(),
            )
        }
        Err(_) => {
            drop(permit);
            let mut out = Vec::new();
            for (name, table) in group {
                let outcome = profile_table(client, job, name, table).await;
                out.push((*name, Store::keep(&job.store, name, outcome)));
            }
            Read::Done(out)
        }
    }
}

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

/// Reads a group's statement: each row to its table's batch, each batch measured as it
/// fills (memory stays a batch per table whatever the estimates said).
async fn read_group(
    client: &Client,
    sql: &str,
    plans: &[(Plan, Sizes)],
) -> Result<Vec<GroupRead>, Option<tokio_postgres::Error>> {
    crate::pause::at("profile:read");
    let stream = client.copy_out(sql).await?;
    let readings = plans.iter().map(|(p, _)| p.reading.clone()).collect();
    on_worker(consume_group(stream, readings)).await
}

/// A table of a group: its accumulators, its last batch (not yet measured) and its rows.
type GroupRead = (Vec<ColumnAcc>, copytext::Batch, u64);

async fn consume_group(
    stream: tokio_postgres::CopyOutStream,
    readings: Vec<Reading>,
) -> Result<Vec<GroupRead>, Option<tokio_postgres::Error>> {
    use std::pin::pin;
    let mut stream = pin!(stream);
    let mut accs: Vec<Vec<ColumnAcc>> = readings.iter().map(Reading::accumulators).collect();
    let mut batches: Vec<copytext::Batch> = readings
        .iter()
        .map(|r| copytext::Batch::new(r.kinds.len()))
        .collect();
    let mut rows = vec![0u64; readings.len()];
    let (mut routed, mut held) = (0, 0usize);
    let mut pending: Vec<u8> = Vec::new();
    while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
        let chunk = chunk?;
        held += chunk.len();
        pending.extend_from_slice(&chunk);
        // A row of no table would be a bug of ours (`None`): each table is read alone instead.
        let used = copytext::route_lines(&pending, &mut batches).map_err(|_| None)?;
        pending.drain(..used);
        // Every 4,096 messages (a row each), a batch that filled (estimates can be stale) is
        // measured now; and every GROUP_BYTES read, every batch is (so at most that much is
        // held): the group's bound is its tables' size on disk, and values TOAST compressed
        // well are many times larger here (100 tables of 100 compressible 60 KB values: 11 MB
        // on disk, 600 MB of text).
        routed += 1;
        let full = held >= GROUP_BYTES as usize;
        if routed >= 4096 || full {
            routed = 0;
            for (i, b) in batches.iter_mut().enumerate() {
                if (full && b.rows > 0) || b.rows >= BATCH_ROWS || b.bytes() >= 32 << 20 {
                    rows[i] += b.rows as u64;
                    measure(&mut accs[i], b);
                    *b = copytext::Batch::new(readings[i].kinds.len());
                }
            }
            if full {
                held = 0;
            }
        }
    }
    for (i, b) in batches.iter().enumerate() {
        rows[i] += b.rows as u64;
    }
    Ok(accs
        .into_iter()
        .zip(batches)
        .zip(rows)
        .map(|((a, b), r)| (a, b, r))
        .collect())
}

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

/// Reads every row of a large table in up to `streams` sessions at once, each a range of its
/// blocks (a TID range scan), all in the snapshot `client` exports, so the rows read are the
/// ones a single statement would read. The ranges' accumulators merge in block order. Returns
/// the accumulators, the rows read and the streams used (fewer when sessions could not all be
/// opened); `None` when not even a second session could be opened (the caller reads in one).
async fn read_streams(
    client: &Session,
    job: &Job<'_>,
    name: &str,
    select: &str,
    pages: i64,
    streams: usize,
    reading: &Reading,
) -> Result<Option<(Vec<ColumnAcc>, u64, usize)>, tokio_postgres::Error> {
    let extra = match Sessions::open(job.target, job.session_opts, streams - 1, SESSION_SETUP).await
    {
        Ok(s) => s.into_sessions(),
        Err(_) => Vec::new(),
    };
    let n = extra.len() + 1;
    let reading = &Reading {
        share: n,
        ..reading.clone()
    };
    if n == 1 {
        return Ok(None); // no second session: the one-stream read below
    }
    let waiting = client.wait();
    client.batch_execute(client.begin_sql()).await?;
    let result = async {
        let id: String = client
            .query_typed_one("SELECT pg_export_snapshot()", &[])
            .await?
            .try_get(0)?;
        let range = |i: usize| {
            let (from, to) = (
                pages * i as i64 / n as i64,
                pages * (i as i64 + 1) / n as i64,
            );
            // The first range starts at the table's start, the last runs to its end (pages
            // added since the sizes were read hold no row of this snapshot, or do: read them).
            let mut cond = Vec::new();
            if i > 0 {
                cond.push(format!("ctid >= '({from},0)'::tid"));
            }
            if i + 1 < n {
                cond.push(format!("ctid < '({to},0)'::tid"));
            }
            format!(
                "COPY (SELECT {select} FROM ONLY {name} WHERE {}) TO STDOUT",
                cond.join(" AND ")
            )
        };
        let tasks: Vec<_> = extra
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let (sql, reading, id) = (range(i + 1), reading.clone(), id.clone());
                tokio::spawn(async move {
                    let _waiting = c.wait();
                    c.begin_in_snapshot(&id).await?;
                    let read = read_table(&c, &sql, &reading).await;
                    let _ = c.batch_execute("ROLLBACK").await;
                    read
                })
            })
            .collect();
        let first = read_table(client, &range(0), reading).await;
        // The other streams may wait for a pooler's server connection: this session's
        // transaction stays open meanwhile, waiting on them, not on its server.
        drop(waiting);
        let mut parts = vec![first];
        for t in tasks {
            parts.push(t.await.expect("a stream's task ends without panicking"));
        }
        let mut merged: Option<(Vec<ColumnAcc>, u64)> = None;
        for part in parts {
            let (accs, rows) = part?;
            match &mut merged {
                None => merged = Some((accs, rows)),
                Some((all, total)) => {
                    *total += rows;
                    all.par_iter_mut()
                        .zip(accs.into_par_iter())
                        .for_each(|(a, b)| a.merge(b));
                }
            }
        }
        Ok(merged.map(|(a, r)| (a, r, n)))
    }
    .await;
    // The exporting transaction ends with the read, whatever its outcome.
    let _ = client.batch_execute("ROLLBACK").await;
    result
}

/// Streams the COPY output and measures it, batch by batch, columns in parallel.
async fn read_table(
    client: &Client,
    sql: &str,
    reading: &Reading,
) -> Result<(Vec<ColumnAcc>, u64), tokio_postgres::Error> {
    crate::pause::at("profile:read");
    let stream = client.copy_out(sql).await?;
    on_worker(consume_table(stream, reading.clone())).await
}

/// Runs a COPY stream's reader as a task of its own. The connection's task, on a runtime
/// worker, wakes the reader at every read from the socket: a reader on a worker runs next on
/// the same thread, where one polled by the caller's `block_on` is a thread woken across cores
/// every time (a tenth of the client's CPU went to those switches).
async fn on_worker<T: Send + 'static>(
    read: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    tokio::spawn(read)
        .await
        .expect("a COPY reader's task ends without panicking")
}

async fn consume_table(
    stream: tokio_postgres::CopyOutStream,
    reading: Reading,
) -> Result<(Vec<ColumnAcc>, u64), tokio_postgres::Error> {
    use std::pin::pin;
    let mut stream = pin!(stream);
    let reading = &reading;
    let accs = reading.accumulators();
    let ncols = reading.kinds.len().max(1);
    // Reading and measuring overlap: full batches go to a measuring thread (columns in
    // parallel on rayon) while the next batch streams in. Two batches in flight bound memory.
    // The thread starts with the first full batch: a small table (one batch) is measured
    // right here, as a thread and a parallel pass per table cost more than its rows.
    type Measuring = (
        std::sync::mpsc::SyncSender<copytext::Batch>,
        std::thread::JoinHandle<Vec<ColumnAcc>>,
    );
    let mut accs = Some(accs);
    let mut measuring: Option<Measuring> = None;
    // Measured batches come back emptied, their room kept: filling a fresh one grew (and
    // copied) every column's buffers again, a tenth of the reading's time.
    let (back, returned) = std::sync::mpsc::channel::<copytext::Batch>();
    let mut send = |batch: copytext::Batch, accs: &mut Option<Vec<ColumnAcc>>| {
        let (tx, _) = measuring.get_or_insert_with(|| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<copytext::Batch>(2);
            let mut accs = accs.take().expect("accumulators");
            let back = back.clone();
            let worker = std::thread::spawn(move || {
                for mut batch in rx {
                    accs.par_iter_mut()
                        .zip(batch.columns.par_iter())
                        .for_each(|(a, c)| a.update(c));
                    batch.clear();
                    let _ = back.send(batch);
                }
                accs
            });
            (tx, worker)
        });
        tokio::task::block_in_place(|| tx.send(batch)).ok();
    };
    let mut batch = copytext::Batch::new(ncols);
    let mut pending: Vec<u8> = Vec::new();
    let mut rows = 0u64;
    let mut failure = None;
    while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        let used = if pending.is_empty() {
            let used = batch.push_lines(&chunk);
            pending.extend_from_slice(&chunk[used..]);
            used
        } else {
            pending.extend_from_slice(&chunk);
            let used = batch.push_lines(&pending);
            pending.drain(..used);
            used
        };
        let _ = used;
        // Batches end at 65,536 rows or 32 MB, whichever comes first (each a share of that
        // when the table is read in streams): memory follows neither the row count nor the
        // size of values nor the streams.
        if batch.rows >= 65_536 / reading.share || batch.bytes() >= (32 << 20) / reading.share {
            rows += batch.rows as u64;
            let next = returned
                .try_recv()
                .unwrap_or_else(|_| copytext::Batch::new(ncols));
            let full = std::mem::replace(&mut batch, next);
            send(full, &mut accs);
            tokio::task::block_in_place(|| crate::pause::at("profile:streaming"));
        }
    }
    rows += batch.rows as u64;
    let accs = match (measuring, accs) {
        (None, Some(mut accs)) => {
            measure(&mut accs, &batch);
            accs
        }
        (Some((tx, worker)), _) => {
            tokio::task::block_in_place(|| tx.send(batch)).ok();
            drop(tx);
            tokio::task::block_in_place(|| worker.join()).expect("measuring thread")
        }
        (None, None) => unreachable!("the accumulators are here or on the measuring thread"),
    };
    match failure {
        Some(e) => Err(e),
        None => Ok((accs, rows)),
    }
}

/// A retry's smaller read: a `p` % block sample (its clause, method and fraction of rows).
fn block_sample(p: f64, seed: u32) -> (String, Method, f64) {
    (
        format!(" TABLESAMPLE SYSTEM ({p:.6}) REPEATABLE ({seed})"),
        Method {
            kind: SampleKind::System,
            percent: Some(p),
            rows_read: 0,
            streams: None,
        },
        p / 100.0,
    )
}

/// A standby's cancel of a statement whose snapshot or locks held back the replay.
fn recovery_conflict(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::T_R_SERIALIZATION_FAILURE)
        && capture::db_message(e).contains("conflict with recovery")
}

async fn fanout(
    client: &Session,
    rel: &RelSpec,
    job: &Job<'_>,
) -> Result<RelationshipProfile, String> {
    let cc: Vec<String> = rel.child_columns.iter().map(|c| ident(c)).collect();
    let pc: Vec<String> = rel.parent_columns.iter().map(|c| ident(c)).collect();
    let join = |a: &str, b: &str| {
        cc.iter()
            .zip(&pc)
            .map(|(c, p)| format!("{a}.{p} = {b}.{c}"))
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    let not_null = cc
        .iter()
        .map(|c| format!("{c} IS NOT NULL"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let parent_rows = job
        .snap
        .statistics
        .tables
        .get(&rel.parent)
        .map(|t| t.reltuples)
        .unwrap_or(-1.0);
    // Parents are sampled only when very many: the child side's GROUP BY dominates anyway.
    let limit = (job.sample_rows * 500) as f64;
    let (parent_sample, sampled) = if !job.opts.exact && parent_rows > 2.0 * limit {
        (
            format!(
                " TABLESAMPLE SYSTEM ({:.6}) REPEATABLE ({})",
                (100.0 * limit / parent_rows).min(100.0),
                job.opts.seed
            ),
            true,
        )
    } else {
        (String::new(), false)
    };
    let sql = if sampled {
        // Parents sampled: fan-out over the sampled parents; the orphan share from a sample of
        // the children (an index probe each), scaled to every child.
        let child_rows = job
            .snap
            .statistics
            .tables
            .get(&rel.child)
            .map(|t| t.reltuples)
            .unwrap_or(-1.0);
        let child_sample = if child_rows > limit {
            format!(
                " TABLESAMPLE SYSTEM ({:.6}) REPEATABLE ({})",
                (100.0 * limit / child_rows).min(100.0),
                job.opts.seed
            )
        } else {
            String::new()
        };
        format!(
            "WITH c AS (SELECT {cols}, count(*) AS n FROM {child} WHERE {not_null} GROUP BY {cols}), \
             p AS (SELECT {pcols} FROM {parent}{parent_sample}), \
             f AS (SELECT coalesce(c.n, 0) AS n FROM p LEFT JOIN c ON {on}), \
             d AS (SELECT n, count(*) AS k FROM f GROUP BY n) \
             SELECT (SELECT array_agg(n ORDER BY n) FROM d)::int8[], (SELECT array_agg(k ORDER BY n) FROM d)::int8[], \
               (SELECT coalesce(sum(n), 0) FROM c)::bigint, \
               (SELECT round((SELECT coalesce(sum(n), 0) FROM c) * \
                  coalesce(avg((NOT EXISTS (SELECT 1 FROM {parent} pp WHERE {orphan_on}))::int), 0)) \
                  FROM (SELECT {cols} FROM {child}{child_sample} WHERE {not_null}) c)::bigint",
            cols = cc.join(", "),
            child = rel.child,
            pcols = pc.join(", "),
            parent = rel.parent,
            on = join("p", "c"),
            orphan_on = join("pp", "c"),
            child_sample = child_sample,
        )
    } else {
        // Every parent: one full join gives the fan-out (parents) and the orphans (children
        // without a parent) in a single pass.
        format!(
            "WITH c AS (SELECT {cols}, count(*) AS n FROM {child} WHERE {not_null} GROUP BY {cols}), \
             f AS (SELECT p.ctid IS NOT NULL AS parent, coalesce(c.n, 0) AS n FROM {parent} p FULL JOIN c ON {on}), \
             d AS (SELECT parent, n, count(*) AS k FROM f GROUP BY parent, n) \
             SELECT (array_agg(n ORDER BY n) FILTER (WHERE parent))::int8[], \
               (array_agg(k ORDER BY n) FILTER (WHERE parent))::int8[], \
               coalesce(sum(n * k), 0)::bigint, coalesce(sum(n * k) FILTER (WHERE NOT parent), 0)::bigint FROM d",
            cols = cc.join(", "),
            child = rel.child,
            parent = rel.parent,
            on = join("p", "c"),
        )
    };
    let row = client
        .transaction(|c| c.query_typed_one(sql.as_str(), &[]))
        .await
        .map_err(|e| format!("fan-out could not be measured: {}", capture::db_message(&e)))?;
    // Parents per fan-out value, in ascending order: the quantiles, the maximum and the
    // childless parents follow on this side (the server never sorts one value per parent).
    let values = column::<Option<Vec<i64>>>(&row, 0)?.unwrap_or_default();
    let counts = column::<Option<Vec<i64>>>(&row, 1)?.unwrap_or_default();
    let d = Distribution::new(&values, &counts);
    Ok(RelationshipProfile {
        child: rel.child.clone(),
        child_columns: rel.child_columns.clone(),
        parent: rel.parent.clone(),
        parent_columns: rel.parent_columns.clone(),
        parents: d.total,
        parents_sampled: sampled,
        childless: d.count_of(0),
        fanout: d.percentiles(&FANOUT_QUANTILES),
        max: d.max(),
        children: column::<i64>(&row, 2)? as u64,
        orphans: column::<i64>(&row, 3)? as u64,
    })
}

/// Parents per fan-out value: (value, parents) in ascending order of value.
struct Distribution {
    pairs: Vec<(i64, u64)>,
    total: u64,
}

impl Distribution {
    fn new(values: &[i64], counts: &[i64]) -> Distribution {
        let pairs: Vec<(i64, u64)> = values
            .iter()
            .zip(counts)
            .map(|(v, k)| (*v, (*k).max(0) as u64))
            .collect();
        let total = pairs.iter().map(|(_, k)| k).sum();
        Distribution { pairs, total }
    }

    fn count_of(&self, value: i64) -> u64 {
        self.pairs
            .iter()
            .find(|(v, _)| *v == value)
            .map_or(0, |(_, k)| *k)
    }

    fn max(&self) -> f64 {
        self.pairs.last().map_or(0.0, |(v, _)| *v as f64)
    }

    /// `percentile_disc`'s answer: the first value whose position in the ordered list is at
    /// or past fraction q of it (empty: none).
    fn percentiles(&self, at: &[f64]) -> Vec<f64> {
        if self.total == 0 {
            return Vec::new();
        }
        at.iter()
            .map(|q| {
                let position = ((q * self.total as f64).ceil() as u64).max(1);
                let mut seen = 0;
                for (v, k) in &self.pairs {
                    seen += k;
                    if seen >= position {
                        return *v as f64;
                    }
                }
                self.max()
            })
            .collect()
    }
}
