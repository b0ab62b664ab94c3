//! The commit `pgparity --version` names: `PGPARITY_COMMIT` when set (a release build from a
//! tarball), else the work tree's HEAD (read from `.git`, not asked of `git`), else the
//! `.cargo_vcs_info.json` that `cargo package` writes into a published crate, else "unknown".
//! A few lines of our own: the crates that do this (vergen, built) run `git`, which refuses a
//! clone another user owns, and do not read the packaged crate's file, which is where a
//! `cargo install pgparity` build finds its commit.

use std::path::Path;

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
    // `.git` is a folder, or a file naming one (a worktree, a submodule).
    let mut git = std::path::PathBuf::from(".git");
    if git.is_file() {
        let text = std::fs::read_to_string(&git).ok()?;
        git = text.trim().strip_prefix("gitdir: ")?.into();
    }
    if !git.is_dir() {
        return None;
    }
    // Rebuild when HEAD moves: the file HEAD, the branch it names, and packed refs. Only files
    // that exist: cargo reruns the script on every build for a missing one (and the crate is
    // rebuilt); a loose ref packed away disappears, which reruns it once.
    let watch = |p: &Path| {
        if p.exists() {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    };
    watch(&git.join("HEAD"));
    watch(&git.join("packed-refs"));
    let head = std::fs::read_to_string(git.join("HEAD")).ok()?;
    let head = head.trim();
    let Some(r) = head.strip_prefix("ref: ") else {
        return is_sha(head).then(|| head.to_string());
    };
    watch(&git.join(r));
    // The ref's file, else its line in packed-refs; read directly rather than with `git`,
    // which refuses a clone another user owns ("dubious ownership") and may not be installed.
    if let Ok(sha) = std::fs::read_to_string(git.join(r)) {
        return is_sha(sha.trim()).then(|| sha.trim().to_string());
    }
    if let Ok(packed) = std::fs::read_to_string(git.join("packed-refs")) {
        for line in packed.lines() {
            if let Some((sha, name)) = line.split_once(' ') {
                if name == r && is_sha(sha) {
                    return Some(sha.to_string());
                }
            }
        }
    }
    // A worktree keeps its refs in the common folder.
    let common = std::fs::read_to_string(git.join("commondir")).ok()?;
    let sha = std::fs::read_to_string(git.join(common.trim()).join(r)).ok()?;
    is_sha(sha.trim()).then(|| sha.trim().to_string())
}

fn is_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
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
    is_sha(sha).then(|| sha.to_string())
}
