//! A run written into a history database (issue 14): 5,000 findings and the figures of
//! 2,000 tables × 20 columns on both sides (rows, NULL rate, distinct count, one class share:
//! 244,000 figure rows), recorded by `history::Tracker` into a throwaway PostgreSQL 17 — one
//! transaction, schema created by the first run — against, in the same loop, a plain text
//! `COPY` of the same figure rows into an unindexed table of the same shape.
//!
//!   cargo bench --bench history
//!
//! Then a year of nightly runs (365 runs of 100 tables × 10 columns and 200 findings: 2.3M
//! figure rows) kept both in a database and in a folder, exported as Parquet by `history
//! export`'s library call, against `COPY (figures joined with runs) TO STDOUT` of the same
//! rows in the same loop.
//!
//! Prints the median of interleaved runs with the min–max and the ratio (goal: a run under
//! 2 s). Under `cargo test` it runs 20 tables and 50 findings once (and 5 runs to export), and
//! checks what was written.

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
    timing.peak = own_peak();
    timing.print("COPY of the figure rows");
    export_year(
        &cluster,
        if full { 365 } else { 5 },
        if full { 3 } else { 1 },
    );
}

/// A year of runs, exported from a database and from a folder, against a COPY of the rows.
fn export_year(cluster: &Cluster, days: usize, runs: usize) {
    use pgparity::export::TableFormat;
    use pgparity::history::export::export;
    cluster.execute("postgres", "CREATE DATABASE year").unwrap();
    let target = Target {
        name: "year".into(),
        conninfo: ConnInfo::parse(&cluster.conninfo("year")).unwrap(),
        protected: false,
    };
    let folder = tempfile::tempdir().unwrap();
    let started = Instant::now();
    for day in 0..days {
        let mut r = run(day, 200, 100, 10);
        r.at = format!(
            "{}T02:00:00+00:00",
            chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
                + chrono::Duration::days(day as i64)
        );
        Tracker::open(Store::Database(target.clone()))
            .unwrap()
            .record(&r)
            .unwrap();
        pgparity::history::record(folder.path(), &r).unwrap();
    }
    println!(
        "history export: {days} runs of 200 findings and {} figure rows kept in {:.1} s",
        2 * 100 * (1 + 3 * 10),
        started.elapsed().as_secs_f64()
    );
    let out = tempfile::tempdir().unwrap();
    let (mut from_db, mut from_folder) = (
        Timing::new("export from database"),
        Timing::new("export from folder"),
    );
    for _ in 0..runs {
        let reference = copy_out(cluster);
        for (timing, store) in [
            (&mut from_db, Store::Database(target.clone())),
            (&mut from_folder, Store::Folder(folder.path().to_path_buf())),
        ] {
            let started = Instant::now();
            let done = export(
                &store,
                TableFormat::Parquet,
                out.path(),
                &pgparity::progress::NoProgress,
            )
            .unwrap();
            timing.times.push(started.elapsed().as_secs_f64());
            timing.reference.push(reference);
            assert_eq!(done.runs, days as u64);
            assert_eq!(done.files[1].1, (days * 2 * 100 * 31) as u64, "figure rows");
        }
    }
    // The process's peak so far (the exports stream one run at a time).
    from_db.peak = own_peak();
    from_folder.peak = from_db.peak;
    from_db.print("COPY out of the rows");
    from_folder.print("COPY out of the rows");
}

/// The reference: every figure row with its run's time, out of the server as COPY text.
fn copy_out(cluster: &Cluster) -> f64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conninfo = cluster.conninfo("year");
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&conninfo, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        let started = Instant::now();
        let stream = client
            .copy_out("COPY (SELECT f.*, r.at FROM pgparity_history.figures f JOIN pgparity_history.runs r USING (run_id)) TO STDOUT")
            .await
            .unwrap();
        use futures_util::StreamExt;
        futures_util::pin_mut!(stream);
        let mut bytes = 0;
        while let Some(chunk) = stream.next().await {
            bytes += chunk.unwrap().len();
        }
        assert!(bytes > 0);
        started.elapsed().as_secs_f64()
    })
}

/// This process's peak resident memory (VmHWM), in bytes.
fn own_peak() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024
}
