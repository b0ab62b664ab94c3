//! Data gaps: does the left side (staging) cover the cases the right side (production) has?
//! Volumes, NULLs, character classes, value ranges, categorical values, lengths, JSON keys,
//! foreign-key fan-out and orphans, and planner statistics against measured truth.
//!
//! Asymmetric by default, with effect sizes: a case counts as missing on the left only when,
//! had the left side the right side's share, its rows would have shown it at least
//! `min_expected` times (3 by default, see `thresholds.rs`). So sampling noise is not a finding, and the same data on both sides
//! gives none. When the left side's rows were all read, its absence is a fact, not a sample's
//! chance: a case the right side has is then reported however rare, ranked by its share.
//! Extremes are compared at any share where they cannot be sampling noise: magnitudes an order
//! beyond the left's range, text longer than anything on the left, one parent with ten times
//! the left's largest fan-out.

use super::{each_key, Sides};
use crate::finding::{Category, Finding, Severity};
use crate::snapshot::classes;
use crate::snapshot::{
    ColumnProfile, ConstraintKind, Profile, RelationshipProfile, Snapshot, TableProfile, ValueHash,
    ValueKind,
};

/// Every row of the table was read: an absence is certain.
fn complete(t: &TableProfile) -> bool {
    t.method.kind == crate::snapshot::SampleKind::Exact
}

/// A severity one step lower for a case under 1 % of rows (rare but certain).
fn by_share(sev: Severity, share: f64) -> Severity {
    if share >= 0.01 {
        sev
    } else {
        match sev {
            Severity::Critical => Severity::High,
            Severity::High => Severity::Medium,
            Severity::Medium => Severity::Low,
            other => other,
        }
    }
}

fn share(count: u64, n: u64) -> f64 {
    if n == 0 {
        0.0
    } else {
        count as f64 / n as f64
    }
}

fn pct(x: f64) -> String {
    if x == 0.0 {
        "0 %".into()
    } else if x >= 0.1 {
        format!("{:.0} %", x * 100.0)
    } else if x >= 0.001 {
        format!("{:.1} %", x * 100.0)
    } else {
        format!("{:.3} %", x * 100.0)
    }
}

fn count(x: f64) -> String {
    crate::finding::thousands(x)
}

/// Rounds to two significant digits: ratios of estimates are not more precise than that.
fn two_digits(x: f64) -> f64 {
    if x < 10.0 {
        return (x * 10.0).round() / 10.0;
    }
    let p = 10f64.powi(x.log10().floor() as i32 - 1);
    (x / p).round() * p
}

fn bytes(x: f64) -> String {
    if x >= 1024.0 * 1024.0 {
        format!("{:.1} MB", x / 1024.0 / 1024.0)
    } else if x >= 1024.0 {
        format!("{:.1} KB", x / 1024.0)
    } else {
        format!("{} bytes", x as i64)
    }
}

fn value(c: &ColumnProfile, x: f64) -> String {
    if c.kind == ValueKind::Temporal && x.abs() > 1e6 {
        chrono::DateTime::from_timestamp(x as i64, 0)
            .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| x.to_string())
    } else if x.fract() == 0.0 {
        count(x)
    } else {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

pub fn compare(s: &Sides, out: &mut Vec<Finding>) {
    let (lkeys, rkeys) = (key_columns(s.left), key_columns(s.right));
    let (lp, rp) = (s.left.profile.as_ref(), s.right.profile.as_ref());
    // One side was seeded from the other's snapshot: its categories are synthetic stand-ins,
    // so they are compared by shape (how many, how frequent), never by identity.
    let seeded = lp.is_some()
        && rp.is_some()
        && (s
            .left
            .meta
            .seeded_from
            .as_ref()
            .is_some_and(|p| p.is_from(s.right))
            || s.right
                .meta
                .seeded_from
                .as_ref()
                .is_some_and(|p| p.is_from(s.left)));
    if seeded {
        let (by, from) = if s.left.meta.seeded_from.is_some() {
            (&s.left_name, &s.right_name)
        } else {
            (&s.right_name, &s.left_name)
        };
        out.push(
            Finding::new(Category::Distribution, Severity::Info, "seeded", "")
                .message(format!(
                    "{by} was seeded by pgparity from {from}'s snapshot: categorical values are compared by shape (how many, how frequent), not by identity"
                ))
                .why("synthetic categories stand in for production's values and can never match their hashes")
                .hint("nothing to do; reseed after production's profile changes"),
        );
    }
    let same = matches!((lp, rp), (Some(l), Some(r)) if same_key(l, r));
    let (mut lgaps, mut rgaps) = (Gaps::new(), Gaps::new());
    let mut keyed = Vec::new();
    // One pass over both profiles' tables, each table decoded once per side (a profile holds
    // its tables as bytes: see `ProfileTables`).
    let names: std::collections::BTreeSet<&String> = lp
        .into_iter()
        .chain(rp)
        .flat_map(|p| p.tables.keys())
        .collect();
    for table in names {
        let l = lp.and_then(|p| p.tables.get(table));
        let r = rp.and_then(|p| p.tables.get(table));
        if let Some(l) = &l {
            table_gaps(s.left, &s.thresholds, table, l, &mut lgaps);
        }
        if let Some(r) = &r {
            table_gaps(s.right, &s.thresholds, table, r, &mut rgaps);
            if lp.is_some() {
                key_headroom(s, &rkeys, table, r, l.as_ref(), &mut keyed);
            }
        }
        let (Some(l), Some(r)) = (l, r) else { continue };
        volume(s, table, &l, &r, out);
        each_key(&l.columns, &r.columns, |col, a, b| {
            let (Some(a), Some(b)) = (a, b) else { return };
            if a.kind != b.kind {
                return; // a type difference: the schema comparison reports it
            }
            let object = format!("{table}.{}", crate::sql::ident(col));
            let lc = complete(&l);
            nulls(s, &object, a, b, lc, out);
            encodings(s, &object, a, b, lc, out);
            let key = lkeys.contains(&(table.as_str(), col.as_str()))
                || rkeys.contains(&(table.as_str(), col.as_str()));
            distribution(s, &object, a, b, same && !seeded, key, lc, out);
            if seeded && !key {
                category_shape(s, &object, a, b, out);
            }
        });
    }
    statistics_truth(s, &lgaps, &rgaps, out);
    headroom(s, keyed, out);
    if let (Some(lp), Some(rp)) = (lp, rp) {
        each_key(&lp.relationships, &rp.relationships, |key, l, r| {
            if let (Some(l), Some(r)) = (l, r) {
                relationship(s, key, l, r, out);
            }
        });
    }
}

/// Surrogate keys and references: their ranges and distinct counts follow the row count, so
/// they say nothing the volume finding does not. Built once per snapshot: (table, column) of
/// every key, unique or foreign-key column, and every identity or sequence-fed column.
fn key_columns(snap: &Snapshot) -> std::collections::HashSet<(&str, &str)> {
    let mut set = std::collections::HashSet::new();
    for c in snap.schema.constraints.values() {
        if matches!(
            c.kind,
            ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::ForeignKey
        ) {
            for col in &c.columns {
                set.insert((c.table.as_str(), col.as_str()));
            }
        }
    }
    for (name, t) in &snap.schema.tables {
        for c in &t.columns {
            let generated = c.identity.is_identity()
                || c.default
                    .as_deref()
                    .is_some_and(|d| d.starts_with("nextval("));
            if generated {
                set.insert((name.as_str(), c.name.as_str()));
            }
        }
    }
    set
}

fn same_key(l: &Profile, r: &Profile) -> bool {
    l.hash_key_id == r.hash_key_id
}

fn volume(s: &Sides, table: &str, l: &TableProfile, r: &TableProfile, out: &mut Vec<Finding>) {
    let t = s.thresholds.get(table);
    let (nl, nr) = (l.rows.max(0.0), r.rows.max(0.0));
    let how = |t: &TableProfile| if t.rows_exact { "" } else { " (estimated)" };
    let values = (
        Some(format!("{} rows{}", count(nl), how(l))),
        Some(format!("{} rows{}", count(nr), how(r))),
    );
    if nr >= 1000.0 && nl * t.volume_band < nr {
        let ratio = if nl > 0.0 { nr / nl } else { f64::INFINITY };
        let sev = if nl * 500.0 < nr {
            Severity::High
        } else {
            Severity::Medium
        };
        let scale = if ratio.is_finite() {
            format!("{}×", count(two_digits(ratio)))
        } else {
            "infinitely".into()
        };
        out.push(
            Finding::new(Category::Volume, sev, table, "")
                .values(values.0, values.1)
                .message(format!(
                    "{table} is {scale} larger in {} ({} rows) than in {} ({} rows)",
                    s.right_name,
                    count(nr),
                    s.left_name,
                    count(nl)
                ))
                .why("at 1 % of the volume, pagination, N+1 queries, sequential scans, sort spills and lock contention never show")
                .hint(format!("load {} with production-scale data (pgparity seed), or accept the scale gap", s.left_name)),
        );
    } else if nl >= 1000.0 && nr * t.volume_band < nl {
        out.push(
            Finding::new(Category::Volume, Severity::Low, table, "")
                .values(values.0, values.1)
                .message(format!(
                    "{table} is over {}× larger in {} than in {}",
                    t.volume_band, s.left_name, s.right_name
                ))
                .why("plans and timings measured on the larger side do not carry over")
                .hint("check which side holds the intended data"),
        );
    }
}

fn non_null(c: &ColumnProfile) -> u64 {
    c.rows - c.nulls
}

fn nulls(
    s: &Sides,
    object: &str,
    a: &ColumnProfile,
    b: &ColumnProfile,
    left_complete: bool,
    out: &mut Vec<Finding>,
) {
    let t = s.thresholds.get(object);
    let (pa, pb) = (share(a.nulls, a.rows), share(b.nulls, b.rows));
    let values = (
        Some(format!("{} NULL", pct(pa))),
        Some(format!("{} NULL", pct(pb))),
    );
    if t.absent(a.nulls, a.rows, b.nulls, b.rows, left_complete) {
        out.push(
            Finding::new(Category::Nulls, by_share(Severity::Critical, pb), object, "")
                .values(values.0, values.1)
                .message(format!("{object} is NULL in {} of {} rows, never in {}", pct(pb), s.right_name, s.left_name))
                .why("code paths for NULL (formatting, comparisons, NOT IN, aggregates, joins) are never exercised where the tests run")
                .hint(format!("add rows with NULL {object} to {}'s data", s.left_name)),
        );
    } else if t.missing(b.nulls, b.rows, a.nulls, a.rows) {
        out.push(
            Finding::new(Category::Nulls, Severity::Medium, object, "")
                .values(values.0, values.1)
                .message(format!("{object} is NULL in {} of {} rows, never in {}", pct(pa), s.left_name, s.right_name))
                .why("test data unlike production: NULL handling is tested for a case production does not have, or production has a default staging lacks")
                .hint("check how the column is filled on each side"),
        );
    } else if a.rows > 0 && b.rows > 0 {
        let se = (pa * (1.0 - pa) / a.rows as f64 + pb * (1.0 - pb) / b.rows as f64).sqrt();
        if (pa - pb).abs() > t.null_rate_gap.max(4.0 * se) {
            out.push(
                Finding::new(Category::Nulls, Severity::Low, object, "rate")
                    .values(values.0, values.1)
                    .message(format!("{object}: NULL rates far apart: {} in {} vs {} in {}", pct(pa), s.left_name, pct(pb), s.right_name))
                    .why("selectivity and NULL-handling paths differ: plans and behaviour seen in one environment are not the other's")
                    .hint(format!("make {}'s data NULL about as often as {}'s", s.left_name, s.right_name)),
            );
        }
    }
}

fn encodings(
    s: &Sides,
    object: &str,
    a: &ColumnProfile,
    b: &ColumnProfile,
    left_complete: bool,
    out: &mut Vec<Finding>,
) {
    let t = s.thresholds.get(object);
    let (na, nb) = (non_null(a), non_null(b));
    for (class, &cb) in &b.classes {
        if class == "ascii_only" {
            continue;
        }
        let ca = a.classes.get(class).copied().unwrap_or(0);
        if !t.absent(ca, na, cb, nb, left_complete) {
            continue;
        }
        let sev = match class.as_str() {
            "emoji"
            | "rtl"
            | "combining_mark"
            | "outside_bmp"
            | "control_or_invisible"
            | "not_nfc" => Severity::High,
            _ => Severity::Medium,
        };
        let sev = by_share(sev, share(cb, nb));
        out.push(
            Finding::new(Category::Encoding, sev, object, class)
                .values(Some(format!("{} {class}", pct(share(ca, na)))), Some(format!("{} {class}", pct(share(cb, nb)))))
                .message(format!(
                    "{} has {} in {} of {object}; {} has none",
                    s.right_name,
                    classes::describe(class),
                    pct(share(cb, nb)),
                    s.left_name
                ))
                .why("length limits in bytes, truncation, sorting, case mapping, search, rendering and exports break on text the tests never had")
                .hint(format!("add values with {} to {}'s data", classes::describe(class), s.left_name)),
        );
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "one column's two profiles with their context; a struct would only rename them"
)]
fn distribution(
    s: &Sides,
    object: &str,
    a: &ColumnProfile,
    b: &ColumnProfile,
    same_key: bool,
    key: bool,
    left_complete: bool,
    out: &mut Vec<Finding>,
) {
    let t = s.thresholds.get(object);
    if !key {
        magnitude(s, object, a, b, left_complete, out);
    }
    // Ranges: production's 1st/99th percentile beyond staging's extremes.
    if let (false, Some(amin), Some(amax), 7, 7) =
        (key, a.min, a.max, a.quantiles.len(), b.quantiles.len())
    {
        let (p01, p99) = (b.quantiles[1], b.quantiles[5]);
        // "Far beyond": a tenth of the larger spread, or 0.1 % of the magnitude (rows loaded a
        // few seconds apart are not a range gap).
        let span = (amax - amin).max(b.quantiles[6] - b.quantiles[0]);
        let tol = (0.1 * span).max(1e-3 * amax.abs().max(amin.abs()));
        if p99 > amax + tol || p01 < amin - tol {
            let (edge, pv, av) = if p99 > amax + tol {
                ("above", p99, amax)
            } else {
                ("below", p01, amin)
            };
            out.push(
                Finding::new(Category::Distribution, Severity::Medium, object, "range")
                    .values(
                        Some(format!("{} to {}", value(a, amin), value(a, amax))),
                        Some(format!("{} to {}", value(b, b.min.unwrap_or(p01)), value(b, b.max.unwrap_or(p99)))),
                    )
                    .message(format!(
                        "{object}: over 1 % of {}'s values lie {edge} anything in {} ({} vs {})",
                        s.right_name,
                        s.left_name,
                        value(b, pv),
                        value(a, av)
                    ))
                    .why("boundaries (overflow, date handling, ranges in queries, partition bounds) are only tested inside staging's range")
                    .hint(format!("extend {}'s data to {}'s range", s.left_name, s.right_name)),
            );
        }
    }
    // Categorical values present on the right only.
    let (na, nb) = (non_null(a), non_null(b));
    if !b.labels.is_empty() {
        for (label, &cb) in &b.labels {
            let ca = a.labels.get(label).copied().unwrap_or(0);
            if t.absent(ca, na, cb, nb, left_complete) {
                out.push(
                    Finding::new(Category::Distribution, by_share(Severity::High, share(cb, nb)), object, &format!("value:{label}"))
                        .values(Some("0 %".to_string()), Some(pct(share(cb, nb))))
                        .message(format!("{object} = '{label}' in {} of {} rows, never in {}", pct(share(cb, nb)), s.right_name, s.left_name))
                        .why("code paths for this value (state machines, switch statements, filters, reports) are never exercised where the tests run")
                        .hint(format!("add rows with {object} = '{label}' to {}", s.left_name)),
                );
            }
        }
    } else if same_key && a.categorical && b.categorical && a.kind == ValueKind::Text {
        // Enum-like text: numbers and times differ between environments by nature.
        let seen: std::collections::BTreeMap<ValueHash, u64> =
            a.top.iter().map(|t| (t.hash, t.count)).collect();
        let missing: Vec<(ValueHash, u64)> = b
            .top
            .iter()
            .filter(|v| {
                // A value's certain absence matters where values repeat (statuses, codes);
                // in free text (names, addresses) each value is its own and says nothing.
                t.absent(
                    seen.get(&v.hash).copied().unwrap_or(0),
                    na,
                    v.count,
                    nb,
                    left_complete && enum_like(b),
                )
            })
            .map(|v| (v.hash, v.count))
            .collect();
        if !missing.is_empty() {
            let total: u64 = missing.iter().map(|m| m.1).sum();
            out.push(
                Finding::new(Category::Distribution, Severity::Medium, object, "values")
                    .values(Some("0 %".to_string()), Some(pct(share(total, nb))))
                    .message(format!(
                        "{object}: {} value(s) held by {} of {}'s rows never appear in {} (compared by keyed hash)",
                        missing.len(),
                        pct(share(total, nb)),
                        s.right_name,
                        s.left_name
                    ))
                    .why("an enum-like column has values production uses and staging never tests")
                    .hint(format!("add those values to {}'s data (profile with --raw-values to see them)", s.left_name)),
            );
        }
    }
    // Distinct values: fewer in staging than its rows would show if drawn from production's
    // values (computed from production's complete value counts, so volume alone is no gap).
    if let (false, true, Some(da)) = (key, b.categorical, &a.distinct) {
        let nb_f = nb.max(1) as f64;
        let expected: f64 = b
            .top
            .iter()
            .map(|t| 1.0 - (1.0 - t.count as f64 / nb_f).powf(na as f64))
            .sum();
        if expected >= 2.0 * da.value && expected - da.value >= 5.0 {
            let db = b
                .distinct
                .as_ref()
                .map(|d| d.value)
                .unwrap_or(b.top.len() as f64);
            out.push(
                Finding::new(Category::Distinct, Severity::Low, object, "")
                    .values(Some(count(da.value)), Some(count(db)))
                    .message(format!(
                        "{object} has {} distinct values in {}, {} in {}: a sample of {}'s size from {} would hold about {}",
                        count(da.value),
                        s.left_name,
                        count(db),
                        s.right_name,
                        s.left_name,
                        s.right_name,
                        count(expected)
                    ))
                    .why("values production has and staging lacks: filters, groupings and code paths per value are not exercised")
                    .hint(format!("make {}'s values as varied as {}'s", s.left_name, s.right_name)),
            );
        }
    }
    lengths(s, object, a, b, &t, out);
    // JSON keys production uses and staging never has.
    for (key, &cb) in &b.json_keys {
        let ca = a.json_keys.get(key).copied().unwrap_or(0);
        if t.absent(ca, na, cb, nb, left_complete) {
            out.push(
                Finding::new(
                    Category::Distribution,
                    by_share(Severity::Medium, share(cb, nb)),
                    object,
                    &format!("json-key:{key}"),
                )
                .values(Some("0 %".to_string()), Some(pct(share(cb, nb))))
                .message(format!(
                    "{object}: key \"{key}\" in {} of {}'s documents, never in {}",
                    pct(share(cb, nb)),
                    s.right_name,
                    s.left_name
                ))
                .why("code that reads this key is never exercised where the tests run")
                .hint(format!(
                    "add documents with \"{key}\" to {}'s data",
                    s.left_name
                )),
            );
        }
    }
    if a.array_length.len() == 7 && b.array_length.len() == 7 {
        let (amax, p99) = (a.array_length[6], b.array_length[5]);
        if p99 > 4.0 * amax.max(1.0) && p99 >= amax + 4.0 {
            out.push(
                Finding::new(
                    Category::Distribution,
                    Severity::Low,
                    object,
                    "array-length",
                )
                .values(Some(format!("max {amax}")), Some(format!("p99 {p99}")))
                .message(format!(
                    "{object}: {}'s arrays reach {p99} elements (p99); {}'s at most {amax}",
                    s.right_name, s.left_name
                ))
                .why("loops, payload sizes and unnest joins grow with array length")
                .hint(format!("add longer arrays to {}'s data", s.left_name)),
            );
        }
    }
}

/// Categories by shape, for a seeded side: the most common value's share far apart.
fn category_shape(
    s: &Sides,
    object: &str,
    a: &ColumnProfile,
    b: &ColumnProfile,
    out: &mut Vec<Finding>,
) {
    if !(a.categorical && b.categorical && a.kind == ValueKind::Text)
        || a.top.is_empty()
        || b.top.is_empty()
    {
        return;
    }
    let (na, nb) = (non_null(a), non_null(b));
    let (pa, pb) = (share(a.top[0].count, na), share(b.top[0].count, nb));
    let se = (pa * (1.0 - pa) / na.max(1) as f64 + pb * (1.0 - pb) / nb.max(1) as f64).sqrt();
    if (pa - pb).abs() > 0.2_f64.max(4.0 * se) {
        out.push(
            Finding::new(Category::Distribution, Severity::Low, object, "shape")
                .values(Some(format!("top value {}", pct(pa))), Some(format!("top value {}", pct(pb))))
                .message(format!(
                    "{object}: the most common value holds {} of {}'s rows and {} of {}'s",
                    pct(pa),
                    s.left_name,
                    pct(pb),
                    s.right_name
                ))
                .why("skew decides plans and hot paths: a flat staging hides production's dominant value")
                .hint("reseed from a fresh snapshot"),
        );
    }
}

/// Values repeat: at most 20 distinct, or under a tenth of the rows.
fn enum_like(c: &ColumnProfile) -> bool {
    let distinct = c.top.len() as f64;
    distinct <= 20.0 || distinct <= 0.1 * non_null(c) as f64
}

/// Text lengths: a material share of the right side's values longer than anything on the
/// left. "Material" is sample-size aware like every absence: at the right side's share, the
/// left's rows would have shown such a value `min_expected` times. A left side whose values
/// pile up at its longest length (a tenth or more of them) has a ceiling: likely truncated.
fn lengths(
    s: &Sides,
    object: &str,
    a: &ColumnProfile,
    b: &ColumnProfile,
    t: &super::thresholds::Thresholds,
    out: &mut Vec<Finding>,
) {
    if a.length_bytes.len() != 7 || b.length_bytes.len() != 7 {
        return;
    }
    let chars = a.length_chars.len() == 7 && b.length_chars.len() == 7;
    // Compare in characters where both sides have them (bytes follow the encoding).
    let (la, lb) = if chars {
        (&a.length_chars, &b.length_chars)
    } else {
        (&a.length_bytes, &b.length_bytes)
    };
    let amax = la[6];
    if lb[6] <= amax + 1.0 {
        return;
    }
    let above = share_above(lb, amax);
    let na = non_null(a);
    if above < 0.01 || above * (na as f64) < t.min_expected {
        return;
    }
    let ceiling = la[4] >= amax && amax > 0.0;
    let unit = |x: f64, bytes_too: f64| {
        if chars {
            format!("{} characters ({})", count(x), bytes(bytes_too))
        } else {
            bytes(x)
        }
    };
    let sev = if ceiling {
        Severity::High
    } else {
        Severity::Medium
    };
    out.push(
        Finding::new(Category::Distribution, sev, object, "length")
            .values(
                Some(format!("max {}", unit(amax, a.length_bytes[6]))),
                Some(format!("median {}, max {}", unit(lb[3], b.length_bytes[3]), unit(lb[6], b.length_bytes[6]))),
            )
            .message(format!(
                "{object}: about {} of {}'s values are longer than anything in {} (its longest: {}; {}'s: {}){}",
                pct(above),
                s.right_name,
                s.left_name,
                unit(amax, a.length_bytes[6]),
                s.right_name,
                unit(lb[6], b.length_bytes[6]),
                if ceiling {
                    format!("; a tenth or more of {}'s values sit exactly at its longest: likely truncated by its loader", s.left_name)
                } else {
                    String::new()
                }
            ))
            .why("long values hit length limits, TOAST, page layouts, payload sizes and UI truncation only in production")
            .hint(format!("load {}'s text without cutting it, or add long values", s.left_name)),
    );
}

/// The share of a distribution (quantiles at `[0, .01, .1, .5, .9, .99, 1]`) above `x`,
/// interpolated linearly between quantiles.
fn share_above(q: &[f64], x: f64) -> f64 {
    const AT: [f64; 7] = [0.0, 0.01, 0.1, 0.5, 0.9, 0.99, 1.0];
    if x < q[0] {
        return 1.0;
    }
    for i in 1..7 {
        if x < q[i] {
            let f = if q[i] > q[i - 1] {
                (x - q[i - 1]) / (q[i] - q[i - 1])
            } else {
                1.0
            };
            return 1.0 - (AT[i - 1] + f * (AT[i] - AT[i - 1]));
        }
    }
    0.0
}

/// Magnitudes: the right side's maximum (or minimum) an order of magnitude beyond the left's,
/// at any share. Certain when the left side was read whole, or when over 1 % of the right's
/// values lie there; else a sample may just have missed it, and nothing is said.
fn magnitude(
    s: &Sides,
    object: &str,
    a: &ColumnProfile,
    b: &ColumnProfile,
    left_complete: bool,
    out: &mut Vec<Finding>,
) {
    if a.kind != ValueKind::Number || b.quantiles.len() != 7 {
        return;
    }
    let (Some(amin), Some(amax), Some(bmin), Some(bmax)) = (a.min, a.max, b.min, b.max) else {
        return;
    };
    if non_null(a) == 0 {
        return;
    }
    for (high, bx, ax, beyond_share) in [
        (true, bmax, amax, b.quantiles[5]),
        (false, bmin, amin, b.quantiles[1]),
    ] {
        // Beyond by a factor of ten in magnitude, on the outer side of the left's extreme.
        let outward = if high { bx > ax } else { bx < ax };
        let far = bx.abs() >= 10.0 * ax.abs().max(1.0) && (bx.signum() == ax.signum() || ax == 0.0);
        let common = if high {
            beyond_share > ax
        } else {
            beyond_share < ax
        };
        if !(outward && far && (left_complete || common)) {
            continue;
        }
        let share = if common {
            "over 1 % of its rows".to_string()
        } else {
            "under 1 % of its rows".to_string()
        };
        let ratio = two_digits(bx.abs() / ax.abs().max(1.0));
        out.push(
            Finding::new(Category::Distribution, Severity::High, object, if high { "magnitude-max" } else { "magnitude-min" })
                .values(
                    Some(format!("{} to {}", value(a, amin), value(a, amax))),
                    Some(format!("{} to {}", value(b, bmin), value(b, bmax))),
                )
                .message(format!(
                    "{object}: {}'s {} is {} ({}× {}'s {}, {} digits vs {}; {})",
                    s.right_name,
                    if high { "maximum" } else { "minimum" },
                    value(b, bx),
                    count(ratio),
                    s.left_name,
                    value(a, ax),
                    digits(bx),
                    digits(ax),
                    share
                ))
                .why("values an order of magnitude beyond what the tests hold break formatting, column widths, currency and overflow handling, charts and sums")
                .hint(format!("add values up to {} to {}'s data", value(b, bx), s.left_name)),
        );
    }
}

/// The largest value an integer type holds.
fn type_max(data_type: &str) -> Option<f64> {
    match data_type {
        "smallint" => Some(i16::MAX as f64),
        "integer" => Some(i32::MAX as f64),
        "bigint" => Some(i64::MAX as f64),
        _ => None,
    }
}

/// A value near its type's maximum: (object, what, type, left value, right value, maximum).
type Headroom = (String, &'static str, String, Option<f64>, f64, f64);

/// The right side's key columns of `table` (identity, serial or key columns), for `headroom`.
fn key_headroom(
    s: &Sides,
    rkeys: &std::collections::HashSet<(&str, &str)>,
    table: &str,
    rt: &TableProfile,
    lt: Option<&TableProfile>,
    values: &mut Vec<Headroom>,
) {
    let Some(t) = s.right.schema.tables.get(table) else {
        return;
    };
    for c in &t.columns {
        let Some(max) = type_max(&c.data_type) else {
            continue;
        };
        if !rkeys.contains(&(table, c.name.as_str())) {
            continue;
        }
        let Some(rv) = rt.columns.get(&c.name).and_then(|p| p.max) else {
            continue;
        };
        let lv = lt.and_then(|t| t.columns.get(&c.name)).and_then(|p| p.max);
        let object = format!("{table}.{}", crate::sql::ident(&c.name));
        values.push((object, "key column", c.data_type.clone(), lv, rv, max));
    }
}

/// Key headroom: sequences and identity, serial or key columns whose right-side value is
/// close to its type's maximum, or past 2^31 or 2^53 where the left side is not. Staging never
/// sees the ids that overflow `integer`, lose precision in JavaScript, or widen output.
fn headroom(s: &Sides, keyed: Vec<Headroom>, out: &mut Vec<Finding>) {
    let mut values: Vec<Headroom> = Vec::new();
    for (name, rq) in &s.right.schema.sequences {
        let Some(rv) = rq.last_value else { continue };
        let lv = s
            .left
            .schema
            .sequences
            .get(name)
            .and_then(|q| q.last_value)
            .map(|v| v as f64);
        values.push((
            name.clone(),
            "sequence",
            rq.data_type.clone(),
            lv,
            rv as f64,
            rq.max as f64,
        ));
    }
    values.extend(keyed);
    for (object, what, data_type, lv, rv, max) in values {
        let lv_ = lv.unwrap_or(0.0);
        let used = |v: f64| if max > 0.0 { v / max } else { 0.0 };
        let left_text = lv.map(count).unwrap_or_else(|| "no value".into());
        if used(rv) >= 0.5 && used(lv_) < 0.5 {
            let sev = if used(rv) >= 0.8 {
                Severity::High
            } else {
                Severity::Medium
            };
            out.push(
                Finding::new(Category::Distribution, sev, object.clone(), "headroom")
                    .values(Some(left_text.clone()), Some(format!("{} ({} of {})", count(rv), pct(used(rv)), count(max))))
                    .message(format!(
                        "{what} {object} ({data_type}) is at {} in {}, {} of the way to its maximum ({} left); {} in {}",
                        count(rv),
                        s.right_name,
                        pct(used(rv)),
                        count(max - rv),
                        left_text,
                        s.left_name
                    ))
                    .why("the key runs out in production first: inserts fail with an overflow no test has seen")
                    .hint(format!("plan the move to a wider type (bigint) now; set {}'s {what} near the limit to test it", s.left_name)),
            );
            continue;
        }
        for (limit, name, why) in [
            (
                2f64.powi(31),
                "2^31",
                "ids past 2^31 do not fit an integer column, parameter or client type",
            ),
            (
                2f64.powi(53),
                "2^53",
                "ids past 2^53 lose precision in JavaScript and JSON clients",
            ),
        ] {
            if rv >= limit && lv_ < limit {
                out.push(
                    Finding::new(
                        Category::Distribution,
                        Severity::Medium,
                        object.clone(),
                        &format!("past-{name}"),
                    )
                    .values(Some(left_text.clone()), Some(count(rv)))
                    .message(format!(
                        "{what} {object} is past {name} in {} ({}), not in {} ({left_text})",
                        s.right_name,
                        count(rv),
                        s.left_name
                    ))
                    .why(why)
                    .hint(format!(
                        "move {}'s {what} past {name} (setval) to test it",
                        s.left_name
                    )),
                );
            }
        }
    }
}

/// Digits before the decimal point.
fn digits(x: f64) -> u32 {
    let a = x.abs().trunc();
    if a < 1.0 {
        1
    } else {
        a.log10().floor() as u32 + 1
    }
}

fn relationship(
    s: &Sides,
    key: &str,
    l: &RelationshipProfile,
    r: &RelationshipProfile,
    out: &mut Vec<Finding>,
) {
    let object = format!("{}({})->{}", l.child, l.child_columns.join(", "), l.parent);
    let t = s.thresholds.get(&object);
    let p99 = |x: &RelationshipProfile| x.fanout.get(2).copied().unwrap_or(0.0);
    // One hot parent is enough when the left side's parents were all looked at: its largest
    // fan-out is then a fact, not a sample's.
    if r.max > 10.0 * l.max.max(1.0) && (p99(r) > l.max || !l.parents_sampled) {
        let hot = 10.0 * l.max.max(1.0);
        let beyond = |q: usize| r.fanout.get(q).copied().unwrap_or(0.0) > hot;
        let parents = r.parents as f64;
        // How many parents are that hot, as far as the quantiles tell.
        let how_many = if beyond(2) {
            format!("over 1 % of its {} parents", count(parents))
        } else {
            let share = if beyond(3) || (parents * 0.001).ceil() <= 1.0 {
                0.01
            } else {
                0.001
            };
            format!(
                "at most {} of its {} parents",
                count((parents * share).ceil().max(1.0)),
                count(parents)
            )
        };
        out.push(
            Finding::new(Category::Relationship, Severity::High, object.clone(), "fanout")
                .values(
                    Some(format!("max {} children per parent", count(l.max))),
                    Some(format!("max {} (p99 {})", count(r.max), count(p99(r)))),
                )
                .message(format!(
                    "{}'s biggest {} has {} {} rows (median {}, p99 {}); {}'s at most {}: {} hold over {}",
                    s.right_name,
                    l.parent,
                    count(r.max),
                    l.child,
                    count(r.fanout.first().copied().unwrap_or(0.0)),
                    count(p99(r)),
                    s.left_name,
                    count(l.max),
                    how_many,
                    count(hot)
                ))
                .why("pagination, N+1 queries, unbounded loads and timeouts show only with production's largest parents")
                .hint(format!("give some parents in {} thousands of children (pgparity seed reproduces the fan-out tail)", s.left_name)),
        );
    }
    for (x, y, on_left) in [(l, r, true), (r, l, false)] {
        if t.missing(y.orphans, y.children, x.orphans, x.children)
            || (x.orphans > 0 && y.orphans == 0 && y.children == 0)
        {
            let (lv, rv) = (
                Some(format!(
                    "{} of {} orphaned",
                    count(l.orphans as f64),
                    count(l.children as f64)
                )),
                Some(format!(
                    "{} of {} orphaned",
                    count(r.orphans as f64),
                    count(r.children as f64)
                )),
            );
            out.push(
                Finding::new(Category::Relationship, Severity::High, object.clone(), if on_left { "orphans-left" } else { "orphans-right" })
                    .values(lv, rv)
                    .message(format!(
                        "{} has {} {} rows whose {} does not exist ({}); {} has none",
                        s.name(on_left),
                        count(x.orphans as f64),
                        x.child,
                        x.parent,
                        pct(share(x.orphans, x.children)),
                        s.name(!on_left)
                    ))
                    .why("joins silently drop orphans, and code assumes the parent exists: the foreign key is missing or was added NOT VALID")
                    .hint(format!("find them with a NOT EXISTS query on {} and fix or delete them; then declare the foreign key", s.name(on_left))),
            );
        }
    }
    let (cl, cr) = (share(l.childless, l.parents), share(r.childless, r.parents));
    if l.parents >= 20 && r.parents >= 20 && (cl - cr).abs() > 0.5 {
        out.push(
            Finding::new(Category::Relationship, Severity::Low, object, "childless")
                .values(Some(format!("{} childless", pct(cl))), Some(format!("{} childless", pct(cr))))
                .message(format!("{key}: {} of {}'s parents have no children vs {} in {}", pct(cr), s.right_name, pct(cl), s.left_name))
                .why("empty states (no orders yet) and LEFT JOIN paths are tested at another rate than production has them")
                .hint(format!("make {}'s share of childless parents like {}'s", s.left_name, s.right_name)),
        );
    }
}

/// (object, aspect) → (what pg_stats says, what was measured), where they are far apart.
type Gaps = std::collections::BTreeMap<(String, &'static str), (String, String)>;

/// A table's columns where pg_stats and the measured truth are far apart, on one side.
fn table_gaps(
    snap: &Snapshot,
    set: &super::thresholds::ThresholdSet,
    table: &str,
    tp: &TableProfile,
    m: &mut Gaps,
) {
    let Some(stats) = snap.statistics.columns.get(table) else {
        return;
    };
    for (col, c) in &tp.columns {
        let Some(st) = stats.get(col) else { continue };
        if c.rows < 100 {
            continue;
        }
        let object = format!("{table}.{}", crate::sql::ident(col));
        let measured = share(c.nulls, c.rows);
        let se = (measured * (1.0 - measured) / c.rows as f64).sqrt();
        if (st.null_frac - measured).abs() > set.get(&object).statistics_null_gap.max(4.0 * se) {
            m.insert(
                (object.clone(), "null_frac"),
                (format!("{} NULL", pct(st.null_frac)), pct(measured)),
            );
        }
        // n_distinct: negative means a fraction of the rows. Both sides are estimates:
        // only an order of magnitude outside the measured bounds counts.
        if let Some(d) = &c.distinct {
            let planner = if st.n_distinct >= 0.0 {
                st.n_distinct
            } else {
                -st.n_distinct * tp.rows
            };
            if planner.max(d.value) >= 100.0
                && (planner * 10.0 < d.lower || planner > d.upper * 10.0)
            {
                m.insert(
                    (object, "n_distinct"),
                    (
                        format!("{} distinct", count(planner)),
                        format!("{} distinct", count(d.value)),
                    ),
                );
            }
        }
    }
}

/// pg_stats's null_frac against the measured NULL rate, per side; a gap on one side only.
fn statistics_truth(s: &Sides, gl: &Gaps, gr: &Gaps, out: &mut Vec<Finding>) {
    for (map, other, on_left) in [(gl, gr, true), (gr, gl, false)] {
        for ((object, aspect), (planner, measured)) in map {
            if other.contains_key(&(object.clone(), *aspect)) {
                continue;
            }
            let v = Some(format!("pg_stats {planner}, measured {measured}"));
            let (lv, rv) = if on_left { (v, None) } else { (None, v) };
            let side = if on_left { "left" } else { "right" };
            out.push(
                Finding::new(Category::Statistics, Severity::Medium, object.clone(), &format!("{aspect}-{side}"))
                    .values(lv, rv)
                    .message(format!(
                        "planner statistics in {} say {object} is {planner}; measured {measured}",
                        s.name(on_left)
                    ))
                    .why("the planner misestimates every filter and join on the column: plans there are chosen for data that no longer exists")
                    .hint(format!("ANALYZE the table in {} (and check autovacuum)", s.name(on_left))),
            );
        }
    }
}
