//! A finding: one difference between two environments, with its category, severity, the
//! object that differs, the value on each side, why it matters and what to do.

use serde::{Deserialize, Serialize};

pub use crate::severity::Severity;

/// The layer a difference belongs to. Declaration order is the default rank: what hides the
/// most bugs first (DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Version,
    Collation,
    Topology,
    Extension,
    Setting,
    Schema,
    Statistics,
    Volume,
    Nulls,
    Distinct,
    Distribution,
    Encoding,
    Relationship,
    Plan,
}

impl Category {
    /// A finding about the data itself (volumes, NULLs, values, encodings, fan-out), as the
    /// data profile measures it.
    pub fn is_data(self) -> bool {
        matches!(
            self,
            Category::Volume
                | Category::Nulls
                | Category::Distinct
                | Category::Distribution
                | Category::Encoding
                | Category::Relationship
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Category::Version => "version",
            Category::Collation => "collation",
            Category::Topology => "topology",
            Category::Extension => "extension",
            Category::Setting => "setting",
            Category::Schema => "schema",
            Category::Statistics => "statistics",
            Category::Volume => "volume",
            Category::Nulls => "nulls",
            Category::Distinct => "distinct",
            Category::Distribution => "distribution",
            Category::Encoding => "encoding",
            Category::Relationship => "relationship",
            Category::Plan => "plan",
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One difference. `id` is stable across runs (category, object, aspect) and is what a policy
/// accepts; `left`/`right` are `None` where the object is absent on that side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub id: String,
    pub category: Category,
    pub severity: Severity,
    pub object: String,
    pub left: Option<String>,
    pub right: Option<String>,
    pub message: String,
    /// The class of bug this difference can hide.
    pub why: String,
    /// What to do about it.
    pub hint: String,
    /// Why it differs, where the evidence allows (plan findings).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<Cause>,
    /// Share of the workload's execution time behind this finding (a query of a corpus taken
    /// from pg_stat_statements): within a severity, heavier findings rank first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// Both plans, normalized, for a query that plans differently (for drawing side by side).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plans: Option<Box<crate::snapshot::plan::PlanPair>>,
}

/// What kind of difference explains a plan difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CauseKind {
    /// A planner setting differs (and re-planning with the other side's value converged).
    Setting,
    /// An index, constraint or table differs.
    Schema,
    /// The planner's statistics differ.
    Statistics,
    /// Sampling decides: the plans follow the estimates ANALYZE's sample gave, or the other
    /// plan costs almost the same here.
    StatisticsNoise,
    /// The data differs (volumes, distributions).
    Data,
    /// The planner itself changed between majors.
    PlannerVersion,
    Unknown,
}

impl CauseKind {
    /// The name in reports and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            CauseKind::Setting => "setting",
            CauseKind::Schema => "schema",
            CauseKind::Statistics => "statistics",
            CauseKind::StatisticsNoise => "statistics-noise",
            CauseKind::Data => "data",
            CauseKind::PlannerVersion => "planner-version",
            CauseKind::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for CauseKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason a difference exists, with its evidence and the findings of other layers it links to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cause {
    pub kind: CauseKind,
    pub evidence: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
}

impl Finding {
    /// A finding about `object`; `aspect` distinguishes several differences of one object.
    pub fn new(
        category: Category,
        severity: Severity,
        object: impl Into<String>,
        aspect: &str,
    ) -> Finding {
        let object = object.into();
        let id = Finding::id_of(category, &object, aspect);
        Finding {
            id,
            category,
            severity,
            object,
            left: None,
            right: None,
            message: String::new(),
            why: String::new(),
            hint: String::new(),
            causes: Vec::new(),
            weight: None,
            plans: None,
        }
    }

    /// The id [`Finding::new`] gives a finding of `category` about `object` and `aspect`: how
    /// a caller finds one finding without spelling its id.
    pub fn id_of(category: Category, object: &str, aspect: &str) -> String {
        let prefix = format!("{}:", category.name());
        let base = if object.starts_with(&prefix) {
            object.to_string()
        } else {
            format!("{prefix}{object}")
        };
        if aspect.is_empty() {
            base
        } else {
            format!("{base}:{aspect}")
        }
    }

    pub fn values(
        mut self,
        left: Option<impl Into<String>>,
        right: Option<impl Into<String>>,
    ) -> Finding {
        self.left = left.map(Into::into);
        self.right = right.map(Into::into);
        self
    }

    pub fn message(mut self, m: impl Into<String>) -> Finding {
        self.message = m.into();
        self
    }

    pub fn why(mut self, w: impl Into<String>) -> Finding {
        self.why = w.into();
        self
    }

    pub fn hint(mut self, h: impl Into<String>) -> Finding {
        self.hint = h.into();
        self
    }
}

/// The stable order of a report: severity (highest first), then category rank, workload
/// weight (heaviest first), object, id.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.category.cmp(&b.category))
            .then_with(|| {
                b.weight
                    .unwrap_or(0.0)
                    .partial_cmp(&a.weight.unwrap_or(0.0))
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
            .then_with(|| a.object.cmp(&b.object))
            .then_with(|| a.id.cmp(&b.id))
    });
}

/// A whole number with thousands separators (`1,234,567`), for messages.
pub fn thousands(x: f64) -> String {
    let n = x.round() as i64;
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}
