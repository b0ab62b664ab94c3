//! A throwaway PgBouncer in front of a throwaway cluster, for the tests (production is often
//! reached through one): its own folder, a free port on 127.0.0.1, run as the server's user
//! when we are root (PgBouncer refuses root), stopped when dropped or when the process ends,
//! like a cluster.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::{as_owner, free_port, register, spawn_guarded, unregister, Cluster};
use crate::error::{Error, Result};

/// PgBouncer's `pool_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolMode {
    Session,
    Transaction,
    Statement,
}

impl PoolMode {
    fn name(self) -> &'static str {
        match self {
            PoolMode::Session => "session",
            PoolMode::Transaction => "transaction",
            PoolMode::Statement => "statement",
        }
    }
}

/// A running PgBouncer; every database of the cluster is reachable through it as user
/// `postgres` (trust, as the cluster).
pub struct Pooler {
    pub port: u16,
    pub mode: PoolMode,
    dir: PathBuf,
    child: Option<Child>,
    _tmp: tempfile::TempDir,
}

impl std::fmt::Debug for Pooler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pooler({} mode, port {})", self.mode.name(), self.port)
    }
}

/// The PgBouncer binary: `PGPARITY_PGBOUNCER`, else on the PATH or in /usr/sbin (Debian's).
fn binary() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("PGPARITY_PGBOUNCER") {
        return Ok(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|d| d.join("pgbouncer"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Error::Cluster(
                "pgbouncer is not installed; hint: apt-get install pgbouncer (scripts/test.sh does), or set PGPARITY_PGBOUNCER to its binary".into(),
            )
        })
}

impl Pooler {
    /// Starts PgBouncer in `mode` with `pool_size` server connections per database and user.
    pub fn start(cluster: &Cluster, mode: PoolMode, pool_size: u32) -> Result<Pooler> {
        let bin = binary()?;
        let (tmp, owner) = Cluster::prepare_dir()?;
        let dir = tmp.path().to_path_buf();
        let io = |e: std::io::Error| Error::Cluster(format!("pgbouncer: {e}"));
        std::fs::write(dir.join("users.txt"), "\"postgres\" \"\"\n").map_err(io)?;
        let mut last = String::new();
        for _attempt in 0..3 {
            let port = free_port()?;
            let ini = format!(
                "[databases]\n* = host={host} port={server}\n\n[pgbouncer]\n\
                 listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
                 auth_type = trust\nauth_file = {dir}/users.txt\n\
                 pool_mode = {mode}\ndefault_pool_size = {pool_size}\nmax_client_conn = 200\n\
                 ignore_startup_parameters = extra_float_digits\n\
                 logfile = {dir}/pgbouncer.log\npidfile =\n",
                host = cluster.dir.display(),
                server = cluster.port,
                dir = dir.display(),
                mode = mode.name(),
            );
            std::fs::write(dir.join("pgbouncer.ini"), ini).map_err(io)?;
            if let Some((uid, gid)) = owner {
                for f in ["users.txt", "pgbouncer.ini"] {
                    let _ = nix::unistd::chown(&dir.join(f), Some(uid), Some(gid));
                }
            }
            let mut cmd = Command::new(&bin);
            cmd.arg(dir.join("pgbouncer.ini"))
                .current_dir(&dir)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            as_owner(&mut cmd, owner);
            let child = spawn_guarded(cmd, Signal::SIGTERM)
                .map_err(|e| Error::Cluster(format!("cannot start pgbouncer: {e}")))?;
            register(child.id(), &dir);
            let mut pooler = Pooler {
                port,
                mode,
                dir: dir.clone(),
                child: Some(child),
                _tmp: tempfile::TempDir::new().map_err(io)?,
            };
            match pooler.wait_ready() {
                Ok(()) => {
                    pooler._tmp = tmp;
                    return Ok(pooler);
                }
                Err(e) => {
                    last = e;
                    pooler.stop_now();
                    if !last.contains("Address already in use") {
                        break;
                    }
                }
            }
        }
        Err(Error::Cluster(format!("pgbouncer did not start: {last}")))
    }

    fn wait_ready(&mut self) -> std::result::Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    return Err(format!("pgbouncer exited ({status}): {}", self.log_tail()));
                }
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("not listening after 60 s: {}", self.log_tail()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The pooler's log (what it did with the clients' packets), for a failing test's message.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("pgbouncer.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(5)..].join(" | ")
    }

    /// A libpq URL to `dbname` through the pooler.
    pub fn url(&self, dbname: &str) -> String {
        format!(
            "postgresql://postgres@127.0.0.1:{}/{dbname}?sslmode=disable",
            self.port
        )
    }

    /// The pooler's process id (a test stops or kills it midway).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn stop_now(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGTERM: PgBouncer's immediate shutdown (SIGINT waits for every client).
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(child.id() as i32),
                Signal::SIGTERM,
            );
            let deadline = Instant::now() + Duration::from_secs(10);
            while !matches!(child.try_wait(), Ok(Some(_))) {
                if Instant::now() > deadline {
                    let _ = child.kill();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.wait();
            unregister(child.id());
        }
    }
}

impl Drop for Pooler {
    fn drop(&mut self) {
        self.stop_now();
    }
}
