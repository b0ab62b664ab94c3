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
    cli::main()
}
