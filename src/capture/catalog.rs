//! The catalog queries, PostgreSQL 13 through 18. Each area is one query returning a JSON
//! array (`json_agg`), read into plain rows with serde: one round trip per area whatever the
//! number of tables. Each query runs under a savepoint, so one that fails (a permission, a
//! catalog column a version lacks) becomes a recorded problem and the capture goes on.

use crate::sql::ident as quote_ident;
use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use tokio_postgres::Client;

use crate::snapshot::*;

/// Filters out system schemas; `n` is the pg_namespace alias.
const USER_NS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
    AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

/// Objects that belong to an extension are reported as the extension, not one by one.
fn not_extension_member(catalog: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = '{catalog}'::regclass \
         AND dep.objid = {oid} AND dep.deptype = 'e')"
    )
}

pub struct Head {
    pub version_num: i32,
    pub version: String,
    pub version_string: String,
    pub database: String,
    pub role: String,
    pub now: String,
    pub superuser: bool,
    pub reads_all_settings: bool,
    pub reads_all_stats: bool,
    /// The database's comment (where `seed` records its provenance).
    pub comment: Option<String>,
}

pub async fn head(client: &Client) -> Result<Head, String> {
    let row = client
        .query_one(
            "SELECT current_setting('server_version_num')::int, current_setting('server_version'), version(), \
             current_database()::text, current_user::text, \
             to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
             coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false), \
             pg_has_role(current_user, 'pg_read_all_settings', 'USAGE'), \
             pg_has_role(current_user, 'pg_read_all_stats', 'USAGE'), \
             (SELECT shobj_description(d.oid, 'pg_database') FROM pg_database d WHERE d.datname = current_database())",
            &[],
        )
        .await
        .map_err(|e| format!("cannot read the server version: {}", super::db_message(&e)))?;
    let version_num: i32 = super::column(&row, 0)?;
    if version_num < 130000 {
        return Err(format!(
            "PostgreSQL {} is not supported; hint: pgparity reads PostgreSQL 13 and later",
            super::column::<String>(&row, 1)?
        ));
    }
    Ok(Head {
        version_num,
        version: super::column(&row, 1)?,
        version_string: super::column(&row, 2)?,
        database: super::column(&row, 3)?,
        role: super::column(&row, 4)?,
        now: super::column(&row, 5)?,
        superuser: super::column(&row, 6)?,
        reads_all_settings: super::column(&row, 7)?,
        reads_all_stats: super::column(&row, 8)?,
        comment: super::column(&row, 9)?,
    })
}

pub struct Reader<'a> {
    pub client: &'a Client,
    pub version: i32,
    pub problems: &'a mut Vec<Problem>,
}

impl Reader<'_> {
    /// Runs `select` wrapped in `json_agg` under a savepoint; a failure is recorded.
    async fn rows<T: DeserializeOwned>(&mut self, area: &str, select: &str) -> Vec<T> {
        let sql = format!("SELECT coalesce(json_agg(t), '[]')::text FROM ({select}) t");
        let _ = self.client.batch_execute("SAVEPOINT pgparity_area").await;
        match self.client.query_one(sql.as_str(), &[]).await {
            Ok(row) => {
                let _ = self
                    .client
                    .batch_execute("RELEASE SAVEPOINT pgparity_area")
                    .await;
                let text: Result<String, String> = super::column(&row, 0);
                match text.and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string())) {
                    Ok(v) => v,
                    Err(e) => {
                        self.problem(area, format!("unexpected catalog data: {e}"));
                        Vec::new()
                    }
                }
            }
            Err(e) => {
                let _ = self
                    .client
                    .batch_execute("ROLLBACK TO SAVEPOINT pgparity_area")
                    .await;
                let msg = super::db_message(&e);
                self.problem(area, format!("could not be read: {msg}"));
                Vec::new()
            }
        }
    }

    fn problem(&mut self, area: &str, message: String) {
        self.problems.push(Problem {
            area: area.into(),
            message,
        });
    }

    pub async fn inventory(&mut self, head: &Head) -> Inventory {
        #[derive(Deserialize)]
        struct S {
            name: String,
            setting: Option<String>,
            reset_val: Option<String>,
            unit: Option<String>,
            category: String,
            context: String,
            vartype: String,
            source: String,
            boot_val: Option<String>,
            pending_restart: Option<bool>,
        }
        let rows: Vec<S> = self
            .rows(
                "settings",
                "SELECT name, setting, reset_val, unit, category, context, vartype, source, boot_val, pending_restart \
                 FROM pg_settings",
            )
            .await;
        let mut settings = BTreeMap::new();
        for s in rows {
            // The capture session sets a few values itself; a fresh session sees reset_val.
            let (value, source) = if s.source == "session" {
                (s.reset_val.clone().unwrap_or_default(), "reset".to_string())
            } else {
                (s.setting.clone().unwrap_or_default(), s.source.clone())
            };
            settings.insert(
                s.name,
                Setting {
                    value,
                    unit: s.unit,
                    category: s.category,
                    context: s.context,
                    vartype: s.vartype,
                    source,
                    boot_val: s.boot_val,
                    pending_restart: s.pending_restart.unwrap_or(false),
                },
            );
        }

        #[derive(Deserialize)]
        struct O {
            role: Option<String>,
            database: Option<String>,
            config: Vec<String>,
        }
        let rows: Vec<O> = self
            .rows(
                "overrides",
                "SELECT r.rolname AS role, d.datname AS database, s.setconfig AS config \
                 FROM pg_db_role_setting s \
                 LEFT JOIN pg_roles r ON r.oid = s.setrole LEFT JOIN pg_database d ON d.oid = s.setdatabase \
                 WHERE s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))",
            )
            .await;
        let mut overrides = Vec::new();
        for o in rows {
            for item in o.config {
                if let Some((name, value)) = item.split_once('=') {
                    overrides.push(Override {
                        role: o.role.clone(),
                        database: o.database.clone(),
                        name: name.to_lowercase(),
                        value: value.to_string(),
                    });
                }
            }
        }
        overrides.sort();

        #[derive(Deserialize)]
        struct E {
            name: String,
            version: String,
            schema: String,
            default_version: Option<String>,
        }
        let extensions = self
            .rows::<E>(
                "extensions",
                "SELECT e.extname AS name, e.extversion AS version, n.nspname AS schema, \
                 (SELECT a.default_version FROM pg_available_extensions a WHERE a.name = e.extname) AS default_version \
                 FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace",
            )
            .await
            .into_iter()
            .map(|e| {
                (
                    e.name,
                    Extension {
                        version: e.version,
                        schema: e.schema,
                        default_version: e.default_version,
                    },
                )
            })
            .collect();
        let preload_libraries = settings
            .get("shared_preload_libraries")
            .map(|s: &Setting| {
                let mut v: Vec<String> = s
                    .value
                    .split(',')
                    .map(|x| x.trim().trim_matches('"').to_string())
                    .filter(|x| !x.is_empty())
                    .collect();
                v.sort();
                v
            })
            .unwrap_or_default();

        let v = self.version;
        let (provider, locale, collversion, actual) = if v >= 170000 {
            (
                "d.datlocprovider::text",
                "d.datlocale",
                "d.datcollversion",
                "pg_database_collation_actual_version(d.oid)",
            )
        } else if v >= 150000 {
            (
                "d.datlocprovider::text",
                "d.daticulocale",
                "d.datcollversion",
                "pg_database_collation_actual_version(d.oid)",
            )
        } else {
            ("'c'", "NULL::text", "NULL::text", "NULL::text")
        };
        let database = self
            .rows::<DatabaseLocale>(
                "database",
                &format!(
                    "SELECT d.datname AS name, pg_encoding_to_char(d.encoding) AS encoding, d.datcollate AS collate, \
                     d.datctype AS ctype, CASE {provider} WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' ELSE 'libc' END \
                     AS locale_provider, {locale} AS locale, {collversion} AS collation_version, \
                     {actual} AS collation_actual_version \
                     FROM pg_database d WHERE d.datname = current_database()"
                ),
            )
            .await
            .into_iter()
            .next()
            .unwrap_or_default();

        #[derive(Deserialize)]
        struct C {
            name: String,
            provider: String,
            locale: Option<String>,
            version: Option<String>,
            actual_version: Option<String>,
        }
        let collations = self
            .rows::<C>(
                "collations",
                &format!(
                    "SELECT format('%I.%I', n.nspname, co.collname) AS name, \
                     CASE co.collprovider WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' WHEN 'c' THEN 'libc' ELSE 'default' END AS provider, \
                     {} AS locale, co.collversion AS version, pg_collation_actual_version(co.oid) AS actual_version \
                     FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace \
                     WHERE co.oid IN (SELECT a.attcollation FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
                       JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type ty ON ty.oid = a.atttypid \
                       WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attcollation <> ty.typcollation AND {USER_NS})",
                    if v >= 170000 {
                        "coalesce(co.colllocale, co.collcollate)"
                    } else if v >= 150000 {
                        "coalesce(co.colliculocale, co.collcollate)"
                    } else {
                        "co.collcollate"
                    }
                ),
            )
            .await
            .into_iter()
            .map(|c| {
                (
                    c.name,
                    Collation { provider: c.provider, locale: c.locale, version: c.version, actual_version: c.actual_version },
                )
            })
            .collect();

        #[derive(Deserialize)]
        struct T {
            in_recovery: bool,
            standbys: Vec<Standby>,
            slots: Vec<Slot>,
        }
        let topology = self
            .rows::<T>(
                "topology",
                "SELECT pg_is_in_recovery() AS in_recovery, \
                 (SELECT coalesce(json_agg(json_build_object('application_name', application_name, 'state', state, \
                   'sync_state', sync_state) ORDER BY application_name), '[]') FROM pg_stat_replication) AS standbys, \
                 (SELECT coalesce(json_agg(json_build_object('name', slot_name, 'slot_type', slot_type, 'active', active, \
                   'plugin', plugin) ORDER BY slot_name), '[]') FROM pg_replication_slots) AS slots",
            )
            .await
            .into_iter()
            .next()
            .map(|t| Topology { in_recovery: t.in_recovery, standbys: t.standbys, slots: t.slots })
            .unwrap_or_default();

        Inventory {
            server_version: head.version.clone(),
            server_version_num: head.version_num,
            version_string: head.version_string.clone(),
            settings,
            overrides,
            extensions,
            preload_libraries,
            database,
            collations,
            topology,
        }
    }

    pub async fn schema(&mut self) -> Schema {
        let mut schema = Schema::default();

        #[derive(Deserialize)]
        struct N {
            name: String,
            owner: String,
            acl: Option<Vec<String>>,
        }
        schema.schemas = self
            .rows::<N>(
                "schema.schemas",
                &format!(
                    "SELECT quote_ident(n.nspname) AS name, pg_get_userbyid(n.nspowner) AS owner, n.nspacl::text[] AS acl \
                     FROM pg_namespace n WHERE {USER_NS} AND {}",
                    not_extension_member("pg_namespace", "n.oid")
                ),
            )
            .await
            .into_iter()
            .map(|n| (n.name, Namespace { owner: n.owner, acl: sorted(n.acl.unwrap_or_default()) }))
            .collect();

        #[derive(Deserialize)]
        struct T {
            name: String,
            kind: TableKind,
            persistence: String,
            partition_key: Option<String>,
            parent: Option<String>,
            partition_bound: Option<String>,
            rls_enabled: bool,
            rls_forced: bool,
            acl: Option<Vec<String>>,
        }
        let tables: Vec<T> = self
            .rows(
                "schema.tables",
                &format!(
                    "SELECT format('%I.%I', n.nspname, c.relname) AS name, \
                     CASE c.relkind WHEN 'p' THEN 'partitioned table' WHEN 'f' THEN 'foreign table' ELSE 'table' END AS kind, \
                     CASE c.relpersistence WHEN 'u' THEN 'unlogged' WHEN 't' THEN 'temporary' ELSE 'permanent' END AS persistence, \
                     CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key, \
                     (SELECT format('%I.%I', pn.nspname, p.relname) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent \
                       JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid ORDER BY 1 LIMIT 1) AS parent, \
                     CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound, \
                     c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced, c.relacl::text[] AS acl \
                     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE c.relkind IN ('r', 'p', 'f') AND {USER_NS} AND {}",
                    not_extension_member("pg_class", "c.oid")
                ),
            )
            .await;
        for t in tables {
            schema.tables.insert(
                t.name,
                Table {
                    kind: t.kind,
                    persistence: t.persistence,
                    partition_key: t.partition_key,
                    parent: t.parent,
                    partition_bound: t.partition_bound,
                    rls_enabled: t.rls_enabled,
                    rls_forced: t.rls_forced,
                    acl: sorted(t.acl.unwrap_or_default()),
                    columns: Vec::new(),
                },
            );
        }

        #[derive(Deserialize)]
        struct C {
            table: String,
            name: String,
            data_type: String,
            type_kind: TypeKind,
            not_null: bool,
            default: Option<String>,
            collation: Option<String>,
            identity: crate::snapshot::Identity,
            generated: crate::snapshot::Generated,
        }
        let columns: Vec<C> = self
            .rows(
                "schema.columns",
                &format!(
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
                     WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f') AND {USER_NS} \
                     ORDER BY c.oid, a.attnum"
                ),
            )
            .await;
        for c in columns {
            if let Some(t) = schema.tables.get_mut(&c.table) {
                t.columns.push(Column {
                    name: c.name,
                    data_type: c.data_type,
                    type_kind: c.type_kind,
                    not_null: c.not_null,
                    default: c.default,
                    collation: c.collation,
                    identity: c.identity,
                    generated: c.generated,
                });
            }
        }

        #[derive(Deserialize)]
        struct I {
            name: String,
            table: String,
            definition: String,
            unique: bool,
            primary: bool,
            valid: bool,
            constraint: Option<String>,
        }
        schema.indexes = self
            .rows::<I>(
                "schema.indexes",
                &format!(
                    "SELECT format('%I.%I', n.nspname, ic.relname) AS name, format('%I.%I', n.nspname, c.relname) AS table, \
                     pg_get_indexdef(i.indexrelid) AS definition, i.indisunique AS unique, i.indisprimary AS primary, \
                     i.indisvalid AS valid, \
                     (SELECT con.conname FROM pg_constraint con WHERE con.conindid = i.indexrelid \
                       AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x') LIMIT 1) AS constraint \
                     FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid \
                     JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE c.relkind IN ('r', 'p', 'm') AND {USER_NS} AND {}",
                    not_extension_member("pg_class", "c.oid")
                ),
            )
            .await
            .into_iter()
            .map(|i| {
                (
                    i.name,
                    Index {
                        table: i.table,
                        definition: i.definition,
                        unique: i.unique,
                        primary: i.primary,
                        valid: i.valid,
                        constraint: i.constraint,
                    },
                )
            })
            .collect();

        #[derive(Deserialize)]
        struct K {
            table: String,
            name: String,
            kind: ConstraintKind,
            definition: String,
            validated: bool,
            deferrable: bool,
            deferred: bool,
            columns: Option<Vec<String>>,
            references: Option<String>,
            ref_columns: Option<Vec<String>>,
            on_update: Option<String>,
            on_delete: Option<String>,
        }
        let action = |col: &str| {
            format!(
                "CASE con.contype WHEN 'f' THEN CASE {col} WHEN 'a' THEN 'no action' WHEN 'r' THEN 'restrict' \
                 WHEN 'c' THEN 'cascade' WHEN 'n' THEN 'set null' WHEN 'd' THEN 'set default' END END"
            )
        };
        schema.constraints = self
            .rows::<K>(
                "schema.constraints",
                &format!(
                    "SELECT format('%I.%I', n.nspname, c.relname) AS table, con.conname AS name, con.contype::text AS kind, \
                     pg_get_constraintdef(con.oid) AS definition, con.convalidated AS validated, \
                     con.condeferrable AS deferrable, con.condeferred AS deferred, \
                     (SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord) \
                       JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS columns, \
                     CASE WHEN con.contype = 'f' THEN format('%I.%I', fn.nspname, fc.relname) END AS references, \
                     (SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord) \
                       JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS ref_columns, \
                     {} AS on_update, {} AS on_delete \
                     FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid \
                     JOIN pg_namespace n ON n.oid = c.relnamespace \
                     LEFT JOIN pg_class fc ON fc.oid = con.confrelid LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace \
                     WHERE con.contype IN ('p', 'u', 'f', 'c', 'x', 't') AND con.conparentid = 0 \
                     AND c.relkind IN ('r', 'p', 'f') AND {USER_NS}",
                    action("con.confupdtype"),
                    action("con.confdeltype")
                ),
            )
            .await
            .into_iter()
            .map(|k| {
                (
                    format!("{}.{}", k.table, quote_ident(&k.name)),
                    Constraint {
                        table: k.table,
                        name: k.name,
                        kind: k.kind,
                        definition: k.definition,
                        validated: k.validated,
                        deferrable: k.deferrable,
                        deferred: k.deferred,
                        columns: k.columns.unwrap_or_default(),
                        references: k.references,
                        ref_columns: k.ref_columns.unwrap_or_default(),
                        on_update: k.on_update,
                        on_delete: k.on_delete,
                    },
                )
            })
            .collect();

        #[derive(Deserialize)]
        struct V {
            name: String,
            materialized: bool,
            definition: Option<String>,
        }
        schema.views = self
            .rows::<V>(
                "schema.views",
                &format!(
                    "SELECT format('%I.%I', n.nspname, c.relname) AS name, c.relkind = 'm' AS materialized, \
                     pg_get_viewdef(c.oid) AS definition FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE c.relkind IN ('v', 'm') AND {USER_NS} AND {}",
                    not_extension_member("pg_class", "c.oid")
                ),
            )
            .await
            .into_iter()
            .map(|v| {
                (v.name, View { materialized: v.materialized, definition: v.definition.unwrap_or_default().trim().to_string() })
            })
            .collect();

        #[derive(Deserialize)]
        struct Q {
            name: String,
            data_type: String,
            start: i64,
            increment: i64,
            min: i64,
            max: i64,
            cycle: bool,
            last_value: Option<i64>,
        }
        schema.sequences = self
            .rows::<Q>(
                "schema.sequences",
                &format!(
                    "SELECT format('%I.%I', n.nspname, c.relname) AS name, format_type(s.seqtypid, NULL) AS data_type, \
                     s.seqstart AS start, s.seqincrement AS increment, s.seqmin AS min, s.seqmax AS max, s.seqcycle AS cycle, \
                     CASE WHEN has_sequence_privilege(c.oid, 'SELECT,USAGE') THEN pg_sequence_last_value(c.oid::regclass) END AS last_value \
                     FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE {USER_NS} AND {}",
                    not_extension_member("pg_class", "c.oid")
                ),
            )
            .await
            .into_iter()
            .map(|q| {
                (
                    q.name,
                    Sequence {
                        data_type: q.data_type,
                        start: q.start,
                        increment: q.increment,
                        min: q.min,
                        max: q.max,
                        cycle: q.cycle,
                        last_value: q.last_value,
                    },
                )
            })
            .collect();

        #[derive(Deserialize)]
        struct Tg {
            table: String,
            name: String,
            definition: String,
            enabled: String,
        }
        schema.triggers = self
            .rows::<Tg>(
                "schema.triggers",
                &format!(
                    "SELECT format('%I.%I', n.nspname, c.relname) AS table, t.tgname AS name, \
                     pg_get_triggerdef(t.oid) AS definition, t.tgenabled::text AS enabled \
                     FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND {USER_NS}"
                ),
            )
            .await
            .into_iter()
            .map(|t| {
                (
                    format!("{}.{}", t.table, quote_ident(&t.name)),
                    Trigger { table: t.table, definition: t.definition, enabled: t.enabled },
                )
            })
            .collect();

        #[derive(Deserialize)]
        struct F {
            name: String,
            result: Option<String>,
            language: String,
            kind: FunctionKind,
            volatility: String,
            security_definer: bool,
            body_md5: Option<String>,
        }
        schema.functions = self
            .rows::<F>(
                "schema.functions",
                &format!(
                    "SELECT format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) AS name, \
                     pg_get_function_result(p.oid) AS result, l.lanname AS language, p.prokind::text AS kind, \
                     p.provolatile::text AS volatility, p.prosecdef AS security_definer, md5(p.prosrc) AS body_md5 \
                     FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang \
                     WHERE {USER_NS} AND {}",
                    not_extension_member("pg_proc", "p.oid")
                ),
            )
            .await
            .into_iter()
            .map(|f| {
                (
                    f.name,
                    Function {
                        result: f.result,
                        language: f.language,
                        kind: f.kind,
                        volatility: f.volatility,
                        security_definer: f.security_definer,
                        body_md5: f.body_md5,
                    },
                )
            })
            .collect();

        #[derive(Deserialize)]
        struct P {
            table: String,
            name: String,
            command: String,
            permissive: bool,
            roles: Option<Vec<String>>,
            using: Option<String>,
            with_check: Option<String>,
        }
        schema.policies = self
            .rows::<P>(
                "schema.policies",
                &format!(
                    "SELECT format('%I.%I', n.nspname, c.relname) AS table, pol.polname AS name, \
                     CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' \
                       WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS command, pol.polpermissive AS permissive, \
                     (SELECT array_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END ORDER BY 1) \
                       FROM unnest(pol.polroles) r) AS roles, \
                     pg_get_expr(pol.polqual, pol.polrelid) AS using, pg_get_expr(pol.polwithcheck, pol.polrelid) AS with_check \
                     FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE {USER_NS}"
                ),
            )
            .await
            .into_iter()
            .map(|p| {
                (
                    format!("{}.{}", p.table, quote_ident(&p.name)),
                    Policy {
                        table: p.table,
                        command: p.command,
                        permissive: p.permissive,
                        roles: p.roles.unwrap_or_default(),
                        using: p.using,
                        with_check: p.with_check,
                    },
                )
            })
            .collect();

        #[derive(Deserialize)]
        struct Ty {
            name: String,
            kind: TypeDefKind,
            labels: Option<Vec<String>>,
            base_type: Option<String>,
            not_null: bool,
            checks: Option<Vec<String>>,
            attributes: Option<Vec<String>>,
        }
        schema.types = self
            .rows::<Ty>(
                "schema.types",
                &format!(
                    "SELECT format('%I.%I', n.nspname, t.typname) AS name, \
                     CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'c' THEN 'composite' WHEN 'r' THEN 'range' ELSE 'domain' END AS kind, \
                     (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) AS labels, \
                     CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) \
                       WHEN t.typtype = 'r' THEN (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid) END AS base_type, \
                     t.typnotnull AS not_null, \
                     (SELECT array_agg(pg_get_constraintdef(con.oid) ORDER BY 1) FROM pg_constraint con \
                       WHERE con.contypid = t.oid AND con.contype = 'c') AS checks, \
                     (SELECT array_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)) ORDER BY a.attnum) \
                       FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) AS attributes \
                     FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
                     WHERE (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')) \
                     AND {USER_NS} AND {}",
                    not_extension_member("pg_type", "t.oid")
                ),
            )
            .await
            .into_iter()
            .map(|t| {
                (
                    t.name,
                    TypeDef {
                        kind: t.kind,
                        labels: t.labels.unwrap_or_default(),
                        base_type: t.base_type,
                        not_null: t.not_null,
                        checks: t.checks.unwrap_or_default(),
                        attributes: if t.kind == TypeDefKind::Composite {
                            t.attributes.unwrap_or_default()
                        } else {
                            Vec::new()
                        },
                    },
                )
            })
            .collect();
        schema
    }

    pub async fn statistics(&mut self) -> Statistics {
        #[derive(Deserialize)]
        struct T {
            name: String,
            reltuples: f64,
            relpages: i64,
            live_tuples: Option<i64>,
            last_analyze: Option<String>,
            last_autoanalyze: Option<String>,
            mod_since_analyze: Option<i64>,
        }
        let tables = self
            .rows::<T>(
                "statistics.tables",
                &format!(
                    "SELECT format('%I.%I', n.nspname, c.relname) AS name, c.reltuples::float8 AS reltuples, \
                     c.relpages::bigint AS relpages, s.n_live_tup AS live_tuples, \
                     to_char(s.last_analyze AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS last_analyze, \
                     to_char(s.last_autoanalyze AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS last_autoanalyze, \
                     s.n_mod_since_analyze AS mod_since_analyze \
                     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                     LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid \
                     WHERE c.relkind IN ('r', 'p', 'm') AND {USER_NS} AND {}",
                    not_extension_member("pg_class", "c.oid")
                ),
            )
            .await
            .into_iter()
            .map(|t| {
                (
                    t.name,
                    TableStats {
                        reltuples: t.reltuples,
                        relpages: t.relpages,
                        live_tuples: t.live_tuples.unwrap_or(0),
                        last_analyze: t.last_analyze,
                        last_autoanalyze: t.last_autoanalyze,
                        mod_since_analyze: t.mod_since_analyze.unwrap_or(0),
                    },
                )
            })
            .collect();

        #[derive(Deserialize)]
        struct C {
            table: String,
            column: String,
            null_frac: f64,
            n_distinct: f64,
            avg_width: i32,
            correlation: Option<f64>,
            top_freq: Option<f64>,
        }
        let mut columns: BTreeMap<String, BTreeMap<String, Box<ColumnStats>>> = BTreeMap::new();
        for c in self
            .rows::<C>(
                "statistics.columns",
                "SELECT format('%I.%I', schemaname, tablename) AS table, attname AS column, null_frac::float8 AS null_frac, \
                 n_distinct::float8 AS n_distinct, avg_width, correlation::float8 AS correlation, \
                 (most_common_freqs)[1]::float8 AS top_freq \
                 FROM pg_stats WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND NOT inherited",
            )
            .await
        {
            columns.entry(c.table).or_default().insert(
                c.column,
                Box::new(ColumnStats {
                    null_frac: c.null_frac,
                    n_distinct: c.n_distinct,
                    avg_width: c.avg_width,
                    correlation: c.correlation,
                    top_freq: c.top_freq,
                }),
            );
        }
        Statistics { tables, columns }
    }

    /// Tables the role cannot read: their statistics (and later their data) are not visible.
    pub async fn unreadable_tables(&mut self) {
        #[derive(Deserialize)]
        struct U {
            name: String,
        }
        let rows = self
            .rows::<U>(
                "privileges",
                &format!(
                    "SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c \
                     JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE c.relkind IN ('r', 'p', 'm', 'f') AND {USER_NS} AND NOT has_table_privilege(c.oid, 'SELECT') \
                     ORDER BY 1"
                ),
            )
            .await;
        for u in rows {
            self.problem(
                &format!("table {}", u.name),
                "no SELECT privilege: its column statistics are not visible to this role; hint: GRANT SELECT on it to the capture role".into(),
            );
        }
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}
