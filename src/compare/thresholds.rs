//! Thresholds of the data comparers: sane defaults, overridable for the whole run and per
//! table or column in the config (`[thresholds]`, `[thresholds.objects."public.events"]`).

use std::collections::BTreeMap;

use serde::Deserialize;

/// The numbers the data comparers judge with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Row counts outside [1/band, band] × the right side's are a volume gap.
    pub volume_band: f64,
    /// A case absent on the left is a finding when the left would have shown it this many
    /// times at the right side's share (3: a chance absence is under 5 %).
    pub min_expected: f64,
    /// NULL rates further apart than this (and than 4 standard errors) are a finding.
    pub null_rate_gap: f64,
    /// pg_stats's null_frac further from the measured rate than this is a statistics gap.
    pub statistics_null_gap: f64,
    /// History: a table's rows beyond this many times its recent maximum (or under its recent
    /// minimum divided by it) is a change in production since the previous runs.
    pub drift_volume: f64,
    /// History: a NULL rate or a character class's share this far (0–1) outside its recent
    /// range is a change in production since the previous runs.
    pub drift_share: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            volume_band: 100.0,
            min_expected: 3.0,
            null_rate_gap: 0.2,
            statistics_null_gap: 0.1,
            drift_volume: 2.0,
            drift_share: 0.1,
        }
    }
}

impl Thresholds {
    /// The left side has none of a case the right side has, and would have shown it
    /// `min_expected` times at the right side's share.
    pub fn missing(&self, count_l: u64, n_l: u64, count_r: u64, n_r: u64) -> bool {
        count_l == 0
            && count_r > 0
            && n_r > 0
            && count_r as f64 / n_r as f64 * n_l as f64 >= self.min_expected
    }

    /// As [`Thresholds::missing`], and also when the left side's rows were all read
    /// (`left_complete`) and it has rows: then its absence is a fact, not a sample's chance,
    /// however rare the case is on the right.
    pub fn absent(
        &self,
        count_l: u64,
        n_l: u64,
        count_r: u64,
        n_r: u64,
        left_complete: bool,
    ) -> bool {
        self.missing(count_l, n_l, count_r, n_r)
            || (left_complete && count_l == 0 && count_r > 0 && n_l > 0)
    }
}

/// Some thresholds, as the config gives them.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    pub volume_band: Option<f64>,
    pub min_expected: Option<f64>,
    pub null_rate_gap: Option<f64>,
    pub statistics_null_gap: Option<f64>,
    pub drift_volume: Option<f64>,
    pub drift_share: Option<f64>,
}

impl Overrides {
    pub fn apply(&self, t: &mut Thresholds) {
        if let Some(v) = self.volume_band {
            t.volume_band = v;
        }
        if let Some(v) = self.min_expected {
            t.min_expected = v;
        }
        if let Some(v) = self.null_rate_gap {
            t.null_rate_gap = v;
        }
        if let Some(v) = self.statistics_null_gap {
            t.statistics_null_gap = v;
        }
        if let Some(v) = self.drift_volume {
            t.drift_volume = v;
        }
        if let Some(v) = self.drift_share {
            t.drift_share = v;
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("volume_band", self.volume_band),
            ("min_expected", self.min_expected),
            ("null_rate_gap", self.null_rate_gap),
            ("statistics_null_gap", self.statistics_null_gap),
            ("drift_volume", self.drift_volume),
            ("drift_share", self.drift_share),
        ] {
            if let Some(v) = v {
                if !(v.is_finite() && v > 0.0) {
                    return Err(format!("{name} must be a positive number, not {v}"));
                }
            }
        }
        if self.volume_band.is_some_and(|v| v < 1.0) {
            return Err("volume_band must be at least 1".into());
        }
        if self.drift_volume.is_some_and(|v| v < 1.0) {
            return Err("drift_volume must be at least 1".into());
        }
        Ok(())
    }
}

/// Run-wide thresholds plus per-object overrides (a table's apply to its columns).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThresholdSet {
    pub default: Thresholds,
    /// Object (`public.events`, `public.users.bio`) → overrides.
    pub objects: BTreeMap<String, Overrides>,
}

impl ThresholdSet {
    /// The thresholds for `object`: defaults, then its table's overrides, then its own.
    pub fn get(&self, object: &str) -> Thresholds {
        let mut t = self.default;
        let mut matches: Vec<(&String, &Overrides)> = self
            .objects
            .iter()
            .filter(|(k, _)| {
                object == k.as_str()
                    || object
                        .strip_prefix(k.as_str())
                        .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('('))
            })
            .collect();
        matches.sort_by_key(|(k, _)| k.len());
        for (_, o) in matches {
            o.apply(&mut t);
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_then_column_overrides_apply() {
        let mut set = ThresholdSet::default();
        set.objects.insert(
            "public.events".into(),
            Overrides {
                volume_band: Some(10_000.0),
                min_expected: Some(5.0),
                ..Default::default()
            },
        );
        set.objects.insert(
            "public.events.kind".into(),
            Overrides {
                min_expected: Some(9.0),
                ..Default::default()
            },
        );
        assert_eq!(set.get("public.other").volume_band, 100.0);
        assert_eq!(set.get("public.events").volume_band, 10_000.0);
        assert_eq!(set.get("public.events_archive").volume_band, 100.0);
        let col = set.get("public.events.kind");
        assert_eq!((col.volume_band, col.min_expected), (10_000.0, 9.0));
        assert!(set.get("public.events.at").missing(0, 100, 5, 100));
        assert!(!set.get("public.events.at").missing(0, 100, 4, 100));
    }
}
