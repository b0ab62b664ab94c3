//! What a report says of the history of scheduled runs (`check --history`): since the
//! previous run, the findings new, fixed and persisting, the counts by severity over the
//! recent runs, a finding's figure over them, and what changed in production itself. The
//! history stage (`crate::history`) fills it from its store; the report only shows it, so the
//! report stands below the history and never reads a store.

use serde::{Deserialize, Serialize};

use crate::finding::Severity;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunFinding {
    pub id: String,
    pub severity: Severity,
    pub message: String,
}

/// Since the previous run: ids new, fixed and persisting, and counts per run (oldest first).
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct History {
    /// When the previous run was, if there was one.
    pub previous: Option<String>,
    pub new: Vec<RunFinding>,
    pub fixed: Vec<RunFinding>,
    pub persisting: Vec<RunFinding>,
    /// (time, open findings per severity in `Severity::ALL` order).
    pub trend: Vec<(String, [usize; 5])>,
    /// Per listed finding with a figure: both sides' figure over the recent runs, this one last.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub series: std::collections::BTreeMap<String, Vec<Point>>,
    /// What changed in production itself since the previous runs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<Change>,
}

/// One point of a finding's line: both sides' figure at one run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Point {
    pub at: String,
    pub left: Option<f64>,
    pub right: Option<f64>,
}

/// A change in production itself since the previous runs.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Change {
    /// `public.orders`, `public.users.email`, `query:q13.sql`.
    pub object: String,
    /// `rows`, `null_rate`, `class:emoji`, `plan`.
    pub figure: String,
    /// The recent range (or the previous plan), and now.
    pub before: String,
    pub now: String,
    pub message: String,
}
