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

mod finish;
mod parse;
mod reservoir;

pub(crate) use parse::number;
use parse::*;
pub use reservoir::Reservoir;

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
    /// Values that are not finite numbers or times (`NaN`, `Infinity`, `-Infinity`).
    specials: BTreeMap<&'static str, u64>,
    /// Forms of values beyond their magnitude (see `ColumnProfile::forms`).
    forms: BTreeMap<&'static str, u64>,
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

/// A value's keyed hash, as the profile's frequent values hold it (`ColumnProfile::top`).
pub fn value_hash(key: (u64, u64), bytes: &[u8]) -> u64 {
    let mut h = SipHasher13::new_with_keys(key.0, key.1);
    h.write(bytes);
    h.finish()
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
            specials: BTreeMap::new(),
            forms: BTreeMap::new(),
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
        value_hash(self.key, bytes)
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
                Kind::Number | Kind::Temporal => match number(v) {
                    Some(x) if x.is_finite() => {
                        self.min = self.min.min(x);
                        self.max = self.max.max(x);
                        self.numbers.push(x);
                        if self.kind == Kind::Number {
                            let fraction = (x.fract() != 0.0).then_some("fractional");
                            for f in [number_form(x), fraction].into_iter().flatten() {
                                *self.forms.entry(f).or_default() += 1;
                            }
                        } else if let Some(f) = temporal_form(v, x) {
                            *self.forms.entry(f).or_default() += 1;
                        }
                    }
                    _ => {
                        if let Some(s) = special(v) {
                            *self.specials.entry(s).or_default() += 1;
                        }
                    }
                },
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
                    if self.kind == Kind::Other {
                        if let Some(f) = other_form(v) {
                            *self.forms.entry(f).or_default() += 1;
                        }
                    }
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
                        *self.forms.entry(json_form(&j)).or_default() += 1;
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
    fn values_that_are_not_finite_are_counted_apart() {
        let p = col(
            &[
                Some("1.5"),
                Some("NaN"),
                Some("Infinity"),
                Some("-Infinity"),
                Some("infinity"),
                Some("-2"),
            ],
            Kind::Number,
        );
        let want: BTreeMap<String, u64> = [("NaN", 1), ("Infinity", 2), ("-Infinity", 1)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert_eq!(p.specials, want);
        assert_eq!((p.min, p.max), (Some(-2.0), Some(1.5)));
        // A time of day is not a special value.
        assert!(col(&[Some("12:30:00")], Kind::Temporal).specials.is_empty());
    }

    #[test]
    fn forms_of_values_are_counted_by_their_kind() {
        let forms = |values: &[&str], kind: Kind| {
            let v: Vec<Option<&str>> = values.iter().map(|x| Some(*x)).collect();
            col(&v, kind)
                .forms
                .into_iter()
                .collect::<Vec<(String, u64)>>()
        };
        let f = |v: &[(&str, u64)]| -> Vec<(String, u64)> {
            v.iter().map(|(k, n)| (k.to_string(), *n)).collect()
        };
        assert_eq!(
            forms(&["-1.5", "0", "2", "7"], Kind::Number),
            f(&[("fractional", 1), ("negative", 1), ("zero", 1)])
        );
        // An interval sent as seconds below zero; a date before 1970 is no negative form.
        assert_eq!(
            forms(&["-86400", "3600", "1960-01-01"], Kind::Temporal),
            f(&[("negative", 1)])
        );
        assert_eq!(
            forms(&["{\"a\": 1}", "[1, 2]", "3", "\"x\""], Kind::Json),
            f(&[("array", 1), ("object", 1), ("scalar", 2)])
        );
        assert_eq!(
            forms(
                &[
                    "00000000-0000-0000-0000-000000000000",
                    "0190b3c4-7a1e-7cc0-8f1d-3b8a7c3e2f10",
                    "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f",
                    "2001:db8::1",
                    "10.0.0.0/8",
                    "10.0.0.1",
                    "not a uuid",
                ],
                Kind::Other
            ),
            f(&[
                ("ipv6", 1),
                ("prefix", 1),
                ("uuid-nil", 1),
                ("uuid-v4", 1),
                ("uuid-v7", 1)
            ])
        );
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
