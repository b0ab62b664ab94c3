//! Shared clusters (started on first use, stopped at exit), fresh databases, captures, and
//! running the binary.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use pgparity::capture::{CaptureOptions, Target};
use pgparity::cluster::{Cluster, ClusterOptions, Install};
use pgparity::conninfo::ConnInfo;
use pgparity::finding::Finding;
use pgparity::profile::ProfileOptions;
use pgparity::progress::NoProgress;
use pgparity::snapshot::Snapshot;

fn start(major: u32) -> Cluster {
    let install = Install::find(major).unwrap_or_else(|e| panic!("{e}"));
    Cluster::start(&install, &ClusterOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

macro_rules! shared {
    ($name:ident, $major:expr) => {
        pub fn $name() -> &'static Cluster {
            static C: OnceLock<Cluster> = OnceLock::new();
            C.get_or_init(|| start($major))
        }
    };
}
shared!(pg13, 13);
shared!(pg15, 15);
shared!(pg18, 18);
shared!(pg15b, 15);
shared!(pg17, 17);
shared!(pg17b, 17);

/// PostgreSQL 15 with pg_stat_statements preloaded: a production that records its workload.
pub fn pg15_stats() -> &'static Cluster {
    static C: OnceLock<Cluster> = OnceLock::new();
    C.get_or_init(|| {
        let install = Install::find(15).unwrap_or_else(|e| panic!("{e}"));
        let opts = ClusterOptions {
            settings: vec![(
                "shared_preload_libraries".into(),
                "pg_stat_statements".into(),
            )],
            ..Default::default()
        };
        Cluster::start(&install, &opts).unwrap_or_else(|e| panic!("{e}"))
    })
}

/// A new, empty database on `cluster` with a unique name; `create` is the CREATE DATABASE tail.
pub fn fresh_db_with(cluster: &Cluster, prefix: &str, create: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!("{prefix}_{}", N.fetch_add(1, Ordering::SeqCst));
    cluster
        .execute("postgres", &format!("CREATE DATABASE \"{name}\" {create}"))
        .unwrap();
    name
}

pub fn fresh_db(cluster: &Cluster, prefix: &str) -> String {
    fresh_db_with(cluster, prefix, "")
}

pub fn target(cluster: &Cluster, db: &str, name: &str) -> Target {
    Target {
        name: name.into(),
        conninfo: ConnInfo::parse(&cluster.conninfo(db)).unwrap(),
        protected: false,
    }
}

/// Captures with the default (sampled) data profile.
pub fn capture(cluster: &Cluster, db: &str, name: &str) -> Snapshot {
    capture_with(cluster, db, name, Some(&ProfileOptions::default()))
}

pub fn capture_with(
    cluster: &Cluster,
    db: &str,
    name: &str,
    profile: Option<&ProfileOptions>,
) -> Snapshot {
    pgparity::run::snapshot(
        &target(cluster, db, name),
        &CaptureOptions::default(),
        profile,
        &[],
        &NoProgress,
    )
    .unwrap_or_else(|e| panic!("capture of {name} failed: {e}"))
}

pub fn compare(l: &Snapshot, r: &Snapshot) -> Vec<Finding> {
    pgparity::compare::compare(l, r)
}

/// `snap` written to a file in a temporary folder (kept alive by the returned guard).
pub fn snapshot_file(snap: &Snapshot, name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    snap.write(&path).unwrap();
    (dir, path)
}

/// A finding about the data itself (what seeding and data comparisons are judged on).
pub fn is_data_finding(f: &Finding) -> bool {
    f.category.is_data()
}

/// A schema with the usual suspects: odd identifiers and unusual types included.
pub const SCHEMA: &str = r#"
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
CREATE TABLE customers (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text, tags text[], profile jsonb,
    avatar bytea, during tstzrange, feeling mood, score positive);
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    total numeric(12,2) NOT NULL CHECK (total >= 0), created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
CREATE SCHEMA "My Schema";
CREATE TABLE "My Schema"."Odd Table" ("Ünïcode Col" text, "quote""d" int, "UPPER" int);
CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100;
CREATE FUNCTION order_count(c bigint) RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM orders WHERE customer_id = c';
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_orders ON orders USING (customer_id > 0);
CREATE TABLE events (id bigint, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO customers (email, name, tags, profile, feeling, score)
  SELECT 'u' || i || '@example.com', 'n' || i, ARRAY['a'], '{"k": 1}', 'ok', i FROM generate_series(1, 50) i;
INSERT INTO orders (customer_id, total) SELECT 1 + i % 50, i FROM generate_series(1, 200) i;
"#;

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pgparity"))
}

/// Runs the binary with `args` (output discarded) and returns its own peak memory in MB (its
/// VmHWM as it ends, written by the binary to `PGPARITY_PEAK_FILE`; wait4's maximum resident
/// set would include this test process's own high-water mark, inherited through vfork);
/// panics unless it exits 0.
pub fn peak_mb(args: &[&std::ffi::OsStr]) -> i64 {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("peak");
    let status = bin()
        .args(args)
        .env("PGPARITY_PEAK_FILE", &file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "pgparity {args:?} failed: {status}");
    let kb = std::fs::read_to_string(&file).unwrap();
    kb.trim_end_matches("kB").trim().parse::<i64>().unwrap() / 1024
}

/// A pgparity command line for a test, built by name: `pgp("check").opt("--left", &url)
/// .opt("--fail-on", "high").run().code(1)`. Runs without PGPASSWORD, PGSERVICE or colour.
pub struct Pgp {
    cmd: Command,
    shown: Vec<String>,
}

pub fn pgp(subcommand: &str) -> Pgp {
    let mut cmd = bin();
    cmd.arg(subcommand)
        .env_remove("PGPASSWORD")
        .env_remove("PGSERVICE")
        .env("NO_COLOR", "1");
    Pgp {
        cmd,
        shown: vec![subcommand.to_string()],
    }
}

impl Pgp {
    /// A positional argument or a bare flag (`--exact`).
    pub fn arg(mut self, a: impl AsRef<std::ffi::OsStr>) -> Pgp {
        self.shown.push(a.as_ref().to_string_lossy().into_owned());
        self.cmd.arg(a);
        self
    }
    /// Several positional arguments or bare flags.
    pub fn args<A: AsRef<std::ffi::OsStr>>(self, all: impl IntoIterator<Item = A>) -> Pgp {
        all.into_iter().fold(self, Pgp::arg)
    }
    /// `--flag value`.
    pub fn opt(self, flag: &str, value: impl AsRef<std::ffi::OsStr>) -> Pgp {
        self.arg(flag).arg(value)
    }
    /// Runs in `dir` (where `pgparity.toml` is looked for).
    pub fn cwd(mut self, dir: &std::path::Path) -> Pgp {
        self.cmd.current_dir(dir);
        self
    }
    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Pgp {
        self.cmd.env(key, value);
        self
    }
    /// Starts it to pause at `step` (see [`paused_at`]).
    pub fn paused_at(self, step: &str) -> Paused {
        paused_at(self.cmd, step)
    }

    pub fn run(mut self) -> Outcome {
        let out = self.cmd.output().expect("run pgparity");
        Outcome {
            line: format!("pgparity {}", self.shown.join(" ")),
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// What a run gave; the checks panic with the command line and both outputs.
pub struct Outcome {
    line: String,
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// Asserts the exit code.
    pub fn code(self, want: i32) -> Outcome {
        assert_eq!(
            self.status, want,
            "{}\nstdout:\n{}\nstderr:\n{}",
            self.line, self.stdout, self.stderr
        );
        self
    }
    /// Asserts exit 0.
    pub fn ok(self) -> Outcome {
        self.code(0)
    }
    /// Asserts exit 2 with one line on stderr, and returns it.
    pub fn error(self) -> String {
        let out = self.code(2);
        error_line(2, &out.stderr)
    }
    /// stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{}: stdout is not JSON ({e}):\n{}", self.line, self.stdout))
    }
}

/// Asserts exit 2 and one line on stderr, no panic; returns the line.
pub fn error_line(code: i32, stderr: &str) -> String {
    assert_eq!(code, 2, "stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    lines[0].to_string()
}

/// Runs the binary; returns (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    run_in(args, None)
}

pub fn run_in(args: &[&str], dir: Option<&std::path::Path>) -> (i32, String, String) {
    let (first, rest) = args.split_first().expect("a subcommand");
    let mut p = pgp(first);
    for a in rest {
        p = p.arg(a);
    }
    if let Some(d) = dir {
        p = p.cwd(d);
    }
    let o = p.run();
    (o.status, o.stdout, o.stderr)
}

/// The finding with `id`, or a panic listing what there is.
pub fn find<'a>(f: &'a [Finding], id: &str) -> &'a Finding {
    f.iter().find(|x| x.id == id).unwrap_or_else(|| {
        panic!(
            "no finding {id}; got:\n{}",
            f.iter()
                .map(|x| format!("  {} {}", x.id, x.message))
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

/// A comparison request between two sides with defaults for everything else.
pub fn request(
    left: pgparity::run::Side,
    right: pgparity::run::Side,
) -> pgparity::run::CompareRequest {
    pgparity::run::CompareRequest {
        left,
        right,
        left_name: Some("staging".into()),
        right_name: Some("production".into()),
        capture: CaptureOptions::default(),
        profile: None,
        corpus: Vec::new(),
        plan: Default::default(),
        relationships: Vec::new(),
        gate: pgparity::run::Gate::new(chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()),
    }
}

/// A fresh database on `cluster` holding the TPC-H schema and deterministic TPC-H-shaped data
/// at scale factor `sf` (identical on every major version), analyzed.
pub fn tpch_db(cluster: &Cluster, prefix: &str, sf: f64) -> String {
    let db = fresh_db(cluster, prefix);
    cluster
        .execute(&db, include_str!("../fixtures/tpch_schema.sql"))
        .unwrap();
    cluster
        .execute(
            &db,
            &include_str!("../fixtures/tpch_data.sql").replace("{SF}", &sf.to_string()),
        )
        .unwrap_or_else(|e| panic!("loading TPC-H data: {e}"));
    // After the load's transaction: statistics counters start clean.
    cluster
        .execute(&db, "SET default_statistics_target = 1000; ANALYZE")
        .unwrap();
    db
}

/// The 22 TPC-H queries shipped in `queries/tpch`.
pub fn tpch_queries() -> Vec<pgparity::explain::corpus::Query> {
    corpus("tpch")
}

/// The corpus in `queries/<name>`.
pub fn corpus(name: &str) -> Vec<pgparity::explain::corpus::Query> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("queries")
        .join(name);
    let (queries, problems) = pgparity::explain::corpus::load(&[dir]).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    queries
}

/// `pgparity baseline` of two live sides into `policy`; returns the file's text.
pub fn baseline(left: &str, right: &str, policy: &std::path::Path) -> String {
    pgp("baseline")
        .opt("--left", left)
        .opt("--right", right)
        .opt("--output", policy)
        .run()
        .ok();
    std::fs::read_to_string(policy).unwrap()
}

/// A pgparity run stopped at a named step (`pgparity::pause`): the test acts at that point
/// (kills it, interrupts it, disturbs its server), then lets it go on or waits for its end.
pub struct Paused {
    pub child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    stderr: std::sync::mpsc::Receiver<String>,
    reader: Option<std::thread::JoinHandle<()>>,
}

/// Starts `cmd` to pause at `step` and returns once it has (panics, with what it printed, if
/// it ends first: the step was never reached).
pub fn paused_at(mut cmd: Command, step: &str) -> Paused {
    use std::io::BufRead as _;
    let mut child = cmd
        .env(pgparity::pause::VAR, step)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start pgparity");
    let stdin = child.stdin.take();
    let err = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    // `step` may list several (`a,b`, or one step twice): the first is waited for here, the
    // next by `Paused::again`.
    let want = format!(
        "pgparity: paused at {}",
        step.split(',').next().unwrap_or(step)
    );
    // Ends when the line comes or when the process closes its standard error (it ended).
    for line in rx.iter() {
        if line == want {
            return Paused {
                child,
                stdin,
                stderr: rx,
                reader: Some(reader),
            };
        }
        seen.push(line);
    }
    let status = child.wait().unwrap();
    panic!(
        "pgparity ended ({status}) without reaching step {step}:\n{}",
        seen.join("\n")
    );
}

impl Paused {
    /// SIGKILL: no destructor, no handler runs.
    pub fn kill(mut self) -> std::process::ExitStatus {
        self.child.kill().unwrap();
        self.finish().0
    }

    /// Lets the run go on to its next pause, at `step` (panics, with what it printed, if it
    /// ends first).
    pub fn again(mut self, step: &str) -> Paused {
        use std::io::Write as _;
        if let Some(stdin) = self.stdin.as_mut() {
            let _ = stdin.write_all(b"\n");
            let _ = stdin.flush();
        }
        let want = format!("pgparity: paused at {step}");
        let mut seen = Vec::new();
        for line in self.stderr.iter() {
            if line == want {
                return self;
            }
            seen.push(line);
        }
        let (status, _) = self.finish();
        panic!(
            "pgparity ended ({status}) without reaching step {step} again:\n{}",
            seen.join("\n")
        );
    }

    /// Lets the run go on and waits for its end: its exit status and what it printed on
    /// standard error after the pause.
    pub fn resume(mut self) -> (std::process::ExitStatus, String) {
        use std::io::Write as _;
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"\n");
        }
        self.finish()
    }

    fn finish(&mut self) -> (std::process::ExitStatus, String) {
        drop(self.stdin.take());
        let status = self.child.wait().unwrap();
        if let Some(r) = self.reader.take() {
            r.join().unwrap();
        }
        let rest: Vec<String> = self.stderr.try_iter().collect();
        (status, rest.join("\n"))
    }
}
