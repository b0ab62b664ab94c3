//! The planner's statistics as a snapshot holds them: per table (pg_class, pg_stat_*) and per
//! column (pg_stats, without its raw values).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::packed;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Statistics {
    #[serde(deserialize_with = "packed")]
    pub tables: BTreeMap<String, TableStats>,
    /// The planner's view per column (pg_stats, without its raw values): table → column.
    #[serde(deserialize_with = "packed")]
    pub columns: BTreeMap<String, BTreeMap<String, Box<ColumnStats>>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TableStats {
    pub reltuples: f64,
    pub relpages: i64,
    /// Pages the visibility map marks all-visible (`pg_class.relallvisible`): what an index-only
    /// scan costs. Absent in snapshots written before it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relallvisible: Option<i64>,
    pub live_tuples: i64,
    pub last_analyze: Option<String>,
    pub last_autoanalyze: Option<String>,
    pub mod_since_analyze: i64,
    /// The planner has column statistics for it (`pg_stats`, which a standby replicates):
    /// analyzed wherever it was, where `last_analyze` and the counters are the server's own
    /// (empty on a standby) and `reltuples` says nothing of a partitioned table.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub planner_stats: bool,
}

impl TableStats {
    pub fn analyzed(&self) -> bool {
        self.last_analyze.is_some()
            || self.last_autoanalyze.is_some()
            || self.planner_stats
            || self.reltuples >= 0.0 && self.relpages > 0
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ColumnStats {
    pub null_frac: f64,
    pub n_distinct: f64,
    pub avg_width: i32,
    pub correlation: Option<f64>,
    /// The frequency of the most common value (`most_common_freqs[1]`: a share, not a value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_freq: Option<f64>,
}
