//! The rehearsal's two throwaway clusters: the planner settings production runs with (start
//! settings capped to this machine), each side started, its database created as production's.

use super::*;

/// Server-start settings a rehearsal applies, with the most this machine is asked to hold:
/// shared_buffers (8 kB pages) a quarter of its memory, worker slots 64.
pub(super) fn start_cap(name: &str) -> Option<f64> {
    match name {
        "shared_buffers" => {
            let kb = std::fs::read_to_string("/proc/meminfo")
                .ok()
                .and_then(|m| {
                    m.lines()
                        .find(|l| l.starts_with("MemTotal:"))
                        .and_then(|l| l.split_whitespace().nth(1))
                        .and_then(|v| v.parse::<f64>().ok())
                })
                .unwrap_or(4.0 * 1024.0 * 1024.0);
            Some((kb / 4.0 / 8.0).floor())
        }
        "max_worker_processes" => Some(64.0),
        _ => None,
    }
}

pub(super) fn planner_settings(snap: &Snapshot) -> Planned {
    let mut p = Planned {
        reload: Vec::new(),
        start: Vec::new(),
        notes: Vec::new(),
    };
    for (name, s) in &snap.inventory.settings {
        if class(name, &s.category) != Class::Planner
            || matches!(s.source.as_str(), "default" | "override")
        {
            continue;
        }
        if s.context == "postmaster" || s.context == "internal" {
            match (start_cap(name), s.value.parse::<f64>()) {
                (Some(cap), Ok(v)) if v > cap => {
                    p.notes.push(format!(
                        "{name} capped from {} to {cap} (this machine's limit for a rehearsal)",
                        s.value
                    ));
                    p.start.push((name.clone(), cap.to_string()));
                }
                (Some(_), Ok(_)) => p.start.push((name.clone(), s.value.clone())),
                _ => p.notes.push(format!(
                    "{name} = {} not applied (needs a restart)",
                    s.value
                )),
            }
        } else {
            p.reload.push((name.clone(), s.value.clone()));
        }
    }
    p
}

/// One side of the rehearsal: a cluster of `major` with production's settings and an empty
/// database; returns the notes of what did not apply.
pub(super) fn start_side(
    major: u32,
    start: &[(String, String)],
    settings: &[(String, String)],
    only_here: &[(String, String)],
    snap: &Snapshot,
    progress: &dyn Progress,
    label: &str,
) -> Result<(Cluster, Vec<String>)> {
    let install = Install::find(major)?;
    progress.start(label, &format!("starting PostgreSQL {major}"));
    let mut options = ClusterOptions::default();
    options.settings.extend(start.iter().cloned());
    let cluster = Cluster::start(&install, &options)?;
    let mut notes = Vec::new();
    for (name, value) in settings.iter().chain(only_here) {
        let sql = format!(
            "ALTER SYSTEM SET {} = {}",
            crate::sql::ident(name),
            crate::sql::literal(value)
        );
        if let Err(e) = cluster.execute("postgres", &sql) {
            notes.push(format!("{name} not set on PostgreSQL {major}: {e}"));
        }
    }
    cluster.execute("postgres", "SELECT pg_reload_conf()")?;
    notes.extend(create_database(&cluster, &snap.inventory.database, major)?);
    progress.finish(label, "ready");
    Ok((cluster, notes))
}

/// Creates the rehearsal's database in production's encoding, locale and locale provider
/// (ICU from PostgreSQL 15, builtin from 17) where this machine and this major have them,
/// falling back a step at a time (the provider with a C.UTF-8 libc locale, then C.UTF-8
/// alone); returns what could not be matched.
pub(super) fn create_database(
    cluster: &Cluster,
    db: &crate::snapshot::DatabaseLocale,
    major: u32,
) -> Result<Vec<String>> {
    use crate::sql::literal;
    let provider = match (db.locale_provider.as_str(), db.locale.as_deref()) {
        ("icu", Some(l)) if major >= 15 => {
            Some(format!(" LOCALE_PROVIDER icu ICU_LOCALE {}", literal(l)))
        }
        ("builtin", Some(l)) if major >= 17 => Some(format!(
            " LOCALE_PROVIDER builtin BUILTIN_LOCALE {}",
            literal(l)
        )),
        _ => None,
    };
    let create = |libc: &str, provider: Option<&str>| {
        format!(
            "CREATE DATABASE {DATABASE} TEMPLATE template0 {libc}{}",
            provider.unwrap_or("")
        )
    };
    let production = format!(
        "ENCODING {} LC_COLLATE {} LC_CTYPE {}",
        literal(&db.encoding),
        literal(&db.collate),
        literal(&db.ctype)
    );
    let fallback = "ENCODING 'UTF8' LOCALE 'C.UTF-8'";
    let wanted = match (&provider, db.locale.as_deref()) {
        (Some(_), Some(l)) => format!(
            "{} {l} with {} {}",
            db.locale_provider, db.collate, db.encoding
        ),
        _ => format!("{} {} ({})", db.encoding, db.collate, db.locale_provider),
    };
    let mut notes = Vec::new();
    if db.locale_provider != "libc" && provider.is_none() {
        notes.push(format!(
            "PostgreSQL {major} has no {} locale provider for a database: libc's is used, so text sorts by libc's rules on this side",
            db.locale_provider
        ));
    }
    let attempts = [
        (!db.encoding.is_empty()).then(|| create(&production, provider.as_deref())),
        provider.as_ref().map(|p| create(fallback, Some(p))),
    ];
    for (i, sql) in attempts.iter().enumerate() {
        if let Some(sql) = sql {
            if cluster.execute("postgres", sql).is_ok() {
                if i > 0 {
                    notes.push(format!(
                        "the database is UTF8 with libc locale C.UTF-8 and the {} locale on PostgreSQL {major}: this machine cannot create {wanted}",
                        db.locale_provider
                    ));
                }
                return Ok(notes);
            }
        }
    }
    cluster.execute("postgres", &create(fallback, None))?;
    notes.push(format!(
        "the database is UTF8 with locale C.UTF-8 on PostgreSQL {major}: this machine cannot create {wanted}"
    ));
    Ok(notes)
}

pub(super) fn target(name: &str, cluster: &Cluster) -> Result<Target> {
    Ok(Target {
        name: name.into(),
        conninfo: ConnInfo::parse(&cluster.conninfo(DATABASE)).map_err(|m| Error::env(name, m))?,
        protected: false,
    })
}
