//! Headroom: a key or a number on the right nearer its type's limit than anything on the
//! left (a sequence about to overflow `int4` in production only).

use std::collections::HashMap;

use super::*;

/// The largest value an integer type holds.
pub(super) fn type_max(data_type: &str) -> Option<f64> {
    match data_type {
        "smallint" => Some(i16::MAX as f64),
        "integer" => Some(i32::MAX as f64),
        "bigint" => Some(i64::MAX as f64),
        _ => None,
    }
}

/// The columns each sequence feeds through a `DEFAULT nextval(…)`: sequence key →
/// (`table.column`, column type). An unqualified name in a default is on the search path:
/// public, else the table's own schema.
fn fed_columns(schema: &crate::snapshot::Schema) -> HashMap<String, Vec<(String, String)>> {
    let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for (table, t) in &schema.tables {
        for c in &t.columns {
            let Some(seq) = c.default_sequence() else {
                continue;
            };
            let own = format!("{}.{seq}", crate::sql::split_qualified(table).0);
            let key = [seq.to_string(), format!("public.{seq}"), own]
                .into_iter()
                .find(|k| schema.sequences.contains_key(k));
            if let Some(key) = key {
                out.entry(key).or_default().push((
                    format!("{table}.{}", crate::sql::ident(&c.name)),
                    c.data_type.clone(),
                ));
            }
        }
    }
    out
}

/// A value near its type's maximum: (object, what, type, left value, right value, maximum).
pub(super) type Headroom = (String, &'static str, String, Option<f64>, f64, f64);

/// The right side's key columns of `table` (identity, serial or key columns), for `headroom`.
pub(super) fn key_headroom(
    s: &Sides,
    rkeys: &std::collections::HashMap<(&str, &str), super::Keyed>,
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
        if !rkeys.contains_key(&(table, c.name.as_str())) {
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
pub(super) fn headroom(s: &Sides, keyed: Vec<Headroom>, out: &mut Vec<Finding>) {
    let mut values: Vec<Headroom> = Vec::new();
    let fed = fed_columns(&s.right.schema);
    for (name, rq) in &s.right.schema.sequences {
        let Some(rv) = rq.last_value else { continue };
        let lv = s
            .left
            .schema
            .sequences
            .get(name)
            .and_then(|q| q.last_value)
            .map(|v| v as f64);
        // A sequence's limit is its own maximum or the narrowest column it feeds, owned or
        // not (a bigint sequence behind an integer column's default overflows the column).
        let (max, data_type) = match fed.get(name.as_str()).and_then(|cols| {
            cols.iter()
                .filter_map(|(col, ty)| Some((type_max(ty)?, col, ty)))
                .min_by(|a, b| a.0.total_cmp(&b.0))
        }) {
            Some((m, col, ty)) if m < rq.max as f64 => {
                (m, format!("{}, feeding {col} {ty}", rq.data_type))
            }
            _ => (rq.max as f64, rq.data_type.clone()),
        };
        values.push((name.clone(), "sequence", data_type, lv, rv as f64, max));
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
pub(super) fn digits(x: f64) -> u32 {
    let a = x.abs().trunc();
    if a < 1.0 {
        1
    } else {
        a.log10().floor() as u32 + 1
    }
}
