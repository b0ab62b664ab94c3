//! A connection string resolved as libpq does, step by step: the service file, `PG*`
//! variables and compiled defaults fill what the string left out; then the hosts and ports,
//! the timings, the choices, the files and the password file.

use super::*;

type Params = BTreeMap<String, String>;

impl ConnInfo {
    /// Applies the service file, `PG*` variables, compiled defaults and the password file.
    pub fn resolve(&self, env: &dyn Environment) -> Result<Resolved, String> {
        let p = self.filled(env)?;
        let (connect_timeout, keepalive, tcp_user_timeout) = timings(&p)?;
        let home = env.home();
        let file = |key: &str, default: &str| file_or_default(&p, home.as_deref(), key, default);
        let mut resolved = Resolved {
            endpoints: endpoints(&p)?,
            user: p["user"].clone(),
            dbname: p["dbname"].clone(),
            password: p.get("password").cloned(),
            sslmode: SslMode::parse(&p["sslmode"])?,
            sslrootcert: file("sslrootcert", "root.crt"),
            sslcert: file("sslcert", "postgresql.crt"),
            sslkey: file("sslkey", "postgresql.key"),
            sslpassword: p.get("sslpassword").cloned(),
            sslcrl: file("sslcrl", "root.crl"),
            channel_binding: channel_binding(&p)?,
            connect_timeout,
            options: p.get("options").cloned(),
            target_session_attrs: match p.get("target_session_attrs") {
                Some(a) => SessionAttrs::parse(a)?,
                None => SessionAttrs::Any,
            },
            keepalive,
            tcp_user_timeout,
            load_balance: load_balance(&p)?,
            password_source: None,
        };
        password(&p, home.as_deref(), &mut resolved)?;
        Ok(resolved)
    }

    /// The string's parameters, then the service file's, the environment's and the compiled
    /// defaults, each filling only what is still unset (libpq's precedence).
    fn filled(&self, env: &dyn Environment) -> Result<Params, String> {
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
        p.entry("dbname".into()).or_insert(user);
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
        Ok(p)
    }
}

/// The hosts to try, in order: names (or socket folders) and addresses paired, each with its
/// port (one port for all, or one each).
fn endpoints(p: &Params) -> Result<Vec<Endpoint>, String> {
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
    Ok((0..n)
        .map(|i| Endpoint {
            host: hosts.get(i).cloned().filter(|h| !h.is_empty()),
            hostaddr: hostaddrs.get(i).copied(),
            port: if ports.len() == 1 { ports[0] } else { ports[i] },
        })
        .collect())
}

/// `connect_timeout` (at least 2 s, as libpq), the TCP keepalives and `tcp_user_timeout`.
#[expect(
    clippy::type_complexity,
    reason = "three timings, named where they are used"
)]
fn timings(p: &Params) -> Result<(Option<Duration>, Option<Keepalive>, Option<Duration>), String> {
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
    Ok((connect_timeout, keepalive, tcp_user_timeout))
}

fn load_balance(p: &Params) -> Result<bool, String> {
    match p.get("load_balance_hosts").map(String::as_str) {
        None | Some("disable") => Ok(false),
        Some("random") => Ok(true),
        Some(other) => Err(format!(
            "invalid load_balance_hosts '{}'; hint: disable or random",
            shown(other)
        )),
    }
}

fn channel_binding(p: &Params) -> Result<ChannelBinding, String> {
    match p.get("channel_binding").map(String::as_str) {
        None | Some("prefer") => Ok(ChannelBinding::Prefer),
        Some("disable") => Ok(ChannelBinding::Disable),
        Some("require") => Ok(ChannelBinding::Require),
        Some(other) => Err(format!(
            "invalid channel_binding '{}'; hint: use disable, prefer or require",
            shown(other)
        )),
    }
}

/// A TLS file named by the string, else libpq's default in `~/.postgresql` if it exists.
fn file_or_default(p: &Params, home: Option<&Path>, key: &str, default: &str) -> Option<PathBuf> {
    match p.get(key) {
        Some(v) => Some(PathBuf::from(v)),
        None => home
            .map(|h| h.join(".postgresql").join(default))
            .filter(|f| f.exists()),
    }
}

/// The password: the string's (or `PGPASSWORD`'s), else the password file's line for the
/// first endpoint, with where it came from.
fn password(p: &Params, home: Option<&Path>, resolved: &mut Resolved) -> Result<(), String> {
    if resolved.password.is_some() {
        resolved.password_source = Some("connection string or PGPASSWORD".into());
        return Ok(());
    }
    let passfile = p
        .get("passfile")
        .map(PathBuf::from)
        .or_else(|| home.map(|h| h.join(".pgpass")));
    if let Some(file) = passfile {
        if let Some(pw) = lookup_pgpass(&file, resolved)? {
            resolved.password = Some(pw);
            resolved.password_source = Some(format!("password file {}", file.display()));
        }
    }
    Ok(())
}
