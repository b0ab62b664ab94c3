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

    /// Applies the service file, `PG*` variables, compiled defaults and the password file.
    pub fn resolve(&self, env: &dyn Environment) -> Result<Resolved, String> {
        let mut p = self.params.clone();
        // 1. The service file fills what the string left out.
        let service = p.get("service").cloned().or_else(|| env.var("PGSERVICE"));
        if let Some(service) = service {
            for (k, v) in read_service(&service, env)? {
                p.entry(k).or_insert(v);
            }
        }
        // 2. Environment variables.
        for (var, key) in ENV_VARS {
            if !p.contains_key(*key) {
                if let Some(v) = env.var(var) {
                    p.insert((*key).to_string(), v);
                }
            }
        }
        // 3. Compiled defaults.
        let os_user = env.os_user().unwrap_or_else(|| "postgres".to_string());
        p.entry("user".into()).or_insert(os_user);
        let user = p["user"].clone();
        p.entry("dbname".into()).or_insert(user.clone());
        if !p.contains_key("host") && !p.contains_key("hostaddr") {
            let socket_dir = if Path::new("/var/run/postgresql").is_dir() {
                "/var/run/postgresql"
            } else {
                "/tmp"
            };
            p.insert("host".into(), socket_dir.into());
        }
        p.entry("port".into()).or_insert_with(|| "5432".into());
        p.entry("sslmode".into()).or_insert_with(|| "prefer".into());

        let hosts: Vec<String> = p.get("host").map(|h| split_list(h)).unwrap_or_default();
        let hostaddrs: Vec<IpAddr> = match p.get("hostaddr") {
            Some(list) => split_list(list)
                .iter()
                .map(|a| {
                    a.parse()
                        .map_err(|_| format!("invalid hostaddr '{}'", shown(a)))
                })
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        let named = hosts.iter().filter(|h| !h.is_empty()).count();
        if !hostaddrs.is_empty() && named > 0 && hosts.len() != hostaddrs.len() {
            return Err(format!(
                "{} host addresses given for {} hosts; hint: give hostaddr for every host or for none",
                hostaddrs.len(),
                hosts.len()
            ));
        }
        let n = hosts.len().max(hostaddrs.len()).max(1);
        let ports: Vec<u16> = split_list(&p["port"])
            .iter()
            .map(|s| {
                s.parse()
                    .map_err(|_| format!("invalid port '{}'", shown(s)))
            })
            .collect::<Result<_, _>>()?;
        if ports.len() != 1 && ports.len() != n {
            return Err(format!("{} ports given for {n} hosts", ports.len()));
        }
        let mut endpoints = Vec::with_capacity(n);
        for i in 0..n {
            let host = hosts.get(i).cloned().filter(|h| !h.is_empty());
            let hostaddr = hostaddrs.get(i).copied();
            let port = if ports.len() == 1 { ports[0] } else { ports[i] };
            endpoints.push(Endpoint {
                host,
                hostaddr,
                port,
            });
        }
        let sslmode = SslMode::parse(&p["sslmode"])?;
        let connect_timeout = match p.get("connect_timeout") {
            Some(t) => {
                let secs: i64 = t
                    .trim()
                    .parse()
                    .map_err(|_| format!("invalid connect_timeout '{}'", shown(t)))?;
                (secs > 0).then(|| Duration::from_secs(secs.max(2) as u64))
            }
            None => None,
        };
        let seconds = |key: &str, default: u64| -> Result<Duration, String> {
            match p.get(key) {
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .map(Duration::from_secs)
                    .map_err(|_| {
                        format!(
                            "invalid {key} '{}'; hint: a whole number of seconds",
                            shown(v)
                        )
                    }),
                None => Ok(Duration::from_secs(default)),
            }
        };
        // On unless keepalives=0; libpq leaves the timing to the system (two hours before the
        // first probe on Linux): a dead peer is found within a minute and a half here.
        let keepalive = match p.get("keepalives").map(|v| v.trim()) {
            Some("0") => None,
            Some("1") | None => Some(Keepalive {
                idle: seconds("keepalives_idle", 30)?,
                interval: seconds("keepalives_interval", 10)?,
                count: seconds("keepalives_count", 6)?.as_secs().clamp(1, 127) as u32,
            }),
            Some(other) => {
                return Err(format!(
                    "invalid keepalives '{}'; hint: 1 (on, the default) or 0",
                    shown(other)
                ))
            }
        };
        let tcp_user_timeout = match p.get("tcp_user_timeout") {
            Some(v) => {
                let ms: u64 = v.trim().parse().map_err(|_| {
                    format!(
                        "invalid tcp_user_timeout '{}'; hint: milliseconds",
                        shown(v)
                    )
                })?;
                (ms > 0).then(|| Duration::from_millis(ms))
            }
            None => None,
        };
        let load_balance = match p.get("load_balance_hosts").map(String::as_str) {
            None | Some("disable") => false,
            Some("random") => true,
            Some(other) => {
                return Err(format!(
                    "invalid load_balance_hosts '{}'; hint: disable or random",
                    shown(other)
                ))
            }
        };
        let channel_binding = match p.get("channel_binding").map(String::as_str) {
            None | Some("prefer") => ChannelBinding::Prefer,
            Some("disable") => ChannelBinding::Disable,
            Some("require") => ChannelBinding::Require,
            Some(other) => {
                return Err(format!(
                    "invalid channel_binding '{}'; hint: use disable, prefer or require",
                    shown(other)
                ))
            }
        };
        let target_session_attrs = match p.get("target_session_attrs") {
            Some(a) => SessionAttrs::parse(a)?,
            None => SessionAttrs::Any,
        };
        let home = env.home();
        let pg_dir = home.as_ref().map(|h| h.join(".postgresql"));
        let file_or_default = |key: &str, default: &str| -> Option<PathBuf> {
            match p.get(key) {
                Some(v) => Some(PathBuf::from(v)),
                None => pg_dir
                    .as_ref()
                    .map(|d| d.join(default))
                    .filter(|f| f.exists()),
            }
        };
        let mut resolved = Resolved {
            endpoints,
            user,
            dbname: p["dbname"].clone(),
            password: p.get("password").cloned(),
            sslmode,
            sslrootcert: file_or_default("sslrootcert", "root.crt"),
            sslcert: file_or_default("sslcert", "postgresql.crt"),
            sslkey: file_or_default("sslkey", "postgresql.key"),
            sslpassword: p.get("sslpassword").cloned(),
            sslcrl: file_or_default("sslcrl", "root.crl"),
            channel_binding,
            connect_timeout,
            options: p.get("options").cloned(),
            target_session_attrs,
            keepalive,
            tcp_user_timeout,
            load_balance,
            password_source: None,
        };
        if resolved.password.is_some() {
            resolved.password_source = Some("connection string or PGPASSWORD".into());
        } else {
            let passfile = p
                .get("passfile")
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|h| h.join(".pgpass")));
            if let Some(file) = passfile {
                if let Some(pw) = lookup_pgpass(&file, &resolved)? {
                    resolved.password = Some(pw);
                    resolved.password_source = Some(format!("password file {}", file.display()));
                }
            }
        }
        Ok(resolved)
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

fn split_list(s: &str) -> Vec<String> {
    s.split(',').map(|x| x.trim().to_string()).collect()
}

fn quote_value(v: &str) -> String {
    if !v.is_empty()
        && !v
            .chars()
            .any(|c| c.is_whitespace() || c == '\'' || c == '\\')
    {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

fn parse_key_values(s: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(format!(
                "missing '=' after '{}' in connection string; hint: write key=value pairs or a postgresql:// URL",
                shown(&key)
            ));
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            loop {
                match chars.next() {
                    None => {
                        return Err(format!(
                            "unterminated quoted value for '{}' in connection string",
                            shown(&key)
                        ))
                    }
                    Some('\\') => value.push(chars.next().unwrap_or('\\')),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                chars.next();
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        value.push(n);
                    }
                } else {
                    value.push(c);
                }
            }
        }
        out.insert(key, value);
    }
    Ok(out)
}

fn decode(s: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| format!("invalid percent-encoding in '{}'", shown(s)))
}

/// A password decoded; an error never shows it (found by the property tests: the error
/// quoted it).
fn decode_secret(s: &str) -> Result<String, String> {
    decode(s).map_err(|_| "invalid percent-encoding in the password (not shown)".to_string())
}

fn parse_url(s: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let rest = s.split_once("://").map(|x| x.1).unwrap_or_default();
    let (rest, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match rest.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (rest, None),
    };
    let hostlist = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => {
            let (user, pw) = match userinfo.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (userinfo, None),
            };
            if !user.is_empty() {
                out.insert("user".into(), decode(user)?);
            }
            if let Some(pw) = pw {
                out.insert("password".into(), decode_secret(pw)?);
            }
            hosts
        }
        None => authority,
    };
    if !hostlist.is_empty() {
        let mut hosts = Vec::new();
        let mut ports = Vec::new();
        for spec in hostlist.split(',') {
            let (host, port) = if let Some(inner) = spec.strip_prefix('[') {
                let (h, after) = inner
                    .split_once(']')
                    .ok_or_else(|| format!("unterminated '[' in URL host '{}'", shown(spec)))?;
                (
                    h.to_string(),
                    after.strip_prefix(':').unwrap_or("").to_string(),
                )
            } else {
                match spec.rsplit_once(':') {
                    Some((h, p)) => (h.to_string(), p.to_string()),
                    None => (spec.to_string(), String::new()),
                }
            };
            hosts.push(decode(&host)?);
            ports.push(port);
        }
        if hosts.iter().any(|h| !h.is_empty()) {
            out.insert("host".into(), hosts.join(","));
        }
        if ports.iter().any(|p| !p.is_empty()) {
            out.insert("port".into(), ports.join(","));
        }
    }
    if let Some(path) = path.filter(|p| !p.is_empty()) {
        out.insert("dbname".into(), decode(path)?);
    }
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("URL parameter '{}' has no value", shown(pair)))?;
        let k = decode(k)?;
        let v = if k == "password" {
            decode_secret(v)?
        } else {
            decode(v)?
        };
        if k == "ssl" && v == "true" {
            out.insert("sslmode".into(), "require".into());
        } else {
            out.insert(k, v);
        }
    }
    Ok(out)
}

/// Reads `[service]` from the user's service file, then the system one (libpq's order).
fn read_service(name: &str, env: &dyn Environment) -> Result<Vec<(String, String)>, String> {
    let mut files = Vec::new();
    if let Some(f) = env.var("PGSERVICEFILE") {
        files.push(PathBuf::from(f));
    } else if let Some(h) = env.home() {
        files.push(h.join(".pg_service.conf"));
    }
    let sysconf = env
        .var("PGSYSCONFDIR")
        .unwrap_or_else(|| "/etc/postgresql-common".into());
    files.push(Path::new(&sysconf).join("pg_service.conf"));
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let mut in_section = false;
        let mut found = false;
        let mut out = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                in_section = section == name;
                found |= in_section;
                continue;
            }
            if in_section {
                let (k, v) = line.split_once('=').ok_or_else(|| {
                    format!(
                        "syntax error in service file {} line {}",
                        file.display(),
                        n + 1
                    )
                })?;
                let k = k.trim();
                if !KEYWORDS.contains(&k) || k == "service" {
                    return Err(format!(
                        "invalid connection option '{}' in service file {} line {}",
                        shown(k),
                        file.display(),
                        n + 1
                    ));
                }
                out.push((k.to_string(), v.trim().to_string()));
            }
        }
        if found {
            return Ok(out);
        }
    }
    Err(format!("definition of service '{}' not found; hint: add [{}] to ~/.pg_service.conf or set PGSERVICEFILE", shown(name), shown(name)))
}

/// libpq's password file lookup: `host:port:dbname:user:password`, `*` wildcards, `\`
/// escapes; ignored (as libpq does) when group or others can read it.
fn lookup_pgpass(file: &Path, r: &Resolved) -> Result<Option<String>, String> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(file) else {
        return Ok(None);
    };
    if !meta.is_file() || meta.permissions().mode() & 0o077 != 0 {
        return Ok(None);
    }
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read password file {}: {e}", file.display()))?;
    let endpoint = &r.endpoints[0];
    let want = [
        endpoint.pgpass_host(),
        endpoint.port.to_string(),
        r.dbname.clone(),
        r.user.clone(),
    ];
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = split_pgpass_line(line);
        if fields.len() < 5 {
            continue;
        }
        if fields[..4]
            .iter()
            .zip(&want)
            .all(|(f, w)| f == "*" || f == w)
        {
            return Ok(Some(fields[4].clone()));
        }
    }
    Ok(None)
}

fn split_pgpass_line(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    fields.last_mut().unwrap().push(n);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().unwrap().push(c),
        }
    }
    fields
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
