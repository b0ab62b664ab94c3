//! Any text as a connection string, resolved with a service file and a password file made of
//! the same text: parsed or refused in one line, and a password never in what is shown.
#![no_main]
mod common;

use pgparity::conninfo::{ConnInfo, VarsEnv};

const SECRET: &str = "pw-Secret-7";

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (service, pass) = (
        dir.path().join("pg_service.conf"),
        dir.path().join("pgpass"),
    );
    std::fs::write(&service, text).unwrap();
    std::fs::write(&pass, text).unwrap();
    let env = VarsEnv {
        vars: vec![
            ("PGSERVICEFILE".into(), service.display().to_string()),
            ("PGPASSFILE".into(), pass.display().to_string()),
        ],
        user: "fuzz".into(),
    };
    if text.contains(SECRET) {
        return; // the text may show it legitimately (as a host, say)
    }
    for s in [
        text.to_string(),
        format!("host=h password={SECRET} {text}"),
        format!("postgresql://u:{SECRET}@{text}"),
    ] {
        match ConnInfo::parse(&s) {
            Ok(c) => {
                if c.get("password") == Some(SECRET) {
                    assert!(!c.redacted().contains(SECRET), "{}", c.redacted());
                }
                match c.resolve(&env) {
                    Ok(r) => {
                        let shown = r.describe();
                        if c.get("password") == Some(SECRET) {
                            assert!(!shown.contains(SECRET), "{shown}");
                        }
                    }
                    Err(e) => {
                        common::one_line(&e);
                        assert!(!e.contains(SECRET), "the error shows the password: {e}");
                    }
                }
            }
            Err(e) => {
                common::one_line(&e);
                assert!(!e.contains(SECRET), "the error shows the password: {e}");
            }
        }
    }
});
