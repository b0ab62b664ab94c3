//! How each table is read: its sizes (one statement for all, or one per table), the
//! sampling method its estimate calls for, the expression each column is read through, the
//! units the lanes take (a table alone, or small tables grouped into one statement), and the
//! smaller block sample a retry reads.

use super::*;

pub(super) fn keys(secret: Option<&str>) -> ((u64, u64), String) {
    let secret = secret.unwrap_or("pgparity built-in key: hashes are comparable, not secret");
    let h = |tag: u64| {
        let mut s = SipHasher24::new_with_keys(tag, !tag);
        s.write(secret.as_bytes());
        s.finish()
    };
    let id = if secret.starts_with("pgparity built-in key") {
        "built-in".to_string()
    } else {
        format!("{:016x}", h(3))
    };
    ((h(1), h(2)), id)
}

/// What the COPY sends for a column. With `wide` (the table's rows average over 2 KB: some
/// values may be huge), text-like columns go through the long-value guard.
pub(super) fn expression(kind: Kind, col: &str, data_type: &str, wide: bool) -> String {
    let c = ident(col);
    if wide && matches!(kind, Kind::Text | Kind::Char | Kind::Json | Kind::Other) {
        let t = format!("{c}::text");
        return format!(
            "CASE WHEN octet_length({t}) > {LONG_VALUE} THEN {} || octet_length({t}) || ':' || char_length({t}) || ':' \
             || left({t}, 2048) || right({t}, 2048) ELSE {t} END",
            crate::sql::literal(accum::LONG_MARKER)
        );
    }
    match kind {
        // Sent as stored: the cheapest output (dates and timestamps parse on the client,
        // character(n) loses its padding there).
        Kind::Number | Kind::Text | Kind::Char | Kind::Boolean | Kind::Enum | Kind::Json => c,
        Kind::Temporal if data_type.starts_with("date") || data_type.starts_with("timestamp") => c,
        Kind::Temporal => format!("extract(epoch from {c})::float8"),
        Kind::Bytea => format!("octet_length({c})::text || ':' || md5({c})"),
        Kind::Array => format!("coalesce(cardinality({c}), 0)::text || ':' || md5({c}::text)"),
        // Any other type is measured through its text output: nulls, distinct, lengths and
        // character classes (never skipped).
        Kind::Other => format!("{c}::text"),
    }
}

/// The type of what `expression` sends for a column: its own type where it is sent as it
/// is, else text (or float8 for intervals and times). Kept beside `expression`: were the two
/// to disagree, a group's statement would fail on mismatched types and its tables be read
/// one by one (slower, the same profiles).
pub(super) fn result_type(kind: Kind, data_type: &str, wide: bool) -> String {
    let guarded = wide && matches!(kind, Kind::Text | Kind::Char | Kind::Json | Kind::Other);
    match kind {
        _ if guarded => "text".into(),
        Kind::Other | Kind::Bytea | Kind::Array => "text".into(),
        Kind::Temporal
            if !(data_type.starts_with("date") || data_type.starts_with("timestamp")) =>
        {
            "float8".into()
        }
        _ => data_type.into(),
    }
}

/// The sizes of every ordinary table, in one statement; empty if it cannot be read (each
/// table is then measured on its own).
pub(super) async fn all_sizes(client: &Session) -> std::collections::HashMap<String, Sizes> {
    let rows = client
        .transaction(|c| c.query_typed(
            "SELECT format('%I.%I', n.nspname, c.relname), pg_table_size(c.oid)::bigint, pg_indexes_size(c.oid)::bigint, \
             (pg_relation_size(c.oid) / current_setting('block_size')::bigint)::bigint, greatest(c.reltuples, 0)::float8, \
             c.reltuples >= 0 \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'",
            &[],
        ))
        .await
        .unwrap_or_default();
    let sizes = |r: &tokio_postgres::Row| -> Result<(String, Sizes), String> {
        Ok((
            column(r, 0)?,
            Sizes {
                table_bytes: column(r, 1)?,
                index_bytes: column(r, 2)?,
                pages: column(r, 3)?,
                reltuples: column(r, 4)?,
                analyzed: column(r, 5)?,
            },
        ))
    };
    rows.iter()
        .map(sizes)
        .collect::<Result<_, _>>()
        .unwrap_or_default()
}

pub(super) fn exists(snap: &Snapshot, rel: &RelSpec) -> bool {
    let has = |t: &str, cols: &[String]| {
        snap.schema
            .tables
            .get(t)
            .is_some_and(|tb| cols.iter().all(|c| tb.columns.iter().any(|x| &x.name == c)))
    };
    !rel.child_columns.is_empty()
        && rel.child_columns.len() == rel.parent_columns.len()
        && has(&rel.child, &rel.child_columns)
        && has(&rel.parent, &rel.parent_columns)
}

/// Sampling clause and the share of the table it reads.
pub(super) fn sampling(job: &Job, est_rows: Option<f64>, pages: i64) -> (String, Method, f64) {
    let target = job.sample_rows as f64;
    let rows = est_rows.filter(|r| *r > 0.0).unwrap_or(pages as f64 * 50.0);
    let small = est_rows.map_or(pages <= 128, |r| r <= 2.0 * target);
    let percent = if rows > 0.0 {
        (100.0 * target / rows).clamp(0.0001, 100.0)
    } else {
        100.0
    };
    // Small tables, and samples that would read half the table anyway, are read whole.
    if job.opts.exact || small || percent >= 50.0 {
        let method = Method {
            kind: SampleKind::Exact,
            percent: None,
            rows_read: 0,
            streams: None,
        };
        return (String::new(), method, 1.0);
    }
    // SYSTEM samples whole pages: only where that means many pages (a handful of pages may
    // hold no row at all, and clusters rows); else BERNOULLI, row by row.
    let pages_sampled = pages as f64 * percent / 100.0;
    let kind = if rows <= 100.0 * target || pages_sampled < 100.0 {
        SampleKind::Bernoulli
    } else {
        SampleKind::System
    };
    let clause = format!(
        " TABLESAMPLE {} ({percent:.6}) REPEATABLE ({})",
        kind.as_str().to_uppercase(),
        job.opts.seed
    );
    (
        clause,
        Method {
            kind,
            percent: Some(percent),
            rows_read: 0,
            streams: None,
        },
        percent / 100.0,
    )
}

/// One table's sizes, summed over partitions for a partitioned table (its own relation is
/// empty): a never-analyzed partitioned table must not be read whole.
pub(super) async fn table_sizes(client: &Session, name: &str) -> Result<Sizes, String> {
    let param = [(
        &name as &(dyn tokio_postgres::types::ToSql + Sync),
        Type::TEXT,
    )];
    let sizes = client
        .transaction(|c| c.query_typed_one(
            "WITH r AS (SELECT to_regclass($1) AS c), \
             parts AS (SELECT p.relid, p.isleaf FROM r, pg_partition_tree(r.c) p \
                       UNION ALL SELECT r.c, true FROM r WHERE NOT EXISTS (SELECT 1 FROM pg_partition_tree(r.c))) \
             SELECT sum(pg_table_size(relid))::bigint, sum(pg_indexes_size(relid))::bigint, \
               (sum(pg_relation_size(relid)) FILTER (WHERE isleaf) / current_setting('block_size')::bigint)::bigint, \
               (sum(greatest(k.reltuples, 0)) FILTER (WHERE isleaf))::float8, \
               bool_and(k.reltuples >= 0) FILTER (WHERE isleaf), \
               (SELECT c FROM r) IS NOT NULL \
             FROM parts JOIN pg_class k ON k.oid = parts.relid",
            &param,
        ))
        .await
        .map_err(|e| capture::db_message(&e))?;
    if !column::<bool>(&sizes, 5)? {
        return Err("the table was dropped during the run".into());
    }
    Ok(Sizes {
        table_bytes: column::<Option<i64>>(&sizes, 0)?.unwrap_or(0),
        index_bytes: column::<Option<i64>>(&sizes, 1)?.unwrap_or(0),
        pages: column::<Option<i64>>(&sizes, 2)?.unwrap_or(0),
        reltuples: column(&sizes, 3)?,
        analyzed: column::<Option<bool>>(&sizes, 4)?.unwrap_or(false),
    })
}

/// The planner's row estimate, where it is one: PostgreSQL 13 reports 0 rows (not -1) for a
/// never-analyzed table.
pub(super) fn estimate(s: &Sizes) -> Option<f64> {
    s.reltuples
        .filter(|r| s.analyzed && (*r > 0.0 || s.pages <= 128))
}

pub(super) fn plan(job: &Job, table: &Table, sizes: &Sizes) -> Plan {
    let est = estimate(sizes);
    let kinds: Vec<(String, Kind)> = table
        .columns
        .iter()
        .map(|c| (c.name.clone(), kind_of(&c.data_type, c.type_kind, job.snap)))
        .collect();
    // Rows over 2 KB on average (TOAST included), or a size we cannot tell: some values may
    // be megabytes, so text is measured behind the long-value guard.
    let wide = est.is_none_or(|r| sizes.table_bytes as f64 / r.max(1.0) > 2048.0);
    let expressions = kinds
        .iter()
        .zip(&table.columns)
        .map(|((c, k), col)| expression(*k, c, &col.data_type, wide))
        .collect();
    let shape = kinds
        .iter()
        .zip(&table.columns)
        .map(|((_, k), col)| result_type(*k, &col.data_type, wide))
        .collect();
    let mut reading = Reading::new(&kinds, job);
    reading.rows_hint = est.map_or(0, |r| r as u64);
    Plan {
        kinds,
        expressions,
        shape,
        reading,
    }
}

/// The queue in statements: small tables (read whole, well under a batch, with columns)
/// grouped up to `tables_per_statement`, a batch's rows and `GROUP_BYTES`, the rest one by
/// one.
pub(super) fn units<'s>(job: &Job, queue: Vec<(&'s String, &'s Table)>) -> Vec<Unit<'s>> {
    let per = job.opts.tables_per_statement.max(1);
    let small = |name: &str, table: &Table| {
        let sizes = job.sizes.get(name)?;
        let est = estimate(sizes)?;
        let whole = sampling(job, Some(est), sizes.pages).1.kind == SampleKind::Exact;
        (per > 1
            && table.kind == TableKind::Table
            && !table.columns.is_empty()
            && whole
            && est <= SMALL_ROWS
            && sizes.table_bytes <= SMALL_BYTES)
            .then_some((est, sizes.table_bytes))
    };
    let mut units = Vec::new();
    // Small tables of one shape (the columns' types in order) next to each other: read
    // together, their values need no cast to a common type.
    let mut smalls = Vec::new();
    for (name, table) in queue {
        match small(name, table) {
            Some(size) => smalls.push((name, table, size)),
            None => units.push(Unit::One(name, table)),
        }
    }
    fn shape(t: &Table) -> Vec<&str> {
        t.columns.iter().map(|c| &*c.data_type).collect()
    }
    smalls.sort_by_cached_key(|(name, table, _)| (shape(table), *name));
    let mut group: Vec<(&String, &Table)> = Vec::new();
    let (mut rows, mut bytes) = (0.0, 0);
    let close = |group: &mut Vec<(&'s String, &'s Table)>, units: &mut Vec<Unit<'s>>| {
        match group.len() {
            0 => {}
            1 => units.push(Unit::One(group[0].0, group[0].1)),
            _ => units.push(Unit::Group(std::mem::take(group))),
        }
        group.clear();
    };
    for (name, table, (est, size)) in smalls {
        if group.len() == per || rows + est > BATCH_ROWS as f64 || bytes + size > GROUP_BYTES {
            close(&mut group, &mut units);
            (rows, bytes) = (0.0, 0);
        }
        group.push((name, table));
        rows += est;
        bytes += size;
    }
    close(&mut group, &mut units);
    units
}

/// A column's expression as the text COPY would send for it. A cast to text is the type's
/// output function except where pg_cast names a function: boolean (`true` where COPY sends
/// `t`), inet and cidr (measured through `::text` already), character(n) (loses its padding,
/// as the measure does), "char" and name (the same text).
pub(super) fn as_text(e: &str, kind: Kind) -> String {
    if kind == Kind::Boolean {
        format!("CASE WHEN ({e}) THEN 't' WHEN NOT ({e}) THEN 'f' END")
    } else {
        format!("({e})::text")
    }
}

/// A retry's smaller read: a `p` % block sample (its clause, method and fraction of rows).
pub(super) fn block_sample(p: f64, seed: u32) -> (String, Method, f64) {
    (
        format!(" TABLESAMPLE SYSTEM ({p:.6}) REPEATABLE ({seed})"),
        Method {
            kind: SampleKind::System,
            percent: Some(p),
            rows_read: 0,
            streams: None,
        },
        p / 100.0,
    )
}
