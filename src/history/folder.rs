//! The folder store: one `run-<time>.json` per run, written atomically.

use std::path::{Path, PathBuf};

use super::{Figure, Run, FORMAT, VERSION};
use crate::error::{Error, Result};

/// Makes the folder (and its parents) where it does not exist yet.
fn created(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::Usage(format!(
            "--history {}: {}",
            dir.display(),
            crate::error::io_message(&e)
        ))
    })
}

/// The folder's entries; `None` where it does not exist yet.
fn listing(dir: &Path) -> Result<Option<std::fs::ReadDir>> {
    match std::fs::read_dir(dir) {
        Ok(e) => Ok(Some(e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Usage(format!(
            "history {}: {}",
            dir.display(),
            crate::error::io_message(&e)
        ))),
    }
}

/// The run files in `dir`, oldest first; a folder that does not exist yet has none.
pub fn files(dir: &Path) -> Result<Vec<PathBuf>> {
    let Some(entries) = listing(dir)? else {
        return Ok(Vec::new());
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
    Ok(files)
}

/// One run file, checked.
pub fn read(f: &Path) -> Result<Run> {
    let text = std::fs::read_to_string(f)
        .map_err(|e| Error::Usage(format!("{}: {}", f.display(), crate::error::io_message(&e))))?;
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
    Ok(run)
}

/// Each of the last `n` runs in `dir`, oldest first, one file in memory at a time.
pub fn each(dir: &Path, n: usize, mut visit: impl FnMut(Run) -> Result<()>) -> Result<()> {
    let files = files(dir)?;
    for f in &files[files.len().saturating_sub(n)..] {
        visit(read(f)?)?;
    }
    Ok(())
}

/// The last `n` runs in `dir`, oldest first, each with only the figures `keep` wants.
pub fn load(dir: &Path, n: usize, keep: &dyn Fn(&Figure) -> bool) -> Result<Vec<Run>> {
    let mut runs = Vec::new();
    each(dir, n, |mut run| {
        run.figures.retain(|f| keep(f));
        runs.push(run);
        Ok(())
    })?;
    Ok(runs)
}

/// Writes `run` into `dir` (created if needed), atomically.
pub fn record(dir: &Path, run: &Run) -> Result<PathBuf> {
    created(dir)?;
    let stamp: String = run
        .at
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let path = dir.join(format!("run-{stamp}.json"));
    let mut json = serde_json::to_vec(run).expect("history serializes");
    json.push(b'\n');
    crate::fsutil::write_atomically(&path, &json)?;
    Ok(path)
}

/// A fleet shard's file: `fleet-<run>-<k>-of-<n>.json` (the run id made safe for a name).
fn shard_prefix(fleet_run: &str) -> String {
    let safe: String = fleet_run
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("fleet-{safe}-")
}

/// Keeps one shard's fleet report, replacing what that shard kept before.
pub fn record_shard(
    dir: &Path,
    fleet_run: &str,
    (shard, shards): (usize, usize),
    report: &str,
) -> Result<PathBuf> {
    created(dir)?;
    let path = dir.join(format!(
        "{}{shard}-of-{shards}.json",
        shard_prefix(fleet_run)
    ));
    crate::fsutil::write_atomically(&path, report.as_bytes())?;
    Ok(path)
}

/// A fleet run's kept shards: (shard, shards, report JSON), in shard order.
pub fn shards(dir: &Path, fleet_run: &str) -> Result<Vec<(usize, usize, String)>> {
    let prefix = shard_prefix(fleet_run);
    let Some(entries) = listing(dir)? else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for e in entries.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some((k, n)) = name
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".json"))
            .and_then(|r| r.split_once("-of-"))
            .and_then(|(k, n)| Some((k.parse::<usize>().ok()?, n.parse::<usize>().ok()?)))
        else {
            continue;
        };
        let text = std::fs::read_to_string(e.path())
            .map_err(|err| Error::snapshot(e.path(), crate::error::io_message(&err)))?;
        found.push((k, n, text));
    }
    found.sort_by_key(|(k, _, _)| *k);
    Ok(found)
}

/// The complete fleet runs kept in `dir` (every shard there), by their file names' run ids,
/// oldest first (by the files' times).
pub fn fleet_runs(dir: &Path) -> Result<Vec<String>> {
    let Some(entries) = listing(dir)? else {
        return Ok(Vec::new());
    };
    // run → (shards declared, shards found, newest file time)
    let mut runs: std::collections::BTreeMap<String, (usize, usize, std::time::SystemTime)> =
        Default::default();
    for e in entries.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name
            .strip_prefix("fleet-")
            .and_then(|r| r.strip_suffix(".json"))
        else {
            continue;
        };
        let Some((head, n)) = rest.rsplit_once("-of-") else {
            continue;
        };
        let Some((run, k)) = head.rsplit_once('-') else {
            continue;
        };
        let (Ok(_), Ok(n)) = (k.parse::<usize>(), n.parse::<usize>()) else {
            continue;
        };
        let at = e
            .metadata()
            .and_then(|m| m.modified())
            .unwrap_or(std::time::UNIX_EPOCH);
        let entry = runs
            .entry(run.to_string())
            .or_insert((n, 0, std::time::UNIX_EPOCH));
        entry.1 += 1;
        entry.2 = entry.2.max(at);
    }
    let mut done: Vec<(std::time::SystemTime, String)> = runs
        .into_iter()
        .filter(|(_, (n, found, _))| n == found)
        .map(|(run, (_, _, at))| (at, run))
        .collect();
    done.sort();
    Ok(done.into_iter().map(|(_, r)| r).collect())
}
