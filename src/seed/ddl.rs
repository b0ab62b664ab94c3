//! The snapshot's schema as SQL, for `seed --create-schema`: extensions, schemas, enum and domain types,
//! sequences and tables (partitions included) before the load; primary and unique keys,
//! indexes, checks and foreign keys after it (faster, and a load order never matters), then
//! sequences moved past the loaded keys. Views, functions, triggers and policies are not
//! created: the note says how many were left out.

use crate::snapshot::{
    ConstraintKind, Generated, Identity, Snapshot, Table, TableKind, TypeDefKind,
};
use crate::sql::{ident as quote_ident, literal};

/// `public.orders` → `public`, `"Odd.Schema"."T"` → `"Odd.Schema"`: keys in snapshots are
/// already quoted where needed.
fn namespace(key: &str) -> &str {
    crate::sql::split_qualified(key).0
}

/// A partition (it has a bound), not an inheritance child.
fn is_partition(t: &Table) -> bool {
    t.parent.is_some() && t.partition_bound.is_some()
}

/// The snapshot's extensions (types, operator classes and functions the tables and indexes
/// may need), each created if the target can; run before everything else, best effort.
pub fn extensions(snap: &Snapshot) -> Vec<String> {
    snap.inventory
        .extensions
        .iter()
        .filter(|(name, _)| name.as_str() != "plpgsql")
        .map(|(name, e)| {
            format!(
                "CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {}",
                quote_ident(name),
                quote_ident(&e.schema)
            )
        })
        .collect()
}

/// Statements that create what the tables need and the tables themselves, in order; each
/// one is run on its own so a failure names what failed.
pub fn before_load(snap: &Snapshot) -> BeforeLoad {
    let mut out = Vec::new();
    let mut schemas: Vec<&str> = snap
        .schema
        .tables
        .keys()
        .chain(snap.schema.types.keys())
        .chain(snap.schema.sequences.keys())
        .map(|k| namespace(k))
        .collect();
    schemas.sort();
    schemas.dedup();
    for s in schemas {
        out.push(format!("CREATE SCHEMA IF NOT EXISTS {s}"));
    }
    for (name, t) in &snap.schema.types {
        if t.kind == TypeDefKind::Enum {
            out.push(format!(
                "CREATE TYPE {name} AS ENUM ({})",
                t.labels
                    .iter()
                    .map(|l| literal(l))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    // Domains and composite types in dependency order: a type is created once the user types
    // its definition names exist (enums are already there).
    let mut pending: Vec<(&String, &crate::snapshot::TypeDef)> = snap
        .schema
        .types
        .iter()
        .filter(|(_, t)| t.kind != TypeDefKind::Enum)
        .collect();
    while !pending.is_empty() {
        let uses = |def: &crate::snapshot::TypeDef, other: &str| {
            let text = format!(
                "{} {}",
                def.base_type.as_deref().unwrap_or(""),
                def.attributes.join(" ")
            );
            let bare = crate::sql::split_qualified(other).1;
            text.contains(other)
                || text
                    .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '"'))
                    .any(|w| w == bare)
        };
        let ready = pending
            .iter()
            .position(|(n, t)| !pending.iter().any(|(o, _)| o != n && uses(t, o)))
            .unwrap_or(0);
        let (name, t) = pending.remove(ready);
        if t.kind == TypeDefKind::Composite {
            out.push(format!(
                "CREATE TYPE {name} AS ({})",
                t.attributes.join(", ")
            ));
            continue;
        }
        if t.kind == TypeDefKind::Range {
            out.push(format!(
                "CREATE TYPE {name} AS RANGE (subtype = {})",
                t.base_type.as_deref().unwrap_or("numeric")
            ));
            continue;
        }
        let mut s = format!(
            "CREATE DOMAIN {name} AS {}",
            t.base_type.as_deref().unwrap_or("text")
        );
        if t.not_null {
            s.push_str(" NOT NULL");
        }
        for c in &t.checks {
            s.push(' ');
            s.push_str(c);
        }
        out.push(s);
    }
    for (name, q) in &snap.schema.sequences {
        out.push(format!(
            "CREATE SEQUENCE IF NOT EXISTS {name} AS {} INCREMENT {} MINVALUE {} MAXVALUE {} START {}{}",
            q.data_type,
            q.increment,
            q.min,
            q.max,
            q.start,
            if q.cycle { " CYCLE" } else { "" }
        ));
    }
    // Parents before partitions and inheritance children: one level per depth.
    let prelude = std::mem::take(&mut out);
    let mut levels: Vec<Vec<String>> = Vec::new();
    let mut tables: Vec<(&String, &crate::snapshot::Table)> = snap.schema.tables.iter().collect();
    tables.sort_by_key(|(k, t)| (depth(snap, t), (*k).clone()));
    for (name, t) in tables {
        if t.kind == TableKind::Foreign {
            continue;
        }
        let level = depth(snap, t);
        if levels.len() <= level {
            levels.resize(level + 1, Vec::new());
        }
        let out = &mut levels[level];
        if let (Some(parent), Some(bound)) = (&t.parent, &t.partition_bound) {
            let sub = t
                .partition_key
                .as_ref()
                .map(|k| format!(" PARTITION BY {k}"))
                .unwrap_or_default();
            out.push(format!(
                "CREATE TABLE {name} PARTITION OF {parent} {bound}{sub}"
            ));
            continue;
        }
        let cols: Vec<String> = t
            .columns
            .iter()
            .map(|c| {
                let mut s = format!("{} {}", quote_ident(&c.name), c.data_type);
                if let Some(coll) = &c.collation {
                    s.push_str(&format!(" COLLATE {coll}"));
                }
                match (c.generated, c.identity, &c.default) {
                    (Generated::Stored, _, Some(expr)) => {
                        s.push_str(&format!(" GENERATED ALWAYS AS ({expr}) STORED"))
                    }
                    (Generated::Virtual, _, Some(expr)) => {
                        s.push_str(&format!(" GENERATED ALWAYS AS ({expr}) VIRTUAL"))
                    }
                    (_, Identity::Always, _) => s.push_str(" GENERATED ALWAYS AS IDENTITY"),
                    (_, Identity::ByDefault, _) => s.push_str(" GENERATED BY DEFAULT AS IDENTITY"),
                    (_, _, Some(expr)) => s.push_str(&format!(" DEFAULT {expr}")),
                    _ => {}
                }
                if c.not_null {
                    s.push_str(" NOT NULL");
                }
                s
            })
            .collect();
        let mut s = format!("CREATE TABLE {name} ({})", cols.join(", "));
        if let Some(parent) = &t.parent {
            // Inheritance: the child's columns merge with the parent's of the same name.
            s.push_str(&format!(" INHERITS ({parent})"));
        }
        if let Some(key) = &t.partition_key {
            s.push_str(&format!(" PARTITION BY {key}"));
        }
        out.push(s);
    }
    BeforeLoad {
        prelude,
        tables: levels,
    }
}

/// What runs before the load: schemas, types and sequences in order, then the tables level
/// by level (parents a level above their partitions and inheritance children).
pub struct BeforeLoad {
    pub prelude: Vec<String>,
    pub tables: Vec<Vec<String>>,
}

/// What runs after the load, in three steps: statements on one table each (keys, indexes,
/// exclusion and check constraints: they may run in parallel), foreign keys (one after
/// another: two of them lock their parents, and in a cycle could deadlock), then sequences
/// moved past the loaded values (in parallel).
pub struct AfterLoad {
    pub single_table: Vec<String>,
    pub foreign_keys: Vec<String>,
    pub sequences: Vec<String>,
}

/// Keys, indexes, checks and foreign keys, then sequences past the loaded values.
pub fn after_load(snap: &Snapshot) -> AfterLoad {
    let mut out = Vec::new();
    let constraints = |kind: ConstraintKind| {
        snap.schema
            .constraints
            .values()
            .filter(move |c| c.kind == kind)
            .filter(|c| {
                // Partitions inherit their parent's keys and foreign keys; inheritance children
                // their parent's checks.
                snap.schema.tables.get(&c.table).is_some_and(|t| {
                    let inherited = c.kind == ConstraintKind::Check
                        && t.parent.as_ref().is_some_and(|p| {
                            snap.schema
                                .constraints
                                .values()
                                .any(|pc| &pc.table == p && pc.name == c.name && pc.kind == c.kind)
                        });
                    !is_partition(t) && !inherited
                })
            })
            .map(|c| {
                format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} {}",
                    c.table,
                    quote_ident(&c.name),
                    c.definition
                )
            })
            .collect::<Vec<_>>()
    };
    out.extend(constraints(ConstraintKind::PrimaryKey));
    out.extend(constraints(ConstraintKind::Unique));
    for i in snap.schema.indexes.values() {
        let on_partition = snap.schema.tables.get(&i.table).is_some_and(is_partition);
        if i.constraint.is_none() && !on_partition {
            out.push(i.definition.clone());
        }
    }
    out.extend(constraints(ConstraintKind::Exclusion));
    out.extend(constraints(ConstraintKind::Check));
    let single_table = std::mem::take(&mut out);
    let foreign_keys = constraints(ConstraintKind::ForeignKey);
    for (name, t) in &snap.schema.tables {
        for c in &t.columns {
            let Some(d) = &c.default else { continue };
            let Some(seq) = d
                .strip_prefix("nextval('")
                .and_then(|x| x.split("'::regclass").next())
            else {
                continue;
            };
            out.push(format!(
                "SELECT setval({}, greatest(coalesce(max({}), 0), 1)) FROM {name}",
                literal(seq),
                quote_ident(&c.name)
            ));
        }
        for c in t.columns.iter().filter(|c| c.identity.is_identity()) {
            out.push(format!(
                "SELECT setval(pg_get_serial_sequence({}, {}), greatest(coalesce(max({}), 0), 1)) FROM {name}",
                literal(name),
                literal(&c.name),
                quote_ident(&c.name)
            ));
        }
    }
    AfterLoad {
        single_table,
        foreign_keys,
        sequences: out,
    }
}

/// How many parents a table has above it: parents are created before their children.
fn depth(snap: &Snapshot, t: &Table) -> usize {
    let mut d = 0;
    let mut p = t.parent.as_ref();
    while let Some(name) = p {
        d += 1;
        if d > 64 {
            break;
        }
        p = snap.schema.tables.get(name).and_then(|t| t.parent.as_ref());
    }
    d
}

/// What `--create-schema` leaves out, for the note.
pub fn left_out(snap: &Snapshot) -> Option<String> {
    let s = &snap.schema;
    let parts: Vec<String> = [
        (s.views.len(), "views"),
        (s.functions.len(), "functions"),
        (s.triggers.len(), "triggers"),
        (s.policies.len(), "row security policies"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, w)| format!("{n} {w}"))
    .collect();
    (!parts.is_empty()).then(|| format!("not created: {} (seed creates tables, types, sequences, keys, indexes and constraints)", parts.join(", ")))
}
