//! The JSON report: `format`, `format_version`, both sides, the gate's result, counts,
//! `findings[]` (id, category, severity, object, left, right, message, why, hint, status,
//! acceptance), `problems[]`. Documented in docs/report-format.md.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Report, SideInfo, SideProblem};
use crate::finding::Severity;
use crate::policy::Evaluated;

pub const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct Json<'a> {
    format: &'static str,
    format_version: u32,
    left: &'a SideInfo,
    right: &'a SideInfo,
    fail_on: Severity,
    result: &'static str,
    counts: Counts,
    findings: &'a [Evaluated],
    problems: &'a [SideProblem],
    unused_acceptances: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    history: Option<&'a super::since::History>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    setup: &'a [String],
}

#[derive(Serialize)]
struct Counts {
    open: BTreeMap<&'static str, usize>,
    accepted: usize,
    failing: usize,
}

pub fn render(r: &Report) -> String {
    let open = Severity::ALL
        .iter()
        .map(|s| (s.name(), r.count_open(*s)))
        .collect();
    let j = Json {
        format: "pgparity-report",
        format_version: FORMAT_VERSION,
        left: &r.left,
        right: &r.right,
        fail_on: r.fail_on,
        result: if r.failed() { "fail" } else { "pass" },
        counts: Counts {
            open,
            accepted: r.accepted().count(),
            failing: r.failing().count(),
        },
        findings: &r.findings,
        problems: &r.problems,
        unused_acceptances: &r.unused_acceptances,
        history: r.history.as_ref(),
        setup: &r.setup,
    };
    let mut s = serde_json::to_string_pretty(&j).expect("report serializes");
    s.push('\n');
    s
}
