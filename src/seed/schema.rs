//! The target's schema: created from the snapshot, or checked against it; tables emptied
//! first when asked; keys, indexes, checks and foreign keys added back after the load.

use super::*;

/// The target's columns of `table` (name, type), or `None` when the table does not exist.
/// The columns of those of `tables` (qualified, quoted names) the target has, in order; a
/// table it lacks is absent from the map. One statement for all: a round trip per table cost
/// seconds at 2,000 tables.
pub(super) async fn target_columns(
    client: &Client,
    tables: &[&str],
) -> Result<std::collections::HashMap<String, Vec<String>>> {
    let names: Vec<&str> = tables.to_vec();
    let rows = client
        .query_typed(
            "SELECT t.name, a.attname::text FROM unnest($1::text[]) AS t(name) \
             LEFT JOIN pg_attribute a ON a.attrelid = to_regclass(t.name) AND a.attnum > 0 AND NOT a.attisdropped \
             WHERE to_regclass(t.name) IS NOT NULL ORDER BY t.name, a.attnum",
            &[(&names, Type::TEXT_ARRAY)],
        )
        .await
        .map_err(|e| Error::Usage(crate::capture::db_message(&e)))?;
    let mut out: std::collections::HashMap<String, Vec<String>> = Default::default();
    for r in rows {
        let db = |e: tokio_postgres::Error| Error::Usage(crate::capture::db_message(&e));
        let (table, column): (String, Option<String>) =
            (r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?);
        out.entry(table).or_default().extend(column);
    }
    Ok(out)
}

/// The snapshot's schema created on an empty target: extensions (a missing one is a note),
/// types and functions, then the tables, 200 statements a transaction.
pub(super) async fn create_schema(
    client: &Client,
    env: &str,
    snap: &Snapshot,
    report: &mut SeedReport,
    progress: &dyn Progress,
) -> Result<()> {
    let names: Vec<&str> = snap.schema.tables.keys().map(String::as_str).collect();
    let existing = target_columns(client, &names).await?;
    if let Some(name) = names.iter().find(|n| existing.contains_key(**n)) {
        return Err(Error::env(env, format!("table {name} already exists; hint: drop --create-schema to fill the existing schema, or seed an empty database")));
    }
    progress.start(env, "creating the schema");
    for sql in ddl::extensions(snap) {
        if let Err(e) = exec(client, env, &sql).await {
            report.problems.push(Problem {
                area: "schema".into(),
                message: format!("{e}; what needs the extension will fail below"),
            });
        }
    }
    let before = ddl::before_load(snap);
    for sql in &before.prelude {
        exec(client, env, sql).await?;
    }
    // One session, in order: creating tables on parallel sessions was measured slower
    // (22.6 s against 17.8 s at 2,000 tables: catalog invalidations between sessions).
    let tables: Vec<&str> = before.tables.iter().flatten().map(String::as_str).collect();
    exec_all(client, env, &tables).await?;
    progress.finish(env, "schema created");
    if let Some(note) = ddl::left_out(snap) {
        report.problems.push(Problem {
            area: "schema".into(),
            message: note,
        });
    }
    Ok(())
}

/// The target's tables and columns checked against the snapshot's (every difference named,
/// up to five); returns the foreign keys among seeded tables, dropped for the load and added
/// back after.
pub(super) async fn check_schema(
    client: &Client,
    env: &str,
    snap: &Snapshot,
    model: &model::Model,
) -> Result<Vec<DroppedFk>> {
    let mut differences = Vec::new();
    let names: Vec<&str> = model.tables.iter().map(|t| t.name.as_str()).collect();
    let existing = target_columns(client, &names).await?;
    for t in &model.tables {
        match existing.get(&t.name) {
            None => differences.push(format!("table {} is missing", t.name)),
            Some(cols) => {
                let have: Vec<&str> = cols.iter().map(String::as_str).collect();
                let want: Vec<&str> = snap.schema.tables[&t.name]
                    .columns
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect();
                for c in &want {
                    if !have.contains(c) {
                        differences.push(format!("{}.{} is missing", t.name, ident(c)));
                    }
                }
                for c in &have {
                    if !want.contains(c) {
                        differences.push(format!("{}.{} is not in the snapshot", t.name, ident(c)));
                    }
                }
            }
        }
    }
    if !differences.is_empty() {
        let n = differences.len();
        differences.truncate(5);
        return Err(Error::env(env, format!(
            "the target's schema differs from the snapshot's ({n} differences: {}{}); hint: migrate the target first, or seed an empty database with --create-schema",
            differences.join(", "),
            if n > 5 { ", ..." } else { "" }
        )));
    }
    // Foreign keys among seeded tables are dropped for the load and added back after.
    let names: Vec<String> = model.tables.iter().map(|t| t.name.clone()).collect();
    let rows = client
        .query_typed(
            "SELECT format('%I.%I', n.nspname, c.relname), con.conname::text, pg_get_constraintdef(con.oid) \
             FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_class p ON p.oid = con.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace \
             WHERE con.contype = 'f' AND format('%I.%I', n.nspname, c.relname) = ANY($1) \
               AND format('%I.%I', pn.nspname, p.relname) = ANY($1) AND con.conparentid = 0",
            &[(&names, Type::TEXT_ARRAY)],
        )
        .await
        .map_err(|e| Error::env(env, crate::capture::db_message(&e)))?;
    rows.iter()
        .map(|r| {
            let get = |i| crate::capture::column::<String>(r, i).map_err(|m| Error::env(env, m));
            Ok((get(0)?, get(1)?, get(2)?))
        })
        .collect::<Result<_>>()
}

/// The seeded tables that hold rows, as `TRUNCATE` targets; an error unless `--truncate`.
/// Asked 500 tables a statement: a round trip per table cost seconds at 2,000 tables.
pub(super) async fn non_empty(
    client: &Client,
    env: &str,
    model: &model::Model,
    opts: &SeedOptions,
) -> Result<Vec<String>> {
    let (mut non_empty, mut to_truncate) = (Vec::new(), Vec::new());
    for chunk in model.tables.chunks(500) {
        // ONLY: an inheritance parent's children are tables of their own.
        let sql = chunk
            .iter()
            .enumerate()
            .map(|(i, t)| {
                format!(
                    "SELECT {i} WHERE EXISTS (SELECT 1 FROM {}{})",
                    only(t),
                    t.name
                )
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        for r in client
            .query_typed(&sql, &[])
            .await
            .map_err(|e| Error::env(env, crate::capture::db_message(&e)))?
        {
            let i: i32 = r
                .try_get(0)
                .map_err(|e| Error::env(env, crate::capture::db_message(&e)))?;
            let t = &chunk[i as usize];
            non_empty.push(t.name.clone());
            to_truncate.push(format!("{}{}", only(t), t.name));
        }
    }
    if !non_empty.is_empty() && !opts.truncate {
        return Err(Error::env(
            env,
            format!(
                "{} not empty: {}; hint: --truncate empties them first",
                if non_empty.len() == 1 {
                    "table is"
                } else {
                    "tables are"
                },
                non_empty.join(", ")
            ),
        ));
    }
    Ok(to_truncate)
}

/// Returns once the WAL is flushed past where it ends now (at most 2 s): where commits are
/// asynchronous (synchronous_commit = off), VACUUM cannot mark a page all-visible until the
/// commit of the rows on it is flushed — nor, for any row, until every commit of its group of
/// 32 transactions is, whatever their database. The WAL writer flushes asynchronous commits
/// within three of its rounds (0.6 s by default); with synchronous commits it returns at once.
async fn wal_flushed(client: &Client) -> std::result::Result<(), tokio_postgres::Error> {
    let end: String = client
        .query_typed_one("SELECT pg_current_wal_insert_lsn()::text", &[])
        .await?
        .get(0);
    for _ in 0..40 {
        let flushed: bool = client
            .query_typed_one(
                "SELECT pg_current_wal_flush_lsn() >= $1::text::pg_lsn",
                &[(&end, tokio_postgres::types::Type::TEXT)],
            )
            .await?
            .get(0);
        if flushed {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Ok(())
}

/// VACUUMs `tables` on `sessions` sessions until most of the pages of each relation (each
/// partition of a partitioned table on its own) are all-visible: a transaction that began
/// while the rows loaded (an autovacuum's ANALYZE of another table) keeps VACUUM from marking
/// them, so a table or partition still short is vacuumed again once no other session of the
/// database holds a snapshot (up to four rounds, waiting at most 5 s before each, and for the
/// WAL flushed, see [`wal_flushed`]). Returns the relations still short.
async fn vacuum_all_visible(
    client: &Client,
    target: &Target,
    tables: Vec<&str>,
    sessions: usize,
) -> Result<Vec<String>> {
    let env = target.name.as_str();
    let failed = |e: tokio_postgres::Error| {
        Error::env(
            env,
            format!("VACUUM after the load: {}", crate::capture::db_message(&e)),
        )
    };
    let mut pending: Vec<String> = tables.into_iter().map(str::to_string).collect();
    crate::pause::at("seed:loaded");
    for round in 0..4 {
        if pending.is_empty() {
            break;
        }
        wal_flushed(client).await.map_err(failed)?;
        if round > 0 {
            for _ in 0..50 {
                let held: i64 = client
                    .query_typed_one(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                         AND pid <> pg_backend_pid() AND backend_xmin IS NOT NULL",
                        &[],
                    )
                    .await
                    .map_err(failed)?
                    .get(0);
                if held == 0 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
        let groups = pending
            .chunks(pending.len().div_ceil(sessions.max(1)).max(1))
            .map(|g| async move {
                let c = crate::capture::connect(target).await?;
                c.batch_execute(&format!("VACUUM {}", g.join(", ")))
                    .await
                    .map_err(failed)
            });
        for r in futures_util::future::join_all(groups).await {
            r?;
        }
        crate::pause::at("seed:vacuumed");
        pending = client
            .query_typed(
                // Each relation on its own, a partition as much as a plain table: summed over a
                // tree, one partition left at 0 pages all-visible hid behind its siblings.
                // pg_partition_tree holds no row for a table outside a partition tree: the
                // table itself is added. A parent has no pages and is never short.
                "SELECT DISTINCT c.oid::regclass::text FROM unnest($1::text[]) t \
                 CROSS JOIN LATERAL (SELECT relid FROM pg_partition_tree(t::regclass) UNION SELECT t::regclass) p \
                 JOIN pg_class c ON c.oid = p.relid WHERE c.relallvisible * 2 < c.relpages",
                &[(&pending, tokio_postgres::types::Type::TEXT_ARRAY)],
            )
            .await
            .map_err(failed)?
            .iter()
            .map(|r| r.get(0))
            .collect();
    }
    Ok(pending)
}

/// Whether production's `table` (with its partitions, at any depth) has most of its pages
/// all-visible. Unknown (a snapshot from before it was read): no.
fn mostly_all_visible(snap: &Snapshot, table: &str) -> bool {
    let under = |name: &str| {
        let mut at = Some(name);
        for _ in 0..64 {
            match at {
                Some(n) if n == table => return true,
                Some(n) => at = snap.schema.tables.get(n).and_then(|t| t.parent.as_deref()),
                None => return false,
            }
        }
        false
    };
    let (pages, visible) = snap
        .statistics
        .tables
        .iter()
        .filter(|(name, _)| under(name))
        .filter_map(|(_, s)| Some((s.relpages.max(0), s.relallvisible?)))
        .fold((0, 0), |(p, v), (a, b)| (p + a, v + b));
    pages > 0 && visible * 2 >= pages
}

/// After the load: keys, indexes and checks on parallel sessions, foreign keys in order,
/// sequences; a constraint the rows break is added NOT VALID (and said); ANALYZE; the
/// provenance comment.
pub(super) async fn after_load(
    client: &Client,
    target: &Target,
    snap: &Snapshot,
    opts: &SeedOptions,
    dropped_fks: &[DroppedFk],
    report: &mut SeedReport,
    progress: &dyn Progress,
) -> Result<()> {
    let env = target.name.as_str();
    progress.start(env, "adding keys, indexes and constraints");
    let after = if opts.create_schema {
        ddl::after_load(snap)
    } else {
        ddl::AfterLoad {
            single_table: Vec::new(),
            foreign_keys: dropped_fks
                .iter()
                .map(|(table, name, def)| {
                    format!("ALTER TABLE {table} ADD CONSTRAINT {} {def}", ident(name))
                })
                .collect(),
            sequences: Vec::new(),
        }
    };
    let sessions = opts.streams.max(1);
    let mut outcomes = run_many(target, &after.single_table, sessions).await?;
    for sql in &after.foreign_keys {
        outcomes.push((sql.clone(), exec(client, env, sql).await));
    }
    outcomes.extend(run_many(target, &after.sequences, sessions).await?);
    for (sql, r) in outcomes {
        let Err(e) = r else { continue };
        // A check or foreign key the generated rows break (a form seed cannot honour) is
        // still added, NOT VALID, so new rows are checked; the note says which.
        let retry = sql.contains(" ADD CONSTRAINT ")
            && (sql.contains(" CHECK ") || sql.contains(" FOREIGN KEY "))
            && exec(client, env, &format!("{sql} NOT VALID")).await.is_ok();
        report.problems.push(Problem {
            area: "constraints".into(),
            message: if retry {
                format!("{e}; added NOT VALID: the generated rows do not all satisfy it")
            } else {
                e.to_string()
            },
        });
    }
    // Production's pages mostly all-visible (as autovacuum leaves tables): vacuumed too, or
    // every index-only scan costs more here than there. A VACUUM first (outside a
    // transaction, its tables split over the sessions; an ANALYZE running beside it would hold
    // back the rows it may mark all-visible), then ANALYZE everywhere.
    let vacuum: Vec<&str> = report
        .tables
        .iter()
        .filter(|t| mostly_all_visible(snap, &t.table))
        .map(|t| t.table.as_str())
        .collect();
    for t in vacuum_all_visible(client, target, vacuum, sessions).await? {
        report.problems.push(Problem {
            area: format!("table {t}"),
            message: "most pages not all-visible after four VACUUMs, where production's are (a session held a snapshot throughout): index-only scans cost more here; hint: VACUUM it once nothing else runs".into(),
        });
    }
    let analyze: Vec<String> = report
        .tables
        .iter()
        .map(|t| format!("ANALYZE {}", t.table))
        .collect();
    for (_, r) in run_many(target, &analyze, sessions).await? {
        r?;
    }
    if let Err(e) = record_provenance(client, env, snap, opts).await {
        report.problems.push(Problem {
            area: "provenance".into(),
            message: format!("{e}; a later check of this database against the snapshot will compare categories by identity (hint: seed as the database's owner)"),
        });
    }
    progress.finish(env, "constraints added, tables analyzed");
    Ok(())
}
