//! `pgparity history site`: the history as static pages (`report::site`). Every pair the
//! history holds — each fleet run's reference and targets (from its shards' reports, merged),
//! each check's two sides (from its runs) — with its runs in time order; each fleet run's
//! matrix and each check run's findings as a page of their own.

use std::collections::BTreeMap;
use std::path::Path;

use super::{db, folder, Store};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::report::site::{self, Pair, PairRun};

/// What the site holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub pairs: usize,
    pub fleet_runs: usize,
    pub check_runs: usize,
    pub files: usize,
}

type Pairs = BTreeMap<(String, String, &'static str), Pair>;

/// The pair of `reference` and `target`, made on first sight.
fn pair<'a>(
    pairs: &'a mut Pairs,
    kind: &'static str,
    reference: &str,
    target: &str,
) -> &'a mut Pair {
    pairs
        .entry((reference.to_string(), target.to_string(), kind))
        .or_insert_with(|| Pair {
            slug: site::slug(&[kind, reference, target]),
            kind,
            reference: reference.to_string(),
            target: target.to_string(),
            runs: Vec::new(),
        })
}

fn write(out: &Path, rel: &str, text: &str) -> Result<()> {
    let path = out.join(rel);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::Write {
            path: dir.display().to_string(),
            message: crate::error::io_message(&e),
            cause: Some(e),
        })?;
    }
    crate::fsutil::write_atomically(&path, text.as_bytes())
}

/// Writes the site of `store` into `out` (created); `now` (RFC 3339) is said on the index.
pub fn site(store: &Store, out: &Path, now: &str, progress: &dyn Progress) -> Result<Written> {
    let mut pairs = Pairs::new();
    let mut files = 0;
    // Fleet runs: every complete one, its shards merged, one at a time.
    let ids = match store {
        Store::Folder(dir) => folder::fleet_runs(dir)?,
        Store::Database(t) => db::fleet_runs(t)?,
    };
    progress.start("history site", "reading fleet runs");
    let mut fleet_runs = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let report = super::fleet_run(store, id)?;
        let page = format!("runs/fleet-{}.html", site::slug(&[id]));
        write(out, &page, &crate::report::fleet::render_html(&report))?;
        files += 1;
        let at = report.reference.captured_at.clone();
        let mut entries = Vec::new();
        for t in &report.targets {
            let mut findings = BTreeMap::new();
            for d in &report.differences {
                for c in d
                    .cells
                    .iter()
                    .filter(|c| c.target == t.name && c.status.is_open())
                {
                    let message = c.message.clone().unwrap_or_else(|| d.message.clone());
                    findings.insert(d.id.clone(), (c.severity, message));
                }
            }
            entries.push((
                t.name.clone(),
                PairRun {
                    at: at.clone(),
                    run: id.clone(),
                    report: page.clone(),
                    open: t.open,
                    findings,
                    error: t.error.clone(),
                },
            ));
        }
        fleet_runs.push((report.reference.name.clone(), entries));
        progress.step("history site", i + 1, ids.len(), "fleet runs read");
    }
    for (reference, entries) in fleet_runs {
        for (target, run) in entries {
            pair(&mut pairs, "fleet", &reference, &target)
                .runs
                .push(run);
        }
    }
    // Check runs.
    let mut check_runs = 0;
    let mut visit = |run: super::Run| -> Result<()> {
        check_runs += 1;
        let mut open = [0usize; 5];
        let mut findings = BTreeMap::new();
        for f in &run.findings {
            let i = crate::finding::Severity::ALL
                .iter()
                .position(|s| *s == f.severity)
                .unwrap_or(4);
            open[i] += 1;
            findings.insert(f.id.clone(), (f.severity, f.message.clone()));
        }
        let p = pair(&mut pairs, "check", &run.right, &run.left);
        let page = format!("runs/check-{}-{}.html", p.slug, p.runs.len() + 1);
        p.runs.push(PairRun {
            at: run.at.clone(),
            run: run.at.clone(),
            report: page,
            open,
            findings,
            error: None,
        });
        Ok(())
    };
    match store {
        Store::Folder(dir) => folder::each(dir, usize::MAX, &mut visit)?,
        Store::Database(t) => db::each(t, |_, r, _| visit(r))?,
    }
    let mut pairs: Vec<Pair> = pairs.into_values().collect();
    for p in &mut pairs {
        p.runs.sort_by(|a, b| a.at.cmp(&b.at));
        if p.kind == "check" {
            for r in &p.runs {
                write(out, &r.report, &site::render_check_run(p, r))?;
                files += 1;
            }
        }
        write(
            out,
            &format!("pairs/{}.html", p.slug),
            &site::render_pair(p),
        )?;
        files += 1;
    }
    write(out, "index.html", &site::render_index(&pairs, now))?;
    files += 1;
    progress.finish("history site", &format!("{} pairs", pairs.len()));
    Ok(Written {
        pairs: pairs.len(),
        fleet_runs: ids.len(),
        check_runs,
        files,
    })
}
