//! The folder store: one `run-<time>.json` per run, written atomically.

use std::path::{Path, PathBuf};

use super::{Figure, Run, FORMAT, VERSION};
use crate::error::{Error, Result};

/// The run files in `dir`, oldest first; a folder that does not exist yet has none.
pub fn files(dir: &Path) -> Result<Vec<PathBuf>> {
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
    let mut json = serde_json::to_vec(run).expect("history serializes");
    json.push(b'\n');
    crate::fsutil::write_atomically(&path, &json)?;
    Ok(path)
}
