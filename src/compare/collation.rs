//! Database encoding, collation, ctype, locale provider and collation versions, and the
//! non-default collations the schema uses.

use super::{each_key, Sides};
use crate::finding::{Category, Finding, Severity};

const WHY_SORT: &str = "ORDER BY, unique indexes, range conditions and LIKE on text follow the collation: sort orders and index use seen in one environment differ in the other";

pub fn compare(s: &Sides, out: &mut Vec<Finding>) {
    let (l, r) = (&s.left.inventory.database, &s.right.inventory.database);
    let mut field = |aspect: &str,
                     label: &str,
                     sev: Severity,
                     lv: &Option<String>,
                     rv: &Option<String>,
                     why: &str| {
        if lv == rv {
            return;
        }
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
        out.push(
            Finding::new(Category::Collation, sev, format!("database:{aspect}"), "")
                .values(lv.clone(), rv.clone())
                .message(format!("database {label} differs: {} in {} vs {} in {}", show(lv), s.left_name, show(rv), s.right_name))
                .why(why)
                .hint(format!(
                    "create the {} database with the same {label} (CREATE DATABASE ... TEMPLATE template0 ...)",
                    s.left_name
                )),
        );
    };
    let some = |x: &str| Some(x.to_string());
    field(
        "encoding",
        "encoding",
        Severity::Critical,
        &some(&l.encoding),
        &some(&r.encoding),
        "characters one encoding accepts are rejected by the other, and lengths in bytes differ",
    );
    field(
        "locale_provider",
        "locale provider",
        Severity::High,
        &some(&l.locale_provider),
        &some(&r.locale_provider),
        WHY_SORT,
    );
    field(
        "lc_collate",
        "collation (LC_COLLATE)",
        Severity::High,
        &some(&l.collate),
        &some(&r.collate),
        WHY_SORT,
    );
    field(
        "lc_ctype",
        "character classification (LC_CTYPE)",
        Severity::High,
        &some(&l.ctype),
        &some(&r.ctype),
        "upper/lower case and character classes (regular expressions, ILIKE) follow LC_CTYPE",
    );
    if l.locale_provider == r.locale_provider && l.locale_provider != "libc" {
        field(
            "locale",
            "ICU/builtin locale",
            Severity::High,
            &l.locale,
            &r.locale,
            WHY_SORT,
        );
    }
    if l.locale_provider == r.locale_provider && l.collate == r.collate && l.locale == r.locale {
        field("collation_library_version", "collation library version", Severity::Medium,
            &l.collation_actual_version, &r.collation_actual_version,
            "a new libc or ICU version can sort some strings differently: text index order and query results can differ");
    }
    for (snap, on_left) in [(s.left, true), (s.right, false)] {
        let d = &snap.inventory.database;
        if let (Some(rec), Some(act)) = (&d.collation_version, &d.collation_actual_version) {
            if rec != act {
                let (lv, rv) = if on_left {
                    (Some(format!("{rec} recorded, {act} actual")), None)
                } else {
                    (None, Some(format!("{rec} recorded, {act} actual")))
                };
                out.push(
                    Finding::new(Category::Collation, Severity::High, "database:collation_version", if on_left { "left-mismatch" } else { "right-mismatch" })
                        .values(lv, rv)
                        .message(format!("collation version mismatch in {}: the database was created with {rec}, the library now gives {act}", s.name(on_left)))
                        .why("text indexes built under the old sort order may be corrupt: lookups can miss rows and unique checks can fail to fire")
                        .hint("REINDEX the text indexes, then ALTER DATABASE ... REFRESH COLLATION VERSION"),
                );
            }
        }
    }
    each_key(
        &s.left.inventory.collations,
        &s.right.inventory.collations,
        |name, a, b| {
            if let (Some(a), Some(b)) = (a, b) {
                if a.provider != b.provider
                    || a.locale != b.locale
                    || a.actual_version != b.actual_version
                {
                    let show = |c: &crate::snapshot::Collation| {
                        format!(
                            "{} {} {}",
                            c.provider,
                            c.locale.clone().unwrap_or_default(),
                            c.actual_version.clone().unwrap_or_default()
                        )
                        .trim()
                        .to_string()
                    };
                    out.push(
                        Finding::new(
                            Category::Collation,
                            Severity::Medium,
                            format!("collation:{name}"),
                            "",
                        )
                        .values(Some(show(a)), Some(show(b)))
                        .message(format!(
                            "collation {name} differs: {} in {} vs {} in {}",
                            show(a),
                            s.left_name,
                            show(b),
                            s.right_name
                        ))
                        .why(WHY_SORT)
                        .hint("use the same provider and library version on both sides"),
                    );
                }
            }
        },
    );
}
