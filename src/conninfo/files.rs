//! The files libpq reads: the service file (`[service]` sections, the user's then the
//! system's) and the password file (`host:port:db:user:password`, wildcards and escapes).

use super::*;

/// Reads `[service]` from the user's service file, then the system one (libpq's order).
pub(super) fn read_service(
    name: &str,
    env: &dyn Environment,
) -> Result<Vec<(String, String)>, String> {
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
pub(super) fn lookup_pgpass(file: &Path, r: &Resolved) -> Result<Option<String>, String> {
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

pub(super) fn split_pgpass_line(line: &str) -> Vec<String> {
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
