//! The snapshot's schema as SQL, for `seed --create-schema`: extensions, schemas, enum and domain types,
//! sequences and tables (partitions included) before the load; primary and unique keys,
//! indexes, checks and foreign keys after it (faster, and a load order never matters), then
//! sequences moved past the loaded keys. Each statement is its object kind's declaration
//! (`snapshot::objects`); this file orders them. Kinds declared not created (views,
//! functions, triggers, policies) are counted in the note.

use crate::snapshot::objects;
use crate::snapshot::{ConstraintKind, Snapshot, Table, TableKind, TypeDefKind};
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
        out.push(objects::schemas::create(s));
    }
    for (name, t) in &snap.schema.types {
        if t.kind == TypeDefKind::Enum {
            out.extend(objects::TYPES.ddl(name, t));
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
        out.extend(objects::TYPES.ddl(name, t));
    }
    // An identity column creates its own sequence (named `table_column_seq`, as PostgreSQL
    // names it where that name is free): created here too, the identity would take
    // `table_column_seq1`.
    let identity: std::collections::HashSet<String> = snap
        .schema
        .tables
        .iter()
        .flat_map(|(name, t)| {
            let (schema, table) = crate::sql::split_qualified(name);
            t.columns
                .iter()
                .filter(|c| c.identity.is_identity())
                .map(move |c| {
                    format!(
                        "{schema}.{}",
                        quote_ident(&format!("{}_{}_seq", unquote(table), c.name))
                    )
                })
        })
        .collect();
    for (name, q) in &snap.schema.sequences {
        if !identity.contains(name) {
            out.extend(objects::SEQUENCES.ddl(name, q));
        }
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
        levels[level].extend(objects::TABLES.ddl(name, t));
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
            .filter_map(|c| objects::CONSTRAINTS.ddl("", c))
            .collect::<Vec<_>>()
    };
    out.extend(constraints(ConstraintKind::PrimaryKey));
    out.extend(constraints(ConstraintKind::Unique));
    for (name, i) in &snap.schema.indexes {
        if i.constraint.is_some() || inherited_index(snap, i) {
            continue;
        }
        // A partitioned table's index (`ON ONLY` in its definition) is created on its
        // partitions too: left `ON ONLY`, it stayed invalid and the partitions had none.
        let partitioned = snap
            .schema
            .tables
            .get(&i.table)
            .is_some_and(|t| t.kind == TableKind::Partitioned);
        let mut i = i.clone();
        if partitioned {
            i.definition = i.definition.replacen(" ON ONLY ", " ON ", 1);
        }
        out.extend(objects::INDEXES.ddl(name, &i));
    }
    // Extended statistics objects, which the planner's estimates on the seeded rows use.
    for (name, o) in snap
        .schema
        .others
        .iter()
        .filter(|(k, _)| objects::holds(&objects::STATISTICS_OBJECTS, k))
    {
        out.extend(objects::STATISTICS_OBJECTS.ddl(name, o));
    }
    out.extend(constraints(ConstraintKind::Exclusion));
    out.extend(constraints(ConstraintKind::Check));
    let single_table = std::mem::take(&mut out);
    let foreign_keys = constraints(ConstraintKind::ForeignKey);
    for (name, t) in &snap.schema.tables {
        for c in &t.columns {
            let Some(seq) = c.default_sequence() else {
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

/// A partition's index that its parent's index creates (the same method, columns and
/// predicate): one of the partition's own is created.
fn inherited_index(snap: &Snapshot, i: &objects::Index) -> bool {
    let Some(parent) = snap
        .schema
        .tables
        .get(&i.table)
        .filter(|t| is_partition(t))
        .and_then(|t| t.parent.as_ref())
    else {
        return false;
    };
    let tail = |d: &str| d.split_once(" USING ").map(|(_, t)| t.to_string());
    snap.schema.indexes.values().any(|p| {
        &p.table == parent && p.unique == i.unique && tail(&p.definition) == tail(&i.definition)
    })
}

/// `"Odd ""T"""` → `Odd "T"`; a bare name as it is.
fn unquote(name: &str) -> String {
    match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => name.to_string(),
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

/// What `--create-schema` leaves out, for the note: the kinds whose declaration says seed
/// does not create them.
pub fn left_out(snap: &Snapshot) -> Option<String> {
    let parts: Vec<String> = objects::kinds()
        .map(|k| (k.not_created(&snap.schema), k.plural()))
        .filter(|(n, _)| *n > 0)
        .map(|(n, w)| format!("{n} {w}"))
        .collect();
    (!parts.is_empty()).then(|| format!("not created: {} (seed creates tables, types, sequences, keys, indexes and constraints)", parts.join(", ")))
}
