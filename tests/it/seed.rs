//! Seeding closes the loop on real clusters: a source rich in edge cases is profiled, an empty
//! target is seeded from the snapshot alone, and profiling the target finds no data gap; the
//! same seed gives the same bytes; no source value leaks; bad input is refused clearly.

use pgparity::finding::Finding;
use pgparity::progress::NoProgress;
use pgparity::run::SeedRequest;
use pgparity::seed::SeedOptions;
use pgparity::snapshot::Snapshot;

use crate::support::*;

/// Unicode classes, NULLs, a heavy fan-out tail, enums, json, arrays, bytea, uuid, a domain,
/// checks, composite keys and a self-referencing foreign key; sentinel strings planted.
const EDGE: &str = r#"
CREATE EXTENSION pg_trgm;
CREATE TYPE status AS ENUM ('new', 'paid', 'shipped', 'cancelled');
CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, name text, country char(2),
    bio text, tags text[], prefs jsonb, avatar bytea, created_at timestamptz NOT NULL, birthday date,
    score positive, referrer_id bigint REFERENCES customers (id), external_id uuid);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id),
    status status NOT NULL, total numeric(12,2) NOT NULL CHECK (total >= 0), placed_at timestamp NOT NULL,
    note varchar(200), UNIQUE (customer_id, id));
CREATE TABLE order_lines (order_id bigint NOT NULL REFERENCES orders (id), line int NOT NULL,
    qty int NOT NULL CHECK (qty BETWEEN 1 AND 50), sku text NOT NULL, PRIMARY KEY (order_id, line));
INSERT INTO customers
SELECT i, 'user' || i || '@example.com',
    CASE WHEN i % 100 < 3 THEN NULL WHEN i % 100 < 6 THEN '' WHEN i % 100 < 16 THEN 'José ' || i
         WHEN i % 100 < 21 THEN 'Иван ' || i WHEN i % 100 < 26 THEN '山田 ' || i WHEN i % 100 < 31 THEN 'שרה ' || i
         WHEN i % 100 < 34 THEN 'Ana 👩‍💻 ' || i WHEN i % 100 < 37 THEN 'Zoe' || E'\u0301' || i
         WHEN i % 100 < 40 THEN ' Bob ' || i ELSE 'Name ' || i END,
    (ARRAY['US', 'FR', 'DE', 'JP', 'BR'])[1 + i % 5],
    CASE WHEN i % 500 = 0 THEN 'SENTINEL-XYZZY-7 ' || repeat('x', i % 50) WHEN i % 3 = 0 THEN NULL ELSE repeat('bio ', 1 + i % 40) END,
    CASE WHEN i % 7 = 0 THEN ARRAY[]::text[] ELSE ARRAY(SELECT 'tag' || k FROM generate_series(1, 1 + i % 6) k) END,
    CASE WHEN i % 10 = 0 THEN NULL ELSE jsonb_build_object('theme', CASE WHEN i % 2 = 0 THEN 'dark' ELSE 'light' END, 'lang', 'en')
         || CASE WHEN i % 20 = 1 THEN '{"beta": true}'::jsonb ELSE '{}'::jsonb END END,
    CASE WHEN i % 4 = 0 THEN NULL ELSE decode(repeat('ab', 1 + i % 300), 'hex') END,
    timestamptz '2020-01-01' + (i * 7919 % 100000) * interval '17 minutes',
    date '1950-01-01' + (i * 31 % 20000),
    1 + i % 90,
    CASE WHEN i % 10 < 3 AND i > 1 THEN 1 + (i * 13) % (i - 1) END,
    md5(i::text)::uuid
FROM generate_series(1, 3000) i;
INSERT INTO orders
SELECT row_number() OVER (), c, (ARRAY['new', 'paid', 'paid', 'shipped', 'shipped', 'shipped', 'cancelled'])[1 + (c * 7 + k) % 7]::status,
    ((c * 37 + k * 11) % 100000) / 100.0, timestamp '2024-01-01' + ((c * 7 + k) % 5000) * interval '1 hour',
    CASE WHEN k % 97 = 5 THEN 'SENTINEL-XYZZY-7' WHEN k % 3 = 0 THEN NULL ELSE 'note ' || k END
FROM generate_series(1, 3000) c,
     generate_series(1, CASE WHEN c % 1000 = 0 THEN 300 WHEN c % 100 = 0 THEN 40 WHEN c % 10 = 0 THEN 8 ELSE c % 4 END) k;
CREATE INDEX customers_name_trgm ON customers USING gin (name gin_trgm_ops);
INSERT INTO order_lines SELECT o.id, l, 1 + (o.id * l) % 50, 'SKU-' || ((o.id * 31 + l) % 400)
FROM orders o, generate_series(1, 1 + o.id % 5) l;
ANALYZE;
"#;

fn edge_source() -> (&'static pgparity::cluster::Cluster, String, Snapshot) {
    let c = pg17();
    let db = fresh_db(c, "seedsrc");
    c.execute(&db, EDGE).unwrap();
    let snap = capture(c, &db, "production");
    (c, db, snap)
}

fn seed_into(
    snap_path: &std::path::Path,
    c: &pgparity::cluster::Cluster,
    db: &str,
    opts: SeedOptions,
    verify: bool,
) -> pgparity::error::Result<(
    pgparity::seed::SeedReport,
    Option<pgparity::seed::verify::Verification>,
)> {
    pgparity::run::seed(
        &SeedRequest {
            snapshot: snap_path.to_path_buf(),
            target: target(c, db, "staging"),
            options: opts,
            verify,
            capture: Default::default(),
            profile: Default::default(),
            thresholds: Default::default(),
        },
        &NoProgress,
    )
}

fn table_md5(c: &pgparity::cluster::Cluster, db: &str, table: &str, order: &str) -> String {
    c.query_scalar(
        db,
        &format!("SELECT md5(string_agg(t::text, '|' ORDER BY {order})) FROM {table} t"),
    )
    .unwrap()
}

#[test]
fn seeded_target_matches_the_profile_and_leaks_nothing() {
    let (c, _src, snap) = edge_source();
    let (_dir, path) = snapshot_file(&snap, "prod.json");
    let db = fresh_db(c, "seeded");
    let opts = SeedOptions {
        create_schema: true,
        seed: 42,
        ..Default::default()
    };
    let (report, v) = seed_into(&path, c, &db, opts.clone(), true).unwrap();
    assert_eq!(report.tables.len(), 3, "{report:?}");
    let v = v.unwrap();
    let shown: Vec<String> = v
        .findings
        .iter()
        .map(|f: &Finding| format!("{} {}", f.id, f.message))
        .collect();
    assert!(
        v.findings.is_empty(),
        "data findings after seeding:\n{}",
        shown.join("\n")
    );

    // Fan-out tail and character classes, measured on the seeded target.
    let seeded = capture(c, &db, "staging");
    let (sp, tp) = (
        snap.profile.as_ref().unwrap(),
        seeded.profile.as_ref().unwrap(),
    );
    let key = "public.orders(customer_id)->public.customers(id)";
    let (a, b) = (&sp.relationships[key], &tp.relationships[key]);
    let close = |x: f64, y: f64| (x - y).abs() <= 0.1 * x.max(1.0);
    assert!(
        close(a.fanout[2], b.fanout[2]) && close(a.max, b.max),
        "fan-out p99/max: {:?} {} vs {:?} {}",
        a.fanout,
        a.max,
        b.fanout,
        b.max
    );
    let (sn, tn) = (
        &sp.tables.get("public.customers").unwrap().columns["name"],
        &tp.tables.get("public.customers").unwrap().columns["name"],
    );
    let share = |p: &pgparity::snapshot::ColumnProfile, k: &str| {
        p.classes.get(k).copied().unwrap_or(0) as f64 / (p.rows - p.nulls).max(1) as f64
    };
    for class in sn.classes.keys() {
        let (x, y) = (share(sn, class), share(tn, class));
        assert!(
            (x - y).abs() <= 0.04,
            "class {class}: {x:.3} in the source, {y:.3} seeded"
        );
    }
    // Keys by construction: the composite primary key and the check constraints hold (the
    // constraints were added after the load and validated).
    assert_eq!(
        c.query_scalar(
            &db,
            "SELECT count(*)::text FROM pg_constraint WHERE NOT convalidated"
        )
        .unwrap(),
        "0"
    );
    // The extension an index needs came along with the schema, and so did the index.
    assert!(
        report.problems.iter().all(|p| p.area != "constraints"),
        "{:?}",
        report.problems
    );
    assert_eq!(
        c.query_scalar(
            &db,
            "SELECT count(*)::text FROM pg_indexes WHERE indexname = 'customers_name_trgm'"
        )
        .unwrap(),
        "1"
    );
    // No raw value of the source reached the target.
    for (table, col) in [
        ("customers", "bio"),
        ("orders", "note"),
        ("customers", "name"),
        ("customers", "email"),
    ] {
        assert_eq!(
            c.query_scalar(&db, &format!("SELECT count(*)::text FROM {table} WHERE {col} LIKE '%SENTINEL-XYZZY%' OR {col} LIKE 'user%@example.com'")).unwrap(),
            "0",
            "{table}.{col} leaked source values"
        );
    }

    // The same seed gives the same bytes; another seed does not.
    let again = fresh_db(c, "seeded");
    seed_into(&path, c, &again, opts.clone(), false).unwrap();
    for (t, o) in [
        ("customers", "id"),
        ("orders", "id"),
        ("order_lines", "order_id, line"),
    ] {
        assert_eq!(table_md5(c, &db, t, o), table_md5(c, &again, t, o), "{t}");
    }
    let other = fresh_db(c, "seeded");
    seed_into(&path, c, &other, SeedOptions { seed: 43, ..opts }, false).unwrap();
    assert_ne!(
        table_md5(c, &db, "customers", "id"),
        table_md5(c, &other, "customers", "id")
    );
}

/// The schema part of EDGE (no rows): a target migrated like production but empty.
fn edge_schema() -> String {
    EDGE.split("INSERT INTO customers")
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn seeding_an_existing_schema_and_bad_input() {
    let (c, _src, snap) = edge_source();
    let (dir, path) = snapshot_file(&snap, "prod.json");
    let err = |r: pgparity::error::Result<_>| match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    };

    // An existing, empty schema: filled, foreign keys dropped for the load and added back.
    let db = fresh_db(c, "seedexisting");
    c.execute(&db, &edge_schema()).unwrap();
    let (report, _) = seed_into(
        &path,
        c,
        &db,
        SeedOptions {
            scale: 0.5,
            ..Default::default()
        },
        false,
    )
    .unwrap();
    assert_eq!(report.tables.len(), 3);
    assert_eq!(
        c.query_scalar(
            &db,
            "SELECT count(*)::text FROM pg_constraint WHERE contype = 'f'"
        )
        .unwrap(),
        "3"
    );
    let n: i64 = c
        .query_scalar(&db, "SELECT count(*)::text FROM customers")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(n, 1500);

    // Not empty: refused, unless asked to empty it.
    let e = err(seed_into(&path, c, &db, SeedOptions::default(), false));
    assert!(e.contains("tables are not empty: public.customers, public.order_lines, public.orders; hint: --truncate"), "{e}");
    seed_into(
        &path,
        c,
        &db,
        SeedOptions {
            truncate: true,
            scale: 0.1,
            ..Default::default()
        },
        false,
    )
    .unwrap();
    assert_eq!(
        c.query_scalar(&db, "SELECT count(*)::text FROM customers")
            .unwrap(),
        "300"
    );

    // A target whose schema differs.
    let other = fresh_db(c, "seeddiff");
    c.execute(
        &other,
        &edge_schema().replace("external_id uuid", "external_ref uuid"),
    )
    .unwrap();
    let e = err(seed_into(&path, c, &other, SeedOptions::default(), false));
    assert!(
        e.contains("public.customers.external_id is missing")
            && e.contains("public.customers.external_ref is not in the snapshot"),
        "{e}"
    );

    // A unique smallint key asked for more rows than it can hold.
    let small = fresh_db(c, "seedsmall");
    c.execute(&small, "CREATE TABLE t (id smallint PRIMARY KEY, v text); INSERT INTO t SELECT i, 'v' FROM generate_series(1, 100) i; ANALYZE t").unwrap();
    let snap_small = capture(c, &small, "production");
    let p2 = dir.path().join("small.json");
    snap_small.write(&p2).unwrap();
    let rows = [("public.t".to_string(), 100_000u64)].into_iter().collect();
    let e = err(seed_into(
        &p2,
        c,
        &fresh_db(c, "seedsmall"),
        SeedOptions {
            create_schema: true,
            rows,
            ..Default::default()
        },
        false,
    ));
    assert!(
        e.contains("public.t.id: smallint cannot hold 100,000 distinct values"),
        "{e}"
    );

    // A check across columns is not a form seed honours: reported, and added NOT VALID (the
    // rows stored in no order: in insertion order both columns would be seeded in row order,
    // which happens to keep ends_at past starts_at).
    let cross = fresh_db(c, "seedcross");
    c.execute(&cross, "CREATE TABLE span (id int PRIMARY KEY, starts_at int NOT NULL, ends_at int NOT NULL, CHECK (ends_at > starts_at)); \
        INSERT INTO span SELECT i, i, i + 1 + i % 10 FROM generate_series(1, 500) i ORDER BY md5(i::text); ANALYZE span").unwrap();
    let p4 = dir.path().join("cross.json");
    capture(c, &cross, "production").write(&p4).unwrap();
    let into = fresh_db(c, "seedcross");
    let (report, _) = seed_into(
        &p4,
        c,
        &into,
        SeedOptions {
            create_schema: true,
            ..Default::default()
        },
        false,
    )
    .unwrap();
    let notes: Vec<&str> = report.problems.iter().map(|p| p.message.as_str()).collect();
    assert!(
        notes
            .iter()
            .any(|m| m.contains("check constraint span_check is not a simple form")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|m| m.contains("added NOT VALID")),
        "{notes:?}"
    );
    assert_eq!(c.query_scalar(&into, "SELECT count(*)::text FROM pg_constraint WHERE conname = 'span_check' AND NOT convalidated").unwrap(), "1");

    // A snapshot without a profile.
    let p3 = dir.path().join("noprofile.json");
    capture_with(c, &small, "production", None)
        .write(&p3)
        .unwrap();
    let e = err(seed_into(
        &p3,
        c,
        &fresh_db(c, "seednp"),
        SeedOptions {
            create_schema: true,
            ..Default::default()
        },
        false,
    ));
    assert!(e.contains("the snapshot holds no data profile"), "{e}");

    // The command line: no confirmation without a terminal; a protected environment refused.
    let url = c.url(&fresh_db(c, "seedcli"));
    let (code, _, stderr) = run(&[
        "seed",
        "--from",
        path.to_str().unwrap(),
        "--into",
        &url,
        "--create-schema",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("hint: pass --yes to confirm"), "{stderr}");
    let cfg = dir.path().join("pgparity.toml");
    std::fs::write(
        &cfg,
        format!("[environments.production]\nurl = \"{url}\"\nprotected = true\n"),
    )
    .unwrap();
    let (code, _, stderr) = run(&[
        "--config",
        cfg.to_str().unwrap(),
        "seed",
        "--from",
        path.to_str().unwrap(),
        "--into",
        "production",
        "--yes",
    ]);
    assert_eq!(code, 2);
    assert_eq!(stderr.trim(), "error: refusing to seed production: it is marked protected in the config; hint: seed a staging environment");
    let (code, _, stderr) = run(&[
        "seed",
        "--from",
        path.to_str().unwrap(),
        "--into",
        &url,
        "--create-schema",
        "--yes",
        "--verify",
        "--seed",
        "7",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("seeded 3 tables")
            && stderr.contains("verify: 0 data findings")
            && stderr.contains("(0 of medium severity or higher)"),
        "{stderr}"
    );
    // Issue 11: the planner's view of every foreign-key column, snapshot vs seeded.
    assert!(
        stderr
            .contains("verify: pg_stats of 3 foreign-key column(s), snapshot vs seeded (0 differ)")
            && stderr.contains("  public.orders.customer_id: "),
        "{stderr}"
    );
}

/// A large table is loaded by several sessions at once, each a range of its rows in a
/// transaction of its own: one session's backend killed mid-load leaves the table empty (the
/// ranges the others committed are removed) and the run failed, never half-filled with a
/// success. The same seed gives the same rows with 1 and 4 streams.
#[test]
fn a_killed_stream_leaves_the_table_empty_and_streams_never_change_the_rows() {
    let c = pg15();
    let src = fresh_db(c, "seedbig");
    c.execute(&src, "CREATE TABLE big (id bigint PRIMARY KEY, a text, b numeric(12,2), c timestamptz); \
        CREATE TABLE plain (k int, v text); \
        INSERT INTO big SELECT i, repeat('x', i % 40), i / 7.0, now() - i * interval '1 minute' FROM generate_series(1, 20000) i; \
        INSERT INTO plain SELECT i % 100, md5(i::text) FROM generate_series(1, 3000) i; ANALYZE").unwrap();
    let snap = capture(c, &src, "production");
    let (_dir, path) = snapshot_file(&snap, "big.json");
    let rows = |n: u64| {
        [
            ("public.big".to_string(), n),
            ("public.plain".to_string(), 300_000),
        ]
        .into_iter()
        .collect()
    };
    // The same rows whatever the streams.
    let mut sums = Vec::new();
    for streams in [1, 4] {
        let db = fresh_db(c, "seedstreams");
        let r = seed_into(
            &path,
            c,
            &db,
            SeedOptions {
                create_schema: true,
                rows: rows(300_000),
                streams,
                ..Default::default()
            },
            false,
        )
        .unwrap();
        assert_eq!(r.0.rows(), 600_000);
        sums.push((
            table_md5(c, &db, "big", "id"),
            table_md5(c, &db, "plain", "t::text"),
        ));
    }
    assert_eq!(sums[0], sums[1], "1 and 4 streams load the same rows");

    let db = fresh_db(c, "seedkill");
    // Looks for two ranges loading at once until the seed has ended (however long it takes
    // to start), then ends one of them.
    let seeding = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let killer = {
        let db = db.clone();
        let seeding = seeding.clone();
        std::thread::spawn(move || {
            while seeding.load(std::sync::atomic::Ordering::Relaxed) {
                // One backend of several loading the table at once.
                let killed = c
                    .query_scalar(&db, "SELECT count(pg_terminate_backend(pid))::text FROM (SELECT pid FROM pg_stat_activity \
                        WHERE query LIKE 'COPY public.big%' AND pid <> pg_backend_pid() AND 2 <= (SELECT count(*) FROM pg_stat_activity \
                        WHERE query LIKE 'COPY public.big%' AND state = 'active') ORDER BY pid LIMIT 1) p")
                    .unwrap_or_default();
                if killed != "0" {
                    return true;
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            false
        })
    };
    let r = seed_into(
        &path,
        c,
        &db,
        SeedOptions {
            create_schema: true,
            rows: rows(1_200_000),
            streams: 4,
            ..Default::default()
        },
        false,
    );
    seeding.store(false, std::sync::atomic::Ordering::Relaxed);
    assert!(
        killer.join().unwrap(),
        "the COPY streams were never seen running"
    );
    let e = r.expect_err("the load must fail").to_string();
    assert!(
        e.contains("1 table(s) could not be loaded and were left empty: public.big"),
        "{e}"
    );
    assert_eq!(
        c.query_scalar(&db, "SELECT count(*)::text FROM big")
            .unwrap(),
        "0"
    );
    assert_eq!(
        c.query_scalar(&db, "SELECT count(*)::text FROM plain")
            .unwrap(),
        "300000",
        "the other table loads"
    );
}

/// TPC-H at a small scale: the seeded target plans at least 90 % of the 22 queries with the
/// same shape as the source (the snapshot records the corpus and its plans).
#[test]
fn seeded_tpch_plans_like_the_source() {
    let c = pg17();
    let src = tpch_db(c, "seedtpch", 0.01);
    let snap = pgparity::run::snapshot_planned(
        &target(c, &src, "production"),
        &Default::default(),
        Some(&pgparity::profile::ProfileOptions {
            raw_values: true,
            ..Default::default()
        }),
        &[],
        &tpch_queries(),
        &Default::default(),
        &NoProgress,
    )
    .unwrap();
    let (_dir, path) = snapshot_file(&snap, "tpch.json");
    let db = fresh_db(c, "seedtpch");
    let (report, v) = seed_into(
        &path,
        c,
        &db,
        SeedOptions {
            create_schema: true,
            ..Default::default()
        },
        true,
    )
    .unwrap();
    let v = v.unwrap();
    eprintln!(
        "{} rows; {} (+{} tied) of {} plan the same; different: {:?}; findings: {:?}",
        report.rows(),
        v.plans_same,
        v.plans_tied,
        v.plans_total,
        v.plans_divergent,
        v.findings.iter().map(|f| &f.id).collect::<Vec<_>>()
    );
    let req = pgparity::run::CompareRequest {
        profile: Some(Default::default()),
        ..request(
            pgparity::run::Side::Live(target(c, &db, "staging")),
            pgparity::run::Side::File(path.clone()),
        )
    };
    for e in pgparity::run::check(&req, &NoProgress).unwrap().findings {
        let f = e.finding;
        if matches!(
            f.category,
            pgparity::finding::Category::Plan
                | pgparity::finding::Category::Volume
                | pgparity::finding::Category::Statistics
        ) {
            eprintln!(
                "{} {}\n  L {}\n  R {}",
                f.id,
                f.message,
                f.left.clone().unwrap_or_default(),
                f.right.clone().unwrap_or_default()
            );
        }
    }
    for t in [
        "lineitem", "orders", "customer", "part", "partsupp", "supplier", "nation", "region",
    ] {
        eprintln!(
            "{t}: {} vs {}",
            c.query_scalar(&db, &format!("SELECT count(*)::text FROM {t}"))
                .unwrap(),
            c.query_scalar(&src, &format!("SELECT count(*)::text FROM {t}"))
                .unwrap()
        );
    }
    assert_eq!(v.plans_total, 22);
    assert!(
        (v.plans_same + v.plans_tied) * 10 >= v.plans_total * 9,
        "{} + {} of {}: {:?}",
        v.plans_same,
        v.plans_tied,
        v.plans_total,
        v.plans_divergent
    );
}

// Issue 10: a parent skipped for a type seed cannot generate left its children's NOT NULL
// foreign keys NULL (three tables failed), and the skipped table was not named in the output.
#[test]
fn tables_that_cannot_be_generated_are_skipped_with_their_dependents() {
    let c = pg17();
    let src = fresh_db(c, "skipsrc");
    c.execute(
        &src,
        r#"
CREATE EXTENSION cube;
CREATE TYPE floatrange AS RANGE (subtype = float8);
CREATE TABLE measures (id int PRIMARY KEY, box cube NOT NULL, span floatrange NOT NULL);
CREATE TABLE readings (id int PRIMARY KEY, measure_id int NOT NULL REFERENCES measures (id), value float8);
CREATE TABLE notes (id int PRIMARY KEY, reading_id int NOT NULL REFERENCES readings (id), body text);
CREATE TABLE tags (id int PRIMARY KEY, measure_id int REFERENCES measures (id), tag text NOT NULL);
CREATE TABLE shapes (id int PRIMARY KEY, box cube NOT NULL DEFAULT cube(1.0), span floatrange NOT NULL);
CREATE TABLE plain (id int PRIMARY KEY, name text);
INSERT INTO measures SELECT i, cube(i), floatrange(i, i + 1) FROM generate_series(1, 50) i;
INSERT INTO readings SELECT i, 1 + i % 50, i / 3.0 FROM generate_series(1, 200) i;
INSERT INTO notes SELECT i, 1 + i % 200, 'n' || i FROM generate_series(1, 100) i;
INSERT INTO tags SELECT i, CASE WHEN i % 2 = 0 THEN 1 + i % 50 END, 't' || i FROM generate_series(1, 80) i;
INSERT INTO shapes SELECT i, cube(i), floatrange(i, i * 2) FROM generate_series(1, 60) i;
INSERT INTO plain SELECT i, 'p' || i FROM generate_series(1, 40) i;
ANALYZE;
"#,
    )
    .unwrap();
    let snap = capture(c, &src, "production");
    let (_dir, path) = snapshot_file(&snap, "prod.json");
    let db = fresh_db(c, "skipped");
    let (code, _out, stderr) = run(&[
        "seed",
        "--from",
        path.to_str().unwrap(),
        "--into",
        &c.conninfo(&db),
        "--create-schema",
        "--yes",
    ]);
    // Exit 1: seeded, but not everything.
    assert_eq!(code, 1, "{stderr}");
    let count = |t: &str| {
        c.query_scalar(&db, &format!("SELECT count(*)::text FROM {t}"))
            .unwrap()
    };
    for t in ["measures", "readings", "notes"] {
        assert_eq!(count(t), "0", "{t} should be skipped");
        assert!(
            stderr.contains(&format!("table public.{t}: not seeded:")),
            "{t} not named: {stderr}"
        );
    }
    assert!(
        stderr.contains("column box (cube) is NOT NULL and seed does not generate that type"),
        "{stderr}"
    );
    assert!(
        stderr.contains("foreign key readings_measure_id_fkey needs rows of public.measures"),
        "{stderr}"
    );
    assert!(stderr.contains("skipped 3 table(s)"), "{stderr}");
    // A nullable reference to a skipped table is left NULL, a column with a default takes it,
    // a user-defined range over float8 is generated, and the rest is complete.
    assert_eq!(count("tags"), "80");
    assert_eq!(count("tags WHERE measure_id IS NOT NULL"), "0");
    assert_eq!(count("shapes"), "60");
    assert_eq!(
        count("shapes WHERE box = cube(1.0) AND NOT isempty(span)"),
        "60"
    );
    assert_eq!(count("plain"), "40");
    assert_eq!(
        c.query_scalar(
            &db,
            "SELECT count(*)::text FROM pg_constraint WHERE NOT convalidated"
        )
        .unwrap(),
        "0"
    );
}

// Issue 11: dates of an 8-row table seeded narrower than production's; a numeric column with
// two values seeded with one; a year column with 74 distinct values seeded with 23.
#[test]
fn seeding_keeps_extremes_rare_values_and_distinct_counts() {
    let c = pg17();
    let src = fresh_db(c, "edgesrc");
    c.execute(
        &src,
        r#"
CREATE TABLE holidays (id int PRIMARY KEY, day date NOT NULL, note text);
INSERT INTO holidays VALUES (1, '2021-01-01', 'a'), (2, '2021-05-01', NULL), (3, '2021-07-14', 'b'), (4, '2021-08-15', 'c'),
  (5, '2021-11-01', 'd'), (6, '2021-11-11', 'e'), (7, '2021-12-25', 'f'), (8, '2022-12-31', 'g');
CREATE TABLE films (id int PRIMARY KEY, rate numeric(4,2) NOT NULL, year int NOT NULL, title text NOT NULL);
INSERT INTO films SELECT i, CASE WHEN i % 50 = 0 THEN 9.99 ELSE 0.99 END, 1950 + (i * 7) % 74, 'Film ' || i
  FROM generate_series(1, 3000) i;
ANALYZE;
"#,
    )
    .unwrap();
    let snap = capture(c, &src, "production");
    let (_dir, path) = snapshot_file(&snap, "prod.json");
    let db = fresh_db(c, "edgeseeded");
    let (_, v) = seed_into(
        &path,
        c,
        &db,
        SeedOptions {
            create_schema: true,
            seed: 3,
            ..Default::default()
        },
        true,
    )
    .unwrap();
    let v = v.unwrap();
    let shown: Vec<String> = v
        .findings
        .iter()
        .map(|f| format!("{} {}", f.id, f.message))
        .collect();
    assert!(v.findings.is_empty(), "{}", shown.join("\n"));
    let q = |sql: &str| c.query_scalar(&db, sql).unwrap();
    assert_eq!(
        q("SELECT min(day)::text || ' ' || max(day)::text FROM holidays"),
        "2021-01-01 2022-12-31"
    );
    assert_eq!(q("SELECT count(DISTINCT year)::text FROM films"), "74");
    assert_eq!(
        q("SELECT string_agg(DISTINCT rate::text, ' ' ORDER BY rate::text) FROM films"),
        "0.99 9.99"
    );
    let rare: f64 = q("SELECT avg((rate = 9.99)::int)::text FROM films")
        .parse()
        .unwrap();
    assert!(
        (0.01..0.04).contains(&rare),
        "9.99 in {rare} of rows (2 % in the source)"
    );
}

/// Snapshots `src` on `c`, then seeds that snapshot into `into` with `flags`: the seed's peak
/// memory in MB (the snapshot's is not measured).
fn seed_peak(c: &pgparity::cluster::Cluster, src: &str, into: &str, flags: &[&str]) -> i64 {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap.json");
    let url = c.conninfo(src);
    peak_mb(&[
        "snapshot".as_ref(),
        "--url".as_ref(),
        url.as_ref(),
        "--output".as_ref(),
        snap.as_os_str(),
    ]);
    let into_url = c.conninfo(into);
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "seed".as_ref(),
        "--from".as_ref(),
        snap.as_os_str(),
        "--into".as_ref(),
        into_url.as_ref(),
        "--yes".as_ref(),
    ];
    args.extend(flags.iter().map(std::ffi::OsStr::new));
    let peak = peak_mb(&args);
    eprintln!("seed peak memory {peak} MB");
    peak
}

/// Rows of 4 MB documents are generated a few at a time (chunks bounded by bytes, not only
/// rows): 100 of them (400 MB) were one 400 MB chunk, now the seed stays within the memory
/// goal, and every document has its length.
#[test]
fn wide_rows_are_seeded_within_the_memory_goal() {
    let c = pg15();
    let src = fresh_db(c, "docsrc");
    c.execute(
        &src,
        "CREATE TABLE docs (id int PRIMARY KEY, body text); ALTER TABLE docs ALTER body SET STORAGE EXTERNAL; \
         INSERT INTO docs SELECT i, repeat(md5(i::text), 131072) FROM generate_series(1, 100) i; ANALYZE docs",
    )
    .unwrap();
    let into = fresh_db(c, "docseed");
    let peak = seed_peak(c, &src, &into, &["--create-schema"]);
    assert!(peak < 300, "seed peak memory {peak} MB (goal < 300 MB)");
    assert_eq!(
        c.query_scalar(&into, "SELECT count(*)::text || ' ' || min(length(body))::text || ' ' || max(length(body))::text FROM docs")
            .unwrap(),
        "100 4194304 4194304"
    );
}

/// Issue 29: the bytes in flight are bounded by the code, not by the server's pace. Eight tables
/// of 4 MB documents load at once on eight streams into a target whose every row waits 200 ms
/// in a trigger (a server far slower than the generators): the generators wait for it, and
/// the seed stays under the goal. A bound per load (48 MB each, eight loads) went past it.
#[test]
fn wide_rows_into_a_throttled_server_stay_within_the_memory_goal() {
    let c = pg17();
    let src = fresh_db(c, "slowsrc");
    let mut sql = String::new();
    for t in 0..8 {
        sql.push_str(&format!(
            "CREATE TABLE wide{t} (id int PRIMARY KEY, body text); \
             INSERT INTO wide{t} SELECT i, repeat(md5((i * {t})::text), 131072) FROM generate_series(1, 16) i; ANALYZE wide{t};"
        ));
    }
    c.execute(&src, &sql).unwrap();
    let into = fresh_db(c, "slowseed");
    let mut schema = String::from(
        "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN PERFORM pg_sleep(0.2); RETURN NEW; END';",
    );
    for t in 0..8 {
        schema.push_str(&format!(
            "CREATE TABLE wide{t} (id int PRIMARY KEY, body text); \
             CREATE TRIGGER slow BEFORE INSERT ON wide{t} FOR EACH ROW EXECUTE FUNCTION slow();"
        ));
    }
    c.execute(&into, &schema).unwrap();
    let peak = seed_peak(c, &src, &into, &["--streams", "8"]);
    assert!(peak < 300, "seed peak memory {peak} MB (goal < 300 MB)");
    // The budget's own bound: 48 MB of chunks and eight streams' queued slices (3 MB each) over
    // the binary's own (about 50 MB). With a bound per load it was 199 MB idle.
    assert!(
        peak < 160,
        "seed peak memory {peak} MB (the budget bounds it near 120 MB)"
    );
    for t in 0..8 {
        assert_eq!(
            c.query_scalar(
                &into,
                &format!("SELECT count(*)::text || ' ' || max(length(body))::text FROM wide{t}")
            )
            .unwrap(),
            "16 4194304"
        );
    }
}

/// Issue 34: what the planner reads of a foreign key's physical order. Children stored parent
/// by parent (pg_stats' correlation near 1) are seeded parent by parent; children scattered
/// over the table (correlation near 0, an index on the key planned as a bitmap scan) are
/// seeded scattered, and a lookup by the key plans as in the source.
#[test]
fn a_foreign_keys_physical_order_follows_the_source() {
    let c = pg17();
    let src = fresh_db(c, "order");
    c.execute(
        &src,
        "CREATE TABLE parents (id int PRIMARY KEY);
         INSERT INTO parents SELECT i FROM generate_series(1, 4000) i;
         CREATE TABLE grouped (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parents (id));
         INSERT INTO grouped SELECT i, 1 + (i - 1) / 5 FROM generate_series(1, 20000) i;
         CREATE TABLE scattered (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parents (id));
         INSERT INTO scattered SELECT i, 1 + (i * 7) % 4000 FROM generate_series(1, 20000) i;
         CREATE INDEX ON grouped (parent_id); CREATE INDEX ON scattered (parent_id); ANALYZE",
    )
    .unwrap();
    let snap = capture(c, &src, "production");
    let (_dir, path) = snapshot_file(&snap, "prod.json");
    let db = fresh_db(c, "ordered");
    let opts = SeedOptions {
        create_schema: true,
        ..Default::default()
    };
    seed_into(&path, c, &db, opts, false).unwrap();
    c.execute(&db, "ANALYZE").unwrap();
    let correlation = |d: &str, t: &str| {
        c.query_scalar(
            d,
            &format!("SELECT correlation::text FROM pg_stats WHERE tablename = '{t}' AND attname = 'parent_id'"),
        )
        .unwrap()
        .parse::<f64>()
        .unwrap()
    };
    for d in [&src, &db] {
        assert!(correlation(d, "grouped") > 0.9, "{d}");
        assert!(correlation(d, "scattered").abs() < 0.3, "{d}");
    }
    // The plan's top line, through a function each database holds (created after the seed).
    for d in [&src, &db] {
        c.execute(
            d,
            "CREATE FUNCTION top_plan(q text) RETURNS text LANGUAGE plpgsql AS \
             $$ DECLARE r text; BEGIN EXECUTE 'EXPLAIN ' || q INTO r; RETURN r; END $$",
        )
        .unwrap();
    }
    let plan = |d: &str, t: &str| {
        c.query_scalar(
            d,
            &format!("SELECT top_plan('SELECT * FROM {t} WHERE parent_id = 42')"),
        )
        .unwrap()
    };
    for t in ["grouped", "scattered"] {
        let (a, b) = (plan(&src, t), plan(&db, t));
        assert_eq!(
            a.split(" on ").next(),
            b.split(" on ").next(),
            "{t}: {a} / {b}"
        );
    }
}

/// Issue 34: `seed --verify` says what it could not reproduce and why, per table and column,
/// and why each query of the corpus plans differently: on the store fixture, the query that
/// filters on a production value ('Zürich') is named with that literal and the remedy
/// (--raw-values); at 1 % scale, a class seen in one row of 5,900 is said kept at one row of
/// 59, and no data finding of medium severity remains.
#[test]
fn seed_verify_says_what_it_kept_and_why_plans_differ() {
    let c = pg17();
    let src = fresh_db(c, "whysrc");
    c.execute(&src, include_str!("../fixtures/store.sql"))
        .unwrap();
    let snap = pgparity::run::snapshot_planned(
        &target(c, &src, "production"),
        &Default::default(),
        Some(&Default::default()),
        &[],
        &corpus("store"),
        &Default::default(),
        &NoProgress,
    )
    .unwrap();
    let (_dir, path) = snapshot_file(&snap, "store.json");
    let whole = fresh_db(c, "whyseed");
    let opts = SeedOptions {
        create_schema: true,
        ..Default::default()
    };
    let v = seed_into(&path, c, &whole, opts.clone(), true)
        .unwrap()
        .1
        .unwrap();
    assert!(v.findings.is_empty(), "{:#?}", v.findings);
    assert!(
        v.kept.is_empty(),
        "at scale 1 every fact at its share: {:#?}",
        v.kept
    );
    assert_eq!(v.plans_total, 12);
    assert!(v.plans_same + v.plans_tied >= 11, "{:#?}", v.plans_why);
    assert_eq!(v.plans_divergent.len(), v.plans_why.len());
    // The one query that cannot plan alike without production's values.
    let why = v
        .plans_why
        .get("q01.sql")
        .expect("q01 filters on a production value");
    assert!(
        why.contains("literal values ('Zürich')") && why.contains("--raw-values"),
        "{why}"
    );
    let small = fresh_db(c, "whysmall");
    let v = seed_into(
        &path,
        c,
        &small,
        SeedOptions {
            scale: 0.01,
            ..opts
        },
        true,
    )
    .unwrap()
    .1
    .unwrap();
    let serious: Vec<_> = v
        .findings
        .iter()
        .filter(|f| f.severity >= pgparity::finding::Severity::Medium)
        .map(|f| format!("{} {}", f.id, f.message))
        .collect();
    assert!(serious.is_empty(), "{serious:#?}");
    let emoji = "store.customers.first_name: emoji seen in 1 row of 5,900: kept at 1 row of 59 (at this scale it rounds to none)";
    assert!(v.kept.iter().any(|k| k == emoji), "{:#?}", v.kept);
    assert!(
        v.kept.iter().any(|k| k.starts_with(
            "store.titles.title: not nfc seen in 1 row of 8,800: kept at 1 row of 88"
        )),
        "{:#?}",
        v.kept
    );
}

/// A table production keeps all-visible is VACUUMed after the load until it is, also when a
/// snapshot another session held kept the first VACUUM from marking its pages: the session
/// ends while the seed is paused after that VACUUM, and the table — a plain one, outside any
/// partition tree — is found short and vacuumed again (it was never found short: the check
/// summed its partitions, and a plain table has none).
#[test]
fn a_table_a_held_snapshot_kept_from_all_visible_is_vacuumed_again() {
    let c = pg17();
    let src = fresh_db(c, "visrc");
    // Fewer rows than autovacuum's insert threshold: no VACUUM but the seed's marks them.
    c.execute(
        &src,
        // The test clusters commit asynchronously; committed synchronously, the rows can be
        // marked all-visible at once.
        "SET synchronous_commit = on; CREATE TABLE small (id int PRIMARY KEY, note text); \
         INSERT INTO small SELECT i, repeat('n', i % 30) FROM generate_series(1, 600) i",
    )
    .unwrap();
    c.execute(&src, "VACUUM ANALYZE small").unwrap();
    let snap = capture(c, &src, "production");
    let stats = &snap.statistics.tables["public.small"];
    assert_eq!(stats.relallvisible, Some(stats.relpages), "{stats:?}");
    let (_dir, path) = snapshot_file(&snap, "small.json");
    let db = fresh_db(c, "visseed");
    let (rt, holder) = snapshot_holder(c, &db, "SELECT 1");
    let paused = paused_at(seed_command(&path, c, &db), "seed:vacuumed");
    let visible = || {
        c.query_scalar(
            &db,
            "SELECT relallvisible || ' of ' || relpages FROM pg_class WHERE oid = 'small'::regclass",
        )
        .unwrap()
    };
    // The first VACUUM could not mark rows newer than the held snapshot.
    let first = visible();
    assert!(first.starts_with("0 of "), "{first}");
    rt.block_on(holder.batch_execute("COMMIT")).unwrap();
    let (status, stderr) = paused.resume();
    assert!(status.success(), "{stderr}");
    let (pages, all): (String, String) = {
        let v = visible();
        let (a, p) = v.split_once(" of ").unwrap();
        (p.to_string(), a.to_string())
    };
    assert_eq!(all, pages, "all-visible pages of small after the seed");
}

/// `seed --from SNAP --into DB --create-schema --yes`, to be started paused.
fn seed_command(
    path: &std::path::Path,
    c: &pgparity::cluster::Cluster,
    db: &str,
) -> std::process::Command {
    let mut cmd = bin();
    cmd.args(["seed", "--from"]).arg(path).args([
        "--into",
        &c.conninfo(db),
        "--create-schema",
        "--yes",
    ]);
    cmd
}

/// A session of its own on `db` that begins REPEATABLE READ and takes its snapshot with
/// `first`: VACUUM cannot mark rows newer than it until COMMIT is run on it.
fn snapshot_holder(
    c: &pgparity::cluster::Cluster,
    db: &str,
    first: &str,
) -> (tokio::runtime::Runtime, tokio_postgres::Client) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let holder = rt
        .block_on(pgparity::capture::connect(&target(c, db, "holder")))
        .unwrap();
    rt.block_on(holder.batch_execute(&format!("BEGIN ISOLATION LEVEL REPEATABLE READ; {first}")))
        .unwrap();
    (rt, holder)
}

/// One partition VACUUM could not mark (rows newer than a snapshot held through the first
/// round) beside three it could: the partition is found short on its own and vacuumed again.
/// Summed over the tree (three quarters all-visible) it hid behind its siblings and stayed at 0
/// (a full run's helpdesk test failed so on `tickets_2025_03`).
#[test]
fn a_partition_left_short_beside_visible_siblings_is_vacuumed_again() {
    let c = pg17();
    let src = fresh_db(c, "vispsrc");
    c.execute(
        &src,
        "SET synchronous_commit = on; \
         CREATE TABLE ev (id int, note text) PARTITION BY RANGE (id); \
         CREATE TABLE ev_1 PARTITION OF ev FOR VALUES FROM (1) TO (1001); \
         CREATE TABLE ev_2 PARTITION OF ev FOR VALUES FROM (1001) TO (2001); \
         CREATE TABLE ev_3 PARTITION OF ev FOR VALUES FROM (2001) TO (3001); \
         CREATE TABLE ev_4 PARTITION OF ev FOR VALUES FROM (3001) TO (4001); \
         INSERT INTO ev SELECT i, repeat('n', i % 40) FROM generate_series(1, 4000) i",
    )
    .unwrap();
    c.execute(&src, "VACUUM ANALYZE ev").unwrap();
    let snap = capture(c, &src, "production");
    let (_dir, path) = snapshot_file(&snap, "ev.json");
    let db = fresh_db(c, "vispseed");
    let paused = paused_at(seed_command(&path, c, &db), "seed:loaded,seed:vacuumed");
    // A snapshot taken now, then ev_3's rows rewritten (same values): the first VACUUM cannot
    // mark ev_3's new row versions while the snapshot is held.
    let (rt, holder) = snapshot_holder(c, &db, "SELECT count(*) FROM ev");
    c.execute(
        &db,
        "SET synchronous_commit = on; UPDATE ev_3 SET note = note",
    )
    .unwrap();
    let paused = paused.again("seed:vacuumed");
    let visible = |t: &str| -> (i64, i64) {
        let v = c
            .query_scalar(
                &db,
                &format!("SELECT relallvisible || ' ' || relpages FROM pg_class WHERE oid = '{t}'::regclass"),
            )
            .unwrap();
        let (a, p) = v.split_once(' ').unwrap();
        (a.parse().unwrap(), p.parse().unwrap())
    };
    let (all3, pages3) = visible("ev_3");
    assert!(
        all3 * 2 < pages3,
        "ev_3 after the first round: {all3} of {pages3}"
    );
    // The siblings were marked, so the tree as a whole is mostly all-visible: a check summed
    // over it finds nothing short.
    let (siblings, sibling_pages) = ["ev_1", "ev_2", "ev_4"]
        .iter()
        .map(|t| visible(t))
        .fold((0, 0), |(a, p), (x, y)| (a + x, p + y));
    assert_eq!(
        siblings, sibling_pages,
        "the siblings after the first round"
    );
    assert!(
        (siblings + all3) * 2 >= sibling_pages + pages3,
        "the tree: {} of {}",
        siblings + all3,
        sibling_pages + pages3
    );
    rt.block_on(holder.batch_execute("COMMIT")).unwrap();
    let (status, stderr) = paused.resume();
    assert!(status.success(), "{stderr}");
    let (all3, pages3) = visible("ev_3");
    assert!(
        all3 * 2 >= pages3,
        "ev_3 after the seed: {all3} of {pages3}\n{stderr}"
    );
}
