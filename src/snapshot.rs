//! The snapshot: one environment's capture as a plain, versioned, self-describing JSON file.
//! Maps are `BTreeMap` so files and comparisons are deterministic. No raw data value and no
//! password is ever stored here. The format is documented in docs/snapshot-format.md.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The `format` field every snapshot carries.
pub const FORMAT: &str = "pgparity-snapshot";
/// The format version this build writes and reads. Bump it on any incompatible change.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Snapshot {
    pub format: String,
    pub format_version: u32,
    pub meta: Meta,
    pub inventory: Inventory,
    pub schema: Schema,
    pub statistics: Statistics,
    /// What could not be read, and why; the run went on without it.
    #[serde(default)]
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Meta {
    pub tool_version: String,
    /// The environment's name (from the config, `--left-name`, or the host).
    pub environment: String,
    /// Connection target without password: `user@host:port/dbname`.
    pub target: String,
    /// Server clock at capture, ISO 8601.
    pub captured_at: String,
    pub database: String,
    /// The role that captured, and what it was allowed to see.
    pub role: String,
    pub role_is_superuser: bool,
    pub role_reads_all_settings: bool,
    pub role_reads_all_stats: bool,
    /// Options used for the capture (timeouts...).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Inventory {
    /// `server_version`, e.g. `17.10` or `15.18 (Debian 15.18-0+deb12u1)`.
    pub server_version: String,
    pub server_version_num: i32,
    /// `version()`: compiler and platform.
    pub version_string: String,
    pub settings: BTreeMap<String, Setting>,
    /// Per-database (this database) and per-role overrides from pg_db_role_setting.
    pub overrides: Vec<Override>,
    pub extensions: BTreeMap<String, Extension>,
    pub preload_libraries: Vec<String>,
    pub database: DatabaseLocale,
    /// Non-default collations used by this database's columns, with their versions.
    pub collations: BTreeMap<String, Collation>,
    pub topology: Topology,
}

/// One pg_settings row. `value` is what a fresh session of the capturing role sees (for the
/// few settings the capture session sets itself, the reset value).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Setting {
    pub value: String,
    pub unit: Option<String>,
    pub category: String,
    pub context: String,
    pub vartype: String,
    pub source: String,
    pub boot_val: Option<String>,
    pub pending_restart: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Override {
    /// `None`: every role (an `ALTER DATABASE ... SET` on this database).
    pub role: Option<String>,
    /// `None`: every database (an `ALTER ROLE ... SET`); otherwise this database.
    pub database: Option<String>,
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Extension {
    pub version: String,
    pub schema: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct DatabaseLocale {
    pub name: String,
    pub encoding: String,
    pub collate: String,
    pub ctype: String,
    /// `libc`, `icu` or `builtin`.
    pub locale_provider: String,
    /// ICU or builtin locale (PostgreSQL 15 and later).
    pub locale: Option<String>,
    /// Collation version recorded when the database was created (15 and later).
    pub collation_version: Option<String>,
    /// Collation version the server's library reports now.
    pub collation_actual_version: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Collation {
    pub provider: String,
    pub locale: Option<String>,
    pub version: Option<String>,
    pub actual_version: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Topology {
    pub in_recovery: bool,
    pub standbys: Vec<Standby>,
    pub slots: Vec<Slot>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Standby {
    pub application_name: Option<String>,
    pub state: Option<String>,
    pub sync_state: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Slot {
    pub name: String,
    pub slot_type: String,
    pub active: bool,
    pub plugin: Option<String>,
}

/// Keys are qualified, quoted-where-needed names (`public.orders`, `public."Odd Name"`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Schema {
    pub schemas: BTreeMap<String, Namespace>,
    pub tables: BTreeMap<String, Table>,
    pub indexes: BTreeMap<String, Index>,
    /// Key: `table.constraint`.
    pub constraints: BTreeMap<String, Constraint>,
    pub views: BTreeMap<String, View>,
    pub sequences: BTreeMap<String, Sequence>,
    /// Key: `table.trigger`.
    pub triggers: BTreeMap<String, Trigger>,
    /// Key: `schema.name(argument types)`.
    pub functions: BTreeMap<String, Function>,
    /// Key: `table.policy`.
    pub policies: BTreeMap<String, Policy>,
    pub types: BTreeMap<String, TypeDef>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Namespace {
    pub owner: String,
    pub acl: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Table {
    /// `table`, `partitioned table` or `foreign table`.
    pub kind: String,
    pub persistence: String,
    pub partition_key: Option<String>,
    pub parent: Option<String>,
    pub partition_bound: Option<String>,
    pub rls_enabled: bool,
    pub rls_forced: bool,
    pub acl: Vec<String>,
    pub columns: Vec<Column>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Column {
    pub name: String,
    /// `format_type`: `integer`, `character varying(20)`, `public.mood[]`.
    pub data_type: String,
    /// `b` base, `e` enum, `d` domain, `r` range, `c` composite, `m` multirange, `p` pseudo.
    pub type_kind: String,
    pub not_null: bool,
    pub default: Option<String>,
    /// Set only when the column's collation is not its type's default.
    pub collation: Option<String>,
    /// `a` always, `d` by default, or empty.
    pub identity: String,
    /// `s` stored, or empty.
    pub generated: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Index {
    pub table: String,
    /// `pg_get_indexdef`.
    pub definition: String,
    pub unique: bool,
    pub primary: bool,
    pub valid: bool,
    /// The constraint this index implements, if any.
    pub constraint: Option<String>,
}

impl Index {
    /// The definition without the index's own name: what to match indexes on.
    pub fn shape(&self) -> String {
        match self.definition.split_once(" ON ") {
            Some((head, tail)) => {
                let unique = if head.contains("UNIQUE") {
                    "UNIQUE "
                } else {
                    ""
                };
                format!("{unique}ON {tail}")
            }
            None => self.definition.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Constraint {
    pub table: String,
    pub name: String,
    /// `p` primary key, `u` unique, `f` foreign key, `c` check, `x` exclusion, `t` trigger.
    pub kind: String,
    /// `pg_get_constraintdef`.
    pub definition: String,
    pub validated: bool,
    pub deferrable: bool,
    pub deferred: bool,
    pub columns: Vec<String>,
    /// Foreign keys: the referenced table and columns, and the actions.
    pub references: Option<String>,
    pub ref_columns: Vec<String>,
    pub on_update: Option<String>,
    pub on_delete: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct View {
    pub materialized: bool,
    pub definition: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Sequence {
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cycle: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Trigger {
    pub table: String,
    pub definition: String,
    /// `O` origin, `D` disabled, `R` replica, `A` always.
    pub enabled: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Function {
    pub result: Option<String>,
    pub language: String,
    /// `f` function, `p` procedure, `a` aggregate, `w` window.
    pub kind: String,
    pub volatility: String,
    pub security_definer: bool,
    /// md5 of the source text: bodies are compared, not stored.
    pub body_md5: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Policy {
    pub table: String,
    pub command: String,
    pub permissive: bool,
    pub roles: Vec<String>,
    pub using: Option<String>,
    pub with_check: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TypeDef {
    /// `enum` or `domain`.
    pub kind: String,
    /// Enum labels in order.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Domain: base type, NOT NULL and check constraints.
    pub base_type: Option<String>,
    #[serde(default)]
    pub not_null: bool,
    #[serde(default)]
    pub checks: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Statistics {
    pub tables: BTreeMap<String, TableStats>,
    /// The planner's view per column (pg_stats, without its raw values): table → column.
    pub columns: BTreeMap<String, BTreeMap<String, ColumnStats>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TableStats {
    pub reltuples: f64,
    pub relpages: i64,
    pub live_tuples: i64,
    pub last_analyze: Option<String>,
    pub last_autoanalyze: Option<String>,
    pub mod_since_analyze: i64,
}

impl TableStats {
    pub fn analyzed(&self) -> bool {
        self.last_analyze.is_some()
            || self.last_autoanalyze.is_some()
            || self.reltuples >= 0.0 && self.relpages > 0
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ColumnStats {
    pub null_frac: f64,
    pub n_distinct: f64,
    pub avg_width: i32,
    pub correlation: Option<f64>,
}

/// Something the capture could not read; recorded so the report can say what is missing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Problem {
    /// What part of the capture (`settings`, `schema.tables`, `table public.secret`...).
    pub area: String,
    pub message: String,
}

impl Snapshot {
    /// Serializes to pretty JSON and writes it atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut json = serde_json::to_vec_pretty(self).map_err(|e| Error::write(path, e))?;
        json.push(b'\n');
        crate::fsutil::write_atomically(path, &json)
    }

    /// Reads a snapshot, refusing files of another kind or a newer format with a clear message.
    pub fn read(path: &Path) -> Result<Snapshot> {
        let (version, value) = read_header(path)?;
        if version > FORMAT_VERSION {
            return Err(Error::snapshot(
                path,
                format!(
                    "format version {version} is newer than this pgparity reads ({FORMAT_VERSION}); hint: upgrade pgparity"
                ),
            ));
        }
        if version < FORMAT_VERSION {
            return Err(Error::snapshot(
                path,
                format!(
                    "format version {version} is older than this pgparity reads ({FORMAT_VERSION}); hint: capture it again"
                ),
            ));
        }
        serde_json::from_value(value).map_err(|e| {
            Error::snapshot(
                path,
                format!("corrupt snapshot: {e}; hint: capture it again"),
            )
        })
    }

    /// Reads two snapshots for comparison; they must share a format version.
    pub fn read_pair(a: &Path, b: &Path) -> Result<(Snapshot, Snapshot)> {
        let (va, _) = read_header(a)?;
        let (vb, _) = read_header(b)?;
        if va != vb {
            return Err(Error::Usage(format!(
                "snapshots {} (format {va}) and {} (format {vb}) have different formats; hint: capture both with the same pgparity version",
                a.display(),
                b.display()
            )));
        }
        Ok((Snapshot::read(a)?, Snapshot::read(b)?))
    }

    pub fn major_version(&self) -> i32 {
        self.inventory.server_version_num / 10000
    }
}

fn read_header(path: &Path) -> Result<(u32, serde_json::Value)> {
    let bytes = std::fs::read(path).map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::NotFound {
            "; hint: check the path, or write one with `pgparity snapshot`"
        } else {
            ""
        };
        Error::snapshot(
            path,
            format!("cannot read: {}{hint}", crate::error::io_message(&e)),
        )
    })?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        Error::snapshot(
            path,
            format!("corrupt snapshot: not valid JSON ({e}); hint: capture it again"),
        )
    })?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(Error::snapshot(
            path,
            "not a pgparity snapshot (no \"format\": \"pgparity-snapshot\"); hint: write one with `pgparity snapshot`",
        ));
    }
    let version = value
        .get("format_version")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| {
            Error::snapshot(
                path,
                "corrupt snapshot: no format_version; hint: capture it again",
            )
        })?;
    Ok((version as u32, value))
}
