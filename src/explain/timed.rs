//! One timed execution of a statement: `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` inside a
//! transaction that is rolled back (read-only for a read), with its own statement timeout.

use tokio_postgres::Client;

use crate::snapshot::plan::{PlanNode, Timing};

/// Runs `sql` once under EXPLAIN ANALYZE: its execution time, buffers and temporary blocks,
/// and the plan it ran. A write runs in a transaction that is rolled back.
pub async fn run(
    client: &Client,
    sql: &str,
    write: bool,
) -> std::result::Result<(Timing, PlanNode), String> {
    client
        .batch_execute(if write {
            "BEGIN; SET LOCAL statement_timeout = '120s'"
        } else {
            "BEGIN READ ONLY; SET LOCAL statement_timeout = '120s'"
        })
        .await
        .map_err(|e| crate::capture::db_message(&e))?;
    let explain = format!(
        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {}",
        sql.trim().trim_end_matches(';')
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
    Ok((
        Timing {
            ms: top["Execution Time"].as_f64().unwrap_or(0.0),
            buffers: n("Shared Hit Blocks") + n("Shared Read Blocks"),
            temp: n("Temp Read Blocks") + n("Temp Written Blocks"),
        },
        PlanNode::from_json(plan),
    ))
}

/// `check --explain-analyze`: every read query both sides planned is run `runs` times on each
/// side, one side after the other (interleaved, never at once: a query's parallel workers
/// would compete with the other side's), and each side's timings kept with its plan. Never
/// on a protected side; a query that fails on a run keeps no timings.
pub async fn interleaved(
    sides: (&crate::capture::Target, &crate::capture::Target),
    snaps: (
        &mut crate::snapshot::Snapshot,
        &mut crate::snapshot::Snapshot,
    ),
    runs: usize,
    progress: &dyn crate::progress::Progress,
) -> crate::error::Result<()> {
    use crate::snapshot::plan::QueryKind;
    let (lt, rt) = sides;
    let (l, r) = snaps;
    if runs == 0 || lt.protected || rt.protected {
        return Ok(());
    }
    let (Some(lp), Some(rp)) = (l.plans.as_mut(), r.plans.as_mut()) else {
        return Ok(());
    };
    let queries: Vec<(String, String)> = lp
        .iter()
        .filter_map(|(path, a)| {
            let b = rp.get(path)?;
            (a.kind == QueryKind::Read && a.params == 0 && a.plan.is_some() && b.plan.is_some())
                .then(|| (path.clone(), a.sql.clone()))
        })
        .collect();
    if queries.is_empty() {
        return Ok(());
    }
    let (a, b) = (
        crate::capture::connect(lt).await?,
        crate::capture::connect(rt).await?,
    );
    for (i, (path, sql)) in queries.iter().enumerate() {
        let (mut ta, mut tb) = (Vec::new(), Vec::new());
        let mut failed = false;
        'runs: for _ in 0..runs {
            for (client, into) in [(&a, &mut ta), (&b, &mut tb)] {
                match run(client, sql, false).await {
                    Ok((t, _)) => into.push(t),
                    Err(_) => {
                        failed = true;
                        break 'runs;
                    }
                }
            }
        }
        if !failed {
            if let Some(q) = lp.get_mut(path) {
                q.timings = ta;
            }
            if let Some(q) = rp.get_mut(path) {
                q.timings = tb;
            }
        }
        progress.step(
            "executions",
            i + 1,
            queries.len(),
            "queries timed on both sides",
        );
    }
    Ok(())
}
