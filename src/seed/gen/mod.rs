//! Value generators: each column's values drawn to match its profile (null rate, quantiles,
//! lengths, character classes, label and category frequencies, JSON keys, array lengths),
//! written straight into COPY's text format. Keys and foreign keys are pure functions of the
//! row number (see `model.rs`); everything else draws from a ChaCha8 stream seeded per
//! (seed, table, column, chunk), so the same seed gives the same bytes on any thread count.

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

mod base;
mod temporal;
mod text;
mod values;

use base::*;
pub use temporal::temporal;
use temporal::*;
use text::*;
pub use text::{KeyClasses, FRAGMENTS};

/// A piecewise-linear inverse CDF: `points` are (probability, value), probabilities ascending
/// from 0 to 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    pub points: Vec<(f64, f64)>,
}

impl Curve {
    /// From quantiles taken at `at` (e.g. the profile's `QUANTILES`).
    pub fn from_quantiles(at: &[f64], values: &[f64]) -> Option<Curve> {
        if at.len() != values.len() || values.is_empty() || values.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let mut points: Vec<(f64, f64)> = at.iter().copied().zip(values.iter().copied()).collect();
        for i in 1..points.len() {
            if points[i].1 < points[i - 1].1 {
                points[i].1 = points[i - 1].1;
            }
        }
        Some(Curve { points })
    }

    pub fn constant(v: f64) -> Curve {
        Curve {
            points: vec![(0.0, v), (1.0, v)],
        }
    }

    pub fn at(&self, u: f64) -> f64 {
        let p = &self.points;
        if u <= p[0].0 {
            return p[0].1;
        }
        for w in p.windows(2) {
            let ((a, x), (b, y)) = (w[0], w[1]);
            if u <= b {
                return if b > a {
                    x + (y - x) * (u - a) / (b - a)
                } else {
                    y
                };
            }
        }
        p[p.len() - 1].1
    }

    pub fn min(&self) -> f64 {
        self.points[0].1
    }

    pub fn max(&self) -> f64 {
        self.points[self.points.len() - 1].1
    }
}

/// How a temporal value is written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Temporal {
    Date,
    Timestamp,
    TimestampTz,
    Time,
    TimeTz,
    Interval,
}

/// Character-class shares of non-NULL text values (see `snapshot::classes`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Classes {
    pub empty: f64,
    pub ascii: f64,
    pub edge_whitespace: f64,
    /// Fragment and its probability among non-ASCII values.
    pub fragments: Vec<(&'static str, f64)>,
    /// Rows of the table being seeded (0: unknown): with it, each row's classes are chosen
    /// by stratified positions (see [`stratum`]) instead of a random draw, so a class of
    /// share `s` holds `s × rows` of the non-NULL rows to within one, and a share of at least
    /// one row is never rounded to none.
    pub rows: u64,
    /// In a pool of categories, the classes each category holds (each value is one value
    /// however often it is drawn, so its classes are chosen once, by weight; see
    /// [`Classes::for_category`]): bit 0 the empty string, bit 1 edge whitespace, bit `2 + i`
    /// fragment `i`. Empty: no pool.
    pub categories: Categories,
}

/// The classes of a pool's categories: listed per category (a weighted pool, at most the
/// profile's 1,000 categories), or as ranges of categories per class bit (an even pool, which
/// may hold millions).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Categories {
    #[default]
    None,
    Listed(Vec<u32>),
    Ranges(Vec<(u32, std::ops::Range<usize>)>),
}

impl Categories {
    fn bits(&self, k: usize) -> Option<u32> {
        match self {
            Categories::None => None,
            Categories::Listed(v) => v.get(k).copied(),
            Categories::Ranges(r) => Some(
                r.iter()
                    .filter(|(_, range)| range.contains(&k))
                    .fold(0, |acc, (bit, _)| acc | bit),
            ),
        }
    }
}

/// Bits of [`Classes::categories`].
pub const EMPTY_BIT: u32 = 1;
pub const EDGE_BIT: u32 = 2;

impl Classes {
    /// The classes category `k` holds, as shares of 0 or 1 (`None`: the empty string, or no
    /// assignment).
    pub fn for_category(&self, k: usize) -> Option<Result<Classes, ()>> {
        let bits = self.categories.bits(k)?;
        if bits & EMPTY_BIT != 0 {
            return Some(Err(()));
        }
        let fragments: Vec<(&'static str, f64)> = self
            .fragments
            .iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << (2 + i)) != 0)
            .map(|(_, (f, _))| (*f, 1.0))
            .collect();
        Some(Ok(Classes {
            empty: 0.0,
            ascii: if fragments.is_empty() { 1.0 } else { 0.0 },
            edge_whitespace: if bits & EDGE_BIT != 0 { 1.0 } else { 0.0 },
            fragments,
            rows: 0,
            categories: Categories::None,
        }))
    }

    /// As [`Classes::assign`] for `k` categories of equal weight: each class a range of
    /// categories as many as its share (one at least); the fragments one after another (they
    /// overlap only where their shares add up past the non-empty categories), the empty
    /// string first, edge whitespace over the first non-empty ones.
    pub fn assign_even(&self, k: usize) -> Categories {
        let count = |share: f64| ((share * k as f64).round() as usize).clamp(1, k);
        let mut out = Vec::new();
        let mut start = 0;
        if self.empty > 0.0 && (k > 1 || self.empty >= 1.0) {
            let m = if self.empty >= 1.0 {
                k
            } else {
                count(self.empty).min(k - 1)
            };
            out.push((EMPTY_BIT, 0..m));
            start = m;
        }
        let room = k - start;
        let non_ascii = (1.0 - self.empty - self.ascii).max(0.0);
        let mut cursor = 0;
        for (i, (_, p)) in self.fragments.iter().enumerate() {
            let m = count(p * non_ascii).min(room);
            if cursor + m > room {
                cursor = 0;
            }
            out.push((1 << (2 + i), start + cursor..start + cursor + m));
            cursor += m;
        }
        if self.edge_whitespace > 0.0 {
            let m = count(self.edge_whitespace * (1.0 - self.empty)).min(room);
            out.push((EDGE_BIT, start..start + m));
        }
        Categories::Ranges(out)
    }

    /// Which classes each of a pool's categories (weights `weights`) holds, so that each
    /// class's categories weigh about its share of the rows, and every class the shares hold
    /// has a category (the empty string: the category weighing as much as the profile's
    /// empty strings, `empty_weight`, or the nearest).
    pub fn assign(&self, weights: &[f64], empty_weight: Option<f64>) -> Categories {
        let k = weights.len();
        let mut bits = vec![0u32; k];
        let total: f64 = weights.iter().sum();
        if k == 0 || total <= 0.0 {
            return Categories::None;
        }
        let nearest = |need: f64, ok: &dyn Fn(usize) -> bool| {
            (0..k).filter(|i| ok(*i)).min_by(|a, b| {
                (weights[*a] - need)
                    .abs()
                    .total_cmp(&(weights[*b] - need).abs())
                    .then(a.cmp(b))
            })
        };
        // One category may be the empty string only where every value is.
        if self.empty > 0.0 && (k > 1 || self.empty >= 1.0) {
            let need = empty_weight.unwrap_or(self.empty * total);
            if let Some(i) = nearest(need, &|_| true) {
                bits[i] |= EMPTY_BIT;
            }
        }
        let non_ascii = (1.0 - self.empty - self.ascii).max(0.0);
        let mut wanted: Vec<(u32, f64)> = self
            .fragments
            .iter()
            .enumerate()
            .map(|(i, (_, p))| (1u32 << (2 + i), p * non_ascii))
            .collect();
        // The rarest first: they need the light categories.
        wanted.sort_by(|a, b| a.1.total_cmp(&b.1));
        wanted.push((EDGE_BIT, self.edge_whitespace * (1.0 - self.empty)));
        let fragment_mask = !(EMPTY_BIT | EDGE_BIT);
        for (bit, share) in wanted {
            if share <= 0.0 {
                continue;
            }
            let mut need = share * total;
            let mut picked = 0;
            loop {
                let free = |i: usize| {
                    bits[i] & (EMPTY_BIT | bit) == 0
                        && (bit == EDGE_BIT || bits[i] & fragment_mask == 0)
                };
                let any = |i: usize| bits[i] & (EMPTY_BIT | bit) == 0;
                let Some(i) = nearest(need, &free).or_else(|| nearest(need, &any)) else {
                    break;
                };
                if picked > 0 && weights[i] > 2.0 * need {
                    break;
                }
                bits[i] |= bit;
                need -= weights[i];
                picked += 1;
                if need <= 0.0 {
                    break;
                }
            }
        }
        Categories::Listed(bits)
    }
}

/// Position `j` of `n` stratified positions in [0, 1) for stream `stream`: a permutation of
/// the points (i + 0.5) / n (multiplier `k`, coprime with `n`, from [`coprime_step`]), so
/// every interval of width `w` holds `floor(n w)` or `ceil(n w)` of the `n` positions, and at
/// least one when `w >= 1 / n`.
pub fn stratum(j: u64, n: u64, k: u64, stream: u64) -> f64 {
    if n == 0 {
        return 0.5;
    }
    let off = stream.wrapping_mul(0x9E37_79B9_7F4A_7C15) % n;
    // In 64 bits below 2^32 positions (j, k < n: the product fits), else in 128.
    let i = if n <= u64::from(u32::MAX) {
        (j % n * k + off) % n
    } else {
        ((j as u128 * k as u128 + off as u128) % n as u128) as u64
    };
    (i as f64 + 0.5) / n as f64
}

/// A multiplier coprime with `n` near `n` times the golden ratio's fraction (neighbouring
/// rows land far apart), for [`stratum`].
pub fn coprime_step(n: u64) -> u64 {
    fn gcd(mut a: u64, mut b: u64) -> u64 {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    }
    if n <= 2 {
        return 1;
    }
    let mut k = ((n as f64 * 0.618_033_988_75) as u64).max(1);
    while gcd(k, n) != 1 {
        k += 1;
    }
    k
}

/// What a column's values are drawn from.
#[derive(Debug, Clone, PartialEq)]
pub enum Base {
    Number {
        curve: Curve,
        int: bool,
        /// Digits after the decimal point (numeric(p, s)); `None`: as computed.
        scale: Option<u32>,
        lo: f64,
        hi: f64,
    },
    Temporal {
        curve: Curve,
        kind: Temporal,
    },
    Text {
        /// Length in characters.
        len: Curve,
        classes: Classes,
        max_chars: Option<usize>,
        /// Words to compose the ASCII part from, with cumulative weights (profiles with the
        /// raw-values opt-in only); else random letters.
        words: Option<(Vec<String>, Vec<f64>)>,
    },
    /// A fixed list drawn with weights: booleans, enum labels, raw categories, IN-list checks.
    Labels {
        labels: Vec<String>,
        cum: Vec<f64>,
    },
    Json {
        keys: Vec<(String, f64)>,
        nested: f64,
    },
    Array {
        elem: Box<Base>,
        len: Curve,
    },
    Bytea {
        len: Curve,
    },
    Uuid,
    /// A type without a profile-driven generator: a value of its shape per drawn number, of
    /// the profile's text length where the type can grow.
    Literal {
        lit: super::literal::Lit,
        len: Option<Curve>,
    },
    /// Text a CHECK's regular expression accepts.
    Pattern(super::pattern::Pattern),
    /// A list partition key: the partitions' values with their partitions' shares of the rows,
    /// and for the last share (a default partition) the column's own generator.
    Routed {
        labels: Vec<String>,
        cum: Vec<f64>,
        other: Option<Box<Base>>,
    },
}

/// Values drawn per row, optionally from a pool of categories.
#[derive(Debug, Clone, PartialEq)]
pub struct Values {
    pub base: Base,
    pub null_rate: f64,
    /// Categories: category `k`'s value is drawn with a stream seeded by `k`, so it is the
    /// same value every time.
    pub pool: Option<Pool>,
    /// Values the profile counted that no curve draws (`NaN`, `Infinity`, zero, the nil
    /// UUID, a JSON array or scalar), each at its share of the rows: placed by stratified
    /// positions over the rows past the extremes (see [`Reserved`]).
    pub reserved: Option<Reserved>,
    /// Values in the order of the rows (production's pg_stats correlation 0.5 or more from
    /// its physical order, or -0.5 or less): row `i` of `rows` takes the curve's (or the
    /// labels') position `(i + 0.5) / rows`, from the other end when descending, so the seed's
    /// physical order correlates as production's (a time column in insertion order, a status
    /// that moves on as rows age).
    pub ordered: Option<Ordered>,
    /// Shares per leaf partition, where production's move from leaf to leaf (see [`ByLeaf`]).
    pub by_leaf: Option<Box<ByLeaf>>,
}

/// Which leaf partition a row of a range-partitioned table lands in: the partition key's
/// value at the row (see [`KeyAt`]) against the leaves' bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaves {
    pub at: KeyAt,
    /// `[lo, hi)` and the leaf, for each leaf with bounds, by `lo`.
    pub ranges: Vec<(f64, f64, usize)>,
    /// The default partition: a value in no range.
    pub default: Option<usize>,
}

/// A partition key's value at a row, where it is a function of the row alone.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyAt {
    /// Values seeded in row order (as [`Values::write_row`] places them: the curve's ends at
    /// rows 0 and 1, else the row's position).
    Curve { curve: Curve, ordered: Ordered },
    /// Few values in row order (a date of few days: labels, see [`Values::write_row`]): each
    /// value once in the first rows (`covering`), then the labels' value at the row's
    /// position.
    Steps {
        values: Vec<f64>,
        cum: Vec<f64>,
        ordered: Ordered,
    },
    /// A key: `base + step × index`, the index the row (through its permutation, see
    /// `Gen::Key`) over `div`.
    Linear {
        base: f64,
        step: f64,
        div: u64,
        scatter: Option<(u64, u64, u64)>,
    },
}

impl KeyAt {
    pub fn value(&self, row: u64) -> f64 {
        match self {
            KeyAt::Curve { curve, ordered } => curve.at(match row {
                0 => 0.0,
                1 => 1.0,
                r => ordered.position(r),
            }),
            KeyAt::Steps {
                values,
                cum,
                ordered,
            } => {
                let k = values::covering(row, values.len())
                    .unwrap_or_else(|| pick(cum, ordered.position(row)));
                values[k.min(values.len().saturating_sub(1))]
            }
            KeyAt::Linear {
                base,
                step,
                div,
                scatter,
            } => base + step * (scattered(row, *scatter) / (*div).max(1)) as f64,
        }
    }
}

/// Row `row` through a key's permutation `(a, b, n)`: `(a·row + b) mod n` (see `Gen::Key`).
pub fn scattered(row: u64, scatter: Option<(u64, u64, u64)>) -> u64 {
    match scatter {
        Some((a, b, n)) if n > 0 && row < n => {
            ((a as u128 * row as u128 + b as u128) % n as u128) as u64
        }
        _ => row,
    }
}

impl Leaves {
    pub fn leaf(&self, row: u64) -> Option<usize> {
        let x = self.at.value(row);
        let i = self.ranges.partition_point(|r| r.0 <= x);
        match i.checked_sub(1).map(|i| self.ranges[i]) {
            Some((_, hi, leaf)) if x < hi => Some(leaf),
            _ => self.default,
        }
    }
}

/// A column whose shares move from leaf partition to leaf partition in production (a status
/// that moves on with the month a table is partitioned by): per leaf, cumulative weights
/// over the column's labels or its pool's categories (`None`: a leaf the profile did not
/// count, drawn as the whole table), so each partition's own statistics are production's.
#[derive(Debug, Clone, PartialEq)]
pub struct ByLeaf {
    pub leaves: std::sync::Arc<Leaves>,
    pub cums: Vec<Option<Vec<f64>>>,
}

impl ByLeaf {
    /// The label or category row `row` takes at `u` (uniform in [0, 1)), by its leaf's shares.
    pub fn pick(&self, row: u64, u: f64) -> Option<usize> {
        let cum = self.cums.get(self.leaves.leaf(row)?)?.as_ref()?;
        (cum.last().copied().unwrap_or(0.0) > 0.0).then(|| pick(cum, u))
    }
}

/// See [`Values::ordered`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ordered {
    pub rows: u64,
    pub descending: bool,
}

impl Ordered {
    /// Row `row`'s position in [0, 1).
    pub fn position(&self, row: u64) -> f64 {
        let u = (row as f64 + 0.5) / self.rows.max(1) as f64;
        if self.descending { 1.0 - u } else { u }.clamp(0.0, 1.0 - 1e-12)
    }
}

/// Values kept at their shares of a table's rows, by [`stratum`] over its non-NULL rows past
/// rows 0 and 1 (the extremes).
#[derive(Debug, Clone, PartialEq)]
pub struct Reserved {
    /// Rows of the seeded table.
    pub rows: u64,
    /// COPY text and its share of the non-NULL rows, in order (cumulative bands).
    pub values: Vec<(String, f64)>,
}

/// A column's categories and how often each is drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum Pool {
    /// Cumulative weights (the profile's value counts).
    Weighted(Vec<f64>),
    /// This many categories of equal weight (a pool sized by the distinct ratio): picked in
    /// constant time, where a search of 200,000 cumulative weights missed the cache at every
    /// step.
    Uniform(usize),
    /// A column whose values are mostly distinct but some repeat (the profile's frequent
    /// values, cumulative weights): a share of the rows takes those, the rest are drawn fresh.
    Mixed { cum: Vec<f64>, share: f64 },
}

impl Pool {
    pub fn len(&self) -> usize {
        match self {
            Pool::Weighted(cum) | Pool::Mixed { cum, .. } => cum.len(),
            Pool::Uniform(k) => *k,
        }
    }

    /// Where category `k` of `n` sits on its base's curve (0 to 1), by weight (the middle of
    /// each one's share), so lengths keep their quantiles however the rows are shared out:
    /// a weighted pool's stretched so its first and last categories take the curve's ends
    /// (the extremes are seeded; equal weights: spread evenly); a mixed pool's as they fall.
    pub fn position(&self, k: usize, n: usize) -> f64 {
        let middle = |cum: &[f64], k: usize| {
            let total = cum.last().copied().unwrap_or(1.0).max(1e-12);
            let before = if k == 0 { 0.0 } else { cum[k - 1] };
            (before + (cum[k] - before) / 2.0) / total
        };
        match self {
            Pool::Mixed { cum, .. } => middle(cum, k),
            _ if n <= 1 => 0.5,
            Pool::Weighted(cum) if cum.len() == n => {
                let (lo, hi) = (middle(cum, 0), middle(cum, n - 1));
                if hi - lo > 1e-12 {
                    ((middle(cum, k) - lo) / (hi - lo)).clamp(0.0, 1.0)
                } else {
                    k as f64 / (n - 1) as f64
                }
            }
            _ => k as f64 / (n - 1) as f64,
        }
    }

    /// The category `u` picks, or `None` where a mixed pool's row is drawn fresh.
    pub fn choose(&self, u: f64) -> Option<usize> {
        match self {
            Pool::Mixed { cum, share } => (u < *share).then(|| pick(cum, u / share)),
            _ => Some(self.pick(u)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The category `u` (uniform in [0, 1)) picks: for equal weights the one [`pick`] finds
    /// in the weights 1, 2, ... k.
    pub fn pick(&self, u: f64) -> usize {
        match self {
            Pool::Weighted(cum) | Pool::Mixed { cum, .. } => pick(cum, u),
            Pool::Uniform(k) => {
                ((u * *k as f64).floor().max(0.0) as usize).min(k.saturating_sub(1))
            }
        }
    }
}

/// Categories' values already drawn for one chunk of one column, as COPY text: a category's
/// value is the same every time, so it is drawn (a stream seeded and run) once per chunk.
/// Held for pools of at most [`DRAWN_CAP`] categories (a larger pool's categories seldom
/// repeat within a chunk).
#[derive(Default)]
pub struct Drawn(
    Vec<Option<Box<[u8]>>>,
    Option<(u64, u64)>,
    Option<(u64, u64)>,
);

const DRAWN_CAP: usize = 4096;

pub fn rng_for(parts: &[u64]) -> ChaCha8Rng {
    let mut h: u64 = 0x9E37_79B9_7F4A_7C15;
    for p in parts {
        h ^= p
            .wrapping_add(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(h << 6)
            .wrapping_add(h >> 2);
        h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    }
    ChaCha8Rng::seed_from_u64(h)
}

/// A stable 64-bit number for a name (table, column).
pub fn name_id(s: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = siphasher::sip::SipHasher13::new_with_keys(0x7365_6564, 0x6e61_6d65);
    h.write(s.as_bytes());
    h.finish()
}

/// Picks an index from cumulative weights.
pub fn pick(cum: &[f64], u: f64) -> usize {
    let total = cum.last().copied().unwrap_or(0.0);
    let x = u * total;
    cum.partition_point(|&c| c <= x)
        .min(cum.len().saturating_sub(1))
}

/// Appends `s` escaped for COPY's text format.
pub fn push_escaped(out: &mut Vec<u8>, s: &str) {
    if !s
        .bytes()
        .any(|b| matches!(b, b'\\' | b'\n' | b'\r' | b'\t'))
    {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    for &b in s.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows land in the leaf whose bounds hold their key (a key numbered from 0 by 10, or a
    /// curve in row order), past every range in the default partition, and draw by its shares.
    #[test]
    fn rows_land_in_their_leaf_and_draw_its_shares() {
        let ranges: Vec<(f64, f64, usize)> = vec![(500.0, 1000.0, 1), (0.0, 500.0, 0)];
        let mut sorted = ranges.clone();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let keyed = Leaves {
            at: KeyAt::Linear {
                base: 0.0,
                step: 10.0,
                div: 1,
                scatter: None,
            },
            ranges: sorted.clone(),
            default: Some(2),
        };
        let leaves: Vec<Option<usize>> = [0, 49, 50, 99, 100, 500].map(|r| keyed.leaf(r)).into();
        assert_eq!(
            leaves,
            [Some(0), Some(0), Some(1), Some(1), Some(2), Some(2)]
        );
        let curve = Leaves {
            at: KeyAt::Curve {
                curve: Curve::from_quantiles(&[0.0, 1.0], &[0.0, 1500.0]).unwrap(),
                ordered: Ordered {
                    rows: 300,
                    descending: false,
                },
            },
            ranges: sorted,
            default: None,
        };
        // Row 1 is the curve's maximum (past every range, and no default); row 2 the start.
        assert_eq!(
            (curve.leaf(0), curve.leaf(1), curve.leaf(2)),
            (Some(0), None, Some(0))
        );
        assert_eq!(curve.leaf(150), Some(1));
        let by = ByLeaf {
            leaves: std::sync::Arc::new(keyed),
            cums: vec![Some(vec![1.0, 1.0]), Some(vec![0.0, 1.0]), None],
        };
        assert_eq!(
            (by.pick(10, 0.99), by.pick(60, 0.01), by.pick(200, 0.5)),
            (Some(0), Some(1), None)
        );
    }

    #[test]
    fn curves_fragments_and_escaping() {
        let c = Curve::from_quantiles(&[0.0, 0.5, 1.0], &[10.0, 20.0, 40.0]).unwrap();
        assert_eq!(
            (c.at(0.0), c.at(0.25), c.at(0.75), c.at(1.0)),
            (10.0, 15.0, 30.0, 40.0)
        );
        for (class, f) in FRAGMENTS {
            let m = crate::snapshot::classes::classify(&format!("ab{f}cd"));
            let bit = crate::snapshot::classes::CLASSES
                .iter()
                .position(|c| *c == class)
                .unwrap();
            assert!(m & (1 << bit) != 0, "{class}");
        }
        let mut out = Vec::new();
        push_escaped(&mut out, "a\\b\tc\nd");
        assert_eq!(out, b"a\\\\b\\tc\\nd");
        assert_eq!(
            super::super::literal::uuid(0, 0),
            "00000000-0000-4000-8000-000000000000"
        );
        assert_eq!(temporal(86400.0 * 365.0, Temporal::Date), "1971-01-01");
        assert_eq!(temporal(3661.5, Temporal::Time), "01:01:01.500000");
    }

    #[test]
    fn fast_paths_write_what_the_general_ones_wrote() {
        // Times written digit by digit equal chrono's format strings, years 1 to 9999 and
        // beyond (chrono's path), fractions and negative seconds included.
        let kinds = [
            Temporal::Date,
            Temporal::Timestamp,
            Temporal::TimestampTz,
            Temporal::Time,
            Temporal::TimeTz,
            Temporal::Interval,
        ];
        let mut r = rng_for(&[7]);
        let mut secs: Vec<f64> = vec![
            0.0,
            -0.5,
            86_399.999_999_7,
            -62_135_596_800.0,
            -62_135_596_801.0,
        ];
        secs.push(253_402_300_799.999_999); // 9999-12-31 23:59:59.999999
        secs.push(253_402_300_800.0); // year 10000
        secs.push(-70_000_000_000.0); // before year 1
        for _ in 0..20_000 {
            secs.push((r.random::<f64>() - 0.5) * 2e11);
            secs.push(r.random::<f64>() * 86_400.0);
        }
        for s in &secs {
            for k in kinds {
                assert_eq!(temporal(*s, k), temporal_by_chrono(*s, k), "{s} {k:?}");
            }
        }
        // A uniform pool picks what a search of the weights 1, 2, ... k picks.
        for k in [1usize, 2, 3, 10, 1000, 200_000] {
            let cum: Vec<f64> = (1..=k).map(|x| x as f64).collect();
            for u in (0..2000)
                .map(|_| r.random::<f64>())
                .chain([0.0, 0.5, 1.0 - f64::EPSILON])
            {
                assert_eq!(Pool::Uniform(k).pick(u), pick(&cum, u), "k {k} u {u}");
            }
        }
        // A category's value written in place is its drawn text.
        let num = Values {
            base: Base::Number {
                curve: Curve::from_quantiles(&[0.0, 1.0], &[-5.0, 1e6]).unwrap(),
                int: false,
                scale: Some(3),
                lo: -5.0,
                hi: 1e6,
            },
            null_rate: 0.0,
            pool: Some(Pool::Uniform(5000)),
            reserved: None,
            ordered: None,
            by_leaf: None,
        };
        for k in [0usize, 1, 17, 4095, 4999] {
            let mut out = Vec::new();
            num.category(9, k, 5000, &mut out, &mut Drawn::default());
            assert_eq!(
                String::from_utf8(out).unwrap(),
                num.base
                    .draw(&mut rng_for(&[9, k as u64]), Some(k as f64 / 4999.0))
            );
        }
        // A value drawn without a category writes what its text was.
        let bases = [
            Base::Number {
                curve: Curve::from_quantiles(&[0.0, 1.0], &[-5.0, 1e6]).unwrap(),
                int: true,
                scale: None,
                lo: -5.0,
                hi: 1e6,
            },
            Base::Number {
                curve: Curve::from_quantiles(&[0.0, 1.0], &[-5.0, 1e6]).unwrap(),
                int: false,
                scale: Some(2),
                lo: -5.0,
                hi: 1e6,
            },
            Base::Number {
                curve: Curve::from_quantiles(&[0.0, 1.0], &[-5.0, 1e6]).unwrap(),
                int: false,
                scale: None,
                lo: 0.0,
                hi: 10.0,
            },
            Base::Temporal {
                curve: Curve::from_quantiles(&[0.0, 1.0], &[0.0, 2e9]).unwrap(),
                kind: Temporal::TimestampTz,
            },
            Base::Uuid,
        ];
        for b in &bases {
            let (mut r1, mut r2) = (rng_for(&[1]), rng_for(&[1]));
            for _ in 0..1000 {
                let mut out = Vec::new();
                b.write_drawn(&mut r1, &mut out);
                assert_eq!(String::from_utf8(out).unwrap(), b.draw(&mut r2, None));
            }
        }
    }

    #[test]
    fn same_stream_same_text() {
        let classes = Classes {
            empty: 0.1,
            ascii: 0.5,
            edge_whitespace: 0.05,
            fragments: FRAGMENTS.iter().map(|(_, f)| (*f, 0.3)).collect(),
            rows: 0,
            categories: Categories::None,
        };
        let len = Curve::from_quantiles(&[0.0, 1.0], &[1.0, 30.0]).unwrap();
        let draw = || {
            let mut r = rng_for(&[1, 2, 3]);
            (0..200)
                .map(|_| text(&mut r, &len, &classes, Some(20), None, None, None))
                .collect::<Vec<_>>()
        };
        let (a, b) = (draw(), draw());
        assert_eq!(a, b);
        assert!(a
            .iter()
            .all(|s| s.chars().count() <= 20 && !s.contains('\0')));
        assert!(a.iter().any(|s| s.is_empty()) && a.iter().any(|s| !s.is_ascii()));
    }
}
