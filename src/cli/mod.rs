//! The command line: clap's typed flags ([`args`]), resolved with the configuration file into
//! the library's requests ([`resolve`]), progress drawn on stderr ([`progress`]), the output
//! written. Only these modules know about flags, terminals and exit codes: 0 nothing open at
//! or above the level, 1 differences found, 2 error.

mod args;
mod fleet;
mod progress;
mod resolve;
mod seed;

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use pgparity::config::Config;
use pgparity::error::{Error, Result};
use pgparity::progress::NoProgress;
use pgparity::report::{self, Format, Report};
use pgparity::run::{self, Side};

use args::{Cli, Command, ProfileArgs, ProfileFormat, ReportArgs};
use resolve::{compare_request, live_target, profile_options, request};

/// The binary's entry point.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    match run_cli(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {}", pgparity::error::chain(&e));
            ExitCode::from(2)
        }
    }
}

/// A flag whose value clap refused, as one line naming the flag and what it takes, exit 2;
/// anything else (help, version, unknown flags) as clap renders it.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let arg = match e.get(ContextKind::InvalidArg) {
        // `--format <FORMAT>` → `--format`; a positional `<SHELL>` → `shell`.
        Some(ContextValue::String(a)) => {
            let a = a.split_whitespace().next().unwrap_or(a);
            match a.strip_prefix('<').and_then(|a| a.strip_suffix('>')) {
                Some(name) => name.to_lowercase(),
                None => a.to_string(),
            }
        }
        _ => String::new(),
    };
    let value = match e.get(ContextKind::InvalidValue) {
        Some(ContextValue::String(v)) => v.clone(),
        _ => String::new(),
    };
    match e.kind() {
        ErrorKind::InvalidValue if !arg.is_empty() => {
            let valid = match e.get(ContextKind::ValidValue) {
                Some(ContextValue::Strings(v)) => v.clone(),
                _ => Vec::new(),
            };
            let hint = match valid.split_last() {
                Some((last, rest)) if !rest.is_empty() => {
                    format!("; hint: use {} or {last}", rest.join(", "))
                }
                Some((last, _)) => format!("; hint: use {last}"),
                None => String::new(),
            };
            eprintln!("error: {arg}: unknown value '{value}'{hint}");
            ExitCode::from(2)
        }
        ErrorKind::ValueValidation if !arg.is_empty() => {
            let why = std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or_else(|| format!("'{value}' is not valid"));
            eprintln!("error: {arg}: {why}");
            ExitCode::from(2)
        }
        _ => e.exit(),
    }
}

/// Runs a parsed command line; returns the exit code (0 or 1), or an error (exit 2).
fn run_cli(cli: Cli) -> Result<u8> {
    // Completions and the man page come from the definitions alone: no configuration read.
    match cli.command {
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "pgparity", &mut out);
            pgparity::fsutil::write_atomically(std::path::Path::new("-"), &out)?;
            return Ok(0);
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .map_err(|e| Error::Usage(format!("cannot render the man page: {e}")))?;
            pgparity::fsutil::write_atomically(std::path::Path::new("-"), &out)?;
            return Ok(0);
        }
        _ => {}
    }
    let asked_connections = cli.max_connections;
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(n) = cli.max_connections {
        config.capture.max_connections = n;
    }
    let progress = progress::Spinners::new();
    match cli.command {
        Command::Snapshot(a) => {
            let mut target = live_target(&config, a.url.as_deref(), a.env.as_deref(), "snapshot")?;
            if let Some(n) = a.name {
                target.name = n;
            }
            let (queries, plan) = resolve::corpus(&config, &a.corpus)?;
            let snap = run::snapshot_planned(
                &target,
                &config.capture,
                profile_options(&config, &a.profile).as_ref(),
                &config.relationships,
                &queries,
                &plan,
                &progress,
            )?;
            snap.write(&a.output)?;
            eprintln!(
                "wrote {} ({} tables, {} settings, {} queries planned, {} problems)",
                a.output.display(),
                snap.schema.tables.len(),
                snap.inventory.settings.len(),
                snap.plans.as_ref().map_or(0, |p| p.len()),
                snap.problems.len()
            );
            Ok(0)
        }
        Command::Profile(a) => {
            let Some(options) = profile_options(&config, &a.profile) else {
                return Err(Error::Usage(
                    "profile --no-profile has nothing to do".into(),
                ));
            };
            let target = live_target(&config, a.url.as_deref(), a.env.as_deref(), "profile")?;
            let snap = run::snapshot(
                &target,
                &config.capture,
                Some(&options),
                &config.relationships,
                &progress,
            )?;
            let text = match a.format {
                ProfileFormat::Json => report::render_profile_json(&snap),
                ProfileFormat::Text => report::render_profile_text(&snap),
                ProfileFormat::Parquet | ProfileFormat::Csv => {
                    let format = if a.format == ProfileFormat::Csv {
                        pgparity::export::TableFormat::Csv
                    } else {
                        pgparity::export::TableFormat::Parquet
                    };
                    let Some(path) = &a.output else {
                        return Err(Error::Usage(format!(
                            "profile --format {}: needs --output FILE",
                            format.extension()
                        )));
                    };
                    let rows = pgparity::history::export::profile(&snap, format, path)?;
                    eprintln!("wrote {}: {rows} figures", path.display());
                    return Ok(0);
                }
            };
            match &a.output {
                Some(p) => pgparity::fsutil::write_atomically(p, text.as_bytes())?,
                None => print!("{text}"),
            }
            Ok(0)
        }
        Command::Check(a) => {
            let mut req = compare_request(
                &config,
                a.left.as_deref(),
                a.right.as_deref(),
                &a.report,
                &a.profile,
            )?;
            (req.corpus, req.plan) = resolve::corpus(&config, &a.corpus)?;
            let history = match a.history.as_deref().or(config.history.as_deref()) {
                Some(value) => Some(pgparity::history::Tracker::open(resolve::history(
                    &config, value,
                )?)?),
                None => None,
            };
            let (mut report, l, r) = run::check_with_sides(&req, &progress)?;
            let run = match &history {
                Some(h) => Some(h.attach(
                    &mut report,
                    Some((&l, &r)),
                    &chrono::Utc::now().to_rfc3339(),
                    &req.gate.thresholds,
                )?),
                None => None,
            };
            drop((l, r));
            let code = emit(&report, &a.report, &config)?;
            if let (Some(h), Some(run)) = (&history, &run) {
                let place = h.record(run)?;
                eprintln!("recorded this run in {place}");
            }
            if let Some(url) = &a.notify {
                notify(url, &report, &a);
            }
            Ok(code)
        }
        Command::Diff(a) => {
            let req = request(
                &config,
                Side::File(a.left),
                Side::File(a.right),
                &a.report,
                &ProfileArgs::default(),
            )?;
            let report = run::check(&req, &NoProgress)?;
            emit(&report, &a.report, &config)
        }
        Command::Baseline(a) => {
            let req = compare_request(
                &config,
                a.left.as_deref(),
                a.right.as_deref(),
                &ReportArgs::default(),
                &a.profile,
            )?;
            let (text, findings) = run::baseline(&req, &progress)?;
            match &a.output {
                Some(p) => {
                    pgparity::fsutil::write_atomically(p, text.as_bytes())?;
                    eprintln!(
                        "wrote {} accepted differences to {}",
                        findings.len(),
                        p.display()
                    );
                }
                None => print!("{text}"),
            }
            Ok(0)
        }
        Command::Seed(a) => seed::seed_command(&config, a, &progress),
        Command::Fleet(a) => fleet::fleet_command(&config, a, asked_connections, &progress),
        Command::Demo(a) => {
            let gate = resolve::gate(&config, &a.report)?;
            let report =
                pgparity::demo::report(&progress, profile_options(&config, &a.profile), &gate)?;
            emit(&report, &a.report, &config)?;
            let html = report::render(&report, Format::Html, false);
            pgparity::fsutil::write_atomically(&a.html, html.as_bytes())?;
            let shown = std::fs::canonicalize(&a.html).unwrap_or(a.html.clone());
            eprintln!("wrote the HTML report: {}", shown.display());
            eprintln!(
                "next: rehearse an upgrade of your own production without copying a row: pgparity snapshot --env production --corpus queries/ -o prod.json, then pgparity rehearse --from prod.json --to {}",
                pgparity::demo::PRODUCTION_MAJOR + 1
            );
            Ok(0)
        }
        Command::History(args::HistoryCommand::Site(a)) => {
            let store = resolve::history(&config, &a.from)?;
            let w = pgparity::history::site::site(
                &store,
                &a.output,
                &chrono::Utc::now().to_rfc3339(),
                &progress,
            )?;
            eprintln!(
                "wrote {} pages of {} pairs ({} fleet runs, {} check runs) into {}; open {}",
                w.files,
                w.pairs,
                w.fleet_runs,
                w.check_runs,
                a.output.display(),
                a.output.join("index.html").display()
            );
            Ok(0)
        }
        Command::History(args::HistoryCommand::Export(a)) => {
            let store = resolve::history(&config, &a.from)?;
            let done =
                pgparity::history::export::export(&store, a.format.into(), &a.output, &progress)?;
            for (file, rows) in &done.files {
                eprintln!("wrote {}: {rows} rows", file.display());
            }
            eprintln!("exported {} runs", done.runs);
            Ok(0)
        }
        Command::Rehearse(a) => {
            let (Some(from), Some(to)) = (a.from.clone(), a.to) else {
                // --clean (clap requires --from and --to otherwise).
                let (kept, orphans) = pgparity::cluster::clean_leftovers(true);
                eprintln!(
                    "stopped and removed {kept} kept cluster{}; removed {orphans} folder{} of interrupted runs",
                    if kept == 1 { "" } else { "s" },
                    if orphans == 1 { "" } else { "s" }
                );
                return Ok(0);
            };
            let mut corpus = Vec::new();
            if !a.corpus.is_empty() {
                let (q, problems) = pgparity::explain::corpus::load(&a.corpus)?;
                for p in problems {
                    eprintln!("warning: corpus: {}: {}", p.area, p.message);
                }
                corpus = q;
            }
            let req = pgparity::rehearse::RehearseRequest {
                snapshot: from,
                from_major: a.from_major,
                to_major: to,
                keep: a.keep,
                scale: a.scale,
                seed: a.seed,
                corpus,
                execute: a.execute,
                limits: pgparity::rehearse::Limits {
                    time_ratio: a.time_ratio,
                    buffers_ratio: a.buffers_ratio,
                    floor_ms: a.floor_ms,
                },
                new_settings: a.new_setting,
                gate: resolve::gate(&config, &a.report)?,
            };
            let r = pgparity::rehearse::rehearse(&req, &progress)?;
            emit(&r.report, &a.report, &config)
        }
        Command::Completions { .. } | Command::Man => unreachable!("answered above"),
    }
}

/// Posts the run's message when something new is at or above the failing level (or always);
/// a failed post is a warning.
fn notify(url: &str, report: &Report, a: &args::CheckArgs) {
    use pgparity::notify;
    let new = notify::new_findings(report).len();
    if new == 0 && !a.notify_always {
        eprintln!(
            "nothing new at or above {}: no message posted",
            report.fail_on
        );
        return;
    }
    let body = notify::message(report, a.notify_format.into(), a.report_url.as_deref());
    match notify::post(url, &body) {
        Ok(()) => eprintln!("posted a message to {} ({new} new)", notify::shown(url)),
        Err(e) => eprintln!("warning: --notify: {e}; the run's result stands"),
    }
}

/// Writes the report (stdout or file) and returns the exit code.
/// Writes the report in its format (and each `--also`); the exit code is the gate's.
fn emit(report: &Report, r: &ReportArgs, config: &Config) -> Result<u8> {
    // SARIF's results point at the file where a finding is accepted: the first policy file
    // named, else the configuration file.
    let artifact = r
        .policy
        .first()
        .or(config.path.as_ref())
        .map(|p| report::sarif::artifact_uri(p));
    let render = |format: Format, color: bool| match format {
        Format::Sarif => report::sarif::render_at(report, artifact.as_deref()),
        _ => report::render(report, format, color),
    };
    let format = Format::from(r.format);
    match &r.output {
        Some(path) => {
            let text = render(format, false);
            pgparity::fsutil::write_atomically(path, text.as_bytes())?;
            eprintln!("wrote {}: {}", path.display(), report.summary());
        }
        None => {
            let text = render(format, format == Format::Text);
            let mut out = anstream::stdout();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
    }
    for (format, path) in &r.also {
        let text = render(Format::from(*format), false);
        pgparity::fsutil::write_atomically(path, text.as_bytes())?;
        eprintln!("wrote {}", path.display());
    }
    Ok(if report.failed() { 1 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_prints_as_one_line_with_each_cause_once() {
        // The server's message is explained in the error's own: not repeated.
        let e = Error::Database {
            env: "prod".into(),
            message: "database 'x' does not exist at h:5432/x; hint: check dbname".into(),
            cause: pgparity::error::DbCause {
                sqlstate: "3D000".into(),
                message: "database \"x\" does not exist".into(),
            },
        };
        assert_eq!(
            pgparity::error::chain(&e),
            "environment 'prod': database 'x' does not exist at h:5432/x; hint: check dbname"
        );
        // A cause that adds something is appended.
        let e = Error::Write {
            path: "out.json".into(),
            message: "disk trouble".into(),
            cause: Some(std::io::Error::other("no space left on device")),
        };
        assert_eq!(
            pgparity::error::chain(&e),
            "cannot write out.json: disk trouble: no space left on device"
        );
    }
}
