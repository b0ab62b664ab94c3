//! Row level security policies.

use serde::{Deserialize, Serialize};

use super::{fixed, len, put, Attribute, Key, Kind, Missing, Seed};
use crate::severity::Severity;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Policy {
    pub table: String,
    pub command: String,
    pub permissive: bool,
    pub roles: Vec<String>,
    pub using: Option<String>,
    pub with_check: Option<String>,
}

const SELECT: &str = concat!(
    "SELECT format('%I.%I', n.nspname, c.relname) AS table, pol.polname AS name, \
     CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' \
       WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS command, pol.polpermissive AS permissive, \
     coalesce((SELECT array_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END \
       ORDER BY CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END COLLATE \"C\") \
       FROM unnest(pol.polroles) r), '{}') AS roles, \
     pg_get_expr(pol.polqual, pol.polrelid) AS using, pg_get_expr(pol.polwithcheck, pol.polrelid) AS with_check \
     FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE ",
    super::user_ns!()
);

const WHY: &str = "users see or may change other rows on each side: authorization bugs hide here";

pub static POLICIES: Kind<Policy> = Kind {
    noun: "row level security policy",
    plural: "row level security policies",
    area: "schema.policies",
    reads: &[
        "pg_policy.polname",
        "pg_policy.polrelid",
        "pg_policies.policyname",
    ],
    select: |_| fixed(SELECT),
    key: Key::Named(|name, p| format!("{}.{}", p.table, crate::sql::ident(name))),
    tidy: None,
    missing: Missing {
        said: true,
        severity: Severity::High,
        why: WHY,
        noun: None,
        detail: Some(text),
    },
    attributes: &[Attribute {
        aspect: "definition",
        reads: &[
            "pg_policy.polcmd",
            "pg_policy.polpermissive",
            "pg_policy.polroles",
            "pg_policy.polqual",
            "pg_policy.polwithcheck",
        ],
        label: "row level security policy",
        severity: Severity::High,
        why: WHY,
        shown: |p| text(p).into(),
        same: Some(|_, a, b| a == b),
        hidden: None,
        plant: |p| p.roles = vec!["app".into()],
    }],
    seed: Seed::Not("the roles it names may not exist in the target; create it from its migration"),
    count: |s| len(&s.policies),
    example: || {
        (
            "public.planted.planted_policy".into(),
            Policy {
                table: "public.planted".into(),
                command: "SELECT".into(),
                permissive: true,
                roles: vec!["public".into()],
                using: Some("(id > 0)".into()),
                with_check: None,
            },
        )
    },
    place: |s, p| put(&mut s.policies, p),
};

/// A policy in words: `permissive SELECT to app using (...) check (...)`.
fn text(p: &Policy) -> String {
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
