//! Column generators from the profile: the base generator for a column's type (numbers and
//! times along the quantile curve, text by character classes and lengths, categories,
//! JSON, arrays, literals for every other type), categorical numbers, and the per-row values
//! (NULL rate, categories, pools).

use super::*;

pub(super) fn type_limits(base: &str) -> (f64, f64, bool) {
    match base {
        "smallint" => (-32768.0, 32767.0, true),
        "integer" => (-2147483648.0, 2147483647.0, true),
        "bigint" => (-9.2e18, 9.2e18, true),
        _ => (f64::MIN, f64::MAX, false),
    }
}

/// `numeric(15,2)` → (15, 2); `character varying(55)` → 55 as precision.
pub(super) fn modifiers(data_type: &str) -> (Option<u32>, Option<u32>) {
    let Some((_, rest)) = data_type.split_once('(') else {
        return (None, None);
    };
    let inner = rest.split(')').next().unwrap_or("");
    let mut it = inner.split(',').map(|x| x.trim().parse::<u32>().ok());
    (it.next().flatten(), it.next().flatten())
}

/// The built-in type under domains, and the domain's checks.
pub(super) fn resolve<'a>(
    snap: &'a Snapshot,
    data_type: &'a str,
    type_kind: TypeKind,
) -> (String, Vec<&'a str>) {
    if type_kind != TypeKind::Domain {
        return (data_type.to_string(), Vec::new());
    }
    let found = snap
        .schema
        .types
        .iter()
        .find(|(k, _)| *k == data_type || k.ends_with(&format!(".{data_type}")));
    match found {
        Some((_, t)) => (
            t.base_type.clone().unwrap_or_else(|| data_type.to_string()),
            t.checks.iter().map(String::as_str).collect(),
        ),
        None => (data_type.to_string(), Vec::new()),
    }
}

pub(super) fn curve7(values: &[f64]) -> Option<Curve> {
    if values.len() == QUANTILES.len() {
        Curve::from_quantiles(&QUANTILES, values)
    } else {
        None
    }
}

pub(super) fn classes(p: &ColumnProfile) -> Classes {
    let n = (p.rows - p.nulls).max(1) as f64;
    let share = |c: &str| p.classes.get(c).copied().unwrap_or(0) as f64 / n;
    let empty = share("empty");
    let ascii = share("ascii_only");
    let rest = (1.0 - empty - ascii).max(1e-9);
    let fragments = FRAGMENTS
        .iter()
        .filter_map(|(class, f)| {
            let mut s = share(class);
            if *class == "outside_bmp" {
                s = (s - share("emoji")).max(0.0);
            }
            if *class == "combining_mark" {
                s = (s - share("not_nfc")).max(0.0);
            }
            (s > 0.0).then(|| (*f, (s / rest).min(1.0)))
        })
        .collect();
    Classes {
        empty,
        ascii,
        edge_whitespace: share("edge_whitespace") / (1.0 - empty).max(1e-9),
        fragments,
        rows: 0,
        categories: Default::default(),
    }
}

/// The seed's share of each class a profile read whole saw: never rounded to none. `n` is
/// the seeded table's non-NULL rows; every class the profile counted in at least one row
/// keeps at least one of them (the ASCII share gives up rows for the rarer classes where it
/// must). One rule for every class `Classes` holds, so a class added to the profile is kept
/// without code of its own.
pub(super) fn keep_every_class(c: &mut Classes, n: f64) {
    if n < 1.0 {
        return;
    }
    let row = 1.0 / n;
    if c.empty > 0.0 {
        c.empty = c.empty.max(row).min(1.0);
    }
    let classed = c.fragments.len() as f64;
    if classed > 0.0 {
        c.ascii = c.ascii.min((1.0 - c.empty - classed * row).max(0.0));
    }
    let non_empty = (n * (1.0 - c.empty)).max(1.0);
    if c.edge_whitespace > 0.0 {
        c.edge_whitespace = c.edge_whitespace.max(1.0 / non_empty).min(1.0);
    }
    let classed_rows = (n * (1.0 - c.empty - c.ascii)).max(1.0);
    for (_, p) in c.fragments.iter_mut() {
        *p = p.max(1.0 / classed_rows).min(1.0);
    }
}

pub(super) fn labels_from(counts: &[(String, f64)]) -> Base {
    let mut cum = Vec::with_capacity(counts.len());
    let mut acc = 0.0;
    for (_, c) in counts {
        acc += c.max(0.0);
        cum.push(acc);
    }
    Base::Labels {
        labels: counts.iter().map(|(l, _)| l.clone()).collect(),
        cum,
    }
}

/// The base generator for a column of `base_type` (domains resolved) from its profile: a
/// CHECK's list or pattern first, else by how the column is measured.
pub(super) fn base_for(
    snap: &Snapshot,
    kind: Kind,
    base_type: &str,
    type_name: &str,
    p: Option<&ColumnProfile>,
    rule: &Rule,
) -> Option<Base> {
    if let Some(list) = &rule.one_of {
        return Some(one_of(list, p));
    }
    if let Some(pat) = rule
        .pattern
        .as_deref()
        .and_then(crate::seed::pattern::Pattern::compile)
    {
        if matches!(kind, Kind::Text | Kind::Char | Kind::Other) {
            return Some(Base::Pattern(pat));
        }
    }
    let bare = base_type.split('(').next().unwrap_or(base_type).trim();
    Some(match kind {
        Kind::Number => number(bare, modifiers(base_type), p, rule),
        Kind::Temporal => temporal(bare, p),
        Kind::Text | Kind::Char => text(modifiers(base_type).0, p, rule),
        Kind::Boolean | Kind::Enum => labels(snap, kind, type_name, p)?,
        Kind::Json => json(p),
        Kind::Array => array(snap, base_type, p)?,
        Kind::Bytea => Base::Bytea {
            len: p
                .and_then(|p| curve7(&p.length_bytes))
                .unwrap_or_else(|| span(0.0, 64.0)),
        },
        Kind::Other if bare == "uuid" => Base::Uuid,
        Kind::Other => Base::Literal {
            lit: crate::seed::literal::for_type(snap, type_name)?,
            len: p.and_then(|p| curve7(&p.length_chars)),
        },
    })
}

/// A straight curve from `lo` to `hi`: where the profile measured nothing.
fn span(lo: f64, hi: f64) -> Curve {
    Curve::from_quantiles(&[0.0, 1.0], &[lo, hi]).expect("curve")
}

/// A CHECK's list of values at production's frequencies: by value with raw values, else the
/// counts by rank in the list's order (the shape holds; which value is the common one is not
/// known from hashes).
fn one_of(list: &[String], p: Option<&ColumnProfile>) -> Base {
    let top = p.map(|p| p.top.as_slice()).unwrap_or(&[]);
    let weight = |i: usize, label: &str| -> f64 {
        if let Some(t) = top.iter().find(|t| t.raw.as_deref() == Some(label)) {
            return t.count as f64;
        }
        if top.iter().all(|t| t.raw.is_none()) {
            if let Some(t) = top.get(i) {
                return t.count as f64;
            }
        }
        if top.is_empty() {
            1.0
        } else {
            0.0
        }
    };
    let mut counts: Vec<(String, f64)> = list
        .iter()
        .enumerate()
        .map(|(i, l)| (l.clone(), weight(i, l)))
        .collect();
    if counts.iter().all(|(_, w)| *w <= 0.0) {
        counts.iter_mut().for_each(|c| c.1 = 1.0);
    }
    labels_from(&counts)
}

/// A number on the profile's quantile curve, within its type's range (a numeric's precision
/// and scale) and a CHECK's bounds; integral where every quantile is.
fn number(
    bare: &str,
    (m1, m2): (Option<u32>, Option<u32>),
    p: Option<&ColumnProfile>,
    rule: &Rule,
) -> Base {
    let (tlo, thi, int) = type_limits(bare);
    let curve = p
        .and_then(|p| curve7(&p.quantiles))
        .or_else(|| p.and_then(|p| Curve::from_quantiles(&[0.0, 1.0], &[p.min?, p.max?])))
        .unwrap_or_else(|| span(0.0, 1000.0));
    let (mut lo, mut hi) = (tlo, thi);
    if bare == "numeric" {
        if let (Some(prec), scale) = (m1, m2.unwrap_or(0)) {
            let lim = 10f64.powi(prec as i32 - scale as i32) - 10f64.powi(-(scale as i32));
            lo = -lim;
            hi = lim;
        }
    }
    lo = lo.max(rule.lo.unwrap_or(f64::MIN));
    hi = hi.min(rule.hi.unwrap_or(f64::MAX));
    let integral = curve.points.iter().all(|(_, v)| v.fract() == 0.0);
    Base::Number {
        curve,
        int: int || (bare == "numeric" && m2.unwrap_or(0) == 0 && integral),
        scale: if bare == "numeric" {
            m2.or(if integral { Some(0) } else { Some(4) })
        } else {
            None
        },
        lo,
        hi,
    }
}

/// A date, time, timestamp or interval on the profile's curve of seconds.
fn temporal(bare: &str, p: Option<&ColumnProfile>) -> Base {
    let kind = match bare {
        "date" => Temporal::Date,
        "timestamp without time zone" => Temporal::Timestamp,
        "timestamp with time zone" => Temporal::TimestampTz,
        "time without time zone" => Temporal::Time,
        "time with time zone" => Temporal::TimeTz,
        _ => Temporal::Interval,
    };
    let curve = p
        .and_then(|p| curve7(&p.quantiles))
        .unwrap_or_else(|| span(1.7e9, 1.8e9));
    Base::Temporal { curve, kind }
}

/// Text of the profile's lengths and character classes, within the type's length and a
/// CHECK's; composed from the profile's words where it holds them (raw-values opt-in).
fn text(cap: Option<u32>, p: Option<&ColumnProfile>, rule: &Rule) -> Base {
    let len = p
        .and_then(|p| curve7(&p.length_chars))
        .unwrap_or_else(|| span(4.0, 16.0));
    let max_chars = match (cap.map(|n| n as usize), rule.max_chars) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Base::Text {
        len,
        classes: p.map(classes).unwrap_or(Classes {
            ascii: 1.0,
            ..Default::default()
        }),
        max_chars,
        words: p.and_then(|p| {
            let ascii: Vec<(&String, &u64)> =
                p.words.iter().filter(|(w, _)| w.is_ascii()).collect();
            (!ascii.is_empty()).then(|| {
                let mut acc = 0.0;
                let cum = ascii
                    .iter()
                    .map(|(_, c)| {
                        acc += **c as f64;
                        acc
                    })
                    .collect();
                (ascii.iter().map(|(w, _)| (*w).clone()).collect(), cum)
            })
        }),
    }
}

/// Booleans and enum labels at the profile's frequencies (both values, or the type's labels,
/// evenly where it measured none); `None` for an enum whose labels are unknown.
fn labels(snap: &Snapshot, kind: Kind, type_name: &str, p: Option<&ColumnProfile>) -> Option<Base> {
    let mut counts: Vec<(String, f64)> = p
        .map(|p| {
            p.labels
                .iter()
                .map(|(l, c)| (l.clone(), *c as f64))
                .collect()
        })
        .unwrap_or_default();
    if counts.is_empty() {
        counts = if kind == Kind::Boolean {
            vec![("t".into(), 1.0), ("f".into(), 1.0)]
        } else {
            snap.schema
                .types
                .iter()
                .find(|(k, _)| *k == type_name || k.ends_with(&format!(".{type_name}")))
                .map(|(_, t)| t.labels.iter().map(|l| (l.clone(), 1.0)).collect())
                .unwrap_or_default()
        };
    }
    (!counts.is_empty()).then(|| labels_from(&counts))
}

/// JSON holding the profile's keys at their shares, nested at its depth's share.
fn json(p: Option<&ColumnProfile>) -> Base {
    let n = p.map(|p| (p.rows - p.nulls).max(1) as f64).unwrap_or(1.0);
    let keys = p
        .map(|p| {
            p.json_keys
                .iter()
                .map(|(k, c)| (k.clone(), *c as f64 / n))
                .collect()
        })
        .unwrap_or_default();
    let nested = p
        .and_then(|p| curve7(&p.json_depth))
        .map(|c| {
            let first = QUANTILES
                .iter()
                .zip(&c.points)
                .find(|(_, (_, v))| *v >= 2.0);
            first.map_or(0.0, |(q, _)| 1.0 - q)
        })
        .unwrap_or(0.0);
    Base::Json { keys, nested }
}

/// An array of the profile's lengths; its elements numbers, text, uuids or any type's
/// literal.
fn array(snap: &Snapshot, base_type: &str, p: Option<&ColumnProfile>) -> Option<Base> {
    let elem_type = base_type.trim_end_matches("[]");
    let elem_bare = elem_type.split('(').next().unwrap_or(elem_type).trim();
    let elem = match elem_bare {
        "smallint" | "integer" | "bigint" | "numeric" | "real" | "double precision" => {
            Base::Number {
                curve: span(0.0, 1000.0),
                int: true,
                scale: None,
                lo: 0.0,
                hi: 1000.0,
            }
        }
        "text" | "character varying" | "character" => Base::Text {
            len: span(1.0, 12.0),
            classes: Classes {
                ascii: 1.0,
                ..Default::default()
            },
            max_chars: modifiers(elem_type).0.map(|n| n as usize),
            words: None,
        },
        "uuid" => Base::Uuid,
        _ => Base::Literal {
            lit: crate::seed::literal::for_type(snap, elem_type)?,
            len: None,
        },
    };
    let len = p
        .and_then(|p| curve7(&p.array_length))
        .unwrap_or_else(|| span(0.0, 4.0));
    Some(Base::Array {
        elem: Box::new(elem),
        len,
    })
}

/// A categorical number or time column as labels: K distinct values (K = the values the
/// profile counted) spread over the quantile curve, made distinct at the type's resolution,
/// and the counts matched to them by the mass the curve gives each (the most frequent count
/// to the value the curve dwells on longest). So a column of one value and a rare other keeps
/// both, the rare one rare, and a year column keeps its 74 years.
pub(super) fn numeric_categories(base: &Base, p: &ColumnProfile) -> Option<Base> {
    let (curve, unit, lo, hi) = match base {
        Base::Number {
            curve,
            int,
            scale,
            lo,
            hi,
        } => {
            let unit = if *int {
                1.0
            } else {
                10f64.powi(-(scale.unwrap_or(6) as i32))
            };
            (curve, unit, *lo, *hi)
        }
        Base::Temporal { curve, kind } => {
            let unit = if *kind == Temporal::Date {
                86400.0
            } else {
                1.0
            };
            (curve, unit, f64::MIN, f64::MAX)
        }
        _ => return None,
    };
    let k = p.top.len();
    if !p.categorical || k == 0 {
        return None;
    }
    let snap_to = |x: f64| (x / unit).round() * unit;
    // Values at evenly spaced positions, then made strictly increasing.
    let mut values: Vec<f64> = (0..k)
        .map(|i| {
            let u = if k == 1 {
                0.5
            } else {
                i as f64 / (k - 1) as f64
            };
            snap_to(curve.at(u)).clamp(lo, hi)
        })
        .collect();
    for i in 1..k {
        if values[i] <= values[i - 1] {
            values[i] = values[i - 1] + unit;
        }
    }
    // Pushed past the upper bound (a check, the type): pull back down from the top; values
    // that then fall below the lower bound are dropped (fewer values fit than were counted).
    if values[k - 1] > hi {
        values[k - 1] = (hi / unit).floor() * unit;
        for i in (0..k - 1).rev() {
            if values[i] >= values[i + 1] {
                values[i] = values[i + 1] - unit;
            }
        }
    }
    values.retain(|v| *v >= lo);
    let k = values.len();
    if k == 0 {
        return None;
    }
    // The mass of each value: the share of a fine grid of positions nearest to it.
    const GRID: usize = 2000;
    let mut mass = vec![0usize; k];
    for g in 0..GRID {
        let x = curve.at((g as f64 + 0.5) / GRID as f64);
        let i = values.partition_point(|v| *v < x);
        let nearest = if i == 0 {
            0
        } else if i >= k {
            k - 1
        } else if (x - values[i - 1]).abs() <= (values[i] - x).abs() {
            i - 1
        } else {
            i
        };
        mass[nearest] += 1;
    }
    let mut by_mass: Vec<usize> = (0..k).collect();
    by_mass.sort_by(|a, b| mass[*b].cmp(&mass[*a]).then(a.cmp(b)));
    let mut counts: Vec<u64> = p.top.iter().map(|t| t.count).collect();
    counts.sort_by(|a, b| b.cmp(a));
    let mut weight = vec![0.0; k];
    for (rank, &i) in by_mass.iter().enumerate() {
        weight[i] = counts.get(rank).copied().unwrap_or(0) as f64;
    }
    let counts: Vec<(String, f64)> = values
        .iter()
        .zip(&weight)
        .map(|(v, w)| (base.format(*v), *w))
        .collect();
    Some(labels_from(&counts))
}

/// The order of a weighted pool's categories (indexes into the profile's frequent values)
/// along its length curve: each category takes a length at its place on the curve (see
/// [`Pool::position`]), so the order decides which weight gets which length. The profile's
/// order (most frequent first) or the reverse, whichever gives each category's share of the
/// curve the flattest stretch: two values, 'Any news?' in 40 % of rows and a 48-character
/// one in 60 %, took 9 characters for the commoner one in the profile's order (average
/// width 25 bytes for production's 33; the table 8 % smaller, a join planned the other way).
pub(super) fn pool_order(base: &Base, p: &ColumnProfile) -> Vec<usize> {
    let by_count: Vec<usize> = (0..p.top.len()).collect();
    let curve = match base {
        Base::Text { len, .. } | Base::Bytea { len } | Base::Array { len, .. } => len,
        _ => return by_count,
    };
    // The squared distance of the curve over each category's stretch from the length the
    // category takes.
    let spread = |order: &[usize]| -> f64 {
        let mut acc = 0.0;
        let cum: Vec<f64> = order
            .iter()
            .map(|&i| {
                acc += p.top[i].count as f64;
                acc
            })
            .collect();
        let pool = Pool::Weighted(cum.clone());
        const GRID: usize = 256;
        (0..GRID)
            .map(|g| {
                let u = (g as f64 + 0.5) / GRID as f64;
                let k = crate::seed::gen::pick(&cum, u);
                let at = curve.at(pool.position(k, order.len()));
                (curve.at(u) - at).powi(2)
            })
            .sum::<f64>()
    };
    if p.top.len() < 2 {
        return by_count;
    }
    let reversed: Vec<usize> = by_count.iter().rev().copied().collect();
    if spread(&reversed) < spread(&by_count) {
        reversed
    } else {
        by_count
    }
}

/// Per-row values: null rate, categories (the profile's complete value counts, or its raw
/// values with the opt-in), or a pool sized by the distinct ratio.
/// A column's per-row values from its profile (see [`drawn`]), with the values no curve draws
/// kept at their shares ([`reserved`]).
pub(super) fn values(
    base: Base,
    p: Option<&ColumnProfile>,
    not_null: bool,
    rows: u64,
    table_rows: f64,
    raw: bool,
) -> Values {
    let mut v = drawn(base, p, not_null, (rows, table_rows), raw);
    if let Some(p) = p {
        v.reserved = reserved(&v, p, rows, table_rows);
    }
    v
}

/// Whether the profile read every row of its table: then what it saw is certain.
fn read_whole(p: &ColumnProfile, table_rows: f64) -> bool {
    p.rows > 0 && p.rows as f64 >= table_rows
}

/// A share the seed keeps of a fact seen `count` times in `p`'s non-NULL rows: never rounded
/// to none where the profile read every row (at least one of the seed's `n` non-NULL rows).
fn kept_share(count: u64, p: &ColumnProfile, n: f64, certain: bool) -> f64 {
    let share = count as f64 / (p.rows - p.nulls).max(1) as f64;
    if certain && count > 0 && n >= 1.0 {
        share.max(1.0 / n).min(1.0)
    } else {
        share
    }
}

/// Values the profile counted that no curve or draw makes: `NaN` and the infinities, a zero
/// the quantiles do not show, the nil UUID, JSON arrays and scalars (the JSON generator draws
/// objects). Each is one value by nature, so a share of rows holding it is the fact itself.
fn reserved(v: &Values, p: &ColumnProfile, rows: u64, table_rows: f64) -> Option<Reserved> {
    let certain = read_whole(p, table_rows);
    let n = rows as f64 * (1.0 - v.null_rate);
    let mut out: Vec<(String, u64)> = Vec::new();
    match &v.base {
        Base::Number { int, .. } if v.pool.is_none() => {
            if !int {
                for (name, count) in &p.specials {
                    out.push((name.clone(), *count));
                }
            }
            let zero = p.forms.get("zero").copied().unwrap_or(0);
            if zero > 0 && !p.quantiles.contains(&0.0) {
                out.push(("0".into(), zero));
            }
        }
        Base::Temporal { .. } if v.pool.is_none() => {
            for (name, count) in &p.specials {
                out.push((name.to_lowercase(), *count));
            }
        }
        Base::Uuid => {
            if let Some(c) = p.forms.get("uuid-nil") {
                out.push(("00000000-0000-0000-0000-000000000000".into(), *c));
            }
        }
        Base::Json { .. } => {
            for (form, value) in [("array", "[]"), ("scalar", "0")] {
                if let Some(c) = p.forms.get(form) {
                    out.push((value.into(), *c));
                }
            }
        }
        _ => {}
    }
    let values: Vec<(String, f64)> = out
        .into_iter()
        .filter(|(_, c)| *c > 0)
        .map(|(v, c)| (v, kept_share(c, p, n, certain)))
        .collect();
    (!values.is_empty()).then_some(Reserved { rows, values })
}

/// The draws: NULLs at the profile's rate, then values of the base, or a pool of categories
/// (`sizes`: the seeded table's rows and the profiled table's).
fn drawn(
    base: Base,
    p: Option<&ColumnProfile>,
    not_null: bool,
    sizes: (u64, f64),
    raw: bool,
) -> Values {
    let (rows, table_rows) = sizes;
    let null_rate = match p {
        Some(p) if !not_null && p.rows > 0 => p.nulls as f64 / p.rows as f64,
        _ => 0.0,
    };
    let Some(p) = p else {
        return Values {
            base,
            null_rate,
            pool: None,
            reserved: None,
            ordered: None,
            by_leaf: None,
        };
    };
    let mut base = base;
    if let Base::Text { classes, .. } = &mut base {
        // Stratified by row; where the profile read every row, every class it saw is kept.
        classes.rows = rows;
        if read_whole(p, table_rows) {
            keep_every_class(classes, rows as f64 * (1.0 - null_rate));
        }
    }
    // Documents, arrays and bytes are drawn whole unless production repeats a handful of them
    // (categorical): then a pool of that many, each placed by its weight, so JSON keys and
    // lengths keep their shares of the rows.
    let few = p.categorical && !p.top.is_empty();
    if matches!(base, Base::Labels { .. })
        || matches!(
            base,
            Base::Json { .. } | Base::Array { .. } | Base::Bytea { .. }
        ) && !few
    {
        return Values {
            base,
            null_rate,
            pool: None,
            reserved: None,
            ordered: None,
            by_leaf: None,
        };
    }
    if p.categorical && !p.top.is_empty() {
        if raw && p.top.iter().all(|t| t.raw.is_some()) {
            let counts: Vec<(String, f64)> = p
                .top
                .iter()
                .map(|t| (t.raw.clone().unwrap_or_default(), t.count as f64))
                .collect();
            return Values {
                base: labels_from(&counts),
                null_rate,
                pool: None,
                reserved: None,
                ordered: None,
                by_leaf: None,
            };
        }
        // Numbers and times with few values: that many distinct values, at the frequencies
        // the profile counted, placed where the quantile curve puts its mass.
        if let Some(labels) = numeric_categories(&base, p) {
            return Values {
                base: labels,
                null_rate,
                pool: None,
                reserved: None,
                ordered: None,
                by_leaf: None,
            };
        }
        let weights: Vec<f64> = pool_order(&base, p)
            .into_iter()
            .map(|i| p.top[i].count as f64)
            .collect();
        let mut acc = 0.0;
        let cum = weights
            .iter()
            .map(|w| {
                acc += w;
                acc
            })
            .collect();
        let mut base = base;
        if let Base::Text { classes, .. } = &mut base {
            // Categories are whole values: each holds the classes chosen for it by weight;
            // the empty string is the one counted as often as the profile's empty strings.
            let empty = p.classes.get("empty").copied().filter(|e| *e > 0);
            classes.categories = classes.assign(&weights, empty.map(|e| e as f64));
        }
        return Values {
            base,
            null_rate,
            pool: Some(Pool::Weighted(cum)),
            reserved: None,
            ordered: None,
            by_leaf: None,
        };
    }
    let non_null = (p.rows - p.nulls).max(1) as f64;
    if let Some(d) = &p.distinct {
        // Distinct values per non-NULL row of the table (the estimate is the table's).
        let ratio = d.value / (table_rows * non_null / p.rows.max(1) as f64).max(1.0);
        let k = (ratio * rows as f64 * (1.0 - null_rate)).round().max(1.0) as usize;
        if ratio < 0.5 && k < rows as usize {
            let mut base = base;
            if let Base::Text { classes, .. } = &mut base {
                classes.categories = classes.assign_even(k);
            }
            return Values {
                base,
                null_rate,
                pool: Some(Pool::Uniform(k)),
                reserved: None,
                ordered: None,
                by_leaf: None,
            };
        }
    }
    // Mostly distinct text whose frequent values repeat: those values at their shares of the
    // rows (the profile's counts of the rows it read), the rest drawn fresh, so the seed
    // repeats where production does and its most common value holds production's share.
    let mut repeated: Vec<f64> = p
        .top
        .iter()
        .filter(|t| t.count > 1)
        .map(|t| t.count as f64)
        .collect();
    if matches!(base, Base::Text { .. }) && !repeated.is_empty() {
        let mut share = (repeated.iter().sum::<f64>() / non_null).min(0.999);
        let seeded = rows as f64 * (1.0 - null_rate);
        if read_whole(p, table_rows) && seeded >= 2.0 {
            // Certain repeats stay repeats at any scale: at least two rows for each value
            // kept (the most frequent first), so a seed of 88 rows still holds a duplicate.
            share = share.max(2.0 / seeded).min(0.999);
            let keep = ((share * seeded / 2.0).floor() as usize).max(1);
            repeated.truncate(keep);
        }
        let mut base = base;
        if let Base::Text { classes, .. } = &mut base {
            // The classes live on the fresh rows: each certain one keeps a row of them.
            if read_whole(p, table_rows) {
                keep_every_class(classes, rows as f64 * (1.0 - null_rate) * (1.0 - share));
            }
        }
        let mut acc = 0.0;
        let cum = repeated
            .iter()
            .map(|c| {
                acc += c;
                acc
            })
            .collect();
        return Values {
            base,
            null_rate,
            pool: Some(Pool::Mixed { cum, share }),
            reserved: None,
            ordered: None,
            by_leaf: None,
        };
    }
    Values {
        base,
        null_rate,
        pool: None,
        reserved: None,
        ordered: None,
        by_leaf: None,
    }
}
