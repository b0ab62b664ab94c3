//! Fleets (issue 36): one reference against many tenant databases, run as the `pgparity`
//! binary, timed with its peak memory.
//!
//!   cargo bench --bench fleet                                  (200 tenants × 20 tables, 1,000 schema-only)
//!   cargo bench --bench fleet -- --tenants 50 --schema-only 200 --runs 1
//!
//! Figures: `fleet` with the data profile over `--tenants` databases of `--tables` tables
//! (`--rows` rows each) found by a query; the same over a quarter of them (memory must stay
//! flat in the number of targets: a target's capture is compared and dropped); `fleet
//! --no-profile` over `--schema-only` databases. Each is the median of interleaved runs with
//! the min–max and its ratio to the reference measured in the same loop: `pg_dump
//! --schema-only` of every one of those databases, one after the other (what a user without
//! pgparity runs before diffing the dumps). Goals (issue 36): 200 tenants under 2 minutes and
//! 300 MB; 1,000 schema-only under 1 minute. Under `cargo test` it runs a smoke version.

#[path = "common/mod.rs"]
mod common;

use std::process::Command;
use std::time::Instant;

use common::{measure, Figure};
use pgparity::cluster::{Cluster, ClusterOptions, Install};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "--bench");
    let arg = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let tenants = arg("--tenants", if full { 200 } else { 4 });
    let schema_only = arg("--schema-only", if full { 1000 } else { 6 });
    let tables = arg("--tables", if full { 20 } else { 3 });
    let rows = arg("--rows", 200);
    let runs = arg("--runs", if full { 3 } else { 1 });
    // PostgreSQL 15: Debian's package carries pg_dump of the same major, the reference.
    let install = Install::find(15).unwrap_or_else(|e| panic!("{e}"));
    let most = tenants.max(schema_only);
    let opts = ClusterOptions {
        settings: vec![("max_connections".into(), "200".into())],
        ..Default::default()
    };
    let cluster = Cluster::start(&install, &opts).unwrap_or_else(|e| panic!("{e}"));
    eprintln!("creating a template of {tables} tables × {rows} rows and {most} tenant databases…");
    let started = Instant::now();
    cluster.execute("postgres", "CREATE DATABASE tpl").unwrap();
    let mut sql = String::new();
    for t in 0..tables {
        sql.push_str(&format!(
            "CREATE TABLE t{t} (id int PRIMARY KEY, parent int, name text, amount numeric(10,2), at timestamptz, kind int);\n\
             CREATE INDEX t{t}_kind ON t{t} (kind);\n\
             INSERT INTO t{t} SELECT i, i / 10, 'name ' || i, i * 1.5, timestamptz '2024-01-01' + i * interval '1 minute', i % 7 \
             FROM generate_series(1, {rows}) i;\n"
        ));
    }
    sql.push_str("ANALYZE;");
    cluster.execute("tpl", &sql).unwrap();
    for i in 0..most {
        cluster
            .execute(
                "postgres",
                &format!("CREATE DATABASE t_{i:04} TEMPLATE tpl"),
            )
            .unwrap();
        // Drift in one tenant of ten: an index gone, or a column more.
        match i % 10 {
            3 => cluster
                .execute(&format!("t_{i:04}"), "DROP INDEX t0_kind")
                .unwrap(),
            7 => cluster
                .execute(&format!("t_{i:04}"), "ALTER TABLE t1 ADD COLUMN note text")
                .unwrap(),
            _ => {}
        }
    }
    eprintln!("  in {:.0} s", started.elapsed().as_secs_f64());
    let bin = std::env::var("PGPARITY_BENCH_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_pgparity").to_string());
    let reference = cluster.conninfo("tpl");
    let query = |n: usize| {
        format!(
            "SELECT datname FROM pg_database WHERE datname LIKE 't\\_%' ORDER BY datname LIMIT {n}"
        )
    };
    let fleet = |n: usize, profile: bool| {
        let mut c = Command::new(&bin);
        c.args([
            "fleet",
            "--reference",
            &reference,
            "--targets-from",
            &query(n),
            "--format",
            "json",
            "--output",
            "/dev/null",
        ]);
        if !profile {
            c.arg("--no-profile");
        }
        c
    };
    let dumps = |n: usize| {
        let started = Instant::now();
        for i in 0..n {
            let ok = Command::new(install.tool("pg_dump"))
                .arg("-h")
                .arg(&cluster.dir)
                .args(["-p", &cluster.port.to_string(), "-U", "postgres"])
                .args([
                    "--schema-only",
                    "-f",
                    "/dev/null",
                    "-d",
                    &format!("t_{i:04}"),
                ])
                .status()
                .expect("pg_dump")
                .success();
            assert!(ok, "pg_dump t_{i:04}");
        }
        started.elapsed().as_secs_f64()
    };
    let quarter = (tenants / 4).max(1);
    let mut with_profile = Figure::new("fleet, profiled");
    let mut fewer = Figure::new("(a quarter of them)");
    let mut schema = Figure::new("fleet --no-profile");
    for _ in 0..runs {
        let reference = dumps(tenants);
        let (t, m) = measure(&mut fleet(tenants, true));
        with_profile.times.push(t.as_secs_f64());
        with_profile.reference.push(reference);
        with_profile.peak = with_profile.peak.max(m);
        let reference_q = dumps(quarter);
        let (t, m) = measure(&mut fleet(quarter, true));
        fewer.times.push(t.as_secs_f64());
        fewer.reference.push(reference_q);
        fewer.peak = fewer.peak.max(m);
        let reference_s = dumps(schema_only);
        let (t, m) = measure(&mut fleet(schema_only, false));
        schema.times.push(t.as_secs_f64());
        schema.reference.push(reference_s);
        schema.peak = schema.peak.max(m);
    }
    println!(
        "fleet: {tenants} tenant databases × {tables} tables × {rows} rows ({quarter} for the quarter), {schema_only} schema-only; {runs} run(s), PostgreSQL 15"
    );
    with_profile.print("pg_dump --schema-only of each");
    fewer.print("pg_dump --schema-only of each");
    schema.print("pg_dump --schema-only of each");
    println!(
        "memory per target: {:.2} MB over {} targets more (flat: ≈ 0)",
        (with_profile.peak as f64 - fewer.peak as f64)
            / 1048576.0
            / (tenants - quarter).max(1) as f64,
        tenants - quarter
    );
}
