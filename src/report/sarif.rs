//! SARIF 2.1.0, for code-scanning views: one rule per category, one result per finding with
//! its id as the fingerprint; levels from the fail level (error at or above it, warning one
//! below, note otherwise); accepted findings carry a suppression with the policy's reason.
//!
//! Within GitHub code scanning's limits (docs: "SARIF support for code scanning"): one run,
//! at most [`MAX_RESULTS`] results, most severe first (GitHub shows the top 5,000 and rejects a
//! run of more than 25,000), one location per result. A finding is about a database, not a
//! line of code, so its location is logical (the object) and, when the run read one, the file
//! where it is accepted (the policy, else the configuration), which GitHub needs to show it.

use serde_json::json;

use super::Report;
use crate::policy::Status;

/// Results kept in the run: the ones GitHub displays.
pub const MAX_RESULTS: usize = 5_000;

/// A SARIF artifact URI for a file named on the command line: relative to the working
/// directory (the repository's root in CI) with `/` separators, else a `file://` URI.
pub fn artifact_uri(p: &std::path::Path) -> String {
    let rel = if p.is_absolute() {
        std::env::current_dir()
            .ok()
            .and_then(|cwd| p.strip_prefix(cwd).ok().map(|r| r.to_path_buf()))
    } else {
        Some(p.to_path_buf())
    };
    // Unreserved characters stay as they are (RFC 3986); the rest is percent-encoded.
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'.')
        .remove(b'-')
        .remove(b'_')
        .remove(b'~');
    let encode = |parts: Vec<String>| {
        parts
            .iter()
            .map(|c| percent_encoding::utf8_percent_encode(c, SEGMENT).to_string())
            .collect::<Vec<_>>()
            .join("/")
    };
    let parts = |p: &std::path::Path| -> Vec<String> {
        p.components()
            .filter_map(|c| match c {
                std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                std::path::Component::ParentDir => Some("..".to_string()),
                _ => None,
            })
            .collect()
    };
    match rel {
        Some(r) => encode(parts(&r)),
        None => format!("file:///{}", encode(parts(p))),
    }
}

pub fn render(r: &Report) -> String {
    render_at(r, None)
}

/// The SARIF log; `artifact` is the URI each result's physical location names.
pub fn render_at(r: &Report, artifact: Option<&str>) -> String {
    let mut categories: Vec<crate::finding::Category> =
        r.findings.iter().map(|e| e.finding.category).collect();
    categories.sort();
    categories.dedup();
    let rules: Vec<serde_json::Value> = categories
        .iter()
        .map(|c| {
            json!({
                "id": c.name(),
                // A name apart from the id (SARIF1001): "SchemaDifference".
                "name": format!("{}Difference", pascal(c.name())),
                "shortDescription": {"text": format!("{} differences between environments", c.name())},
                "fullDescription": {"text": format!("A difference of kind '{}' between two PostgreSQL environments that pgparity ranks by how likely it is to hide a production bug; each result says why and what to do.", c.name())},
                "help": {"text": "Make the environments alike, or accept the difference in the policy file with a reason (pgparity baseline writes one)."},
            })
        })
        .collect();
    let mut kept: Vec<&crate::policy::Evaluated> = r.findings.iter().collect();
    kept.sort_by_key(|e| std::cmp::Reverse(e.finding.severity));
    let dropped = kept.len().saturating_sub(MAX_RESULTS);
    kept.truncate(MAX_RESULTS);
    let results: Vec<serde_json::Value> = kept
        .iter()
        .map(|e| {
            let f = &e.finding;
            let level = super::ci_level(f, r.fail_on);
            let mut v = json!({
                "ruleId": f.category.name(),
                "level": level,
                "message": {"text": super::ci_text(r, f)},
                "locations": [location(&f.object, artifact)],
                "partialFingerprints": {"pgparityFindingId": f.id},
                "properties": {"severity": f.severity.name(), "status": super::status_label(e.status)},
            });
            if let (Status::Accepted, Some(a)) = (&e.status, &e.acceptance) {
                v["suppressions"] = json!([{"kind": "external", "justification": a.reason}]);
            }
            v
        })
        .collect();
    let doc = json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {
                "name": "pgparity",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_HOMEPAGE"),
                "rules": rules,
            }},
            "results": results,
            "properties": {"resultsLeftOut": dropped},
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("sarif serializes");
    s.push('\n');
    s
}

/// `foreign_key` → `ForeignKey`.
fn pascal(s: &str) -> String {
    s.split(['_', '-', ' '])
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// A result's one location: the object (logical) and, when known, the policy file (physical).
fn location(object: &str, artifact: Option<&str>) -> serde_json::Value {
    let mut l = json!({"logicalLocations": [{"fullyQualifiedName": object, "kind": "object"}]});
    if let Some(uri) = artifact {
        l["physicalLocation"] = json!({
            "artifactLocation": {"uri": uri},
            "region": {"startLine": 1},
        });
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_uris_are_relative_with_forward_slashes_and_encoded() {
        assert_eq!(
            artifact_uri(std::path::Path::new("./ci/policy file.toml")),
            "ci/policy%20file.toml"
        );
        assert_eq!(
            artifact_uri(std::path::Path::new("pgparity-policy.toml")),
            "pgparity-policy.toml"
        );
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(artifact_uri(&cwd.join("a/b_c.toml")), "a/b_c.toml");
        assert_eq!(
            artifact_uri(std::path::Path::new("/nonexistent-root/x y.toml")),
            "file:///nonexistent-root/x%20y.toml"
        );
    }
}
