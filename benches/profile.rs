//! Data profile speed against PostgreSQL's own references, on PostgreSQL 15 and 17:
//!
//!   cargo bench --bench profile                  (lineitem-shaped table, 6,000,000 rows)
//!   cargo bench --bench profile -- --rows 60000000 --majors 17 --runs 1
//!
//! Each figure is the median of 3 interleaved runs (ours, the reference, ours, ...) with the
//! min–max of the ratios.
//! Prints, per server: sampled profile / ANALYZE of the same table (goal < 1.5); exact profile /
//! `COPY lineitem TO STDOUT` (goal < 1.5); fan-out lineitem → orders / one `GROUP BY
//! l_orderkey` (goal < 1.5; l_orderkey leads the primary key index); and the process's peak
//! memory (goal < 300 MB). Under `cargo test` it runs a 60,000-row smoke version.

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::Figure;

use pgparity::capture::{CaptureOptions, Target};
use pgparity::cluster::{Cluster, ClusterOptions, Install};
use pgparity::conninfo::ConnInfo;
use pgparity::profile::{ProfileOptions, RelSpec};
use pgparity::progress::NoProgress;
use pgparity::snapshot::Snapshot;

const SCHEMA: &str = "
CREATE TABLE orders (o_orderkey bigint PRIMARY KEY, o_custkey int NOT NULL, o_orderstatus char(1), o_totalprice numeric(15,2),
  o_orderdate date, o_comment varchar(79));
CREATE TABLE lineitem (l_orderkey bigint NOT NULL, l_partkey int NOT NULL, l_suppkey int NOT NULL, l_linenumber int NOT NULL,
  l_quantity numeric(15,2), l_extendedprice numeric(15,2), l_discount numeric(15,2), l_tax numeric(15,2),
  l_returnflag char(1), l_linestatus char(1), l_shipdate date, l_commitdate date, l_receiptdate date,
  l_shipinstruct char(25), l_shipmode char(10), l_comment varchar(44), PRIMARY KEY (l_orderkey, l_linenumber));
";

fn load(rows: u64) -> String {
    let orders = rows / 4;
    format!(
        "INSERT INTO orders SELECT i, (i * 7) % 150000, (ARRAY['F','O','P'])[1 + i % 3], (i % 500000) / 100.0,
           DATE '1992-01-01' + (i % 2400)::int, 'order comment ' || (i % 100000) FROM generate_series(1, {orders}) i;
         INSERT INTO lineitem SELECT 1 + (i / 4), (i * 13) % 200000, (i * 17) % 10000, 1 + i % 4, 1 + i % 50,
           (i % 100000) / 10.0, (i % 11) / 100.0, (i % 9) / 100.0, (ARRAY['A','N','R'])[1 + i % 3],
           (ARRAY['F','O'])[1 + i % 2], DATE '1992-01-02' + (i % 2500)::int, DATE '1992-01-30' + (i % 2500)::int,
           DATE '1992-01-05' + (i % 2500)::int, (ARRAY['DELIVER IN PERSON','COLLECT COD','NONE','TAKE BACK RETURN'])[1 + i % 4],
           (ARRAY['TRUCK','MAIL','SHIP','AIR','RAIL','FOB','REG AIR'])[1 + i % 7], left('carefully final ' || md5(i::text), 44)
         FROM generate_series(0, {last}) i;
         ANALYZE orders;",
        last = rows - 1
    )
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn time<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let t = Instant::now();
    let v = f();
    (t.elapsed(), v)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "--bench");
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let rows: u64 = arg("--rows")
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 6_000_000 } else { 60_000 });
    let runs: usize = arg("--runs")
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 3 } else { 1 });
    let majors: Vec<u32> = arg("--majors")
        .map(|m| m.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or(vec![15, 17]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for major in majors {
        let install = Install::find(major).unwrap_or_else(|e| panic!("{e}"));
        let cluster =
            Cluster::start(&install, &ClusterOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        eprintln!("PostgreSQL {major}: loading {rows} lineitem rows…");
        cluster.execute("postgres", "CREATE DATABASE tpch").unwrap();
        cluster.execute("tpch", SCHEMA).unwrap();
        cluster.execute("tpch", &load(rows)).unwrap();
        let target = Target {
            name: "tpch".into(),
            conninfo: ConnInfo::parse(&cluster.conninfo("tpch")).unwrap(),
            protected: false,
        };
        let capture = CaptureOptions::default();
        cluster.execute("tpch", "ANALYZE lineitem").unwrap();
        let snap: Snapshot =
            pgparity::run::snapshot(&target, &capture, None, &[], &NoProgress).unwrap();
        // Profile lineitem alone, then the relationship alone.
        let mut only_lineitem = snap.clone();
        only_lineitem
            .schema
            .tables
            .retain(|k, _| k == "public.lineitem");
        only_lineitem.schema.constraints.clear();
        let sampled_opts = ProfileOptions::default();
        let exact_opts = ProfileOptions {
            exact: true,
            ..ProfileOptions::default()
        };
        let rel = RelSpec {
            child: "public.lineitem".into(),
            child_columns: vec!["l_orderkey".into()],
            parent: "public.orders".into(),
            parent_columns: vec!["o_orderkey".into()],
        };
        // The relationship alone: tables marked foreign are not read, constraints dropped.
        let mut rel_only = snap.clone();
        rel_only.schema.constraints.clear();
        for t in rel_only.schema.tables.values_mut() {
            t.kind = pgparity::snapshot::TableKind::Foreign;
        }
        let profile = |snap: &Snapshot, rels: &[RelSpec], opts: &ProfileOptions| {
            time(|| {
                rt.block_on(pgparity::profile::profile(
                    &target,
                    snap,
                    rels,
                    opts,
                    &capture,
                    &NoProgress,
                ))
                .unwrap_or_else(|e| panic!("{e}"))
            })
        };
        let (mut sampled, mut exact, mut fanout) = (
            Figure::new("sampled profile"),
            Figure::new("exact profile"),
            Figure::new("fan-out"),
        );
        let (mut read, mut copied) = (0, 0);
        // Ours, the reference, ours...: a noisy moment of the machine falls on both.
        for _ in 0..runs {
            let (d, (p, _)) = profile(&only_lineitem, &[], &sampled_opts);
            read = p.tables.get("public.lineitem").unwrap().method.rows_read;
            sampled.times.push(d.as_secs_f64());
            let (d, _) = time(|| cluster.execute("tpch", "ANALYZE lineitem").unwrap());
            sampled.reference.push(d.as_secs_f64());
            let (d, _) = profile(&only_lineitem, &[], &exact_opts);
            exact.times.push(d.as_secs_f64());
            let (d, bytes) = time(|| {
                rt.block_on(async {
                    let client = pgparity::capture::connect(&target).await.unwrap();
                    let stream = client.copy_out("COPY lineitem TO STDOUT").await.unwrap();
                    let mut stream = std::pin::pin!(stream);
                    let mut bytes = 0usize;
                    while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
                        bytes += chunk.unwrap().len();
                    }
                    bytes
                })
            });
            copied = bytes;
            exact.reference.push(d.as_secs_f64());
            let (d, (fp, _)) = profile(&rel_only, std::slice::from_ref(&rel), &sampled_opts);
            assert_eq!(fp.relationships.len(), 1, "fan-out measured");
            fanout.times.push(d.as_secs_f64());
            let (d, _) = time(|| {
                cluster.query_scalar("tpch", "SELECT count(*)::text FROM (SELECT l_orderkey, count(*) FROM lineitem GROUP BY 1) x").unwrap()
            });
            fanout.reference.push(d.as_secs_f64());
        }
        let peak = (peak_rss_mb() * 1048576.0) as u64;
        for f in [&mut sampled, &mut exact, &mut fanout] {
            f.peak = peak;
        }
        println!(
            "PostgreSQL {major}, lineitem {rows} rows ({:.0} MB streamed by COPY, {read} rows read by the sample), median of {runs} interleaved runs (min–max):",
            copied as f64 / 1e6
        );
        sampled.print("ANALYZE (goal < 1.5)");
        exact.print("COPY TO STDOUT (goal < 1.5)");
        fanout.print("GROUP BY l_orderkey (goal < 1.5)");
        println!(
            "  peak memory of this process so far: {peak_mb:.0} MB (goal < 300)",
            peak_mb = peak_rss_mb()
        );
        cluster.stop();
    }
}
