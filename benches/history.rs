//! A run written into a history database (issue 14): 5,000 findings and the figures of
//! 2,000 tables × 20 columns on both sides (rows, NULL rate, distinct count, one class share:
//! 244,000 figure rows), recorded by `history::Tracker` into a throwaway PostgreSQL 17 — one
//! transaction, schema created by the first run — against, in the same loop, a plain text
//! `COPY` of the same figure rows into an unindexed table of the same shape.
//!
//!   cargo bench --bench history
//!
//! Prints the median of 5 interleaved runs with the min–max and the ratio (goal: a run under
//! 2 s). Under `cargo test` it runs 20 tables and 50 findings once, and checks what was written.

#[path = "common/mod.rs"]
mod common;

use std::time::Instant;

use common::Figure as Timing;
use pgparity::capture::Target;
use pgparity::cluster::{Cluster, ClusterOptions, Install};
use pgparity::conninfo::ConnInfo;
use pgparity::finding::Severity;
use pgparity::history::{Figure, Run, RunFinding, Store, Tracker};

fn run(at: usize, findings: usize, tables: usize, columns: usize) -> Run {
    let mut figures = Vec::with_capacity(2 * tables * (1 + 3 * columns));
    for side in ["left", "right"] {
        for t in 0..tables {
            let table = format!("public.table_{t:05}");
            let fig = |column: Option<String>, figure: &str, value: f64| Figure {
                side: side.into(),
                table: table.clone(),
                column,
                figure: figure.into(),
                value,
            };
            figures.push(fig(None, "rows", 1000.0 + t as f64));
            for c in 0..columns {
                let col = Some(format!("column_{c:02}"));
                figures.push(fig(col.clone(), "null_rate", (c as f64) / 100.0));
                figures.push(fig(col.clone(), "distinct", 10.0 * c as f64));
                figures.push(fig(col, "class:ascii", 1.0));
            }
        }
    }
    Run {
        format: "pgparity-history".into(),
        version: 1,
        at: format!("2026-01-01T00:00:{:02}.{at:06}+00:00", at % 60),
        left: "staging".into(),
        right: "production".into(),
        findings: (0..findings)
            .map(|i| RunFinding {
                id: format!("nulls:public.table_{:05}.column_{:02}", i / 20, i % 20),
                severity: Severity::ALL[i % 5],
                message: format!("finding {i}: NULL in 3 % of production's rows, never in staging"),
            })
            .collect(),
        accepted: Vec::new(),
        figures,
        plans: Vec::new(),
    }
}

/// The reference: the same figure rows as COPY text into a plain table.
fn copy_reference(cluster: &Cluster, db: &str, run: &Run) -> f64 {
    let mut text = String::new();
    for f in &run.figures {
        use std::fmt::Write;
        let _ = writeln!(
            text,
            "1\t{}\t{}\t{}\t{}\t{}",
            f.side,
            f.table,
            f.column.as_deref().unwrap_or("\\N"),
            f.figure,
            f.value
        );
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conninfo = cluster.conninfo(db);
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&conninfo, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
            .batch_execute("DROP TABLE IF EXISTS reference; CREATE TABLE reference (run_id bigint, side text, table_name text, column_name text, figure text, value double precision)")
            .await
            .unwrap();
        let started = Instant::now();
        let sink = client
            .copy_in("COPY reference FROM STDIN")
            .await
            .unwrap();
        use futures_util::SinkExt;
        futures_util::pin_mut!(sink);
        sink.send(bytes::Bytes::from(text)).await.unwrap();
        sink.close().await.unwrap();
        started.elapsed().as_secs_f64()
    })
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (findings, tables, columns, runs) = if full {
        (5000, 2000, 20, 5)
    } else {
        (50, 20, 20, 1)
    };
    let install = Install::find(17).unwrap_or_else(|e| panic!("{e}"));
    let cluster = Cluster::start(&install, &ClusterOptions::default()).unwrap();
    cluster
        .execute("postgres", "CREATE DATABASE history")
        .unwrap();
    let target = Target {
        name: "history".into(),
        conninfo: ConnInfo::parse(&cluster.conninfo("history")).unwrap(),
        protected: false,
    };
    let mut timing = Timing::new("history write");
    for i in 0..runs {
        let r = run(i, findings, tables, columns);
        let tracker = Tracker::open(Store::Database(target.clone())).unwrap();
        let started = Instant::now();
        tracker.record(&r).unwrap();
        timing.times.push(started.elapsed().as_secs_f64());
        timing
            .reference
            .push(copy_reference(&cluster, "history", &r));
    }
    let figures = cluster
        .query_scalar(
            "history",
            "SELECT count(*)::text FROM pgparity_history.figures WHERE run_id = 1",
        )
        .unwrap();
    let expected = 2 * tables * (1 + 3 * columns);
    assert_eq!(
        figures,
        expected.to_string(),
        "figure rows of the first run"
    );
    println!(
        "history: {findings} findings and {expected} figure rows per run ({tables} tables × {columns} columns × 2 sides), {runs} runs"
    );
    // This process's own peak: the run in memory and what recording it held.
    timing.peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024;
    timing.print("COPY of the figure rows");
}
