//! Foreign-key fan-out: one server-side aggregate per relationship (children per parent,
//! orphans, childless parents), its quantiles read from the distribution of counts.

use super::*;

pub(super) async fn fanout(
    client: &Session,
    rel: &RelSpec,
    job: &Job<'_>,
) -> Result<RelationshipProfile, String> {
    let cc: Vec<String> = rel.child_columns.iter().map(|c| ident(c)).collect();
    let pc: Vec<String> = rel.parent_columns.iter().map(|c| ident(c)).collect();
    let join = |a: &str, b: &str| {
        cc.iter()
            .zip(&pc)
            .map(|(c, p)| format!("{a}.{p} = {b}.{c}"))
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    let not_null = cc
        .iter()
        .map(|c| format!("{c} IS NOT NULL"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let parent_rows = job
        .snap
        .statistics
        .tables
        .get(&rel.parent)
        .map(|t| t.reltuples)
        .unwrap_or(-1.0);
    // Parents are sampled only when very many: the child side's GROUP BY dominates anyway.
    let limit = (job.sample_rows * 500) as f64;
    let (parent_sample, sampled) = if !job.opts.exact && parent_rows > 2.0 * limit {
        (
            format!(
                " TABLESAMPLE SYSTEM ({:.6}) REPEATABLE ({})",
                (100.0 * limit / parent_rows).min(100.0),
                job.opts.seed
            ),
            true,
        )
    } else {
        (String::new(), false)
    };
    let sql = if sampled {
        // Parents sampled: fan-out over the sampled parents; the orphan share from a sample of
        // the children (an index probe each), scaled to every child.
        let child_rows = job
            .snap
            .statistics
            .tables
            .get(&rel.child)
            .map(|t| t.reltuples)
            .unwrap_or(-1.0);
        let child_sample = if child_rows > limit {
            format!(
                " TABLESAMPLE SYSTEM ({:.6}) REPEATABLE ({})",
                (100.0 * limit / child_rows).min(100.0),
                job.opts.seed
            )
        } else {
            String::new()
        };
        format!(
            "WITH c AS (SELECT {cols}, count(*) AS n FROM {child} WHERE {not_null} GROUP BY {cols}), \
             p AS (SELECT {pcols} FROM {parent}{parent_sample}), \
             f AS (SELECT coalesce(c.n, 0) AS n FROM p LEFT JOIN c ON {on}), \
             d AS (SELECT n, count(*) AS k FROM f GROUP BY n) \
             SELECT (SELECT array_agg(n ORDER BY n) FROM d)::int8[], (SELECT array_agg(k ORDER BY n) FROM d)::int8[], \
               (SELECT coalesce(sum(n), 0) FROM c)::bigint, \
               (SELECT round((SELECT coalesce(sum(n), 0) FROM c) * \
                  coalesce(avg((NOT EXISTS (SELECT 1 FROM {parent} pp WHERE {orphan_on}))::int), 0)) \
                  FROM (SELECT {cols} FROM {child}{child_sample} WHERE {not_null}) c)::bigint",
            cols = cc.join(", "),
            child = rel.child,
            pcols = pc.join(", "),
            parent = rel.parent,
            on = join("p", "c"),
            orphan_on = join("pp", "c"),
            child_sample = child_sample,
        )
    } else {
        // Every parent: one full join gives the fan-out (parents) and the orphans (children
        // without a parent) in a single pass.
        format!(
            "WITH c AS (SELECT {cols}, count(*) AS n FROM {child} WHERE {not_null} GROUP BY {cols}), \
             f AS (SELECT p.ctid IS NOT NULL AS parent, coalesce(c.n, 0) AS n FROM {parent} p FULL JOIN c ON {on}), \
             d AS (SELECT parent, n, count(*) AS k FROM f GROUP BY parent, n) \
             SELECT (array_agg(n ORDER BY n) FILTER (WHERE parent))::int8[], \
               (array_agg(k ORDER BY n) FILTER (WHERE parent))::int8[], \
               coalesce(sum(n * k), 0)::bigint, coalesce(sum(n * k) FILTER (WHERE NOT parent), 0)::bigint FROM d",
            cols = cc.join(", "),
            child = rel.child,
            parent = rel.parent,
            on = join("p", "c"),
        )
    };
    let row = client
        .transaction(|c| c.query_typed_one(sql.as_str(), &[]))
        .await
        .map_err(|e| format!("fan-out could not be measured: {}", capture::db_message(&e)))?;
    // Parents per fan-out value, in ascending order: the quantiles, the maximum and the
    // childless parents follow on this side (the server never sorts one value per parent).
    let values = column::<Option<Vec<i64>>>(&row, 0)?.unwrap_or_default();
    let counts = column::<Option<Vec<i64>>>(&row, 1)?.unwrap_or_default();
    let d = Distribution::new(&values, &counts);
    Ok(RelationshipProfile {
        child: rel.child.clone(),
        child_columns: rel.child_columns.clone(),
        parent: rel.parent.clone(),
        parent_columns: rel.parent_columns.clone(),
        parents: d.total,
        parents_sampled: sampled,
        childless: d.count_of(0),
        fanout: d.percentiles(&FANOUT_QUANTILES),
        max: d.max(),
        children: column::<i64>(&row, 2)? as u64,
        orphans: column::<i64>(&row, 3)? as u64,
    })
}

/// Parents per fan-out value: (value, parents) in ascending order of value.
pub(super) struct Distribution {
    pairs: Vec<(i64, u64)>,
    total: u64,
}

impl Distribution {
    fn new(values: &[i64], counts: &[i64]) -> Distribution {
        let pairs: Vec<(i64, u64)> = values
            .iter()
            .zip(counts)
            .map(|(v, k)| (*v, (*k).max(0) as u64))
            .collect();
        let total = pairs.iter().map(|(_, k)| k).sum();
        Distribution { pairs, total }
    }

    fn count_of(&self, value: i64) -> u64 {
        self.pairs
            .iter()
            .find(|(v, _)| *v == value)
            .map_or(0, |(_, k)| *k)
    }

    fn max(&self) -> f64 {
        self.pairs.last().map_or(0.0, |(v, _)| *v as f64)
    }

    /// `percentile_disc`'s answer: the first value whose position in the ordered list is at
    /// or past fraction q of it (empty: none).
    fn percentiles(&self, at: &[f64]) -> Vec<f64> {
        if self.total == 0 {
            return Vec::new();
        }
        at.iter()
            .map(|q| {
                let position = ((q * self.total as f64).ceil() as u64).max(1);
                let mut seen = 0;
                for (v, k) in &self.pairs {
                    seen += k;
                    if seen >= position {
                        return *v as f64;
                    }
                }
                self.max()
            })
            .collect()
    }
}
