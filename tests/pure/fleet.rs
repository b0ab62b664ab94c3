//! A fleet's report folded from built targets: one difference per id with its targets,
//! targets ranked, policies per target, the baseline round trip, every format recorded; one
//! schema of a database renamed as another compares equal to it.

use base64::Engine as _;
use pgparity::compare::compare;
use pgparity::finding::Severity;
use pgparity::policy::{Acceptance, PolicyFile, Status};
use pgparity::report::fleet::{self, FleetBuilder, FleetReport};
use pgparity::report::SideInfo;
use pgparity::run::Gate;
use sha2::Digest as _;

use crate::builder::*;

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()
}

/// Production against four tenants: one equal, two without the index (one of them with
/// another random_page_cost too), one unreachable.
fn fleet_with(policy: Vec<Acceptance>) -> FleetReport {
    fleet_of(policy, &["t_a", "t_b", "t_c", "t_d"])
}

/// The fleet of [`fleet_with`] over some of its targets only, folded in the order given.
fn fleet_of(policy: Vec<Acceptance>, only: &[&str]) -> FleetReport {
    let reference = shop("production", "17.2").build();
    let gate = Gate {
        policy,
        ..Gate::new(today())
    };
    let info = SideInfo::of("production", &reference, "live");
    let mut b = FleetBuilder::new(info, Severity::Low, Vec::new());
    let without_index = |s: Snap| {
        let mut s = s;
        s.0.schema.indexes.remove("public.orders_customer_id_idx");
        s
    };
    let targets = [
        ("t_a", shop("t_a", "17.2")),
        ("t_b", without_index(shop("t_b", "17.2"))),
        (
            "t_c",
            without_index(shop("t_c", "17.2")).setting("random_page_cost", "1.1"),
        ),
    ];
    let mut targets: Vec<(&str, Snap)> = targets.into_iter().collect();
    targets.sort_by_key(|(n, _)| only.iter().position(|o| o == n));
    for (name, snap) in targets {
        if !only.contains(&name) {
            continue;
        }
        let r = pgparity::run::build_report(&snap.build(), &reference, ("live", "live"), &gate);
        b.add(
            name,
            Some(r.left.clone()),
            None,
            r.findings,
            r.unused_acceptances,
            Vec::new(),
        );
    }
    if !only.contains(&"t_d") {
        return b.finish();
    }
    let error = "environment 't_d': cannot connect to 10.0.0.9:5432: connection refused";
    let (findings, unused) = pgparity::policy::apply(
        vec![FleetBuilder::unreachable("t_d", error)],
        &gate.policy,
        gate.today,
        "t_d",
    );
    b.add(
        "t_d",
        None,
        Some(error.into()),
        findings,
        unused,
        Vec::new(),
    );
    b.finish()
}

#[test]
fn each_difference_once_with_its_targets_and_targets_ranked_by_distance() {
    let r = fleet_with(Vec::new());
    let ranked: Vec<&str> = r.targets.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(ranked, ["t_d", "t_c", "t_b", "t_a"]);
    assert!(r.failed());
    assert_eq!(r.unreachable(), 1);
    let idx = r
        .differences
        .iter()
        .find(|d| d.id == "schema:public.orders_customer_id_idx:missing")
        .unwrap();
    assert_eq!(idx.open, 2);
    let cells: Vec<&str> = idx.cells.iter().map(|c| c.target.as_str()).collect();
    assert_eq!(cells, ["t_c", "t_b"], "in the targets' order");
    assert_eq!(
        r.differences[0].id,
        fleet::UNREACHABLE,
        "the most severe first"
    );
    assert_eq!(FleetReport::names(idx, 1), "t_c and 1 more");
    assert_eq!(r.targets[3].distance, 0);
    assert!(r.targets[1].distance > r.targets[2].distance);
}

/// The index accepted in t_b only, and an entry that matches nothing anywhere.
fn t_b_rebuilt() -> Vec<Acceptance> {
    vec![
        Acceptance {
            id: "schema:public.orders_customer_id_idx:missing".into(),
            reason: "t_b is being rebuilt".into(),
            targets: Some(vec!["t_b".into()]),
            ..Default::default()
        },
        Acceptance {
            id: "setting:enable_*".into(),
            reason: "matches nothing anywhere".into(),
            ..Default::default()
        },
    ]
}

#[test]
fn an_acceptance_naming_targets_holds_only_for_them() {
    let r = fleet_with(t_b_rebuilt());
    let idx = r
        .differences
        .iter()
        .find(|d| d.id == "schema:public.orders_customer_id_idx:missing")
        .unwrap();
    let statuses: Vec<(&str, Status)> = idx
        .cells
        .iter()
        .map(|c| (c.target.as_str(), c.status))
        .collect();
    assert_eq!(statuses, [("t_c", Status::Open), ("t_b", Status::Accepted)]);
    assert_eq!(idx.open, 1);
    assert_eq!(r.unused_acceptances, ["setting:enable_*"]);
}

#[test]
fn a_fleet_baseline_accepts_every_difference_where_it_is_and_nowhere_else() {
    let r = fleet_with(Vec::new());
    let text = r.baseline(today());
    let file: PolicyFile = toml::from_str(&text).unwrap();
    let idx: Vec<&Acceptance> = file
        .accept
        .iter()
        .filter(|a| a.id == "schema:public.orders_customer_id_idx:missing")
        .collect();
    assert_eq!(idx.len(), 1, "{text}");
    assert_eq!(idx[0].targets, Some(vec!["t_c".into(), "t_b".into()]));
    let again = fleet_with(file.accept.clone());
    assert!(!again.failed(), "{}", fleet::render_text(&again));
    assert!(again.unused_acceptances.is_empty());
}

#[test]
fn fleet_formats() {
    let r = fleet_with(Vec::new());
    // Capture times and hosts are the builder's; the rest is recorded whole.
    insta::assert_snapshot!("fleet_text", fleet::render_text(&r));
    insta::assert_snapshot!("fleet_markdown", fleet::render_markdown(&r));
    insta::assert_snapshot!("fleet_junit", fleet::render_junit(&r));
    insta::assert_snapshot!("fleet_json", r.render_json());
    // The JSON reads back as the report.
    let back: FleetReport = serde_json::from_str(&r.render_json()).unwrap();
    assert_eq!(back, r);
}

#[test]
fn the_matrix_page_allows_its_one_script_by_its_hash_and_fetches_nothing() {
    let r = fleet_with(Vec::new());
    let page = fleet::render_html(&r);
    assert_eq!(page.matches("<script>").count(), 1);
    let script = page
        .split("<script>")
        .nth(1)
        .and_then(|s| s.split("</script>").next())
        .unwrap();
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script));
    assert!(
        page.contains(&format!("script-src 'sha256-{hash}'")),
        "the CSP allows the script by its hash"
    );
    assert!(page.contains("default-src 'none'"));
    assert_eq!(page.matches(r#"<th class="t""#).count(), 4);
    // Unreachable first: its row's first target cell is critical.
    assert!(page.contains(r#"<td class="c s4" data-v="4" title="t_d: critical (open)"#));
    for needle in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!page.contains(needle), "external reference {needle}");
    }
}

#[test]
fn one_schema_renamed_as_another_compares_equal_to_it() {
    let tenant = |s: &str| -> Vec<(String, Vec<(&'static str, &'static str)>)> {
        vec![
            (
                format!("{s}.customers"),
                vec![("id", "bigint not null"), ("name", "text")],
            ),
            (
                format!("{s}.orders"),
                vec![("id", "bigint not null"), ("customer_id", "bigint")],
            ),
        ]
    };
    let mut db = snap("db", "17.2");
    for s in ["tpl", "t_1", "\"T 2\""] {
        for (t, cols) in tenant(s) {
            db = db.table(&t, &cols);
        }
        db = db
            .primary_key(&format!("{s}.customers"), "id")
            .foreign_key(
                &format!("{s}.orders"),
                "customer_id",
                &format!("{s}.customers"),
                "id",
            )
            .index(
                &format!("{s}.orders_customer_id_idx"),
                &format!("{s}.orders"),
                "customer_id",
            );
    }
    let db = db.build();
    assert_eq!(db.schemas_like("t%"), ["t_1", "tpl"]);
    assert_eq!(db.schemas_like("T%"), ["T 2"]);
    let reference = db.tenant("tpl", "tpl").unwrap();
    assert_eq!(reference.schema.tables.len(), 2, "only the schema's own");
    for t in ["t_1", "T 2"] {
        let part = db.tenant(t, "tpl").unwrap();
        assert_eq!(
            part.schema.tables.keys().collect::<Vec<_>>(),
            ["tpl.customers", "tpl.orders"]
        );
        assert!(part.schema.indexes["tpl.orders_customer_id_idx"]
            .definition
            .contains("ON tpl.orders"));
        let f = compare(&part, &reference);
        assert!(f.is_empty(), "{t}: {f:#?}");
    }
}

#[test]
fn shards_merged_are_the_run_over_all_their_targets_whatever_the_order() {
    let policy = t_b_rebuilt;
    let whole = fleet_of(policy(), &["t_a", "t_b", "t_c", "t_d"]);
    // Targets ending in another order give the same report (the wording is the first
    // target's in rank order, not the first to end).
    assert_eq!(fleet_of(policy(), &["t_d", "t_c", "t_b", "t_a"]), whole);
    let shards = vec![
        fleet_of(policy(), &["t_b", "t_d"]),
        fleet_of(policy(), &["t_c"]),
        fleet_of(policy(), &["t_a"]),
    ];
    let merged = FleetReport::merge(shards).unwrap();
    assert_eq!(merged, whole);
    assert_eq!(merged.unused_acceptances, ["setting:enable_*"]);
    // Through JSON, as shards are kept.
    let kept: Vec<FleetReport> = [&["t_c", "t_a"][..], &["t_d", "t_b"][..]]
        .iter()
        .map(|only| serde_json::from_str(&fleet_of(policy(), only).render_json()).unwrap())
        .collect();
    assert_eq!(FleetReport::merge(kept).unwrap(), whole);
}
