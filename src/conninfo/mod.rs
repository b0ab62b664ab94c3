//! A libpq-compatible reading of connection strings, because tokio-postgres reads none of
//! libpq's defaults: URL and key/value forms, the service file, `PG*` variables, compiled
//! defaults and the password file, in libpq's order of precedence (explicit > service >
//! environment > default). The result builds a `tokio_postgres::Config` and a TLS policy.
//!
//! Touches the file system (service file, password file) and the process environment, never
//! the network. Passwords stay inside [`Resolved`]; everything printable is redacted.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod files;
mod resolve;
mod syntax;

use files::*;
use syntax::*;

/// libpq keywords this layer understands; anything else is refused with a clear message.
const KEYWORDS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "service",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcrl",
    "connect_timeout",
    "application_name",
    "fallback_application_name",
    "options",
    "target_session_attrs",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "load_balance_hosts",
    "channel_binding",
    "sslnegotiation",
    "gssencmode",
];

/// Environment variables and the keyword each one fills (libpq's table).
const ENV_VARS: &[(&str, &str)] = &[
    ("PGHOST", "host"),
    ("PGHOSTADDR", "hostaddr"),
    ("PGPORT", "port"),
    ("PGDATABASE", "dbname"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGPASSFILE", "passfile"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGSSLCERT", "sslcert"),
    ("PGSSLKEY", "sslkey"),
    ("PGSSLCRL", "sslcrl"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
    ("PGOPTIONS", "options"),
    ("PGTARGETSESSIONATTRS", "target_session_attrs"),
    ("PGCHANNELBINDING", "channel_binding"),
    ("PGLOADBALANCEHOSTS", "load_balance_hosts"),
];

/// libpq's `target_session_attrs`: which of the listed hosts a session may stay on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionAttrs {
    Any,
    ReadWrite,
    ReadOnly,
    Primary,
    Standby,
    PreferStandby,
}

impl SessionAttrs {
    pub fn parse(s: &str) -> Result<SessionAttrs, String> {
        Ok(match s {
            "any" => SessionAttrs::Any,
            "read-write" => SessionAttrs::ReadWrite,
            "read-only" => SessionAttrs::ReadOnly,
            "primary" => SessionAttrs::Primary,
            "standby" => SessionAttrs::Standby,
            "prefer-standby" => SessionAttrs::PreferStandby,
            other => {
                return Err(format!(
                    "invalid target_session_attrs '{}'; hint: use any, read-write, read-only, primary, standby or prefer-standby",
                    shown(other)
                ))
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            SessionAttrs::Any => "any",
            SessionAttrs::ReadWrite => "read-write",
            SessionAttrs::ReadOnly => "read-only",
            SessionAttrs::Primary => "primary",
            SessionAttrs::Standby => "standby",
            SessionAttrs::PreferStandby => "prefer-standby",
        }
    }
}

/// libpq's `channel_binding`: SCRAM bound to the TLS channel (`require` refuses a server
/// that cannot, and a connection without TLS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelBinding {
    Disable,
    Prefer,
    Require,
}

/// TCP keepalive timing (libpq's `keepalives_idle`, `keepalives_interval`, `keepalives_count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    pub idle: Duration,
    pub interval: Duration,
    pub count: u32,
}

/// How TLS is negotiated and verified, as libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub fn parse(s: &str) -> Result<SslMode, String> {
        Ok(match s {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(format!(
                    "invalid sslmode '{}'; hint: use disable, allow, prefer, require, verify-ca or verify-full",
                    shown(other)
                ))
            }
        })
    }
}

/// A connection string as written: keyword → value, before any default is applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnInfo {
    params: BTreeMap<String, String>,
}

/// Where defaults come from; the real process environment in production, a map in tests.
pub trait Environment {
    fn var(&self, name: &str) -> Option<String>;
    fn home(&self) -> Option<PathBuf> {
        self.var("HOME").map(PathBuf::from)
    }
    fn os_user(&self) -> Option<String>;
}

/// `text` as shown in an error: control characters (newlines, NULs...) escaped, so the error
/// stays one line whatever was typed.
fn shown(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// An environment of the given variables only, whose OS user is `user` (tests, fuzzing, and
/// callers that resolve a connection string for another process).
pub struct VarsEnv {
    pub vars: Vec<(String, String)>,
    pub user: String,
}

impl Environment for VarsEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    }
    fn os_user(&self) -> Option<String> {
        Some(self.user.clone())
    }
}

/// The process's own environment.
pub struct ProcessEnv;

impl Environment for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
    fn os_user(&self) -> Option<String> {
        nix::unistd::User::from_uid(nix::unistd::getuid())
            .ok()
            .flatten()
            .map(|u| u.name)
    }
}

impl ConnInfo {
    /// Reads a libpq connection string: a `postgresql://` / `postgres://` URL, or
    /// `key=value` pairs (values may be single-quoted, with `\'` and `\\` escapes).
    pub fn parse(s: &str) -> Result<ConnInfo, String> {
        let s = s.trim();
        let params = if s.starts_with("postgresql://") || s.starts_with("postgres://") {
            parse_url(s)?
        } else {
            parse_key_values(s)?
        };
        for key in params.keys() {
            if !KEYWORDS.contains(&key.as_str()) {
                return Err(format!("unknown connection option '{}'", shown(key)));
            }
        }
        if let Some(mode) = params.get("sslmode") {
            SslMode::parse(mode)?;
        }
        if let Some(attrs) = params.get("target_session_attrs") {
            SessionAttrs::parse(attrs)?;
        }
        Ok(ConnInfo { params })
    }

    /// Sets a keyword unless the string already gives it.
    pub fn set_default(&mut self, key: &str, value: &str) {
        self.params
            .entry(key.to_string())
            .or_insert_with(|| value.to_string());
    }

    /// Sets a keyword, replacing what the string gave.
    pub fn set(&mut self, key: &str, value: &str) {
        self.params.insert(key.to_string(), value.to_string());
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }

    /// The string with any password replaced by `***`, safe to print.
    pub fn redacted(&self) -> String {
        self.params
            .iter()
            .map(|(k, v)| {
                let v = if k == "password" || k == "sslpassword" {
                    "***"
                } else {
                    v.as_str()
                };
                format!("{k}={}", quote_value(v))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// One host to try: a name or socket folder, an optional numeric address, a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: Option<String>,
    pub hostaddr: Option<IpAddr>,
    pub port: u16,
}

impl Endpoint {
    pub fn is_socket(&self) -> bool {
        self.hostaddr.is_none()
            && self
                .host
                .as_deref()
                .is_some_and(|h| h.starts_with('/') || h.starts_with('@'))
    }
    /// `host:port` (the name, else the address).
    pub fn describe(&self) -> String {
        let h = self
            .host
            .clone()
            .or_else(|| self.hostaddr.map(|a| a.to_string()))
            .unwrap_or_default();
        format!("{h}:{}", self.port)
    }

    fn pgpass_host(&self) -> String {
        match (&self.host, &self.hostaddr) {
            (Some(h), _) if !self.is_socket() => h.clone(),
            (None, Some(a)) => a.to_string(),
            _ => "localhost".into(),
        }
    }
}

/// A connection string with every default applied: what will actually be used.
#[derive(Clone)]
pub struct Resolved {
    pub endpoints: Vec<Endpoint>,
    pub user: String,
    pub dbname: String,
    password: Option<String>,
    pub sslmode: SslMode,
    pub sslrootcert: Option<PathBuf>,
    pub sslcert: Option<PathBuf>,
    pub sslkey: Option<PathBuf>,
    /// The client key's password (an encrypted PKCS#8 key); never printed.
    sslpassword: Option<String>,
    /// Revoked certificates (PEM CRLs) the server's chain is checked against.
    pub sslcrl: Option<PathBuf>,
    pub channel_binding: ChannelBinding,
    pub connect_timeout: Option<Duration>,
    pub options: Option<String>,
    pub target_session_attrs: SessionAttrs,
    /// TCP keepalives; `None` with `keepalives=0`.
    pub keepalive: Option<Keepalive>,
    pub tcp_user_timeout: Option<Duration>,
    /// `load_balance_hosts=random`: hosts tried in a random order.
    pub load_balance: bool,
    /// Where the password came from (never the password itself), for messages.
    pub password_source: Option<String>,
}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Resolved {
    /// `user@host:port/dbname`, without the password: for messages and snapshots.
    pub fn describe(&self) -> String {
        let hosts = self
            .endpoints
            .iter()
            .map(Endpoint::describe)
            .collect::<Vec<_>>()
            .join(",");
        format!("{}@{hosts}/{}", self.user, self.dbname)
    }

    /// `user@host:port/dbname` of one of the hosts: the one a session reached.
    pub fn describe_at(&self, e: &Endpoint) -> String {
        format!("{}@{}/{}", self.user, e.describe(), self.dbname)
    }

    /// The client key's password, for the TLS layer only.
    pub fn sslpassword(&self) -> Option<&str> {
        self.sslpassword.as_deref()
    }

    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// The tokio-postgres configuration of one session, without its host: the caller opens
    /// the socket to each host in turn (`crate::capture::wire`); TLS is decided by
    /// [`crate::tls`].
    pub fn to_config(&self, application_name: &str) -> tokio_postgres::Config {
        let mut c = tokio_postgres::Config::new();
        c.user(&self.user)
            .dbname(&self.dbname)
            .application_name(application_name);
        if let Some(pw) = &self.password {
            c.password(pw.as_bytes());
        }
        if let Some(o) = &self.options {
            c.options(o);
        }
        c.channel_binding(match self.channel_binding {
            ChannelBinding::Disable => tokio_postgres::config::ChannelBinding::Disable,
            ChannelBinding::Prefer => tokio_postgres::config::ChannelBinding::Prefer,
            ChannelBinding::Require => tokio_postgres::config::ChannelBinding::Require,
        });
        c.ssl_mode(match self.sslmode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Allow | SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                tokio_postgres::config::SslMode::Require
            }
        });
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct MapEnv(BTreeMap<&'static str, String>);
    impl Environment for MapEnv {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).cloned()
        }
        fn os_user(&self) -> Option<String> {
            Some("osuser".into())
        }
    }
    fn env(pairs: &[(&'static str, String)]) -> MapEnv {
        MapEnv(pairs.iter().cloned().collect())
    }

    #[test]
    fn url_and_key_values_read_alike() {
        let a =
            ConnInfo::parse("postgresql://app:s%40cret@db.example:6432/shop?sslmode=verify-full")
                .unwrap();
        let b = ConnInfo::parse(
            "host=db.example port=6432 dbname=shop user=app password='s@cret' sslmode=verify-full",
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(
            a.redacted(),
            "dbname=shop host=db.example password=*** port=6432 sslmode=verify-full user=app"
        );
    }

    #[test]
    fn url_with_socket_multi_host_and_ipv6() {
        let a = ConnInfo::parse("postgres://%2Ftmp%2Fsock:5433/db").unwrap();
        assert_eq!(a.get("host"), Some("/tmp/sock"));
        let b = ConnInfo::parse("postgresql://h1:1,[::1]:2/db").unwrap();
        assert_eq!(b.get("host"), Some("h1,::1"));
        assert_eq!(b.get("port"), Some("1,2"));
        let r = b.resolve(&env(&[])).unwrap();
        assert_eq!(r.endpoints.len(), 2);
        assert_eq!(r.endpoints[1].port, 2);
    }

    #[test]
    fn quoted_values_and_errors() {
        let c = ConnInfo::parse(r"dbname='my db' password='it\'s'").unwrap();
        assert_eq!(c.get("dbname"), Some("my db"));
        assert!(ConnInfo::parse("host").unwrap_err().contains("missing '='"));
        assert!(ConnInfo::parse("hots=x")
            .unwrap_err()
            .contains("unknown connection option 'hots'"));
        assert!(ConnInfo::parse("sslmode=maybe")
            .unwrap_err()
            .contains("invalid sslmode"));
    }

    #[test]
    fn precedence_explicit_then_service_then_env_then_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let svc = dir.path().join("svc.conf");
        std::fs::write(&svc, "[prod]\nhost=svc-host\ndbname=svc-db\nport=7000\n").unwrap();
        let e = env(&[
            ("PGSERVICEFILE", svc.display().to_string()),
            ("PGHOST", "env-host".into()),
            ("PGUSER", "env-user".into()),
            ("PGPORT", "9999".into()),
        ]);
        let r = ConnInfo::parse("service=prod dbname=explicit")
            .unwrap()
            .resolve(&e)
            .unwrap();
        assert_eq!(r.dbname, "explicit");
        assert_eq!(r.endpoints[0].host.as_deref(), Some("svc-host"));
        assert_eq!(r.endpoints[0].port, 7000);
        assert_eq!(r.user, "env-user");
        assert_eq!(r.sslmode, SslMode::Prefer);
        let missing = ConnInfo::parse("service=nope")
            .unwrap()
            .resolve(&e)
            .unwrap_err();
        assert!(missing.contains("service 'nope' not found"), "{missing}");
        let d = ConnInfo::parse("").unwrap().resolve(&env(&[])).unwrap();
        assert_eq!(
            (d.user.as_str(), d.dbname.as_str(), d.endpoints[0].port),
            ("osuser", "osuser", 5432)
        );
    }

    #[test]
    fn password_file_matches_with_wildcards_and_escapes() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let pass = dir.path().join("pgpass");
        std::fs::write(
            &pass,
            "# comment\nother:*:*:*:no\ndb.example:6432:shop:app:pa\\:ss\n*:*:*:app:fallback\n",
        )
        .unwrap();
        std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(0o600)).unwrap();
        let e = env(&[("PGPASSFILE", pass.display().to_string())]);
        let r = ConnInfo::parse("host=db.example port=6432 dbname=shop user=app")
            .unwrap()
            .resolve(&e)
            .unwrap();
        assert_eq!(r.password.as_deref(), Some("pa:ss"));
        let r = ConnInfo::parse("host=/tmp dbname=x user=app")
            .unwrap()
            .resolve(&e)
            .unwrap();
        assert_eq!(r.password.as_deref(), Some("fallback"));
        // A file others can read is ignored, as libpq does.
        std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(0o644)).unwrap();
        let r = ConnInfo::parse("host=db.example user=app")
            .unwrap()
            .resolve(&e)
            .unwrap();
        assert!(r.password.is_none());
        assert!(!format!("{r:?}").contains("pa:ss"));
    }

    /// Found by the cargo-fuzz `conninfo` target: a URL host with a newline and NULs was quoted
    /// as it was, over several lines.
    #[test]
    fn typed_text_in_an_error_stays_on_one_line() {
        let e = ConnInfo::parse("postgresql://u:pw@[pr\n\u{1f}\0\0st=1b\ndbn").unwrap_err();
        assert!(!e.contains('\n') && !e.contains('\0'), "{e}");
        assert!(e.contains("[pr\\n\\u{1f}"), "{e}");
        let e = ConnInfo::parse("host=h bad\nkey=1").unwrap_err();
        assert!(!e.contains('\n'), "{e}");
        let e =
            ConnInfo::parse("postgresql://u:pw@/app?sslmode=requyre\nhust?\0so\0=sT=ode=requyDt")
                .and_then(|c| c.resolve(&ProcessEnv).map(|_| ()))
                .unwrap_err();
        assert!(!e.contains('\n') && !e.contains('\0'), "{e}");
    }
}
