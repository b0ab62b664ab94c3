//! The statistics transplant: production's planner statistics (relation sizes, pg_stats)
//! restored into the new major's cluster, so both plan as production would.

use super::*;

/// Copies the old side's planner statistics into the new side (PostgreSQL 18's
/// `pg_restore_relation_stats` and `pg_restore_attribute_stats`, what pg_dump --statistics
/// emits): relation sizes, then every column's pg_stats. Returns (relations, columns) copied.
pub(super) async fn copy_statistics(old: &Target, new: &Target) -> Result<(usize, usize)> {
    let (a, b) = (
        crate::capture::connect(old).await?,
        crate::capture::connect(new).await?,
    );
    fn db(env: &str) -> impl Fn(tokio_postgres::Error) -> Error + '_ {
        move |e| Error::database(env, crate::capture::db_message(&e), &e)
    }
    let relations = a
        .query_typed(
            "SELECT n.nspname::text, c.relname::text, c.relpages::int4, c.reltuples::float4, c.relallvisible::int4 \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p', 'm', 'i') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
             AND n.nspname NOT LIKE 'pg\\_toast%'",
            &[],
        )
        .await
        .map_err(db(&old.name))?;
    let mut copied = 0;
    for r in &relations {
        let get = |i| crate::capture::column::<String>(r, i).map_err(|m| Error::env(&old.name, m));
        let (schema, rel) = (get(0)?, get(1)?);
        let pages: i32 = crate::capture::column(r, 2).map_err(|m| Error::env(&old.name, m))?;
        let tuples: f32 = crate::capture::column(r, 3).map_err(|m| Error::env(&old.name, m))?;
        let visible: i32 = crate::capture::column(r, 4).map_err(|m| Error::env(&old.name, m))?;
        b.execute_typed(
            "SELECT pg_catalog.pg_restore_relation_stats('schemaname', $1::text, 'relname', $2::text, \
             'relpages', $3::int4, 'reltuples', $4::float4, 'relallvisible', $5::int4)",
            &[
                (&schema, Type::TEXT),
                (&rel, Type::TEXT),
                (&pages, Type::INT4),
                (&tuples, Type::FLOAT4),
                (&visible, Type::INT4),
            ],
        )
        .await
        .map_err(db(&new.name))?;
        copied += 1;
    }
    // pg_stats' arrays as text: the restore function reads them with the column's type.
    let columns = a
        .query_typed(
            "SELECT schemaname::text, tablename::text, attname::text, inherited, null_frac, avg_width, n_distinct, \
             most_common_vals::text, most_common_freqs::text, histogram_bounds::text, correlation, \
             most_common_elems::text, most_common_elem_freqs::text, elem_count_histogram::text \
             FROM pg_stats WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
            &[],
        )
        .await
        .map_err(db(&old.name))?;
    let mut attributes = 0;
    for r in &columns {
        let text = |i| -> Result<Option<String>> {
            crate::capture::column::<Option<String>>(r, i).map_err(|m| Error::env(&old.name, m))
        };
        let real = |i| -> Result<Option<f32>> {
            crate::capture::column::<Option<f32>>(r, i).map_err(|m| Error::env(&old.name, m))
        };
        let inherited: bool = crate::capture::column(r, 3).map_err(|m| Error::env(&old.name, m))?;
        let width: Option<i32> =
            crate::capture::column(r, 5).map_err(|m| Error::env(&old.name, m))?;
        let mut args = vec![
            format!(
                "'schemaname', {}::text",
                crate::sql::literal(&text(0)?.unwrap_or_default())
            ),
            format!(
                "'relname', {}::text",
                crate::sql::literal(&text(1)?.unwrap_or_default())
            ),
            format!(
                "'attname', {}::text",
                crate::sql::literal(&text(2)?.unwrap_or_default())
            ),
            format!("'inherited', {inherited}"),
        ];
        for (name, v) in [
            ("null_frac", real(4)?),
            ("n_distinct", real(6)?),
            ("correlation", real(10)?),
        ] {
            if let Some(v) = v {
                args.push(format!("'{name}', '{v}'::real"));
            }
        }
        if let Some(w) = width {
            args.push(format!("'avg_width', {w}::int4"));
        }
        for (name, i, cast) in [
            ("most_common_vals", 7, "text"),
            ("most_common_freqs", 8, "real[]"),
            ("histogram_bounds", 9, "text"),
            ("most_common_elems", 11, "text"),
            ("most_common_elem_freqs", 12, "real[]"),
            ("elem_count_histogram", 13, "real[]"),
        ] {
            if let Some(v) = text(i)? {
                args.push(format!("'{name}', {}::{cast}", crate::sql::literal(&v)));
            }
        }
        b.batch_execute(&format!(
            "SELECT pg_catalog.pg_restore_attribute_stats({})",
            args.join(", ")
        ))
        .await
        .map_err(db(&new.name))?;
        attributes += 1;
    }
    Ok((copied, attributes))
}
