//! `pgparity history export`: a history (folder or database) as tidy tables for notebooks and
//! warehouses — `findings` (one row per run × finding, status open, accepted or fixed),
//! `figures` (one row per run × side × table × column × figure) and `plans` (one row per run ×
//! side × query) — written run by run, Parquet or CSV. Columns in docs/history-format.md.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{db, folder, Run, RunFinding, Store};
use crate::error::{Error, Result};
use crate::export::{Kind, TableFormat, TableWriter, Values};
use crate::progress::Progress;

/// What an export wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    pub runs: u64,
    /// (file, rows) per table.
    pub files: Vec<(PathBuf, u64)>,
}

const FINDINGS: &[(&str, Kind)] = &[
    ("run_id", Kind::Int),
    ("at", Kind::Text),
    ("left_name", Kind::Text),
    ("right_name", Kind::Text),
    ("finding_id", Kind::Text),
    ("status", Kind::Text),
    ("severity", Kind::Text),
    ("message", Kind::Text),
];

const FIGURES: &[(&str, Kind)] = &[
    ("run_id", Kind::Int),
    ("at", Kind::Text),
    ("side", Kind::Text),
    ("table_name", Kind::Text),
    ("column_name", Kind::OptionalText),
    ("figure", Kind::Text),
    ("value", Kind::Float),
];

const PLANS: &[(&str, Kind)] = &[
    ("run_id", Kind::Int),
    ("at", Kind::Text),
    ("side", Kind::Text),
    ("query", Kind::Text),
    ("fingerprint", Kind::Text),
];

/// The three tables being written.
struct Tables {
    findings: TableWriter,
    figures: TableWriter,
    plans: TableWriter,
    paths: [PathBuf; 3],
    runs: u64,
}

impl Tables {
    fn create(dir: &Path, format: TableFormat) -> Result<Tables> {
        std::fs::create_dir_all(dir).map_err(|e| Error::write_io(dir, e))?;
        let path = |name: &str| dir.join(format!("{name}.{}", format.extension()));
        let paths = [path("findings"), path("figures"), path("plans")];
        Ok(Tables {
            findings: TableWriter::create(&paths[0], format, FINDINGS)?,
            figures: TableWriter::create(&paths[1], format, FIGURES)?,
            plans: TableWriter::create(&paths[2], format, PLANS)?,
            paths,
            runs: 0,
        })
    }

    /// One run: its findings (`fixed`: open in the previous run, gone in this one), figures
    /// and plans.
    fn add(&mut self, id: i64, run: &Run, fixed: &[RunFinding]) -> Result<()> {
        self.runs += 1;
        let lists = [
            ("open", &run.findings[..]),
            ("accepted", &run.accepted[..]),
            ("fixed", fixed),
        ];
        let n = lists.iter().map(|(_, l)| l.len()).sum::<usize>();
        let same = |v: &str| vec![v.to_string(); n];
        let mut status = Vec::with_capacity(n);
        let (mut ids, mut severity, mut message) = (Vec::new(), Vec::new(), Vec::new());
        for (s, list) in lists {
            for f in list {
                status.push(s.to_string());
                ids.push(f.id.clone());
                severity.push(f.severity.name().to_string());
                message.push(f.message.clone());
            }
        }
        self.findings.write(vec![
            Values::Int(vec![id; n]),
            Values::Text(same(&run.at)),
            Values::Text(same(&run.left)),
            Values::Text(same(&run.right)),
            Values::Text(ids),
            Values::Text(status),
            Values::Text(severity),
            Values::Text(message),
        ])?;
        let n = run.figures.len();
        let f = &run.figures;
        self.figures.write(vec![
            Values::Int(vec![id; n]),
            Values::Text(vec![run.at.clone(); n]),
            Values::Text(f.iter().map(|f| f.side.clone()).collect()),
            Values::Text(f.iter().map(|f| f.table.clone()).collect()),
            Values::OptionalText(f.iter().map(|f| f.column.clone()).collect()),
            Values::Text(f.iter().map(|f| f.figure.clone()).collect()),
            Values::Float(f.iter().map(|f| f.value).collect()),
        ])?;
        let n = run.plans.len();
        let p = &run.plans;
        self.plans.write(vec![
            Values::Int(vec![id; n]),
            Values::Text(vec![run.at.clone(); n]),
            Values::Text(p.iter().map(|p| p.side.clone()).collect()),
            Values::Text(p.iter().map(|p| p.query.clone()).collect()),
            Values::Text(p.iter().map(|p| p.fingerprint.clone()).collect()),
        ])?;
        Ok(())
    }

    fn finish(self) -> Result<Exported> {
        let [a, b, c] = self.paths;
        Ok(Exported {
            runs: self.runs,
            files: vec![
                (a, self.findings.finish()?),
                (b, self.figures.finish()?),
                (c, self.plans.finish()?),
            ],
        })
    }
}

/// Writes the whole history in `store` as `findings`, `figures` and `plans` tables into the
/// folder `out` (created), one run in memory at a time.
pub fn export(
    store: &Store,
    format: TableFormat,
    out: &Path,
    progress: &dyn Progress,
) -> Result<Exported> {
    let empty = match store {
        Store::Folder(dir) => folder::files(dir)?.is_empty(),
        Store::Database(t) => db::load(t, 1)?.is_empty(),
    };
    if empty {
        return Err(Error::Usage(format!(
            "--from {}: no runs there; hint: check --history writes them",
            store.describe()
        )));
    }
    let mut tables = Tables::create(out, format)?;
    progress.start("export", &format!("exporting {}", store.describe()));
    match store {
        Store::Folder(dir) => {
            let mut previous: Vec<RunFinding> = Vec::new();
            let mut id = 0;
            folder::each(dir, usize::MAX, |run| {
                id += 1;
                let now: BTreeSet<&str> = run.findings.iter().map(|f| f.id.as_str()).collect();
                let fixed: Vec<RunFinding> = previous
                    .iter()
                    .filter(|f| !now.contains(f.id.as_str()))
                    .cloned()
                    .collect();
                tables.add(id, &run, &fixed)?;
                progress.step("export", id as usize, 0, "runs");
                previous = run.findings;
                Ok(())
            })?;
        }
        Store::Database(t) => {
            let mut n = 0;
            db::each(t, |id, run, fixed| {
                n += 1;
                tables.add(id, &run, &fixed)?;
                progress.step("export", n, 0, "runs");
                Ok(())
            })?;
        }
    }
    let done = tables.finish()?;
    progress.finish("export", &format!("{} runs", done.runs));
    Ok(done)
}

const PROFILE: &[(&str, Kind)] = &[
    ("environment", Kind::Text),
    ("table_name", Kind::Text),
    ("column_name", Kind::OptionalText),
    ("figure", Kind::Text),
    ("value", Kind::Float),
];

/// One environment's profile as a table: one row per table × column × figure (the history's
/// figures), into `path`. Returns the rows written.
pub fn profile(snap: &crate::snapshot::Snapshot, format: TableFormat, path: &Path) -> Result<u64> {
    let (figures, _) = super::figures_of("right", snap);
    let n = figures.len();
    let mut t = TableWriter::create(path, format, PROFILE)?;
    t.write(vec![
        Values::Text(vec![snap.meta.environment.clone(); n]),
        Values::Text(figures.iter().map(|f| f.table.clone()).collect()),
        Values::OptionalText(figures.iter().map(|f| f.column.clone()).collect()),
        Values::Text(figures.iter().map(|f| f.figure.clone()).collect()),
        Values::Float(figures.iter().map(|f| f.value).collect()),
    ])?;
    t.finish()
}
