//! A fleet's report: one reference against N targets (environments, tenant databases, tenant
//! schemas). Each target's comparison is folded in as it ends and then dropped: what stays is
//! one [`Difference`] per finding id with a [`Cell`] per target that has it, and a
//! [`TargetSummary`] per target (its counts and how far it is from the reference). A user reads
//! a difference once, with the targets that have it, not once per target.
//!
//! Rendered as text, JSON (docs/report-format.md, "Fleet report"), Markdown, JUnit (one suite
//! per target, one case per check) and a self-contained HTML matrix (`html.rs`). Pure.

mod html;
mod junit;
mod text;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::SideInfo;
use crate::finding::{Category, Finding, Severity};
use crate::policy::{Evaluated, Status};

pub use html::render as render_html;
pub use junit::render as render_junit;
pub use text::{render_markdown, render_text};

/// The `format` field of a fleet report's JSON.
pub const FORMAT: &str = "pgparity-fleet-report";
/// Its version; bump on an incompatible change.
pub const FORMAT_VERSION: u32 = 1;

/// The id of the finding a target that could not be compared gets.
pub const UNREACHABLE: &str = "topology:unreachable";

/// One target's outcome in a fleet.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TargetSummary {
    pub name: String,
    /// The target as captured (absent when it could not be).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<SideInfo>,
    /// Why it could not be compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Open findings per severity (critical first).
    pub open: [usize; 5],
    pub accepted: usize,
    /// Open findings at or above the failing level.
    pub failing: usize,
    /// How far it is from the reference: open findings weighed by severity (critical 10,000,
    /// high 1,000, medium 100, low 10, info 1). Targets are ranked by it, farthest first.
    pub distance: u64,
    /// What its capture could not read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// One difference and the targets that have it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Difference {
    pub id: String,
    pub category: Category,
    /// The highest severity among the targets where it is open (else among all).
    pub severity: Severity,
    pub object: String,
    /// The first target's wording (cells hold each target's own).
    pub message: String,
    pub why: String,
    pub hint: String,
    /// Targets where it is open.
    pub open: usize,
    pub cells: Vec<Cell>,
}

/// A difference in one target.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Cell {
    pub target: String,
    pub severity: Severity,
    pub status: Status,
    /// The target's value (`None`: absent there).
    pub target_value: Option<String>,
    /// The reference's value.
    pub reference_value: Option<String>,
    /// This target's wording, where it is not the difference's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// This target's hint, where it is not the difference's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The policy entry that matched it here (its id pattern).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acceptance: Option<String>,
}

/// The fleet's report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FleetReport {
    pub format: String,
    pub format_version: u32,
    pub reference: SideInfo,
    pub fail_on: Severity,
    /// `fail` when a target has an open finding at or above `fail_on`.
    pub result: String,
    /// Targets, farthest from the reference first.
    pub targets: Vec<TargetSummary>,
    /// Differences, most severe first, then the most widespread.
    pub differences: Vec<Difference>,
    /// Acceptances of the policy that matched nothing in any target they hold for.
    pub unused_acceptances: Vec<String>,
    /// What the reference's capture could not read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference_problems: Vec<String>,
    /// Set when this report is one shard's (`K/N`) or merged from shards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
}

fn weight(s: Severity) -> u64 {
    match s {
        Severity::Critical => 10_000,
        Severity::High => 1_000,
        Severity::Medium => 100,
        Severity::Low => 10,
        Severity::Info => 1,
    }
}

fn slot(s: Severity) -> usize {
    Severity::ALL.iter().position(|x| *x == s).unwrap_or(4)
}

/// Folds targets' comparisons in, one at a time, into a [`FleetReport`].
pub struct FleetBuilder {
    reference: SideInfo,
    fail_on: Severity,
    targets: Vec<TargetSummary>,
    differences: BTreeMap<String, Difference>,
    unused: BTreeSet<String>,
    reference_problems: Vec<String>,
}

impl FleetBuilder {
    pub fn new(reference: SideInfo, fail_on: Severity, reference_problems: Vec<String>) -> Self {
        FleetBuilder {
            reference,
            fail_on,
            targets: Vec::new(),
            differences: BTreeMap::new(),
            unused: BTreeSet::new(),
            reference_problems,
        }
    }

    /// The finding a target that could not be compared gets (the policy may accept it: a
    /// decommissioned tenant).
    pub fn unreachable(target: &str, error: &str) -> Finding {
        Finding {
            id: UNREACHABLE.into(),
            category: Category::Topology,
            severity: Severity::Critical,
            object: target.to_string(),
            left: Some(error.to_string()),
            right: Some("captured".into()),
            message: format!("{target} could not be compared: {error}"),
            why: "nothing is known of this target: any difference may hide there".into(),
            hint:
                "check that it is reachable with these credentials, or remove it from the targets"
                    .into(),
            causes: Vec::new(),
            weight: None,
            plans: None,
        }
    }

    /// One target's findings with the policy applied; `side` is `None` when it could not be
    /// captured (`error` says why; its findings then hold [`UNREACHABLE`]).
    pub fn add(
        &mut self,
        name: &str,
        side: Option<SideInfo>,
        error: Option<String>,
        findings: Vec<Evaluated>,
        unused: Vec<String>,
        problems: Vec<String>,
    ) {
        let mut summary = TargetSummary {
            name: name.to_string(),
            side,
            error,
            open: [0; 5],
            accepted: 0,
            failing: 0,
            distance: 0,
            problems,
        };
        for e in findings {
            let acceptance = e.acceptance.map(|a| a.id);
            let f = e.finding;
            if e.status.is_open() {
                summary.open[slot(f.severity)] += 1;
                summary.distance += weight(f.severity);
                if f.severity >= self.fail_on {
                    summary.failing += 1;
                }
            } else {
                summary.accepted += 1;
            }
            let d = self
                .differences
                .entry(f.id.clone())
                .or_insert_with(|| Difference {
                    id: f.id.clone(),
                    category: f.category,
                    severity: f.severity,
                    object: f.object.clone(),
                    message: f.message.clone(),
                    why: f.why.clone(),
                    hint: f.hint.clone(),
                    open: 0,
                    cells: Vec::new(),
                });
            d.cells.push(Cell {
                target: name.to_string(),
                severity: f.severity,
                status: e.status,
                message: Some(f.message),
                hint: Some(f.hint),
                acceptance,
                target_value: f.left,
                reference_value: f.right,
            });
        }
        self.unused.extend(unused);
        self.targets.push(summary);
    }

    /// Another (shard's) report of the same reference, its targets and cells taken as they
    /// are: folding shards' reports gives the report one run over all their targets gives.
    pub fn absorb(&mut self, r: FleetReport) {
        self.targets.extend(r.targets);
        for p in r.reference_problems {
            if !self.reference_problems.contains(&p) {
                self.reference_problems.push(p);
            }
        }
        self.unused.extend(r.unused_acceptances);
        for d in r.differences {
            let (message, hint) = (d.message.clone(), d.hint.clone());
            let into = self
                .differences
                .entry(d.id.clone())
                .or_insert_with(|| Difference {
                    cells: Vec::new(),
                    ..d.clone()
                });
            for mut c in d.cells {
                c.message.get_or_insert_with(|| message.clone());
                c.hint.get_or_insert_with(|| hint.clone());
                into.cells.push(c);
            }
        }
    }

    /// The report: targets ranked farthest first, each difference's cells in that order.
    pub fn finish(self) -> FleetReport {
        let mut targets = self.targets;
        targets.sort_by(|a, b| {
            b.error
                .is_some()
                .cmp(&a.error.is_some())
                .then(b.distance.cmp(&a.distance))
                .then_with(|| a.name.cmp(&b.name))
        });
        let rank: BTreeMap<&str, usize> = targets
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.as_str(), i))
            .collect();
        // Used: matched a cell in some target (the cells carry the entry's id).
        let mut used = BTreeSet::new();
        let mut differences: Vec<Difference> = self.differences.into_values().collect();
        for d in &mut differences {
            d.cells
                .sort_by_key(|c| rank.get(c.target.as_str()).copied().unwrap_or(usize::MAX));
            used.extend(d.cells.iter().filter_map(|c| c.acceptance.clone()));
            // Counted, ranked and worded from the cells in the targets' order, so the report
            // is the same whatever order the targets ended in (or the shards were folded in).
            d.open = d.cells.iter().filter(|c| c.status.is_open()).count();
            let of = |open: bool| {
                d.cells
                    .iter()
                    .filter(|c| !open || c.status.is_open())
                    .map(|c| c.severity)
                    .max()
            };
            d.severity = of(true).or(of(false)).unwrap_or(d.severity);
            if let Some(first) = d.cells.first() {
                d.message = first.message.clone().unwrap_or_else(|| d.message.clone());
                d.hint = first.hint.clone().unwrap_or_else(|| d.hint.clone());
            }
            for c in &mut d.cells {
                if c.message.as_deref() == Some(d.message.as_str()) {
                    c.message = None;
                }
                if c.hint.as_deref() == Some(d.hint.as_str()) {
                    c.hint = None;
                }
            }
        }
        differences.sort_by(|a, b| {
            (b.open > 0)
                .cmp(&(a.open > 0))
                .then(b.severity.cmp(&a.severity))
                .then(a.category.cmp(&b.category))
                .then(b.open.cmp(&a.open))
                .then(b.cells.len().cmp(&a.cells.len()))
                .then_with(|| a.id.cmp(&b.id))
        });
        let failing = targets.iter().any(|t| t.failing > 0);
        FleetReport {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            reference: self.reference,
            fail_on: self.fail_on,
            result: if failing { "fail" } else { "pass" }.into(),
            targets,
            differences,
            unused_acceptances: self.unused.difference(&used).cloned().collect(),
            reference_problems: self.reference_problems,
            shard: None,
        }
    }
}

impl FleetReport {
    /// One report of several shards' reports of the same run (`fleet report --run`): equal to
    /// the report one process checking every shard's targets gives.
    pub fn merge(mut shards: Vec<FleetReport>) -> Result<FleetReport, String> {
        let Some(first) = shards.first() else {
            return Err("no shard to merge".into());
        };
        for s in &shards[1..] {
            if s.reference.name != first.reference.name || s.fail_on != first.fail_on {
                return Err(format!(
                    "shards of another run: reference {} at {} vs {} at {}",
                    s.reference.name, s.fail_on, first.reference.name, first.fail_on
                ));
            }
        }
        let head = shards.remove(0);
        let mut b = FleetBuilder::new(head.reference.clone(), head.fail_on, Vec::new());
        b.absorb(head);
        for s in shards {
            b.absorb(s);
        }
        Ok(b.finish())
    }

    /// A target has an open finding at or above the failing level.
    pub fn failed(&self) -> bool {
        self.targets.iter().any(|t| t.failing > 0)
    }

    /// Open findings per severity, summed over the targets.
    pub fn open(&self) -> [usize; 5] {
        let mut n = [0; 5];
        for t in &self.targets {
            for (i, c) in t.open.iter().enumerate() {
                n[i] += c;
            }
        }
        n
    }

    /// Targets that could not be compared.
    pub fn unreachable(&self) -> usize {
        self.targets.iter().filter(|t| t.error.is_some()).count()
    }

    /// The targets a difference is open in, as words: "t_17, t_88 and 3 more".
    pub fn names(d: &Difference, at_most: usize) -> String {
        let open: Vec<&str> = d
            .cells
            .iter()
            .filter(|c| c.status.is_open())
            .map(|c| c.target.as_str())
            .collect();
        let shown = open.len().min(at_most);
        let mut s = open[..shown].join(", ");
        if open.len() > shown {
            s += &format!(" and {} more", open.len() - shown);
        }
        s
    }

    /// Where a difference is, in words: "in 2 of 5 targets: t_1, t_3", or "accepted in 2 of 5".
    pub fn spread(&self, d: &Difference, at_most: usize) -> String {
        let total = self.targets.len();
        if d.open == 0 {
            return format!("accepted in {} of {total}", d.cells.len());
        }
        format!(
            "in {} of {total} targets: {}",
            d.open,
            FleetReport::names(d, at_most)
        )
    }

    /// `pgparity fleet --format json`.
    pub fn render_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("fleet report serializes");
        s.push('\n');
        s
    }

    /// Today's differences as a policy accepting them (`fleet --write-baseline`): a difference
    /// in every target with the same values is one entry for all; otherwise one entry per set
    /// of values, naming the targets that have them.
    pub fn baseline(&self, today: chrono::NaiveDate) -> String {
        let mut findings = Vec::new();
        let mut targets = Vec::new();
        let all = self.targets.len();
        for d in &self.differences {
            // (target's value, reference's value, severity) → the targets with them.
            type Values<'a> = (Option<&'a str>, Option<&'a str>, Severity);
            let mut by_values: BTreeMap<Values, Vec<&str>> = BTreeMap::new();
            for c in &d.cells {
                by_values
                    .entry((
                        c.target_value.as_deref(),
                        c.reference_value.as_deref(),
                        c.severity,
                    ))
                    .or_default()
                    .push(c.target.as_str());
            }
            let one = by_values.len() == 1;
            for ((l, r, severity), names) in by_values {
                findings.push(Finding {
                    id: d.id.clone(),
                    category: d.category,
                    severity,
                    object: d.object.clone(),
                    left: l.map(String::from),
                    right: r.map(String::from),
                    message: d.message.clone(),
                    why: String::new(),
                    hint: String::new(),
                    causes: Vec::new(),
                    weight: None,
                    plans: None,
                });
                targets.push(if one && names.len() == all {
                    None
                } else {
                    Some(names.iter().map(|s| s.to_string()).collect())
                });
            }
        }
        crate::policy::baseline_for(&findings, &targets, today)
    }
}
