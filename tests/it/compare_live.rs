//! Captures of real clusters, compared: no noise on equal environments, every planted
//! difference found with the right category and object.

use pgparity::cluster::{Cluster, ClusterOptions, Install};
use pgparity::finding::{Category, Finding, Severity};

use crate::support::*;

#[test]
fn an_environment_compared_with_itself_has_no_findings() {
    let db = fresh_db(pg17(), "self");
    pg17().execute(&db, SCHEMA).unwrap();
    pg17().execute(&db, "ANALYZE").unwrap();
    let a = capture(pg17(), &db, "a");
    let b = capture(pg17(), &db, "b");
    assert!(
        a.schema.tables.contains_key("\"My Schema\".\"Odd Table\""),
        "{:?}",
        a.schema.tables.keys()
    );
    assert!(
        a.schema.types.contains_key("public.mood")
            && a.schema.types.contains_key("public.positive")
    );
    assert!(a.problems.is_empty(), "{:?}", a.problems);
    let f = compare(&a, &b);
    assert!(f.is_empty(), "{f:#?}");
    assert!(compare(&a, &a).is_empty());
}

#[test]
fn identically_built_clusters_of_one_version_have_no_findings() {
    for (x, y) in [(pg17(), pg17b()), (pg15(), pg15b())] {
        let (da, db) = (fresh_db(x, "twin"), fresh_db(y, "twin"));
        x.execute(&da, SCHEMA).unwrap();
        y.execute(&db, SCHEMA).unwrap();
        let f = compare(&capture(x, &da, "a"), &capture(y, &db, "b"));
        assert!(f.is_empty(), "PostgreSQL {}: {f:#?}", x.install.major);
    }
}

#[test]
fn version_skew_comes_first_and_new_defaults_are_not_set_differently() {
    let (d15, d17) = (fresh_db(pg15(), "skew"), fresh_db(pg17(), "skew"));
    pg15().execute(&d15, SCHEMA).unwrap();
    pg17().execute(&d17, SCHEMA).unwrap();
    let (l, r) = (
        capture(pg15(), &d15, "staging"),
        capture(pg17(), &d17, "production"),
    );
    let f = compare(&l, &r);
    assert_eq!(f[0].id, "version:server:version");
    assert_eq!(f[0].severity, Severity::Critical);
    assert!(
        f[0].message
            .contains("PostgreSQL 15 in staging vs 17 in production"),
        "{}",
        f[0].message
    );
    // Settings new in 17 or gone since 15, at their defaults, are version notes, not "set differently".
    // A planner knob only 17 has changes plans even at its default: low, not info.
    let new = find(&f, "setting:enable_presorted_aggregate:presence");
    assert_eq!(new.severity, Severity::Low);
    assert!(
        new.message
            .contains("only in production (PostgreSQL 17, at its default"),
        "{}",
        new.message
    );
    assert_eq!(
        find(&f, "setting:old_snapshot_threshold:presence").severity,
        Severity::Info
    );
    for x in f.iter().filter(|x| x.category == Category::Setting) {
        assert!(
            !x.message.contains("set differently"),
            "a default reported as set: {}",
            x.message
        );
    }
    // Nothing about the schema: it is the same on both versions.
    assert!(f.iter().all(|x| x.category != Category::Schema), "{f:#?}");
}

#[test]
fn planted_differences_are_found_with_category_and_object() {
    let (c_l, c_r) = (pg17(), pg17b());
    let dl = fresh_db_with(
        c_l,
        "plant",
        "TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C.UTF-8'",
    );
    let dr = fresh_db(c_r, "plant");
    c_l.execute(&dl, SCHEMA).unwrap();
    c_r.execute(&dr, SCHEMA).unwrap();
    for sql in [
        format!("ALTER DATABASE {dl} SET work_mem = '4MB'"),
        "DROP INDEX orders_customer_id_idx".into(),
        "ALTER TABLE orders DROP CONSTRAINT orders_customer_id_fkey".into(),
        "ALTER TABLE customers ALTER COLUMN email DROP NOT NULL".into(),
        "ALTER TABLE \"My Schema\".\"Odd Table\" DROP COLUMN \"Ünïcode Col\"".into(),
        "CREATE TYPE address AS (street text, city text)".into(),
        "CREATE FUNCTION twice(int) RETURNS int LANGUAGE sql AS 'SELECT 2 * $1'".into(),
    ] {
        c_l.execute(&dl, &sql).unwrap();
    }
    c_r.execute(
        "postgres",
        "DO $$ BEGIN CREATE ROLE app_user; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
    )
    .unwrap();
    for sql in [
        format!("ALTER DATABASE {dr} SET random_page_cost = 1.1"),
        format!("ALTER DATABASE {dr} SET enable_nestloop = off"),
        format!("ALTER DATABASE {dr} SET work_mem = '4096kB'"),
        format!("ALTER ROLE app_user IN DATABASE {dr} SET search_path = app, public"),
        "CREATE EXTENSION pg_trgm".into(),
        "CREATE TYPE address AS (street text, city text, zip text)".into(),
        "CREATE FUNCTION twice(int) RETURNS int LANGUAGE sql STRICT PARALLEL SAFE AS 'SELECT 2 * $1'".into(),
        "ALTER TABLE orders SET (fillfactor = 70)".into(),
        "ALTER TABLE customers REPLICA IDENTITY FULL".into(),
        "ALTER TABLE customers ALTER COLUMN email SET STATISTICS 500".into(),
        "ALTER TABLE orders ALTER COLUMN customer_id SET (n_distinct = -0.5)".into(),
        "ANALYZE".into(),
    ] {
        c_r.execute(&dr, &sql).unwrap();
    }
    let f = compare(
        &capture(c_l, &dl, "staging"),
        &capture(c_r, &dr, "production"),
    );

    let rpc = find(&f, "setting:random_page_cost");
    assert_eq!(
        (rpc.category, rpc.severity, rpc.object.as_str()),
        (
            Category::Setting,
            Severity::High,
            "setting:random_page_cost"
        )
    );
    assert_eq!(
        (rpc.left.as_deref(), rpc.right.as_deref()),
        (Some("4"), Some("1.1"))
    );
    let nl = find(&f, "setting:enable_nestloop");
    assert_eq!(
        (nl.left.as_deref(), nl.right.as_deref()),
        (Some("on"), Some("off"))
    );
    assert!(
        f.iter().all(|x| x.object != "setting:work_mem"),
        "4MB and 4096kB are the same value"
    );

    let idx = find(&f, "schema:public.orders_customer_id_idx:missing");
    assert_eq!(
        (idx.category, idx.left.as_deref()),
        (Category::Schema, None)
    );
    let fk = find(&f, "schema:public.orders.orders_customer_id_fkey:missing");
    assert!(fk.message.contains("foreign key"), "{}", fk.message);
    let nn = find(&f, "schema:public.customers.email:nullable");
    assert_eq!(
        (nn.left.as_deref(), nn.right.as_deref()),
        (Some("nullable"), Some("NOT NULL"))
    );
    let odd = find(
        &f,
        "schema:\"My Schema\".\"Odd Table\".\"Ünïcode Col\":missing",
    );
    assert_eq!(
        (odd.left.as_deref(), odd.right.as_deref()),
        (None, Some("text"))
    );
    let fields = find(&f, "schema:public.address:fields");
    assert_eq!(
        (
            fields.severity,
            fields.left.as_deref(),
            fields.right.as_deref()
        ),
        (
            Severity::High,
            Some("street text, city text"),
            Some("street text, city text, zip text")
        )
    );
    // Storage parameters, replica identity and per-column statistics settings.
    for (id, right) in [
        ("schema:public.orders:options", "fillfactor=70"),
        ("schema:public.customers:replica_identity", "full"),
        ("schema:public.customers.email:statistics_target", "500"),
        (
            "schema:public.orders.customer_id:options",
            "n_distinct=-0.5",
        ),
        (
            "schema:public.twice(integer):properties",
            "strict, parallel safe",
        ),
    ] {
        let x = find(&f, id);
        assert_eq!(
            (x.severity, x.right.as_deref()),
            (Severity::Medium, Some(right)),
            "{id}"
        );
    }
    let ext = find(&f, "extension:pg_trgm");
    assert_eq!(
        (ext.category, ext.left.as_deref()),
        (Category::Extension, None)
    );
    let coll = find(&f, "collation:database:lc_collate");
    assert_eq!(
        (coll.left.as_deref(), coll.right.as_deref()),
        (Some("C"), Some("C.UTF-8"))
    );
    let sp = find(
        &f,
        "setting:role:app_user@this-database/setting:search_path",
    );
    assert_eq!(sp.right.as_deref(), Some("app, public"));
    for t in ["public.customers", "public.orders"] {
        let st = find(&f, &format!("statistics:{t}:never-analyzed"));
        assert_eq!(st.category, Category::Statistics);
        assert!(
            st.message.contains("never analyzed in staging"),
            "{}",
            st.message
        );
    }
    // Ranked: collation before settings before schema before statistics at equal severity.
    let pos = |id: &str| f.iter().position(|x| x.id == id).unwrap();
    assert!(pos("collation:database:lc_collate") < pos("setting:random_page_cost"));
    assert!(pos("setting:random_page_cost") < pos("schema:public.orders_customer_id_idx:missing"));
}

/// Issue 32: privileges granted and revoked (or a role's dropped with DROP OWNED) leave the
/// owner's defaults written out in the ACL: the same privileges as a table never granted.
#[test]
fn privileges_written_out_equal_to_the_defaults_are_the_defaults() {
    let c = pg17();
    let (a, b) = (fresh_db(c, "acl_a"), fresh_db(c, "acl_b"));
    let schema = "CREATE SCHEMA app; CREATE TABLE app.t (id int); CREATE TABLE app.u (id int)";
    c.execute(&a, schema).unwrap();
    c.execute(&b, schema).unwrap();
    c.execute(
        "postgres",
        "DO $$ BEGIN CREATE ROLE acl_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
    )
    .unwrap();
    c.execute(
        &a,
        "GRANT USAGE ON SCHEMA app TO acl_reader; GRANT SELECT ON ALL TABLES IN SCHEMA app TO acl_reader; \
         REVOKE USAGE ON SCHEMA app FROM acl_reader; REVOKE SELECT ON app.t FROM acl_reader",
    )
    .unwrap();
    let f = compare(&capture(c, &b, "staging"), &capture(c, &a, "production"));
    let grants: Vec<&str> = f
        .iter()
        .filter(|x| x.id.ends_with(":grants"))
        .map(|x| x.id.as_str())
        .collect();
    // app.u still grants SELECT to acl_reader: that one is a difference.
    assert_eq!(grants, ["schema:app.u:grants"], "{f:#?}");
}

#[test]
fn a_primary_with_a_streaming_standby_differs_from_a_lone_primary() {
    let install = Install::find(15).unwrap_or_else(|e| panic!("{e}"));
    let primary = Cluster::start(&install, &ClusterOptions::default()).unwrap();
    let standby = primary.start_standby(&ClusterOptions::default()).unwrap();
    let lone = pg15();
    let f = compare(
        &capture(lone, "postgres", "staging"),
        &capture(&primary, "postgres", "production"),
    );
    let t = find(&f, "topology:standbys");
    assert_eq!(
        (t.category, t.severity),
        (Category::Topology, Severity::High)
    );
    assert_eq!(
        (t.left.as_deref(), t.right.as_deref()),
        (Some("none"), Some("1 (async streaming)"))
    );
    // The standby itself is a server in recovery.
    let f = compare(
        &capture(&primary, "postgres", "primary"),
        &capture(&standby, "postgres", "standby"),
    );
    let role = find(&f, "topology:server:role");
    assert_eq!(
        (role.left.as_deref(), role.right.as_deref()),
        (Some("primary"), Some("standby"))
    );
    standby.stop();
    primary.stop();
}

#[test]
fn catalog_queries_read_postgresql_13_through_18() {
    let mut snaps = Vec::new();
    for c in [pg13(), pg15(), pg17(), pg18()] {
        let db = fresh_db(c, "versions");
        c.execute(&db, SCHEMA).unwrap();
        let s = capture(c, &db, &format!("pg{}", c.install.major));
        assert!(
            s.problems.is_empty(),
            "PostgreSQL {}: {:?}",
            c.install.major,
            s.problems
        );
        assert_eq!(
            s.schema.tables.len(),
            5,
            "PostgreSQL {}: {:?}",
            c.install.major,
            s.schema.tables.keys()
        );
        assert_eq!(
            s.schema.constraints.len(),
            5,
            "PostgreSQL {}: {:?}",
            c.install.major,
            s.schema.constraints.keys()
        );
        assert!(s
            .schema
            .indexes
            .contains_key("public.orders_customer_id_idx"));
        assert!(s.schema.policies.contains_key("public.orders.own_orders"));
        assert!(compare(&s, &s).is_empty());
        snaps.push(s);
    }
    // The same schema reads the same on every version: between 13 and 18 schema public's
    // privileges differ because PostgreSQL 15 revoked CREATE on it from everyone: each side's
    // default, said as a version difference (issue 10), not as schema drift.
    let f = compare(&snaps[0], &snaps[3]);
    assert_eq!(f[0].id, "version:server:version");
    let public = find(&f, "version:schema:public:grants");
    assert_eq!(
        public.left.as_deref(),
        Some("=UC/postgres postgres=UC/postgres")
    );
    let schema: Vec<&Finding> = f
        .iter()
        .filter(|x| x.category == Category::Schema)
        .collect();
    assert!(schema.is_empty(), "{schema:#?}");
}

/// PostgreSQL 18 stores NOT NULL as named constraints (whose auto-generated names keep a
/// table's old name after a rename) and adds NOT VALID NOT NULL and NOT ENFORCED checks:
/// compared by what they mean, so 15 against 18 on the same schema is quiet and a real
/// difference is found.
#[test]
fn postgresql_18_not_null_and_enforcement_compare_by_meaning() {
    const SAME: &str = "CREATE TABLE items (id int NOT NULL CHECK (id > 0), code text NOT NULL);
        ALTER TABLE items RENAME TO goods;";
    let (a, b) = (pg15(), pg18());
    let (da, db) = (fresh_db(a, "meaning"), fresh_db(b, "meaning"));
    a.execute(&da, SAME).unwrap();
    b.execute(&db, SAME).unwrap();
    let old = capture(a, &da, "pg15");
    let f = compare(&old, &capture(b, &db, "pg18"));
    let schema: Vec<&Finding> = f
        .iter()
        .filter(|x| x.category == Category::Schema)
        .collect();
    assert!(schema.is_empty(), "{schema:#?}");
    // On 18: the NOT NULL on code NOT VALID (an old row holds NULL), the check NOT ENFORCED.
    let dc = fresh_db(b, "meaning");
    b.execute(
        &dc,
        "CREATE TABLE items (id int NOT NULL, code text);
         ALTER TABLE items ADD CONSTRAINT items_id_check CHECK (id > 0) NOT ENFORCED;
         INSERT INTO items VALUES (1, NULL);
         ALTER TABLE items ADD CONSTRAINT code_present NOT NULL code NOT VALID;
         ALTER TABLE items RENAME TO goods;",
    )
    .unwrap();
    let f = compare(&old, &capture(b, &dc, "pg18"));
    let nullable = find(&f, "schema:public.goods.code:nullable");
    assert_eq!(nullable.left.as_deref(), Some("NOT NULL"));
    assert_eq!(nullable.right.as_deref(), Some("NOT NULL NOT VALID"));
    let check = find(&f, "schema:public.goods.items_id_check:definition");
    assert!(
        check
            .right
            .as_deref()
            .unwrap_or("")
            .contains("NOT ENFORCED"),
        "{check:#?}"
    );
    let schema: Vec<&str> = f
        .iter()
        .filter(|x| x.category == Category::Schema)
        .map(|x| x.id.as_str())
        .collect();
    assert_eq!(schema.len(), 2, "{schema:#?}");
}

/// One object of every smaller catalog class (statistics objects, rules, event triggers,
/// default privileges, publications, subscriptions, foreign objects, collations, casts,
/// operators, operator classes, aggregates, text search, languages), read on every major the
/// tests run: each is found on one side only, and a changed definition is found as such.
#[test]
fn every_smaller_catalog_class_is_read_and_compared() {
    const CLASSES: &str = r#"
DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'planted_reader') THEN CREATE ROLE planted_reader; END IF; END$$;
CREATE TABLE planted (a int, b int, t text);
CREATE STATISTICS planted_stats (ndistinct) ON a, b FROM planted;
CREATE RULE planted_rule AS ON DELETE TO planted DO INSTEAD NOTHING;
CREATE FUNCTION audit_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN END$$;
CREATE EVENT TRIGGER planted_ddl_audit ON ddl_command_end EXECUTE FUNCTION audit_ddl();
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO planted_reader;
CREATE PUBLICATION planted_pub FOR TABLE planted;
CREATE SUBSCRIPTION planted_sub CONNECTION 'dbname=nowhere' PUBLICATION planted_pub WITH (connect = false);
CREATE FOREIGN DATA WRAPPER planted_fdw;
CREATE SERVER planted_server FOREIGN DATA WRAPPER planted_fdw OPTIONS (host 'db.internal', dbname 'app');
CREATE USER MAPPING FOR CURRENT_USER SERVER planted_server OPTIONS (user 'app', password 'not-shown');
CREATE FOREIGN TABLE planted_remote (id int OPTIONS (column_name 'rid')) SERVER planted_server OPTIONS (table_name 'remote');
CREATE COLLATION planted_c (locale = 'C');
CREATE TYPE cents AS (v int);
CREATE FUNCTION cents_num(cents) RETURNS numeric LANGUAGE sql AS 'SELECT ($1).v / 100.0';
CREATE CAST (cents AS numeric) WITH FUNCTION cents_num(cents);
CREATE FUNCTION same_int(int, int) RETURNS boolean LANGUAGE sql AS 'SELECT $1 = $2';
CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = same_int);
CREATE OPERATOR CLASS planted_ops FOR TYPE int USING hash AS OPERATOR 1 =, FUNCTION 1 hashint4(int);
CREATE AGGREGATE planted_sum(int) (SFUNC = int4pl, STYPE = int);
CREATE TEXT SEARCH CONFIGURATION planted_fts (COPY = simple);
CREATE TEXT SEARCH DICTIONARY planted_dict (TEMPLATE = simple);
CREATE FUNCTION planted_handler() RETURNS language_handler AS '$libdir/plpgsql', 'plpgsql_call_handler' LANGUAGE C;
CREATE LANGUAGE planted_pl HANDLER planted_handler;
CREATE FUNCTION greet(who text, punct text DEFAULT '!') RETURNS text LANGUAGE sql AS $$SELECT 'hi ' || who || punct$$;
CREATE DOMAIN code AS text DEFAULT 'x';
CREATE TYPE planted_row AS (x int);
CREATE TABLE typed OF planted_row;
CREATE UNIQUE INDEX planted_a_key ON planted (a);
CREATE MATERIALIZED VIEW planted_mv AS SELECT 1 AS one WITH NO DATA;
CREATE SEQUENCE planted_seq;
ALTER TABLE planted ENABLE ROW LEVEL SECURITY;
CREATE TYPE planted_range AS RANGE (subtype = float8);
"#;
    let expected = || {
        vec![
            "statistics-object:public.planted_stats".to_string(),
            "rule:public.planted.planted_rule".into(),
            "event-trigger:planted_ddl_audit".to_string(),
            "default-privileges:for role postgres in schema public on tables".into(),
            "publication:planted_pub".into(),
            "subscription:planted_sub".into(),
            "foreign-data-wrapper:planted_fdw".into(),
            "foreign-server:planted_server".into(),
            "user-mapping:postgres@planted_server".into(),
            "foreign-table:public.planted_remote".into(),
            "collation:public.planted_c".into(),
            "cast:(cents AS numeric)".into(),
            "operator-class:class public.planted_ops using hash".into(),
            "aggregate:planted_sum(integer)".into(),
            "text-search:configuration planted_fts".into(),
            "text-search:dictionary planted_dict".into(),
            "language:language planted_pl".into(),
        ]
    };
    let mut read = Vec::new();
    for c in [pg13(), pg15(), pg17(), pg18()] {
        let major = c.install.major;
        let (with, without) = (fresh_db(c, "classes"), fresh_db(c, "classes"));
        c.execute(&with, CLASSES).unwrap();
        let (w, wo) = (
            capture(c, &with, &format!("pg{major}")),
            capture(c, &without, "empty"),
        );
        let problems: Vec<_> = w
            .problems
            .iter()
            .filter(|p| !p.area.starts_with("profile "))
            .collect();
        assert!(problems.is_empty(), "PostgreSQL {major}: {problems:?}");
        let f = compare(&wo, &w);
        let missing: Vec<&str> = f
            .iter()
            .filter(|x| x.category == Category::Schema && x.id.ends_with(":missing"))
            .map(|x| x.id.as_str())
            .collect();
        for want in expected() {
            let id = format!("schema:{want}:missing");
            assert!(
                missing.contains(&id.as_str()),
                "PostgreSQL {major}: {id} not among {missing:#?}"
            );
        }
        // An operator's name is qualified where its schema is not on the search path.
        assert!(
            missing
                .iter()
                .any(|m| m.starts_with("schema:operator:") && m.contains("===(integer,integer)")),
            "PostgreSQL {major}: no operator among {missing:#?}"
        );
        // Option values (hosts, passwords) are never read.
        let text = serde_json::to_string(&w.schema.others).unwrap();
        for secret in ["db.internal", "not-shown", "nowhere"] {
            assert!(
                !text.contains(secret),
                "PostgreSQL {major}: {secret} in {text}"
            );
        }
        assert!(compare(&w, &w).is_empty());
        assert_eq!(
            w.schema.tables["public.typed"].of_type.as_deref(),
            Some("planted_row"),
            "PostgreSQL {major}"
        );
        assert!(
            !w.schema.views["public.planted_mv"].populated,
            "PostgreSQL {major}"
        );
        read.push(w.schema.others);
    }
    // The same objects read the same on 13 and 18 (those named alike on both clusters).
    let (old, new) = (&read[0], &read[3]);
    let differ: Vec<(&String, &str, &str)> = old
        .iter()
        .filter_map(|(k, o)| {
            let n = new.get(k)?;
            (n != o).then_some((k, o.definition.as_str(), n.definition.as_str()))
        })
        .collect();
    assert!(differ.is_empty(), "13 vs 18: {differ:#?}");
    // And alike in a database of another collation (ICU, as a production may be): every list
    // in a definition is ordered by bytes, never by the database's collation.
    let c = pg17();
    let libc = fresh_db(c, "classes");
    let icu = format!("{libc}_icu");
    c.execute(
        "postgres",
        &format!("CREATE DATABASE {icu} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"),
    )
    .unwrap();
    let grants = "CREATE ROLE \"Zed\"; CREATE ROLE alpha;
        GRANT SELECT ON planted TO \"Zed\", alpha;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO \"Zed\", alpha;";
    for db in [&libc, &icu] {
        c.execute(db, CLASSES).unwrap();
    }
    c.execute(&libc, grants).unwrap();
    c.execute(
        &icu,
        &grants.replace("CREATE ROLE \"Zed\"; CREATE ROLE alpha;", ""),
    )
    .unwrap();
    let (x, y) = (capture(c, &libc, "libc"), capture(c, &icu, "icu"));
    let differ: Vec<&String> = x
        .schema
        .others
        .iter()
        .filter(|(k, o)| y.schema.others.get(*k) != Some(o))
        .map(|(k, _)| k)
        .collect();
    assert!(differ.is_empty(), "libc vs ICU: {differ:#?}");
    // The same objects with changed definitions, on 17: each is found as a definition change.
    let (a, b) = (fresh_db(c, "classes"), fresh_db(c, "classes"));
    c.execute(&a, CLASSES).unwrap();
    c.execute(
        &b,
        &(CLASSES
            .replace("(ndistinct) ON a, b", "(dependencies) ON a, b")
            .replace("DO INSTEAD NOTHING", "DO ALSO NOTHING")
            .replace("GRANT SELECT ON TABLES", "GRANT SELECT, INSERT ON TABLES")
            .replace(
                "FOR TABLE planted;",
                "FOR TABLE planted WITH (publish = 'insert');",
            )
            .replace("(host 'db.internal', dbname 'app')", "(host 'db.internal')")
            .replace(
                "WITH FUNCTION cents_num(cents);",
                "WITH FUNCTION cents_num(cents) AS IMPLICIT;",
            )
            .replace("STYPE = int)", "STYPE = int, INITCOND = '0')")
            .replace("punct text DEFAULT '!'", "punct text DEFAULT '?'")
            .replace("DEFAULT 'x'", "DEFAULT 'y'")
            .replace(
                "(subtype = float8)",
                "(subtype = float8, subtype_diff = float8mi)",
            )
            + "ALTER TABLE planted ALTER COLUMN t SET STORAGE EXTERNAL;
               GRANT SELECT (t) ON planted TO planted_reader;
               REVOKE EXECUTE ON FUNCTION greet(text, text) FROM PUBLIC;
               ALTER TABLE planted ALTER COLUMN a SET NOT NULL;
               ALTER TABLE planted REPLICA IDENTITY USING INDEX planted_a_key;
               CLUSTER planted USING planted_a_key;
               REFRESH MATERIALIZED VIEW planted_mv;
               ALTER SEQUENCE planted_seq CACHE 20;
               ALTER TABLE planted OWNER TO planted_reader;
               SELECT lo_create(0);
               ALTER TABLE planted SET (fillfactor = 100, autovacuum_enabled = on);
               ALTER TABLE planted ALTER COLUMN b SET (n_distinct = 0);"
            + &format!("ALTER DATABASE {b} CONNECTION LIMIT 50;")),
    )
    .unwrap();
    let f = compare(&capture(c, &a, "a"), &capture(c, &b, "b"));
    let changed: Vec<&str> = f
        .iter()
        .filter(|x| x.id.ends_with(":definition"))
        .map(|x| x.id.as_str())
        .collect();
    for want in [
        "schema:statistics-object:public.planted_stats:definition",
        "schema:rule:public.planted.planted_rule:definition",
        "schema:default-privileges:for role postgres in schema public on tables:definition",
        "schema:publication:planted_pub:definition",
        "schema:cast:(cents AS numeric):definition",
        "schema:aggregate:planted_sum(integer):definition",
    ] {
        assert!(changed.contains(&want), "{want} not among {changed:#?}");
    }
    // Function arguments and privileges, a domain's default, a column's storage and grants.
    let ids: Vec<&str> = f.iter().map(|x| x.id.as_str()).collect();
    for want in [
        "schema:public.greet(who text, punct text):arguments",
        "schema:public.greet(who text, punct text):grants",
        "schema:public.code:domain-default",
        "schema:public.planted.t:storage",
        "schema:public.planted.t:grants",
        "schema:public.planted:replica_index",
        "schema:public.planted:clustered_on",
        "schema:public.planted_mv:populated",
        "schema:public.planted_seq:cache",
        "schema:public.planted:owner",
        "schema:public.planted_range:range",
        "schema:large-objects:in use:missing",
        "schema:database:this:definition",
    ] {
        assert!(ids.contains(&want), "{want} not among {ids:#?}");
    }
    // Options written out at their defaults are compared by their effective value: none.
    for quiet in [
        "schema:public.planted:options",
        "schema:public.planted.b:options",
    ] {
        assert!(!ids.contains(&quiet), "{quiet} among {ids:#?}");
    }
}
