//! How a column's values are measured by the profile and drawn by seed: one kind per
//! column, from its type (domains by their base type).

use super::{Snapshot, TypeKind, ValueKind};

/// What the server sends for a column, and so how it is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Number,
    /// Seconds since 1970 (or since midnight, or in an interval).
    Temporal,
    Text,
    /// character(n): sent blank-padded, measured without the padding (as `::text` would).
    Char,
    /// `length:md5` of the value.
    Bytea,
    Boolean,
    Enum,
    Json,
    /// `cardinality:md5` of the value.
    Array,
    /// md5 of the text form.
    Other,
}

impl Kind {
    /// The kind the profile records.
    pub fn value_kind(self) -> ValueKind {
        match self {
            Kind::Number => ValueKind::Number,
            Kind::Temporal => ValueKind::Temporal,
            Kind::Text | Kind::Char => ValueKind::Text,
            Kind::Bytea => ValueKind::Bytea,
            Kind::Boolean => ValueKind::Boolean,
            Kind::Enum => ValueKind::Enum,
            Kind::Json => ValueKind::Json,
            Kind::Array => ValueKind::Array,
            Kind::Other => ValueKind::Other,
        }
    }
}

/// How a column of `data_type` is measured (domains by their base type).
pub fn kind_of(data_type: &str, type_kind: TypeKind, snap: &Snapshot) -> Kind {
    if data_type.ends_with("[]") {
        return Kind::Array;
    }
    if type_kind == TypeKind::Enum {
        return Kind::Enum;
    }
    if type_kind == TypeKind::Domain {
        let base = snap
            .schema
            .types
            .iter()
            .find(|(k, _)| *k == data_type || k.ends_with(&format!(".{data_type}")))
            .and_then(|(_, t)| t.base_type.clone());
        return match base {
            Some(b) => kind_of(&b, TypeKind::Base, snap),
            None => Kind::Other,
        };
    }
    let base = data_type.split('(').next().unwrap_or(data_type).trim();
    match base {
        "smallint" | "integer" | "bigint" | "real" | "double precision" | "numeric" => Kind::Number,
        "date"
        | "timestamp without time zone"
        | "timestamp with time zone"
        | "time without time zone"
        | "time with time zone"
        | "interval" => Kind::Temporal,
        "character" => Kind::Char,
        "text" | "character varying" | "name" | "citext" | "\"char\"" => Kind::Text,
        "bytea" => Kind::Bytea,
        "boolean" => Kind::Boolean,
        "json" | "jsonb" => Kind::Json,
        _ => Kind::Other,
    }
}
