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
    let findings = r["findings"].as_array().unwrap();
    let slow = findings
        .iter()
        .find(|f| f["id"] == "plan:query:q13.sql:regression")
        .unwrap_or_else(|| panic!("{findings:#?}"));
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
    let mut child = bin()
        .args(["rehearse", "--from", snap.to_str().unwrap(), "--to", "17"])
        .env("TMPDIR", tmp.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until a server runs (its pid file exists), then interrupt.
    let started = std::time::Instant::now();
    let running = || {
        std::fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .any(|d| d.path().join("data").join("postmaster.pid").exists())
    };
    while !running() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "no cluster started"
        );
        assert!(child.try_wait().unwrap().is_none(), "rehearse ended early");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|d| d.path())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    // No server or tool of this run is alive (they name their folder on their command line);
    // the kernel delivers their parent-death signal as the process goes, give it a moment.
    let needle = tmp.path().to_str().unwrap().to_string();
    let alive = || -> Vec<String> {
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|p| std::fs::read(p.path().join("cmdline")).ok())
            .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
            .filter(|c| c.contains(&needle))
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !alive().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(alive().is_empty(), "still running: {:?}", alive());
}
