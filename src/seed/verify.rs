//! Seed's closed loop, the pure part: the seeded target's snapshot compared with the
//! production snapshot it was seeded from, summed up as data findings, plan shapes kept or
//! lost, and the planner's statistics of every foreign-key column on both sides.

use crate::finding::{CauseKind, Finding, Severity};
use crate::snapshot::Snapshot;

/// The closed loop: the seeded target profiled and compared with the snapshot.
#[derive(Debug, Clone)]
pub struct Verification {
    /// Data findings (volume left out when a scale or row counts were asked for).
    pub findings: Vec<Finding>,
    /// Corpus queries (the snapshot's recorded ones) planned with the same shape, of those
    /// planned on both.
    pub plans_same: usize,
    /// Planned differently, but a cost tie: not a regression.
    pub plans_tied: usize,
    pub plans_total: usize,
    pub plans_divergent: Vec<String>,
    /// Why each divergent query plans differently (its plan finding's first cause), in words.
    pub plans_why: std::collections::BTreeMap<String, String>,
    /// Facts of the profile the seed keeps other than at production's share, per table and
    /// column, with why: `public.users.name: emoji seen in 1 row of 5,900: kept at 1 row of
    /// 59 (at this scale it rounds to none)`.
    pub kept: Vec<String>,
    /// The planner's view (pg_stats) of every foreign-key column, in the snapshot and in the
    /// seeded target: parameterized lookups on a foreign key plan from these.
    pub fk_stats: Vec<FkStats>,
}

/// pg_stats of one foreign-key column on both sides.
#[derive(Debug, Clone, PartialEq)]
pub struct FkStats {
    /// `public.orders.customer_id`.
    pub column: String,
    /// (distinct values per row, NULL share, most common value's share), as pg_stats says.
    pub source: Option<(f64, f64, Option<f64>)>,
    pub target: Option<(f64, f64, Option<f64>)>,
    /// Far enough apart to plan differently: distinct per row 2× apart, or NULL or most
    /// common shares 0.1 apart (and half of the larger).
    pub differs: bool,
}

impl FkStats {
    pub fn describe(&self) -> String {
        let side = |x: &Option<(f64, f64, Option<f64>)>| match x {
            Some((d, n, t)) => format!(
                "{:.3} distinct per row, {:.1} % NULL, most common {}",
                d,
                n * 100.0,
                t.map(|t| format!("{:.1} %", t * 100.0))
                    .unwrap_or_else(|| "none".into())
            ),
            None => "no statistics".into(),
        };
        format!(
            "{}: {} in the snapshot; {} seeded{}",
            self.column,
            side(&self.source),
            side(&self.target),
            if self.differs { " (differs)" } else { "" }
        )
    }
}

/// The pg_stats comparison for every foreign-key column of the snapshot.
fn fk_stats(source: &Snapshot, target: &Snapshot) -> Vec<FkStats> {
    let view = |snap: &Snapshot, table: &str, col: &str| {
        let st = snap.statistics.columns.get(table)?.get(col)?;
        let rows = snap
            .statistics
            .tables
            .get(table)
            .map(|t| t.reltuples.max(1.0))
            .unwrap_or(1.0);
        let per_row = if st.n_distinct < 0.0 {
            -st.n_distinct
        } else {
            (st.n_distinct / rows).min(1.0)
        };
        Some((per_row, st.null_frac, st.top_freq))
    };
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for c in source.schema.constraints.values() {
        if c.kind != crate::snapshot::ConstraintKind::ForeignKey {
            continue;
        }
        for col in &c.columns {
            let column = format!("{}.{}", c.table, crate::sql::ident(col));
            if !seen.insert(column.clone()) {
                continue;
            }
            let (a, b) = (view(source, &c.table, col), view(target, &c.table, col));
            let far = |x: f64, y: f64| (x - y).abs() > 0.1 && (x - y).abs() > 0.5 * x.max(y);
            let differs = match (&a, &b) {
                (Some((d1, n1, t1)), Some((d2, n2, t2))) => {
                    d1.max(*d2) > 2.0 * d1.min(*d2).max(1e-9)
                        || far(*n1, *n2)
                        || far(t1.unwrap_or(0.0), t2.unwrap_or(0.0))
                }
                (Some(_), None) => true,
                _ => false,
            };
            out.push(FkStats {
                column,
                source: a,
                target: b,
                differs,
            });
        }
    }
    out
}

/// Tables seeded with another row count than production's (a volume finding compares
/// environments within a factor of ten; a seed promises the count): 2 % and 2 rows apart or
/// more (5 % where a count is estimated), of the tables the seed filled.
fn volumes(target: &Snapshot, source: &Snapshot) -> Vec<Finding> {
    let (Some(t), Some(s)) = (target.profile.as_ref(), source.profile.as_ref()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, want) in s
        .tables
        .iter()
        .filter_map(|(n, _)| Some((n, s.tables.rows(n)?)))
    {
        let Some(got) = t.tables.rows(name).filter(|g| *g > 0.0) else {
            continue;
        };
        let off = (got - want).abs();
        if off < (want * 0.02).max(2.0) {
            continue;
        }
        // Estimated counts (a sampled table) within 5 % (the profiles decoded only here).
        let exact = |p: &crate::snapshot::Profile| p.tables.get(name).is_some_and(|x| x.rows_exact);
        if off >= (want * 0.05).max(2.0) || exact(t) && exact(s) {
            out.push(
                Finding::new(crate::finding::Category::Volume, Severity::Medium, name, "seeded")
                    .values(
                        Some(format!("{} rows", crate::finding::thousands(got))),
                        Some(format!("{} rows", crate::finding::thousands(want))),
                    )
                    .message(format!(
                        "{name}: seeded with {} rows where production has {}",
                        crate::finding::thousands(got),
                        crate::finding::thousands(want)
                    ))
                    .why("a seed at production's scale promises its row counts: plans and timings on another volume do not carry over")
                    .hint("report it: the seed's row plan (children per parent) missed the profile's count"),
            );
        }
    }
    out
}

/// The string literals of a statement (its tokens, so comments and quoted names are not
/// mistaken for them).
fn string_literals(sql: &str) -> Vec<String> {
    use sqlparser::tokenizer::{Token, Tokenizer};
    Tokenizer::new(&sqlparser::dialect::PostgreSqlDialect {}, sql)
        .tokenize()
        .map(|tokens| {
            tokens
                .into_iter()
                .filter_map(|t| match t {
                    Token::SingleQuotedString(s) | Token::EscapedStringLiteral(s) => Some(s),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Classes and special values the seed holds at another share than production's, per table
/// and column, where both sides were read whole (their counts are certain): a rare fact kept
/// at one row where the seed's scale rounds it to none, or one the seed lacks.
fn kept(target: &Snapshot, source: &Snapshot) -> Vec<String> {
    let (Some(tp), Some(sp)) = (target.profile.as_ref(), source.profile.as_ref()) else {
        return Vec::new();
    };
    let n = |x: f64| crate::finding::thousands(x);
    let rows = |c: u64| if c == 1 { "row" } else { "rows" };
    let mut out = Vec::new();
    for (table, st) in sp.tables.iter() {
        let Some(tt) = tp
            .tables
            .get(table)
            .filter(|t| t.rows_exact && t.rows > 0.0)
        else {
            continue;
        };
        if !st.rows_exact {
            continue;
        }
        for (col, sc) in &st.columns {
            let Some(tc) = tt.columns.get(col) else {
                continue;
            };
            let (s_nn, t_nn) = (
                sc.rows.saturating_sub(sc.nulls),
                tc.rows.saturating_sub(tc.nulls),
            );
            if s_nn == 0 || t_nn == 0 {
                continue;
            }
            let facts = sc
                .classes
                .iter()
                .filter(|(k, _)| k.as_str() != "ascii_only")
                .map(|(k, c)| {
                    (
                        k.replace('_', " "),
                        *c,
                        tc.classes.get(k).copied().unwrap_or(0),
                    )
                })
                .chain(sc.specials.iter().map(|(k, c)| {
                    (
                        format!("the value {k}"),
                        *c,
                        tc.specials.get(k).copied().unwrap_or(0),
                    )
                }));
            for (fact, c, got) in facts {
                let expected = c as f64 * t_nn as f64 / s_nn as f64;
                let why = if got == 0 && c > 0 {
                    "not seeded".to_string()
                } else if expected < 0.5 && got >= 1 {
                    format!(
                        "kept at {got} {} of {} (at this scale it rounds to none)",
                        rows(got),
                        n(t_nn as f64)
                    )
                } else {
                    continue;
                };
                out.push(format!(
                    "{table}.{}: {fact} seen in {} {} of {}: {why}",
                    crate::sql::ident(col),
                    n(c as f64),
                    rows(c),
                    n(s_nn as f64)
                ));
            }
        }
    }
    out
}

/// What `seed --verify` reports, from the findings of `target` (left) against `source`
/// (right); `scaled` leaves volume out (a scale or row counts were asked for).
pub fn summarize(
    target: &Snapshot,
    source: &Snapshot,
    all: &[Finding],
    scaled: bool,
) -> Verification {
    let findings: Vec<Finding> = all
        .iter()
        .filter(|f| {
            f.severity != Severity::Info
                && f.category.is_data()
                && (f.category != crate::finding::Category::Volume || !scaled)
        })
        .cloned()
        .chain(
            (!scaled)
                .then(|| volumes(target, source))
                .into_iter()
                .flatten(),
        )
        .collect();
    // Plans: the same shape, or a cost tie (the target steered toward the snapshot's plan
    // reaches it at almost the same cost).
    let (mut same, mut tied, mut total, mut divergent) = (0, 0, 0, Vec::new());
    if let (Some(a), Some(b)) = (target.plans.as_ref(), source.plans.as_ref()) {
        for (path, p) in a {
            let Some(q) = b.get(path) else { continue };
            if p.fingerprint.is_none() || q.fingerprint.is_none() {
                continue;
            }
            total += 1;
            if p.fingerprint == q.fingerprint {
                same += 1;
                continue;
            }
            let id = crate::compare::plan::shape_id(path);
            let tie = all.iter().any(|f| {
                f.id == id
                    && f.causes
                        .first()
                        .is_some_and(|c| c.kind == CauseKind::StatisticsNoise)
            });
            if tie {
                tied += 1;
            } else {
                divergent.push(path.clone());
            }
        }
    }
    let raw = source.profile.as_ref().is_some_and(|p| p.raw_values);
    // Enum labels are the schema's, seeded as they are: not production's values.
    let labels: std::collections::HashSet<&str> = source
        .schema
        .types
        .values()
        .flat_map(|t| t.labels.iter().map(String::as_str))
        .collect();
    let plans_why = divergent
        .iter()
        .map(|path| {
            // The query's plan finding (its shape, or its estimates).
            let prefix = format!("plan:query:{path}:");
            let finding = all.iter().find(|f| f.id.starts_with(&prefix));
            let mut why = match (finding, finding.and_then(|f| f.causes.first())) {
                (_, Some(c)) => format!("{}: {}", c.kind, c.evidence),
                (Some(f), None) => f.message.clone(),
                (None, None) => "the shape differs".to_string(),
            };
            let sql = source.plans.as_ref().and_then(|p| p.get(path)).map(|q| q.sql.as_str());
            let lits: Vec<String> = sql
                .map(string_literals)
                .unwrap_or_default()
                .into_iter()
                .filter(|l| !labels.contains(l.as_str()))
                .collect();
            if !raw && !lits.is_empty() {
                why.push_str(&format!(
                    "; it names literal values ({}): where they are production's values, synthetic values never equal them (a snapshot taken with --raw-values seeds production's frequent values)",
                    lits.iter().take(3).map(|l| crate::sql::literal(l)).collect::<Vec<_>>().join(", ")
                ));
            }
            (path.clone(), why)
        })
        .collect();
    Verification {
        findings,
        plans_same: same,
        plans_tied: tied,
        plans_total: total,
        plans_divergent: divergent,
        plans_why,
        kept: kept(target, source),
        fk_stats: fk_stats(source, target),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn string_literals_are_the_statements_tokens() {
        assert_eq!(
            super::string_literals(
                "SELECT 'it''s' AS \"'quoted name'\" -- 'a comment'\nFROM t WHERE x = E'a\\nb' AND y = 5"
            ),
            ["it's", "a\nb"]
        );
        assert!(super::string_literals("SELECT 1").is_empty());
    }
}
