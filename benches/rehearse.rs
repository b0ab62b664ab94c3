//! An upgrade rehearsal of TPC-H (issue 13): `pgparity rehearse --from prod.json --to 17
//! --execute 5` on a production snapshot taken on PostgreSQL 15 with the 22 queries, timed
//! whole (two clusters started, settings, seeding both, ANALYZE, plans, results, five timed
//! runs of every query on each side) with its peak memory, against the reference measured in
//! the same loop: seeding the same snapshot into two already running clusters (15 and 17)
//! with `pgparity seed`. The goal: the rehearsal's overhead beyond loading under 1× of it.
//!
//!   cargo bench --bench rehearse                    (SF 0.1, 3 interleaved runs)
//!   cargo bench --bench rehearse -- --sf 0.3 --runs 1
//!
//! Under `cargo test` it runs a smoke version (SF 0.01, one run, --execute 1).

#[path = "common/mod.rs"]
mod common;

use std::process::Command;

use common::{measure, Figure};
use pgparity::cluster::{Cluster, ClusterOptions, Install};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "--bench");
    let arg = |name: &str, default: f64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let sf = arg("--sf", if full { 0.1 } else { 0.01 });
    let runs = arg("--runs", if full { 3.0 } else { 1.0 }) as usize;
    let execute = arg("--execute", if full { 5.0 } else { 1.0 }) as usize;
    let find = |m| Install::find(m).unwrap_or_else(|e| panic!("{e}"));
    let (old, new) = (find(15), find(17));
    let production = Cluster::start(&old, &ClusterOptions::default()).unwrap();
    production
        .execute("postgres", "CREATE DATABASE tpch")
        .unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture = |f: &str| std::fs::read_to_string(root.join("tests/fixtures").join(f)).unwrap();
    eprintln!("TPC-H at SF {sf} on PostgreSQL 15…");
    production
        .execute("tpch", &fixture("tpch_schema.sql"))
        .unwrap();
    production
        .execute(
            "tpch",
            &fixture("tpch_data.sql").replace("{SF}", &sf.to_string()),
        )
        .unwrap();
    production.execute("tpch", "ANALYZE").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("production.json");
    let bin = env!("CARGO_BIN_EXE_pgparity");
    measure(
        Command::new(bin)
            .args([
                "snapshot",
                "--url",
                &production.conninfo("tpch"),
                "--corpus",
            ])
            .arg(root.join("queries/tpch"))
            .arg("--output")
            .arg(&snap),
    );
    production.stop();
    let mut rehearsal = Figure::new("rehearse --to 17");
    let mut seeding = Figure::new("(seed into 15 and 17)");
    for run in 0..runs {
        // The reference: the same snapshot seeded into two running clusters.
        let clusters = [
            Cluster::start(&old, &ClusterOptions::default()).unwrap(),
            Cluster::start(&new, &ClusterOptions::default()).unwrap(),
        ];
        let mut seconds = 0.0;
        for c in &clusters {
            c.execute("postgres", "CREATE DATABASE rehearsal").unwrap();
            let (t, m) = measure(Command::new(bin).args(["seed", "--from"]).arg(&snap).args([
                "--into",
                &c.conninfo("rehearsal"),
                "--create-schema",
                "--yes",
            ]));
            seconds += t.as_secs_f64();
            seeding.peak = seeding.peak.max(m);
        }
        for c in clusters {
            c.stop();
        }
        let (t, m) = measure(
            Command::new(bin)
                .args(["rehearse", "--from"])
                .arg(&snap)
                .args(["--to", "17", "--execute", &execute.to_string()]),
        );
        rehearsal.times.push(t.as_secs_f64());
        rehearsal.reference.push(seconds);
        rehearsal.peak = rehearsal.peak.max(m);
        seeding.times.push(seconds);
        eprintln!(
            "run {}: rehearsal {:.1} s, seeding {seconds:.1} s",
            run + 1,
            t.as_secs_f64()
        );
    }
    println!("TPC-H SF {sf}, 22 queries, --execute {execute}, median of {runs} interleaved runs (min–max):");
    rehearsal.print("seeding both");
    seeding.print("");
    let overhead: Vec<f64> = rehearsal
        .times
        .iter()
        .zip(&rehearsal.reference)
        .map(|(r, s)| (r - s) / s)
        .collect();
    let mut o = overhead.clone();
    o.sort_by(f64::total_cmp);
    println!(
        "overhead beyond loading: {:.2}× of the seeding ({:.2}–{:.2}); goal < 1×",
        o[o.len() / 2],
        o[0],
        o[o.len() - 1]
    );
}
