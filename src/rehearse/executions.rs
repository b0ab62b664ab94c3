//! Timed executions (`--execute N`): each read run N times per side, interleaved, medians
//! and spreads compared, a side slower beyond the noise reported.

use super::*;

/// One `EXPLAIN (ANALYZE, BUFFERS)` of a statement, in a transaction rolled back after it
/// (read-only for a read query).
pub(super) async fn timed_run(
    client: &Client,
    q: &Runnable<'_>,
) -> std::result::Result<Run, String> {
    client
        .batch_execute(if q.write {
            "BEGIN; SET LOCAL statement_timeout = '120s'"
        } else {
            "BEGIN READ ONLY; SET LOCAL statement_timeout = '120s'"
        })
        .await
        .map_err(|e| crate::capture::db_message(&e))?;
    let explain = format!(
        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {}",
        q.sql.trim().trim_end_matches(';')
    );
    let r = client.simple_query(&explain).await;
    let _ = client.batch_execute("ROLLBACK").await;
    let text = r
        .map_err(|e| crate::capture::db_message(&e))?
        .into_iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(String::from),
            _ => None,
        })
        .ok_or("EXPLAIN returned nothing")?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let top = &v[0];
    let plan = &top["Plan"];
    let n = |k: &str| plan[k].as_f64().unwrap_or(0.0);
    Ok(Run {
        ms: top["Execution Time"].as_f64().unwrap_or(0.0),
        buffers: n("Shared Hit Blocks") + n("Shared Read Blocks"),
        temp: n("Temp Read Blocks") + n("Temp Written Blocks"),
        plan: crate::snapshot::plan::PlanNode::from_json(plan),
    })
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

pub(super) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

pub(super) fn spread(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(*x), hi.max(*x))
        })
}

/// Whether side `b` is worse than side `a`: a ratio of time or buffers, the floor in time,
/// and `b`'s fastest run slower than `a`'s slowest.
pub(super) fn worse(a: &[Run], b: &[Run], limits: &Limits) -> bool {
    let times = |r: &[Run]| r.iter().map(|x| x.ms).collect::<Vec<_>>();
    let bufs = |r: &[Run]| median(r.iter().map(|x| x.buffers + x.temp).collect());
    let (ma, mb) = (median(times(a)), median(times(b)));
    let ((_, hi_a), (lo_b, _)) = (spread(&times(a)), spread(&times(b)));
    (mb >= limits.time_ratio * ma || bufs(b) >= limits.buffers_ratio * bufs(a).max(1.0))
        && mb - ma >= limits.floor_ms
        && lo_b > hi_a
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
        let (regressed, improved) = (worse(&t.old, &t.new, limits), worse(&t.new, &t.old, limits));
        if !regressed && !improved {
            continue;
        }
        let figures = |r: &[Run]| {
            let times: Vec<f64> = r.iter().map(|x| x.ms).collect();
            let (lo, hi) = spread(&times);
            let m = median(times);
            let b = median(r.iter().map(|x| x.buffers + x.temp).collect());
            (
                m,
                format!(
                    "median {m:.1} ms ({lo:.1}–{hi:.1}), {} buffers",
                    crate::finding::thousands(b)
                ),
            )
        };
        let ((mo, fo), (mn, fnew)) = (figures(&t.old), figures(&t.new));
        let object = crate::compare::plan::query_object(&t.query.path);
        let mut f = if regressed {
            Finding::new(Category::Plan, Severity::High, object, "regression")
                .message(format!(
                    "{} is {:.1}× slower on {}: {fnew} against {fo} on {}",
                    t.query.path, mn / mo.max(1e-3), names.1, names.0
                ))
                .why("the query the application runs gets slower with the upgrade, on the same rows and settings")
                .hint("compare the two plans; check the planner settings whose defaults moved, or pin the plan's shape (indexes, statistics targets) before upgrading")
        } else {
            Finding::new(Category::Plan, Severity::Info, object, "improvement").message(format!(
                "{} is {:.1}× faster on {}: {fnew} against {fo} on {}",
                t.query.path, mo / mn.max(1e-3), names.1, names.0
            ))
        }
        .values(Some(fo), Some(fnew));
        f.weight = t.query.weight;
        let shape = crate::compare::plan::shape_id(&t.query.path);
        f.causes.push(match found.iter().find(|x| x.id == shape) {
            Some(s) => {
                let mut c = s.causes.first().cloned().unwrap_or(crate::finding::Cause {
                    kind: CauseKind::PlannerVersion,
                    evidence: "the plan's shape changed".into(),
                    links: Vec::new(),
                });
                c.links.push(shape);
                c
            }
            None => crate::finding::Cause {
                kind: CauseKind::Unknown,
                evidence:
                    "the same plan shape on both: the executor or the costs of its nodes changed"
                        .into(),
                links: Vec::new(),
            },
        });
        f.plans = Some(Box::new(crate::snapshot::plan::PlanPair {
            left: t.old.first().map(|r| r.plan.clone()),
            right: t.new.first().map(|r| r.plan.clone()),
        }));
        let runs = |r: &[Run]| r.iter().map(|x| (x.ms, x.buffers + x.temp)).collect();
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
