//! One schema of a database as a snapshot of its own, renamed: how a fleet compares
//! schema-per-tenant databases, each tenant's schema against the reference schema under the
//! reference's name (so `tenant_17.orders` and `tenant_88.orders` are both `public.orders`,
//! and one difference reads the same in every tenant).
//!
//! The database's own parts (version, settings, extensions, collations, topology, roles and
//! the other database-wide classes) are kept whole; of the schema's parts only what is
//! qualified by `schema` (a key `schema.name`, or `class:schema.name`) is kept and what is
//! qualified by another of the database's schemas is left out; then every text naming the
//! schema (keys, definitions, types, defaults, the schema's own key) names `as_schema`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Snapshot;
use crate::error::{Error, Result};
use crate::sql;

/// SQL `LIKE`: `%` any run of characters, `_` one character, `\` makes the next literal.
pub fn like(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative match with one backtrack point (the last `%`), linear in practice.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        let (lit, step) = match p.get(pi) {
            Some('\\') => (p.get(pi + 1).copied(), 2),
            Some(c) => (Some(*c), 1),
            None => (None, 0),
        };
        match (p.get(pi), lit) {
            (Some('%'), _) if step == 1 => {
                star = Some((pi, ti));
                pi += 1;
                continue;
            }
            (Some('_'), _) if step == 1 => {
                pi += 1;
                ti += 1;
                continue;
            }
            (Some(_), Some(c)) if c == t[ti] => {
                pi += step;
                ti += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|c| *c == '%')
}

/// A schema key as its bare name (`"Odd ""Name"""` → `Odd "Name"`).
fn bare(key: &str) -> String {
    match key.strip_prefix('"').and_then(|k| k.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => key.to_string(),
    }
}

impl Snapshot {
    /// The user schemas (bare names, in name order) whose names are `LIKE pattern`.
    pub fn schemas_like(&self, pattern: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .schema
            .schemas
            .keys()
            .map(|k| bare(k))
            .filter(|n| like(pattern, n))
            .collect();
        names.sort();
        names
    }

    /// The database with only `schema`'s objects (besides the database-wide ones), every
    /// mention of the schema renamed `as_schema` (bare names). The result is a snapshot as a
    /// capture of a database holding that one schema under that name would give.
    pub fn tenant(&self, schema: &str, as_schema: &str) -> Result<Snapshot> {
        let from = sql::ident(schema);
        let prefix = format!("{from}.");
        let others: Vec<String> = self
            .schema
            .schemas
            .keys()
            .filter(|k| **k != from)
            .map(|k| format!("{k}."))
            .collect();
        // The schema's own keys are one contiguous range of each name-ordered map.
        fn range<V: Clone>(m: &BTreeMap<String, V>, prefix: &str) -> BTreeMap<String, V> {
            m.range(prefix.to_string()..)
                .take_while(|(k, _)| k.starts_with(prefix))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }
        let foreign = |key: &str| {
            let name = key.split_once(':').map_or(key, |(_, n)| n);
            others.iter().any(|o| name.starts_with(o.as_str()))
        };
        let s = &self.schema;
        let mut part = Snapshot {
            format: self.format.clone(),
            format_version: self.format_version,
            meta: self.meta.clone(),
            inventory: self.inventory.clone(),
            schema: super::Schema {
                schemas: s
                    .schemas
                    .iter()
                    .filter(|(k, _)| **k == from)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                tables: range(&s.tables, &prefix),
                indexes: range(&s.indexes, &prefix),
                constraints: range(&s.constraints, &prefix),
                views: range(&s.views, &prefix),
                sequences: range(&s.sequences, &prefix),
                triggers: range(&s.triggers, &prefix),
                functions: range(&s.functions, &prefix),
                policies: range(&s.policies, &prefix),
                types: range(&s.types, &prefix),
                others: s
                    .others
                    .iter()
                    .filter(|(k, _)| !foreign(k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            },
            statistics: super::Statistics {
                tables: range(&self.statistics.tables, &prefix),
                columns: range(&self.statistics.columns, &prefix),
            },
            profile: self.profile.as_ref().map(|p| super::Profile {
                hash_key_id: p.hash_key_id.clone(),
                raw_values: p.raw_values,
                sample_rows: p.sample_rows,
                tables: p.tables.with_prefix(&prefix),
                relationships: range(&p.relationships, &prefix),
            }),
            plans: self.plans.clone(),
            problems: self
                .problems
                .iter()
                .filter(|p| !foreign(&p.area) && !foreign(&p.message))
                .cloned()
                .collect(),
        };
        if schema == as_schema {
            return Ok(part);
        }
        let to = sql::ident(as_schema);
        let mut value = serde_json::to_value(&part).map_err(|e| renamed_failed(schema, &e))?;
        rename(&mut value, schema, as_schema, &from, &to);
        part = serde_json::from_str(&value.to_string()).map_err(|e| renamed_failed(schema, &e))?;
        Ok(part)
    }
}

fn renamed_failed(schema: &str, e: &serde_json::Error) -> Error {
    Error::Usage(format!(
        "schema {schema}: cannot be compared under the reference's name: {e}"
    ))
}

/// Every string and key: the name alone becomes `to_bare` (bare) or `to` (quoted), and `from.` wherever it
/// starts a qualified name (at the start, or after a character that cannot end an
/// identifier) becomes `to.`.
fn rename(v: &mut Value, from_bare: &str, to_bare: &str, from: &str, to: &str) {
    let text = |s: &str| -> Option<String> {
        if s == from_bare {
            return Some(to_bare.to_string());
        }
        if s == from {
            return Some(to.to_string());
        }
        let needle = format!("{from}.");
        if !s.contains(&needle) {
            return None;
        }
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        let mut prev: Option<char> = None;
        while let Some(i) = rest.find(&needle) {
            let before = rest[..i].chars().last().or(prev);
            let starts = before.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '$'));
            out.push_str(&rest[..i]);
            if starts {
                out.push_str(to);
                out.push('.');
            } else {
                out.push_str(&needle);
            }
            prev = needle.chars().last();
            rest = &rest[i + needle.len()..];
        }
        out.push_str(rest);
        Some(out)
    };
    match v {
        Value::String(s) => {
            if let Some(n) = text(s) {
                *s = n;
            }
        }
        Value::Array(items) => {
            for i in items {
                rename(i, from_bare, to_bare, from, to);
            }
        }
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (k, mut val) in entries {
                rename(&mut val, from_bare, to_bare, from, to);
                map.insert(text(&k).unwrap_or(k), val);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_is_sqls() {
        assert!(like("tenant_%", "tenant_17"));
        assert!(like("tenant_%", "tenantX"), "_ is any one character");
        assert!(!like("tenant\\_%", "tenantX"));
        assert!(like("tenant\\_%", "tenant_"));
        assert!(like("%", ""));
        assert!(like("a%b%c", "axxbyyc"));
        assert!(!like("a%b%c", "axxbyy"));
        assert!(like("t__", "t17"));
        assert!(!like("t__", "t170"));
        assert!(like("Ünï%", "Ünïcode"));
    }
}
