//! Compare: one comparer per layer, each a pure function of two snapshots. Nothing here does
//! IO, reads a clock or draws a random number; the result is sorted, so it is deterministic.
//! By convention `left` is the environment that should cover (staging) and `right` the one it
//! should match (production).

mod collation;
mod data;
mod extensions;
pub mod plan;
mod schema;
pub mod settings;
mod statistics;
pub mod thresholds;
mod topology;
mod version;

use crate::finding::{self, Finding};
use crate::snapshot::Snapshot;

/// The two snapshots and the names the report uses for them.
pub struct Sides<'a> {
    pub left: &'a Snapshot,
    pub right: &'a Snapshot,
    pub left_name: String,
    pub right_name: String,
    pub thresholds: thresholds::ThresholdSet,
}

impl<'a> Sides<'a> {
    pub fn new(left: &'a Snapshot, right: &'a Snapshot) -> Sides<'a> {
        let (mut l, mut r) = (
            left.meta.environment.clone(),
            right.meta.environment.clone(),
        );
        if l == r {
            l = format!("{l} (left)");
            r = format!("{r} (right)");
        }
        Sides {
            left,
            right,
            left_name: l,
            right_name: r,
            thresholds: Default::default(),
        }
    }

    /// The name of the side that has something (`true`: left).
    pub fn name(&self, left: bool) -> &str {
        if left {
            &self.left_name
        } else {
            &self.right_name
        }
    }

    /// "only in staging" / "only in production".
    pub fn only_in(&self, left: bool) -> String {
        format!("only in {}", self.name(left))
    }
}

/// Every difference between two snapshots, ranked.
pub fn compare(left: &Snapshot, right: &Snapshot) -> Vec<Finding> {
    compare_sides(&Sides::new(left, right))
}

pub fn compare_sides(s: &Sides) -> Vec<Finding> {
    let mut out = Vec::new();
    version::compare(s, &mut out);
    collation::compare(s, &mut out);
    topology::compare(s, &mut out);
    extensions::compare(s, &mut out);
    settings::compare(s, &mut out);
    schema::compare(s, &mut out);
    statistics::compare(s, &mut out);
    data::compare(s, &mut out);
    plan::compare(s, &mut out);
    finding::sort(&mut out);
    out
}

/// Visits the union of two sorted maps' keys with what each side holds.
pub(crate) fn each_key<'m, K: Ord, V>(
    left: &'m std::collections::BTreeMap<K, V>,
    right: &'m std::collections::BTreeMap<K, V>,
    mut f: impl FnMut(&'m K, Option<&'m V>, Option<&'m V>),
) {
    let keys: std::collections::BTreeSet<&K> = left.keys().chain(right.keys()).collect();
    for k in keys {
        f(k, left.get(k), right.get(k));
    }
}
