//! Through PgBouncer, as production is often reached (issue 30): in transaction pooling (any
//! server connection for each transaction; a named prepared statement or a session `SET` does
//! not survive) and in session pooling, snapshot, check with a corpus, profile in streams, seed
//! and history all work, run after run, with no table lost, no hang, and nothing of the
//! tool's left on the server connections the pooler hands to other clients.

use pgparity::capture::{CaptureOptions, Target};
use pgparity::cluster::{PoolMode, Pooler};
use pgparity::conninfo::ConnInfo;
use pgparity::profile::ProfileOptions;
use pgparity::progress::NoProgress;

use crate::support::*;

const SCHEMA: &str = "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); \
    CREATE TABLE customers (id int PRIMARY KEY, \"Näme\" text, mood mood, meta jsonb, tags text[]); \
    CREATE TABLE \"Order Items\" (id bigserial PRIMARY KEY, customer int REFERENCES customers, qty int, note text); \
    CREATE TABLE events (at date NOT NULL, v int, late boolean) PARTITION BY RANGE (at); \
    CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01'); \
    CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01'); \
    CREATE TABLE empty_one (id int); \
    INSERT INTO customers SELECT i, CASE WHEN i % 9 = 0 THEN NULL ELSE 'שם ' || i END, \
      (ARRAY['sad','ok','happy'])[1 + i % 3]::mood, jsonb_build_object('k', i % 7), ARRAY['a', i::text] \
      FROM generate_series(1, 3000) i; \
    INSERT INTO \"Order Items\" (customer, qty, note) SELECT 1 + i % 3000, i % 17, repeat('x', i % 40) \
      FROM generate_series(1, 60000) i; \
    INSERT INTO events SELECT date '2024-01-01' + (i % 700), i, i % 700 >= 366 FROM generate_series(1, 20000) i; \
    ANALYZE";

/// A corpus with a plain query, a join, and a parameterized one (planned as a prepared
/// statement, deallocated in its transaction).
fn corpus() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, sql) in [
        ("by_id.sql", "SELECT * FROM customers WHERE id = $1"),
        (
            "join.sql",
            "SELECT c.mood, count(*) FROM \"Order Items\" o JOIN customers c ON c.id = o.customer GROUP BY 1",
        ),
        ("events.sql", "SELECT * FROM events WHERE at > '2025-03-01'"),
    ] {
        std::fs::write(dir.path().join(name), sql).unwrap();
    }
    dir
}

fn json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn keys(v: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

/// What the pooler's next client finds on a server connection: none of the tool's settings.
fn assert_nothing_left(pooler: &Pooler, db: &str) {
    const SETTINGS: &str = "SELECT current_setting('default_transaction_read_only') || ' ' || \
        current_setting('statement_timeout') || ' ' || current_setting('TimeZone') || ' ' || \
        current_setting('DateStyle') || ' ' || (SELECT count(*) FROM pg_prepared_statements)";
    // What a new session straight to the server has.
    let fresh = pg17().query_scalar(db, SETTINGS).unwrap();
    assert!(fresh.starts_with("off 0 "), "{fresh}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&pooler.url(db), tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        // As many transactions as the pool has connections, and more: each may get another.
        for _ in 0..6 {
            let rows = client.simple_query(SETTINGS).await.unwrap();
            let got = rows
                .iter()
                .find_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(String::from),
                    _ => None,
                })
                .unwrap();
            assert_eq!(got, fresh, "a server connection of the pool");
        }
    });
}

/// Snapshots with a corpus and an exact profile through the pooler, `runs` times: each one
/// whole (every table profiled, every query planned, no problem), like the direct snapshot.
fn snapshots_through(pooler: &Pooler, db: &str, direct: &serde_json::Value, runs: usize) {
    let corpus = corpus();
    let dir = tempfile::tempdir().unwrap();
    for i in 0..runs {
        let file = dir.path().join(format!("pooled{i}.json"));
        let out = pgp("snapshot")
            .opt("--url", pooler.url(db))
            .opt("--corpus", corpus.path())
            .arg("--exact")
            .opt("--output", &file)
            .run();
        assert_eq!(
            out.status,
            0,
            "run {i} through {pooler:?}: {}; pooler log: {}",
            out.stderr,
            pooler.log_tail()
        );
        let snap = json(&file);
        assert_eq!(
            snap["problems"],
            serde_json::json!([]),
            "run {i} through {pooler:?}"
        );
        assert_eq!(
            keys(&snap["profile"]["tables"]),
            keys(&direct["profile"]["tables"]),
            "run {i}: every table profiled"
        );
        // The per-partition counts (a statement of their own) too.
        let late = &snap["profile"]["tables"]["public.events"]["partitions"];
        assert!(
            late["public.events_2025"]["columns"]["late"].is_object(),
            "run {i}: {late}"
        );
        assert_eq!(
            late, &direct["profile"]["tables"]["public.events"]["partitions"],
            "run {i}"
        );
        for (path, plan) in snap["plans"].as_object().unwrap() {
            assert!(
                plan["error"].is_null() && plan["fingerprint"].is_string(),
                "run {i}, {path}: {plan}"
            );
            assert_eq!(
                plan["fingerprint"], direct["plans"][path]["fingerprint"],
                "run {i}, {path}: the plan the direct session gets"
            );
        }
        assert_eq!(
            snap["profile"]["tables"]["public.\"Order Items\""]["rows"],
            60000.0
        );
    }
}

fn pooled_db() -> (&'static pgparity::cluster::Cluster, String) {
    let c = pg17();
    let db = fresh_db(c, "pooled");
    c.execute(&db, SCHEMA).unwrap();
    (c, db)
}

fn direct_snapshot(c: &pgparity::cluster::Cluster, db: &str) -> serde_json::Value {
    let corpus = corpus();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("direct.json");
    pgp("snapshot")
        .opt("--url", c.url(db))
        .opt("--corpus", corpus.path())
        .arg("--exact")
        .opt("--output", &file)
        .run()
        .ok();
    let snap = json(&file);
    assert_eq!(snap["problems"], serde_json::json!([]));
    assert_eq!(keys(&snap["plans"]).len(), 3);
    snap
}

#[test]
fn snapshots_through_pgbouncer_in_transaction_mode_lose_nothing_and_leave_nothing() {
    let (c, db) = pooled_db();
    let direct = direct_snapshot(c, &db);
    let pooler = Pooler::start(c, PoolMode::Transaction, 2).unwrap_or_else(|e| panic!("{e}"));
    snapshots_through(&pooler, &db, &direct, 10);
    assert_nothing_left(&pooler, &db);

    // Checks through the pooler against the direct session: the same database, so no
    // finding at all and nothing NOT MEASURED, run after run.
    let corpus = corpus();
    for run in 0..10 {
        let out = pgp("check")
            .opt("--left", pooler.url(&db))
            .opt("--right", c.url(&db))
            .opt("--corpus", corpus.path())
            .arg("--exact")
            .opt("--format", "json")
            .run();
        let j = out.json();
        assert_eq!(out.status, 0, "check run {run}: {}", j["findings"]);
        assert_eq!(
            j["problems"],
            serde_json::json!([]),
            "run {run}: {}",
            out.stdout
        );
        assert_eq!(
            j["findings"],
            serde_json::json!([]),
            "run {run}: {}",
            out.stdout
        );
    }
    assert_nothing_left(&pooler, &db);
}

/// "Order Items" as a snapshot through `pooler` profiles it (every table profiled, no problem).
fn order_items_through(
    pooler: &Pooler,
    db: &str,
    capture: &CaptureOptions,
    opts: &ProfileOptions,
) -> pgparity::snapshot::TableProfile {
    let target = Target {
        name: "pooled".into(),
        conninfo: ConnInfo::parse(&pooler.url(db)).unwrap(),
        protected: false,
    };
    let snap = pgparity::run::snapshot(&target, capture, Some(opts), &[], &NoProgress)
        .unwrap_or_else(|e| panic!("{e}; pooler: {}", pooler.log_tail()));
    assert!(snap.problems.is_empty(), "{:?}", snap.problems);
    let items = snap
        .profile
        .unwrap()
        .tables
        .get("public.\"Order Items\"")
        .unwrap();
    assert_eq!(items.rows, 60000.0);
    items
}

#[test]
fn a_profile_read_in_streams_shares_a_snapshot_through_pgbouncer_in_transaction_mode() {
    let (c, db) = pooled_db();
    // Four server connections: a lane exporting its snapshot and three importing it.
    let pooler = Pooler::start(c, PoolMode::Transaction, 4).unwrap_or_else(|e| panic!("{e}"));
    let opts = ProfileOptions {
        exact: true,
        streams: 4,
        concurrency: 1,
        stream_min_bytes: 0,
        ..Default::default()
    };
    for run in 0..3 {
        let items = order_items_through(&pooler, &db, &CaptureOptions::default(), &opts);
        assert_eq!(items.method.streams, Some(4), "run {run}: four ranges");
    }
    assert_nothing_left(&pooler, &db);

    // A pool of two and --max-connections 2: one lane reads in two streams, two lanes in one
    // each; never more sessions than the pool has server connections.
    let small = Pooler::start(c, PoolMode::Transaction, 2).unwrap_or_else(|e| panic!("{e}"));
    let capture = CaptureOptions {
        max_connections: 2,
        ..Default::default()
    };
    for (lanes, want) in [(1, Some(2)), (2, None)] {
        let opts = ProfileOptions {
            concurrency: lanes,
            ..opts.clone()
        };
        let items = order_items_through(&small, &db, &capture, &opts);
        assert_eq!(
            items.method.streams, want,
            "{lanes} lanes within 2 sessions"
        );
    }
}

#[test]
fn snapshots_through_pgbouncer_in_session_mode_lose_nothing_and_leave_nothing() {
    let (c, db) = pooled_db();
    let direct = direct_snapshot(c, &db);
    let pooler = Pooler::start(c, PoolMode::Session, 8).unwrap_or_else(|e| panic!("{e}"));
    snapshots_through(&pooler, &db, &direct, 3);
    assert_nothing_left(&pooler, &db);
}

#[test]
fn seed_and_history_through_pgbouncer_in_transaction_mode() {
    let (c, db) = pooled_db();
    let pooler = Pooler::start(c, PoolMode::Transaction, 2).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("prod.json");
    pgp("snapshot")
        .opt("--url", c.url(&db))
        .opt("--output", &snap)
        .run()
        .ok();
    for run in 0..10 {
        let target = fresh_db(c, "pooled_seed");
        let out = pgp("seed")
            .opt("--from", &snap)
            .opt("--into", pooler.url(&target))
            .arg("--create-schema")
            .arg("--yes")
            .opt("--scale", "0.2")
            .run();
        assert_eq!(
            out.status,
            0,
            "seed run {run}: {}; pooler: {}",
            out.stderr,
            pooler.log_tail()
        );
        let n = c
            .query_scalar(&target, "SELECT count(*)::text FROM \"Order Items\"")
            .unwrap();
        assert_eq!(n, "12000", "seed run {run}");
    }
    // The history store reached through the pooler: each run recorded whole.
    let store = fresh_db(c, "pooled_store");
    for run in 1..=10 {
        let out = pgp("check")
            .opt("--left", c.url(&db))
            .opt("--right", &snap)
            .opt("--history", pooler.url(&store))
            .opt("--format", "json")
            .run();
        assert!(out.status == 0 || out.status == 1, "{}", out.stderr);
        assert!(
            out.stderr.contains("recorded this run in "),
            "{}",
            out.stderr
        );
        let runs = c
            .query_scalar(&store, "SELECT count(*)::text FROM pgparity_history.runs")
            .unwrap();
        assert_eq!(runs, run.to_string());
    }
    assert_nothing_left(&pooler, &db);
}

#[test]
fn statement_pooling_is_refused_in_one_line_that_says_why() {
    let (c, db) = pooled_db();
    let pooler = Pooler::start(c, PoolMode::Statement, 2).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let err = pgp("snapshot")
        .opt("--url", pooler.url(&db))
        .opt("--output", dir.path().join("s.json"))
        .run()
        .error();
    assert!(err.starts_with("error: environment '"), "{err}");
    assert!(
        err.contains("pool_mode = statement") && err.contains("transaction or session"),
        "{err}"
    );
    assert!(!dir.path().join("s.json").exists());
}
