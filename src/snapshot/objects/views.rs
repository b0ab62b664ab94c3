//! Views and materialized views.

use serde::{Deserialize, Serialize};

use super::{fixed, len, put, Attribute, Key, Kind, Missing, Seed};
use crate::severity::Severity;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct View {
    pub materialized: bool,
    pub definition: String,
    /// A materialized view created WITH NO DATA (and not refreshed since) is not populated:
    /// reading it fails (absent: populated).
    #[serde(default = "populated", skip_serializing_if = "is_true")]
    pub populated: bool,
}

fn populated() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

const SELECT: &str = concat!(
    "SELECT format('%I.%I', n.nspname, c.relname) AS name, c.relkind = 'm' AS materialized, \
     coalesce(pg_get_viewdef(c.oid), '') AS definition, c.relispopulated AS populated \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('v', 'm') AND ",
    super::user_ns!(),
    " AND ",
    super::not_extension_member!("pg_class", "c.oid")
);

pub static VIEWS: Kind<View> = Kind {
    noun: "view",
    plural: "views",
    area: "schema.views",
    reads: &[
        "pg_views.viewname",
        "pg_matviews.matviewname",
        "pg_rewrite.ev_class",
    ],
    select: |_| fixed(SELECT),
    key: Key::Name,
    tidy: Some(|v| v.definition = v.definition.trim().to_string()),
    missing: Missing {
        said: true,
        severity: Severity::High,
        why: "queries that read the view fail on the side that lacks it",
        noun: Some(|v| kind(v).to_string()),
        detail: None,
    },
    attributes: &[
        Attribute {
            aspect: "materialized",
            reads: &["pg_class.relkind"],
            label: "kind",
            severity: Severity::Medium,
            why: "a materialized view serves stale data until refreshed",
            shown: |v| kind(v).into(),
            same: None,
            hidden: None,
            plant: |v| v.materialized = true,
        },
        Attribute {
            aspect: "definition",
            reads: &[
                "pg_rewrite.ev_action",
                "pg_views.definition",
                "pg_matviews.definition",
            ],
            label: "view definition",
            severity: Severity::Medium,
            why: "the view returns different rows or columns on each side",
            shown: |v| normalized(&v.definition).into(),
            // Said once as the kind when that differs.
            same: Some(|_, a, b| {
                a.materialized != b.materialized
                    || normalized(&a.definition) == normalized(&b.definition)
            }),
            hidden: Some("definition"),
            plant: |v| v.definition = "SELECT 2;".into(),
        },
        Attribute {
            aspect: "populated",
            reads: &["pg_class.relispopulated"],
            label: "populated",
            severity: Severity::Medium,
            why: "a materialized view created WITH NO DATA fails every read until it is refreshed: code that reads it works on one side only",
            shown: |v| if v.populated { "populated" } else { "not populated (WITH NO DATA)" }.into(),
            same: None,
            hidden: None,
            plant: |v| v.populated = false,
        },
    ],
    seed: Seed::Not("seed makes tables and their rows; create views from their migration"),
    count: |s| len(&s.views),
    example: || {
        (
            "public.planted_view".into(),
            View {
                materialized: false,
                definition: "SELECT 1;".into(),
                populated: true,
            },
        )
    },
    place: |s, v| put(&mut s.views, v),
};

fn kind(v: &View) -> &'static str {
    if v.materialized {
        "materialized view"
    } else {
        "view"
    }
}

/// A definition as compared: unqualified, whitespace collapsed.
fn normalized(def: &str) -> String {
    unqualified(def)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A view definition without `name.` qualifiers: PostgreSQL 16 stopped qualifying column
/// names in pg_get_viewdef, so the same view reads differently on 15 and 17.
pub fn unqualified(def: &str) -> String {
    let mut out = String::with_capacity(def.len());
    let mut word = String::new();
    let mut in_string = false;
    for c in def.chars() {
        if in_string {
            out.push(c);
            in_string = c != '\'';
            continue;
        }
        if c.is_alphanumeric() || c == '_' || c == '"' {
            word.push(c);
            continue;
        }
        let qualifier = c == '.' && word.chars().next().is_some_and(|f| !f.is_ascii_digit());
        if !qualifier {
            out.push_str(&word);
            out.push(c);
        }
        word.clear();
        in_string = c == '\'';
    }
    out.push_str(&word);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn view_definitions_lose_qualifiers_but_not_numbers_or_strings() {
        assert_eq!(
            super::unqualified("SELECT orders.id, o.total FROM public.orders o WHERE o.total > 100.5 AND x = 'a.b'"),
            "SELECT id, total FROM orders o WHERE total > 100.5 AND x = 'a.b'"
        );
    }
}
