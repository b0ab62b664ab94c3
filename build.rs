//! The commit `pgparity --version` names: `PGPARITY_COMMIT` when set (a release build from a
//! tarball), else the work tree's `git rev-parse HEAD`, else the `.cargo_vcs_info.json` that
//! `cargo package` writes into a published crate, else "unknown". A few lines of our own: the
//! crates that do this (vergen, built) run git the same way but do not read the packaged
//! crate's file, which is where a `cargo install pgparity` build finds its commit.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PGPARITY_COMMIT");
    let commit = std::env::var("PGPARITY_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(from_git)
        .or_else(from_vcs_info)
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=PGPARITY_COMMIT={}", commit.trim());
}

fn from_git() -> Option<String> {
    let git = Path::new(".git");
    if !git.exists() {
        return None;
    }
    // Rebuild when HEAD moves: the file HEAD, the branch it names, and packed refs.
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/packed-refs");
    if let Ok(head) = std::fs::read_to_string(git.join("HEAD")) {
        if let Some(r) = head.trim().strip_prefix("ref: ") {
            println!("cargo:rerun-if-changed=.git/{r}");
        }
    }
    let out = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    let s = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && s.trim().len() >= 7).then(|| s.trim().to_string())
}

fn from_vcs_info() -> Option<String> {
    println!("cargo:rerun-if-changed=.cargo_vcs_info.json");
    let text = std::fs::read_to_string(".cargo_vcs_info.json").ok()?;
    // {"git": {"sha1": "…"}, "path_in_vcs": ""}: the one field, without a JSON parser in the
    // build script's dependencies.
    let at = text.find("\"sha1\"")?;
    let rest = &text[at + 6..];
    let start = rest.find('"')? + 1;
    let end = start + rest[start..].find('"')?;
    let sha = &rest[start..end];
    (sha.len() >= 7 && sha.bytes().all(|b| b.is_ascii_hexdigit())).then(|| sha.to_string())
}
