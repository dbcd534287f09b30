//! A user's notice receipt (JSON) as `writ receipt verify` reads it: the
//! receipt, each opening's salt, and the commitment recomputed from it.
#![no_main]

use writ_gateway::notice::Receipt;
use writ_tlog::entry::{Salt, commit};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(receipt) = serde_json::from_slice::<Receipt>(data) else {
        return;
    };
    for e in &receipt.entries {
        for o in &e.openings {
            if let Ok(salt) = Salt::parse(&o.salt) {
                let _ = commit(&salt, &o.details);
            }
        }
    }
    let _ = serde_json::to_string(&receipt);
});
