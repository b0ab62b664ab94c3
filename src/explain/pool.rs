//! EXPLAIN (FORMAT JSON, VERBOSE, SETTINGS) of each corpus query, never executed, in a
//! read-only transaction that is rolled back, with jit off. Parameterized queries use
//! `GENERIC_PLAN` on PostgreSQL 16 and later, and on older servers `PREPARE` + `EXPLAIN EXECUTE`
//! with NULL arguments under `plan_cache_mode = force_generic_plan` (so no constant folding).
//! The plan is kept as a tree of what matters to its shape, with a fingerprint that ignores
//! costs, row estimates, widths and worker counts. Several sessions plan a big corpus at once
//! (a bounded pool), each with its own statement_timeout for planning.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio_postgres::SimpleQueryMessage;

use crate::capture::sessions::{Session, Sessions};
use crate::capture::{CaptureOptions, Target};
use crate::explain::corpus::Query;
use crate::progress::Progress;
use crate::snapshot::plan::{Counterfactual, PlanMethod, PlanNode, PlannedQuery, QueryKind};
use crate::snapshot::Problem;

/// How the corpus is planned.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanOptions {
    /// Sessions planning at once per environment (default 4).
    pub concurrency: usize,
    /// statement_timeout while planning one query (default 10s): a runaway planner (a 100-way
    /// join without GEQO) is cut off and recorded, and the run goes on.
    pub timeout: Duration,
    /// Data-changing statements: planned inside a rolled-back read-only transaction (`Plan`,
    /// the default) or not sent at all (`Refuse`).
    pub writes: WritePolicy,
    /// EXPLAIN ANALYZE (with BUFFERS) for read statements on environments not marked protected,
    /// inside a read-only transaction that is rolled back.
    pub analyze: bool,
    /// With `analyze` and two live sides: each read query run this many times on each side,
    /// interleaved, and the executions compared (default 5).
    pub runs: usize,
    /// Re-plan a divergent query on a live side of PostgreSQL 18+ not marked protected with
    /// the other live side's planner statistics, restored in a transaction rolled back (the
    /// statistics' counterfactual; default on, `--no-statistics-replan` turns it off).
    pub transplant: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            concurrency: 4,
            timeout: Duration::from_secs(10),
            writes: WritePolicy::Plan,
            analyze: false,
            runs: 5,
            transplant: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WritePolicy {
    Plan,
    Refuse,
}

impl WritePolicy {
    pub fn parse(s: &str) -> Option<WritePolicy> {
        match s {
            "plan" => Some(WritePolicy::Plan),
            "refuse" => Some(WritePolicy::Refuse),
            _ => None,
        }
    }
}

impl PlannedQuery {
    /// The query as a corpus entry again (to replay a snapshot's corpus on a live server).
    pub fn to_query(&self, path: &str) -> Query {
        Query {
            path: path.into(),
            sql: self.sql.clone(),
            kind: self.kind,
            relations: Vec::new(),
            params: self.params,
            parse_error: self.parse_error.clone(),
            weight: self.weight,
            values: self.values.clone(),
        }
    }
}

/// PostgreSQL 17 and older add this to the cost of every node a disabled `enable_*` forces.
const DISABLE_COST: f64 = 1.0e10;

fn without_disable_cost(c: f64) -> f64 {
    if c >= DISABLE_COST {
        c % DISABLE_COST
    } else {
        c
    }
}

/// The `enable_*` switches (and the parallel worker cap) that steer the planner away from
/// what `mine` uses and `theirs` does not: the re-plan then tends toward `theirs`.
pub fn steering(mine: &PlanNode, theirs: &PlanNode) -> Vec<(String, String)> {
    fn features(p: &PlanNode) -> std::collections::BTreeSet<&'static str> {
        let mut out = std::collections::BTreeSet::new();
        p.walk(&mut |n| {
            let f = match (n.node_type.as_str(), n.strategy.as_deref()) {
                ("Nested Loop", _) => "enable_nestloop",
                ("Hash Join", _) => "enable_hashjoin",
                ("Merge Join", _) => "enable_mergejoin",
                ("Seq Scan", _) => "enable_seqscan",
                ("Index Scan", _) => "enable_indexscan",
                ("Index Only Scan", _) => "enable_indexonlyscan",
                ("Bitmap Heap Scan", _) => "enable_bitmapscan",
                ("Aggregate", Some("Hashed" | "Mixed")) => "enable_hashagg",
                // Sorted grouping has no switch of its own: without sorts it turns to hashing.
                ("Aggregate", Some("Sorted")) | ("Group", _) => "enable_sort",
                ("Memoize", _) => "enable_memoize",
                ("Material", _) => "enable_material",
                ("Incremental Sort", _) => "enable_incremental_sort",
                ("Gather Merge", _) => "enable_gathermerge",
                ("Gather", _) => "max_parallel_workers_per_gather",
                _ => return,
            };
            out.insert(f);
        });
        out
    }
    let (a, b) = (features(mine), features(theirs));
    a.difference(&b)
        .map(|f| {
            let off = if *f == "max_parallel_workers_per_gather" {
                "0"
            } else {
                "off"
            };
            (f.to_string(), off.to_string())
        })
        .collect()
}

/// Plans every query on `target` through up to `opts.concurrency` read-only sessions;
/// `major` picks the parameter method. A session that cannot be opened is a problem and its
/// share of the corpus is planned by the others.
pub async fn explain_all(
    target: &Target,
    queries: &[Query],
    major: i32,
    opts: &PlanOptions,
    copts: &CaptureOptions,
    progress: &dyn Progress,
) -> crate::error::Result<(BTreeMap<String, PlannedQuery>, Vec<Problem>)> {
    let mut problems = Vec::new();
    let analyze = opts.analyze && !target.protected;
    if opts.analyze && target.protected {
        problems.push(Problem {
            area: "plans".into(),
            message: format!(
                "EXPLAIN ANALYZE skipped: {} is protected; its plans are estimates only",
                target.name
            ),
        });
    }
    let n = opts
        .concurrency
        .min(copts.max_connections)
        .max(1)
        .min(queries.len().div_ceil(25))
        .max(1);
    let sessions = match Sessions::open(target, &planning(copts, opts.timeout), n, PLANNING).await {
        Ok(s) => s,
        Err(e) => {
            problems.push(Problem {
                area: "plans".into(),
                message: e.to_string(),
            });
            return Ok((BTreeMap::new(), problems));
        }
    };
    let done = std::sync::atomic::AtomicUsize::new(0);
    // A session lost midway (server restarted, backend terminated) ends the run: the queries
    // left would only fail the same way.
    let lost = std::sync::Mutex::new(None::<Lost>);
    let planned = sessions
        .run(queries, |client, q| {
            let (done, lost) = (&done, &lost);
            async move {
                // Once a session is lost the run fails: what is left is not planned.
                let pq = if lost.lock().unwrap().is_some()
                    || (q.kind == QueryKind::Write && opts.writes == WritePolicy::Refuse)
                {
                    refused(q)
                } else {
                    match explain_with(client, q, major, &[], analyze && q.kind == QueryKind::Read)
                        .await
                    {
                        Ok(pq) => pq,
                        Err(l) => {
                            lost.lock().unwrap().get_or_insert(l);
                            refused(q)
                        }
                    }
                };
                let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if d.is_multiple_of(25) || d == queries.len() {
                    progress.step(&target.name, d, queries.len(), "queries planned");
                }
                (q.path.clone(), pq)
            }
        })
        .await;
    if let Some(Lost(message)) = lost.into_inner().unwrap() {
        return Err(crate::capture::lost_error(
            &target.name,
            "planning",
            &message,
        ));
    }
    Ok((planned.into_iter().collect(), problems))
}

/// A planning session lost midway, with the client's or server's message.
#[derive(Debug)]
pub struct Lost(pub String);

/// `e` as a query's own failure, or as the loss of its session.
fn failure(e: &tokio_postgres::Error) -> std::result::Result<String, Lost> {
    let message = crate::capture::db_message(e);
    if crate::capture::connection_lost(e) {
        Err(Lost(message))
    } else if e.code() == Some(&tokio_postgres::error::SqlState::QUERY_CANCELED)
        && !message.contains("statement timeout")
    {
        // Planning sessions send no cancel request: a cancel is the planning timeout, which
        // the server may report as a user's request when it fires as a statement ends.
        Ok(format!(
            "{message}: the planning statement timeout ran out (or someone cancelled it on the server); raise it with --plan-timeout"
        ))
    } else if message.contains("statement timeout") {
        Ok(format!(
            "{message}: raise it with --plan-timeout (under --explain-analyze it bounds each execution too)"
        ))
    } else {
        Ok(message)
    }
}

/// The capture's options with the planning timeout as statement_timeout.
fn planning(copts: &CaptureOptions, timeout: Duration) -> CaptureOptions {
    CaptureOptions {
        statement_timeout: timeout,
        ..copts.clone()
    }
}

/// What every planning transaction sets besides the timeouts: no JIT (its costs differ by
/// build), and generic plans for prepared statements unless a query's values are given.
const PLANNING: &str = "SET LOCAL jit = off; SET LOCAL plan_cache_mode = force_generic_plan";

/// A read-only session whose statement_timeout is the planning timeout.
pub async fn open_session(
    target: &Target,
    copts: &CaptureOptions,
    timeout: Duration,
) -> crate::error::Result<Session> {
    Session::open(target, &planning(copts, timeout), PLANNING).await
}

fn method(q: &Query, major: i32) -> PlanMethod {
    if q.params == 0 {
        PlanMethod::Plain
    } else if q.values.len() == q.params {
        PlanMethod::CustomValues
    } else if major >= 16 {
        PlanMethod::GenericPlan
    } else {
        PlanMethod::Prepare
    }
}

fn blank(q: &Query, method: PlanMethod) -> PlannedQuery {
    PlannedQuery {
        kind: q.kind,
        params: q.params,
        sql: q.sql.clone(),
        weight: q.weight,
        values: q.values.clone(),
        parse_error: q.parse_error.clone(),
        method,
        analyzed: false,
        fingerprint: None,
        plan: None,
        error: None,
        counterfactual: None,
        steered: None,
        unfeatured: None,
        transplanted: None,
        timings: Vec::new(),
    }
}

fn refused(q: &Query) -> PlannedQuery {
    let mut pq = blank(q, PlanMethod::Refused);
    pq.error = Some("not planned: data-changing statements are refused (writes = refuse)".into());
    pq
}

/// Plans `q` with `sets` applied by `SET LOCAL` (each under a savepoint: one the role may not
/// set is skipped) inside a read-only transaction that is rolled back. `analyze` runs EXPLAIN
/// ANALYZE (BUFFERS) instead; the caller allows it only for read statements on unprotected
/// environments, and the read-only transaction refuses any write regardless. A lost session
/// is `Err`, never a query's own error.
pub async fn explain_with(
    client: &Session,
    q: &Query,
    major: i32,
    sets: &[(String, String)],
    analyze: bool,
) -> std::result::Result<PlannedQuery, Lost> {
    explain_after(client, q, major, sets, &[], analyze).await
}

/// [`explain_with`], after `prelude` ran in the same transaction (restored statistics): a
/// prelude that fails is the plan's error, and nothing is explained.
async fn explain_after(
    client: &Session,
    q: &Query,
    major: i32,
    sets: &[(String, String)],
    prelude: &[String],
    analyze: bool,
) -> std::result::Result<PlannedQuery, Lost> {
    let _waiting = client.wait();
    let method = method(q, major);
    let analyze = analyze && method != PlanMethod::GenericPlan;
    let mut pq = blank(q, method);
    pq.analyzed = analyze;
    let opts = if analyze {
        "FORMAT JSON, VERBOSE, SETTINGS, ANALYZE, BUFFERS"
    } else {
        "FORMAT JSON, VERBOSE, SETTINGS"
    };
    let name = format!("pgparity_q{}", std::process::id());
    let body = match method {
        PlanMethod::Plain => format!("EXPLAIN ({opts}) {}", q.sql),
        PlanMethod::GenericPlan => format!("EXPLAIN ({opts}, GENERIC_PLAN) {}", q.sql),
        PlanMethod::CustomValues => {
            format!("EXPLAIN ({opts}) EXECUTE {name}({})", q.values.join(", "))
        }
        _ => format!(
            "EXPLAIN ({opts}) EXECUTE {name}({})",
            std::iter::repeat_n("NULL", q.params)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    // Never executed unless asked (ANALYZE, reads only), in a read-only transaction, rolled back.
    let begin = client.begin_sql();
    let prepares = matches!(method, PlanMethod::Prepare | PlanMethod::CustomValues);
    crate::pause::at("plan:query");
    if !prepares && sets.is_empty() && prelude.is_empty() {
        // The common case in one round trip: begin, explain, roll back.
        let batch = format!("{begin}; {body}; ROLLBACK");
        match client.simple_query(&batch).await {
            Ok(messages) => read_plan(&messages, &mut pq),
            Err(e) => {
                pq.error = Some(failure(&e)?);
                let _ = client.batch_execute("ROLLBACK").await;
            }
        }
        return Ok(pq);
    }
    let _ = client.batch_execute(begin).await;
    if !prelude.is_empty() {
        let sql = format!(
            "SAVEPOINT pgparity_prelude; {}; RELEASE SAVEPOINT pgparity_prelude",
            prelude.join("; ")
        );
        if let Err(e) = client.batch_execute(&sql).await {
            pq.error = Some(failure(&e)?);
            let _ = client.batch_execute("ROLLBACK").await;
            return Ok(pq);
        }
    }
    for (name, value) in sets {
        let sql = format!(
            "SAVEPOINT pgparity_set; SET LOCAL {} = {}; RELEASE SAVEPOINT pgparity_set",
            crate::sql::ident(name),
            crate::sql::literal(value)
        );
        if client.batch_execute(&sql).await.is_err() {
            let _ = client
                .batch_execute("ROLLBACK TO SAVEPOINT pgparity_set")
                .await;
        }
    }
    if method == PlanMethod::CustomValues {
        let _ = client
            .batch_execute("SET LOCAL plan_cache_mode = force_custom_plan")
            .await;
    }
    if !prepares {
        match client.simple_query(&body).await {
            Ok(messages) => read_plan(&messages, &mut pq),
            Err(e) => pq.error = Some(failure(&e)?),
        }
        let _ = client.batch_execute("ROLLBACK").await;
        return Ok(pq);
    }
    // A prepared statement outlives the transaction (and its abort): it is deallocated inside
    // it, from a savepoint the EXPLAIN's failure rolls back to, so a pooler's next client never
    // finds it on the server connection. Its name is this process's own: one left by a process
    // killed midway on a pooled connection is never in the way.
    if let Err(e) = client
        .simple_query(&format!("PREPARE {name} AS {}", q.sql))
        .await
    {
        pq.error = Some(failure(&e)?);
        let _ = client.batch_execute("ROLLBACK").await;
        return Ok(pq);
    }
    match client
        .simple_query(&format!("SAVEPOINT pgparity_explain; {body}"))
        .await
    {
        Ok(messages) => read_plan(&messages, &mut pq),
        Err(e) => {
            pq.error = Some(failure(&e)?);
            let _ = client
                .batch_execute("ROLLBACK TO SAVEPOINT pgparity_explain")
                .await;
        }
    }
    let _ = client
        .batch_execute(&format!("DEALLOCATE {name}; ROLLBACK"))
        .await;
    Ok(pq)
}

/// Re-plans `q` with `sets` and keeps what the comparison needs: the shape and the cost.
pub async fn replan(
    client: &Session,
    q: &Query,
    major: i32,
    sets: &[(String, String)],
) -> std::result::Result<Counterfactual, Lost> {
    let re = explain_with(client, q, major, sets, false).await?;
    Ok(counterfactual(
        sets.iter().map(|(k, v)| format!("{k} = {v}")).collect(),
        re,
    ))
}

/// Re-plans `q` after `statements` restored another server's planner statistics (see
/// [`super::transplant`]), in the same transaction, rolled back; `what` says whose.
pub async fn replan_restored(
    client: &Session,
    q: &Query,
    major: i32,
    statements: &[String],
    what: String,
) -> std::result::Result<Counterfactual, Lost> {
    let re = explain_after(client, q, major, &[], statements, false).await?;
    Ok(counterfactual(vec![what], re))
}

fn counterfactual(settings: Vec<String>, re: PlannedQuery) -> Counterfactual {
    Counterfactual {
        settings,
        fingerprint: re.fingerprint,
        cost: re.plan.map(|p| without_disable_cost(p.cost)),
        error: re.error,
    }
}

/// Reads the JSON plan out of EXPLAIN's reply.
fn read_plan(messages: &[SimpleQueryMessage], pq: &mut PlannedQuery) {
    let text = messages.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(r) => r.get(0).map(String::from),
        _ => None,
    });
    match text
        .as_deref()
        .map(|t| crate::fsutil::deep_json(t.as_bytes()))
    {
        Some(Ok(v)) => {
            if let Some(plan) = v.get(0).and_then(|p| p.get("Plan")) {
                let node = PlanNode::from_json(plan);
                pq.fingerprint = Some(node.fingerprint());
                pq.plan = Some(node);
            }
        }
        _ => pq.error = Some("EXPLAIN returned no JSON plan".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(t: &str, strategy: Option<&str>, children: Vec<PlanNode>) -> PlanNode {
        PlanNode {
            node_type: t.into(),
            relation: None,
            index: None,
            join_type: None,
            strategy: strategy.map(String::from),
            rows: 1.0,
            cost: 1.0,
            actual_rows: None,
            subplan: false,
            children,
        }
    }

    #[test]
    fn steering_disables_what_only_one_plan_uses() {
        let a = node(
            "Aggregate",
            Some("Hashed"),
            vec![node(
                "Nested Loop",
                None,
                vec![
                    node("Seq Scan", None, vec![]),
                    node("Index Scan", None, vec![]),
                ],
            )],
        );
        let b = node(
            "Aggregate",
            Some("Sorted"),
            vec![node(
                "Hash Join",
                None,
                vec![node("Seq Scan", None, vec![]), node("Gather", None, vec![])],
            )],
        );
        assert_eq!(
            steering(&a, &b),
            vec![
                ("enable_hashagg".to_string(), "off".to_string()),
                ("enable_indexscan".into(), "off".into()),
                ("enable_nestloop".into(), "off".into())
            ]
        );
        assert_eq!(
            steering(&b, &a),
            vec![
                ("enable_hashjoin".to_string(), "off".to_string()),
                ("enable_sort".into(), "off".into()),
                ("max_parallel_workers_per_gather".into(), "0".into())
            ]
        );
        assert_eq!(without_disable_cost(2.0e10 + 12.5), 12.5);
        assert_eq!(without_disable_cost(99.0), 99.0);
    }
}
