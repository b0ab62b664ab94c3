//! What to generate, decided from the snapshot alone (no IO): row counts per table (scaled, or
//! set per table), and per column a generator. Primary and unique keys are injective
//! functions of the row number, so no duplicate is ever drawn and no retry can run out;
//! composite keys vary their last column fastest, or number rows within their parent group.
//! Foreign keys follow a degree sequence built from the profile's fan-out quantiles
//! (stratified, with the maximum placed exactly), so the fan-out histogram and its tail match
//! by construction; the child's row count is the sum of the degrees. Every key value is a pure
//! function of (table, column, row), so any table can be generated in any order, in chunks.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::checks::{self, Rule};
use super::gen::{
    name_id, Base, ByLeaf, Classes, Curve, KeyAt, KeyClasses, Leaves, Ordered, Pool, Reserved,
    Temporal, Values, FRAGMENTS,
};
use crate::error::{Error, Result};
use crate::snapshot::measure::{kind_of, Kind};
use crate::snapshot::{
    ColumnProfile, ConstraintKind, Problem, Snapshot, TableKind, TypeKind, FANOUT_QUANTILES,
    QUANTILES,
};

mod columns;
mod counts;
mod fanout;
mod keys;
mod route;
mod table;

use columns::*;
use counts::Counts;
use fanout::*;
use keys::*;
use route::*;

/// What `seed` was asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedOptions {
    /// Row counts are the profile's times this.
    pub scale: f64,
    /// Row counts set per table (`public.orders` → 1000), overriding the scale.
    pub rows: BTreeMap<String, u64>,
    /// Same seed, same data.
    pub seed: u64,
    /// Only these tables (names or `*` patterns); empty: all.
    pub include: Vec<String>,
    pub skip: Vec<String>,
    /// Create the snapshot's schema on the target first.
    pub create_schema: bool,
    /// Empty the tables first (else a non-empty table is refused).
    pub truncate: bool,
    /// COPY streams at once: tables, and ranges of a large table (`SPLIT_MIN_ROWS`).
    pub streams: usize,
}

impl Default for SeedOptions {
    fn default() -> Self {
        SeedOptions {
            scale: 1.0,
            rows: BTreeMap::new(),
            seed: 1,
            include: Vec::new(),
            skip: Vec::new(),
            create_schema: false,
            truncate: false,
            // Four, on two cores too: a stream's server waits on its WAL flushes and
            // commits while another works (2,000 small tables, fsync on: load 10.4 and 8.0 s
            // with two, 5.5 and 3.9 s with four; 6M lineitem rows: 1.22 → 1.53 × COPY FROM).
            streams: 4,
        }
    }
}

/// How one column's values come about.
#[derive(Debug, Clone, PartialEq)]
pub enum Gen {
    /// Drawn per row from the profile.
    Values(Values),
    /// A key: index `(row / div) % modulo` through an injective map; `scatter` `(a, b)`
    /// first takes row `i` of `n` to `(a·i + b) mod n` (a permutation), so the keys do not
    /// follow the rows' physical order where production's do not.
    Key {
        key: Key,
        div: u64,
        modulo: Option<u64>,
        scatter: Option<(u64, u64, u64)>,
    },
    /// Column `part` of the table's foreign key `fk`.
    Fk {
        fk: usize,
        part: usize,
    },
    /// 1 + the row's rank among the children of its parent under foreign key `fk`.
    Rank {
        fk: usize,
    },
    /// A second foreign key in a composite key led by foreign key `fk`: the parent of
    /// `other` at (rank + an offset per group) modulo its rows, distinct within the group.
    RankFk {
        fk: usize,
        other: usize,
        part: usize,
    },
    Null,
    /// Left out of the COPY: the column's default fills it.
    Default,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnModel {
    pub name: String,
    pub data_type: String,
    pub gen: Gen,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableModel {
    pub name: String,
    /// Partitioned (rows route to partitions; COPY FREEZE does not apply).
    pub partitioned: bool,
    pub rows: u64,
    /// Rows generated at once (a chunk, its own streams): `CHUNK_ROWS`, fewer where rows are
    /// wide, so a chunk stays near `CHUNK_BYTES` (200 rows of 4 MB documents were 1.7 GB at
    /// once). A function of the model alone: the same chunks, the same bytes, on any streams.
    pub chunk_rows: u64,
    /// The most bytes of COPY text a chunk can hold (lengths at the profile's maximum), which
    /// bounds how many chunks a load keeps in flight.
    pub chunk_bytes: u64,
    pub columns: Vec<ColumnModel>,
    pub fks: Vec<FkModel>,
    pub id: u64,
}

/// Rows per chunk for rows of at most `width` bytes of COPY text.
pub fn chunk_rows(width: f64) -> u64 {
    let fit = (crate::seed::CHUNK_BYTES as f64 / width.max(1.0)).floor() as u64;
    fit.clamp(1, crate::seed::CHUNK_ROWS)
}

impl Gen {
    /// About the most bytes of COPY text one value takes (lengths at their profile's
    /// maximum, twice for escapes and multibyte characters; 32 for anything short).
    fn widest(&self) -> f64 {
        match self {
            Gen::Values(v) => v.base.widest(),
            _ => 32.0,
        }
    }
}

/// Every table to fill, and what could not be honoured.
#[derive(Debug, Clone)]
pub struct Model {
    pub tables: Vec<TableModel>,
    pub index: HashMap<String, usize>,
    pub problems: Vec<Problem>,
    /// Tables left out because they cannot be generated, or need rows of one that cannot:
    /// (table, why).
    pub skipped: Vec<(String, String)>,
}

impl Model {
    /// The text of a key column (key, foreign key, rank) at `row`: a pure function.
    pub fn key_text(&self, t: usize, c: usize, row: u64) -> Option<String> {
        let table = &self.tables[t];
        match &table.columns[c].gen {
            Gen::Key {
                key,
                div,
                modulo,
                scatter,
            } => {
                let row = super::gen::scattered(row, *scatter);
                let i = row / div.max(&1);
                Some(key.text(modulo.map_or(i, |m| i % m)))
            }
            Gen::Fk { fk, part } => {
                let f = &table.fks[*fk];
                let j = f.parent_row(row, table.rows)?;
                self.parent_text(f, *part, j)
            }
            Gen::Rank { fk } => {
                let f = &table.fks[*fk];
                let j = f.parent_row(row, table.rows)?;
                Some((row - f.start(j) + 1).to_string())
            }
            Gen::RankFk { fk, other, part } => {
                let f = &table.fks[*fk];
                let j = f.parent_row(row, table.rows)?;
                let rank = row - f.start(j);
                let o = &table.fks[*other];
                let prows = self.rows_of(&o.parent)?;
                if prows == 0 {
                    return None;
                }
                let pj = (rank + j.wrapping_mul(7919)) % prows;
                self.parent_text(o, *part, pj)
            }
            Gen::Values(_) | Gen::Null | Gen::Default => None,
        }
    }

    fn rows_of(&self, table: &str) -> Option<u64> {
        self.index.get(table).map(|&i| self.tables[i].rows)
    }

    fn parent_text(&self, f: &FkModel, part: usize, j: u64) -> Option<String> {
        let &pt = self.index.get(&f.parent)?;
        let pc = self.tables[pt]
            .columns
            .iter()
            .position(|c| c.name == f.parent_columns[part])?;
        self.key_text(pt, pc, j)
    }
}

/// Builds the model: which tables, how many rows, which generator per column. A table that
/// cannot be generated (a NOT NULL column of a type seed has no value for, and no default) is
/// skipped, and so is every table whose NOT NULL foreign key needs its rows, each named with
/// its reason; a nullable foreign key to it is left NULL. The rest is seeded.
pub fn build(snap: &Snapshot, opts: &SeedOptions) -> Result<Model> {
    let mut excluded: BTreeMap<String, String> = BTreeMap::new();
    loop {
        match build_once(snap, opts, &excluded)? {
            Ok(mut model) => {
                model.skipped = excluded.into_iter().collect();
                return Ok(model);
            }
            Err((table, why)) => {
                if excluded.insert(table.clone(), why).is_some() {
                    return Err(Error::Usage(format!(
                        "seed: {table} was skipped twice (a bug)"
                    )));
                }
            }
        }
    }
}

/// One attempt with `excluded` tables (name → why) left out: a model, or the next table that
/// must be left out and why.
fn build_once(
    snap: &Snapshot,
    opts: &SeedOptions,
    excluded: &BTreeMap<String, String>,
) -> Result<std::result::Result<Model, (String, String)>> {
    let mut counts = Counts::new(snap, opts, excluded)?;
    let mut tables = Vec::new();
    for name in counts.names.clone() {
        match counts.table(&name)? {
            Some(Ok(t)) => tables.push(t),
            Some(Err(skip)) => return Ok(Err(skip)),
            None => {}
        }
    }
    let index = tables
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.clone(), i))
        .collect();
    Ok(Ok(Model {
        tables,
        index,
        problems: counts.problems,
        skipped: Vec::new(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degrees_follow_the_fanout_quantiles() {
        let rel = crate::snapshot::RelationshipProfile {
            child: "c".into(),
            child_columns: vec!["p".into()],
            parent: "p".into(),
            parent_columns: vec!["id".into()],
            parents: 1000,
            parents_sampled: false,
            childless: 300,
            fanout: vec![2.0, 6.0, 40.0, 200.0],
            max: 900.0,
            children: 0,
            orphans: 0,
        };
        assert_eq!(
            split_literals("'eu', 'it''s', 5, NULL"),
            ["eu", "it's", "5"]
        );
        let d = degrees(Some(&rel), 10_000, 0, None, 7);
        let mut s = d.clone();
        s.sort();
        let q = |x: f64| s[((s.len() as f64 * x) as usize).min(s.len() - 1)];
        assert_eq!(s.iter().filter(|&&x| x == 0).count(), 3000);
        assert_eq!(*s.last().unwrap(), 900);
        assert!(
            (q(0.5) as f64 - 2.0).abs() <= 1.0 && (q(0.9) as f64 - 6.0).abs() <= 1.0,
            "{} {}",
            q(0.5),
            q(0.9)
        );
        assert!((q(0.99) as f64 - 40.0).abs() <= 4.0, "{}", q(0.99));
        assert_eq!(d, degrees(Some(&rel), 10_000, 0, None, 7));
        let even = crate::snapshot::RelationshipProfile {
            childless: 0,
            fanout: vec![5.0; 4],
            max: 5.0,
            ..rel.clone()
        };
        assert!(degrees(Some(&even), 25, 0, Some(5.0), 1)
            .iter()
            .all(|&d| d == 5));
        assert_ne!(d[..20], s[..20]);
    }

    #[test]
    fn keys_are_injective() {
        let k = Key::Text {
            width: 3,
            classes: None,
        };
        let v: BTreeSet<String> = (0..5000).map(|i| k.text(i)).collect();
        assert_eq!(v.len(), 5000);
        assert_eq!(base36(35), "z");
        let f = FkModel {
            name: "f".into(),
            columns: vec![],
            parent: "p".into(),
            parent_columns: vec![],
            cum: Arc::new(vec![2, 2, 5]),
            contiguous: true,
            null_rate: 0.0,
            perm: (1, 0),
        };
        let parents: Vec<Option<u64>> = (0..6).map(|r| f.parent_row(r, 6)).collect();
        assert_eq!(
            parents,
            vec![Some(0), Some(0), Some(2), Some(2), Some(2), None]
        );
    }
}
