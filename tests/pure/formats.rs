//! Every report format rendered from one fixture report and compared with its recorded text
//! in `tests/pure/snapshots/` (insta). A deliberate change to a format is accepted with
//! `INSTA_UPDATE=always cargo test --test pure` (or `cargo insta review`) and reviewed in the
//! diff; in CI (`CI=true`) a mismatch fails.

use pgparity::policy::Acceptance;
use pgparity::report::{render, Format, Report};
use pgparity::snapshot::ValueKind;

use crate::builder::*;

/// Staging on 15 against production on 17: a missing index, a nullable column, settings,
/// a standby, 250× the rows, NULLs and emoji only in production, a plan that changed; one
/// difference accepted by the policy, one acceptance that matches nothing.
fn fixture() -> Report {
    let staging = shop("staging", "15.8")
        .setting("random_page_cost", "4")
        .column("public.customers", "email", |c| c.not_null = false)
        .profile("public.orders", 20)
        .measured("public.orders", "note", ValueKind::Text, 0, |c| {
            c.distinct = Some(exact(20.0));
            c.length_chars = quantiles(1.0, 100.0);
            c.length_bytes = quantiles(1.0, 100.0);
            c.classes = [("ascii".to_string(), 20)].into();
        })
        .plan(
            "recent.sql",
            "SELECT * FROM orders WHERE customer_id = 42",
            scan("public.orders", None, 5.0, 90.0),
        );
    let mut staging = staging;
    staging
        .0
        .schema
        .indexes
        .remove("public.orders_customer_id_idx");
    let production = shop("production", "17.2")
        .setting("random_page_cost", "1.1")
        .setting("work_mem", "65536")
        .standby("sync")
        .stats("public.orders", 5_000_000.0, true);
    let policy = vec![
        Acceptance {
            id: "topology:standbys".into(),
            reason: "staging has no replica; reads are not routed there".into(),
            left: None,
            right: None,
            expires: Some("2027-06-30".into()),
            ..Default::default()
        },
        Acceptance {
            id: "setting:enable_*".into(),
            reason: "left over from an old experiment".into(),
            left: None,
            right: None,
            expires: None,
            ..Default::default()
        },
    ];
    let gate = pgparity::run::Gate {
        policy,
        ..pgparity::run::Gate::new(chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap())
    };
    let mut r = pgparity::run::build_report(
        &staging.build(),
        &production.build(),
        ("staging.json", "production.json"),
        &gate,
    );
    // How the sides were built, as a rehearsal says it.
    r.setup = vec![
        "PostgreSQL 15 and PostgreSQL 17 as throwaway clusters".into(),
        "5,020 rows seeded into 2 tables on each side (seed 1, scale 1) <same bytes>".into(),
    ];
    // A history: the volume gap's line over three runs, and a change in production itself.
    r.history = Some(pgparity::history::History {
        previous: Some("2026-11-30T02:00:00+00:00".into()),
        trend: vec![
            ("2026-11-29T02:00:00+00:00".into(), [1, 4, 3, 0, 0]),
            ("2026-11-30T02:00:00+00:00".into(), [2, 5, 3, 0, 0]),
        ],
        series: [(
            "volume:public.orders".to_string(),
            ["29", "30", "01"]
                .iter()
                .zip([4.0e6, 4.5e6, 5.0e6])
                .map(|(d, right)| pgparity::history::Point {
                    at: format!("2026-11-{d}T02:00:00+00:00"),
                    left: Some(20.0),
                    right: Some(right),
                })
                .collect(),
        )]
        .into(),
        changed: vec![pgparity::history::Change {
            object: "public.orders".into(),
            figure: "rows".into(),
            before: "1,000–1,100".into(),
            now: "5,000,000".into(),
            message: "public.orders jumped to 5,000,000 rows in production, outside its range over the last 2 runs (1,000–1,100)".into(),
        }],
        ..Default::default()
    });
    // A rehearsal's timed runs of the query whose plan changed.
    r.details.insert(
        "plan:query:recent.sql:shape".into(),
        pgparity::report::Detail::Timings {
            left: vec![(10.0, 100.0), (12.5, 110.0), (11.0, 100.0)],
            right: vec![(30.0, 400.0), (33.0, 400.0), (31.5, 420.0)],
        },
    );
    r
}

#[test]
fn a_history_shows_each_gaps_line_and_what_changed_in_production() {
    let r = fixture();
    let html = render(&r, Format::Html, false);
    let line = html
        .split("<svg")
        .find(|s| s.contains("public.orders: over the last 3 runs"))
        .expect("the volume gap's line");
    assert_eq!(line.matches("<circle").count(), 6, "{line}");
    assert!(
        line.contains("production 2026-11-01T02:00:00+00:00: 5.0M"),
        "{line}"
    );
    assert!(html.contains("Changed in production since the previous runs (1)"));
    let md = render(&r, Format::Markdown, false);
    assert!(md.contains("**Changed in production since the previous runs**\n- public.orders jumped to 5,000,000 rows"), "{md}");
    let text = render(&r, Format::Text, false);
    assert!(
        text.contains("changed in production: public.orders jumped"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&render(&r, Format::Json, false)).unwrap();
    assert_eq!(
        json["history"]["series"]["volume:public.orders"][2]["right"],
        5.0e6
    );
    assert_eq!(json["history"]["changed"][0]["figure"], "rows");
}

#[test]
fn html_draws_every_timed_run_with_the_medians() {
    let html = render(&fixture(), Format::Html, false);
    let chart = html
        .split("<svg")
        .find(|s| s.contains("execution time of each run"))
        .expect("a chart of the timed runs");
    assert_eq!(chart.matches("<circle").count(), 6, "{chart}");
    for run in ["run 2: 12.50 ms", "run 2: 33.00 ms"] {
        assert!(chart.contains(run), "{run} in {chart}");
    }
    assert!(
        chart.contains("median 11.00 ms") && chart.contains("median 31.50 ms"),
        "{chart}"
    );
    assert!(html.contains("buffers</title>"));
}

#[test]
fn the_fixture_covers_what_the_formats_show() {
    let r = fixture();
    let ids: Vec<&str> = r.findings.iter().map(|e| e.finding.id.as_str()).collect();
    for id in [
        "version:server:version",
        "schema:public.orders_customer_id_idx:missing",
        "setting:random_page_cost",
        "topology:standbys",
        "volume:public.orders",
        "plan:query:recent.sql:shape",
    ] {
        assert!(ids.contains(&id), "{id} not in {ids:?}");
    }
    assert!(r
        .findings
        .iter()
        .any(|e| e.status == pgparity::policy::Status::Accepted));
    assert_eq!(r.unused_acceptances.len(), 1);
    assert!(r.failed());
}

#[test]
fn text() {
    insta::assert_snapshot!(render(&fixture(), Format::Text, false));
}

#[test]
fn json() {
    insta::assert_snapshot!(render(&fixture(), Format::Json, false));
}

#[test]
fn markdown() {
    insta::assert_snapshot!(render(&fixture(), Format::Markdown, false));
}

#[test]
fn html() {
    insta::assert_snapshot!(render(&fixture(), Format::Html, false));
}

#[test]
fn junit() {
    insta::assert_snapshot!(render(&fixture(), Format::Junit, false));
}

#[test]
fn sarif() {
    insta::assert_snapshot!(render(&fixture(), Format::Sarif, false));
}

/// Located at the policy file, as `check --policy` writes it (GitHub shows a result only
/// with a physical location).
#[test]
fn sarif_at_the_policy_file() {
    let text = pgparity::report::sarif::render_at(&fixture(), Some("ci/pgparity-policy.toml"));
    let j: serde_json::Value = serde_json::from_str(&text).unwrap();
    let results = j["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let l = &r["locations"][0];
        assert_eq!(
            l["physicalLocation"]["artifactLocation"]["uri"],
            "ci/pgparity-policy.toml"
        );
        assert!(l["logicalLocations"][0]["fullyQualifiedName"].is_string());
    }
    if let Some(dir) = std::env::var_os("PGPARITY_SARIF_OUT") {
        std::fs::write(std::path::Path::new(&dir).join("fixture.sarif"), &text).unwrap();
    }
}

#[test]
fn github() {
    insta::assert_snapshot!(render(&fixture(), Format::Github, false));
}

/// GitHub shows 10 annotations of a kind per step: the 11th and later failing findings are
/// counted in one notice, most severe first as the report orders them.
#[test]
fn github_annotations_are_capped_per_kind_with_a_notice() {
    let mut r = fixture();
    let failing: Vec<_> = r.failing().cloned().collect();
    assert!(!failing.is_empty());
    let before = r.failing().count();
    for i in 0..25 {
        let mut e = failing[i % failing.len()].clone();
        e.finding.id = format!("{}-copy{i}", e.finding.id);
        r.findings.push(e);
    }
    let text = render(&r, Format::Github, false);
    let errors = text.lines().filter(|l| l.starts_with("::error ")).count();
    assert_eq!(errors, 10, "{text}");
    let notice: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("::notice "))
        .collect();
    assert_eq!(notice.len(), 1, "{text}");
    assert!(
        notice[0].contains(&format!("{} more failing", before + 25 - 10)),
        "{text}"
    );
    // One line per command: a message's newlines are escaped.
    assert!(text.lines().all(|l| l.starts_with("::")), "{text}");
}

#[test]
fn rendering_is_deterministic() {
    for format in [Format::Text, Format::Json, Format::Html, Format::Sarif] {
        assert_eq!(
            render(&fixture(), format, false),
            render(&fixture(), format, false)
        );
    }
}

/// A data finding's chart reads its column from both profiles: the table is the longest
/// profiled name before a dot (names may hold dots, one table's name may start another's).
#[test]
fn a_data_findings_detail_is_its_own_tables_column() {
    use pgparity::finding::{Category, Finding, Severity};
    use pgparity::report::Detail;
    let side = |env: &str, nulls: u64| {
        snap(env, "17.2")
            .profile("public.a", 100)
            .measured("public.a", "b.c", ValueKind::Text, 1, |_| {})
            .profile("public.a.b", 100)
            .measured("public.a.b", "c", ValueKind::Text, nulls, |_| {})
            .profile("public.\"x.y\"", 100)
            .measured("public.\"x.y\"", "z", ValueKind::Text, nulls + 1, |_| {})
            .build()
    };
    let (l, r) = (side("staging", 10), side("production", 20));
    let nulls = |object: &str| {
        let f = Finding::new(Category::Nulls, Severity::High, object, "");
        match Detail::of(&f, &l, &r) {
            Some(Detail::Column {
                left: Some(a),
                right: Some(b),
            }) => (a.nulls, b.nulls),
            _ => panic!("no column detail for {object}"),
        }
    };
    assert_eq!(
        nulls("public.a.b.c"),
        (10, 20),
        "the longest table name wins"
    );
    assert_eq!(nulls("public.\"x.y\".z"), (11, 21));
    let none = Finding::new(Category::Nulls, Severity::High, "public.none.c", "");
    assert!(Detail::of(&none, &l, &r).is_none());
}
