//! Report rendering at scale: a synthetic report of 5,000 findings (data findings with their
//! measurements, plan findings with both trees, environment findings), rendered as HTML and,
//! for reference, as JSON in the same run:
//!
//!   cargo bench --bench report
//!
//! Prints the HTML time (goal < 2 s) and size (goal < 10 MB), and the ratio to the JSON
//! rendering of the same report. Under `cargo test` it runs the same and checks the size.

use std::collections::BTreeMap;
use std::time::Instant;

use pgparity::finding::{Category, Cause, Finding, Severity};
use pgparity::policy::{Evaluated, Status};
use pgparity::report::{Detail, Report, SideInfo};
use pgparity::snapshot::plan::{PlanNode, PlanPair};
use pgparity::snapshot::{ColumnProfile, QUANTILES};

fn side(name: &str) -> SideInfo {
    SideInfo {
        name: name.into(),
        server_version: "17.10".into(),
        target: format!("app@{name}:5432/app"),
        database: "app".into(),
        captured_at: "2026-11-26T00:00:00Z".into(),
        source: "live".into(),
    }
}

fn plan(depth: usize, i: usize) -> PlanNode {
    PlanNode {
        node_type: if depth == 0 {
            "Seq Scan"
        } else if i.is_multiple_of(2) {
            "Hash Join"
        } else {
            "Nested Loop"
        }
        .into(),
        relation: (depth == 0).then(|| format!("public.t{i}")),
        index: None,
        join_type: (depth > 0).then(|| "Inner".into()),
        strategy: None,
        rows: 1000.0 * (i + 1) as f64,
        cost: 10.0 * (i + depth) as f64,
        actual_rows: None,
        subplan: false,
        children: if depth == 0 {
            Vec::new()
        } else {
            vec![plan(depth - 1, i), plan(depth - 1, i + 1)]
        },
    }
}

fn column(shift: f64) -> ColumnProfile {
    ColumnProfile {
        kind: pgparity::snapshot::ValueKind::Text,
        rows: 10_000,
        nulls: 100,
        quantiles: QUANTILES.iter().map(|q| q * 1000.0 + shift).collect(),
        length_chars: QUANTILES
            .iter()
            .map(|q| 1.0 + q * 80.0 + shift / 100.0)
            .collect(),
        classes: [("ascii_only", 9000u64), ("emoji", 300), ("rtl", 200)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        ..Default::default()
    }
}

fn main() {
    let n = 5000;
    let mut findings = Vec::with_capacity(n);
    let mut details = BTreeMap::new();
    let cats = [
        Category::Setting,
        Category::Schema,
        Category::Encoding,
        Category::Distribution,
        Category::Plan,
    ];
    for i in 0..n {
        let cat = cats[i % cats.len()];
        let mut f = Finding::new(
            cat,
            Severity::ALL[i % 5],
            format!("public.table{}.column{}", i / 7, i % 7),
            &format!("aspect{i}"),
        )
        .values(
            Some(format!("left value {i}")),
            Some(format!("right value {i}")),
        )
        .message(format!(
            "finding number {i} differs between staging and production in some way worth reading"
        ))
        .why("because differences like this one hide bugs that only production shows")
        .hint("do something about it in staging");
        if cat == Category::Plan {
            f.causes = vec![Cause {
                kind: pgparity::finding::CauseKind::Data,
                evidence: "sizes differ".into(),
                links: vec![format!("volume:public.t{i}")],
            }];
            f.plans = Some(Box::new(PlanPair {
                left: Some(plan(4, i)),
                right: Some(plan(4, i + 1)),
            }));
        }
        if matches!(cat, Category::Encoding | Category::Distribution) {
            details.insert(
                f.id.clone(),
                Detail::Column {
                    left: Some(Box::new(column(0.0))),
                    right: Some(Box::new(column(100.0))),
                },
            );
        }
        findings.push(Evaluated {
            finding: f,
            status: Status::Open,
            acceptance: None,
            stale: None,
        });
    }
    let report = Report {
        left: side("staging"),
        right: side("production"),
        fail_on: Severity::Low,
        findings,
        problems: Vec::new(),
        unused_acceptances: Vec::new(),
        details,
        volumes: (0..400)
            .map(|t| {
                (
                    format!("public.table{t}"),
                    Some(t as f64 * 10.0),
                    Some(t as f64 * 1000.0),
                )
            })
            .collect(),
        history: None,
        setup: Vec::new(),
    };
    let started = Instant::now();
    let json = pgparity::report::render_json(&report);
    let json_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let html = pgparity::report::render_html(&report);
    let html_secs = started.elapsed().as_secs_f64();
    println!(
        "HTML report of {n} findings: {:.0} ms, {:.1} MB (goals < 2 s, < 10 MB); JSON of the same {:.0} ms, {:.1} MB; HTML/JSON time {:.2}",
        html_secs * 1000.0,
        html.len() as f64 / 1e6,
        json_secs * 1000.0,
        json.len() as f64 / 1e6,
        html_secs / json_secs.max(1e-9)
    );
    assert!(
        html.len() < 10_000_000,
        "the HTML report is {} bytes",
        html.len()
    );
}
