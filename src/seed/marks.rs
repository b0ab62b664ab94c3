//! What seed writes into the database's comment: where its rows came from (the snapshot, the
//! seed, the scale), and which tables are loading, so a seed killed midway is seen and undone.

use super::*;

/// Records in the database's comment which snapshot the data was seeded from (one line,
/// `pgparity seed: {json}`, replacing an earlier one and keeping the rest of the comment), so
/// a later capture knows the data is synthetic and a check compares categories by shape.
pub(super) async fn record_provenance(
    client: &Client,
    env: &str,
    snap: &Snapshot,
    opts: &model::SeedOptions,
) -> Result<()> {
    let row = client
        .query_typed_one(
            "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
            &[],
        )
        .await
        .map_err(|e| Error::env(env, crate::capture::db_message(&e)))?;
    let now: String = crate::capture::column(&row, 0).map_err(|m| Error::env(env, m))?;
    let provenance = crate::snapshot::SeedProvenance {
        environment: snap.meta.environment.clone(),
        captured_at: snap.meta.captured_at.clone(),
        seed: opts.seed,
        scale: opts.scale,
        seeded_at: now,
    };
    let line = format!(
        "{}{}",
        crate::snapshot::SeedProvenance::PREFIX,
        serde_json::to_string(&provenance).expect("provenance serializes")
    );
    rewrite_comment(
        client,
        env,
        crate::snapshot::SeedProvenance::PREFIX,
        Some(line),
    )
    .await
}

/// The database's comment with its line starting `prefix` replaced by `line` (or removed);
/// other lines are kept.
pub(super) async fn rewrite_comment(
    client: &Client,
    env: &str,
    prefix: &str,
    line: Option<String>,
) -> Result<()> {
    let (db, comment) = database_comment(client, env).await?;
    let mut lines: Vec<String> = comment
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with(prefix))
        .map(str::to_string)
        .collect();
    lines.extend(line);
    let text = if lines.is_empty() {
        "NULL".to_string()
    } else {
        crate::sql::literal(&lines.join("\n"))
    };
    exec(
        client,
        env,
        &format!("COMMENT ON DATABASE {} IS {text}", ident(&db)),
    )
    .await
}

/// The current database's name and comment.
pub(super) async fn database_comment(
    client: &Client,
    env: &str,
) -> Result<(String, Option<String>)> {
    let row = client
        .query_typed_one(
            "SELECT current_database()::text, \
             (SELECT shobj_description(d.oid, 'pg_database') FROM pg_database d WHERE d.datname = current_database())",
            &[],
        )
        .await
        .map_err(|e| Error::env(env, crate::capture::db_message(&e)))?;
    Ok((
        crate::capture::column(&row, 0).map_err(|m| Error::env(env, m))?,
        crate::capture::column(&row, 1).map_err(|m| Error::env(env, m))?,
    ))
}

/// Tables a seed stopped midway (killed) left half full — it loaded them in ranges, each
/// committed on its own, and names them in the database's comment until the load ends — are
/// emptied, each said in the report, and the mark removed.
pub(super) async fn finish_stopped_seed(
    client: &Client,
    env: &str,
    report: &mut SeedReport,
) -> Result<()> {
    let (_, comment) = database_comment(client, env).await?;
    let tables = crate::snapshot::SeedProvenance::unfinished(comment.as_deref().unwrap_or(""));
    if tables.is_empty() {
        return Ok(());
    }
    for t in &tables {
        // The name was written by a seed (quoted, qualified); a table since dropped is fine.
        let emptied = exec(client, env, &format!("TRUNCATE ONLY {t}"))
            .await
            .is_ok()
            || exec(client, env, &format!("DELETE FROM ONLY {t}"))
                .await
                .is_ok();
        if emptied {
            report.problems.push(Problem {
                area: format!("seed {t}"),
                message:
                    "left half-loaded by a seed that was stopped midway: emptied before this seed"
                        .into(),
            });
        }
    }
    rewrite_comment(client, env, crate::snapshot::SeedProvenance::LOADING, None).await
}
