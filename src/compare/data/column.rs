//! One column's two profiles with what judging them needs, and what the schema says of it.

use super::*;

/// One column's two profiles and what judging them needs.
pub(super) struct Column<'a> {
    pub s: &'a Sides<'a>,
    pub object: &'a str,
    pub a: &'a ColumnProfile,
    pub b: &'a ColumnProfile,
    pub t: crate::compare::thresholds::Thresholds,
    /// Non-NULL values on each side.
    pub na: u64,
    pub nb: u64,
    pub left_complete: bool,
    /// One side was seeded from the other's snapshot (see `super::compare`).
    pub seeded: bool,
}

/// What the schema says of a column: a key (primary, unique or foreign key, identity or
/// sequence-fed: its range and distinct count follow the row count), and where it is declared
/// unique by one column's constraint or index.
#[derive(Clone, Copy, Default)]
pub(super) struct Role {
    pub key: bool,
    /// A primary or foreign key, identity or sequence-fed: repeats follow the schema.
    pub reference: bool,
    pub unique: Declared,
    /// One side was seeded from the other's snapshot.
    pub seeded: bool,
}

/// Which side declares the column unique (a one-column unique constraint or index).
#[derive(Clone, Copy, Default)]
pub(super) struct Declared {
    pub left: bool,
    pub right: bool,
}
