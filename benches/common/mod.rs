//! What the benchmarks that run the binary share: a child timed with its peak memory (wait4),
//! and a figure printed as the median of interleaved runs with the min–max and its ratio to
//! a reference measured in the same loop.

use std::process::Command;
use std::time::{Duration, Instant};

/// Runs `cmd`, waiting with wait4: (wall time, peak RSS in bytes). Panics on failure.
pub fn measure(cmd: &mut Command) -> (Duration, u64) {
    let started = Instant::now();
    #[allow(clippy::zombie_processes)] // waited on below with wait4, for its resource usage
    let child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid = child.id() as i32;
    let mut status = 0;
    let mut usage: nix::libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child with valid pointers; the Child is not waited on again.
    let r = unsafe { nix::libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
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
    (elapsed, usage.ru_maxrss as u64 * 1024)
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
        println!(
            "{:<22} {t:>7.2} s ({lo:.2}–{hi:.2}), peak {:>6.1} MB{ratio}",
            self.name,
            self.peak as f64 / 1048576.0
        );
    }
}
