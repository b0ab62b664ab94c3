//! Relationships: foreign-key fan-out (children per parent), orphans and childless parents
//! the right side has beyond the left's.

use super::*;

pub(super) fn relationship(
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
