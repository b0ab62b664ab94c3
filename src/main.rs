//! The `pgparity` binary: the command line (`cli`), on top of the library.

mod cli;

fn main() -> std::process::ExitCode {
    // Two malloc arenas rather than one per thread (glibc's default allows 8 per core): the
    // capture's threads would otherwise each keep freed pages, a tenth of the peak memory
    // of a 20,000-table check.
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only tunes the allocator; called before any other thread starts.
    unsafe {
        nix::libc::mallopt(nix::libc::M_ARENA_MAX, 2);
    }
    let code = cli::main();
    write_peak();
    code
}

/// Test hook: with `PGPARITY_PEAK_FILE` set, the process's own peak resident memory (VmHWM,
/// "N kB") is written there as it ends. wait4's figure cannot serve: a child spawned from a
/// test (vfork, then exec) inherits the test process's high-water mark as its own.
fn write_peak() {
    let Some(path) = std::env::var_os("PGPARITY_PEAK_FILE") else {
        return;
    };
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(hwm) = status.lines().find_map(|l| l.strip_prefix("VmHWM:")) {
        let _ = std::fs::write(path, hwm.trim());
    }
}
