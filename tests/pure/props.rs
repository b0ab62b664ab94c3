//! Property tests (issue 16): every reader given hostile input answers with a clear one-line
//! error or a correct result, never a panic; a snapshot survives its own JSON; a comparison
//! of a snapshot with itself is empty and swapping the sides mirrors the findings; a policy
//! written by `baseline` accepts exactly the findings it was written from.
//!
//! Each property runs `PGPARITY_PROPTEST_CASES` cases (default 128: seconds in the test
//! command); `scripts/fuzz.sh` runs many more. Inputs are seeded from the project's own
//! fixtures (a built snapshot, the TPC-H and zoo SQL, the README's configuration). A failing
//! case proptest finds is kept in `tests/pure/props.proptest-regressions` and replayed first
//! on every later run.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::{json, Value};

use pgparity::compare::compare;
use pgparity::conninfo::{ConnInfo, VarsEnv};
use pgparity::snapshot::plan::PlanNode;
use pgparity::snapshot::Snapshot;

use crate::builder::*;

fn config() -> ProptestConfig {
    let cases = std::env::var("PGPARITY_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// The project's richest built snapshot: tables, keys, statistics, a profile and a plan.
fn fixture() -> Snapshot {
    shop("production", "17.2")
        .profile("public.orders", 1000)
        .plan(
            "q1.sql",
            "SELECT * FROM orders WHERE id = 1",
            scan("public.orders", Some("orders_pkey"), 1.0, 8.3),
        )
        .build()
}

fn fixture_bytes() -> Vec<u8> {
    serde_json::to_vec_pretty(&fixture()).unwrap()
}

/// Writes `bytes` to a file of its own and runs `read` on it.
fn with_file<T>(name: &str, bytes: &[u8], read: impl FnOnce(&Path) -> T) -> T {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    read(&path)
}

/// An error a user sees: one line, naming something.
fn one_line(e: &impl std::fmt::Display) -> Result<(), TestCaseError> {
    let text = e.to_string();
    prop_assert!(!text.trim().is_empty(), "an empty error");
    prop_assert!(
        !text.trim_end().contains('\n'),
        "a multi-line error: {text}"
    );
    Ok(())
}

/// Any JSON value: scalars at the edges (huge, negative, fractional, unicode), arrays and
/// objects nested a few levels, with keys the snapshot uses and keys it does not.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(json!(u64::MAX)),
        (-1e300f64..1e300).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        Just(Value::from("")),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("Node Type".to_string()),
                    Just("Plans".to_string()),
                    Just("Relation Name".to_string()),
                    Just("Index Name".to_string()),
                    Just("Total Cost".to_string()),
                    Just("Plan Rows".to_string()),
                    Just("tables".to_string()),
                    Just("columns".to_string()),
                    "\\PC{0,8}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Replaces the node `pick` lands on (walking down from the root) with `with`.
fn mutate(root: &mut Value, mut pick: u64, with: Value) {
    let mut node = root;
    loop {
        let len = match node {
            Value::Array(a) => a.len(),
            Value::Object(o) => o.len(),
            _ => 0,
        };
        // Stop here one time in four, or at a leaf.
        if len == 0 || pick.is_multiple_of(4) {
            *node = with;
            return;
        }
        let i = ((pick / 4) % len as u64) as usize;
        pick = pick.rotate_right(7) ^ 0x9E37_79B9_7F4A_7C15;
        node = match node {
            Value::Array(a) => &mut a[i],
            Value::Object(o) => o.values_mut().nth(i).expect("index within the length"),
            _ => unreachable!("a leaf has no children"),
        };
    }
}

/// The built snapshot with odd identifiers and figures: names with quotes, spaces, upper case
/// and unicode, row counts from none to billions.
fn snapshots() -> impl Strategy<Value = Snapshot> {
    let name = prop_oneof![
        "[a-z_][a-z0-9_]{0,10}",
        Just("\"Odd \"\"Name\"\"\"".to_string()),
        Just("\"Ünïcode ✓\"".to_string()),
        Just("\"UPPER\"".to_string()),
    ];
    (
        prop::collection::btree_set(name, 1..5),
        prop::collection::vec((0u64..5_000_000_000, any::<bool>()), 5),
        prop::sample::select(vec!["13.16", "15.10", "17.2", "18.1"]),
        prop::collection::vec(
            (
                prop::sample::select(vec![
                    "work_mem",
                    "shared_buffers",
                    "max_connections",
                    "random_page_cost",
                    "effective_cache_size",
                    "enable_seqscan",
                    "default_statistics_target",
                    "statement_timeout",
                ]),
                "\\PC{0,10}",
            ),
            0..4,
        ),
    )
        .prop_map(|(names, figures, version, settings)| {
            let mut s = shop("env", version);
            for (i, n) in names.iter().enumerate() {
                let table = format!("public.{n}");
                let (rows, analyzed) = figures[i % figures.len()];
                s = s
                    .table(&table, &[("id", "bigint not null"), ("note", "text")])
                    .primary_key(&table, "id")
                    .stats(&table, rows as f64, analyzed)
                    .profile(&table, rows % 1_000_000);
            }
            for (k, v) in &settings {
                s = s.setting(k, v);
            }
            s.build()
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_snapshot_of_any_bytes_is_read_or_refused_in_one_line(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        if let Err(e) = with_file("s.json", &bytes, Snapshot::read) {
            one_line(&e)?;
        }
    }

    #[test]
    fn a_truncated_snapshot_is_refused_in_one_line(cut in 0usize..100_000) {
        let bytes = fixture_bytes();
        let cut = cut % bytes.len();
        match with_file("s.json", &bytes[..cut], Snapshot::read) {
            Ok(_) => prop_assert!(false, "a snapshot cut at byte {cut} of {} was read", bytes.len()),
            Err(e) => one_line(&e)?,
        }
    }

    #[test]
    fn a_snapshot_with_a_field_replaced_is_read_and_compared_or_refused(pick in any::<u64>(), with in json()) {
        let mut v = serde_json::to_value(fixture()).unwrap();
        mutate(&mut v, pick, with);
        let bytes = serde_json::to_vec(&v).unwrap();
        match with_file("s.json", &bytes, Snapshot::read) {
            Ok(s) => {
                // Whatever was read, the comparers and every report take it.
                let findings = compare(&fixture(), &s);
                let mirrored = compare(&s, &fixture());
                prop_assert_eq!(findings.len(), mirrored.len());
            }
            Err(e) => one_line(&e)?,
        }
    }

    #[test]
    fn any_plan_json_gives_a_plan_tree(v in json()) {
        let plan = PlanNode::from_json(&v);
        let _ = (plan.shape(), plan.fingerprint(), plan.relations());
    }

    #[test]
    fn any_corpus_text_is_a_query_or_a_one_line_refusal(text in prop_oneof![
        "\\PC{0,200}",
        prop::sample::select(sql_fixture_lines()).prop_flat_map(|l| (Just(l.clone()), 0..=l.len()))
            .prop_map(|(l, cut)| l.chars().take(cut).collect::<String>()),
    ]) {
        if let Err(e) = pgparity::explain::corpus::read_query("q.sql", &text) {
            one_line(&e)?;
        }
    }

    #[test]
    fn a_corpus_file_of_any_bytes_loads_or_is_refused(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        let r = with_file("q.sql", &bytes, |p| pgparity::explain::corpus::load(&[p.to_path_buf()]));
        if let Err(e) = r {
            one_line(&e)?;
        }
    }

    #[test]
    fn any_config_file_loads_or_is_refused_in_one_line(text in config_text()) {
        let r = with_file("pgparity.toml", text.as_bytes(), |p| pgparity::config::Config::load(Some(p)));
        if let Err(e) = r {
            one_line(&e)?;
        }
    }

    #[test]
    fn any_policy_file_loads_or_is_refused_in_one_line(text in policy_text()) {
        let r = with_file("policy.toml", text.as_bytes(), pgparity::config::load_policy);
        if let Err(e) = r {
            one_line(&e)?;
        }
    }

    #[test]
    fn any_connection_string_parses_or_is_refused_and_never_shows_its_password(
        s in prop_oneof![
            "\\PC{0,60}",
            ("[a-z]{0,6}", "[a-zA-Z0-9%@:/?=&. -]{0,30}").prop_map(|(a, b)| format!("postgresql://{a}:pw-Secret-7@{b}")),
            ("[a-z ]{0,6}", "\\PC{0,20}").prop_map(|(a, b)| format!("host={a} password=pw-Secret-7 {b}")),
        ]
    ) {
        match ConnInfo::parse(&s) {
            // Only where the text is the password: `host= password=x` makes the host
            // `password=x` (libpq skips blanks after `=`), and a host is shown.
            Ok(c) if c.get("password") != Some("pw-Secret-7") => {}
            Ok(c) => {
                prop_assert!(!c.redacted().contains("pw-Secret-7"), "{}", c.redacted());
                match c.resolve(&env_of(Vec::new())) {
                    Ok(r) => {
                        prop_assert!(!r.describe().contains("pw-Secret-7"), "{}", r.describe());
                        let _ = r.to_config("pgparity");
                    }
                    Err(e) => {
                        one_line(&e)?;
                        prop_assert!(!e.contains("pw-Secret-7"), "the error shows the password: {e}");
                    }
                }
            }
            Err(e) => {
                one_line(&e)?;
                prop_assert!(!e.contains("pw-Secret-7"), "the error shows the password: {e}");
            }
        }
    }

    #[test]
    fn any_service_or_password_file_resolves_or_is_refused(text in service_text(), pass in password_text()) {
        let dir = tempfile::tempdir().unwrap();
        let service = dir.path().join("pg_service.conf");
        let passfile = dir.path().join("pgpass");
        std::fs::write(&service, &text).unwrap();
        std::fs::write(&passfile, &pass).unwrap();
        let env = env_of(vec![
            ("PGSERVICEFILE".into(), service.display().to_string()),
            ("PGPASSFILE".into(), passfile.display().to_string()),
        ]);
        let c = ConnInfo::parse("service=prod").unwrap();
        match c.resolve(&env) {
            Ok(r) => { let _ = r.describe(); }
            Err(e) => one_line(&e)?,
        }
    }

    #[test]
    fn a_snapshot_survives_its_own_file(s in snapshots()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        s.write(&path).unwrap();
        let back = Snapshot::read(&path).unwrap();
        prop_assert!(back == s, "the snapshot read back differs from the one written");
    }

    #[test]
    fn a_snapshot_compared_with_itself_is_empty(s in snapshots()) {
        let findings = compare(&s, &s);
        prop_assert!(findings.is_empty(), "{:?}", findings.iter().map(|f| &f.id).collect::<Vec<_>>());
    }

    #[test]
    fn swapping_the_sides_mirrors_the_findings(a in snapshots(), b in snapshots()) {
        let mut ab: Vec<(String, Option<String>, Option<String>)> =
            compare(&a, &b).into_iter().map(|f| (f.id, f.left, f.right)).collect();
        let mut ba: Vec<(String, Option<String>, Option<String>)> =
            compare(&b, &a).into_iter().map(|f| (f.id, f.right, f.left)).collect();
        ab.sort();
        ba.sort();
        prop_assert_eq!(ab, ba);
    }

    #[test]
    fn a_baseline_accepts_exactly_the_findings_it_was_written_from(a in snapshots(), b in snapshots(), c in snapshots()) {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let written = compare(&a, &b);
        let policy_text = pgparity::policy::baseline(&written, today);
        let policy = with_file("policy.toml", policy_text.as_bytes(), pgparity::config::load_policy).unwrap();
        let (evaluated, unused) = pgparity::policy::apply(written.clone(), &policy, today, "left");
        prop_assert!(unused.is_empty(), "unused: {:?}", unused);
        for e in &evaluated {
            prop_assert_eq!(e.status, pgparity::policy::Status::Accepted, "{}", e.finding.id);
        }
        // Findings it was not written from stay open.
        let ids: std::collections::BTreeSet<&str> = written.iter().map(|f| f.id.as_str()).collect();
        let (other, _) = pgparity::policy::apply(compare(&a, &c), &policy, today, "left");
        for e in other.iter().filter(|e| !ids.contains(e.finding.id.as_str())) {
            prop_assert_eq!(e.status, pgparity::policy::Status::Open, "{}", e.finding.id);
        }
    }
}

/// Statements of the project's SQL fixtures, one per line (cut anywhere by the strategy).
fn sql_fixture_lines() -> Vec<String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut lines: Vec<String> = ["tpch_schema.sql", "zoo.sql", "saas.sql"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(root.join(f)).ok())
        .flat_map(|t| {
            t.split(';')
                .map(|s| s.trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty())
        .collect();
    lines.truncate(400);
    lines
}

/// TOML-like configuration: known sections and keys with values of any kind, or any text.
fn config_text() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "url",
        "protected",
        "statement_timeout",
        "lock_timeout",
        "sample_rows",
        "concurrency",
        "streams",
        "seed",
        "hash_key_file",
        "volume_band",
        "fail_on",
        "history",
        "timeout",
        "writes",
        "unknown_key",
    ]);
    let value = prop_oneof![
        Just("\"30s\"".to_string()),
        Just("\"-1s\"".to_string()),
        Just("\"postgresql://u@h/db\"".to_string()),
        Just("0".to_string()),
        Just("-5".to_string()),
        Just("99999999999999999999".to_string()),
        Just("true".to_string()),
        Just("[1, \"a\"]".to_string()),
        Just("{ a = 1 }".to_string()),
        "\"\\PC{0,12}\"",
        "\\PC{0,8}",
    ];
    let section = prop::sample::select(vec![
        "",
        "[capture]",
        "[profile]",
        "[plans]",
        "[check]",
        "[thresholds]",
        "[environments.prod]",
        "[environments.\"odd name\"]",
        "[[accept]]",
        "[nonsense]",
    ]);
    prop_oneof![
        prop::collection::vec((section, prop::collection::vec((key, value), 0..4)), 0..5).prop_map(
            |sections| {
                let mut t = String::new();
                for (s, kvs) in sections {
                    t.push_str(s);
                    t.push('\n');
                    for (k, v) in kvs {
                        t.push_str(&format!("{k} = {v}\n"));
                    }
                }
                t
            }
        ),
        "\\PC{0,200}",
    ]
}

/// Policy files: `[[accept]]` entries with fields of any value, or any text.
fn policy_text() -> impl Strategy<Value = String> {
    let field = prop_oneof![
        "\\PC{0,10}".prop_map(|v| format!("id = {:?}", v)),
        "\\PC{0,10}".prop_map(|v| format!("reason = {:?}", v)),
        prop_oneof![Just("2026-01-01"), Just("2026-13-45"), Just("tomorrow")]
            .prop_map(|v| format!("expires = {v:?}")),
        prop_oneof![Just("high"), Just("nope"), Just("")].prop_map(|v| format!("severity = {v:?}")),
        prop_oneof![Just("0.5"), Just("-1"), Just("1e309"), Just("\"x\"")]
            .prop_map(|v| format!("tolerance = {v}")),
        prop_oneof![Just("\"2\""), Just("3")].prop_map(|v| format!("left = {v}")),
    ];
    prop_oneof![
        prop::collection::vec(prop::collection::vec(field, 0..5), 0..4).prop_map(|entries| {
            entries
                .into_iter()
                .map(|fields| format!("[[accept]]\n{}\n", fields.join("\n")))
                .collect::<String>()
        }),
        "\\PC{0,200}",
    ]
}

/// Service files: sections and `key=value` lines of any kind.
fn service_text() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just("[prod]".to_string()),
        Just("[other]".to_string()),
        Just("host=/tmp".to_string()),
        Just("port=notaport".to_string()),
        Just("sslmode=bogus".to_string()),
        Just("service=prod".to_string()),
        Just("=".to_string()),
        Just("# comment".to_string()),
        "[a-z]{1,8}=\\PC{0,12}",
        "\\PC{0,20}",
    ];
    prop::collection::vec(line, 0..8).prop_map(|l| l.join("\n"))
}

/// Password files: `host:port:db:user:password` lines with escapes, wildcards and junk.
fn password_text() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just("*:*:*:*:secret".to_string()),
        Just("/tmp:5432:db:user:pa\\:ss".to_string()),
        Just("::::".to_string()),
        Just("a:b".to_string()),
        "\\PC{0,30}",
    ];
    prop::collection::vec(line, 0..5).prop_map(|l| l.join("\n"))
}

/// A process environment of the given variables only.
fn env_of(vars: Vec<(String, String)>) -> VarsEnv {
    VarsEnv {
        vars,
        user: "tester".into(),
    }
}

/// The fixture snapshot and an EXPLAIN plan written as files read back as they were; with
/// `PGPARITY_FUZZ_SEEDS=DIR` they are written there, as the first inputs of the cargo-fuzz
/// targets (`scripts/fuzz.sh --libfuzzer`).
#[test]
fn the_fuzz_seeds_read_back_as_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::env::var_os("PGPARITY_FUZZ_SEEDS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    for target in ["snapshot", "plan"] {
        std::fs::create_dir_all(dir.join(target)).unwrap();
    }
    let snap = dir.join("snapshot").join("fixture.json");
    fixture().write(&snap).unwrap();
    assert!(Snapshot::read(&snap).unwrap() == fixture());
    let plan = json!({
        "Node Type": "Hash Join", "Join Type": "Inner", "Total Cost": 42.5, "Plan Rows": 10,
        "Plans": [scan("public.orders", Some("orders_pkey"), 1.0, 8.3), scan("public.customers", None, 100.0, 20.0)]
    });
    let path = dir.join("plan").join("join.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&plan).unwrap()).unwrap();
    let back: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        PlanNode::from_json(&back).relations(),
        PlanNode::from_json(&plan).relations()
    );
    assert_eq!(PlanNode::from_json(&plan).relations().len(), 2);
}
