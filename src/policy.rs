//! Policy: accepted differences. Each acceptance names a finding id (exact, or with `*`
//! wildcards), gives a reason, and may bind the values it accepts and an expiry date. A bound
//! acceptance goes stale when a value changes, and the finding returns, marked as such.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::finding::Finding;

/// What a policy file's `[[accept]]` entry holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    /// A finding id, or a pattern with `*` (`setting:enable_*`).
    pub id: String,
    pub reason: String,
    /// The value accepted on the left side; `(absent)` where the object does not exist there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub right: Option<String>,
    /// Last day the acceptance holds, `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// How a policy file looks on disk.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    #[serde(default)]
    pub accept: Vec<Acceptance>,
}

/// The spelling of "no such object on this side" in a policy.
pub const ABSENT: &str = "(absent)";

/// Where a finding stands against the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Not accepted: counts against --fail-on.
    Open,
    Accepted,
    /// Was accepted for other values; counts against --fail-on.
    Stale,
    /// Acceptance expired; counts against --fail-on.
    Expired,
}

impl Status {
    pub fn is_open(self) -> bool {
        self != Status::Accepted
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluated {
    #[serde(flatten)]
    pub finding: Finding,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acceptance: Option<Acceptance>,
}

impl Acceptance {
    pub fn validate(&self) -> Result<(), String> {
        if self.id.trim().is_empty() {
            return Err("an [[accept]] entry has an empty id".into());
        }
        if self.reason.trim().is_empty() {
            return Err(format!("[[accept]] {}: a reason is required", self.id));
        }
        if let Some(e) = &self.expires {
            NaiveDate::parse_from_str(e, "%Y-%m-%d").map_err(|_| {
                format!(
                    "[[accept]] {}: expires '{e}' is not a date (YYYY-MM-DD)",
                    self.id
                )
            })?;
        }
        Ok(())
    }

    pub fn matches(&self, id: &str) -> bool {
        crate::glob::glob(&self.id, id)
    }
}

fn shown(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or(ABSENT)
}

/// Applies the policy to findings (in their order). `today` decides expiry.
pub fn apply(
    findings: Vec<Finding>,
    policy: &[Acceptance],
    today: NaiveDate,
) -> (Vec<Evaluated>, Vec<String>) {
    let mut used = vec![false; policy.len()];
    let evaluated = findings
        .into_iter()
        .map(|finding| {
            let hit = policy
                .iter()
                .enumerate()
                .find(|(_, a)| a.matches(&finding.id));
            let Some((i, a)) = hit else {
                return Evaluated {
                    finding,
                    status: Status::Open,
                    acceptance: None,
                };
            };
            used[i] = true;
            let expired = a
                .expires
                .as_deref()
                .and_then(|e| NaiveDate::parse_from_str(e, "%Y-%m-%d").ok())
                .is_some_and(|d| d < today);
            let stale = a.left.as_deref().is_some_and(|v| v != shown(&finding.left))
                || a.right
                    .as_deref()
                    .is_some_and(|v| v != shown(&finding.right));
            let status = if expired {
                Status::Expired
            } else if stale {
                Status::Stale
            } else {
                Status::Accepted
            };
            Evaluated {
                finding,
                status,
                acceptance: Some(a.clone()),
            }
        })
        .collect();
    let unused = policy
        .iter()
        .zip(used)
        .filter(|(_, u)| !u)
        .map(|(a, _)| a.id.clone())
        .collect();
    (evaluated, unused)
}

/// Today's differences as a policy file: one acceptance per finding, bound to its values.
pub fn baseline(findings: &[Finding], today: NaiveDate) -> String {
    let file = PolicyFile {
        accept: findings
            .iter()
            .map(|f| Acceptance {
                id: f.id.clone(),
                reason: format!(
                    "baseline {today}: {} (review and replace this reason)",
                    f.message
                ),
                left: Some(shown(&f.left).to_string()),
                right: Some(shown(&f.right).to_string()),
                expires: None,
            })
            .collect(),
    };
    let body = toml::to_string(&file).unwrap_or_default();
    format!(
        "# pgparity policy: accepted differences, written by `pgparity baseline` on {today}.\n\
         # Each entry accepts one finding while its values stay the same; give each a real reason\n\
         # and, where the difference should end, an expiry date (expires = \"YYYY-MM-DD\").\n\n{body}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Category, Severity};

    fn f(id_obj: &str, l: Option<&str>, r: Option<&str>) -> Finding {
        Finding::new(Category::Setting, Severity::High, id_obj, "").values(l, r)
    }

    fn acc(id: &str, l: Option<&str>, expires: Option<&str>) -> Acceptance {
        Acceptance {
            id: id.into(),
            reason: "why".into(),
            left: l.map(Into::into),
            right: None,
            expires: expires.map(Into::into),
        }
    }

    #[test]
    fn accepted_stale_expired_unused() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let findings = vec![
            f("a", Some("1"), Some("2")),
            f("b", Some("1"), None),
            f("c", None, Some("x")),
            f("d", None, None),
        ];
        let policy = vec![
            acc("setting:a", Some("1"), None),
            acc("setting:b", Some("9"), None),
            acc("setting:c", Some(ABSENT), Some("2026-11-25")),
            acc("setting:zzz", None, None),
        ];
        let (ev, unused) = apply(findings, &policy, today);
        let st: Vec<Status> = ev.iter().map(|e| e.status).collect();
        assert_eq!(
            st,
            vec![
                Status::Accepted,
                Status::Stale,
                Status::Expired,
                Status::Open
            ]
        );
        assert_eq!(unused, vec!["setting:zzz".to_string()]);
    }

    #[test]
    fn baseline_round_trips_and_accepts_everything() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let findings = vec![f("a", Some("1"), None)];
        let text = baseline(&findings, today);
        let parsed: PolicyFile = toml::from_str(&text).unwrap();
        let (ev, _) = apply(findings, &parsed.accept, today);
        assert_eq!(ev[0].status, Status::Accepted);
    }
}
