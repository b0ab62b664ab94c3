//! Issue 35: what a user installing pgparity reads stays true: the CHANGELOG has a section for
//! the version Cargo.toml releases, `--version` names the commit and the formats, and every
//! configuration example in the README is a configuration pgparity loads.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_changelog_has_a_section_for_this_version_in_keep_a_changelog_form() {
    let text = std::fs::read_to_string(root().join("CHANGELOG.md")).unwrap();
    let v = env!("CARGO_PKG_VERSION");
    let heading = text
        .lines()
        .find(|l| l.starts_with(&format!("## [{v}] - ")))
        .unwrap_or_else(|| panic!("CHANGELOG.md has no '## [{v}] - YYYY-MM-DD' section"));
    let date = heading.rsplit(" - ").next().unwrap();
    assert!(
        chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok(),
        "{heading}"
    );
    assert!(
        text.contains("## [Unreleased]"),
        "Keep a Changelog keeps an Unreleased section"
    );
    assert!(
        text.contains(&format!("[{v}]: ")),
        "the version's heading links to its release"
    );
}

#[test]
fn the_long_version_names_the_commit_and_every_format_version() {
    let v = pgparity::long_version();
    let lines: Vec<&str> = v.lines().collect();
    assert_eq!(lines[0], env!("CARGO_PKG_VERSION"));
    let commit = lines[1].strip_prefix("commit ").expect(v);
    assert!(
        commit == "unknown"
            || (commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit())),
        "{v}"
    );
    if root().join(".git").exists() {
        assert_ne!(commit, "unknown", "built from a git work tree: {v}");
    }
    assert_eq!(
        lines[2],
        format!(
            "snapshot format {}, report format {}, history format {} (database schema {})",
            pgparity::snapshot::FORMAT_VERSION,
            pgparity::report::json::FORMAT_VERSION,
            pgparity::history::VERSION,
            pgparity::history::db::SCHEMA_VERSION
        )
    );
}

/// Every ```toml block of the README loads as a pgparity.toml (unknown keys are errors there,
/// so an example with a renamed key fails here).
#[test]
fn every_configuration_example_in_the_readme_loads() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut blocks = 0;
    let mut rest = readme.as_str();
    while let Some(at) = rest.find("```toml\n") {
        let body = &rest[at + 8..];
        let end = body.find("```").expect("closed block");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgparity.toml");
        std::fs::write(&file, &body[..end]).unwrap();
        // Files the example names are looked for beside it: policies and the hash key.
        for name in ["policy.toml", "pgparity-policy.toml"] {
            std::fs::write(dir.path().join(name), "accept = []\n").unwrap();
        }
        std::fs::write(
            dir.path().join("pgparity.key"),
            "a secret of at least thirty-two characters, not a production one\n",
        )
        .unwrap();
        if let Err(e) = pgparity::config::Config::load(Some(&file)) {
            panic!(
                "README's toml block {blocks} does not load: {e}\n{}",
                &body[..end]
            );
        }
        blocks += 1;
        rest = &body[end + 3..];
    }
    assert!(blocks >= 1, "the README shows a configuration");
}
