//! Reports: the findings of one comparison, with the policy applied, rendered as text (for a
//! terminal), JSON (stable, documented in docs/report-format.md) or Markdown (scheduled reports
//! and pull request comments). Rendering is a pure function of the report.

mod escape;
pub mod fleet;
pub mod github;
pub(crate) mod html;
pub mod json;
mod junit;
mod markdown;
mod profile_text;
pub mod sarif;
pub mod since;
pub mod site;
mod svg;
mod text;

use serde::Serialize;

use crate::finding::Severity;
use crate::policy::{Evaluated, Status};
use crate::snapshot::Snapshot;

pub use html::render as render_html;
pub use json::render as render_json;
pub use junit::render as render_junit;
pub use markdown::render as render_markdown;
pub use profile_text::render as render_profile_text;

/// `pgparity profile --format json`: the environment, when it was captured, its data profile
/// and the problems met (the same shapes as in a snapshot file).
pub fn render_profile_json(snap: &crate::snapshot::Snapshot) -> String {
    let mut j = serde_json::to_string_pretty(&serde_json::json!({
        "environment": snap.meta.environment,
        "captured_at": snap.meta.captured_at,
        "profile": snap.profile,
        "problems": snap.problems,
    }))
    .expect("profile serializes");
    j.push('\n');
    j
}
pub use sarif::render as render_sarif;
pub use text::render as render_text;

/// One side of the comparison, as the report names it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
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
    /// What the HTML report draws, per finding id: both sides' measurements.
    pub details: std::collections::BTreeMap<String, Detail>,
    /// Rows per table on each side (profiled tables), for the volume chart.
    pub volumes: Vec<(String, Option<f64>, Option<f64>)>,
    /// New, fixed and persisting findings since the previous run of a history folder.
    pub history: Option<since::History>,
    /// How the two sides were set up, one sentence each, when the tool built them (a
    /// rehearsal's clusters, settings, seeded rows, statistics, runs); empty otherwise.
    pub setup: Vec<String>,
}

/// Both sides' measurements behind a data finding (or a rehearsal's timing finding).
#[derive(Debug, Clone)]
pub enum Detail {
    Column {
        left: Option<Box<crate::snapshot::ColumnProfile>>,
        right: Option<Box<crate::snapshot::ColumnProfile>>,
    },
    Fanout {
        left: Option<Box<crate::snapshot::RelationshipProfile>>,
        right: Option<Box<crate::snapshot::RelationshipProfile>>,
    },
    /// Timed runs of one query (a rehearsal's, or `check --explain-analyze`'s): (milliseconds,
    /// buffers) per run, each side.
    Timings {
        left: Vec<(f64, f64)>,
        right: Vec<(f64, f64)>,
    },
}

impl Detail {
    /// The measurements behind `f`, looked up in both snapshots' profiles.
    pub fn of(f: &crate::finding::Finding, l: &Snapshot, r: &Snapshot) -> Option<Detail> {
        use crate::finding::Category as C;
        let (lp, rp) = (l.profile.as_ref(), r.profile.as_ref());
        match f.category {
            C::Relationship => {
                let key = f.object.as_str();
                let get = |p: Option<&crate::snapshot::Profile>| {
                    p.and_then(|p| p.relationships.get(key))
                        .cloned()
                        .map(Box::new)
                };
                let (a, b) = (get(lp), get(rp));
                (a.is_some() || b.is_some()).then_some(Detail::Fanout { left: a, right: b })
            }
            C::Nulls | C::Distinct | C::Distribution | C::Encoding => {
                // `table.column`, the table the longest profiled prefix before a dot (names
                // may hold dots): a lookup per dot, not a scan of every table per finding.
                let profiled = |t: &str| lp.into_iter().chain(rp).any(|p| p.tables.contains_key(t));
                let (table, column) = f
                    .object
                    .match_indices('.')
                    .rev()
                    .map(|(i, _)| (&f.object[..i], &f.object[i + 1..]))
                    .find(|(t, _)| profiled(t))
                    .map(|(t, c)| (t.to_string(), c.to_string()))?;
                let get = |p: Option<&crate::snapshot::Profile>| {
                    p.and_then(|p| p.tables.get(&table))
                        .and_then(|mut t| t.columns.remove(&column))
                };
                Some(Detail::Column {
                    left: get(lp),
                    right: get(rp),
                })
            }
            C::Plan if f.id.ends_with(":regression") || f.id.ends_with(":improvement") => {
                // `check --explain-analyze`: each side's timed runs, kept with its plan.
                let path = f.object.strip_prefix("query:")?;
                let runs = |s: &Snapshot| -> Vec<(f64, f64)> {
                    s.plans
                        .as_ref()
                        .and_then(|p| p.get(path))
                        .map(|q| {
                            q.timings
                                .iter()
                                .map(|t| (t.ms, t.buffers + t.temp))
                                .collect()
                        })
                        .unwrap_or_default()
                };
                let (left, right) = (runs(l), runs(r));
                (!left.is_empty() && !right.is_empty()).then_some(Detail::Timings { left, right })
            }
            _ => None,
        }
    }
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
    Html,
    Junit,
    Sarif,
    /// GitHub Actions workflow commands (annotations)
    Github,
}

/// Renders a report; `color` only for text on a terminal.
pub fn render(report: &Report, format: Format, color: bool) -> String {
    match format {
        Format::Text => render_text(report, color),
        Format::Json => render_json(report),
        Format::Markdown => render_markdown(report),
        Format::Html => render_html(report),
        Format::Junit => render_junit(report),
        Format::Sarif => render_sarif(report),
        Format::Github => github::render(report),
    }
}

/// A finding's standing in words, with why an acceptance went stale.
pub(crate) fn status_text(e: &crate::policy::Evaluated) -> String {
    match (&e.status, &e.stale) {
        (Status::Stale, Some(why)) => format!("acceptance stale: {why}"),
        (s, _) => status_label(*s).to_string(),
    }
}

/// How a code-scanning view or a CI annotation weighs a finding: `error` at or above the
/// failing level, `warning` below it down to low, `note` for info (SARIF's levels; GitHub's
/// annotations leave notes out).
pub(crate) fn ci_level(f: &crate::finding::Finding, fail_on: Severity) -> &'static str {
    if f.severity >= fail_on {
        "error"
    } else if f.severity >= Severity::Low {
        "warning"
    } else {
        "note"
    }
}

/// A finding in one line for a CI tool: the message, both sides' values, why and the hint.
pub(crate) fn ci_text(r: &Report, f: &crate::finding::Finding) -> String {
    format!(
        "{} ({}: {}; {}: {}). Why: {} Hint: {}",
        f.message,
        r.left.name,
        f.left.as_deref().unwrap_or("(absent)"),
        r.right.name,
        f.right.as_deref().unwrap_or("(absent)"),
        f.why,
        f.hint
    )
}

pub(crate) fn status_label(s: Status) -> &'static str {
    match s {
        Status::Open => "open",
        Status::Accepted => "accepted",
        Status::Stale => "acceptance stale: the value changed",
        Status::Expired => "acceptance expired",
    }
}
