//! NULL rates: a column NULL on the right where the left never is (or far more often),
//! counted only where the left's rows would have shown it.

use super::*;

pub(super) fn non_null(c: &ColumnProfile) -> u64 {
    c.rows - c.nulls
}

pub(super) fn nulls(
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
