//! `pgparity rehearse` end to end: a TPC-H production on PostgreSQL 15, with two planted
//! statements, rehearsed on 17 (plan changes with planner-version causes, a result that
//! changes, a statement that fails on the new major) and on 15 itself (silent).

use crate::support::*;

/// A production snapshot on 15: TPC-H at SF 0.01 with its 22 queries, plus a query whose
/// result depends on the major and one that PostgreSQL 17 refuses (pg_stat_bgwriter lost its
/// backend columns), recorded as the snapshot's corpus.
fn production() -> (tempfile::TempDir, std::path::PathBuf) {
    let c = pg15();
    let db = tpch_db(c, "rehearse", 0.01);
    let dir = tempfile::tempdir().unwrap();
    let planted = dir.path().join("planted");
    std::fs::create_dir(&planted).unwrap();
    std::fs::write(
        planted.join("server_version.sql"),
        "SELECT current_setting('server_version_num')::int / 10000 AS major",
    )
    .unwrap();
    std::fs::write(
        planted.join("bgwriter.sql"),
        "SELECT buffers_backend > -1 AS ok FROM pg_stat_bgwriter",
    )
    .unwrap();
    let snap = dir.path().join("production.json");
    let tpch = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/tpch");
    pgp("snapshot")
        .opt("--url", c.url(&db))
        .opt("--name", "production")
        .opt("--corpus", &tpch)
        .opt("--corpus", &planted)
        .opt("--output", &snap)
        .run()
        .ok();
    (dir, snap)
}

/// The report's finding with this id.
fn finding<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    let findings = report["findings"].as_array().unwrap();
    findings.iter().find(|f| f["id"] == id).unwrap_or_else(|| {
        panic!(
            "no {id} in {:#?}",
            findings.iter().map(|f| &f["id"]).collect::<Vec<_>>()
        )
    })
}

#[test]
fn an_upgrade_from_15_to_17_is_rehearsed_and_15_to_15_is_silent() {
    let (_dir, snap) = production();
    let out = pgp("rehearse")
        .opt("--from", &snap)
        .opt("--to", "17")
        .opt("--format", "json")
        .run()
        .code(1);
    let r = out.json();
    let setup: Vec<&str> = r["setup"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        setup
            .iter()
            .any(|l| l.contains("rows seeded into 8 tables on each side")),
        "{setup:?}"
    );
    let findings = r["findings"].as_array().unwrap();
    let get = |id: &str| {
        findings.iter().find(|f| f["id"] == id).unwrap_or_else(|| {
            panic!(
                "no {id} in {:#?}",
                findings.iter().map(|f| &f["id"]).collect::<Vec<_>>()
            )
        })
    };
    // Plans the suite knows change between 15 and 17, with the planner's version as the cause.
    let q22 = get("plan:query:q22.sql:shape");
    assert!(
        q22["causes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["kind"] == "planner-version"),
        "{q22:#}"
    );
    // The same rows on both majors: a result that changes is critical, an error on the new
    // major only is high.
    let changed = get("plan:query:server_version.sql:result");
    assert_eq!(changed["severity"], "critical", "{changed:#}");
    let fails = get("plan:query:bgwriter.sql:result-error");
    assert_eq!(fails["severity"], "high");
    assert!(
        fails["message"]
            .as_str()
            .unwrap()
            .contains("fails on PostgreSQL 17 only"),
        "{fails:#}"
    );
    // The 22 TPC-H queries return the same rows on both majors.
    assert!(
        !findings
            .iter()
            .any(|f| f["id"].as_str().unwrap().starts_with("plan:query:q")
                && f["id"].as_str().unwrap().ends_with(":result")),
        "{findings:#?}"
    );
    // The versions and the settings the new major brings are notes, not failures.
    assert_eq!(get("version:server:version")["severity"], "info");

    // A planted regression: the new major without hash and merge joins. q13 runs three times on
    // each side; the regression carries both figures and the setting that caused it.
    let q13 = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/tpch/q13.sql");
    let r = pgp("rehearse")
        .opt("--from", &snap)
        .opt("--to", "17")
        .opt("--corpus", &q13)
        .opt("--execute", "3")
        .opt("--new-setting", "enable_hashjoin=off")
        .opt("--new-setting", "enable_mergejoin=off")
        .opt("--format", "json")
        .run()
        .code(1)
        .json();
    let slow = finding(&r, "plan:query:q13.sql:regression");
    assert_eq!(slow["severity"], "high");
    assert!(
        slow["left"].as_str().unwrap().starts_with("median ")
            && slow["right"].as_str().unwrap().contains(" buffers"),
        "{slow:#}"
    );
    let cause = &slow["causes"][0];
    assert_eq!(cause["kind"], "setting", "{slow:#}");
    let links: Vec<&str> = cause["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        links.contains(&"setting:enable_hashjoin") && links.contains(&"plan:query:q13.sql:shape"),
        "{links:?}"
    );
    assert!(slow["plans"]["left"].is_object() && slow["plans"]["right"].is_object());

    // On 18, the old side's statistics are copied: both plan from the same numbers.
    let q01 = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/tpch/q01.sql");
    let r = pgp("rehearse")
        .opt("--from", &snap)
        .opt("--to", "18")
        .opt("--corpus", &q01)
        .opt("--format", "json")
        .run()
        .json();
    let copied = r["setup"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l.as_str())
        .find(|l| l.contains("pg_restore_attribute_stats"))
        .unwrap_or_else(|| panic!("{:#}", r["setup"]))
        .to_string();
    assert!(
        copied.contains(" relations, ") && !copied.contains("(0 relations"),
        "{copied}"
    );

    // A/A: the snapshot's own major on both sides finds nothing.
    let out = pgp("rehearse")
        .opt("--from", &snap)
        .opt("--to", "15")
        .run()
        .ok();
    assert!(
        out.stdout.contains("No open differences."),
        "{}",
        out.stdout
    );

    // Bad input: a major out of range, a snapshot without a profile.
    let err = pgp("rehearse")
        .opt("--from", &snap)
        .opt("--to", "12")
        .run()
        .error();
    assert_eq!(
        err,
        "error: --to: '12' is not a major version from 13 to 18"
    );
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&snap).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("profile");
    let bare = snap.with_file_name("bare.json");
    std::fs::write(&bare, v.to_string()).unwrap();
    let err = pgp("rehearse")
        .opt("--from", &bare)
        .opt("--to", "17")
        .run()
        .error();
    assert!(
        err.ends_with(
            "has no data profile to seed from; hint: take the snapshot without --no-profile"
        ),
        "{err}"
    );
}

/// Ctrl-C in the middle of a rehearsal: the servers stop and their folders go.
#[test]
fn an_interrupted_rehearsal_leaves_no_server_and_no_folder() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, snap) = production();
    // The child's temporary folder, to see exactly what it leaves (the server's user must be
    // able to enter it).
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // Stopped once both servers run, then interrupted.
    let mut cmd = bin();
    cmd.args(["rehearse", "--from", snap.to_str().unwrap(), "--to", "17"])
        .env("TMPDIR", tmp.path());
    let mut paused = paused_at(cmd, "rehearse:clusters");
    let servers = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .filter(|d| d.path().join("data").join("postmaster.pid").exists())
        .count();
    assert_eq!(servers, 2, "both servers run");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(paused.child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = paused.child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|d| d.path())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    // No server or tool of this run is alive (they name their folder on their command line);
    // the kernel delivers their parent-death signal as the process goes, give it a moment.
    wait_until("the run's servers and tools to end", || {
        processes_naming(tmp.path()).is_empty()
    });
}

/// The psql connection strings a `--keep` rehearsal printed in its setup.
fn kept_conninfos(report: &serde_json::Value) -> Vec<String> {
    report["setup"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l.as_str())
        .filter(|l| l.starts_with("kept: "))
        .map(|l| {
            let start = l.find("psql '").unwrap() + "psql '".len();
            l[start..start + l[start..].find('\'').unwrap()].to_string()
        })
        .collect()
}

/// Processes whose command line names `needle` (a cluster's folder).
fn processes_naming(needle: &std::path::Path) -> Vec<String> {
    let needle = needle.to_str().unwrap().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|p| std::fs::read(p.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(&needle))
        .collect()
}

/// Waits until `ok` (an event that must come: processes ending after their parent died);
/// the bound only keeps a broken run from hanging the suite.
fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while !ok() {
        assert!(std::time::Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// `--keep` leaves both clusters connectable (production's ICU locale on both, writes rolled
/// back), the next rehearsal
/// stops them, and a rehearsal killed with SIGKILL leaves folders that `--clean` removes.
#[test]
fn kept_clusters_stay_connectable_until_the_next_run_and_a_killed_run_is_cleaned_up() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, snap) = production();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // A write whose effect depends on the major: 5 rows on 15, 7 on 17, rolled back on both;
    // and one that fails on both (a foreign key), named in the setup.
    let corpus = dir.path().join("writes");
    std::fs::create_dir(&corpus).unwrap();
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/tpch/q06.sql"),
        corpus.join("q06.sql"),
    )
    .unwrap();
    std::fs::write(
        corpus.join("purge.sql"),
        "UPDATE nation SET n_comment = 'purged' WHERE n_nationkey < current_setting('server_version_num')::int / 10000 - 10",
    )
    .unwrap();
    std::fs::write(corpus.join("orphan.sql"), "DELETE FROM nation").unwrap();
    // Production's database uses ICU: both sides' databases do too.
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&snap).unwrap()).unwrap();
    v["inventory"]["database"]["locale_provider"] = "icu".into();
    v["inventory"]["database"]["locale"] = "de-DE".into();
    let icu = dir.path().join("icu.json");
    std::fs::write(&icu, v.to_string()).unwrap();
    let r = pgp("rehearse")
        .opt("--from", &icu)
        .opt("--to", "17")
        .opt("--corpus", &corpus)
        .opt("--execute", "1")
        .arg("--keep")
        .opt("--format", "json")
        .env("TMPDIR", tmp.path())
        .run()
        .code(1)
        .json();
    let purge = finding(&r, "plan:query:purge.sql:result");
    assert!(
        purge["message"]
            .as_str()
            .unwrap()
            .contains("changes 7 rows on PostgreSQL 17 and 5 on PostgreSQL 15"),
        "{purge:#}"
    );
    assert!(
        r["setup"].as_array().unwrap().iter().any(|l| l
            .as_str()
            .unwrap()
            .starts_with("2 statements run 1 time on each side")),
        "{:#}",
        r["setup"]
    );
    assert!(
        r["setup"].as_array().unwrap().iter().any(|l| {
            let l = l.as_str().unwrap();
            l.starts_with("fails on both sides, not compared: orphan.sql (")
                && l.contains("foreign key")
        }),
        "{:#}",
        r["setup"]
    );
    let kept = kept_conninfos(&r);
    assert_eq!(kept.len(), 2, "{:#}", r["setup"]);
    // The process has ended; both servers still answer, with the seeded rows and no write
    // left behind (rolled back).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for conninfo in &kept {
        let (nations, purged, provider): (i64, i64, i8) = rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(conninfo, tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| panic!("{conninfo}: {e}"));
            tokio::spawn(conn);
            let row = client
                .query_typed_one(
                    "SELECT count(*), count(*) FILTER (WHERE n_comment = 'purged') FROM nation",
                    &[],
                )
                .await
                .unwrap();
            let provider = client
                .query_typed_one(
                    "SELECT datlocprovider FROM pg_database WHERE datname = current_database()",
                    &[],
                )
                .await
                .unwrap();
            (row.get(0), row.get(1), provider.get(0))
        });
        assert_eq!((nations, purged), (25, 0), "{conninfo}");
        assert_eq!(provider as u8, b'i', "{conninfo}");
    }
    let kept_dirs: Vec<std::path::PathBuf> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|d| d.path())
        .collect();
    assert_eq!(kept_dirs.len(), 2, "{kept_dirs:?}");

    // The next rehearsal stops them first; killed outright at a random moment once it starts
    // its own clusters (initdb, seeding, planning...), it leaves their folders (its servers die
    // with it) for the next run or --clean.
    // Killed outright at each named step once it runs its own clusters.
    for step in ["rehearse:clusters", "rehearse:seeded"] {
        let mut cmd = bin();
        cmd.args(["rehearse", "--from", snap.to_str().unwrap(), "--to", "17"])
            .env("TMPDIR", tmp.path());
        let paused = paused_at(cmd, step);
        for d in &kept_dirs {
            assert!(!d.exists(), "{} was not cleaned up", d.display());
            assert!(processes_naming(d).is_empty(), "{:?}", processes_naming(d));
        }
        paused.kill();
        wait_until("the killed run's processes to end", || {
            processes_naming(tmp.path()).is_empty()
        });
        assert!(
            std::fs::read_dir(tmp.path()).unwrap().count() >= 2,
            "killed at {step}, a run has no chance to clean up"
        );
    }
    // A folder whose maker died before writing anything into it (or while removing it) is
    // known as dead by its name alone.
    let half_made = tmp.path().join("pgparity-cluster-4194305-half");
    std::fs::create_dir_all(half_made.join("data/base")).unwrap();
    let out = pgp("rehearse")
        .arg("--clean")
        .env("TMPDIR", tmp.path())
        .run()
        .ok();
    assert!(
        out.stderr
            .contains("stopped and removed 0 kept clusters; removed "),
        "{}",
        out.stderr
    );
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
