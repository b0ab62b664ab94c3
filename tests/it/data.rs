//! Data profiles on real clusters: planted data gaps found with the right category and object,
//! no raw value in any output, sampled estimates within their stated bounds.

use pgparity::capture::CaptureOptions;
use pgparity::finding::{Category, Finding, Severity};
use pgparity::profile::ProfileOptions;
use pgparity::progress::NoProgress;
use pgparity::run::{CompareRequest, Side};

use crate::support::*;

const SCHEMA: &str = r#"
CREATE TYPE order_status AS ENUM ('pending', 'paid', 'cancelled');
CREATE TABLE customers (id int PRIMARY KEY, display_name text NOT NULL, email text);
CREATE TABLE products (id int PRIMARY KEY, title text);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers (id), status order_status NOT NULL);
CREATE TABLE order_items (order_id int NOT NULL, product_id int NOT NULL, qty int);
CREATE TABLE events (id bigint, at timestamptz, payload jsonb);
CREATE TABLE tags (id int, label text);
"#;

/// Production: emoji, right-to-left names, NULL emails (after ANALYZE: pg_stats says 0 %),
/// one customer with 10,000 orders, 'cancelled' orders, 100,000 events, a frequent sentinel.
const PRODUCTION: &str = r#"
INSERT INTO customers SELECT i,
  CASE WHEN i % 10 = 0 THEN 'Ana 👩‍💻 ' || i WHEN i % 20 = 1 THEN 'שרה ' || i
       WHEN i % 5 = 2 THEN 'SENTINEL-7f3a' ELSE 'Customer ' || i END,
  'c' || i || '@example.com' FROM generate_series(1, 5000) i;
INSERT INTO products SELECT i, 'P' || i FROM generate_series(1, 100) i;
INSERT INTO orders SELECT i, CASE WHEN i <= 10000 THEN 1 ELSE 2 + i % 4000 END,
  (ARRAY['pending', 'paid', 'cancelled'])[1 + i % 3]::order_status FROM generate_series(1, 20000) i;
INSERT INTO order_items SELECT i, 1 + i % 100, 1 FROM generate_series(1, 20000) i;
ALTER TABLE order_items ADD FOREIGN KEY (product_id) REFERENCES products (id);
INSERT INTO events SELECT i, now(), '{"a": 1}' FROM generate_series(1, 100000) i;
INSERT INTO tags SELECT i, 'l' || (i % 5) FROM generate_series(1, 1000) i;
"#;

/// Staging: clean ASCII, no NULLs, at most 2 orders per customer, no 'cancelled', 100 events,
/// order items pointing at products that do not exist (no foreign key here).
const STAGING: &str = r#"
INSERT INTO customers SELECT i, 'Customer ' || i, 'c' || i || '@example.com' FROM generate_series(1, 1000) i;
INSERT INTO products SELECT i, 'P' || i FROM generate_series(1, 100) i;
INSERT INTO orders SELECT i, 1 + i % 1000, (ARRAY['pending', 'paid'])[1 + i % 2]::order_status FROM generate_series(1, 2000) i;
INSERT INTO order_items SELECT i, 1 + i % 120, 1 FROM generate_series(1, 2000) i;
INSERT INTO events SELECT i, now(), '{"a": 1}' FROM generate_series(1, 100) i;
INSERT INTO tags SELECT i, 'l' || i FROM generate_series(1, 1000) i;
"#;

fn profiled(left: Side, right: Side, profile: ProfileOptions) -> CompareRequest {
    CompareRequest {
        profile: Some(profile),
        ..request(left, right)
    }
}

#[test]
fn planted_data_gaps_are_found_and_no_raw_value_leaks() {
    let (cs, cp) = (pg17(), pg17b());
    let (ds, dp) = (fresh_db(cs, "gaps"), fresh_db(cp, "gaps"));
    cs.execute(&ds, SCHEMA).unwrap();
    cp.execute(&dp, SCHEMA).unwrap();
    cs.execute(&ds, STAGING).unwrap();
    cp.execute(&dp, PRODUCTION).unwrap();
    cs.execute(&ds, "ANALYZE").unwrap();
    cp.execute(&dp, "ANALYZE").unwrap();
    cp.execute(&dp, "UPDATE customers SET email = NULL WHERE id % 10 < 3")
        .unwrap();
    cp.execute(&dp, "UPDATE tags SET label = 'l' || id")
        .unwrap();

    for exact in [false, true] {
        let profile = ProfileOptions {
            exact,
            ..ProfileOptions::default()
        };
        let req = profiled(
            Side::Live(target(cs, &ds, "staging")),
            Side::Live(target(cp, &dp, "production")),
            profile,
        );
        let report = pgparity::run::check(&req, &NoProgress).unwrap();
        let f: Vec<Finding> = report.findings.iter().map(|e| e.finding.clone()).collect();

        let emoji = find(&f, "encoding:public.customers.display_name:emoji");
        assert_eq!(
            (emoji.category, emoji.severity),
            (Category::Encoding, Severity::High)
        );
        assert!(
            emoji.message.contains("production has emoji"),
            "{}",
            emoji.message
        );
        let rtl = find(&f, "encoding:public.customers.display_name:rtl");
        assert!(rtl.message.contains("right-to-left text (Arabic, Hebrew) in 5.0 % of public.customers.display_name; staging has none"), "{}", rtl.message);
        let nulls = find(&f, "nulls:public.customers.email");
        assert_eq!(nulls.severity, Severity::Critical);
        assert!(
            nulls
                .message
                .contains("NULL in 30 % of production rows, never in staging"),
            "{}",
            nulls.message
        );
        let stats = find(&f, "statistics:public.customers.email:null_frac-right");
        assert!(stats.message.contains("planner statistics in production say public.customers.email is 0 % NULL; measured 30 %"), "{}", stats.message);
        let nd = find(&f, "statistics:public.tags.label:n_distinct-right");
        assert!(
            nd.message
                .contains("say public.tags.label is 5 distinct; measured 1,000 distinct"),
            "{}",
            nd.message
        );
        let fan = find(
            &f,
            "relationship:public.orders(customer_id)->public.customers:fanout",
        );
        assert!(
            fan.message.contains("has 10,000 public.orders rows"),
            "{}",
            fan.message
        );
        let orphans = find(
            &f,
            "relationship:public.order_items(product_id)->public.products:orphans-left",
        );
        assert!(
            orphans.message.starts_with(
                "staging has 320 public.order_items rows whose public.products does not exist"
            ),
            "{}",
            orphans.message
        );
        let status = find(&f, "distribution:public.orders.status:value:cancelled");
        assert_eq!(status.severity, Severity::High);
        let volume = find(&f, "volume:public.events");
        assert_eq!(volume.severity, Severity::High);
        assert!(
            volume.message.contains("1,000× larger in production"),
            "{}",
            volume.message
        );
        assert!(
            f.iter().all(|x| x.id != "volume:public.customers"),
            "5× is within the volume band"
        );

        // No raw value anywhere: report in every format, and the snapshots.
        let (l, r) = pgparity::run::load_sides(&req, &NoProgress).unwrap();
        for text in [
            serde_json::to_string(&l).unwrap(),
            serde_json::to_string(&r).unwrap(),
            pgparity::report::render_json(&report),
            pgparity::report::render_markdown(&report),
            pgparity::report::render_text(&report, false),
        ] {
            assert!(
                !text.contains("SENTINEL-7f3a") && !text.contains("שרה"),
                "a raw value leaked"
            );
        }
        // Thresholds per table: a declared scale gap on public.events is no finding.
        let mut thresholds = pgparity::compare::thresholds::ThresholdSet::default();
        thresholds.objects.insert(
            "public.events".into(),
            pgparity::compare::thresholds::Overrides {
                volume_band: Some(10_000.0),
                ..Default::default()
            },
        );
        let gate = pgparity::run::Gate {
            thresholds,
            ..pgparity::run::Gate::new(req.gate.today)
        };
        let relaxed = pgparity::run::build_report(&l, &r, ("l", "r"), &gate);
        assert!(relaxed
            .findings
            .iter()
            .all(|e| e.finding.id != "volume:public.events"));
        assert!(relaxed
            .findings
            .iter()
            .any(|e| e.finding.id == "nulls:public.customers.email"));
        let method = &r
            .profile
            .as_ref()
            .unwrap()
            .tables
            .get("public.events")
            .unwrap()
            .method;
        assert_eq!(
            method.kind.as_str(),
            if exact { "exact" } else { "bernoulli" }
        );
    }
    // With the opt-in, raw frequent values are kept (the check above would catch a leak).
    let raw = capture_with(
        cp,
        &dp,
        "production",
        Some(&ProfileOptions {
            raw_values: true,
            ..Default::default()
        }),
    );
    assert!(serde_json::to_string(&raw)
        .unwrap()
        .contains("SENTINEL-7f3a"));
}

#[test]
fn same_data_on_15_and_17_gives_no_data_findings_sampled_or_exact() {
    let (a, b) = (pg15(), pg17());
    let (da, db) = (fresh_db(a, "samedata"), fresh_db(b, "samedata"));
    for (c, d) in [(a, &da), (b, &db)] {
        c.execute(d, SCHEMA).unwrap();
        c.execute(d, PRODUCTION).unwrap();
        c.execute(d, "ANALYZE").unwrap();
    }
    for exact in [false, true] {
        let p = ProfileOptions {
            exact,
            ..ProfileOptions::default()
        };
        let f = compare(
            &capture_with(a, &da, "pg15", Some(&p)),
            &capture_with(b, &db, "pg17", Some(&p)),
        );
        let data: Vec<&Finding> = f
            .iter()
            .filter(|x| is_data_finding(x) || x.id.contains("null_frac"))
            .collect();
        assert!(data.is_empty(), "exact={exact}: {data:#?}");
    }
}

#[test]
fn sampled_estimates_stay_within_their_bounds_on_a_million_rows() {
    let c = pg17();
    let db = fresh_db(c, "million");
    c.execute(
        &db,
        "CREATE TABLE big (id bigint, maybe int, label text); \
         INSERT INTO big SELECT i, CASE WHEN (i * 7919) % 100 < 30 THEN NULL ELSE i % 1000 END, 'l' || (i % 50000) \
         FROM generate_series(1::bigint, 1000000) i; ANALYZE big;",
    )
    .unwrap();
    let sampled = capture_with(c, &db, "s", Some(&ProfileOptions::default()));
    let exact = capture_with(
        c,
        &db,
        "e",
        Some(&ProfileOptions {
            exact: true,
            ..Default::default()
        }),
    );
    let big = |snap: &pgparity::snapshot::Snapshot| {
        snap.profile
            .as_ref()
            .unwrap()
            .tables
            .get("public.big")
            .unwrap()
    };
    let (s, e) = (&big(&sampled), &big(&exact));
    assert_eq!(s.method.kind.as_str(), "bernoulli");
    assert!(
        s.method.rows_read < 100_000,
        "a sample, not the table: {}",
        s.method.rows_read
    );
    assert_eq!((e.method.kind.as_str(), e.rows), ("exact", 1_000_000.0));
    assert!((s.rows - 1e6).abs() / 1e6 < 0.1, "row estimate {}", s.rows);
    for col in ["id", "maybe", "label"] {
        let (sc, ec) = (&s.columns[col], &e.columns[col]);
        let (ps, pe) = (
            sc.nulls as f64 / sc.rows as f64,
            ec.nulls as f64 / ec.rows as f64,
        );
        assert!(
            (ps - pe).abs() <= sc.null_rate_error,
            "{col}: null rate {ps} vs exact {pe} ± {}",
            sc.null_rate_error
        );
        let (ds, de) = (sc.distinct.as_ref().unwrap(), ec.distinct.as_ref().unwrap());
        let truth = match col {
            "id" => 1_000_000.0,
            "maybe" => 700.0,
            _ => 50_000.0,
        };
        assert!(
            ds.lower <= truth && truth <= ds.upper,
            "{col}: sampled {ds:?} vs {truth}"
        );
        // The exact pass counted with HyperLogLog past 100,000 values: its bounds hold the truth.
        assert!(
            de.lower <= truth && truth <= de.upper,
            "{col}: exact {de:?} vs {truth}"
        );
    }
    assert_eq!(e.columns["maybe"].nulls, 300_000);
}

/// `table` was not profiled, and the snapshot says it lacks the SELECT privilege.
fn assert_unreadable(snap: &pgparity::snapshot::Snapshot, table: &str) {
    assert!(
        snap.problems
            .iter()
            .any(|x| x.area == format!("profile {table}")
                && x.message.starts_with("no SELECT privilege: not profiled")),
        "{:?}",
        snap.problems
    );
}

#[test]
fn odd_tables_are_profiled_or_listed_and_the_run_goes_on() {
    let c = pg17();
    let db = fresh_db(c, "oddprofile");
    let wide: Vec<String> = (0..1600).map(|i| format!("c{i} int")).collect();
    c.execute(
        &db,
        &format!(
            "CREATE TABLE wide ({}); INSERT INTO wide (c0, c1599) VALUES (1, 2), (3, NULL); \
             CREATE TABLE empty_t (id int, note text); \
             CREATE TABLE secret_t (id int, card text); INSERT INTO secret_t VALUES (1, '4111'); \
             CREATE TABLE \"Mixed Case \"\"Quoted\"\" ü\" (\"Ünïcode Col\" text, \"select\" int, r int4range, b bytea, a int[], j jsonb, u uuid, c5 char(5)); \
             INSERT INTO \"Mixed Case \"\"Quoted\"\" ü\" VALUES ('x', 1, '[1,5)', '\\x00ff', ARRAY[1,2,3], '{{\"k\": [1, {{\"d\": 2}}]}}', gen_random_uuid(), 'ab'); \
             DO $$ BEGIN CREATE ROLE profile_reader LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$; \
             GRANT SELECT ON wide, empty_t, \"Mixed Case \"\"Quoted\"\" ü\" TO profile_reader; GRANT pg_read_all_stats TO profile_reader;",
            wide.join(", ")
        ),
    )
    .unwrap();
    let mut t = target(c, &db, "limited");
    t.conninfo.set("user", "profile_reader");
    let snap = pgparity::run::snapshot(
        &t,
        &CaptureOptions::default(),
        Some(&ProfileOptions::default()),
        &[],
        &NoProgress,
    )
    .unwrap();
    let p = snap.profile.as_ref().unwrap();
    assert_eq!(p.tables.get("public.wide").unwrap().columns.len(), 1600);
    assert_eq!(
        p.tables.get("public.wide").unwrap().columns["c1599"].nulls,
        1
    );
    assert_eq!(p.tables.get("public.empty_t").unwrap().rows, 0.0);
    let odd = &p
        .tables
        .get("public.\"Mixed Case \"\"Quoted\"\" ü\"")
        .unwrap();
    assert_eq!(odd.columns["r"].kind.as_str(), "other");
    assert_eq!(odd.columns["b"].length_bytes.last(), Some(&2.0));
    assert_eq!(odd.columns["a"].array_length.last(), Some(&3.0));
    assert_eq!(odd.columns["j"].json_depth.last(), Some(&3.0));
    assert_eq!(odd.columns["select"].max, Some(1.0));
    // character(n) is measured without its padding, as `::text` reads it.
    assert_eq!(odd.columns["c5"].length_bytes.last(), Some(&2.0));
    assert_eq!(
        odd.columns["c5"].classes.get("edge_whitespace"),
        None,
        "no value has edge whitespace"
    );
    assert!(!p.tables.contains_key("public.secret_t"));
    assert_unreadable(&snap, "public.secret_t");
    assert!(!serde_json::to_string(&snap).unwrap().contains("4111"));
}

/// The fan-out of `child(parent_id)` → `parent(id)` (declared by no key) as profiled.
fn child_to_parent(
    c: &pgparity::cluster::Cluster,
    db: &str,
    opts: &ProfileOptions,
) -> pgparity::snapshot::RelationshipProfile {
    let rel = pgparity::profile::RelSpec {
        child: "public.child".into(),
        child_columns: vec!["parent_id".into()],
        parent: "public.parent".into(),
        parent_columns: vec!["id".into()],
    };
    let snap = pgparity::run::snapshot(
        &target(c, db, "s"),
        &CaptureOptions::default(),
        Some(opts),
        &[rel],
        &NoProgress,
    )
    .unwrap();
    snap.profile.unwrap().relationships["public.child(parent_id)->public.parent(id)"].clone()
}

#[test]
fn fan_out_on_sampled_parents_estimates_orphans() {
    let c = pg17();
    let db = fresh_db(c, "fansample");
    c.execute(
        &db,
        "CREATE TABLE parent (id int PRIMARY KEY); CREATE TABLE child (id int, parent_id int); \
         INSERT INTO parent SELECT generate_series(1, 120000); \
         INSERT INTO child SELECT i, CASE WHEN i % 10 = 0 THEN 1000000 + i ELSE 1 + i % 120000 END FROM generate_series(1, 360000) i; \
         CREATE INDEX ON child (parent_id); ANALYZE;",
    )
    .unwrap();
    let opts = ProfileOptions {
        sample_rows: Some(100),
        ..Default::default()
    };
    let r = &child_to_parent(c, &db, &opts);
    assert!(r.parents_sampled);
    assert_eq!(r.children, 360000);
    assert!(
        (27000..=45000).contains(&r.orphans),
        "orphans estimated at {} of 36,000",
        r.orphans
    );
    assert!(r.parents > 1000 && r.parents < 120000, "{}", r.parents);
    assert_eq!(r.max, 3.0);
}

// Issue 15: a table of multi-megabyte values was held whole in memory by the profile. Values
// over 64 KB are measured from their lengths (sent by the server) and their ends.
#[test]
fn long_values_are_measured_from_their_lengths_and_ends() {
    let c = pg17();
    let db = fresh_db(c, "longvalues");
    c.execute(
        &db,
        "CREATE TABLE docs (id int PRIMARY KEY, body text NOT NULL, meta jsonb, note text); \
         INSERT INTO docs SELECT i, repeat('lorem ipsum ', 100000 + i * 1000) || 'fin 😀', \
           jsonb_build_object('k', repeat('x', 70000)), 'short ' || i FROM generate_series(1, 30) i; \
         ANALYZE docs",
    )
    .unwrap();
    let snap = capture(c, &db, "docs");
    assert!(snap.problems.is_empty(), "{:?}", snap.problems);
    let t = &snap
        .profile
        .as_ref()
        .unwrap()
        .tables
        .get("public.docs")
        .unwrap();
    let body = &t.columns["body"];
    assert_eq!(body.long_values, 30);
    // 12 bytes × (100,000 + 30,000) + "fin 😀" (8 bytes, 5 characters).
    assert_eq!(body.length_bytes[6], 12.0 * 130_000.0 + 8.0);
    assert_eq!(body.length_chars[6], 12.0 * 130_000.0 + 5.0);
    assert_eq!(
        body.classes.get("emoji").copied(),
        Some(30),
        "classes from the value's end"
    );
    assert_eq!(t.columns["meta"].long_values, 30);
    assert_eq!(t.columns["note"].long_values, 0);
    assert_eq!(t.columns["note"].length_chars[6], 8.0);
    // A self-compare stays clean.
    assert!(compare(&snap, &snap).is_empty());
}

// Issue 15 (1.5): fan-out quantiles are computed from parents per fan-out value (no sort of one
// value per parent on the server); they equal what percentile_disc gives over every parent.
#[test]
fn fanout_quantiles_equal_percentile_disc_over_every_parent() {
    let c = pg17();
    let db = fresh_db(c, "fanexact");
    c.execute(
        &db,
        "CREATE TABLE parent (id int PRIMARY KEY); CREATE TABLE child (id int, parent_id int); \
         INSERT INTO parent SELECT generate_series(1, 5000); \
         INSERT INTO child SELECT i, CASE WHEN i % 97 = 0 THEN 900000 + i \
           WHEN i % 5 = 0 THEN 1 + (i * 7) % 50 ELSE 1 + (i * 31) % 4000 END \
           FROM generate_series(1, 40000) i; \
         ANALYZE;",
    )
    .unwrap();
    let r = &child_to_parent(c, &db, &ProfileOptions::default());
    assert!(!r.parents_sampled);
    let truth = c
        .query_scalar(
            &db,
            "WITH n AS (SELECT p.id, count(ch.parent_id) AS n FROM parent p LEFT JOIN child ch ON ch.parent_id = p.id GROUP BY p.id) \
             SELECT concat_ws(' ', count(*), count(*) FILTER (WHERE n = 0), max(n), \
               array_to_string(percentile_disc(ARRAY[0.5, 0.9, 0.99, 0.999]) WITHIN GROUP (ORDER BY n), ','), \
               (SELECT count(*) FROM child WHERE parent_id IS NOT NULL), \
               (SELECT count(*) FROM child WHERE parent_id > 5000)) FROM n",
        )
        .unwrap();
    let ours = format!(
        "{} {} {} {} {} {}",
        r.parents,
        r.childless,
        r.max,
        r.fanout
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(","),
        r.children,
        r.orphans
    );
    assert_eq!(ours, truth);
    assert!(
        r.childless > 0 && r.orphans > 0 && r.max > r.fanout[0],
        "{ours}"
    );
}

// Issue 15 (1.2): a large table read whole is read by several sessions at once, each a range
// of its blocks in one exported snapshot; the merged profile is the single-stream one.
#[test]
fn exact_profile_in_four_streams_equals_the_single_stream_one() {
    let c = pg17();
    let db = fresh_db(c, "streams");
    c.execute(
        &db,
        "CREATE TYPE mood AS ENUM ('calm', 'busy'); \
         CREATE TABLE \"Big Table\" (id bigint PRIMARY KEY, \"Näme\" text, amount numeric(12,2), at timestamptz, \
           day date, flag boolean, m mood, doc jsonb, blob bytea, tags int[]); \
         INSERT INTO \"Big Table\" SELECT i, CASE WHEN i % 11 = 0 THEN NULL WHEN i % 7 = 0 THEN 'שרה ' || (i % 300) ELSE 'name ' || (i % 900) || ' 👍' END, \
           (i % 5000) / 7.0, timestamptz '2024-01-01' + i * interval '37 seconds', date '2020-01-01' + (i % 2000), \
           i % 3 = 0, (ARRAY['calm','busy'])[1 + i % 2]::mood, jsonb_build_object('k' || (i % 5), i % 13), \
           decode(md5(i::text), 'hex'), ARRAY[i % 4, i % 9] FROM generate_series(1, 45000) i; \
         ANALYZE",
    )
    .unwrap();
    let profile = |streams: usize| {
        let opts = ProfileOptions {
            exact: true,
            streams,
            stream_min_bytes: 0,
            ..Default::default()
        };
        let snap = capture_with(c, &db, "s", Some(&opts));
        assert!(snap.problems.is_empty(), "{:?}", snap.problems);
        snap.profile
            .unwrap()
            .tables
            .get("public.\"Big Table\"")
            .unwrap()
            .clone()
    };
    let (one, four) = (profile(1), profile(4));
    assert_eq!(one.method.streams, None);
    assert_eq!(four.method.streams, Some(4), "read in four block ranges");
    assert_eq!(four.rows, 45000.0);
    assert_eq!(four.method.rows_read, one.method.rows_read);
    assert!(four.rows_exact);
    // Every column's figures are the same, value for value.
    assert_eq!(one.columns.len(), 10);
    for (name, col) in &one.columns {
        assert_eq!(
            serde_json::to_value(col).unwrap(),
            serde_json::to_value(&four.columns[name]).unwrap(),
            "column {name}"
        );
    }
    // PostgreSQL 13 has no TID range scan (each stream would read the whole table): one.
    let c13 = pg13();
    let db13 = fresh_db(c13, "streams");
    c13.execute(
        &db13,
        "CREATE TABLE t AS SELECT i FROM generate_series(1, 20000) i; ANALYZE",
    )
    .unwrap();
    let opts = ProfileOptions {
        exact: true,
        streams: 4,
        stream_min_bytes: 0,
        ..Default::default()
    };
    let snap = capture_with(c13, &db13, "s", Some(&opts));
    let t = &snap.profile.unwrap().tables.get("public.t").unwrap();
    assert_eq!((t.method.streams, t.rows), (None, 20000.0));
}

// Issue 16: a statement timeout on a huge table takes the documented fallback (a block sample
// ten times smaller, then ten times smaller again) and says so in the snapshot's problems.
#[test]
fn a_statement_timeout_falls_back_to_a_smaller_block_sample_and_says_so() {
    let c = pg17();
    let db = fresh_db(c, "timeout");
    c.execute(
        &db,
        "CREATE TABLE huge (id bigint, note text); \
         INSERT INTO huge SELECT i, md5(i::text) FROM generate_series(1, 1500000) i; ANALYZE huge",
    )
    .unwrap();
    let opts = ProfileOptions {
        exact: true,
        streams: 1,
        statement_timeout: std::time::Duration::from_millis(60),
        ..Default::default()
    };
    let snap = capture_with(c, &db, "s", Some(&opts));
    let t = &snap
        .profile
        .as_ref()
        .unwrap()
        .tables
        .get("public.huge")
        .unwrap();
    assert_eq!(t.method.kind, pgparity::snapshot::SampleKind::System);
    let percent = t.method.percent.unwrap();
    assert!(percent <= 10.0, "{percent}");
    let said: Vec<&str> = snap
        .problems
        .iter()
        .filter(|p| p.area == "profile public.huge")
        .map(|p| p.message.as_str())
        .collect();
    assert!(
        said.first().is_some_and(|m| m.starts_with(
            "statement_timeout while reading every row; retried with a 10.0000 % block sample"
        )),
        "{said:?}"
    );
    // The estimate still lands near the truth.
    assert!((t.rows - 1_500_000.0).abs() < 300_000.0, "{}", t.rows);
}

/// Small tables are read up to `tables_per_statement` per COPY (issue 15: thousands of small
/// tables in tens of statements), and each gets exactly the profile a read of its own gives:
/// every kind of column, odd identifiers, NULLs, an empty table, character(n) padding,
/// composites and ranges, and a table the role may not read (its group is read table by
/// table, the others profiled, that one named).
#[test]
fn small_tables_read_together_give_the_profiles_each_gives_alone() {
    let c = pg17();
    let db = fresh_db(c, "grouped");
    let mut sql = String::from(
        "CREATE TYPE mood AS ENUM ('calm', 'busy'); CREATE TYPE pair AS (a int, b text); CREATE DOMAIN yesno AS boolean; \
         DO $$ BEGIN CREATE ROLE group_reader LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$; \
         GRANT pg_read_all_stats TO group_reader;",
    );
    for t in 0..30 {
        sql.push_str(&format!(
            "CREATE TABLE \"Sm {t} ü\" (id int PRIMARY KEY, \"Näme\" text, amount numeric(8,2), at timestamptz, day date, \
               flag boolean, m mood, doc jsonb, blob bytea, tags int[], c5 char(5), addr inet, p pair, r int4range, f float8, \"select\" interval, \
               yn yesno, ch \"char\", nm name, net cidr, money money, x xml); \
             INSERT INTO \"Sm {t} ü\" SELECT i, CASE WHEN i % 5 = 0 THEN NULL ELSE 'näme\t' || (i % (3 + {t})) END, i / 7.0, \
               timestamptz '2024-01-01' + i * interval '1 hour', date '2020-01-01' + i, i % 2 = 0, \
               (ARRAY['calm','busy'])[1 + i % 2]::mood, jsonb_build_object('k', i % 3), decode(md5(i::text), 'hex'), \
               ARRAY[i, i % 3], 'ab', ('10.0.0.' || (i % 200))::inet, ROW(i, 'x' || i)::pair, int4range(i, i + 10), \
               i / 3.0, i * interval '1 minute', NULLIF(i % 3, 0) = 1, chr(65 + i % 5)::\"char\", 'n' || i, \
               ('10.' || (i % 250) || '.0.0/16')::cidr, i * 1.25, ('<a>' || i || '</a>')::xml FROM generate_series(1, {rows}) i; \
             GRANT SELECT ON \"Sm {t} ü\" TO group_reader;",
            rows = if t == 7 { 0 } else { 50 + t * 37 }
        ));
    }
    // Tables of another shape (other types at the same places) read in the same statement:
    // there, values are cast to text.
    for t in 0..3 {
        sql.push_str(&format!(
            "CREATE TABLE \"Sm mixed {t}\" (flag boolean, addr inet, c5 char(5), nm name, id int); \
             INSERT INTO \"Sm mixed {t}\" SELECT i % 3 = 0, ('10.1.0.' || i)::inet, 'x', 'n' || (i % 4), i \
             FROM generate_series(1, 20 + {t}) i; GRANT SELECT ON \"Sm mixed {t}\" TO group_reader;"
        ));
    }
    sql.push_str(
        "CREATE TABLE \"Sm secret\" (id int, card text); INSERT INTO \"Sm secret\" VALUES (1, '4111'); \
         ANALYZE;",
    );
    sql.push_str(&format!("ALTER DATABASE {db} SET log_statement = 'all';"));
    c.execute(&db, &sql).unwrap();
    let log = c.dir.join("server.log");
    let profile = |per: usize| {
        let before = std::fs::read_to_string(&log).map_or(0, |l| l.len());
        let mut t = target(c, &db, "limited");
        t.conninfo.set("user", "group_reader");
        let snap = pgparity::run::snapshot(
            &t,
            &CaptureOptions::default(),
            Some(&ProfileOptions {
                tables_per_statement: per,
                ..Default::default()
            }),
            &[],
            &NoProgress,
        )
        .unwrap();
        let logged = std::fs::read_to_string(&log).unwrap();
        let copies: Vec<String> = logged[before..]
            .lines()
            .filter(|l| l.contains("LOG:") && l.contains("COPY (SELECT") && l.contains("Sm "))
            .map(str::to_string)
            .collect();
        (snap, copies)
    };
    let ((grouped, few), (alone, many)) = (profile(100), profile(1));
    assert_eq!(many.len(), 34, "one statement per table read alone");
    // 33 readable tables and the secret one in one statement, refused; then each table of
    // that group alone.
    assert_eq!(
        few.len(),
        1 + 34,
        "one statement for the group, then each alone"
    );
    let (g, a) = (
        grouped.profile.as_ref().unwrap(),
        alone.profile.as_ref().unwrap(),
    );
    assert_eq!(g.tables.len(), 33);
    for (name, at) in a.tables.iter() {
        let gt = &g.tables.get(name).unwrap();
        assert_eq!(
            serde_json::to_value(gt).unwrap(),
            serde_json::to_value(at).unwrap(),
            "table {name}"
        );
    }
    for snap in [&grouped, &alone] {
        assert_unreadable(snap, "public.\"Sm secret\"");
    }
    // Without the unreadable table, the group is read in one statement.
    c.execute(&db, "DROP TABLE \"Sm secret\"").unwrap();
    let (again, one) = profile(100);
    assert_eq!(one.len(), 1, "the 33 tables in one statement");
    // Places of different types across the group are sent as text (the boolean as COPY
    // spells it).
    assert!(one[0].contains("THEN 't'"), "{}", one[0]);
    let again = again.profile.unwrap();
    assert_eq!(again.tables.get(r#"public."Sm 7 ü""#).unwrap().rows, 0.0);
    assert_eq!(
        serde_json::to_value(&again.tables).unwrap(),
        serde_json::to_value(&a.tables).unwrap()
    );
    // Tables of one shape only: every value sent as it is, no cast; the same profiles.
    c.execute(
        &db,
        "DROP TABLE \"Sm mixed 0\", \"Sm mixed 1\", \"Sm mixed 2\"",
    )
    .unwrap();
    let (native, one) = profile(100);
    assert_eq!(one.len(), 1, "the 30 tables in one statement");
    assert!(
        !one[0].contains("THEN 't'") && !one[0].contains("(flag)::text"),
        "{}",
        one[0]
    );
    let native = native.profile.unwrap();
    assert_eq!(native.tables.len(), 30);
    for (name, nt) in native.tables.iter() {
        assert_eq!(
            serde_json::to_value(nt).unwrap(),
            serde_json::to_value(a.tables.get(name).unwrap()).unwrap(),
            "table {name}"
        );
    }
    let again = native;
    let t3 = &again.tables.get(r#"public."Sm 3 ü""#).unwrap();
    assert_eq!(t3.rows, 161.0);
    assert_eq!(t3.columns["Näme"].nulls, 32);
    assert_eq!(t3.columns["c5"].length_bytes.last(), Some(&2.0));
}

/// Issue 15: small tables are read many to a statement, bounded by their size on disk; values
/// that TOAST compressed well are many times that size as text (here 100 tables of 100 values
/// of 60 KB: 11 MB on disk, 600 MB of text, and the snapshot's peak memory was 603 MB). The
/// rows held by a group's read are bounded by their own bytes, and every value is still
/// measured whole.
#[test]
fn compressible_values_in_small_tables_stay_within_the_memory_goal() {
    let c = pg17();
    let db = fresh_db(c, "squeeze");
    let mut sql = String::new();
    for t in 0..100 {
        sql.push_str(&format!(
            "CREATE TABLE z{t} (id int, doc text); \
             INSERT INTO z{t} SELECT i, repeat(chr(97 + i % 26), 60000) FROM generate_series(1, 100) i;"
        ));
    }
    sql.push_str("ANALYZE;");
    c.execute(&db, &sql).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("squeeze.json");
    let url = c.conninfo(&db);
    let peak_mb = peak_mb(&[
        "snapshot".as_ref(),
        "--url".as_ref(),
        url.as_ref(),
        "--output".as_ref(),
        out.as_os_str(),
    ]);
    assert!(peak_mb < 300, "peak memory {peak_mb} MB (goal < 300 MB)");
    let snap = pgparity::snapshot::Snapshot::read(&out).unwrap();
    let profile = snap.profile.unwrap();
    assert_eq!(profile.tables.len(), 100);
    let doc = &profile.tables.get("public.z42").unwrap().columns["doc"];
    assert_eq!(doc.long_values, 0, "under the long-value limit: read whole");
    assert_eq!(doc.length_bytes.last(), Some(&60000.0));
    assert_eq!(
        doc.distinct.as_ref().map(|d| d.value),
        Some(26.0),
        "every value measured"
    );
}

/// A snapshot file of `tables` profiled tables of five measured columns each (no schema:
/// what grows with the count is the profile alone).
fn profiled_snapshot(path: &std::path::Path, tables: usize) {
    use pgparity::snapshot::*;
    let column = |i: usize| ColumnProfile {
        kind: ValueKind::Text,
        rows: 1000,
        nulls: i as u64,
        distinct: Some(Estimate {
            value: 990.0,
            lower: 950.0,
            upper: 1000.0,
            method: "hll".into(),
        }),
        length_bytes: vec![1.0, 3.0, 8.0, 12.5, 17.0, 30.0, 64.0].into(),
        length_chars: vec![1.0, 3.0, 8.0, 12.0, 17.0, 29.0, 60.0].into(),
        classes: [("ascii".to_string(), 990), ("emoji".to_string(), 10)].into(),
        top: (0..10)
            .map(|h| TopValue {
                hash: ValueHash(0x9e37_79b9_7f4a_7c15u64.wrapping_mul(h + i as u64 + 1)),
                count: 3,
                raw: None,
            })
            .collect(),
        ..Default::default()
    };
    let mut profile = Profile {
        hash_key_id: "k".into(),
        sample_rows: 30_000,
        ..Default::default()
    };
    for t in 0..tables {
        let tp = TableProfile {
            method: Method {
                kind: SampleKind::Exact,
                percent: None,
                rows_read: 1000,
                streams: None,
            },
            rows: 1000.0,
            rows_exact: true,
            table_bytes: 65536,
            index_bytes: 0,
            columns: (0..5)
                .map(|c| (format!("c{c}"), Box::new(column(c))))
                .collect(),
            partitions: Default::default(),
        };
        profile.tables.insert(format!("public.t{t}"), &tp).unwrap();
    }
    let snap = Snapshot {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        profile: Some(profile),
        ..Default::default()
    };
    snap.write(path).unwrap();
}

/// Part 0 of the scale issue: a profile's tables are held as bytes (in a temporary file past
/// 8 MB), so `diff`'s memory does not follow the profiled table count. Parsed, 5,000 more
/// tables of five columns were over 30 MB more (two sides of ~3 KB a table).
#[test]
fn diff_memory_does_not_grow_with_profiled_tables() {
    let dir = tempfile::tempdir().unwrap();
    let peak = |tables: usize| {
        let f = dir.path().join(format!("p{tables}.json"));
        profiled_snapshot(&f, tables);
        peak_mb(&["diff".as_ref(), f.as_os_str(), f.as_os_str()])
    };
    let (small, large) = (peak(1000), peak(6000));
    assert!(
        large - small < 10,
        "diff of 1,000 profiled tables {small} MB, of 6,000 {large} MB: memory follows the table count"
    );
    // Past 8 MB the tables go to a temporary file: a temporary folder that cannot take it is
    // one line naming it, exit 2.
    let f = dir.path().join("p6000.json");
    let line = pgp("diff")
        .arg(&f)
        .arg(&f)
        .env("TMPDIR", dir.path().join("missing"))
        .run()
        .error();
    assert!(
        line.contains("missing") && line.contains("temporary file") && line.contains("TMPDIR"),
        "{line}"
    );
}
