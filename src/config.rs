//! `pgparity.toml`: named environments, check defaults, capture timeouts and accepted
//! differences. Unknown keys are refused (a misspelt key must not be silently ignored), and
//! passwords are refused too: they belong in PGPASSWORD, the password file or the service file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::capture::{CaptureOptions, Target};
use crate::conninfo::ConnInfo;
use crate::error::{Error, Result};
use crate::finding::Severity;
use crate::policy::{Acceptance, PolicyFile};

/// The file name looked for in the current folder when `--config` is not given.
pub const DEFAULT_FILE: &str = "pgparity.toml";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub environments: BTreeMap<String, EnvConfig>,
    #[serde(default)]
    pub check: CheckConfig,
    #[serde(default)]
    pub capture: CaptureConfig,
    #[serde(default)]
    pub profile: ProfileConfig,
    /// Thresholds of the data comparers, run-wide and per table or column.
    #[serde(default)]
    pub thresholds: ThresholdsConfig,
    /// Query corpora (folders or files, relative to this file) that `check` plans on both sides.
    #[serde(default)]
    pub corpus: Vec<PathBuf>,
    /// How corpus queries are planned.
    #[serde(default)]
    pub plans: PlansConfig,
    /// Logical relationships to profile like foreign keys (not declared in the schema).
    #[serde(default)]
    pub relationship: Vec<RelationshipConfig>,
    /// Accepted differences (the policy), inline.
    #[serde(default)]
    pub accept: Vec<Acceptance>,
    /// Further policy files, relative to this file.
    #[serde(default)]
    pub policy: Vec<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvConfig {
    /// libpq connection string: `postgresql://...` or `host=... dbname=...`.
    pub url: String,
    /// Overrides the string's sslmode.
    pub sslmode: Option<String>,
    pub sslrootcert: Option<String>,
    /// Production: pgparity never writes here (seed refuses it).
    #[serde(default)]
    pub protected: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckConfig {
    /// The environment that should cover (staging).
    pub left: Option<String>,
    /// The environment it should match (production).
    pub right: Option<String>,
    pub fail_on: Option<String>,
    /// Where each run is kept, like `check --history`: a folder (relative to this file), a
    /// PostgreSQL connection string, or an environment's name.
    pub history: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureConfig {
    /// e.g. `30s`, `500ms`, `2min`.
    pub statement_timeout: Option<String>,
    pub lock_timeout: Option<String>,
    /// Sessions a run holds at once on one environment (default 4; `--max-connections`).
    pub max_connections: Option<usize>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileConfig {
    /// Rows sampled per table (default: 300 × default_statistics_target, as ANALYZE).
    pub sample_rows: Option<u64>,
    /// Tables profiled at once (default 2: gentle on production).
    pub concurrency: Option<usize>,
    /// Sessions reading one large table at once when every row is read (default: one per
    /// core, at most 4).
    pub streams: Option<usize>,
    /// Small tables (read whole, under 40,000 rows) read by one statement (default 100; 1
    /// reads each table on its own).
    pub tables_per_statement: Option<usize>,
    /// TABLESAMPLE REPEATABLE seed (default 42).
    pub seed: Option<u32>,
    /// File holding the secret the value hashes are keyed with (PGPARITY_HASH_KEY overrides).
    pub hash_key_file: Option<PathBuf>,
    /// statement_timeout for profiling queries (default 5min).
    pub statement_timeout: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlansConfig {
    /// Sessions planning at once per environment (default 4).
    pub concurrency: Option<usize>,
    /// statement_timeout while planning one query (default 10s).
    pub timeout: Option<String>,
    /// Data-changing statements: `plan` (EXPLAIN in a rolled-back read-only transaction,
    /// the default) or `refuse` (never sent).
    pub writes: Option<String>,
    /// EXPLAIN ANALYZE read statements on environments not marked protected (default false).
    pub analyze: Option<bool>,
    /// Runs per side of each read query when analyzing two live sides (default 5).
    pub runs: Option<usize>,
    /// Re-plan a divergent query on a live PostgreSQL 18+ side not marked protected with the
    /// other side's planner statistics, restored in a transaction rolled back (default true).
    pub statistics_replan: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdsConfig {
    pub volume_band: Option<f64>,
    pub min_expected: Option<f64>,
    pub null_rate_gap: Option<f64>,
    pub statistics_null_gap: Option<f64>,
    pub drift_volume: Option<f64>,
    pub drift_share: Option<f64>,
    /// `"public.events"` or `"public.users.bio"` → overrides for that table or column.
    #[serde(default)]
    pub objects: BTreeMap<String, crate::compare::thresholds::Overrides>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelationshipConfig {
    /// `schema.table(column, ...)` holding the reference.
    pub child: String,
    /// `schema.table(column, ...)` referenced.
    pub parent: String,
}

/// `public.orders(customer_id)` → (`public.orders`, [`customer_id`]).
fn table_columns(s: &str) -> Result<(String, Vec<String>), String> {
    let (table, rest) = s.split_once('(').ok_or_else(|| {
        format!("relationship '{s}' is not of the form schema.table(column, ...)")
    })?;
    let cols = rest
        .strip_suffix(')')
        .ok_or_else(|| format!("relationship '{s}' lacks a closing ')'"))?;
    let cols: Vec<String> = cols
        .split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    if cols.is_empty() || table.trim().is_empty() {
        return Err(format!("relationship '{s}' names no table or no column"));
    }
    Ok((table.trim().to_string(), cols))
}

/// A loaded, validated configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub path: Option<PathBuf>,
    pub file: ConfigFile,
    pub policy: Vec<Acceptance>,
    pub capture: CaptureOptions,
    pub profile: crate::profile::ProfileOptions,
    pub relationships: Vec<crate::profile::RelSpec>,
    pub corpus: Vec<PathBuf>,
    pub plan: crate::explain::PlanOptions,
    /// `[check] history`, a folder made relative to the configuration file.
    pub history: Option<String>,
    pub thresholds: crate::compare::thresholds::ThresholdSet,
    pub fail_on: Option<Severity>,
}

impl Config {
    /// Loads `path`, or `./pgparity.toml` when it exists, or an empty configuration.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let path = match path {
            Some(p) => Some(p.to_path_buf()),
            None => Some(PathBuf::from(DEFAULT_FILE)).filter(|p| p.exists()),
        };
        let Some(path) = path else {
            let mut c = Config::default();
            c.profile.hash_key = std::env::var("PGPARITY_HASH_KEY")
                .ok()
                .filter(|k| !k.is_empty());
            return Ok(c);
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::config(
                &path,
                format!("cannot read: {}", crate::error::io_message(&e)),
            )
        })?;
        let file: ConfigFile = parse_toml(&text).map_err(|m| Error::config(&path, m))?;
        let mut policy = file.accept.clone();
        for p in &file.policy {
            let p = path.parent().unwrap_or(Path::new(".")).join(p);
            policy.extend(load_policy(&p)?);
        }
        for a in &policy {
            a.validate().map_err(|m| Error::config(&path, m))?;
        }
        for (name, env) in &file.environments {
            let ci = ConnInfo::parse(&env.url)
                .map_err(|m| Error::config(&path, format!("environment '{name}': {m}")))?;
            if ci.get("password").is_some() || ci.get("sslpassword").is_some() {
                return Err(Error::config(
                    &path,
                    format!("environment '{name}': the connection string holds a password; hint: use PGPASSWORD, ~/.pgpass or a service file instead"),
                ));
            }
            if let Some(m) = &env.sslmode {
                crate::conninfo::SslMode::parse(m)
                    .map_err(|e| Error::config(&path, format!("environment '{name}': {e}")))?;
            }
        }
        let mut capture = CaptureOptions::default();
        if let Some(t) = &file.capture.statement_timeout {
            capture.statement_timeout = parse_duration(t)
                .map_err(|m| Error::config(&path, format!("capture.statement_timeout: {m}")))?;
        }
        if let Some(t) = &file.capture.lock_timeout {
            capture.lock_timeout = parse_duration(t)
                .map_err(|m| Error::config(&path, format!("capture.lock_timeout: {m}")))?;
        }
        if let Some(n) = file.capture.max_connections {
            if n == 0 {
                return Err(Error::config(
                    &path,
                    "capture.max_connections must be 1 or more".to_string(),
                ));
            }
            capture.max_connections = n;
        }
        let mut profile = crate::profile::ProfileOptions::default();
        let pc = &file.profile;
        if let Some(n) = pc.sample_rows {
            profile.sample_rows = Some(n);
        }
        if let Some(n) = pc.concurrency {
            profile.concurrency = n.max(1);
        }
        if let Some(n) = pc.tables_per_statement {
            profile.tables_per_statement = n.max(1);
        }
        if let Some(n) = pc.streams {
            profile.streams = n.max(1);
        }
        if let Some(n) = pc.seed {
            profile.seed = n;
        }
        if let Some(t) = &pc.statement_timeout {
            profile.statement_timeout = parse_duration(t)
                .map_err(|m| Error::config(&path, format!("profile.statement_timeout: {m}")))?;
        }
        profile.hash_key = match (
            std::env::var("PGPARITY_HASH_KEY")
                .ok()
                .filter(|k| !k.is_empty()),
            &pc.hash_key_file,
        ) {
            (Some(k), _) => Some(k),
            (None, Some(f)) => {
                let f = path.parent().unwrap_or(Path::new(".")).join(f);
                Some(
                    std::fs::read_to_string(&f)
                        .map_err(|e| {
                            Error::config(
                                &path,
                                format!(
                                    "profile.hash_key_file {}: {}",
                                    f.display(),
                                    crate::error::io_message(&e)
                                ),
                            )
                        })?
                        .trim()
                        .to_string(),
                )
            }
            (None, None) => None,
        };
        let tc = &file.thresholds;
        let run_wide = crate::compare::thresholds::Overrides {
            volume_band: tc.volume_band,
            min_expected: tc.min_expected,
            null_rate_gap: tc.null_rate_gap,
            statistics_null_gap: tc.statistics_null_gap,
            drift_volume: tc.drift_volume,
            drift_share: tc.drift_share,
        };
        run_wide
            .validate()
            .map_err(|m| Error::config(&path, format!("thresholds: {m}")))?;
        for (k, o) in &tc.objects {
            o.validate()
                .map_err(|m| Error::config(&path, format!("thresholds.objects.\"{k}\": {m}")))?;
        }
        let mut thresholds = crate::compare::thresholds::ThresholdSet::default();
        run_wide.apply(&mut thresholds.default);
        thresholds.objects = tc.objects.clone();
        let mut relationships = Vec::new();
        for r in &file.relationship {
            let (child, child_columns) =
                table_columns(&r.child).map_err(|m| Error::config(&path, m))?;
            let (parent, parent_columns) =
                table_columns(&r.parent).map_err(|m| Error::config(&path, m))?;
            if child_columns.len() != parent_columns.len() {
                return Err(Error::config(
                    &path,
                    format!(
                        "relationship {} -> {}: column counts differ",
                        r.child, r.parent
                    ),
                ));
            }
            relationships.push(crate::profile::RelSpec {
                child,
                child_columns,
                parent,
                parent_columns,
            });
        }
        let fail_on = match &file.check.fail_on {
            Some(l) => Some(
                parse_level(l).map_err(|m| Error::config(&path, format!("check.fail_on: {m}")))?,
            ),
            None => None,
        };
        for side in [&file.check.left, &file.check.right].into_iter().flatten() {
            if !file.environments.contains_key(side) && !Path::new(side).exists() {
                return Err(Error::config(&path, format!("check names environment '{side}', which is not defined under [environments]")));
            }
        }
        let mut plan = crate::explain::PlanOptions::default();
        if let Some(n) = file.plans.concurrency {
            plan.concurrency = n.max(1);
        }
        if let Some(t) = &file.plans.timeout {
            plan.timeout = parse_duration(t)
                .map_err(|m| Error::config(&path, format!("plans.timeout: {m}")))?;
        }
        if let Some(w) = &file.plans.writes {
            plan.writes = crate::explain::WritePolicy::parse(w).ok_or_else(|| {
                Error::config(
                    &path,
                    format!("plans.writes: '{w}' is neither plan nor refuse"),
                )
            })?;
        }
        plan.analyze = file.plans.analyze.unwrap_or(false);
        if let Some(n) = file.plans.runs {
            plan.runs = n;
        }
        if let Some(b) = file.plans.statistics_replan {
            plan.transplant = b;
        }
        let corpus = file
            .corpus
            .iter()
            .map(|c| path.parent().unwrap_or(Path::new(".")).join(c))
            .collect();
        let history = file.check.history.as_ref().map(|h| {
            let named = crate::history::is_connection(h)
                || h.contains("://")
                || file.environments.contains_key(h);
            if named {
                h.clone()
            } else {
                path.parent()
                    .unwrap_or(Path::new("."))
                    .join(h)
                    .to_string_lossy()
                    .into_owned()
            }
        });
        Ok(Config {
            path: Some(path),
            file,
            policy,
            capture,
            profile,
            relationships,
            corpus,
            plan,
            history,
            thresholds,
            fail_on,
        })
    }

    /// The configured environment `name` as a capture target.
    pub fn target(&self, name: &str) -> Option<Result<Target>> {
        let env = self.file.environments.get(name)?;
        Some((|| {
            let mut ci = ConnInfo::parse(&env.url).map_err(|m| Error::env(name, m))?;
            if let Some(m) = &env.sslmode {
                ci.set("sslmode", m);
            }
            if let Some(c) = &env.sslrootcert {
                ci.set("sslrootcert", c);
            }
            Ok(Target {
                name: name.to_string(),
                conninfo: ci,
                protected: env.protected,
            })
        })())
    }
}

/// Reads a policy file (`[[accept]]` entries).
pub fn load_policy(path: &Path) -> Result<Vec<Acceptance>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::config(
            path,
            format!("cannot read policy: {}", crate::error::io_message(&e)),
        )
    })?;
    let file: PolicyFile = parse_toml(&text).map_err(|m| Error::config(path, m))?;
    for a in &file.accept {
        a.validate().map_err(|m| Error::config(path, m))?;
    }
    Ok(file.accept)
}

/// TOML with a one-line error: `line N: message`.
fn parse_toml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        let msg = e.message().trim().replace('\n', " ");
        match line {
            Some(l) => format!("line {l}: {msg}"),
            None => msg,
        }
    })
}

/// `30s`, `500ms`, `2min`, `1h`, or a bare number of milliseconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let ms = crate::compare::settings::to_base(s, Some("ms"))
        .filter(|v| *v >= 0.0)
        .ok_or_else(|| format!("'{s}' is not a duration; hint: write e.g. 30s, 500ms or 2min"))?;
    Ok(Duration::from_millis(ms as u64))
}

pub fn parse_level(s: &str) -> Result<Severity, String> {
    Severity::parse(s).ok_or_else(|| {
        format!("unknown level '{s}'; hint: use critical, high, medium, low or info")
    })
}
