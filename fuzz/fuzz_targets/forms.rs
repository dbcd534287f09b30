//! The console's and the portal's form bodies
//! (`application/x-www-form-urlencoded`): decoded into name-value pairs,
//! checked to read back the same once encoded again, then read as every
//! form the pages take (`writ_server::fuzzing::forms`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    writ_server::fuzzing::forms(data);
});
