//! Throwaway PostgreSQL clusters for the tests and `pgparity demo`: initdb into a temporary
//! folder, a free port on 127.0.0.1 plus a unix socket in that folder, the server run as the
//! unprivileged `postgres` user when we are root (PostgreSQL refuses to run as root).
//!
//! No stray server is left behind: a cluster stops when dropped (also while a failing test
//! unwinds); servers are started from one long-lived thread with a parent-death signal, so the
//! kernel stops them if the process dies; and clusters still running at normal process exit
//! (e.g. held in a static by a test harness) are stopped by an exit handler.

mod guard;
mod install;
mod leftovers;
mod owner;
mod pooler;
mod sql;
mod standby;

use std::fs::File;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::{Gid, Pid, Uid};

use guard::*;
pub use install::Install;
pub use leftovers::clean_leftovers;
use leftovers::*;
use owner::*;
pub use pooler::{PoolMode, Pooler};

use crate::error::{Error, Result};

/// How to build a cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Extra `-c name=value` server settings.
    pub settings: Vec<(String, String)>,
    /// initdb locale.
    pub locale: String,
    /// Files written into the data directory after initdb (mode 0600, owned by the server's
    /// user): certificates and keys for `ssl_cert_file = 'server.crt'`, say.
    pub files: Vec<(String, Vec<u8>)>,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            settings: vec![
                ("fsync".into(), "off".into()),
                ("synchronous_commit".into(), "off".into()),
                ("full_page_writes".into(), "off".into()),
                ("autovacuum".into(), "off".into()),
            ],
            locale: "C.UTF-8".into(),
            files: Vec::new(),
        }
    }
}

/// A running throwaway cluster. The superuser is `postgres`, authentication is `trust` on the
/// socket and on 127.0.0.1.
pub struct Cluster {
    pub install: Install,
    pub port: u16,
    /// Folder holding the data directory, the socket and the server log.
    pub dir: PathBuf,
    pub data: PathBuf,
    child: Option<Child>,
    owner: Option<(Uid, Gid)>,
    keep_dir: Option<tempfile::TempDir>,
    /// The `-c` settings it was started with (a kept cluster restarts with them).
    settings: Vec<(String, String)>,
}

/// A cluster left running by [`Cluster::keep`]: where to reach it.
#[derive(Debug, Clone)]
pub struct Kept {
    pub major: u32,
    pub port: u16,
    pub dir: PathBuf,
}

impl Kept {
    /// How to connect with psql.
    pub fn psql(&self, dbname: &str) -> String {
        format!(
            "psql 'host={} port={} user=postgres dbname={dbname}'",
            self.dir.display(),
            self.port
        )
    }
}

/// The server's command line: `postgres -D data -p port -k dir`, on 127.0.0.1, with the
/// settings, its output into `log`, as the server's user.
fn server_command(
    install: &Install,
    data: &Path,
    dir: &Path,
    port: u16,
    settings: &[(String, String)],
    log: File,
    owner: Option<(Uid, Gid)>,
) -> Result<Command> {
    let mut cmd = Command::new(install.tool("postgres"));
    cmd.arg("-D")
        .arg(data)
        .args(["-p", &port.to_string()])
        .arg("-k")
        .arg(dir)
        .args(["-c", "listen_addresses=127.0.0.1"]);
    for (k, v) in settings {
        cmd.arg("-c").arg(format!("{k}={v}"));
    }
    cmd.current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| Error::Cluster(e.to_string()))?)
        .stderr(log)
        .env("LC_ALL", "C.UTF-8");
    as_owner(&mut cmd, owner);
    Ok(cmd)
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Cluster(PostgreSQL {}, port {}, {})",
            self.install.major,
            self.port,
            self.dir.display()
        )
    }
}

impl Cluster {
    /// initdb and start a new cluster.
    pub fn start(install: &Install, opts: &ClusterOptions) -> Result<Cluster> {
        let (tmp, owner) = Self::prepare_dir()?;
        let dir = tmp.path().to_path_buf();
        let data = dir.join("data");
        let mut initdb = Command::new(install.tool("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .arg(format!("--locale={}", opts.locale))
            .current_dir(&dir)
            .env("LC_ALL", "C.UTF-8")
            .env_remove("PGDATA");
        as_owner(&mut initdb, owner);
        run(initdb, &format!("initdb (PostgreSQL {})", install.major))?;
        for (name, bytes) in &opts.files {
            let path = data.join(name);
            std::fs::write(&path, bytes)
                .map_err(|e| Error::Cluster(format!("cannot write {}: {e}", path.display())))?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| Error::Cluster(e.to_string()))?;
            if let Some((uid, gid)) = owner {
                nix::unistd::chown(&path, Some(uid), Some(gid))
                    .map_err(|e| Error::Cluster(e.to_string()))?;
            }
        }
        Self::launch(install, tmp, data, owner, opts)
    }

    fn prepare_dir() -> Result<(tempfile::TempDir, Option<(Uid, Gid)>)> {
        let owner = owner()?;
        if let Some(why) = owner.and_then(|o| unreachable(&std::env::temp_dir(), o)) {
            return Err(Error::Cluster(format!(
                "the throwaway clusters' folders go in {}, which user postgres (the server's, when pgparity runs as root) cannot reach: {why}; hint: set TMPDIR to a folder every user can enter, such as /tmp",
                std::env::temp_dir().display()
            )));
        }
        let tmp = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{}-", std::process::id()))
            .tempdir()
            .map_err(|e| Error::Cluster(format!("cannot create a temporary folder: {e}")))?;
        if let Some((uid, gid)) = owner {
            nix::unistd::chown(tmp.path(), Some(uid), Some(gid)).map_err(|e| {
                Error::Cluster(format!(
                    "cannot hand {} to postgres: {e}",
                    tmp.path().display()
                ))
            })?;
        }
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::Cluster(e.to_string()))?;
        register_dir(tmp.path());
        // Once per process: what runs killed before they could clean up left behind.
        static ORPHANS: OnceLock<()> = OnceLock::new();
        ORPHANS.get_or_init(|| {
            clean_leftovers(false);
        });
        Ok((tmp, owner))
    }

    fn launch(
        install: &Install,
        tmp: tempfile::TempDir,
        data: PathBuf,
        owner: Option<(Uid, Gid)>,
        opts: &ClusterOptions,
    ) -> Result<Cluster> {
        let dir = tmp.path().to_path_buf();
        let mut last_err = String::new();
        for _attempt in 0..3 {
            let port = free_port()?;
            let log =
                File::create(dir.join("server.log")).map_err(|e| Error::Cluster(e.to_string()))?;
            let cmd = server_command(install, &data, &dir, port, &opts.settings, log, owner)?;
            let child = spawn_guarded(cmd, Signal::SIGQUIT)
                .map_err(|e| Error::Cluster(format!("cannot start postgres: {e}")))?;
            register(child.id(), &dir);
            let mut cluster = Cluster {
                install: install.clone(),
                port,
                dir: dir.clone(),
                data: data.clone(),
                child: Some(child),
                owner,
                keep_dir: None,
                settings: opts.settings.clone(),
            };
            match cluster.wait_ready() {
                Ok(()) => {
                    cluster.keep_dir = Some(tmp);
                    return Ok(cluster);
                }
                Err(e) => {
                    last_err = e;
                    cluster.stop_quietly();
                    if !last_err.contains("could not bind")
                        && !last_err.contains("Address already in use")
                    {
                        break;
                    }
                }
            }
        }
        Err(Error::Cluster(format!(
            "PostgreSQL {} did not start: {last_err}",
            install.major
        )))
    }

    fn wait_ready(&mut self) -> std::result::Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(120);
        let pidfile = self.data.join("postmaster.pid");
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    return Err(format!("server exited ({status}): {}", self.log_tail()));
                }
            }
            if let Ok(text) = std::fs::read_to_string(&pidfile) {
                let status = text.lines().nth(7).unwrap_or("").trim();
                if status == "ready" || status == "standby" {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(format!("not ready after 120 s: {}", self.log_tail()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        log.lines()
            .rfind(|l| l.contains("FATAL") || l.contains("ERROR") || l.contains("could not"))
            .or_else(|| log.lines().last())
            .unwrap_or("")
            .to_string()
    }

    /// A libpq key/value connection string over the unix socket.
    pub fn conninfo(&self, dbname: &str) -> String {
        format!(
            "host={} port={} user=postgres dbname='{}' sslmode=disable",
            self.dir.display(),
            self.port,
            dbname.replace('\'', "\\'")
        )
    }

    /// A `postgresql://` URL over TCP on 127.0.0.1.
    pub fn url(&self, dbname: &str) -> String {
        let db = percent_encoding::utf8_percent_encode(dbname, percent_encoding::NON_ALPHANUMERIC);
        format!(
            "postgresql://postgres@127.0.0.1:{}/{db}?sslmode=disable",
            self.port
        )
    }

    /// Leaves the cluster running after this process ends, for inspection: the server is
    /// restarted in a session of its own without the parent-death signal (which cannot be
    /// taken back from a running process), listening on its socket only, and its folder is
    /// kept and marked. The next
    /// [`clean_leftovers`]`(true)` stops it and removes the folder.
    pub fn keep(mut self) -> Result<Kept> {
        self.stop_quietly();
        let _ = std::fs::remove_file(self.data.join("postmaster.pid"));
        let Some(tmp) = self.keep_dir.take() else {
            return Err(Error::Cluster(
                "this cluster has no folder of its own to keep".into(),
            ));
        };
        let dir = tmp.keep();
        let io = |e: io::Error| Error::Cluster(format!("cannot keep {}: {e}", dir.display()));
        let log = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(dir.join("server.log"))
            .map_err(io)?;
        // Only through its socket, in a folder only this user (or the server's) can enter: no
        // other local user gets a superuser with trust authentication.
        let mut settings = self.settings.clone();
        settings.push(("listen_addresses".into(), String::new()));
        let mut cmd = server_command(
            &self.install,
            &self.data,
            &dir,
            self.port,
            &settings,
            log,
            self.owner,
        )?;
        // SAFETY: setsid is async-signal-safe; the server leaves our session and its signals.
        unsafe {
            cmd.pre_exec(|| {
                nix::unistd::setsid().map_err(io::Error::from)?;
                Ok(())
            });
        }
        // Marked before the start: a run that dies now leaves a kept folder, not an orphan.
        let kept = Kept {
            major: self.install.major,
            port: self.port,
            dir: dir.clone(),
        };
        std::fs::write(dir.join(KEPT_FILE), format!("{}\n", kept.psql("postgres"))).map_err(io)?;
        let child = cmd.spawn().map_err(io)?;
        self.child = Some(child);
        let ready = self.wait_ready();
        // Not ours any more: the system reaps it when this process ends.
        let child = self.child.take();
        if let Err(e) = ready {
            if let Some(mut c) = child {
                let _ = c.kill();
                let _ = c.wait();
            }
            let _ = std::fs::remove_dir_all(&dir);
            return Err(Error::Cluster(format!(
                "PostgreSQL {} did not restart to be kept: {e}",
                self.install.major
            )));
        }
        Ok(kept)
    }

    /// Stops the server (fast shutdown, then immediate, then kill) and removes its folder.
    pub fn stop(mut self) {
        self.stop_quietly();
    }

    fn stop_quietly(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop_pid(child.id() as i32, |timeout| {
                let deadline = Instant::now() + timeout;
                while Instant::now() < deadline {
                    if let Ok(Some(_)) = child.try_wait() {
                        return true;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                false
            });
            let _ = child.wait();
            unregister(child.id());
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop_quietly();
    }
}

type SpawnRequest = (Command, mpsc::Sender<io::Result<Child>>);
