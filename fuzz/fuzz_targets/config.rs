//! Any bytes as pgparity.toml: loaded or refused in one line.
#![no_main]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let r = common::with_file("pgparity.toml", data, |p| {
        pgparity::config::Config::load(Some(p))
    });
    if let Err(e) = r {
        common::one_line(&e);
    }
});
