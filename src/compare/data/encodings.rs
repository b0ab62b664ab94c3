//! Encodings: character classes (scripts, emoji, control characters...) the right side's
//! text holds and the left's does not, by share.

use super::*;

pub(super) fn encodings(
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
