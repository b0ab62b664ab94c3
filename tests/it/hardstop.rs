//! Hard stops (issue 16): pgparity killed with SIGKILL at any moment of a command that writes
//! a file leaves no file at all — neither a partial output nor a temporary one (the output is
//! written unnamed and linked in place when complete) — and the next run succeeds without
//! any cleanup.

use std::path::Path;
use std::process::Command;

use pgparity::snapshot::Snapshot;

use crate::support::*;

/// Kills `command` with SIGKILL at each of `steps` (a run paused there by
/// `PGPARITY_PAUSE_AT`); after each, the folder holds nothing or only `complete` output
/// (checked by `complete`). Then a run that is not stopped completes.
fn kill_at_each_step(
    dir: &Path,
    output: &str,
    steps: &[&str],
    command: impl Fn() -> Command,
    complete: impl Fn(&Path),
) {
    let names = || -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    for step in steps {
        let status = paused_at(command(), step).kill();
        assert!(!status.success(), "killed at {step}");
        assert!(
            names().is_empty(),
            "killed at {step}: the folder holds {:?}",
            names()
        );
    }
    let status = command()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(names(), vec![output.to_string()], "after a complete run");
    complete(&dir.join(output));
}

/// Where a run can be stopped, in order: reading the catalog, then the data, then writing
/// the output (complete and on disk, not yet named).
const STEPS: [&str; 5] = [
    "capture:area",
    "capture:catalog",
    "profile:read",
    "profile:table",
    "output:written",
];

#[test]
fn snapshot_and_check_killed_at_any_moment_leave_no_file() {
    let c = pg17();
    let db = fresh_db(c, "hardstop");
    let mut sql = String::new();
    for t in 0..150 {
        sql.push_str(&format!(
            "CREATE TABLE \"T {t}\" (id int PRIMARY KEY, \"Näme\" text, at timestamptz); \
             INSERT INTO \"T {t}\" SELECT i, 'n' || i, now() FROM generate_series(1, 200) i;"
        ));
    }
    c.execute(&db, &sql).unwrap();
    let url = c.conninfo(&db);

    let out = tempfile::tempdir().unwrap();
    kill_at_each_step(
        out.path(),
        "snap.json",
        &STEPS,
        || {
            let mut cmd = bin();
            cmd.args(["snapshot", "--url", &url, "--output"])
                .arg(out.path().join("snap.json"));
            cmd
        },
        |p| {
            let s = Snapshot::read(p).expect("a complete snapshot");
            assert_eq!(s.schema.tables.len(), 150);
        },
    );

    let out = tempfile::tempdir().unwrap();
    kill_at_each_step(
        out.path(),
        "report.html",
        &STEPS,
        || {
            let mut cmd = bin();
            cmd.args(["check", "--left", &url, "--right", &url, "--format", "html"])
                .args(["--output"])
                .arg(out.path().join("report.html"));
            cmd
        },
        |p| {
            let html = std::fs::read_to_string(p).unwrap();
            assert!(html.trim_end().ends_with("</html>"), "a complete report");
        },
    );

    // Replacing a complete file: killed before the new one is named, the old one is intact.
    let file = out.path().join("report.html");
    std::fs::write(&file, "old").unwrap();
    let mut cmd = bin();
    cmd.args(["check", "--left", &url, "--right", &url, "--no-profile"])
        .arg("--output")
        .arg(&file);
    paused_at(cmd, "output:written").kill();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "old");
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1);
}

/// A large table loads in ranges on several sessions, each committing its own: a seed killed
/// with SIGKILL midway may leave it half full. The database's comment names it until the load
/// ends, so a capture of the target says so, and the next seed empties it first and succeeds
/// without any cleanup by hand.
#[test]
fn a_seed_killed_midway_is_seen_and_undone_by_the_next_seed() {
    let c = pg15();
    let src = fresh_db(c, "hardseedsrc");
    c.execute(
        &src,
        "CREATE TABLE big (id bigint PRIMARY KEY, a text, b numeric(12,2)); \
         INSERT INTO big SELECT i, repeat('x', i % 40), i / 7.0 FROM generate_series(1, 20000) i; ANALYZE big",
    )
    .unwrap();
    let snap = capture(c, &src, "production");
    let (_dir, path) = snapshot_file(&snap, "big.json");
    let db = fresh_db(c, "hardseed");
    let url = c.conninfo(&db);
    let seed = |extra: &[&str]| {
        let mut cmd = bin();
        cmd.args(["seed", "--from"])
            .arg(&path)
            .args([
                "--into",
                &url,
                "--rows",
                "public.big=300000",
                "--streams",
                "4",
                "--yes",
            ])
            .args(extra);
        cmd
    };
    // Killed once a range of the big table has committed while the others have not ended:
    // the table is half-loaded and the database's comment still names it.
    let status = paused_at(seed(&["--create-schema"]), "seed:range-committed").kill();
    assert!(!status.success());
    let loaded: u64 = c
        .query_scalar(&db, "SELECT count(*)::text FROM big")
        .unwrap()
        .parse()
        .unwrap();
    assert!(loaded > 0 && loaded < 300_000, "{loaded} rows");

    let after = capture_with(c, &db, "staging", None);
    let said = after
        .problems
        .iter()
        .find(|p| p.area == "seed")
        .unwrap_or_else(|| panic!("no problem names the stopped seed: {:?}", after.problems));
    assert!(
        said.message.contains("public.big may be half-loaded"),
        "{}",
        said.message
    );

    // The next seed (no --create-schema: the schema is there) empties it first and loads it.
    let out = seed(&[]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        c.query_scalar(&db, "SELECT count(*)::text FROM big")
            .unwrap(),
        "300000"
    );
    let clean = capture_with(c, &db, "staging", None);
    assert!(
        clean.problems.iter().all(|p| p.area != "seed"),
        "{:?}",
        clean.problems
    );
}

/// Terminates every pgparity backend on `db`; how many.
fn terminate_all(c: &pgparity::cluster::Cluster, db: &str) -> u32 {
    c.query_scalar(
        "postgres",
        &format!(
            "SELECT count(pg_terminate_backend(pid))::text FROM pg_stat_activity \
             WHERE datname = '{db}' AND application_name = 'pgparity'"
        ),
    )
    .unwrap()
    .parse()
    .unwrap()
}

/// The server ending a session midway (a restart, a terminated backend) fails the run with one
/// line naming the environment and what was lost, exit 2, and no output file — never a
/// snapshot quietly full of "could not be read" problems. Each run is stopped at a named step
/// (about to read a catalog area, a table, a query's plan), its sessions terminated, and let go.
#[test]
fn a_backend_terminated_mid_capture_mid_profile_or_mid_plan_is_a_clear_error() {
    let c = pg17();
    let db = fresh_db(c, "lostconn");
    let mut sql = String::from(
        "CREATE TABLE big AS SELECT i AS id, md5(i::text) AS note FROM generate_series(1, 20000) i; ANALYZE;",
    );
    for t in 0..100 {
        sql.push_str(&format!(
            "CREATE TABLE t{t} (id int PRIMARY KEY, a text, b date);"
        ));
    }
    c.execute(&db, &sql).unwrap();
    let url = c.conninfo(&db);
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("snap.json");
    let corpus = out.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    for i in 0..5 {
        std::fs::write(
            corpus.join(format!("q{i}.sql")),
            format!("SELECT t{i}.a FROM t{i} JOIN t{} USING (id)", i + 1),
        )
        .unwrap();
    }
    for (step, during, extra) in [
        ("capture:area", "capture", ["--no-profile"]),
        ("profile:read", "profile", ["--exact"]),
        ("plan:query", "planning", ["--no-profile"]),
    ] {
        let paused = pgp("snapshot")
            .opt("--url", &url)
            .args(extra)
            .opt("--corpus", &corpus)
            .opt("--output", &file)
            .paused_at(step);
        assert!(terminate_all(c, &db) >= 1, "{step}: no session to end");
        let (status, stderr) = paused.resume();
        let line = error_line(status.code().unwrap_or(-1), &stderr);
        assert!(
            line.contains(&db)
                && line.contains(&format!("the connection was lost during the {during}")),
            "{step}: {line}"
        );
        assert!(!file.exists(), "{step}");
    }
}
