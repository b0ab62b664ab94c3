//! Seed's statements: each in a transaction of its own (no statement timeout, set for the
//! transaction only), many to a transaction where that is faster and one by one where one
//! fails, on several sessions at once.

use super::*;

/// Runs `sql` in a transaction of its own.
pub(super) async fn exec(client: &Client, env: &str, sql: &str) -> Result<()> {
    let r = client
        .batch_execute(&format!("{BEGIN};\n{sql};\nCOMMIT"))
        .await;
    if let Err(e) = r {
        // The failed statement left the transaction aborted: end it.
        let _ = client.batch_execute("ROLLBACK").await;
        let head: String = sql.chars().take(80).collect();
        return Err(Error::env(
            env,
            format!("{}: {}", head, crate::capture::db_message(&e)),
        ));
    }
    Ok(())
}

/// Runs `chunk` in one transaction (a round trip and a commit per statement cost seconds at
/// 2,000 tables); if it fails, rolls it back and runs the statements one by one, so each has
/// its own outcome. Stops at the first failure when `stop_at_error`. Every outcome, in order.
pub(super) async fn exec_chunk<S: AsRef<str>>(
    client: &Client,
    env: &str,
    chunk: &[S],
    stop_at_error: bool,
) -> Vec<Result<()>> {
    if chunk.len() > 1 {
        let sql: Vec<&str> = chunk.iter().map(AsRef::as_ref).collect();
        let batch = format!("{BEGIN};\n{};\nCOMMIT", sql.join(";\n"));
        if client.batch_execute(&batch).await.is_ok() {
            return chunk.iter().map(|_| Ok(())).collect();
        }
        let _ = client.batch_execute("ROLLBACK").await;
    }
    let mut out = Vec::new();
    for sql in chunk {
        let r = exec(client, env, sql.as_ref()).await;
        let failed = r.is_err();
        out.push(r);
        if failed && stop_at_error {
            break;
        }
    }
    out
}

/// Runs `statements` in order, 200 to a transaction; the first error names its statement
/// (the ones before it stay done).
pub(super) async fn exec_all(client: &Client, env: &str, statements: &[&str]) -> Result<()> {
    for chunk in statements.chunks(200) {
        for r in exec_chunk(client, env, chunk, true).await {
            r?;
        }
    }
    Ok(())
}

/// Runs statements on `sessions` sessions of their own, each taking the next 25 statements
/// (one transaction: a commit per statement cost seconds at 2,000 tables) until none is left;
/// every statement's outcome, in no particular order. A failing transaction is rolled back
/// and its statements run one by one, so each keeps its own outcome.
pub(super) async fn run_many(
    target: &Target,
    statements: &[String],
    sessions: usize,
) -> Result<Vec<(String, Result<()>)>> {
    if statements.is_empty() {
        return Ok(Vec::new());
    }
    let env = target.name.as_str();
    let queue = std::sync::Mutex::new(statements.iter().collect::<std::collections::VecDeque<_>>());
    let mut clients = Vec::new();
    for _ in 0..sessions.min(statements.len()) {
        clients.push(crate::capture::connect(target).await?);
    }
    let workers = clients.iter().map(|c| async {
        let mut done = Vec::new();
        loop {
            let chunk: Vec<&String> = {
                let mut q = queue.lock().expect("queue");
                let n = q.len().min(25);
                q.drain(..n).collect()
            };
            if chunk.is_empty() {
                break;
            }
            let outcomes = exec_chunk(c, env, &chunk, false).await;
            done.extend(chunk.into_iter().cloned().zip(outcomes));
        }
        done
    });
    Ok(futures_util::future::join_all(workers)
        .await
        .into_iter()
        .flatten()
        .collect())
}
