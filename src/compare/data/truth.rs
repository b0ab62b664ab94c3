//! Planner statistics against measured truth: where `pg_stats` misjudges a column on one side
//! only (NULL rate, distinct count), a plan difference's likely cause.

use super::*;

/// (object, aspect) → (what pg_stats says, what was measured), where they are far apart.
pub(super) type Gaps = std::collections::BTreeMap<(String, &'static str), (String, String)>;

/// A table's columns where pg_stats and the measured truth are far apart, on one side.
pub(super) fn table_gaps(
    snap: &Snapshot,
    set: &crate::compare::thresholds::ThresholdSet,
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
pub(super) fn statistics_truth(s: &Sides, gl: &Gaps, gr: &Gaps, out: &mut Vec<Finding>) {
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
