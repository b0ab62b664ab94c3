//! Rows of a table partitioned by `LIST (col)` routed to its partitions: the values each
//! partition lists, weighted by its rows (a default partition takes the rest).

use super::*;

/// For a table partitioned by `LIST (col)`: the column, the values its partitions list, and
/// cumulative weights by each partition's rows (the planner's count, from the snapshot's
/// statistics); one more weight at the end when a default partition takes the rest.
pub(super) fn list_route(
    snap: &Snapshot,
    name: &str,
    t: &crate::snapshot::Table,
) -> Option<(String, Vec<String>, Vec<f64>)> {
    let col = single_key(t, "LIST")?;
    let rows = |n: &str| -> f64 {
        fn sum(snap: &Snapshot, n: &str, depth: usize) -> f64 {
            let own = snap
                .statistics
                .tables
                .get(n)
                .map(|s| s.reltuples.max(s.live_tuples as f64).max(0.0))
                .unwrap_or(0.0);
            if depth > 16 {
                return own;
            }
            own + snap
                .schema
                .tables
                .iter()
                .filter(|(_, c)| c.parent.as_deref() == Some(n))
                .map(|(k, _)| sum(snap, k, depth + 1))
                .sum::<f64>()
        }
        sum(snap, n, 0)
    };
    let (mut labels, mut weights, mut default) = (Vec::new(), Vec::new(), None);
    for (child, c) in snap
        .schema
        .tables
        .iter()
        .filter(|(_, c)| c.parent.as_deref() == Some(name))
    {
        let Some(bound) = &c.partition_bound else {
            continue;
        };
        let w = rows(child);
        if bound.trim() == "DEFAULT" {
            default = Some(w);
            continue;
        }
        let Some(list) = bound
            .trim()
            .strip_prefix("FOR VALUES IN (")
            .and_then(|b| b.strip_suffix(')'))
        else {
            continue;
        };
        let values = split_literals(list);
        let share = w / values.len().max(1) as f64;
        for v in values {
            labels.push(v);
            weights.push(share);
        }
    }
    if labels.is_empty() {
        return None;
    }
    if let Some(d) = default {
        weights.push(d);
    }
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    let cum = weights
        .iter()
        .map(|w| {
            acc += if total > 0.0 { *w } else { 1.0 };
            acc
        })
        .collect();
    Some((col, labels, cum))
}

/// `"Odd ""Name"""` → `Odd "Name"`; a bare name as is.
pub(super) fn unquote(s: &str) -> String {
    match s.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => s.to_string(),
    }
}

/// `'eu', 'uk'` → [eu, uk]; numbers as written; NULL left out.
pub(super) fn split_literals(list: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = list.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' if quoted && chars.peek() == Some(&'\'') => {
                cur.push('\'');
                chars.next();
            }
            '\'' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c if quoted || !c.is_whitespace() => cur.push(c),
            _ => {}
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|v| v.split("::").next().unwrap_or("").to_string())
        .filter(|v| !v.is_empty() && v != "NULL")
        .collect()
}

/// Rows of a table partitioned by `RANGE (col)` whose key is a function of the row (a key,
/// or a number or time seeded in row order, on its curve or among few values): the leaf each row lands in, from the leaves' bounds
/// (`None`: another partitioning, a key drawn at random, a bound it cannot read, or a leaf
/// partitioned again).
fn range_leaves(
    snap: &Snapshot,
    name: &str,
    t: &crate::snapshot::Table,
    columns: &[ColumnModel],
    leaves: &[&String],
) -> Option<Leaves> {
    let key = single_key(t, "RANGE")?;
    let at = match &columns.iter().find(|c| c.name == key)?.gen {
        // Values with NULLs or reserved values placed among them: not a function of the row
        // alone here.
        Gen::Values(v) if v.null_rate > 0.0 || v.reserved.is_some() => return None,
        Gen::Values(v) => match (&v.base, v.ordered, &v.pool) {
            (Base::Number { curve, .. } | Base::Temporal { curve, .. }, Some(o), None) => {
                KeyAt::Curve {
                    curve: curve.clone(),
                    ordered: o,
                }
            }
            (Base::Labels { labels, cum }, Some(o), None) => KeyAt::Steps {
                values: labels
                    .iter()
                    .map(|l| crate::profile::accum::number(l))
                    .collect::<Option<_>>()?,
                cum: cum.clone(),
                ordered: o,
            },
            _ => return None,
        },
        Gen::Key {
            key,
            div,
            modulo: None,
            scatter,
        } => {
            let (base, step) = match key {
                Key::Int { base, step } => (*base as f64, *step as f64),
                Key::Decimal { base, step, .. } | Key::Temporal { base, step, .. } => {
                    (*base, *step)
                }
                _ => return None,
            };
            KeyAt::Linear {
                base,
                step,
                div: *div,
                scatter: *scatter,
            }
        }
        _ => return None,
    };
    let bound = |s: &str| -> Option<f64> {
        match s.trim() {
            "MINVALUE" => Some(f64::NEG_INFINITY),
            "MAXVALUE" => Some(f64::INFINITY),
            s => {
                let s = s
                    .strip_prefix('\'')
                    .and_then(|s| s.strip_suffix('\''))
                    .unwrap_or(s);
                crate::profile::accum::number(s)
            }
        }
    };
    let (mut ranges, mut default) = (Vec::new(), None);
    for (i, leaf) in leaves.iter().enumerate() {
        let c = snap.schema.tables.get(leaf.as_str())?;
        if c.parent.as_deref() != Some(name) || c.kind == TableKind::Partitioned {
            return None;
        }
        let b = c.partition_bound.as_deref()?.trim();
        if b == "DEFAULT" {
            default = Some(i);
            continue;
        }
        let (lo, hi) = b
            .strip_prefix("FOR VALUES FROM (")?
            .strip_suffix(')')?
            .split_once(") TO (")?;
        ranges.push((bound(lo)?, bound(hi)?, i));
    }
    ranges.sort_by(|a, b| a.0.total_cmp(&b.0));
    Some(Leaves {
        at,
        ranges,
        default,
    })
}

/// Columns whose shares production's profile counted per leaf partition (enum and boolean
/// labels, categories of a weighted pool) are drawn by the shares of the leaf each row lands
/// in, so every partition's statistics are its own (a range-partitioned table, see
/// [`range_leaves`]).
pub(super) fn shares_by_leaf(
    snap: &Snapshot,
    name: &str,
    t: &crate::snapshot::Table,
    tp: &crate::snapshot::TableProfile,
    columns: &mut [ColumnModel],
) {
    let names: Vec<&String> = tp.partitions.keys().collect();
    let Some(leaves) = range_leaves(snap, name, t, columns, &names) else {
        return;
    };
    let leaves = Arc::new(leaves);
    for c in columns.iter_mut() {
        let Gen::Values(v) = &mut c.gen else {
            continue;
        };
        let Some(p) = tp.columns.get(&c.name) else {
            continue;
        };
        // The key each of the column's labels or categories is counted by in a leaf.
        let keys: Vec<String> = match (&v.pool, &v.base) {
            (None, Base::Labels { labels, .. }) if !p.labels.is_empty() => labels.clone(),
            (None, Base::Labels { labels, .. }) => {
                // Production's raw values (the opt-in): counted by their hashes.
                let by_raw: HashMap<&str, String> = p
                    .top
                    .iter()
                    .filter_map(|t| Some((t.raw.as_deref()?, t.hash.to_string())))
                    .collect();
                match labels
                    .iter()
                    .map(|l| by_raw.get(l.as_str()).cloned())
                    .collect()
                {
                    Some(k) => k,
                    None => continue,
                }
            }
            (Some(Pool::Weighted(cum)), _) if cum.len() == p.top.len() => {
                super::columns::pool_order(&v.base, p)
                    .into_iter()
                    .map(|i| p.top[i].hash.to_string())
                    .collect()
            }
            _ => continue,
        };
        if v.ordered.is_some()
            || !names
                .iter()
                .any(|l| tp.partitions[*l].columns.contains_key(&c.name))
        {
            continue;
        }
        let cums = names
            .iter()
            .map(|l| {
                let counts = tp.partitions[*l].columns.get(&c.name)?;
                let mut acc = 0.0;
                Some(
                    keys.iter()
                        .map(|k| {
                            acc += counts.get(k).copied().unwrap_or(0) as f64;
                            acc
                        })
                        .collect(),
                )
            })
            .collect();
        v.by_leaf = Some(Box::new(ByLeaf {
            leaves: leaves.clone(),
            cums,
        }));
    }
}

/// The column a table is partitioned by with `method` (`LIST`, `RANGE`), where it is one
/// column and no expression.
fn single_key(t: &crate::snapshot::Table, method: &str) -> Option<String> {
    let key = t
        .partition_key
        .as_deref()?
        .strip_prefix(method)?
        .strip_prefix(" (")?
        .strip_suffix(')')?;
    (!key.contains(',') && !key.contains('(')).then(|| unquote(key.trim()))
}
