//! Any bytes as a snapshot file: read (then compared with itself both ways) or refused in one
//! line.
#![no_main]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    match common::with_file("s.json", data, pgparity::snapshot::Snapshot::read) {
        Ok(s) => {
            let a = pgparity::compare::compare(&s, &s);
            let b = pgparity::compare::compare(&s, &s);
            assert_eq!(a.len(), b.len());
        }
        Err(e) => common::one_line(&e),
    }
});
