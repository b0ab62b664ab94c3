//! A small snapshot builder: a plausible PostgreSQL environment in a few lines, so a test says
//! only what differs. Everything here is data; nothing connects.

use std::collections::BTreeMap;

use pgparity::snapshot::plan::{PlanMethod, PlanNode, PlannedQuery, QueryKind};
use pgparity::snapshot::*;
use serde_json::json;

#[derive(Clone)]
pub struct Snap(pub Snapshot);

/// An environment named `env` on PostgreSQL `version` (`"17.2"`): the settings a planner
/// and a check care about, one database in UTF-8, a primary without standbys, no tables.
pub fn snap(env: &str, version: &str) -> Snap {
    let (major, minor) = version.split_once('.').unwrap();
    let num = major.parse::<i32>().unwrap() * 10000 + minor.parse::<i32>().unwrap();
    let mut s = Snapshot {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        ..Default::default()
    };
    s.meta = Meta {
        tool_version: "test".into(),
        environment: env.into(),
        target: format!("app@{env}:5432/app"),
        captured_at: "2026-11-30T02:00:00+00".into(),
        database: "app".into(),
        role: "app".into(),
        role_is_superuser: false,
        role_reads_all_settings: true,
        role_reads_all_stats: true,
        ..Default::default()
    };
    s.inventory.server_version = version.into();
    s.inventory.server_version_num = num;
    s.inventory.version_string = format!("PostgreSQL {version} on x86_64-pc-linux-gnu");
    s.inventory.database = DatabaseLocale {
        name: "app".into(),
        encoding: "UTF8".into(),
        collate: "en_US.UTF-8".into(),
        ctype: "en_US.UTF-8".into(),
        locale_provider: "libc".into(),
        locale: None,
        collation_version: Some("2.36".into()),
        collation_actual_version: Some("2.36".into()),
    };
    let mut b = Snap(s);
    for (name, value, unit, category, context) in [
        (
            "work_mem",
            "4096",
            Some("kB"),
            "Resource Usage / Memory",
            "user",
        ),
        (
            "shared_buffers",
            "16384",
            Some("8kB"),
            "Resource Usage / Memory",
            "postmaster",
        ),
        (
            "max_connections",
            "100",
            None,
            "Connections and Authentication / Connection Settings",
            "postmaster",
        ),
        (
            "random_page_cost",
            "4",
            None,
            "Query Tuning / Planner Cost Constants",
            "user",
        ),
        (
            "effective_cache_size",
            "524288",
            Some("8kB"),
            "Query Tuning / Planner Cost Constants",
            "user",
        ),
        (
            "enable_seqscan",
            "on",
            None,
            "Query Tuning / Planner Method Configuration",
            "user",
        ),
        (
            "default_statistics_target",
            "100",
            None,
            "Query Tuning / Other Planner Options",
            "user",
        ),
        (
            "statement_timeout",
            "0",
            Some("ms"),
            "Client Connection Defaults / Statement Behavior",
            "user",
        ),
        (
            "TimeZone",
            "UTC",
            None,
            "Client Connection Defaults / Locale and Formatting",
            "user",
        ),
    ] {
        b.0.inventory.settings.insert(
            name.into(),
            Setting {
                value: value.into(),
                unit: unit.map(String::from),
                category: category.into(),
                context: context.into(),
                vartype: "string".into(),
                source: "default".into(),
                boot_val: Some(value.into()),
                pending_restart: false,
            },
        );
    }
    b
}

impl Snap {
    pub fn build(self) -> Snapshot {
        self.0
    }

    /// Sets a known setting's value (as `postgresql.conf` would: the source moves off default).
    pub fn setting(mut self, name: &str, value: &str) -> Snap {
        let s = self
            .0
            .inventory
            .settings
            .get_mut(name)
            .unwrap_or_else(|| panic!("the builder has no setting {name}; add it to snap()"));
        s.value = value.into();
        s.source = "configuration file".into();
        self
    }

    pub fn extension(mut self, name: &str, version: &str, default: &str) -> Snap {
        self.0.inventory.extensions.insert(
            name.into(),
            Extension {
                version: version.into(),
                schema: "public".into(),
                default_version: Some(default.into()),
            },
        );
        self
    }

    pub fn extension_schema(mut self, name: &str, schema: &str) -> Snap {
        self.0.inventory.extensions.get_mut(name).unwrap().schema = schema.into();
        self
    }

    pub fn preload(mut self, lib: &str) -> Snap {
        self.0.inventory.preload_libraries.push(lib.into());
        self
    }

    pub fn locale(mut self, f: impl FnOnce(&mut DatabaseLocale)) -> Snap {
        f(&mut self.0.inventory.database);
        self
    }

    pub fn standby(mut self, sync_state: &str) -> Snap {
        self.0.inventory.topology.standbys.push(Standby {
            application_name: Some("replica".into()),
            state: Some("streaming".into()),
            sync_state: Some(sync_state.into()),
        });
        self
    }

    pub fn in_recovery(mut self) -> Snap {
        self.0.inventory.topology.in_recovery = true;
        self
    }

    /// A table of `(column, type)`; `not null` after the type makes the column NOT NULL.
    pub fn table(mut self, name: &str, columns: &[(&str, &str)]) -> Snap {
        let schema = name.split('.').next().unwrap().to_string();
        self.0.schema.schemas.entry(schema).or_insert(Namespace {
            owner: "app".into(),
            acl: Vec::new(),
        });
        let columns = columns
            .iter()
            .map(|(c, t)| {
                let (data_type, not_null) = match t.strip_suffix(" not null") {
                    Some(t) => (t, true),
                    None => (*t, false),
                };
                Column {
                    table: String::new(),
                    name: c.to_string(),
                    data_type: data_type.into(),
                    type_kind: TypeKind::Base,
                    not_null,
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
                }
            })
            .collect();
        self.0.schema.tables.insert(
            name.into(),
            Table {
                kind: TableKind::Table,
                persistence: "permanent".into(),
                partition_key: None,
                parent: None,
                partition_bound: None,
                rls_enabled: false,
                rls_forced: false,
                owner: None,
                options: Vec::new(),
                replica_identity: None,
                replica_index: None,
                clustered_on: None,
                access_method: None,
                of_type: None,
                acl: Vec::new(),
                columns,
            },
        );
        self
    }

    pub fn column(mut self, table: &str, column: &str, f: impl FnOnce(&mut Column)) -> Snap {
        let t = self.0.schema.tables.get_mut(table).expect("table");
        f(t.columns
            .iter_mut()
            .find(|c| c.name == column)
            .expect("column"));
        self
    }

    pub fn index(mut self, name: &str, table: &str, columns: &str) -> Snap {
        let (schema, rel) = table.split_once('.').unwrap();
        let short = name.split_once('.').map_or(name, |(_, n)| n);
        self.0.schema.indexes.insert(
            name.into(),
            Index {
                table: table.into(),
                definition: format!(
                    "CREATE INDEX {short} ON {schema}.{rel} USING btree ({columns})"
                ),
                unique: false,
                primary: false,
                valid: true,
                constraint: None,
            },
        );
        self
    }

    pub fn unique_index(mut self, name: &str, table: &str, columns: &str) -> Snap {
        self = self.index(name, table, columns);
        let i = self.0.schema.indexes.get_mut(name).unwrap();
        i.unique = true;
        i.definition = i.definition.replace("CREATE INDEX", "CREATE UNIQUE INDEX");
        self
    }

    pub fn primary_key(mut self, table: &str, column: &str) -> Snap {
        let rel = table.split_once('.').unwrap().1;
        self.0.schema.constraints.insert(
            format!("{table}.{rel}_pkey"),
            Constraint {
                table: table.into(),
                name: format!("{rel}_pkey"),
                kind: ConstraintKind::PrimaryKey,
                definition: format!("PRIMARY KEY ({column})"),
                validated: true,
                deferrable: false,
                deferred: false,
                columns: vec![column.into()],
                references: None,
                ref_columns: Vec::new(),
                on_update: None,
                on_delete: None,
            },
        );
        self
    }

    pub fn foreign_key(mut self, table: &str, column: &str, parent: &str, key: &str) -> Snap {
        let rel = table.split_once('.').unwrap().1;
        let name = format!("{rel}_{column}_fkey");
        self.0.schema.constraints.insert(
            format!("{table}.{name}"),
            Constraint {
                table: table.into(),
                name: name.clone(),
                kind: ConstraintKind::ForeignKey,
                definition: format!("FOREIGN KEY ({column}) REFERENCES {parent}({key})"),
                validated: true,
                deferrable: false,
                deferred: false,
                columns: vec![column.into()],
                references: Some(parent.into()),
                ref_columns: vec![key.into()],
                on_update: Some("a".into()),
                on_delete: Some("a".into()),
            },
        );
        self
    }

    /// The table's pg_class and pg_stat figures; `analyzed` sets a last autoanalyze time.
    pub fn stats(mut self, table: &str, rows: f64, analyzed: bool) -> Snap {
        self.0.statistics.tables.insert(
            table.into(),
            TableStats {
                reltuples: if analyzed { rows } else { -1.0 },
                relallvisible: None,
                relpages: if analyzed {
                    (rows / 100.0).ceil() as i64
                } else {
                    0
                },
                live_tuples: rows as i64,
                last_analyze: None,
                last_autoanalyze: analyzed.then(|| "2026-11-29T03:00:00+00".into()),
                mod_since_analyze: 0,
                planner_stats: analyzed,
            },
        );
        self
    }

    pub fn stats_mut(mut self, table: &str, f: impl FnOnce(&mut TableStats)) -> Snap {
        f(self.0.statistics.tables.get_mut(table).expect("stats"));
        self
    }

    /// A profiled table of `rows` rows, read whole.
    pub fn profile(mut self, table: &str, rows: u64) -> Snap {
        let p = self.0.profile.get_or_insert_with(|| Profile {
            hash_key_id: "test-key".into(),
            raw_values: false,
            sample_rows: 30_000,
            tables: Default::default(),
            relationships: BTreeMap::new(),
        });
        p.tables
            .insert(
                table.into(),
                &TableProfile {
                    method: Method {
                        kind: SampleKind::Exact,
                        percent: None,
                        rows_read: rows,
                        streams: None,
                    },
                    rows: rows as f64,
                    rows_exact: true,
                    table_bytes: rows as i64 * 100,
                    index_bytes: rows as i64 * 20,
                    columns: BTreeMap::new(),
                    partitions: BTreeMap::new(),
                },
            )
            .expect("kept");
        self
    }

    /// A profiled column: `rows` and `nulls` from the table's row count, the rest set by `f`.
    pub fn measured(
        mut self,
        table: &str,
        column: &str,
        kind: ValueKind,
        nulls: u64,
        f: impl FnOnce(&mut ColumnProfile),
    ) -> Snap {
        let p = self.0.profile.as_mut().expect("profile the table first");
        let mut t = p.tables.get(table).expect("profile the table first");
        let mut c = ColumnProfile {
            kind,
            rows: t.rows as u64,
            nulls,
            ..Default::default()
        };
        f(&mut c);
        t.columns.insert(column.into(), Box::new(c));
        p.tables.insert(table.into(), &t).expect("kept");
        self
    }

    /// A corpus query planned here: `plan` is EXPLAIN (FORMAT JSON)'s `Plan` object.
    pub fn plan(mut self, path: &str, sql: &str, plan: serde_json::Value) -> Snap {
        let node = PlanNode::from_json(&plan);
        let pq = PlannedQuery {
            kind: QueryKind::Read,
            params: 0,
            sql: sql.into(),
            weight: None,
            values: Vec::new(),
            parse_error: None,
            method: PlanMethod::Plain,
            analyzed: false,
            fingerprint: Some(node.fingerprint()),
            plan: Some(node),
            error: None,
            counterfactual: None,
            steered: None,
            unfeatured: None,
            transplanted: None,
            timings: Vec::new(),
        };
        self.0
            .plans
            .get_or_insert_with(BTreeMap::new)
            .insert(path.into(), pq);
        self
    }
}

/// EXPLAIN's `Plan` for a scan of `table`: `Seq Scan`, or `Index Scan` on `index`.
pub fn scan(table: &str, index: Option<&str>, rows: f64, cost: f64) -> serde_json::Value {
    let (schema, rel) = table.split_once('.').unwrap();
    let mut v = json!({
        "Node Type": if index.is_some() { "Index Scan" } else { "Seq Scan" },
        "Relation Name": rel,
        "Schema": schema,
        "Plan Rows": rows,
        "Total Cost": cost,
    });
    if let Some(i) = index {
        v["Index Name"] = json!(i);
    }
    v
}

/// A realistic shop: customers and orders with keys, an index, statistics, a profile with
/// every value kind, a fan-out, and a planned query. Both sides of a "no difference" case.
pub fn shop(env: &str, version: &str) -> Snap {
    snap(env, version)
        .extension("pg_trgm", "1.6", "1.6")
        .table(
            "public.customers",
            &[
                ("id", "bigint not null"),
                ("email", "text not null"),
                ("country", "text"),
            ],
        )
        .primary_key("public.customers", "id")
        .table(
            "public.orders",
            &[
                ("id", "bigint not null"),
                ("customer_id", "bigint not null"),
                ("total", "numeric(10,2)"),
                ("placed_at", "timestamp with time zone not null"),
                ("note", "text"),
            ],
        )
        .primary_key("public.orders", "id")
        .foreign_key("public.orders", "customer_id", "public.customers", "id")
        .index(
            "public.orders_customer_id_idx",
            "public.orders",
            "customer_id",
        )
        .stats("public.customers", 1000.0, true)
        .stats("public.orders", 5000.0, true)
        .profile("public.customers", 1000)
        .measured("public.customers", "id", ValueKind::Number, 0, |c| {
            c.distinct = Some(exact(1000.0));
            c.min = Some(1.0);
            c.max = Some(1000.0);
            c.quantiles = quantiles(1.0, 1000.0);
        })
        .measured("public.customers", "country", ValueKind::Text, 50, |c| {
            c.distinct = Some(exact(3.0));
            c.categorical = true;
            c.top = vec![top(1, 600), top(2, 250), top(3, 100)];
            c.length_chars = vec![2.0; 7].into();
            c.length_bytes = vec![2.0; 7].into();
            c.classes = [("ascii".to_string(), 950)].into();
        })
        .profile("public.orders", 5000)
        .measured("public.orders", "total", ValueKind::Number, 0, |c| {
            c.distinct = Some(exact(4000.0));
            c.min = Some(1.0);
            c.max = Some(900.0);
            c.quantiles = quantiles(1.0, 900.0);
        })
        .measured("public.orders", "note", ValueKind::Text, 4000, |c| {
            c.distinct = Some(exact(900.0));
            c.length_chars = quantiles(0.0, 200.0);
            c.length_bytes = quantiles(0.0, 210.0);
            c.classes = [("ascii".to_string(), 990), ("emoji".to_string(), 10)].into();
        })
        .plan(
            "recent.sql",
            "SELECT * FROM orders WHERE customer_id = 42",
            scan("public.orders", Some("orders_customer_id_idx"), 5.0, 20.0),
        )
}

pub fn exact(value: f64) -> Estimate {
    Estimate {
        value,
        lower: value,
        upper: value,
        method: "exact".into(),
    }
}

/// Seven quantiles (0, 1, 10, 50, 90, 99, 100 %) spread evenly from `lo` to `hi`.
pub fn quantiles(lo: f64, hi: f64) -> Box<[f64]> {
    QUANTILES.iter().map(|q| lo + (hi - lo) * q).collect()
}

pub fn top(hash: u64, count: u64) -> TopValue {
    TopValue {
        hash: ValueHash(hash),
        count,
        raw: None,
    }
}
