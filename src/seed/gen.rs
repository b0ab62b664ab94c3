//! Value generators: each column's values drawn to match its profile (null rate, quantiles,
//! lengths, character classes, label and category frequencies, JSON keys, array lengths),
//! written straight into COPY's text format. Keys and foreign keys are pure functions of the
//! row number (see `model.rs`); everything else draws from a ChaCha8 stream seeded per
//! (seed, table, column, chunk), so the same seed gives the same bytes on any thread count.

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

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
}

/// A fragment per class that makes a value hold it (and as few others as possible).
pub const FRAGMENTS: [(&str, &str); 11] = [
    ("latin1_supplement", "é"),
    ("other_latin", "ł"),
    ("greek_cyrillic", "Ж"),
    ("cjk", "東"),
    ("rtl", "ש"),
    ("other_script", "ก"),
    // A ZWJ family: emoji, outside the BMP.
    ("emoji", "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}"),
    // Combining low line: a mark with no precomposed form, so the value stays NFC.
    ("combining_mark", "a\u{332}"),
    // Mathematical bold A: 4 bytes in UTF-8, not an emoji.
    ("outside_bmp", "\u{1D400}"),
    // Zero-width space.
    ("control_or_invisible", "\u{200B}"),
    // e + combining acute: not NFC (and a combining mark).
    ("not_nfc", "e\u{301}"),
];

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
}

impl Pool {
    pub fn len(&self) -> usize {
        match self {
            Pool::Weighted(cum) => cum.len(),
            Pool::Uniform(k) => *k,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The category `u` (uniform in [0, 1)) picks: for equal weights the one [`pick`] finds
    /// in the weights 1, 2, ... k.
    pub fn pick(&self, u: f64) -> usize {
        match self {
            Pool::Weighted(cum) => pick(cum, u),
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
pub struct Drawn(Vec<Option<Box<[u8]>>>);

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

impl Values {
    /// One value (or `None` for NULL) appended to `out` as COPY text.
    pub fn write(&self, rng: &mut ChaCha8Rng, salt: u64, out: &mut Vec<u8>) -> bool {
        self.write_row(rng, salt, out, u64::MAX, &mut Drawn::default())
    }

    /// As [`Values::write`], for row `row` of the table: rows 0 and 1 of a number or time
    /// column take the profile's minimum and maximum exactly, and of a text column its
    /// shortest and longest length, so a small table reaches its extremes (a random draw from
    /// 20 rows rarely does).
    pub fn write_row(
        &self,
        rng: &mut ChaCha8Rng,
        salt: u64,
        out: &mut Vec<u8>,
        row: u64,
        drawn: &mut Drawn,
    ) -> bool {
        if let (
            true,
            None,
            Base::Text {
                len,
                classes,
                max_chars,
                words,
            },
        ) = (row < 2, &self.pool, &self.base)
        {
            // The shortest and the longest length, placed exactly like numbers' extremes.
            let t = text(
                rng,
                len,
                classes,
                *max_chars,
                words.as_ref(),
                Some(row as f64),
            );
            push_escaped(out, &t);
            return true;
        }

        let ordered = matches!(
            self.base,
            Base::Number { .. } | Base::Temporal { .. } | Base::Text { .. }
        );
        if row < 2 && ordered && self.pool.is_none() {
            let text = self.base.draw_at(rng, row as f64);
            push_escaped(out, &text);
            return true;
        }
        if self.null_rate > 0.0 {
            // NULLs at exactly the profile's rate (evenly spread, from an offset of the
            // column's own), so a small table has its one NULL too; at random when the row is
            // not known.
            let null = if row == u64::MAX {
                rng.random::<f64>() < self.null_rate
            } else {
                let x = (row + salt % 1_000_003) as f64;
                ((x + 1.0) * self.null_rate).floor() > (x * self.null_rate).floor()
            };
            if null {
                return false;
            }
        }
        if row != u64::MAX {
            if let (None, Base::Labels { labels, .. }) = (&self.pool, &self.base) {
                // Every label once in the first rows, the first and the last (a categorical
                // number's minimum and maximum) first.
                if let Some(k) = covering(row, labels.len()) {
                    push_escaped(out, &labels[k]);
                    return true;
                }
            }
            if let Some(pool) = &self.pool {
                if let Some(k) = covering(row, pool.len()) {
                    self.category(salt, k, pool.len(), out, drawn);
                    return true;
                }
            }
        }
        match &self.pool {
            Some(pool) => {
                let k = pool.pick(rng.random::<f64>());
                self.category(salt, k, pool.len(), out, drawn);
            }
            None => self.base.write_drawn(rng, out),
        }
        true
    }

    /// Category `k` of `n`'s value, drawn from its own stream (once per chunk: `drawn`).
    fn category(&self, salt: u64, k: usize, n: usize, out: &mut Vec<u8>, drawn: &mut Drawn) {
        if n <= DRAWN_CAP && drawn.0.len() < n {
            drawn.0.resize(n, None);
        }
        if let Some(Some(v)) = drawn.0.get(k) {
            out.extend_from_slice(v);
            return;
        }
        let at = out.len();
        // As `draw` of category k: numbers and times are a position on their curve, and
        // need no stream of their own.
        let u = if n == 1 {
            0.5
        } else {
            k as f64 / (n - 1) as f64
        };
        if !self.base.write_at(u, out) {
            let text = self
                .base
                .draw(&mut rng_for(&[salt, k as u64]), Some((k, n)));
            push_escaped(out, &text);
        }
        if let Some(slot) = drawn.0.get_mut(k) {
            *slot = Some(out[at..].into());
        }
    }
}

/// The category row `row` must take so that the first K rows hold each of K categories once
/// (row 0 the first, row 1 the last, then the rest in order): every value turns up, a 5-row
/// table of 5 names holds all five. `None` past the first K rows: drawn by weight.
fn covering(row: u64, k: usize) -> Option<usize> {
    match row {
        r if r >= k as u64 => None,
        0 => Some(0),
        1 => Some(k - 1),
        r => Some(r as usize - 1),
    }
}

const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789     ";

impl Base {
    /// One value as PostgreSQL text. `category` is (k, K) when drawing a pool's category `k`
    /// of `K`: numbers and times are then spread over their curve (stratified, ends included).
    pub fn draw(&self, rng: &mut ChaCha8Rng, category: Option<(usize, usize)>) -> String {
        // Categories span the curve from its minimum to its maximum, both included.
        let u = match category {
            Some((_, 1)) => 0.5,
            Some((k, n)) => k as f64 / (n - 1) as f64,
            None => rng.random::<f64>(),
        };
        if let (
            Some(_),
            Base::Text {
                len,
                classes,
                max_chars,
                words,
            },
        ) = (category, self)
        {
            // A pool's categories spread over the length curve, ends included.
            return text(rng, len, classes, *max_chars, words.as_ref(), Some(u));
        }
        self.draw_at(rng, u)
    }

    /// A number or time of this base as PostgreSQL text (integers rounded, numerics at their
    /// scale, times in their kind's form).
    pub fn format(&self, x: f64) -> String {
        let mut out = Vec::with_capacity(32);
        self.write_formatted(x, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// [`Base::format`] appended to `out`, without a string of its own.
    fn write_formatted(&self, x: f64, out: &mut Vec<u8>) {
        use std::io::Write;
        // Writing to a Vec cannot fail.
        let _ = match self {
            Base::Temporal { kind, .. } => {
                write_temporal(out, x, *kind);
                Ok(())
            }
            Base::Number { int: true, .. } => write!(out, "{}", x.round() as i64),
            Base::Number { scale: Some(s), .. } => write!(out, "{:.*}", *s as usize, x),
            _ => write!(out, "{x}"),
        };
    }

    /// About the most bytes of COPY text one value takes (see `Gen::widest`).
    pub fn widest(&self) -> f64 {
        let long = |c: &Curve| 2.0 * c.max().max(0.0) + 32.0;
        match self {
            Base::Text { len, max_chars, .. } => {
                long(len).min(max_chars.map_or(f64::MAX, |m| 8.0 * m as f64 + 32.0))
            }
            Base::Bytea { len } => 2.0 * long(len),
            Base::Array { elem, len } => len.max().max(1.0) * elem.widest(),
            Base::Literal { len: Some(c), .. } => long(c),
            Base::Json { keys, .. } => 64.0 * (keys.len() as f64 + 1.0),
            Base::Labels { labels, .. } => labels
                .iter()
                .map(|l| 2.0 * l.len() as f64)
                .fold(32.0, f64::max),
            Base::Routed { labels, other, .. } => labels
                .iter()
                .map(|l| 2.0 * l.len() as f64)
                .chain(other.iter().map(|o| o.widest()))
                .fold(32.0, f64::max),
            _ => 32.0,
        }
    }

    /// One value drawn as [`Base::draw`] without a category, appended to `out` as COPY text.
    fn write_drawn(&self, rng: &mut ChaCha8Rng, out: &mut Vec<u8>) {
        // As `draw`: a position on the curve first, whether the base uses it or not.
        let u = rng.random::<f64>();
        if !self.write_at(u, out) {
            let text = self.draw_at(rng, u);
            push_escaped(out, &text);
        }
    }

    /// A number or time at position `u` of its curve appended to `out` as [`Base::draw_at`]
    /// writes it, without a string of its own; `false` for other bases (nothing written).
    fn write_at(&self, u: f64, out: &mut Vec<u8>) -> bool {
        let x = match self {
            Base::Number { curve, lo, hi, .. } => curve.at(u).clamp(*lo, *hi),
            Base::Temporal { curve, .. } => curve.at(u),
            _ => return false,
        };
        self.write_formatted(x, out);
        true
    }

    /// One value at position `u` (0 to 1) of its curve, where the base has one.
    pub fn draw_at(&self, rng: &mut ChaCha8Rng, u: f64) -> String {
        match self {
            Base::Number { .. } | Base::Temporal { .. } => {
                let mut out = Vec::with_capacity(32);
                self.write_at(u, &mut out);
                String::from_utf8(out).unwrap_or_default()
            }
            Base::Text {
                len,
                classes,
                max_chars,
                words,
            } => text(rng, len, classes, *max_chars, words.as_ref(), None),
            Base::Labels { labels, cum } => labels[pick(cum, u)].clone(),
            Base::Json { keys, nested } => {
                let mut o = serde_json::Map::new();
                for (k, share) in keys {
                    if rng.random::<f64>() < *share {
                        let v: serde_json::Value = if rng.random::<f64>() < *nested {
                            serde_json::json!({"v": rng.random_range(0..1000)})
                        } else if rng.random_bool(0.5) {
                            serde_json::json!(rng.random_range(0..100_000))
                        } else {
                            {
                                let n = 3 + rng.random_range(0..8);
                                serde_json::json!(word(rng, n))
                            }
                        };
                        o.insert(k.clone(), v);
                    }
                }
                serde_json::Value::Object(o).to_string()
            }
            Base::Array { elem, len } => {
                let n = len.at(rng.random::<f64>()).round().max(0.0) as usize;
                let mut s = String::from("{");
                for i in 0..n {
                    if i > 0 {
                        s.push(',');
                    }
                    s.push_str(&super::literal::quoted(&elem.draw(rng, None)));
                }
                s.push('}');
                s
            }
            Base::Bytea { len } => {
                let n = len.at(u).round().max(0.0) as usize;
                let mut s = String::with_capacity(2 + 2 * n);
                s.push_str("\\x");
                for _ in 0..n {
                    s.push_str(&format!("{:02x}", rng.random::<u8>()));
                }
                s
            }
            Base::Uuid => super::literal::uuid(rng.random::<u64>(), rng.random::<u64>()),
            Base::Literal { lit, len } => {
                let k = rng.random::<u64>() >> 12;
                match len {
                    Some(c) => lit.text_sized(k, c.at(u).round().max(0.0) as usize),
                    None => lit.text(k),
                }
            }
            Base::Pattern(p) => p.draw(rng),
            Base::Routed { labels, cum, other } => {
                let i = pick(cum, rng.random::<f64>());
                match (labels.get(i), other) {
                    (Some(l), _) => l.clone(),
                    (None, Some(o)) => o.draw(rng, None),
                    (None, None) => labels[0].clone(),
                }
            }
        }
    }
}

fn word(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n)
        .map(|_| ALPHABET[rng.random_range(0..52)] as char)
        .collect()
}

/// Seconds (since 1970, since midnight, or of an interval) as PostgreSQL text.
pub fn temporal(secs: f64, kind: Temporal) -> String {
    let mut out = Vec::with_capacity(32);
    write_temporal(&mut out, secs, kind);
    String::from_utf8(out).unwrap_or_default()
}

/// [`temporal`] appended to `out`: years 1 to 9999 written digit by digit (chrono's format
/// strings, parsed on every call, took a tenth of a seed's time), others by chrono.
fn write_temporal(out: &mut Vec<u8>, secs: f64, kind: Temporal) {
    use chrono::{Datelike, Timelike};
    fn digits(out: &mut Vec<u8>, v: u32, width: usize) {
        let mut buf = [b'0'; 10];
        let mut v = v;
        for i in (0..width).rev() {
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        out.extend_from_slice(&buf[..width]);
    }
    let whole = secs.floor() as i64;
    let micros = ((secs - secs.floor()) * 1e6).round().min(999_999.0) as u32;
    let dt = chrono::DateTime::from_timestamp(whole, micros * 1000)
        .unwrap_or_default()
        .naive_utc();
    let (date, time, zone) = match kind {
        Temporal::Date => (true, false, false),
        Temporal::Timestamp => (true, true, false),
        Temporal::TimestampTz => (true, true, true),
        Temporal::Time => (false, true, false),
        Temporal::TimeTz => (false, true, true),
        Temporal::Interval => {
            use std::io::Write;
            let _ = write!(out, "{:.6} seconds", secs);
            return;
        }
    };
    if date && !(1..=9999).contains(&dt.year()) {
        let text = match kind {
            Temporal::Date => dt.format("%Y-%m-%d").to_string(),
            Temporal::Timestamp => dt.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
            _ => dt.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string(),
        };
        out.extend_from_slice(text.as_bytes());
        return;
    }
    if date {
        digits(out, dt.year() as u32, 4);
        out.push(b'-');
        digits(out, dt.month(), 2);
        out.push(b'-');
        digits(out, dt.day(), 2);
        if time {
            out.push(b' ');
        }
    }
    if time {
        digits(out, dt.hour(), 2);
        out.push(b':');
        digits(out, dt.minute(), 2);
        out.push(b':');
        digits(out, dt.second(), 2);
        out.push(b'.');
        digits(out, dt.nanosecond() / 1000, 6);
    }
    if zone {
        out.extend_from_slice(b"+00");
    }
}

/// [`temporal`] through chrono's format strings alone: what the fast path must equal.
#[cfg(test)]
fn temporal_by_chrono(secs: f64, kind: Temporal) -> String {
    let whole = secs.floor() as i64;
    let micros = ((secs - secs.floor()) * 1e6).round().min(999_999.0) as u32;
    let dt = chrono::DateTime::from_timestamp(whole, micros * 1000)
        .unwrap_or_default()
        .naive_utc();
    match kind {
        Temporal::Date => dt.format("%Y-%m-%d").to_string(),
        Temporal::Timestamp => dt.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
        Temporal::TimestampTz => dt.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string(),
        Temporal::Time => dt.format("%H:%M:%S%.6f").to_string(),
        Temporal::TimeTz => dt.format("%H:%M:%S%.6f+00").to_string(),
        Temporal::Interval => format!("{:.6} seconds", secs),
    }
}

/// A text value of a drawn length holding the drawn character classes.
fn text(
    rng: &mut ChaCha8Rng,
    len: &Curve,
    c: &Classes,
    max_chars: Option<usize>,
    words: Option<&(Vec<String>, Vec<f64>)>,
    at: Option<f64>,
) -> String {
    let u = rng.random::<f64>();
    if u < c.empty && at.is_none() {
        return String::new();
    }
    let target = len
        .at(at.unwrap_or_else(|| rng.random::<f64>()))
        .round()
        .max(1.0) as usize;
    let mut fragments: Vec<&str> = Vec::new();
    if u >= c.empty + c.ascii {
        // Classes keep their shares: one class per value when they fit (sum ≤ 1), else each
        // drawn on its own; a value with none gets a neutral non-ASCII character.
        let sum: f64 = c.fragments.iter().map(|(_, p)| p).sum();
        if sum <= 1.0 {
            let mut x = rng.random::<f64>();
            for (f, p) in &c.fragments {
                if x < *p {
                    fragments.push(f);
                    break;
                }
                x -= p;
            }
        } else {
            for (f, p) in &c.fragments {
                if rng.random::<f64>() < *p {
                    fragments.push(f);
                }
            }
        }
        if fragments.is_empty() {
            fragments.push("\u{B7}");
        }
    }
    let edge = rng.random::<f64>() < c.edge_whitespace;
    let mut limit = max_chars.unwrap_or(usize::MAX).min(target.max(1));
    let frag_chars: usize = fragments.iter().map(|f| f.chars().count()).sum();
    if frag_chars + usize::from(edge) > max_chars.unwrap_or(usize::MAX) {
        fragments.clear();
    }
    let frag_chars: usize = fragments.iter().map(|f| f.chars().count()).sum();
    limit = limit.max(frag_chars + usize::from(edge));
    let ascii_len = limit - frag_chars - usize::from(edge);
    let mut s = String::with_capacity(limit + 16);
    if edge {
        s.push(' ');
    }
    // Letters and inner spaces; never a space at either end (that is the edge class).
    let mut base: Vec<u8> = match words {
        Some((list, cum)) if !list.is_empty() => {
            let mut b = Vec::with_capacity(ascii_len + 16);
            while b.len() < ascii_len {
                if !b.is_empty() {
                    b.push(b' ');
                }
                b.extend_from_slice(list[pick(cum, rng.random::<f64>())].as_bytes());
            }
            b.truncate(ascii_len);
            b
        }
        _ => {
            // One stream read for the whole value, not a draw per character.
            let mut b = vec![0u8; ascii_len];
            rand::Rng::fill_bytes(rng, &mut b);
            for x in b.iter_mut() {
                *x = ALPHABET[*x as usize % ALPHABET.len()];
            }
            b
        }
    };
    if let Some(b) = base.first_mut() {
        if *b == b' ' {
            *b = b'x';
        }
    }
    if let Some(b) = base.last_mut() {
        if *b == b' ' {
            *b = b'y';
        }
    }
    let mut cut = 0;
    for (i, f) in fragments.iter().enumerate() {
        let at = if base.is_empty() {
            0
        } else {
            (cut + rng.random_range(0..=(base.len() - cut))).min(base.len())
        };
        s.push_str(std::str::from_utf8(&base[cut..at]).unwrap_or(""));
        s.push_str(f);
        cut = at;
        let _ = i;
    }
    s.push_str(std::str::from_utf8(&base[cut..]).unwrap_or(""));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

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
        };
        for k in [0usize, 1, 17, 4095, 4999] {
            let mut out = Vec::new();
            num.category(9, k, 5000, &mut out, &mut Drawn::default());
            assert_eq!(
                String::from_utf8(out).unwrap(),
                num.base.draw(&mut rng_for(&[9, k as u64]), Some((k, 5000)))
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
        };
        let len = Curve::from_quantiles(&[0.0, 1.0], &[1.0, 30.0]).unwrap();
        let draw = || {
            let mut r = rng_for(&[1, 2, 3]);
            (0..200)
                .map(|_| text(&mut r, &len, &classes, Some(20), None, None))
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
