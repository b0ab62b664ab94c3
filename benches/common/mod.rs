//! What the benchmarks that run the binary share: a child timed with its own peak memory, and
//! a figure printed as the median of interleaved runs with the min–max and its ratio to a
//! reference measured in the same loop. Each bench uses the part it needs.
#![allow(dead_code)]

use std::process::Command;
use std::time::{Duration, Instant};

/// The peak resident memory of `pid` itself (VmHWM), polled until `done`: wait4's figure
/// would include the largest child it waited for (a rehearsal's throwaway servers).
fn watch_peak(
    pid: i32,
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut peak = 0u64;
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
                if let Some(kb) = s
                    .lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                {
                    peak = peak.max(kb * 1024);
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        peak
    })
}

/// Runs `cmd`, waiting with wait4: (wall time, the process's own peak RSS in bytes). Panics
/// on failure.
pub fn measure(cmd: &mut Command) -> (Duration, u64) {
    let started = Instant::now();
    #[allow(clippy::zombie_processes)] // waited on below with wait4, for its resource usage
    let child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid = child.id() as i32;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = watch_peak(pid, done.clone());
    let mut status = 0;
    let mut usage: nix::libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child with valid pointers; the Child is not waited on again.
    let r = unsafe { nix::libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let own = watcher.join().unwrap_or(0);
    assert_eq!(r, pid, "wait4 failed");
    // pgparity exits 1 for "differences found"; anything else is a failure.
    let ok = nix::libc::WIFEXITED(status)
        && (nix::libc::WEXITSTATUS(status) == 0
            || (nix::libc::WEXITSTATUS(status) == 1
                && cmd.get_program().to_string_lossy().contains("pgparity")));
    if !ok {
        let mut err = String::new();
        if let Some(mut e) = child.stderr {
            use std::io::Read;
            let _ = e.read_to_string(&mut err);
        }
        panic!("{cmd:?} failed ({status}): {err}");
    }
    // A process too short to be polled: wait4's figure (it spawned nothing to wait for).
    let peak = if own > 0 {
        own
    } else {
        usage.ru_maxrss as u64 * 1024
    };
    (elapsed, peak)
}

pub struct Figure {
    pub name: &'static str,
    pub times: Vec<f64>,
    pub reference: Vec<f64>,
    pub peak: u64,
}

impl Figure {
    pub fn new(name: &'static str) -> Figure {
        Figure {
            name,
            times: Vec::new(),
            reference: Vec::new(),
            peak: 0,
        }
    }

    pub fn print(&self, reference_name: &str) {
        let med = |v: &[f64]| {
            let mut s = v.to_vec();
            s.sort_by(|a, b| a.partial_cmp(b).unwrap());
            (s[s.len() / 2], s[0], s[s.len() - 1])
        };
        let (t, lo, hi) = med(&self.times);
        let ratio = if self.reference.is_empty() {
            String::new()
        } else {
            let ratios: Vec<f64> = self
                .times
                .iter()
                .zip(&self.reference)
                .map(|(a, b)| a / b)
                .collect();
            let (r, rlo, rhi) = med(&ratios);
            format!("; / {reference_name}: {r:.2} ({rlo:.2}–{rhi:.2})")
        };
        // Seconds, or milliseconds below one second; the peak where one was taken.
        let (t, lo, hi, unit) = if t < 1.0 {
            (t * 1e3, lo * 1e3, hi * 1e3, "ms")
        } else {
            (t, lo, hi, "s")
        };
        let peak = if self.peak > 0 {
            format!(", peak {:>6.1} MB", self.peak as f64 / 1048576.0)
        } else {
            String::new()
        };
        println!(
            "{:<22} {t:>7.2} {unit} ({lo:.2}–{hi:.2}){peak}{ratio}",
            self.name
        );
    }
}
