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
    let key = t
        .partition_key
        .as_deref()?
        .strip_prefix("LIST (")?
        .strip_suffix(')')?;
    if key.contains(',') || key.contains('(') {
        return None;
    }
    let col = unquote(key.trim());
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
