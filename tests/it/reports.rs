//! Reports people read: the demo's HTML report opened in headless Chromium (no console error,
//! no network request, the planted findings on the page, a screenshot kept),
//! JUnit XML valid against the schema CI systems read, SARIF, a large report.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

fn chromium() -> PathBuf {
    for c in [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ] {
        if Path::new(c).exists() {
            return PathBuf::from(c);
        }
    }
    panic!("headless Chromium is needed for the HTML report tests; hint: apt-get install chromium (scripts/test.sh does)");
}

/// Where tests leave artifacts a CI run can keep.
pub(crate) fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(crate) fn chrome(args: &[&str], page: &Path) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--enable-logging=stderr",
            "--v=0",
            &format!("--user-data-dir={}", profile.path().display()),
        ])
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// No console message, no refused or failed request in Chromium's log.
pub(crate) fn no_console_errors(log: &str) {
    let console: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Refused to") || l.contains("net::ERR"))
        .collect();
    assert!(
        console.is_empty(),
        "console errors or blocked requests: {console:#?}"
    );
}

/// A screenshot of `page` at `size` (`W,H`) into `shot`, which must have content.
pub(crate) fn screenshot(page: &Path, shot: &Path, size: &str) {
    let _ = std::fs::remove_file(shot);
    let (_, log) = chrome(
        &[
            &format!("--window-size={size}"),
            "--hide-scrollbars",
            &format!("--screenshot={}", shot.display()),
        ],
        page,
    );
    let bytes = std::fs::metadata(shot).map(|m| m.len()).unwrap_or(0);
    assert!(bytes > 20_000, "no screenshot ({bytes} bytes): {log}");
}

#[test]
fn the_demo_html_report_renders_offline_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("demo.html");
    let (code, _, err) = run(&["demo", "--format", "json", "--html", html.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("wrote the HTML report: "), "{err}");
    let page = std::fs::read_to_string(&html).unwrap();
    // Self-contained: no script, no external reference of any kind.
    assert!(!page.contains("<script"), "no script");
    for needle in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!page.contains(needle), "external reference {needle}");
    }
    assert!(page.contains("Content-Security-Policy"));
    // The planted findings, their plots and the plans side by side.
    for id in [
        "setting:random_page_cost",
        "schema:public.orders_customer_id_idx:missing",
        "encoding:public.customers.name:emoji",
        "relationship:public.orders(customer_id)-&gt;public.customers:fanout",
        "plan:query:demo/orders_of_customer.sql:shape",
    ] {
        assert!(page.contains(id), "page lacks {id}");
    }
    assert!(page.contains("children per parent") && page.contains("character classes"));
    assert!(
        page.contains(r#"class="node diff""#),
        "differing plan nodes marked"
    );

    let (dom, log) = chrome(&["--dump-dom"], &html);
    assert!(
        dom.contains("random_page_cost") && dom.contains("<svg"),
        "{dom:.300}"
    );
    no_console_errors(&log);
    let shot = artifacts().join("demo-report.png");
    screenshot(&html, &shot, "1280,3000");
}

/// JUnit XML validates against the schema CI systems read; SARIF has its shape.
#[test]
fn junit_and_sarif_outputs() {
    let c = pg17();
    let (a, b) = (fresh_db(c, "ci"), fresh_db(c, "ci"));
    c.execute(
        &b,
        "CREATE TABLE only_b (id int); CREATE INDEX ON only_b (id)",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "[[accept]]\nid = \"schema:public.only_b_id_idx:missing\"\nreason = \"index comes with the table\"\n").unwrap();
    let xml = dir.path().join("parity.xml");
    let (code, _, err) = run(&[
        "check",
        "--left",
        &c.url(&a),
        "--right",
        &c.url(&b),
        "--no-profile",
        "--format",
        "junit",
        "--policy",
        policy.to_str().unwrap(),
        "--output",
        xml.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/junit.xsd");
    let v = Command::new("xmllint")
        .args(["--noout", "--schema", schema.to_str().unwrap(), xml.to_str().unwrap()])
        .output()
        .unwrap_or_else(|e| panic!("xmllint is needed: {e}; hint: apt-get install libxml2-utils (scripts/test.sh does)"));
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    let text = std::fs::read_to_string(&xml).unwrap();
    assert!(
        text.contains(
            r#"<testcase name="schema:public.only_b:missing" classname="pgparity.schema">"#
        ),
        "{text}"
    );
    assert!(text.contains("<failure"), "{text}");
    assert!(
        text.contains("accepted: index comes with the table"),
        "{text}"
    );
    let (code, out, _) = run(&[
        "check",
        "--left",
        &c.url(&a),
        "--right",
        &c.url(&b),
        "--no-profile",
        "--format",
        "sarif",
    ]);
    assert_eq!(code, 1);
    let s: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(s["version"], "2.1.0");
    let results = s["runs"][0]["results"].as_array().unwrap();
    assert!(results
        .iter()
        .any(
            |r| r["partialFingerprints"]["pgparityFindingId"] == "schema:public.only_b:missing"
                && r["level"] == "error"
        ));
    // Nothing different: one passing case.
    let (code, out, _) = run(&[
        "check",
        "--left",
        &c.url(&a),
        "--right",
        &c.url(&a),
        "--no-profile",
        "--format",
        "junit",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains(r#"tests="1""#) && out.contains("no differences"),
        "{out}"
    );
}

/// A fleet of 200 tenant schemas as the HTML matrix: its one script runs under the page's
/// Content-Security-Policy (allowed by hash), a link filters and sorts it, and a screenshot
/// of 200 columns is kept.
#[test]
fn the_fleet_matrix_of_200_targets_renders_sorts_and_filters_in_chromium() {
    let c = pg17();
    let db = fresh_db(c, "fleethtml");
    let mut sql = String::from(
        "CREATE SCHEMA tpl; CREATE TABLE tpl.orders (id int PRIMARY KEY, customer_id int, total numeric(10,2)); CREATE INDEX orders_customer_id_idx ON tpl.orders (customer_id);",
    );
    for i in 0..200 {
        let s = format!("tenant_{i:03}");
        sql += &format!(
            "CREATE SCHEMA {s}; CREATE TABLE {s}.orders (id int PRIMARY KEY, customer_id int, total numeric(10,2));"
        );
        if i % 7 != 0 {
            sql += &format!("CREATE INDEX orders_customer_id_idx ON {s}.orders (customer_id);");
        }
        if i % 13 == 0 {
            sql += &format!("ALTER TABLE {s}.orders ADD COLUMN note text;");
        }
        if i % 31 == 0 {
            sql += &format!("ALTER TABLE {s}.orders ALTER COLUMN total TYPE float8;");
        }
    }
    c.execute(&db, &sql).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("fleet.html");
    let out = pgp("fleet")
        .opt("--reference", c.url(&db))
        .opt("--schemas-like", "tenant\\_%")
        .opt("--reference-schema", "tpl")
        .arg("--no-profile")
        .opt("--format", "json")
        .opt("--also", format!("html={}", html.display()))
        .run()
        .code(1);
    let r = out.json();
    assert_eq!(r["targets"].as_array().unwrap().len(), 200);
    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(page.matches(r#"<th class="t""#).count(), 200);
    for needle in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!page.contains(needle), "external reference {needle}");
    }
    // Sorted by the tenant that misses the index (tenant_000 is first: the farthest), and
    // filtered to that difference by the link.
    let link = PathBuf::from(format!(
        "{}#q=orders_customer_id_idx&sort=-2",
        html.display()
    ));
    let (dom, log) = chrome(&["--dump-dom"], &link);
    assert!(
        dom.contains(r#"<body class="js">"#),
        "the script did not run: {log}"
    );
    assert!(
        dom.contains(r#"<span id="shown">1</span>"#),
        "{}",
        &dom[..dom.len().min(3000)]
    );
    assert!(
        dom.contains(r#"class="n sorted""#) || dom.contains(r#"class="t sorted""#),
        "sorted header"
    );
    let hidden = dom.matches(r#"style="display: none;""#).count();
    assert_eq!(
        hidden,
        r["differences"].as_array().unwrap().len() - 1,
        "every other difference hidden"
    );
    no_console_errors(&log);
    let shot = artifacts().join("fleet-matrix-200.png");
    screenshot(&html, &shot, "1600,1000");
}
