//! Planner parity speed, on PostgreSQL 15 and 17 side by side:
//!
//!   cargo bench --bench plans
//!
//! Prints: the time to EXPLAIN the 22 TPC-H queries on both sides through pgparity (connection
//! and session setup included) / the sum of the servers' own planning times for the same
//! EXPLAINs (the floor; goal < 3), and the time for a generated corpus of 2,000 queries on both
//! sides (goal < 3 s). The ratio is the median of 5 interleaved runs with the min–max. Under
//! `cargo test` it runs once with 200 generated queries.

#[path = "common/mod.rs"]
mod common;

use std::time::Instant;

use common::Figure;

use pgparity::capture::{CaptureOptions, Target};
use pgparity::cluster::{Cluster, ClusterOptions, Install};
use pgparity::conninfo::ConnInfo;
use pgparity::explain::corpus::Query;

const SCHEMA: &str = include_str!("../tests/fixtures/tpch_schema.sql");

fn generated(n: usize) -> Vec<Query> {
    let shapes = [
        "SELECT * FROM orders WHERE o_custkey = {k} ORDER BY o_orderdate DESC LIMIT 20",
        "SELECT c_name, count(*) FROM customer JOIN orders ON o_custkey = c_custkey WHERE c_nationkey = {m} GROUP BY c_name",
        "SELECT sum(l_extendedprice) FROM lineitem WHERE l_partkey = {k} AND l_shipdate > date '1995-01-01'",
        "SELECT p_name FROM part WHERE p_size = {m} AND p_type LIKE '%BRASS' ORDER BY p_retailprice LIMIT 5",
        "SELECT s_name FROM supplier JOIN nation ON n_nationkey = s_nationkey WHERE n_regionkey = {r}",
    ];
    (0..n)
        .map(|i| {
            let sql = shapes[i % shapes.len()]
                .replace("{k}", &(i * 7).to_string())
                .replace("{m}", &(i % 25).to_string())
                .replace("{r}", &(i % 5).to_string());
            pgparity::explain::corpus::read_query(&format!("gen/q{i:05}.sql"), &sql)
                .expect("generated query parses")
        })
        .collect()
}

async fn explain_side(target: &Target, queries: &[Query], major: i32) -> usize {
    let (plans, problems) = pgparity::explain::explain_all(
        target,
        queries,
        major,
        &pgparity::explain::PlanOptions::default(),
        &CaptureOptions::default(),
        &pgparity::progress::NoProgress,
    )
    .await
    .expect("planning sessions stay up");
    assert!(problems.is_empty(), "{problems:?}");
    plans.values().filter(|p| p.plan.is_some()).count()
}

async fn planning_time(target: &Target, queries: &[Query]) -> f64 {
    let client = pgparity::capture::connect(target).await.unwrap();
    let mut ms = 0.0;
    for q in queries {
        let rows = client
            .simple_query(&format!("EXPLAIN (FORMAT JSON, SUMMARY) {}", q.sql))
            .await
            .unwrap();
        for m in rows {
            if let tokio_postgres::SimpleQueryMessage::Row(r) = m {
                let v: serde_json::Value = serde_json::from_str(r.get(0).unwrap()).unwrap();
                ms += v[0]["Planning Time"].as_f64().unwrap_or(0.0);
            }
        }
    }
    ms
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n = if full { 2000 } else { 200 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut sides = Vec::new();
    for major in [15u32, 17] {
        let install = Install::find(major).unwrap_or_else(|e| panic!("{e}"));
        let c =
            Cluster::start(&install, &ClusterOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        c.execute("postgres", "CREATE DATABASE tpch").unwrap();
        c.execute("tpch", SCHEMA).unwrap();
        sides.push(c);
    }
    let targets: Vec<Target> = sides
        .iter()
        .map(|c| Target {
            name: format!("pg{}", c.install.major),
            conninfo: ConnInfo::parse(&c.conninfo("tpch")).unwrap(),
            protected: false,
        })
        .collect();
    let tpch_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/tpch");
    let (tpch, _) = pgparity::explain::corpus::load(&[tpch_dir]).unwrap();
    assert_eq!(tpch.len(), 22);
    // Warm both servers' caches once, as a user's second run would be.
    rt.block_on(async {
        tokio::join!(
            explain_side(&targets[0], &tpch, 15),
            explain_side(&targets[1], &tpch, 17)
        )
    });
    // Ours, the floor, ours...: the median ratio of interleaved runs with its min–max.
    let runs = if full { 5 } else { 1 };
    let mut figure = Figure::new("22 TPC-H EXPLAINs");
    for _ in 0..runs {
        let t = Instant::now();
        let (a, b) = rt.block_on(async {
            tokio::join!(
                explain_side(&targets[0], &tpch, 15),
                explain_side(&targets[1], &tpch, 17)
            )
        });
        figure.times.push(t.elapsed().as_secs_f64());
        assert_eq!((a, b), (22, 22));
        let floor = rt.block_on(async {
            planning_time(&targets[0], &tpch).await + planning_time(&targets[1], &tpch).await
        });
        figure.reference.push(floor / 1e3);
    }
    println!("both sides through pgparity, median of {runs} interleaved runs (min–max):");
    figure.print("servers' planning time (goal < 3)");
    let corpus = generated(n);
    let t = Instant::now();
    let (a, b) = rt.block_on(async {
        tokio::join!(
            explain_side(&targets[0], &corpus, 15),
            explain_side(&targets[1], &corpus, 17)
        )
    });
    assert_eq!((a, b), (n, n));
    println!(
        "{n} generated queries on both sides: {:.2} s (goal < 3 s for 2,000)",
        t.elapsed().as_secs_f64()
    );
}
