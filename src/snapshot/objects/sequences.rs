//! Sequences: their definition (where one has got to is data: see compare/data/headroom.rs).

use serde::{Deserialize, Serialize};

use super::{fixed, len, put, Attribute, Key, Kind, Missing, Seed};
use crate::severity::Severity;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Sequence {
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cycle: bool,
    /// The value last handed out (absent: never used, or not readable by the capture role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_value: Option<i64>,
    /// Values each session reserves at once (absent: 1).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub cache: i64,
}

fn one() -> i64 {
    1
}

fn is_one(n: &i64) -> bool {
    *n == 1
}

const SELECT: &str = concat!(
    "SELECT format('%I.%I', n.nspname, c.relname) AS name, format_type(s.seqtypid, NULL) AS data_type, \
     s.seqstart AS start, s.seqincrement AS increment, s.seqmin AS min, s.seqmax AS max, s.seqcycle AS cycle, s.seqcache AS cache, \
     CASE WHEN has_sequence_privilege(c.oid, 'SELECT,USAGE') THEN pg_sequence_last_value(c.oid::regclass) END AS last_value \
     FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE ",
    super::user_ns!(),
    " AND ",
    super::not_extension_member!("pg_class", "c.oid")
);

pub static SEQUENCES: Kind<Sequence> = Kind {
    noun: "sequence",
    plural: "sequences",
    area: "schema.sequences",
    reads: &["pg_sequence.seqrelid", "pg_sequences.sequencename"],
    select: |_| fixed(SELECT),
    key: Key::Name,
    tidy: None,
    missing: Missing {
        said: true,
        severity: Severity::Medium,
        why: "code that calls nextval on it fails on the side that lacks it",
        noun: None,
        detail: None,
    },
    attributes: &[Attribute {
        aspect: "definition",
        reads: &[
            "pg_sequence.seqtypid",
            "pg_sequence.seqstart",
            "pg_sequence.seqincrement",
            "pg_sequence.seqmin",
            "pg_sequence.seqmax",
            "pg_sequence.seqcycle",
        ],
        label: "sequence",
        severity: Severity::Low,
        why: "a smaller sequence type or range runs out (or wraps) on one side first",
        shown: |q| {
            format!(
                "{} start {} step {} max {}",
                q.data_type, q.start, q.increment, q.max
            )
            .into()
        },
        same: Some(|_, a, b| {
            (&a.data_type, a.start, a.increment, a.min, a.max, a.cycle)
                == (&b.data_type, b.start, b.increment, b.min, b.max, b.cycle)
        }),
        hidden: None,
        plant: |q| q.data_type = "integer".into(),
    },
    Attribute {
        aspect: "cache",
        reads: &["pg_sequence.seqcache"],
        label: "sequence cache",
        severity: Severity::Low,
        why: "each session reserves this many values at once: ids jump and interleave across sessions on one side only, and code that assumes consecutive or ordered ids breaks there",
        shown: |q| q.cache.to_string().into(),
        same: None,
        hidden: None,
        plant: |q| q.cache = 20,
    }],
    seed: Seed::Before(|name, q| {
        format!(
            "CREATE SEQUENCE IF NOT EXISTS {name} AS {} INCREMENT {} MINVALUE {} MAXVALUE {} START {} CACHE {}{}",
            q.data_type,
            q.increment,
            q.min,
            q.max,
            q.start,
            q.cache,
            if q.cycle { " CYCLE" } else { "" }
        )
    }),
    count: |s| len(&s.sequences),
    example: || {
        (
            "public.planted_seq".into(),
            Sequence {
                data_type: "bigint".into(),
                start: 1,
                increment: 1,
                min: 1,
                max: i64::MAX,
                cycle: false,
                last_value: None,
                cache: 1,
            },
        )
    },
    place: |s, q| put(&mut s.sequences, q),
};
