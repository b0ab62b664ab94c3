//! Settings, version-aware: a value set differently is told apart from a default that changed
//! between major versions (boot_val); units are normalized (`4MB` equals `4096kB`); settings
//! that only describe the machine or the cluster's identity are left out; planner and
//! behaviour settings rank above the rest. Per-role overrides are compared too.

use std::collections::BTreeMap;

use super::{each_key, Sides};
use crate::finding::{Category, Finding, Severity};
use crate::snapshot::{Setting, Snapshot};

/// Settings that describe the machine, the cluster's identity or the capture session itself,
/// or that other comparers report (version, locale, preload libraries, topology).
const IGNORED: &[&str] = &[
    "application_name",
    "client_encoding",
    "cluster_name",
    "config_file",
    "data_directory",
    "data_directory_mode",
    "default_transaction_read_only",
    "external_pid_file",
    "hba_file",
    "ident_file",
    "in_hot_standby",
    "is_superuser",
    "krb_server_keyfile",
    "lc_collate",
    "lc_ctype",
    "listen_addresses",
    "log_directory",
    "port",
    "primary_conninfo",
    "primary_slot_name",
    "role",
    "server_encoding",
    "server_version",
    "server_version_num",
    "session_authorization",
    "shared_memory_size",
    "shared_memory_size_in_huge_pages",
    "shared_preload_libraries",
    "ssl_ca_file",
    "ssl_cert_file",
    "ssl_crl_dir",
    "ssl_crl_file",
    "ssl_dh_params_file",
    "ssl_key_file",
    "transaction_deferrable",
    "transaction_isolation",
    "transaction_read_only",
    "unix_socket_directories",
    "unix_socket_group",
    "unix_socket_permissions",
    "huge_pages_status",
    "num_os_semaphores",
    // The session's own socket: read as 0 on a Unix socket (as a pooler on the same machine
    // connects), the system's values on TCP; they say how the capture was connected.
    "tcp_keepalives_count",
    "tcp_keepalives_idle",
    "tcp_keepalives_interval",
    "tcp_user_timeout",
];

/// Planner settings outside the "Query Tuning" categories.
const PLANNER_EXTRA: &[&str] = &[
    "work_mem",
    "hash_mem_multiplier",
    "maintenance_work_mem",
    "effective_io_concurrency",
    "maintenance_io_concurrency",
    "max_parallel_workers_per_gather",
    "max_parallel_workers",
    "max_parallel_maintenance_workers",
    "max_worker_processes",
    "shared_buffers",
];

/// How much a setting can change what queries do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Changes plans: cost constants, enable_*, memory, parallelism, JIT, statistics target.
    Planner,
    /// Changes results or session behaviour: TimeZone, DateStyle, search_path, timeouts...
    Behaviour,
    Other,
}

pub fn class(name: &str, category: &str) -> Class {
    if category.starts_with("Query Tuning") || PLANNER_EXTRA.contains(&name) {
        Class::Planner
    } else if category.starts_with("Client Connection Defaults")
        || category.starts_with("Version and Platform Compatibility")
    {
        Class::Behaviour
    } else {
        Class::Other
    }
}

fn why(class: Class) -> &'static str {
    match class {
        Class::Planner => "planner settings decide index vs sequential scans, join methods and parallelism: a query fast in one environment can be slow in the other",
        Class::Behaviour => "behaviour settings change results and errors (time zones, date formats, name resolution, timeouts): code that works in one environment can fail in the other",
        Class::Other => "resource and logging settings rarely change results but can change timing, memory use and what gets logged",
    }
}

pub fn is_ignored(name: &str) -> bool {
    IGNORED.contains(&name)
}

/// A setting's value in base units (bytes, milliseconds) where it has a unit.
pub fn to_base(value: &str, unit: Option<&str>) -> Option<f64> {
    let v = value.trim();
    let split = v.find(|c: char| {
        !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')
    });
    let (num, suffix) = match split {
        Some(i) => (&v[..i], v[i..].trim()),
        None => (v, ""),
    };
    let n: f64 = num.parse().ok()?;
    let unit = if suffix.is_empty() {
        unit.unwrap_or("")
    } else {
        suffix
    };
    if n < 0.0 {
        return Some(n); // -1 and friends mean "disabled" / "use another setting"
    }
    Some(n * unit_factor(unit)?)
}

/// Bytes or milliseconds per unit; `8kB` (block-based units) is 8 × 1024.
fn unit_factor(unit: &str) -> Option<f64> {
    let digits = unit
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(unit.len());
    let (mult, base) = unit.split_at(digits);
    let mult: f64 = if mult.is_empty() {
        1.0
    } else {
        mult.parse().ok()?
    };
    let f = match base {
        "" => 1.0,
        "B" => 1.0,
        "kB" => 1024.0,
        "MB" => 1024.0 * 1024.0,
        "GB" => 1024.0 * 1024.0 * 1024.0,
        "TB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return None,
    };
    Some(mult * f)
}

fn is_memory(unit: Option<&str>) -> bool {
    unit.is_some_and(|u| u.ends_with('B'))
}

/// A human spelling of a value in base units: `4MB`, `30s`.
fn pretty(base: f64, memory: bool) -> String {
    if base < 0.0 || base.fract() != 0.0 {
        return format!("{base}");
    }
    let steps: &[(&str, f64)] = if memory {
        &[
            ("TB", 1024f64.powi(4)),
            ("GB", 1024f64.powi(3)),
            ("MB", 1024f64.powi(2)),
            ("kB", 1024.0),
            ("B", 1.0),
        ]
    } else {
        &[
            ("d", 86_400_000.0),
            ("h", 3_600_000.0),
            ("min", 60_000.0),
            ("s", 1000.0),
            ("ms", 1.0),
        ]
    };
    if base == 0.0 {
        return "0".into();
    }
    for (name, f) in steps {
        if base >= *f && (base / f).fract() == 0.0 {
            return format!("{}{name}", base / f);
        }
    }
    format!("{base}")
}

/// A value for display: with its unit, in the largest exact unit.
pub fn display(value: &str, unit: Option<&str>) -> String {
    if value.is_empty() {
        return "''".into();
    }
    match unit {
        Some(u) if !u.is_empty() => match to_base(value, Some(u)) {
            Some(b) => pretty(b, is_memory(Some(u))),
            None => value.to_string(),
        },
        _ => value.to_string(),
    }
}

/// A comparable form: numbers in base units, lists without spaces, enums lower-case.
fn normal(value: &str, unit: Option<&str>, vartype: &str) -> String {
    match vartype {
        "integer" | "real" => match to_base(value, unit) {
            Some(b) => format!("{:.6e}", b),
            None => value.trim().to_string(),
        },
        "bool" => match value.trim().to_ascii_lowercase().as_str() {
            "on" | "true" | "yes" | "1" => "on".into(),
            "off" | "false" | "no" | "0" => "off".into(),
            other => other.to_string(),
        },
        "enum" => value.trim().to_ascii_lowercase(),
        _ => value
            .split(',')
            .map(|p| p.trim())
            .collect::<Vec<_>>()
            .join(","),
    }
}

fn at_default(s: &Setting) -> bool {
    if s.source == "default" {
        return true;
    }
    match &s.boot_val {
        Some(b) => {
            normal(&s.value, s.unit.as_deref(), &s.vartype)
                == normal(b, s.unit.as_deref(), &s.vartype)
        }
        None => false,
    }
}

fn shown(s: &Setting) -> String {
    display(&s.value, s.unit.as_deref())
}

fn boot_shown(s: &Setting) -> String {
    display(s.boot_val.as_deref().unwrap_or(""), s.unit.as_deref())
}

pub fn compare(s: &Sides, out: &mut Vec<Finding>) {
    let (lm, rm) = (s.left.major_version(), s.right.major_version());
    each_key(
        &s.left.inventory.settings,
        &s.right.inventory.settings,
        |name, l, r| {
            if is_ignored(name) {
                return;
            }
            let object = format!("setting:{name}");
            match (l, r) {
                (Some(l), Some(r)) => {
                    let cls = class(name, &r.category);
                    let unit_l = l.unit.as_deref();
                    if normal(&l.value, unit_l, &l.vartype)
                        != normal(&r.value, r.unit.as_deref(), &r.vartype)
                    {
                        let defaults_moved = at_default(l)
                            && at_default(r)
                            && normal(l.boot_val.as_deref().unwrap_or(""), unit_l, &l.vartype)
                                != normal(
                                    r.boot_val.as_deref().unwrap_or(""),
                                    r.unit.as_deref(),
                                    &r.vartype,
                                );
                        if defaults_moved {
                            let sev = if cls == Class::Other {
                                Severity::Low
                            } else {
                                Severity::Medium
                            };
                            out.push(
                            Finding::new(Category::Setting, sev, object.clone(), "default")
                                .values(Some(shown(l)), Some(shown(r)))
                                .message(format!(
                                    "{name}: default changed between PostgreSQL {lm} and {rm} ({} vs {}); neither side sets it",
                                    boot_shown(l),
                                    boot_shown(r)
                                ))
                                .why(why(cls))
                                .hint(format!("set {name} explicitly on both sides if the old behaviour matters")),
                        );
                        } else {
                            let sev = match cls {
                                Class::Planner | Class::Behaviour => Severity::High,
                                Class::Other => Severity::Low,
                            };
                            let src = |x: &Setting| {
                                if at_default(x) {
                                    "default".to_string()
                                } else {
                                    x.source.clone()
                                }
                            };
                            out.push(
                            Finding::new(Category::Setting, sev, object.clone(), "")
                                .values(Some(shown(l)), Some(shown(r)))
                                .message(format!(
                                    "{name} set differently: {} in {} ({}) vs {} in {} ({})",
                                    shown(l),
                                    s.left_name,
                                    src(l),
                                    shown(r),
                                    s.right_name,
                                    src(r)
                                ))
                                .why(why(cls))
                                .hint(format!(
                                    "set {name} = '{}' in {} (ALTER SYSTEM or postgresql.conf), or accept the difference in the policy",
                                    shown(r),
                                    s.left_name
                                )),
                        );
                        }
                    }
                    if l.pending_restart != r.pending_restart {
                        let left_pending = l.pending_restart;
                        out.push(
                        Finding::new(Category::Setting, Severity::Low, object, "pending_restart")
                            .values(Some(l.pending_restart.to_string()), Some(r.pending_restart.to_string()))
                            .message(format!(
                                "{name} was changed in {} but waits for a restart: the running value is not the configured one",
                                s.name(left_pending)
                            ))
                            .why("a configured value that is not in effect makes the environment differ from what its files say")
                            .hint(format!("restart {} or revert the change", s.name(left_pending))),
                    );
                    }
                }
                (Some(x), None) | (None, Some(x)) => {
                    let on_left = l.is_some();
                    let other = if on_left { s.right } else { s.left };
                    if !other.meta.role_reads_all_settings {
                        return; // hidden from that side's role, not absent
                    }
                    let cls = class(name, &x.category);
                    let (sev, what) = if at_default(x) && cls == Class::Other {
                        (Severity::Info, "at its default")
                    } else if at_default(x) {
                        // A planner or behaviour knob only one version has changes plans or
                        // results even at its default (enable_presorted_aggregate, ...).
                        (Severity::Low, "at its default")
                    } else if cls == Class::Other {
                        (Severity::Low, "set explicitly")
                    } else {
                        (Severity::Medium, "set explicitly")
                    };
                    let major = if on_left { lm } else { rm };
                    let shown_x = Some(shown(x));
                    let (lv, rv) = if on_left {
                        (shown_x, None)
                    } else {
                        (None, shown_x)
                    };
                    out.push(
                    Finding::new(Category::Setting, sev, object, "presence")
                        .values(lv, rv)
                        .message(format!(
                            "{name} exists {} (PostgreSQL {major}, {what}: {})",
                            s.only_in(on_left),
                            shown(x)
                        ))
                        .why(if cls == Class::Other {
                            "a setting that exists on one side only comes from another major version or a loaded extension".to_string()
                        } else {
                            format!("{}; this one exists on one side only (another major version or a loaded extension)", why(cls))
                        })
                        .hint("check whether the behaviour it controls matters to the application"),
                );
                }
                (None, None) => {}
            }
        },
    );
    compare_overrides(s, out);
}

/// Per-role overrides (`ALTER ROLE ... SET`, optionally `IN DATABASE`). Overrides for every
/// role on this database already show in the effective settings and are not repeated.
fn compare_overrides(s: &Sides, out: &mut Vec<Finding>) {
    fn keyed(snap: &Snapshot) -> BTreeMap<String, (String, String, Option<String>, String)> {
        let mut m = BTreeMap::new();
        for o in &snap.inventory.overrides {
            let Some(role) = &o.role else { continue };
            let scope = if o.database.is_some() {
                format!("role:{role}@this-database")
            } else {
                format!("role:{role}")
            };
            let (unit, vartype) = snap
                .inventory
                .settings
                .get(&o.name)
                .map(|st| (st.unit.clone(), st.vartype.clone()))
                .unwrap_or((None, "string".into()));
            let norm = normal(&o.value, unit.as_deref(), &vartype);
            m.insert(
                format!("{scope}/setting:{}", o.name),
                (norm, display(&o.value, None), unit, o.name.clone()),
            );
        }
        m
    }
    let (lk, rk) = (keyed(s.left), keyed(s.right));
    each_key(&lk, &rk, |object, l, r| {
        if let (Some(l), Some(r)) = (l, r) {
            if l.0 == r.0 {
                return;
            }
        }
        let name = &l.or(r).expect("one side").3;
        let category = s
            .right
            .inventory
            .settings
            .get(name)
            .or_else(|| s.left.inventory.settings.get(name));
        let cls = category
            .map(|c| class(name, &c.category))
            .unwrap_or(Class::Other);
        let sev = if cls == Class::Other {
            Severity::Low
        } else {
            Severity::High
        };
        let role = object
            .split('/')
            .next()
            .unwrap_or("")
            .trim_start_matches("role:");
        let describe =
            |v: Option<&(String, String, Option<String>, String)>| v.map(|x| x.1.clone());
        let message = match (l, r) {
            (Some(l), Some(r)) => format!(
                "{name} for role {role} overridden differently: {} in {} vs {} in {}",
                l.1, s.left_name, r.1, s.right_name
            ),
            (Some(x), None) | (None, Some(x)) => {
                format!(
                    "{name} for role {role} overridden {} ({})",
                    s.only_in(l.is_some()),
                    x.1
                )
            }
            (None, None) => unreachable!(),
        };
        out.push(
            Finding::new(Category::Setting, sev, object.clone(), "")
                .values(describe(l), describe(r))
                .message(message)
                .why(format!(
                    "the application's role sees another value than the capture shows; {}",
                    why(cls)
                ))
                .hint(format!("ALTER ROLE {role} SET {name} = ... on the side that lacks it, or RESET it on the other")),
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_normalize_whatever_the_spelling() {
        assert_eq!(to_base("4MB", Some("kB")), to_base("4096", Some("kB")));
        assert_eq!(to_base("4096kB", None), Some(4.0 * 1024.0 * 1024.0));
        assert_eq!(to_base("16384", Some("8kB")), Some(128.0 * 1024.0 * 1024.0));
        assert_eq!(to_base("1min", Some("ms")), Some(60_000.0));
        assert_eq!(to_base("-1", Some("kB")), Some(-1.0));
        assert_eq!(display("16384", Some("8kB")), "128MB");
        assert_eq!(display("30000", Some("ms")), "30s");
        assert_eq!(
            normal("4", Some("kB"), "integer"),
            normal("0.00390625MB", None, "integer")
        );
        assert_eq!(
            normal("\"$user\", public", None, "string"),
            normal("\"$user\",public", None, "string")
        );
        assert_eq!(normal("On", None, "bool"), "on");
    }

    fn snap(major: i32, settings: &[(&str, &str, &str, &str)]) -> Snapshot {
        let mut s = Snapshot::default();
        s.inventory.server_version_num = major * 10000;
        s.meta.role_reads_all_settings = true;
        s.meta.environment = format!("pg{major}");
        for (name, value, boot, source) in settings {
            s.inventory.settings.insert(
                name.to_string(),
                Setting {
                    value: value.to_string(),
                    unit: Some("kB".into()),
                    category: "Query Tuning / Other Planner Options".into(),
                    context: "user".into(),
                    vartype: "integer".into(),
                    source: source.to_string(),
                    boot_val: Some(boot.to_string()),
                    pending_restart: false,
                },
            );
        }
        s
    }

    #[test]
    fn a_default_that_moved_between_versions_is_not_set_differently() {
        let (l, r) = (
            snap(15, &[("x", "1024", "1024", "default")]),
            snap(17, &[("x", "2048", "2048", "default")]),
        );
        let mut out = Vec::new();
        compare(&Sides::new(&l, &r), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].id, "setting:x:default");
        assert_eq!(out[0].severity, Severity::Medium);
        assert!(
            out[0]
                .message
                .contains("default changed between PostgreSQL 15 and 17 (1MB vs 2MB)"),
            "{}",
            out[0].message
        );
        // Set on one side: that is a setting, set differently.
        let l = snap(15, &[("x", "4096", "1024", "configuration file")]);
        let mut out = Vec::new();
        compare(&Sides::new(&l, &r), &mut out);
        assert_eq!(out[0].id, "setting:x");
        assert!(
            out[0]
                .message
                .contains("4MB in pg15 (configuration file) vs 2MB in pg17 (default)"),
            "{}",
            out[0].message
        );
        // Same value spelled in other units: nothing.
        let l = snap(17, &[("x", "2048", "2048", "default")]);
        let r = snap(17, &[("x", "2048", "2048", "configuration file")]);
        let mut out = Vec::new();
        compare(&Sides::new(&l, &r), &mut out);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn classes() {
        assert_eq!(
            class("random_page_cost", "Query Tuning / Planner Cost Constants"),
            Class::Planner
        );
        assert_eq!(class("work_mem", "Resource Usage / Memory"), Class::Planner);
        assert_eq!(
            class(
                "search_path",
                "Client Connection Defaults / Statement Behavior"
            ),
            Class::Behaviour
        );
        assert_eq!(
            class("log_min_messages", "Reporting and Logging / When to Log"),
            Class::Other
        );
    }
}
