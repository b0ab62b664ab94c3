//! Per-column accumulators: one pass over the rows read, bounded memory whatever the table
//! size (a capped hash-count map that hands over to HyperLogLog, seeded reservoirs for
//! quantiles), deterministic for the same rows in the same order.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hasher;

use datasketches::common::NumStdDev;
use datasketches::hll::{HllSketch, HllType, HllUnion};
use siphasher::sip::SipHasher13;

use crate::snapshot::classes::{classify, CLASSES};
use crate::snapshot::measure::Kind;
use crate::snapshot::{ColumnProfile, Estimate, TopValue, QUANTILES};

/// Distinct words counted per text column (raw-values opt-in only), and how many are kept.
const WORDS_CAP: usize = 20_000;
const WORDS_KEPT: usize = 500;

/// Distinct values counted exactly up to this many, then by HyperLogLog.
const EXACT_DISTINCT_CAP: usize = 100_000;
/// Past the cap, only the most frequent values seen so far keep being counted: a small map
/// stays in cache, where probing a large one for every row would not.
const KEEP_AFTER_CAP: usize = 1_024;
/// Values kept for quantiles.
const RESERVOIR: usize = 50_000;
/// A column with at most this many distinct values is categorical: all of them are kept.
const CATEGORICAL_MAX: usize = 1_000;
const TOP: usize = 20;

/// A seeded reservoir (Li's Algorithm L with splitmix64): the same rows give the same sample,
/// and once full it draws random numbers only at the rows it keeps, not at every row.
#[derive(Debug, Clone)]
pub struct Reservoir {
    values: Vec<f64>,
    seen: u64,
    state: u64,
    /// Row number (1-based) of the next value to keep once full, and Algorithm L's W.
    next_keep: u64,
    w: f64,
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

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn schedule(&mut self) {
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
    fn keep(&mut self, v: f64) {
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

pub struct ColumnAcc {
    pub kind: Kind,
    key: (u64, u64),
    raw_values: bool,
    rows: u64,
    nulls: u64,
    counts: Counts,
    capped: bool,
    hll: Option<HllSketch>,
    raw: HashMap<u64, String>,
    min: f64,
    max: f64,
    numbers: Reservoir,
    len_bytes: Reservoir,
    len_chars: Reservoir,
    classes: [u64; CLASSES.len()],
    labels: BTreeMap<String, u64>,
    json_keys: HashMap<String, u64>,
    json_depth: Reservoir,
    array_len: Reservoir,
    /// Text with the raw-values opt-in: word → values holding it (capped).
    words: HashMap<String, u64>,
    /// Values over the long-value limit, measured from their lengths and ends.
    long_values: u64,
    /// Distinct values to make room for once a column shows it has more than a few.
    room: usize,
}

/// A column with more distinct values than this gets its count map sized at once for the
/// rows expected (up to `ROOM_MAX`) instead of growing by doubling from 4: on thousands of
/// small tables the rehashing was a tenth of the client's CPU.
const ROOM_AFTER: usize = 64;
const ROOM_MAX: usize = 16_384;

/// Starts what the server sends in place of a value over `profile::LONG_VALUE` bytes:
/// `MARKER bytes:chars:first 2 KB + last 2 KB`.
pub const LONG_MARKER: &str = "\u{1}pgparity-long:";

/// A long value's (bytes, characters, ends) from its marker text.
fn long_value(v: &str) -> Option<(f64, f64, &str)> {
    let rest = v.strip_prefix(LONG_MARKER)?;
    let (bytes, rest) = rest.split_once(':')?;
    let (chars, ends) = rest.split_once(':')?;
    Some((bytes.parse().ok()?, chars.parse().ok()?, ends))
}

/// A number, or a date or timestamp in ISO style (sessions run with DateStyle ISO and
/// TimeZone UTC) as seconds since 1970. Parsed by hand: this runs for every value.
fn number(v: &str) -> Option<f64> {
    let b = v.as_bytes();
    if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' {
        let digits = |r: std::ops::Range<usize>| -> Option<i64> {
            b.get(r)?.iter().try_fold(0i64, |acc, &c| {
                c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as i64)
            })
        };
        let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
        let mut secs = days_from_civil(y, m, d) as f64 * 86400.0;
        if b.len() >= 19 && b[10] == b' ' && b[13] == b':' && b[16] == b':' {
            secs += (digits(11..13)? * 3600 + digits(14..16)? * 60 + digits(17..19)?) as f64;
            if b.get(19) == Some(&b'.') {
                let end = b[20..]
                    .iter()
                    .position(|c| !c.is_ascii_digit())
                    .map_or(b.len(), |p| p + 20);
                if end > 20 {
                    secs += digits(20..end)? as f64 / 10f64.powi((end - 20) as i32);
                }
            }
        }
        return Some(secs);
    }
    plain_decimal(b).or_else(|| v.trim().parse::<f64>().ok())
}

/// A plain decimal (`-123.45`: a sign, at most 15 digits, a point) as the float the standard
/// parser gives, without its generality: both the digits as an integer and the power of ten
/// are exact floats, so one division rounds correctly (Clinger's fast path). Most numbers
/// a profile meets are these; anything else (exponents, `NaN`, long digits) returns `None`.
fn plain_decimal(b: &[u8]) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let (negative, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    let (mut mantissa, mut count, mut fraction, mut point) = (0u64, 0usize, 0usize, false);
    for &c in digits {
        match c {
            b'0'..=b'9' if count < 15 => {
                mantissa = mantissa * 10 + u64::from(c - b'0');
                count += 1;
                fraction += usize::from(point);
            }
            b'.' if !point => point = true,
            _ => return None,
        }
    }
    if count == 0 || (point && fraction == 0) {
        return None;
    }
    let x = mantissa as f64 / POW10[fraction];
    Some(if negative { -x } else { x })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Value hashes are already uniform: the count map uses them as they are.
#[derive(Default, Clone, Copy)]
struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ *b as u64;
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Counts = HashMap<u64, u64, std::hash::BuildHasherDefault<IdentityHasher>>;

fn json_depth(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Array(a) => 1 + a.iter().map(json_depth).max().unwrap_or(0),
        serde_json::Value::Object(o) => 1 + o.values().map(json_depth).max().unwrap_or(0),
        _ => 0,
    }
}

impl ColumnAcc {
    pub fn new(kind: Kind, key: (u64, u64), seed: u64, raw_values: bool) -> ColumnAcc {
        ColumnAcc {
            kind,
            key,
            raw_values,
            rows: 0,
            nulls: 0,
            counts: Counts::default(),
            capped: false,
            hll: None,
            raw: HashMap::new(),
            words: HashMap::new(),
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            numbers: Reservoir::new(seed),
            len_bytes: Reservoir::new(seed ^ 1),
            len_chars: Reservoir::new(seed ^ 2),
            classes: [0; CLASSES.len()],
            labels: BTreeMap::new(),
            json_keys: HashMap::new(),
            json_depth: Reservoir::new(seed ^ 3),
            array_len: Reservoir::new(seed ^ 4),
            long_values: 0,
            room: 0,
        }
    }

    /// Expects about `rows` values (from the statistics): sizes the count map once a column
    /// proves to have many distinct values. Changes no result.
    pub fn expecting(mut self, rows: u64) -> ColumnAcc {
        self.room = (rows as usize).min(ROOM_MAX);
        self
    }

    fn hash(&self, bytes: &[u8]) -> u64 {
        let mut h = SipHasher13::new_with_keys(self.key.0, self.key.1);
        h.write(bytes);
        h.finish()
    }

    fn count(&mut self, h: u64, value: &str) {
        if let Some(c) = self.counts.get_mut(&h) {
            *c += 1;
        } else if !self.capped {
            self.counts.insert(h, 1);
            if self.counts.len() == ROOM_AFTER && self.room > ROOM_AFTER {
                self.counts.reserve(self.room - ROOM_AFTER);
            }
            if self.raw_values && self.raw.len() < EXACT_DISTINCT_CAP {
                self.raw.insert(h, value.chars().take(200).collect());
            }
            if self.counts.len() > EXACT_DISTINCT_CAP {
                self.cap();
            }
        }
        if let Some(hll) = &mut self.hll {
            hll.update(h);
        }
    }

    /// Hands distinct counting over to HyperLogLog; only the most frequent values known so
    /// far keep being counted.
    fn cap(&mut self) {
        let mut hll = HllSketch::new(14, HllType::Hll8).expect("valid lg_k");
        for k in self.counts.keys() {
            hll.update(*k);
        }
        self.hll = Some(hll);
        self.capped = true;
        self.keep_frequent();
    }

    fn keep_frequent(&mut self) {
        let mut by_count: Vec<(u64, u64)> = self.counts.drain().collect();
        by_count.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        by_count.truncate(KEEP_AFTER_CAP);
        self.counts.extend(by_count);
        let counts = &self.counts;
        self.raw.retain(|k, _| counts.contains_key(k));
    }

    /// Takes in `other`, the same column measured over the rows that follow (the next block
    /// range of the table, read by another session). Everything counted adds up; distinct
    /// values stay exact while both sides counted every value and together stay under the
    /// cap, else their HyperLogLog sketches unite; reservoirs merge as [`Reservoir::merge`].
    /// Below the caps (100,000 distinct values, 50,000 values per reservoir) the result is
    /// the one a single pass over all the rows gives.
    pub fn merge(&mut self, other: ColumnAcc) {
        self.rows += other.rows;
        self.nulls += other.nulls;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.long_values += other.long_values;
        for (a, b) in self.classes.iter_mut().zip(other.classes) {
            *a += b;
        }
        for (k, v) in other.labels {
            *self.labels.entry(k).or_default() += v;
        }
        let add = |into: &mut HashMap<String, u64>, from: HashMap<String, u64>, cap: usize| {
            for (k, v) in from {
                if let Some(c) = into.get_mut(&k) {
                    *c += v;
                } else if into.len() < cap {
                    into.insert(k, v);
                }
            }
        };
        add(&mut self.json_keys, other.json_keys, CATEGORICAL_MAX);
        add(&mut self.words, other.words, WORDS_CAP);
        for (h, v) in other.raw {
            if self.raw.len() < EXACT_DISTINCT_CAP {
                self.raw.entry(h).or_insert(v);
            }
        }
        // Distinct values: a side that capped keeps a sketch; the other side's values join it.
        let sketch = |acc_hll: Option<HllSketch>, counts: &Counts| {
            acc_hll.unwrap_or_else(|| {
                let mut hll = HllSketch::new(14, HllType::Hll8).expect("valid lg_k");
                for k in counts.keys() {
                    hll.update(*k);
                }
                hll
            })
        };
        let capped = self.capped || other.capped;
        let hll = capped.then(|| {
            let mut union = HllUnion::new(14).expect("valid lg_k");
            union.update(&sketch(self.hll.take(), &self.counts));
            union.update(&sketch(other.hll, &other.counts));
            union.to_sketch(HllType::Hll8)
        });
        for (h, c) in other.counts {
            *self.counts.entry(h).or_default() += c;
        }
        if capped {
            self.hll = hll;
            self.capped = true;
            self.keep_frequent();
        } else if self.counts.len() > EXACT_DISTINCT_CAP {
            self.cap();
        }
        self.numbers.merge(other.numbers);
        self.len_bytes.merge(other.len_bytes);
        self.len_chars.merge(other.len_chars);
        self.json_depth.merge(other.json_depth);
        self.array_len.merge(other.array_len);
    }

    /// Measures one batch of the column.
    pub fn update(&mut self, column: &super::copytext::Column) {
        for v in column.iter() {
            self.measure(v);
        }
    }

    fn measure(&mut self, v: Option<&str>) {
        {
            self.rows += 1;
            let Some(v) = v else {
                self.nulls += 1;
                return;
            };
            let v = if self.kind == Kind::Char {
                v.trim_end_matches(' ')
            } else {
                v
            };
            let h = self.hash(v.as_bytes());
            self.count(h, v);
            match self.kind {
                Kind::Number | Kind::Temporal => {
                    if let Some(x) = number(v) {
                        if x.is_finite() {
                            self.min = self.min.min(x);
                            self.max = self.max.max(x);
                            self.numbers.push(x);
                        }
                    }
                }
                Kind::Text | Kind::Char | Kind::Other | Kind::Json if long_value(v).is_some() => {
                    let (bytes, chars, ends) = long_value(v).expect("checked");
                    self.long_values += 1;
                    self.len_bytes.push(bytes);
                    self.len_chars.push(chars);
                    let m = classify(ends);
                    for (i, c) in self.classes.iter_mut().enumerate() {
                        if m & (1 << i) != 0 {
                            *c += 1;
                        }
                    }
                }
                Kind::Text | Kind::Char | Kind::Other => {
                    self.len_bytes.push(v.len() as f64);
                    let chars = if v.is_ascii() {
                        v.len()
                    } else {
                        v.chars().count()
                    };
                    self.len_chars.push(chars as f64);
                    if self.raw_values && self.kind != Kind::Other {
                        for w in v.split_whitespace() {
                            if let Some(c) = self.words.get_mut(w) {
                                *c += 1;
                            } else if self.words.len() < WORDS_CAP {
                                self.words.insert(w.to_string(), 1);
                            }
                        }
                    }
                    let m = classify(v);
                    for (i, c) in self.classes.iter_mut().enumerate() {
                        if m & (1 << i) != 0 {
                            *c += 1;
                        }
                    }
                }
                Kind::Bytea => {
                    if let Some(len) = v.split(':').next().and_then(|l| l.parse::<f64>().ok()) {
                        self.len_bytes.push(len);
                    }
                }
                Kind::Array => {
                    if let Some(len) = v.split(':').next().and_then(|l| l.parse::<f64>().ok()) {
                        self.array_len.push(len);
                    }
                }
                Kind::Boolean | Kind::Enum => {
                    if let Some(c) = self.labels.get_mut(v) {
                        *c += 1;
                    } else {
                        self.labels.insert(v.to_string(), 1);
                    }
                }
                Kind::Json => {
                    if let Ok(j) = serde_json::from_str::<serde_json::Value>(v) {
                        self.json_depth.push(json_depth(&j) as f64);
                        if let serde_json::Value::Object(o) = &j {
                            for k in o.keys() {
                                if let Some(c) = self.json_keys.get_mut(k) {
                                    *c += 1;
                                } else if self.json_keys.len() < CATEGORICAL_MAX {
                                    self.json_keys.insert(k.clone(), 1);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The column's profile; `fraction` is the share of the table the rows read represent
    /// (1.0 when every row was read).
    pub fn finish(mut self, fraction: f64) -> ColumnProfile {
        let non_null = self.rows - self.nulls;
        let seen_distinct = match &self.hll {
            Some(h) => h.estimate(),
            None => self.counts.len() as f64,
        };
        let distinct = if non_null == 0 {
            Estimate {
                value: 0.0,
                lower: 0.0,
                upper: 0.0,
                method: "exact".into(),
            }
        } else if fraction >= 1.0 {
            match &self.hll {
                Some(h) => Estimate {
                    value: h.estimate().round(),
                    lower: h.lower_bound(NumStdDev::Two).floor(),
                    upper: h.upper_bound(NumStdDev::Two).ceil(),
                    method: "hll (2 standard deviations)".into(),
                },
                None => Estimate {
                    value: seen_distinct,
                    lower: seen_distinct,
                    upper: seen_distinct,
                    method: "exact".into(),
                },
            }
        } else {
            // ANALYZE's Duj1 estimator (Haas & Stokes) from the sample's singletons.
            let n = non_null as f64;
            let total = (n / fraction).max(n);
            let d = seen_distinct;
            let f1 = self.counts.values().filter(|c| **c == 1).count() as f64;
            let value = if self.capped {
                // Over 100,000 distinct in the sample (singletons no longer tracked): scale.
                (d / n * total).clamp(d, total)
            } else if f1 >= n {
                total
            } else {
                (n * d / (n - f1 + f1 * n / total)).clamp(d, total)
            };
            // The population is itself estimated from the sample: bound it at three
            // standard deviations of the number of rows sampled.
            let total_upper = (n + 3.0 * n.sqrt()) / fraction;
            Estimate {
                value: value.round(),
                lower: d,
                upper: (total_upper - (n - d)).max(d).round(),
                method: format!("sample of {non_null} values (Duj1)"),
            }
        };
        // Categorical: few values that repeat (at most 20, or on average twice each). Only
        // then is every value kept; otherwise the heavy hitters (values seen more than once),
        // so a snapshot of thousands of key and timestamp columns stays small.
        let seen = self.counts.len();
        let categorical =
            !self.capped && seen <= CATEGORICAL_MAX && (seen <= 20 || 2 * seen as u64 <= non_null);
        let mut top: Vec<(u64, u64)> = self
            .counts
            .iter()
            .filter(|(_, c)| categorical || **c > 1)
            .map(|(h, c)| (*h, *c))
            .collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        top.truncate(if categorical { CATEGORICAL_MAX } else { TOP });
        let top = top
            .into_iter()
            .map(|(h, count)| TopValue {
                hash: crate::snapshot::ValueHash(h),
                count,
                raw: self.raw.get(&h).cloned(),
            })
            .collect();
        let mut classes = BTreeMap::new();
        if matches!(self.kind, Kind::Text | Kind::Char | Kind::Other) {
            // Classes no value has are left out (absent reads as 0).
            for (i, c) in self.classes.iter().enumerate().filter(|(_, c)| **c > 0) {
                classes.insert(CLASSES[i].to_string(), *c);
            }
        }
        let numeric = matches!(self.kind, Kind::Number | Kind::Temporal) && self.min.is_finite();
        ColumnProfile {
            kind: self.kind.value_kind(),
            rows: self.rows,
            nulls: self.nulls,
            null_rate_error: if fraction >= 1.0 || self.rows == 0 {
                0.0
            } else {
                let (n, p) = (self.rows as f64, self.nulls as f64 / self.rows as f64);
                3.0 * (p * (1.0 - p) / n * (1.0 - fraction)).sqrt() + 1.0 / n
            },
            distinct: Some(distinct),
            min: numeric.then_some(self.min),
            max: numeric.then_some(self.max),
            quantiles: self.numbers.quantiles(&QUANTILES).into(),
            length_bytes: self.len_bytes.quantiles(&QUANTILES).into(),
            length_chars: self.len_chars.quantiles(&QUANTILES).into(),
            classes,
            top,
            categorical,
            labels: self.labels,
            json_keys: self.json_keys.into_iter().collect(),
            json_depth: self.json_depth.quantiles(&QUANTILES).into(),
            array_length: self.array_len.quantiles(&QUANTILES).into(),
            words: {
                let mut w: Vec<(String, u64)> = self.words.into_iter().collect();
                w.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                w.truncate(WORDS_KEPT);
                w.into_iter().collect()
            },
            long_values: self.long_values,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::profile::copytext::Column;

    fn col(values: &[Option<&str>], kind: Kind) -> ColumnProfile {
        let mut a = ColumnAcc::new(kind, (1, 2), 7, false);
        a.update(&Column::from_values(values));
        a.finish(1.0)
    }

    #[test]
    fn the_reservoir_samples_uniformly_and_repeatably() {
        let mut a = Reservoir::new(9);
        let mut b = Reservoir::new(9);
        for i in 0..1_000_000 {
            a.push(i as f64);
            b.push(i as f64);
        }
        assert_eq!(a.values, b.values);
        let q = a.quantiles(&[0.1, 0.5, 0.9]);
        for (got, want) in q.iter().zip([100_000.0, 500_000.0, 900_000.0]) {
            assert!((got - want).abs() < 10_000.0, "{got} vs {want}");
        }
    }

    #[test]
    fn dates_and_timestamps_read_as_seconds() {
        assert_eq!(number("1970-01-02"), Some(86400.0));
        assert_eq!(number("1970-01-01 00:01:00.5+00"), Some(60.5));
        assert_eq!(number("2.5"), Some(2.5));
        assert_eq!(
            number("2026-11-26"),
            Some(days_from_civil(2026, 11, 26) as f64 * 86400.0)
        );
        assert_eq!(days_from_civil(2000, 3, 1), 11017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(number("infinity"), Some(f64::INFINITY));
    }

    #[test]
    fn numbers_nulls_distinct_quantiles() {
        let vals: Vec<Option<String>> = (0..1000)
            .map(|i| {
                if i % 10 == 0 {
                    None
                } else {
                    Some((i % 100).to_string())
                }
            })
            .collect();
        let mut a = ColumnAcc::new(Kind::Number, (1, 2), 7, false);
        a.update(&Column::from_values(&vals));
        let p = a.finish(1.0);
        assert_eq!((p.rows, p.nulls), (1000, 100));
        assert_eq!(p.distinct.as_ref().unwrap().value, 90.0);
        assert_eq!(p.distinct.unwrap().method, "exact");
        assert_eq!((p.min, p.max), (Some(1.0), Some(99.0)));
        assert_eq!(p.quantiles.len(), QUANTILES.len());
        assert!(p.categorical);
    }

    #[test]
    fn hll_takes_over_with_bounds_that_hold() {
        let mut a = ColumnAcc::new(Kind::Text, (1, 2), 7, false);
        let n = 300_000;
        for chunk in (0..n).collect::<Vec<_>>().chunks(10_000) {
            let v: Vec<Option<String>> = chunk.iter().map(|i| Some(format!("v{i}"))).collect();
            a.update(&Column::from_values(&v));
        }
        let d = a.finish(1.0).distinct.unwrap();
        assert!(d.method.starts_with("hll"));
        assert!(d.lower <= n as f64 && n as f64 <= d.upper, "{d:?}");
    }

    #[test]
    fn plain_decimals_parse_as_the_standard_parser_does() {
        let mut rng = Reservoir::new(42);
        let mut texts: Vec<String> = [
            "0",
            "-0",
            "0.0",
            "-0.5",
            "1.",
            ".5",
            "-",
            ".",
            "",
            "1.2.3",
            "+1",
            "1e5",
            "NaN",
            "123456789012345",
            "1234567890123456",
            "0.000000000000001",
            "99999999.99",
            "123456789012345678901234567890.123456789",
            "-99999999999999999999999",
            "-0.30000000000000004",
            " 1",
            "1 ",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for _ in 0..200_000 {
            let digits = 1 + rng.next() % 15;
            let point = rng.next() % (digits + 1);
            let mut t = String::new();
            if rng.next().is_multiple_of(2) {
                t.push('-');
            }
            for i in 0..digits {
                if i == point && i > 0 {
                    t.push('.');
                }
                t.push(char::from(b'0' + (rng.next() % 10) as u8));
            }
            texts.push(t);
        }
        for t in &texts {
            if let Some(x) = plain_decimal(t.as_bytes()) {
                let want: f64 = t.parse().unwrap();
                assert_eq!(x.to_bits(), want.to_bits(), "{t}");
            }
        }
        // The fast path takes what it is for (and leaves the rest to the standard parser).
        assert_eq!(plain_decimal(b"12345.67"), Some(12345.67));
        assert_eq!(plain_decimal(b"1e5"), None);
        assert_eq!(number("1e5"), Some(1e5));
        assert_eq!(number(" 2.5"), Some(2.5));
    }

    #[test]
    fn hashes_are_keyed_and_raw_values_stay_out() {
        let p1 = col(
            &[Some("secret-sentinel"), Some("secret-sentinel")],
            Kind::Text,
        );
        let mut other_key = ColumnAcc::new(Kind::Text, (3, 4), 7, false);
        other_key.update(&Column::from_values(&[Some("secret-sentinel")]));
        let p2 = other_key.finish(1.0);
        assert_ne!(p1.top[0].hash, p2.top[0].hash);
        assert!(!serde_json::to_string(&p1)
            .unwrap()
            .contains("secret-sentinel"));
        assert_eq!(p1.top[0].count, 2);
    }

    /// Measures `values` in one pass, and in `parts` consecutive ranges merged in order.
    fn one_and_merged(values: &[Option<String>], kind: Kind, parts: usize) -> (String, String) {
        let mut one = ColumnAcc::new(kind, (1, 2), 7, true);
        one.update(&Column::from_values(values));
        let mut merged: Option<ColumnAcc> = None;
        for chunk in values.chunks(values.len().div_ceil(parts)) {
            let mut a = ColumnAcc::new(kind, (1, 2), 7, true);
            a.update(&Column::from_values(chunk));
            match &mut merged {
                None => merged = Some(a),
                Some(m) => m.merge(a),
            }
        }
        let json = |a: ColumnAcc| serde_json::to_string(&a.finish(1.0)).unwrap();
        (json(one), json(merged.unwrap()))
    }

    #[test]
    fn ranges_merged_equal_one_pass_below_the_caps() {
        let numbers: Vec<Option<String>> = (0..40_000)
            .map(|i| (i % 13 != 0).then(|| ((i * 7919) % 5000).to_string()))
            .collect();
        let (one, merged) = one_and_merged(&numbers, Kind::Number, 4);
        assert_eq!(one, merged);
        let text: Vec<Option<String>> = (0..30_000)
            .map(|i| (i % 5 != 0).then(|| format!("word{} ünï {}", i % 700, i % 3)))
            .collect();
        let (one, merged) = one_and_merged(&text, Kind::Text, 3);
        assert_eq!(one, merged);
        let json: Vec<Option<String>> = (0..2_000)
            .map(|i| Some(format!(r#"{{"k{}": [{}]}}"#, i % 9, i)))
            .collect();
        let (one, merged) = one_and_merged(&json, Kind::Json, 4);
        assert_eq!(one, merged);
    }

    #[test]
    fn ranges_merged_past_the_caps_stay_within_the_estimates() {
        let n = 400_000usize;
        let values: Vec<Option<String>> = (0..n).map(|i| Some(i.to_string())).collect();
        let mut merged: Option<ColumnAcc> = None;
        for chunk in values.chunks(n / 4) {
            let mut a = ColumnAcc::new(Kind::Number, (1, 2), 7, false);
            a.update(&Column::from_values(chunk));
            match &mut merged {
                None => merged = Some(a),
                Some(m) => m.merge(a),
            }
        }
        let p = merged.unwrap().finish(1.0);
        let d = p.distinct.unwrap();
        assert!(d.method.starts_with("hll"), "{d:?}");
        assert!(d.lower <= n as f64 && n as f64 <= d.upper, "{d:?}");
        assert_eq!(p.rows, n as u64);
        // The merged reservoir is a uniform sample of all four ranges: its median is near
        // the middle value, not the middle of one range.
        let median = p.quantiles[QUANTILES.iter().position(|q| *q == 0.5).unwrap()];
        assert!(
            (median - n as f64 / 2.0).abs() < n as f64 * 0.02,
            "{median}"
        );
        assert_eq!((p.min, p.max), (Some(0.0), Some((n - 1) as f64)));
    }

    #[test]
    fn json_keys_and_depth_labels_classes() {
        let p = col(
            &[Some(r#"{"a": {"b": [1]}, "c": 2}"#), Some(r#"{"a": 1}"#)],
            Kind::Json,
        );
        assert_eq!(p.json_keys.get("a"), Some(&2));
        assert_eq!(p.json_depth.last(), Some(&3.0));
        let p = col(&[Some("t"), Some("f"), Some("t")], Kind::Boolean);
        assert_eq!(p.labels.get("t"), Some(&2));
        let p = col(&[Some("ok 👍"), Some("plain")], Kind::Text);
        assert_eq!((p.classes["emoji"], p.classes["ascii_only"]), (1, 1));
    }
}
