//! What a column's accumulators become: the next block range's merged into the previous
//! one's (the single-pass result below the caps), then the column's profile — distinct
//! counts with bounds, quantiles, top values as keyed hashes, classes, lengths, labels.

use super::*;

impl ColumnAcc {
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
        for (k, v) in other.specials {
            *self.specials.entry(k).or_default() += v;
        }
        for (k, v) in other.forms {
            *self.forms.entry(k).or_default() += v;
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
            specials: self
                .specials
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            forms: self
                .forms
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
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
