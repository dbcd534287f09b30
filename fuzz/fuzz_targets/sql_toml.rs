//! The SQL connector's configuration (TOML), as `--connector sql:FILE`
//! reads it.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = writ_connect::sql::SqlConfig::parse(text);
    }
});
