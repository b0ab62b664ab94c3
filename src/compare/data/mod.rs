//! Data gaps: does the left side (staging) cover the cases the right side (production) has?
//! Volumes, NULLs, character classes, value ranges, categorical values, lengths, JSON keys,
//! foreign-key fan-out and orphans, and planner statistics against measured truth.
//!
//! Asymmetric by default, with effect sizes: a case counts as missing on the left only when,
//! had the left side the right side's share, its rows would have shown it at least
//! `min_expected` times (3 by default, see `thresholds.rs`). So sampling noise is not a finding, and the same data on both sides
//! gives none. When the left side's rows were all read, its absence is a fact, not a sample's
//! chance: a case the right side has is then reported however rare, ranked by its share.
//! Extremes are compared at any share where they cannot be sampling noise: magnitudes an order
//! beyond the left's range, text longer than anything on the left, one parent with ten times
//! the left's largest fan-out.

mod column;
mod distribution;
mod encodings;
mod headroom;
mod nulls;
mod relationship;
mod shape;
mod truth;
mod volume;

use super::{each_key, Sides};
use crate::finding::{Category, Finding, Severity};
use crate::snapshot::classes;
use crate::snapshot::{
    ColumnProfile, ConstraintKind, Profile, RelationshipProfile, Snapshot, TableProfile, ValueHash,
    ValueKind,
};
use headroom::*;
use nulls::*;
use truth::*;

/// Every row of the table was read: an absence is certain.
fn complete(t: &TableProfile) -> bool {
    t.method.kind == crate::snapshot::SampleKind::Exact
}

/// A severity one step lower for a case under 1 % of rows (rare but certain).
fn by_share(sev: Severity, share: f64) -> Severity {
    if share >= 0.01 {
        sev
    } else {
        match sev {
            Severity::Critical => Severity::High,
            Severity::High => Severity::Medium,
            Severity::Medium => Severity::Low,
            other => other,
        }
    }
}

fn share(count: u64, n: u64) -> f64 {
    if n == 0 {
        0.0
    } else {
        count as f64 / n as f64
    }
}

fn pct(x: f64) -> String {
    if x == 0.0 {
        "0 %".into()
    } else if x >= 0.1 {
        format!("{:.0} %", x * 100.0)
    } else if x >= 0.001 {
        format!("{:.1} %", x * 100.0)
    } else {
        format!("{:.3} %", x * 100.0)
    }
}

fn count(x: f64) -> String {
    crate::finding::thousands(x)
}

/// Rounds to two significant digits: ratios of estimates are not more precise than that.
fn two_digits(x: f64) -> f64 {
    if x < 10.0 {
        return (x * 10.0).round() / 10.0;
    }
    let p = 10f64.powi(x.log10().floor() as i32 - 1);
    (x / p).round() * p
}

fn bytes(x: f64) -> String {
    if x >= 1024.0 * 1024.0 {
        format!("{:.1} MB", x / 1024.0 / 1024.0)
    } else if x >= 1024.0 {
        format!("{:.1} KB", x / 1024.0)
    } else {
        format!("{} bytes", x as i64)
    }
}

fn value(c: &ColumnProfile, x: f64) -> String {
    if c.kind == ValueKind::Temporal && x.abs() > 1e6 {
        chrono::DateTime::from_timestamp(x as i64, 0)
            .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| x.to_string())
    } else if x.fract() == 0.0 {
        count(x)
    } else {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

pub fn compare(s: &Sides, out: &mut Vec<Finding>) {
    let (lkeys, rkeys) = (key_columns(s.left), key_columns(s.right));
    let (lp, rp) = (s.left.profile.as_ref(), s.right.profile.as_ref());
    // One side was seeded from the other's snapshot: its categories are synthetic stand-ins,
    // so they are compared by shape (how many, how frequent), never by identity.
    let seeded = lp.is_some()
        && rp.is_some()
        && (s
            .left
            .meta
            .seeded_from
            .as_ref()
            .is_some_and(|p| p.is_from(s.right))
            || s.right
                .meta
                .seeded_from
                .as_ref()
                .is_some_and(|p| p.is_from(s.left)));
    if seeded {
        let (by, from) = if s.left.meta.seeded_from.is_some() {
            (&s.left_name, &s.right_name)
        } else {
            (&s.right_name, &s.left_name)
        };
        out.push(
            Finding::new(Category::Distribution, Severity::Info, "seeded", "")
                .message(format!(
                    "{by} was seeded by pgparity from {from}'s snapshot: categorical values are compared by shape (how many, how frequent), not by identity"
                ))
                .why("synthetic categories stand in for production's values and can never match their hashes")
                .hint("nothing to do; reseed after production's profile changes"),
        );
    }
    let same = matches!((lp, rp), (Some(l), Some(r)) if same_key(l, r));
    let (mut lgaps, mut rgaps) = (Gaps::new(), Gaps::new());
    let mut keyed = Vec::new();
    // One pass over both profiles' tables, each table decoded once per side (a profile holds
    // its tables as bytes: see `ProfileTables`).
    let names: std::collections::BTreeSet<&String> = lp
        .into_iter()
        .chain(rp)
        .flat_map(|p| p.tables.keys())
        .collect();
    for table in names {
        let l = lp.and_then(|p| p.tables.get(table));
        let r = rp.and_then(|p| p.tables.get(table));
        if let Some(l) = &l {
            table_gaps(s.left, &s.thresholds, table, l, &mut lgaps);
        }
        if let Some(r) = &r {
            table_gaps(s.right, &s.thresholds, table, r, &mut rgaps);
            if lp.is_some() {
                key_headroom(s, &rkeys, table, r, l.as_ref(), &mut keyed);
            }
        }
        let (Some(l), Some(r)) = (l, r) else { continue };
        volume::volume(s, table, &l, &r, out);
        each_key(&l.columns, &r.columns, |col, a, b| {
            let (Some(a), Some(b)) = (a, b) else { return };
            if a.kind != b.kind {
                return; // a type difference: the schema comparison reports it
            }
            let object = format!("{table}.{}", crate::sql::ident(col));
            let lc = complete(&l);
            nulls::nulls(s, &object, a, b, lc, out);
            encodings::encodings(s, &object, a, b, lc, out);
            let at = (table.as_str(), col.as_str());
            let (l, r) = (lkeys.get(&at), rkeys.get(&at));
            let role = column::Role {
                key: l.is_some() || r.is_some(),
                reference: l.is_some_and(|k| k.reference) || r.is_some_and(|k| k.reference),
                unique: column::Declared {
                    left: l.is_some_and(|k| k.unique),
                    right: r.is_some_and(|k| k.unique),
                },
                seeded,
            };
            distribution::distribution(s, &object, a, b, same && !seeded, role, lc, out);
        });
    }
    statistics_truth(s, &lgaps, &rgaps, out);
    headroom::headroom(s, keyed, out);
    if let (Some(lp), Some(rp)) = (lp, rp) {
        each_key(&lp.relationships, &rp.relationships, |key, l, r| {
            if let (Some(l), Some(r)) = (l, r) {
                relationship::relationship(s, key, l, r, out);
            }
        });
    }
}

/// How the schema marks a column (see [`key_columns`]).
#[derive(Clone, Copy, Default)]
struct Keyed {
    /// A primary key, foreign key, identity or sequence-fed column.
    reference: bool,
    /// Unique by a one-column unique constraint or index (not the primary key).
    unique: bool,
}

/// Surrogate keys and references: their ranges and distinct counts follow the row count, so
/// they say nothing the volume finding does not. Built once per snapshot: (table, column) of
/// every key, unique or foreign-key column, and every identity or sequence-fed column, with
/// which of them are references and which are declared unique on their own.
fn key_columns(snap: &Snapshot) -> std::collections::HashMap<(&str, &str), Keyed> {
    let mut map: std::collections::HashMap<(&str, &str), Keyed> = Default::default();
    for c in snap.schema.constraints.values() {
        let reference = matches!(
            c.kind,
            ConstraintKind::PrimaryKey | ConstraintKind::ForeignKey
        );
        if reference || c.kind == ConstraintKind::Unique {
            for col in &c.columns {
                let k = map.entry((c.table.as_str(), col.as_str())).or_default();
                k.reference |= reference;
                k.unique |= c.kind == ConstraintKind::Unique && c.columns.len() == 1;
            }
        }
    }
    for (name, t) in &snap.schema.tables {
        for c in &t.columns {
            let generated = c.identity.is_identity() || c.default_sequence().is_some();
            if generated {
                map.entry((name.as_str(), c.name.as_str()))
                    .or_default()
                    .reference = true;
            }
        }
    }
    for i in snap.schema.indexes.values() {
        if let (true, false, Some(col)) = (i.unique, i.primary, i.single_column()) {
            if let Some(t) = snap.schema.tables.get(&i.table) {
                if let Some(c) = t.columns.iter().find(|c| crate::sql::ident(&c.name) == col) {
                    map.entry((i.table.as_str(), c.name.as_str()))
                        .or_default()
                        .unique = true;
                }
            }
        }
    }
    map
}

fn same_key(l: &Profile, r: &Profile) -> bool {
    l.hash_key_id == r.hash_key_id
}
