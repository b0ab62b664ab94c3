//! The catalog's smaller object classes, each declared as a kind of its own over one shape:
//! an object's definition in words (as PostgreSQL prints it, or its properties listed) and,
//! where the class has one, its enabled state or its library version. Statistics objects,
//! rules, event triggers, default privileges, publications, subscriptions, foreign data
//! wrappers, servers, user mappings and foreign tables (option names, never values),
//! user-defined collations, casts, operators, operator classes and families, aggregates,
//! languages, conversions, transforms and text search objects. All live in
//! `Schema::others`, keyed `class:name`, so a snapshot of an older pgparity reads (none).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::{fixed, Attribute, Key, Kind, Missing, Seed};
use crate::severity::Severity;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Other {
    /// What the object does, in words.
    pub definition: String,
    /// Enabled state (`enabled`, `disabled`, `replica`, `always`) where the class has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<String>,
    /// A collation's library version as the server reports it now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// The names of an options array (`{host=db1,port=5432}` → `host, port`): what is configured,
/// never the values (hosts, passwords).
macro_rules! option_names {
    ($col:literal) => {
        concat!(
            "(SELECT string_agg(split_part(o, '=', 1), ', ' ORDER BY split_part(o, '=', 1) COLLATE \"C\") FROM unnest(",
            $col,
            ") o)"
        )
    };
}

/// Objects created by users: not in pg_catalog or information_schema, not an extension's.
macro_rules! user_made {
    ($catalog:literal, $oid:literal) => {
        concat!(
            $oid,
            " >= 16384 AND ",
            not_extension_member!($catalog, $oid)
        )
    };
}

fn definition(o: &Other) -> Cow<'_, str> {
    Cow::Borrowed(&o.definition)
}

fn enabled(o: &Other) -> Cow<'_, str> {
    Cow::Borrowed(o.enabled.as_deref().unwrap_or("enabled"))
}

/// Whether a `Schema::others` key is of this kind's class (its area is `schema.CLASS`).
/// A class that is the server's, the same in every database of it (the time zone database):
/// a fleet reads it once per server.
pub fn is_server_wide(kind: &Kind<Other>) -> bool {
    std::ptr::eq(kind, &TIME_ZONES)
}

/// Whether a `class:name` key is of a server-wide class.
pub fn is_server_wide_key(key: &str) -> bool {
    in_class(key, "time-zones")
}

pub fn holds(kind: &Kind<Other>, key: &str) -> bool {
    in_class(key, kind.area.strip_prefix("schema.").unwrap_or(kind.area))
}

fn in_class(key: &str, class: &str) -> bool {
    key.split_once(':').is_some_and(|(c, _)| c == class)
}

/// How many objects of a class a schema holds.
fn count(s: &super::Schema, class: &str) -> usize {
    s.others.keys().filter(|k| in_class(k, class)).count()
}

fn example(class: &str, name: &str, definition: &str) -> (String, Other) {
    (
        format!("{class}:{name}"),
        Other {
            definition: definition.into(),
            enabled: None,
            version: None,
        },
    )
}

fn place(s: &mut super::Schema, item: Option<(String, Other)>) {
    s.others.extend(item);
}

fn changed_definition(o: &mut Other) {
    o.definition.push_str(" (changed)");
}

fn disabled(o: &mut Other) {
    o.enabled = Some("disabled".into());
}

/// A class's `definition` attribute (its `reads` set where it is used).
const fn definition_attribute(
    label: &'static str,
    severity: Severity,
    why: &'static str,
) -> Attribute<Other> {
    Attribute {
        aspect: "definition",
        reads: &[],
        label,
        severity,
        why,
        shown: definition,
        same: None,
        hidden: None,
        plant: changed_definition,
    }
}

/// A class's `enabled` attribute.
const fn enabled_attribute(
    reads: &'static [&'static str],
    label: &'static str,
    severity: Severity,
    why: &'static str,
) -> Attribute<Other> {
    Attribute {
        aspect: "enabled",
        reads,
        label,
        severity,
        why,
        shown: enabled,
        same: None,
        hidden: None,
        plant: disabled,
    }
}

/// Declares one class: its key prefix, nouns, query, what its absence hides, and its
/// attributes (the definition first).
macro_rules! class {
    ($name:ident, $prefix:literal, $noun:literal, $plural:literal, $reads:expr, $select:expr,
     $missing:expr, $why:expr, [$($attr:expr),* $(,)?], $seed:expr, $example:literal, $def:literal $(, said = $said:expr)?) => {
        pub static $name: Kind<Other> = Kind {
            noun: $noun,
            plural: $plural,
            area: concat!("schema.", $prefix),
            reads: $reads,
            select: $select,
            key: Key::Named(|name, _| format!("{}:{name}", $prefix)),
            tidy: None,
            missing: Missing {
                said: true $(&& $said)?,
                severity: $missing,
                why: $why,
                noun: None,
                detail: Some(|o| o.definition.clone()),
            },
            attributes: &[$($attr),*],
            seed: $seed,
            count: |s| count(s, $prefix),
            example: || example($prefix, $example, $def),
            place,
        };
    };
}

const STATS_WHY: &str = "the planner estimates correlated columns or expressions with them on one side only: row estimates, and so plans, differ";

class!(
    STATISTICS_OBJECTS,
    "statistics-object",
    "extended statistics object",
    "extended statistics objects (CREATE STATISTICS)",
    &["pg_statistic_ext.stxname", "pg_statistic_ext.stxnamespace", "pg_statistic_ext.stxrelid"],
    |_| fixed(concat!(
        "SELECT format('%I.%I', n.nspname, s.stxname) AS name, \
         pg_get_statisticsobjdef(s.oid) || coalesce(' (statistics target ' || NULLIF(s.stxstattarget::int, -1) || ')', '') AS definition \
         FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE ",
        not_extension_member!("pg_statistic_ext", "s.oid")
    )),
    Severity::Medium,
    "the planner estimates correlated columns or expressions with it on one side only: row estimates, and so plans, differ",
    [Attribute {
        reads: &["pg_statistic_ext.stxkeys", "pg_statistic_ext.stxkind", "pg_statistic_ext.stxexprs", "pg_statistic_ext.stxstattarget"],
        ..definition_attribute("statistics definition", Severity::Medium, STATS_WHY)
    }],
    Seed::After(|_, o| o.definition.split(" (statistics target ").next().unwrap_or_default().to_string()),
    "public.planted_stats",
    "CREATE STATISTICS public.planted_stats (ndistinct) ON a, b FROM public.planted"
);

const RULE_WHY: &str = "statements on the table are rewritten on one side only: rows are written elsewhere, or nowhere";

class!(
    RULES,
    "rule",
    "rule",
    "rules (CREATE RULE, other than a view's)",
    &["pg_rewrite.rulename", "pg_rewrite.ev_class"],
    |_| fixed(concat!(
        "SELECT format('%I.%I.%I', n.nspname, c.relname, r.rulename) AS name, pg_get_ruledef(r.oid) AS definition, \
         CASE r.ev_enabled WHEN 'O' THEN 'enabled' WHEN 'D' THEN 'disabled' WHEN 'R' THEN 'replica' WHEN 'A' THEN 'always' END AS enabled \
         FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE r.rulename <> '_RETURN' AND ",
        super::user_ns!()
    )),
    Severity::High,
    RULE_WHY,
    [
        Attribute {
            reads: &["pg_rewrite.ev_type", "pg_rewrite.is_instead", "pg_rewrite.ev_qual", "pg_rewrite.ev_action"],
            ..definition_attribute("rule definition", Severity::High, RULE_WHY)
        },
        enabled_attribute(&["pg_rewrite.ev_enabled"], "rule enabled state", Severity::High, RULE_WHY),
    ],
    Seed::Not("it rewrites statements into others on tables seed may not create; create it from its migration"),
    "public.planted.planted_rule",
    "CREATE RULE planted_rule AS ON DELETE TO public.planted DO INSTEAD NOTHING;"
);

const EVENT_WHY: &str =
    "DDL run by migrations has side effects (audit rows, refused commands) on one side only";

class!(
    EVENT_TRIGGERS,
    "event-trigger",
    "event trigger",
    "event triggers",
    &["pg_event_trigger.evtname"],
    |_| {
        fixed(concat!(
        "SELECT quote_ident(e.evtname) AS name, \
         format('ON %s EXECUTE FUNCTION %s', e.evtevent, e.evtfoid::regproc) \
           || coalesce(' WHEN TAG IN (' || array_to_string(e.evttags, ', ') || ')', '') AS definition, \
         CASE e.evtenabled WHEN 'O' THEN 'enabled' WHEN 'D' THEN 'disabled' WHEN 'R' THEN 'replica' WHEN 'A' THEN 'always' END AS enabled \
         FROM pg_event_trigger e WHERE ",
        not_extension_member!("pg_event_trigger", "e.oid")
    ))
    },
    Severity::Medium,
    EVENT_WHY,
    [
        Attribute {
            reads: &[
                "pg_event_trigger.evtevent",
                "pg_event_trigger.evtfoid",
                "pg_event_trigger.evttags"
            ],
            ..definition_attribute("event trigger definition", Severity::Medium, EVENT_WHY)
        },
        enabled_attribute(
            &["pg_event_trigger.evtenabled"],
            "event trigger enabled state",
            Severity::Medium,
            EVENT_WHY
        ),
    ],
    Seed::Not("it needs a superuser and its function; create it from its migration"),
    "planted_ddl_audit",
    "ON ddl_command_end EXECUTE FUNCTION public.audit_ddl"
);

const DEFAULT_ACL_WHY: &str = "objects created by the next migration get other privileges on each side: permission errors appear after it, on one side only";

class!(
    DEFAULT_PRIVILEGES,
    "default-privileges",
    "default privileges",
    "default privileges (ALTER DEFAULT PRIVILEGES)",
    &[
        "pg_default_acl.defaclrole",
        "pg_default_acl.defaclnamespace",
        "pg_default_acl.defaclobjtype"
    ],
    |_| {
        fixed(
        "SELECT format('for role %s in schema %s on %s', pg_get_userbyid(d.defaclrole), coalesce(quote_ident(n.nspname), '*'), \
           CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions' \
           WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' ELSE d.defaclobjtype::text END) AS name, \
         array_to_string(ARRAY(SELECT x::text FROM unnest(d.defaclacl) x ORDER BY x::text COLLATE \"C\"), ' ') AS definition \
         FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace"
    )
    },
    Severity::Medium,
    DEFAULT_ACL_WHY,
    [Attribute {
        reads: &["pg_default_acl.defaclacl"],
        ..definition_attribute("default privileges", Severity::Medium, DEFAULT_ACL_WHY)
    }],
    Seed::Not("the roles it names may not exist in the target; apply it from its migration"),
    "for role app in schema public on tables",
    "reader=r/app"
);

const PUBLICATION_WHY: &str = "logical replication sends other tables, rows or operations on each side: consumers (CDC, replicas, search indexes) miss changes";

fn publications(major: i32) -> Cow<'static, str> {
    // Column lists and row filters exist from PostgreSQL 15 (pg_publication_tables lists
    // every column of a table published without a column list: said only where one is set).
    let filter = if major >= 150000 {
        "coalesce(' (' || (SELECT array_to_string(pt.attnames, ', ') FROM pg_publication_rel pr \
           WHERE pr.prpubid = p.oid AND pr.prrelid = format('%I.%I', pt.schemaname, pt.tablename)::regclass \
           AND pr.prattrs IS NOT NULL) || ')', '') || coalesce(' WHERE ' || pt.rowfilter, '')"
    } else {
        "''"
    };
    format!(
        "SELECT quote_ident(p.pubname) AS name, concat_ws('; ', \
           CASE WHEN p.puballtables THEN 'all tables' ELSE 'tables ' || coalesce((SELECT string_agg(format('%I.%I', pt.schemaname, pt.tablename) || {filter}, ', ' ORDER BY pt.schemaname, pt.tablename) \
             FROM pg_publication_tables pt WHERE pt.pubname = p.pubname), '(none)') END, \
           'publish ' || concat_ws(', ', CASE WHEN p.pubinsert THEN 'insert' END, CASE WHEN p.pubupdate THEN 'update' END, \
             CASE WHEN p.pubdelete THEN 'delete' END, CASE WHEN p.pubtruncate THEN 'truncate' END), \
           CASE WHEN p.pubviaroot THEN 'via partition root' END) AS definition \
         FROM pg_publication p"
    )
    .into()
}

class!(
    PUBLICATIONS,
    "publication",
    "publication",
    "publications (what logical replication sends)",
    &["pg_publication.pubname"],
    publications,
    Severity::Medium,
    PUBLICATION_WHY,
    [Attribute {
        reads: &[
            "pg_publication.puballtables",
            "pg_publication.pubinsert",
            "pg_publication.pubupdate",
            "pg_publication.pubdelete",
            "pg_publication.pubtruncate",
            "pg_publication.pubviaroot",
            "pg_publication.pubgencols",
            "pg_publication_rel.*",
            "pg_publication_namespace.*",
            "pg_publication_tables.*"
        ],
        ..definition_attribute("publication", Severity::Medium, PUBLICATION_WHY)
    }],
    Seed::Not("a publication replicates production's changes; create it from its migration"),
    "planted_pub",
    "tables public.planted; publish insert, update, delete, truncate"
);

const SUBSCRIPTION_WHY: &str = "changes replicated into this database arrive on one side only: its data, and what code reading it sees, differ";

class!(
    SUBSCRIPTIONS,
    "subscription",
    "subscription",
    "subscriptions (their connection strings are never read)",
    &["pg_subscription.subname", "pg_subscription.subdbid"],
    |_| {
        fixed(
        "SELECT quote_ident(s.subname) AS name, \
         'publications ' || array_to_string(s.subpublications, ', ') || '; synchronous_commit ' || s.subsynccommit AS definition, \
         CASE WHEN s.subenabled THEN 'enabled' ELSE 'disabled' END AS enabled \
         FROM pg_subscription s WHERE s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    },
    Severity::Medium,
    SUBSCRIPTION_WHY,
    [
        Attribute {
            reads: &[
                "pg_subscription.subpublications",
                "pg_subscription.subsynccommit"
            ],
            ..definition_attribute("subscription", Severity::Medium, SUBSCRIPTION_WHY)
        },
        enabled_attribute(
            &["pg_subscription.subenabled"],
            "subscription enabled state",
            Severity::Medium,
            SUBSCRIPTION_WHY
        ),
    ],
    Seed::Not("a subscription connects to a publisher; create it from its migration"),
    "planted_sub",
    "publications planted_pub; synchronous_commit off"
);

const WRAPPER_WHY: &str = "foreign tables through it fail, or read with other options, on one side";

class!(
    FOREIGN_DATA_WRAPPERS,
    "foreign-data-wrapper",
    "foreign data wrapper",
    "foreign data wrappers not made by an extension (option names, never values)",
    &["pg_foreign_data_wrapper.fdwname"],
    |_| {
        fixed(concat!(
        "SELECT quote_ident(w.fdwname) AS name, concat_ws('; ', 'handler ' || NULLIF(w.fdwhandler, 0)::regproc, \
           'validator ' || NULLIF(w.fdwvalidator, 0)::regproc, 'options ' || ",
        option_names!("w.fdwoptions"),
        ") AS definition FROM pg_foreign_data_wrapper w WHERE ",
        not_extension_member!("pg_foreign_data_wrapper", "w.oid")
    ))
    },
    Severity::Medium,
    WRAPPER_WHY,
    [Attribute {
        reads: &[
            "pg_foreign_data_wrapper.fdwhandler",
            "pg_foreign_data_wrapper.fdwvalidator",
            "pg_foreign_data_wrapper.fdwoptions"
        ],
        ..definition_attribute("foreign data wrapper", Severity::Low, WRAPPER_WHY)
    }],
    Seed::Not("its handler is a library; create it from its migration"),
    "planted_fdw",
    "validator planted_validator"
);

const SERVER_WHY: &str = "queries on its foreign tables fail on the side without it, or reach a differently configured server";

class!(
    FOREIGN_SERVERS,
    "foreign-server",
    "foreign server",
    "foreign servers (option names, never values)",
    &["pg_foreign_server.srvname"],
    |_| {
        fixed(concat!(
        "SELECT quote_ident(s.srvname) AS name, concat_ws('; ', 'wrapper ' || quote_ident(w.fdwname), 'type ' || s.srvtype, \
           'version ' || s.srvversion, 'options ' || ",
        option_names!("s.srvoptions"),
        ") AS definition FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw"
    ))
    },
    Severity::High,
    SERVER_WHY,
    [Attribute {
        reads: &[
            "pg_foreign_server.srvfdw",
            "pg_foreign_server.srvtype",
            "pg_foreign_server.srvversion",
            "pg_foreign_server.srvoptions"
        ],
        ..definition_attribute("foreign server", Severity::Medium, SERVER_WHY)
    }],
    Seed::Not("it points at another server; create it from its migration"),
    "planted_server",
    "wrapper postgres_fdw; options dbname, host, port"
);

const MAPPING_WHY: &str =
    "queries on the server's foreign tables fail for this role on the side without it";

class!(
    USER_MAPPINGS,
    "user-mapping",
    "user mapping",
    "user mappings (option names, never values)",
    &["pg_user_mappings.usename", "pg_user_mappings.srvname"],
    |_| fixed(concat!(
        "SELECT format('%s@%s', m.usename, quote_ident(m.srvname)) AS name, \
         coalesce('options ' || ",
        option_names!("m.umoptions"),
        ", 'options not visible to this role') AS definition FROM pg_user_mappings m"
    )),
    Severity::High,
    MAPPING_WHY,
    [Attribute {
        reads: &["pg_user_mappings.umoptions"],
        ..definition_attribute("user mapping", Severity::Medium, MAPPING_WHY)
    }],
    Seed::Not("it holds credentials; create it where the target is deployed"),
    "app@planted_server",
    "options password, user"
);

const FOREIGN_TABLE_WHY: &str =
    "the foreign table reads another remote table or columns on each side";

class!(
    FOREIGN_TABLES,
    "foreign-table",
    "foreign table's server and options",
    "foreign tables' servers and options (option names, never values)",
    &["pg_foreign_table.ftrelid"],
    |_| {
        fixed(concat!(
        "SELECT format('%I.%I', n.nspname, c.relname) AS name, concat_ws('; ', 'server ' || quote_ident(s.srvname), \
           'options ' || ",
        option_names!("ft.ftoptions"),
        ", 'column options ' || (SELECT string_agg(quote_ident(a.attname) || ' (' || ",
        option_names!("a.attfdwoptions"),
        " || ')', ', ' ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attfdwoptions IS NOT NULL)) AS definition \
         FROM pg_foreign_table ft JOIN pg_class c ON c.oid = ft.ftrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_foreign_server s ON s.oid = ft.ftserver"
    ))
    },
    Severity::Low,
    "the table itself is compared as a table; this is its server and options",
    [Attribute {
        reads: &[
            "pg_foreign_table.ftserver",
            "pg_foreign_table.ftoptions",
            "pg_attribute.attfdwoptions"
        ],
        ..definition_attribute(
            "foreign table's server and options",
            Severity::Medium,
            FOREIGN_TABLE_WHY
        )
    }],
    Seed::Not("foreign tables are not created by seed"),
    "public.planted_remote",
    "server planted_server; options schema_name, table_name"
);

const COLLATION_WHY: &str = "sort order, equality (a nondeterministic collation ignores case or accents) and index use differ for columns that use it";

fn collations(major: i32) -> Cow<'static, str> {
    let (locale, rules) = match major {
        m if m >= 170000 => ("c.colllocale", "c.collicurules"),
        m if m >= 160000 => ("c.colliculocale", "c.collicurules"),
        m if m >= 150000 => ("c.colliculocale", "NULL"),
        _ => ("NULL", "NULL"),
    };
    format!(
        "SELECT format('%I.%I', n.nspname, c.collname) AS name, concat_ws('; ', \
           'provider ' || CASE c.collprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' ELSE 'default' END, \
           'locale ' || {locale}, 'collate ' || c.collcollate, 'ctype ' || c.collctype, \
           CASE WHEN NOT c.collisdeterministic THEN 'nondeterministic' END, 'rules ' || {rules}) AS definition, \
         pg_collation_actual_version(c.oid) AS version \
         FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace WHERE {} AND {}",
        super::user_ns!(),
        not_extension_member!("pg_collation", "c.oid")
    )
    .into()
}

class!(
    COLLATIONS,
    "collation",
    "collation",
    "collations defined in the database's schemas",
    &[],
    collations,
    Severity::High,
    COLLATION_WHY,
    [
        Attribute {
            reads: &["pg_collation.collisdeterministic", "pg_collation.collicurules", "pg_collation.collctype", "pg_collation.collencoding"],
            ..definition_attribute("collation", Severity::High, COLLATION_WHY)
        },
        Attribute {
            aspect: "version",
            reads: &[],
            label: "collation library version",
            severity: Severity::Medium,
            why: "another version of the collation library sorts some strings differently: indexes built under one order hold rows in the wrong place under the other",
            shown: |o| Cow::Borrowed(o.version.as_deref().unwrap_or("(none)")),
            same: None,
            hidden: None,
            plant: |o| o.version = Some("153.120".into()),
        },
    ],
    Seed::Not("its locale must exist on the target's server; create it from its migration"),
    "public.planted_ci",
    "provider icu; locale und-u-ks-level2; nondeterministic"
);

const CAST_WHY: &str = "a value converts implicitly (or at all) on one side only: queries and inserts fail or pick other functions";

class!(
    CASTS,
    "cast",
    "cast",
    "user-defined casts",
    &[],
    |_| {
        fixed(concat!(
        "SELECT format('(%s AS %s)', format_type(c.castsource, NULL), format_type(c.casttarget, NULL)) AS name, \
         concat_ws('; ', CASE c.castmethod WHEN 'f' THEN 'with function ' || c.castfunc::regprocedure WHEN 'i' THEN 'with inout' ELSE 'without function' END, \
           CASE c.castcontext WHEN 'i' THEN 'implicit' WHEN 'a' THEN 'as assignment' ELSE 'explicit' END) AS definition \
         FROM pg_cast c WHERE ",
        user_made!("pg_cast", "c.oid")
    ))
    },
    Severity::Medium,
    CAST_WHY,
    [Attribute {
        reads: &[
            "pg_cast.castfunc",
            "pg_cast.castcontext",
            "pg_cast.castmethod",
            "pg_cast.castsource",
            "pg_cast.casttarget"
        ],
        ..definition_attribute("cast", Severity::Medium, CAST_WHY)
    }],
    Seed::Not("create it from its migration"),
    "(public.money_cents AS numeric)",
    "with function public.cents(public.money_cents); implicit"
);

const OPERATOR_WHY: &str = "an expression resolves to another operator (or none) on each side: queries fail or compute other results, and indexes serve other operators";

class!(
    OPERATORS,
    "operator",
    "operator",
    "user-defined operators",
    &[
        "pg_operator.oprname",
        "pg_operator.oprnamespace",
        "pg_operator.oprleft",
        "pg_operator.oprright"
    ],
    |_| {
        fixed(concat!(
        "SELECT o.oid::regoperator::text AS name, concat_ws('; ', 'function ' || o.oprcode::regprocedure, \
           'returns ' || format_type(o.oprresult, NULL), 'commutator ' || NULLIF(o.oprcom, 0)::regoperator, \
           'negator ' || NULLIF(o.oprnegate, 0)::regoperator, 'restrict ' || NULLIF(o.oprrest, 0)::regproc, \
           'join ' || NULLIF(o.oprjoin, 0)::regproc, CASE WHEN o.oprcanhash THEN 'hashes' END, \
           CASE WHEN o.oprcanmerge THEN 'merges' END) AS definition FROM pg_operator o WHERE ",
        user_made!("pg_operator", "o.oid")
    ))
    },
    Severity::Medium,
    OPERATOR_WHY,
    [Attribute {
        reads: &[
            "pg_operator.oprcode",
            "pg_operator.oprresult",
            "pg_operator.oprcom",
            "pg_operator.oprnegate",
            "pg_operator.oprrest",
            "pg_operator.oprjoin",
            "pg_operator.oprcanhash",
            "pg_operator.oprcanmerge",
            "pg_operator.oprkind"
        ],
        ..definition_attribute("operator", Severity::Medium, OPERATOR_WHY)
    }],
    Seed::Not("create it from its migration"),
    "public.===(integer,integer)",
    "function public.same(integer,integer); returns boolean"
);

const OPCLASS_WHY: &str = "an index built with it orders or matches values another way, or cannot be built, on the other side";

class!(
    OPERATOR_CLASSES,
    "operator-class",
    "operator class or family",
    "user-defined operator classes and families",
    &[
        "pg_opclass.opcname",
        "pg_opclass.opcnamespace",
        "pg_opclass.opcmethod",
        "pg_opfamily.opfname",
        "pg_opfamily.opfnamespace",
        "pg_opfamily.opfmethod"
    ],
    |_| {
        fixed(concat!(
        "SELECT format('class %I.%I using %I', n.nspname, oc.opcname, am.amname) AS name, \
         concat_ws('; ', 'for type ' || format_type(oc.opcintype, NULL), CASE WHEN oc.opcdefault THEN 'default' END, \
           'family ' || (SELECT quote_ident(f.opfname) FROM pg_opfamily f WHERE f.oid = oc.opcfamily), 'storage ' || NULLIF(oc.opckeytype, 0)::regtype, \
           'operators ' || (SELECT string_agg(ao.amopstrategy || ' ' || ao.amopopr::regoperator, ', ' ORDER BY ao.amopstrategy) FROM pg_amop ao WHERE ao.amopfamily = oc.opcfamily), \
           'functions ' || (SELECT string_agg(ap.amprocnum || ' ' || ap.amproc::regprocedure, ', ' ORDER BY ap.amprocnum) FROM pg_amproc ap WHERE ap.amprocfamily = oc.opcfamily)) AS definition \
         FROM pg_opclass oc JOIN pg_namespace n ON n.oid = oc.opcnamespace JOIN pg_am am ON am.oid = oc.opcmethod WHERE ",
        user_made!("pg_opclass", "oc.oid")
    ))
    },
    Severity::Medium,
    OPCLASS_WHY,
    [Attribute {
        reads: &[
            "pg_opclass.opcintype",
            "pg_opclass.opcdefault",
            "pg_opclass.opcfamily",
            "pg_opclass.opckeytype",
            "pg_amop.*",
            "pg_amproc.*"
        ],
        ..definition_attribute("operator class", Severity::Medium, OPCLASS_WHY)
    }],
    Seed::Not("create it from its migration"),
    "class public.planted_ops using btree",
    "for type integer; operators 1 <(integer,integer)"
);

const AGGREGATE_WHY: &str = "the aggregate computes another result (another transition, final function or initial value) on each side";

class!(
    AGGREGATES,
    "aggregate",
    "aggregate definition",
    "user-defined aggregates' definitions (their presence is compared as functions)",
    &["pg_aggregate.aggfnoid"],
    |_| {
        fixed(concat!(
        "SELECT a.aggfnoid::regprocedure::text AS name, concat_ws('; ', 'kind ' || a.aggkind::text, 'transition ' || a.aggtransfn::regproc, \
           'state ' || format_type(a.aggtranstype, NULL), 'final ' || NULLIF(a.aggfinalfn, 0)::regproc, \
           'combine ' || NULLIF(a.aggcombinefn, 0)::regproc, 'initial ' || a.agginitval, \
           'sort operator ' || NULLIF(a.aggsortop, 0)::regoperator, 'moving ' || NULLIF(a.aggmtransfn, 0)::regproc) AS definition \
         FROM pg_aggregate a WHERE a.aggfnoid >= 16384 AND ",
        not_extension_member!("pg_proc", "a.aggfnoid")
    ))
    },
    Severity::Low,
    "the aggregate's presence is compared as a function; this is its definition",
    [Attribute {
        reads: &[
            "pg_aggregate.aggkind",
            "pg_aggregate.aggnumdirectargs",
            "pg_aggregate.aggtransfn",
            "pg_aggregate.aggfinalfn",
            "pg_aggregate.aggcombinefn",
            "pg_aggregate.aggserialfn",
            "pg_aggregate.aggdeserialfn",
            "pg_aggregate.aggmtransfn",
            "pg_aggregate.aggminvtransfn",
            "pg_aggregate.aggmfinalfn",
            "pg_aggregate.aggfinalextra",
            "pg_aggregate.aggmfinalextra",
            "pg_aggregate.aggfinalmodify",
            "pg_aggregate.aggmfinalmodify",
            "pg_aggregate.aggsortop",
            "pg_aggregate.aggtranstype",
            "pg_aggregate.aggtransspace",
            "pg_aggregate.aggmtranstype",
            "pg_aggregate.aggmtransspace",
            "pg_aggregate.agginitval",
            "pg_aggregate.aggminitval"
        ],
        ..definition_attribute("aggregate definition", Severity::Medium, AGGREGATE_WHY)
    }],
    Seed::Not("create it from its migration"),
    "public.planted_sum(integer)",
    "kind n; transition int4pl; state integer"
);

const TEXT_SEARCH_WHY: &str = "to_tsvector and to_tsquery produce other lexemes on each side: full-text search finds other rows";

class!(
    TEXT_SEARCH,
    "text-search",
    "text search configuration or dictionary",
    "user-defined text search configurations, dictionaries, parsers and templates",
    &[
        "pg_ts_config.cfgname",
        "pg_ts_config.cfgnamespace",
        "pg_ts_dict.dictname",
        "pg_ts_dict.dictnamespace",
        "pg_ts_parser.prsname",
        "pg_ts_parser.prsnamespace",
        "pg_ts_template.tmplname",
        "pg_ts_template.tmplnamespace"
    ],
    |_| {
        fixed(concat!(
        "SELECT 'configuration ' || c.oid::regconfig::text AS name, concat_ws('; ', 'parser ' || (SELECT quote_ident(p.prsname) FROM pg_ts_parser p WHERE p.oid = c.cfgparser), \
           'mapping ' || (SELECT string_agg(m.maptokentype || '=' || m.mapdict::regdictionary::text, ', ' ORDER BY m.maptokentype, m.mapseqno) \
             FROM pg_ts_config_map m WHERE m.mapcfg = c.oid)) AS definition FROM pg_ts_config c WHERE ",
        user_made!("pg_ts_config", "c.oid"),
        " UNION ALL SELECT 'dictionary ' || d.oid::regdictionary::text, concat_ws('; ', 'template ' || t.tmplname, 'options ' || d.dictinitoption) \
         FROM pg_ts_dict d JOIN pg_ts_template t ON t.oid = d.dicttemplate WHERE ",
        user_made!("pg_ts_dict", "d.oid"),
        " UNION ALL SELECT 'parser ' || quote_ident(p.prsname), concat_ws('; ', p.prsstart::regproc, p.prstoken::regproc, p.prsend::regproc, p.prslextype::regproc) \
         FROM pg_ts_parser p WHERE ",
        user_made!("pg_ts_parser", "p.oid"),
        " UNION ALL SELECT 'template ' || quote_ident(t.tmplname), concat_ws('; ', t.tmplinit::regproc, t.tmpllexize::regproc) \
         FROM pg_ts_template t WHERE ",
        user_made!("pg_ts_template", "t.oid")
    ))
    },
    Severity::Medium,
    TEXT_SEARCH_WHY,
    [Attribute {
        reads: &[
            "pg_ts_config.cfgparser",
            "pg_ts_config_map.*",
            "pg_ts_dict.dicttemplate",
            "pg_ts_dict.dictinitoption",
            "pg_ts_parser.prsstart",
            "pg_ts_parser.prstoken",
            "pg_ts_parser.prsend",
            "pg_ts_parser.prsheadline",
            "pg_ts_parser.prslextype",
            "pg_ts_template.tmplinit",
            "pg_ts_template.tmpllexize"
        ],
        ..definition_attribute("text search definition", Severity::Medium, TEXT_SEARCH_WHY)
    }],
    Seed::Not("create it from its migration"),
    "configuration public.planted_fts",
    "parser default; mapping 1=simple"
);

const LANGUAGE_WHY: &str =
    "functions written in it cannot be created or run on the side without it";

class!(
    LANGUAGES,
    "language",
    "procedural language or conversion",
    "procedural languages, encoding conversions and transforms not made by an extension",
    &[
        "pg_language.lanname",
        "pg_conversion.conname",
        "pg_conversion.connamespace",
        "pg_transform.trftype",
        "pg_transform.trflang"
    ],
    |_| {
        fixed(concat!(
        "SELECT 'language ' || quote_ident(l.lanname) AS name, concat_ws('; ', CASE WHEN l.lanpltrusted THEN 'trusted' ELSE 'untrusted' END, \
           'handler ' || NULLIF(l.lanplcallfoid, 0)::regproc, 'inline ' || NULLIF(l.laninline, 0)::regproc, \
           'validator ' || NULLIF(l.lanvalidator, 0)::regproc) AS definition FROM pg_language l WHERE ",
        user_made!("pg_language", "l.oid"),
        " UNION ALL SELECT format('conversion %I.%I', n.nspname, c.conname), concat_ws('; ', pg_encoding_to_char(c.conforencoding) || ' to ' || pg_encoding_to_char(c.contoencoding), \
           'function ' || c.conproc::regproc, CASE WHEN c.condefault THEN 'default' END) \
         FROM pg_conversion c JOIN pg_namespace n ON n.oid = c.connamespace WHERE ",
        user_made!("pg_conversion", "c.oid"),
        " UNION ALL SELECT format('transform for %s language %s', format_type(t.trftype, NULL), l.lanname), \
           concat_ws('; ', 'from sql ' || NULLIF(t.trffromsql, 0)::regproc, 'to sql ' || NULLIF(t.trftosql, 0)::regproc) \
         FROM pg_transform t JOIN pg_language l ON l.oid = t.trflang WHERE ",
        user_made!("pg_transform", "t.oid")
    ))
    },
    Severity::Medium,
    LANGUAGE_WHY,
    [Attribute {
        reads: &[
            "pg_language.lanispl",
            "pg_language.lanpltrusted",
            "pg_language.lanplcallfoid",
            "pg_language.laninline",
            "pg_language.lanvalidator",
            "pg_conversion.conforencoding",
            "pg_conversion.contoencoding",
            "pg_conversion.conproc",
            "pg_conversion.condefault",
            "pg_transform.trffromsql",
            "pg_transform.trftosql"
        ],
        ..definition_attribute(
            "language, conversion or transform",
            Severity::Low,
            LANGUAGE_WHY
        )
    }],
    Seed::Not("create it from its migration"),
    "language planted_pl",
    "trusted; handler planted_handler"
);

const ROLE_WHY: &str = "a role that is superuser or bypasses row level security on one side sees every row there, and inherited memberships grant other privileges: authorization behaves differently";

class!(
    ROLES,
    "role",
    "role",
    "roles this database names (owners, grantees, policy roles): attributes and memberships, never passwords",
    &["pg_roles.rolname"],
    |_| fixed(concat!(
        "WITH named(r) AS ( \
           SELECT c.relowner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ",
        super::user_ns!(),
        " UNION SELECT (aclexplode(c.relacl)).grantee FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relacl IS NOT NULL AND ",
        super::user_ns!(),
        " UNION SELECT (aclexplode(n.nspacl)).grantee FROM pg_namespace n WHERE n.nspacl IS NOT NULL AND ",
        super::user_ns!(),
        " UNION SELECT (aclexplode(p.proacl)).grantee FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE p.proacl IS NOT NULL AND ",
        super::user_ns!(),
        " UNION SELECT (aclexplode(d.defaclacl)).grantee FROM pg_default_acl d \
           UNION SELECT d.defaclrole FROM pg_default_acl d \
           UNION SELECT unnest(pol.polroles) FROM pg_policy pol) \
         SELECT quote_ident(r.rolname) AS name, concat_ws(', ', CASE WHEN r.rolsuper THEN 'superuser' END, \
           CASE WHEN r.rolbypassrls THEN 'bypasses row level security' END, CASE WHEN NOT r.rolinherit THEN 'no inherit' END, \
           CASE WHEN r.rolcanlogin THEN 'login' END, CASE WHEN r.rolcreaterole THEN 'create role' END, \
           CASE WHEN r.rolcreatedb THEN 'create database' END, CASE WHEN r.rolreplication THEN 'replication' END, \
           CASE WHEN r.rolconnlimit <> -1 THEN 'connection limit ' || r.rolconnlimit END, \
           'member of ' || (SELECT string_agg(quote_ident(g.rolname), ', ' ORDER BY g.rolname) \
             FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid)) AS definition \
         FROM pg_roles r WHERE r.oid IN (SELECT r FROM named) AND r.rolname NOT LIKE 'pg\\_%'"
    )),
    Severity::Medium,
    "privileges, policies or ownership name a role that exists on one side only",
    [Attribute {
        reads: &["pg_roles.rolsuper", "pg_roles.rolbypassrls", "pg_roles.rolinherit", "pg_roles.rolcanlogin", "pg_roles.rolcreaterole", "pg_roles.rolcreatedb", "pg_roles.rolreplication", "pg_roles.rolconnlimit", "pg_auth_members.roleid", "pg_auth_members.member"],
        ..definition_attribute("role attributes and memberships", Severity::High, ROLE_WHY)
    }],
    Seed::Not("roles belong to the cluster; create them where the target is deployed"),
    "app",
    "login, member of readers",
    said = false
);

const LABEL_WHY: &str = "a security label provider (sepgsql, an anonymizer's masking rules) treats the object differently on each side: what a role sees differs";

class!(
    SECURITY_LABELS,
    "security-label",
    "security label",
    "security labels (SECURITY LABEL: sepgsql, masking rules)",
    &[
        "pg_seclabels.objtype",
        "pg_seclabels.objname",
        "pg_seclabels.provider"
    ],
    |_| {
        fixed(
        "SELECT format('%s %s %s', l.provider, l.objtype, l.objname) AS name, l.label AS definition \
         FROM pg_seclabels l WHERE l.objnamespace IS NULL \
           OR l.objnamespace NOT IN (SELECT oid FROM pg_namespace WHERE nspname IN ('pg_catalog', 'information_schema'))"
    )
    },
    Severity::High,
    LABEL_WHY,
    [Attribute {
        reads: &[
            "pg_seclabels.label",
            "pg_seclabel.label",
            "pg_shseclabel.label"
        ],
        ..definition_attribute("security label", Severity::High, LABEL_WHY)
    }],
    Seed::Not("labels need their provider loaded; apply them from their migration"),
    "anon column public.people.email",
    "MASKED WITH FUNCTION anon.fake_email()"
);

const ZONES_WHY: &str = "timestamptz values convert to other local times in some zones (a time zone database of another release): reports, schedules and day boundaries there differ";

class!(
    TIME_ZONES,
    "time-zones",
    "time zone database",
    "the time zone database (zones' offsets at fixed instants, abbreviations)",
    &[],
    |_| {
        fixed(
        "SELECT 'data' AS name, format('%s zones, %s abbreviations, fingerprint %s', z.zones, a.abbrevs, left(md5(z.print || a.print), 12)) AS definition \
         FROM (SELECT count(*) AS zones, string_agg(name || to_char(timestamptz '2024-01-15 12:00+00' AT TIME ZONE name, ' YYYY-MM-DD HH24:MI') \
                 || to_char(timestamptz '2024-07-15 12:00+00' AT TIME ZONE name, ' YYYY-MM-DD HH24:MI') \
                 || to_char(timestamptz '2026-07-15 12:00+00' AT TIME ZONE name, ' YYYY-MM-DD HH24:MI'), ',' ORDER BY name COLLATE \"C\") AS print \
               FROM pg_timezone_names WHERE name !~ '^(posix|right)/' AND name NOT IN ('posixrules', 'Factory', 'localtime')) z, \
              (SELECT count(*) AS abbrevs, string_agg(abbrev || ' ' || extract(epoch FROM utc_offset)::bigint || ' ' || is_dst::text, ',' ORDER BY abbrev COLLATE \"C\") AS print \
               FROM pg_timezone_abbrevs) a"
    )
    },
    Severity::Low,
    ZONES_WHY,
    [Attribute {
        reads: &[
            "pg_timezone_names.name",
            "pg_timezone_names.abbrev",
            "pg_timezone_names.utc_offset",
            "pg_timezone_names.is_dst",
            "pg_timezone_abbrevs.abbrev",
            "pg_timezone_abbrevs.utc_offset",
            "pg_timezone_abbrevs.is_dst"
        ],
        ..definition_attribute("time zone database", Severity::Low, ZONES_WHY)
    }],
    Seed::Not("it is the server's"),
    "data",
    "597 zones, 190 abbreviations, fingerprint cdd73487fc20"
);

const DATABASE_WHY: &str = "roles may connect, create or use temporary tables on one side only, a pool sized for one side's connection limit fails on the other, and ICU tailoring rules sort text differently";

fn database(major: i32) -> Cow<'static, str> {
    let rules = if major >= 160000 {
        "d.daticurules"
    } else {
        "NULL"
    };
    format!(
        "SELECT 'this' AS name, concat_ws('; ', 'connection limit ' || NULLIF(d.datconnlimit, -1), 'ICU rules ' || {rules}, \
           'privileges ' || CASE WHEN d.datacl IS NOT NULL AND d.datacl <> acldefault('d', d.datdba) \
             THEN array_to_string(ARRAY(SELECT x::text FROM unnest(d.datacl) x ORDER BY x::text COLLATE \"C\"), ' ') END) AS definition \
         FROM pg_database d WHERE d.datname = current_database()"
    )
    .into()
}

class!(
    DATABASE,
    "database",
    "database's connection limit, ICU rules and privileges",
    "the database's connection limit, ICU tailoring rules and privileges (CONNECT, CREATE, TEMPORARY)",
    &[],
    database,
    Severity::Low,
    DATABASE_WHY,
    [Attribute {
        reads: &["pg_database.datconnlimit", "pg_database.daticurules", "pg_database.datacl"],
        ..definition_attribute("database's connection limit, ICU rules and privileges", Severity::Medium, DATABASE_WHY)
    }],
    Seed::Not("the target database is the user's"),
    "this",
    "connection limit 100"
);

const PARAMETER_WHY: &str = "a role may SET or ALTER SYSTEM the parameter on one side only: code that sets it works there and fails on the other";

fn parameter_privileges(major: i32) -> Cow<'static, str> {
    if major >= 150000 {
        "SELECT quote_ident(p.parname) AS name, array_to_string(ARRAY(SELECT x::text FROM unnest(p.paracl) x ORDER BY x::text COLLATE \"C\"), ' ') AS definition \
         FROM pg_parameter_acl p"
            .into()
    } else {
        "SELECT NULL::text AS name, NULL::text AS definition WHERE false".into()
    }
}

class!(
    PARAMETER_PRIVILEGES,
    "parameter-privileges",
    "privileges on a parameter",
    "privileges on parameters (GRANT SET, ALTER SYSTEM ON PARAMETER; PostgreSQL 15+)",
    &["pg_parameter_acl.parname"],
    parameter_privileges,
    Severity::Medium,
    PARAMETER_WHY,
    [Attribute {
        reads: &["pg_parameter_acl.paracl"],
        ..definition_attribute("privileges on a parameter", Severity::Medium, PARAMETER_WHY)
    }],
    Seed::Not("privileges name roles of the cluster; grant them where the target is deployed"),
    "work_mem",
    "app=s/postgres"
);

const TABLESPACE_WHY: &str = "the planner costs reads from the tablespace otherwise (seq_page_cost, random_page_cost, effective_io_concurrency): plans of queries on its tables differ";

class!(
    TABLESPACES,
    "tablespace",
    "tablespace's planner costs",
    "planner costs of the tablespaces this database uses (a tablespace's presence is the storage layout: not said)",
    &[],
    |_| fixed(concat!(
        "SELECT quote_ident(t.spcname) AS name, coalesce(array_to_string(t.spcoptions, ', '), '') AS definition \
         FROM pg_tablespace t WHERE t.spcname NOT IN ('pg_default', 'pg_global') AND t.oid IN ( \
           SELECT c.reltablespace FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ",
        super::user_ns!(),
        " UNION SELECT d.dattablespace FROM pg_database d WHERE d.datname = current_database())"
    )),
    Severity::Low,
    TABLESPACE_WHY,
    [Attribute {
        reads: &["pg_tablespace.spcoptions"],
        ..definition_attribute("tablespace's planner costs", Severity::Medium, TABLESPACE_WHY)
    }],
    Seed::Not("tablespaces are the target server's storage"),
    "fast_ssd",
    "random_page_cost=1.1",
    said = false
);

const LARGE_OBJECT_WHY: &str = "code that reads or writes large objects (lo_import, lo_get, lo_unlink) is exercised on one side only";

class!(
    LARGE_OBJECTS,
    "large-objects",
    "large objects",
    "large objects in use (their contents are data, never read)",
    &["pg_largeobject_metadata.oid"],
    |_| {
        fixed(
        "SELECT 'in use' AS name, 'large objects in use' AS definition FROM pg_largeobject_metadata HAVING count(*) > 0"
    )
    },
    Severity::Medium,
    LARGE_OBJECT_WHY,
    [],
    Seed::Not("large objects are data seed does not generate"),
    "in use",
    "large objects in use"
);
