//! History for scheduled runs: each `check --history` run keeps its findings (open and
//! accepted) and both sides' figures (rows, NULL rates, distinct counts, class shares, fan-out,
//! plan fingerprints) in a store — a folder of JSON files or a schema of its own in a
//! PostgreSQL database — and the report then says what is new, what was fixed and what persists
//! since the previous run, and shows the counts by severity over the recent runs. The clock is
//! the caller's: `record` takes the time, nothing here reads it.

pub mod db;
pub mod export;
mod folder;
pub mod site;
pub mod trend;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::capture::Target;
use crate::error::{Error, Result};
use crate::finding::Severity;
use crate::report::Report;
use crate::snapshot::Snapshot;

pub use crate::report::since::{Change, History, Point, RunFinding};
pub use folder::record;
pub use trend::Recent;

const FORMAT: &str = "pgparity-history";
/// The run file's version (a history folder's runs, and the runs a database keeps as JSON).
pub const VERSION: u32 = 1;
/// Runs shown in the trend.
const TREND: usize = 12;

/// One run as kept: its open findings, its accepted ones, both sides' figures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Run {
    pub format: String,
    pub version: u32,
    /// RFC 3339.
    pub at: String,
    pub left: String,
    pub right: String,
    /// Open findings (stale and expired acceptances included).
    pub findings: Vec<RunFinding>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted: Vec<RunFinding>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub figures: Vec<Figure>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plans: Vec<PlanPrint>,
}

/// One measured figure of one side: a table's (`column` empty: `rows`; a relationship's
/// fan-out, keyed `child(cols)->parent(cols)`), or a column's (`null_rate`, `distinct`,
/// `class:NAME` — the share of non-NULL values in that character class).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Figure {
    /// `left` or `right`.
    pub side: String,
    pub table: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub figure: String,
    pub value: f64,
}

/// A corpus query's plan fingerprint on one side (costs and estimates aside).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlanPrint {
    pub side: String,
    pub query: String,
    pub fingerprint: String,
}

fn counts(findings: &[RunFinding]) -> [usize; 5] {
    let mut c = [0; 5];
    for f in findings {
        if let Some(i) = Severity::ALL.iter().position(|s| *s == f.severity) {
            c[i] += 1;
        }
    }
    c
}

/// This run: its findings from the report, its figures from both sides' snapshots.
pub fn run_of(report: &Report, sides: Option<(&Snapshot, &Snapshot)>, at: &str) -> Run {
    let kept = |open: bool| {
        report
            .findings
            .iter()
            .filter(|e| e.status.is_open() == open)
            .map(|e| RunFinding {
                id: e.finding.id.clone(),
                severity: e.finding.severity,
                message: e.finding.message.clone(),
            })
            .collect()
    };
    let (figures, plans) = match sides {
        Some((l, r)) => {
            let (mut f, mut p) = figures_of("left", l);
            let (f2, p2) = figures_of("right", r);
            f.extend(f2);
            p.extend(p2);
            (f, p)
        }
        None => Default::default(),
    };
    Run {
        format: FORMAT.into(),
        version: VERSION,
        at: at.into(),
        left: report.left.name.clone(),
        right: report.right.name.clone(),
        findings: kept(true),
        accepted: kept(false),
        figures,
        plans,
    }
}

/// One side's figures: rows per table; NULL rate, distinct count and class shares per
/// column; fan-out quantiles, orphans and childless parents per relationship; plan
/// fingerprints per query.
pub fn figures_of(side: &str, snap: &Snapshot) -> (Vec<Figure>, Vec<PlanPrint>) {
    let mut out = Vec::new();
    let mut push = |table: &str, column: Option<&str>, figure: String, value: f64| {
        if value.is_finite() {
            out.push(Figure {
                side: side.into(),
                table: table.into(),
                column: column.map(Into::into),
                figure,
                value,
            });
        }
    };
    if let Some(p) = &snap.profile {
        for (table, t) in p.tables.iter() {
            push(table, None, "rows".into(), t.rows);
            for (name, c) in &t.columns {
                let col = Some(name.as_str());
                if c.rows > 0 {
                    push(
                        table,
                        col,
                        "null_rate".into(),
                        c.nulls as f64 / c.rows as f64,
                    );
                }
                if let Some(d) = &c.distinct {
                    push(table, col, "distinct".into(), d.value);
                }
                let non_null = c.rows.saturating_sub(c.nulls);
                if non_null > 0 {
                    for (class, n) in &c.classes {
                        push(
                            table,
                            col,
                            format!("class:{class}"),
                            *n as f64 / non_null as f64,
                        );
                    }
                }
            }
        }
        for (key, r) in &p.relationships {
            let names = ["fanout_p50", "fanout_p90", "fanout_p99", "fanout_p999"];
            for (name, v) in names.iter().zip(&r.fanout) {
                push(key, None, (*name).into(), *v);
            }
            push(key, None, "fanout_max".into(), r.max);
            push(key, None, "orphans".into(), r.orphans as f64);
            push(key, None, "childless".into(), r.childless as f64);
        }
    }
    let plans = snap
        .plans
        .iter()
        .flatten()
        .filter_map(|(query, q)| {
            q.fingerprint.as_ref().map(|f| PlanPrint {
                side: side.into(),
                query: query.clone(),
                fingerprint: f.clone(),
            })
        })
        .collect();
    (out, plans)
}

/// What changed between the last of `earlier` and `current`.
pub fn diff(earlier: &[Run], current: &Run) -> History {
    let prev = earlier.last();
    let ids = |r: Option<&Run>| -> std::collections::BTreeSet<String> {
        r.map(|r| r.findings.iter().map(|f| f.id.clone()).collect())
            .unwrap_or_default()
    };
    let (before, now) = (ids(prev), ids(Some(current)));
    let mut trend: Vec<(String, [usize; 5])> = earlier
        .iter()
        .chain(std::iter::once(current))
        .map(|r| (r.at.clone(), counts(&r.findings)))
        .collect();
    if trend.len() > TREND {
        trend.drain(..trend.len() - TREND);
    }
    History {
        previous: prev.map(|p| p.at.clone()),
        new: current
            .findings
            .iter()
            .filter(|f| prev.is_some() && !before.contains(&f.id))
            .cloned()
            .collect(),
        fixed: prev
            .map(|p| {
                p.findings
                    .iter()
                    .filter(|f| !now.contains(&f.id))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default(),
        persisting: current
            .findings
            .iter()
            .filter(|f| before.contains(&f.id))
            .cloned()
            .collect(),
        trend,
        series: Default::default(),
        changed: Vec::new(),
    }
}

/// Where runs are kept: a folder of JSON files, or a PostgreSQL database (schema
/// `pgparity_history`, created and migrated by the tool).
#[derive(Debug, Clone)]
pub enum Store {
    Folder(PathBuf),
    Database(Target),
}

impl Store {
    /// Where it is, for messages (no password).
    pub fn describe(&self) -> String {
        match self {
            Store::Folder(p) => p.display().to_string(),
            Store::Database(t) => format!("database {}", t.describe()),
        }
    }
}

/// Whether a `--history` value is a connection string rather than a folder: a
/// `postgres://` or `postgresql://` URL, or libpq `key=value` pairs starting with a
/// connection keyword (`host=`, `dbname=`...; a malformed one is then an error, not a path). (A string that looks like a URL of another scheme is refused by the caller, never
/// taken for a path.)
pub fn is_connection(s: &str) -> bool {
    let s = s.trim();
    if s.starts_with("postgres://") || s.starts_with("postgresql://") {
        return true;
    }
    s.split_whitespace().next().is_some_and(|w| {
        [
            "host=",
            "hostaddr=",
            "dbname=",
            "service=",
            "port=",
            "user=",
        ]
        .iter()
        .any(|k| w.starts_with(k))
    })
}

/// A store opened for one run. The earlier runs are read when it opens — before any capture,
/// so a broken store fails fast — and this run is recorded only after its report is out, in
/// one file written atomically or one transaction, so a run that fails midway leaves no trace.
pub struct Tracker {
    store: Store,
    /// The last runs' findings (no figures: those are read again for the lines, filtered).
    earlier: Vec<Run>,
    recent: Recent,
}

impl Tracker {
    pub fn open(store: Store) -> Result<Tracker> {
        let (earlier, recent) = match &store {
            Store::Folder(dir) => {
                let mut recent = Recent::default();
                folder::each(dir, trend::RECENT, |r| {
                    recent.add(&r.figures, &r.plans);
                    Ok(())
                })?;
                let mut runs = folder::load(dir, TREND, &|_| false)?;
                for r in &mut runs {
                    r.plans = Vec::new();
                }
                (runs, recent)
            }
            Store::Database(t) => (db::load(t, TREND)?, db::recent(t, trend::RECENT)?),
        };
        Ok(Tracker {
            store,
            earlier,
            recent,
        })
    }

    /// Sets `report.history` from this run taken at `at` (RFC 3339), with both sides' figures
    /// when their snapshots are given: new, fixed and persisting findings, the trend, each
    /// listed finding's line over the recent runs, and what changed in production itself
    /// (judged with `thresholds`). Returns the run to [`Tracker::record`].
    pub fn attach(
        &self,
        report: &mut Report,
        sides: Option<(&Snapshot, &Snapshot)>,
        at: &str,
        thresholds: &crate::compare::thresholds::ThresholdSet,
    ) -> Result<Run> {
        let run = run_of(report, sides, at);
        let mut history = diff(&self.earlier, &run);
        history.changed = trend::changes(&run, &self.recent, thresholds);
        let listed: Vec<&crate::finding::Finding> = report.open().map(|e| &e.finding).collect();
        let wanted: std::collections::BTreeSet<(String, String)> =
            listed.iter().filter_map(|f| trend::figure_of(f)).collect();
        if !wanted.is_empty() {
            let past = match &self.store {
                Store::Folder(dir) => folder::load(dir, TREND - 1, &|f| {
                    wanted.contains(&(trend::object_of(f), f.figure.clone()))
                })?,
                Store::Database(t) => db::figures(t, TREND - 1, &wanted)?,
            };
            let runs: Vec<&Run> = past.iter().chain(std::iter::once(&run)).collect();
            history.series = trend::series(&listed, &runs);
        }
        report.history = Some(history);
        Ok(run)
    }

    /// Keeps `run`; returns where (a file, or the database).
    pub fn record(&self, run: &Run) -> Result<String> {
        match &self.store {
            Store::Folder(dir) => record(dir, run).map(|p| p.display().to_string()),
            Store::Database(t) => {
                let fixed = diff(&self.earlier, run).fixed;
                db::record(t, run, &fixed)?;
                Ok(self.store.describe())
            }
        }
    }
}

/// Keeps a fleet run's shard report in the store (`shard`: `(1, 1)` when the run was not
/// split); returns where.
pub fn record_fleet_shard(
    store: &Store,
    fleet_run: &str,
    shard: (usize, usize),
    at: &str,
    report: &crate::report::fleet::FleetReport,
) -> Result<String> {
    let json = report.render_json();
    match store {
        Store::Folder(dir) => {
            folder::record_shard(dir, fleet_run, shard, &json).map(|p| p.display().to_string())
        }
        Store::Database(t) => {
            db::record_shard(t, fleet_run, shard, at, &json)?;
            Ok(store.describe())
        }
    }
}

/// A fleet run's report, its shards merged; every shard must have been kept.
pub fn fleet_run(store: &Store, fleet_run: &str) -> Result<crate::report::fleet::FleetReport> {
    let kept = match store {
        Store::Folder(dir) => folder::shards(dir, fleet_run)?,
        Store::Database(t) => db::shards(t, fleet_run)?,
    };
    let Some(&(_, n, _)) = kept.first() else {
        return Err(Error::Usage(format!(
            "{}: no fleet run '{fleet_run}'; hint: run pgparity fleet --history {} --run-id {fleet_run} first",
            store.describe(),
            store.describe()
        )));
    };
    let have: std::collections::BTreeSet<usize> = kept.iter().map(|(k, _, _)| *k).collect();
    if kept.iter().any(|(_, m, _)| *m != n) {
        return Err(Error::Usage(format!(
            "fleet run '{fleet_run}': its shards were split in different numbers; hint: run every shard with the same --shard K/N"
        )));
    }
    let missing: Vec<String> = (1..=n)
        .filter(|k| !have.contains(k))
        .map(|k| format!("{k}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Usage(format!(
            "fleet run '{fleet_run}': shard {} not kept yet; hint: wait for every shard to end (or run it again)",
            missing.join(", ")
        )));
    }
    let mut reports = Vec::new();
    for (k, _, json) in kept {
        let r: crate::report::fleet::FleetReport = serde_json::from_str(&json).map_err(|e| {
            Error::Usage(format!(
                "fleet run '{fleet_run}': shard {k}/{n} is not a fleet report: {e}"
            ))
        })?;
        reports.push(r);
    }
    crate::report::fleet::FleetReport::merge(reports)
        .map_err(|m| Error::Usage(format!("fleet run '{fleet_run}': {m}")))
}
