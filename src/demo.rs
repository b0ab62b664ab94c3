//! `pgparity demo`: two throwaway clusters, production on the newer major (with a streaming
//! standby) and staging on the older, a small shop schema with deliberate, realistic
//! differences, then the check. The clusters stop when the demo ends, however it ends.

use crate::capture::{CaptureOptions, Target};
use crate::cluster::{Cluster, ClusterOptions, Install};
use crate::conninfo::ConnInfo;
use crate::error::Result;
use crate::progress::Progress;
use crate::snapshot::Snapshot;

/// The majors the demo uses: production newer than staging.
pub const PRODUCTION_MAJOR: u32 = 17;
pub const STAGING_MAJOR: u32 = 15;

const SCHEMA: &str = r#"
CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'cancelled');
CREATE TABLE customers (
    id bigserial PRIMARY KEY,
    email text NOT NULL,
    name text NOT NULL,
    country char(2),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE products (
    id serial PRIMARY KEY,
    sku text NOT NULL UNIQUE,
    title text NOT NULL,
    price numeric(10,2) NOT NULL CHECK (price > 0)
);
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    status order_status NOT NULL DEFAULT 'pending',
    total numeric(12,2) NOT NULL CHECK (total >= 0),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
CREATE TABLE order_items (
    order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id integer NOT NULL REFERENCES products (id),
    quantity integer NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, product_id)
);
"#;

/// Production's data: the edge cases real users bring. Names with emoji, right-to-left script
/// and decomposed accents, countries sometimes unknown, one customer with 5,000 orders,
/// cancelled orders, and notes of a few kilobytes.
const PRODUCTION_DATA: &str = r#"
INSERT INTO customers (email, name, country)
  SELECT 'user' || i || '@example.com',
    CASE WHEN i % 10 = 0 THEN 'Zoë 🎉 ' || i WHEN i % 25 = 1 THEN 'محمد ' || i
         WHEN i % 30 = 2 THEN 'José ' || i ELSE 'Customer ' || i END,
    CASE WHEN i % 8 = 0 THEN NULL ELSE (ARRAY['DE','FR','US','JP'])[1 + i % 4] END
  FROM generate_series(1, 2000) i;
INSERT INTO products (sku, title, price)
  SELECT 'SKU-' || i, 'Product ' || i, 1 + (i % 50) FROM generate_series(1, 200) i;
INSERT INTO orders (customer_id, status, total)
  SELECT CASE WHEN i <= 5000 THEN 1 ELSE 1 + (i % 2000) END,
    (ARRAY['pending','paid','shipped','cancelled']::order_status[])[1 + i % 4], (i % 5000) + 0.99
  FROM generate_series(1, 25000) i;
INSERT INTO order_items (order_id, product_id, quantity)
  SELECT o.id, 1 + (o.id % 200), 1 + (o.id % 3) FROM orders o;
"#;

/// Staging's data: what a hand-written generator makes. ASCII names, every country set, one to
/// three orders per customer, small totals; and order items for products that do not exist
/// (staging has no foreign key to stop them).
const STAGING_DATA: &str = r#"
INSERT INTO customers (email, name, country)
  SELECT 'user' || i || '@example.com', 'Customer ' || i, (ARRAY['DE','FR','US','JP'])[1 + i % 4]
  FROM generate_series(1, 100) i;
INSERT INTO products (sku, title, price)
  SELECT 'SKU-' || i, 'Product ' || i, 1 + (i % 50) FROM generate_series(1, 200) i;
INSERT INTO orders (customer_id, status, total)
  SELECT 1 + (i % 100), (ARRAY['pending','paid','shipped']::order_status[])[1 + i % 3], (i % 50) + 0.99
  FROM generate_series(1, 250) i;
INSERT INTO order_items (order_id, product_id, quantity)
  SELECT o.id, 1 + (o.id % 230), 1 + (o.id % 3) FROM orders o;
"#;

/// The demo's queries (queries/demo), built in so the demo runs from anywhere.
fn demo_corpus() -> Vec<crate::explain::corpus::Query> {
    [
        (
            "demo/customer_search.sql",
            include_str!("../queries/demo/customer_search.sql"),
        ),
        (
            "demo/orders_of_customer.sql",
            include_str!("../queries/demo/orders_of_customer.sql"),
        ),
        (
            "demo/revenue_by_country.sql",
            include_str!("../queries/demo/revenue_by_country.sql"),
        ),
    ]
    .into_iter()
    .filter_map(|(path, sql)| crate::explain::corpus::read_query(path, sql).ok())
    .collect()
}

/// Runs the demo and compares its two sides into a report (production on the right) through
/// `gate`.
pub fn report(
    progress: &dyn Progress,
    profile: Option<crate::profile::ProfileOptions>,
    gate: &crate::run::Gate,
) -> Result<crate::report::Report> {
    let (staging, production) = run(progress, profile)?;
    Ok(crate::run::build_report(
        &staging,
        &production,
        ("live (demo)", "live (demo)"),
        gate,
    ))
}

/// Runs the demo: returns (staging, production) snapshots; the clusters are gone afterwards.
pub fn run(
    progress: &dyn Progress,
    profile: Option<crate::profile::ProfileOptions>,
) -> Result<(Snapshot, Snapshot)> {
    let prod_install = Install::find(PRODUCTION_MAJOR)?;
    let staging_install = Install::find(STAGING_MAJOR)?;
    let opts = ClusterOptions::default();

    progress.start(
        "production",
        &format!("starting PostgreSQL {PRODUCTION_MAJOR} with a streaming standby"),
    );
    let production = Cluster::start(&prod_install, &opts)?;
    for sql in [
        "ALTER SYSTEM SET random_page_cost = 1.1",
        "ALTER SYSTEM SET effective_cache_size = '8GB'",
        "ALTER SYSTEM SET work_mem = '32MB'",
        "SELECT pg_reload_conf()",
        "CREATE ROLE app LOGIN",
        "ALTER ROLE app SET search_path = shop, public",
        "CREATE DATABASE shop TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'",
    ] {
        production.execute("postgres", sql)?;
    }
    production.execute("shop", SCHEMA)?;
    production.execute(
        "shop",
        &(PRODUCTION_DATA.to_string()
            + "CREATE EXTENSION pg_trgm; CREATE INDEX customers_name_trgm ON customers USING gin (name gin_trgm_ops);"),
    )?;
    production.execute("shop", "ANALYZE")?;
    let standby = production.start_standby(&opts)?;
    progress.finish("production", "ready");

    progress.start("staging", &format!("starting PostgreSQL {STAGING_MAJOR}"));
    let staging = Cluster::start(&staging_install, &opts)?;
    staging.execute("postgres", "CREATE DATABASE shop")?;
    // Staging was built by hand from an old migration: an index and a foreign key missing,
    // email nullable, an enum value never added; and nobody ran ANALYZE.
    let staging_schema = SCHEMA
        .replace("'shipped', 'cancelled'", "'shipped'")
        .replace("email text NOT NULL", "email text")
        .replace(
            "CREATE INDEX orders_customer_id_idx ON orders (customer_id);",
            "",
        )
        .replace(
            "product_id integer NOT NULL REFERENCES products (id)",
            "product_id integer NOT NULL",
        );
    staging.execute("shop", &staging_schema)?;
    staging.execute("shop", STAGING_DATA)?;
    progress.finish("staging", "ready");

    let capture = CaptureOptions::default();
    let target = |name: &str, c: &Cluster| -> Result<Target> {
        Ok(Target {
            name: name.into(),
            conninfo: ConnInfo::parse(&c.conninfo("shop"))
                .map_err(|m| crate::error::Error::env(name, m))?,
            protected: name == "production",
        })
    };
    let req = crate::run::CompareRequest {
        left: crate::run::Side::Live(target("staging", &staging)?),
        right: crate::run::Side::Live(target("production", &production)?),
        left_name: None,
        right_name: None,
        capture,
        profile,
        relationships: Vec::new(),
        corpus: demo_corpus(),
        plan: Default::default(),
        gate: crate::run::Gate::new(chrono::Utc::now().date_naive()),
    };
    let sides = crate::run::load_sides(&req, progress)?;
    progress.note("stopping the demo clusters");
    standby.stop();
    production.stop();
    staging.stop();
    Ok(sides)
}
