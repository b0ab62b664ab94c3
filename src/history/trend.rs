//! Trends from the history, the pure part: which figure a finding is about (for its line over
//! the last runs), and what changed in production itself since the previous runs — a table's
//! volume far outside its recent range, a NULL rate or a class share that moved sharply, a
//! query whose plan changed there. Single-environment drift over time, told apart from the
//! parity gaps between the two sides.

use std::collections::BTreeMap;

use super::{Change, Figure, PlanPrint, Point, Run};
use crate::compare::thresholds::ThresholdSet;
use crate::finding::{Category, Finding};

/// Runs the recent range of a figure is taken over.
pub const RECENT: usize = 7;

/// A figure's key: (table, column, figure).
pub type Key = (String, Option<String>, String);

/// Production's (the right side's) recent figures: their range over the last runs, and the
/// previous run's plan fingerprints.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recent {
    /// Runs the ranges cover.
    pub runs: usize,
    pub ranges: BTreeMap<Key, (f64, f64)>,
    pub plans: BTreeMap<String, String>,
}

impl Recent {
    /// Adds one earlier run's right-side figures (and, the latest added winning, its plans).
    pub fn add(&mut self, figures: &[Figure], plans: &[PlanPrint]) {
        self.runs += 1;
        for f in figures.iter().filter(|f| f.side == "right") {
            let e = self
                .ranges
                .entry((f.table.clone(), f.column.clone(), f.figure.clone()))
                .or_insert((f.value, f.value));
            e.0 = e.0.min(f.value);
            e.1 = e.1.max(f.value);
        }
        let right: BTreeMap<String, String> = plans
            .iter()
            .filter(|p| p.side == "right")
            .map(|p| (p.query.clone(), p.fingerprint.clone()))
            .collect();
        if !right.is_empty() {
            self.plans = right;
        }
    }
}

/// The figure a finding is about, as (object, figure): a volume gap's rows, a NULL gap's
/// rate, a distinct-count gap's count, an encoding gap's class share, a relationship's
/// fan-out maximum, orphans or childless parents. Other findings have no line.
pub fn figure_of(f: &Finding) -> Option<(String, String)> {
    let aspect = f.id.rsplit(':').next().unwrap_or("");
    let figure = match f.category {
        Category::Volume => "rows".to_string(),
        Category::Nulls => "null_rate".into(),
        Category::Distinct => "distinct".into(),
        Category::Encoding => format!("class:{aspect}"),
        Category::Relationship => match aspect {
            "fanout" => "fanout_max".into(),
            "childless" => "childless".into(),
            a if a.starts_with("orphans") => "orphans".into(),
            _ => return None,
        },
        _ => return None,
    };
    Some((f.object.clone(), figure))
}

/// The object a figure is reported under: its table, or `table.column`.
pub fn object_of(f: &Figure) -> String {
    match &f.column {
        Some(c) => format!("{}.{c}", f.table),
        None => f.table.clone(),
    }
}

fn pct(v: f64) -> String {
    format!("{:.1} %", v * 100.0)
}

/// What changed in production (the right side of `now`) against its recent figures.
pub fn changes(now: &Run, recent: &Recent, thresholds: &ThresholdSet) -> Vec<Change> {
    let mut out = Vec::new();
    if recent.runs == 0 {
        return out;
    }
    let span = |lo: f64, hi: f64, show: &dyn Fn(f64) -> String| {
        if lo == hi {
            show(lo)
        } else {
            format!("{}–{}", show(lo), show(hi))
        }
    };
    let window = format!(
        "over the last {} run{}",
        recent.runs,
        if recent.runs == 1 { "" } else { "s" }
    );
    for f in now.figures.iter().filter(|f| f.side == "right") {
        let key = (f.table.clone(), f.column.clone(), f.figure.clone());
        let Some(&(lo, hi)) = recent.ranges.get(&key) else {
            continue;
        };
        let object = object_of(f);
        let t = thresholds.get(&object);
        let v = f.value;
        let change = match f.figure.as_str() {
            "rows" => {
                let jumped = v > hi * t.drift_volume && v - hi >= 1000.0;
                let fell = v * t.drift_volume < lo && lo - v >= 1000.0;
                (jumped || fell).then(|| {
                    let rows = |x: f64| crate::finding::thousands(x);
                    (
                        span(lo, hi, &rows),
                        rows(v),
                        format!(
                            "{object} {} to {} rows in production, outside its range {window} ({})",
                            if jumped { "jumped" } else { "fell" },
                            rows(v),
                            span(lo, hi, &rows)
                        ),
                    )
                })
            }
            figure if figure == "null_rate" || figure.starts_with("class:") => {
                let out_by = (v - hi).max(lo - v);
                (out_by > t.drift_share).then(|| {
                    let what = if figure == "null_rate" {
                        "NULL rate".to_string()
                    } else {
                        format!("share of {} values", &figure["class:".len()..])
                    };
                    (
                        span(lo, hi, &pct),
                        pct(v),
                        format!(
                            "{object}: the {what} in production moved to {}, outside its range {window} ({})",
                            pct(v),
                            span(lo, hi, &pct)
                        ),
                    )
                })
            }
            _ => None,
        };
        if let Some((before, now, message)) = change {
            out.push(Change {
                object,
                figure: f.figure.clone(),
                before,
                now,
                message,
            });
        }
    }
    for p in now.plans.iter().filter(|p| p.side == "right") {
        if let Some(previous) = recent.plans.get(&p.query) {
            if *previous != p.fingerprint {
                out.push(Change {
                    object: format!("query:{}", p.query),
                    figure: "plan".into(),
                    before: previous.clone(),
                    now: p.fingerprint.clone(),
                    message: format!(
                        "{}: production's plan changed since the previous run",
                        p.query
                    ),
                });
            }
        }
    }
    out
}

/// Each listed finding's line over `runs` (oldest first, the current run last): both sides'
/// figure at each run, where the run has it.
pub fn series(findings: &[&Finding], runs: &[&Run]) -> BTreeMap<String, Vec<Point>> {
    let wanted: BTreeMap<(String, String), Vec<&str>> =
        findings.iter().fold(BTreeMap::new(), |mut m, f| {
            if let Some(k) = figure_of(f) {
                m.entry(k).or_insert_with(Vec::new).push(&f.id);
            }
            m
        });
    let mut out: BTreeMap<String, Vec<Point>> = BTreeMap::new();
    if wanted.is_empty() {
        return out;
    }
    for run in runs {
        let mut at_run: BTreeMap<(String, String), (Option<f64>, Option<f64>)> = BTreeMap::new();
        for f in &run.figures {
            let key = (object_of(f), f.figure.clone());
            if !wanted.contains_key(&key) {
                continue;
            }
            let e = at_run.entry(key).or_default();
            if f.side == "left" {
                e.0 = Some(f.value);
            } else {
                e.1 = Some(f.value);
            }
        }
        for (key, ids) in &wanted {
            let (left, right) = at_run.get(key).copied().unwrap_or_default();
            if left.is_none() && right.is_none() {
                continue;
            }
            for id in ids {
                out.entry(id.to_string()).or_default().push(Point {
                    at: run.at.clone(),
                    left,
                    right,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fig(side: &str, table: &str, column: Option<&str>, figure: &str, value: f64) -> Figure {
        Figure {
            side: side.into(),
            table: table.into(),
            column: column.map(Into::into),
            figure: figure.into(),
            value,
        }
    }

    fn run(at: &str, figures: Vec<Figure>, plan: &str) -> Run {
        Run {
            format: "pgparity-history".into(),
            version: 1,
            at: at.into(),
            left: "staging".into(),
            right: "production".into(),
            findings: Vec::new(),
            accepted: Vec::new(),
            figures,
            plans: vec![PlanPrint {
                side: "right".into(),
                query: "q.sql".into(),
                fingerprint: plan.into(),
            }],
        }
    }

    #[test]
    fn production_drift_fires_outside_the_recent_range_and_only_there() {
        let day = |rows: f64, nulls: f64, plan: &str, at: &str| {
            run(
                at,
                vec![
                    fig("right", "public.t", None, "rows", rows),
                    fig("right", "public.t", Some("c"), "null_rate", nulls),
                    // The left side's own jumps are not production's drift.
                    fig("left", "public.t", None, "rows", rows * 100.0),
                ],
                plan,
            )
        };
        let mut recent = Recent::default();
        for (i, rows) in [10_000.0, 11_000.0, 10_500.0].into_iter().enumerate() {
            let r = day(rows, 0.02, "A", &format!("day{i}"));
            recent.add(&r.figures, &r.plans);
        }
        let t = ThresholdSet::default();
        // Within its range, or moved a little: nothing.
        assert!(changes(&day(12_000.0, 0.05, "A", "d"), &recent, &t).is_empty());
        // Volume jumped, NULL rate moved 20 points, the plan changed.
        let c = changes(&day(30_000.0, 0.22, "B", "d"), &recent, &t);
        let what: Vec<(&str, &str)> = c
            .iter()
            .map(|c| (c.object.as_str(), c.figure.as_str()))
            .collect();
        assert_eq!(
            what,
            vec![
                ("public.t", "rows"),
                ("public.t.c", "null_rate"),
                ("query:q.sql", "plan")
            ]
        );
        assert_eq!(
            c[0].message,
            "public.t jumped to 30,000 rows in production, outside its range over the last 3 runs (10,000–11,000)"
        );
        // A fall, and a table-level override that widens the band.
        assert_eq!(changes(&day(4_000.0, 0.02, "A", "d"), &recent, &t).len(), 1);
        let mut wide = ThresholdSet::default();
        wide.objects.insert(
            "public.t".into(),
            crate::compare::thresholds::Overrides {
                drift_volume: Some(5.0),
                ..Default::default()
            },
        );
        assert!(changes(&day(30_000.0, 0.02, "A", "d"), &recent, &wide).is_empty());
        // No earlier run: nothing to compare with.
        assert!(changes(&day(30_000.0, 0.5, "B", "d"), &Recent::default(), &t).is_empty());
    }

    #[test]
    fn a_findings_line_takes_both_sides_figure_at_each_run() {
        let f = Finding::new(
            Category::Nulls,
            crate::finding::Severity::Critical,
            "public.t.c",
            "",
        );
        let runs: Vec<Run> = (0..3)
            .map(|i| {
                run(
                    &format!("day{i}"),
                    vec![
                        fig("left", "public.t", Some("c"), "null_rate", 0.0),
                        fig("right", "public.t", Some("c"), "null_rate", 0.1 * i as f64),
                        fig("right", "public.t", None, "rows", 5.0),
                    ],
                    "A",
                )
            })
            .collect();
        let refs: Vec<&Run> = runs.iter().collect();
        let s = series(&[&f], &refs);
        let line = &s["nulls:public.t.c"];
        assert_eq!(line.len(), 3);
        assert_eq!(
            line.iter().map(|p| p.right.unwrap()).collect::<Vec<_>>(),
            vec![0.0, 0.1, 0.2]
        );
        assert!(line.iter().all(|p| p.left == Some(0.0)));
    }
}
