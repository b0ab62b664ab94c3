//! The data profile as a snapshot holds it: how each table was read, its volumes, each
//! column's measurements (quantiles, frequent values as keyed hashes, classes, lengths) and
//! each relationship's fan-out.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{exact, is_zero, ProfileTables};

kind!(
    /// How the profile measured a column's values.
    #[derive(Default)]
    ValueKind {
        Number = "number",
        /// Dates, times, timestamps and intervals, as seconds.
        Temporal = "temporal",
        Text = "text",
        Bytea = "bytea",
        Boolean = "boolean",
        Enum = "enum",
        Json = "json",
        Array = "array",
        /// Any other type, measured by its text form.
        #[default]
        Other = "other",
    }
);

/// The data profile: volumes, per-column measurements and foreign-key fan-out. Values are
/// never stored raw unless `raw_values` is set; frequent values are keyed hashes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Profile {
    /// Identifies the hashing key (not the key): hashes of two profiles compare only when equal.
    pub hash_key_id: String,
    /// Raw frequent values were captured (explicit opt-in).
    pub raw_values: bool,
    /// The sample target in rows (300 × statistics target unless configured).
    pub sample_rows: u64,
    /// Held as compact JSON, one table decoded at a time (see [`ProfileTables`]).
    pub tables: ProfileTables,
    /// Key: `child(columns)->parent(columns)`.
    pub relationships: BTreeMap<String, RelationshipProfile>,
}

/// How a table's numbers were obtained.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Method {
    pub kind: SampleKind,
    /// Sampling percentage for TABLESAMPLE.
    pub percent: Option<f64>,
    /// Rows the measurement is based on.
    pub rows_read: u64,
    /// Sessions that read the table at once, each a range of its blocks in one exported
    /// snapshot (absent: one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streams: Option<u32>,
}

kind!(
    /// How a table's rows were read for its profile.
    SampleKind {
        /// Every row.
        Exact = "exact",
        /// `TABLESAMPLE SYSTEM`: whole pages.
        System = "system",
        /// `TABLESAMPLE BERNOULLI`: row by row.
        Bernoulli = "bernoulli",
    }
);

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TableProfile {
    pub method: Method,
    /// Row count: exact when the method is exact, else estimated.
    pub rows: f64,
    pub rows_exact: bool,
    pub table_bytes: i64,
    pub index_bytes: i64,
    pub columns: BTreeMap<String, Box<ColumnProfile>>,
    /// A partitioned table's few-valued columns counted per leaf partition (key: the leaf's
    /// name), where their shares differ from leaf to leaf as a status moves on with the
    /// month a table is partitioned by: the planner estimates each partition from its own
    /// statistics. Absent for other tables and in snapshots before it was read.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub partitions: BTreeMap<String, PartitionCounts>,
}

/// One leaf partition's rows read, and per column the rows holding each value: an enum's or
/// boolean's label (labels are schema, not data), else the value's keyed hash as in
/// [`ColumnProfile::top`]. NULLs are the rows not counted.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct PartitionCounts {
    pub rows: u64,
    pub columns: BTreeMap<String, BTreeMap<String, u64>>,
}

/// An estimate with its bounds (95 % unless stated) and how it was obtained.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Estimate {
    pub value: f64,
    pub lower: f64,
    pub upper: f64,
    /// `exact`, `hll`, `sample (Duj1)`...
    pub method: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ColumnProfile {
    pub kind: ValueKind,
    /// Rows looked at, and how many were NULL.
    pub rows: u64,
    pub nulls: u64,
    /// Bound on the error of the table's NULL rate estimated as `nulls / rows` (0 when every
    /// row was read; else three standard errors of a simple random sample, with the finite
    /// population correction, plus 1/rows).
    #[serde(default)]
    pub null_rate_error: f64,
    pub distinct: Option<Estimate>,
    /// Numbers and times (times as seconds since 1970): min, max and the quantiles at
    /// `QUANTILES` of the rows read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "<[f64]>::is_empty")]
    pub quantiles: Box<[f64]>,
    /// Text and bytea: length quantiles in bytes, and in characters for text.
    #[serde(default, skip_serializing_if = "<[f64]>::is_empty")]
    pub length_bytes: Box<[f64]>,
    #[serde(default, skip_serializing_if = "<[f64]>::is_empty")]
    pub length_chars: Box<[f64]>,
    /// Text: how many non-NULL values hold each character class (see docs).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub classes: BTreeMap<String, u64>,
    /// Frequent values as keyed hashes with their counts; complete when `categorical`.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "exact"
    )]
    pub top: Vec<TopValue>,
    /// Every distinct value is in `top` (few distinct values).
    #[serde(default)]
    pub categorical: bool,
    /// Numbers, dates and times: the values that are not finite — `NaN`, `Infinity`,
    /// `-Infinity` (a date's or timestamp's `infinity` written as `Infinity`) → count.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub specials: BTreeMap<String, u64>,
    /// Forms of values beyond their magnitude → count: numbers `negative`, `zero`,
    /// `fractional`; intervals `negative`, `months`; JSON documents `object`, `array`,
    /// `scalar`; uuids `uuid-vN`, `uuid-nil`; addresses `ipv6`, `prefix`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub forms: BTreeMap<String, u64>,
    /// Booleans and enums: label → count (labels are schema, not data).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, u64>,
    /// json/jsonb: top-level key → count of values holding it; nesting depth quantiles.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub json_keys: BTreeMap<String, u64>,
    #[serde(default, skip_serializing_if = "<[f64]>::is_empty")]
    pub json_depth: Box<[f64]>,
    /// Arrays: element count quantiles.
    #[serde(default, skip_serializing_if = "<[f64]>::is_empty")]
    pub array_length: Box<[f64]>,
    /// Text, with the raw-values opt-in only: the most frequent whitespace-separated words
    /// and how many values hold them (seed composes text from them, so LIKE patterns match).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub words: BTreeMap<String, u64>,
    /// Values over 64 KB: measured by their byte and character lengths (from the server) and
    /// their character classes from their first and last 2 KB, never read whole.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub long_values: u64,
}

/// The quantiles every quantile list is taken at.
pub const QUANTILES: [f64; 7] = [0.0, 0.01, 0.1, 0.5, 0.9, 0.99, 1.0];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TopValue {
    pub hash: ValueHash,
    pub count: u64,
    /// The value itself, only with the raw-values opt-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
}

/// A value's keyed hash, written as 16 hex digits (held as a number: a profile of 20,000
/// tables holds hundreds of thousands of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ValueHash(pub u64);

impl std::fmt::Display for ValueHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl Serialize for ValueHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ValueHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = ValueHash;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a value hash of 16 hex digits")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<ValueHash, E> {
                match u64::from_str_radix(v, 16) {
                    Ok(h) if v.len() == 16 => Ok(ValueHash(h)),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_str(V)
    }
}

/// Children per parent for one foreign key (declared on either side, or configured).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RelationshipProfile {
    pub child: String,
    pub child_columns: Vec<String>,
    pub parent: String,
    pub parent_columns: Vec<String>,
    /// Parents looked at (all, or a sample).
    pub parents: u64,
    pub parents_sampled: bool,
    pub childless: u64,
    /// Children per parent at `FANOUT_QUANTILES`, and the maximum.
    pub fanout: Vec<f64>,
    pub max: f64,
    /// Child rows with a non-NULL key, and those whose parent does not exist.
    pub children: u64,
    pub orphans: u64,
}

/// Fan-out quantiles: p50, p90, p99, p99.9.
pub const FANOUT_QUANTILES: [f64; 4] = [0.5, 0.9, 0.99, 0.999];
