//! SARIF 2.1.0, for code-scanning views: one rule per category, one result per finding with
//! its id as the fingerprint; levels from the fail level (error at or above it, warning one
//! below, note otherwise); accepted findings carry a suppression with the policy's reason.

use serde_json::json;

use super::Report;
use crate::policy::Status;

pub fn render(r: &Report) -> String {
    let mut categories: Vec<crate::finding::Category> =
        r.findings.iter().map(|e| e.finding.category).collect();
    categories.sort();
    categories.dedup();
    let rules: Vec<serde_json::Value> = categories
        .iter()
        .map(|c| {
            json!({
                "id": c.name(),
                "name": c.name(),
                "shortDescription": {"text": format!("{} differences between environments", c.name())},
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = r
        .findings
        .iter()
        .map(|e| {
            let f = &e.finding;
            let level = if f.severity >= r.fail_on {
                "error"
            } else if f.severity >= crate::finding::Severity::Low {
                "warning"
            } else {
                "note"
            };
            let mut v = json!({
                "ruleId": f.category.name(),
                "level": level,
                "message": {"text": format!("{} ({}: {}; {}: {}). Why: {} Hint: {}",
                    f.message,
                    r.left.name, f.left.as_deref().unwrap_or("(absent)"),
                    r.right.name, f.right.as_deref().unwrap_or("(absent)"),
                    f.why, f.hint)},
                "locations": [{"logicalLocations": [{"fullyQualifiedName": f.object, "kind": "object"}]}],
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
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("sarif serializes");
    s.push('\n');
    s
}
