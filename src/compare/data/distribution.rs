//! Value distributions: categorical values, lengths, magnitudes and JSON keys the right side
//! has and the left's rows would have shown.

use std::collections::BTreeMap;

use super::column::{Column, Role};
use super::*;

#[expect(
    clippy::too_many_arguments,
    reason = "one column's two profiles with their context, gathered into a Column here"
)]
pub(super) fn distribution(
    s: &Sides,
    object: &str,
    a: &ColumnProfile,
    b: &ColumnProfile,
    same_key: bool,
    role: Role,
    left_complete: bool,
    out: &mut Vec<Finding>,
) {
    let key = role.key;
    let c = Column {
        s,
        object,
        a,
        b,
        t: s.thresholds.get(object),
        na: non_null(a),
        nb: non_null(b),
        left_complete,
        seeded: role.seeded,
    };
    if !key && !super::shape::moved(&c, out) {
        magnitude(s, object, a, b, left_complete, out);
        range(&c, out);
    }
    if !key {
        super::shape::sentinel(&c, out);
        super::shape::frequency(&c, out);
    }
    if !role.reference {
        super::shape::uniqueness(&c, role.unique, out);
    }
    if !b.labels.is_empty() {
        labels(&c, out);
    } else if same_key && a.categorical && b.categorical && a.kind == ValueKind::Text {
        // Enum-like text: numbers and times differ between environments by nature.
        hashed_values(&c, out);
    }
    if !key {
        distinct(&c, out);
    }
    lengths(s, object, a, b, &c.t, out);
    specials(&c, out);
    super::shape::forms(&c, out);
    super::shape::json_depth(&c, out);
    json_keys(&c, out);
    array_length(&c, out);
}

/// Ranges: production's 1st/99th percentile beyond staging's extremes.
fn range(c: &Column, out: &mut Vec<Finding>) {
    let (s, object, a, b) = (c.s, c.object, c.a, c.b);
    let (Some(amin), Some(amax), 7, 7) = (a.min, a.max, a.quantiles.len(), b.quantiles.len())
    else {
        return;
    };
    let (p01, p99) = (b.quantiles[1], b.quantiles[5]);
    // "Far beyond": a tenth of the larger spread, or 0.1 % of the magnitude (rows loaded a
    // few seconds apart are not a range gap).
    let span = (amax - amin).max(b.quantiles[6] - b.quantiles[0]);
    let tol = (0.1 * span).max(1e-3 * amax.abs().max(amin.abs()));
    if !(p99 > amax + tol || p01 < amin - tol) {
        return;
    }
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

/// The keys of a count map (labels, special values, JSON keys) the right side holds and the
/// left lacks — certainly where the left was read whole, else where its sample would have
/// shown them — with the right side's count.
fn absent_keys<'m>(
    c: &Column,
    a: &BTreeMap<String, u64>,
    b: &'m BTreeMap<String, u64>,
) -> Vec<(&'m str, u64)> {
    b.iter()
        .filter(|(k, &cb)| {
            let ca = a.get(*k).copied().unwrap_or(0);
            c.t.absent(ca, c.na, cb, c.nb, c.left_complete)
        })
        .map(|(k, &cb)| (k.as_str(), cb))
        .collect()
}

/// Categorical values (labels: booleans, enums, raw values) present on the right only.
fn labels(c: &Column, out: &mut Vec<Finding>) {
    let (s, object, a, b, nb) = (c.s, c.object, c.a, c.b, c.nb);
    for (label, cb) in absent_keys(c, &a.labels, &b.labels) {
        out.push(
            Finding::new(Category::Distribution, by_share(Severity::High, share(cb, nb)), object, &format!("value:{label}"))
                .values(Some("0 %".to_string()), Some(pct(share(cb, nb))))
                .message(format!("{object} = '{label}' in {} of {} rows, never in {}", pct(share(cb, nb)), s.right_name, s.left_name))
                .why("code paths for this value (state machines, switch statements, filters, reports) are never exercised where the tests run")
                .hint(format!("add rows with {object} = '{label}' to {}", s.left_name)),
        );
    }
}

/// Enum-like text's frequent values (keyed hashes) the right has and the left never shows.
fn hashed_values(c: &Column, out: &mut Vec<Finding>) {
    let (s, object, a, b, na, nb) = (c.s, c.object, c.a, c.b, c.na, c.nb);
    let seen: std::collections::BTreeMap<ValueHash, u64> =
        a.top.iter().map(|t| (t.hash, t.count)).collect();
    let missing: Vec<(ValueHash, u64)> = b
        .top
        .iter()
        .filter(|v| {
            // A value's certain absence matters where values repeat (statuses, codes);
            // in free text (names, addresses) each value is its own and says nothing.
            c.t.absent(
                seen.get(&v.hash).copied().unwrap_or(0),
                na,
                v.count,
                nb,
                c.left_complete && enum_like(b),
            )
        })
        .map(|v| (v.hash, v.count))
        .collect();
    if missing.is_empty() {
        return;
    }
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

/// Distinct values: fewer in staging than its rows would show if drawn from production's
/// values (computed from production's complete value counts, so volume alone is no gap).
fn distinct(c: &Column, out: &mut Vec<Finding>) {
    let (s, object, a, b, na, nb) = (c.s, c.object, c.a, c.b, c.na, c.nb);
    let (true, Some(da)) = (b.categorical, &a.distinct) else {
        return;
    };
    // The other way: a handful of values repeated on the right, nearly every value distinct
    // on the left (documents or arrays drawn fresh where production repeats a few).
    let db = b.distinct.as_ref().map_or(b.top.len() as f64, |d| d.value);
    if !a.categorical
        && na >= 100
        && da.value >= (10.0 * db).max(db + 100.0)
        && da.value >= 0.5 * na as f64
    {
        out.push(
            Finding::new(Category::Distinct, Severity::Low, object, "varied")
                .values(Some(count(da.value)), Some(count(db)))
                .message(format!(
                    "{object} has {} distinct values in {} ({} rows), {} in {}: {} repeats a handful of values, {} hardly repeats any",
                    count(da.value),
                    s.left_name,
                    count(na as f64),
                    count(db),
                    s.right_name,
                    s.right_name,
                    s.left_name
                ))
                .why("the planner estimates an equality filter or a grouping on it from how often values repeat: plans and memory for them differ")
                .hint(format!("make {}'s values repeat as {}'s do", s.left_name, s.right_name)),
        );
        return;
    }
    let nb_f = nb.max(1) as f64;
    let expected: f64 = b
        .top
        .iter()
        .map(|t| 1.0 - (1.0 - t.count as f64 / nb_f).powf(na as f64))
        .sum();
    if !(expected >= 2.0 * da.value && expected - da.value >= 5.0) {
        return;
    }
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

/// Values that are not finite (NaN, ±Infinity) on the right and never on the left: certain
/// where the left was read whole, else only where its sample would have shown them.
fn specials(c: &Column, out: &mut Vec<Finding>) {
    let (s, object, a, b, nb) = (c.s, c.object, c.a, c.b, c.nb);
    for (special, cb) in absent_keys(c, &a.specials, &b.specials) {
        out.push(
            Finding::new(
                Category::Distribution,
                by_share(Severity::High, share(cb, nb)),
                object,
                &format!("special:{special}"),
            )
            .values(Some("0 %".to_string()), Some(pct(share(cb, nb))))
            .message(format!(
                "{object} holds {special} in {} of {}'s rows, never in {}",
                pct(share(cb, nb)),
                s.right_name,
                s.left_name
            ))
            .why("code that sums, sorts, compares or serializes these values (NaN is not equal to itself; Infinity has no JSON form; date arithmetic on infinity fails) is never exercised where the tests run")
            .hint(format!("add rows with {special} to {}'s {object}", s.left_name)),
        );
    }
}

/// JSON keys production uses and staging never has.
fn json_keys(c: &Column, out: &mut Vec<Finding>) {
    let (s, object, a, b, nb) = (c.s, c.object, c.a, c.b, c.nb);
    for (key, cb) in absent_keys(c, &a.json_keys, &b.json_keys) {
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

/// Arrays far longer in production (its p99 beyond staging's longest).
fn array_length(c: &Column, out: &mut Vec<Finding>) {
    let (s, object, a, b) = (c.s, c.object, c.a, c.b);
    if a.array_length.len() != 7 || b.array_length.len() != 7 {
        return;
    }
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

/// Values repeat: at most 20 distinct, or under a tenth of the rows.
pub(super) fn enum_like(c: &ColumnProfile) -> bool {
    let distinct = c.top.len() as f64;
    distinct <= 20.0 || distinct <= 0.1 * non_null(c) as f64
}

/// Text lengths: a material share of the right side's values longer than anything on the
/// left. "Material" is sample-size aware like every absence: at the right side's share, the
/// left's rows would have shown such a value `min_expected` times. A left side whose values
/// pile up at its longest length (a tenth or more of them) has a ceiling: likely truncated.
pub(super) fn lengths(
    s: &Sides,
    object: &str,
    a: &ColumnProfile,
    b: &ColumnProfile,
    t: &crate::compare::thresholds::Thresholds,
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
    // A ceiling is a loader cutting text; other types (addresses, uuids) have fixed widths.
    let ceiling = la[4] >= amax && amax > 0.0 && a.kind == ValueKind::Text;
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
pub(super) fn share_above(q: &[f64], x: f64) -> f64 {
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
pub(super) fn magnitude(
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
