//! The catalog's object kinds, one declaration each: a file per kind holds the type the
//! snapshot stores, the catalog query that reads it (per major where a column moved), its
//! identity, every compared attribute with its severity and the reason in words, and how
//! `seed` renders it as DDL. Capture reads a kind by its [`Kind::select`] and [`Kind::key`],
//! the schema comparer walks its [`Kind::attributes`], seed's DDL calls its [`Kind::seed`],
//! and the README's list of compared objects is [`coverage`] of [`kinds`] (a test keeps the
//! two equal). Adding an attribute to a kind is its field, its column in the query and one
//! [`Attribute`] here, plus a planted test.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::severity::Severity;

/// Leaves out system schemas; `n` is the pg_namespace alias.
macro_rules! user_ns {
    () => {
        "n.nspname NOT IN ('pg_catalog', 'information_schema') \
         AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'"
    };
}

/// Objects that belong to an extension are reported as the extension, not one by one.
macro_rules! not_extension_member {
    ($catalog:literal, $oid:literal) => {
        concat!(
            "NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = '",
            $catalog,
            "'::regclass AND dep.objid = ",
            $oid,
            " AND dep.deptype = 'e')"
        )
    };
}

pub(crate) use not_extension_member;
pub(crate) use user_ns;

mod constraints;
mod functions;
mod grants;
mod indexes;
mod others;
mod policies;
pub mod schemas;
mod sequences;
mod tables;
mod triggers;
mod types;
mod views;

pub use constraints::{Constraint, ConstraintKind, ConstraintSort, CONSTRAINTS};
pub use functions::{Function, FunctionKind, FUNCTIONS};
pub use grants::{same_acl, same_captured_acl, shown_acl};
pub use indexes::{Index, INDEXES, UNIQUE_MISSING};
pub use others::{
    holds, is_server_wide, is_server_wide_key, Other, AGGREGATES, CASTS, COLLATIONS, DATABASE,
    DEFAULT_PRIVILEGES, EVENT_TRIGGERS, FOREIGN_DATA_WRAPPERS, FOREIGN_SERVERS, FOREIGN_TABLES,
    LANGUAGES, LARGE_OBJECTS, OPERATORS, OPERATOR_CLASSES, PARAMETER_PRIVILEGES, PUBLICATIONS,
    ROLES, RULES, SECURITY_LABELS, STATISTICS_OBJECTS, SUBSCRIPTIONS, TABLESPACES, TEXT_SEARCH,
    TIME_ZONES, USER_MAPPINGS,
};
pub use policies::{Policy, POLICIES};
pub use schemas::{default_public_acl, Namespace, SCHEMAS};
pub use sequences::{Sequence, SEQUENCES};
pub use tables::{Column, Generated, Identity, Table, TableKind, TypeKind, COLUMNS, TABLES};
pub use triggers::{Trigger, TRIGGERS};
pub use types::{TypeDef, TypeDefKind, TYPES};
pub use views::{View, VIEWS};

use super::Schema;

/// The two sides' major versions (`15`, `17`): what some attributes need to tell a version's
/// default from drift.
#[derive(Debug, Clone, Copy)]
pub struct Majors {
    pub left: i32,
    pub right: i32,
}

/// How an object of a kind is named in the snapshot's map (and so matched between sides).
pub enum Key<T: 'static> {
    /// The row's `name` column, already qualified and quoted by the query.
    Name,
    /// The row's `name` column with the object's own fields (a trigger's table).
    Named(fn(&str, &T) -> String),
    /// The object's own fields alone (its name is one of them).
    Own(fn(&T) -> String),
}

/// One compared attribute: the finding's aspect (the last part of its id), the words for it,
/// how severe a difference is and the class of bug it can hide.
pub struct Attribute<T: 'static> {
    pub aspect: &'static str,
    /// The catalog columns (`relation.column`) the attribute compares: its rows of the
    /// coverage map (docs/catalog-coverage.md).
    pub reads: &'static [&'static str],
    pub label: &'static str,
    pub severity: Severity,
    pub why: &'static str,
    /// The value a report shows for a side (and compares, unless `same` is given).
    pub shown: fn(&T) -> Cow<'_, str>,
    /// The two sides agree on the attribute, when that is not their shown values being equal
    /// (a version's default, a condition on another attribute).
    pub same: Option<fn(Majors, &T, &T) -> bool>,
    /// Values not printed (long, or private): "(one body)" vs "(another body)".
    pub hidden: Option<&'static str>,
    /// Changes the attribute on the kind's example: a test plants it on one side and expects
    /// exactly this attribute's finding, at its severity.
    pub plant: fn(&mut T),
}

/// What is said of an object on one side only.
pub struct Missing<T: 'static> {
    /// Whether an object on one side only is a finding at all: not where the kind's presence
    /// follows other objects that are compared (a role is read because grants, owners and
    /// policies name it; a role named on one side only is their difference, said there).
    pub said: bool,
    pub severity: Severity,
    pub why: &'static str,
    /// The object's noun when it is not the kind's (a view that is materialized).
    pub noun: Option<fn(&T) -> String>,
    /// Shown after the name and as the value of the side that has it.
    pub detail: Option<fn(&T) -> String>,
}

/// How `seed --create-schema` renders an object as DDL.
pub enum Seed<T: 'static> {
    /// One statement per object, run before the rows are loaded.
    Before(fn(&str, &T) -> String),
    /// One statement per object, run after the rows are loaded.
    After(fn(&str, &T) -> String),
    /// Part of another object's statement (a column of its table's).
    Within(fn(&T) -> String),
    /// Not created; the words say why.
    Not(&'static str),
}

/// A catalog object kind, declared once.
pub struct Kind<T: 'static> {
    /// What one is called in findings and docs, and many of them.
    pub noun: &'static str,
    pub plural: &'static str,
    /// The capture's area name (problems name it).
    pub area: &'static str,
    /// The catalog columns that name an object of the kind and tell whether it exists: compared
    /// as its presence.
    pub reads: &'static [&'static str],
    /// The catalog query on a major (`server_version_num`); its columns are `T`'s fields.
    pub select: fn(i32) -> Cow<'static, str>,
    pub key: Key<T>,
    /// Tidies a row once read (privileges sorted, whitespace trimmed).
    pub tidy: Option<fn(&mut T)>,
    pub missing: Missing<T>,
    pub attributes: &'static [Attribute<T>],
    pub seed: Seed<T>,
    /// How many a schema holds.
    pub count: fn(&Schema) -> usize,
    /// One object of the kind, named, and how it goes into a schema (`None`: what holds it,
    /// alone — a column's table): what the planted test changes an attribute of.
    pub example: fn() -> (String, T),
    pub place: fn(&mut Schema, Option<(String, T)>),
}

impl<T> Kind<T> {
    /// The attribute with this aspect (a kind's comparer that matches objects its own way
    /// still takes its words from here).
    pub fn attribute(&self, aspect: &str) -> &'static Attribute<T> {
        self.attributes
            .iter()
            .find(|a| a.aspect == aspect)
            .unwrap_or_else(|| panic!("{} declares no attribute {aspect}", self.noun))
    }

    /// An object's statement for `seed`, before or after the load.
    pub fn ddl(&self, name: &str, item: &T) -> Option<String> {
        match &self.seed {
            Seed::Before(f) | Seed::After(f) => Some(f(name, item)),
            Seed::Within(f) => Some(f(item)),
            Seed::Not(_) => None,
        }
    }
}

impl<T> Attribute<T> {
    /// The two sides' values when they differ, as a report shows them.
    pub fn differs(&self, majors: Majors, a: &T, b: &T) -> Option<(String, String)> {
        let differ = match self.same {
            Some(same) => !same(majors, a, b),
            None => (self.shown)(a) != (self.shown)(b),
        };
        if !differ {
            return None;
        }
        Some(match self.hidden {
            Some(noun) => (format!("(one {noun})"), format!("(another {noun})")),
            None => ((self.shown)(a).into_owned(), (self.shown)(b).into_owned()),
        })
    }
}

/// A kind as the docs and the coverage list see it, whatever its type.
pub trait Declared: Sync {
    fn noun(&self) -> &'static str;
    fn plural(&self) -> &'static str;
    /// (label, severity, why) of each compared attribute.
    fn compared(&self) -> Vec<(&'static str, Severity, &'static str)>;
    fn missing(&self) -> (Severity, &'static str);
    /// Whether an object on one side only is a finding (see [`Missing::said`]).
    fn presence_said(&self) -> bool;
    /// How seed renders it, in words.
    fn seeded(&self) -> Cow<'static, str>;
    /// How many a schema holds that seed does not create (0 for a kind it creates).
    fn not_created(&self, schema: &Schema) -> usize;
    /// For each attribute: its aspect and severity, a schema holding the kind's example, and
    /// the same with the attribute planted. A comparison of the two must say exactly that.
    fn planted(&self) -> Vec<Planted>;
    /// A schema holding the example, and one without it: the kind's absence.
    fn absent(&self) -> (Schema, Schema);
    /// The catalog columns compared, each with how: `(column, aspect)` (`missing` for the
    /// kind's identity and presence).
    fn reads(&self) -> Vec<(&'static str, &'static str)>;
}

/// One attribute planted on a kind's example (see [`Declared::planted`]).
pub struct Planted {
    pub aspect: &'static str,
    pub severity: Severity,
    pub left: Schema,
    pub right: Schema,
}

impl<T> Declared for Kind<T> {
    fn noun(&self) -> &'static str {
        self.noun
    }
    fn plural(&self) -> &'static str {
        self.plural
    }
    fn compared(&self) -> Vec<(&'static str, Severity, &'static str)> {
        self.attributes
            .iter()
            .map(|a| (a.label, a.severity, a.why))
            .collect()
    }
    fn missing(&self) -> (Severity, &'static str) {
        (self.missing.severity, self.missing.why)
    }
    fn presence_said(&self) -> bool {
        self.missing.said
    }
    fn seeded(&self) -> Cow<'static, str> {
        match &self.seed {
            Seed::Before(_) => "created before the load".into(),
            Seed::After(_) => "created after the load".into(),
            Seed::Within(_) => "created with its table".into(),
            Seed::Not(why) => format!("not created: {why}").into(),
        }
    }
    fn not_created(&self, schema: &Schema) -> usize {
        match self.seed {
            Seed::Not(_) => (self.count)(schema),
            _ => 0,
        }
    }
    fn planted(&self) -> Vec<Planted> {
        self.attributes
            .iter()
            .map(|a| {
                let (name, item) = (self.example)();
                let (mut left, mut right) = (Schema::default(), Schema::default());
                let mut changed = (self.example)().1;
                (a.plant)(&mut changed);
                (self.place)(&mut left, Some((name.clone(), item)));
                (self.place)(&mut right, Some((name, changed)));
                Planted {
                    aspect: a.aspect,
                    severity: a.severity,
                    left,
                    right,
                }
            })
            .collect()
    }
    fn reads(&self) -> Vec<(&'static str, &'static str)> {
        let mut out: Vec<_> = self.reads.iter().map(|c| (*c, "missing")).collect();
        for a in self.attributes {
            out.extend(a.reads.iter().map(|c| (*c, a.aspect)));
        }
        out
    }
    fn absent(&self) -> (Schema, Schema) {
        let (mut with, mut without) = (Schema::default(), Schema::default());
        (self.place)(&mut with, Some((self.example)()));
        (self.place)(&mut without, None);
        (with, without)
    }
}

/// The kinds with a type of their own.
static OWN: [&dyn Declared; 11] = [
    &SCHEMAS,
    &TABLES,
    &COLUMNS,
    &INDEXES,
    &CONSTRAINTS,
    &VIEWS,
    &SEQUENCES,
    &TRIGGERS,
    &FUNCTIONS,
    &POLICIES,
    &TYPES,
];

/// Every kind the schema holds, in the order capture reads and compare reports them: the
/// kinds with a type of their own, then the smaller classes ([`OTHERS`]).
pub fn kinds() -> impl Iterator<Item = &'static dyn Declared> {
    OWN.iter()
        .copied()
        .chain(OTHERS.iter().map(|k| *k as &'static dyn Declared))
}

/// The kinds kept in `Schema::others` (`class:name`), each read, compared and counted alone.
pub static OTHERS: [&Kind<Other>; 24] = [
    &STATISTICS_OBJECTS,
    &RULES,
    &EVENT_TRIGGERS,
    &DEFAULT_PRIVILEGES,
    &PUBLICATIONS,
    &SUBSCRIPTIONS,
    &FOREIGN_DATA_WRAPPERS,
    &FOREIGN_SERVERS,
    &USER_MAPPINGS,
    &FOREIGN_TABLES,
    &COLLATIONS,
    &CASTS,
    &OPERATORS,
    &OPERATOR_CLASSES,
    &AGGREGATES,
    &TEXT_SEARCH,
    &LANGUAGES,
    &ROLES,
    &SECURITY_LABELS,
    &DATABASE,
    &PARAMETER_PRIVILEGES,
    &TABLESPACES,
    &LARGE_OBJECTS,
    &TIME_ZONES,
];

/// The README's list of compared catalog objects, made from the declarations.
pub fn coverage() -> String {
    let mut out = String::from(
        "| object | on one side only | compared (severity: the bug it can hide) | `seed --create-schema` |\n|---|---|---|---|\n",
    );
    for k in kinds() {
        let sev = if k.presence_said() {
            k.missing().0.to_string()
        } else {
            "— (follows what names it)".to_string()
        };
        let compared: Vec<String> = k
            .compared()
            .into_iter()
            .map(|(label, sev, why)| format!("{label} ({sev}: {why})"))
            .collect();
        out.push_str(&format!(
            "| {} | {sev} | {} | {} |\n",
            k.plural(),
            if compared.is_empty() {
                "—".to_string()
            } else {
                compared.join("; ")
            },
            k.seeded()
        ));
    }
    out
}

/// A constant query, whatever the major.
fn fixed(sql: &'static str) -> Cow<'static, str> {
    Cow::Borrowed(sql)
}

/// A map's size, for [`Kind::count`].
fn len<T>(m: &BTreeMap<String, T>) -> usize {
    m.len()
}

/// [`Kind::place`] for a kind kept in a map of the schema.
fn put<T>(m: &mut BTreeMap<String, T>, item: Option<(String, T)>) {
    m.extend(item);
}

/// An optional text as shown, `none` when absent.
fn or<'a>(v: &'a Option<String>, none: &'static str) -> Cow<'a, str> {
    Cow::Borrowed(v.as_deref().unwrap_or(none))
}
