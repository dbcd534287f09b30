//! Transparency reports being verified (`writ report verify`): the JSON and
//! HTML forms, the signature check with a fixed log key, the CSV form
//! checked against the report, and verification against an empty log.
#![no_main]

use writ_tlog::NoteSigner;
use writ_tlog::verify::Fetch;

struct Empty;

impl Fetch for Empty {
    fn fetch(&self, _path: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(None)
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(signer) = NoteSigner::new("fuzz.example/log", &[7; 32]) else {
        return;
    };
    let vkey = signer.verifier();
    for report in [
        writ_report::render::from_json(text),
        writ_report::render::from_html(text),
    ]
    .into_iter()
    .flatten()
    {
        let _ = report.verify_signature(&vkey);
        if let Ok(csv) = writ_report::render::to_csv(&report) {
            let _ = writ_report::render::check_csv(&csv, &report);
        }
        let _ = writ_report::render::check_csv(text, &report);
        let _ = writ_report::verify(&report, &Empty, &vkey, &mut |_, _, _| {});
    }
});
