//! Schema drift, driven by the catalog object declarations (`snapshot::objects`): each kind's
//! objects matched by key, said when on one side only, and each declared attribute compared.
//! Indexes and constraints are matched by what they do (definition without the name) before by
//! name, so a renamed index is not "missing"; the public schema's initdb privileges, which
//! moved in PostgreSQL 15, are said as a version default.

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};

use super::{each_key, Sides};
use crate::finding::{Category, Finding, Severity};
use crate::snapshot::objects::{self, Attribute, Kind, Majors};
use crate::snapshot::{Column, Constraint, ConstraintKind, Index, Table};

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

/// The two sides' majors, for the attributes that tell a version's default from drift.
fn majors(s: &Sides) -> Majors {
    Majors {
        left: s.left.inventory.server_version_num / 10000,
        right: s.right.inventory.server_version_num / 10000,
    }
}

/// One kind's objects on both sides, matched by key: on one side only, or each declared
/// attribute that differs. `object` names a key in the findings.
fn kind<T, K: Ord + AsRef<str>, V: Borrow<T>>(
    s: &Sides,
    out: &mut Vec<Finding>,
    kind: &Kind<T>,
    (l, r): (&BTreeMap<K, V>, &BTreeMap<K, V>),
    object: impl Fn(&str) -> String,
    mut both: impl FnMut(&mut Vec<Finding>, &str, &T, &T),
) {
    each_key(l, r, |key, a, b| {
        let name = object(key.as_ref());
        match (a.map(Borrow::borrow), b.map(Borrow::borrow)) {
            (Some(a), Some(b)) => {
                attributes(s, out, kind, &name, a, b);
                both(out, &name, a, b);
            }
            (Some(_), None) | (None, Some(_)) if !kind.missing.said => {}
            (Some(x), None) | (None, Some(x)) => {
                let noun = kind.missing.noun.map_or(kind.noun.to_string(), |f| f(x));
                presence(
                    s,
                    out,
                    kind.missing.severity,
                    &noun,
                    &name,
                    kind.missing.detail.map(|f| f(x)),
                    a.is_some(),
                    kind.missing.why,
                )
            }
            (None, None) => {}
        }
    });
}

/// A kind whose objects are named by their keys and hold nothing compared apart.
fn plain<T>(
    s: &Sides,
    out: &mut Vec<Finding>,
    k: &Kind<T>,
    maps: (&BTreeMap<String, T>, &BTreeMap<String, T>),
) {
    kind(s, out, k, maps, str::to_string, |_, _, _, _| {});
}

/// A finding for each declared attribute of `kind` on which `a` and `b` differ.
fn attributes<T>(s: &Sides, out: &mut Vec<Finding>, kind: &Kind<T>, object: &str, a: &T, b: &T) {
    for at in kind.attributes {
        attribute(s, out, at, object, a, b);
    }
}

pub fn compare(s: &Sides, out: &mut Vec<Finding>) {
    let (l, r) = (&s.left.schema, &s.right.schema);
    let m = majors(s);
    let from = out.len();
    kind(
        s,
        out,
        &objects::SCHEMAS,
        (&l.schemas, &r.schemas),
        |k| format!("schema:{k}"),
        |_, _, _, _| {},
    );
    // Each side holds its own major's initdb privileges on `public`: a version default that
    // moved, said as such (like a setting default), not as drift.
    if let (Some(a), Some(b)) = (l.schemas.get("public"), r.schemas.get("public")) {
        if m.left != m.right
            && objects::default_public_acl(m.left, &a.acl)
            && objects::default_public_acl(m.right, &b.acl)
        {
            let (la, ra) = (a.acl.join(" "), b.acl.join(" "));
            if let Some(f) = out[from..]
                .iter_mut()
                .find(|f| f.id == Finding::id_of(Category::Schema, "schema:public", "grants"))
            {
                *f = Finding::new(Category::Version, Severity::Low, "schema:public", "grants")
                    .values(Some(&la), Some(&ra))
                    .message(format!(
                        "schema public: each side has its version's default privileges ({la} in {} vs {ra} in {}): PostgreSQL 15 revoked CREATE on it from PUBLIC",
                        s.left_name, s.right_name
                    ))
                    .why("code that creates objects in schema public as a non-owner works on PostgreSQL 14 and older and fails on 15 and newer")
                    .hint("GRANT CREATE ON SCHEMA public TO the roles that need it on the newer side, or revoke it on the older");
            }
        }
    }
    kind(
        s,
        out,
        &objects::TABLES,
        (&l.tables, &r.tables),
        str::to_string,
        |out, name, a, b| {
            fn columns(t: &Table) -> BTreeMap<&str, &Column> {
                t.columns.iter().map(|c| (c.name.as_str(), c)).collect()
            }
            kind(
                s,
                out,
                &objects::COLUMNS,
                (&columns(a), &columns(b)),
                |col| format!("{name}.{}", crate::sql::ident(col)),
                |_, _, _, _| {},
            );
        },
    );
    indexes(s, out);
    constraints(s, out);
    plain(s, out, &objects::VIEWS, (&l.views, &r.views));
    plain(s, out, &objects::SEQUENCES, (&l.sequences, &r.sequences));
    plain(s, out, &objects::TRIGGERS, (&l.triggers, &r.triggers));
    plain(s, out, &objects::FUNCTIONS, (&l.functions, &r.functions));
    plain(s, out, &objects::POLICIES, (&l.policies, &r.policies));
    plain(s, out, &objects::TYPES, (&l.types, &r.types));
    for k in objects::OTHERS {
        // Each class's objects, borrowed: `Schema::others` holds them all.
        let class = |m| -> BTreeMap<&String, &objects::Other> {
            BTreeMap::<String, objects::Other>::iter(m)
                .filter(|(key, _)| objects::holds(k, key))
                .collect()
        };
        kind(
            s,
            out,
            k,
            (&class(&l.others), &class(&r.others)),
            str::to_string,
            |_, _, _, _| {},
        );
    }
}

fn indexes(s: &Sides, out: &mut Vec<Finding>) {
    let kind = &objects::INDEXES;
    let m = majors(s);
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
            let at = kind.attribute("invalid");
            if let Some((x, y)) = at.differs(m, &a.1, &b.1) {
                let (name, on_left) = if a.1.valid {
                    (&b.0, false)
                } else {
                    (&a.0, true)
                };
                out.push(
                    schema_finding(at.severity, name, at.aspect)
                        .values(Some(x), Some(y))
                        .message(format!(
                            "index {name} is invalid in {} (a failed CREATE INDEX CONCURRENTLY)",
                            s.name(on_left)
                        ))
                        .why(at.why)
                        .hint(format!(
                            "REINDEX INDEX CONCURRENTLY {name} in {}",
                            s.name(on_left)
                        )),
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
    each_key(&unmatched_l, &unmatched_r, |name, a, b| match (a, b) {
        (Some(a), Some(b)) => attribute(s, out, kind.attribute("definition"), name, a, b),
        (Some(i), None) | (None, Some(i)) => {
            let on_left = a.is_some();
            let d = Some(i.definition.clone());
            let (lv, rv) = if on_left { (d, None) } else { (None, d) };
            out.push(
                schema_finding(kind.missing.severity, name, "missing")
                    .values(lv, rv)
                    .message(format!(
                        "index {name} on {} exists {}: {}",
                        i.table,
                        s.only_in(on_left),
                        i.shape()
                    ))
                    .why(if i.unique {
                        objects::UNIQUE_MISSING
                    } else {
                        kind.missing.why
                    })
                    .hint(format!(
                        "{} in {}",
                        kind.ddl(name, i).unwrap_or_default(),
                        s.name(!on_left)
                    )),
            );
        }
        (None, None) => {}
    });
}

/// One declared attribute compared, a finding when it differs.
fn attribute<T>(s: &Sides, out: &mut Vec<Finding>, at: &Attribute<T>, object: &str, a: &T, b: &T) {
    if let Some((x, y)) = at.differs(majors(s), a, b) {
        changed(
            s,
            out,
            at.severity,
            object,
            at.aspect,
            at.label,
            x,
            y,
            at.why,
        );
    }
}

fn constraints(s: &Sides, out: &mut Vec<Finding>) {
    let kind = &objects::CONSTRAINTS;
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
            // Same definition: what else a constraint declares.
            for at in kind
                .attributes
                .iter()
                .filter(|at| at.aspect != "definition")
            {
                attribute(s, out, at, ka, &lc[ka], &rc[kb]);
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
            (Some(a), Some(b)) => {
                // The definition in the words of the constraint's sort.
                let sort = a.kind.sort();
                let at = kind.attribute("definition");
                if let Some((x, y)) = at.differs(majors(s), a, b) {
                    changed(
                        s,
                        out,
                        sort.severity,
                        &key,
                        at.aspect,
                        sort.noun,
                        x,
                        y,
                        sort.why,
                    );
                }
            }
            (Some(c), None) | (None, Some(c)) => {
                let on_left = unmatched_l.contains(&key);
                let sort = c.kind.sort();
                let d = Some(c.definition.clone());
                let (lv, rv) = if on_left { (d, None) } else { (None, d) };
                out.push(
                    schema_finding(sort.severity, &key, "missing")
                        .values(lv, rv)
                        .message(format!(
                            "{} {} on {} exists {}: {}",
                            sort.noun,
                            c.name,
                            c.table,
                            s.only_in(on_left),
                            c.definition
                        ))
                        .why(sort.why)
                        .hint(format!(
                            "{} in {}",
                            kind.ddl(&key, c).unwrap_or_default(),
                            s.name(!on_left)
                        )),
                );
            }
            (None, None) => {}
        }
    }
}
