//! Keys: injective functions of the row number, so no duplicate is ever drawn and no retry
//! can run out; composite keys vary their last column fastest, or number rows within their
//! parent group.

use super::*;

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
        /// The profile's character classes, kept by stratified positions of the index.
        classes: Option<Box<KeyClasses>>,
    },
    /// A unique column with a CHECK pattern: the key's digits inside a drawn value.
    Pattern {
        pattern: Box<crate::seed::pattern::KeyedPattern>,
        salt: u64,
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
            Key::Text { width, classes } => {
                let mut s = base36(i);
                while s.len() < *width {
                    s.insert(0, '0');
                }
                match classes {
                    Some(c) => c.dress(i, s),
                    None => s,
                }
            }
            Key::Pattern { pattern, salt } => pattern.draw(i, *salt),
            Key::Uuid { salt } => crate::seed::literal::uuid(*salt, i),
            Key::Temporal { base, step, kind } => {
                crate::seed::gen::temporal(base + step * i as f64, *kind)
            }
        }
    }
}

pub(super) fn base36(mut i: u64) -> String {
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

/// A key generator for one column, checked to hold `rows` distinct values.
pub(super) fn key_for(
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
        Kind::Text | Kind::Char if rule.pattern.is_some() => {
            let source = rule.pattern.as_deref().unwrap_or_default();
            match crate::seed::pattern::KeyedPattern::compile(source, rows) {
                Some(p) => Ok(Key::Pattern { pattern: Box::new(p), salt }),
                None => Err(Error::Usage(format!(
                    "{object}: a unique column whose CHECK pattern '{source}' has no repeated class of digits to hold {} distinct keys; hint: --skip the table",
                    crate::finding::thousands(rows as f64)
                ))),
            }
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
            // The profile's classes around the digits (the digits, all of one width, keep
            // every key distinct).
            let len = p.and_then(|p| curve7(&p.length_chars));
            let classes = p.filter(|p| !p.classes.is_empty() || len.is_some()).map(|p| {
                let mut c = if p.classes.is_empty() {
                    Classes {
                        ascii: 1.0,
                        ..Default::default()
                    }
                } else {
                    classes(p)
                };
                // Every row read (an exact distinct count): what it saw is certain.
                if p.distinct.as_ref().is_some_and(|d| d.method == "exact") {
                    keep_every_class(&mut c, rows as f64);
                }
                Box::new(KeyClasses::new(c, rows, salt, cap, len))
            });
            Ok(Key::Text { width, classes })
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
