//! Planner statistics carried from one server to another: relation sizes (pg_class) and every
//! column's pg_stats as the `pg_restore_relation_stats` / `pg_restore_attribute_stats` calls
//! pg_dump --statistics emits (PostgreSQL 18+ on the receiving side; any major reads). The
//! statements are written by the source server itself (`format` with `%L`), so every value is
//! quoted by the server that holds it. Rehearsal restores them into its new cluster; a plan
//! counterfactual restores them in a transaction that is rolled back.
//!
//! The values (most common values, histogram bounds) travel from one server to the other and
//! nowhere else: never into a report or a snapshot.

use tokio_postgres::types::Type;
use tokio_postgres::Client;

/// The restore function's arguments and the pg_stats column each comes from, with the type
/// the value is cast to (arrays of the column's type as `text`: the receiving side reads them
/// with its own column type). The last three exist since PostgreSQL 17.
const ATTRIBUTES: &[(&str, &str)] = &[
    ("null_frac", "real"),
    ("avg_width", "int4"),
    ("n_distinct", "real"),
    ("most_common_vals", "text"),
    ("most_common_freqs", "real[]"),
    ("histogram_bounds", "text"),
    ("correlation", "real"),
    ("most_common_elems", "text"),
    ("most_common_elem_freqs", "real[]"),
    ("elem_count_histogram", "real[]"),
    ("range_length_histogram", "text"),
    ("range_empty_frac", "real"),
    ("range_bounds_histogram", "text"),
];

/// The relations asked for (`schema.name`, `$1`, all user relations when NULL) and their
/// indexes: an index's size and its expression statistics plan too.
const RELATIONS: &str = "WITH wanted AS ( \
       SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
       WHERE c.relkind IN ('r', 'p', 'm', 'i') \
         AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' \
         AND ($1::text[] IS NULL OR n.nspname || '.' || c.relname = ANY($1::text[])) \
     ), rels AS ( \
       SELECT oid FROM wanted UNION SELECT i.indexrelid FROM pg_catalog.pg_index i JOIN wanted w ON w.oid = i.indrelid \
     ) ";

/// The statements that restore the source's planner statistics of `relations` (`schema.name`;
/// `None`: every user relation) on another server, relation sizes first (pg_stats' range
/// columns are read from a source of 17 on). Each restores only where its relation and column
/// exist on the receiving side (where they do not, the restore functions raise an error).
pub async fn statements(
    source: &Client,
    relations: Option<&[String]>,
) -> std::result::Result<Vec<String>, tokio_postgres::Error> {
    let major: i32 = source
        .query_typed_one(
            "SELECT current_setting('server_version_num')::int4 / 10000",
            &[],
        )
        .await?
        .try_get(0)?;
    let rels: Option<Vec<String>> = relations.map(|r| r.to_vec());
    let sizes = format!(
        "{RELATIONS}SELECT format('SELECT pg_catalog.pg_restore_relation_stats(%L, %L::text, %L, %L::text, \
         %L, %s::int4, %L, %L::real, %L, %s::int4) WHERE pg_catalog.to_regclass(%L) IS NOT NULL', \
         'schemaname', n.nspname, 'relname', c.relname, \
         'relpages', c.relpages, 'reltuples', c.reltuples, 'relallvisible', c.relallvisible, \
         format('%I.%I', n.nspname, c.relname)) \
         FROM rels JOIN pg_catalog.pg_class c ON c.oid = rels.oid \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ORDER BY n.nspname, c.relname"
    );
    let args: Vec<String> = ATTRIBUTES
        .iter()
        .filter(|(name, _)| major >= 17 || !name.starts_with("range_"))
        .map(|(name, cast)| {
            format!(
                "CASE WHEN s.{name} IS NOT NULL THEN format('%L, %L::{cast}', '{name}', s.{name}::text) END"
            )
        })
        .collect();
    let columns = format!(
        "{RELATIONS}SELECT 'SELECT pg_catalog.pg_restore_attribute_stats(' || concat_ws(', ', \
         format('%L, %L::text', 'schemaname', s.schemaname), format('%L, %L::text', 'relname', s.tablename), \
         format('%L, %L::text', 'attname', s.attname), format('%L, %L::boolean', 'inherited', s.inherited), {}) || ')' \
         || format(' WHERE EXISTS (SELECT FROM pg_catalog.pg_attribute WHERE attrelid = pg_catalog.to_regclass(%L) \
         AND attname = %L AND NOT attisdropped)', format('%I.%I', s.schemaname, s.tablename), s.attname) \
         FROM pg_catalog.pg_stats s JOIN pg_catalog.pg_namespace n ON n.nspname = s.schemaname \
         JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = s.tablename \
         JOIN rels ON rels.oid = c.oid ORDER BY s.schemaname, s.tablename, s.attname, s.inherited",
        args.join(", ")
    );
    let mut out = Vec::new();
    for sql in [sizes, columns] {
        for row in source
            .query_typed(&sql, &[(&rels, Type::TEXT_ARRAY)])
            .await?
        {
            out.push(row.try_get::<_, String>(0)?);
        }
    }
    Ok(out)
}

/// How many of `statements` restore relation sizes (the rest restore columns).
pub fn relations_in(statements: &[String]) -> usize {
    statements
        .iter()
        .filter(|s| s.contains("pg_restore_relation_stats"))
        .count()
}
