//! Capture and diff speed on a wide schema, against the reference a user would otherwise run.
//!
//!   cargo bench --bench capture              (2,000 tables × 20 columns × 2 indexes)
//!   cargo bench --bench capture -- --tables N
//!
//! Prints capture time / `pg_dump --schema-only` time of the same database as the median of 5
//! interleaved runs with the min–max (goal: at most 0.7, issue 15; `--runs N` to change), and the time to diff two such snapshots and render the report (goal:
//! under 100 ms). Under `cargo test` it runs a 50-table smoke version, so the bench keeps working.

#[path = "common/mod.rs"]
mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::Figure;

use pgparity::capture::{CaptureOptions, Target};
use pgparity::cluster::{Cluster, ClusterOptions, Install};
use pgparity::conninfo::ConnInfo;
use pgparity::progress::NoProgress;

fn schema(tables: usize, variant: bool) -> Vec<String> {
    (0..tables)
        .collect::<Vec<_>>()
        .chunks(100)
        .map(|chunk| {
            let mut sql = String::new();
            for t in chunk {
                let cols: Vec<String> = (0..20)
                    .map(|c| {
                        let ty =
                            ["bigint", "text", "numeric(12,2)", "timestamptz", "boolean"][c % 5];
                        let nn = if c == 0 || (variant && t % 97 == 0 && c == 3) {
                            " NOT NULL"
                        } else {
                            ""
                        };
                        format!("c{c} {ty}{nn}")
                    })
                    .collect();
                sql.push_str(&format!(
                    "CREATE TABLE t{t} ({}, PRIMARY KEY (c0));\n",
                    cols.join(", ")
                ));
                if !(variant && t % 101 == 0) {
                    sql.push_str(&format!("CREATE INDEX t{t}_c1 ON t{t} (c1);\n"));
                }
            }
            sql
        })
        .collect()
}

fn best_of<T>(n: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..n {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed());
        last = Some(v);
    }
    (best, last.unwrap())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "--bench");
    let tables = args
        .iter()
        .position(|a| a == "--tables")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 2000 } else { 50 });
    // PostgreSQL 15: Debian's package carries pg_dump, the reference.
    let install = Install::find(15).unwrap_or_else(|e| panic!("{e}"));
    let pg_dump = install.tool("pg_dump");
    assert!(
        pg_dump.is_file(),
        "pg_dump not found next to the PostgreSQL 15 server: run scripts/install-postgres.sh"
    );
    let cluster = Cluster::start(
        &install,
        // pg_dump locks every table in one transaction: 20,000 tables need more lock
        // slots than the default (pgparity's capture takes none).
        &ClusterOptions {
            settings: vec![("max_locks_per_transaction".into(), "1024".into())],
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("creating {tables} tables × 20 columns × 2 indexes, twice…");
    for (db, variant) in [("a", false), ("b", true)] {
        cluster
            .execute("postgres", &format!("CREATE DATABASE {db}"))
            .unwrap();
        for batch in schema(tables, variant) {
            cluster.execute(db, &batch).unwrap();
        }
    }
    let target = |db: &str| Target {
        name: db.into(),
        conninfo: ConnInfo::parse(&cluster.conninfo(db)).unwrap(),
        protected: false,
    };
    let opts = CaptureOptions::default();
    let runs = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 5 } else { 1 });
    let dump = || {
        let out = Command::new(&pg_dump)
            .args(["--schema-only", "-h"])
            .arg(&cluster.dir)
            .args([
                "-p",
                &cluster.port.to_string(),
                "-U",
                "postgres",
                "-d",
                "a",
                "-f",
                "/dev/null",
            ])
            .output()
            .expect("run pg_dump");
        assert!(
            out.status.success(),
            "pg_dump failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // Ours, pg_dump, ours...: the median ratio with its min–max.
    let mut capture = Figure::new("capture");
    let mut a = None;
    for _ in 0..runs {
        let started = Instant::now();
        a = Some(pgparity::run::snapshot(&target("a"), &opts, None, &[], &NoProgress).unwrap());
        capture.times.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        dump();
        capture.reference.push(started.elapsed().as_secs_f64());
    }
    let a = a.expect("one run at least");
    let b = pgparity::run::snapshot(&target("b"), &opts, None, &[], &NoProgress).unwrap();
    assert_eq!(a.schema.tables.len(), tables);
    let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let (diff_time, findings) = best_of(if full { 10 } else { 1 }, || {
        let r = pgparity::run::build_report(&a, &b, ("a", "b"), &pgparity::run::Gate::new(today));
        let json = pgparity::report::render_json(&r);
        (r.findings.len(), json.len())
    });
    assert!(findings.0 > 0, "the variant schema differs");
    let snapshot_bytes = serde_json::to_vec(&a).unwrap().len();
    println!(
        "tables: {tables} (20 columns, primary key + 1 index each); snapshot {:.1} MB",
        snapshot_bytes as f64 / 1e6
    );
    println!("median of {runs} interleaved runs (min–max):");
    capture.print("pg_dump --schema-only (goal <= 0.7)");
    println!(
        "diff of two snapshots + JSON report: {:.1} ms ({} findings) (goal < 100 ms)",
        diff_time.as_secs_f64() * 1e3,
        findings.0
    );
}
