//! `fleet`: the targets from the flags, a targets file or a query; the request; the report in
//! each format asked for; the exit code.

use std::path::Path;

use serde::Deserialize;

use pgparity::config::Config;
use pgparity::error::{Error, Result};
use pgparity::fleet::{FleetRequest, Schemas};
use pgparity::report::fleet::{self, FleetReport};
use pgparity::run::Side;

use super::args::{FleetArgs, FleetCommand, FleetFormat, FleetOutput, ReportArgs};
use super::progress::Spinners;
use super::resolve;

/// A `--targets-from` file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetsFile {
    /// Environment names, connection strings or snapshot files.
    #[serde(default)]
    targets: Vec<String>,
    /// Named targets.
    #[serde(default)]
    target: Vec<NamedTarget>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NamedTarget {
    name: String,
    url: String,
}

fn is_query(s: &str) -> bool {
    let head = s.trim_start().to_ascii_lowercase();
    ["select", "with", "values", "table"]
        .iter()
        .any(|k| head.starts_with(k) && head[k.len()..].starts_with(|c: char| c.is_whitespace()))
}

/// Every target the flags name, in the order given.
fn targets(config: &Config, a: &FleetArgs) -> Result<Vec<Side>> {
    let mut sides = Vec::new();
    for spec in a.targets.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        sides.push(resolve::resolve_side(config, spec, None)?);
    }
    if let Some(from) = &a.targets_from {
        if Path::new(from).is_file() {
            let text = std::fs::read_to_string(from).map_err(|e| {
                Error::config(
                    from,
                    format!("cannot read it: {}", pgparity::error::io_message(&e)),
                )
            })?;
            let file: TargetsFile = toml::from_str(&text).map_err(|e| {
                Error::config(
                    from,
                    format!(
                        "not a targets file: {}; hint: targets = [\"staging\", \"postgresql://…\"] or [[target]] tables with name and url",
                        e.message().trim()
                    ),
                )
            })?;
            for spec in &file.targets {
                sides.push(resolve::resolve_side(config, spec, None)?);
            }
            for t in &file.target {
                match resolve::resolve_side(config, &t.url, Some(t.name.clone()))? {
                    Side::Live(mut target) => {
                        target.name = t.name.clone();
                        sides.push(Side::Live(target));
                    }
                    file => sides.push(file),
                }
            }
        } else if is_query(from) {
            let control = a
                .control
                .as_deref()
                .or(a.reference.as_deref())
                .unwrap_or_default();
            let control = resolve::live_side(
                config,
                control,
                "--control",
                "a targets query runs on a live database: give --control ENV|URL",
            )?;
            let found = pgparity::fleet::targets_from_query(&control, from, &config.capture)?;
            eprintln!("the targets query named {} targets", found.len());
            sides.extend(found.into_iter().map(Side::Live));
        } else {
            return Err(Error::Usage(format!(
                "--targets-from '{from}' is neither a file nor a query (SELECT, WITH, VALUES or TABLE)"
            )));
        }
    }
    if sides.is_empty() {
        if a.schemas_like.is_some() {
            // Schema-per-tenant in the reference's own database.
            sides.push(resolve::resolve_side(
                config,
                a.reference.as_deref().unwrap_or_default(),
                None,
            )?);
        } else {
            return Err(Error::Usage(
                "no target; hint: give --targets a,b,c, --targets-from FILE|QUERY, or --schemas-like PATTERN".into(),
            ));
        }
    }
    // A name says which target a finding is in: two targets may not share one.
    let mut seen = std::collections::BTreeSet::new();
    for s in &sides {
        let name = match s {
            Side::Live(t) => t.name.clone(),
            Side::File(p) => p.display().to_string(),
        };
        if !seen.insert(name.clone()) {
            return Err(Error::Usage(format!(
                "two targets are named '{name}'; hint: name them apart in a targets file ([[target]] name = …, url = …)"
            )));
        }
    }
    Ok(sides)
}

fn render(r: &FleetReport, f: FleetFormat) -> String {
    match f {
        FleetFormat::Text => fleet::render_text(r),
        FleetFormat::Json => r.render_json(),
        FleetFormat::Markdown => fleet::render_markdown(r),
        FleetFormat::Html => fleet::render_html(r),
        FleetFormat::Junit => fleet::render_junit(r),
    }
}

/// Writes the report in the formats asked for; the exit code (1: a target fails).
fn emit(report: &FleetReport, out: &FleetOutput) -> Result<u8> {
    let text = render(report, out.format);
    match &out.output {
        Some(p) => pgparity::fsutil::write_atomically(p, text.as_bytes())?,
        None => print!("{text}"),
    }
    for (f, path) in &out.also {
        pgparity::fsutil::write_atomically(path, render(report, *f).as_bytes())?;
    }
    Ok(u8::from(report.failed()))
}

/// Runs `fleet` (or `fleet report`); `max_connections` is the flag's value (a fleet holds
/// one session per target unless it is given).
pub fn fleet_command(
    config: &Config,
    a: FleetArgs,
    max_connections: Option<usize>,
    progress: &Spinners,
) -> Result<u8> {
    if let Some(FleetCommand::Report(r)) = &a.command {
        let store = resolve::history(config, &r.from)?;
        let report = pgparity::history::fleet_run(&store, &r.run)?;
        return emit(&report, &r.out);
    }
    let reference =
        resolve::resolve_side(config, a.reference.as_deref().unwrap_or_default(), None)?;
    let sides = targets(config, &a)?;
    let report_args = ReportArgs {
        fail_on: a.fail_on,
        policy: a.policy.clone(),
        ..ReportArgs::default()
    };
    // A broken history fails before any capture.
    let history = match a.history.as_deref() {
        Some(h) => Some(resolve::history(config, h)?),
        None => None,
    };
    let mut capture = config.capture.clone();
    capture.max_connections = max_connections.unwrap_or(1);
    let req = FleetRequest {
        reference,
        targets: sides,
        schemas: a.schemas_like.clone().map(|like| Schemas {
            like,
            reference: a.reference_schema.clone(),
        }),
        jobs: a.jobs,
        capture,
        profile: resolve::profile_options(config, &a.profile),
        relationships: config.relationships.clone(),
        gate: resolve::gate(config, &report_args)?,
        shard: a.shard,
    };
    let report = pgparity::fleet::fleet(&req, progress)?;
    let code = emit(&report, &a.out)?;
    if let Some(path) = &a.write_baseline {
        let policy = report.baseline(req.gate.today);
        pgparity::fsutil::write_atomically(path, policy.as_bytes())?;
        eprintln!(
            "wrote {} differences as accepted to {}",
            report.differences.len(),
            path.display()
        );
    }
    if let Some(store) = &history {
        let now = chrono::Utc::now();
        let run = a
            .run_id
            .clone()
            .unwrap_or_else(|| format!("fleet-{}", now.format("%Y%m%dT%H%M%SZ")));
        let shard = a.shard.unwrap_or((1, 1));
        let place =
            pgparity::history::record_fleet_shard(store, &run, shard, &now.to_rfc3339(), &report)?;
        eprintln!(
            "kept fleet run {run} (shard {}/{}) in {place}; merge the shards with: pgparity fleet report --run {run} --from …",
            shard.0, shard.1
        );
    }
    Ok(code)
}
