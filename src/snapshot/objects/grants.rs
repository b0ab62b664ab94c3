//! Privileges as both sides' majors can express them: what the `grants` attribute of schemas
//! and tables compares.

use super::Majors;

/// Privileges as both versions can express them. Privilege letters a newer major added are
/// dropped from the other side's entries when one side's major predates them (MAINTAIN, `m`,
/// exists from 17: the owner's implicit privileges show it there and cannot on 16), and an
/// entry left with no privilege goes too. Version noise, like a setting default that moved.
fn comparable_acl(acl: &[String], other_major: i32) -> Vec<String> {
    // (letter, first major that has it)
    const NEWER: &[(char, i32)] = &[('m', 17)];
    let drop: Vec<char> = NEWER
        .iter()
        .filter(|(_, since)| other_major < *since)
        .map(|(c, _)| *c)
        .collect();
    if drop.is_empty() {
        return acl.to_vec();
    }
    let mut out: Vec<String> = acl
        .iter()
        .filter_map(|item| {
            let (grantee, rest) = item.split_once('=')?;
            let (privs, grantor) = rest.split_once('/').unwrap_or((rest, ""));
            let mut kept = String::new();
            let mut chars = privs.chars().peekable();
            while let Some(c) = chars.next() {
                let option = chars.next_if_eq(&'*').is_some();
                if !drop.contains(&c) {
                    kept.push(c);
                    if option {
                        kept.push('*');
                    }
                }
            }
            (!kept.is_empty()).then(|| format!("{grantee}={kept}/{grantor}"))
        })
        .collect();
    out.sort();
    out
}

/// Whether two ACLs grant the same privileges, once each side is read in the terms of the
/// other side's major.
pub fn same_acl(m: Majors, a: &[String], b: &[String]) -> bool {
    comparable_acl(a, m.right) == comparable_acl(b, m.left)
}

/// An ACL a snapshot may lack (older than the field): shown, or `(not captured)`.
pub fn shown_acl(acl: &Option<Vec<String>>) -> std::borrow::Cow<'_, str> {
    acl.as_ref()
        .map_or("(not captured)".into(), |a| a.join(" ").into())
}

/// As [`same_acl`] where both sides captured the ACL; a side without it says nothing.
pub fn same_captured_acl(m: Majors, a: &Option<Vec<String>>, b: &Option<Vec<String>>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => same_acl(m, x, y),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    // Issue 10: GRANT SELECT on every table of identical databases on 15 and 17 gave one
    // grants finding per table (`postgres=arwdDxt/postgres` vs `postgres=arwdDxtm/postgres`).
    #[test]
    fn maintain_privilege_is_version_noise() {
        use super::comparable_acl;
        let acl = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let v17 = acl(&[
            "app=r/postgres",
            "postgres=arwdDxtm/postgres",
            "ops=m*/postgres",
        ]);
        let v15 = acl(&["app=r/postgres", "postgres=arwdDxt/postgres"]);
        assert_eq!(comparable_acl(&v17, 15), v15);
        assert_eq!(comparable_acl(&v17, 17), v17);
        // A real difference stays one.
        let other = acl(&["app=rw/postgres", "postgres=arwdDxt/postgres"]);
        assert_ne!(comparable_acl(&v17, 15), other);
    }
}
