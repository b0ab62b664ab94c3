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
    Option<pgparity::run::Verification>,
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
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prod.json");
    snap.write(&path).unwrap();
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
        &sp.tables["public.customers"].columns["name"],
        &tp.tables["public.customers"].columns["name"],
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
