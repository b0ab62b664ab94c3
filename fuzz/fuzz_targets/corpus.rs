//! Any bytes as a corpus file, and any text as one query: loaded or refused in one line.
#![no_main]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = pgparity::explain::corpus::read_query("q.sql", text) {
            common::one_line(&e);
        }
    }
    let r = common::with_file("q.sql", data, |p| {
        pgparity::explain::corpus::load(&[p.to_path_buf()])
    });
    if let Err(e) = r {
        common::one_line(&e);
    }
});
