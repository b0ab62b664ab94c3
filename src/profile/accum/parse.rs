//! A value's text as COPY sends it, read for measuring: numbers (plain decimals without a
//! parse), dates as days, long values' markers, JSON depth.

use super::*;

/// A number's or time's value that is not finite, spelled one way for every type: `NaN`,
/// `Infinity`, `-Infinity` (floats and numeric write those; dates and timestamps write
/// `infinity` and `-infinity`).
pub(super) fn special(v: &str) -> Option<&'static str> {
    match v {
        "NaN" => Some("NaN"),
        "Infinity" | "infinity" => Some("Infinity"),
        "-Infinity" | "-infinity" => Some("-Infinity"),
        _ => None,
    }
}

/// The form of a number beyond its magnitude: below zero, zero, or with a fraction.
pub(super) fn number_form(x: f64) -> Option<&'static str> {
    if x < 0.0 {
        Some("negative")
    } else if x == 0.0 {
        Some("zero")
    } else {
        None
    }
}

/// An interval's (or time's) form: intervals and times are sent as seconds (`-86400`), dates
/// and timestamps as text (`2024-01-31...`, before 1970 too): a negative number of seconds is
/// a negative interval.
pub(super) fn temporal_form(v: &str, x: f64) -> Option<&'static str> {
    let dated = v.len() >= 10 && v.as_bytes()[4] == b'-';
    (x < 0.0 && !dated).then_some("negative")
}

/// The form of a value measured by its text (uuid, inet and cidr are recognised by their
/// exact shapes; other types have none): a uuid's version or the nil uuid, an IPv6 address,
/// a network prefix.
pub(super) fn other_form(v: &str) -> Option<&'static str> {
    const VERSIONS: [&str; 9] = [
        "uuid-v0", "uuid-v1", "uuid-v2", "uuid-v3", "uuid-v4", "uuid-v5", "uuid-v6", "uuid-v7",
        "uuid-v8",
    ];
    let b = v.as_bytes();
    let uuid = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    if uuid {
        if v == "00000000-0000-0000-0000-000000000000" {
            return Some("uuid-nil");
        }
        let version = (b[14] as char).to_digit(16)? as usize;
        return VERSIONS.get(version).copied();
    }
    let (addr, prefix) = v.split_once('/').unwrap_or((v, ""));
    match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(_)) => Some("ipv6"),
        Ok(std::net::IpAddr::V4(_)) if !prefix.is_empty() && prefix != "32" => Some("prefix"),
        _ => None,
    }
}

/// A JSON document's top-level form.
pub(super) fn json_form(j: &serde_json::Value) -> &'static str {
    match j {
        serde_json::Value::Object(_) => "object",
        serde_json::Value::Array(_) => "array",
        _ => "scalar",
    }
}

/// A long value's (bytes, characters, ends) from its marker text.
pub(super) fn long_value(v: &str) -> Option<(f64, f64, &str)> {
    let rest = v.strip_prefix(LONG_MARKER)?;
    let (bytes, rest) = rest.split_once(':')?;
    let (chars, ends) = rest.split_once(':')?;
    Some((bytes.parse().ok()?, chars.parse().ok()?, ends))
}

/// A number, or a date or timestamp in ISO style (sessions run with DateStyle ISO and
/// TimeZone UTC) as seconds since 1970. Parsed by hand: this runs for every value.
pub(crate) fn number(v: &str) -> Option<f64> {
    let b = v.as_bytes();
    if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' {
        let digits = |r: std::ops::Range<usize>| -> Option<i64> {
            b.get(r)?.iter().try_fold(0i64, |acc, &c| {
                c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as i64)
            })
        };
        let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
        let mut secs = days_from_civil(y, m, d) as f64 * 86400.0;
        if b.len() >= 19 && b[10] == b' ' && b[13] == b':' && b[16] == b':' {
            secs += (digits(11..13)? * 3600 + digits(14..16)? * 60 + digits(17..19)?) as f64;
            if b.get(19) == Some(&b'.') {
                let end = b[20..]
                    .iter()
                    .position(|c| !c.is_ascii_digit())
                    .map_or(b.len(), |p| p + 20);
                if end > 20 {
                    secs += digits(20..end)? as f64 / 10f64.powi((end - 20) as i32);
                }
            }
        }
        return Some(secs);
    }
    plain_decimal(b).or_else(|| v.trim().parse::<f64>().ok())
}

/// A plain decimal (`-123.45`: a sign, at most 15 digits, a point) as the float the standard
/// parser gives, without its generality: both the digits as an integer and the power of ten
/// are exact floats, so one division rounds correctly (Clinger's fast path). Most numbers
/// a profile meets are these; anything else (exponents, `NaN`, long digits) returns `None`.
pub(super) fn plain_decimal(b: &[u8]) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let (negative, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    let (mut mantissa, mut count, mut fraction, mut point) = (0u64, 0usize, 0usize, false);
    for &c in digits {
        match c {
            b'0'..=b'9' if count < 15 => {
                mantissa = mantissa * 10 + u64::from(c - b'0');
                count += 1;
                fraction += usize::from(point);
            }
            b'.' if !point => point = true,
            _ => return None,
        }
    }
    if count == 0 || (point && fraction == 0) {
        return None;
    }
    let x = mantissa as f64 / POW10[fraction];
    Some(if negative { -x } else { x })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(super) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

pub(super) fn json_depth(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Array(a) => 1 + a.iter().map(json_depth).max().unwrap_or(0),
        serde_json::Value::Object(o) => 1 + o.values().map(json_depth).max().unwrap_or(0),
        _ => 0,
    }
}
