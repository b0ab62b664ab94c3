//! Schema drift: tables, columns, indexes, constraints, views, sequences, triggers, functions,
//! row level security, grants and user types. Indexes and constraints are matched by what
//! they do (definition without the name) before by name, so a renamed index is not "missing".

use std::collections::{BTreeMap, BTreeSet};

use super::{each_key, Sides};
use crate::finding::{Category, Finding, Severity};
use crate::snapshot::{Constraint, ConstraintKind, Index, Table};

fn schema_finding(sev: Severity, object: &str, aspect: &str) -> Finding {
    Finding::new(Category::Schema, sev, object, aspect)
}

/// Pushes "X exists only in one side" findings.
#[expect(
    clippy::too_many_arguments,
    reason = "a finding's fields, named at each call site"
)]
fn presence(
    s: &Sides,
    out: &mut Vec<Finding>,
    sev: Severity,
    what: &str,
    object: &str,
    detail: Option<String>,
    on_left: bool,
    why: &str,
) {
    let d = detail.clone().or_else(|| Some("present".into()));
    let (lv, rv) = if on_left { (d, None) } else { (None, d) };
    out.push(
        schema_finding(sev, object, "missing")
            .values(lv, rv)
            .message(format!(
                "{what} {object} exists {}{}",
                s.only_in(on_left),
                detail.map(|d| format!(": {d}")).unwrap_or_default()
            ))
            .why(why)
            .hint(format!(
                "apply the same migration to {} (or drop it from {})",
                s.name(!on_left),
                s.name(on_left)
            )),
    );
}

#[expect(
    clippy::too_many_arguments,
    reason = "a finding's fields, named at each call site"
)]
fn changed(
    s: &Sides,
    out: &mut Vec<Finding>,
    sev: Severity,
    object: &str,
    aspect: &str,
    label: &str,
    l: String,
    r: String,
    why: &str,
) {
    out.push(
        schema_finding(sev, object, aspect)
            .values(Some(&l), Some(&r))
            .message(format!(
                "{object}: {label} differs: {l} in {} vs {r} in {}",
                s.left_name, s.right_name
            ))
            .why(why)
            .hint(format!(
                "run the migration that brings {} in line with {}",
                s.left_name, s.right_name
            )),
    );
}

/// Privileges as both versions can express them. Privilege letters a newer major added are
/// dropped from the other side's entries when one side's major predates them (MAINTAIN, `m`,
/// exists from 17: the owner's implicit privileges show it there and cannot on 16), and an
/// entry left with no privilege goes too. Version noise, like a setting default that moved.
fn comparable_acl(acl: &[String], other_major: i32) -> Vec<String> {
    // (letter, first major that has it)
    const NEWER: &[(char, i32)] = &[('m', 17)];
    let drop: Vec<char> = NEWER
        .iter()
        .filter(|(_, since)| other_major < *since)
        .map(|(c, _)| *c)
        .collect();
    if drop.is_empty() {
        return acl.to_vec();
    }
    let mut out: Vec<String> = acl
        .iter()
        .filter_map(|item| {
            let (grantee, rest) = item.split_once('=')?;
            let (privs, grantor) = rest.split_once('/').unwrap_or((rest, ""));
            let mut kept = String::new();
            let mut chars = privs.chars().peekable();
            while let Some(c) = chars.next() {
                let option = chars.next_if_eq(&'*').is_some();
                if !drop.contains(&c) {
                    kept.push(c);
                    if option {
                        kept.push('*');
                    }
                }
            }
            (!kept.is_empty()).then(|| format!("{grantee}={kept}/{grantor}"))
        })
        .collect();
    out.sort();
    out
}

/// Whether two ACLs grant the same privileges, once each side is read in the terms of the
/// other side's major.
fn same_acl(s: &Sides, a: &[String], b: &[String]) -> bool {
    let (ma, mb) = (
        s.left.inventory.server_version_num / 10000,
        s.right.inventory.server_version_num / 10000,
    );
    comparable_acl(a, mb) == comparable_acl(b, ma)
}

/// The `public` schema's initdb privileges on a major: PUBLIC lost CREATE on it in 15 and its
/// owner became pg_database_owner. Each side holding its own version's default is no drift.
fn default_public_acl(major: i32, acl: &[String]) -> bool {
    let mut acl = acl.to_vec();
    acl.sort();
    if major >= 15 {
        acl == [
            "=U/pg_database_owner",
            "pg_database_owner=UC/pg_database_owner",
        ]
    } else {
        acl.len() == 2
            && acl.iter().any(|x| x.starts_with("=UC/"))
            && acl
                .iter()
                .any(|x| x.contains("=UC/") && !x.starts_with('='))
    }
}

pub fn compare(s: &Sides, out: &mut Vec<Finding>) {
    let (l, r) = (&s.left.schema, &s.right.schema);
    let (ml, mr) = (
        s.left.inventory.server_version_num / 10000,
        s.right.inventory.server_version_num / 10000,
    );
    each_key(&l.schemas, &r.schemas, |name, a, b| match (a, b) {
        // Each side holds its own major's initdb privileges on `public`: a version default
        // that moved, said as such (like a setting default), not as drift.
        (Some(a), Some(b))
            if !same_acl(s, &a.acl, &b.acl)
                && name == "public"
                && ml != mr
                && default_public_acl(ml, &a.acl)
                && default_public_acl(mr, &b.acl) =>
        {
            let (l, r) = (a.acl.join(" "), b.acl.join(" "));
            out.push(
                Finding::new(Category::Version, Severity::Low, format!("schema:{name}"), "grants")
                    .values(Some(&l), Some(&r))
                    .message(format!(
                        "schema public: each side has its version's default privileges ({l} in {} vs {r} in {}): PostgreSQL 15 revoked CREATE on it from PUBLIC",
                        s.left_name, s.right_name
                    ))
                    .why("code that creates objects in schema public as a non-owner works on PostgreSQL 14 and older and fails on 15 and newer")
                    .hint("GRANT CREATE ON SCHEMA public TO the roles that need it on the newer side, or revoke it on the older"),
            )
        }
        (Some(a), Some(b)) if !same_acl(s, &a.acl, &b.acl) => changed(
            s,
            out,
            Severity::Medium,
            &format!("schema:{name}"),
            "grants",
            "privileges",
            a.acl.join(" "),
            b.acl.join(" "),
            "permission errors (or missing ones) show up only on one side",
        ),
        (Some(_), None) | (None, Some(_)) => presence(
            s,
            out,
            Severity::Medium,
            "schema",
            &format!("schema:{name}"),
            None,
            a.is_some(),
            "objects and search_path resolution in that schema exist on one side only",
        ),
        _ => {}
    });
    each_key(&l.tables, &r.tables, |name, a, b| match (a, b) {
        (Some(a), Some(b)) => tables(s, out, name, a, b),
        (Some(_), None) | (None, Some(_)) => presence(
            s,
            out,
            Severity::High,
            "table",
            name,
            None,
            a.is_some(),
            "queries and code that use the table fail on the side that lacks it",
        ),
        _ => {}
    });
    indexes(s, out);
    constraints(s, out);
    each_key(&l.views, &r.views, |name, a, b| match (a, b) {
        (Some(a), Some(b)) => {
            let norm = |d: &str| {
                unqualified(d)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            if a.materialized != b.materialized {
                changed(
                    s,
                    out,
                    Severity::Medium,
                    name,
                    "materialized",
                    "kind",
                    kind_view(a.materialized),
                    kind_view(b.materialized),
                    "a materialized view serves stale data until refreshed",
                );
            } else if norm(&a.definition) != norm(&b.definition) {
                changed(
                    s,
                    out,
                    Severity::Medium,
                    name,
                    "definition",
                    "view definition",
                    "(one definition)".into(),
                    "(another definition)".into(),
                    "the view returns different rows or columns on each side",
                );
            }
        }
        (Some(v), None) | (None, Some(v)) => presence(
            s,
            out,
            Severity::High,
            kind_view(v.materialized).as_str(),
            name,
            None,
            a.is_some(),
            "queries that read the view fail on the side that lacks it",
        ),
        _ => {}
    });
    each_key(&l.sequences, &r.sequences, |name, a, b| match (a, b) {
        // The definition, not where the sequence has got to (data: see data/headroom.rs).
        (Some(a), Some(b))
            if (&a.data_type, a.start, a.increment, a.min, a.max, a.cycle)
                != (&b.data_type, b.start, b.increment, b.min, b.max, b.cycle) =>
        {
            changed(
                s,
                out,
                Severity::Low,
                name,
                "definition",
                "sequence",
                format!(
                    "{} start {} step {} max {}",
                    a.data_type, a.start, a.increment, a.max
                ),
                format!(
                    "{} start {} step {} max {}",
                    b.data_type, b.start, b.increment, b.max
                ),
                "a smaller sequence type or range runs out (or wraps) on one side first",
            )
        }
        (Some(_), None) | (None, Some(_)) => presence(
            s,
            out,
            Severity::Medium,
            "sequence",
            name,
            None,
            a.is_some(),
            "code that calls nextval on it fails on the side that lacks it",
        ),
        _ => {}
    });
    each_key(&l.triggers, &r.triggers, |name, a, b| {
        match (a, b) {
        (Some(a), Some(b)) => {
            if a.definition != b.definition {
                changed(s, out, Severity::Medium, name, "definition", "trigger", a.definition.clone(), b.definition.clone(),
                    "the trigger fires on other events or calls another function on each side");
            }
            if a.enabled != b.enabled {
                changed(s, out, Severity::High, name, "enabled", "trigger enabled state", trigger_state(&a.enabled), trigger_state(&b.enabled),
                    "side effects of the trigger (audit rows, derived columns) happen on one side only");
            }
        }
        (Some(t), None) | (None, Some(t)) => presence(s, out, Severity::High, "trigger", name, Some(t.definition.clone()), a.is_some(),
            "side effects of the trigger (audit rows, derived columns, rejections) happen on one side only"),
        _ => {}
    }
    });
    each_key(&l.functions, &r.functions, |name, a, b| match (a, b) {
        (Some(a), Some(b)) => {
            let sig = |f: &crate::snapshot::Function| {
                format!(
                    "returns {} language {} volatility {}{}",
                    f.result.clone().unwrap_or_default(),
                    f.language,
                    f.volatility,
                    if f.security_definer {
                        " security definer"
                    } else {
                        ""
                    }
                )
            };
            if sig(a) != sig(b) {
                changed(s, out, Severity::Medium, name, "signature", "function", sig(a), sig(b),
                    "the function returns another type, or runs with other rights or volatility (which changes plans)");
            }
            if a.body_md5 != b.body_md5 {
                changed(
                    s,
                    out,
                    Severity::Medium,
                    name,
                    "body",
                    "function body",
                    "(one body)".into(),
                    "(another body)".into(),
                    "the function does something else on each side",
                );
            }
        }
        (Some(_), None) | (None, Some(_)) => presence(
            s,
            out,
            Severity::High,
            "function",
            name,
            None,
            a.is_some(),
            "calls to the function fail on the side that lacks it",
        ),
        _ => {}
    });
    each_key(&l.policies, &r.policies, |name, a, b| match (a, b) {
        (Some(a), Some(b)) if a != b => changed(
            s,
            out,
            Severity::High,
            name,
            "definition",
            "row level security policy",
            policy_text(a),
            policy_text(b),
            "users see or may change other rows on each side: authorization bugs hide here",
        ),
        (Some(p), None) | (None, Some(p)) => presence(
            s,
            out,
            Severity::High,
            "row level security policy",
            name,
            Some(policy_text(p)),
            a.is_some(),
            "users see or may change other rows on each side: authorization bugs hide here",
        ),
        _ => {}
    });
    each_key(&l.types, &r.types, |name, a, b| match (a, b) {
        (Some(a), Some(b)) => {
            if a.labels != b.labels {
                changed(s, out, Severity::High, name, "labels", "enum label list", a.labels.join(", "), b.labels.join(", "),
                    "a value valid on one side is rejected on the other, and enum sort order follows the label order");
            }
            if a.base_type != b.base_type || a.not_null != b.not_null || a.checks != b.checks {
                let show = |t: &crate::snapshot::TypeDef| {
                    format!(
                        "{}{} {}",
                        t.base_type.clone().unwrap_or_default(),
                        if t.not_null { " not null" } else { "" },
                        t.checks.join(" ")
                    )
                    .trim()
                    .to_string()
                };
                changed(
                    s,
                    out,
                    Severity::High,
                    name,
                    "domain",
                    "domain",
                    show(a),
                    show(b),
                    "values accepted by the domain on one side are rejected on the other",
                );
            }
        }
        (Some(t), None) | (None, Some(t)) => presence(
            s,
            out,
            Severity::High,
            t.kind.as_str(),
            name,
            None,
            a.is_some(),
            "columns and casts that use the type fail on the side that lacks it",
        ),
        _ => {}
    });
}

/// A view definition without `name.` qualifiers: PostgreSQL 16 stopped qualifying column
/// names in pg_get_viewdef, so the same view reads differently on 15 and 17.
fn unqualified(def: &str) -> String {
    let mut out = String::with_capacity(def.len());
    let mut word = String::new();
    let mut in_string = false;
    for c in def.chars() {
        if in_string {
            out.push(c);
            in_string = c != '\'';
            continue;
        }
        if c.is_alphanumeric() || c == '_' || c == '"' {
            word.push(c);
            continue;
        }
        let qualifier = c == '.' && word.chars().next().is_some_and(|f| !f.is_ascii_digit());
        if !qualifier {
            out.push_str(&word);
            out.push(c);
        }
        word.clear();
        in_string = c == '\'';
    }
    out.push_str(&word);
    out
}

fn kind_view(materialized: bool) -> String {
    if materialized {
        "materialized view".into()
    } else {
        "view".into()
    }
}

fn trigger_state(s: &str) -> String {
    match s {
        "O" => "enabled",
        "D" => "disabled",
        "R" => "replica only",
        "A" => "always",
        other => other,
    }
    .into()
}

fn policy_text(p: &crate::snapshot::Policy) -> String {
    format!(
        "{} {} to {}{}{}",
        if p.permissive {
            "permissive"
        } else {
            "restrictive"
        },
        p.command,
        p.roles.join(", "),
        p.using
            .as_ref()
            .map(|u| format!(" using {u}"))
            .unwrap_or_default(),
        p.with_check
            .as_ref()
            .map(|c| format!(" check {c}"))
            .unwrap_or_default()
    )
}

fn tables(s: &Sides, out: &mut Vec<Finding>, name: &str, a: &Table, b: &Table) {
    if a.kind != b.kind {
        changed(
            s,
            out,
            Severity::High,
            name,
            "kind",
            "table kind",
            a.kind.to_string(),
            b.kind.to_string(),
            "partitioning changes plans (pruning), constraints and what DDL is allowed",
        );
    }
    if a.partition_key != b.partition_key && a.kind == b.kind {
        changed(
            s,
            out,
            Severity::High,
            name,
            "partition_key",
            "partition key",
            a.partition_key.clone().unwrap_or_default(),
            b.partition_key.clone().unwrap_or_default(),
            "partition pruning and unique constraints follow the partition key",
        );
    }
    if a.persistence != b.persistence {
        changed(
            s,
            out,
            Severity::Medium,
            name,
            "persistence",
            "persistence",
            a.persistence.clone(),
            b.persistence.clone(),
            "an unlogged table is emptied after a crash and not replicated",
        );
    }
    if a.rls_enabled != b.rls_enabled || a.rls_forced != b.rls_forced {
        let rls = |t: &Table| {
            match (t.rls_enabled, t.rls_forced) {
                (false, _) => "disabled",
                (true, false) => "enabled",
                (true, true) => "enabled and forced",
            }
            .to_string()
        };
        changed(s, out, Severity::High, name, "rls", "row level security", rls(a), rls(b),
            "with row level security on one side only, queries return other rows: authorization bugs hide here");
    }
    if !same_acl(s, &a.acl, &b.acl) {
        changed(
            s,
            out,
            Severity::Medium,
            name,
            "grants",
            "privileges",
            a.acl.join(" "),
            b.acl.join(" "),
            "permission errors (or missing ones) show up only on one side",
        );
    }
    let ac: BTreeMap<&str, &crate::snapshot::Column> =
        a.columns.iter().map(|c| (c.name.as_str(), c)).collect();
    let bc: BTreeMap<&str, &crate::snapshot::Column> =
        b.columns.iter().map(|c| (c.name.as_str(), c)).collect();
    each_key(&ac, &bc, |col, x, y| {
        let object = format!("{name}.{}", crate::sql::ident(col));
        match (x, y) {
            (Some(x), Some(y)) => {
                if x.data_type != y.data_type {
                    changed(s, out, Severity::High, &object, "type", "type", x.data_type.clone(), y.data_type.clone(),
                        "values, lengths, precision and operators differ: data valid on one side overflows or is truncated on the other");
                }
                if x.not_null != y.not_null {
                    let n = |c: &crate::snapshot::Column| {
                        if c.not_null { "NOT NULL" } else { "nullable" }.to_string()
                    };
                    changed(s, out, Severity::High, &object, "nullable", "nullability", n(x), n(y),
                        "NULLs accepted on one side are rejected on the other; code never tested with NULL breaks where they appear");
                }
                if x.default != y.default {
                    let d = |c: &crate::snapshot::Column| {
                        c.default.clone().unwrap_or_else(|| "(no default)".into())
                    };
                    changed(
                        s,
                        out,
                        Severity::Medium,
                        &object,
                        "default",
                        "default",
                        d(x),
                        d(y),
                        "inserts that omit the column store other values on each side",
                    );
                }
                if x.collation != y.collation {
                    let d = |c: &crate::snapshot::Column| {
                        c.collation.clone().unwrap_or_else(|| "(default)".into())
                    };
                    changed(
                        s,
                        out,
                        Severity::High,
                        &object,
                        "collation",
                        "collation",
                        d(x),
                        d(y),
                        "sort order, comparisons and index use on the column differ",
                    );
                }
                if x.identity != y.identity || x.generated != y.generated {
                    let d = |c: &crate::snapshot::Column| {
                        use crate::snapshot::{Generated, Identity};
                        match (c.identity, c.generated) {
                            (Identity::Always, _) => "identity always",
                            (Identity::ByDefault, _) => "identity by default",
                            (_, Generated::Stored) => "generated stored",
                            (_, Generated::Virtual) => "generated virtual",
                            _ => "plain",
                        }
                        .to_string()
                    };
                    changed(s, out, Severity::Medium, &object, "generation", "identity/generation", d(x), d(y),
                        "inserts that set the column explicitly succeed on one side and fail on the other");
                }
            }
            (Some(c), None) | (None, Some(c)) => presence(
                s,
                out,
                Severity::High,
                "column",
                &object,
                Some(c.data_type.clone()),
                x.is_some(),
                "queries that use the column fail on the side that lacks it",
            ),
            (None, None) => {}
        }
    });
}

fn indexes(s: &Sides, out: &mut Vec<Finding>) {
    // Indexes behind a constraint are reported with their constraint.
    let plain = |m: &'_ BTreeMap<String, Index>| -> BTreeMap<(String, String), (String, Index)> {
        m.iter()
            .filter(|(_, i)| i.constraint.is_none())
            .map(|(n, i)| ((i.table.clone(), i.shape()), (n.clone(), i.clone())))
            .collect()
    };
    let (l, r) = (
        plain(&s.left.schema.indexes),
        plain(&s.right.schema.indexes),
    );
    let mut unmatched_l: BTreeMap<String, Index> = BTreeMap::new();
    let mut unmatched_r: BTreeMap<String, Index> = BTreeMap::new();
    each_key(&l, &r, |_, a, b| match (a, b) {
        (Some(a), Some(b)) => {
            if a.1.valid != b.1.valid {
                let v = |i: &Index| if i.valid { "valid" } else { "INVALID" }.to_string();
                let (name, on_left) = if a.1.valid {
                    (&b.0, false)
                } else {
                    (&a.0, true)
                };
                out.push(
                    schema_finding(Severity::High, name, "invalid")
                        .values(Some(v(&a.1)), Some(v(&b.1)))
                        .message(format!("index {name} is invalid in {} (a failed CREATE INDEX CONCURRENTLY)", s.name(on_left)))
                        .why("an invalid index is maintained on writes but never used by the planner: plans differ and writes pay for nothing")
                        .hint(format!("REINDEX INDEX CONCURRENTLY {name} in {}", s.name(on_left))),
                );
            }
        }
        (Some(a), None) => {
            unmatched_l.insert(a.0.clone(), a.1.clone());
        }
        (None, Some(b)) => {
            unmatched_r.insert(b.0.clone(), b.1.clone());
        }
        (None, None) => {}
    });
    each_key(
        &unmatched_l.clone(),
        &unmatched_r.clone(),
        |name, a, b| match (a, b) {
            (Some(a), Some(b)) => changed(
                s,
                out,
                Severity::High,
                name,
                "definition",
                "index definition",
                a.shape(),
                b.shape(),
                "the planner can use the index for other queries on each side: plans differ",
            ),
            (Some(i), None) | (None, Some(i)) => {
                let on_left = a.is_some();
                let d = Some(i.definition.clone());
                let (lv, rv) = if on_left { (d, None) } else { (None, d) };
                out.push(
                schema_finding(Severity::High, name, "missing")
                    .values(lv, rv)
                    .message(format!("index {name} on {} exists {}: {}", i.table, s.only_in(on_left), i.shape()))
                    .why(if i.unique {
                        "a unique index rejects duplicates on one side only, and the planner uses the index on one side only: plans and data rules differ"
                    } else {
                        "the planner can use the index on one side only: a query fast in one environment is a sequential scan in the other"
                    })
                    .hint(format!("{} in {}", i.definition, s.name(!on_left))),
            );
            }
            (None, None) => {}
        },
    );
}

fn constraint_kind(k: &ConstraintKind) -> &'static str {
    match k {
        ConstraintKind::PrimaryKey => "primary key",
        ConstraintKind::Unique => "unique constraint",
        ConstraintKind::ForeignKey => "foreign key",
        ConstraintKind::Check => "check constraint",
        ConstraintKind::Exclusion => "exclusion constraint",
        ConstraintKind::Trigger => "constraint trigger",
    }
}

fn constraint_why(k: &ConstraintKind) -> &'static str {
    match k {
        ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion => "duplicates accepted on one side are rejected on the other, and ON CONFLICT targets exist on one side only",
        ConstraintKind::ForeignKey => "without the foreign key, orphan rows can exist and cascades do not run: code that relies on referential integrity is not exercised",
        ConstraintKind::Check => "values one side accepts are rejected by the other: inserts that pass in staging fail in production",
        ConstraintKind::Trigger => "data rules enforced on one side are not enforced on the other",
    }
}

fn constraints(s: &Sides, out: &mut Vec<Finding>) {
    let by_def =
        |m: &BTreeMap<String, Constraint>| -> BTreeMap<(String, ConstraintKind, String), Vec<String>> {
            let mut x: BTreeMap<(String, ConstraintKind, String), Vec<String>> = BTreeMap::new();
            for (key, c) in m {
                x.entry((c.table.clone(), c.kind, c.definition.clone()))
                    .or_default()
                    .push(key.clone());
            }
            x
        };
    let (lc, rc) = (&s.left.schema.constraints, &s.right.schema.constraints);
    let (ld, rd) = (by_def(lc), by_def(rc));
    let mut unmatched_l = BTreeSet::new();
    let mut unmatched_r = BTreeSet::new();
    each_key(&ld, &rd, |_, a, b| {
        let (a, b) = (
            a.cloned().unwrap_or_default(),
            b.cloned().unwrap_or_default(),
        );
        let n = a.len().min(b.len());
        for (ka, kb) in a.iter().zip(b.iter()).take(n) {
            let (x, y) = (&lc[ka], &rc[kb]);
            if x.validated != y.validated {
                let v = |c: &Constraint| {
                    if c.validated {
                        "validated"
                    } else {
                        "NOT VALID"
                    }
                    .to_string()
                };
                changed(s, out, Severity::Medium, ka, "not_valid", "validation", v(x), v(y),
                    "a NOT VALID constraint does not cover existing rows: old data that breaks the rule exists on one side only");
            }
            if (x.deferrable, x.deferred) != (y.deferrable, y.deferred) {
                let d = |c: &Constraint| {
                    match (c.deferrable, c.deferred) {
                        (false, _) => "not deferrable",
                        (true, false) => "deferrable, immediate",
                        (true, true) => "deferrable, deferred",
                    }
                    .to_string()
                };
                changed(s, out, Severity::Medium, ka, "deferrable", "deferrability", d(x), d(y),
                    "a deferred constraint fails at commit instead of at the statement: error handling differs");
            }
        }
        unmatched_l.extend(a.into_iter().skip(n));
        unmatched_r.extend(b.into_iter().skip(n));
    });
    let keys: BTreeSet<String> = unmatched_l
        .iter()
        .chain(unmatched_r.iter())
        .cloned()
        .collect();
    for key in keys {
        match (
            unmatched_l.contains(&key).then(|| &lc[&key]),
            unmatched_r.contains(&key).then(|| &rc[&key]),
        ) {
            (Some(a), Some(b)) => changed(
                s,
                out,
                if a.kind == ConstraintKind::Trigger {
                    Severity::Medium
                } else {
                    Severity::High
                },
                &key,
                "definition",
                constraint_kind(&a.kind),
                a.definition.clone(),
                b.definition.clone(),
                constraint_why(&a.kind),
            ),
            (Some(c), None) | (None, Some(c)) => {
                let on_left = unmatched_l.contains(&key);
                let d = Some(c.definition.clone());
                let (lv, rv) = if on_left { (d, None) } else { (None, d) };
                out.push(
                    schema_finding(
                        if c.kind == ConstraintKind::Trigger {
                            Severity::Medium
                        } else {
                            Severity::High
                        },
                        &key,
                        "missing",
                    )
                    .values(lv, rv)
                    .message(format!(
                        "{} {} on {} exists {}: {}",
                        constraint_kind(&c.kind),
                        c.name,
                        c.table,
                        s.only_in(on_left),
                        c.definition
                    ))
                    .why(constraint_why(&c.kind))
                    .hint(format!(
                        "ALTER TABLE {} ADD CONSTRAINT {} {} in {}",
                        c.table,
                        crate::sql::ident(&c.name),
                        c.definition,
                        s.name(!on_left)
                    )),
                );
            }
            (None, None) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    // Issue 10: GRANT SELECT on every table of identical databases on 15 and 17 gave one
    // grants finding per table (`postgres=arwdDxt/postgres` vs `postgres=arwdDxtm/postgres`).
    #[test]
    fn maintain_privilege_is_version_noise() {
        use super::{comparable_acl, default_public_acl};
        let acl = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let v17 = acl(&[
            "app=r/postgres",
            "postgres=arwdDxtm/postgres",
            "ops=m*/postgres",
        ]);
        let v15 = acl(&["app=r/postgres", "postgres=arwdDxt/postgres"]);
        assert_eq!(comparable_acl(&v17, 15), v15);
        assert_eq!(comparable_acl(&v17, 17), v17);
        // A real difference stays one.
        let other = acl(&["app=rw/postgres", "postgres=arwdDxt/postgres"]);
        assert_ne!(comparable_acl(&v17, 15), other);
        assert!(default_public_acl(
            15,
            &acl(&[
                "pg_database_owner=UC/pg_database_owner",
                "=U/pg_database_owner"
            ])
        ));
        assert!(default_public_acl(
            13,
            &acl(&["postgres=UC/postgres", "=UC/postgres"])
        ));
        assert!(!default_public_acl(
            15,
            &acl(&[
                "pg_database_owner=UC/pg_database_owner",
                "=UC/pg_database_owner"
            ])
        ));
    }

    #[test]
    fn view_definitions_lose_qualifiers_but_not_numbers_or_strings() {
        assert_eq!(
            super::unqualified("SELECT orders.id, o.total FROM public.orders o WHERE o.total > 100.5 AND x = 'a.b'"),
            "SELECT id, total FROM orders o WHERE total > 100.5 AND x = 'a.b'"
        );
    }
}
