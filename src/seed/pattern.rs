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
}
