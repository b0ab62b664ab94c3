//! `pgparity seed`: confirmation, the request, and what was seeded (and verified) on stderr.

use std::io::IsTerminal;

use pgparity::config::Config;
use pgparity::error::{Error, Result};
use pgparity::progress::Progress;
use pgparity::run;

use super::args::SeedArgs;
use super::resolve::live_side;

pub fn seed_command(config: &Config, a: SeedArgs, progress: &dyn Progress) -> Result<u8> {
    let target = live_side(
        config,
        &a.into,
        "--into",
        "name an environment or give a connection string",
    )?;
    if target.protected {
        return Err(Error::Usage(format!(
            "refusing to seed {}: it is marked protected in the config; hint: seed a staging environment",
            target.name
        )));
    }
    if !a.yes {
        let shown = target
            .conninfo
            .resolve(&pgparity::conninfo::ProcessEnv)
            .map(|r| r.describe())
            .unwrap_or_else(|_| target.name.clone());
        if !std::io::stdin().is_terminal() {
            return Err(Error::Usage(format!(
                "seed writes into {} ({shown}); hint: pass --yes to confirm (stdin is not a terminal)",
                target.name
            )));
        }
        eprint!(
            "seed will write synthetic rows into {} ({shown}){}. Type yes to go on: ",
            target.name,
            if a.truncate {
                ", emptying its tables first"
            } else {
                ""
            }
        );
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        if answer.trim() != "yes" {
            return Err(Error::Usage("seed cancelled".into()));
        }
    }
    let req = run::SeedRequest {
        snapshot: a.from.clone(),
        target,
        options: pgparity::seed::SeedOptions {
            scale: a.scale,
            rows: a.rows.into_iter().collect(),
            seed: a.seed,
            include: a.include.clone(),
            skip: a.skip.clone(),
            create_schema: a.create_schema,
            truncate: a.truncate,
            // One session stays open beside the streams (the schema, the marks, the keys).
            streams: a
                .streams
                .min(config.capture.max_connections.saturating_sub(1).max(1)),
        },
        verify: a.verify,
        capture: config.capture.clone(),
        profile: config.profile.clone(),
        thresholds: config.thresholds.clone(),
    };
    let (report, verification) = run::seed(&req, progress)?;
    for p in &report.problems {
        eprintln!("note: {}: {}", p.area, p.message);
    }
    let rows = report.rows();
    eprintln!(
        "seeded {} tables, {} rows in {:.1}s (load {:.1}s, {} rows/s)",
        report.tables.len(),
        pgparity::finding::thousands(rows as f64),
        report.seconds,
        report.load_seconds,
        pgparity::finding::thousands(rows as f64 / report.load_seconds.max(1e-9))
    );
    if !report.skipped.is_empty() {
        eprintln!(
            "skipped {} table(s), left empty (each named above with its reason): {}",
            report.skipped.len(),
            report
                .skipped
                .iter()
                .map(|(t, _)| t.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let incomplete = u8::from(!report.skipped.is_empty());
    let Some(v) = verification else {
        return Ok(incomplete);
    };
    for f in &v.findings {
        eprintln!("  {} {}: {}", f.severity, f.id, f.message);
    }
    // Only what could hide a bug fails the run: a low finding is said, not failed on.
    let serious = v
        .findings
        .iter()
        .filter(|f| f.severity >= pgparity::finding::Severity::Medium)
        .count();
    eprintln!(
        "verify: {} data findings against the snapshot at the configured thresholds ({serious} of medium severity or higher){}",
        v.findings.len(),
        if req.options.scale != 1.0 || !req.options.rows.is_empty() {
            " (volume left out: a scale or row counts were asked for)"
        } else {
            ""
        }
    );
    if !v.fk_stats.is_empty() {
        let differ = v.fk_stats.iter().filter(|f| f.differs).count();
        eprintln!(
            "verify: pg_stats of {} foreign-key column(s), snapshot vs seeded ({differ} differ):",
            v.fk_stats.len()
        );
        for f in &v.fk_stats {
            eprintln!("  {}", f.describe());
        }
    }
    if v.plans_total > 0 {
        eprintln!(
            "verify: {} of {} corpus queries plan with the same shape as in the snapshot, {} more differ only by a cost tie{}",
            v.plans_same,
            v.plans_total,
            v.plans_tied,
            if v.plans_divergent.is_empty() {
                String::new()
            } else {
                format!(" (different: {})", v.plans_divergent.join(", "))
            }
        );
        for (q, why) in &v.plans_why {
            eprintln!("  {q}: {why}");
        }
    }
    if !v.kept.is_empty() {
        eprintln!(
            "verify: {} fact(s) of the profile held at another share than production's:",
            v.kept.len()
        );
        for k in &v.kept {
            eprintln!("  {k}");
        }
    }
    Ok(u8::from(serious > 0).max(incomplete))
}
