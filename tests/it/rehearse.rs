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
    assert!(
        out.stderr
            .contains("rows seeded into 8 tables on each side"),
        "{}",
        out.stderr
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
