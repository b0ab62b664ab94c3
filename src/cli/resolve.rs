//! Flags and the configuration file, resolved into the library's requests: which environment
//! a name means, which policy and level apply, which corpus is planned and how.

use std::path::Path;

use pgparity::capture::Target;
use pgparity::config::{self, Config};
use pgparity::conninfo::ConnInfo;
use pgparity::error::{Error, Result};
use pgparity::finding::Severity;
use pgparity::run::{CompareRequest, Side};

use super::args::{CorpusArgs, ProfileArgs, ReportArgs};

/// The corpus (files, and pg_stat_statements when asked) and how to plan it.
pub fn corpus(
    config: &Config,
    a: &CorpusArgs,
) -> Result<(
    Vec<pgparity::explain::corpus::Query>,
    pgparity::explain::PlanOptions,
)> {
    let mut plan = config.plan.clone();
    if let Some(n) = a.plan_concurrency {
        plan.concurrency = n;
    }
    if let Some(t) = a.plan_timeout {
        plan.timeout = t;
    }
    if let Some(w) = a.writes {
        plan.writes = w.into();
    }
    plan.analyze |= a.explain_analyze;
    if let Some(n) = a.analyze_runs {
        plan.runs = n;
    }
    plan.transplant &= !a.no_statistics_replan;
    let mut paths = config.corpus.clone();
    paths.extend(a.corpus.iter().cloned());
    let mut queries = Vec::new();
    if !paths.is_empty() {
        let (q, problems) = pgparity::explain::corpus::load(&paths)?;
        for p in problems {
            eprintln!("warning: corpus: {}: {}", p.area, p.message);
        }
        queries = q;
    }
    if let Some(spec) = &a.corpus_from_stats {
        let target = live_side(
            config,
            spec,
            "--corpus-from-stats",
            "name a live environment (a snapshot's recorded corpus is replayed by itself)",
        )?;
        let (q, problems) = pgparity::run::corpus_from_stats(&target, a.top, &config.capture)?;
        for p in problems {
            eprintln!("warning: {}: {}: {}", target.name, p.area, p.message);
        }
        queries.extend(q);
    } else if !paths.is_empty() && queries.is_empty() {
        return Err(Error::Usage(
            "the corpus holds no query; hint: give a folder of .sql files, one statement each"
                .into(),
        ));
    }
    Ok((queries, plan))
}

/// The profile options of the config with the flags applied; `None` with `--no-profile`.
pub fn profile_options(
    config: &Config,
    a: &ProfileArgs,
) -> Option<pgparity::profile::ProfileOptions> {
    if a.no_profile {
        return None;
    }
    let mut p = config.profile.clone();
    p.exact |= a.exact;
    p.raw_values |= a.raw_values;
    if let Some(n) = a.sample_rows {
        p.sample_rows = Some(n);
    }
    if let Some(n) = a.profile_concurrency {
        p.concurrency = n;
    }
    if let Some(n) = a.profile_streams {
        p.streams = n;
    }
    Some(p)
}

fn config_name(c: &Config) -> String {
    c.path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "the config (no pgparity.toml found)".into())
}

/// The one live environment of `snapshot` and `profile`: `--url` or `--env`.
pub fn live_target(
    config: &Config,
    url: Option<&str>,
    env: Option<&str>,
    command: &str,
) -> Result<Target> {
    match (url, env) {
        (Some(url), _) => adhoc_target(url, None),
        (None, Some(env)) => config.target(env).ok_or_else(|| {
            Error::Usage(format!(
                "environment '{env}' is not defined in {}",
                config_name(config)
            ))
        })?,
        (None, None) => Err(Error::Usage(format!(
            "{command} needs --url URL or --env NAME"
        ))),
    }
}

fn adhoc_target(url: &str, name: Option<String>) -> Result<Target> {
    let ci = ConnInfo::parse(url)
        .map_err(|m| Error::env(name.clone().unwrap_or_else(|| "(command line)".into()), m))?;
    let name = name.unwrap_or_else(|| ci.get("dbname").unwrap_or("database").to_string());
    Ok(Target {
        name,
        conninfo: ci,
        protected: false,
    })
}

/// An environment name, an existing snapshot file, or a connection string.
pub fn resolve_side(config: &Config, spec: &str, name: Option<String>) -> Result<Side> {
    if let Some(t) = config.target(spec) {
        return Ok(Side::Live(t?));
    }
    let path = Path::new(spec);
    if path.is_file() {
        return Ok(Side::File(path.to_path_buf()));
    }
    if spec.contains("://") || spec.contains('=') {
        return Ok(Side::Live(adhoc_target(spec, name)?));
    }
    Err(Error::Usage(format!(
        "'{spec}' is not an environment in {}, an existing snapshot file or a connection string; hint: define it under [environments], or pass a postgresql:// URL",
        config_name(config)
    )))
}

/// A side that must be live; `flag` names where it came from.
pub fn live_side(config: &Config, spec: &str, flag: &str, hint: &str) -> Result<Target> {
    match resolve_side(config, spec, None)? {
        Side::Live(t) => Ok(t),
        Side::File(p) => Err(Error::Usage(format!(
            "{flag}: {} is a file; hint: {hint}",
            p.display()
        ))),
    }
}

fn collect_policy(config: &Config, r: &ReportArgs) -> Result<Vec<pgparity::policy::Acceptance>> {
    let mut policy = config.policy.clone();
    for p in &r.policy {
        policy.extend(config::load_policy(p)?);
    }
    Ok(policy)
}

/// The config's policy and thresholds with the flags' policy files and failing level, today.
pub fn gate(config: &Config, r: &ReportArgs) -> Result<pgparity::run::Gate> {
    Ok(pgparity::run::Gate {
        policy: collect_policy(config, r)?,
        thresholds: config.thresholds.clone(),
        fail_on: r
            .fail_on
            .map(Severity::from)
            .unwrap_or(config.fail_on.unwrap_or(Severity::Low)),
        today: chrono::Utc::now().date_naive(),
    })
}

/// `check` and `baseline`: two sides from the flags or the config's `[check]`.
pub fn compare_request(
    config: &Config,
    left: Option<&str>,
    right: Option<&str>,
    r: &ReportArgs,
    p: &ProfileArgs,
) -> Result<CompareRequest> {
    let left = left
        .map(String::from)
        .or_else(|| config.file.check.left.clone());
    let right = right
        .map(String::from)
        .or_else(|| config.file.check.right.clone());
    let (Some(left), Some(right)) = (left, right) else {
        return Err(Error::Usage(
            "two sides are needed; hint: give --left and --right (environment, connection string or snapshot file), or set [check] left/right in pgparity.toml".into(),
        ));
    };
    let left = resolve_side(config, &left, r.left_name.clone().or(Some("left".into())))?;
    let right = resolve_side(
        config,
        &right,
        r.right_name.clone().or(Some("right".into())),
    )?;
    request(config, left, right, r, p)
}

pub fn request(
    config: &Config,
    left: Side,
    right: Side,
    r: &ReportArgs,
    p: &ProfileArgs,
) -> Result<CompareRequest> {
    Ok(CompareRequest {
        left,
        right,
        left_name: r.left_name.clone(),
        right_name: r.right_name.clone(),
        capture: config.capture.clone(),
        profile: profile_options(config, p),
        relationships: config.relationships.clone(),
        corpus: Vec::new(),
        plan: config.plan.clone(),
        gate: gate(config, r)?,
    })
}

/// Where `check --history VALUE` keeps its runs: a connection string (a URL or libpq
/// `key=value` pairs) or a configured environment's name is a database; a string that looks
/// like a URL of any other kind is refused; anything else is a folder.
pub fn history(config: &Config, value: &str) -> Result<pgparity::history::Store> {
    use pgparity::history::Store;
    if pgparity::history::is_connection(value) {
        return Ok(Store::Database(adhoc_target(
            value,
            Some("history".into()),
        )?));
    }
    if let Some(target) = config.target(value) {
        if std::path::Path::new(value).exists() {
            return Err(Error::Usage(format!(
                "--history {value}: both an environment in {} and a folder here; hint: write ./{value} for the folder",
                config_name(config)
            )));
        }
        return Ok(Store::Database(target?));
    }
    if value.contains("://") || value.starts_with("postgres:") || value.starts_with("postgresql:") {
        return Err(Error::Usage(format!(
            "--history {value}: neither a folder nor a PostgreSQL connection string; hint: use postgresql://host/db, key=value pairs, an environment's name or a folder path"
        )));
    }
    Ok(Store::Folder(value.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pgparity::history::Store;

    #[test]
    fn a_history_value_is_a_database_a_folder_or_refused_never_a_url_taken_for_a_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgparity.toml");
        std::fs::write(
            &file,
            "[environments.keeper]\nurl = 'postgresql://h/history'\n\n[check]\nhistory = 'runs'\n",
        )
        .unwrap();
        let config = Config::load(Some(&file)).unwrap();
        // The configured folder is relative to the file.
        assert_eq!(
            config.history.as_deref(),
            Some(dir.path().join("runs").to_str().unwrap())
        );
        let db = |v: &str| match history(&config, v) {
            Ok(Store::Database(t)) => t.conninfo.get("dbname").unwrap_or("").to_string(),
            other => panic!("{v}: {other:?}"),
        };
        assert_eq!(db("postgresql://h/history"), "history");
        assert_eq!(db("postgres://h:5433/x?sslmode=disable"), "x");
        assert_eq!(db("host=h dbname=runs"), "runs");
        assert_eq!(db("keeper"), "history");
        assert!(matches!(history(&config, "runs"), Ok(Store::Folder(p)) if p == Path::new("runs")));
        for bad in ["https://h/x", "postgres:/h", "host=h dbnmae=x"] {
            assert!(history(&config, bad).is_err(), "{bad}");
        }
    }
}
