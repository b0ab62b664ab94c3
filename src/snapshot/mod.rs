//! The snapshot: one environment's capture as a plain, versioned, self-describing JSON file.
//! Maps are `BTreeMap` so files and comparisons are deterministic. No raw data value and no
//! password is ever stored here. The format is documented in docs/snapshot-format.md.
//!
//! The snapshot is a pure contract: this module and its children (`plan`, `classes`) import
//! nothing that opens a connection, so every stage (capture, profile, compare, report, seed)
//! can use them without reaching into another stage (`measure` says how a column is measured
//! and drawn, for the profile and seed alike). A test below holds `compare/`, `report/`,
//! `finding.rs`, `policy.rs` and this folder to that rule.

/// Declares a kind held as a fixed word or letter in the snapshot file (the catalog's own
/// spelling, so files stay readable and format 1 stays format 1), typed in code so a
/// comparison with the wrong spelling cannot compile.
macro_rules! kind {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $text)] $variant),+
        }
        impl $name {
            /// The spelling in the snapshot file.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod classes;
pub mod coverage;
pub mod measure;
pub mod objects;
pub mod plan;
mod profile;
mod statistics;
mod tables;
pub mod tenant;

pub use objects::{
    Column, Constraint, ConstraintKind, Function, FunctionKind, Generated, Identity, Index,
    Namespace, Policy, Sequence, Table, TableKind, Trigger, TypeDef, TypeDefKind, TypeKind, View,
};
pub use profile::*;
pub use statistics::*;
pub use tables::ProfileTables;

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
    /// Measured truth about the data (absent with `--no-profile`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    /// Corpus query path → its plan here (absent without a corpus).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plans: Option<BTreeMap<String, plan::PlannedQuery>>,
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
    /// Set when this database was filled by `pgparity seed` (read from the database's
    /// comment, where seed records it): its data is synthetic, shaped like that snapshot's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seeded_from: Option<SeedProvenance>,
}

/// Where a seeded database's data came from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SeedProvenance {
    /// The snapshot's environment and capture time.
    pub environment: String,
    pub captured_at: String,
    pub seed: u64,
    pub scale: f64,
    /// When the seed ran (server time, ISO 8601).
    pub seeded_at: String,
}

impl SeedProvenance {
    /// The line `seed` writes into the database's comment.
    pub const PREFIX: &'static str = "pgparity seed: ";

    /// The line a seed loading tables in ranges (on several sessions, each committing its
    /// own) writes before the load and removes after it: a seed killed midway leaves it, and
    /// the tables it names may be half full.
    pub const LOADING: &'static str = "pgparity seed loading: ";

    /// The tables a stopped seed left loading, from a database comment.
    pub fn unfinished(comment: &str) -> Vec<String> {
        comment
            .lines()
            .find_map(|l| l.strip_prefix(Self::LOADING))
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default()
    }

    /// Reads the provenance line out of a database comment.
    pub fn from_comment(comment: &str) -> Option<SeedProvenance> {
        comment
            .lines()
            .find_map(|l| l.strip_prefix(Self::PREFIX))
            .and_then(|json| serde_json::from_str(json).ok())
    }

    /// Whether `snap` is the snapshot this data was seeded from.
    pub fn is_from(&self, snap: &Snapshot) -> bool {
        self.environment == snap.meta.environment && self.captured_at == snap.meta.captured_at
    }
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
    /// The version this server's packages install by default (absent in older snapshots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_version: Option<String>,
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
    #[serde(deserialize_with = "packed")]
    pub tables: BTreeMap<String, Table>,
    #[serde(deserialize_with = "packed")]
    pub indexes: BTreeMap<String, Index>,
    /// Key: `table.constraint`.
    #[serde(deserialize_with = "packed")]
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
    /// The smaller classes (`objects::OTHERS`), keyed `class:name` (absent in snapshots of
    /// pgparity before 0.x: then none are compared).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub others: BTreeMap<String, objects::Other>,
}

/// A map read with full nodes: entries inserted one by one in key order (as a file holds them)
/// leave every node half empty, while building the map from the whole list packs them.
pub(crate) fn packed<'de, D, K, V>(d: D) -> std::result::Result<BTreeMap<K, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    K: Deserialize<'de> + Ord,
    V: Deserialize<'de>,
{
    struct Entries<K, V>(std::marker::PhantomData<(K, V)>);
    impl<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>> serde::de::Visitor<'de>
        for Entries<K, V>
    {
        type Value = BTreeMap<K, V>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut entries = Vec::new();
            while let Some(entry) = map.next_entry()? {
                entries.push(entry);
            }
            Ok(entries.into_iter().collect())
        }
    }
    d.deserialize_map(Entries(std::marker::PhantomData))
}

/// A list read at its exact length: a growing list doubles its room, and per table and column
/// the spare room is most of a 20,000-table snapshot's memory.
pub(crate) fn exact<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> std::result::Result<Vec<T>, D::Error> {
    let mut v = Vec::<T>::deserialize(d)?;
    v.shrink_to_fit();
    Ok(v)
}

pub(crate) fn is_zero(x: &u64) -> bool {
    *x == 0
}

/// Something the capture could not read; recorded so the report can say what is missing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Problem {
    /// What part of the capture (`settings`, `schema.tables`, `table public.secret`...).
    pub area: String,
    pub message: String,
}

impl Snapshot {
    /// Serializes to compact JSON (a snapshot of thousands of tables stays small) and writes
    /// it atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        crate::fsutil::write_with(path, |w| {
            serde_json::to_writer(&mut *w, self)?;
            w.write_all(b"\n")
        })
    }

    /// Reads a snapshot, refusing files of another kind or a newer format with a clear message.
    pub fn read(path: &Path) -> Result<Snapshot> {
        let version = read_header(path)?;
        Snapshot::parse(path, version)
    }

    /// The snapshot at `path` (`version` from [`read_header`]), refusing another format
    /// version. Parsed from a buffered reader, never held whole: the file of 20,000 tables is
    /// 70 MB, and its bytes beside its parsed form would be memory for nothing.
    fn parse(path: &Path, version: u32) -> Result<Snapshot> {
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
        // Straight into the types (no JSON tree in between), on a stack that grows on the
        // heap: plans of 100-way joins nest deeper than the default recursion limit.
        let mut de = serde_json::Deserializer::from_reader(open(path)?);
        de.disable_recursion_limit();
        Snapshot::deserialize(serde_stacker::Deserializer::new(&mut de))
            .and_then(|s| de.end().map(|_| s))
            .map_err(|e| {
                tables::spill_error(&e).unwrap_or_else(|| {
                    Error::snapshot(
                        path,
                        format!("corrupt snapshot: {e}; hint: capture it again"),
                    )
                })
            })
    }

    /// Reads two snapshots for comparison, both at once; they must share a format version.
    pub fn read_pair(a: &Path, b: &Path) -> Result<(Snapshot, Snapshot)> {
        let va = read_header(a)?;
        let vb = read_header(b)?;
        if va != vb {
            return Err(Error::Usage(format!(
                "snapshots {} (format {va}) and {} (format {vb}) have different formats; hint: capture both with the same pgparity version",
                a.display(),
                b.display()
            )));
        }
        // Each file parsed on a thread of its own: parsing is most of a diff's time.
        let (pa, pb) = std::thread::scope(|scope| {
            let other = scope.spawn(|| Snapshot::parse(b, vb));
            let first = Snapshot::parse(a, va);
            (first, other.join())
        });
        let pb = pb.unwrap_or_else(|p| std::panic::resume_unwind(p));
        Ok((pa?, pb?))
    }

    /// Packs the per-table maps and lists as a read snapshot holds them (full map nodes, lists
    /// at their length): a captured snapshot is built entry by entry and would otherwise hold
    /// a fifth more memory than the same snapshot read from its file.
    pub fn pack(&mut self) {
        fn repack<V>(map: &mut BTreeMap<String, V>) {
            *map = std::mem::take(map).into_iter().collect();
        }
        repack(&mut self.schema.tables);
        repack(&mut self.schema.indexes);
        repack(&mut self.schema.constraints);
        repack(&mut self.statistics.tables);
        repack(&mut self.statistics.columns);
        for t in self.schema.tables.values_mut() {
            t.columns.shrink_to_fit();
        }
        for c in self.schema.constraints.values_mut() {
            c.columns.shrink_to_fit();
            c.ref_columns.shrink_to_fit();
        }
    }

    pub fn major_version(&self) -> i32 {
        self.inventory.server_version_num / 10000
    }

    /// The server's `default_statistics_target` (100 where not read): ANALYZE samples 300
    /// times it rows of a table whose columns set none of their own.
    pub fn default_statistics_target(&self) -> u32 {
        self.inventory
            .settings
            .get("default_statistics_target")
            .and_then(|s| s.value.parse::<u32>().ok())
            .unwrap_or(100)
    }
}

/// The file opened for buffered reading, or an error naming it (with a hint when missing).
fn open(path: &Path) -> Result<std::io::BufReader<std::fs::File>> {
    let file = std::fs::File::open(path).map_err(|e| {
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
    Ok(std::io::BufReader::with_capacity(1 << 16, file))
}

/// The file's format version, after checking it is valid JSON and a pgparity snapshot (one
/// streaming pass over the file that keeps nothing but those two fields).
fn read_header(path: &Path) -> Result<u32> {
    #[derive(Deserialize)]
    struct Head {
        format: Option<String>,
        format_version: Option<u64>,
    }
    let mut de = serde_json::Deserializer::from_reader(open(path)?);
    de.disable_recursion_limit();
    let head = Head::deserialize(serde_stacker::Deserializer::new(&mut de))
        .and_then(|h| de.end().map(|_| h));
    let head = match head {
        Ok(h) => h,
        Err(e) if e.is_data() => Head {
            format: None,
            format_version: None,
        },
        Err(e) => {
            return Err(Error::snapshot(
                path,
                format!("corrupt snapshot: not valid JSON ({e}); hint: capture it again"),
            ))
        }
    };
    if head.format.as_deref() != Some(FORMAT) {
        return Err(Error::snapshot(
            path,
            "not a pgparity snapshot (no \"format\": \"pgparity-snapshot\"); hint: write one with `pgparity snapshot`",
        ));
    }
    let version = head.format_version.ok_or_else(|| {
        Error::snapshot(
            path,
            "corrupt snapshot: no format_version; hint: capture it again",
        )
    })?;
    Ok(version as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pure modules import no module that connects to a database (nor the client library),
    /// so the snapshot, the comparison and the report stay usable on files alone.
    #[test]
    fn pure_modules_import_nothing_that_connects() {
        const CONNECTING: [&str; 9] = [
            "capture", "profile", "explain", "seed", "run", "cluster", "demo", "tls", "notify",
        ];
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        let mut dirs: Vec<std::path::PathBuf> = ["compare", "report", "snapshot"]
            .iter()
            .map(|d| root.join(d))
            .collect();
        while let Some(dir) = dirs.pop() {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else {
                    files.push(p);
                }
            }
        }
        files.push(root.join("finding.rs"));
        files.push(root.join("policy.rs"));
        files.push(root.join("history/trend.rs"));
        let mut found = Vec::new();
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap();
            // Library code only: a file's tests (at its end) may use what they like.
            let library = text.split("#[cfg(test)]").next().unwrap_or("");
            for (n, line) in library.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                let bad = code.contains("tokio_postgres")
                    || code.contains("tokio::")
                    || CONNECTING.iter().any(|m| {
                        code.contains(&format!("crate::{m}::"))
                            || code.contains(&format!("crate::{m};"))
                            || (code.contains("crate::{")
                                && code
                                    .split(|c: char| !c.is_alphanumeric() && c != '_')
                                    .any(|w| w == *m))
                    });
                if bad {
                    found.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
                }
            }
        }
        assert!(files.len() > 10, "read {} files", files.len());
        assert!(
            found.is_empty(),
            "pure modules import connecting ones:\n{}",
            found.join("\n")
        );
    }

    #[test]
    fn value_hashes_keep_their_sixteen_hex_digits_and_refuse_others() {
        let t: TopValue = serde_json::from_str(r#"{"hash":"00ff0000000000a1","count":3}"#).unwrap();
        assert_eq!(t.hash, ValueHash(0x00ff_0000_0000_00a1));
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"{"hash":"00ff0000000000a1","count":3}"#
        );
        for bad in [
            r#""ff""#,
            r#""zzzzzzzzzzzzzzzz""#,
            "12",
            r#""00ff0000000000a1ff""#,
        ] {
            assert!(serde_json::from_str::<ValueHash>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn packed_maps_and_exact_lists_read_what_was_written() {
        // Entries out of order and a repeated key: the same map as inserting one by one.
        let json = r#"{"b":{"null_frac":0.5,"n_distinct":2,"avg_width":4,"correlation":null},
                       "a":{"null_frac":0,"n_distinct":-1,"avg_width":8,"correlation":1},
                       "b":{"null_frac":0.25,"n_distinct":3,"avg_width":4,"correlation":null}}"#;
        #[derive(Deserialize)]
        struct M(#[serde(deserialize_with = "packed")] BTreeMap<String, ColumnStats>);
        let M(m) = serde_json::from_str(json).unwrap();
        let inserted: BTreeMap<String, ColumnStats> = serde_json::from_str(json).unwrap();
        assert_eq!(m, inserted);
        assert_eq!(m["b"].null_frac, 0.25);
        #[derive(Deserialize)]
        struct L(#[serde(deserialize_with = "exact")] Vec<u32>);
        let L(v) = serde_json::from_str("[1,2,3,4,5]").unwrap();
        assert_eq!((v.as_slice(), v.capacity()), (&[1, 2, 3, 4, 5][..], 5));
    }
}
