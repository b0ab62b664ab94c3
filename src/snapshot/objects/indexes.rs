//! Indexes (those behind a constraint are said with their constraint). Matched between sides
//! by what they do (the definition without the name) before by name, so a renamed index is
//! not "missing".

use serde::{Deserialize, Serialize};

use super::{fixed, len, put, Attribute, Key, Kind, Missing, Seed};
use crate::severity::Severity;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Index {
    pub table: String,
    /// `pg_get_indexdef`.
    pub definition: String,
    pub unique: bool,
    pub primary: bool,
    pub valid: bool,
    /// The constraint this index implements, if any.
    pub constraint: Option<String>,
}

impl Index {
    /// The one column a plain index covers, as its definition spells it (quoted where
    /// needed): none for an expression, several columns or a partial index.
    pub fn single_column(&self) -> Option<&str> {
        let (_, tail) = self.definition.split_once(" USING ")?;
        let open = tail.find('(')?;
        let close = tail.rfind(')')?;
        let (list, rest) = (&tail[open + 1..close], &tail[close + 1..]);
        if rest.contains(" WHERE ") || list.contains(',') || list.contains('(') {
            return None;
        }
        // A column may carry its collation, operator class or order.
        list.split_whitespace().next()
    }

    /// The definition without the index's own name: what to match indexes on.
    pub fn shape(&self) -> String {
        match self.definition.split_once(" ON ") {
            Some((head, tail)) => {
                let unique = if head.contains("UNIQUE") {
                    "UNIQUE "
                } else {
                    ""
                };
                format!("{unique}ON {tail}")
            }
            None => self.definition.clone(),
        }
    }
}

const SELECT: &str = concat!(
    "SELECT format('%I.%I', n.nspname, ic.relname) AS name, format('%I.%I', n.nspname, c.relname) AS table, \
     pg_get_indexdef(i.indexrelid) AS definition, i.indisunique AS unique, i.indisprimary AS primary, \
     i.indisvalid AS valid, \
     (SELECT con.conname FROM pg_constraint con WHERE con.conindid = i.indexrelid \
       AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x') LIMIT 1) AS constraint \
     FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p', 'm') AND ",
    super::user_ns!(),
    " AND ",
    super::not_extension_member!("pg_class", "c.oid")
);

/// Why a unique index on one side only matters (the kind's `missing.why` is a plain one's).
pub const UNIQUE_MISSING: &str = "a unique index rejects duplicates on one side only, and the planner uses the index on one side only: plans and data rules differ";

pub static INDEXES: Kind<Index> = Kind {
    noun: "index",
    plural: "indexes",
    area: "schema.indexes",
    reads: &["pg_index.indexrelid", "pg_index.indrelid", "pg_index.indisprimary", "pg_indexes.indexname", "pg_indexes.indexdef"],
    select: |_| fixed(SELECT),
    key: Key::Name,
    tidy: None,
    missing: Missing {
        said: true,
        severity: Severity::High,
        why: "the planner can use the index on one side only: a query fast in one environment is a sequential scan in the other",
        noun: None,
        detail: Some(|i| i.definition.clone()),
    },
    attributes: &[
        Attribute {
            aspect: "invalid",
            reads: &["pg_index.indisvalid"],
            label: "validity",
            severity: Severity::High,
            why: "an invalid index is maintained on writes but never used by the planner: plans differ and writes pay for nothing",
            shown: |i| if i.valid { "valid" } else { "INVALID" }.into(),
            same: None,
            hidden: None,
            plant: |i| i.valid = false,
        },
        Attribute {
            aspect: "definition",
            reads: &["pg_index.indkey", "pg_index.indclass", "pg_index.indcollation", "pg_index.indoption", "pg_index.indexprs", "pg_index.indpred", "pg_index.indisunique", "pg_index.indnullsnotdistinct", "pg_index.indnatts", "pg_index.indnkeyatts"],
            label: "index definition",
            severity: Severity::High,
            why: "the planner can use the index for other queries on each side: plans differ",
            shown: |i| i.shape().into(),
            same: None,
            hidden: None,
            plant: |i| i.definition = i.definition.replace("(id)", "(id, name)"),
        },
    ],
    seed: Seed::After(|_, i| i.definition.clone()),
    count: |s| len(&s.indexes),
    example: || {
        (
            "public.planted_idx".into(),
            Index {
                table: "public.planted".into(),
                definition: "CREATE INDEX planted_idx ON public.planted USING btree (id)".into(),
                unique: false,
                primary: false,
                valid: true,
                constraint: None,
            },
        )
    },
    place: |s, i| put(&mut s.indexes, i),
};
