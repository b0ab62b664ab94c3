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
    /// The server refused a connection or a statement: the message says what it means for the
    /// user; the cause keeps the server's SQLSTATE for callers ([`Error::sqlstate`]).
    #[error("environment '{env}': {message}")]
    Database {
        env: String,
        message: String,
        #[source]
        cause: DbCause,
    },
    /// A snapshot file could not be read, or is corrupt, or of another format.
    #[error("snapshot {path}: {message}")]
    Snapshot { path: String, message: String },
    /// A command line or request that cannot be carried out as given.
    #[error("{0}")]
    Usage(String),
    /// An output file could not be written.
    #[error("cannot write {path}: {message}")]
    Write {
        path: String,
        message: String,
        #[source]
        cause: Option<std::io::Error>,
    },
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
    /// A server error met on `env`, explained by `message`.
    pub fn database(
        env: impl Into<String>,
        message: impl Into<String>,
        e: &tokio_postgres::Error,
    ) -> Self {
        match e.as_db_error() {
            Some(db) => Error::Database {
                env: env.into(),
                message: message.into(),
                cause: DbCause {
                    sqlstate: db.code().code().to_string(),
                    message: db.message().to_string(),
                },
            },
            None => Error::env(env, message),
        }
    }
    /// An output file that could not be written for a reason of ours (`it is a folder`).
    pub fn write(path: impl AsRef<Path>, reason: impl std::fmt::Display) -> Self {
        Error::Write {
            path: path.as_ref().display().to_string(),
            message: reason.to_string(),
            cause: None,
        }
    }
    /// An output file that could not be written: the system's error kept as the cause.
    pub fn write_io(path: impl AsRef<Path>, e: std::io::Error) -> Self {
        Error::Write {
            path: path.as_ref().display().to_string(),
            message: io_message(&e),
            cause: Some(e),
        }
    }
    /// The server's SQLSTATE (`28P01` for a wrong password, `3D000` for a missing database),
    /// when the server gave one.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            Error::Database { cause, .. } => Some(&cause.sqlstate),
            _ => None,
        }
    }
}

/// What the server said: its SQLSTATE and its message (shown once: the error's own message
/// already carries it, so a printed chain skips it).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct DbCause {
    pub sqlstate: String,
    pub message: String,
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

/// An error and its causes on one line, each cause once: a message that already contains its
/// cause's text does not repeat it, and a server's error is always explained in the library's
/// own message (its SQLSTATE is for callers, not for the line).
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut line = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !line.contains(&text) && !s.is::<DbCause>() {
            line = format!("{line}: {text}");
        }
        source = s.source();
    }
    line
}
