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
use super::gen::{name_id, Base, Classes, Curve, Temporal, Values, FRAGMENTS};
use crate::error::{Error, Result};
use crate::snapshot::measure::{kind_of, Kind};
use crate::snapshot::{
    ColumnProfile, ConstraintKind, Problem, Snapshot, TableKind, TableProfile, TypeKind,
    FANOUT_QUANTILES, QUANTILES,
};

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
    /// Tables loaded at once (one COPY stream each).
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
            streams: 2,
        }
    }
}

/// An injective map from an index to a key value.
#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    Int {
        base: i64,
        step: i64,
    },
    Decimal {
        base: f64,
        step: f64,
        scale: u32,
    },
    Text {
        width: usize,
    },
    Uuid {
        salt: u64,
    },
    Temporal {
        base: f64,
        step: f64,
        kind: Temporal,
    },
}

impl Key {
    pub fn text(&self, i: u64) -> String {
        match self {
            Key::Int { base, step } => (base + step * i as i64).to_string(),
            Key::Decimal { base, step, scale } => {
                format!("{:.*}", *scale as usize, base + step * i as f64)
            }
            Key::Text { width } => {
                let mut s = base36(i);
                while s.len() < *width {
                    s.insert(0, '0');
                }
                s
            }
            Key::Uuid { salt } => super::gen::uuid(*salt, i),
            Key::Temporal { base, step, kind } => {
                super::gen::temporal(base + step * i as f64, *kind)
            }
        }
    }
}

fn base36(mut i: u64) -> String {
    const D: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(D[(i % 36) as usize]);
        i /= 36;
        if i == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// How one column's values come about.
#[derive(Debug, Clone, PartialEq)]
pub enum Gen {
    /// Drawn per row from the profile.
    Values(Values),
    /// A key: index `(row / div) % modulo` through an injective map.
    Key {
        key: Key,
        div: u64,
        modulo: Option<u64>,
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

/// A foreign key's assignment of child rows to parent rows.
#[derive(Debug, Clone, PartialEq)]
pub struct FkModel {
    pub name: String,
    pub columns: Vec<String>,
    pub parent: String,
    pub parent_columns: Vec<String>,
    /// Cumulative children per parent row.
    pub cum: Arc<Vec<u64>>,
    /// Row `i` is child position `i` (rows past the last position are NULL); else positions
    /// are spread over the rows by an affine permutation.
    pub contiguous: bool,
    pub null_rate: f64,
    pub perm: (u64, u64),
}

impl FkModel {
    fn total(&self) -> u64 {
        self.cum.last().copied().unwrap_or(0)
    }

    /// The parent row of child row `row` of `rows`, or `None` for NULL.
    pub fn parent_row(&self, row: u64, rows: u64) -> Option<u64> {
        let total = self.total();
        if total == 0 {
            return None;
        }
        let pos = if self.contiguous {
            if row >= total {
                return None;
            }
            row
        } else {
            if self.null_rate > 0.0
                && unit(name_id(&self.name) ^ row.wrapping_mul(0x9E37_79B9_7F4A_7C15))
                    < self.null_rate
            {
                return None;
            }
            let p = (self.perm.0 as u128 * row as u128 + self.perm.1 as u128) % rows.max(1) as u128;
            (p * total as u128 / rows.max(1) as u128) as u64
        };
        Some(self.cum.partition_point(|&c| c <= pos) as u64)
    }

    /// First child position of parent row `j`.
    fn start(&self, j: u64) -> u64 {
        if j == 0 {
            0
        } else {
            self.cum[j as usize - 1]
        }
    }
}

fn unit(h: u64) -> f64 {
    let mut x = h;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    (x >> 11) as f64 / (1u64 << 53) as f64
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
    pub columns: Vec<ColumnModel>,
    pub fks: Vec<FkModel>,
    pub id: u64,
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
            Gen::Key { key, div, modulo } => {
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

fn type_limits(base: &str) -> (f64, f64, bool) {
    match base {
        "smallint" => (-32768.0, 32767.0, true),
        "integer" => (-2147483648.0, 2147483647.0, true),
        "bigint" => (-9.2e18, 9.2e18, true),
        _ => (f64::MIN, f64::MAX, false),
    }
}

/// `numeric(15,2)` → (15, 2); `character varying(55)` → 55 as precision.
fn modifiers(data_type: &str) -> (Option<u32>, Option<u32>) {
    let Some((_, rest)) = data_type.split_once('(') else {
        return (None, None);
    };
    let inner = rest.split(')').next().unwrap_or("");
    let mut it = inner.split(',').map(|x| x.trim().parse::<u32>().ok());
    (it.next().flatten(), it.next().flatten())
}

/// The built-in type under domains, and the domain's checks.
fn resolve<'a>(
    snap: &'a Snapshot,
    data_type: &'a str,
    type_kind: TypeKind,
) -> (String, Vec<&'a str>) {
    if type_kind != TypeKind::Domain {
        return (data_type.to_string(), Vec::new());
    }
    let found = snap
        .schema
        .types
        .iter()
        .find(|(k, _)| *k == data_type || k.ends_with(&format!(".{data_type}")));
    match found {
        Some((_, t)) => (
            t.base_type.clone().unwrap_or_else(|| data_type.to_string()),
            t.checks.iter().map(String::as_str).collect(),
        ),
        None => (data_type.to_string(), Vec::new()),
    }
}

fn curve7(values: &[f64]) -> Option<Curve> {
    if values.len() == QUANTILES.len() {
        Curve::from_quantiles(&QUANTILES, values)
    } else {
        None
    }
}

fn classes(p: &ColumnProfile) -> Classes {
    let n = (p.rows - p.nulls).max(1) as f64;
    let share = |c: &str| p.classes.get(c).copied().unwrap_or(0) as f64 / n;
    let empty = share("empty");
    let ascii = share("ascii_only");
    let rest = (1.0 - empty - ascii).max(1e-9);
    let fragments = FRAGMENTS
        .iter()
        .filter_map(|(class, f)| {
            let mut s = share(class);
            if *class == "outside_bmp" {
                s = (s - share("emoji")).max(0.0);
            }
            if *class == "combining_mark" {
                s = (s - share("not_nfc")).max(0.0);
            }
            (s > 0.0).then(|| (*f, (s / rest).min(1.0)))
        })
        .collect();
    Classes {
        empty,
        ascii,
        edge_whitespace: share("edge_whitespace") / (1.0 - empty).max(1e-9),
        fragments,
    }
}

fn labels_from(counts: &[(String, f64)]) -> Base {
    let mut cum = Vec::with_capacity(counts.len());
    let mut acc = 0.0;
    for (_, c) in counts {
        acc += c.max(0.0);
        cum.push(acc);
    }
    Base::Labels {
        labels: counts.iter().map(|(l, _)| l.clone()).collect(),
        cum,
    }
}

/// The base generator for a column of `base_type` (domains resolved) from its profile.
fn base_for(
    snap: &Snapshot,
    kind: Kind,
    base_type: &str,
    type_name: &str,
    p: Option<&ColumnProfile>,
    rule: &Rule,
) -> Option<Base> {
    if let Some(list) = &rule.one_of {
        // The list's values at production's frequencies: by value with raw values, else the
        // counts by rank in the list's order (the shape holds; which value is the common one
        // is not known from hashes).
        let top = p.map(|p| p.top.as_slice()).unwrap_or(&[]);
        let weight = |i: usize, label: &str| -> f64 {
            if let Some(t) = top.iter().find(|t| t.raw.as_deref() == Some(label)) {
                return t.count as f64;
            }
            if top.iter().all(|t| t.raw.is_none()) {
                if let Some(t) = top.get(i) {
                    return t.count as f64;
                }
            }
            if top.is_empty() {
                1.0
            } else {
                0.0
            }
        };
        let mut counts: Vec<(String, f64)> = list
            .iter()
            .enumerate()
            .map(|(i, l)| (l.clone(), weight(i, l)))
            .collect();
        if counts.iter().all(|(_, w)| *w <= 0.0) {
            counts.iter_mut().for_each(|c| c.1 = 1.0);
        }
        return Some(labels_from(&counts));
    }
    if let Some(p) = rule
        .pattern
        .as_deref()
        .and_then(super::pattern::Pattern::compile)
    {
        if matches!(kind, Kind::Text | Kind::Char | Kind::Other) {
            return Some(Base::Pattern(p));
        }
    }
    let bare = base_type.split('(').next().unwrap_or(base_type).trim();
    let (m1, m2) = modifiers(base_type);
    Some(match kind {
        Kind::Number => {
            let (tlo, thi, int) = type_limits(bare);
            let curve = p
                .and_then(|p| curve7(&p.quantiles))
                .or_else(|| p.and_then(|p| Curve::from_quantiles(&[0.0, 1.0], &[p.min?, p.max?])))
                .unwrap_or_else(|| {
                    Curve::from_quantiles(&[0.0, 1.0], &[0.0, 1000.0]).expect("curve")
                });
            let (mut lo, mut hi) = (tlo, thi);
            if bare == "numeric" {
                if let (Some(prec), scale) = (m1, m2.unwrap_or(0)) {
                    let lim = 10f64.powi(prec as i32 - scale as i32) - 10f64.powi(-(scale as i32));
                    lo = -lim;
                    hi = lim;
                }
            }
            lo = lo.max(rule.lo.unwrap_or(f64::MIN));
            hi = hi.min(rule.hi.unwrap_or(f64::MAX));
            let integral = curve.points.iter().all(|(_, v)| v.fract() == 0.0);
            Base::Number {
                curve,
                int: int || (bare == "numeric" && m2.unwrap_or(0) == 0 && integral),
                scale: if bare == "numeric" {
                    m2.or(if integral { Some(0) } else { Some(4) })
                } else {
                    None
                },
                lo,
                hi,
            }
        }
        Kind::Temporal => {
            let kind = match bare {
                "date" => Temporal::Date,
                "timestamp without time zone" => Temporal::Timestamp,
                "timestamp with time zone" => Temporal::TimestampTz,
                "time without time zone" => Temporal::Time,
                "time with time zone" => Temporal::TimeTz,
                _ => Temporal::Interval,
            };
            let curve = p.and_then(|p| curve7(&p.quantiles)).unwrap_or_else(|| {
                Curve::from_quantiles(&[0.0, 1.0], &[1.7e9, 1.8e9]).expect("curve")
            });
            Base::Temporal { curve, kind }
        }
        Kind::Text | Kind::Char => {
            let len = p.and_then(|p| curve7(&p.length_chars)).unwrap_or_else(|| {
                Curve::from_quantiles(&[0.0, 1.0], &[4.0, 16.0]).expect("curve")
            });
            let cap = m1.map(|n| n as usize);
            let max_chars = match (cap, rule.max_chars) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            Base::Text {
                len,
                classes: p.map(classes).unwrap_or(Classes {
                    ascii: 1.0,
                    ..Default::default()
                }),
                max_chars,
                words: p.and_then(|p| {
                    let ascii: Vec<(&String, &u64)> =
                        p.words.iter().filter(|(w, _)| w.is_ascii()).collect();
                    (!ascii.is_empty()).then(|| {
                        let mut acc = 0.0;
                        let cum = ascii
                            .iter()
                            .map(|(_, c)| {
                                acc += **c as f64;
                                acc
                            })
                            .collect();
                        (ascii.iter().map(|(w, _)| (*w).clone()).collect(), cum)
                    })
                }),
            }
        }
        Kind::Boolean | Kind::Enum => {
            let mut counts: Vec<(String, f64)> = p
                .map(|p| {
                    p.labels
                        .iter()
                        .map(|(l, c)| (l.clone(), *c as f64))
                        .collect()
                })
                .unwrap_or_default();
            if counts.is_empty() {
                counts = if kind == Kind::Boolean {
                    vec![("t".into(), 1.0), ("f".into(), 1.0)]
                } else {
                    snap.schema
                        .types
                        .iter()
                        .find(|(k, _)| *k == type_name || k.ends_with(&format!(".{type_name}")))
                        .map(|(_, t)| t.labels.iter().map(|l| (l.clone(), 1.0)).collect())
                        .unwrap_or_default()
                };
            }
            if counts.is_empty() {
                return None;
            }
            labels_from(&counts)
        }
        Kind::Json => {
            let n = p.map(|p| (p.rows - p.nulls).max(1) as f64).unwrap_or(1.0);
            let keys = p
                .map(|p| {
                    p.json_keys
                        .iter()
                        .map(|(k, c)| (k.clone(), *c as f64 / n))
                        .collect()
                })
                .unwrap_or_default();
            let nested = p
                .and_then(|p| curve7(&p.json_depth))
                .map(|c| {
                    let first = QUANTILES
                        .iter()
                        .zip(&c.points)
                        .find(|(_, (_, v))| *v >= 2.0);
                    first.map_or(0.0, |(q, _)| 1.0 - q)
                })
                .unwrap_or(0.0);
            Base::Json { keys, nested }
        }
        Kind::Array => {
            let elem_type = base_type.trim_end_matches("[]");
            let elem_bare = elem_type.split('(').next().unwrap_or(elem_type).trim();
            let elem = match elem_bare {
                "smallint" | "integer" | "bigint" | "numeric" | "real" | "double precision" => {
                    Base::Number {
                        curve: Curve::from_quantiles(&[0.0, 1.0], &[0.0, 1000.0]).expect("curve"),
                        int: true,
                        scale: None,
                        lo: 0.0,
                        hi: 1000.0,
                    }
                }
                "text" | "character varying" | "character" => Base::Text {
                    len: Curve::from_quantiles(&[0.0, 1.0], &[1.0, 12.0]).expect("curve"),
                    classes: Classes {
                        ascii: 1.0,
                        ..Default::default()
                    },
                    max_chars: modifiers(elem_type).0.map(|n| n as usize),
                    words: None,
                },
                "uuid" => Base::Uuid,
                _ => Base::Literal {
                    lit: super::literal::for_type(snap, elem_type)?,
                    len: None,
                },
            };
            let len = p
                .and_then(|p| curve7(&p.array_length))
                .unwrap_or_else(|| Curve::from_quantiles(&[0.0, 1.0], &[0.0, 4.0]).expect("curve"));
            Base::Array {
                elem: Box::new(elem),
                len,
            }
        }
        Kind::Bytea => Base::Bytea {
            len: p.and_then(|p| curve7(&p.length_bytes)).unwrap_or_else(|| {
                Curve::from_quantiles(&[0.0, 1.0], &[0.0, 64.0]).expect("curve")
            }),
        },
        Kind::Other if bare == "uuid" => Base::Uuid,
        Kind::Other => Base::Literal {
            lit: super::literal::for_type(snap, type_name)?,
            len: p.and_then(|p| curve7(&p.length_chars)),
        },
    })
}

/// A key generator for one column, checked to hold `rows` distinct values.
fn key_for(
    object: &str,
    kind: Kind,
    base_type: &str,
    p: Option<&ColumnProfile>,
    rule: &Rule,
    rows: u64,
    salt: u64,
) -> Result<Key> {
    let bare = base_type.split('(').next().unwrap_or(base_type).trim();
    let (m1, m2) = modifiers(base_type);
    let too_many = |what: String| {
        Error::Usage(format!(
            "{object}: {what} cannot hold {} distinct values; hint: lower --scale or --rows for that table, or widen the column",
            crate::finding::thousands(rows as f64)
        ))
    };
    match kind {
        Kind::Number => {
            let (_, thi, _) = type_limits(bare);
            let mut hi = thi.min(rule.hi.unwrap_or(f64::MAX));
            if bare == "numeric" {
                if let Some(prec) = m1 {
                    hi = hi.min(10f64.powi(prec as i32 - m2.unwrap_or(0) as i32) - 1.0);
                }
            }
            let lo = rule.lo.map(f64::ceil).unwrap_or(f64::MIN);
            let base = p.and_then(|p| p.min).filter(|m| m.is_finite()).unwrap_or(1.0).max(lo).round();
            // The values spread over production's range (its spacing when as many rows are
            // asked for), so range partitions and range checks see the same span.
            let span = p
                .and_then(|p| Some(p.max? - p.min?))
                .map(|r| (r / (rows.max(2) - 1) as f64).floor().max(1.0))
                .unwrap_or(1.0);
            let fits = |step: f64| base + step * (rows.max(1) - 1) as f64 <= hi;
            let step = if fits(span) { span } else { 1.0 };
            if !fits(step) {
                return Err(too_many(base_type.to_string()));
            }
            Ok(if bare == "numeric" && m2.unwrap_or(0) > 0 {
                Key::Decimal { base, step, scale: m2.unwrap_or(0) }
            } else {
                Key::Int { base: base as i64, step: step as i64 }
            })
        }
        Kind::Text | Kind::Char => {
            let need = base36(rows.saturating_sub(1)).len();
            let cap = match (m1, rule.max_chars) {
                (Some(a), Some(b)) => Some((a as usize).min(b)),
                (a, b) => a.map(|x| x as usize).or(b),
            };
            let median = p
                .and_then(|p| p.length_chars.get(3).copied())
                .unwrap_or(8.0)
                .round() as usize;
            let width = median.max(need).min(cap.unwrap_or(usize::MAX));
            if need > width {
                return Err(too_many(base_type.to_string()));
            }
            Ok(Key::Text { width })
        }
        Kind::Temporal => {
            let kind = match bare {
                "date" => Temporal::Date,
                "timestamp without time zone" => Temporal::Timestamp,
                "timestamp with time zone" => Temporal::TimestampTz,
                _ => return Err(Error::Usage(format!("{object}: a unique {base_type} key is not supported for seeding; hint: --skip the table"))),
            };
            let base = p.and_then(|p| p.min).filter(|m| m.is_finite()).unwrap_or(1.6e9);
            // Spread over production's range (range partitions by time must all get rows), in
            // whole days for dates, whole seconds otherwise.
            let unit = if kind == Temporal::Date { 86400.0 } else { 1.0 };
            let step = p
                .and_then(|p| Some(p.max? - p.min?))
                .filter(|r| r.is_finite())
                .map(|r| ((r / (rows.max(2) - 1) as f64) / unit).floor().max(1.0) * unit)
                .unwrap_or(unit);
            Ok(Key::Temporal { base, step, kind })
        }
        Kind::Other if bare == "uuid" => Ok(Key::Uuid { salt }),
        _ => Err(Error::Usage(format!(
            "{object}: a unique column of type {base_type} is not supported for seeding; hint: --skip the table"
        ))),
    }
}

/// Children per parent for `p` parents from a relationship's fan-out profile: stratified
/// (the quantiles hold by construction), shuffled by an affine permutation, the maximum placed.
fn degrees(
    rel: Option<&crate::snapshot::RelationshipProfile>,
    parents: u64,
    children: u64,
    mean: Option<f64>,
    salt: u64,
) -> Vec<u64> {
    let p = parents as usize;
    if p == 0 {
        return Vec::new();
    }
    let Some(rel) = rel.filter(|r| r.parents > 0 && r.fanout.len() == FANOUT_QUANTILES.len())
    else {
        // No profile: spread the children evenly.
        let (each, extra) = (children / parents, children % parents);
        return (0..parents).map(|j| each + u64::from(j < extra)).collect();
    };
    let z = rel.childless as f64 / rel.parents as f64;
    // The quantiles fix the shape above the median; below it only the lowest degree is
    // unknown: it is chosen (between 1 and the median) so the mean matches the source's
    // children per parent, which keeps the child table's volume.
    let curve = |low: f64| {
        let mut points: Vec<(f64, f64)> = vec![(z, low)];
        for (q, v) in FANOUT_QUANTILES.iter().zip(&rel.fanout) {
            if *q > z {
                points.push((*q, v.max(1.0)));
            }
        }
        points.push((1.0, rel.max.max(1.0)));
        for i in 1..points.len() {
            if points[i].1 < points[i - 1].1 {
                points[i].1 = points[i - 1].1;
            }
        }
        Curve { points }
    };
    let a = coprime(p as u64, salt);
    let draw = |low: f64| {
        let c = curve(low);
        let mut out = vec![0u64; p];
        for (j, d) in out.iter_mut().enumerate() {
            let rank = ((a as u128 * j as u128 + (salt % p as u64) as u128) % p as u128) as usize;
            let u = (rank as f64 + 0.5) / p as f64;
            *d = if rank == p - 1 {
                rel.max.round() as u64
            } else if u < z {
                0
            } else {
                c.at(u).round().max(1.0) as u64
            };
        }
        out
    };
    let median = rel.fanout[0].max(1.0);
    let Some(mean) = mean else {
        return draw(1.0);
    };
    let want = mean * p as f64;
    let (mut lo, mut hi) = (1.0, median);
    for _ in 0..30 {
        let mid = (lo + hi) / 2.0;
        if (draw(mid).iter().sum::<u64>() as f64) < want {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    draw(hi)
}

/// Children per parent in the source: every child over every parent row.
fn mean_children(
    profile: &crate::snapshot::Profile,
    rel: Option<&crate::snapshot::RelationshipProfile>,
) -> Option<f64> {
    let rel = rel?;
    let parents = profile
        .tables
        .get(&rel.parent)
        .map(|t| t.rows)
        .unwrap_or(rel.parents as f64);
    (parents > 0.0).then(|| rel.children.saturating_sub(rel.orphans) as f64 / parents)
}

/// A multiplier coprime to `n` (an affine permutation of 0..n).
fn coprime(n: u64, salt: u64) -> u64 {
    if n <= 2 {
        return 1;
    }
    let gcd = |mut a: u64, mut b: u64| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    let mut a = (n as f64 * 0.618_033_988_75) as u64 | 1;
    a = a.wrapping_add(2 * (salt % 16));
    while gcd(a % n, n) != 1 || a.is_multiple_of(n) {
        a += 1;
    }
    a % n
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
    let profile = snap.profile.as_ref().ok_or_else(|| {
        Error::Usage("the snapshot holds no data profile, and seed learns only from a profile; hint: capture it again without --no-profile".into())
    })?;
    let mut problems = Vec::new();
    let selected = |name: &str| {
        (opts.include.is_empty() || opts.include.iter().any(|p| crate::glob::glob(p, name)))
            && !opts.skip.iter().any(|p| crate::glob::glob(p, name))
    };
    for name in opts.rows.keys() {
        if !snap.schema.tables.contains_key(name) {
            return Err(Error::Usage(format!(
                "--rows: the snapshot has no table {name}"
            )));
        }
    }
    // Tables to fill: ordinary and partitioned (rows route to partitions), with a profile.
    let mut names = Vec::new();
    for (name, t) in &snap.schema.tables {
        // Partitions get their rows through their parent; inheritance children are tables.
        let partition = t.parent.is_some() && t.partition_bound.is_some();
        if t.kind == TableKind::Foreign || partition || !selected(name) {
            continue;
        }
        if let Some(why) = excluded.get(name) {
            problems.push(Problem {
                area: format!("table {name}"),
                message: format!("not seeded: {why}"),
            });
            continue;
        }
        if profile.tables.contains_key(name) {
            names.push(name.clone());
        } else {
            problems.push(Problem {
                area: format!("table {name}"),
                message: "not seeded: the snapshot has no profile of it".into(),
            });
        }
    }
    let mut rows: HashMap<String, u64> = names
        .iter()
        .map(|n| {
            let r =
                opts.rows.get(n).copied().unwrap_or_else(|| {
                    (profile.tables[n].rows * opts.scale).round().max(0.0) as u64
                });
            (n.clone(), r)
        })
        .collect();

    // Keys and foreign keys per table.
    let mut keys: HashMap<&str, Vec<Vec<String>>> = HashMap::new();
    let mut fks: HashMap<&str, Vec<&crate::snapshot::Constraint>> = HashMap::new();
    for c in snap.schema.constraints.values() {
        match c.kind {
            ConstraintKind::PrimaryKey | ConstraintKind::Unique if !c.columns.is_empty() => keys
                .entry(c.table.as_str())
                .or_default()
                .push(c.columns.clone()),
            // An exclusion constraint whose operators are all equality is a unique key.
            ConstraintKind::Exclusion if !c.columns.is_empty() && equality_only(&c.definition) => {
                keys.entry(c.table.as_str())
                    .or_default()
                    .push(c.columns.clone())
            }
            ConstraintKind::ForeignKey if c.references.is_some() => {
                fks.entry(c.table.as_str()).or_default().push(c)
            }
            _ => {}
        }
    }
    for list in keys.values_mut() {
        list.sort_by_key(|k| k.len());
    }
    let not_null = |table: &str, col: &str| {
        snap.schema
            .tables
            .get(table)
            .and_then(|t| t.columns.iter().find(|c| c.name == col))
            .is_some_and(|c| c.not_null)
    };
    // The primary foreign key of each table decides its row count (the sum of the degrees).
    let primary: HashMap<String, &crate::snapshot::Constraint> = names
        .iter()
        .filter(|n| !opts.rows.contains_key(*n))
        .filter_map(|n| {
            let list = fks.get(n.as_str())?;
            let mut cands: Vec<&&crate::snapshot::Constraint> = list
                .iter()
                .filter(|c| {
                    c.references.as_deref() != Some(n.as_str())
                        && rows.contains_key(c.references.as_deref().unwrap_or(""))
                })
                .collect();
            cands.sort_by_key(|c| {
                (
                    !c.columns.iter().all(|col| not_null(n, col)),
                    c.name.clone(),
                )
            });
            cands.first().map(|c| (n.clone(), **c))
        })
        .collect();
    // Row counts in dependency order (parents first); a cycle keeps the scaled count.
    let mut degree_cache: HashMap<String, Arc<Vec<u64>>> = HashMap::new();
    let rel_key = |c: &crate::snapshot::Constraint| {
        format!(
            "{}({})->{}({})",
            c.table,
            c.columns.join(","),
            c.references.as_deref().unwrap_or(""),
            c.ref_columns.join(",")
        )
    };
    let mut done: BTreeSet<String> = BTreeSet::new();
    fn visit(
        n: &str,
        primary: &HashMap<String, &crate::snapshot::Constraint>,
        done: &mut BTreeSet<String>,
        stack: &mut Vec<String>,
        order: &mut Vec<String>,
    ) {
        if done.contains(n) || stack.iter().any(|s| s == n) {
            return;
        }
        stack.push(n.to_string());
        if let Some(c) = primary.get(n) {
            visit(
                c.references.as_deref().unwrap_or(""),
                primary,
                done,
                stack,
                order,
            );
        }
        stack.pop();
        done.insert(n.to_string());
        order.push(n.to_string());
    }
    let mut order = Vec::new();
    for n in &names {
        visit(n, &primary, &mut done, &mut Vec::new(), &mut order);
    }
    for n in &order {
        let Some(c) = primary.get(n) else { continue };
        let parent = c.references.clone().unwrap_or_default();
        let Some(&prows) = rows.get(&parent) else {
            continue;
        };
        let rel = profile.relationships.get(&rel_key(c));
        let child_rows = rows[n];
        let d = degrees(
            rel,
            prows,
            child_rows,
            mean_children(profile, rel),
            name_id(n),
        );
        let total: u64 = d.iter().sum();
        let col = &c.columns[0];
        let nr = profile.tables[n]
            .columns
            .get(col)
            .map(|p| p.nulls as f64 / p.rows.max(1) as f64)
            .unwrap_or(0.0);
        let with_nulls = if nr > 0.0 && nr < 1.0 {
            (total as f64 / (1.0 - nr)).round() as u64
        } else {
            total
        };
        rows.insert(n.clone(), with_nulls);
        let mut cum = Vec::with_capacity(d.len());
        let mut acc = 0;
        for x in d {
            acc += x;
            cum.push(acc);
        }
        degree_cache.insert(c.name.clone() + "@" + n, Arc::new(cum));
    }

    let mut tables = Vec::new();
    for name in &names {
        let t = &snap.schema.tables[name];
        let tp: &TableProfile = &profile.tables[name];
        let n = rows[name];
        let id = name_id(name) ^ opts.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        // Check rules per column (table checks and domain checks).
        let mut rules: BTreeMap<String, Rule> = BTreeMap::new();
        for c in snap
            .schema
            .constraints
            .values()
            .filter(|c| &c.table == name && c.kind == ConstraintKind::Check)
        {
            match checks::read(&c.definition) {
                Some(r) => {
                    for (col, rule) in r {
                        merge(rules.entry(col).or_default(), rule);
                    }
                }
                None => problems.push(Problem {
                    area: format!("table {name}"),
                    message: format!("check constraint {} is not a simple form seed can honour ({}); generated rows may violate it", c.name, c.definition),
                }),
            }
        }
        // Foreign keys of this table.
        let mut fk_models = Vec::new();
        let mut fk_of_col: HashMap<String, (usize, usize)> = HashMap::new();
        let mut table_fks: Vec<&crate::snapshot::Constraint> =
            fks.get(name.as_str()).cloned().unwrap_or_default();
        table_fks.sort_by_key(|c| {
            (
                primary.get(name).map(|p| p.name != c.name).unwrap_or(true),
                c.name.clone(),
            )
        });
        let mut left_null: BTreeSet<String> = BTreeSet::new();
        for c in table_fks {
            let parent = c.references.clone().unwrap_or_default();
            let Some(&prows) = rows.get(&parent) else {
                let nullable = c.columns.iter().all(|col| !not_null(name, col));
                if nullable {
                    left_null.extend(c.columns.iter().cloned());
                    problems.push(Problem {
                        area: format!("table {name}"),
                        message: format!(
                            "foreign key {} is left NULL: its parent {parent} is not seeded",
                            c.name
                        ),
                    });
                    continue;
                }
                if excluded.contains_key(&parent) {
                    return Ok(Err((
                        name.clone(),
                        format!("its NOT NULL foreign key {} needs rows of {parent}, which is not seeded", c.name),
                    )));
                }
                return Err(Error::Usage(format!(
                    "{name}: foreign key {} needs rows of {parent}, which is not seeded; hint: include {parent}, or skip {name}",
                    c.name
                )));
            };
            let is_primary = primary.get(name).is_some_and(|p| p.name == c.name);
            let cum = match degree_cache.get(&(c.name.clone() + "@" + name)) {
                Some(cum) if is_primary => cum.clone(),
                _ => {
                    let rel = profile.relationships.get(&rel_key(c));
                    let nr = tp
                        .columns
                        .get(&c.columns[0])
                        .map(|p| p.nulls as f64 / p.rows.max(1) as f64)
                        .unwrap_or(0.0);
                    let d = degrees(
                        rel,
                        prows,
                        ((n as f64) * (1.0 - nr)).round() as u64,
                        mean_children(profile, rel),
                        name_id(&c.name),
                    );
                    let mut cum = Vec::with_capacity(d.len());
                    let mut acc = 0;
                    for x in d {
                        acc += x;
                        cum.push(acc);
                    }
                    Arc::new(cum)
                }
            };
            let nr = tp
                .columns
                .get(&c.columns[0])
                .map(|p| p.nulls as f64 / p.rows.max(1) as f64)
                .unwrap_or(0.0);
            let fi = fk_models.len();
            for (part, col) in c.columns.iter().enumerate() {
                fk_of_col.entry(col.clone()).or_insert((fi, part));
            }
            fk_models.push(FkModel {
                name: c.name.clone(),
                columns: c.columns.clone(),
                parent,
                parent_columns: c.ref_columns.clone(),
                cum,
                contiguous: is_primary,
                null_rate: if c.columns.iter().all(|col| !not_null(name, col)) {
                    nr
                } else {
                    0.0
                },
                perm: (
                    coprime(n.max(1), name_id(&c.name)),
                    name_id(&c.name) % n.max(1),
                ),
            });
        }
        // Key columns.
        let table_keys = keys.get(name.as_str()).cloned().unwrap_or_default();
        let route = list_route(snap, name, t);
        let mut columns = Vec::new();
        let mut unsupported = None;
        for col in &t.columns {
            if col.generated.is_generated() {
                continue;
            }
            let object = format!("{name}.{}", crate::sql::ident(&col.name));
            let (base_type, domain_checks) = resolve(snap, &col.data_type, col.type_kind);
            let mut rule = rules
                .get(&col.name.to_lowercase())
                .cloned()
                .unwrap_or_default();
            for d in domain_checks {
                if let Some(r) = checks::read(d).and_then(|mut m| m.remove("value")) {
                    merge(&mut rule, r);
                }
            }
            let kind = kind_of(&col.data_type, col.type_kind, snap);
            let p = tp.columns.get(&col.name).map(|c| &**c);
            let in_key = table_keys.iter().find(|k| k.contains(&col.name));
            let gen = if left_null.contains(&col.name) && !fk_of_col.contains_key(&col.name) {
                Gen::Null
            } else if route.as_ref().is_some_and(|(c, _, _)| *c == col.name) {
                // A list partition key: the partitions' values at their shares of the rows.
                let (_, labels, cum) = route.clone().expect("route");
                let other = (cum.len() > labels.len())
                    .then(|| {
                        base_for(snap, kind, &base_type, &col.data_type, p, &rule).map(Box::new)
                    })
                    .flatten();
                Gen::Values(Values {
                    base: Base::Routed { labels, cum, other },
                    null_rate: 0.0,
                    pool: None,
                })
            } else if let Some(&(fk, part)) = fk_of_col.get(&col.name) {
                // A second foreign key inside a composite key led by the primary one.
                match in_key {
                    Some(k)
                        if k.len() > 1
                            && fk > 0
                            && fk_models[0].contiguous
                            && fk_models[0].columns.iter().all(|c| k.contains(c))
                            && !fk_models[0].columns.contains(&col.name) =>
                    {
                        Gen::RankFk {
                            fk: 0,
                            other: fk,
                            part,
                        }
                    }
                    _ => Gen::Fk { fk, part },
                }
            } else if let Some(k) = in_key {
                let lead = fk_models.first().filter(|f| {
                    f.contiguous
                        && f.columns.iter().all(|c| k.contains(c))
                        && k.len() == f.columns.len() + 1
                });
                // A key that holds the list partition key: the other columns are unique alone.
                let routed_key = route.as_ref().is_some_and(|(c, _, _)| k.contains(c));
                if k.len() == 1 || routed_key {
                    Gen::Key {
                        key: key_for(
                            &object,
                            kind,
                            &base_type,
                            p,
                            &rule,
                            n,
                            id ^ name_id(&col.name),
                        )?,
                        div: 1,
                        modulo: None,
                    }
                } else if let (Some(_), Kind::Number) = (lead, kind) {
                    Gen::Rank { fk: 0 }
                } else {
                    // Composite: the last column varies fastest.
                    let free: Vec<&String> =
                        k.iter().filter(|c| !fk_of_col.contains_key(*c)).collect();
                    let m = ((n.max(2) as f64).powf(1.0 / free.len().max(1) as f64))
                        .ceil()
                        .max(2.0) as u64;
                    let pos = free.iter().position(|c| **c == col.name).unwrap_or(0);
                    let div = m.saturating_pow((free.len() - 1 - pos) as u32);
                    let key = key_for(
                        &object,
                        kind,
                        &base_type,
                        p,
                        &rule,
                        if pos == 0 { n / div.max(1) + 1 } else { m },
                        id ^ name_id(&col.name),
                    )?;
                    Gen::Key {
                        key,
                        div,
                        modulo: (pos > 0).then_some(m),
                    }
                }
            } else {
                match base_for(snap, kind, &base_type, &col.data_type, p, &rule) {
                    Some(base) => Gen::Values(values(
                        base,
                        p,
                        col.not_null || rule.not_null,
                        n,
                        tp.rows,
                        profile.raw_values,
                    )),
                    // No generator: the column's default fills it (left out of the COPY).
                    None if col.default.is_some() => {
                        problems.push(Problem {
                            area: format!("table {name}"),
                            message: format!(
                                "column {} ({}) takes its default: seed does not generate that type",
                                col.name, col.data_type
                            ),
                        });
                        Gen::Default
                    }
                    None if !col.not_null => {
                        problems.push(Problem {
                            area: format!("table {name}"),
                            message: format!(
                                "column {} ({}) is left NULL: seed does not generate that type",
                                col.name, col.data_type
                            ),
                        });
                        Gen::Null
                    }
                    None => {
                        unsupported = Some(format!(
                            "column {} ({}) is NOT NULL and seed does not generate that type",
                            col.name, col.data_type
                        ));
                        Gen::Null
                    }
                }
            };
            columns.push(ColumnModel {
                name: col.name.clone(),
                data_type: col.data_type.clone(),
                gen,
            });
        }
        if let Some(why) = unsupported {
            return Ok(Err((
                name.clone(),
                format!("{why}; hint: give the column a default, or --skip {name}"),
            )));
        }
        tables.push(TableModel {
            partitioned: t.kind == TableKind::Partitioned,
            name: name.clone(),
            rows: n,
            columns,
            fks: fk_models,
            id,
        });
    }
    let index = tables
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.clone(), i))
        .collect();
    Ok(Ok(Model {
        tables,
        index,
        problems,
        skipped: Vec::new(),
    }))
}

/// For a table partitioned by `LIST (col)`: the column, the values its partitions list, and
/// cumulative weights by each partition's rows (the planner's count, from the snapshot's
/// statistics); one more weight at the end when a default partition takes the rest.
fn list_route(
    snap: &Snapshot,
    name: &str,
    t: &crate::snapshot::Table,
) -> Option<(String, Vec<String>, Vec<f64>)> {
    let key = t
        .partition_key
        .as_deref()?
        .strip_prefix("LIST (")?
        .strip_suffix(')')?;
    if key.contains(',') || key.contains('(') {
        return None;
    }
    let col = unquote(key.trim());
    let rows = |n: &str| -> f64 {
        fn sum(snap: &Snapshot, n: &str, depth: usize) -> f64 {
            let own = snap
                .statistics
                .tables
                .get(n)
                .map(|s| s.reltuples.max(s.live_tuples as f64).max(0.0))
                .unwrap_or(0.0);
            if depth > 16 {
                return own;
            }
            own + snap
                .schema
                .tables
                .iter()
                .filter(|(_, c)| c.parent.as_deref() == Some(n))
                .map(|(k, _)| sum(snap, k, depth + 1))
                .sum::<f64>()
        }
        sum(snap, n, 0)
    };
    let (mut labels, mut weights, mut default) = (Vec::new(), Vec::new(), None);
    for (child, c) in snap
        .schema
        .tables
        .iter()
        .filter(|(_, c)| c.parent.as_deref() == Some(name))
    {
        let Some(bound) = &c.partition_bound else {
            continue;
        };
        let w = rows(child);
        if bound.trim() == "DEFAULT" {
            default = Some(w);
            continue;
        }
        let Some(list) = bound
            .trim()
            .strip_prefix("FOR VALUES IN (")
            .and_then(|b| b.strip_suffix(')'))
        else {
            continue;
        };
        let values = split_literals(list);
        let share = w / values.len().max(1) as f64;
        for v in values {
            labels.push(v);
            weights.push(share);
        }
    }
    if labels.is_empty() {
        return None;
    }
    if let Some(d) = default {
        weights.push(d);
    }
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    let cum = weights
        .iter()
        .map(|w| {
            acc += if total > 0.0 { *w } else { 1.0 };
            acc
        })
        .collect();
    Some((col, labels, cum))
}

/// `"Odd ""Name"""` → `Odd "Name"`; a bare name as is.
fn unquote(s: &str) -> String {
    match s.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => s.to_string(),
    }
}

/// `'eu', 'uk'` → [eu, uk]; numbers as written; NULL left out.
fn split_literals(list: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = list.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' if quoted && chars.peek() == Some(&'\'') => {
                cur.push('\'');
                chars.next();
            }
            '\'' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c if quoted || !c.is_whitespace() => cur.push(c),
            _ => {}
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|v| v.split("::").next().unwrap_or("").to_string())
        .filter(|v| !v.is_empty() && v != "NULL")
        .collect()
}

/// `EXCLUDE USING btree (a WITH =, b WITH =)`: every operator is `=`.
fn equality_only(definition: &str) -> bool {
    let ops: Vec<&str> = definition
        .split(" WITH ")
        .skip(1)
        .map(|x| x.split([',', ')']).next().unwrap_or("").trim())
        .collect();
    !ops.is_empty() && ops.iter().all(|o| *o == "=")
}

fn merge(into: &mut Rule, r: Rule) {
    if let Some(lo) = r.lo {
        into.lo = Some(into.lo.map_or(lo, |x| x.max(lo)));
    }
    if let Some(hi) = r.hi {
        into.hi = Some(into.hi.map_or(hi, |x| x.min(hi)));
    }
    if r.one_of.is_some() {
        into.one_of = r.one_of;
    }
    if let Some(m) = r.max_chars {
        into.max_chars = Some(into.max_chars.map_or(m, |x| x.min(m)));
    }
    into.not_null |= r.not_null;
    if r.pattern.is_some() {
        into.pattern = r.pattern;
    }
}

/// A categorical number or time column as labels: K distinct values (K = the values the
/// profile counted) spread over the quantile curve, made distinct at the type's resolution,
/// and the counts matched to them by the mass the curve gives each (the most frequent count
/// to the value the curve dwells on longest). So a column of one value and a rare other keeps
/// both, the rare one rare, and a year column keeps its 74 years.
fn numeric_categories(base: &Base, p: &ColumnProfile) -> Option<Base> {
    let (curve, unit, lo, hi) = match base {
        Base::Number {
            curve,
            int,
            scale,
            lo,
            hi,
        } => {
            let unit = if *int {
                1.0
            } else {
                10f64.powi(-(scale.unwrap_or(6) as i32))
            };
            (curve, unit, *lo, *hi)
        }
        Base::Temporal { curve, kind } => {
            let unit = if *kind == Temporal::Date {
                86400.0
            } else {
                1.0
            };
            (curve, unit, f64::MIN, f64::MAX)
        }
        _ => return None,
    };
    let k = p.top.len();
    if !p.categorical || k == 0 {
        return None;
    }
    let snap_to = |x: f64| (x / unit).round() * unit;
    // Values at evenly spaced positions, then made strictly increasing.
    let mut values: Vec<f64> = (0..k)
        .map(|i| {
            let u = if k == 1 {
                0.5
            } else {
                i as f64 / (k - 1) as f64
            };
            snap_to(curve.at(u)).clamp(lo, hi)
        })
        .collect();
    for i in 1..k {
        if values[i] <= values[i - 1] {
            values[i] = values[i - 1] + unit;
        }
    }
    // Pushed past the upper bound (a check, the type): pull back down from the top; values
    // that then fall below the lower bound are dropped (fewer values fit than were counted).
    if values[k - 1] > hi {
        values[k - 1] = (hi / unit).floor() * unit;
        for i in (0..k - 1).rev() {
            if values[i] >= values[i + 1] {
                values[i] = values[i + 1] - unit;
            }
        }
    }
    values.retain(|v| *v >= lo);
    let k = values.len();
    if k == 0 {
        return None;
    }
    // The mass of each value: the share of a fine grid of positions nearest to it.
    const GRID: usize = 2000;
    let mut mass = vec![0usize; k];
    for g in 0..GRID {
        let x = curve.at((g as f64 + 0.5) / GRID as f64);
        let i = values.partition_point(|v| *v < x);
        let nearest = if i == 0 {
            0
        } else if i >= k {
            k - 1
        } else if (x - values[i - 1]).abs() <= (values[i] - x).abs() {
            i - 1
        } else {
            i
        };
        mass[nearest] += 1;
    }
    let mut by_mass: Vec<usize> = (0..k).collect();
    by_mass.sort_by(|a, b| mass[*b].cmp(&mass[*a]).then(a.cmp(b)));
    let mut counts: Vec<u64> = p.top.iter().map(|t| t.count).collect();
    counts.sort_by(|a, b| b.cmp(a));
    let mut weight = vec![0.0; k];
    for (rank, &i) in by_mass.iter().enumerate() {
        weight[i] = counts.get(rank).copied().unwrap_or(0) as f64;
    }
    let counts: Vec<(String, f64)> = values
        .iter()
        .zip(&weight)
        .map(|(v, w)| (base.format(*v), *w))
        .collect();
    Some(labels_from(&counts))
}

/// Per-row values: null rate, categories (the profile's complete value counts, or its raw
/// values with the opt-in), or a pool sized by the distinct ratio.
fn values(
    base: Base,
    p: Option<&ColumnProfile>,
    not_null: bool,
    rows: u64,
    table_rows: f64,
    raw: bool,
) -> Values {
    let null_rate = match p {
        Some(p) if !not_null && p.rows > 0 => p.nulls as f64 / p.rows as f64,
        _ => 0.0,
    };
    let Some(p) = p else {
        return Values {
            base,
            null_rate,
            pool: None,
        };
    };
    // Documents, arrays and bytes are drawn whole: their keys and lengths carry the shape,
    // and a handful of categories would lose the rare keys.
    if matches!(
        base,
        Base::Labels { .. } | Base::Json { .. } | Base::Array { .. } | Base::Bytea { .. }
    ) {
        return Values {
            base,
            null_rate,
            pool: None,
        };
    }
    if p.categorical && !p.top.is_empty() {
        if raw && p.top.iter().all(|t| t.raw.is_some()) {
            let counts: Vec<(String, f64)> = p
                .top
                .iter()
                .map(|t| (t.raw.clone().unwrap_or_default(), t.count as f64))
                .collect();
            return Values {
                base: labels_from(&counts),
                null_rate,
                pool: None,
            };
        }
        // Numbers and times with few values: that many distinct values, at the frequencies
        // the profile counted, placed where the quantile curve puts its mass.
        if let Some(labels) = numeric_categories(&base, p) {
            return Values {
                base: labels,
                null_rate,
                pool: None,
            };
        }
        let mut acc = 0.0;
        let cum = p
            .top
            .iter()
            .map(|t| {
                acc += t.count as f64;
                acc
            })
            .collect();
        return Values {
            base,
            null_rate,
            pool: Some(cum),
        };
    }
    let non_null = (p.rows - p.nulls).max(1) as f64;
    if let Some(d) = &p.distinct {
        // Distinct values per non-NULL row of the table (the estimate is the table's).
        let ratio = d.value / (table_rows * non_null / p.rows.max(1) as f64).max(1.0);
        let k = (ratio * rows as f64 * (1.0 - null_rate)).round().max(1.0) as usize;
        if ratio < 0.5 && k < rows as usize {
            return Values {
                base,
                null_rate,
                pool: Some((1..=k).map(|x| x as f64).collect()),
            };
        }
    }
    Values {
        base,
        null_rate,
        pool: None,
    }
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
        let k = Key::Text { width: 3 };
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
