//! Character classes of a text value: the encodings and edge cases that break code written
//! and tested on ASCII. A value holds a class when any of its characters does.

use unicode_normalization::{is_nfc_quick, IsNormalized};
use unicode_properties::{GeneralCategoryGroup, UnicodeEmoji, UnicodeGeneralCategory};
use unicode_script::{Script, UnicodeScript};

/// Class names, in bit order. Documented in docs/snapshot-format.md.
pub const CLASSES: [&str; 14] = [
    "ascii_only",
    "latin1_supplement",
    "other_latin",
    "greek_cyrillic",
    "cjk",
    "rtl",
    "other_script",
    "emoji",
    "combining_mark",
    "outside_bmp",
    "control_or_invisible",
    "edge_whitespace",
    "empty",
    "not_nfc",
];

/// Human words for a class, for messages.
pub fn describe(class: &str) -> &'static str {
    match class {
        "ascii_only" => "ASCII-only text",
        "latin1_supplement" => "Latin-1 accented letters (é, ñ, ß)",
        "other_latin" => "other Latin letters (ł, ő, ț)",
        "greek_cyrillic" => "Greek or Cyrillic text",
        "cjk" => "Chinese, Japanese or Korean text",
        "rtl" => "right-to-left text (Arabic, Hebrew)",
        "other_script" => "text in other scripts (Devanagari, Thai...)",
        "emoji" => "emoji (including ZWJ sequences and flags)",
        "combining_mark" => "combining marks (decomposed accents)",
        "outside_bmp" => "4-byte characters outside the BMP",
        "control_or_invisible" => "control or invisible characters (zero-width, BOM)",
        "edge_whitespace" => "leading or trailing whitespace",
        "empty" => "empty strings",
        "not_nfc" => "text that is not NFC-normalized",
        _ => "other",
    }
}

/// The bit set of classes `s` holds.
pub fn classify(s: &str) -> u16 {
    let bit = |name: &str| 1u16 << CLASSES.iter().position(|c| *c == name).expect("class");
    if s.is_empty() {
        return bit("empty");
    }
    let mut m = 0u16;
    if s.is_ascii() {
        m |= bit("ascii_only");
        if s.bytes()
            .any(|b| b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r' || b == 0x7f)
        {
            m |= bit("control_or_invisible");
        }
    } else {
        let mut prev_zwj = false;
        for c in s.chars() {
            let cp = c as u32;
            if (0x80..=0xFF).contains(&cp) && c.is_alphabetic() {
                m |= bit("latin1_supplement");
            }
            if cp > 0xFFFF {
                m |= bit("outside_bmp");
            }
            if c == '\u{200D}' {
                prev_zwj = true;
            }
            let emoji = cp > 0x7F
                && c.is_emoji_char()
                && !(0x2000..0x2100).contains(&cp)
                && cp != 0xA9
                && cp != 0xAE
                || unicode_properties::emoji::is_regional_indicator(c);
            if emoji || (prev_zwj && c.is_emoji_char() && cp > 0x7F) {
                m |= bit("emoji");
            }
            match c.general_category_group() {
                GeneralCategoryGroup::Mark => m |= bit("combining_mark"),
                GeneralCategoryGroup::Other if !matches!(c, '\t' | '\n' | '\r') => {
                    m |= bit("control_or_invisible");
                }
                _ => {}
            }
            if matches!(cp, 0x200B..=0x200F | 0x2060..=0x2064 | 0xFEFF) {
                m |= bit("control_or_invisible");
            }
            match c.script() {
                Script::Latin if cp > 0xFF => m |= bit("other_latin"),
                Script::Greek | Script::Cyrillic => m |= bit("greek_cyrillic"),
                Script::Han
                | Script::Hiragana
                | Script::Katakana
                | Script::Hangul
                | Script::Bopomofo => m |= bit("cjk"),
                Script::Arabic | Script::Hebrew | Script::Syriac | Script::Thaana | Script::Nko => {
                    m |= bit("rtl")
                }
                Script::Common | Script::Inherited | Script::Unknown | Script::Latin => {}
                _ => m |= bit("other_script"),
            }
        }
        if is_nfc_quick(s.chars()) != IsNormalized::Yes && !unicode_normalization::is_nfc(s) {
            m |= bit("not_nfc");
        }
    }
    let first = s.chars().next().unwrap_or('x');
    let last = s.chars().next_back().unwrap_or('x');
    if first.is_whitespace() || last.is_whitespace() {
        m |= bit("edge_whitespace");
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &str) -> Vec<&'static str> {
        let m = classify(s);
        CLASSES
            .iter()
            .enumerate()
            .filter(|(i, _)| m & (1 << i) != 0)
            .map(|(_, c)| *c)
            .collect()
    }

    #[test]
    fn edge_cases_are_named() {
        assert_eq!(names("plain ascii 123 #*"), vec!["ascii_only"]);
        assert_eq!(names("café"), vec!["latin1_supplement"]);
        assert_eq!(names("Łódź"), vec!["latin1_supplement", "other_latin"]);
        assert_eq!(names("Москва"), vec!["greek_cyrillic"]);
        assert_eq!(names("東京"), vec!["cjk"]);
        assert_eq!(names("שלום"), vec!["rtl"]);
        assert_eq!(names("नमस्ते"), vec!["other_script", "combining_mark"]);
        assert!(names("hi 👋").contains(&"emoji") && names("hi 👋").contains(&"outside_bmp"));
        assert!(names("👨‍👩‍👧").contains(&"emoji"));
        assert!(names("🇫🇷").contains(&"emoji"));
        assert!(!names("© 2026").contains(&"emoji"));
        assert_eq!(names("e\u{301}"), vec!["combining_mark", "not_nfc"]);
        assert_eq!(names("a\u{200B}b"), vec!["control_or_invisible"]);
        assert_eq!(names("\u{FEFF}bom"), vec!["control_or_invisible"]);
        assert_eq!(names(" padded"), vec!["ascii_only", "edge_whitespace"]);
        assert_eq!(names(""), vec!["empty"]);
    }
}
