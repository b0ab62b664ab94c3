//! The flags, as clap reads them: typed once here (formats, levels, durations, row counts), so
//! the commands never parse a string again.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "pgparity",
    version,
    long_version = pgparity::long_version(),
    about = "Document every difference between two PostgreSQL environments, rank it, gate on it"
)]
pub struct Cli {
    /// Configuration file (default: ./pgparity.toml when it exists)
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Sessions a run holds at once on one environment, at most (default 4, or the config's
    /// capture.max_connections): keep it within a pooler's pool size
    #[arg(long, global = true, value_name = "N", value_parser = count)]
    pub max_connections: Option<usize>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Capture one environment into a snapshot file
    Snapshot(SnapshotArgs),
    /// Profile one environment's data and print it (text or JSON), or write it as a table (Parquet, CSV)
    Profile(ProfileCmdArgs),
    /// Capture (or read) two environments and report their differences
    Check(CheckArgs),
    /// Compare two snapshot files offline
    Diff(DiffArgs),
    /// Check one reference against many targets (environments, tenant databases or tenant
    /// schemas) in one run: each difference once with the targets that have it
    Fleet(FleetArgs),
    /// Write today's differences as a policy of accepted differences
    Baseline(BaselineArgs),
    /// Fill a staging environment with synthetic data shaped like a snapshot's profile
    Seed(SeedArgs),
    /// Run the check on two throwaway local clusters with planted differences
    Demo(DemoArgs),
    /// Work with a history of scheduled runs (`check --history`)
    #[command(subcommand)]
    History(HistoryCommand),
    /// Rehearse an upgrade: production's profile seeded into throwaway clusters of the old and the new major, its corpus planned and its read queries' results compared on both
    Rehearse(RehearseArgs),
    /// Print a completion script for a shell (e.g. `pgparity completions bash > /etc/bash_completion.d/pgparity`)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page in roff (e.g. `pgparity man > pgparity.1; man ./pgparity.1`)
    Man,
}

/// A report format (`--format`).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatArg {
    Text,
    Json,
    #[value(alias = "md")]
    Markdown,
    /// One self-contained file
    Html,
    Junit,
    Sarif,
    /// GitHub Actions annotations (workflow commands), at most 10 of each kind
    Github,
}

impl From<FormatArg> for pgparity::report::Format {
    fn from(f: FormatArg) -> Self {
        use pgparity::report::Format;
        match f {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Html => Format::Html,
            FormatArg::Junit => Format::Junit,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Github => Format::Github,
        }
    }
}

/// `--also FORMAT=FILE`, of a command's formats `F`.
fn also_of<F: ValueEnum>(s: &str) -> Result<(F, PathBuf), String> {
    let (f, path) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not FORMAT=FILE (e.g. html=report.html)"))?;
    let format = F::from_str(f, true).map_err(|_| {
        let names: Vec<String> = F::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
            .collect();
        format!("'{f}' is not a report format: one of {}", names.join(", "))
    })?;
    if path.is_empty() || path == "-" {
        return Err(format!(
            "'{s}' names no file: --also writes a file, --output may be stdout"
        ));
    }
    Ok((format, PathBuf::from(path)))
}

/// `--also FORMAT=FILE` of `check`, `diff` and the others.
fn also(s: &str) -> Result<(FormatArg, PathBuf), String> {
    also_of(s)
}

/// A severity level (`--fail-on`).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelArg {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl From<LevelArg> for pgparity::finding::Severity {
    fn from(l: LevelArg) -> Self {
        use pgparity::finding::Severity;
        match l {
            LevelArg::Critical => Severity::Critical,
            LevelArg::High => Severity::High,
            LevelArg::Medium => Severity::Medium,
            LevelArg::Low => Severity::Low,
            LevelArg::Info => Severity::Info,
        }
    }
}

/// A chat tool's message shape (`--notify-format`).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyFormat {
    /// Slack incoming webhook (blocks with mrkdwn)
    Slack,
    /// Microsoft Teams workflow webhook (an Adaptive Card)
    Teams,
}

impl From<NotifyFormat> for pgparity::notify::Format {
    fn from(f: NotifyFormat) -> Self {
        match f {
            NotifyFormat::Slack => pgparity::notify::Format::Slack,
            NotifyFormat::Teams => pgparity::notify::Format::Teams,
        }
    }
}

/// What the planner does with data-changing statements (`--writes`).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum WritesArg {
    /// EXPLAIN in a rolled-back read-only transaction
    Plan,
    /// Never sent
    Refuse,
}

impl From<WritesArg> for pgparity::explain::WritePolicy {
    fn from(w: WritesArg) -> Self {
        match w {
            WritesArg::Plan => pgparity::explain::WritePolicy::Plan,
            WritesArg::Refuse => pgparity::explain::WritePolicy::Refuse,
        }
    }
}

/// `pgparity profile --format`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProfileFormat {
    #[default]
    Text,
    /// The snapshot's profile part
    Json,
    /// One row per table × column × figure (needs --output)
    Parquet,
    /// The same rows as CSV
    Csv,
}

/// `pgparity history ...`.
#[derive(Subcommand, Debug)]
pub enum HistoryCommand {
    /// Write the whole history as tidy tables (findings, figures, plans) for notebooks and warehouses
    Export(HistoryExportArgs),
    /// Write the history as a static site: every pair (fleet targets, check sides) with its
    /// state and trend, a page per pair with its runs, findings opened and fixed, each run's report
    Site(HistorySiteArgs),
}

#[derive(Args, Debug)]
pub struct HistorySiteArgs {
    /// The history: a folder, a PostgreSQL connection string, or an environment's name
    #[arg(long, value_name = "DIR|URL|ENV")]
    pub from: String,
    /// Folder to write the site into (created; its index.html opens from a file:// URL)
    #[arg(long, short, value_name = "DIR")]
    pub output: PathBuf,
}

/// A table file format (`history export --format`).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormatArg {
    Parquet,
    Csv,
}

impl From<TableFormatArg> for pgparity::export::TableFormat {
    fn from(f: TableFormatArg) -> Self {
        match f {
            TableFormatArg::Parquet => pgparity::export::TableFormat::Parquet,
            TableFormatArg::Csv => pgparity::export::TableFormat::Csv,
        }
    }
}

#[derive(Args, Debug)]
pub struct HistoryExportArgs {
    /// The history: a folder, a PostgreSQL connection string, or an environment's name
    #[arg(long, value_name = "DIR|URL|ENV")]
    pub from: String,
    #[arg(long, value_enum, default_value = "parquet")]
    pub format: TableFormatArg,
    /// Folder to write findings, figures and plans into (created)
    #[arg(long, short, value_name = "DIR")]
    pub output: PathBuf,
}

/// `30s`, `500ms`, `2min`.
fn duration(s: &str) -> Result<Duration, String> {
    pgparity::config::parse_duration(s)
}

/// `--rows public.orders=5000`.
fn table_rows(s: &str) -> Result<(String, u64), String> {
    let (t, n) = s
        .rsplit_once('=')
        .ok_or_else(|| format!("'{s}' is not TABLE=N; hint: --rows public.orders=5000"))?;
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| format!("'{}' is not a row count", n.trim()))?;
    Ok((t.trim().to_string(), n))
}

/// `--scale 0.1`: a positive, finite factor.
fn scale(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(f) if f > 0.0 && f.is_finite() => Ok(f),
        _ => Err(format!("{s} is not a positive number")),
    }
}

/// At least 1.
fn count(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("'{s}' is not a count of at least 1")),
    }
}

#[derive(Args, Debug)]
pub struct SeedArgs {
    /// Production snapshot (with its data profile) to learn from
    #[arg(long, value_name = "SNAPSHOT")]
    pub from: PathBuf,
    /// Environment to fill: a configured environment (not protected) or a connection string
    #[arg(long, value_name = "ENV|URL")]
    pub into: String,
    /// Create the snapshot's schema on the target first (tables, types, keys, indexes, constraints)
    #[arg(long)]
    pub create_schema: bool,
    /// Row counts are the profile's times F
    #[arg(long, value_name = "F", default_value = "1", value_parser = scale, allow_negative_numbers = true)]
    pub scale: f64,
    /// Row count for one table, e.g. public.orders=5000; repeatable
    #[arg(long, value_name = "TABLE=N", value_parser = table_rows)]
    pub rows: Vec<(String, u64)>,
    /// Same seed, same data
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Only these tables (names, `*` patterns); repeatable
    #[arg(long, value_name = "TABLE")]
    pub include: Vec<String>,
    /// Leave these tables out (names, `*` patterns); repeatable
    #[arg(long, value_name = "TABLE")]
    pub skip: Vec<String>,
    /// Empty non-empty tables first (else they are refused)
    #[arg(long)]
    pub truncate: bool,
    /// COPY streams at once: tables, and ranges of a table of 262,144 rows or more
    #[arg(long, value_name = "N", default_value = "4", value_parser = count)]
    pub streams: usize,
    /// Do not ask for confirmation
    #[arg(long)]
    pub yes: bool,
    /// Profile the seeded target and compare it with the snapshot (data findings, and plans of the snapshot's corpus); exit 1 if data findings remain
    #[arg(long)]
    pub verify: bool,
}

#[derive(Args, Debug)]
pub struct SnapshotArgs {
    /// Connection string (postgresql:// URL or key=value pairs)
    #[arg(long, conflicts_with = "env", value_name = "URL")]
    pub url: Option<String>,
    /// Environment name from the config file
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Name recorded in the snapshot (default: the environment's name, or the database)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Snapshot file to write
    #[arg(long, short, value_name = "FILE")]
    pub output: PathBuf,
    #[command(flatten)]
    pub corpus: CorpusArgs,
    #[command(flatten)]
    pub profile: ProfileArgs,
}

#[derive(Args, Debug, Clone, Default)]
pub struct CorpusArgs {
    /// Query corpus (a folder of .sql files, or one file) to EXPLAIN on live sides; repeatable
    #[arg(long, value_name = "PATH")]
    pub corpus: Vec<PathBuf>,
    /// Take the corpus from ENV's pg_stat_statements: its top statements by total execution
    /// time, weighted by their share of it
    #[arg(long, value_name = "ENV|URL")]
    pub corpus_from_stats: Option<String>,
    /// How many statements --corpus-from-stats takes
    #[arg(long, value_name = "N", default_value = "50", value_parser = count)]
    pub top: usize,
    /// Sessions planning at once per environment (default 4)
    #[arg(long, value_name = "N", value_parser = count)]
    pub plan_concurrency: Option<usize>,
    /// statement_timeout while planning one query, e.g. 10s (default)
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub plan_timeout: Option<Duration>,
    /// Data-changing statements: plan (the default) or refuse
    #[arg(long, value_enum)]
    pub writes: Option<WritesArg>,
    /// EXPLAIN ANALYZE read statements on environments not marked protected (read-only
    /// transaction, rolled back, with buffers); with two live sides, each is also run
    /// --analyze-runs times per side, interleaved, and the executions compared
    #[arg(long)]
    pub explain_analyze: bool,
    /// Runs per side of each read query with --explain-analyze (default 5; 0: plan only)
    #[arg(long, value_name = "N")]
    pub analyze_runs: Option<usize>,
    /// Never re-plan a divergent query with the other side's planner statistics (by default a
    /// live PostgreSQL 18+ side not marked protected is, in a transaction rolled back)
    #[arg(long)]
    pub no_statistics_replan: bool,
}

#[derive(Args, Debug)]
pub struct ProfileCmdArgs {
    /// Connection string (postgresql:// URL or key=value pairs)
    #[arg(long, conflicts_with = "env", value_name = "URL")]
    pub url: Option<String>,
    /// Environment name from the config file
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: ProfileFormat,
    /// Write to FILE (atomically) instead of stdout
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub profile: ProfileArgs,
}

#[derive(Args, Debug, Clone, Default)]
pub struct ProfileArgs {
    /// Skip the data profile (schema, settings and statistics only)
    #[arg(long)]
    pub no_profile: bool,
    /// Read every row instead of sampling
    #[arg(long)]
    pub exact: bool,
    /// Rows sampled per table (default: 300 × default_statistics_target, as ANALYZE)
    #[arg(long, value_name = "N")]
    pub sample_rows: Option<u64>,
    /// Tables profiled at once (default 2)
    #[arg(long, value_name = "N", value_parser = count)]
    pub profile_concurrency: Option<usize>,
    /// Sessions reading one large table at once when every row is read (default: one per
    /// core, at most 4; PostgreSQL 14+)
    #[arg(long, value_name = "N", value_parser = count)]
    pub profile_streams: Option<usize>,
    /// Keep raw frequent values in the snapshot (default: keyed hashes only)
    #[arg(long)]
    pub raw_values: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ReportArgs {
    /// Report format
    #[arg(long, value_enum, default_value = "text")]
    pub format: FormatArg,
    /// Write the report to FILE (atomically) instead of stdout
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the same run's report in FORMAT to FILE (atomically; repeatable), e.g.
    /// `--also sarif=parity.sarif --also html=parity.html`
    #[arg(long, value_name = "FORMAT=FILE", value_parser = also)]
    pub also: Vec<(FormatArg, PathBuf)>,
    /// Exit 1 when an unaccepted finding is at or above LEVEL (default: the config's, or low)
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub fail_on: Option<LevelArg>,
    /// Policy file(s) with accepted differences, besides the config's
    #[arg(long, value_name = "FILE")]
    pub policy: Vec<PathBuf>,
    /// Name of the left side in the report
    #[arg(long, value_name = "NAME")]
    pub left_name: Option<String>,
    /// Name of the right side in the report
    #[arg(long, value_name = "NAME")]
    pub right_name: Option<String>,
}

impl Default for ReportArgs {
    fn default() -> Self {
        ReportArgs {
            format: FormatArg::Text,
            output: None,
            also: Vec::new(),
            fail_on: None,
            policy: Vec::new(),
            left_name: None,
            right_name: None,
        }
    }
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The side that should cover (staging): an environment name, a connection string or a snapshot file
    #[arg(long, value_name = "ENV|URL|FILE")]
    pub left: Option<String>,
    /// The side to match (production): an environment name, a connection string or a snapshot file
    #[arg(long, value_name = "ENV|URL|FILE")]
    pub right: Option<String>,
    #[command(flatten)]
    pub corpus: CorpusArgs,
    /// Keep each run (findings and both sides' figures) in a folder or a PostgreSQL database
    /// (a connection string or an environment's name; schema pgparity_history) and report
    /// what is new, fixed and persisting since the previous run there
    #[arg(long, value_name = "DIR|URL|ENV")]
    pub history: Option<String>,
    /// Post a short message to a chat tool's incoming webhook when the run has new findings at
    /// or above --fail-on (the URL holds a secret: prefer the environment variable)
    #[arg(
        long,
        value_name = "URL",
        env = "PGPARITY_NOTIFY_URL",
        hide_env_values = true
    )]
    pub notify: Option<String>,
    /// The message's shape
    #[arg(long, value_enum, default_value = "slack", value_name = "FORMAT")]
    pub notify_format: NotifyFormat,
    /// Post even when nothing is new
    #[arg(long)]
    pub notify_always: bool,
    /// Where the HTML report will be published: the message links each new finding into it
    #[arg(long, value_name = "URL")]
    pub report_url: Option<String>,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub profile: ProfileArgs,
}

/// A fleet report's format (`fleet --format`).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FleetFormat {
    Text,
    Json,
    #[value(alias = "md")]
    Markdown,
    /// A matrix of differences × targets, sortable and filterable, in one self-contained file
    Html,
    /// One test suite per target, one case per check
    Junit,
}

/// `--also FORMAT=FILE` for a fleet.
fn fleet_also(s: &str) -> Result<(FleetFormat, PathBuf), String> {
    also_of(s)
}

/// `--shard K/N`: 1 ≤ K ≤ N.
fn shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("'{s}' is not K/N with 1 ≤ K ≤ N (e.g. 2/8)");
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (
        k.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// Where a fleet report goes, in which formats.
#[derive(Args, Debug)]
pub struct FleetOutput {
    /// Report format
    #[arg(long, value_enum, default_value = "text")]
    pub format: FleetFormat,
    /// Write the report to FILE (atomically) instead of stdout
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the report in FORMAT to FILE (atomically; repeatable), e.g. `--also html=fleet.html`
    #[arg(long, value_name = "FORMAT=FILE", value_parser = fleet_also)]
    pub also: Vec<(FleetFormat, PathBuf)>,
}

/// `pgparity fleet ...`.
#[derive(Subcommand, Debug)]
pub enum FleetCommand {
    /// One report of a fleet run's shards kept in a history (every shard must have ended)
    Report(FleetReportArgs),
}

#[derive(Args, Debug)]
pub struct FleetReportArgs {
    /// The fleet run's id (its shards' --run-id)
    #[arg(long, value_name = "ID")]
    pub run: String,
    /// The history the shards were kept in: a folder, a PostgreSQL connection string, or an environment's name
    #[arg(long, value_name = "DIR|URL|ENV")]
    pub from: String,
    #[command(flatten)]
    pub out: FleetOutput,
}

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct FleetArgs {
    #[command(subcommand)]
    pub command: Option<FleetCommand>,
    /// The side every target should match: an environment name, a connection string or a snapshot file
    #[arg(long, value_name = "ENV|URL|FILE", required = true)]
    pub reference: Option<String>,
    /// The targets, comma-separated: environment names, connection strings or snapshot files
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub targets: Vec<String>,
    /// More targets: a TOML file (`targets = [...]`, or `[[target]]` tables with name and url),
    /// or a SQL query run on --control returning one row per target (a database name on the
    /// control's server, or a connection string; a second column names it), e.g.
    /// "SELECT datname FROM pg_database WHERE datname LIKE 'tenant_%'"
    #[arg(long, value_name = "FILE|QUERY")]
    pub targets_from: Option<String>,
    /// Where a --targets-from query runs (default: the reference)
    #[arg(long, value_name = "ENV|URL")]
    pub control: Option<String>,
    /// Schema-per-tenant: every schema LIKE PATTERN of each target database (default: the
    /// reference's) is a target, compared with --reference-schema as if it bore that name
    #[arg(long, value_name = "PATTERN")]
    pub schemas_like: Option<String>,
    /// The reference's schema the tenant schemas are compared with
    #[arg(
        long,
        value_name = "NAME",
        default_value = "public",
        requires = "schemas_like"
    )]
    pub reference_schema: String,
    /// Targets captured at once (default: two per core, at most a tenth of the reference
    /// server's max_connections); each holds --max-connections sessions, 1 unless given
    #[arg(long, value_name = "N", value_parser = count)]
    pub jobs: Option<usize>,
    /// Only this share of the targets: the Kth of N, every Nth target in name order (N
    /// processes, each given its K, check every target exactly once)
    #[arg(long, value_name = "K/N", value_parser = shard)]
    pub shard: Option<(usize, usize)>,
    /// Also write today's differences as a policy accepting them, per target where they are
    /// not everywhere
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Keep this run's report (this shard's) in a history folder or PostgreSQL database (a
    /// connection string or an environment's name), for `fleet report --run ID` to merge
    #[arg(long, value_name = "DIR|URL|ENV")]
    pub history: Option<String>,
    /// The run's id in the history, the same in every shard (default: the time, printed)
    #[arg(long, value_name = "ID", requires = "history")]
    pub run_id: Option<String>,
    #[command(flatten)]
    pub out: FleetOutput,
    /// Exit 1 when a target has an unaccepted finding at or above LEVEL (default: the config's, or low)
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub fail_on: Option<LevelArg>,
    /// Policy file(s) with accepted differences, besides the config's (an entry's `targets`
    /// limits it to some targets)
    #[arg(long, value_name = "FILE")]
    pub policy: Vec<PathBuf>,
    #[command(flatten)]
    pub profile: ProfileArgs,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// Left snapshot (staging)
    pub left: PathBuf,
    /// Right snapshot (production)
    pub right: PathBuf,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Args, Debug)]
pub struct BaselineArgs {
    /// Left side: environment, connection string or snapshot file
    #[arg(long, value_name = "ENV|URL|FILE")]
    pub left: Option<String>,
    /// Right side: environment, connection string or snapshot file
    #[arg(long, value_name = "ENV|URL|FILE")]
    pub right: Option<String>,
    /// Policy file to write (default: stdout)
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub profile: ProfileArgs,
}

/// `name=value`.
fn setting(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((n, v)) if !n.trim().is_empty() => Ok((n.trim().to_string(), v.trim().to_string())),
        _ => Err(format!(
            "'{s}' is not NAME=VALUE; hint: --new-setting enable_hashjoin=off"
        )),
    }
}

/// A PostgreSQL major pgparity rehearses (13 to 18).
fn major(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(m) if (13..=18).contains(&m) => Ok(m),
        _ => Err(format!("'{s}' is not a major version from 13 to 18")),
    }
}

#[derive(Args, Debug)]
pub struct RehearseArgs {
    /// Production snapshot (with its data profile, and its corpus's plans)
    #[arg(long, value_name = "SNAPSHOT", required_unless_present = "clean")]
    pub from: Option<PathBuf>,
    /// The major to upgrade to
    #[arg(long, value_name = "MAJOR", value_parser = major, required_unless_present = "clean")]
    pub to: Option<u32>,
    /// Leave both clusters running when the rehearsal ends, and print how to connect (the next rehearsal, or --clean, stops them)
    #[arg(long)]
    pub keep: bool,
    /// Only stop the clusters earlier rehearsals kept, remove what interrupted runs left, and exit
    #[arg(long, conflicts_with_all = ["from", "to", "keep"])]
    pub clean: bool,
    /// The major to upgrade from (default: the snapshot's)
    #[arg(long, value_name = "MAJOR", value_parser = major)]
    pub from_major: Option<u32>,
    /// Row counts are the profile's times F
    #[arg(long, value_name = "F", default_value = "1", value_parser = scale, allow_negative_numbers = true)]
    pub scale: f64,
    /// Same seed, same data
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Queries to rehearse (a folder of .sql files, or one file; default: the snapshot's recorded corpus); repeatable
    #[arg(long, value_name = "PATH")]
    pub corpus: Vec<PathBuf>,
    /// Run each read query N times on each side with EXPLAIN (ANALYZE, BUFFERS) and report regressions and improvements
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub execute: usize,
    /// A regression is at least this many times slower (or --buffers-ratio more buffers)
    #[arg(long, value_name = "F", default_value = "1.5", value_parser = scale)]
    pub time_ratio: f64,
    /// A regression reads at least this many times the buffers (or is --time-ratio slower)
    #[arg(long, value_name = "F", default_value = "2", value_parser = scale)]
    pub buffers_ratio: f64,
    /// A regression is at least this many milliseconds slower
    #[arg(long, value_name = "MS", default_value = "5", value_parser = scale)]
    pub floor_ms: f64,
    /// A setting for the new major only, e.g. enable_hashjoin=off (a change tried with the upgrade); repeatable
    #[arg(long, value_name = "NAME=VALUE", value_parser = setting)]
    pub new_setting: Vec<(String, String)>,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Where the demo writes its HTML report
    #[arg(long, value_name = "FILE", default_value = "pgparity-demo.html")]
    pub html: PathBuf,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub profile: ProfileArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_definitions_are_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn value_parsers_take_what_they_promise() {
        assert_eq!(
            table_rows("public.orders = 5"),
            Ok(("public.orders".into(), 5))
        );
        assert_eq!(table_rows("a=b=7"), Ok(("a=b".into(), 7)));
        assert!(table_rows("orders").is_err());
        assert!(table_rows("orders=-1").is_err());
        assert_eq!(scale("0.5"), Ok(0.5));
        for bad in ["0", "-1", "inf", "NaN", "x"] {
            assert!(scale(bad).is_err(), "{bad}");
        }
        assert_eq!(count("3"), Ok(3));
        assert!(count("0").is_err());
        assert_eq!(duration("2min"), Ok(Duration::from_secs(120)));
        assert!(duration("soon").is_err());
    }
}
