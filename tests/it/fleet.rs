//! `pgparity fleet` on real clusters: tenant databases found by a query and schema-per-tenant
//! databases, each against one reference; a difference read once with the targets that have
//! it, targets ranked, an unreachable target a finding of its own, policies per target, a
//! fleet baseline, shards that together check every target once, bad input.

use std::collections::BTreeSet;

use crate::support::*;

/// A tenant's schema: keys, a foreign key, an enum, a view, a sequence default, an index,
/// rows (the same in every tenant).
fn tenant_schema(schema: &str) -> String {
    let s = pgparity::sql::ident(schema);
    format!(
        "CREATE SCHEMA IF NOT EXISTS {s};
         CREATE TYPE {s}.mood AS ENUM ('ok', 'sad');
         CREATE TABLE {s}.customers (id serial PRIMARY KEY, name text NOT NULL, mood {s}.mood);
         CREATE TABLE {s}.orders (id bigserial PRIMARY KEY, customer_id int NOT NULL REFERENCES {s}.customers(id),
             total numeric(10,2) CHECK (total >= 0), placed date NOT NULL DEFAULT current_date);
         CREATE INDEX orders_customer_id_idx ON {s}.orders (customer_id);
         CREATE VIEW {s}.big_orders AS SELECT o.id, c.name FROM {s}.orders o JOIN {s}.customers c ON c.id = o.customer_id WHERE o.total > 100;
         INSERT INTO {s}.customers (name, mood) SELECT 'c' || i, CASE WHEN i % 3 = 0 THEN 'sad'::{s}.mood ELSE 'ok' END FROM generate_series(1, 200) i;
         INSERT INTO {s}.orders (customer_id, total, placed) SELECT 1 + i % 200, (i % 500)::numeric, date '2026-01-01' + i % 300 FROM generate_series(1, 2000) i;
         ANALYZE {s}.customers; ANALYZE {s}.orders;"
    )
}

fn ids(report: &serde_json::Value) -> BTreeSet<String> {
    report["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect()
}

fn difference<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id)
        .unwrap_or_else(|| panic!("no difference {id} in {:#}", report["differences"]))
}

/// The names of a fleet report's targets.
fn target_names(r: &serde_json::Value) -> BTreeSet<&str> {
    r["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect()
}

fn cell_targets(d: &serde_json::Value) -> Vec<String> {
    d["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["target"].as_str().unwrap().to_string())
        .collect()
}

/// Tenant databases `prefix_0..n` on pg17, the reference `prefix_ref`.
fn tenants(prefix: &str, n: usize) -> (String, Vec<String>) {
    let c = pg17();
    let reference = format!("{prefix}_ref");
    c.execute("postgres", &format!("CREATE DATABASE {reference}"))
        .unwrap();
    c.execute(&reference, &tenant_schema("public")).unwrap();
    let names: Vec<String> = (0..n).map(|i| format!("{prefix}_{i}")).collect();
    for t in &names {
        c.execute("postgres", &format!("CREATE DATABASE {t}"))
            .unwrap();
        c.execute(t, &tenant_schema("public")).unwrap();
    }
    (reference, names)
}

#[test]
fn tenant_databases_found_by_a_query_each_difference_once_with_its_targets() {
    let c = pg17();
    let (reference, names) = tenants("fleeta", 5);
    // Planted: two tenants lost the index, one has a column more, one has fewer rows.
    for t in [&names[1], &names[3]] {
        c.execute(t, "DROP INDEX orders_customer_id_idx").unwrap();
    }
    c.execute(
        &names[4],
        "ALTER TABLE customers ADD COLUMN \"Nick Name\" text",
    )
    .unwrap();
    let gone = c.url("fleeta_gone");
    let out = pgp("fleet")
        .opt("--reference", c.url(&reference))
        .opt(
            "--targets-from",
            "SELECT datname FROM pg_database WHERE datname LIKE 'fleeta\\_%' AND datname <> 'fleeta_ref' ORDER BY 1",
        )
        .opt("--targets", &gone)
        .opt("--format", "json")
        .opt("--fail-on", "medium")
        .run()
        .code(1);
    let r = out.json();
    assert_eq!(r["format"], "pgparity-fleet-report");
    assert_eq!(
        r["targets"].as_array().unwrap().len(),
        6,
        "{:#}",
        r["targets"]
    );
    // The index, once, with the two tenants that miss it.
    let idx = difference(&r, "schema:public.orders_customer_id_idx:missing");
    assert_eq!(idx["open"], 2);
    assert_eq!(cell_targets(idx), vec!["fleeta_1", "fleeta_3"]);
    let col = difference(&r, "schema:public.customers.\"Nick Name\":missing");
    assert_eq!(cell_targets(col), vec!["fleeta_4"]);
    // The unreachable target is a finding of its own, ranked first; the others still ran.
    let un = difference(&r, "topology:unreachable");
    assert_eq!(un["severity"], "critical");
    assert_eq!(cell_targets(un), vec!["fleeta_gone"]);
    let ranked: Vec<&str> = r["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(ranked[0], "fleeta_gone");
    assert!(
        r["targets"][0]["error"]
            .as_str()
            .unwrap()
            .contains("fleeta_gone"),
        "{:#}",
        r["targets"][0]
    );
    // The clean tenants are at distance 0, ranked last.
    for t in &r["targets"].as_array().unwrap()[4..] {
        assert_eq!(t["distance"], 0, "{t:#}");
    }
    assert_eq!(
        ids(&r),
        BTreeSet::from([
            "topology:unreachable".to_string(),
            "schema:public.orders_customer_id_idx:missing".into(),
            "schema:public.customers.\"Nick Name\":missing".into(),
        ]),
        "only what was planted: {:#}",
        r["differences"]
    );

    // The same run as text says each difference once, with its targets.
    let text = pgp("fleet")
        .opt("--reference", c.url(&reference))
        .opt(
            "--targets",
            names.iter().map(|n| c.url(n)).collect::<Vec<_>>().join(","),
        )
        .arg("--no-profile")
        .run()
        .code(1)
        .stdout;
    assert!(
        text.contains("in 2 of 5 targets: fleeta_1, fleeta_3"),
        "{text}"
    );
    assert_eq!(
        text.matches("schema:public.orders_customer_id_idx:missing")
            .count(),
        1,
        "{text}"
    );
}

#[test]
fn schema_per_tenant_each_schema_against_the_reference_schema_under_its_name() {
    let c = pg17();
    let db = fresh_db(c, "fleetschemas");
    let tenants = ["tenant_1", "tenant_2", "tenant_3", "tenant 4 \"Ü\""];
    c.execute(&db, &tenant_schema("tpl")).unwrap();
    for t in tenants {
        c.execute(&db, &tenant_schema(t)).unwrap();
    }
    c.execute(&db, "DROP INDEX tenant_2.orders_customer_id_idx")
        .unwrap();
    c.execute(
        &db,
        "ALTER TABLE tenant_3.orders ALTER COLUMN placed TYPE timestamp",
    )
    .unwrap();
    // A schema the pattern leaves out is not a target.
    c.execute(&db, "CREATE SCHEMA audit; CREATE TABLE audit.log (id int)")
        .unwrap();
    let out = pgp("fleet")
        .opt("--reference", c.url(&db))
        .opt("--schemas-like", "tenant%")
        .opt("--reference-schema", "tpl")
        .opt("--format", "json")
        .run()
        .code(1);
    let r = out.json();
    let names = target_names(&r);
    assert_eq!(
        names,
        BTreeSet::from(tenants),
        "the reference schema is no target"
    );
    let idx = difference(&r, "schema:tpl.orders_customer_id_idx:missing");
    assert_eq!(cell_targets(idx), vec!["tenant_2"]);
    let ty = r["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["object"] == "tpl.orders.placed")
        .unwrap_or_else(|| panic!("{:#}", r["differences"]));
    assert_eq!(cell_targets(ty), vec!["tenant_3"]);
    // Nothing else: the enum, the view, the foreign key, the defaults and the odd name all
    // read the same under the reference's name.
    assert_eq!(
        r["differences"].as_array().unwrap().len(),
        2,
        "{:#}",
        r["differences"]
    );
    let odd = r["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "tenant 4 \"Ü\"")
        .unwrap();
    assert_eq!(odd["distance"], 0, "{odd:#}");
}

#[test]
fn policies_hold_per_target_and_a_fleet_baseline_accepts_today() {
    let c = pg17();
    let (reference, names) = tenants("fleetp", 3);
    for t in &names[..2] {
        c.execute(t, "DROP INDEX orders_customer_id_idx").unwrap();
    }
    let targets = names.iter().map(|n| c.url(n)).collect::<Vec<_>>().join(",");
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[[accept]]\nid = \"schema:public.orders_customer_id_idx:missing\"\nreason = \"fleetp_0 is being rebuilt\"\ntargets = [\"fleetp_0\"]\n",
    )
    .unwrap();
    let r = pgp("fleet")
        .opt("--reference", c.url(&reference))
        .opt("--targets", &targets)
        .arg("--no-profile")
        .opt("--policy", &policy)
        .opt("--format", "json")
        .run()
        .code(1)
        .json();
    let idx = difference(&r, "schema:public.orders_customer_id_idx:missing");
    assert_eq!(idx["open"], 1, "accepted in fleetp_0 only: {idx:#}");
    let statuses: Vec<(&str, &str)> = idx["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["target"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert!(statuses.contains(&("fleetp_0", "accepted")), "{statuses:?}");
    assert!(statuses.contains(&("fleetp_1", "open")), "{statuses:?}");

    // A baseline of the fleet names the targets a difference is in; with it, the fleet passes,
    // and a third tenant losing the index is open again.
    let base = dir.path().join("baseline.toml");
    pgp("fleet")
        .opt("--reference", c.url(&reference))
        .opt("--targets", &targets)
        .arg("--no-profile")
        .opt("--write-baseline", &base)
        .run()
        .code(1);
    let text = std::fs::read_to_string(&base).unwrap();
    assert!(
        text.contains("targets = [\"fleetp_0\", \"fleetp_1\"]"),
        "{text}"
    );
    pgp("fleet")
        .opt("--reference", c.url(&reference))
        .opt("--targets", &targets)
        .arg("--no-profile")
        .opt("--policy", &base)
        .run()
        .ok();
    c.execute(&names[2], "DROP INDEX orders_customer_id_idx")
        .unwrap();
    let out = pgp("fleet")
        .opt("--reference", c.url(&reference))
        .opt("--targets", &targets)
        .arg("--no-profile")
        .opt("--policy", &base)
        .run()
        .code(1);
    assert!(
        out.stdout.contains("in 1 of 3 targets: fleetp_2"),
        "{}",
        out.stdout
    );
}

#[test]
fn shards_check_every_target_once_merge_into_the_single_runs_report_and_junit_has_a_case_per_target(
) {
    let c = pg17();
    let (reference, names) = tenants("fleets", 5);
    c.execute(&names[2], "DROP INDEX orders_customer_id_idx")
        .unwrap();
    let targets = names.iter().map(|n| c.url(n)).collect::<Vec<_>>().join(",");
    let mut seen = Vec::new();
    for k in 1..=3 {
        let r = pgp("fleet")
            .opt("--reference", c.url(&reference))
            .opt("--targets", &targets)
            .arg("--no-profile")
            .opt("--shard", format!("{k}/3"))
            .opt("--format", "json")
            .run();
        assert!(r.status <= 1, "{}", r.stderr);
        let j = r.json();
        assert_eq!(j["shard"], format!("{k}/3"));
        for t in j["targets"].as_array().unwrap() {
            seen.push(t["name"].as_str().unwrap().to_string());
        }
    }
    seen.sort();
    assert_eq!(seen, names, "every target exactly once");

    // Three processes at once keep their shards in one history database under one run id;
    // the merged report is the single process's (capture times aside).
    let history = c.url(&fresh_db(c, "fleethist"));
    let shard_run = |k: usize| {
        pgp("fleet")
            .opt("--reference", c.url(&reference))
            .opt("--targets", &targets)
            .arg("--no-profile")
            .opt("--shard", format!("{k}/3"))
            .opt("--history", &history)
            .opt("--run-id", "nightly-42")
            .opt("--format", "json")
            .run()
    };
    let line = pgp("fleet")
        .arg("report")
        .opt("--run", "nightly-42")
        .opt("--from", &history)
        .run()
        .error();
    assert!(line.contains("no fleet run 'nightly-42'"), "{line}");
    shard_run(2);
    let line = pgp("fleet")
        .arg("report")
        .opt("--run", "nightly-42")
        .opt("--from", &history)
        .run()
        .error();
    assert!(line.contains("shard 1/3, 3/3 not kept yet"), "{line}");
    std::thread::scope(|s| {
        let runs: Vec<_> = (1..=3).map(|k| s.spawn(move || shard_run(k))).collect();
        for r in runs {
            let r = r.join().unwrap();
            assert!(r.status <= 1, "{}", r.stderr);
            assert!(
                r.stderr.contains("kept fleet run nightly-42"),
                "{}",
                r.stderr
            );
        }
    });
    let merged = pgp("fleet")
        .arg("report")
        .opt("--run", "nightly-42")
        .opt("--from", &history)
        .opt("--format", "json")
        .run()
        .code(1)
        .json();
    let single = pgp("fleet")
        .opt("--reference", c.url(&reference))
        .opt("--targets", &targets)
        .arg("--no-profile")
        .opt("--format", "json")
        .run()
        .code(1)
        .json();
    let timeless = |mut r: serde_json::Value| {
        r["reference"]["captured_at"] = serde_json::Value::Null;
        for t in r["targets"].as_array_mut().unwrap() {
            t["side"]["captured_at"] = serde_json::Value::Null;
        }
        r
    };
    assert_eq!(timeless(merged), timeless(single));
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("fleet.xml");
    pgp("fleet")
        .opt("--reference", c.url(&reference))
        .opt("--targets", &targets)
        .arg("--no-profile")
        .opt("--format", "junit")
        .opt("--output", &xml)
        .run()
        .code(1);
    let x = std::fs::read_to_string(&xml).unwrap();
    assert_eq!(x.matches("<testsuite ").count(), 5, "{x}");
    assert_eq!(x.matches("<failure").count(), 1, "{x}");
    assert!(x.contains("name=\"pgparity.fleet.fleets_2\""), "{x}");
    assert_eq!(x.matches("name=\"captured\"").count(), 5, "{x}");
}

#[test]
fn fleet_bad_input_is_one_line_and_exit_2() {
    let c = pg17();
    let db = fresh_db(c, "fleetbad");
    let url = c.url(&db);
    let line = pgp("fleet")
        .opt("--reference", &url)
        .opt("--targets-from", "tenants please")
        .run()
        .error();
    assert!(line.contains("neither a file nor a query"), "{line}");
    let line = pgp("fleet")
        .opt("--reference", &url)
        .opt(
            "--targets-from",
            "SELECT datname FROM pg_database WHERE false",
        )
        .run()
        .error();
    assert!(line.contains("returned no target"), "{line}");
    let line = pgp("fleet")
        .opt("--reference", &url)
        .opt("--targets-from", "SELECT nope FROM nowhere")
        .run()
        .error();
    assert!(line.contains("the targets query failed"), "{line}");
    let line = pgp("fleet")
        .opt("--reference", &url)
        .opt("--targets", format!("{url},{url}"))
        .run()
        .error();
    assert!(line.contains("two targets are named"), "{line}");
    let line = pgp("fleet").opt("--reference", &url).run().error();
    assert!(line.contains("no target"), "{line}");
    let line = pgp("fleet")
        .opt("--reference", c.url("fleet_no_such_reference"))
        .opt("--targets", &url)
        .run()
        .error();
    assert!(line.contains("fleet_no_such_reference"), "{line}");
    let line = pgp("fleet")
        .opt("--reference", &url)
        .opt("--schemas-like", "t%")
        .opt("--reference-schema", "nope")
        .run()
        .error();
    assert!(line.contains("no schema nope"), "{line}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets.toml");
    std::fs::write(&file, "tragets = [\"a\"]\n").unwrap();
    let line = pgp("fleet")
        .opt("--reference", &url)
        .opt("--targets-from", &file)
        .run()
        .error();
    assert!(line.contains("not a targets file"), "{line}");
    for bad in ["0/3", "4/3", "x"] {
        let line = pgp("fleet")
            .opt("--reference", &url)
            .opt("--targets", &url)
            .opt("--shard", bad)
            .run()
            .error();
        assert!(line.contains("K/N"), "{line}");
    }
}

/// Every href of the site's pages names a file of the site.
fn links_resolve(root: &std::path::Path) -> usize {
    let mut checked = 0;
    let mut pages = vec![root.join("index.html")];
    let mut seen = BTreeSet::new();
    while let Some(page) = pages.pop() {
        if !seen.insert(page.clone()) {
            continue;
        }
        let html =
            std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
        for href in html
            .split("href=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
        {
            let path = href.split('#').next().unwrap();
            assert!(
                !href.contains("://"),
                "{}: absolute link {href}",
                page.display()
            );
            let target = page.parent().unwrap().join(path);
            assert!(target.is_file(), "{}: {href} names no file", page.display());
            checked += 1;
            pages.push(target.canonicalize().unwrap());
        }
    }
    checked
}

#[test]
fn a_history_site_shows_every_pair_its_trend_and_what_each_run_opened() {
    let c = pg17();
    let (reference, names) = tenants("fleetsite", 3);
    let history = c.url(&fresh_db(c, "fleetsitehist"));
    let targets = names.iter().map(|n| c.url(n)).collect::<Vec<_>>().join(",");
    let fleet = |run: &str, shard: &str| {
        pgp("fleet")
            .opt("--reference", c.url(&reference))
            .opt("--targets", &targets)
            .arg("--no-profile")
            .opt("--history", &history)
            .opt("--run-id", run)
            .opt("--shard", shard)
            .run()
    };
    assert_eq!(fleet("night-1", "1/1").status, 0);
    c.execute(&names[1], "DROP INDEX orders_customer_id_idx")
        .unwrap();
    for shard in ["1/2", "2/2"] {
        assert!(fleet("night-2", shard).status <= 1);
    }
    // A run left incomplete (one shard of two) is not on the site.
    assert!(fleet("night-3", "1/2").status <= 1);
    // A check of two environments into the same history.
    pgp("check")
        .opt("--left", c.url(&names[2]))
        .opt("--right", c.url(&reference))
        .arg("--no-profile")
        .opt("--history", &history)
        .run()
        .ok();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("site");
    let done = pgp("history")
        .arg("site")
        .opt("--from", &history)
        .opt("--output", &out)
        .run()
        .ok();
    assert!(
        done.stderr
            .contains("of 4 pairs (2 fleet runs, 1 check runs)"),
        "{}",
        done.stderr
    );
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    for n in &names {
        assert!(index.contains(n.as_str()), "{n} on the index");
    }
    assert_eq!(index.matches(r#"<svg class="spark""#).count(), 4);
    // The tenant that lost its index: first on the index, and its page says night-2 opened it.
    let first_row = index.split("<tbody>").nth(1).unwrap();
    assert!(
        first_row.find("fleetsite_1") < first_row.find("fleetsite_0"),
        "the drifted tenant first"
    );
    let slug = pgparity::report::site::slug(&["fleet", &reference, "fleetsite_1"]);
    let page = std::fs::read_to_string(out.join(format!("pairs/{slug}.html"))).unwrap();
    let night2 = page
        .split(">night-2<")
        .nth(1)
        .unwrap_or_else(|| panic!("{page}"));
    assert!(
        night2
            .split("</tr>")
            .next()
            .unwrap()
            .contains(r#"<ul class="opened">"#)
            && night2.contains("schema:public.orders_customer_id_idx:missing"),
        "{page}"
    );
    assert!(
        !index.contains("night-3")
            && !out.join("runs").read_dir().unwrap().any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("night-3"))
    );
    let links = links_resolve(&out);
    assert!(links > 10, "{links} links");
    // Opened from a file:// URL in Chromium: nothing refused, nothing fetched.
    let (dom, log) = crate::reports::chrome(&["--dump-dom"], &out.join("index.html"));
    assert!(dom.contains("fleetsite_1"), "{dom:.400}");
    crate::reports::no_console_errors(&log);
    crate::reports::screenshot(
        &out.join("index.html"),
        &crate::reports::artifacts().join("history-site.png"),
        "1280,900",
    );
}

#[test]
fn targets_from_a_file_and_snapshot_files_with_names_of_their_own() {
    let c = pg17();
    let (reference, names) = tenants("fleetf", 3);
    c.execute(&names[2], "DROP INDEX orders_customer_id_idx")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // One tenant as a snapshot file taken earlier.
    let snap = dir.path().join("fleetf_0.json");
    pgp("snapshot")
        .opt("--url", c.url(&names[0]))
        .arg("--no-profile")
        .opt("--output", &snap)
        .run()
        .ok();
    let file = dir.path().join("targets.toml");
    std::fs::write(
        &file,
        format!(
            "targets = [{:?}]\n\n[[target]]\nname = \"eu-west\"\nurl = {:?}\n\n[[target]]\nname = \"us-east\"\nurl = {:?}\n",
            snap.display().to_string(),
            c.url(&names[1]),
            c.url(&names[2])
        ),
    )
    .unwrap();
    let r = pgp("fleet")
        .opt("--reference", c.url(&reference))
        .opt("--targets-from", &file)
        .arg("--no-profile")
        .opt("--format", "json")
        .run()
        .code(1)
        .json();
    let names = target_names(&r);
    assert_eq!(
        names,
        BTreeSet::from([snap.to_str().unwrap(), "eu-west", "us-east"])
    );
    let idx = difference(&r, "schema:public.orders_customer_id_idx:missing");
    assert_eq!(cell_targets(idx), vec!["us-east"]);
    let file_side = r["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == snap.to_str().unwrap())
        .unwrap();
    assert_eq!(file_side["side"]["source"], snap.to_str().unwrap());
    assert_eq!(file_side["distance"], 0, "{file_side:#}");
}

/// The zoo (every type family, partitions on two levels, inheritance, odd identifiers) as a
/// fleet reached the ways production is: the same zoo on another cluster directly and through
/// PgBouncer in transaction mode (nothing found but the reference's standby), on PostgreSQL 15
/// (only version and settings),
/// and a streaming standby of the reference (only topology). With the data profile.
#[test]
fn the_zoo_as_a_fleet_through_pgbouncer_on_two_majors_and_a_standby() {
    use pgparity::cluster::{Cluster, ClusterOptions, Install, PoolMode, Pooler};
    const ZOO: &str = include_str!("../fixtures/zoo.sql");
    let install = Install::find(17).unwrap_or_else(|e| panic!("{e}"));
    let primary = Cluster::start(&install, &ClusterOptions::default()).unwrap();
    primary.execute("postgres", "CREATE DATABASE zoo").unwrap();
    primary.execute("zoo", ZOO).unwrap();
    let standby = primary.start_standby(&ClusterOptions::default()).unwrap();
    let (twin, old) = (fresh_db(pg17b(), "fleetzoo"), fresh_db(pg15(), "fleetzoo"));
    pg17b().execute(&twin, ZOO).unwrap();
    pg15().execute(&old, ZOO).unwrap();
    let pooled = fresh_db(pg17b(), "fleetzoo");
    pg17b().execute(&pooled, ZOO).unwrap();
    let pooler = Pooler::start(pg17b(), PoolMode::Transaction, 2).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets.toml");
    std::fs::write(
        &file,
        format!(
            "[[target]]\nname = \"twin\"\nurl = {:?}\n\n[[target]]\nname = \"pgbouncer\"\nurl = {:?}\n\n[[target]]\nname = \"pg15\"\nurl = {:?}\n\n[[target]]\nname = \"standby\"\nurl = {:?}\n",
            pg17b().url(&twin),
            pooler.url(&pooled),
            pg15().url(&old),
            standby.url("zoo"),
        ),
    )
    .unwrap();
    let r = pgp("fleet")
        .opt("--reference", primary.url("zoo"))
        .opt("--targets-from", &file)
        .arg("--exact")
        .opt("--format", "json")
        .run();
    assert!(r.status <= 1, "{}", r.stderr);
    let r = r.json();
    let by_target = |name: &str| -> Vec<(String, String)> {
        r["differences"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| cell_targets(d).iter().any(|t| t == name))
            .map(|d| {
                (
                    d["category"].as_str().unwrap().to_string(),
                    d["id"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    // The reference has a standby, the twins have none: that, and nothing else.
    for name in ["twin", "pgbouncer"] {
        let found: Vec<String> = by_target(name).into_iter().map(|(_, id)| id).collect();
        assert_eq!(found, ["topology:standbys"], "{name}");
    }
    let old_noise: Vec<(String, String)> = by_target("pg15")
        .into_iter()
        .filter(|(c, id)| c != "version" && c != "setting" && id != "topology:standbys")
        .collect();
    assert!(old_noise.is_empty(), "pg15: {old_noise:#?}");
    assert!(!by_target("pg15").is_empty(), "the major is said");
    let standby_noise: Vec<(String, String)> = by_target("standby")
        .into_iter()
        .filter(|(c, _)| c != "topology")
        .collect();
    assert!(standby_noise.is_empty(), "standby: {standby_noise:#?}");
    assert!(
        by_target("standby")
            .iter()
            .any(|(_, id)| id == "topology:server:role"),
        "{:#?}",
        by_target("standby")
    );
    assert!(
        r["targets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["error"].is_null()),
        "{:#}",
        r["targets"]
    );
    drop(pooler);
    standby.stop();
    primary.stop();
}
