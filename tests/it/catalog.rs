//! The catalog coverage map holds for the live catalogs of every major the tests run: each
//! column of each `pg_catalog` table and system view is compared, ignored with a reason, or a
//! named gap (`src/snapshot/coverage.rs`); docs/catalog-coverage.md is the map as generated;
//! every rule and every declared catalog column names something that exists; every comparer
//! the map names as comparing a column has the test it names.

use std::collections::{BTreeMap, BTreeSet};

use pgparity::snapshot::coverage::{coverage, markdown, Coverage, RULES};
use pgparity::snapshot::objects::kinds;

use crate::support::*;

#[test]
fn every_catalog_column_is_compared_ignored_or_a_named_gap() {
    let mut columns: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for c in [pg13(), pg15(), pg17(), pg18()] {
        let list = c
            .query_scalar(
                "postgres",
                &format!(
                    "SELECT string_agg(name, ' ') FROM ({}) c",
                    pgparity::snapshot::coverage::CATALOG_COLUMNS
                ),
            )
            .unwrap();
        columns.insert(
            c.install.major,
            list.split_whitespace().map(str::to_string).collect(),
        );
    }
    let all: BTreeSet<&str> = columns.values().flatten().map(String::as_str).collect();
    assert!(all.len() > 1_000, "only {} catalog columns read", all.len());

    // Every column is in the map.
    let unknown: Vec<&&str> = all.iter().filter(|c| coverage(c).is_none()).collect();
    assert!(
        unknown.is_empty(),
        "{} catalog columns the coverage map does not list (add each to src/snapshot/coverage.rs, compared or ignored with a reason): {unknown:?}",
        unknown.len()
    );

    // No rule and no declared column names what no major has (a typo would cover nothing).
    let dead: Vec<&str> = RULES
        .iter()
        .flat_map(|(patterns, _)| patterns.split(' '))
        .filter(|p| !all.iter().any(|c| pgparity::glob::glob(p, c)))
        .collect();
    assert!(
        dead.is_empty(),
        "coverage rules that match no catalog column: {dead:?}"
    );
    let undeclared: Vec<&str> = kinds()
        .flat_map(|k| k.reads())
        .map(|(c, _)| c)
        .filter(|p| !all.iter().any(|c| pgparity::glob::glob(p, c)))
        .collect();
    assert!(
        undeclared.is_empty(),
        "declarations read catalog columns no major has: {undeclared:?}"
    );

    // Every compared row names the test that plants it, and that test exists.
    let tests = test_sources();
    for c in &all {
        if let Some(Coverage::Compared(by)) = coverage(c) {
            let named = planted_tests(&by);
            assert!(
                !named.is_empty(),
                "{c}: compared by {by} with no test named"
            );
            tests_exist(c, &named, &tests);
        }
    }

    // The document is the map.
    let want = markdown(&columns);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/catalog-coverage.md");
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    if have != want {
        if std::env::var_os("PGPARITY_UPDATE_DOCS").is_some() {
            std::fs::write(&path, &want).unwrap();
        } else {
            panic!("docs/catalog-coverage.md is not the map (PGPARITY_UPDATE_DOCS=1 cargo test --test it catalog rewrites it)");
        }
    }
}

/// Each named `(file, test)` exists: the file, and a function of that name in it.
fn tests_exist(who: &str, named: &[(String, String)], tests: &BTreeMap<String, String>) {
    for (file, name) in named {
        let src = tests
            .get(file.as_str())
            .unwrap_or_else(|| panic!("{who} names {file}, which does not exist"));
        assert!(
            name.is_empty() || src.contains(&format!("fn {name}(")),
            "{who} names {file} {name}, which has no such test"
        );
    }
}

/// `tests/…/*.rs` by path from the crate's root.
fn test_sources() -> BTreeMap<String, String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = BTreeMap::new();
    for dir in ["tests/it", "tests/pure"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
                out.insert(rel, std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    out
}

/// The `(file, test)` pairs a compared row names: `tests/x.rs name` (a name of a test
/// function, or a word the file holds for the declarations' generic test).
fn planted_tests(by: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let words: Vec<&str> = by
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        if w.starts_with("tests/") && w.ends_with(".rs") {
            let next = words.get(i + 1).copied().unwrap_or("");
            let name = if next.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                && !next.is_empty()
                && next != "plants"
            {
                next.to_string()
            } else {
                String::new()
            };
            out.push((w.to_string(), name));
        }
    }
    out
}

/// docs/data-facts.md covers every type family (`pg_type.typcategory`) of every major the
/// tests run, and every test it names exists.
#[test]
fn every_type_family_has_its_data_facts() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/data-facts.md"),
    )
    .unwrap();
    let mut families = BTreeSet::new();
    for c in [pg13(), pg15(), pg17(), pg18()] {
        let list = c
            .query_scalar(
                "postgres",
                "SELECT string_agg(DISTINCT typcategory::text, ' ') FROM pg_type",
            )
            .unwrap();
        families.extend(list.split_whitespace().map(str::to_string));
    }
    assert!(families.len() >= 10, "{families:?}");
    let missing: Vec<&String> = families
        .iter()
        .filter(|f| !doc.contains(&format!("### `{f}` —")))
        .collect();
    assert!(
        missing.is_empty(),
        "type families docs/data-facts.md does not cover (add a `### `X` — …` section): {missing:?}"
    );
    let tests = test_sources();
    for line in doc.lines().filter(|l| l.starts_with('|')) {
        tests_exist("docs/data-facts.md", &planted_tests(line), &tests);
    }
}
