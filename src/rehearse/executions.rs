//! Timed executions (`--execute N`): each read run N times per side, interleaved, medians
//! and spreads compared, a side slower beyond the noise reported.

use super::*;

/// One timed run of a rehearsal's statement (see [`crate::explain::timed::run`]).
pub(super) async fn timed_run(
    client: &Client,
    q: &Runnable<'_>,
) -> std::result::Result<Run, String> {
    let (timing, plan) = crate::explain::timed::run(client, &q.sql, q.write).await?;
    Ok(Run { timing, plan })
}

/// `n` runs of every query on each side, interleaved (old, new, old, new...) so a noisy
/// moment of the machine falls on both; a query that fails is left out (its result finding
/// says why).
pub(super) async fn execute_all<'q>(
    old: &Target,
    new: &Target,
    queries: &[Runnable<'q>],
    n: usize,
    progress: &dyn Progress,
) -> Result<Vec<Timed<'q>>> {
    let (a, b) = (
        crate::capture::connect(old).await?,
        crate::capture::connect(new).await?,
    );
    let mut out = Vec::new();
    'queries: for (i, q) in queries.iter().enumerate() {
        let mut t = Timed {
            query: q.query,
            old: Vec::new(),
            new: Vec::new(),
        };
        for _ in 0..n {
            // One after the other, never at once: a query's parallel workers would compete
            // with the other side's for the cores and time that instead of the plan.
            for (client, runs) in [(&a, &mut t.old), (&b, &mut t.new)] {
                match timed_run(client, q).await {
                    Ok(r) => runs.push(r),
                    Err(_) => continue 'queries,
                }
            }
        }
        out.push(t);
        progress.step("executions", i + 1, queries.len(), "queries timed");
    }
    Ok(out)
}

/// Regressions (high) and improvements (info) from the timed runs, each with its runs for the
/// report's chart; a regression links the query's plan-shape finding when its plan changed.
pub(super) fn timing_findings(
    timed: &[Timed],
    found: &[Finding],
    limits: &Limits,
    names: (&str, &str),
) -> (Vec<Finding>, Vec<(String, crate::report::Detail)>) {
    let (mut out, mut details) = (Vec::new(), Vec::new());
    for t in timed {
        let timings = |r: &[Run]| r.iter().map(|x| x.timing).collect::<Vec<_>>();
        let (old, new) = (timings(&t.old), timings(&t.new));
        let alike = match (t.old.first(), t.new.first()) {
            (Some(a), Some(b)) => a.plan.fingerprint() == b.plan.fingerprint(),
            _ => false,
        };
        let rested = if alike {
            "on rehearsal's seeded rows, the same plan on both"
        } else {
            "on rehearsal's seeded rows, another plan on each"
        };
        let Some(mut f) = crate::compare::plan::executions::finding(
            &t.query.path,
            (&old, &new),
            limits,
            names,
            rested,
        ) else {
            continue;
        };
        f.weight = t.query.weight;
        f.causes.push(crate::compare::plan::executions::cause(
            found,
            &t.query.path,
            "the same plan shape on both: the executor or the costs of its nodes changed",
        ));
        f.plans = Some(Box::new(crate::snapshot::plan::PlanPair {
            left: t.old.first().map(|r| r.plan.clone()),
            right: t.new.first().map(|r| r.plan.clone()),
        }));
        let runs = |r: &[Run]| {
            r.iter()
                .map(|x| (x.timing.ms, x.timing.buffers + x.timing.temp))
                .collect()
        };
        details.push((
            f.id.clone(),
            crate::report::Detail::Timings {
                left: runs(&t.old),
                right: runs(&t.new),
            },
        ));
        out.push(f);
    }
    (out, details)
}
