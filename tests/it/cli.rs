//! The binary end to end: snapshot → diff, check with a config and a policy, baseline,
//! report formats, exit codes, and the demo.

use crate::support::*;

/// Two databases on twin clusters that differ only in random_page_cost.
fn one_difference() -> (String, String, String) {
    let (l, r) = (pg17(), pg17b());
    let (dl, dr) = (fresh_db(l, "gate"), fresh_db(r, "gate"));
    r.execute(
        &dr,
        &format!("ALTER DATABASE {dr} SET random_page_cost = 1.1"),
    )
    .unwrap();
    (l.url(&dl), r.url(&dr), dr)
}

#[test]
fn a_policy_accepting_the_difference_turns_exit_1_into_0_until_the_value_changes() {
    let (left, right, _) = one_difference();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("pgparity.toml");
    let write_cfg = |accepted_right: &str| {
        std::fs::write(
            &cfg,
            format!(
                "[environments.staging]\nurl = '{left}'\n\n[environments.production]\nurl = '{right}'\nprotected = true\n\n\
                 [check]\nleft = 'staging'\nright = 'production'\nfail_on = 'medium'\n\n\
                 [[accept]]\nid = 'setting:random_page_cost'\nreason = 'production runs on SSD'\nleft = '4'\nright = '{accepted_right}'\nexpires = '2099-12-31'\n"
            ),
        )
        .unwrap();
    };
    let (code, out, err) = run_in(&["check"], Some(dir.path()));
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("two sides are needed"), "{err}");

    write_cfg("1.1");
    let (code, out, err) = run_in(&["check"], Some(dir.path()));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("ACCEPTED (1)") && out.contains("production runs on SSD"),
        "{out}"
    );
    assert!(
        out.contains("PASS: nothing open at or above medium"),
        "{out}"
    );

    write_cfg("1.2");
    let (code, out, _) = run_in(&["check", "--format", "json"], Some(dir.path()));
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["result"], "fail");
    let f = &report["findings"][0];
    assert_eq!(
        (f["id"].as_str(), f["status"].as_str()),
        (Some("setting:random_page_cost"), Some("stale"))
    );
    assert_eq!(
        (f["left"].as_str(), f["right"].as_str()),
        (Some("4"), Some("1.1"))
    );

    // Without the acceptance, --fail-on decides: high fails, critical passes.
    std::fs::remove_file(&cfg).unwrap();
    let (code, _, _) = run(&[
        "check",
        "--left",
        &left,
        "--right",
        &right,
        "--fail-on",
        "high",
    ]);
    assert_eq!(code, 1);
    let (code, _, _) = run(&[
        "check",
        "--left",
        &left,
        "--right",
        &right,
        "--fail-on",
        "critical",
    ]);
    assert_eq!(code, 0);
}

#[test]
fn baseline_then_check_passes_and_a_new_difference_fails() {
    let (left, right, right_db) = one_difference();
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    let (code, _, err) = run(&[
        "baseline",
        "--left",
        &left,
        "--right",
        &right,
        "--output",
        policy.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&policy).unwrap();
    assert!(
        text.contains("id = \"setting:random_page_cost\"") && text.contains("right = \"1.1\""),
        "{text}"
    );
    let p = policy.to_str().unwrap();
    let (code, out, _) = run(&["check", "--left", &left, "--right", &right, "--policy", p]);
    assert_eq!(code, 0, "{out}");
    // A new difference on top of the baseline fails the gate.
    pg17b()
        .execute(&right_db, "CREATE TABLE added_later (id int)")
        .unwrap();
    let (code, out, _) = run(&[
        "check", "--left", &left, "--right", &right, "--policy", p, "--format", "markdown",
    ]);
    assert_eq!(code, 1);
    assert!(
        out.contains("## pgparity: left vs right — ❌ fail"),
        "{out}"
    );
    assert!(
        out.contains("`public.added_later`") && out.contains("### accepted (1)"),
        "{out}"
    );
}

#[test]
fn snapshots_compare_offline_and_against_a_live_side() {
    let (left, right, _) = one_difference();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        dir.path().join("staging.json"),
        dir.path().join("production.json"),
    );
    for (url, file, name) in [(&left, &a, "staging"), (&right, &b, "production")] {
        let (code, _, err) = run(&[
            "snapshot",
            "--url",
            url,
            "--name",
            name,
            "--output",
            file.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
    }
    let snap: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&b).unwrap()).unwrap();
    assert_eq!(
        (snap["format"].as_str(), snap["format_version"].as_u64()),
        (Some("pgparity-snapshot"), Some(1))
    );
    assert_eq!(snap["meta"]["environment"], "production");
    assert_eq!(
        snap["inventory"]["settings"]["random_page_cost"]["value"],
        "1.1"
    );

    let (code, out, _) = run(&[
        "diff",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["format"], "pgparity-report");
    assert_eq!(
        (r["left"]["name"].as_str(), r["right"]["name"].as_str()),
        (Some("staging"), Some("production"))
    );
    let ids: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["setting:random_page_cost"]);
    for key in [
        "id", "category", "severity", "object", "left", "right", "message", "why", "hint", "status",
    ] {
        assert!(
            r["findings"][0].get(key).is_some(),
            "findings[].{key} missing"
        );
    }
    let (code, out, _) = run(&["diff", a.to_str().unwrap(), a.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(out.contains("No open differences."), "{out}");

    // Production captured where it lives, compared with a live staging.
    let report = dir.path().join("report.txt");
    let (code, _, err) = run(&[
        "check",
        "--left",
        &left,
        "--right",
        b.to_str().unwrap(),
        "--output",
        report.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(
        text.contains(
            "random_page_cost set differently: 4 in left (default) vs 1.1 in production (database)"
        ),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "no colour in files");
}

#[test]
fn the_demo_finds_its_planted_differences() {
    // In a folder of its own: the demo writes its HTML report into the current one.
    let cwd = tempfile::tempdir().unwrap();
    let (code, out, err) = run_in(&["demo", "--format", "json"], Some(cwd.path()));
    assert!(cwd.path().join("pgparity-demo.html").exists(), "{err}");
    assert_eq!(code, 0, "{err}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ids: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids[0], "version:server:version");
    for id in [
        "setting:random_page_cost",
        "schema:public.orders_customer_id_idx:missing",
        "schema:public.order_items.order_items_product_id_fkey:missing",
        "schema:public.customers.email:nullable",
        "schema:public.order_status:labels",
        "extension:pg_trgm",
        "collation:database:locale_provider",
        "topology:standbys",
        "setting:role:app/setting:search_path",
        "statistics:public.orders:never-analyzed",
        "nulls:public.customers.country",
        "encoding:public.customers.name:emoji",
        "encoding:public.customers.name:rtl",
        "encoding:public.customers.name:combining_mark",
        "distribution:public.orders.status:value:cancelled",
        "relationship:public.orders(customer_id)->public.customers:fanout",
        "relationship:public.order_items(product_id)->public.products:orphans-left",
        "plan:query:demo/orders_of_customer.sql:shape",
        "plan:query:demo/revenue_by_country.sql:error",
    ] {
        assert!(ids.contains(&id), "demo lacks {id}: {ids:?}");
    }
}

#[test]
fn profile_prints_one_environments_data() {
    let c = pg17();
    let db = fresh_db(c, "profilecmd");
    c.execute(
        &db,
        "CREATE TABLE parent (id int PRIMARY KEY); CREATE TABLE child (id int, parent_id int REFERENCES parent (id), note text); \
         INSERT INTO parent SELECT generate_series(1, 10); \
         INSERT INTO child SELECT i, 1 + i % 10, CASE WHEN i % 4 = 0 THEN NULL ELSE 'héllo ' || i END FROM generate_series(1, 100) i;",
    )
    .unwrap();
    let (code, out, err) = run(&["profile", "--url", &c.url(&db)]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("public.child: 100 rows (every row read)"),
        "{out}"
    );
    assert!(
        out.contains("25.0 % NULL") && out.contains("latin1_supplement 100.0 %"),
        "{out}"
    );
    assert!(
        out.contains(
            "public.child(parent_id)->public.parent(id): 10 parents, 0 % childless, p50 10"
        ),
        "{out}"
    );
    let (code, out, _) = run(&[
        "profile",
        "--url",
        &c.url(&db),
        "--format",
        "json",
        "--exact",
    ]);
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        j["profile"]["tables"]["public.child"]["columns"]["note"]["nulls"],
        25
    );
    assert!(!out.contains("héllo"), "no raw value");
}

#[test]
fn completions_and_the_man_page_come_from_the_command_definitions() {
    let (code, out, err) = run(&["completions", "bash"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("_pgparity()"),
        "{}",
        &out[..out.len().min(400)]
    );
    for sub in [
        "snapshot",
        "check",
        "diff",
        "baseline",
        "seed",
        "demo",
        "--fail-on",
    ] {
        assert!(out.contains(sub), "bash completion lacks {sub}");
    }
    let (code, out, _) = run(&["completions", "zsh"]);
    assert!(
        code == 0 && out.starts_with("#compdef pgparity"),
        "{}",
        &out[..out.len().min(200)]
    );
    let (code, out, _) = run(&["completions", "fish"]);
    assert!(code == 0 && out.contains("complete -c pgparity"));
    let (code, out, err) = run(&["man"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(".TH pgparity 1") && out.contains("check"),
        "{}",
        &out[..out.len().min(200)]
    );
    // An unknown shell is a usage error: one line naming the choices, exit 2.
    let (code, _, err) = run(&["completions", "tcsh"]);
    assert_eq!(code, 2);
    assert!(
        err.trim() == "error: shell: unknown value 'tcsh'; hint: use bash, elvish, fish, powershell or zsh",
        "{err}"
    );
    // Typed flags complete their values: the report formats, the levels.
    let (_, out, _) = run(&["completions", "bash"]);
    assert!(
        out.contains("text json markdown html junit sarif")
            && out.contains("critical high medium low info"),
        "{}",
        &out[..out.len().min(400)]
    );
    // Neither reads the configuration: a broken pgparity.toml in the folder does not matter.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pgparity.toml"), "this is not toml [").unwrap();
    let (code, out, err) = run_in(&["completions", "bash"], Some(dir.path()));
    assert!(code == 0 && out.contains("_pgparity()"), "{err}");
}
