//! Planner parity on real clusters: the corpus is explained (never executed) on both sides,
//! equal plans give no finding, planted causes change the plan and are said in words.

use pgparity::corpus::read_query;
use pgparity::finding::{Category, Finding, Severity};
use pgparity::progress::NoProgress;
use pgparity::run::{CompareRequest, Side};

use crate::support::*;

fn corpus() -> Vec<pgparity::corpus::Query> {
    [
        ("by_customer.sql", "SELECT * FROM orders WHERE customer_id = $1"),
        ("join.sql", "SELECT c.email, sum(o.total) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.email"),
        ("purge.sql", "DELETE FROM orders WHERE total > 0"),
        ("extra.sql", "SELECT count(*) FROM only_in_production"),
    ]
    .into_iter()
    .map(|(p, sql)| read_query(p, sql).unwrap())
    .collect()
}

fn check(l: Side, r: Side) -> Vec<Finding> {
    let req = CompareRequest {
        corpus: corpus(),
        ..request(l, r)
    };
    pgparity::run::check(&req, &NoProgress)
        .unwrap()
        .findings
        .into_iter()
        .map(|e| e.finding)
        .filter(|f| f.category == Category::Plan)
        .collect()
}

#[test]
fn plans_compare_and_planted_causes_show() {
    let (a, b) = (pg17(), pg17b());
    let (da, db) = (fresh_db(a, "plans"), fresh_db(b, "plans"));
    for (c, d) in [(a, &da), (b, &db)] {
        c.execute(d, SCHEMA).unwrap();
        c.execute(d, "INSERT INTO orders (customer_id, total) SELECT 1 + i % 50, i FROM generate_series(1, 20000) i; ANALYZE").unwrap();
    }
    // Identical databases: the only plan finding is the query that fails on both sides.
    let f = check(
        Side::Live(target(a, &da, "staging")),
        Side::Live(target(b, &db, "production")),
    );
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(
        (f[0].id.as_str(), f[0].severity),
        ("plan:query:extra.sql:error", Severity::Info)
    );
    // The DELETE was planned, never run.
    assert_eq!(
        a.query_scalar(&da, "SELECT count(*)::text FROM orders")
            .unwrap(),
        "20200"
    );

    // Planted: no hash joins and no index on one side; a table only the other side has.
    a.execute(
        &da,
        &format!("ALTER DATABASE {da} SET enable_hashjoin = off"),
    )
    .unwrap();
    a.execute(&da, "DROP INDEX orders_customer_id_idx").unwrap();
    b.execute(&db, "CREATE TABLE only_in_production (id int)")
        .unwrap();
    let f = check(
        Side::Live(target(a, &da, "staging")),
        Side::Live(target(b, &db, "production")),
    );
    let join = find(&f, "plan:query:join.sql:shape");
    assert!(
        join.message.contains("join method between public.customers, public.orders: Nested Loop in staging → Hash Join in production"),
        "{}",
        join.message
    );
    let kinds = |x: &Finding| x.causes.iter().map(|c| c.kind.clone()).collect::<Vec<_>>();
    assert!(
        kinds(join).contains(&"setting".to_string()),
        "{:#?}",
        join.causes
    );
    let setting = join.causes.iter().find(|c| c.kind == "setting").unwrap();
    assert!(
        setting.evidence.contains("enable_hashjoin = on"),
        "{}",
        setting.evidence
    );
    assert!(setting
        .links
        .contains(&"setting:enable_hashjoin".to_string()));
    let by_customer = find(&f, "plan:query:by_customer.sql:shape");
    let schema = by_customer
        .causes
        .iter()
        .find(|c| c.kind == "schema")
        .unwrap_or_else(|| panic!("{:#?}", by_customer.causes));
    assert_eq!(
        schema.evidence,
        "index orders_customer_id_idx does not exist in staging"
    );
    assert_eq!(
        schema.links,
        vec!["schema:public.orders_customer_id_idx:missing".to_string()]
    );
    assert!(
        by_customer
            .message
            .contains("access path on public.orders: Seq Scan in staging → "),
        "{}",
        by_customer.message
    );
    let extra = find(&f, "plan:query:extra.sql:error");
    assert_eq!(extra.severity, Severity::High);
    assert!(extra.message.contains("plans in production but fails in staging: relation \"only_in_production\" does not exist"), "{}", extra.message);
    assert_eq!(
        a.query_scalar(&da, "SELECT count(*)::text FROM orders")
            .unwrap(),
        "20200"
    );
}

#[test]
fn parameterized_queries_plan_on_15_and_17_each_by_its_method() {
    let (a, b) = (pg15(), pg17());
    let (da, db) = (fresh_db(a, "params"), fresh_db(b, "params"));
    for (c, d) in [(a, &da), (b, &db)] {
        c.execute(d, SCHEMA).unwrap();
    }
    let snap = |c, d: &str, name: &str| {
        let req = CompareRequest {
            corpus: corpus(),
            ..request(
                Side::Live(target(c, d, name)),
                Side::Live(target(c, d, name)),
            )
        };
        pgparity::run::load_sides(&req, &NoProgress).unwrap().0
    };
    let (s15, s17) = (snap(a, &da, "pg15"), snap(b, &db, "pg17"));
    let (p15, p17) = (
        &s15.plans.as_ref().unwrap()["by_customer.sql"],
        &s17.plans.as_ref().unwrap()["by_customer.sql"],
    );
    assert_eq!(
        (p15.method.as_str(), p17.method.as_str()),
        ("prepare", "generic_plan")
    );
    assert!(p15.plan.is_some() && p17.plan.is_some(), "{p15:?} {p17:?}");
    assert_eq!(s17.plans.as_ref().unwrap()["join.sql"].method, "plain");
}

#[test]
fn corpus_folders_on_the_command_line() {
    let c = pg17();
    let db = fresh_db(c, "corpuscli");
    c.execute(&db, SCHEMA).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("app")).unwrap();
    std::fs::write(
        dir.path().join("app/one.sql"),
        "SELECT * FROM orders WHERE id = $1;",
    )
    .unwrap();
    std::fs::write(dir.path().join("app/two.sql"), "SELECT 1; SELECT 2;").unwrap();
    std::fs::write(dir.path().join("app/notes.txt"), "not a query").unwrap();
    let url = c.url(&db);
    let (code, out, err) = run(&[
        "check",
        "--left",
        &url,
        "--right",
        &url,
        "--no-profile",
        "--corpus",
        dir.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning: corpus: query app/two.sql: holds 2 statements; hint: put one statement per file"), "{err}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["findings"].as_array().unwrap().len(), 0, "{out}");
    let empty = tempfile::tempdir().unwrap();
    let (code, _, err) = run(&[
        "check",
        "--left",
        &url,
        "--right",
        &url,
        "--no-profile",
        "--corpus",
        empty.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim(),
        "error: the corpus holds no query; hint: give a folder of .sql files, one statement each"
    );
}

/// STYLE.md: every queries/*.sql file parses with sqlparser's PostgreSQL dialect, or says why not.
#[test]
fn every_shipped_query_parses_or_says_why() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let (queries, problems) = pgparity::corpus::load(&[root]).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert!(queries.len() >= 3);
    for q in queries {
        assert!(
            q.parse_error.is_none() || q.sql.contains("sqlparser cannot"),
            "{}: {:?}",
            q.path,
            q.parse_error
        );
    }
}

/// The 22 TPC-H queries plan on PostgreSQL 15 and 17 (an empty TPC-H schema is enough), and
/// two identical databases give no plan finding.
#[test]
fn tpch_queries_plan_on_15_and_17() {
    let corpus_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/tpch");
    let (queries, problems) = pgparity::corpus::load(&[corpus_dir]).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(queries.len(), 22);
    assert!(
        queries
            .iter()
            .all(|q| q.kind == "read" && q.parse_error.is_none()),
        "{queries:#?}"
    );
    for (x, y) in [(pg15(), pg15b()), (pg17(), pg17b())] {
        let (dx, dy) = (fresh_db(x, "tpch"), fresh_db(y, "tpch"));
        for (c, d) in [(x, &dx), (y, &dy)] {
            c.execute(d, include_str!("../fixtures/tpch_schema.sql"))
                .unwrap();
        }
        let req = CompareRequest {
            corpus: queries.clone(),
            ..request(
                Side::Live(target(x, &dx, "a")),
                Side::Live(target(y, &dy, "b")),
            )
        };
        let (l, _) = pgparity::run::load_sides(&req, &NoProgress).unwrap();
        let plans = l.plans.as_ref().unwrap();
        let failed: Vec<_> = plans
            .iter()
            .filter(|(_, p)| p.plan.is_none())
            .map(|(k, p)| (k.clone(), p.error.clone()))
            .collect();
        assert!(
            failed.is_empty(),
            "PostgreSQL {}: {failed:?}",
            x.install.major
        );
        let f: Vec<Finding> = pgparity::run::check(&req, &NoProgress)
            .unwrap()
            .findings
            .into_iter()
            .map(|e| e.finding)
            .collect();
        assert!(f.iter().all(|x| x.category != Category::Plan), "{f:#?}");
    }
}
