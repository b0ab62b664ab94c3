//! pgparity against a production under write load (issue 16, part 4), on PostgreSQL 15 (which
//! ships pgbench):
//!
//!   cargo bench --bench load                  (pgbench scale 10, 4 clients, 3 × 20 s each way)
//!   cargo bench --bench load -- --seconds 30 --runs 5
//!
//! Interleaved: pgbench alone for N seconds, then pgbench for N seconds while pgparity
//! snapshots the same database again and again (catalog, sampled profile and an exact profile
//! of pgbench_accounts, as a scheduled check would), and so on. Prints the TPS of each as the
//! median of the runs with the min–max and their ratio (what the capture cost the load), how
//! many snapshots ran, and checks each: it succeeded, pgbench_accounts (never inserted into
//! by pgbench) read exactly its 100,000 × scale rows, no problem was recorded, and no session
//! of pgparity waited on a lock longer than its lock_timeout (the server logs lock waits).
//! A third run of each round measures one `check` (production under load against a staging
//! cluster, with a small pgbench-like corpus planned on both): pgbench reports its TPS every
//! second, and the seconds the check overlaps are set against the others — the transactions
//! a single scheduled check costs the load, in seconds of its usual throughput.
//! Under `cargo test` it runs a short smoke version.

use std::process::Command;
use std::time::{Duration, Instant};

use pgparity::cluster::{Cluster, ClusterOptions, Install};
use pgparity::snapshot::Snapshot;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "--bench");
    let arg = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let seconds = arg("--seconds", if full { 20 } else { 2 });
    let runs = arg("--runs", if full { 3 } else { 1 }) as usize;
    let scale = arg("--scale", if full { 10 } else { 1 });
    let install = Install::find(15).unwrap_or_else(|e| panic!("{e}"));
    let opts = ClusterOptions {
        settings: vec![
            // Lock waits over 100 ms are logged: the check below reads them.
            ("log_lock_waits".into(), "on".into()),
            ("deadlock_timeout".into(), "100ms".into()),
            // The application name in each line tells pgparity's sessions from pgbench's.
            ("log_line_prefix".into(), "%m [%p] %a ".into()),
        ],
        ..Default::default()
    };
    let c = Cluster::start(&install, &opts).unwrap_or_else(|e| panic!("{e}"));
    c.execute("postgres", "CREATE DATABASE load").unwrap();
    // pgbench against database `load` of `on`.
    let pgbench_on = |on: &Cluster, extra: &[&str]| {
        let mut cmd = Command::new(install.tool("pgbench"));
        cmd.args([
            "-h",
            &on.dir.display().to_string(),
            "-p",
            &on.port.to_string(),
        ])
        .args(["-U", "postgres"])
        .args(extra)
        .arg("load");
        cmd
    };
    let pgbench = |extra: &[&str]| pgbench_on(&c, extra);
    succeeded(
        &pgbench(&["-i", "-q", "-s", &scale.to_string()])
            .output()
            .expect("run pgbench -i"),
    );
    let tps = |out: &std::process::Output| -> f64 {
        succeeded(out);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|l| l.starts_with("tps = "))
            .and_then(|l| l.split_whitespace().nth(2))
            .and_then(|v| v.parse().ok())
            .expect("pgbench prints its tps")
    };
    let secs = seconds.to_string();
    let load_args = ["-c", "4", "-j", "2", "-T", secs.as_str(), "-n"];
    let dir = tempfile::tempdir().unwrap();
    let url = c.conninfo("load");
    let bin = env!("CARGO_BIN_EXE_pgparity");
    // One snapshot of the loaded database into `name`, read back; it must succeed.
    let snapshot = |name: &str, extra: &[&str]| {
        let file = dir.path().join(name);
        let out = Command::new(bin)
            .args(["snapshot", "--url", &url, "--output"])
            .arg(&file)
            .args(extra)
            .output()
            .expect("run pgparity");
        succeeded(&out);
        Snapshot::read(&file).unwrap()
    };
    // Staging for the single check: a cluster of its own with the same shape, smaller.
    let staging =
        Cluster::start(&install, &ClusterOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    staging.execute("postgres", "CREATE DATABASE load").unwrap();
    succeeded(
        &pgbench_on(&staging, &["-i", "-q", "-s", "1"])
            .output()
            .expect("run pgbench -i"),
    );
    let corpus = dir.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    for (name, sql) in [
        ("balance.sql", "SELECT abalance FROM pgbench_accounts WHERE aid = 42"),
        ("branch.sql", "SELECT b.bid, sum(a.abalance) FROM pgbench_branches b JOIN pgbench_accounts a USING (bid) GROUP BY b.bid"),
        ("recent.sql", "SELECT * FROM pgbench_history WHERE mtime > now() - interval '1 minute' ORDER BY mtime DESC LIMIT 20"),
    ] {
        std::fs::write(corpus.join(name), sql).unwrap();
    }
    let check = || {
        let out = Command::new(bin)
            .args([
                "check",
                "--left",
                &staging.conninfo("load"),
                "--right",
                &url,
                "--corpus",
            ])
            .arg(&corpus)
            .args(["--format", "json"])
            .output()
            .expect("run pgparity");
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let log_before = std::fs::read_to_string(c.dir.join("server.log")).map_or(0, |l| l.len());
    let (mut alone, mut with) = (Vec::new(), Vec::new());
    let (mut check_secs, mut check_cost) = (Vec::new(), Vec::new());
    let mut snapshots = 0;
    for round in 0..runs {
        alone.push(tps(&pgbench(&load_args).output().expect("run pgbench")));
        // The same load, with pgparity capturing over and over until it ends.
        let started = Instant::now();
        let bench = pgbench(&load_args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run pgbench");
        while started.elapsed() < Duration::from_secs(seconds.saturating_sub(1).max(1)) {
            let snap = snapshot(&format!("s{round}-{snapshots}.json"), &[]);
            assert!(snap.problems.is_empty(), "{:?}", snap.problems);
            snapshots += 1;
        }
        // One exact profile under load: every row of pgbench_accounts, exactly.
        let snap = snapshot(&format!("exact{round}.json"), &["--exact"]);
        let rows = snap
            .profile
            .as_ref()
            .unwrap()
            .tables
            .get("public.pgbench_accounts")
            .unwrap()
            .rows;
        assert_eq!(rows, (100_000 * scale) as f64, "accounts read under load");
        with.push(tps(&bench.wait_with_output().unwrap()));

        // One check a third into the load; pgbench's per-second TPS inside and outside it.
        let started = Instant::now();
        let bench = pgbench(&[&load_args[..], &["-P", "1"]].concat())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run pgbench");
        std::thread::sleep(Duration::from_secs_f64(seconds as f64 / 3.0));
        let from = started.elapsed().as_secs_f64();
        check();
        let to = started.elapsed().as_secs_f64();
        let out = bench.wait_with_output().unwrap();
        tps(&out);
        let (inside, outside) = per_second(&String::from_utf8_lossy(&out.stderr), from, to);
        check_secs.push(to - from);
        if !inside.is_empty() && !outside.is_empty() {
            // Transactions the load lost to the check, in seconds of its usual throughput.
            let usual = mean(&outside);
            check_cost.push(inside.iter().map(|t| usual - t).sum::<f64>() / usual);
        }
    }
    // pgparity's sessions never waited on a lock (their lock_timeout is 2 s; the server logs
    // any wait past 100 ms with the waiting statement).
    let log = std::fs::read_to_string(c.dir.join("server.log")).unwrap_or_default();
    let waits: Vec<&str> = log[log_before.min(log.len())..]
        .lines()
        .filter(|l| {
            l.contains("still waiting for") || l.contains("canceling statement due to lock timeout")
        })
        .collect();
    let ours = waits.iter().filter(|l| l.contains("pgparity")).count();
    println!(
        "pgbench -c 4 -j 2 -T {seconds}, scale {scale}; median of {runs} interleaved runs (min–max); {snapshots} snapshots (sampled profile) and {runs} exact profiles ran under load, all complete; lock waits over 100 ms in the server log: {} ({ours} of pgparity's sessions)",
        waits.len()
    );
    let ratios: Vec<f64> = with.iter().zip(&alone).map(|(w, a)| w / a).collect();
    let (a, w, r) = (spread(&alone), spread(&with), spread(&ratios));
    println!("TPS alone {:.0} ({:.0}–{:.0}); with pgparity {:.0} ({:.0}–{:.0}); kept {:.2} ({:.2}–{:.2})",
        a.0, a.1, a.2, w.0, w.1, w.2, r.0, r.1, r.2);
    let cs = spread(&check_secs);
    if check_cost.is_empty() {
        println!(
            "one check took {:.1} s (too short a load to set seconds inside against outside)",
            cs.0
        );
    } else {
        let k = spread(&check_cost);
        println!(
            "one check (both sides live, 3 queries planned) took {:.2} s ({:.2}–{:.2}); it cost the load {:.2} s ({:.2}–{:.2}) of its usual throughput",
            cs.0, cs.1, cs.2, k.0, k.1, k.2
        );
    }
    assert_eq!(ours, 0, "pgparity waited on locks: {waits:?}");
}

/// pgbench's per-second TPS (`-P 1` lines on stderr) of the seconds overlapping [`from`,
/// `to`] and of those wholly outside it.
fn per_second(progress: &str, from: f64, to: f64) -> (Vec<f64>, Vec<f64>) {
    let seconds: Vec<(f64, f64)> = progress
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("progress: ")?;
            let mut words = rest.split_whitespace();
            let t: f64 = words.next()?.parse().ok()?;
            let _ = words.next(); // "s,"
            let tps: f64 = words.next()?.parse().ok()?;
            Some((t, tps))
        })
        .collect();
    let overlaps = |t: f64| t - 1.0 < to && t > from;
    let inside = seconds
        .iter()
        .filter(|s| overlaps(s.0))
        .map(|s| s.1)
        .collect();
    let outside = seconds
        .iter()
        .filter(|s| !overlaps(s.0))
        .map(|s| s.1)
        .collect();
    (inside, outside)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Fails the bench with the tool's stderr unless it succeeded.
fn succeeded(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Median, minimum and maximum.
fn spread(v: &[f64]) -> (f64, f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    (s[s.len() / 2], s[0], s[s.len() - 1])
}
