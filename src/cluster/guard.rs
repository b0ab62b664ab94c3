//! No stray server: servers started from one long-lived thread with a parent-death signal,
//! every running one registered and stopped by an exit handler, a pid stopped politely then
//! firmly.

use super::*;

/// SIGINT (fast shutdown), then SIGQUIT (immediate), then SIGKILL, each with a grace period.
pub(super) fn stop_pid(pid: i32, mut wait: impl FnMut(Duration) -> bool) {
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

/// Spawns from one thread that lives as long as the process, with PR_SET_PDEATHSIG: the
/// kernel sends `on_death` (SIGQUIT, immediate shutdown, to a server) to the child when the
/// process dies, however it dies. (The signal fires when the spawning *thread* exits, hence
/// the dedicated thread.)
pub(super) fn spawn_guarded(mut cmd: Command, on_death: Signal) -> io::Result<Child> {
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
pub(super) static TOOLS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Servers still running, stopped by the exit handler.
pub(super) static RUNNING: Mutex<Vec<(u32, PathBuf)>> = Mutex::new(Vec::new());

/// Installs, once, what stops every server and removes every folder when the process ends:
/// an exit handler, and a thread that turns Ctrl-C, a closed terminal or a `kill` into an
/// exit through it (the kernel's parent-death signal alone would stop the servers but leave
/// their folders).
pub(super) fn guard_exit() {
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
pub(super) fn register_dir(dir: &Path) {
    guard_exit();
    RUNNING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((0, dir.to_path_buf()));
}

/// The server of a registered folder: stopped at exit, then its folder removed.
pub(super) fn register(pid: u32, dir: &Path) {
    guard_exit();
    let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    running.retain(|(_, d)| d != dir);
    running.push((pid, dir.to_path_buf()));
}

pub(super) fn unregister(pid: u32) {
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
