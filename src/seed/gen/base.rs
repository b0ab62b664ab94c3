//! One value of a base: a number or time on its quantile curve, a boolean, a label, text of
//! the drawn classes and length, JSON with the profile's keys, an array, bytea, a uuid, a
//! routed partition value.

use super::*;

pub(super) const ALPHABET: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789     ";

impl Base {
    /// One value as PostgreSQL text. `placed` is a pool's category's position on the curve
    /// (see [`Pool::position`]): numbers, times, lengths, JSON keys and array lengths are
    /// then taken there rather than drawn.
    pub fn draw(&self, rng: &mut ChaCha8Rng, placed: Option<f64>) -> String {
        let u = placed.unwrap_or_else(|| rng.random::<f64>());
        if let (
            Some(_),
            Base::Text {
                len,
                classes,
                max_chars,
                words,
            },
        ) = (placed, self)
        {
            return text(rng, len, classes, *max_chars, words.as_ref(), Some(u), None);
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
    pub(super) fn write_formatted(&self, x: f64, out: &mut Vec<u8>) {
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
    pub(super) fn write_drawn(&self, rng: &mut ChaCha8Rng, out: &mut Vec<u8>) {
        // As `draw`: a position on the curve first, whether the base uses it or not.
        let u = rng.random::<f64>();
        if !self.write_at(u, out) {
            let text = self.draw_at(rng, u);
            push_escaped(out, &text);
        }
    }

    /// A number or time at position `u` of its curve appended to `out` as [`Base::draw_at`]
    /// writes it, without a string of its own; `false` for other bases (nothing written).
    pub(super) fn write_at(&self, u: f64, out: &mut Vec<u8>) -> bool {
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
            } => text(rng, len, classes, *max_chars, words.as_ref(), None, None),
            Base::Labels { labels, cum } => labels[pick(cum, u)].clone(),
            Base::Json { keys, nested } => {
                // A key is present where the value's position falls within its share: keys
                // nest (the rarer ones in documents that hold the commoner), and a pool's
                // categories hold each key at its share of the rows, to within a category.
                let mut o = serde_json::Map::new();
                for (k, share) in keys {
                    if u < *share {
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
                let n = len.at(u).round().max(0.0) as usize;
                let mut s = String::from("{");
                for i in 0..n {
                    if i > 0 {
                        s.push(',');
                    }
                    s.push_str(&crate::seed::literal::quoted(&elem.draw(rng, None)));
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
            Base::Uuid => crate::seed::literal::uuid(rng.random::<u64>(), rng.random::<u64>()),
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

pub(super) fn word(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n)
        .map(|_| ALPHABET[rng.random_range(0..52)] as char)
        .collect()
}
