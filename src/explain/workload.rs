//! Production's own workload as a corpus: the top statements of `pg_stat_statements` by total
//! execution time, already normalized with `$n` parameters (so no raw values), each weighted
//! by its share of the database's total execution time. Read in the capture's read-only
//! session; statements pgparity cannot plan (utility commands, its own EXPLAINs, texts hidden
//! from the role) are skipped and counted.

use crate::capture::{column, CaptureOptions, Target};
use crate::error::{Error, Result};
use crate::explain::corpus::Query;
use crate::snapshot::Problem;

/// The top `top` plannable statements of `target`'s database, heaviest first.
pub async fn from_stats(
    target: &Target,
    top: usize,
    opts: &CaptureOptions,
) -> Result<(Vec<Query>, Vec<Problem>)> {
    let client = crate::capture::sessions::Session::open(target, opts, "").await?;
    let env = |m: String| Error::env(&target.name, m);
    let _waiting = client.wait();
    client
        .batch_execute(client.begin_sql())
        .await
        .map_err(|e| env(crate::capture::db_message(&e)))?;
    let installed = client
        .query_typed_opt(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'",
            &[],
        )
        .await
        .map_err(|e| env(crate::capture::db_message(&e)))?;
    let Some(row) = installed else {
        return Err(env(
            "pg_stat_statements is not installed in this database, so it has no workload to read; hint: add pg_stat_statements to shared_preload_libraries, restart, run CREATE EXTENSION pg_stat_statements, or give --corpus instead".into(),
        ));
    };
    let schema: String = column(&row, 0).map_err(env)?;
    let head = client
        .query_typed_one(
            "SELECT current_setting('server_version_num')::int / 10000, pg_is_in_recovery()",
            &[],
        )
        .await
        .map_err(|e| env(crate::capture::db_message(&e)))?;
    let major: i32 = column(&head, 0).map_err(env)?;
    let standby: bool = column(&head, 1).map_err(env)?;
    let toplevel = if major >= 14 { "AND s.toplevel" } else { "" };
    let sql = format!(
        "SELECT s.queryid::text, s.query, s.total_exec_time::float8, sum(s.total_exec_time) OVER ()::float8 \
         FROM {}.pg_stat_statements s \
         WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) {toplevel} \
         ORDER BY s.total_exec_time DESC, s.queryid",
        crate::sql::ident(&schema)
    );
    let rows = client.query_typed(&sql, &[]).await.map_err(|e| {
        env(format!(
            "cannot read pg_stat_statements: {}",
            crate::capture::db_message(&e)
        ))
    })?;
    let mut queries = Vec::new();
    let (mut hidden, mut unplannable) = (0, 0);
    for row in &rows {
        if queries.len() >= top {
            break;
        }
        let id: Option<String> = column(row, 0).map_err(env)?;
        let text: Option<String> = column(row, 1).map_err(env)?;
        let (time, total): (f64, f64) =
            (column(row, 2).map_err(env)?, column(row, 3).map_err(env)?);
        let Some(text) = text.filter(|t| !t.starts_with("<insufficient privilege>")) else {
            hidden += 1;
            continue;
        };
        let path = format!("pg_stat_statements/{}.sql", id.unwrap_or_default());
        match crate::explain::corpus::read_query(&path, &text) {
            Ok(q) if !q.relations.is_empty() && q.relations.iter().all(|r| is_catalog(r)) => {
                unplannable += 1;
            }
            Ok(mut q) => {
                q.weight = Some(if total > 0.0 { time / total } else { 0.0 });
                queries.push(q);
            }
            _ => unplannable += 1,
        }
    }
    let mut problems = Vec::new();
    // The statistics are the server's own: a standby's count only what ran on it.
    if standby {
        problems.push(Problem {
            area: "corpus".into(),
            message: "pg_stat_statements was read on a standby: it counts the statements run on that standby only (its own workload, not the primary's writes); hint: read it on the primary for the whole workload".into(),
        });
    }
    if hidden > 0 {
        problems.push(Problem {
            area: "corpus".into(),
            message: format!("{hidden} statements of pg_stat_statements hide their text from this role; hint: GRANT pg_read_all_stats to it"),
        });
    }
    if unplannable > 0 {
        problems.push(Problem {
            area: "corpus".into(),
            message: format!("{unplannable} statements of pg_stat_statements skipped: utility commands and catalog queries (monitoring, pgparity's own capture)"),
        });
    }
    if queries.is_empty() {
        return Err(env(format!(
            "pg_stat_statements holds no plannable statement for this database ({} statements recorded); hint: let the workload run first, or give --corpus",
            rows.len()
        )));
    }
    Ok((queries, problems))
}

/// A relation of the system catalogs (a monitoring query, or pgparity's own capture).
fn is_catalog(name: &str) -> bool {
    let n = name.trim_matches('"').to_ascii_lowercase();
    n.starts_with("pg_") || n.starts_with("information_schema.")
}
