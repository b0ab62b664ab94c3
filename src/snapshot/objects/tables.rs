//! Tables (partitioned and foreign too) and their columns.

use serde::{Deserialize, Serialize};

use super::{fixed, len, or, put, Attribute, Key, Kind, Missing, Seed};
use crate::severity::Severity;
use crate::sql::ident as quote_ident;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Table {
    pub kind: TableKind,
    pub persistence: String,
    pub partition_key: Option<String>,
    pub parent: Option<String>,
    pub partition_bound: Option<String>,
    pub rls_enabled: bool,
    pub rls_forced: bool,
    /// The owning role (absent in older snapshots): compared where row level security is on
    /// and not forced, since the owner then bypasses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Privileges as aclitems; empty when they are the owner's defaults (no ACL, or one
    /// written out equal to `acldefault`, as a REVOKE or DROP OWNED leaves it): compared by
    /// what they grant, not how the catalog spells them.
    pub acl: Vec<String>,
    /// Storage parameters (`reloptions`: `fillfactor=70`, `autovacuum_enabled=false`...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Replica identity when not the default (`n` nothing, `f` full, `i` an index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_identity: Option<String>,
    /// The index a replica identity USING INDEX names, and the index the table was last
    /// CLUSTERed on (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_index: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clustered_on: Option<String>,
    /// The table access method where not `heap`, and the type a typed table is `OF`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of_type: Option<String>,
    #[serde(deserialize_with = "crate::snapshot::exact")]
    pub columns: Vec<Column>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Column {
    /// The table a catalog row names (the reader moves each column into its table, and
    /// takes this out): never in a snapshot file.
    #[serde(default, skip_serializing)]
    pub table: String,
    pub name: String,
    /// `format_type`: `integer`, `character varying(20)`, `public.mood[]`.
    pub data_type: String,
    pub type_kind: TypeKind,
    pub not_null: bool,
    /// PostgreSQL 18+: the NOT NULL constraint is `NOT VALID` (rows written before it may
    /// hold NULL). Older majors have none: every NOT NULL holds for every row.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_null_not_valid: bool,
    pub default: Option<String>,
    /// Set only when the column's collation is not its type's default.
    pub collation: Option<String>,
    pub identity: Identity,
    pub generated: Generated,
    /// The column's statistics target when set (`ALTER COLUMN ... SET STATISTICS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stattarget: Option<i32>,
    /// Per-column options (`attoptions`: `n_distinct=...`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// `attstorage` where not the type's (`p` plain, `e` external, `m` main, `x` extended),
    /// and `attcompression` where set (`p` pglz, `l` lz4; PostgreSQL 14+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    /// Column privileges as aclitems, sorted (none: no column grant).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acl: Vec<String>,
}

impl Column {
    /// The sequence a `DEFAULT nextval('…')` draws from, as the default names it (qualified
    /// only where the sequence's schema is not on the search path), owned by the column or not.
    pub fn default_sequence(&self) -> Option<&str> {
        self.default
            .as_deref()?
            .strip_prefix("nextval('")?
            .split("'::regclass")
            .next()
    }
}

kind!(
    /// What a relation in `Schema::tables` is.
    TableKind {
        Table = "table",
        /// Holds no rows itself: they live in its partitions (`PARTITION BY`).
        Partitioned = "partitioned table",
        Foreign = "foreign table",
    }
);

kind!(
    /// pg_type.typtype of a column's type.
    TypeKind {
        Base = "b",
        Enum = "e",
        Domain = "d",
        Range = "r",
        Composite = "c",
        Multirange = "m",
        Pseudo = "p",
    }
);

kind!(
    /// pg_attribute.attidentity.
    Identity {
        No = "",
        Always = "a",
        ByDefault = "d",
    }
);

impl Identity {
    pub fn is_identity(self) -> bool {
        self != Identity::No
    }
}

kind!(
    /// pg_attribute.attgenerated: computed from other columns, never written.
    Generated {
        No = "",
        Stored = "s",
        /// PostgreSQL 18: computed when read.
        Virtual = "v",
    }
);

impl Generated {
    pub fn is_generated(self) -> bool {
        self != Generated::No
    }
}

const SELECT: &str = concat!(
    "SELECT format('%I.%I', n.nspname, c.relname) AS name, \
     CASE c.relkind WHEN 'p' THEN 'partitioned table' WHEN 'f' THEN 'foreign table' ELSE 'table' END AS kind, \
     CASE c.relpersistence WHEN 'u' THEN 'unlogged' WHEN 't' THEN 'temporary' ELSE 'permanent' END AS persistence, \
     CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key, \
     (SELECT format('%I.%I', pn.nspname, p.relname) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent \
       JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid ORDER BY 1 LIMIT 1) AS parent, \
     CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound, \
     c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced, pg_get_userbyid(c.relowner)::text AS owner, \
     CASE WHEN c.relacl IS NULL OR c.relacl = acldefault('r', c.relowner) THEN '{}' ELSE c.relacl::text[] END AS acl, \
     coalesce(c.reloptions, '{}') AS options, NULLIF(c.relreplident::text, 'd') AS replica_identity, \
     (SELECT quote_ident(ic.relname) FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid \
       WHERE x.indrelid = c.oid AND x.indisreplident) AS replica_index, \
     (SELECT quote_ident(ic.relname) FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid \
       WHERE x.indrelid = c.oid AND x.indisclustered) AS clustered_on, \
     (SELECT am.amname FROM pg_am am WHERE am.oid = c.relam AND am.amname <> 'heap') AS access_method, \
     CASE WHEN c.reloftype <> 0 THEN format_type(c.reloftype, NULL) END AS of_type, \
     '[]'::json AS columns \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p', 'f') AND ",
    super::user_ns!(),
    " AND ",
    super::not_extension_member!("pg_class", "c.oid")
);

pub static TABLES: Kind<Table> = Kind {
    noun: "table",
    plural: "tables (partitioned and foreign too)",
    area: "schema.tables",
    reads: &["pg_class.relname", "pg_class.relnamespace", "pg_inherits.inhrelid", "pg_tables.tablename"],
    select: |_| fixed(SELECT),
    key: Key::Name,
    tidy: Some(|t| {
        t.acl.sort();
        t.options.retain(|o| !default_option(o));
    }),
    missing: Missing {
        said: true,
        severity: Severity::High,
        why: "queries and code that use the table fail on the side that lacks it",
        noun: None,
        detail: None,
    },
    attributes: &[
        Attribute {
            aspect: "kind",
            reads: &["pg_class.relkind"],
            label: "table kind",
            severity: Severity::High,
            why: "partitioning changes plans (pruning), constraints and what DDL is allowed",
            shown: |t| t.kind.as_str().into(),
            same: None,
            hidden: None,
            plant: |t| t.kind = TableKind::Partitioned,
        },
        Attribute {
            aspect: "partition_key",
            reads: &["pg_partitioned_table.partstrat", "pg_partitioned_table.partnatts", "pg_partitioned_table.partattrs", "pg_partitioned_table.partclass", "pg_partitioned_table.partcollation", "pg_partitioned_table.partexprs"],
            label: "partition key",
            severity: Severity::High,
            why: "partition pruning and unique constraints follow the partition key",
            shown: |t| or(&t.partition_key, ""),
            // Said once as the table kind when that differs.
            same: Some(|_, a, b| a.kind != b.kind || a.partition_key == b.partition_key),
            hidden: None,
            plant: |t| t.partition_key = Some("RANGE (id)".into()),
        },
        Attribute {
            aspect: "parent",
            reads: &["pg_inherits.inhparent", "pg_class.relispartition"],
            label: "parent",
            severity: Severity::High,
            why: "the table is a partition or child of another table (or of none) on one side: a query on the parent reads other rows, and rows route elsewhere",
            shown: |t| or(&t.parent, "(none)"),
            same: Some(|_, a, b| a.parent == b.parent),
            hidden: None,
            plant: |t| t.parent = Some("public.planted_parent".into()),
        },
        Attribute {
            aspect: "partition_bound",
            reads: &["pg_class.relpartbound"],
            label: "partition bound",
            severity: Severity::High,
            why: "a value accepted on one side has no partition on the other (or lands in another), and partition pruning differs",
            shown: |t| or(&t.partition_bound, "(none)"),
            // Said once as the parent when that differs.
            same: Some(|_, a, b| a.parent != b.parent || a.partition_bound == b.partition_bound),
            hidden: None,
            plant: |t| t.partition_bound = Some("FOR VALUES IN ('planted')".into()),
        },
        Attribute {
            aspect: "persistence",
            reads: &["pg_class.relpersistence"],
            label: "persistence",
            severity: Severity::Medium,
            why: "an unlogged table is emptied after a crash and not replicated",
            shown: |t| t.persistence.as_str().into(),
            same: None,
            hidden: None,
            plant: |t| t.persistence = "unlogged".into(),
        },
        Attribute {
            aspect: "rls",
            reads: &["pg_class.relrowsecurity", "pg_class.relforcerowsecurity"],
            label: "row level security",
            severity: Severity::High,
            why: "with row level security on one side only, queries return other rows: authorization bugs hide here",
            shown: |t| {
                match (t.rls_enabled, t.rls_forced) {
                    (false, _) => "disabled",
                    (true, false) => "enabled",
                    (true, true) => "enabled and forced",
                }
                .into()
            },
            same: Some(|_, a, b| (a.rls_enabled, a.rls_forced) == (b.rls_enabled, b.rls_forced)),
            hidden: None,
            plant: |t| t.rls_forced = true,
        },
        Attribute {
            aspect: "owner",
            reads: &["pg_class.relowner"],
            label: "owner (row level security not forced)",
            severity: Severity::High,
            why: "the owner bypasses row level security unless it is forced: a role that owns the table on one side sees and changes every row there",
            shown: |t| t.owner.as_deref().unwrap_or("(not captured)").into(),
            // Only where it changes what a query returns: row level security on and not
            // forced on either side (other owners differ by deployment, not by behaviour).
            same: Some(|_, a, b| {
                let bypass = |t: &Table| t.rls_enabled && !t.rls_forced;
                !(bypass(a) || bypass(b)) || a.owner.is_none() || b.owner.is_none() || a.owner == b.owner
            }),
            hidden: None,
            plant: |t| t.owner = Some("app".into()),
        },
        Attribute {
            aspect: "options",
            reads: &["pg_class.reloptions"],
            label: "storage parameters",
            severity: Severity::Medium,
            why: "fillfactor, autovacuum and TOAST settings change how the table bloats, is vacuumed and analyzed: its behaviour under load (and its statistics, so its plans) differ",
            shown: |t| list(&t.options),
            same: Some(|_, a, b| a.options == b.options),
            hidden: None,
            plant: |t| t.options.push("fillfactor=70".into()),
        },
        Attribute {
            aspect: "replica_identity",
            reads: &["pg_class.relreplident"],
            label: "replica identity",
            severity: Severity::Medium,
            why: "UPDATE and DELETE on a published table fail without a usable replica identity, and logical replication sends other columns: replication works on one side only",
            shown: |t| {
                match t.replica_identity.as_deref() {
                    None => "default",
                    Some("n") => "nothing",
                    Some("f") => "full",
                    Some("i") => "index",
                    Some(other) => other,
                }
                .into()
            },
            same: None,
            hidden: None,
            plant: |t| t.replica_identity = Some("f".into()),
        },
        Attribute {
            aspect: "replica_index",
            reads: &["pg_index.indisreplident"],
            label: "replica identity index",
            severity: Severity::Medium,
            why: "logical replication identifies rows by another index's columns: UPDATE and DELETE replicate differently, or fail where the index's columns are not what consumers key on",
            shown: |t| t.replica_index.as_deref().unwrap_or("(none)").into(),
            same: None,
            hidden: None,
            plant: |t| t.replica_index = Some("planted_code_key".into()),
        },
        Attribute {
            aspect: "clustered_on",
            reads: &["pg_index.indisclustered"],
            label: "CLUSTER index",
            severity: Severity::Low,
            why: "a maintenance job's plain CLUSTER re-sorts the table by another index (or fails without one): the physical order, and so correlation and plans, differ",
            shown: |t| t.clustered_on.as_deref().unwrap_or("(none)").into(),
            same: None,
            hidden: None,
            plant: |t| t.clustered_on = Some("planted_pkey".into()),
        },
        Attribute {
            aspect: "access_method",
            reads: &["pg_class.relam"],
            label: "table access method",
            severity: Severity::Medium,
            why: "another table access method stores and scans rows differently: sizes, plans and what works (TABLESAMPLE, CLUSTER, some index kinds) differ",
            shown: |t| t.access_method.as_deref().unwrap_or("heap").into(),
            same: None,
            hidden: None,
            plant: |t| t.access_method = Some("columnar".into()),
        },
        Attribute {
            aspect: "of_type",
            reads: &["pg_class.reloftype"],
            label: "typed table",
            severity: Severity::Low,
            why: "a typed table's columns follow its type: ALTER TYPE changes it on one side only, and its columns cannot be changed alone",
            shown: |t| t.of_type.as_deref().unwrap_or("(not typed)").into(),
            same: None,
            hidden: None,
            plant: |t| t.of_type = Some("public.planted_row".into()),
        },
        Attribute {
            aspect: "grants",
            reads: &["pg_class.relacl"],
            label: "privileges",
            severity: Severity::Medium,
            why: "permission errors (or missing ones) show up only on one side",
            shown: |t| t.acl.join(" ").into(),
            same: Some(|m, a, b| super::same_acl(m, &a.acl, &b.acl)),
            hidden: None,
            plant: |t| t.acl.push("reader=r/app_owner".into()),
        },
    ],
    seed: Seed::Before(create),
    count: |s| len(&s.tables),
    example: || {
        (
            "public.planted".into(),
            Table {
                kind: TableKind::Table,
                persistence: "permanent".into(),
                partition_key: None,
                parent: None,
                partition_bound: None,
                rls_enabled: true,
                rls_forced: false,
                owner: Some("app_owner".into()),
                acl: Vec::new(),
                options: Vec::new(),
                replica_identity: None,
                replica_index: None,
                clustered_on: None,
                access_method: None,
                of_type: None,
                columns: Vec::new(),
            },
        )
    },
    place: |s, t| put(&mut s.tables, t),
};

/// A storage parameter or column option set to what an unset one means (`fillfactor=100`,
/// `autovacuum_enabled=on`, `n_distinct=0`...): compared by its effective value, it is no
/// difference from leaving it unset.
fn default_option(option: &str) -> bool {
    let Some((name, value)) = option.split_once('=') else {
        return false;
    };
    let value = value.to_ascii_lowercase();
    let on = matches!(value.as_str(), "true" | "on" | "yes" | "1");
    let off = matches!(value.as_str(), "false" | "off" | "no" | "0");
    match name {
        "fillfactor" => value == "100",
        "autovacuum_enabled"
        | "toast.autovacuum_enabled"
        | "vacuum_truncate"
        | "toast.vacuum_truncate" => on,
        "user_catalog_table" => off,
        "vacuum_index_cleanup" | "toast.vacuum_index_cleanup" => value == "auto",
        "n_distinct" | "n_distinct_inherited" => value.parse::<f64>() == Ok(0.0),
        _ => false,
    }
}

/// `CREATE TABLE`: a partition of its parent, or its columns (and the parent it inherits
/// from, the key it is partitioned by).
fn create(name: &str, t: &Table) -> String {
    if let (Some(parent), Some(bound)) = (&t.parent, &t.partition_bound) {
        let sub = t
            .partition_key
            .as_ref()
            .map(|k| format!(" PARTITION BY {k}"))
            .unwrap_or_default();
        return format!(
            "CREATE TABLE {name} PARTITION OF {parent} {bound}{sub}{}",
            with(&t.options)
        );
    }
    let cols: Vec<String> = t
        .columns
        .iter()
        .filter_map(|c| COLUMNS.ddl("", c))
        .collect();
    let mut s = format!("CREATE TABLE {name} ({})", cols.join(", "));
    if let Some(parent) = &t.parent {
        // Inheritance: the child's columns merge with the parent's of the same name.
        s.push_str(&format!(" INHERITS ({parent})"));
    }
    if let Some(key) = &t.partition_key {
        s.push_str(&format!(" PARTITION BY {key}"));
    }
    s.push_str(&with(&t.options));
    s
}

/// ` WITH (fillfactor=70, ...)` for storage parameters, or nothing.
fn with(options: &[String]) -> String {
    if options.is_empty() {
        String::new()
    } else {
        format!(" WITH ({})", options.join(", "))
    }
}

/// PostgreSQL 18 stores NOT NULL as a constraint (`contype = 'n'`) that may be NOT VALID;
/// its auto-generated name is not compared (it keeps a table's old name after a rename), only
/// what it means. Before 18 every NOT NULL is valid.
const NOT_NULL_NOT_VALID_18: &str =
    "EXISTS (SELECT 1 FROM pg_constraint nn WHERE nn.conrelid = a.attrelid \
     AND nn.contype = 'n' AND nn.conkey[1] = a.attnum AND NOT nn.convalidated)";

fn select_columns(major: i32) -> std::borrow::Cow<'static, str> {
    // `major` is server_version_num (170004).
    let not_valid = if major >= 180000 {
        NOT_NULL_NOT_VALID_18
    } else {
        "false"
    };
    let compression = if major >= 140000 {
        "NULLIF(a.attcompression::text, '')"
    } else {
        "NULL::text"
    };
    SELECT_COLUMNS
        .replacen(
            "a.attnotnull AS not_null,",
            &format!("a.attnotnull AS not_null, {not_valid} AS not_null_not_valid,"),
            1,
        )
        .replacen("COMPRESSION", compression, 1)
        .into()
}

const SELECT_COLUMNS: &str = concat!(
    "SELECT format('%I.%I', n.nspname, c.relname) AS table, a.attname AS name, \
     format_type(a.atttypid, a.atttypmod) AS data_type, ty.typtype::text AS type_kind, \
     a.attnotnull AS not_null, pg_get_expr(ad.adbin, ad.adrelid) AS default, \
     CASE WHEN a.attcollation <> ty.typcollation THEN format('%I.%I', cn.nspname, co.collname) END AS collation, \
     a.attidentity::text AS identity, a.attgenerated::text AS generated, \
     NULLIF(a.attstattarget::int, -1) AS stattarget, coalesce(a.attoptions, '{}') AS options, \
     CASE WHEN a.attstorage <> ty.typstorage THEN a.attstorage::text END AS storage, COMPRESSION AS compression, \
     coalesce(a.attacl::text[], '{}') AS acl \
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
     JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type ty ON ty.oid = a.atttypid \
     LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum \
     LEFT JOIN pg_collation co ON co.oid = a.attcollation \
     LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace \
     WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f') AND ",
    super::user_ns!(),
    " ORDER BY c.oid, a.attnum"
);

/// Columns, read with a `table` column naming the table they go into, in order; matched
/// between sides by name within their table (the finding's object is `table.column`).
pub static COLUMNS: Kind<Column> = Kind {
    noun: "column",
    plural: "columns",
    area: "schema.columns",
    reads: &["pg_attribute.attname", "pg_attribute.attrelid", "pg_attribute.attnum", "pg_attribute.attisdropped"],
    select: select_columns,
    key: Key::Own(|c| c.name.clone()),
    tidy: Some(|c| {
        c.acl.sort();
        c.options.retain(|o| !default_option(o));
    }),
    missing: Missing {
        said: true,
        severity: Severity::High,
        why: "queries that use the column fail on the side that lacks it",
        noun: None,
        detail: Some(|c| c.data_type.clone()),
    },
    attributes: &[
        Attribute {
            aspect: "type",
            reads: &["pg_attribute.atttypid", "pg_attribute.atttypmod"],
            label: "type",
            severity: Severity::High,
            why: "values, lengths, precision and operators differ: data valid on one side overflows or is truncated on the other",
            shown: |c| c.data_type.as_str().into(),
            same: None,
            hidden: None,
            plant: |c| c.data_type = "integer".into(),
        },
        Attribute {
            aspect: "nullable",
            reads: &["pg_attribute.attnotnull"],
            label: "nullability",
            severity: Severity::High,
            why: "NULLs accepted on one side are rejected on the other (or, NOT VALID, still held by old rows); code never tested with NULL breaks where they appear",
            shown: |c| match (c.not_null, c.not_null_not_valid) {
                (false, _) => "nullable".into(),
                (true, false) => "NOT NULL".into(),
                (true, true) => "NOT NULL NOT VALID".into(),
            },
            same: Some(|_, a, b| (a.not_null, a.not_null_not_valid) == (b.not_null, b.not_null_not_valid)),
            hidden: None,
            plant: |c| c.not_null = !c.not_null,
        },
        Attribute {
            aspect: "default",
            reads: &["pg_attrdef.adbin", "pg_attribute.atthasdef"],
            label: "default",
            severity: Severity::Medium,
            why: "inserts that omit the column store other values on each side",
            shown: |c| or(&c.default, "(no default)"),
            same: Some(|_, a, b| a.default == b.default),
            hidden: None,
            plant: |c| c.default = Some("0".into()),
        },
        Attribute {
            aspect: "collation",
            reads: &["pg_attribute.attcollation"],
            label: "collation",
            severity: Severity::High,
            why: "sort order, comparisons and index use on the column differ",
            shown: |c| or(&c.collation, "(default)"),
            same: Some(|_, a, b| a.collation == b.collation),
            hidden: None,
            plant: |c| c.collation = Some("pg_catalog.\"C\"".into()),
        },
        Attribute {
            aspect: "generation",
            reads: &["pg_attribute.attidentity", "pg_attribute.attgenerated"],
            label: "identity/generation",
            severity: Severity::Medium,
            why: "inserts that set the column explicitly succeed on one side and fail on the other",
            shown: |c| generation(c).into(),
            same: Some(|_, a, b| (a.identity, a.generated) == (b.identity, b.generated)),
            hidden: None,
            plant: |c| c.identity = Identity::Always,
        },
        Attribute {
            aspect: "statistics_target",
            reads: &["pg_attribute.attstattarget"],
            label: "statistics target",
            severity: Severity::Medium,
            why: "ANALYZE samples the column more or less finely: its estimates, and so the plans of queries that filter on it, differ",
            shown: |c| {
                c.stattarget
                    .map_or_else(|| "default".to_string(), |t| t.to_string())
                    .into()
            },
            same: Some(|_, a, b| a.stattarget == b.stattarget),
            hidden: None,
            plant: |c| c.stattarget = Some(1000),
        },
        Attribute {
            aspect: "options",
            reads: &["pg_attribute.attoptions"],
            label: "column options",
            severity: Severity::Medium,
            why: "an n_distinct override replaces what ANALYZE measures: estimates and plans differ",
            shown: |c| list(&c.options),
            same: Some(|_, a, b| a.options == b.options),
            hidden: None,
            plant: |c| c.options.push("n_distinct=-1".into()),
        },
        Attribute {
            aspect: "storage",
            reads: &["pg_attribute.attstorage", "pg_attribute.attcompression"],
            label: "storage and compression",
            severity: Severity::Low,
            why: "values are compressed or moved out of line (TOAST) differently: table size, I/O and the cost of reading the column differ, and lz4 needs a server built with it",
            shown: |c| {
                let storage = match c.storage.as_deref() {
                    None => "type's storage",
                    Some("p") => "plain",
                    Some("e") => "external",
                    Some("m") => "main",
                    Some("x") => "extended",
                    Some(other) => other,
                };
                let compression = match c.compression.as_deref() {
                    None => "default compression",
                    Some("p") => "pglz",
                    Some("l") => "lz4",
                    Some(other) => other,
                };
                format!("{storage}, {compression}").into()
            },
            same: None,
            hidden: None,
            plant: |c| c.storage = Some("e".into()),
        },
        Attribute {
            aspect: "grants",
            reads: &["pg_attribute.attacl"],
            label: "column privileges",
            severity: Severity::Medium,
            why: "a role may read or write the column on one side and gets a permission error on the other",
            shown: |c| c.acl.join(" ").into(),
            same: Some(|m, a, b| super::same_acl(m, &a.acl, &b.acl)),
            hidden: None,
            plant: |c| c.acl.push("reader=r/app_owner".into()),
        },
    ],
    seed: Seed::Within(column),
    count: |s| s.tables.values().map(|t| t.columns.len()).sum(),
    example: || {
        (
            "id".into(),
            Column {
                table: String::new(),
                name: "id".into(),
                data_type: "bigint".into(),
                type_kind: TypeKind::Base,
                not_null: true,
                default: None,
                collation: None,
                identity: Identity::No,
                generated: Generated::No,
                stattarget: None,
                not_null_not_valid: false,
                storage: None,
                compression: None,
                acl: Vec::new(),
                options: Vec::new(),
            },
        )
    },
    // Into the example table.
    place: |s, c| {
        let (name, table) = (TABLES.example)();
        let t = s.tables.entry(name).or_insert(table);
        t.columns.extend(c.map(|(_, c)| c));
    },
};

fn generation(c: &Column) -> &'static str {
    match (c.identity, c.generated) {
        (Identity::Always, _) => "identity always",
        (Identity::ByDefault, _) => "identity by default",
        (_, Generated::Stored) => "generated stored",
        (_, Generated::Virtual) => "generated virtual",
        _ => "plain",
    }
}

/// Options as shown: `a, b`, or `(none)`.
fn list(v: &[String]) -> std::borrow::Cow<'_, str> {
    if v.is_empty() {
        "(none)".into()
    } else {
        v.join(", ").into()
    }
}

/// A column's clause in its table's `CREATE TABLE`.
fn column(c: &Column) -> String {
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
    // A NOT VALID NOT NULL (18+) lets old rows hold NULL, which the profile may have measured
    // and seed then writes: the seeded column is left nullable.
    if c.not_null && !c.not_null_not_valid {
        s.push_str(" NOT NULL");
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn options_set_to_their_defaults_are_no_options() {
        use super::default_option;
        for o in [
            "fillfactor=100",
            "autovacuum_enabled=true",
            "autovacuum_enabled=ON",
            "vacuum_index_cleanup=AUTO",
            "n_distinct=0",
            "user_catalog_table=false",
        ] {
            assert!(default_option(o), "{o}");
        }
        for o in [
            "fillfactor=70",
            "autovacuum_enabled=false",
            "n_distinct=-1",
            "parallel_workers=4",
            "vacuum_index_cleanup=off",
        ] {
            assert!(!default_option(o), "{o}");
        }
    }
}
