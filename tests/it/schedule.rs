//! Scheduled data-gap reports: acceptances of measured gaps that survive the next night's
//! data and come back when the gap really moves.

use crate::support::*;

/// Staging never NULL, production NULL in 1,000 of 3,500 rows; baseline accepts the gap.
/// 40 more NULLs (29 % → 30 %) stay accepted; a doubled gap comes back as stale, with why.
#[test]
fn an_accepted_data_gap_survives_small_drift_and_goes_stale_when_it_doubles() {
    let c = pg17();
    let create = "CREATE TABLE t (id int PRIMARY KEY, note text);
                  INSERT INTO t SELECT g, 'note ' || (g % 50) FROM generate_series(1, 3500) g;";
    let (staging, production) = (fresh_db(c, "drift"), fresh_db(c, "drift"));
    c.execute(&staging, create).unwrap();
    c.execute(&production, create).unwrap();
    c.execute(&production, "UPDATE t SET note = NULL WHERE id <= 1000")
        .unwrap();
    let (left, right) = (c.url(&staging), c.url(&production));
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    let text = baseline(&left, &right, &policy);
    let entry = text
        .split("[[accept]]")
        .find(|e| e.contains("id = \"nulls:public.t.note\""))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        entry.contains("severity = \"critical\"") && entry.contains("tolerance = 0.5"),
        "{entry}"
    );
    assert!(text.contains("# Data gaps"), "{text}");
    let check = || {
        pgp("check")
            .opt("--left", &left)
            .opt("--right", &right)
            .opt("--policy", &policy)
            .opt("--format", "json")
    };
    let status = |r: &serde_json::Value| {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == "nulls:public.t.note")
            .unwrap_or_else(|| panic!("{r:#}"))
            .clone()
    };
    // The next night: 40 more NULLs. Still accepted, the gate passes.
    c.execute(&production, "UPDATE t SET note = NULL WHERE id <= 1040")
        .unwrap();
    let r = check().run().ok().json();
    let f = status(&r);
    assert_eq!(f["status"], "accepted", "{f:#}");
    assert_eq!(f["right"], "30 % NULL", "{f:#}");
    // The gap doubles: stale, and the report says why.
    c.execute(&production, "UPDATE t SET note = NULL WHERE id <= 2000")
        .unwrap();
    let r = check().run().code(1).json();
    let f = status(&r);
    assert_eq!(f["status"], "stale", "{f:#}");
    assert!(
        f["stale"]
            .as_str()
            .unwrap()
            .starts_with("the right value moved past its tolerance of 50% (29 % NULL → 57 % NULL)"),
        "{f:#}"
    );
}

/// Four runs kept both in a folder and in a PostgreSQL database tell the same story (new,
/// fixed, persisting, trend); the database holds every run's findings, fixed ones included,
/// and figures; a newer schema is refused before any capture; a run whose write fails midway
/// leaves nothing; a URL is never taken for a folder.
#[test]
fn a_history_in_postgresql_tells_what_the_folder_tells_and_writes_whole_runs_only() {
    let c = pg17();
    let (a, b) = (fresh_db(c, "histdb"), fresh_db(c, "histdb"));
    c.execute(
        &b,
        "CREATE TABLE only_b1 (id int); CREATE TABLE only_b2 (id int)",
    )
    .unwrap();
    let keeper = pg15();
    let store_db = fresh_db(keeper, "store");
    let store = keeper.url(&store_db);
    let folder = tempfile::tempdir().unwrap();
    let folder_path = folder.path().to_str().unwrap().to_string();
    let check = |history: &str| {
        pgp("check")
            .opt("--left", c.url(&a))
            .opt("--right", c.url(&b))
            .opt("--format", "json")
            .opt("--history", history)
            .run()
    };
    let story = |history: &str| {
        let out = check(history);
        assert!(
            out.stderr.contains("recorded this run in "),
            "{}",
            out.stderr
        );
        let j = out.json();
        let ids = |k: &str| -> Vec<String> {
            let mut v: Vec<String> = j["history"][k]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["id"].as_str().unwrap().to_string())
                .collect();
            v.sort();
            v
        };
        let trend: Vec<serde_json::Value> = j["history"]["trend"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t[1].clone())
            .collect();
        (ids("new"), ids("fixed"), ids("persisting"), trend)
    };
    let both = || {
        let from_folder = story(&folder_path);
        let from_db = story(&store);
        assert_eq!(from_folder, from_db);
        from_db
    };
    let (new, fixed, persisting, trend) = both();
    assert!(new.is_empty() && fixed.is_empty() && persisting.is_empty() && trend.len() == 1);
    c.execute(&b, "CREATE TABLE only_b3 (id int)").unwrap();
    let (new, _, persisting, trend) = both();
    assert_eq!(new, vec!["schema:public.only_b3:missing"]);
    assert_eq!(persisting.len(), 2);
    assert_eq!(trend.len(), 2);
    c.execute(&a, "CREATE TABLE only_b1 (id int)").unwrap();
    let (new, fixed, _, _) = both();
    assert!(new.is_empty());
    assert_eq!(fixed, vec!["schema:public.only_b1:missing"]);
    let (new, fixed, persisting, trend) = both();
    assert!(new.is_empty() && fixed.is_empty() && persisting.len() == 2 && trend.len() == 4);

    assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 4);
    // The Markdown report says it short enough for a chat message.
    let md = pgp("check")
        .opt("--left", c.url(&a))
        .opt("--right", c.url(&b))
        .opt("--format", "markdown")
        .opt("--history", &folder_path)
        .run()
        .stdout;
    assert!(md.contains("0 new, 0 fixed, 2 persisting"), "{md}");

    let count = |sql: &str| keeper.query_scalar(&store_db, sql).unwrap();
    assert_eq!(
        count("SELECT count(*)::text FROM pgparity_history.runs"),
        "4"
    );
    assert_eq!(
        count("SELECT string_agg(finding_id, ',') FROM pgparity_history.findings WHERE status = 'fixed'"),
        "schema:public.only_b1:missing"
    );
    assert_eq!(
        count("SELECT count(DISTINCT table_name)::text FROM pgparity_history.figures WHERE figure = 'rows' AND side = 'right'"),
        "3",
        "rows of only_b1..3 on the right side"
    );
    assert_eq!(
        count("SELECT max(version)::text FROM pgparity_history.schema_version"),
        pgparity::history::db::SCHEMA_VERSION.to_string()
    );

    // A write that fails midway (a trigger refuses figures) leaves no run behind.
    keeper
        .execute(
            &store_db,
            "CREATE FUNCTION pgparity_history.refuse() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'disk full'; END$$;
             CREATE TRIGGER refuse BEFORE INSERT ON pgparity_history.figures FOR EACH ROW EXECUTE FUNCTION pgparity_history.refuse();",
        )
        .unwrap();
    let err = check(&store).error();
    assert!(
        err.contains("history: writing figures") && err.contains("disk full"),
        "{err}"
    );
    assert_eq!(
        count("SELECT count(*)::text FROM pgparity_history.runs"),
        "4"
    );
    assert_eq!(
        count("SELECT count(*)::text FROM pgparity_history.findings WHERE run_id > 4"),
        "0"
    );
    keeper
        .execute(&store_db, "DROP TRIGGER refuse ON pgparity_history.figures")
        .unwrap();

    // A store of schema version 1 (before fleets) is migrated forward by the next run.
    keeper
        .execute(
            &store_db,
            "DROP TABLE pgparity_history.fleet_shards; DELETE FROM pgparity_history.schema_version; INSERT INTO pgparity_history.schema_version VALUES (1)",
        )
        .unwrap();
    check(&store).code(1);
    assert_eq!(
        keeper
            .query_scalar(
                &store_db,
                "SELECT max(version)::text || ' ' || (to_regclass('pgparity_history.fleet_shards') IS NOT NULL)::text FROM pgparity_history.schema_version",
            )
            .unwrap(),
        "2 true"
    );

    // A schema newer than this pgparity: refused before anything is captured.
    keeper
        .execute(
            &store_db,
            "INSERT INTO pgparity_history.schema_version VALUES (99)",
        )
        .unwrap();
    let err = check(&store).error();
    assert!(
        err.ends_with("history schema pgparity_history is version 99, newer than this pgparity writes (2); hint: upgrade pgparity"),
        "{err}"
    );

    // A role that may not create the schema: told what to grant.
    keeper
        .execute("postgres", "DO $$BEGIN CREATE ROLE history_writer LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$")
        .unwrap();
    let denied = fresh_db(keeper, "denied");
    let err = check(
        &keeper
            .url(&denied)
            .replacen("postgres@", "history_writer@", 1),
    )
    .error();
    assert!(
        err.contains("history: creating schema pgparity_history")
            && err.ends_with("hint: GRANT CREATE ON DATABASE to this role once, or create schema pgparity_history owned by it"),
        "{err}"
    );

    // A URL is never a folder: an unreachable one is an error, another scheme is refused, and
    // nothing named postgres: appears.
    let cwd = tempfile::tempdir().unwrap();
    let run_in = |history: &str| {
        pgp("check")
            .opt("--left", c.url(&a))
            .opt("--right", c.url(&b))
            .opt("--history", history)
            .cwd(cwd.path())
            .run()
            .error()
    };
    let err = run_in("postgres://127.0.0.1:1/history");
    assert!(err.contains("127.0.0.1:1"), "{err}");
    let err = run_in("https://example.com/history");
    assert!(
        err.contains("neither a folder nor a PostgreSQL connection string"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(cwd.path()).unwrap().count(), 0);
}

/// Production's own drift across runs, from both stores: quiet on unchanged data; a volume
/// jump and a plan change in production are reported as changes since the previous runs; the
/// NULL gap's line over the runs carries both sides' figures.
#[test]
fn production_drift_and_finding_lines_come_from_either_store() {
    let c = pg17();
    let create = "CREATE TABLE t (id int PRIMARY KEY, note text);
                  INSERT INTO t SELECT g, 'n' || g FROM generate_series(1, 2000) g;
                  ANALYZE t;";
    let (staging, production) = (fresh_db(c, "trend"), fresh_db(c, "trend"));
    c.execute(&staging, create).unwrap();
    c.execute(&production, create).unwrap();
    c.execute(&production, "UPDATE t SET note = NULL WHERE id <= 200")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let query = dir.path().join("by_id.sql");
    std::fs::write(&query, "SELECT note FROM t WHERE id = 42").unwrap();
    let folder = dir.path().join("runs");
    let keeper = pg15();
    let store = keeper.url(&fresh_db(keeper, "trendstore"));
    let check = |history: &str| {
        let r = pgp("check")
            .opt("--left", c.url(&staging))
            .opt("--right", c.url(&production))
            .opt("--corpus", &query)
            .opt("--format", "json")
            .opt("--history", history)
            .run()
            .json();
        r["history"].clone()
    };
    let both = || {
        let (f, d) = (check(folder.to_str().unwrap()), check(&store));
        let changed = |h: &serde_json::Value| -> Vec<String> {
            h["changed"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|c| {
                            format!(
                                "{} {}",
                                c["object"].as_str().unwrap(),
                                c["figure"].as_str().unwrap()
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let line = |h: &serde_json::Value| -> Vec<(f64, f64)> {
            h["series"]["nulls:public.t.note"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|p| (p["left"].as_f64().unwrap(), p["right"].as_f64().unwrap()))
                        .collect()
                })
                .unwrap_or_default()
        };
        assert_eq!(changed(&f), changed(&d), "folder vs database");
        assert_eq!(line(&f), line(&d), "folder vs database");
        (changed(&d), line(&d))
    };
    let (changed, line) = both();
    assert!(changed.is_empty());
    assert_eq!(line, vec![(0.0, 0.1)]);
    // The same data again: quiet.
    let (changed, line) = both();
    assert!(changed.is_empty(), "{changed:?}");
    assert_eq!(line.len(), 2);
    // Production grows fourfold, more NULLs, and loses the index its query used.
    c.execute(
        &production,
        "INSERT INTO t SELECT g, NULL FROM generate_series(2001, 8000) g;
         ALTER TABLE t DROP CONSTRAINT t_pkey; ANALYZE t;",
    )
    .unwrap();
    let (changed, line) = both();
    assert_eq!(
        changed,
        vec![
            "public.t rows".to_string(),
            "public.t.note null_rate".to_string(),
            "query:by_id.sql plan".to_string()
        ]
    );
    assert_eq!(line.len(), 3);
    assert_eq!(line[2], (0.0, 0.775));
    // The Markdown report says it, apart from the gaps.
    let md = pgp("check")
        .opt("--left", c.url(&staging))
        .opt("--right", c.url(&production))
        .opt("--corpus", &query)
        .opt("--format", "markdown")
        .opt("--history", dir.path().join("fresh").to_str().unwrap())
        .run()
        .stdout;
    assert!(
        !md.contains("Changed in"),
        "a first run has nothing to compare with: {md}"
    );
}

/// A local webhook: every request's path and JSON body, answered with `status`.
fn webhook(
    status: u16,
) -> (
    String,
    std::sync::mpsc::Receiver<(String, serde_json::Value)>,
) {
    use std::io::{BufRead, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/services/T0/B0/secret",
        listener.local_addr().unwrap()
    );
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            // Received before answered: once the poster has its answer, the post is here.
            let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
            let gone = tx.send((request_line, json)).is_err();
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            if gone {
                break;
            }
        }
    });
    (url, rx)
}

/// `--notify`: a Slack message with the counts and the new findings linked into the report,
/// a Teams card, nothing when nothing is new, and a dead or failing endpoint only warns.
#[test]
fn a_run_with_something_new_posts_a_message_and_a_dead_webhook_only_warns() {
    let c = pg17();
    let (a, b) = (fresh_db(c, "notify"), fresh_db(c, "notify"));
    c.execute(&b, "CREATE TABLE only_b (id int)").unwrap();
    let hist = tempfile::tempdir().unwrap();
    let (url, rx) = webhook(200);
    let check = |extra: &[&str]| {
        let mut p = pgp("check")
            .opt("--left", c.url(&a))
            .opt("--right", c.url(&b))
            .arg("--no-profile")
            .opt("--history", hist.path());
        p = p.opt("--report-url", "https://ci.example.com/parity.html");
        for x in extra {
            p = p.arg(x);
        }
        p.run()
    };
    // The run has ended when it is read: its post is in the channel already.
    let wait = || rx.try_recv();
    let out = check(&["--notify", &url]).code(1);
    assert!(
        out.stderr.contains("posted a message to http://127.0.0.1:"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("secret"),
        "the webhook's path is a secret: {}",
        out.stderr
    );
    let (request, body) = wait().unwrap();
    assert!(
        request.starts_with("POST /services/T0/B0/secret "),
        "{request}"
    );
    let text = body["text"].as_str().unwrap();
    assert!(
        text.contains("FAIL, 1 new at or above low") && text.contains("1 high"),
        "{body:#}"
    );
    let listed = body["blocks"][2]["text"]["text"].as_str().unwrap();
    assert!(
        listed.contains("<https://ci.example.com/parity.html#f-schema_public_only_b_missing|schema:public.only_b:missing>"),
        "{listed}"
    );
    // The same again: nothing new, no message (unless asked).
    let out = check(&["--notify", &url]).code(1);
    assert!(
        out.stderr
            .contains("nothing new at or above low: no message posted"),
        "{}",
        out.stderr
    );
    // The run has ended: a post would be in the channel already (received before answered).
    assert!(rx.try_recv().is_err(), "posted though nothing was new");
    check(&[
        "--notify",
        &url,
        "--notify-always",
        "--notify-format",
        "teams",
    ])
    .code(1);
    let (_, card) = wait().unwrap();
    assert_eq!(card["type"], "message");
    let content = &card["attachments"][0]["content"];
    assert_eq!(content["type"], "AdaptiveCard");
    assert_eq!(
        content["actions"][0]["url"],
        "https://ci.example.com/parity.html"
    );
    // A dead endpoint, and one that answers 500: warnings, the exit code is the run's.
    for dead in ["http://127.0.0.1:1/hook".to_string(), webhook(500).0] {
        let out = check(&["--notify", &dead, "--notify-always"]).code(1);
        let warning = out
            .stderr
            .lines()
            .find(|l| l.starts_with("warning: --notify: "))
            .unwrap_or_else(|| panic!("{}", out.stderr));
        assert!(warning.ends_with("; the run's result stands"), "{warning}");
    }
}

/// A parquet or CSV table read back with polars.
fn read_table(path: &std::path::Path) -> polars::prelude::DataFrame {
    use polars::prelude::{CsvReadOptions, ParquetReader, SerReader};
    if path.extension().is_some_and(|e| e == "csv") {
        CsvReadOptions::default()
            .with_has_header(true)
            .try_into_reader_with_file_path(Some(path.to_path_buf()))
            .unwrap()
            .finish()
            .unwrap()
    } else {
        ParquetReader::new(std::fs::File::open(path).unwrap())
            .finish()
            .unwrap()
    }
}

fn column_names(df: &polars::prelude::DataFrame) -> Vec<String> {
    df.get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect()
}

/// Three runs into a folder and a database, exported as Parquet and CSV: the documented
/// columns, one row per run × finding (fixed ones included) and per run × side × table ×
/// column × figure, the same rows from either store; a profile as one table; bad input.
#[test]
fn a_history_exports_as_tidy_tables_readable_back() {
    let c = pg17();
    let (a, b) = (fresh_db(c, "export"), fresh_db(c, "export"));
    let create = "CREATE TABLE t (id int, note text); INSERT INTO t SELECT g, 'x' FROM generate_series(1, 300) g;";
    c.execute(&a, create).unwrap();
    c.execute(&b, create).unwrap();
    c.execute(
        &b,
        "CREATE TABLE only_b (id int); UPDATE t SET note = NULL WHERE id < 50",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("runs");
    let keeper = pg15();
    let store = keeper.url(&fresh_db(keeper, "exportstore"));
    for step in 0..3 {
        if step == 2 {
            c.execute(&a, "CREATE TABLE only_b (id int)").unwrap();
        }
        for history in [folder.to_str().unwrap(), store.as_str()] {
            pgp("check")
                .opt("--left", c.url(&a))
                .opt("--right", c.url(&b))
                .opt("--history", history)
                .run()
                .code(1);
        }
    }
    let export = |from: &str, format: &str, out: &std::path::Path| {
        let o = pgp("history")
            .arg("export")
            .opt("--from", from)
            .opt("--format", format)
            .opt("--output", out)
            .run()
            .ok();
        assert!(o.stderr.contains("exported 3 runs"), "{}", o.stderr);
    };
    let (fp, dc, fc) = (
        dir.path().join("folder-parquet"),
        dir.path().join("db-csv"),
        dir.path().join("folder-csv"),
    );
    export(folder.to_str().unwrap(), "parquet", &fp);
    export(&store, "csv", &dc);
    export(folder.to_str().unwrap(), "csv", &fc);
    let findings = read_table(&fp.join("findings.parquet"));
    assert_eq!(
        column_names(&findings),
        [
            "run_id",
            "at",
            "left_name",
            "right_name",
            "finding_id",
            "status",
            "severity",
            "message"
        ]
    );
    let fixed = findings
        .column("status")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .filter(|s| *s == Some("fixed"))
        .count();
    assert_eq!(fixed, 1, "only_b fixed in the third run");
    let figures = read_table(&fp.join("figures.parquet"));
    assert_eq!(
        column_names(&figures),
        [
            "run_id",
            "at",
            "side",
            "table_name",
            "column_name",
            "figure",
            "value"
        ]
    );
    // rows of t on both sides in each of 3 runs, plus NULL rates, distinct counts, classes.
    let rows_figures = figures
        .column("figure")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .filter(|f| *f == Some("rows"))
        .count();
    assert!(rows_figures >= 6, "{figures}");
    for (name, parquet_df) in [("findings", &findings), ("figures", &figures)] {
        for csv in [&dc, &fc] {
            let df = read_table(&csv.join(format!("{name}.csv")));
            assert_eq!(
                df.height(),
                parquet_df.height(),
                "{name} in {}",
                csv.display()
            );
            assert_eq!(column_names(&df), column_names(parquet_df));
        }
    }
    assert!(fp.join("plans.parquet").exists());

    // One environment's profile as a table.
    let profile = dir.path().join("profile.parquet");
    pgp("profile")
        .opt("--url", c.url(&b))
        .opt("--format", "parquet")
        .opt("--output", &profile)
        .run()
        .ok();
    let df = read_table(&profile);
    assert_eq!(
        column_names(&df),
        [
            "environment",
            "table_name",
            "column_name",
            "figure",
            "value"
        ]
    );
    assert!(df.height() >= 4, "{df}");

    // Bad input: nothing to export, a parquet profile with nowhere to go.
    let err = pgp("history")
        .arg("export")
        .opt("--from", dir.path().join("empty"))
        .opt("--output", dir.path().join("out"))
        .run()
        .error();
    assert!(err.contains("no runs there"), "{err}");
    let err = pgp("profile")
        .opt("--url", c.url(&b))
        .opt("--format", "parquet")
        .run()
        .error();
    assert_eq!(err, "error: profile --format parquet: needs --output FILE");
}
