//! Schemas (namespaces): their owner and privileges.

use serde::{Deserialize, Serialize};

use super::{fixed, len, put, Attribute, Key, Kind, Missing, Seed};
use crate::severity::Severity;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Namespace {
    pub owner: String,
    /// Privileges as aclitems; empty when they are the owner's defaults (no ACL, or one
    /// written out equal to `acldefault`, as a REVOKE or DROP OWNED leaves it): compared by
    /// what they grant, not how the catalog spells them.
    pub acl: Vec<String>,
}

const SELECT: &str = concat!(
    "SELECT quote_ident(n.nspname) AS name, pg_get_userbyid(n.nspowner) AS owner, \
     CASE WHEN n.nspacl IS NULL OR n.nspacl = acldefault('n', n.nspowner) THEN '{}' ELSE n.nspacl::text[] END AS acl \
     FROM pg_namespace n WHERE ",
    super::user_ns!(),
    " AND ",
    super::not_extension_member!("pg_namespace", "n.oid")
);

pub static SCHEMAS: Kind<Namespace> = Kind {
    noun: "schema",
    plural: "schemas",
    area: "schema.schemas",
    reads: &["pg_namespace.nspname"],
    select: |_| fixed(SELECT),
    key: Key::Name,
    tidy: Some(|n| n.acl.sort()),
    missing: Missing {
        said: true,
        severity: Severity::Medium,
        why: "objects and search_path resolution in that schema exist on one side only",
        noun: None,
        detail: None,
    },
    attributes: &[Attribute {
        aspect: "grants",
        reads: &["pg_namespace.nspacl"],
        label: "privileges",
        severity: Severity::Medium,
        why: "permission errors (or missing ones) show up only on one side",
        shown: |n| n.acl.join(" ").into(),
        same: Some(|m, a, b| super::same_acl(m, &a.acl, &b.acl)),
        hidden: None,
        plant: |n| n.acl.push("reader=U/app_owner".into()),
    }],
    seed: Seed::Before(|name, _| create(name)),
    count: |s| len(&s.schemas),
    example: || {
        (
            "app".into(),
            Namespace {
                owner: "app_owner".into(),
                acl: vec!["app_owner=UC/app_owner".into()],
            },
        )
    },
    place: |s, n| put(&mut s.schemas, n),
};

/// The statement that makes a schema (seed makes every schema its tables, types and
/// sequences name).
pub fn create(name: &str) -> String {
    format!("CREATE SCHEMA IF NOT EXISTS {name}")
}

/// The `public` schema's initdb privileges on a major: PUBLIC lost CREATE on it in 15 and its
/// owner became pg_database_owner. Each side holding its own version's default is no drift.
pub fn default_public_acl(major: i32, acl: &[String]) -> bool {
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

#[cfg(test)]
mod tests {
    #[test]
    fn public_schema_defaults_per_major() {
        use super::default_public_acl;
        let acl = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
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
}
