//! pgparity: capture two PostgreSQL environments, document every difference side by side,
//! rank it by how likely it is to hide a production bug, and gate on it.
//!
//! Data flow: [`capture`] → [`snapshot::Snapshot`] → [`compare`] → [`finding::Finding`] →
//! [`policy`] → [`report`] → exit code. Each command is a function in [`run`]. The library
//! knows nothing of flags, terminals or exit codes: the binary (`src/main.rs`, `src/cli/`)
//! turns flags into requests, draws progress and writes the output. See ARCHITECTURE.md.

pub mod capture;
pub mod cluster;
pub mod compare;
pub mod config;
pub mod conninfo;
pub mod demo;
pub mod error;
pub mod explain;
pub mod export;
pub mod finding;
pub mod fleet;
pub mod fsutil;
pub mod glob;
pub mod history;
pub mod notify;
pub mod pause;
pub mod policy;
pub mod profile;
pub mod progress;
pub mod rehearse;
pub mod report;
pub mod run;
pub mod seed;
pub mod severity;
pub mod snapshot;
pub mod sql;
pub mod tls;

/// What `pgparity --version` prints: the version, the commit it was built from (build.rs), and
/// the versions of the formats it writes, so a snapshot or a history can be matched to the
/// binary that reads it.
pub fn long_version() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        format!(
            "{}\ncommit {}\nsnapshot format {}, report format {}, history format {} (database schema {})",
            env!("CARGO_PKG_VERSION"),
            env!("PGPARITY_COMMIT"),
            snapshot::FORMAT_VERSION,
            report::json::FORMAT_VERSION,
            history::VERSION,
            history::db::SCHEMA_VERSION,
        )
    })
}

pub use error::{Error, Result};
