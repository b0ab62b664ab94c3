//! The one pattern language of the tool: `*` matches any run of characters, everything else
//! matches itself. Policies accept finding ids with it (`setting:enable_*`), seed picks tables
//! with it (`--include 'public.order*'`).

/// `*` matches any run of characters; everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(pos) => rest = &rest[pos + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn stars_match_any_run_and_nothing_else_is_special() {
        assert!(glob("setting:enable_*", "setting:enable_nestloop"));
        assert!(glob("*:public.orders*", "schema:public.orders.id:type"));
        assert!(!glob("setting:enable_*", "setting:work_mem"));
        assert!(glob("exact", "exact"));
        assert!(glob("public.*_2024_*", "public.events_2024_q1"));
        assert!(!glob("public.*_2024_*", "public.events_2023_q1"));
        assert!(glob("*", ""));
        assert!(!glob("a*a", "a"), "the two ends may not overlap");
        assert!(
            !glob("public.\"what?\"", "public.\"whatx\""),
            "? is no wildcard"
        );
    }
}
