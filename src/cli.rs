//! The command line: clap's raw flags, turned into the library's requests with the
//! configuration file applied. Only this module knows about flags, stdout/stderr and exit
//! codes: 0 nothing open at or above the level, 1 differences found, 2 error.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::capture::Target;
use crate::config::{self, Config};
use crate::conninfo::ConnInfo;
use crate::error::{Error, Result};
use crate::finding::Severity;
use crate::progress::{NoProgress, Progress};
use crate::report::{self, Format, Report};
use crate::run::{self, CompareRequest, Side};

#[derive(Parser, Debug)]
#[command(
    name = "pgparity",
    version,
    about = "Document every difference between two PostgreSQL environments, rank it, gate on it"
)]
pub struct Cli {
    /// Configuration file (default: ./pgparity.toml when it exists)
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Capture one environment into a snapshot file
    Snapshot(SnapshotArgs),
    /// Profile one environment's data and print it (text or JSON)
    Profile(ProfileCmdArgs),
    /// Capture (or read) two environments and report their differences
    Check(CheckArgs),
    /// Compare two snapshot files offline
    Diff(DiffArgs),
    /// Write today's differences as a policy of accepted differences
    Baseline(BaselineArgs),
    /// Fill a staging environment with synthetic data shaped like a snapshot's profile
    Seed(SeedArgs),
    /// Run the check on two throwaway local clusters with planted differences
    Demo(DemoArgs),
    /// Print a completion script for a shell (e.g. `pgparity completions bash > /etc/bash_completion.d/pgparity`)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page in roff (e.g. `pgparity man > pgparity.1; man ./pgparity.1`)
    Man,
}

#[derive(Args, Debug)]
struct SeedArgs {
    /// Production snapshot (with its data profile) to learn from
    #[arg(long, value_name = "SNAPSHOT")]
    from: PathBuf,
    /// Environment to fill: a configured environment (not protected) or a connection string
    #[arg(long, value_name = "ENV|URL")]
    into: String,
    /// Create the snapshot's schema on the target first (tables, types, keys, indexes, constraints)
    #[arg(long)]
    create_schema: bool,
    /// Row counts are the profile's times F
    #[arg(long, value_name = "F", default_value_t = 1.0)]
    scale: f64,
    /// Row count for one table, e.g. public.orders=5000; repeatable
    #[arg(long, value_name = "TABLE=N")]
    rows: Vec<String>,
    /// Same seed, same data
    #[arg(long, value_name = "N", default_value_t = 1)]
    seed: u64,
    /// Only these tables (names, `*` patterns); repeatable
    #[arg(long, value_name = "TABLE")]
    include: Vec<String>,
    /// Leave these tables out (names, `*` patterns); repeatable
    #[arg(long, value_name = "TABLE")]
    skip: Vec<String>,
    /// Empty non-empty tables first (else they are refused)
    #[arg(long)]
    truncate: bool,
    /// Tables loaded at once (one COPY stream each; default 2)
    #[arg(long, value_name = "N", default_value_t = 2)]
    streams: usize,
    /// Do not ask for confirmation
    #[arg(long)]
    yes: bool,
    /// Profile the seeded target and compare it with the snapshot (data findings, and plans of the snapshot's corpus); exit 1 if data findings remain
    #[arg(long)]
    verify: bool,
}

#[derive(Args, Debug)]
struct SnapshotArgs {
    /// Connection string (postgresql:// URL or key=value pairs)
    #[arg(long, conflicts_with = "env", value_name = "URL")]
    url: Option<String>,
    /// Environment name from the config file
    #[arg(long, value_name = "NAME")]
    env: Option<String>,
    /// Name recorded in the snapshot (default: the environment's name, or the database)
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Snapshot file to write
    #[arg(long, short, value_name = "FILE")]
    output: PathBuf,
    #[command(flatten)]
    corpus: CorpusArgs,
    #[command(flatten)]
    profile: ProfileArgs,
}

#[derive(Args, Debug, Clone, Default)]
struct CorpusArgs {
    /// Query corpus (a folder of .sql files, or one file) to EXPLAIN on live sides; repeatable
    #[arg(long, value_name = "PATH")]
    corpus: Vec<PathBuf>,
    /// Take the corpus from ENV's pg_stat_statements: its top statements by total execution
    /// time, weighted by their share of it
    #[arg(long, value_name = "ENV|URL")]
    corpus_from_stats: Option<String>,
    /// How many statements --corpus-from-stats takes
    #[arg(long, value_name = "N", default_value_t = 50)]
    top: usize,
    /// Sessions planning at once per environment (default 4)
    #[arg(long, value_name = "N")]
    plan_concurrency: Option<usize>,
    /// statement_timeout while planning one query, e.g. 10s (default)
    #[arg(long, value_name = "DURATION")]
    plan_timeout: Option<String>,
    /// Data-changing statements: plan (EXPLAIN in a rolled-back read-only transaction; the
    /// default) or refuse (never sent)
    #[arg(long, value_name = "plan|refuse")]
    writes: Option<String>,
    /// EXPLAIN ANALYZE read statements on environments not marked protected (read-only
    /// transaction, rolled back, with buffers)
    #[arg(long)]
    explain_analyze: bool,
}

/// The corpus (files, and pg_stat_statements when asked) and how to plan it.
fn corpus(
    config: &Config,
    a: &CorpusArgs,
) -> Result<(Vec<crate::corpus::Query>, crate::plan::PlanOptions)> {
    let mut plan = config.plan.clone();
    if let Some(n) = a.plan_concurrency {
        plan.concurrency = n.max(1);
    }
    if let Some(t) = &a.plan_timeout {
        plan.timeout =
            config::parse_duration(t).map_err(|m| Error::Usage(format!("--plan-timeout: {m}")))?;
    }
    if let Some(w) = &a.writes {
        plan.writes = crate::plan::WritePolicy::parse(w)
            .ok_or_else(|| Error::Usage(format!("--writes: '{w}' is neither plan nor refuse")))?;
    }
    plan.analyze |= a.explain_analyze;
    let mut paths = config.corpus.clone();
    paths.extend(a.corpus.iter().cloned());
    let mut queries = Vec::new();
    if !paths.is_empty() {
        let (q, problems) = crate::corpus::load(&paths)?;
        for p in problems {
            eprintln!("warning: corpus: {}: {}", p.area, p.message);
        }
        queries = q;
    }
    if let Some(spec) = &a.corpus_from_stats {
        if a.top == 0 {
            return Err(Error::Usage("--top: must be at least 1".into()));
        }
        let target = match resolve_side(config, spec, None)? {
            Side::Live(t) => t,
            Side::File(p) => {
                return Err(Error::Usage(format!(
                    "--corpus-from-stats: {} is a snapshot file; hint: name a live environment (a snapshot's recorded corpus is replayed by itself)",
                    p.display()
                )))
            }
        };
        let (q, problems) = run::corpus_from_stats(&target, a.top, &config.capture)?;
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

#[derive(Args, Debug)]
struct ProfileCmdArgs {
    /// Connection string (postgresql:// URL or key=value pairs)
    #[arg(long, conflicts_with = "env", value_name = "URL")]
    url: Option<String>,
    /// Environment name from the config file
    #[arg(long, value_name = "NAME")]
    env: Option<String>,
    /// Output format: text, or json (the snapshot's profile part)
    #[arg(long, default_value = "text")]
    format: String,
    /// Write to FILE (atomically) instead of stdout
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    profile: ProfileArgs,
}

#[derive(Args, Debug, Clone, Default)]
struct ProfileArgs {
    /// Skip the data profile (schema, settings and statistics only)
    #[arg(long)]
    no_profile: bool,
    /// Read every row instead of sampling
    #[arg(long)]
    exact: bool,
    /// Rows sampled per table (default: 300 × default_statistics_target, as ANALYZE)
    #[arg(long, value_name = "N")]
    sample_rows: Option<u64>,
    /// Tables profiled at once (default 2)
    #[arg(long, value_name = "N")]
    profile_concurrency: Option<usize>,
    /// Keep raw frequent values in the snapshot (default: keyed hashes only)
    #[arg(long)]
    raw_values: bool,
}

fn profile_options(config: &Config, a: &ProfileArgs) -> Option<crate::profile::ProfileOptions> {
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
        p.concurrency = n.max(1);
    }
    Some(p)
}

#[derive(Args, Debug, Clone)]
struct ReportArgs {
    /// Report format: text, json, markdown, html (one self-contained file), junit or sarif
    #[arg(long, default_value = "text")]
    format: String,
    /// Write the report to FILE (atomically) instead of stdout
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit 1 when an unaccepted finding is at or above LEVEL (critical, high, medium, low, info)
    #[arg(long, value_name = "LEVEL")]
    fail_on: Option<String>,
    /// Policy file(s) with accepted differences, besides the config's
    #[arg(long, value_name = "FILE")]
    policy: Vec<PathBuf>,
    /// Name of the left side in the report
    #[arg(long, value_name = "NAME")]
    left_name: Option<String>,
    /// Name of the right side in the report
    #[arg(long, value_name = "NAME")]
    right_name: Option<String>,
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// The side that should cover (staging): an environment name, a connection string or a snapshot file
    #[arg(long, value_name = "ENV|URL|FILE")]
    left: Option<String>,
    /// The side to match (production): an environment name, a connection string or a snapshot file
    #[arg(long, value_name = "ENV|URL|FILE")]
    right: Option<String>,
    #[command(flatten)]
    corpus: CorpusArgs,
    /// Keep each run's findings in DIR and report what is new, fixed and persisting since the
    /// previous run there
    #[arg(long, value_name = "DIR")]
    history: Option<PathBuf>,
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    profile: ProfileArgs,
}

#[derive(Args, Debug)]
struct DiffArgs {
    /// Left snapshot (staging)
    left: PathBuf,
    /// Right snapshot (production)
    right: PathBuf,
    #[command(flatten)]
    report: ReportArgs,
}

#[derive(Args, Debug)]
struct BaselineArgs {
    /// Left side: environment, connection string or snapshot file
    #[arg(long, value_name = "ENV|URL|FILE")]
    left: Option<String>,
    /// Right side: environment, connection string or snapshot file
    #[arg(long, value_name = "ENV|URL|FILE")]
    right: Option<String>,
    /// Policy file to write (default: stdout)
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    profile: ProfileArgs,
}

#[derive(Args, Debug)]
struct DemoArgs {
    /// Where the demo writes its HTML report
    #[arg(long, value_name = "FILE", default_value = "pgparity-demo.html")]
    html: PathBuf,
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    profile: ProfileArgs,
}

/// Progress as indicatif spinners on stderr; drawn only when stderr is a terminal.
struct Spinners {
    multi: indicatif::MultiProgress,
    bars: std::sync::Mutex<std::collections::BTreeMap<String, (indicatif::ProgressBar, Instant)>>,
}

impl Spinners {
    fn new() -> Spinners {
        let multi =
            indicatif::MultiProgress::with_draw_target(if std::io::stderr().is_terminal() {
                indicatif::ProgressDrawTarget::stderr()
            } else {
                indicatif::ProgressDrawTarget::hidden()
            });
        Spinners {
            multi,
            bars: Default::default(),
        }
    }
}

impl Progress for Spinners {
    fn start(&self, what: &str, action: &str) {
        let bar = self.multi.add(indicatif::ProgressBar::new_spinner());
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("template"),
        );
        bar.set_message(format!("{what}: {action}"));
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        self.bars
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(what.to_string(), (bar, Instant::now()));
    }
    fn finish(&self, what: &str, outcome: &str) {
        if let Some((bar, started)) = self
            .bars
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(what)
        {
            bar.set_style(indicatif::ProgressStyle::with_template("  {msg}").expect("template"));
            bar.finish_with_message(format!(
                "{what}: {outcome} in {:.1}s",
                started.elapsed().as_secs_f64()
            ));
        }
    }
    fn step(&self, what: &str, done: usize, total: usize, units: &str) {
        if let Some((bar, _)) = self
            .bars
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(what)
        {
            // Known totals turn the spinner into a bar (rows seeded, tables profiled...).
            if bar.length() != Some(total as u64) {
                bar.set_length(total as u64);
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{msg} [{bar:30}] {human_pos}/{human_len} {per_sec} {elapsed}",
                    )
                    .expect("template")
                    .progress_chars("=> "),
                );
            }
            bar.set_position(done as u64);
            bar.set_message(format!("{what}: {units}"));
        }
    }
    fn note(&self, message: &str) {
        let _ = self.multi.println(format!("  {message}"));
    }
}

/// The binary's entry point.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run_cli(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Runs a parsed command line; returns the exit code (0 or 1), or an error (exit 2).
pub fn run_cli(cli: Cli) -> Result<u8> {
    // Completions and the man page come from the definitions above: no configuration read.
    let config = match &cli.command {
        Command::Completions { .. } | Command::Man => Config::default(),
        _ => Config::load(cli.config.as_deref())?,
    };
    let progress = Spinners::new();
    match cli.command {
        Command::Snapshot(a) => {
            let mut target = live_target(&config, a.url.as_deref(), a.env.as_deref(), "snapshot")?;
            if let Some(n) = a.name {
                target.name = n;
            }
            let (queries, plan) = corpus(&config, &a.corpus)?;
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
            if a.format != "text" && a.format != "json" {
                return Err(Error::Usage(format!(
                    "--format: unknown format '{}'; hint: use text or json",
                    a.format
                )));
            }
            if a.profile.no_profile {
                return Err(Error::Usage(
                    "profile --no-profile has nothing to do".into(),
                ));
            }
            let target = live_target(&config, a.url.as_deref(), a.env.as_deref(), "profile")?;
            let snap = capture_live(&config, &target, &a.profile, &progress)?;
            let text = if a.format == "json" {
                let mut j = serde_json::to_string_pretty(&serde_json::json!({
                    "environment": snap.meta.environment,
                    "captured_at": snap.meta.captured_at,
                    "profile": snap.profile,
                    "problems": snap.problems,
                }))
                .expect("profile serializes");
                j.push('\n');
                j
            } else {
                report::render_profile_text(&snap)
            };
            match &a.output {
                Some(p) => crate::fsutil::write_atomically(p, text.as_bytes())?,
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
            (req.corpus, req.plan) = corpus(&config, &a.corpus)?;
            let history = a.history.clone().or_else(|| config.history.clone());
            let earlier = match &history {
                Some(dir) => Some(crate::history::load(dir)?),
                None => None,
            };
            let mut report = run::check(&req, &progress)?;
            let run = crate::history::run_of(&report, &chrono::Utc::now().to_rfc3339());
            if let Some(earlier) = &earlier {
                report.history = Some(crate::history::diff(earlier, &run));
            }
            let code = emit(&report, &a.report)?;
            if let Some(dir) = &history {
                let path = crate::history::record(dir, &run)?;
                eprintln!("recorded this run in {}", path.display());
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
            emit(&report, &a.report)
        }
        Command::Baseline(a) => {
            let ra = ReportArgs {
                format: "text".into(),
                output: None,
                fail_on: None,
                policy: Vec::new(),
                left_name: None,
                right_name: None,
            };
            let req = compare_request(
                &config,
                a.left.as_deref(),
                a.right.as_deref(),
                &ra,
                &a.profile,
            )?;
            let (text, findings) = run::baseline(&req, &progress)?;
            match &a.output {
                Some(p) => {
                    crate::fsutil::write_atomically(p, text.as_bytes())?;
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
        Command::Seed(a) => seed_command(&config, a, &progress),
        Command::Demo(a) => {
            let (staging, production) =
                crate::demo::run(&progress, profile_options(&config, &a.profile))?;
            let policy = collect_policy(&config, &a.report)?;
            let fail_on = fail_level(&config, &a.report)?;
            let report = run::build_report(
                &staging,
                &production,
                "live (demo)",
                "live (demo)",
                &policy,
                &config.thresholds,
                fail_on,
                chrono::Utc::now().date_naive(),
            );
            emit(&report, &a.report)?;
            let html = report::render(&report, Format::Html, false);
            crate::fsutil::write_atomically(&a.html, html.as_bytes())?;
            let shown = std::fs::canonicalize(&a.html).unwrap_or(a.html.clone());
            eprintln!("wrote the HTML report: {}", shown.display());
            Ok(0)
        }
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "pgparity", &mut out);
            crate::fsutil::write_atomically(std::path::Path::new("-"), &out)?;
            Ok(0)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .map_err(|e| Error::Usage(format!("cannot render the man page: {e}")))?;
            crate::fsutil::write_atomically(std::path::Path::new("-"), &out)?;
            Ok(0)
        }
    }
}

fn seed_command(config: &Config, a: SeedArgs, progress: &dyn Progress) -> Result<u8> {
    if !(a.scale > 0.0 && a.scale.is_finite()) {
        return Err(Error::Usage(format!(
            "--scale: {} is not a positive number",
            a.scale
        )));
    }
    let mut rows = std::collections::BTreeMap::new();
    for r in &a.rows {
        let (t, n) = r.rsplit_once('=').ok_or_else(|| {
            Error::Usage(format!(
                "--rows: '{r}' is not TABLE=N; hint: --rows public.orders=5000"
            ))
        })?;
        let n: u64 = n
            .trim()
            .parse()
            .map_err(|_| Error::Usage(format!("--rows: '{n}' is not a row count")))?;
        rows.insert(t.trim().to_string(), n);
    }
    let target = match resolve_side(config, &a.into, None)? {
        Side::Live(t) => t,
        Side::File(p) => {
            return Err(Error::Usage(format!(
                "--into: {} is a file; hint: name an environment or give a connection string",
                p.display()
            )))
        }
    };
    if target.protected {
        return Err(Error::Usage(format!(
            "refusing to seed {}: it is marked protected in the config; hint: seed a staging environment",
            target.name
        )));
    }
    if !a.yes {
        let shown = target
            .conninfo
            .resolve(&crate::conninfo::ProcessEnv)
            .map(|r| r.describe())
            .unwrap_or_else(|_| target.name.clone());
        if !std::io::stdin().is_terminal() {
            return Err(Error::Usage(format!(
                "seed writes into {} ({shown}); hint: pass --yes to confirm (stdin is not a terminal)",
                target.name
            )));
        }
        eprint!(
            "seed will write synthetic rows into {} ({shown}){}. Type yes to go on: ",
            target.name,
            if a.truncate {
                ", emptying its tables first"
            } else {
                ""
            }
        );
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        if answer.trim() != "yes" {
            return Err(Error::Usage("seed cancelled".into()));
        }
    }
    let req = run::SeedRequest {
        snapshot: a.from.clone(),
        target,
        options: crate::seed::SeedOptions {
            scale: a.scale,
            rows,
            seed: a.seed,
            include: a.include.clone(),
            skip: a.skip.clone(),
            create_schema: a.create_schema,
            truncate: a.truncate,
            streams: a.streams.max(1),
        },
        verify: a.verify,
        capture: config.capture.clone(),
        profile: config.profile.clone(),
        thresholds: config.thresholds.clone(),
    };
    let (report, verification) = run::seed(&req, progress)?;
    for p in &report.problems {
        eprintln!("note: {}: {}", p.area, p.message);
    }
    let rows = report.rows();
    eprintln!(
        "seeded {} tables, {} rows in {:.1}s (load {:.1}s, {} rows/s)",
        report.tables.len(),
        crate::finding::thousands(rows as f64),
        report.seconds,
        report.load_seconds,
        crate::finding::thousands(rows as f64 / report.load_seconds.max(1e-9))
    );
    if !report.skipped.is_empty() {
        eprintln!(
            "skipped {} table(s), left empty (each named above with its reason): {}",
            report.skipped.len(),
            report
                .skipped
                .iter()
                .map(|(t, _)| t.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let incomplete = u8::from(!report.skipped.is_empty());
    let Some(v) = verification else {
        return Ok(incomplete);
    };
    for f in &v.findings {
        eprintln!("  {} {}: {}", f.severity, f.id, f.message);
    }
    eprintln!(
        "verify: {} data findings against the snapshot at the configured thresholds{}",
        v.findings.len(),
        if req.options.scale != 1.0 || !req.options.rows.is_empty() {
            " (volume left out: a scale or row counts were asked for)"
        } else {
            ""
        }
    );
    if !v.fk_stats.is_empty() {
        let differ = v.fk_stats.iter().filter(|f| f.differs).count();
        eprintln!(
            "verify: pg_stats of {} foreign-key column(s), snapshot vs seeded ({differ} differ):",
            v.fk_stats.len()
        );
        for f in &v.fk_stats {
            eprintln!("  {}", f.describe());
        }
    }
    if v.plans_total > 0 {
        eprintln!(
            "verify: {} of {} corpus queries plan with the same shape as in the snapshot, {} more differ only by a cost tie{}",
            v.plans_same,
            v.plans_total,
            v.plans_tied,
            if v.plans_divergent.is_empty() {
                String::new()
            } else {
                format!(" (different: {})", v.plans_divergent.join(", "))
            }
        );
    }
    Ok(u8::from(!v.findings.is_empty()).max(incomplete))
}

fn config_name(c: &Config) -> String {
    c.path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "the config (no pgparity.toml found)".into())
}

/// Captures one live environment with the profile options of the command line and config.
fn capture_live(
    config: &Config,
    target: &Target,
    p: &ProfileArgs,
    progress: &dyn Progress,
) -> Result<crate::snapshot::Snapshot> {
    run::snapshot(
        target,
        &config.capture,
        profile_options(config, p).as_ref(),
        &config.relationships,
        progress,
    )
}

/// The one live environment of `snapshot` and `profile`: `--url` or `--env`.
fn live_target(
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
fn resolve_side(config: &Config, spec: &str, name: Option<String>) -> Result<Side> {
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

fn collect_policy(config: &Config, r: &ReportArgs) -> Result<Vec<crate::policy::Acceptance>> {
    let mut policy = config.policy.clone();
    for p in &r.policy {
        policy.extend(config::load_policy(p)?);
    }
    Ok(policy)
}

fn fail_level(config: &Config, r: &ReportArgs) -> Result<Severity> {
    match &r.fail_on {
        Some(l) => config::parse_level(l).map_err(|m| Error::Usage(format!("--fail-on: {m}"))),
        None => Ok(config.fail_on.unwrap_or(Severity::Low)),
    }
}

fn compare_request(
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

fn request(
    config: &Config,
    left: Side,
    right: Side,
    r: &ReportArgs,
    p: &ProfileArgs,
) -> Result<CompareRequest> {
    Format::parse(&r.format).map_err(|m| Error::Usage(format!("--format: {m}")))?;
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
        policy: collect_policy(config, r)?,
        thresholds: config.thresholds.clone(),
        fail_on: fail_level(config, r)?,
        today: chrono::Utc::now().date_naive(),
    })
}

/// Writes the report (stdout or file) and returns the exit code.
fn emit(report: &Report, r: &ReportArgs) -> Result<u8> {
    let format = Format::parse(&r.format).map_err(|m| Error::Usage(format!("--format: {m}")))?;
    match &r.output {
        Some(path) => {
            let text = report::render(report, format, false);
            crate::fsutil::write_atomically(path, text.as_bytes())?;
            eprintln!("wrote {}: {}", path.display(), report.summary());
        }
        None => {
            let text = report::render(report, format, format == Format::Text);
            let mut out = anstream::stdout();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
    }
    Ok(if report.failed() { 1 } else { 0 })
}
