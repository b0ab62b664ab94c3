//! Functions and procedures: their signature, and their body by its md5 (bodies are
//! compared, never stored).

use serde::{Deserialize, Serialize};

use super::{len, or, put, Attribute, Key, Kind, Missing, Seed};
use crate::severity::Severity;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Function {
    pub result: Option<String>,
    pub language: String,
    pub kind: FunctionKind,
    pub volatility: String,
    pub security_definer: bool,
    /// The owning role (absent in older snapshots): compared for SECURITY DEFINER functions,
    /// which run with its rights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// md5 of the source text: bodies are compared, not stored.
    pub body_md5: Option<String>,
    /// What the planner and callers depend on beyond the signature, where not the default:
    /// `strict, leakproof, parallel safe, cost 5, rows 10, search_path=app` ("" for none;
    /// absent in snapshots older than it, and then not compared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<String>,
    /// `pg_get_function_arguments`: names, modes, defaults, VARIADIC (absent in older
    /// snapshots, and then not compared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
    /// EXECUTE privileges as aclitems, sorted; empty when the owner's defaults (absent in
    /// older snapshots, and then not compared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<Vec<String>>,
}

kind!(
    /// pg_proc.prokind.
    FunctionKind {
        Function = "f",
        Procedure = "p",
        Aggregate = "a",
        Window = "w",
    }
);

/// The body's md5: a SQL-standard body (`BEGIN ATOMIC`, PostgreSQL 14+) is in prosqlbody,
/// printed by `pg_get_function_sqlbody`; other bodies are prosrc.
fn select(major: i32) -> std::borrow::Cow<'static, str> {
    let body = if major >= 140000 {
        "md5(coalesce(pg_get_function_sqlbody(p.oid), p.prosrc))"
    } else {
        "md5(p.prosrc)"
    };
    SELECT.replacen("md5(p.prosrc)", body, 1).into()
}

const SELECT: &str = concat!(
    "SELECT format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) AS name, \
     pg_get_function_result(p.oid) AS result, l.lanname AS language, p.prokind::text AS kind, \
     p.provolatile::text AS volatility, p.prosecdef AS security_definer, pg_get_userbyid(p.proowner)::text AS owner, md5(p.prosrc) AS body_md5, \
     pg_get_function_arguments(p.oid) AS arguments, \
     CASE WHEN p.proacl IS NULL OR p.proacl = acldefault('f', p.proowner) THEN '{}' ELSE p.proacl::text[] END AS acl, \
     concat_ws(', ', CASE WHEN p.proisstrict THEN 'strict' END, CASE WHEN p.proleakproof THEN 'leakproof' END, \
       CASE p.proparallel WHEN 's' THEN 'parallel safe' WHEN 'r' THEN 'parallel restricted' END, \
       CASE WHEN p.procost <> CASE WHEN l.lanname IN ('c', 'internal') THEN 1 ELSE 100 END THEN 'cost ' || p.procost END, \
       CASE WHEN p.proretset AND p.prorows <> 1000 THEN 'rows ' || p.prorows END, \
       array_to_string(p.proconfig, ', '), 'support ' || NULLIF(p.prosupport, 0)::regproc) AS properties \
     FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang \
     WHERE ",
    super::user_ns!(),
    " AND ",
    super::not_extension_member!("pg_proc", "p.oid")
);

pub static FUNCTIONS: Kind<Function> = Kind {
    noun: "function",
    plural: "functions",
    area: "schema.functions",
    reads: &["pg_proc.proname", "pg_proc.pronamespace", "pg_proc.proargtypes"],
    select,
    key: Key::Name,
    tidy: Some(|f| {
        if let Some(acl) = &mut f.acl {
            acl.sort();
        }
    }),
    missing: Missing {
        said: true,
        severity: Severity::High,
        why: "calls to the function fail on the side that lacks it",
        noun: None,
        detail: None,
    },
    attributes: &[
        Attribute {
            aspect: "signature",
            reads: &["pg_proc.prorettype", "pg_proc.proretset", "pg_proc.prolang", "pg_proc.provolatile", "pg_proc.prosecdef"],
            label: "function",
            severity: Severity::Medium,
            why: "the function returns another type, or runs with other rights or volatility (which changes plans)",
            shown: |f| {
                format!(
                    "returns {} language {} volatility {}{}",
                    f.result.as_deref().unwrap_or_default(),
                    f.language,
                    f.volatility,
                    if f.security_definer {
                        " security definer"
                    } else {
                        ""
                    }
                )
                .into()
            },
            same: None,
            hidden: None,
            plant: |f| f.volatility = "i".into(),
        },
        Attribute {
            aspect: "kind",
            reads: &["pg_proc.prokind"],
            label: "routine kind",
            severity: Severity::High,
            why: "a procedure is CALLed and a function SELECTed: code that calls it one way fails on the side where it is the other kind",
            shown: |f| {
                match f.kind {
                    FunctionKind::Function => "function",
                    FunctionKind::Procedure => "procedure",
                    FunctionKind::Aggregate => "aggregate",
                    FunctionKind::Window => "window function",
                }
                .into()
            },
            same: None,
            hidden: None,
            plant: |f| f.kind = FunctionKind::Procedure,
        },
        Attribute {
            aspect: "properties",
            reads: &["pg_proc.proisstrict", "pg_proc.proleakproof", "pg_proc.proparallel", "pg_proc.procost", "pg_proc.prorows", "pg_proc.proconfig", "pg_proc.prosupport"],
            label: "function properties",
            severity: Severity::Medium,
            why: "strictness, parallel safety, cost, rows and SET options change what a call returns for NULLs, whether a query runs in parallel, how it is planned, and which search_path it resolves names in",
            shown: |f| match f.properties.as_deref() {
                Some("") => "(defaults)".into(),
                Some(p) => p.into(),
                None => "(not captured)".into(),
            },
            // A snapshot older than the field says nothing of them.
            same: Some(|_, a, b| {
                a.properties.is_none() || b.properties.is_none() || a.properties == b.properties
            }),
            hidden: None,
            plant: |f| f.properties = Some("strict, parallel safe".into()),
        },
        Attribute {
            aspect: "owner",
            reads: &["pg_proc.proowner"],
            label: "owner (security definer)",
            severity: Severity::Medium,
            why: "a SECURITY DEFINER function runs with its owner's rights: what a call may read or change differs",
            shown: |f| f.owner.as_deref().unwrap_or("(not captured)").into(),
            same: Some(|_, a, b| {
                !(a.security_definer || b.security_definer)
                    || a.owner.is_none()
                    || b.owner.is_none()
                    || a.owner == b.owner
            }),
            hidden: None,
            plant: |f| f.owner = Some("app".into()),
        },
        Attribute {
            aspect: "arguments",
            reads: &["pg_proc.proargnames", "pg_proc.proargmodes", "pg_proc.proallargtypes", "pg_proc.proargdefaults", "pg_proc.pronargdefaults", "pg_proc.pronargs", "pg_proc.provariadic"],
            label: "argument names, modes and defaults",
            severity: Severity::High,
            why: "calls that name an argument (`f(x => 1)`) or leave one to its default fail on the side where it is named or defaulted otherwise",
            shown: |f| or(&f.arguments, "(not captured)"),
            same: Some(|_, a, b| a.arguments.is_none() || b.arguments.is_none() || a.arguments == b.arguments),
            hidden: None,
            plant: |f| f.arguments = Some("customer bigint, since date DEFAULT CURRENT_DATE".into()),
        },
        Attribute {
            aspect: "grants",
            reads: &["pg_proc.proacl"],
            label: "EXECUTE privileges",
            severity: Severity::Medium,
            why: "a role may call the function on one side and gets a permission error on the other",
            shown: |f| super::shown_acl(&f.acl),
            same: Some(|m, a, b| super::same_captured_acl(m, &a.acl, &b.acl)),
            hidden: None,
            plant: |f| f.acl = Some(vec!["=/app_owner".into(), "app_owner=X/app_owner".into()]),
        },
        Attribute {
            aspect: "body",
            reads: &["pg_proc.prosrc", "pg_proc.prosqlbody"],
            label: "function body",
            severity: Severity::Medium,
            why: "the function does something else on each side",
            shown: |f| or(&f.body_md5, ""),
            same: Some(|_, a, b| a.body_md5 == b.body_md5),
            hidden: Some("body"),
            plant: |f| f.body_md5 = Some("0cc175b9c0f1b6a831c399e269772661".into()),
        },
    ],
    seed: Seed::Not("its body is not in the snapshot (only its md5)"),
    count: |s| len(&s.functions),
    example: || {
        (
            "public.planted_fn(integer)".into(),
            Function {
                result: Some("integer".into()),
                language: "sql".into(),
                kind: FunctionKind::Function,
                volatility: "v".into(),
                security_definer: true,
                owner: Some("app_owner".into()),
                body_md5: Some("d41d8cd98f00b204e9800998ecf8427e".into()),
                properties: Some(String::new()),
                arguments: Some("customer bigint".into()),
                acl: Some(Vec::new()),
            },
        )
    },
    place: |s, f| put(&mut s.functions, f),
};
