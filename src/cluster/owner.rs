//! Running PostgreSQL's programs as the unprivileged owner when we are root: the owner, the
//! folders it cannot reach (said in one line), a free port, a program run with its output kept.

use super::*;

pub(super) fn owner() -> Result<Option<(Uid, Gid)>> {
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
pub(super) fn unreachable(path: &Path, (uid, gid): (Uid, Gid)) -> Option<String> {
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

pub(super) fn as_owner(cmd: &mut Command, owner: Option<(Uid, Gid)>) {
    if let Some((uid, gid)) = owner {
        cmd.uid(uid.as_raw()).gid(gid.as_raw());
    }
}

pub(super) fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Error::Cluster(format!("no free port: {e}")))?;
    Ok(l.local_addr()
        .map_err(|e| Error::Cluster(e.to_string()))?
        .port())
}

/// Runs a tool (initdb, pg_basebackup) to its end; it dies with the process, like a server.
pub(super) fn run(mut cmd: Command, what: &str) -> Result<()> {
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
