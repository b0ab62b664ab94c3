//! Reports: the findings of one comparison, with the policy applied, rendered as text (for a
//! terminal), JSON (stable, documented in docs/report-format.md) or Markdown (scheduled reports
//! and pull request comments). Rendering is a pure function of the report.

mod json;
mod markdown;
mod profile_text;
mod text;

use serde::Serialize;

use crate::finding::Severity;
use crate::policy::{Evaluated, Status};
use crate::snapshot::Snapshot;

pub use json::render as render_json;
pub use markdown::render as render_markdown;
pub use profile_text::render as render_profile_text;
pub use text::render as render_text;

/// One side of the comparison, as the report names it.
#[derive(Debug, Clone, Serialize)]
pub struct SideInfo {
    pub name: String,
    pub server_version: String,
    pub target: String,
    pub database: String,
    pub captured_at: String,
    /// `live` or the snapshot file it came from.
    pub source: String,
}

impl SideInfo {
    pub fn of(name: &str, snap: &Snapshot, source: &str) -> SideInfo {
        SideInfo {
            name: name.to_string(),
            server_version: snap.inventory.server_version.clone(),
            target: snap.meta.target.clone(),
            database: snap.meta.database.clone(),
            captured_at: snap.meta.captured_at.clone(),
            source: source.to_string(),
        }
    }
}

/// Something one side's capture could not read.
#[derive(Debug, Clone, Serialize)]
pub struct SideProblem {
    pub side: String,
    pub area: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub left: SideInfo,
    pub right: SideInfo,
    pub fail_on: Severity,
    pub findings: Vec<Evaluated>,
    pub problems: Vec<SideProblem>,
    /// Acceptances in the policy that matched no finding (fixed differences?).
    pub unused_acceptances: Vec<String>,
}

impl Report {
    /// Findings that count against the gate: not accepted, at or above `fail_on`.
    pub fn failing(&self) -> impl Iterator<Item = &Evaluated> {
        self.findings
            .iter()
            .filter(|e| e.status.is_open() && e.finding.severity >= self.fail_on)
    }

    pub fn failed(&self) -> bool {
        self.failing().next().is_some()
    }

    pub fn open(&self) -> impl Iterator<Item = &Evaluated> {
        self.findings.iter().filter(|e| e.status.is_open())
    }

    pub fn accepted(&self) -> impl Iterator<Item = &Evaluated> {
        self.findings
            .iter()
            .filter(|e| e.status == Status::Accepted)
    }

    pub fn count_open(&self, sev: Severity) -> usize {
        self.open().filter(|e| e.finding.severity == sev).count()
    }

    /// "3 open (1 critical, 2 high), 1 accepted".
    pub fn summary(&self) -> String {
        let parts: Vec<String> = Severity::ALL
            .iter()
            .filter_map(|s| {
                let n = self.count_open(*s);
                (n > 0).then(|| format!("{n} {s}"))
            })
            .collect();
        let open = self.open().count();
        let detail = if parts.is_empty() {
            String::new()
        } else {
            format!(" ({})", parts.join(", "))
        };
        format!("{open} open{detail}, {} accepted", self.accepted().count())
    }
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

impl Format {
    pub fn parse(s: &str) -> Result<Format, String> {
        match s {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "markdown" | "md" => Ok(Format::Markdown),
            other => Err(format!(
                "unknown format '{other}'; hint: use text, json or markdown"
            )),
        }
    }
}

/// Renders a report; `color` only for text on a terminal.
pub fn render(report: &Report, format: Format, color: bool) -> String {
    match format {
        Format::Text => render_text(report, color),
        Format::Json => render_json(report),
        Format::Markdown => render_markdown(report),
    }
}

pub(crate) fn status_label(s: Status) -> &'static str {
    match s {
        Status::Open => "open",
        Status::Accepted => "accepted",
        Status::Stale => "acceptance stale: the value changed",
        Status::Expired => "acceptance expired",
    }
}
