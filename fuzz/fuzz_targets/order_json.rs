//! Orders, registries, directories and case files as JSON (docs/formats.md,
//! Order): parsing and the order's own checks never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(order) = writ_model::parse::order(data) {
        let _ = writ_model::parse::check_order(&order);
    }
    if let Ok(agencies) = writ_model::parse::registry(data) {
        let _ = writ_model::parse::check_registry(&agencies);
    }
    let _ = writ_model::parse::directory(data);
    let _ = writ_model::parse::prior(data);
    let _ = writ_model::parse::case_file(data);
});
