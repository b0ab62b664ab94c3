//! History for scheduled runs: each `check --history DIR` keeps its open findings as one small
//! JSON file (`run-<time>.json`); the report then says what is new, what was fixed and what
//! persists since the previous run, and shows the counts by severity over the recent runs.
//! The clock is the caller's: `record` takes the time, nothing here reads it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::finding::Severity;
use crate::report::Report;

const FORMAT: &str = "pgparity-history";
const VERSION: u32 = 1;
/// Runs shown in the trend.
const TREND: usize = 12;

/// One run as kept on disk: its open findings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Run {
    pub format: String,
    pub version: u32,
    /// RFC 3339.
    pub at: String,
    pub left: String,
    pub right: String,
    pub findings: Vec<RunFinding>,
}

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

/// This run's open findings.
pub fn run_of(report: &Report, at: &str) -> Run {
    Run {
        format: FORMAT.into(),
        version: VERSION,
        at: at.into(),
        left: report.left.name.clone(),
        right: report.right.name.clone(),
        findings: report
            .open()
            .map(|e| RunFinding {
                id: e.finding.id.clone(),
                severity: e.finding.severity,
                message: e.finding.message.clone(),
            })
            .collect(),
    }
}

/// Earlier runs in `dir`, oldest first; a folder that does not exist yet has none.
pub fn load(dir: &Path) -> Result<Vec<Run>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::Usage(format!(
                "--history {}: {}",
                dir.display(),
                crate::error::io_message(&e)
            )))
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("run-") && n.ends_with(".json"))
        })
        .collect();
    files.sort();
    let mut runs = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| {
            Error::Usage(format!("{}: {}", f.display(), crate::error::io_message(&e)))
        })?;
        let run: Run = serde_json::from_str(&text).map_err(|e| {
            Error::Usage(format!(
                "{}: not a pgparity history file ({e}); hint: remove it from the history folder",
                f.display()
            ))
        })?;
        if run.format != FORMAT || run.version > VERSION {
            return Err(Error::Usage(format!(
                "{}: history format {} version {} is not one this pgparity reads; hint: upgrade pgparity",
                f.display(),
                run.format,
                run.version
            )));
        }
        runs.push(run);
    }
    Ok(runs)
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
    }
}

/// A history folder opened for one run. The earlier runs are read when it opens — before any
/// capture, so a broken folder fails fast — and this run is recorded only after its report is
/// out, so a run that fails midway leaves no trace.
pub struct Tracker {
    dir: PathBuf,
    earlier: Vec<Run>,
}

impl Tracker {
    pub fn open(dir: &Path) -> Result<Tracker> {
        Ok(Tracker {
            dir: dir.to_path_buf(),
            earlier: load(dir)?,
        })
    }

    /// Sets `report.history` (new, fixed, persisting, trend) from this run taken at `at`
    /// (RFC 3339); returns the run to [`Tracker::record`].
    pub fn attach(&self, report: &mut Report, at: &str) -> Run {
        let run = run_of(report, at);
        report.history = Some(diff(&self.earlier, &run));
        run
    }

    /// Writes `run` into the folder; returns the file written.
    pub fn record(&self, run: &Run) -> Result<PathBuf> {
        record(&self.dir, run)
    }
}

/// Writes `run` into `dir` (created if needed), atomically.
pub fn record(dir: &Path, run: &Run) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::Usage(format!(
            "--history {}: {}",
            dir.display(),
            crate::error::io_message(&e)
        ))
    })?;
    let stamp: String = run
        .at
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let path = dir.join(format!("run-{stamp}.json"));
    let mut json = serde_json::to_vec_pretty(run).expect("history serializes");
    json.push(b'\n');
    crate::fsutil::write_atomically(&path, &json)?;
    Ok(path)
}
