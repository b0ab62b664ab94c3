//! Text of a drawn length holding the drawn character classes (emoji, right-to-left,
//! combining marks, non-NFC forms...), within a CHECK's length.

use super::*;

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

/// Where a row's classes are chosen: the `j`th non-NULL row of `n`, through the multiplier
/// `k` (see [`stratum`]). One position decides every class, nested so that no class lands
/// on a row that cannot hold it: empty first; the edge whitespace over the non-empty rows; the
/// other classes over the non-ASCII rows (each share exact to within a row).
#[derive(Debug, Clone, Copy)]
pub struct Band {
    pub j: u64,
    pub n: u64,
    pub k: u64,
    /// The column's own offset.
    pub stream: u64,
}

impl Band {
    /// The row's stratified position in [0, 1).
    pub fn position(&self) -> f64 {
        stratum(self.j, self.n, self.k, self.stream)
    }
}

/// `x` turned by `by` within [0, 1): still one position per stratum.
fn turn(x: f64, by: f64) -> f64 {
    (x + by).fract()
}

/// The classes a non-empty value at position `u` holds: its fragments and whether it has
/// edge whitespace. `banded`: `u` is a stratified position and decides every class (nested:
/// edge whitespace over the non-empty values, the other classes over the non-ASCII ones);
/// else `u` decides ASCII or not and the rest is drawn.
pub(super) fn chosen(
    rng: &mut ChaCha8Rng,
    u: f64,
    c: &Classes,
    banded: bool,
) -> (Vec<&'static str>, bool) {
    let mut fragments: Vec<&'static str> = Vec::new();
    if u >= c.empty + c.ascii {
        // Classes keep their shares: one class per value when they fit (sum ≤ 1), else each
        // drawn on its own; a value with none gets a neutral non-ASCII character.
        let x = (u - c.empty - c.ascii) / (1.0 - c.empty - c.ascii).max(1e-12);
        let sum: f64 = c.fragments.iter().map(|(_, p)| p).sum();
        if sum <= 1.0 {
            // Within the non-ASCII band, where the value's position falls picks the class:
            // the class bands are exact shares of the rows.
            let mut x = if banded { x } else { rng.random::<f64>() };
            for (f, p) in &c.fragments {
                if x < *p {
                    fragments.push(f);
                    break;
                }
                x -= p;
            }
        } else {
            // Each class on its own: the non-ASCII positions turned by a class's own amount,
            // so each holds its share of them.
            for (i, (f, p)) in c.fragments.iter().enumerate() {
                let y = if banded {
                    turn(x, (i + 1) as f64 * 0.618_033_988_75)
                } else {
                    rng.random::<f64>()
                };
                if y < *p {
                    fragments.push(f);
                }
            }
        }
        if fragments.is_empty() {
            fragments.push("\u{B7}");
        }
    }
    let edge = if banded {
        // Over the non-empty values (its share is of them).
        turn((u - c.empty) / (1.0 - c.empty).max(1e-12), 0.5) < c.edge_whitespace
    } else {
        rng.random::<f64>() < c.edge_whitespace
    };
    (fragments, edge)
}

/// A text value of a drawn length holding the drawn character classes; with a stratified
/// position `placed` (a row's [`Band`], see [`Band::position`]), the
/// classes are the row's stratified share (see [`Classes::rows`]).
pub(super) fn text(
    rng: &mut ChaCha8Rng,
    len: &Curve,
    c: &Classes,
    max_chars: Option<usize>,
    words: Option<&(Vec<String>, Vec<f64>)>,
    at: Option<f64>,
    placed: Option<f64>,
) -> String {
    let u = placed.unwrap_or_else(|| rng.random::<f64>());
    if u < c.empty && (at.is_none() || placed.is_some()) {
        return String::new();
    }
    let target = len.at(at.unwrap_or_else(|| rng.random::<f64>())).round();
    if target < 1.0 && c.empty > 0.0 && at.is_some() {
        // A placed length of none (a category or an extreme at the curve's low end) of a
        // column that holds empty strings: the empty string.
        return String::new();
    }
    let target = target.max(1.0) as usize;
    let (mut fragments, edge) = chosen(rng, u, c, placed.is_some());
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

/// A unique text key's classes: its index's stratified position among the table's `rows`
/// keys picks them as for a row (see [`chosen`]); never empty (one row at most could be).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyClasses {
    pub classes: Classes,
    pub rows: u64,
    pub step: u64,
    pub salt: u64,
    /// The column's length limit, in characters.
    pub cap: Option<usize>,
    /// Production's lengths, in characters: key `i` is padded with letters after its digits
    /// to the length at its own stratified position, so the extremes are seeded too.
    pub len: Option<Curve>,
}

impl KeyClasses {
    pub fn new(
        classes: Classes,
        rows: u64,
        salt: u64,
        cap: Option<usize>,
        len: Option<Curve>,
    ) -> KeyClasses {
        KeyClasses {
            classes,
            rows,
            step: coprime_step(rows),
            salt,
            cap,
            len,
        }
    }

    /// `digits` (the key's unique part, all of one width) with key `i`'s classes around it.
    pub fn dress(&self, i: u64, digits: String) -> String {
        let c = &self.classes;
        let u = stratum(i, self.rows, self.step, self.salt);
        // An empty key's position holds ASCII digits: the key stays.
        let u = u.max(c.empty);
        let mut rng = rng_for(&[self.salt, i]);
        let (fragments, edge) = chosen(&mut rng, u, c, true);
        let mut s = String::with_capacity(digits.len() + 16);
        if edge {
            s.push(' ');
        }
        s.push_str(&digits);
        if let Some(len) = &self.len {
            let v = stratum(i, self.rows, self.step, self.salt ^ 0x1E4_6785);
            let frag: usize = fragments.iter().map(|f| f.chars().count()).sum();
            let target = (len.at(v).round().max(0.0) as usize)
                .min(self.cap.unwrap_or(usize::MAX))
                .saturating_sub(frag);
            let have = digits.len() + usize::from(edge);
            if target > have {
                s.push_str(&word(&mut rng, target - have));
            }
        }
        let digits = s.trim_start().to_string();
        for f in fragments {
            s.push_str(f);
        }
        if self.cap.is_some_and(|cap| s.chars().count() > cap) {
            return digits;
        }
        s
    }
}
