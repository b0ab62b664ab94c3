//! Clusters' folders: the owner marker and the kept marker, and the clean-up of kept clusters
//! and of the folders of killed runs.

use super::*;

/// Every cluster folder starts with this, in the temporary folder, followed by the pid of the
/// process that made it and a dash: `pgparity-cluster-4242-Xa3b9q`. The pid is in the name
/// (not in a file written after) so that no folder exists, even for an instant, whose maker is
/// unknown: a run killed between making its folder and writing into it leaves nothing that
/// looks alive.
pub(super) const PREFIX: &str = "pgparity-cluster-";
/// In folders of older versions: the pid of the process that made it.
pub(super) const OWNER_FILE: &str = "pgparity-owner";

/// The pid of the process that made a cluster folder, from its name (or, for a folder of an
/// older version, from the file it wrote).
pub(super) fn folder_owner(dir: &Path) -> Option<i32> {
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
pub(super) const KEPT_FILE: &str = "pgparity-kept";

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
pub(super) fn stop_leftover(dir: &Path) {
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
