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
    let err = pgp("check").cwd(dir.path()).run().error();
    assert!(err.contains("two sides are needed"), "{err}");

    write_cfg("1.1");
    let out = pgp("check").cwd(dir.path()).run().ok().stdout;
    assert!(
        out.contains("ACCEPTED (1)") && out.contains("production runs on SSD"),
        "{out}"
    );
    assert!(
        out.contains("PASS: nothing open at or above medium"),
        "{out}"
    );

    write_cfg("1.2");
    let report = pgp("check")
        .opt("--format", "json")
        .cwd(dir.path())
        .run()
        .code(1)
        .json();
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
    let check = || pgp("check").opt("--left", &left).opt("--right", &right);
    check().opt("--fail-on", "high").run().code(1);
    check().opt("--fail-on", "critical").run().ok();
}

#[test]
fn baseline_then_check_passes_and_a_new_difference_fails() {
    let (left, right, right_db) = one_difference();
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    let text = baseline(&left, &right, &policy);
    assert!(
        text.contains("id = \"setting:random_page_cost\"") && text.contains("right = \"1.1\""),
        "{text}"
    );
    let check = || {
        pgp("check")
            .opt("--left", &left)
            .opt("--right", &right)
            .opt("--policy", &policy)
    };
    check().run().ok();
    // A new difference on top of the baseline fails the gate.
    pg17b()
        .execute(&right_db, "CREATE TABLE added_later (id int)")
        .unwrap();
    let out = check().opt("--format", "markdown").run().code(1).stdout;
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
        pgp("snapshot")
            .opt("--url", url)
            .opt("--name", name)
            .opt("--output", file)
            .run()
            .ok();
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

    let r = pgp("diff")
        .arg(&a)
        .arg(&b)
        .opt("--format", "json")
        .run()
        .code(1)
        .json();
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
    let out = pgp("diff").arg(&a).arg(&a).run().ok().stdout;
    assert!(out.contains("No open differences."), "{out}");

    // Production captured where it lives, compared with a live staging.
    let report = dir.path().join("report.txt");
    pgp("check")
        .opt("--left", &left)
        .opt("--right", &b)
        .opt("--output", &report)
        .run()
        .code(1);
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
    let r = pgp("demo")
        .opt("--format", "json")
        .cwd(cwd.path())
        .run()
        .ok()
        .json();
    assert!(cwd.path().join("pgparity-demo.html").exists());
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
    let out = pgp("profile").opt("--url", c.url(&db)).run().ok().stdout;
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
    let profile = pgp("profile")
        .opt("--url", c.url(&db))
        .opt("--format", "json")
        .arg("--exact")
        .run()
        .ok();
    let (j, out) = (profile.json(), profile.stdout);
    assert_eq!(
        j["profile"]["tables"]["public.child"]["columns"]["note"]["nulls"],
        25
    );
    assert!(!out.contains("héllo"), "no raw value");
}

#[test]
fn completions_and_the_man_page_come_from_the_command_definitions() {
    let out = pgp("completions").arg("bash").run().ok().stdout;
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
    let out = pgp("completions").arg("zsh").run().ok().stdout;
    assert!(
        out.starts_with("#compdef pgparity"),
        "{}",
        &out[..out.len().min(200)]
    );
    let out = pgp("completions").arg("fish").run().ok().stdout;
    assert!(out.contains("complete -c pgparity"));
    let out = pgp("man").run().ok().stdout;
    assert!(
        out.contains(".TH pgparity 1") && out.contains("check"),
        "{}",
        &out[..out.len().min(200)]
    );
    // An unknown shell is a usage error: one line naming the choices, exit 2.
    assert_eq!(
        pgp("completions").arg("tcsh").run().error(),
        "error: shell: unknown value 'tcsh'; hint: use bash, elvish, fish, powershell or zsh"
    );
    // Typed flags complete their values: the report formats, the levels.
    let out = pgp("completions").arg("bash").run().ok().stdout;
    assert!(
        out.contains("text json markdown html junit sarif")
            && out.contains("critical high medium low info"),
        "{}",
        &out[..out.len().min(400)]
    );
    // Neither reads the configuration: a broken pgparity.toml in the folder does not matter.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pgparity.toml"), "this is not toml [").unwrap();
    let out = pgp("completions")
        .arg("bash")
        .cwd(dir.path())
        .run()
        .ok()
        .stdout;
    assert!(out.contains("_pgparity()"));
}
