//! Any bytes as a policy file: loaded or refused in one line.
#![no_main]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let r = common::with_file("policy.toml", data, pgparity::config::load_policy);
    if let Err(e) = r {
        common::one_line(&e);
    }
});
