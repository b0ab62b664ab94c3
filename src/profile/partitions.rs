//! A partitioned table's few-valued columns counted per leaf partition, in one grouped
//! statement over the rows the profile read (the same sample): where a column's shares move
//! from leaf to leaf (a status that moves on with the month the table is partitioned by),
//! the planner, which estimates each partition from its own statistics, sees what the
//! parent's profile cannot hold. Values are counted by label (enums, booleans) or keyed hash,
//! never stored raw.

use super::*;
use crate::snapshot::{ColumnProfile, PartitionCounts};

/// Columns counted per leaf: at most this many, of at most `MAX_VALUES` values each.
const MAX_COLUMNS: usize = 16;
const MAX_VALUES: usize = 64;
/// The statement's rows (leaves × values) past which the counts are not kept.
const MAX_CELLS: usize = 50_000;
/// A column is kept where a leaf of `MIN_LEAF_ROWS` rows or more holds its values at shares
/// this far from the whole table's (total variation distance).
const MIN_DISTANCE: f64 = 0.1;
const MIN_LEAF_ROWS: u64 = 20;

/// The per-leaf counts of `table`'s few-valued columns (`profiled`: its profile, `clause`:
/// the sampling clause it was read with); empty where none moves from leaf to leaf; an error
/// in words where the statement failed.
pub(super) async fn per_partition(
    client: &Session,
    job: &Job<'_>,
    name: &str,
    table: &Table,
    profiled: &TableProfile,
    clause: &str,
) -> Result<BTreeMap<String, PartitionCounts>, String> {
    // The partition key's columns, as `pg_get_partkeydef` writes them (`RANGE ("Day", id)`).
    let key = table.partition_key.as_deref().unwrap_or("");
    let key: Vec<&str> = key
        .split_once('(')
        .and_then(|(_, k)| k.strip_suffix(')'))
        .map(|k| k.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let chosen: Vec<(&str, Kind, String)> = table
        .columns
        .iter()
        .filter_map(|col| {
            let p = profiled.columns.get(&col.name)?;
            let kind = kind_of(&col.data_type, col.type_kind, job.snap);
            let few = match kind {
                Kind::Boolean | Kind::Enum => (2..=MAX_VALUES).contains(&p.labels.len()),
                Kind::Number | Kind::Text | Kind::Char | Kind::Temporal => {
                    p.categorical && (2..=MAX_VALUES).contains(&p.top.len())
                }
                _ => false,
            };
            // The partition key's values route rows to their leaves: nothing to learn.
            let in_key = key.contains(&crate::sql::ident(&col.name).as_str());
            (few && !in_key).then(|| {
                let e = expression(kind, &col.name, &col.data_type, false);
                (col.name.as_str(), kind, e)
            })
        })
        .take(MAX_COLUMNS)
        .collect();
    if chosen.is_empty() {
        return Ok(BTreeMap::new());
    }
    let values = chosen
        .iter()
        .enumerate()
        .map(|(i, (_, _, e))| format!("({i}, ({e})::text)"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT format('%I.%I', n.nspname, c.relname), g.i, g.v, g.n \
         FROM (SELECT t.tableoid AS r, x.i, x.v, count(*)::int8 AS n \
               FROM {name} AS t{clause} CROSS JOIN LATERAL (VALUES {values}) AS x(i, v) \
               GROUP BY 1, 2, 3) g \
         JOIN pg_class c ON c.oid = g.r JOIN pg_namespace n ON n.oid = c.relnamespace \
         LIMIT {}",
        MAX_CELLS + 1
    );
    let rows = client
        .transaction(|c| c.query_typed(&sql, &[]))
        .await
        .map_err(|e| format!("per-partition counts not read: {}", capture::db_message(&e)))?;
    if rows.len() > MAX_CELLS {
        return Ok(BTreeMap::new());
    }
    let mut out: BTreeMap<String, PartitionCounts> = BTreeMap::new();
    for r in &rows {
        let leaf: String = column(r, 0)?;
        let i: i32 = column(r, 1)?;
        let v: Option<String> = column(r, 2)?;
        let n: i64 = column(r, 3)?;
        let Some((col, kind, _)) = chosen.get(i as usize) else {
            continue;
        };
        let entry = out.entry(leaf).or_default();
        if i == 0 {
            entry.rows += n as u64;
        }
        let Some(v) = v else { continue };
        let value = match kind {
            // A boolean cast to text is `true`; COPY (and so the profile's labels) says `t`.
            Kind::Boolean => v.get(..1).unwrap_or_default().to_string(),
            Kind::Enum => v,
            _ => crate::snapshot::ValueHash(accum::value_hash(job.key, v.as_bytes())).to_string(),
        };
        *entry
            .columns
            .entry(col.to_string())
            .or_default()
            .entry(value)
            .or_default() += n as u64;
    }
    // Only the columns whose shares move from leaf to leaf.
    for (col, kind, _) in &chosen {
        let Some(p) = profiled.columns.get(*col) else {
            continue;
        };
        let whole = whole_counts(p, *kind);
        let moves = out.values().any(|leaf| {
            leaf.rows >= MIN_LEAF_ROWS
                && distance(&whole, leaf.columns.get(*col), p.nulls, p.rows, leaf.rows)
                    >= MIN_DISTANCE
        });
        if !moves {
            for leaf in out.values_mut() {
                leaf.columns.remove(*col);
            }
        }
    }
    if out.values().all(|l| l.columns.is_empty()) {
        return Ok(BTreeMap::new());
    }
    Ok(out)
}

/// The whole table's counts by the key the leaves' are held by.
fn whole_counts(p: &ColumnProfile, kind: Kind) -> BTreeMap<String, u64> {
    match kind {
        Kind::Boolean | Kind::Enum => p.labels.clone(),
        _ => p
            .top
            .iter()
            .map(|t| (t.hash.to_string(), t.count))
            .collect(),
    }
}

/// Total variation distance between the whole table's shares (NULL a value of its own) and
/// a leaf's.
fn distance(
    whole: &BTreeMap<String, u64>,
    leaf: Option<&BTreeMap<String, u64>>,
    nulls: u64,
    rows: u64,
    leaf_rows: u64,
) -> f64 {
    let empty = BTreeMap::new();
    let leaf = leaf.unwrap_or(&empty);
    let (w, l) = (rows.max(1) as f64, leaf_rows.max(1) as f64);
    let leaf_nulls = leaf_rows.saturating_sub(leaf.values().sum());
    let mut d = (nulls as f64 / w - leaf_nulls as f64 / l).abs();
    for (k, c) in whole {
        d += (*c as f64 / w - leaf.get(k).copied().unwrap_or(0) as f64 / l).abs();
    }
    d += leaf
        .iter()
        .filter(|(k, _)| !whole.contains_key(*k))
        .map(|(_, c)| *c as f64 / l)
        .sum::<f64>();
    d / 2.0
}
