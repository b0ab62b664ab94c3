//! Thousands of small tables (issue 15, part 0): snapshot with profile, check live vs live,
//! diff of two snapshots and seed, each run as the `pgparity` binary, timed and with its peak
//! memory (the child's max RSS from wait4), and the snapshot's size.
//!
//!   cargo bench --bench many_tables                      (2,000 tables × 5 columns × 1,000 rows)
//!   cargo bench --bench many_tables -- --tables 20000 --rows 100 --runs 1
//!
//! Each figure is the median of 3 interleaved runs with the min–max; the reference, run in
//! the same loop, is `pg_dump --data-only` of the same database (reads every row of every
//! table, as the profile does) and, for seed, `psql` loading that dump into the same tables
//! (emptied) and, as seed creates its tables too, `psql` restoring a whole plain dump (schema,
//! rows, keys) into an empty database. Goals (issue 15):
//! snapshot ≤ 10 MB, peak memory < 300 MB for every command, check ≤ 3 s, diff < 1 s, seed
//! within 1.5× of the COPY load. Under `cargo test` it runs a 20-table smoke version.

#[path = "common/mod.rs"]
mod common;

use std::process::Command;

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
    let tables = arg("--tables", if full { 2000 } else { 20 });
    let rows = arg("--rows", 1000);
    let runs = arg("--runs", if full { 3 } else { 1 });
    // PostgreSQL 15: Debian's package carries pg_dump and psql of the same major, the
    // references (a pg_dump refuses a newer server).
    let install = Install::find(15).unwrap_or_else(|e| panic!("{e}"));
    // pg_dump locks every table it dumps in one transaction: 20,000 tables need more lock
    // slots than the default (pgparity reads each table in a transaction of its own).
    let opts = ClusterOptions {
        settings: vec![("max_locks_per_transaction".into(), "1024".into())],
        ..Default::default()
    };
    let cluster = Cluster::start(&install, &opts).unwrap_or_else(|e| panic!("{e}"));
    let (pg_dump, psql) = (install.tool("pg_dump"), install.tool("psql"));
    eprintln!("creating {tables} tables × 5 columns × {rows} rows…");
    cluster.execute("postgres", "CREATE DATABASE many").unwrap();
    for chunk in (0..tables).collect::<Vec<_>>().chunks(200) {
        let mut sql = String::new();
        for t in chunk {
            sql.push_str(&format!(
                "CREATE TABLE t{t} (id int PRIMARY KEY, name text, amount numeric(10,2), at timestamptz, kind int);\n\
                 INSERT INTO t{t} SELECT i, 'name ' || i, i * 1.5, timestamptz '2024-01-01' + i * interval '1 minute', i % 7 \
                 FROM generate_series(1, {rows}) i;\n"
            ));
        }
        cluster.execute("many", &sql).unwrap();
    }
    cluster.execute("many", "ANALYZE").unwrap();
    let dir = tempfile::tempdir().unwrap();
    // PGPARITY_BENCH_BIN: another build's binary (an earlier commit's), for before/after.
    let bin = std::env::var("PGPARITY_BENCH_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_pgparity").to_string());
    let bin = bin.as_str();
    let url = cluster.conninfo("many");
    let snap = dir.path().join("many.json");
    let dump = dir.path().join("many.sql");
    let pg = |tool: &std::path::Path| {
        let mut c = Command::new(tool);
        c.arg("-h")
            .arg(&cluster.dir)
            .args(["-p", &cluster.port.to_string(), "-U", "postgres"]);
        c
    };
    let (mut snapshot, mut check, mut diff, mut seed, mut seed_full) = (
        Figure::new("snapshot"),
        Figure::new("check live vs live"),
        Figure::new("diff"),
        Figure::new("seed --create-schema"),
        Figure::new("(the same seed)"),
    );
    // A second reference for seed, which creates the tables too: the whole database (schema,
    // rows by COPY, keys) restored from a plain pg_dump into an empty database.
    let full = dir.path().join("full.sql");
    measure(pg(&pg_dump).args(["-d", "many", "-f"]).arg(&full));
    for run in 0..runs {
        // The reference first, then ours, interleaved run by run.
        let (dump_t, _) = measure(
            pg(&pg_dump)
                .args(["--data-only", "-d", "many", "-f"])
                .arg(&dump),
        );
        let (t, m) = measure(
            Command::new(bin)
                .args(["snapshot", "--url", &url, "--output"])
                .arg(&snap),
        );
        snapshot.times.push(t.as_secs_f64());
        snapshot.reference.push(dump_t.as_secs_f64());
        snapshot.peak = snapshot.peak.max(m);
        let (t, m) = measure(Command::new(bin).args(["check", "--left", &url, "--right", &url]));
        check.times.push(t.as_secs_f64());
        check.reference.push(dump_t.as_secs_f64());
        check.peak = check.peak.max(m);
        let (t, m) = measure(Command::new(bin).arg("diff").arg(&snap).arg(&snap));
        diff.times.push(t.as_secs_f64());
        diff.peak = diff.peak.max(m);
        // Seed into an empty database, then the reference: the dump loaded into another.
        let (a, b) = (format!("seed_{run}"), format!("load_{run}"));
        cluster
            .execute("postgres", &format!("CREATE DATABASE {a}"))
            .unwrap();
        cluster
            .execute(
                "postgres",
                &format!("CREATE DATABASE {b} TEMPLATE template0"),
            )
            .unwrap();
        let (t, m) = measure(Command::new(bin).args(["seed", "--from"]).arg(&snap).args([
            "--into",
            &cluster.conninfo(&a),
            "--create-schema",
            "--yes",
        ]));
        seed.times.push(t.as_secs_f64());
        seed.peak = seed.peak.max(m);
        // The reference loads the same rows into the same tables (schema from pgparity's
        // seed, emptied), by COPY from the dump.
        cluster
            .execute("postgres", &format!("CREATE DATABASE {b}_s TEMPLATE {a}"))
            .unwrap();
        let truncate: String = (0..tables).map(|t| format!("TRUNCATE t{t};")).collect();
        cluster.execute(&format!("{b}_s"), &truncate).unwrap();
        let (load_t, _) = measure(
            pg(&psql)
                .args(["-q", "-d", &format!("{b}_s"), "-f"])
                .arg(&dump),
        );
        seed.reference.push(load_t.as_secs_f64());
        let c = format!("restore_{run}");
        cluster
            .execute(
                "postgres",
                &format!("CREATE DATABASE {c} TEMPLATE template0"),
            )
            .unwrap();
        let (restore_t, _) = measure(pg(&psql).args(["-q", "-d", &c, "-f"]).arg(&full));
        seed_full.times.push(seed.times[run]);
        seed_full.reference.push(restore_t.as_secs_f64());
        seed_full.peak = seed.peak;
    }
    let size = std::fs::metadata(&snap).unwrap().len();
    println!(
        "{tables} tables × 5 columns × {rows} rows, PostgreSQL 15, median of {runs} (min–max):"
    );
    snapshot.print("pg_dump --data-only");
    check.print("pg_dump --data-only");
    diff.print("");
    seed.print("COPY load of the same rows (psql -f dump)");
    seed_full.print("restore of schema, rows and keys (psql -f full dump)");
    println!(
        "snapshot size           {:.2} MB ({:.1} KB per table)",
        size as f64 / 1048576.0,
        size as f64 / 1024.0 / tables as f64
    );
    cluster.stop();
}
