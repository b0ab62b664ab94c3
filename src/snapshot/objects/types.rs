//! User types: enums, domains, composite types and ranges.

use serde::{Deserialize, Serialize};

use super::{fixed, len, put, Attribute, Key, Kind, Missing, Seed};
use crate::severity::Severity;
use crate::sql::literal;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TypeDef {
    pub kind: TypeDefKind,
    /// Enum labels in order.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Domain: base type, NOT NULL and check constraints.
    pub base_type: Option<String>,
    #[serde(default)]
    pub not_null: bool,
    #[serde(default)]
    pub checks: Vec<String>,
    /// Composite: its fields as `name type`, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<String>,
    /// Domain: its default expression, and its collation where not its base type's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// Range: its subtype's collation, operator class, canonical and difference functions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range_options: Option<String>,
    /// USAGE privileges as aclitems, sorted; empty when the owner's defaults (absent in older
    /// snapshots, and then not compared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<Vec<String>>,
}

kind!(
    /// A user-defined type the schema records.
    TypeDefKind {
        Enum = "enum",
        Domain = "domain",
        /// `CREATE TYPE ... AS (...)`: `attributes` holds its fields.
        Composite = "composite",
        /// `CREATE TYPE ... AS RANGE (subtype = ...)`: `base_type` holds the subtype.
        Range = "range",
    }
);

const SELECT: &str = concat!(
    "SELECT format('%I.%I', n.nspname, t.typname) AS name, \
     CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'c' THEN 'composite' WHEN 'r' THEN 'range' ELSE 'domain' END AS kind, \
     coalesce((SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '{}') AS labels, \
     CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) \
       WHEN t.typtype = 'r' THEN (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid) END AS base_type, \
     t.typnotnull AS not_null, \
     coalesce((SELECT array_agg(pg_get_constraintdef(con.oid) ORDER BY pg_get_constraintdef(con.oid) COLLATE \"C\") FROM pg_constraint con \
       WHERE con.contypid = t.oid AND con.contype = 'c'), '{}') AS checks, \
     CASE WHEN t.typtype = 'c' THEN coalesce((SELECT array_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)) ORDER BY a.attnum) \
       FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), '{}') \
       ELSE '{}' END AS attributes, \
     CASE WHEN t.typtype = 'd' THEN t.typdefault END AS default, \
     CASE WHEN t.typtype = 'd' AND t.typcollation <> (SELECT b.typcollation FROM pg_type b WHERE b.oid = t.typbasetype) \
       THEN (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace \
         WHERE co.oid = t.typcollation) END AS collation, \
     (SELECT concat_ws('; ', 'collation ' || NULLIF(r.rngcollation, 0)::regcollation, \
         'operator class ' || (SELECT quote_ident(oc.opcname) FROM pg_opclass oc WHERE oc.oid = r.rngsubopc), \
         'canonical ' || NULLIF(r.rngcanonical, 0)::regproc, 'subtype_diff ' || NULLIF(r.rngsubdiff, 0)::regproc) \
       FROM pg_range r WHERE r.rngtypid = t.oid) AS range_options, \
     CASE WHEN t.typacl IS NULL OR t.typacl = acldefault('T', t.typowner) THEN '{}' ELSE t.typacl::text[] END AS acl \
     FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
     WHERE (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')) \
     AND ",
    super::user_ns!(),
    " AND ",
    super::not_extension_member!("pg_type", "t.oid")
);

pub static TYPES: Kind<TypeDef> = Kind {
    noun: "type",
    plural: "user types (enums, domains, composite types, ranges)",
    area: "schema.types",
    reads: &["pg_type.typname", "pg_type.typnamespace", "pg_type.typtype"],
    select: |_| fixed(SELECT),
    key: Key::Name,
    tidy: Some(|t| {
        if let Some(acl) = &mut t.acl {
            acl.sort();
        }
    }),
    missing: Missing {
        said: true,
        severity: Severity::High,
        why: "columns and casts that use the type fail on the side that lacks it",
        noun: Some(|t| t.kind.as_str().to_string()),
        detail: None,
    },
    attributes: &[
        Attribute {
            aspect: "labels",
            reads: &["pg_enum.enumlabel", "pg_enum.enumsortorder"],
            label: "enum label list",
            severity: Severity::High,
            why: "a value valid on one side is rejected on the other, and enum sort order follows the label order",
            shown: |t| t.labels.join(", ").into(),
            same: Some(|_, a, b| a.labels == b.labels),
            hidden: None,
            plant: |t| t.labels.push("meh".into()),
        },
        Attribute {
            aspect: "domain",
            reads: &["pg_type.typbasetype", "pg_type.typtypmod", "pg_type.typnotnull", "pg_range.rngsubtype"],
            label: "domain",
            severity: Severity::High,
            why: "values accepted by the domain on one side are rejected on the other",
            shown: |t| {
                format!(
                    "{}{} {}",
                    t.base_type.as_deref().unwrap_or_default(),
                    if t.not_null { " not null" } else { "" },
                    t.checks.join(" ")
                )
                .trim()
                .to_string()
                .into()
            },
            same: Some(|_, a, b| {
                (&a.base_type, a.not_null, &a.checks) == (&b.base_type, b.not_null, &b.checks)
            }),
            hidden: None,
            plant: |t| t.not_null = true,
        },
        Attribute {
            aspect: "fields",
            reads: &["pg_type.typrelid"],
            label: "composite type fields",
            severity: Severity::High,
            why: "a row of the type built or read by position on one side has other fields on the other: casts, INSERTs of rows and functions returning it break",
            shown: |t| t.attributes.join(", ").into(),
            same: Some(|_, a, b| a.attributes == b.attributes),
            hidden: None,
            plant: |t| t.attributes.push("zip text".into()),
        },
        Attribute {
            aspect: "domain-default",
            reads: &["pg_type.typdefault", "pg_type.typdefaultbin"],
            label: "domain default",
            severity: Severity::Medium,
            why: "inserts that omit a column of the domain store other values on each side",
            shown: |t| t.default.as_deref().unwrap_or("(none)").into(),
            same: None,
            hidden: None,
            plant: |t| t.default = Some("'unknown'::text".into()),
        },
        Attribute {
            aspect: "collation",
            reads: &["pg_type.typcollation"],
            label: "domain collation",
            severity: Severity::High,
            why: "sort order, comparisons and index use on columns of the domain differ",
            shown: |t| t.collation.as_deref().unwrap_or("(its base type's)").into(),
            same: None,
            hidden: None,
            plant: |t| t.collation = Some("pg_catalog.\"C\"".into()),
        },
        Attribute {
            aspect: "range",
            reads: &["pg_range.rngcollation", "pg_range.rngsubopc", "pg_range.rngcanonical", "pg_range.rngsubdiff"],
            label: "range options",
            severity: Severity::Medium,
            why: "a range orders its bounds by another operator class or collation, or normalizes and measures them otherwise: overlaps, containment and GiST index use differ",
            shown: |t| t.range_options.as_deref().unwrap_or("(none)").into(),
            same: None,
            hidden: None,
            plant: |t| t.range_options = Some("operator class text_pattern_ops".into()),
        },
        Attribute {
            aspect: "grants",
            reads: &["pg_type.typacl"],
            label: "USAGE privileges",
            severity: Severity::Medium,
            why: "a role may use the type (in a column, a cast, a function) on one side and gets a permission error on the other",
            shown: |t| super::shown_acl(&t.acl),
            same: Some(|m, a, b| super::same_captured_acl(m, &a.acl, &b.acl)),
            hidden: None,
            plant: |t| t.acl = Some(vec!["app_owner=U/app_owner".into()]),
        },
    ],
    seed: Seed::Before(create),
    count: |s| len(&s.types),
    example: || {
        (
            "public.planted_mood".into(),
            TypeDef {
                kind: TypeDefKind::Enum,
                labels: vec!["happy".into(), "sad".into()],
                base_type: None,
                not_null: false,
                checks: Vec::new(),
                attributes: Vec::new(),
                default: None,
                collation: None,
                range_options: None,
                acl: Some(Vec::new()),
            },
        )
    },
    place: |s, t| put(&mut s.types, t),
};

/// `CREATE TYPE` or `CREATE DOMAIN` (seed orders them so a type follows those it names).
fn create(name: &str, t: &TypeDef) -> String {
    match t.kind {
        TypeDefKind::Enum => format!(
            "CREATE TYPE {name} AS ENUM ({})",
            t.labels
                .iter()
                .map(|l| literal(l))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        TypeDefKind::Composite => format!("CREATE TYPE {name} AS ({})", t.attributes.join(", ")),
        TypeDefKind::Range => format!(
            "CREATE TYPE {name} AS RANGE (subtype = {})",
            t.base_type.as_deref().unwrap_or("numeric")
        ),
        TypeDefKind::Domain => {
            let mut s = format!(
                "CREATE DOMAIN {name} AS {}",
                t.base_type.as_deref().unwrap_or("text")
            );
            if let Some(c) = &t.collation {
                s.push_str(&format!(" COLLATE {c}"));
            }
            if let Some(d) = &t.default {
                s.push_str(&format!(" DEFAULT {d}"));
            }
            if t.not_null {
                s.push_str(" NOT NULL");
            }
            for c in &t.checks {
                s.push(' ');
                s.push_str(c);
            }
            s
        }
    }
}
