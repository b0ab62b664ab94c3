//! A seeded reservoir (Li's Algorithm L with splitmix64) for quantiles: the same rows give the
//! same sample, and once full it draws random numbers only at the rows it keeps.

use super::*;

/// A seeded reservoir (Li's Algorithm L with splitmix64): the same rows give the same sample,
/// and once full it draws random numbers only at the rows it keeps, not at every row.
#[derive(Debug, Clone)]
pub struct Reservoir {
    pub(super) values: Vec<f64>,
    pub(super) seen: u64,
    pub(super) state: u64,
    /// Row number (1-based) of the next value to keep once full, and Algorithm L's W.
    pub(super) next_keep: u64,
    pub(super) w: f64,
}

impl Reservoir {
    pub fn new(seed: u64) -> Reservoir {
        Reservoir {
            values: Vec::new(),
            seen: 0,
            state: seed,
            next_keep: 0,
            w: 1.0,
        }
    }

    pub(super) fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    pub(super) fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    pub(super) fn schedule(&mut self) {
        let k = RESERVOIR as f64;
        self.w *= (self.unit().ln() / k).exp();
        let skip = (self.unit().ln() / (1.0 - self.w).ln()).floor();
        self.next_keep = self.seen
            + 1
            + if skip.is_finite() {
                skip as u64
            } else {
                u64::MAX / 2
            };
    }

    /// Once full, most values are only counted: that path is inlined into the measuring loop,
    /// the rest is not.
    #[inline]
    pub fn push(&mut self, v: f64) {
        self.seen += 1;
        if self.values.len() < RESERVOIR || self.seen == self.next_keep {
            self.keep(v);
        }
    }

    #[inline(never)]
    pub(super) fn keep(&mut self, v: f64) {
        if self.values.len() < RESERVOIR {
            self.values.push(v);
            if self.values.len() == RESERVOIR {
                self.schedule();
            }
        } else {
            let slot = (self.next() % RESERVOIR as u64) as usize;
            self.values[slot] = v;
            self.schedule();
        }
    }

    /// Takes in `other`, a reservoir over rows that follow this one's (the next block range
    /// of the same table): while both hold every value they saw, the result holds them all, in
    /// order, as one reservoir over all the rows would; past that, a uniform sample of both
    /// (each side's share of the slots follows its share of the rows, the slots drawn with this
    /// reservoir's seeded generator: the same inputs give the same sample).
    pub fn merge(&mut self, mut other: Reservoir) {
        let seen = self.seen + other.seen;
        if self.values.len() as u64 == self.seen
            && other.values.len() as u64 == other.seen
            && (seen as usize) <= RESERVOIR
        {
            self.values.append(&mut other.values);
            self.seen = seen;
            if self.values.len() == RESERVOIR {
                self.schedule();
            }
            return;
        }
        let total = (self.values.len() + other.values.len()).min(RESERVOIR);
        let mine = ((total as f64 * self.seen as f64 / seen.max(1) as f64).round() as usize).clamp(
            total.saturating_sub(other.values.len()),
            self.values.len().min(total),
        );
        let pick = |values: &mut Vec<f64>, n: usize, rng: &mut Reservoir| {
            // A partial Fisher–Yates shuffle: the first n are a uniform choice of the values.
            for i in 0..n {
                let j = i + (rng.next() % (values.len() - i) as u64) as usize;
                values.swap(i, j);
            }
            values.truncate(n);
        };
        let mut theirs = std::mem::take(&mut other.values);
        let mut rng = Reservoir::new(self.state ^ other.state);
        pick(&mut self.values, mine, &mut rng);
        pick(&mut theirs, total - mine, &mut rng);
        self.values.append(&mut theirs);
        self.seen = seen;
        // Full: further values (none are pushed after a merge today) replace at random.
        if self.values.len() == RESERVOIR {
            self.schedule();
        }
    }

    /// Quantiles at `QUANTILES` (nearest rank); empty when nothing was seen.
    pub fn quantiles(&mut self, at: &[f64]) -> Vec<f64> {
        if self.values.is_empty() {
            return Vec::new();
        }
        self.values.sort_by(|a, b| a.total_cmp(b));
        let n = self.values.len();
        at.iter()
            .map(|q| self.values[((q * (n - 1) as f64).round() as usize).min(n - 1)])
            .collect()
    }
}
