//! Reaching production as users do (issue 30): a server or pooler that stops answering ends
//! the run in one line within the reply deadline, never a hang; a pooler killed midway ends
//! it in one line; multi-host strings go to the host `target_session_attrs` asks for, and the
//! snapshot names the host reached.

use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use pgparity::capture::wire;
use pgparity::capture::Target;
use pgparity::cluster::{Cluster, ClusterOptions, Install, PoolMode, Pooler};
use pgparity::conninfo::ConnInfo;

use crate::support::*;

/// The client backends of `db` but the asking one.
fn backends(c: &Cluster, db: &str) -> Vec<i32> {
    c.query_scalar(
        db,
        "SELECT coalesce(string_agg(pid::text, ','), '') FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
    )
    .unwrap()
    .split(',')
    .filter(|p| !p.is_empty())
    .map(|p| p.parse().unwrap())
    .collect()
}

fn signal_all(pids: &[i32], sig: Signal) {
    for p in pids {
        let _ = kill(Pid::from_raw(*p), sig);
    }
}

#[test]
fn a_server_that_stops_answering_ends_the_run_in_one_line() {
    let c = pg17();
    let db = fresh_db(c, "stopped");
    c.execute(&db, "CREATE TABLE t (id int PRIMARY KEY, v text)")
        .unwrap();
    let pooler = Pooler::start(c, PoolMode::Transaction, 2).unwrap_or_else(|e| panic!("{e}"));
    for (how, url) in [
        ("direct", c.url(&db)),
        ("through PgBouncer", pooler.url(&db)),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("pgparity.toml");
        std::fs::write(
            &cfg,
            format!(
                "[environments.prod]\nurl = \"{url}\"\n\n[capture]\nstatement_timeout = \"1s\"\n"
            ),
        )
        .unwrap();
        let paused = pgp("snapshot")
            .opt("--config", &cfg)
            .opt("--env", "prod")
            .arg("--no-profile")
            .opt("--output", dir.path().join("out.json"))
            .paused_at("capture:area");
        // The capture's transaction is open on its server connection(s): stop them all.
        let stopped = backends(c, &db);
        assert!(!stopped.is_empty(), "{how}: the capture's backends");
        signal_all(&stopped, Signal::SIGSTOP);
        // Bound on a hang: after two minutes the backends go on (and the run then ends with
        // its snapshot, failing the assertions below) instead of the test waiting forever.
        let (done, bound) = std::sync::mpsc::channel::<()>();
        let guard = {
            let stopped = stopped.clone();
            std::thread::spawn(move || {
                if bound.recv_timeout(Duration::from_secs(120)).is_err() {
                    signal_all(&stopped, Signal::SIGCONT);
                }
            })
        };
        let (status, stderr) = paused.resume();
        let _ = done.send(());
        guard.join().unwrap();
        signal_all(&stopped, Signal::SIGCONT);
        let line = error_line(status.code().unwrap_or(-1), &stderr);
        assert!(
            line.starts_with("error: environment 'prod': ")
                && line.contains(
                    "gave up during the capture: no reply in 11 s while reading the catalog"
                ),
            "{how}: {line}"
        );
        assert!(
            !dir.path().join("out.json").exists(),
            "{how}: no snapshot written"
        );
    }
}

#[test]
fn a_pooler_killed_midway_ends_the_run_in_one_line() {
    let c = pg17();
    let db = fresh_db(c, "poolerkilled");
    c.execute(
        &db,
        "CREATE TABLE t AS SELECT i AS id, md5(i::text) AS v FROM generate_series(1, 5000) i; ANALYZE",
    )
    .unwrap();
    let pooler = Pooler::start(c, PoolMode::Transaction, 2).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let paused = pgp("snapshot")
        .opt("--url", pooler.url(&db))
        .opt("--output", dir.path().join("out.json"))
        .paused_at("profile:read");
    kill(Pid::from_raw(pooler.pid().unwrap() as i32), Signal::SIGKILL).unwrap();
    let (status, stderr) = paused.resume();
    let line = error_line(status.code().unwrap_or(-1), &stderr);
    assert!(
        line.contains("the connection was lost during the profile"),
        "{line}"
    );
    assert!(!dir.path().join("out.json").exists());
}

fn reached(url: &str) -> Result<String, String> {
    let target = Target {
        name: "multi".into(),
        conninfo: ConnInfo::parse(url).map_err(|e| e.to_string())?,
        protected: true,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        wire::connect(&target, "pgparity-test")
            .await
            .map(|c| c.reached)
            .map_err(|e| e.to_string())
    })
}

#[test]
fn multi_host_strings_reach_the_host_target_session_attrs_asks_for() {
    let install = Install::find(17).unwrap_or_else(|e| panic!("{e}"));
    let primary = Cluster::start(&install, &ClusterOptions::default()).unwrap();
    let standby = primary.start_standby(&ClusterOptions::default()).unwrap();
    let (p, s) = (primary.port, standby.port);
    let at = |port: u16| format!("postgres@127.0.0.1:{port}/postgres");
    let url = |hosts: &[u16], attrs: &str| {
        let hosts: Vec<String> = hosts.iter().map(|h| format!("127.0.0.1:{h}")).collect();
        format!(
            "postgresql://postgres@{}/postgres?sslmode=disable&target_session_attrs={attrs}",
            hosts.join(",")
        )
    };
    for (hosts, attrs, want) in [
        (&[p, s][..], "any", p),
        (&[s, p][..], "any", s),
        (&[s, p][..], "read-write", p),
        (&[p, s][..], "read-only", s),
        (&[s, p][..], "primary", p),
        (&[p, s][..], "standby", s),
        (&[p, s][..], "prefer-standby", s),
        (&[p][..], "prefer-standby", p),
    ] {
        assert_eq!(
            reached(&url(hosts, attrs)),
            Ok(at(want)),
            "{hosts:?} with target_session_attrs={attrs}"
        );
    }
    // Nothing fits: one line naming each host and what it is.
    let err = reached(&url(&[p], "standby")).unwrap_err();
    assert_eq!(
        err,
        format!("environment 'multi': {} is a primary, not a session target_session_attrs=standby accepts; hint: name the host that is, or change target_session_attrs", at(p))
    );
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = reached(&url(&[closed, s], "read-write")).unwrap_err();
    assert!(
        err.starts_with(&format!(
            "environment 'multi': no host of postgres@127.0.0.1:{closed},127.0.0.1:{s}/postgres took a session with target_session_attrs=read-write: {} failed (",
            at(closed)
        )) && err.ends_with(&format!("; {} is read-only", at(s))),
        "{err}"
    );
    // A first host that refuses is passed over; the snapshot names the host it read.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.json");
    pgp("snapshot")
        .opt("--url", url(&[closed, p], "any"))
        .arg("--no-profile")
        .opt("--output", &file)
        .run()
        .ok();
    let snap: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(snap["meta"]["target"], at(p));
    standby.stop();
    primary.stop();
}

#[test]
fn a_primary_checked_against_its_own_standby_differs_only_in_topology() {
    let install = Install::find(17).unwrap_or_else(|e| panic!("{e}"));
    let primary = Cluster::start(&install, &ClusterOptions::default()).unwrap();
    primary
        .execute(
            "postgres",
            "CREATE TABLE events (at date NOT NULL, v int) PARTITION BY RANGE (at); \
             CREATE TABLE events_a PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01'); \
             CREATE TABLE events_b PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01'); \
             INSERT INTO events SELECT date '2024-01-01' + (i % 700), i FROM generate_series(1, 20000) i; \
             CREATE TABLE accounts (id int PRIMARY KEY, name text); \
             INSERT INTO accounts SELECT i, 'a' || i FROM generate_series(1, 5000) i; \
             CREATE MATERIALIZED VIEW per_day AS SELECT at, count(*) AS n FROM events GROUP BY at; \
             ANALYZE; \
             UPDATE accounts SET name = name || '!' WHERE id <= 2000",
        )
        .unwrap();
    // The primary's own counters say so (its activity statistics are flushed by then): the
    // partitioned parent analyzed, accounts stale (at least the 2,000 rows updated since).
    primary
        .execute("postgres", "SELECT pg_stat_force_next_flush()")
        .unwrap();
    let counters = || {
        primary
            .query_scalar(
                "postgres",
                "SELECT (SELECT last_analyze IS NOT NULL FROM pg_stat_all_tables WHERE relname = 'events')::text \
                 || ' ' || (SELECT n_mod_since_analyze FROM pg_stat_all_tables WHERE relname = 'accounts')",
            )
            .unwrap()
    };
    let said = counters();
    let modified: i64 = said.strip_prefix("true ").unwrap_or("0").parse().unwrap();
    assert!(modified >= 2000, "the primary's counters: {said}");
    // Copied after ANALYZE: the standby has the statistics, not the primary's counters.
    let standby = primary.start_standby(&ClusterOptions::default()).unwrap();
    let out = pgp("check")
        .opt("--left", primary.url("postgres"))
        .opt("--right", standby.url("postgres"))
        .arg("--exact")
        .opt("--format", "json")
        .run();
    assert!(out.status == 0 || out.status == 1, "{}", out.stderr);
    let j = out.json();
    let findings = j["findings"].as_array().unwrap();
    let not_topology: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["category"] != "topology")
        .collect();
    assert!(not_topology.is_empty(), "{not_topology:#?}");
    assert!(
        findings.iter().any(|f| f["id"] == "topology:server:role"),
        "{findings:#?}"
    );
    standby.stop();
    primary.stop();
}

/// Until the standby has received the primary's WAL up to `lsn`: its replay then meets the
/// profile's COPY (which still runs, paused in the middle of a long stream) and cancels it as
/// soon as the backend can take the cancel.
fn received(standby: &Cluster, lsn: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let sql = format!("SELECT (pg_last_wal_receive_lsn() >= '{lsn}'::pg_lsn)::text");
    while standby.query_scalar("postgres", &sql).unwrap() != "true" {
        assert!(
            std::time::Instant::now() < deadline,
            "the standby never received the primary's lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_standby_that_cancels_a_read_for_recovery_is_retried_smaller_then_not_measured() {
    let install = Install::find(17).unwrap_or_else(|e| panic!("{e}"));
    let primary = Cluster::start(&install, &ClusterOptions::default()).unwrap();
    primary
        .execute(
            "postgres",
            "CREATE TABLE big AS SELECT i AS id, repeat(md5(i::text), 4) AS v FROM generate_series(1, 1000000) i; ANALYZE big",
        )
        .unwrap();
    let mut opts = ClusterOptions::default();
    opts.settings
        .push(("max_standby_streaming_delay".into(), "0".into()));
    let standby = primary.start_standby(&opts).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let snapshot = |pauses: &str| {
        // Over the unix socket, whose buffers hold a few hundred KB: the server is still inside
        // the COPY at the pause (over TCP on localhost the buffers grow to megabytes, and on a
        // busy machine the retry's sample could be sent whole before the conflict came; the
        // standby then ends the idle session instead of cancelling a statement).
        pgp("snapshot")
            .opt("--url", standby.conninfo("postgres"))
            .arg("--exact")
            .opt("--profile-concurrency", "1")
            .opt("--profile-streams", "1")
            .opt("--output", dir.path().join("s.json"))
            .paused_at(pauses)
    };
    // The primary takes a lock the standby replays while the profile's COPY of `big` runs
    // (rows wide enough that even the retry's sample, 13 MB, is far more than the socket's and
    // the client's buffers hold: the statement still runs at the pause).
    let conflict = || {
        // Committed synchronously: flushed, so sent (the test clusters commit asynchronously).
        primary
            .execute(
                "postgres",
                "BEGIN; SET LOCAL synchronous_commit = on; LOCK TABLE big IN ACCESS EXCLUSIVE MODE; COMMIT",
            )
            .unwrap();
        let lsn = primary
            .query_scalar("postgres", "SELECT pg_current_wal_flush_lsn()::text")
            .unwrap();
        received(&standby, &lsn);
    };
    let profile_of_big = || -> serde_json::Value {
        let snap: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("s.json")).unwrap())
                .unwrap();
        let problems: Vec<String> = snap["problems"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["area"] == "profile public.big")
            .map(|p| p["message"].as_str().unwrap().to_string())
            .collect();
        serde_json::json!({
            "method": snap["profile"]["tables"]["public.big"]["method"]["kind"],
            "problems": problems,
        })
    };

    // Cancelled once: read again, a ten times smaller block sample, and said.
    let paused = snapshot("profile:streaming");
    conflict();
    let (status, stderr) = paused.resume();
    assert!(status.success(), "{stderr}");
    assert_eq!(
        profile_of_big(),
        serde_json::json!({
            "method": "system",
            "problems": ["the standby cancelled the read for a conflict with recovery; retried with a 10.0000 % block sample"],
        })
    );

    // Cancelled twice: not measured, with the settings that decide it.
    let paused = snapshot("profile:streaming,profile:streaming");
    conflict();
    let paused = paused.again("profile:streaming");
    conflict();
    let (status, stderr) = paused.resume();
    assert!(status.success(), "{stderr}");
    let big = profile_of_big();
    assert_eq!(big["method"], serde_json::Value::Null, "{big}");
    let said = big["problems"].as_array().unwrap();
    assert_eq!(said.len(), 1, "{big}");
    assert!(
        said[0].as_str().unwrap().starts_with(
            "not measured: the standby cancelled the read twice for a conflict with recovery ("
        ) && said[0].as_str().unwrap().ends_with(
            "); hint: raise max_standby_streaming_delay or turn hot_standby_feedback on on the standby, or profile the primary"
        ),
        "{big}"
    );
    standby.stop();
    primary.stop();
}

#[test]
fn a_workload_read_on_a_standby_says_it_is_the_standbys_own() {
    let install = Install::find(15).unwrap_or_else(|e| panic!("{e}"));
    let mut opts = ClusterOptions::default();
    opts.settings.push((
        "shared_preload_libraries".into(),
        "pg_stat_statements".into(),
    ));
    let primary = Cluster::start(&install, &opts).unwrap();
    primary
        .execute(
            "postgres",
            "CREATE EXTENSION pg_stat_statements; \
             CREATE TABLE orders AS SELECT i AS id, i % 50 AS customer FROM generate_series(1, 1000) i; ANALYZE orders",
        )
        .unwrap();
    let standby = primary.start_standby(&opts).unwrap();
    for i in 0..5 {
        standby
            .execute(
                "postgres",
                &format!("SELECT count(*) FROM orders WHERE customer = {i}"),
            )
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.json");
    let out = pgp("snapshot")
        .opt("--url", primary.url("postgres"))
        .arg("--no-profile")
        .opt("--corpus-from-stats", standby.url("postgres"))
        .opt("--output", &file)
        .run()
        .ok();
    assert!(
        out.stderr.lines().any(|l| l.contains(
            ": corpus: pg_stat_statements was read on a standby: it counts the statements run on that standby only"
        ) && l.starts_with("warning: ")),
        "{}",
        out.stderr
    );
    let snap: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(snap["plans"]
        .as_object()
        .unwrap()
        .values()
        .any(|p| p["sql"].as_str().unwrap().contains("customer = $1")));
    standby.stop();
    primary.stop();
}
