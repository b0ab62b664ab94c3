//! Results compared: each corpus statement run on both sides (a read as `COPY (...) TO
//! STDOUT` hashed as it streams, a write rolled back), outcomes told apart in words.

use super::*;

/// Whether the statement's outermost query has ORDER BY: then the order is part of the result.
pub(super) fn ordered(sql: &str) -> bool {
    use sqlparser::ast::Statement;
    match sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::PostgreSqlDialect {}, sql) {
        Ok(s) => matches!(s.first(), Some(Statement::Query(q)) if q.order_by.is_some()),
        Err(_) => false,
    }
}

/// Runs a data-changing statement in a transaction that is rolled back: its outcome is the
/// number of rows it changed (or returned), or its error.
pub(super) async fn write_outcome(client: &Client, sql: &str) -> Outcome {
    if let Err(e) = client
        .batch_execute("BEGIN; SET LOCAL statement_timeout = '60s'")
        .await
    {
        return Outcome::Error(crate::capture::db_message(&e));
    }
    let r = client.simple_query(sql).await;
    let _ = client.batch_execute("ROLLBACK").await;
    match r {
        Ok(messages) => Outcome::Rows {
            rows: messages
                .iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::CommandComplete(n) => Some(*n),
                    _ => None,
                })
                .sum(),
            hash: 0,
        },
        Err(e) => Outcome::Error(crate::capture::db_message(&e)),
    }
}

/// Runs a statement on one side: a read query as `COPY (...) TO STDOUT` in a read-only
/// transaction, hashing its rows as they stream (never held); a write rolled back.
pub(super) async fn outcome(client: &Client, q: &Runnable<'_>) -> Outcome {
    if q.write {
        return write_outcome(client, &q.sql).await;
    }
    read_outcome(client, &q.sql, ordered(&q.sql)).await
}

pub(super) async fn read_outcome(client: &Client, sql: &str, ordered: bool) -> Outcome {
    use std::hash::Hasher;
    if let Err(e) = client
        .batch_execute("BEGIN READ ONLY; SET LOCAL statement_timeout = '60s'")
        .await
    {
        return Outcome::Error(crate::capture::db_message(&e));
    }
    let copy = format!("COPY ({}) TO STDOUT", sql.trim().trim_end_matches(';'));
    let result = async {
        let stream = client.copy_out(copy.as_str()).await?;
        futures_util::pin_mut!(stream);
        let (mut rows, mut sum, mut seq) = (0u64, 0u64, siphasher::sip::SipHasher13::new());
        let mut pending = Vec::new();
        while let Some(chunk) = stream.next().await {
            pending.extend_from_slice(&chunk?);
            // Every whole line of the buffer, then the rest kept for the next chunk (one
            // shift per chunk, not per row).
            let mut start = 0;
            for end in memchr::memchr_iter(b'\n', &pending) {
                let line = &pending[start..end];
                let mut h = siphasher::sip::SipHasher13::new();
                h.write(line);
                sum = sum.wrapping_add(h.finish());
                seq.write(line);
                seq.write_u8(b'\n');
                rows += 1;
                start = end + 1;
            }
            pending.drain(..start);
        }
        Ok::<_, tokio_postgres::Error>(Outcome::Rows {
            rows,
            hash: if ordered { seq.finish() } else { sum },
        })
    }
    .await;
    let _ = client.batch_execute("ROLLBACK").await;
    result.unwrap_or_else(|e| Outcome::Error(crate::capture::db_message(&e)))
}

/// Every runnable statement run on both sides: a different result is critical, an error on
/// one side only is high.
pub(super) async fn compare_results(
    old: &Target,
    new: &Target,
    queries: &[Runnable<'_>],
    names: (&str, &str),
) -> Result<(Vec<Finding>, Vec<String>)> {
    let (old_name, new_name) = names;
    let (a, b) = (
        crate::capture::connect(old).await?,
        crate::capture::connect(new).await?,
    );
    let (mut findings, mut both_fail) = (Vec::new(), Vec::new());
    for r in queries {
        let q = r.query;
        let (x, y) = tokio::join!(outcome(&a, r), outcome(&b, r));
        let object = format!("query:{}", q.path);
        let f = match (&x, &y) {
            (Outcome::Rows { .. }, Outcome::Rows { .. }) if x == y => continue,
            (Outcome::Error(e), Outcome::Error(_)) => {
                both_fail.push(format!("{} ({e})", q.path));
                continue;
            }
            (Outcome::Rows { rows: r1, .. }, Outcome::Rows { rows: r2, .. }) => {
                Finding::new(Category::Plan, Severity::Critical, object, "result")
                    .values(Some(describe(&x)), Some(describe(&y)))
                    .message(if r.write {
                        format!(
                            "{} changes {r2} rows on {new_name} and {r1} on {old_name} with the same data (rolled back on both)",
                            q.path
                        )
                    } else {
                        format!(
                            "{} returns a different result on {new_name} than on {old_name} with the same data ({r1} rows vs {r2}{})",
                            q.path,
                            if r1 == r2 { ", other values or order" } else { "" }
                        )
                    })
                    .why("the upgrade changes what the application reads: collation order, float or date output, jsonb or function behaviour")
                    .hint("compare the two results by hand on the rehearsal clusters, then fix the query or accept the change")
            }
            _ => {
                let new_fails = matches!(y, Outcome::Error(_));
                Finding::new(Category::Plan, Severity::High, object, "result-error")
                    .values(Some(describe(&x)), Some(describe(&y)))
                    .message(format!(
                        "{} fails on {} only: {}",
                        q.path,
                        if new_fails { new_name } else { old_name },
                        match (&x, &y) {
                            (_, Outcome::Error(e)) | (Outcome::Error(e), _) => e.as_str(),
                            _ => "",
                        }
                    ))
                    .why("a statement that runs on one major and fails on the other breaks the application at the upgrade")
                    .hint("rewrite the statement for the new major (removed functions, changed casts or reserved words)")
            }
        };
        findings.push(f);
    }
    Ok((findings, both_fail))
}

pub(super) fn describe(o: &Outcome) -> String {
    match o {
        Outcome::Rows { rows, hash } => format!("{rows} rows, hash {hash:016x}"),
        Outcome::Error(e) => format!("error: {e}"),
    }
}

/// The statements that can run as they are (values substituted for `$n` from their values
/// file), and the ones left out, with why.
pub(super) fn runnable(corpus: &[Query]) -> (Vec<Runnable<'_>>, Vec<String>) {
    let (mut out, mut skipped) = (Vec::new(), Vec::new());
    for q in corpus {
        if q.params > 0 && q.values.len() != q.params {
            skipped.push(format!("{} (parameters without values)", q.path));
            continue;
        }
        // Values as literals in place of $n, highest first ($10 before $1).
        let mut sql = q.sql.clone();
        for (i, v) in q.values.iter().enumerate().rev() {
            sql = sql.replace(&format!("${}", i + 1), v);
        }
        out.push(Runnable {
            query: q,
            sql,
            write: q.kind != QueryKind::Read,
        });
    }
    (out, skipped)
}
