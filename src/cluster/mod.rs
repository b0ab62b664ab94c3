//! Throwaway PostgreSQL clusters for the tests and `pgparity demo`: initdb into a temporary
//! folder, a free port on 127.0.0.1 plus a unix socket in that folder, the server run as the
//! unprivileged `postgres` user when we are root (PostgreSQL refuses to run as root).
//!
//! No stray server is left behind: a cluster stops when dropped (also while a failing test
//! unwinds); servers are started from one long-lived thread with a parent-death signal, so the
//! kernel stops them if the process dies; and clusters still running at normal process exit
//! (e.g. held in a static by a test harness) are stopped by an exit handler.

mod install;
mod pooler;

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

pub use install::Install;
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

/// Every cluster folder starts with this, in the temporary folder, followed by the pid of the
/// process that made it and a dash: `pgparity-cluster-4242-Xa3b9q`. The pid is in the name
/// (not in a file written after) so that no folder exists, even for an instant, whose maker is
/// unknown: a run killed between making its folder and writing into it leaves nothing that
/// looks alive.
const PREFIX: &str = "pgparity-cluster-";
/// In folders of older versions: the pid of the process that made it.
const OWNER_FILE: &str = "pgparity-owner";

/// The pid of the process that made a cluster folder, from its name (or, for a folder of an
/// older version, from the file it wrote).
fn folder_owner(dir: &Path) -> Option<i32> {
    let name = dir.file_name()?.to_str()?.strip_prefix(PREFIX)?;
    name.split_once('-')
        .and_then(|(pid, _)| pid.parse().ok())
        .or_else(|| {
            std::fs::read_to_string(dir.join(OWNER_FILE))
                .ok()
                .and_then(|s| s.trim().parse().ok())
        })
}
/// In a kept cluster's folder: says it was kept on purpose (and how to reach it).
const KEPT_FILE: &str = "pgparity-kept";

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

/// What earlier runs left in the temporary folder: clusters kept on purpose, and folders of
/// runs that died without cleaning up (killed, power cut). Each one's server is stopped (if it
/// still runs) and its folder removed. Kept clusters only when `kept` is asked for; another
/// run's live folders are never touched. Returns how many folders of each kind were removed.
pub fn clean_leftovers(kept: bool) -> (usize, usize) {
    let (mut k, mut orphans) = (0, 0);
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return (0, 0);
    };
    for dir in entries.flatten().map(|e| e.path()) {
        let is_ours = dir
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(PREFIX));
        if !is_ours {
            continue;
        }
        if dir.join(KEPT_FILE).exists() {
            if !kept {
                continue;
            }
            k += 1;
        } else {
            // Alive (or unknown: a folder of an older version still being made).
            let dead = folder_owner(&dir)
                .is_some_and(|pid| kill(Pid::from_raw(pid), None) == Err(nix::errno::Errno::ESRCH));
            if !dead {
                continue;
            }
            orphans += 1;
        }
        stop_leftover(&dir);
        let _ = std::fs::remove_dir_all(&dir);
    }
    (k, orphans)
}

/// Stops the server of a left-over folder, if one still runs there (its pid file names it,
/// and its command line names the folder: a reused pid is left alone).
fn stop_leftover(dir: &Path) {
    let data = dir.join("data");
    let Some(pid) = std::fs::read_to_string(data.join("postmaster.pid"))
        .ok()
        .and_then(|s| s.lines().next().and_then(|l| l.trim().parse::<i32>().ok()))
    else {
        return;
    };
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    if !String::from_utf8_lossy(&cmdline).contains(&*data.to_string_lossy()) {
        return;
    }
    stop_pid(pid, |timeout| {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if kill(Pid::from_raw(pid), None).is_err() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    });
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

fn owner() -> Result<Option<(Uid, Gid)>> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    let user = nix::unistd::User::from_name("postgres")
        .map_err(|e| Error::Cluster(format!("cannot look up user postgres: {e}")))?
        .ok_or_else(|| {
            Error::Cluster("running as root, but there is no 'postgres' user to run the server as; hint: useradd --system postgres".into())
        })?;
    Ok(Some((user.uid, user.gid)))
}

/// Why `user` cannot reach `path` (search every folder above it, and enter or run `path`
/// itself), judged by the modes and owners of each: `None` when it can.
fn unreachable(path: &Path, (uid, gid): (Uid, Gid)) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let may = |m: &std::fs::Metadata, bits: u32| {
        let (u, g, o) = ((m.mode() >> 6) & 7, (m.mode() >> 3) & 7, m.mode() & 7);
        let granted = if m.uid() == uid.as_raw() {
            u
        } else if m.gid() == gid.as_raw() {
            g
        } else {
            o
        };
        granted & bits == bits
    };
    let mut folders: Vec<&Path> = path.ancestors().skip(1).collect();
    folders.reverse();
    for dir in folders.into_iter().filter(|d| !d.as_os_str().is_empty()) {
        let m = std::fs::metadata(dir).ok()?;
        if !may(&m, 0o1) {
            return Some(format!(
                "it cannot enter {} (mode {:04o}, owner uid {})",
                dir.display(),
                m.mode() & 0o7777,
                m.uid()
            ));
        }
    }
    // A folder is entered, a program run: both the search/execute bit.
    let m = std::fs::metadata(path).ok()?;
    (!may(&m, 0o1)).then(|| {
        format!(
            "it cannot use {} (mode {:04o})",
            path.display(),
            m.mode() & 0o7777
        )
    })
}

fn as_owner(cmd: &mut Command, owner: Option<(Uid, Gid)>) {
    if let Some((uid, gid)) = owner {
        cmd.uid(uid.as_raw()).gid(gid.as_raw());
    }
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Error::Cluster(format!("no free port: {e}")))?;
    Ok(l.local_addr()
        .map_err(|e| Error::Cluster(e.to_string()))?
        .port())
}

/// Runs a tool (initdb, pg_basebackup) to its end; it dies with the process, like a server.
fn run(mut cmd: Command, what: &str) -> Result<()> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SIGKILL: initdb traps the polite signals and would go on writing into a removed folder.
    let out = spawn_guarded(cmd, Signal::SIGKILL)
        .and_then(|c| {
            let pid = c.id();
            TOOLS.lock().unwrap_or_else(|e| e.into_inner()).push(pid);
            let out = c.wait_with_output();
            TOOLS
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|p| *p != pid);
            out
        })
        .map_err(|e| Error::Cluster(format!("cannot run {what}: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or("")
            .to_string();
        return Err(Error::Cluster(format!("{what} failed: {last}")));
    }
    Ok(())
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

    /// A streaming standby of this cluster (pg_basebackup -R), started and connected.
    pub fn start_standby(&self, opts: &ClusterOptions) -> Result<Cluster> {
        let (tmp, owner) = Self::prepare_dir()?;
        let data = tmp.path().join("data");
        if self.install.tool("pg_basebackup").is_file() {
            let mut bb = Command::new(self.install.tool("pg_basebackup"));
            bb.arg("-D")
                .arg(&data)
                .arg("-h")
                .arg(&self.dir)
                .args([
                    "-p",
                    &self.port.to_string(),
                    "-U",
                    "postgres",
                    "-R",
                    "-X",
                    "stream",
                    "-c",
                    "fast",
                ])
                .current_dir(tmp.path());
            as_owner(&mut bb, owner);
            run(bb, "pg_basebackup")?;
        } else {
            self.copy_backup(&data, owner)?;
        }
        let standby = Self::launch(&self.install, tmp, data, owner, opts)?;
        // Wait until the primary sees it streaming.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let n = self.query_scalar(
                "postgres",
                "SELECT count(*)::text FROM pg_stat_replication WHERE state = 'streaming'",
            )?;
            if n != "0" {
                return Ok(standby);
            }
            if Instant::now() > deadline {
                return Err(Error::Cluster(
                    "the standby did not start streaming within 120 s".into(),
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A base backup without pg_basebackup (the npm packages ship only the server): the
    /// low-level backup API around a file copy, then standby.signal and primary_conninfo.
    fn copy_backup(&self, dest: &Path, owner: Option<(Uid, Gid)>) -> Result<()> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Cluster(e.to_string()))?;
        let (start, stop) = if self.install.major >= 15 {
            (
                "SELECT pg_backup_start('pgparity', true)::text",
                "SELECT labelfile FROM pg_backup_stop(false)",
            )
        } else {
            (
                "SELECT pg_start_backup('pgparity', true, false)::text",
                "SELECT labelfile FROM pg_stop_backup(false, false)",
            )
        };
        let conninfo = self.conninfo("postgres");
        let sql_err = |e: tokio_postgres::Error| {
            Error::Cluster(format!("base backup: {}", crate::capture::db_message(&e)))
        };
        let label: String = rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(&conninfo, tokio_postgres::NoTls)
                .await
                .map_err(sql_err)?;
            let handle = tokio::spawn(conn);
            client.query_typed_one(start, &[]).await.map_err(sql_err)?;
            let mut cp = Command::new("cp");
            cp.arg("-a").arg(&self.data).arg(dest);
            as_owner(&mut cp, owner);
            run(cp, "cp (base backup)")?;
            let label: String = client
                .query_typed_one(stop, &[])
                .await
                .and_then(|r| r.try_get(0))
                .map_err(sql_err)?;
            drop(client);
            let _ = handle.await;
            Ok::<_, Error>(label)
        })?;
        for f in ["postmaster.pid", "postmaster.opts"] {
            let _ = std::fs::remove_file(dest.join(f));
        }
        let io = |e: io::Error| Error::Cluster(format!("base backup: {e}"));
        std::fs::write(dest.join("backup_label"), label).map_err(io)?;
        std::fs::write(dest.join("standby.signal"), "").map_err(io)?;
        let mut auto = std::fs::OpenOptions::new()
            .append(true)
            .open(dest.join("postgresql.auto.conf"))
            .map_err(io)?;
        use std::io::Write as _;
        writeln!(
            auto,
            "primary_conninfo = 'host={} port={} user=postgres'",
            self.dir.display(),
            self.port
        )
        .map_err(io)?;
        if let Some((uid, gid)) = owner {
            for f in ["backup_label", "standby.signal", "postgresql.auto.conf"] {
                let _ = nix::unistd::chown(&dest.join(f), Some(uid), Some(gid));
            }
        }
        Ok(())
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

    /// Runs SQL (several statements allowed) as the superuser in `dbname`.
    pub fn execute(&self, dbname: &str, sql: &str) -> Result<()> {
        self.run_sql(dbname, sql, false).map(|_| ())
    }

    /// Runs a query returning one text value.
    pub fn query_scalar(&self, dbname: &str, sql: &str) -> Result<String> {
        self.run_sql(dbname, sql, true)
    }

    fn run_sql(&self, dbname: &str, sql: &str, scalar: bool) -> Result<String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Cluster(e.to_string()))?;
        let conninfo = self.conninfo(dbname);
        let major = self.install.major;
        rt.block_on(async move {
            let (client, conn) = tokio_postgres::connect(&conninfo, tokio_postgres::NoTls)
                .await
                .map_err(|e| {
                    Error::Cluster(format!(
                        "cannot connect to the PostgreSQL {major} cluster: {e}"
                    ))
                })?;
            let handle = tokio::spawn(conn);
            let out = if scalar {
                client
                    .query_typed_one(sql, &[])
                    .await
                    .and_then(|r| r.try_get::<_, Option<String>>(0))
                    .map(Option::unwrap_or_default)
            } else {
                client.batch_execute(sql).await.map(|_| String::new())
            };
            drop(client);
            let _ = handle.await;
            out.map_err(|e| {
                Error::Cluster(format!(
                    "SQL failed on the PostgreSQL {major} cluster: {}",
                    crate::capture::db_message(&e)
                ))
            })
        })
    }

    /// Sends SIGHUP: reread configuration (pg_hba.conf, ALTER SYSTEM).
    /// Returns once the postmaster has reloaded (its configuration load time moved on; the
    /// sessions started after that see the new settings).
    pub fn reload(&self) -> Result<()> {
        let Some(c) = &self.child else {
            return Ok(());
        };
        const LOADED: &str = "SELECT pg_conf_load_time()::text";
        let before = self.query_scalar("postgres", LOADED)?;
        kill(Pid::from_raw(c.id() as i32), Signal::SIGHUP)
            .map_err(|e| Error::Cluster(format!("reload: {e}")))?;
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.query_scalar("postgres", LOADED)? == before {
            if Instant::now() > deadline {
                return Err(Error::Cluster(
                    "the server did not reload its configuration within 120 s".into(),
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }

    /// Prepends a line to pg_hba.conf (first match wins) and reloads.
    pub fn prepend_hba(&self, line: &str) -> Result<()> {
        let path = self.data.join("pg_hba.conf");
        let old = std::fs::read_to_string(&path).map_err(|e| Error::Cluster(e.to_string()))?;
        std::fs::write(&path, format!("{line}\n{old}"))
            .map_err(|e| Error::Cluster(e.to_string()))?;
        if let Some((uid, gid)) = self.owner {
            let _ = nix::unistd::chown(&path, Some(uid), Some(gid));
        }
        self.reload()
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

/// SIGINT (fast shutdown), then SIGQUIT (immediate), then SIGKILL, each with a grace period.
fn stop_pid(pid: i32, mut wait: impl FnMut(Duration) -> bool) {
    for (sig, grace) in [
        (Signal::SIGINT, 20),
        (Signal::SIGQUIT, 5),
        (Signal::SIGKILL, 5),
    ] {
        if kill(Pid::from_raw(pid), sig).is_err() {
            return;
        }
        if wait(Duration::from_secs(grace)) {
            return;
        }
    }
}

type SpawnRequest = (Command, mpsc::Sender<io::Result<Child>>);

/// Spawns from one thread that lives as long as the process, with PR_SET_PDEATHSIG: the
/// kernel sends `on_death` (SIGQUIT, immediate shutdown, to a server) to the child when the
/// process dies, however it dies. (The signal fires when the spawning *thread* exits, hence
/// the dedicated thread.)
fn spawn_guarded(mut cmd: Command, on_death: Signal) -> io::Result<Child> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(on_death).map_err(io::Error::from)?;
            Ok(())
        });
    }
    let tx = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("pgparity-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("spawn thread");
        Mutex::new(tx)
    });
    let (reply_tx, reply_rx) = mpsc::channel();
    tx.lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((cmd, reply_tx))
        .map_err(|_| io::Error::other("spawner gone"))?;
    reply_rx
        .recv()
        .map_err(|_| io::Error::other("spawner gone"))?
}

/// Tools still running (initdb, pg_basebackup), killed by the exit handler before it removes
/// the folders they write into.
static TOOLS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Servers still running, stopped by the exit handler.
static RUNNING: Mutex<Vec<(u32, PathBuf)>> = Mutex::new(Vec::new());

/// Installs, once, what stops every server and removes every folder when the process ends:
/// an exit handler, and a thread that turns Ctrl-C, a closed terminal or a `kill` into an
/// exit through it (the kernel's parent-death signal alone would stop the servers but leave
/// their folders).
fn guard_exit() {
    static HANDLER: OnceLock<()> = OnceLock::new();
    HANDLER.get_or_init(|| {
        // SAFETY: registers a plain extern "C" function, once.
        unsafe {
            nix::libc::atexit(stop_all_at_exit);
        }
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        if let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
            let _ = std::thread::Builder::new()
                .name("pgparity-signals".into())
                .spawn(move || {
                    if let Some(sig) = signals.forever().next() {
                        eprintln!("\ninterrupted: stopping the throwaway clusters");
                        std::process::exit(128 + sig);
                    }
                });
        }
    });
}

/// A cluster's folder, removed at exit even before its server runs (pid 0: nothing to stop).
fn register_dir(dir: &Path) {
    guard_exit();
    RUNNING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((0, dir.to_path_buf()));
}

/// The server of a registered folder: stopped at exit, then its folder removed.
fn register(pid: u32, dir: &Path) {
    guard_exit();
    let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    running.retain(|(_, d)| d != dir);
    running.push((pid, dir.to_path_buf()));
}

fn unregister(pid: u32) {
    RUNNING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|(p, _)| *p != pid);
}

extern "C" fn stop_all_at_exit() {
    let tools = std::mem::take(&mut *TOOLS.lock().unwrap_or_else(|e| e.into_inner()));
    for pid in tools {
        let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(Pid::from_raw(pid as i32), None);
    }
    let running = std::mem::take(&mut *RUNNING.lock().unwrap_or_else(|e| e.into_inner()));
    for (pid, dir) in running {
        if pid == 0 {
            let _ = std::fs::remove_dir_all(dir);
            continue;
        }
        stop_pid(pid as i32, |timeout| {
            let deadline = Instant::now() + timeout;
            while Instant::now() < deadline {
                match nix::sys::wait::waitpid(
                    Pid::from_raw(pid as i32),
                    Some(nix::sys::wait::WaitPidFlag::WNOHANG),
                ) {
                    Ok(nix::sys::wait::WaitStatus::StillAlive) => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    _ => return true,
                }
            }
            false
        });
        let _ = std::fs::remove_dir_all(dir);
    }
}
