//! Issue 29: the servers run as user `postgres` when pgparity runs as root, so the binaries and
//! the clusters' folders must be reachable by that user wherever the project was cloned (a
//! clone inside a 0700 home folder is not). The install script puts the servers where that
//! user reaches them; a folder it cannot reach is said up front in one line, never met as
//! `initdb: Permission denied` halfway.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::*;

/// A folder like a home folder (mode 0700, root's), holding `bin/` with the 17 binaries
/// linked in.
fn closed_folder_with_binaries() -> (tempfile::TempDir, std::path::PathBuf) {
    let closed = tempfile::tempdir().unwrap();
    std::fs::set_permissions(closed.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let real = pgparity::cluster::Install::find(17).unwrap().bin;
    let bin = closed.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    for tool in ["postgres", "initdb", "pg_ctl"] {
        std::os::unix::fs::symlink(real.join(tool), bin.join(tool)).unwrap();
    }
    (closed, bin)
}

#[test]
fn folders_closed_to_the_server_user_are_said_up_front() {
    if !nix::unistd::Uid::effective().is_root() {
        // Not root: the servers run as this user, who owns whatever folder it made.
        return;
    }
    let (closed, bin) = closed_folder_with_binaries();
    // Binaries named explicitly in a closed folder.
    let o = pgp("demo").env("PGPARITY_PG17_BIN", &bin).run();
    {
        let line = error_line(o.status, &o.stderr);
        assert!(
            line.contains(&format!(
                "PostgreSQL 17 server binaries in {} cannot be run by user postgres",
                bin.display()
            )) && line.contains(&format!(
                "it cannot enter {} (mode 0700",
                closed.path().display()
            )) && line.contains("hint: "),
            "{line}"
        );
    }
    // The clusters' folders in a closed TMPDIR.
    let o = pgp("demo").env("TMPDIR", closed.path()).run();
    let line = error_line(o.status, &o.stderr);
    assert!(
        line.contains(&format!(
            "the throwaway clusters' folders go in {}, which user postgres",
            closed.path().display()
        )) && line.contains("hint: set TMPDIR to a folder every user can enter"),
        "{line}"
    );
}

/// The install script run from a project cloned inside a 0700 folder (as root) installs the
/// servers where user `postgres` can run them, and a cluster starts from there.
#[test]
fn the_install_script_in_a_closed_clone_gives_binaries_the_server_user_can_run() {
    if !nix::unistd::Uid::effective().is_root() {
        // Not root: the servers run as this user, who can reach the project's own .pg/.
        return;
    }
    let closed = tempfile::tempdir().unwrap();
    std::fs::set_permissions(closed.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let scripts = closed.path().join("clone").join("scripts");
    std::fs::create_dir_all(&scripts).unwrap();
    let script = scripts.join("install-postgres.sh");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install-postgres.sh"),
        &script,
    )
    .unwrap();
    let out = std::process::Command::new(&script)
        .arg("17")
        .env_remove("PGPARITY_PG_CACHE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    let bin = said
        .trim()
        .strip_prefix("17 ")
        .unwrap_or_else(|| panic!("{said}"));
    assert_eq!(bin, "/var/cache/pgparity/pg/17/bin");
    let ran = std::process::Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(Path::new(bin).join("postgres"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&ran.stdout).starts_with("postgres (PostgreSQL) 17."),
        "{ran:?}"
    );
}
