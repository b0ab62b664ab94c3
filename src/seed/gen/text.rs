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

/// `x` turned by `by` within [0, 1): still one position per stratum.
fn turn(x: f64, by: f64) -> f64 {
    (x + by).fract()
}

/// A text value of a drawn length holding the drawn character classes; with a `band`, the
/// classes are the row's stratified share (see [`Classes::rows`]).
pub(super) fn text(
    rng: &mut ChaCha8Rng,
    len: &Curve,
    c: &Classes,
    max_chars: Option<usize>,
    words: Option<&(Vec<String>, Vec<f64>)>,
    at: Option<f64>,
    band: Option<&Band>,
) -> String {
    let u = match band {
        Some(b) => stratum(b.j, b.n, b.k, b.stream),
        None => rng.random::<f64>(),
    };
    if u < c.empty && (at.is_none() || band.is_some()) {
        return String::new();
    }
    let target = len.at(at.unwrap_or_else(|| rng.random::<f64>())).round();
    if target < 1.0 && c.empty > 0.0 && at.is_some() {
        // A placed length of none (a category or an extreme at the curve's low end) of a
        // column that holds empty strings: the empty string.
        return String::new();
    }
    let target = target.max(1.0) as usize;
    let mut fragments: Vec<&str> = Vec::new();
    if u >= c.empty + c.ascii {
        // Classes keep their shares: one class per value when they fit (sum ≤ 1), else each
        // drawn on its own; a value with none gets a neutral non-ASCII character.
        let sum: f64 = c.fragments.iter().map(|(_, p)| p).sum();
        if sum <= 1.0 {
            // Within the non-ASCII band, where the row's position falls picks the class: the
            // class bands are exact shares of the rows.
            let mut x = match band {
                Some(_) => (u - c.empty - c.ascii) / (1.0 - c.empty - c.ascii).max(1e-12),
                None => rng.random::<f64>(),
            };
            for (f, p) in &c.fragments {
                if x < *p {
                    fragments.push(f);
                    break;
                }
                x -= p;
            }
        } else {
            // Each class on its own: the non-ASCII rows' positions turned by a class's own
            // amount, so each holds its share of them.
            let x = (u - c.empty - c.ascii) / (1.0 - c.empty - c.ascii).max(1e-12);
            for (i, (f, p)) in c.fragments.iter().enumerate() {
                let y = match band {
                    Some(_) => turn(x, (i + 1) as f64 * 0.618_033_988_75),
                    None => rng.random::<f64>(),
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
    let edge = match band {
        // Over the non-empty rows (its share is of them).
        Some(_) => turn((u - c.empty) / (1.0 - c.empty).max(1e-12), 0.5) < c.edge_whitespace,
        None => rng.random::<f64>() < c.edge_whitespace,
    };
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
