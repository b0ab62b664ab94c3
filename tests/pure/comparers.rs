//! Every comparer as a table of cases: `(left, right) → the findings of its categories`, by
//! id and severity. Pure data, no PostgreSQL: the whole file runs in milliseconds.

use pgparity::compare::compare;
use pgparity::finding::{Category, Severity};
use pgparity::snapshot::{Snapshot, ValueKind};

use crate::builder::*;

struct Case {
    name: &'static str,
    left: Snapshot,
    right: Snapshot,
    /// (id, severity) of the findings in the comparer's categories, any order.
    expect: &'static [(&'static str, Severity)],
}

fn case(
    name: &'static str,
    left: Snap,
    right: Snap,
    expect: &'static [(&'static str, Severity)],
) -> Case {
    Case {
        name,
        left: left.build(),
        right: right.build(),
        expect,
    }
}

/// Runs the cases of one comparer, looking only at findings of `categories`; also checks that
/// each side compared with itself gives no finding, except the hazards of one side's own state
/// (a database whose collation version no longer matches its library), which are reported
/// whatever the other side holds.
fn run(categories: &[Category], cases: Vec<Case>) {
    let mut failures = Vec::new();
    for c in &cases {
        let mut got: Vec<(String, Severity)> = compare(&c.left, &c.right)
            .into_iter()
            .filter(|f| categories.contains(&f.category))
            .map(|f| (f.id, f.severity))
            .collect();
        got.sort();
        let mut want: Vec<(String, Severity)> = c
            .expect
            .iter()
            .map(|(id, s)| (id.to_string(), *s))
            .collect();
        want.sort();
        if got != want {
            failures.push(format!("{}:\n  want {want:?}\n  got  {got:?}", c.name));
        }
        for (side, snap) in [("left", &c.left), ("right", &c.right)] {
            let same: Vec<_> = compare(snap, snap)
                .into_iter()
                .filter(|f| !f.id.starts_with("collation:database:collation_version:"))
                .collect();
            if !same.is_empty() {
                failures.push(format!(
                    "{}: the {side} side compared with itself: {:?}",
                    c.name,
                    same.iter().map(|f| &f.id).collect::<Vec<_>>()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

use Severity::*;

#[test]
fn the_shop_compared_with_itself_gives_no_finding() {
    for version in ["13.16", "15.8", "17.2", "18.1"] {
        let s = shop("prod", version).build();
        let found = compare(&s, &s);
        assert!(found.is_empty(), "{version}: {found:#?}");
    }
    // Named alike on both sides too.
    let (a, b) = (shop("x", "17.2").build(), shop("x", "17.2").build());
    assert!(compare(&a, &b).is_empty());
}

#[test]
fn version() {
    run(
        &[Category::Version],
        vec![
            case(
                "same version",
                snap("staging", "17.2"),
                snap("prod", "17.2"),
                &[],
            ),
            case(
                "minor release differs",
                snap("staging", "17.2"),
                snap("prod", "17.4"),
                &[("version:server:version", Low)],
            ),
            case(
                "major differs",
                snap("staging", "15.8"),
                snap("prod", "17.2"),
                &[("version:server:version", Critical)],
            ),
        ],
    );
}

#[test]
fn collation() {
    run(
        &[Category::Collation],
        vec![
            case(
                "same locale",
                snap("staging", "17.2"),
                snap("prod", "17.2"),
                &[],
            ),
            case(
                "collate C in staging",
                snap("staging", "17.2").locale(|d| d.collate = "C".into()),
                snap("prod", "17.2"),
                &[("collation:database:lc_collate", High)],
            ),
            case(
                "ICU in production",
                snap("staging", "17.2"),
                snap("prod", "17.2").locale(|d| {
                    d.locale_provider = "icu".into();
                    d.locale = Some("en-US".into());
                }),
                // The locale itself is compared only between sides of one provider.
                &[("collation:database:locale_provider", High)],
            ),
            case(
                "the C library moved under production's collation",
                snap("staging", "17.2"),
                snap("prod", "17.2").locale(|d| d.collation_actual_version = Some("2.41".into())),
                &[
                    ("collation:database:collation_library_version", Medium),
                    ("collation:database:collation_version:right-mismatch", High),
                ],
            ),
        ],
    );
}

#[test]
fn topology() {
    run(
        &[Category::Topology],
        vec![
            case(
                "two primaries",
                snap("staging", "17.2"),
                snap("prod", "17.2"),
                &[],
            ),
            case(
                "production has a standby",
                snap("staging", "17.2"),
                snap("prod", "17.2").standby("async"),
                &[("topology:standbys", High)],
            ),
            case(
                "the standby's sync state differs",
                snap("staging", "17.2").standby("async"),
                snap("prod", "17.2").standby("sync"),
                &[("topology:standbys:sync", Medium)],
            ),
            case(
                "a standby against a primary",
                snap("staging", "17.2").in_recovery(),
                snap("prod", "17.2"),
                &[("topology:server:role", High)],
            ),
        ],
    );
}

#[test]
fn extensions() {
    run(
        &[Category::Extension, Category::Version],
        vec![
            case(
                "same extensions",
                snap("staging", "17.2").extension("pg_trgm", "1.6", "1.6"),
                snap("prod", "17.2").extension("pg_trgm", "1.6", "1.6"),
                &[],
            ),
            case(
                "missing in staging",
                snap("staging", "17.2"),
                snap("prod", "17.2").extension("pg_trgm", "1.6", "1.6"),
                &[("extension:pg_trgm", High)],
            ),
            case(
                "older version in staging",
                snap("staging", "17.2").extension("pg_trgm", "1.5", "1.6"),
                snap("prod", "17.2").extension("pg_trgm", "1.6", "1.6"),
                &[("extension:pg_trgm:version", Medium)],
            ),
            case(
                "each major's own version: noise, said once as info",
                snap("staging", "13.16").extension("pg_trgm", "1.5", "1.5"),
                snap("prod", "17.2").extension("pg_trgm", "1.6", "1.6"),
                &[
                    ("version:extension:pg_trgm:version", Info),
                    ("version:server:version", Critical),
                ],
            ),
            case(
                "installed in another schema in production",
                snap("staging", "17.2").extension("pg_trgm", "1.6", "1.6"),
                snap("prod", "17.2")
                    .extension("pg_trgm", "1.6", "1.6")
                    .extension_schema("pg_trgm", "extensions"),
                &[("extension:pg_trgm:schema", Medium)],
            ),
            case(
                "a preloaded library only in production",
                snap("staging", "17.2"),
                snap("prod", "17.2").preload("pg_stat_statements"),
                &[("extension:library:pg_stat_statements:preload", Medium)],
            ),
        ],
    );
}

#[test]
fn statistics() {
    let table = |s: Snap| s.table("public.t", &[("id", "bigint")]);
    run(
        &[Category::Statistics],
        vec![
            case(
                "both analyzed",
                table(snap("staging", "17.2")).stats("public.t", 1000.0, true),
                table(snap("prod", "17.2")).stats("public.t", 1000.0, true),
                &[],
            ),
            case(
                "never analyzed in staging, with rows",
                table(snap("staging", "17.2")).stats("public.t", 1000.0, false),
                table(snap("prod", "17.2")).stats("public.t", 1000.0, true),
                &[("statistics:public.t:never-analyzed", Medium)],
            ),
            case(
                "never analyzed and empty",
                table(snap("staging", "17.2")).stats("public.t", 0.0, false),
                table(snap("prod", "17.2")).stats("public.t", 1000.0, true),
                &[("statistics:public.t:never-analyzed", Low)],
            ),
            case(
                "stale in production",
                table(snap("staging", "17.2")).stats("public.t", 1000.0, true),
                table(snap("prod", "17.2"))
                    .stats("public.t", 1000.0, true)
                    .stats_mut("public.t", |t| t.mod_since_analyze = 600),
                &[("statistics:public.t:stale", Low)],
            ),
        ],
    );
}

#[test]
fn settings() {
    run(
        &[Category::Setting],
        vec![
            case(
                "defaults on both",
                snap("staging", "17.2"),
                snap("prod", "17.2"),
                &[],
            ),
            case(
                "a planner cost differs",
                snap("staging", "17.2"),
                snap("prod", "17.2").setting("random_page_cost", "1.1"),
                &[("setting:random_page_cost", High)],
            ),
            case(
                "work_mem 4MB vs 64MB",
                snap("staging", "17.2"),
                snap("prod", "17.2").setting("work_mem", "65536"),
                &[("setting:work_mem", High)],
            ),
            case(
                "the same value in other units is no difference",
                snap("staging", "17.2").setting("work_mem", "4096"),
                snap("prod", "17.2"),
                &[],
            ),
        ],
    );
}

#[test]
fn schema() {
    let base = |env| {
        snap(env, "17.2")
            .table(
                "public.customers",
                &[("id", "bigint not null"), ("email", "text not null")],
            )
            .primary_key("public.customers", "id")
            .table(
                "public.orders",
                &[
                    ("id", "bigint not null"),
                    ("customer_id", "bigint not null"),
                ],
            )
            .primary_key("public.orders", "id")
            .foreign_key("public.orders", "customer_id", "public.customers", "id")
            .index(
                "public.orders_customer_id_idx",
                "public.orders",
                "customer_id",
            )
    };
    run(
        &[Category::Schema],
        vec![
            case("same schema", base("staging"), base("prod"), &[]),
            case(
                "an index missing in staging",
                {
                    let mut s = base("staging");
                    s.0.schema.indexes.clear();
                    s
                },
                base("prod"),
                &[("schema:public.orders_customer_id_idx:missing", High)],
            ),
            case(
                "a renamed index is the same index",
                {
                    let mut s = base("staging");
                    let i =
                        s.0.schema
                            .indexes
                            .remove("public.orders_customer_id_idx")
                            .unwrap();
                    s.index("public.orders_cust_idx", &i.table, "customer_id")
                },
                base("prod"),
                // Matched by what it does: not missing, not a finding.
                &[],
            ),
            case(
                "email nullable in staging",
                base("staging").column("public.customers", "email", |c| c.not_null = false),
                base("prod"),
                &[("schema:public.customers.email:nullable", High)],
            ),
            case(
                "a column only in production",
                base("staging"),
                base("prod").table(
                    "public.customers",
                    &[
                        ("id", "bigint not null"),
                        ("email", "text not null"),
                        ("vip", "boolean"),
                    ],
                ),
                &[("schema:public.customers.vip:missing", High)],
            ),
            case(
                "a foreign key missing in staging",
                {
                    let mut s = base("staging");
                    s.0.schema
                        .constraints
                        .remove("public.orders.orders_customer_id_fkey");
                    s
                },
                base("prod"),
                &[("schema:public.orders.orders_customer_id_fkey:missing", High)],
            ),
        ],
    );
}

#[test]
fn data() {
    let orders = |env, rows: u64, note_nulls: u64, classes: &[(&str, u64)]| {
        let classes: Vec<(String, u64)> =
            classes.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        snap(env, "17.2")
            .table(
                "public.orders",
                &[("id", "bigint not null"), ("note", "text")],
            )
            .profile("public.orders", rows)
            .measured(
                "public.orders",
                "note",
                ValueKind::Text,
                note_nulls,
                move |c| {
                    c.distinct = Some(exact((rows - note_nulls).min(500) as f64));
                    c.length_chars = quantiles(1.0, 100.0);
                    c.length_bytes = quantiles(1.0, 100.0);
                    c.classes = classes.into_iter().collect();
                },
            )
    };
    let data = [
        Category::Volume,
        Category::Nulls,
        Category::Distinct,
        Category::Distribution,
        Category::Encoding,
        Category::Relationship,
    ];
    run(
        &data,
        vec![
            case(
                "the same data",
                orders("staging", 5000, 1000, &[("ascii", 4000)]),
                orders("prod", 5000, 1000, &[("ascii", 4000)]),
                &[],
            ),
            case(
                "a hundred times fewer rows in staging: within the band",
                orders("staging", 50, 10, &[("ascii", 40)]),
                orders("prod", 5000, 1000, &[("ascii", 4000)]),
                &[],
            ),
            case(
                "250 times fewer rows in staging",
                orders("staging", 20, 4, &[("ascii", 16)]),
                orders("prod", 5000, 1000, &[("ascii", 4000)]),
                &[("volume:public.orders", Medium)],
            ),
            case(
                "a thousand times fewer rows in staging",
                orders("staging", 5, 1, &[("ascii", 4)]),
                orders("prod", 5000, 1000, &[("ascii", 4000)]),
                &[("volume:public.orders", High)],
            ),
            case(
                "NULLs only in production",
                orders("staging", 5000, 0, &[("ascii", 5000)]),
                orders("prod", 5000, 1000, &[("ascii", 4000)]),
                &[("nulls:public.orders.note", Critical)],
            ),
            case(
                "emoji only in production",
                orders("staging", 5000, 1000, &[("ascii", 4000)]),
                orders("prod", 5000, 1000, &[("ascii", 3800), ("emoji", 200)]),
                &[("encoding:public.orders.note:emoji", High)],
            ),
            case(
                "empty strings and padded values only in production",
                orders("staging", 5000, 1000, &[("ascii", 4000)]),
                orders(
                    "prod",
                    5000,
                    1000,
                    &[("ascii", 3800), ("empty", 100), ("edge_whitespace", 100)],
                ),
                &[
                    ("encoding:public.orders.note:edge_whitespace", Medium),
                    ("encoding:public.orders.note:empty", Medium),
                ],
            ),
        ],
    );
    // Values that are not finite, in a number column read whole on both sides: one NaN is a
    // fact (its severity a step lower under 1 % of rows); Infinity on both sides is no gap.
    let totals = |env, specials: &'static [(&'static str, u64)]| {
        snap(env, "17.2")
            .table("public.totals", &[("amount", "double precision")])
            .profile("public.totals", 5000)
            .measured("public.totals", "amount", ValueKind::Number, 0, move |c| {
                c.specials = specials.iter().map(|(k, v)| (k.to_string(), *v)).collect();
            })
    };
    run(
        &data,
        vec![
            case(
                "Infinity on both sides",
                totals("staging", &[("Infinity", 3)]),
                totals("prod", &[("Infinity", 40)]),
                &[],
            ),
            case(
                "one NaN in production",
                totals("staging", &[("Infinity", 3)]),
                totals("prod", &[("Infinity", 3), ("NaN", 1)]),
                &[("distribution:public.totals.amount:special:NaN", Medium)],
            ),
            case(
                "-Infinity in a tenth of production's rows",
                totals("staging", &[]),
                totals("prod", &[("-Infinity", 500)]),
                &[("distribution:public.totals.amount:special:-Infinity", High)],
            ),
        ],
    );
    // Ranges, JSON keys and array lengths, each on one column of its own.
    let facts = |env, hi: f64, keys: &'static [(&'static str, u64)], longest: f64| {
        snap(env, "17.2")
            .table(
                "public.facts",
                &[("amount", "numeric"), ("doc", "jsonb"), ("tags", "text[]")],
            )
            .profile("public.facts", 5000)
            .measured("public.facts", "amount", ValueKind::Number, 0, move |c| {
                c.min = Some(0.0);
                c.max = Some(hi);
                c.quantiles = quantiles(0.0, hi);
            })
            .measured("public.facts", "doc", ValueKind::Json, 0, move |c| {
                c.json_keys = keys.iter().map(|(k, v)| (k.to_string(), *v)).collect();
            })
            .measured("public.facts", "tags", ValueKind::Array, 0, move |c| {
                c.array_length = quantiles(0.0, longest);
            })
    };
    run(
        &data,
        vec![
            case(
                "the same facts",
                facts("staging", 100.0, &[("id", 5000)], 4.0),
                facts("prod", 100.0, &[("id", 5000)], 4.0),
                &[],
            ),
            case(
                "production's values far beyond staging's range",
                facts("staging", 100.0, &[("id", 5000)], 4.0),
                facts("prod", 300.0, &[("id", 5000)], 4.0),
                &[("distribution:public.facts.amount:range", Medium)],
            ),
            case(
                "a JSON key in a fifth of production's documents",
                facts("staging", 100.0, &[("id", 5000)], 4.0),
                facts("prod", 100.0, &[("id", 5000), ("refund", 1000)], 4.0),
                &[("distribution:public.facts.doc:json-key:refund", Medium)],
            ),
            case(
                "production's arrays ten times longer",
                facts("staging", 100.0, &[("id", 5000)], 4.0),
                facts("prod", 100.0, &[("id", 5000)], 40.0),
                &[("distribution:public.facts.tags:array-length", Low)],
            ),
        ],
    );
    // Distinct values: 10 codes in staging's 5,000 rows where production's 100 equally common
    // codes would all show.
    let codes = |env, distinct: u64| {
        snap(env, "17.2")
            .table("public.codes", &[("code", "integer")])
            .profile("public.codes", 5000)
            .measured("public.codes", "code", ValueKind::Number, 0, move |c| {
                c.categorical = true;
                c.distinct = Some(exact(distinct as f64));
                c.top = (0..distinct).map(|i| top(i, 5000 / distinct)).collect();
            })
    };
    run(
        &data,
        vec![
            case(
                "as many codes",
                codes("staging", 100),
                codes("prod", 100),
                &[],
            ),
            case(
                "ten codes where a hundred would show",
                codes("staging", 10),
                codes("prod", 100),
                &[("distinct:public.codes.code", Low)],
            ),
        ],
    );
    // The other way (issue 34): production repeats 13 documents over 5,000 rows, staging's
    // (a seed that drew each afresh) hardly repeat.
    let docs = |env, distinct: u64, categorical: bool| {
        snap(env, "17.2")
            .table("public.tickets", &[("custom", "jsonb")])
            .profile("public.tickets", 5000)
            .measured("public.tickets", "custom", ValueKind::Json, 0, move |c| {
                c.categorical = categorical;
                c.distinct = Some(exact(distinct as f64));
                c.top = (0..distinct.min(20))
                    .map(|i| top(i, 5000 / distinct))
                    .collect();
            })
    };
    run(
        &data,
        vec![
            case(
                "documents repeated on both",
                docs("staging", 12, true),
                docs("prod", 13, true),
                &[],
            ),
            case(
                "documents drawn afresh where production repeats thirteen",
                docs("staging", 4800, false),
                docs("prod", 13, true),
                &[("distinct:public.tickets.custom:varied", Low)],
            ),
            case(
                "a sample's worth more, still repeated",
                docs("staging", 120, false),
                docs("prod", 13, true),
                &[],
            ),
        ],
    );
}

/// The shape of values: uniqueness, frequency, distributions moved as a whole, sentinel dates.
#[test]
fn data_shapes() {
    let data = [Category::Distinct, Category::Distribution];
    // Forms of values and JSON nesting, on a table read whole on both sides.
    let formed = |env, forms: &'static [(&'static str, u64)], depth: f64| {
        snap(env, "17.2")
            .table(
                "public.payments",
                &[("amount", "numeric"), ("doc", "jsonb")],
            )
            .profile("public.payments", 5000)
            .measured(
                "public.payments",
                "amount",
                ValueKind::Number,
                0,
                move |c| {
                    c.forms = forms.iter().map(|(k, v)| (k.to_string(), *v)).collect();
                },
            )
            .measured("public.payments", "doc", ValueKind::Json, 0, move |c| {
                c.json_depth = quantiles(1.0, depth);
            })
    };
    run(
        &data,
        vec![
            case(
                "the same forms",
                formed("staging", &[("negative", 10), ("zero", 5)], 3.0),
                formed("prod", &[("negative", 400), ("zero", 5)], 3.0),
                &[],
            ),
            case(
                "refunds (negative amounts) only in production",
                formed("staging", &[("zero", 5)], 3.0),
                formed("prod", &[("negative", 400), ("zero", 5)], 3.0),
                &[("distribution:public.payments.amount:form:negative", High)],
            ),
            case(
                "production's documents nested far deeper",
                formed("staging", &[], 3.0),
                formed("prod", &[], 12.0),
                &[("distribution:public.payments.doc:json-depth", Low)],
            ),
        ],
    );
    // Logins: 5,000 rows; `pairs` values held twice each; a unique index where asked.
    let logins = |env, pairs: u64, unique: bool| {
        let s = snap(env, "17.2")
            .table("public.users", &[("login", "text")])
            .profile("public.users", 5000)
            .measured("public.users", "login", ValueKind::Text, 0, move |c| {
                c.distinct = Some(exact((5000 - pairs) as f64));
                c.top = (0..pairs.min(20)).map(|i| top(i, 2)).collect();
            });
        if unique {
            s.unique_index("public.users_login_key", "public.users", "login")
        } else {
            s
        }
    };
    run(
        &data,
        vec![
            case(
                "unique on both sides",
                logins("staging", 0, false),
                logins("prod", 0, false),
                &[],
            ),
            case(
                "repeats on both sides",
                logins("staging", 100, false),
                logins("prod", 100, false),
                &[],
            ),
            case(
                "every login distinct in staging, 100 repeated in production",
                logins("staging", 0, false),
                logins("prod", 100, false),
                &[("distribution:public.users.login:uniqueness", Low)],
            ),
            case(
                "staging declares logins unique, production does not and repeats them",
                logins("staging", 0, true),
                logins("prod", 100, false),
                &[("distribution:public.users.login:uniqueness", High)],
            ),
            case(
                "staging repeats what production's unique index forbids",
                logins("staging", 100, false),
                logins("prod", 0, true),
                &[("distribution:public.users.login:uniqueness", High)],
            ),
            case(
                "staging repeats, production does not, neither declares: no gap",
                logins("staging", 100, false),
                logins("prod", 0, false),
                &[],
            ),
        ],
    );
    // A category whose most common value holds `first` of 5,000 rows, the rest spread on two.
    let kinds = |env, first: u64| {
        snap(env, "17.2")
            .table("public.accounts", &[("kind", "text")])
            .profile("public.accounts", 5000)
            .measured("public.accounts", "kind", ValueKind::Text, 0, move |c| {
                c.categorical = true;
                c.distinct = Some(exact(3.0));
                let rest = (5000 - first) / 2;
                c.top = vec![top(1, first), top(2, rest), top(3, 5000 - first - rest)];
            })
    };
    run(
        &data,
        vec![
            case(
                "the same skew",
                kinds("staging", 4000),
                kinds("prod", 4000),
                &[],
            ),
            case(
                "one value holds 80 % of production, a third of staging",
                kinds("staging", 1700),
                kinds("prod", 4000),
                &[("distribution:public.accounts.kind:frequency", Medium)],
            ),
            case(
                "staging skewed, production flat",
                kinds("staging", 4000),
                kinds("prod", 1700),
                &[("distribution:public.accounts.kind:frequency", Low)],
            ),
        ],
    );
    // Amounts and times: quantiles spread evenly, or moved as a whole.
    const T0: f64 = 1_700_000_000.0;
    const DAY: f64 = 86_400.0;
    let moved = |env, (lo, hi): (f64, f64), (t_lo, t_hi, t_max): (f64, f64, f64)| {
        snap(env, "17.2")
            .table(
                "public.events",
                &[("amount", "numeric"), ("at", "timestamptz")],
            )
            .profile("public.events", 5000)
            .measured("public.events", "amount", ValueKind::Number, 0, move |c| {
                c.min = Some(lo);
                c.max = Some(hi);
                c.quantiles = quantiles(lo, hi);
            })
            .measured("public.events", "at", ValueKind::Temporal, 0, move |c| {
                c.quantiles = quantiles(t_lo, t_hi);
                c.quantiles[6] = t_max;
                c.min = Some(t_lo);
                c.max = Some(t_max);
            })
    };
    let year = (T0, T0 + 365.0 * DAY, T0 + 365.0 * DAY);
    run(
        &data,
        vec![
            case(
                "the same distributions",
                moved("staging", (10.0, 110.0), year),
                moved("prod", (10.0, 110.0), year),
                &[],
            ),
            case(
                "amounts a hundred times larger in production: rescaled, not a range",
                moved("staging", (10.0, 110.0), year),
                moved("prod", (1000.0, 11000.0), year),
                &[("distribution:public.events.amount:rescaled", High)],
            ),
            case(
                "every time three hours later in production: shifted",
                moved("staging", (10.0, 110.0), year),
                moved(
                    "prod",
                    (10.0, 110.0),
                    (
                        T0 + 10_800.0,
                        T0 + 365.0 * DAY + 10_800.0,
                        T0 + 365.0 * DAY + 10_800.0,
                    ),
                ),
                &[("distribution:public.events.at:shifted", Medium)],
            ),
            case(
                "a sentinel 9999-12-31 in production only",
                moved("staging", (10.0, 110.0), year),
                moved(
                    "prod",
                    (10.0, 110.0),
                    (T0, T0 + 365.0 * DAY, 253_402_214_400.0),
                ),
                &[("distribution:public.events.at:sentinel-max", High)],
            ),
        ],
    );
}

#[test]
fn plans() {
    let with_plan = |env, index: Option<&str>, cost| {
        snap(env, "17.2")
            .table(
                "public.orders",
                &[("id", "bigint not null"), ("customer_id", "bigint")],
            )
            .index(
                "public.orders_customer_id_idx",
                "public.orders",
                "customer_id",
            )
            .plan(
                "recent.sql",
                "SELECT * FROM orders WHERE customer_id = 42",
                scan("public.orders", index, 5.0, cost),
            )
    };
    run(
        &[Category::Plan],
        vec![
            case(
                "the same plan",
                with_plan("staging", Some("orders_customer_id_idx"), 20.0),
                with_plan("prod", Some("orders_customer_id_idx"), 20.0),
                &[],
            ),
            case(
                "a sequential scan in staging where production uses the index",
                with_plan("staging", None, 90.0),
                with_plan("prod", Some("orders_customer_id_idx"), 20.0),
                &[("plan:query:recent.sql:shape", Medium)],
            ),
            case(
                "production scans a large table whole where staging uses the index",
                with_plan("staging", Some("orders_customer_id_idx"), 20.0).stats(
                    "public.orders",
                    5_000_000.0,
                    true,
                ),
                with_plan("prod", None, 90_000.0).stats("public.orders", 5_000_000.0, true),
                &[("plan:query:recent.sql:shape", High)],
            ),
            case(
                "a query planned on one side only is no plan difference",
                snap("staging", "17.2"),
                with_plan("prod", None, 90.0),
                &[],
            ),
        ],
    );
}

/// Issue 33: plans that differ where the same tables of the same size are estimated apart
/// follow the statistics: within what ANALYZE's sample moves (the tables larger than its
/// sample, estimates under 3x apart) they are statistics noise, low, with the remedy; tables
/// ANALYZE read whole, or estimates far apart, are a statistics cause, not noise; across
/// majors, neither is blamed on the planner version.
#[test]
fn plans_that_follow_the_statistics_sample_are_named_so() {
    let side = |env: &str, version: &str, index: Option<&str>, est: f64, size: f64| {
        snap(env, version)
            .table(
                "public.part",
                &[("id", "bigint not null"), ("name", "text")],
            )
            .index("public.part_name_idx", "public.part", "name")
            .stats("public.part", size, true)
            .plan(
                "green.sql",
                "SELECT * FROM part WHERE name LIKE '%green%'",
                scan(
                    "public.part",
                    index,
                    est,
                    if index.is_some() { 20.0 } else { 90.0 },
                ),
            )
            .build()
    };
    let shape = |l: &Snapshot, r: &Snapshot| {
        pgparity::compare::compare(l, r)
            .into_iter()
            .find(|f| f.id == "plan:query:green.sql:shape")
            .expect("a shape finding")
    };
    // 60,000 rows on both sides, estimates 1,069 vs 1,426: the sample.
    let f = shape(
        &side("staging", "15.8", None, 1069.0, 60_000.0),
        &side("prod", "17.2", Some("part_name_idx"), 1426.0, 60_000.0),
    );
    assert_eq!(f.causes[0].kind.as_str(), "statistics-noise", "{f:#?}");
    assert!(
        f.causes[0]
            .evidence
            .contains("public.part: 1,069 rows estimated in staging vs 1,426 in prod"),
        "{f:#?}"
    );
    assert!(
        !f.causes
            .iter()
            .any(|c| c.kind.as_str() == "planner-version"),
        "{f:#?}"
    );
    assert_eq!(f.severity, Severity::Low);
    assert!(
        f.message.contains("following the statistics sample"),
        "{}",
        f.message
    );
    assert!(f.hint.contains("SET STATISTICS"), "{}", f.hint);
    // 5,000 rows: ANALYZE read them all, so the sample cannot explain it.
    let f = shape(
        &side("staging", "17.2", None, 1069.0, 5_000.0),
        &side("prod", "17.2", Some("part_name_idx"), 1426.0, 5_000.0),
    );
    assert_eq!(f.causes[0].kind.as_str(), "statistics", "{f:#?}");
    // Ten times apart on 60,000 rows: the statistics differ beyond the sample.
    let f = shape(
        &side("staging", "17.2", None, 140.0, 60_000.0),
        &side("prod", "17.2", Some("part_name_idx"), 1426.0, 60_000.0),
    );
    assert_eq!(f.causes[0].kind.as_str(), "statistics", "{f:#?}");
    // The same estimates across majors: the planner version, as before.
    let f = shape(
        &side("staging", "15.8", None, 1426.0, 60_000.0),
        &side("prod", "17.2", Some("part_name_idx"), 1426.0, 60_000.0),
    );
    assert_eq!(f.causes[0].kind.as_str(), "planner-version", "{f:#?}");
    // Its counterfactual: the newer side re-planned with its new features off. Reverting to
    // the older side's shape proves the planner version, whatever the estimates; staying
    // clears the features.
    // The newer side (`newer`: its version) re-planned once more: `converges` Some(true) gives
    // the older side's shape, Some(false) keeps its own, None fails with an error.
    use pgparity::snapshot::plan::{Counterfactual, PlannedQuery};
    let replanned = |newer: &str,
                     slot: fn(&mut PlannedQuery) -> &mut Option<Counterfactual>,
                     what: &str,
                     converges: Option<bool>| {
        let older = if newer.starts_with("18") {
            "17.2"
        } else {
            "15.8"
        };
        let l = side("staging", older, None, 1069.0, 60_000.0);
        let mut r = side("prod", newer, Some("part_name_idx"), 1426.0, 60_000.0);
        let older = l.plans.as_ref().unwrap()["green.sql"].fingerprint.clone();
        let q = r.plans.as_mut().unwrap().get_mut("green.sql").unwrap();
        let own = q.fingerprint.clone();
        *slot(q) = Some(Counterfactual {
            settings: vec![what.into()],
            fingerprint: match converges {
                Some(true) => older,
                Some(false) => own,
                None => None,
            },
            cost: None,
            error: converges
                .is_none()
                .then(|| "permission denied for table part".into()),
        });
        shape(&l, &r)
    };
    let with_unfeatured = |reverts: bool| {
        replanned(
            "17.2",
            |q| &mut q.unfeatured,
            "enable_group_by_reordering = off",
            Some(reverts),
        )
    };
    let f = with_unfeatured(true);
    assert_eq!(f.causes[0].kind.as_str(), "planner-version", "{f:#?}");
    assert!(
        f.causes[0]
            .evidence
            .contains("(enable_group_by_reordering = off): the shape reverts to staging's"),
        "{f:#?}"
    );
    let f = with_unfeatured(false);
    assert_eq!(f.causes[0].kind.as_str(), "statistics-noise", "{f:#?}");
    // The statistics' counterfactual (PostgreSQL 18+): the newer side re-planned with the
    // older side's statistics restored. Its shape becoming the older side's proves the
    // statistics, ahead of the features; staying clears them, and the planner version stands
    // with that evidence. A restore that failed says so.
    let with_transplant = |converges: Option<bool>| {
        replanned(
            "18.1",
            |q| &mut q.transplanted,
            "staging's planner statistics",
            converges,
        )
    };
    let f = with_transplant(Some(true));
    assert_eq!(f.causes[0].kind.as_str(), "statistics-noise", "{f:#?}");
    assert!(
        f.causes[0].evidence.starts_with(
            "re-planned in prod with staging's planner statistics (pg_restore_relation_stats and pg_restore_attribute_stats, rolled back): the same shape as staging; follows the statistics sample"
        ),
        "{f:#?}"
    );
    let f = with_transplant(Some(false));
    assert_eq!(f.causes[0].kind.as_str(), "planner-version", "{f:#?}");
    assert!(
        f.causes[0]
            .evidence
            .contains("re-planned in prod with staging's planner statistics, the shape stays: not the statistics"),
        "{f:#?}"
    );
    let f = with_transplant(None);
    assert_eq!(f.causes[0].kind.as_str(), "statistics-noise", "{f:#?}");
    // Executed (EXPLAIN ANALYZE), the truth is said beside both estimates.
    let mut l = side("staging", "15.8", None, 1069.0, 60_000.0);
    let mut r = side("prod", "17.2", Some("part_name_idx"), 1426.0, 60_000.0);
    for x in [&mut l, &mut r] {
        let q = x.plans.as_mut().unwrap().get_mut("green.sql").unwrap();
        q.plan.as_mut().unwrap().actual_rows = Some(3128.0);
    }
    let f = shape(&l, &r);
    assert!(
        f.causes[0].evidence.contains(
            "public.part: 1,069 rows estimated in staging vs 1,426 in prod (60,000 rows on both, 3,128 actually returned)"
        ),
        "{f:#?}"
    );
    // A column whose statistics target is 1,000 samples 300,000 rows: 60,000 were read whole.
    let mut l = side("staging", "17.2", None, 1069.0, 60_000.0);
    let r = side("prod", "17.2", Some("part_name_idx"), 1426.0, 60_000.0);
    l.schema.tables.get_mut("public.part").unwrap().columns[1].stattarget = Some(1000);
    assert_eq!(
        shape(&l, &r).causes[0].kind.as_str(),
        "statistics",
        "{:#?}",
        shape(&l, &r)
    );
}

/// An InitPlan hangs among a node's children (first, in EXPLAIN's list) without being one of
/// its inputs: TPC-H q15 on 15 sorts above the nested loop (the CTE under the sort), on 17 the
/// nested loop is on top with the CTE under it. The only difference is the sort: no "join order
/// differs", no estimate compared across the misaligned inner side; the same scan estimates
/// are said as such in the planner version's evidence.
#[test]
fn initplans_are_not_join_inputs() {
    use serde_json::json;
    let cte = |rows: f64| {
        json!({"Node Type": "Aggregate", "Strategy": "Hashed", "Parent Relationship": "InitPlan",
               "Plan Rows": 3000.0, "Total Cost": 50.0,
               "Plans": [scan("public.lineitem", None, rows, 40.0)]})
    };
    let nested = |children: Vec<serde_json::Value>| {
        json!({"Node Type": "Nested Loop", "Join Type": "Inner", "Plan Rows": 15.0,
               "Total Cost": 90.0, "Plans": children})
    };
    let cte_scan = json!({"Node Type": "CTE Scan", "Plan Rows": 15.0, "Total Cost": 10.0,
                          "Parent Relationship": "Outer"});
    let inner = scan("public.supplier", Some("supplier_pkey"), 1.0, 0.3);
    let left = json!({"Node Type": "Sort", "Plan Rows": 15.0, "Total Cost": 95.0,
                      "Plans": [cte(28493.0), nested(vec![cte_scan.clone(), inner.clone()])]});
    let right = nested(vec![cte(28291.0), cte_scan, inner]);
    let side = |env: &str, version: &str, plan: serde_json::Value| {
        snap(env, version)
            .table("public.lineitem", &[("l_suppkey", "bigint")])
            .table("public.supplier", &[("s_suppkey", "bigint")])
            .index("public.supplier_pkey", "public.supplier", "s_suppkey")
            .stats("public.lineitem", 1_800_000.0, true)
            .stats("public.supplier", 3_000.0, true)
            .plan("q15.sql", "SELECT 1", plan)
            .build()
    };
    let f =
        pgparity::compare::compare(&side("staging", "15.8", left), &side("prod", "17.2", right))
            .into_iter()
            .find(|f| f.id == "plan:query:q15.sql:shape")
            .expect("a shape finding");
    assert_eq!(
        f.message,
        "q15.sql plans differently: sorts: 1 in staging, 0 in prod"
    );
    assert_eq!(f.causes[0].kind.as_str(), "planner-version", "{f:#?}");
    assert!(
        f.causes[0].evidence.contains(
            "1 scan of the same tables, of the same size, estimated alike on both sides (within 10 %)"
        ),
        "{f:#?}"
    );
}

#[test]
fn seed_verification_sums_up_data_findings_and_plan_shapes() {
    use pgparity::seed::verify::summarize;
    let source = shop("production", "17.2").build();
    // Seeded with a tenth of the rows, a column left without NULLs, and the query's plan lost.
    let target = shop("staging", "17.2")
        .profile("public.orders", 5)
        .measured("public.orders", "note", ValueKind::Text, 0, |c| {
            c.distinct = Some(exact(5.0));
            c.length_chars = quantiles(0.0, 200.0);
            c.length_bytes = quantiles(0.0, 210.0);
            c.classes = [("ascii".to_string(), 5)].into();
        })
        .plan(
            "recent.sql",
            "SELECT * FROM orders WHERE customer_id = 42",
            scan("public.orders", None, 5.0, 90.0),
        )
        .build();
    let all = compare(&target, &source);
    let ids = |v: &pgparity::seed::verify::Verification| {
        v.findings.iter().map(|f| f.id.clone()).collect::<Vec<_>>()
    };
    let v = summarize(&target, &source, &all, false);
    assert!(
        ids(&v).contains(&"volume:public.orders".to_string()),
        "{:?}",
        ids(&v)
    );
    assert!(
        ids(&v).contains(&"nulls:public.orders.note".to_string()),
        "{:?}",
        ids(&v)
    );
    assert!(v
        .findings
        .iter()
        .all(|f| f.category.is_data() && f.severity != Info));
    assert_eq!((v.plans_total, v.plans_same, v.plans_tied), (1, 0, 0));
    assert_eq!(v.plans_divergent, vec!["recent.sql".to_string()]);
    // A scale was asked for: volume is no finding of the seed's.
    let v = summarize(&target, &source, &all, true);
    assert!(!ids(&v).contains(&"volume:public.orders".to_string()));
    // The same plan on both sides: kept.
    let v = summarize(&source, &source, &[], false);
    assert_eq!((v.plans_total, v.plans_same), (1, 1));
    assert!(v.findings.is_empty() && v.plans_divergent.is_empty());
}

/// The seeded rows of the table `t` of `snap` at `scale`: each row's columns, COPY text
/// unescaped (`None`: NULL).
fn seeded_rows(snap: &Snapshot, scale: f64) -> Vec<Vec<Option<String>>> {
    let opts = pgparity::seed::SeedOptions {
        scale,
        ..Default::default()
    };
    let model = pgparity::seed::model::build(snap, &opts).unwrap();
    let t = &model.tables[0];
    let chunks = t.rows.div_ceil(t.chunk_rows.max(1));
    let text: Vec<u8> = (0..chunks)
        .flat_map(|k| pgparity::seed::chunk(&model, 0, k))
        .collect();
    let text = String::from_utf8(text).unwrap();
    text.lines()
        .map(|line| {
            line.split('\t')
                .map(|f| {
                    (f != "\\N").then(|| {
                        f.replace("\\t", "\t")
                            .replace("\\n", "\n")
                            .replace("\\r", "\r")
                            .replace("\\\\", "\\")
                    })
                })
                .collect()
        })
        .collect()
}

/// Issue 34: every character class the profile counts (`snapshot::classes::CLASSES`), seen
/// in 1 row of 59 of a table read whole, is in the seed, at 59 rows, at 5,900 (the share to
/// within a row: 100) and at 6 (never rounded to none), beside a NULL rate; an empty-string
/// category holds its share of the rows; a column that is empty in every row stays empty.
#[test]
fn every_class_the_profile_counts_is_seeded() {
    use pgparity::snapshot::classes::{classify, CLASSES};
    let bit = |class: &str| 1u16 << CLASSES.iter().position(|c| *c == class).unwrap();
    let table = |f: &dyn Fn(&mut pgparity::snapshot::ColumnProfile)| {
        snap("production", "17.2")
            .table("public.t", &[("s", "text")])
            .profile("public.t", 59)
            .measured("public.t", "s", ValueKind::Text, 3, |c| {
                c.length_chars = quantiles(3.0, 20.0);
                c.length_bytes = quantiles(3.0, 40.0);
                c.distinct = Some(exact(56.0));
                f(c)
            })
            .build()
    };
    for class in CLASSES.iter().filter(|c| **c != "ascii_only") {
        let snap = table(&|c| {
            c.classes = [("ascii_only".to_string(), 55), (class.to_string(), 1)].into();
        });
        for (scale, low, high) in [(1.0, 1, 2), (100.0, 99, 101), (0.1, 1, 2)] {
            let rows = seeded_rows(&snap, scale);
            let holding = rows
                .iter()
                .filter_map(|r| r[0].as_deref())
                .filter(|v| classify(v) & bit(class) != 0)
                .count();
            assert!(
                (low..=high).contains(&holding),
                "{class} at scale {scale}: {holding} of {} rows (expected {low} to {high})",
                rows.len()
            );
        }
    }
    // A categorical column, the empty string 36 of its 56 values: its category is the empty one.
    let snap = table(&|c| {
        c.classes = [("ascii_only".to_string(), 20), ("empty".to_string(), 36)].into();
        c.categorical = true;
        c.top = (0..5)
            .map(|i| pgparity::snapshot::TopValue {
                hash: pgparity::snapshot::ValueHash(i),
                count: [36, 8, 6, 4, 2][i as usize],
                raw: None,
            })
            .collect();
    });
    let rows = seeded_rows(&snap, 10.0);
    let empty = rows.iter().filter(|r| r[0].as_deref() == Some("")).count();
    let non_null = rows.iter().filter(|r| r[0].is_some()).count();
    let share = empty as f64 / non_null as f64;
    assert!((share - 36.0 / 56.0).abs() < 0.08, "{empty} of {non_null}");
    // Empty in every row: every seeded value is empty, the extremes' rows too.
    let snap = table(&|c| {
        c.classes = [("empty".to_string(), 56)].into();
        c.length_chars = quantiles(0.0, 0.0);
        c.length_bytes = quantiles(0.0, 0.0);
        c.distinct = Some(exact(1.0));
    });
    let rows = seeded_rows(&snap, 1.0);
    assert!(
        rows.iter()
            .all(|r| r[0].as_deref().is_none_or(str::is_empty)),
        "{rows:?}"
    );
}

/// Issue 34: the values no curve draws, seen in 1 row of 59 of a table read whole — a double's
/// NaN and infinities and a zero its quantiles skip, a timestamp's infinity, the nil UUID, a
/// JSON array and a JSON scalar — are in the seed at 59, 5,900 (100 rows, +-1) and 6 rows.
#[test]
fn every_special_value_the_profile_counts_is_seeded() {
    let cases: [(&str, ValueKind, &str, &str, &[&str]); 6] = [
        (
            "double precision",
            ValueKind::Number,
            "special",
            "NaN",
            &["NaN"],
        ),
        (
            "double precision",
            ValueKind::Number,
            "special",
            "-Infinity",
            &["-Infinity"],
        ),
        (
            "double precision",
            ValueKind::Number,
            "form",
            "zero",
            &["0"],
        ),
        (
            "timestamp with time zone",
            ValueKind::Temporal,
            "special",
            "Infinity",
            &["infinity"],
        ),
        (
            "uuid",
            ValueKind::Other,
            "form",
            "uuid-nil",
            &["00000000-0000-0000-0000-000000000000"],
        ),
        ("jsonb", ValueKind::Json, "form", "array", &["[]"]),
    ];
    for (data_type, kind, what, name, written) in cases {
        let snap = snap("production", "17.2")
            .table("public.t", &[("v", data_type)])
            .profile("public.t", 59)
            .measured("public.t", "v", kind, 3, |c| {
                c.min = Some(1.0);
                c.max = Some(1e9);
                c.quantiles = quantiles(1.0, 1e9);
                c.distinct = Some(exact(56.0));
                c.json_keys = [("a".to_string(), 55)].into();
                let m = if what == "special" {
                    &mut c.specials
                } else {
                    &mut c.forms
                };
                m.insert(name.to_string(), 1);
            })
            .build();
        for (scale, low, high) in [(1.0, 1, 2), (100.0, 99, 101), (0.1, 1, 2)] {
            let rows = seeded_rows(&snap, scale);
            let holding = rows
                .iter()
                .filter(|r| r[0].as_deref().is_some_and(|v| written.contains(&v)))
                .count();
            assert!(
                (low..=high).contains(&holding),
                "{data_type} {name} at scale {scale}: {holding} of {} rows (expected {low} to {high})",
                rows.len()
            );
        }
    }
}

/// Issue 34: mostly distinct text whose frequent values repeat (a code column: 5,000 distinct
/// values in 5,900 rows, one of them in 600 rows) is seeded with those repeats at their
/// shares — the most common value's share within a point, values that repeat — and the rest
/// distinct, not as 5,900 distinct values.
#[test]
fn repeated_values_of_mostly_distinct_text_are_seeded() {
    let snap = snap("production", "17.2")
        .table("public.t", &[("code", "text")])
        .profile("public.t", 5900)
        .measured("public.t", "code", ValueKind::Text, 0, |c| {
            c.length_chars = quantiles(6.0, 12.0);
            c.length_bytes = quantiles(6.0, 12.0);
            c.classes = [("ascii_only".to_string(), 5900)].into();
            c.distinct = Some(exact(5000.0));
            c.top = [600u64, 200, 100, 2, 2]
                .iter()
                .enumerate()
                .map(|(i, n)| pgparity::snapshot::TopValue {
                    hash: pgparity::snapshot::ValueHash(i as u64),
                    count: *n,
                    raw: None,
                })
                .collect();
        })
        .build();
    let rows = seeded_rows(&snap, 1.0);
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for r in &rows {
        *counts.entry(r[0].as_deref().unwrap()).or_default() += 1;
    }
    let mut by: Vec<usize> = counts.values().copied().collect();
    by.sort_unstable_by(|a, b| b.cmp(a));
    let top = by[0] as f64 / rows.len() as f64;
    assert!(
        (top - 600.0 / 5900.0).abs() < 0.01,
        "top share {top}: {:?}",
        &by[..5]
    );
    assert!(by[1] > 100 && by[2] > 40, "{:?}", &by[..5]);
    assert!(counts.len() > 4500, "{} distinct", counts.len());
}
