//! Dates, times, timestamps and intervals from seconds, written digit by digit (the chrono
//! spelling kept as the tests' reference).

use super::*;

/// Seconds (since 1970, since midnight, or of an interval) as PostgreSQL text.
pub fn temporal(secs: f64, kind: Temporal) -> String {
    let mut out = Vec::with_capacity(32);
    write_temporal(&mut out, secs, kind);
    String::from_utf8(out).unwrap_or_default()
}

/// [`temporal`] appended to `out`: years 1 to 9999 written digit by digit (chrono's format
/// strings, parsed on every call, took a tenth of a seed's time), others by chrono.
pub(super) fn write_temporal(out: &mut Vec<u8>, secs: f64, kind: Temporal) {
    use chrono::{Datelike, Timelike};
    fn digits(out: &mut Vec<u8>, v: u32, width: usize) {
        let mut buf = [b'0'; 10];
        let mut v = v;
        for i in (0..width).rev() {
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        out.extend_from_slice(&buf[..width]);
    }
    let whole = secs.floor() as i64;
    let micros = ((secs - secs.floor()) * 1e6).round().min(999_999.0) as u32;
    let dt = chrono::DateTime::from_timestamp(whole, micros * 1000)
        .unwrap_or_default()
        .naive_utc();
    let (date, time, zone) = match kind {
        Temporal::Date => (true, false, false),
        Temporal::Timestamp => (true, true, false),
        Temporal::TimestampTz => (true, true, true),
        Temporal::Time => (false, true, false),
        Temporal::TimeTz => (false, true, true),
        Temporal::Interval => {
            use std::io::Write;
            let _ = write!(out, "{:.6} seconds", secs);
            return;
        }
    };
    if date && !(1..=9999).contains(&dt.year()) {
        let text = match kind {
            Temporal::Date => dt.format("%Y-%m-%d").to_string(),
            Temporal::Timestamp => dt.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
            _ => dt.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string(),
        };
        out.extend_from_slice(text.as_bytes());
        return;
    }
    if date {
        digits(out, dt.year() as u32, 4);
        out.push(b'-');
        digits(out, dt.month(), 2);
        out.push(b'-');
        digits(out, dt.day(), 2);
        if time {
            out.push(b' ');
        }
    }
    if time {
        digits(out, dt.hour(), 2);
        out.push(b':');
        digits(out, dt.minute(), 2);
        out.push(b':');
        digits(out, dt.second(), 2);
        out.push(b'.');
        digits(out, dt.nanosecond() / 1000, 6);
    }
    if zone {
        out.extend_from_slice(b"+00");
    }
}

/// [`temporal`] through chrono's format strings alone: what the fast path must equal.
#[cfg(test)]
pub(super) fn temporal_by_chrono(secs: f64, kind: Temporal) -> String {
    let whole = secs.floor() as i64;
    let micros = ((secs - secs.floor()) * 1e6).round().min(999_999.0) as u32;
    let dt = chrono::DateTime::from_timestamp(whole, micros * 1000)
        .unwrap_or_default()
        .naive_utc();
    match kind {
        Temporal::Date => dt.format("%Y-%m-%d").to_string(),
        Temporal::Timestamp => dt.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
        Temporal::TimestampTz => dt.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string(),
        Temporal::Time => dt.format("%H:%M:%S%.6f").to_string(),
        Temporal::TimeTz => dt.format("%H:%M:%S%.6f+00").to_string(),
        Temporal::Interval => format!("{:.6} seconds", secs),
    }
}
