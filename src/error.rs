//! The library's error type. Every message is one line, lower-case, names what it concerns
//! (environment, file, setting) and, where the user can act, ends with `; hint: ...`.

use std::path::Path;

/// What went wrong; `Display` is the one-line message the binary prints after `error: `.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration file is missing, malformed or names something that does not exist.
    #[error("config {path}: {message}")]
    Config { path: String, message: String },
    /// A connection string could not be read or a connection failed.
    #[error("environment '{env}': {message}")]
    Env { env: String, message: String },
    /// A snapshot file could not be read, or is corrupt, or of another format.
    #[error("snapshot {path}: {message}")]
    Snapshot { path: String, message: String },
    /// A command line or request that cannot be carried out as given.
    #[error("{0}")]
    Usage(String),
    /// An output file could not be written.
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
    /// A throwaway cluster could not be installed, started or stopped.
    #[error("cluster: {0}")]
    Cluster(String),
}

impl Error {
    pub fn config(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::Config {
            path: path.as_ref().display().to_string(),
            message: message.into(),
        }
    }
    pub fn env(env: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Env {
            env: env.into(),
            message: message.into(),
        }
    }
    pub fn snapshot(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::Snapshot {
            path: path.as_ref().display().to_string(),
            message: message.into(),
        }
    }
    pub fn write(path: impl AsRef<Path>, err: impl std::fmt::Display) -> Self {
        Error::Write {
            path: path.as_ref().display().to_string(),
            message: err.to_string(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An I/O error as a lower-case phrase without the `(os error N)` tail.
pub fn io_message(e: &std::io::Error) -> String {
    let s = e.to_string();
    let s = match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    };
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => s,
    }
}
