//! Hard stops (issue 16): pgparity killed with SIGKILL at any moment of a command that writes
//! a file leaves no file at all — neither a partial output nor a temporary one (the output is
//! written unnamed and linked in place when complete) — and the next run succeeds without
//! any cleanup.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use pgparity::snapshot::Snapshot;

use crate::support::*;

/// Starts `command` again and again, killing it with SIGKILL after a growing delay, until a
/// run completes; after each, the folder holds nothing or only `complete` output (checked by
/// `complete`). Returns how many runs were killed before they finished.
fn kill_at_every_moment(
    dir: &Path,
    output: &str,
    command: impl Fn() -> Command,
    complete: impl Fn(&Path),
) -> usize {
    // Every run before the one that completes was killed.
    for step in 0.. {
        let delay = Duration::from_millis(15 * step * step);
        let mut child = command()
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start pgparity");
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL: no destructor, no signal handler runs
        let status = child.wait().expect("wait for pgparity");
        let names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        if status.success() {
            assert_eq!(names, vec![output.to_string()], "after a complete run");
            complete(&dir.join(output));
            return step as usize;
        }
        assert!(
            names.is_empty() || names == vec![output.to_string()],
            "killed after {delay:?}: the folder holds {names:?}"
        );
        if !names.is_empty() {
            // Linked in place just before the kill: complete.
            complete(&dir.join(output));
        }
        assert!(step < 60, "the command never completed");
    }
    unreachable!()
}

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
    let killed = kill_at_every_moment(
        out.path(),
        "snap.json",
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
    assert!(killed >= 3, "only {killed} runs were killed midway");

    let out = tempfile::tempdir().unwrap();
    let killed = kill_at_every_moment(
        out.path(),
        "report.html",
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
    assert!(killed >= 3, "only {killed} runs were killed midway");
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
                "public.big=1200000",
                "--streams",
                "4",
                "--yes",
            ])
            .args(extra);
        cmd
    };
    let mut child = seed(&["--create-schema"]).spawn().unwrap();
    // Killed once two of its ranges are being loaded, and one has had time to commit.
    let mut seen = false;
    for _ in 0..4000 {
        let loading = c
            .query_scalar(
                &db,
                "SELECT count(*)::text FROM pg_stat_activity WHERE query LIKE 'COPY public.big%' AND state = 'active'",
            )
            .unwrap_or_default();
        if loading.parse::<u32>().unwrap_or(0) >= 2 {
            seen = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(seen, "the ranges were never seen loading");
    std::thread::sleep(Duration::from_millis(1500));
    child.kill().unwrap();
    assert!(!child.wait().unwrap().success());

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
        "1200000"
    );
    let clean = capture_with(c, &db, "staging", None);
    assert!(
        clean.problems.iter().all(|p| p.area != "seed"),
        "{:?}",
        clean.problems
    );
}

/// Terminates every pgparity backend on `db` whose activity matches `only` (SQL on
/// pg_stat_activity) while `keep` is set.
fn terminator(
    c: &'static pgparity::cluster::Cluster,
    db: &str,
    only: &'static str,
    keep: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<u32> {
    let db = db.to_string();
    std::thread::spawn(move || {
        let mut killed = 0;
        while keep.load(std::sync::atomic::Ordering::Relaxed) {
            let n = c
                .query_scalar(
                    "postgres",
                    &format!(
                        "SELECT count(pg_terminate_backend(pid))::text FROM pg_stat_activity \
                         WHERE datname = '{db}' AND application_name = 'pgparity' AND {only}"
                    ),
                )
                .unwrap_or_default();
            killed += n.parse::<u32>().unwrap_or(0);
            std::thread::sleep(Duration::from_millis(2));
        }
        killed
    })
}

/// Runs `f` while a terminator kills pgparity's backends on `db` whose activity matches
/// `only`; its result and the number of backends terminated.
fn terminating<R>(
    c: &'static pgparity::cluster::Cluster,
    db: &str,
    only: &'static str,
    f: impl FnOnce() -> R,
) -> (R, u32) {
    let keep = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let killer = terminator(c, db, only, keep.clone());
    let r = f();
    keep.store(false, std::sync::atomic::Ordering::Relaxed);
    (r, killer.join().unwrap())
}

/// The server ending a session midway (a restart, a terminated backend) fails the run with one
/// line naming the environment and what was lost, exit 2, and no output file — never a
/// snapshot quietly full of "could not be read" problems.
#[test]
fn a_backend_terminated_mid_capture_mid_profile_or_mid_plan_is_a_clear_error() {
    let c = pg17();
    let db = fresh_db(c, "lostconn");
    let mut sql = String::from(
        "CREATE TABLE big AS SELECT i AS id, md5(i::text) AS note FROM generate_series(1, 1500000) i; ANALYZE;",
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

    // Mid-profile: the COPY reading every row of the big table is terminated.
    let (o, killed) = terminating(c, &db, "query LIKE 'COPY%'", || {
        pgp("snapshot")
            .opt("--url", &url)
            .arg("--exact")
            .opt("--output", &file)
            .run()
    });
    assert!(killed >= 1, "no COPY was terminated");
    let line = error_line(o.status, &o.stderr);
    assert!(
        line.contains(&db) && line.contains("the connection was lost during the profile"),
        "{line}"
    );
    assert!(!file.exists());

    // Mid-capture: a session terminated once it reads the catalog areas (its last statement is
    // an area's savepoint or query); every run ends in one line (or completes, when the kill
    // came after the last area), and the catalog reader says what was lost.
    let mut seen = false;
    for _ in 0..40 {
        let (o, _) = terminating(
            c,
            &db,
            "(query LIKE 'SAVEPOINT pgparity_area%' OR query LIKE 'SELECT format(%')",
            || {
                pgp("snapshot")
                    .opt("--url", &url)
                    .arg("--no-profile")
                    .opt("--output", &file)
                    .run()
            },
        );
        if o.status == 0 {
            assert!(Snapshot::read(&file).is_ok());
            std::fs::remove_file(&file).unwrap();
            continue;
        }
        let line = error_line(o.status, &o.stderr);
        assert!(line.contains(&db), "{line}");
        assert!(!file.exists());
        if line.contains("the connection was lost during the capture") {
            seen = true;
            break;
        }
    }
    assert!(seen, "no run was cut during the catalog capture");

    // Mid-plan: a planning session terminated after its first EXPLAIN (its last statement stays
    // in pg_stat_activity while it waits for the next); the run fails in one line instead of a
    // report of queries that "failed to plan".
    let corpus = out.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    for i in 0..300 {
        std::fs::write(
            corpus.join(format!("q{i:03}.sql")),
            // An eight-way join: milliseconds to plan, so planning lasts long enough for the
            // terminator to see it.
            format!(
                "SELECT t{}.a, count(*) FROM {} WHERE t{}.b > now() - interval '{i} days' GROUP BY 1",
                i % 92,
                (1..8).fold(format!("t{}", i % 92), |from, k| format!(
                    "{from} JOIN t{} USING (id)",
                    i % 92 + k
                )),
                i % 92
            ),
        )
        .unwrap();
    }
    let (o, killed) = terminating(
        c,
        &db,
        "query LIKE 'BEGIN READ ONLY; SET LOCAL jit%'",
        || {
            pgp("snapshot")
                .opt("--url", &url)
                .arg("--no-profile")
                .opt("--corpus", &corpus)
                .opt("--output", &file)
                .run()
        },
    );
    assert!(killed >= 1, "no planning session was terminated");
    let line = error_line(o.status, &o.stderr);
    assert!(
        line.contains(&db) && line.contains("the connection was lost during the planning"),
        "{line}"
    );
    assert!(!file.exists());
}
