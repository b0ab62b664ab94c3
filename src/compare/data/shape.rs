//! The shape of a column's values beyond which values exist: whether they repeat
//! (uniqueness), how much of the column its most common value holds (frequency), a
//! distribution moved as a whole (shifted by an offset or rescaled by a factor), and sentinel
//! dates far outside the rest of a column.

use super::column::{Column, Declared};
use super::*;

/// A value repeats among the rows read (the profile keeps every repeated value's count, up to
/// its top list, so one repeat is a fact of the rows read).
fn repeats(c: &ColumnProfile) -> bool {
    c.top.first().is_some_and(|t| t.count > 1)
}

/// Rows among the right side's that hold a value some other row holds too.
fn repeated_rows(c: &ColumnProfile) -> u64 {
    c.top.iter().filter(|t| t.count > 1).map(|t| t.count).sum()
}

/// How many repeats `n` rows drawn (without replacement) from `c`'s rows would hold: a value
/// held by `k` of its rows shows in a draw of a share `f` of them `1 - (1 - f)^k` times on
/// average, so it adds `k f - 1 + (1 - f)^k` repeats (none for a value seen once). Values
/// past the top list count as seen once: an underestimate, so a gap is never invented.
fn expected_repeats(c: &ColumnProfile, n: u64) -> f64 {
    let f = (n as f64 / non_null(c).max(1) as f64).min(1.0);
    c.top
        .iter()
        .filter(|t| t.count > 1)
        .map(|t| {
            let k = t.count as f64;
            k * f - 1.0 + (1.0 - f).powf(k)
        })
        .sum()
}

/// Uniqueness: every value distinct on one side and repeating on the other. Staging's values
/// all distinct where production's repeat hides every bug of code that assumes one row per
/// value (lookups with `fetchOne`, joins that multiply rows, keyset pagination); staging
/// holding duplicates that production's unique constraint forbids is said too.
pub(super) fn uniqueness(c: &Column, declared: Declared, out: &mut Vec<Finding>) {
    // A seeded side repeats text where the profile counted repeats (its frequent values at
    // their shares); other kinds' repeats it does not make yet (issue 34).
    if c.seeded && !(c.a.kind == ValueKind::Text && c.b.kind == ValueKind::Text) {
        return;
    }
    let (s, object, a, b, na, nb) = (c.s, c.object, c.a, c.b, c.na, c.nb);
    let (ra, rb) = (repeats(a), repeats(b));
    if !ra && rb {
        // Staging's absence of repeats is certain where its rows were all read and counted
        // exactly; where sampled, only where its sample would have shown 6 repeats.
        let Some(da) = &a.distinct else { return };
        let exact = da.method == "exact";
        let sampled = da.method.starts_with("sample");
        let expected = expected_repeats(b, na);
        let certain = (exact && c.left_complete) || (sampled && expected >= 2.0 * c.t.min_expected);
        // Production's values mostly distinct (a column that looks unique): a column whose
        // values repeat by nature (amounts, statuses) is no uniqueness gap.
        let distinct_b = b.distinct.as_ref().map_or(0.0, |d| d.lower);
        let looks_unique = distinct_b >= 0.5 * nb as f64;
        if !(certain && looks_unique && na >= 2) {
            return;
        }
        let rows = repeated_rows(b);
        let (sev, because) = if declared.left && !declared.right {
            (
                Severity::High,
                format!(
                    "; {} declares it unique, {} does not",
                    s.left_name, s.right_name
                ),
            )
        } else {
            (by_share(Severity::Medium, share(rows, nb)), String::new())
        };
        out.push(
            Finding::new(Category::Distribution, sev, object, "uniqueness")
                .values(
                    Some("every value distinct".to_string()),
                    Some(format!("{} of rows hold a repeated value", pct(share(rows, nb)))),
                )
                .message(format!(
                    "{object}: every value is distinct in {} ({} rows), while {} of {}'s rows hold a value another row holds too{because}",
                    s.left_name,
                    count(na as f64),
                    pct(share(rows, nb)),
                    s.right_name
                ))
                .why("code that assumes one row per value (single-row lookups, joins on it, keyset pagination, caches keyed by it) is never tested against duplicates")
                .hint(format!("add rows repeating {object} to {}", s.left_name)),
        );
    } else if ra && !rb && declared.right && !declared.left {
        let rows = repeated_rows(a);
        out.push(
            Finding::new(Category::Distribution, Severity::High, object, "uniqueness")
                .values(
                    Some(format!("{} of rows hold a repeated value", pct(share(rows, na)))),
                    Some("unique (declared)".to_string()),
                )
                .message(format!(
                    "{object}: {} of {}'s rows repeat a value, which {}'s unique constraint or index forbids",
                    pct(share(rows, na)),
                    s.left_name,
                    s.right_name
                ))
                .why("staging's tests exercise duplicates production can never hold, and production's unique violations (ON CONFLICT paths, retries) are never exercised")
                .hint(format!("declare {object} unique in {} and clean its duplicates", s.left_name)),
        );
    }
}

/// The most common value's share of the non-NULL values read.
fn top_share(c: &ColumnProfile) -> f64 {
    share(c.top.first().map_or(0, |t| t.count), non_null(c))
}

/// Frequency: the most common value's share far apart (by more than 20 points and four
/// standard errors), whichever value it is: skew decides plans and hot paths even where the
/// set of values is the same. A seeded side is compared this way for text only, whose
/// frequencies its generator keeps (categories by weight, frequent values among fresh ones);
/// those of other types: issue 34.
pub(super) fn frequency(c: &Column, out: &mut Vec<Finding>) {
    let (s, object, a, b, na, nb) = (c.s, c.object, c.a, c.b, c.na, c.nb);
    if na == 0 || nb == 0 || (a.top.is_empty() && b.top.is_empty()) {
        return;
    }
    if c.seeded && !(a.kind == ValueKind::Text && b.kind == ValueKind::Text) {
        return;
    }
    let (pa, pb) = (top_share(a), top_share(b));
    let se = (pa * (1.0 - pa) / na as f64 + pb * (1.0 - pb) / nb as f64).sqrt();
    if (pa - pb).abs() <= 0.2_f64.max(4.0 * se) {
        return;
    }
    let sev = if pb > pa {
        Severity::Medium
    } else {
        Severity::Low
    };
    out.push(
        Finding::new(Category::Distribution, sev, object, "frequency")
            .values(Some(format!("top value {}", pct(pa))), Some(format!("top value {}", pct(pb))))
            .message(format!(
                "{object}: the most common value holds {} of {}'s rows and {} of {}'s",
                pct(pa),
                s.left_name,
                pct(pb),
                s.right_name
            ))
            .why("skew decides plans (a generic plan, a hash table sized for a flat column) and hot paths: one environment's data hides the other's dominant value")
            .hint(format!("give {}'s {object} {}'s skew", s.left_name, s.right_name)),
    );
}

/// The inner quantiles' indexes in `QUANTILES`: the 1st to the 99th percentile.
fn inner() -> std::ops::RangeInclusive<usize> {
    1..=5
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// An offset in seconds, in words ("+3 h", "-1 day 2 h", "+90 s").
fn duration(secs: f64) -> String {
    let sign = if secs < 0.0 { "-" } else { "+" };
    let s = secs.abs();
    let body = if s >= 86_400.0 && (s % 86_400.0) < 1.0 {
        format!("{} day(s)", two_digits(s / 86_400.0))
    } else if s >= 3_600.0 {
        format!("{} h", two_digits(s / 3_600.0))
    } else if s >= 60.0 {
        format!("{} min", two_digits(s / 60.0))
    } else {
        format!("{} s", two_digits(s))
    };
    format!("{sign}{body}")
}

/// A distribution moved as a whole: every inner quantile (1st to 99th percentile) moved by
/// about the same factor (numbers: a unit bug, cents against euros) or offset (times: a time
/// zone; numbers: a base moved), with the spread kept. Named in the finding, because that is
/// what the user looks for; returns whether it was found (then the range and magnitude
/// findings, which would say the same less precisely, are not given).
pub(super) fn moved(c: &Column, out: &mut Vec<Finding>) -> bool {
    let (a, b) = (c.a, c.b);
    if !matches!(a.kind, ValueKind::Number | ValueKind::Temporal)
        || a.quantiles.len() != 7
        || b.quantiles.len() != 7
    {
        return false;
    }
    let (qa, qb) = (&a.quantiles, &b.quantiles);
    let (spread_a, spread_b) = (qa[5] - qa[1], qb[5] - qb[1]);
    if !(spread_a > 0.0 && spread_b > 0.0) {
        return false;
    }
    let close = |x: f64, to: f64, tol: f64| (x - to).abs() <= tol * to.abs();
    // A factor, for numbers: every quantile of one sign, each ratio within 5 % of the median,
    // by 4 or more (units differ by 7, 10^k, 12, 24, 60, 100, 1000: growth of a business
    // by two or three is no unit bug).
    if a.kind == ValueKind::Number
        && inner().all(|i| qa[i] != 0.0 && qa[i].signum() == qb[i].signum())
    {
        let r: Vec<f64> = inner().map(|i| qb[i] / qa[i]).collect();
        let f = median(r.clone());
        if (f >= 4.0 || f <= 0.25) && r.iter().all(|x| close(*x, f, 0.05)) {
            let shown = if f >= 1.0 {
                format!("×{}", two_digits(f))
            } else {
                format!("×{} (÷{})", two_digits(f), two_digits(1.0 / f))
            };
            push_moved(c, out, "rescaled", &shown, "a unit or scale differs (cents against euros, milliseconds against seconds, percent against fractions): sums, limits and formats are tested in the other unit", "load values in the same unit on both sides");
            return true;
        }
    }
    // An offset: each quantile moved by the same amount (within 5 % of it), the spread kept
    // (within 10 %), by at least a tenth of the spread (numbers) or 15 minutes (times: rows
    // loaded seconds apart are no shift).
    let d: Vec<f64> = inner().map(|i| qb[i] - qa[i]).collect();
    let off = median(d.clone());
    let big = match a.kind {
        ValueKind::Temporal => off.abs() >= 900.0,
        _ => off.abs() >= 0.1 * spread_a,
    };
    if off != 0.0 && big && d.iter().all(|x| close(*x, off, 0.05)) && close(spread_b, spread_a, 0.1)
    {
        let (shown, why, hint) = if a.kind == ValueKind::Temporal {
            let zone = (off.abs() % 900.0).min(900.0 - off.abs() % 900.0) < 60.0
                && off.abs() <= 14.0 * 3600.0;
            (
                duration(off),
                if zone {
                    "every time moved by a whole time-zone offset: a time zone differs where values are written or read (a session's TimeZone, a timestamp without time zone), and day boundaries, reports and schedules differ"
                } else {
                    "every time moved by the same amount: a clock, a time zone or a load's base date differs, and day boundaries, reports and schedules differ"
                },
                "check the TimeZone of the writers and the column's type on both sides",
            )
        } else {
            (
                format!(
                    "{}{}",
                    if off > 0.0 { "+" } else { "-" },
                    value(a, off.abs())
                ),
                "every value moved by the same amount: a base, an epoch or an offset differs",
                "load values on the same base on both sides",
            )
        };
        push_moved(c, out, "shifted", &shown, why, hint);
        return true;
    }
    false
}

fn push_moved(c: &Column, out: &mut Vec<Finding>, form: &str, shown: &str, why: &str, hint: &str) {
    let (s, object, a, b) = (c.s, c.object, c.a, c.b);
    let median_of = |p: &ColumnProfile| value(p, p.quantiles[3]);
    let sev = if form == "rescaled" {
        Severity::High
    } else {
        Severity::Medium
    };
    out.push(
        Finding::new(Category::Distribution, sev, object, form)
            .values(Some(format!("median {}", median_of(a))), Some(format!("median {}", median_of(b))))
            .message(format!(
                "{object}: {}'s values are {}'s {form} — every quantile about {shown} (medians {} and {})",
                s.right_name,
                s.left_name,
                median_of(a),
                median_of(b)
            ))
            .why(why)
            .hint(hint),
    );
}

/// Sentinel dates: the right side's latest (or earliest) value far outside the rest of its
/// values — beyond its 99th (1st) percentile by ten times its spread and 50 years, like year
/// 9999 or year 1 — where the left side, read whole, holds nothing like it.
pub(super) fn sentinel(c: &Column, out: &mut Vec<Finding>) {
    let (s, object, a, b) = (c.s, c.object, c.a, c.b);
    if a.kind != ValueKind::Temporal || b.quantiles.len() != 7 || !c.left_complete {
        return;
    }
    let (Some(amin), Some(amax), Some(bmin), Some(bmax)) = (a.min, a.max, b.min, b.max) else {
        return;
    };
    const FIFTY_YEARS: f64 = 50.0 * 365.25 * 86_400.0;
    let spread = b.quantiles[5] - b.quantiles[1];
    for (high, bx, edge, ax) in [
        (true, bmax, b.quantiles[5], amax),
        (false, bmin, b.quantiles[1], amin),
    ] {
        let gap = if high { bx - edge } else { edge - bx };
        let left_has = if high {
            ax >= bx - gap / 2.0
        } else {
            ax <= bx + gap / 2.0
        };
        if gap < (10.0 * spread).max(FIFTY_YEARS) || left_has {
            continue;
        }
        let which = if high { "latest" } else { "earliest" };
        out.push(
            Finding::new(Category::Distribution, Severity::High, object, if high { "sentinel-max" } else { "sentinel-min" })
                .values(Some(value(a, ax)), Some(value(b, bx)))
                .message(format!(
                    "{object}: {}'s {which} value is {}, far outside the rest of its values (99 % within {} to {}); {}'s {which} is {}",
                    s.right_name,
                    value(b, bx),
                    value(b, b.quantiles[1]),
                    value(b, b.quantiles[5]),
                    s.left_name,
                    value(a, ax)
                ))
                .why("a sentinel date (year 9999 for 'never', year 1 for 'unknown') breaks date arithmetic, time zones, age and duration computations and charts, and staging never holds one")
                .hint(format!("add a row with {} to {}'s {object}", value(b, bx), s.left_name)),
        );
    }
}

/// Why a form of value production has and staging lacks can hide a bug, and how severe.
fn form_words(form: &str) -> (Severity, &'static str) {
    match form {
        "negative" => (Severity::High, "code that assumes values are not negative (amounts, counts, durations: refunds, corrections, clock skew) is never exercised where the tests run"),
        "zero" => (Severity::Medium, "division by the value, truthiness checks and empty-state paths meet zero only in production"),
        "fractional" => (Severity::Medium, "code, casts and formats that assume whole numbers (integer conversion, rounding, display) break on fractions"),
        "array" | "scalar" | "object" => (Severity::High, "code that reads a document as one shape (an object's keys with ->>) gets NULL or fails on another"),
        "uuid-nil" => (Severity::Medium, "the nil UUID is a sentinel (\"none\") that lookups and joins rarely handle"),
        "ipv6" => (Severity::High, "code, columns, parsers and logs that assume IPv4 addresses break on IPv6"),
        "prefix" => (Severity::Medium, "network prefixes (10.0.0.0/8) where code expects single host addresses"),
        _ if form.starts_with("uuid-v") => (Severity::Medium, "code that assumes one UUID version (time-ordered v7 against random v4: ordering, timestamps read from ids) meets another"),
        _ => (Severity::Medium, "code never tested with values of this form"),
    }
}

/// Forms of values (negative, zero, fractional numbers; negative intervals; JSON arrays or
/// scalars; uuid versions; IPv6 addresses, network prefixes) the right side has and the left
/// never shows: certain where the left was read whole, else where its sample would have
/// shown them. A seeded side's forms follow its generator (issue 34): not compared.
pub(super) fn forms(c: &Column, out: &mut Vec<Finding>) {
    if c.seeded {
        return;
    }
    let (s, object, a, b, na, nb) = (c.s, c.object, c.a, c.b, c.na, c.nb);
    for (form, cb) in b.forms.iter() {
        let ca = a.forms.get(form).copied().unwrap_or(0);
        if !c.t.absent(ca, na, *cb, nb, c.left_complete) {
            continue;
        }
        let (sev, why) = form_words(form);
        let sh = share(*cb, nb);
        out.push(
            Finding::new(
                Category::Distribution,
                by_share(sev, sh),
                object,
                &format!("form:{form}"),
            )
            .values(Some("0 %".to_string()), Some(pct(sh)))
            .message(format!(
                "{object}: {} of {}'s values are {}, never in {}",
                pct(sh),
                s.right_name,
                form_text(form),
                s.left_name
            ))
            .why(why)
            .hint(format!(
                "add {} values to {}'s {object}",
                form_text(form),
                s.left_name
            )),
        );
    }
}

fn form_text(form: &str) -> String {
    match form {
        "object" => "JSON documents whose top level is an object".into(),
        "array" => "JSON documents whose top level is an array".into(),
        "scalar" => "JSON documents whose top level is a scalar".into(),
        "uuid-nil" => "the nil UUID".into(),
        "ipv6" => "IPv6 addresses".into(),
        "prefix" => "network prefixes".into(),
        f if f.starts_with("uuid-v") => format!("version {} UUIDs", &f[6..]),
        f => f.to_string(),
    }
}

/// JSON nesting: production's documents nested far deeper (its p99 beyond twice staging's
/// deepest and by 3 levels or more).
pub(super) fn json_depth(c: &Column, out: &mut Vec<Finding>) {
    let (s, object, a, b) = (c.s, c.object, c.a, c.b);
    if a.json_depth.len() != 7 || b.json_depth.len() != 7 {
        return;
    }
    let (amax, p99) = (a.json_depth[6], b.json_depth[5]);
    if p99 >= 2.0 * amax.max(1.0) && p99 >= amax + 3.0 {
        out.push(
            Finding::new(Category::Distribution, Severity::Low, object, "json-depth")
                .values(Some(format!("max {amax}")), Some(format!("p99 {p99}")))
                .message(format!(
                    "{object}: {}'s documents nest {p99} levels deep (p99); {}'s at most {amax}",
                    s.right_name, s.left_name
                ))
                .why("recursive code, path expressions and parsers' depth limits meet deep documents only in production")
                .hint(format!("add deeper documents to {}'s data", s.left_name)),
        );
    }
}
