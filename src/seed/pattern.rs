//! Values for `CHECK (col ~ 'pattern')` (a column's or a domain's): drawn from the regular
//! expression itself (rand_regex), its character classes narrowed to printable ASCII where they
//! allow it, so a negated class such as `[^@]` never draws a NUL (which text cannot hold) or a
//! control character, and repetitions capped so values stay short.

use regex_syntax::hir::{
    Capture, Class, ClassUnicode, ClassUnicodeRange, Hir, HirKind, Repetition,
};

/// A compiled pattern; equal when the pattern text is.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub source: String,
    regex: rand_regex::Regex,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Pattern {
    /// `None` when the pattern uses syntax this reader does not know (PostgreSQL's regular
    /// expressions are mostly, not entirely, the same language).
    pub fn compile(source: &str) -> Option<Pattern> {
        let hir = regex_syntax::ParserBuilder::new()
            .build()
            .parse(source)
            .ok()?;
        let regex = rand_regex::Regex::with_hir(tame(&hir), 12).ok()?;
        Some(Pattern {
            source: source.to_string(),
            regex,
        })
    }

    pub fn draw(&self, rng: &mut rand::rngs::ChaCha8Rng) -> String {
        use rand::RngExt;
        rng.sample::<String, _>(&self.regex)
    }
}

/// A unique column's pattern: each row's key, in digits of one width, at a fixed byte offset
/// inside a value drawn from the pattern, so values are distinct because their digits are.
/// The digits take the first repeated class that holds them (`[^@\s]+` in an e-mail pattern)
/// where everything before it has one length.
#[derive(Debug, Clone)]
pub struct KeyedPattern {
    source: String,
    head: rand_regex::Regex,
    tail: rand_regex::Regex,
    radix: u64,
    width: usize,
}

impl PartialEq for KeyedPattern {
    fn eq(&self, other: &Self) -> bool {
        (&self.source, self.width) == (&other.source, other.width)
    }
}

impl KeyedPattern {
    /// `None` when the pattern has no place for `rows` distinct keys (no repeated class of
    /// digits after a part of fixed length), or uses syntax this reader does not know.
    pub fn compile(source: &str, rows: u64) -> Option<KeyedPattern> {
        let hir = regex_syntax::ParserBuilder::new()
            .build()
            .parse(source)
            .ok()?;
        let mut items = Vec::new();
        flatten(&tame(&hir), &mut items);
        for (j, h) in items.iter().enumerate() {
            if let HirKind::Repetition(r) = h.kind() {
                if let HirKind::Class(Class::Unicode(c)) = r.sub.kind() {
                    let holds = |chars: &str| {
                        chars
                            .chars()
                            .all(|ch| c.ranges().iter().any(|x| x.start() <= ch && ch <= x.end()))
                    };
                    let radix = if holds("0123456789abcdefghijklmnopqrstuvwxyz") {
                        36
                    } else if holds("0123456789") {
                        10
                    } else {
                        0
                    };
                    let width = if radix == 0 {
                        0
                    } else {
                        digits(rows.saturating_sub(1), radix).len()
                    };
                    let w = width as u32;
                    if radix > 0 && r.max.is_none_or(|m| m >= w) {
                        let rest = Hir::repetition(Repetition {
                            min: r.min.saturating_sub(w),
                            max: r.max.map(|m| m - w),
                            greedy: r.greedy,
                            sub: r.sub.clone(),
                        });
                        let tail: Vec<Hir> = std::iter::once(rest)
                            .chain(items[j + 1..].iter().cloned())
                            .collect();
                        return Some(KeyedPattern {
                            source: source.to_string(),
                            head: rand_regex::Regex::with_hir(Hir::concat(items[..j].to_vec()), 0)
                                .ok()?,
                            tail: rand_regex::Regex::with_hir(Hir::concat(tail), 12).ok()?,
                            radix,
                            width,
                        });
                    }
                }
            }
            let p = h.properties();
            if p.minimum_len().is_none() || p.minimum_len() != p.maximum_len() {
                return None;
            }
        }
        None
    }

    /// Key `i`'s value: the same for the same `i` and `salt`.
    pub fn draw(&self, i: u64, salt: u64) -> String {
        use rand::{RngExt, SeedableRng};
        let mut rng =
            rand::rngs::ChaCha8Rng::seed_from_u64(salt ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut s: String = rng.sample(&self.head);
        let key = digits(i, self.radix);
        s.extend(std::iter::repeat_n(
            '0',
            self.width.saturating_sub(key.len()),
        ));
        s.push_str(&key);
        s.push_str(&rng.sample::<String, _>(&self.tail));
        s
    }
}

/// `i` in base `radix` (10 or 36), lower-case.
fn digits(mut i: u64, radix: u64) -> String {
    const D: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(D[(i % radix) as usize]);
        i /= radix;
        if i == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The items of a concatenation, captures opened (they do not change what matches).
fn flatten(h: &Hir, out: &mut Vec<Hir>) {
    match h.kind() {
        HirKind::Concat(v) => v.iter().for_each(|x| flatten(x, out)),
        HirKind::Capture(c) => flatten(&c.sub, out),
        _ => out.push(h.clone()),
    }
}

fn tame(h: &Hir) -> Hir {
    match h.kind() {
        HirKind::Class(Class::Unicode(c)) => {
            let mut ascii = ClassUnicode::new([ClassUnicodeRange::new(' ', '~')]);
            ascii.intersect(c);
            if ascii.ranges().is_empty() {
                Hir::class(Class::Unicode(c.clone()))
            } else {
                Hir::class(Class::Unicode(ascii))
            }
        }
        HirKind::Repetition(r) => Hir::repetition(Repetition {
            min: r.min,
            max: r.max,
            greedy: r.greedy,
            sub: Box::new(tame(&r.sub)),
        }),
        HirKind::Capture(c) => Hir::capture(Capture {
            index: c.index,
            name: c.name.clone(),
            sub: Box::new(tame(&c.sub)),
        }),
        // A value that is the whole match satisfies anchors and unanchored patterns alike.
        HirKind::Look(_) => Hir::empty(),
        HirKind::Concat(v) => Hir::concat(v.iter().map(tame).collect()),
        HirKind::Alternation(v) => Hir::alternation(v.iter().map(tame).collect()),
        _ => h.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn drawn_values_match_and_stay_printable() {
        let p = Pattern::compile("^[^@]+@[^@]+$").unwrap();
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(1);
        for _ in 0..200 {
            let v = p.draw(&mut rng);
            let (a, b) = v.split_once('@').expect("one @");
            assert!(!a.is_empty() && !b.is_empty() && !b.contains('@'), "{v}");
            assert!(v.chars().all(|c| (' '..='~').contains(&c)), "{v:?}");
        }
        let zip = Pattern::compile("^[0-9]{5}(-[0-9]{4})?$").unwrap();
        let v = zip.draw(&mut rng);
        assert!(v.len() == 5 || v.len() == 10, "{v}");
    }

    #[test]
    fn keyed_values_match_and_are_distinct() {
        let re = regex::Regex::new(r"^[^@\s]+@[^@\s]+$").unwrap();
        let k = KeyedPattern::compile(r"^[^@\s]+@[^@\s]+$", 5000).unwrap();
        let all: std::collections::HashSet<String> = (0..5000).map(|i| k.draw(i, 7)).collect();
        assert_eq!(all.len(), 5000);
        assert!(all.iter().all(|v| re.is_match(v)), "{all:?}");
        assert_eq!(k.draw(42, 7), k.draw(42, 7));
        // Digits only, after a fixed prefix.
        let sku = KeyedPattern::compile("^SKU-[0-9]{4,8}$", 100_000).unwrap();
        let v = sku.draw(99_999, 1);
        assert!(
            regex::Regex::new("^SKU-[0-9]{4,8}$").unwrap().is_match(&v),
            "{v}"
        );
        assert!(v.starts_with("SKU-99999"), "{v}");
        // No room for 100,000 keys in four digits; a variable part before the class.
        assert!(KeyedPattern::compile("^[0-9]{4}$", 100_000).is_none());
        assert!(KeyedPattern::compile("^(a|bb)[0-9]+$", 10).is_none());
    }
}
