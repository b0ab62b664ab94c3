//! Volumes: a table far smaller on the left than on the right (rows and bytes), judged
//! against what a sample could tell.

use super::*;

pub(super) fn volume(
    s: &Sides,
    table: &str,
    l: &TableProfile,
    r: &TableProfile,
    out: &mut Vec<Finding>,
) {
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
