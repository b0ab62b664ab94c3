//! Values for types without a profile-driven generator: every built-in type family (network,
//! geometric, range and multirange, bit strings, text search, xml, money, pg_lsn, oid), the
//! extension types shipped with the server (hstore, ltree, citext), enums, domains over any of
//! them and composite types, field by field. Each value is a pure function of a number `k`,
//! distinct for distinct `k` where the type allows, so a pool of categories keeps production's
//! distinct count. Types nothing here knows get no value: the caller falls back to the
//! column's default, NULL where allowed, or skips the table and says why.

use crate::snapshot::{Snapshot, TypeDefKind};

/// How to write one value of a type as PostgreSQL text.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    /// A built-in or extension type, by its bare name (`inet`, `int4range`...), with its
    /// length modifier where it matters (`bit(8)`).
    Builtin { name: String, modifier: Option<u32> },
    /// Enum labels, drawn in turn.
    Labels(Vec<String>),
    /// A domain's base type, kept inside `[lo, hi]` where the domain's check says so.
    Bounded {
        inner: Box<Lit>,
        lo: Option<f64>,
        hi: Option<f64>,
    },
    /// A composite type's fields, in order.
    Composite(Vec<Lit>),
    /// An array of the element type (1 to 3 elements).
    Array(Box<Lit>),
    /// A user-defined range over an ordered subtype: `[v(k), v(k + 1))`.
    Range(Box<Lit>),
}

const BUILTIN: &[&str] = &[
    "smallint",
    "integer",
    "bigint",
    "numeric",
    "real",
    "double precision",
    "money",
    "oid",
    "text",
    "character varying",
    "character",
    "name",
    "citext",
    "\"char\"",
    "boolean",
    "bytea",
    "date",
    "timestamp without time zone",
    "timestamp with time zone",
    "time without time zone",
    "time with time zone",
    "interval",
    "uuid",
    "json",
    "jsonb",
    "xml",
    "tsvector",
    "tsquery",
    "inet",
    "cidr",
    "macaddr",
    "macaddr8",
    "bit",
    "bit varying",
    "point",
    "line",
    "lseg",
    "box",
    "path",
    "polygon",
    "circle",
    "int4range",
    "int8range",
    "numrange",
    "tsrange",
    "tstzrange",
    "daterange",
    "int4multirange",
    "int8multirange",
    "nummultirange",
    "tsmultirange",
    "tstzmultirange",
    "datemultirange",
    "pg_lsn",
    "hstore",
    "ltree",
];

/// The literal maker for a `format_type` spelling, or `None` when the type is unknown.
pub fn for_type(snap: &Snapshot, data_type: &str) -> Option<Lit> {
    for_type_depth(snap, data_type, 0)
}

fn for_type_depth(snap: &Snapshot, data_type: &str, depth: usize) -> Option<Lit> {
    if depth > 8 {
        return None;
    }
    let data_type = data_type.trim();
    if let Some(elem) = data_type.strip_suffix("[]") {
        return Some(Lit::Array(Box::new(for_type_depth(snap, elem, depth + 1)?)));
    }
    let (bare, modifier) = match data_type.split_once('(') {
        Some((b, m)) => (
            b.trim(),
            m.trim_end_matches(')')
                .split(',')
                .next()
                .and_then(|x| x.trim().parse().ok()),
        ),
        None => (data_type, None),
    };
    // Extension types may be qualified with their schema (`public.hstore`).
    let unqualified = bare.rsplit('.').next().unwrap_or(bare).trim_matches('"');
    if BUILTIN.contains(&bare) || BUILTIN.contains(&unqualified) {
        let name = if BUILTIN.contains(&bare) {
            bare
        } else {
            unqualified
        };
        return Some(Lit::Builtin {
            name: name.to_string(),
            modifier,
        });
    }
    let (_, t) = snap
        .schema
        .types
        .iter()
        .find(|(k, _)| k.as_str() == bare || k.ends_with(&format!(".{bare}")))?;
    match t.kind {
        TypeDefKind::Enum => (!t.labels.is_empty()).then(|| Lit::Labels(t.labels.clone())),
        TypeDefKind::Domain => {
            let inner = for_type_depth(snap, t.base_type.as_deref()?, depth + 1)?;
            let mut lo = None;
            let mut hi = None;
            for c in &t.checks {
                if let Some(r) = super::checks::read(c).and_then(|mut m| m.remove("value")) {
                    lo = r.lo.or(lo);
                    hi = r.hi.or(hi);
                }
            }
            Some(Lit::Bounded {
                inner: Box::new(inner),
                lo,
                hi,
            })
        }
        TypeDefKind::Range => {
            // A range over a subtype we can write: `[a,b)` with a < b.
            let sub = for_type_depth(snap, t.base_type.as_deref()?, depth + 1)?;
            match &sub {
                Lit::Builtin { name, .. }
                    if matches!(
                        name.as_str(),
                        "smallint"
                            | "integer"
                            | "bigint"
                            | "numeric"
                            | "real"
                            | "double precision"
                            | "date"
                            | "timestamp without time zone"
                            | "timestamp with time zone"
                    ) =>
                {
                    Some(Lit::Range(Box::new(sub)))
                }
                _ => None,
            }
        }
        TypeDefKind::Composite => Some(Lit::Composite(
            t.attributes
                .iter()
                .map(|a| {
                    let ty = attribute_type(a);
                    for_type_depth(snap, ty, depth + 1)
                })
                .collect::<Option<Vec<_>>>()?,
        )),
    }
}

/// `name type` (the name quoted where needed) → `type`.
fn attribute_type(attr: &str) -> &str {
    if let Some(rest) = attr.strip_prefix('"') {
        // Skip the quoted name, doubled quotes included.
        let mut chars = rest.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '"' {
                if chars.peek().is_some_and(|(_, n)| *n == '"') {
                    chars.next();
                    continue;
                }
                return rest[i + 1..].trim();
            }
        }
        ""
    } else {
        attr.split_once(' ').map_or("", |(_, t)| t.trim())
    }
}

/// An element of an array or a field of a composite in its text form: double-quoted, inner
/// quotes and backslashes escaped.
pub(crate) fn quoted(v: &str) -> String {
    let mut s = String::with_capacity(v.len() + 2);
    s.push('"');
    for c in v.chars() {
        if c == '"' || c == '\\' {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    s
}

fn date(days: u64) -> String {
    (chrono::NaiveDate::from_ymd_opt(2000, 1, 1).expect("date") + chrono::Days::new(days % 20_000))
        .format("%Y-%m-%d")
        .to_string()
}

fn timestamp(secs: u64) -> String {
    let t = chrono::DateTime::from_timestamp(946_684_800 + (secs % 900_000_000) as i64, 0)
        .unwrap_or_default()
        .naive_utc();
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

impl Lit {
    /// The value for `k`, grown toward `chars` characters of text output where the type's
    /// values can be any length (text search vectors, xml, hstore, ltree); others as
    /// [`Lit::text`].
    pub fn text_sized(&self, k: u64, chars: usize) -> String {
        let Lit::Builtin { name, .. } = self else {
            return self.text(k);
        };
        let mut s = self.text(k);
        let (sep, part): (&str, fn(u64, usize) -> String) = match name.as_str() {
            "tsvector" => (" ", |k, j| format!("x{}y{j}", k % 997)),
            "hstore" => (", ", |k, j| format!("\"p{j}\"=>\"{}\"", k % 997)),
            "ltree" => (".", |k, j| format!("l{}_{j}", k % 97)),
            "xml" => {
                let pad = chars.saturating_sub(s.len());
                return format!("<v>{k}{}</v>", "x".repeat(pad));
            }
            _ => return s,
        };
        let mut j = 0;
        // Output adds quotes around tsvector lexemes: count them in.
        let grow = if name == "tsvector" { 2 } else { 0 };
        let mut len = s.len()
            + if name == "tsvector" {
                2 * s.split(' ').count()
            } else {
                0
            };
        while len < chars && j < 10_000 {
            let p = part(k, j);
            len += sep.len() + p.len() + grow;
            s.push_str(sep);
            s.push_str(&p);
            j += 1;
        }
        s
    }

    /// The value for `k`, as PostgreSQL text.
    pub fn text(&self, k: u64) -> String {
        match self {
            Lit::Builtin { name, modifier } => builtin(name, *modifier, k),
            Lit::Labels(labels) => labels[(k % labels.len() as u64) as usize].clone(),
            Lit::Bounded { inner, lo, hi } => {
                if lo.is_some() || hi.is_some() {
                    let lo = lo.unwrap_or(0.0).ceil();
                    let hi = hi.unwrap_or(lo + 1e6).floor().max(lo);
                    let span = (hi - lo + 1.0).max(1.0) as u64;
                    format!("{}", lo + (k % span) as f64)
                } else {
                    inner.text(k)
                }
            }
            Lit::Composite(fields) => {
                let parts: Vec<String> = fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| quoted(&f.text(k.wrapping_add(i as u64))))
                    .collect();
                format!("({})", parts.join(","))
            }
            Lit::Range(sub) => {
                // Below every subtype's wrap-around, so the lower bound stays below the upper.
                let k = k % 9_000;
                format!(
                    "[{},{})",
                    quoted(&sub.text(2 * k)),
                    quoted(&sub.text(2 * k + 1))
                )
            }
            Lit::Array(elem) => {
                let n = 1 + k % 3;
                let parts: Vec<String> = (0..n)
                    .map(|i| quoted(&elem.text(k.wrapping_mul(3).wrapping_add(i))))
                    .collect();
                format!("{{{}}}", parts.join(","))
            }
        }
    }
}

fn builtin(name: &str, modifier: Option<u32>, k: u64) -> String {
    let b = |shift: u32| (k >> shift) & 255;
    match name {
        "smallint" => format!("{}", 1 + k % 32_000),
        "integer" | "oid" => format!("{}", 1 + k % 2_000_000_000),
        "bigint" => format!("{}", 1 + k),
        "numeric" | "real" | "double precision" => format!("{}.{}", k % 1_000_000, k % 10),
        "money" => format!("{}.{:02}", k % 1_000_000, k % 100),
        "text" | "character varying" | "name" | "citext" => {
            let s = format!("v{k}");
            match modifier {
                Some(n) if (n as usize) < s.len() => s[s.len() - n as usize..].to_string(),
                _ => s,
            }
        }
        "character" | "\"char\"" => {
            let n = modifier.unwrap_or(1) as usize;
            let s = format!("{k:x}");
            s[s.len().saturating_sub(n)..].to_string()
        }
        "boolean" => if k.is_multiple_of(2) { "t" } else { "f" }.into(),
        "bytea" => format!("\\x{:08x}", k & 0xFFFF_FFFF),
        "date" => date(k),
        "timestamp without time zone" => timestamp(k),
        "timestamp with time zone" => format!("{}+00", timestamp(k)),
        "time without time zone" => {
            format!("{:02}:{:02}:{:02}", k / 3600 % 24, k / 60 % 60, k % 60)
        }
        "time with time zone" => {
            format!("{:02}:{:02}:{:02}+00", k / 3600 % 24, k / 60 % 60, k % 60)
        }
        "interval" => format!("{} seconds", k % 100_000_000),
        "uuid" => uuid(k.wrapping_mul(0x9E37_79B9_7F4A_7C15), k),
        "json" | "jsonb" => format!("{{\"k\": {k}}}"),
        "xml" => format!("<v>{k}</v>"),
        "tsvector" => format!("w{k} x{}", k % 7),
        "tsquery" => format!("w{k}"),
        "inet" => format!("10.{}.{}.{}", b(16), b(8), b(0)),
        "cidr" => format!("10.{}.{}.0/24", b(8), b(0)),
        "macaddr" => format!("08:00:2b:{:02x}:{:02x}:{:02x}", b(16), b(8), b(0)),
        "macaddr8" => format!("08:00:2b:ff:fe:{:02x}:{:02x}:{:02x}", b(16), b(8), b(0)),
        "bit" => {
            let n = modifier.unwrap_or(1).clamp(1, 64);
            (0..n)
                .rev()
                .map(|i| {
                    if i < 64 && (k >> i) & 1 == 1 {
                        '1'
                    } else {
                        '0'
                    }
                })
                .collect()
        }
        "bit varying" => {
            let n = modifier.unwrap_or(16).clamp(1, 16);
            (0..n)
                .rev()
                .map(|i| if (k >> i) & 1 == 1 { '1' } else { '0' })
                .collect()
        }
        "point" => format!("({},{})", k, k % 97),
        "line" => format!("{{1,-1,{k}}}"),
        "lseg" => format!("[(0,0),({k},1)]"),
        "box" => format!("(({},{}),(0,0))", k + 1, k % 97 + 1),
        "path" => format!("[(0,0),({k},1),(1,{k})]"),
        "polygon" => format!("((0,0),({},0),(0,1))", k + 1),
        "circle" => format!("<({k},0),{}>", 1 + k % 9),
        "int4range" => format!("[{},{})", k % 2_000_000_000, k % 2_000_000_000 + 10),
        "int8range" => format!("[{k},{})", k + 10),
        "numrange" => format!("[{k},{k}.5)"),
        // Bounds from one reduced number, so the upper never wraps below the lower.
        "daterange" => format!("[{},{})", date(k % 19_000), date(k % 19_000 + 1)),
        "tsrange" => format!(
            "[\"{}\",\"{}\")",
            timestamp(k % 800_000_000),
            timestamp(k % 800_000_000 + 3600)
        ),
        "tstzrange" => format!(
            "[\"{}+00\",\"{}+00\")",
            timestamp(k % 800_000_000),
            timestamp(k % 800_000_000 + 3600)
        ),
        "int4multirange" => format!("{{[{},{})}}", k % 2_000_000_000, k % 2_000_000_000 + 2),
        "int8multirange" => format!("{{[{k},{})}}", k + 2),
        "nummultirange" => format!("{{[{k},{k}.5)}}"),
        "datemultirange" => format!("{{[{},{})}}", date(k % 19_000), date(k % 19_000 + 1)),
        "tsmultirange" => format!(
            "{{[\"{}\",\"{}\")}}",
            timestamp(k % 800_000_000),
            timestamp(k % 800_000_000 + 60)
        ),
        "tstzmultirange" => format!(
            "{{[\"{}+00\",\"{}+00\")}}",
            timestamp(k % 800_000_000),
            timestamp(k % 800_000_000 + 60)
        ),
        "pg_lsn" => format!("{:X}/{:X}", k >> 32, k & 0xFFFF_FFFF),
        "hstore" => format!("\"k{}\"=>\"{k}\"", k % 5),
        "ltree" => format!("top.n{}.leaf{k}", k % 7),
        _ => format!("{k}"),
    }
}

/// A version-4 UUID from 128 bits.
pub fn uuid(hi: u64, lo: u64) -> String {
    let hi = (hi & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
    let lo = (lo & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xFFFF,
        hi & 0xFFFF,
        lo >> 48,
        lo & 0xFFFF_FFFF_FFFF
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names_are_skipped() {
        assert_eq!(attribute_type("street text"), "text");
        assert_eq!(
            attribute_type("\"Odd \"\"x\"\" name\" character varying(10)"),
            "character varying(10)"
        );
    }

    #[test]
    fn values_differ_by_k_and_arrays_quote_elements() {
        let snap = Snapshot::default();
        for t in [
            "inet",
            "int4range",
            "macaddr8",
            "pg_lsn",
            "bit(8)",
            "tstzrange",
            "point",
        ] {
            let l = for_type(&snap, t).unwrap_or_else(|| panic!("{t}"));
            assert_ne!(l.text(1), l.text(2), "{t}");
        }
        let a = for_type(&snap, "int4range[]").unwrap();
        assert_eq!(a.text(0), "{\"[0,10)\"}");
        assert!(for_type(&snap, "some_unknown_type").is_none());
        assert_eq!(for_type(&snap, "bit(8)").unwrap().text(5), "00000101");
        // Bounds never wrap: the lower stays below the upper whatever the number.
        for t in [
            "daterange",
            "tsrange",
            "tstzrange",
            "datemultirange",
            "tsmultirange",
        ] {
            let l = for_type(&snap, t).unwrap();
            for k in [
                18_999,
                19_999,
                39_999,
                799_999_999,
                899_999_999,
                899_996_400,
                u64::MAX >> 12,
            ] {
                let v = l.text(k);
                let inner = v.trim_matches(|c| "{}[)\"".contains(c));
                let (lo, hi) = inner.split_once(',').unwrap();
                assert!(lo.trim_matches('"') < hi.trim_matches('"'), "{t} {k}: {v}");
            }
        }
    }
}
