//! The catalog queries' SQL, one constant per area (a function where the catalog columns
//! differ between majors). Each is a plain SELECT whose column names are the fields of the
//! snapshot type it is read into; the reader wraps it in `json_agg`. The schema's objects are
//! read by their declarations (`snapshot::objects`), this file holds the rest.

use crate::snapshot::objects::{not_extension_member, user_ns};

/// `timestamptz` as ISO 8601 in UTC.
macro_rules! utc {
    ($col:literal) => {
        concat!(
            "to_char(",
            $col,
            " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        )
    };
}

pub const HEAD: &str = concat!(
    "SELECT current_setting('server_version_num')::int, current_setting('server_version'), version(), \
     current_database()::text, current_user::text, ",
    utc!("now()"),
    ", coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false), \
     pg_has_role(current_user, 'pg_read_all_settings', 'USAGE'), \
     pg_has_role(current_user, 'pg_read_all_stats', 'USAGE'), \
     (SELECT shobj_description(d.oid, 'pg_database') FROM pg_database d WHERE d.datname = current_database())"
);

// Inventory.

pub const SETTINGS: &str =
    "SELECT name, setting, reset_val, unit, category, context, vartype, source, \
     boot_val, pending_restart FROM pg_settings";

pub const OVERRIDES: &str =
    "SELECT r.rolname AS role, d.datname AS database, s.setconfig AS config \
     FROM pg_db_role_setting s \
     LEFT JOIN pg_roles r ON r.oid = s.setrole LEFT JOIN pg_database d ON d.oid = s.setdatabase \
     WHERE s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))";

pub const EXTENSIONS: &str = "SELECT e.extname AS name, e.extversion AS version, n.nspname AS schema, \
     (SELECT a.default_version FROM pg_available_extensions a WHERE a.name = e.extname) AS default_version \
     FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace";

/// The database's encoding and locale; the provider and locale columns moved in 15 and 17.
pub fn database(version: i32) -> String {
    let (provider, locale, collversion, actual) = if version >= 170000 {
        (
            "d.datlocprovider::text",
            "d.datlocale",
            "d.datcollversion",
            "pg_database_collation_actual_version(d.oid)",
        )
    } else if version >= 150000 {
        (
            "d.datlocprovider::text",
            "d.daticulocale",
            "d.datcollversion",
            "pg_database_collation_actual_version(d.oid)",
        )
    } else {
        ("'c'", "NULL::text", "NULL::text", "NULL::text")
    };
    format!(
        "SELECT d.datname AS name, pg_encoding_to_char(d.encoding) AS encoding, d.datcollate AS collate, \
         d.datctype AS ctype, CASE {provider} WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' ELSE 'libc' END \
         AS locale_provider, {locale} AS locale, {collversion} AS collation_version, \
         {actual} AS collation_actual_version \
         FROM pg_database d WHERE d.datname = current_database()"
    )
}

/// Collations used by user columns other than their type's default.
pub fn collations(version: i32) -> String {
    let locale = if version >= 170000 {
        "coalesce(co.colllocale, co.collcollate)"
    } else if version >= 150000 {
        "coalesce(co.colliculocale, co.collcollate)"
    } else {
        "co.collcollate"
    };
    format!(
        "SELECT format('%I.%I', n.nspname, co.collname) AS name, \
         CASE co.collprovider WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' WHEN 'c' THEN 'libc' ELSE 'default' END AS provider, \
         {locale} AS locale, co.collversion AS version, pg_collation_actual_version(co.oid) AS actual_version \
         FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace \
         WHERE co.oid IN (SELECT a.attcollation FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
           JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type ty ON ty.oid = a.atttypid \
           WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attcollation <> ty.typcollation AND {})",
        user_ns!()
    )
}

pub const TOPOLOGY: &str = "SELECT pg_is_in_recovery() AS in_recovery, \
     (SELECT coalesce(json_agg(json_build_object('application_name', application_name, 'state', state, \
       'sync_state', sync_state) ORDER BY application_name), '[]') FROM pg_stat_replication) AS standbys, \
     (SELECT coalesce(json_agg(json_build_object('name', slot_name, 'slot_type', slot_type, 'active', active, \
       'plugin', plugin) ORDER BY slot_name), '[]') FROM pg_replication_slots) AS slots";

// Statistics.

pub const TABLE_STATS: &str = concat!(
    "SELECT format('%I.%I', n.nspname, c.relname) AS name, c.reltuples::float8 AS reltuples, \
     c.relpages::bigint AS relpages, c.relallvisible::bigint AS relallvisible, coalesce(s.n_live_tup, 0) AS live_tuples, ",
    utc!("s.last_analyze"),
    " AS last_analyze, ",
    utc!("s.last_autoanalyze"),
    " AS last_autoanalyze, coalesce(s.n_mod_since_analyze, 0) AS mod_since_analyze, \
     ps.tablename IS NOT NULL AS planner_stats \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid \
     LEFT JOIN (SELECT DISTINCT schemaname, tablename FROM pg_stats) ps \
       ON ps.schemaname = n.nspname AND ps.tablename = c.relname \
     WHERE c.relkind IN ('r', 'p', 'm') AND ",
    user_ns!(),
    " AND ",
    not_extension_member!("pg_class", "c.oid")
);

pub const COLUMN_STATS: &str =
    "SELECT format('%I.%I', schemaname, tablename) AS table, attname AS column, \
     null_frac::float8 AS null_frac, n_distinct::float8 AS n_distinct, avg_width, \
     correlation::float8 AS correlation, (most_common_freqs)[1]::float8 AS top_freq \
     FROM pg_stats WHERE schemaname NOT IN ('pg_catalog', 'information_schema') \
     AND inherited = EXISTS (SELECT 1 FROM pg_partitioned_table p \
       WHERE p.partrelid = to_regclass(format('%I.%I', schemaname, tablename)))";

/// Tables the capture role cannot SELECT from.
pub const UNREADABLE_TABLES: &str = concat!(
    "SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p', 'm', 'f') AND ",
    user_ns!(),
    " AND NOT has_table_privilege(c.oid, 'SELECT') ORDER BY 1"
);
