//! Every bad input gets a one-line error naming what was wrong and what to do, exit code 2,
//! no panic, and no output file.

use std::path::Path;

use crate::support::*;

/// The single `error:` line, asserting there is nothing else on stderr and exit code 2.
fn snapshot_to(url: &str, out: &Path) -> (i32, String, String) {
    run(&[
        "snapshot",
        "--url",
        url,
        "--name",
        "prod",
        "--output",
        out.to_str().unwrap(),
    ])
}

#[test]
fn unreachable_host() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.json");
    let (code, _, err) = snapshot_to("postgresql://app@127.0.0.1:1/shop?connect_timeout=3", &out);
    assert_eq!(
        error_line(code, &err),
        "error: environment 'prod': cannot connect to app@127.0.0.1:1/shop: connection refused; hint: check that the server runs and the host and port are right"
    );
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temporary file left behind"
    );
}

#[test]
fn wrong_or_missing_password_and_no_password_in_output() {
    let c = pg17();
    c.execute(
        "postgres",
        "DO $$ BEGIN CREATE ROLE pw_user LOGIN PASSWORD 'right-secret'; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
    )
    .unwrap();
    c.prepend_hba("host all pw_user 127.0.0.1/32 scram-sha-256")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.json");
    let url = format!(
        "postgresql://pw_user:wrong-secret@127.0.0.1:{}/postgres",
        c.port
    );
    let (code, stdout, err) = snapshot_to(&url, &out);
    assert_eq!(
        error_line(code, &err),
        format!("error: environment 'prod': password authentication failed for user 'pw_user' at pw_user@127.0.0.1:{}/postgres; hint: check the password (PGPASSWORD, the password file, or password= in the connection string)", c.port)
    );
    assert!(!err.contains("wrong-secret") && !stdout.contains("wrong-secret"));
    assert!(!out.exists());
    // Through the library, the server's SQLSTATE is there for a caller to act on.
    let target = pgparity::capture::Target {
        name: "prod".into(),
        conninfo: pgparity::conninfo::ConnInfo::parse(&url).unwrap(),
        protected: true,
    };
    let e = pgparity::run::snapshot(
        &target,
        &Default::default(),
        None,
        &[],
        &pgparity::progress::NoProgress,
    )
    .unwrap_err();
    assert_eq!(e.sqlstate(), Some("28P01"), "{e}");
    let cause = std::error::Error::source(&e).expect("the server's error is kept as the cause");
    assert!(
        cause.to_string().contains("password authentication failed"),
        "{cause}"
    );
    let url = format!("postgresql://pw_user@127.0.0.1:{}/postgres", c.port);
    let (code, _, err) = run_in(
        &[
            "snapshot",
            "--url",
            &url,
            "--name",
            "prod",
            "--output",
            out.to_str().unwrap(),
        ],
        Some(dir.path()),
    );
    assert!(
        error_line(code, &err)
            .contains("asks for a password and none was given; hint: set PGPASSWORD"),
        "{err}"
    );
    // The right password works, from a password file as libpq reads it, and never reaches the snapshot.
    let pgpass = dir.path().join("pgpass");
    std::fs::write(
        &pgpass,
        format!("127.0.0.1:{}:*:pw_user:right-secret\n", c.port),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    pgp("snapshot")
        .opt("--url", &url)
        .opt("--output", &out)
        .env("PGPASSFILE", &pgpass)
        .run()
        .ok();
    assert!(!std::fs::read_to_string(&out)
        .unwrap()
        .contains("right-secret"));
}

#[test]
fn database_that_does_not_exist() {
    let c = pg17();
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = snapshot_to(&c.url("no_such_db"), &dir.path().join("s.json"));
    assert_eq!(
        error_line(code, &err),
        format!("error: environment 'prod': database 'no_such_db' does not exist at postgres@127.0.0.1:{}/no_such_db; hint: check dbname in the connection string", c.port)
    );
}

#[test]
fn a_role_without_permission_on_some_tables_is_a_recorded_problem() {
    let c = pg17();
    let db = fresh_db(c, "perm");
    c.execute(
        &db,
        "CREATE TABLE open_t (id int); CREATE TABLE secret_t (id int, card text); \
         DO $$ BEGIN CREATE ROLE limited_reader LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$; \
         GRANT SELECT ON open_t TO limited_reader; GRANT pg_read_all_stats TO limited_reader;",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.json");
    let url = format!("{} user=limited_reader", c.conninfo(&db)).replace("user=postgres ", "");
    let (code, _, err) = run(&["snapshot", "--url", &url, "--output", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let snap: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let problems = snap["problems"].as_array().unwrap();
    assert!(
        problems.iter().any(|p| p["area"] == "table public.secret_t"
            && p["message"]
                .as_str()
                .unwrap()
                .contains("no SELECT privilege")),
        "{problems:?}"
    );
    assert!(!problems.iter().any(|p| p["area"] == "table public.open_t"));
    assert!(
        snap["schema"]["tables"]["public.secret_t"].is_object(),
        "the catalog still describes the table"
    );
    assert_eq!(snap["meta"]["role"], "limited_reader");
}

#[test]
fn malformed_config_and_unknown_keys() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("pgparity.toml");
    std::fs::write(&cfg, "[environments.prod\nurl = 'x'\n").unwrap();
    let (code, _, err) = run_in(&["check"], Some(dir.path()));
    let line = error_line(code, &err);
    assert!(
        line.starts_with("error: config pgparity.toml: line 1: "),
        "{line}"
    );
    std::fs::write(&cfg, "[environments.prod]\nurll = 'host=x'\n").unwrap();
    let (code, _, err) = run_in(&["check"], Some(dir.path()));
    let line = error_line(code, &err);
    assert!(
        line.starts_with(
            "error: config pgparity.toml: line 2: unknown field `urll`, expected one of"
        ),
        "{line}"
    );
    std::fs::write(
        &cfg,
        "[environments.prod]\nurl = 'host=db password=hunter2'\n",
    )
    .unwrap();
    let (code, _, err) = run_in(&["check"], Some(dir.path()));
    assert_eq!(
        error_line(code, &err),
        "error: config pgparity.toml: environment 'prod': the connection string holds a password; hint: use PGPASSWORD, ~/.pgpass or a service file instead"
    );
    assert!(!err.contains("hunter2"));
    std::fs::write(&cfg, "[check]\nleft = 'staging'\nright = 'prod'\n").unwrap();
    let (code, _, err) = run_in(&["check"], Some(dir.path()));
    assert_eq!(
        error_line(code, &err),
        "error: config pgparity.toml: check names environment 'staging', which is not defined under [environments]"
    );
    std::fs::write(
        &cfg,
        "[[accept]]\nid = 'setting:x'\nreason = 'ok'\nexpires = 'soon'\n",
    )
    .unwrap();
    let (code, _, err) = run_in(&["check"], Some(dir.path()));
    assert_eq!(error_line(code, &err), "error: config pgparity.toml: [[accept]] setting:x: expires 'soon' is not a date (YYYY-MM-DD)");
    std::fs::write(
        &cfg,
        "[thresholds]\nvolume_band = 1000\n[thresholds.objects.\"public.t\"]\nmin_expected = -1\n",
    )
    .unwrap();
    let (code, _, err) = run_in(&["check"], Some(dir.path()));
    assert_eq!(
        error_line(code, &err),
        "error: config pgparity.toml: thresholds.objects.\"public.t\": min_expected must be a positive number, not -1"
    );
    std::fs::write(&cfg, "[thresholds]\nvolume_bnad = 1000\n").unwrap();
    let (code, _, err) = run_in(&["check"], Some(dir.path()));
    assert!(
        error_line(code, &err).contains("unknown field `volume_bnad`"),
        "{err}"
    );
    let (code, _, err) = run(&["check", "--left", "nowhere", "--right", "nowhere2"]);
    assert!(
        error_line(code, &err).starts_with("error: 'nowhere' is not an environment"),
        "{err}"
    );
}

#[test]
fn corrupt_newer_and_mismatched_snapshots() {
    let c = pg17();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    let (code, _, err) = run(&[
        "snapshot",
        "--url",
        &c.conninfo("postgres"),
        "--output",
        good.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&good).unwrap();

    let corrupt = dir.path().join("corrupt.json");
    std::fs::write(&corrupt, &text[..text.len() / 2]).unwrap();
    let (code, _, err) = run(&["diff", good.to_str().unwrap(), corrupt.to_str().unwrap()]);
    let line = error_line(code, &err);
    assert!(
        line.starts_with(&format!(
            "error: snapshot {}: corrupt snapshot: not valid JSON",
            corrupt.display()
        )),
        "{line}"
    );
    assert!(line.ends_with("hint: capture it again"), "{line}");

    let wrong_shape = dir.path().join("shape.json");
    std::fs::write(
        &wrong_shape,
        text.replace("\"inventory\"", "\"inventoryX\""),
    )
    .unwrap();
    let (code, _, err) = run(&[
        "diff",
        good.to_str().unwrap(),
        wrong_shape.to_str().unwrap(),
    ]);
    assert!(
        error_line(code, &err).contains("corrupt snapshot: missing field `inventory`"),
        "{err}"
    );

    let not_ours = dir.path().join("other.json");
    std::fs::write(&not_ours, "{\"hello\": 1}").unwrap();
    let (code, _, err) = run(&["diff", not_ours.to_str().unwrap(), good.to_str().unwrap()]);
    assert!(
        error_line(code, &err).contains("not a pgparity snapshot"),
        "{err}"
    );

    let newer = dir.path().join("newer.json");
    std::fs::write(
        &newer,
        text.replacen("\"format_version\":1", "\"format_version\":99", 1)
            .replacen("\"format_version\": 1", "\"format_version\": 99", 1),
    )
    .unwrap();
    let (code, _, err) = run(&[
        "check",
        "--left",
        newer.to_str().unwrap(),
        "--right",
        &c.conninfo("postgres"),
    ]);
    assert_eq!(
        error_line(code, &err),
        format!("error: snapshot {}: format version 99 is newer than this pgparity reads (1); hint: upgrade pgparity", newer.display())
    );
    let (code, _, err) = run(&["diff", good.to_str().unwrap(), newer.to_str().unwrap()]);
    assert_eq!(
        error_line(code, &err),
        format!(
            "error: snapshots {} (format 1) and {} (format 99) have different formats; hint: capture both with the same pgparity version",
            good.display(),
            newer.display()
        )
    );
    let missing = dir.path().join("missing.json");
    let (code, _, err) = run(&["diff", good.to_str().unwrap(), missing.to_str().unwrap()]);
    assert_eq!(
        error_line(code, &err),
        format!("error: snapshot {}: cannot read: no such file or directory; hint: check the path, or write one with `pgparity snapshot`", missing.display())
    );
    // A failed check leaves no report file behind.
    let report = dir.path().join("report.md");
    let (code, _, _) = run(&[
        "diff",
        good.to_str().unwrap(),
        corrupt.to_str().unwrap(),
        "--output",
        report.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(!report.exists());
}

#[test]
fn bad_flags() {
    let (code, _, err) = run(&["diff", "a", "b", "--fail-on", "urgent"]);
    assert_eq!(
        error_line(code, &err),
        "error: --fail-on: unknown value 'urgent'; hint: use critical, high, medium, low or info"
    );
    let (code, _, err) = run(&["diff", "a", "b", "--format", "pdf"]);
    assert_eq!(
        error_line(code, &err),
        "error: --format: unknown value 'pdf'; hint: use text, json, markdown, html, junit, sarif or github"
    );
    let (code, _, err) = run(&[
        "snapshot",
        "--url",
        "host=x sslmode=sometimes",
        "--output",
        "x.json",
    ]);
    assert!(
        error_line(code, &err).contains("invalid sslmode 'sometimes'"),
        "{err}"
    );
}

// Issue 10: `check --output /dev/null` as root replaced the machine's /dev/null with a regular
// file; a named pipe and a symlink were replaced too. Through the binary: `-` is stdout, a
// pipe is written through, a symlink stays a link and its target gets the report.
#[test]
fn output_onto_stdout_pipes_and_symlinks() {
    let c = pg17();
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap.json");
    let (code, _, err) = snapshot_to(&c.conninfo("postgres"), &snap);
    assert_eq!(code, 0, "{err}");
    let s = snap.to_str().unwrap();

    let (code, out, err) = run(&["diff", s, s, "--format", "json", "--output", "-"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.trim_start().starts_with('{'), "{out}");

    let target = dir.path().join("report.json");
    let link = dir.path().join("latest.json");
    std::os::unix::fs::symlink("report.json", &link).unwrap();
    let (code, _, err) = run(&[
        "diff",
        s,
        s,
        "--format",
        "json",
        "--output",
        link.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&target)
        .unwrap()
        .contains("\"findings\""));

    let fifo = dir.path().join("pipe");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(&fifo).unwrap())
    };
    let (code, _, err) = run(&[
        "diff",
        s,
        s,
        "--format",
        "json",
        "--output",
        fifo.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(reader.join().unwrap().contains("\"findings\""));
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(
        &std::fs::symlink_metadata(&fifo).unwrap().file_type()
    ));
}
