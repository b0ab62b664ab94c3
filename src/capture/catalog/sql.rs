//! The catalog queries' SQL, one constant per area (a function where the catalog columns
//! differ between majors). Each is a plain SELECT whose column names are the fields of the
//! snapshot type it is read into; the reader wraps it in `json_agg`.

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

/// A foreign key's ON UPDATE / ON DELETE action in words.
macro_rules! fk_action {
    ($col:literal) => {
        concat!(
            "CASE con.contype WHEN 'f' THEN CASE ",
            $col,
            " WHEN 'a' THEN 'no action' WHEN 'r' THEN 'restrict' \
             WHEN 'c' THEN 'cascade' WHEN 'n' THEN 'set null' WHEN 'd' THEN 'set default' END END"
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

// Schema.

pub const SCHEMAS: &str = concat!(
    "SELECT quote_ident(n.nspname) AS name, pg_get_userbyid(n.nspowner) AS owner, \
     coalesce(n.nspacl::text[], '{}') AS acl FROM pg_namespace n WHERE ",
    user_ns!(),
    " AND ",
    not_extension_member!("pg_namespace", "n.oid")
);

pub const TABLES: &str = concat!(
    "SELECT format('%I.%I', n.nspname, c.relname) AS name, \
     CASE c.relkind WHEN 'p' THEN 'partitioned table' WHEN 'f' THEN 'foreign table' ELSE 'table' END AS kind, \
     CASE c.relpersistence WHEN 'u' THEN 'unlogged' WHEN 't' THEN 'temporary' ELSE 'permanent' END AS persistence, \
     CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key, \
     (SELECT format('%I.%I', pn.nspname, p.relname) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent \
       JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid ORDER BY 1 LIMIT 1) AS parent, \
     CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound, \
     c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced, \
     coalesce(c.relacl::text[], '{}') AS acl, '[]'::json AS columns \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p', 'f') AND ",
    user_ns!(),
    " AND ",
    not_extension_member!("pg_class", "c.oid")
);

pub const COLUMNS: &str = concat!(
    "SELECT format('%I.%I', n.nspname, c.relname) AS table, a.attname AS name, \
     format_type(a.atttypid, a.atttypmod) AS data_type, ty.typtype::text AS type_kind, \
     a.attnotnull AS not_null, pg_get_expr(ad.adbin, ad.adrelid) AS default, \
     CASE WHEN a.attcollation <> ty.typcollation THEN format('%I.%I', cn.nspname, co.collname) END AS collation, \
     a.attidentity::text AS identity, a.attgenerated::text AS generated \
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
     JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type ty ON ty.oid = a.atttypid \
     LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum \
     LEFT JOIN pg_collation co ON co.oid = a.attcollation \
     LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace \
     WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f') AND ",
    user_ns!(),
    " ORDER BY c.oid, a.attnum"
);

pub const INDEXES: &str = concat!(
    "SELECT format('%I.%I', n.nspname, ic.relname) AS name, format('%I.%I', n.nspname, c.relname) AS table, \
     pg_get_indexdef(i.indexrelid) AS definition, i.indisunique AS unique, i.indisprimary AS primary, \
     i.indisvalid AS valid, \
     (SELECT con.conname FROM pg_constraint con WHERE con.conindid = i.indexrelid \
       AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x') LIMIT 1) AS constraint \
     FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p', 'm') AND ",
    user_ns!(),
    " AND ",
    not_extension_member!("pg_class", "c.oid")
);

pub const CONSTRAINTS: &str = concat!(
    "SELECT format('%I.%I', n.nspname, c.relname) AS table, con.conname AS name, con.contype::text AS kind, \
     pg_get_constraintdef(con.oid) AS definition, con.convalidated AS validated, \
     con.condeferrable AS deferrable, con.condeferred AS deferred, \
     coalesce((SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord) \
       JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum), '{}') AS columns, \
     CASE WHEN con.contype = 'f' THEN format('%I.%I', fn.nspname, fc.relname) END AS references, \
     coalesce((SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord) \
       JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum), '{}') AS ref_columns, ",
    fk_action!("con.confupdtype"),
    " AS on_update, ",
    fk_action!("con.confdeltype"),
    " AS on_delete \
     FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     LEFT JOIN pg_class fc ON fc.oid = con.confrelid LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace \
     WHERE con.contype IN ('p', 'u', 'f', 'c', 'x', 't') AND con.conparentid = 0 \
     AND c.relkind IN ('r', 'p', 'f') AND ",
    user_ns!()
);

pub const VIEWS: &str = concat!(
    "SELECT format('%I.%I', n.nspname, c.relname) AS name, c.relkind = 'm' AS materialized, \
     coalesce(pg_get_viewdef(c.oid), '') AS definition \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('v', 'm') AND ",
    user_ns!(),
    " AND ",
    not_extension_member!("pg_class", "c.oid")
);

pub const SEQUENCES: &str = concat!(
    "SELECT format('%I.%I', n.nspname, c.relname) AS name, format_type(s.seqtypid, NULL) AS data_type, \
     s.seqstart AS start, s.seqincrement AS increment, s.seqmin AS min, s.seqmax AS max, s.seqcycle AS cycle, \
     CASE WHEN has_sequence_privilege(c.oid, 'SELECT,USAGE') THEN pg_sequence_last_value(c.oid::regclass) END AS last_value \
     FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE ",
    user_ns!(),
    " AND ",
    not_extension_member!("pg_class", "c.oid")
);

pub const TRIGGERS: &str = concat!(
    "SELECT format('%I.%I', n.nspname, c.relname) AS table, t.tgname AS name, \
     pg_get_triggerdef(t.oid) AS definition, t.tgenabled::text AS enabled \
     FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND ",
    user_ns!()
);

pub const FUNCTIONS: &str = concat!(
    "SELECT format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) AS name, \
     pg_get_function_result(p.oid) AS result, l.lanname AS language, p.prokind::text AS kind, \
     p.provolatile::text AS volatility, p.prosecdef AS security_definer, md5(p.prosrc) AS body_md5 \
     FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang \
     WHERE ",
    user_ns!(),
    " AND ",
    not_extension_member!("pg_proc", "p.oid")
);

pub const POLICIES: &str = concat!(
    "SELECT format('%I.%I', n.nspname, c.relname) AS table, pol.polname AS name, \
     CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' \
       WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS command, pol.polpermissive AS permissive, \
     coalesce((SELECT array_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END ORDER BY 1) \
       FROM unnest(pol.polroles) r), '{}') AS roles, \
     pg_get_expr(pol.polqual, pol.polrelid) AS using, pg_get_expr(pol.polwithcheck, pol.polrelid) AS with_check \
     FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE ",
    user_ns!()
);

pub const TYPES: &str = concat!(
    "SELECT format('%I.%I', n.nspname, t.typname) AS name, \
     CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'c' THEN 'composite' WHEN 'r' THEN 'range' ELSE 'domain' END AS kind, \
     coalesce((SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '{}') AS labels, \
     CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) \
       WHEN t.typtype = 'r' THEN (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid) END AS base_type, \
     t.typnotnull AS not_null, \
     coalesce((SELECT array_agg(pg_get_constraintdef(con.oid) ORDER BY 1) FROM pg_constraint con \
       WHERE con.contypid = t.oid AND con.contype = 'c'), '{}') AS checks, \
     CASE WHEN t.typtype = 'c' THEN coalesce((SELECT array_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)) ORDER BY a.attnum) \
       FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), '{}') \
       ELSE '{}' END AS attributes \
     FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
     WHERE (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')) \
     AND ",
    user_ns!(),
    " AND ",
    not_extension_member!("pg_type", "t.oid")
);

// Statistics.

pub const TABLE_STATS: &str = concat!(
    "SELECT format('%I.%I', n.nspname, c.relname) AS name, c.reltuples::float8 AS reltuples, \
     c.relpages::bigint AS relpages, coalesce(s.n_live_tup, 0) AS live_tuples, ",
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
     FROM pg_stats WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND NOT inherited";

/// Tables the capture role cannot SELECT from.
pub const UNREADABLE_TABLES: &str = concat!(
    "SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p', 'm', 'f') AND ",
    user_ns!(),
    " AND NOT has_table_privilege(c.oid, 'SELECT') ORDER BY 1"
);
