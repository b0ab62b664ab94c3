//! Data gaps: does the left side (staging) cover the cases the right side (production) has?
//! Volumes, NULLs, character classes, value ranges, categorical values, lengths, JSON keys,
//! foreign-key fan-out and orphans, and planner statistics against measured truth.
//!
//! Asymmetric by default, with effect sizes: a case counts as missing on the left only when,
//! had the left side the right side's share, its rows would have shown it at least
//! `min_expected` times (3 by default, see `thresholds.rs`). So sampling noise is not a finding, and the same data on both sides
//! gives none.

use super::{each_key, Sides};
use crate::finding::{Category, Finding, Severity};
use crate::profile::classes;
use crate::snapshot::{ColumnProfile, Profile, RelationshipProfile, Snapshot, TableProfile};

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
    if c.kind == "temporal" && x.abs() > 1e6 {
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
    statistics_truth(s, out);
    let (Some(lp), Some(rp)) = (&s.left.profile, &s.right.profile) else {
        return;
    };
    each_key(&lp.tables, &rp.tables, |table, l, r| {
        let (Some(l), Some(r)) = (l, r) else { return };
        volume(s, table, l, r, out);
        each_key(&l.columns, &r.columns, |col, a, b| {
            let (Some(a), Some(b)) = (a, b) else { return };
            if a.kind != b.kind {
                return; // a type difference: the schema comparison reports it
            }
            let object = format!("{table}.{}", crate::sql::ident(col));
            nulls(s, &object, a, b, out);
            encodings(s, &object, a, b, out);
            let key = key_like(s.left, table, col) || key_like(s.right, table, col);
            distribution(s, &object, a, b, same_key(lp, rp), key, out);
        });
    });
    each_key(&lp.relationships, &rp.relationships, |key, l, r| {
        if let (Some(l), Some(r)) = (l, r) {
            relationship(s, key, l, r, out);
        }
    });
}

/// Surrogate keys and references: their ranges and distinct counts follow the row count, so
/// they say nothing the volume finding does not.
fn key_like(snap: &Snapshot, table: &str, col: &str) -> bool {
    let in_constraint = snap.schema.constraints.values().any(|c| {
        c.table == table
            && matches!(c.kind.as_str(), "p" | "u" | "f")
            && c.columns.iter().any(|x| x == col)
    });
    let generated = snap
        .schema
        .tables
        .get(table)
        .and_then(|t| t.columns.iter().find(|c| c.name == col))
        .is_some_and(|c| {
            !c.identity.is_empty()
                || c.default
                    .as_deref()
                    .is_some_and(|d| d.starts_with("nextval("))
        });
    in_constraint || generated
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

fn nulls(s: &Sides, object: &str, a: &ColumnProfile, b: &ColumnProfile, out: &mut Vec<Finding>) {
    let t = s.thresholds.get(object);
    let (pa, pb) = (share(a.nulls, a.rows), share(b.nulls, b.rows));
    let values = (
        Some(format!("{} NULL", pct(pa))),
        Some(format!("{} NULL", pct(pb))),
    );
    if t.missing(a.nulls, a.rows, b.nulls, b.rows) {
        out.push(
            Finding::new(Category::Nulls, Severity::Critical, object, "")
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
    out: &mut Vec<Finding>,
) {
    let t = s.thresholds.get(object);
    let (na, nb) = (non_null(a), non_null(b));
    for (class, &cb) in &b.classes {
        if class == "ascii_only" {
            continue;
        }
        let ca = a.classes.get(class).copied().unwrap_or(0);
        if !t.missing(ca, na, cb, nb) {
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

fn distribution(
    s: &Sides,
    object: &str,
    a: &ColumnProfile,
    b: &ColumnProfile,
    same_key: bool,
    key: bool,
    out: &mut Vec<Finding>,
) {
    let t = s.thresholds.get(object);
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
            if t.missing(ca, na, cb, nb) {
                out.push(
                    Finding::new(Category::Distribution, Severity::High, object, &format!("value:{label}"))
                        .values(Some("0 %".to_string()), Some(pct(share(cb, nb))))
                        .message(format!("{object} = '{label}' in {} of {} rows, never in {}", pct(share(cb, nb)), s.right_name, s.left_name))
                        .why("code paths for this value (state machines, switch statements, filters, reports) are never exercised where the tests run")
                        .hint(format!("add rows with {object} = '{label}' to {}", s.left_name)),
                );
            }
        }
    } else if same_key && a.categorical && b.categorical && a.kind == "text" {
        // Enum-like text: numbers and times differ between environments by nature.
        let seen: std::collections::BTreeMap<&str, u64> =
            a.top.iter().map(|t| (t.hash.as_str(), t.count)).collect();
        let missing: Vec<(&str, u64)> = b
            .top
            .iter()
            .filter(|v| {
                t.missing(
                    seen.get(v.hash.as_str()).copied().unwrap_or(0),
                    na,
                    v.count,
                    nb,
                )
            })
            .map(|v| (v.hash.as_str(), v.count))
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
    // Lengths: production's long values beyond anything in staging.
    if a.length_bytes.len() == 7 && b.length_bytes.len() == 7 {
        let (amax, p99) = (a.length_bytes[6], b.length_bytes[5]);
        if p99 > 4.0 * amax && p99 > amax + 64.0 {
            out.push(
                Finding::new(Category::Distribution, Severity::Medium, object, "length")
                    .values(Some(format!("max {}", bytes(amax))), Some(format!("p99 {}, max {}", bytes(p99), bytes(b.length_bytes[6]))))
                    .message(format!(
                        "{object}: {}'s longest 1 % reach {}; {}'s values are at most {}",
                        s.right_name,
                        bytes(p99),
                        s.left_name,
                        bytes(amax)
                    ))
                    .why("long values hit length limits, TOAST, page layouts, payload sizes and UI truncation only in production")
                    .hint(format!("add long values to {}'s data", s.left_name)),
            );
        }
    }
    // JSON keys production uses and staging never has.
    for (key, &cb) in &b.json_keys {
        let ca = a.json_keys.get(key).copied().unwrap_or(0);
        if t.missing(ca, na, cb, nb) {
            out.push(
                Finding::new(
                    Category::Distribution,
                    Severity::Medium,
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
    if r.max > 10.0 * l.max.max(1.0) && p99(r) > l.max {
        out.push(
            Finding::new(Category::Relationship, Severity::High, object.clone(), "fanout")
                .values(
                    Some(format!("max {} children per parent", count(l.max))),
                    Some(format!("max {} (p99 {})", count(r.max), count(p99(r)))),
                )
                .message(format!(
                    "{}'s biggest {} has {} {} rows (median {}, p99 {}); {}'s at most {}",
                    s.right_name,
                    l.parent,
                    count(r.max),
                    l.child,
                    count(r.fanout.first().copied().unwrap_or(0.0)),
                    count(p99(r)),
                    s.left_name,
                    count(l.max)
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

/// pg_stats's null_frac against the measured NULL rate, per side; a gap on one side only.
fn statistics_truth(s: &Sides, out: &mut Vec<Finding>) {
    /// (object, aspect) → (what pg_stats says, what was measured), where they are far apart.
    type Gaps = std::collections::BTreeMap<(String, &'static str), (String, String)>;
    fn gaps(snap: &Snapshot, set: &super::thresholds::ThresholdSet) -> Gaps {
        let mut m = Gaps::new();
        let Some(p) = &snap.profile else { return m };
        for (table, tp) in &p.tables {
            let Some(stats) = snap.statistics.columns.get(table) else {
                continue;
            };
            for (col, c) in &tp.columns {
                let Some(st) = stats.get(col) else { continue };
                if c.rows < 100 {
                    continue;
                }
                let object = format!("{table}.{}", crate::sql::ident(col));
                let measured = share(c.nulls, c.rows);
                let se = (measured * (1.0 - measured) / c.rows as f64).sqrt();
                if (st.null_frac - measured).abs()
                    > set.get(&object).statistics_null_gap.max(4.0 * se)
                {
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
        m
    }
    let (gl, gr) = (gaps(s.left, &s.thresholds), gaps(s.right, &s.thresholds));
    for (map, other, on_left) in [(&gl, &gr, true), (&gr, &gl, false)] {
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
