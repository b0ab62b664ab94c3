//! Constraints on tables: primary keys, unique, foreign keys (with their actions), checks,
//! exclusions and constraint triggers. Matched between sides by table, sort and definition
//! before by name, so a renamed constraint is not "missing"; each sort says its own words.

use serde::{Deserialize, Serialize};

use super::{fixed, len, put, Attribute, Key, Kind, Missing, Seed};
use crate::severity::Severity;
use crate::sql::ident as quote_ident;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Constraint {
    pub table: String,
    pub name: String,
    pub kind: ConstraintKind,
    /// `pg_get_constraintdef`.
    pub definition: String,
    pub validated: bool,
    pub deferrable: bool,
    pub deferred: bool,
    #[serde(deserialize_with = "crate::snapshot::exact")]
    pub columns: Vec<String>,
    /// Foreign keys: the referenced table and columns, and the actions.
    pub references: Option<String>,
    #[serde(deserialize_with = "crate::snapshot::exact")]
    pub ref_columns: Vec<String>,
    pub on_update: Option<String>,
    pub on_delete: Option<String>,
}

kind!(
    /// pg_constraint.contype.
    ConstraintKind {
        PrimaryKey = "p",
        Unique = "u",
        ForeignKey = "f",
        Check = "c",
        Exclusion = "x",
        Trigger = "t",
    }
);

/// What each sort of constraint is called, and how much a difference in one matters.
pub struct ConstraintSort {
    pub noun: &'static str,
    pub severity: Severity,
    pub why: &'static str,
}

const KEYS: &str = "duplicates accepted on one side are rejected on the other, and ON CONFLICT targets exist on one side only";

impl ConstraintKind {
    pub fn sort(self) -> ConstraintSort {
        let (noun, severity, why) = match self {
            ConstraintKind::PrimaryKey => ("primary key", Severity::High, KEYS),
            ConstraintKind::Unique => ("unique constraint", Severity::High, KEYS),
            ConstraintKind::Exclusion => ("exclusion constraint", Severity::High, KEYS),
            ConstraintKind::ForeignKey => ("foreign key", Severity::High, "without the foreign key, orphan rows can exist and cascades do not run: code that relies on referential integrity is not exercised"),
            ConstraintKind::Check => ("check constraint", Severity::High, "values one side accepts are rejected by the other: inserts that pass in staging fail in production"),
            ConstraintKind::Trigger => ("constraint trigger", Severity::Medium, "data rules enforced on one side are not enforced on the other"),
        };
        ConstraintSort {
            noun,
            severity,
            why,
        }
    }
}

/// A foreign key's ON UPDATE / ON DELETE action in words.
macro_rules! fk_action {
    ($col:literal) => {
        concat!(
            "CASE con.contype WHEN 'f' THEN CASE ",
            $col,
            " WHEN 'a' THEN 'no action' WHEN 'r' THEN 'restrict' \
             WHEN 'c' THEN 'cascade' WHEN 'n' THEN 'set null' WHEN 'd' THEN 'set default' END END"
        )
    };
}

const SELECT: &str = concat!(
    "SELECT format('%I.%I', n.nspname, c.relname) AS table, con.conname AS name, con.contype::text AS kind, \
     pg_get_constraintdef(con.oid) AS definition, con.convalidated AS validated, \
     con.condeferrable AS deferrable, con.condeferred AS deferred, \
     coalesce((SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord) \
       JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum), '{}') AS columns, \
     CASE WHEN con.contype = 'f' THEN format('%I.%I', fn.nspname, fc.relname) END AS references, \
     coalesce((SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord) \
       JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum), '{}') AS ref_columns, ",
    fk_action!("con.confupdtype"),
    " AS on_update, ",
    fk_action!("con.confdeltype"),
    " AS on_delete \
     FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     LEFT JOIN pg_class fc ON fc.oid = con.confrelid LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace \
     WHERE con.contype IN ('p', 'u', 'f', 'c', 'x', 't') AND con.conparentid = 0 \
     AND c.relkind IN ('r', 'p', 'f') AND ",
    super::user_ns!()
);

pub static CONSTRAINTS: Kind<Constraint> = Kind {
    noun: "constraint",
    plural: "constraints (primary keys, unique, foreign keys with their actions, checks, exclusions, constraint triggers)",
    area: "schema.constraints",
    reads: &["pg_constraint.conname", "pg_constraint.conrelid", "pg_constraint.conparentid"],
    select: |_| fixed(SELECT),
    key: Key::Own(|c| format!("{}.{}", c.table, quote_ident(&c.name))),
    tidy: None,
    // Each sort says its own severity and words (`ConstraintKind::sort`); these are a key's.
    missing: Missing {
        said: true,
        severity: Severity::High,
        why: KEYS,
        noun: Some(|c| c.kind.sort().noun.to_string()),
        detail: Some(|c| c.definition.clone()),
    },
    attributes: &[
        Attribute {
            aspect: "not_valid",
            reads: &["pg_constraint.convalidated"],
            label: "validation",
            severity: Severity::Medium,
            why: "a NOT VALID constraint does not cover existing rows: old data that breaks the rule exists on one side only",
            shown: |c| if c.validated { "validated" } else { "NOT VALID" }.into(),
            same: None,
            hidden: None,
            plant: |c| c.validated = false,
        },
        Attribute {
            aspect: "deferrable",
            reads: &["pg_constraint.condeferrable", "pg_constraint.condeferred"],
            label: "deferrability",
            severity: Severity::Medium,
            why: "a deferred constraint fails at commit instead of at the statement: error handling differs",
            shown: |c| {
                match (c.deferrable, c.deferred) {
                    (false, _) => "not deferrable",
                    (true, false) => "deferrable, immediate",
                    (true, true) => "deferrable, deferred",
                }
                .into()
            },
            same: Some(|_, a, b| (a.deferrable, a.deferred) == (b.deferrable, b.deferred)),
            hidden: None,
            plant: |c| c.deferrable = true,
        },
        Attribute {
            aspect: "definition",
            reads: &["pg_constraint.contype", "pg_constraint.conkey", "pg_constraint.confkey", "pg_constraint.confrelid", "pg_constraint.confupdtype", "pg_constraint.confdeltype", "pg_constraint.confmatchtype", "pg_constraint.conbin", "pg_constraint.conexclop", "pg_constraint.connoinherit", "pg_constraint.confdelsetcols", "pg_constraint.conperiod", "pg_constraint.conenforced", "pg_constraint.conindid"],
            label: "definition",
            severity: Severity::High,
            why: KEYS,
            shown: |c| c.definition.as_str().into(),
            same: None,
            hidden: None,
            plant: |c| c.definition = "CHECK ((id > 1))".into(),
        },
    ],
    seed: Seed::After(|_, c| {
        format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {}",
            c.table,
            quote_ident(&c.name),
            c.definition
        )
    }),
    count: |s| len(&s.constraints),
    example: || {
        (
            "public.planted.planted_check".into(),
            Constraint {
                table: "public.planted".into(),
                name: "planted_check".into(),
                kind: ConstraintKind::Check,
                definition: "CHECK ((id > 0))".into(),
                validated: true,
                deferrable: false,
                deferred: false,
                columns: vec!["id".into()],
                references: None,
                ref_columns: Vec::new(),
                on_update: None,
                on_delete: None,
            },
        )
    },
    place: |s, c| put(&mut s.constraints, c),
};
