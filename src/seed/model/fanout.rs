//! Foreign keys: a degree sequence built from the profile's fan-out quantiles (stratified,
//! with the maximum placed exactly), so the fan-out histogram and its tail match by
//! construction; child rows assigned to parents through it.

use super::*;

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
    /// (and the NULL rows, at exactly the profile's rate) are spread over the rows by an
    /// affine permutation.
    pub contiguous: bool,
    pub null_rate: f64,
    pub perm: (u64, u64),
}

impl FkModel {
    pub(super) fn total(&self) -> u64 {
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
            // The permuted row: past the non-NULL rows' count it is NULL (exactly the
            // profile's rate, scattered), else a child position.
            let n = rows.max(1);
            let filled = ((n as f64 * (1.0 - self.null_rate)).round() as u64).clamp(1, n);
            let p = ((self.perm.0 as u128 * row as u128 + self.perm.1 as u128) % n as u128) as u64;
            if p >= filled {
                return None;
            }
            (p as u128 * total as u128 / filled as u128) as u64
        };
        Some(self.cum.partition_point(|&c| c <= pos) as u64)
    }

    /// First child position of parent row `j`.
    pub(super) fn start(&self, j: u64) -> u64 {
        if j == 0 {
            0
        } else {
            self.cum[j as usize - 1]
        }
    }
}

/// Children per parent for `p` parents from a relationship's fan-out profile: stratified
/// (the quantiles hold by construction), shuffled by an affine permutation, the maximum placed.
pub(super) fn degrees(
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
    // `scale` < 1 only where the quantiles, joined by straight lines, hold more children than
    // the source has (a heavy tail between two quantiles): the degrees between them shrink.
    let draw = |low: f64, scale: f64| {
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
                (c.at(u) * scale).round().max(1.0) as u64
            };
        }
        out
    };
    let median = rel.fanout[0].max(1.0);
    let Some(mean) = mean else {
        return draw(1.0, 1.0);
    };
    let want = mean * p as f64;
    let sum = |d: Vec<u64>| d.iter().sum::<u64>() as f64;
    let d = if sum(draw(1.0, 1.0)) > want {
        let (mut lo, mut hi) = (0.0, 1.0);
        for _ in 0..30 {
            let mid = (lo + hi) / 2.0;
            if sum(draw(1.0, mid)) < want {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        draw(1.0, hi)
    } else {
        let (mut lo, mut hi) = (1.0, median);
        for _ in 0..30 {
            let mid = (lo + hi) / 2.0;
            if sum(draw(mid, 1.0)) < want {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        draw(hi, 1.0)
    };
    let top = (0..p).find(|&j| {
        ((a as u128 * j as u128 + (salt % p as u64) as u128) % p as u128) as usize == p - 1
    });
    settle(d, want.round() as u64, top)
}

/// Degrees brought to sum to `want` exactly (the source's children): where the curve cannot
/// reach it (its lowest degree at the median still short, or rounding), the parents with
/// children, all but the largest (`top`), take one more (the smallest first: below the median
/// the shape is the least known) or one fewer (the largest first: an over-count comes from the
/// tail), never below one.
fn settle(mut d: Vec<u64>, want: u64, top: Option<usize>) -> Vec<u64> {
    let mut sum: u64 = d.iter().sum();
    let mut order: Vec<usize> = (0..d.len())
        .filter(|&j| d[j] > 0 && Some(j) != top)
        .collect();
    if sum < want {
        order.sort_by_key(|&j| d[j]);
    } else {
        order.sort_by_key(|&j| std::cmp::Reverse(d[j]));
    }
    while sum != want && !order.is_empty() {
        let before = sum;
        for &j in &order {
            if sum < want {
                d[j] += 1;
                sum += 1;
            } else if sum > want && d[j] > 1 {
                d[j] -= 1;
                sum -= 1;
            }
            if sum == want {
                break;
            }
        }
        if sum == before {
            break;
        }
    }
    d
}

/// Children per parent in the source: every child over every parent row.
pub(super) fn mean_children(
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
pub(super) fn coprime(n: u64, salt: u64) -> u64 {
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
