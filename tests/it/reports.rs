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
fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn chrome(args: &[&str], page: &Path) -> (String, String) {
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
    let console: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Refused to") || l.contains("net::ERR"))
        .collect();
    assert!(
        console.is_empty(),
        "console errors or blocked requests: {console:#?}"
    );
    let shot = artifacts().join("demo-report.png");
    let _ = std::fs::remove_file(&shot);
    let (_, log) = chrome(
        &[
            "--window-size=1280,3000",
            "--hide-scrollbars",
            &format!("--screenshot={}", shot.display()),
        ],
        &html,
    );
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(size > 20_000, "no screenshot ({size} bytes): {log}");
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
