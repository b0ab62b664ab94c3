//! Policy: accepted differences. Each acceptance names a finding id (exact, or with `*`
//! wildcards), gives a reason, and may bind the values it accepts and an expiry date. A bound
//! acceptance goes stale when a value changes, and the finding returns, marked as such.
//!
//! Measured data drifts a little every day, so an acceptance of a data gap binds what the
//! finding says rather than its exact figures: with `tolerance` it stays accepted while the
//! gap keeps its severity (`severity`, when bound), its values keep their wording (every
//! number aside) and each number stays within the relative band (0.5: half its accepted size
//! either way); it goes stale when the gap grows past it, changes kind or changes severity.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::finding::{Finding, Severity};

/// The tolerance `baseline` writes for a data gap: each figure may move by half its size.
pub const DATA_TOLERANCE: f64 = 0.5;

/// What a policy file's `[[accept]]` entry holds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
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
    /// The severity accepted: another severity makes the acceptance stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// How far each number in `left` and `right` may move, relative to its accepted value
    /// (0.5: by half), with the words around the numbers unchanged. Without it the values
    /// must stay exactly as accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<f64>,
    /// Accepts only findings whose first cause is of this kind (`statistics-noise`: plans that
    /// follow ANALYZE's sample or tie in cost, whatever the query); others go on to the next
    /// entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<crate::finding::CauseKind>,
    /// The targets it holds for (names or `*` patterns: a fleet's targets, a check's left
    /// side); absent: every target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<String>>,
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
    /// Why the acceptance no longer holds (status `stale`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale: Option<String>,
}

impl Acceptance {
    pub fn validate(&self) -> Result<(), String> {
        if self.id.trim().is_empty() {
            return Err("an [[accept]] entry has an empty id".into());
        }
        if self.reason.trim().is_empty() {
            return Err(format!("[[accept]] {}: a reason is required", self.id));
        }
        if let Some(t) = self.tolerance {
            if !(t.is_finite() && t >= 0.0) {
                return Err(format!(
                    "[[accept]] {}: tolerance {t} is not a relative change (0.5 = by half)",
                    self.id
                ));
            }
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

    /// The entry holds for the target named `target` (a fleet's target, a check's left side).
    pub fn holds_for(&self, target: &str) -> bool {
        self.targets
            .as_ref()
            .is_none_or(|ts| ts.iter().any(|t| crate::glob::glob(t, target)))
    }

    /// The entry applies to `f`: its id matches, and its first cause is the kind named.
    pub fn matches(&self, f: &Finding) -> bool {
        crate::glob::glob(&self.id, &f.id)
            && self
                .cause
                .is_none_or(|k| f.causes.first().is_some_and(|c| c.kind == k))
    }
}

fn shown(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or(ABSENT)
}

/// A value's wording and figures: every number replaced by `#` (thousands separators read:
/// `3,500 rows` → `# rows`, 3500), every date or time (`2026-12-01`, `2026-12-01 13:45`) by
/// `@` (seconds since 1970).
#[derive(Debug, PartialEq)]
struct Figures {
    words: String,
    numbers: Vec<f64>,
    dates: Vec<f64>,
}

fn figures(v: &str) -> Figures {
    let mut f = Figures {
        words: String::new(),
        numbers: Vec::new(),
        dates: Vec::new(),
    };
    let b = v.as_bytes();
    let digits_at = |i: usize, n: usize| {
        b.get(i..i + n)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            let ch = v[i..].chars().next().unwrap_or(' ');
            f.words.push(ch);
            i += ch.len_utf8();
            continue;
        }
        // A date, with an optional time of day.
        if digits_at(i, 4)
            && b.get(i + 4) == Some(&b'-')
            && digits_at(i + 5, 2)
            && b.get(i + 7) == Some(&b'-')
            && digits_at(i + 8, 2)
        {
            let mut end = i + 10;
            for (len, fmt) in [(9, "%Y-%m-%d %H:%M:%S"), (6, "%Y-%m-%d %H:%M")] {
                if chrono::NaiveDateTime::parse_from_str(v.get(i..end + len).unwrap_or(""), fmt)
                    .is_ok()
                {
                    end += len;
                    break;
                }
            }
            let text = &v[i..end];
            let at = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
                .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M"))
                .or_else(|_| {
                    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                        .map(|d| d.and_time(chrono::NaiveTime::MIN))
                });
            if let Ok(at) = at {
                f.dates.push(at.and_utc().timestamp() as f64);
                f.words.push('@');
                i = end;
                continue;
            }
        }
        let mut digits = String::new();
        while i < b.len() {
            let c = b[i];
            let thousands = c == b',' && digits_at(i + 1, 3) && !digits_at(i + 4, 1);
            let fraction = c == b'.' && digits_at(i + 1, 1);
            if c.is_ascii_digit() || fraction {
                digits.push(c as char);
            } else if !thousands {
                break;
            }
            i += 1;
        }
        f.numbers.push(digits.parse().unwrap_or(0.0));
        f.words.push('#');
    }
    f
}

/// Whether `now` is `bound`'s figures moved by more than `tol`: each number relative to its
/// accepted size; each date relative to the accepted value's span of dates, at least a year
/// (a range's end moving by a day every night stays accepted).
fn moved(bound: &Figures, now: &Figures, tol: f64) -> bool {
    const YEAR: f64 = 365.0 * 86_400.0;
    let numbers = bound.numbers.iter().zip(&now.numbers).any(|(o, n)| {
        let d = (n - o).abs();
        if *o == 0.0 {
            d > 0.0
        } else {
            d / o.abs() > tol
        }
    });
    let (lo, hi) = bound
        .dates
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), d| {
            (l.min(*d), h.max(*d))
        });
    let span = (hi - lo).max(YEAR);
    let dates = bound
        .dates
        .iter()
        .zip(&now.dates)
        .any(|(o, n)| (n - o).abs() > tol * span);
    numbers || dates
}

/// Why an acceptance no longer holds for this finding, if it does not.
pub fn staleness(a: &Acceptance, f: &Finding) -> Option<String> {
    if let Some(sev) = a.severity {
        if sev != f.severity {
            return Some(format!(
                "the severity changed ({} → {})",
                sev.name(),
                f.severity.name()
            ));
        }
    }
    for (side, bound, now) in [("left", &a.left, &f.left), ("right", &a.right, &f.right)] {
        let (Some(bound), now) = (bound.as_deref(), shown(now)) else {
            continue;
        };
        let Some(tol) = a.tolerance else {
            if bound != now {
                return Some(format!("the {side} value changed ({bound} → {now})"));
            }
            continue;
        };
        let (a, b) = (figures(bound), figures(now));
        if a.words != b.words
            || a.numbers.len() != b.numbers.len()
            || a.dates.len() != b.dates.len()
        {
            return Some(format!("the {side} value changed kind ({bound} → {now})"));
        }
        if moved(&a, &b, tol) {
            return Some(format!(
                "the {side} value moved past its tolerance of {}% ({bound} → {now})",
                tol * 100.0
            ));
        }
    }
    None
}

/// Applies the policy to findings (in their order). `today` decides expiry.
/// Entries that name targets hold only for those (`target`: the fleet's target, or the check's
/// left side); an entry not holding here is neither used nor unused.
pub fn apply(
    findings: Vec<Finding>,
    policy: &[Acceptance],
    today: NaiveDate,
    target: &str,
) -> (Vec<Evaluated>, Vec<String>) {
    let holds: Vec<bool> = policy.iter().map(|a| a.holds_for(target)).collect();
    let mut used = vec![false; policy.len()];
    let evaluated = findings
        .into_iter()
        .map(|finding| {
            let hit = policy
                .iter()
                .enumerate()
                .find(|(i, a)| holds[*i] && a.matches(&finding));
            let Some((i, a)) = hit else {
                return Evaluated {
                    finding,
                    status: Status::Open,
                    acceptance: None,
                    stale: None,
                };
            };
            used[i] = true;
            let expired = a
                .expires
                .as_deref()
                .and_then(|e| NaiveDate::parse_from_str(e, "%Y-%m-%d").ok())
                .is_some_and(|d| d < today);
            let stale = staleness(a, &finding);
            let status = if expired {
                Status::Expired
            } else if stale.is_some() {
                Status::Stale
            } else {
                Status::Accepted
            };
            Evaluated {
                finding,
                stale: stale.filter(|_| status == Status::Stale),
                status,
                acceptance: Some(a.clone()),
            }
        })
        .collect();
    let unused = policy
        .iter()
        .zip(used)
        .zip(holds)
        .filter(|((_, u), h)| *h && !u)
        .map(|(au, _)| au)
        .map(|(a, _)| a.id.clone())
        .collect();
    (evaluated, unused)
}

/// Today's differences as a policy file: one acceptance per finding, bound to its values —
/// exactly for settings, schema and plans (a changed value is a new decision), within
/// [`DATA_TOLERANCE`] and at the same severity for measured data.
pub fn baseline(findings: &[Finding], today: NaiveDate) -> String {
    baseline_for(findings, &vec![None; findings.len()], today)
}

/// [`baseline`] with each entry holding for the targets beside it (`None`: every target), as a
/// fleet's baseline writes it.
pub fn baseline_for(
    findings: &[Finding],
    targets: &[Option<Vec<String>>],
    today: NaiveDate,
) -> String {
    let file = PolicyFile {
        accept: findings
            .iter()
            .zip(targets)
            .map(|(f, targets)| {
                let measured = f.category.is_data();
                Acceptance {
                    id: f.id.clone(),
                    reason: format!(
                        "baseline {today}: {} (review and replace this reason)",
                        f.message
                    ),
                    left: Some(shown(&f.left).to_string()),
                    right: Some(shown(&f.right).to_string()),
                    expires: None,
                    severity: measured.then_some(f.severity),
                    tolerance: measured.then_some(DATA_TOLERANCE),
                    cause: None,
                    targets: targets.clone(),
                }
            })
            .collect(),
    };
    let body = toml::to_string(&file).unwrap_or_default();
    format!(
        "# pgparity policy: accepted differences, written by `pgparity baseline` on {today}.\n\
         # Each entry accepts one finding while its values stay the same; give each a real reason\n\
         # and, where the difference should end, an expiry date (expires = \"YYYY-MM-DD\").\n\
         # Data gaps (volumes, NULLs, values, encodings, fan-out) are measured and drift a little\n\
         # from run to run: they stay accepted while the gap keeps its severity and wording and\n\
         # each of its numbers stays within `tolerance` (0.5: half its accepted size) of the value\n\
         # written here; a gap that grows past it, changes kind or changes severity comes back.\n\n{body}"
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
            severity: None,
            tolerance: None,
            cause: None,
            targets: None,
        }
    }

    /// An entry bound to a cause kind accepts the plan findings whose first cause is that
    /// kind, for any query, and leaves the others open; a kind that does not exist is an
    /// error naming the kinds.
    #[test]
    fn accepts_by_cause() {
        use crate::finding::{Cause, CauseKind};
        let noise: PolicyFile = toml::from_str(
            "[[accept]]\nid = \"plan:query:*:shape\"\ncause = \"statistics-noise\"\nreason = \"sampling\"\n",
        )
        .unwrap();
        let shape = |kind| {
            let mut f = Finding::new(Category::Plan, Severity::Low, "query:q09.sql", "shape");
            f.causes = vec![Cause {
                kind,
                evidence: String::new(),
                links: Vec::new(),
            }];
            f
        };
        let (out, unused) = apply(
            vec![
                shape(CauseKind::StatisticsNoise),
                shape(CauseKind::PlannerVersion),
            ],
            &noise.accept,
            NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
            "staging",
        );
        assert_eq!(
            out.iter().map(|e| e.status).collect::<Vec<_>>(),
            vec![Status::Accepted, Status::Open]
        );
        assert!(unused.is_empty());
        let err = toml::from_str::<PolicyFile>(
            "[[accept]]\nid = \"x\"\ncause = \"noise\"\nreason = \"r\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("statistics-noise"), "{err}");
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
        let (ev, unused) = apply(findings, &policy, today, "staging");
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
    fn figures_read_numbers_thousands_and_dates() {
        let f = figures("3,500 rows (28.0 % NULL), 1,2 and 2026-12-01 13:45 to 2027-01-02");
        assert_eq!(f.words, "# rows (# % NULL), #,# and @ to @");
        assert_eq!(f.numbers, vec![3500.0, 28.0, 1.0, 2.0]);
        assert_eq!(f.dates.len(), 2);
        assert_eq!(
            f.dates[1] - f.dates[0],
            32.0 * 86_400.0 - (13.0 * 3600.0 + 45.0 * 60.0)
        );
    }

    #[test]
    fn a_measured_acceptance_holds_within_its_tolerance_and_not_past_it() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let gap = |l: &str, r: &str, sev: Severity| {
            Finding::new(Category::Nulls, sev, "public.t.c", "").values(Some(l), Some(r))
        };
        let accepted = gap("0 % NULL", "28.0 % NULL", Severity::Critical);
        let text = baseline(std::slice::from_ref(&accepted), today);
        let policy: PolicyFile = toml::from_str(&text).unwrap();
        assert_eq!(policy.accept[0].tolerance, Some(DATA_TOLERANCE));
        assert_eq!(policy.accept[0].severity, Some(Severity::Critical));
        let cases = [
            (gap("0 % NULL", "29.1 % NULL", Severity::Critical), None),
            (gap("0 % NULL", "41.0 % NULL", Severity::Critical), None),
            (
                gap("0 % NULL", "56.0 % NULL", Severity::Critical),
                Some("the right value moved past its tolerance of 50% (28.0 % NULL → 56.0 % NULL)"),
            ),
            (
                gap("0.1 % NULL", "28.0 % NULL", Severity::Critical),
                Some("the left value moved past its tolerance of 50% (0 % NULL → 0.1 % NULL)"),
            ),
            (
                gap("0 % NULL", "28.0 % NULL", Severity::High),
                Some("the severity changed (critical → high)"),
            ),
            (
                gap("0 % NULL", "(absent)", Severity::Critical),
                Some("the right value changed kind (28.0 % NULL → (absent))"),
            ),
        ];
        for (f, want) in cases {
            assert_eq!(
                staleness(&policy.accept[0], &f).as_deref(),
                want,
                "{:?}",
                f.right
            );
        }
        // A range whose end moves by a day stays accepted; by years it does not.
        let range = Acceptance {
            tolerance: Some(0.5),
            right: Some("2020-01-01 00:00 to 2026-12-01 13:45".into()),
            ..acc("distribution:x", None, None)
        };
        let at = |r: &str| {
            Finding::new(Category::Distribution, Severity::Medium, "x", "")
                .values(None::<&str>, Some(r))
        };
        assert_eq!(
            staleness(&range, &at("2020-01-01 00:00 to 2026-12-02 02:00")),
            None
        );
        assert!(staleness(&range, &at("2020-01-01 00:00 to 2031-01-01 00:00")).is_some());
        // Without a tolerance the values must match exactly, as before.
        let exact = acc("setting:a", Some("1"), None);
        assert!(staleness(&exact, &f("a", Some("1.1"), None)).is_some());
    }

    #[test]
    fn baseline_round_trips_and_accepts_everything() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let findings = vec![f("a", Some("1"), None)];
        let text = baseline(&findings, today);
        let parsed: PolicyFile = toml::from_str(&text).unwrap();
        let (ev, _) = apply(findings, &parsed.accept, today, "staging");
        assert_eq!(ev[0].status, Status::Accepted);
    }
}
