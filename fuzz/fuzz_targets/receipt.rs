//! A user's notice receipt (JSON) as `writ receipt verify` reads it: the
//! receipt, each opening's salt, and the commitment recomputed from it.
#![no_main]

use writ_gateway::notice::Receipt;
use writ_events::Commitment;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(receipt) = serde_json::from_slice::<Receipt>(data) else {
        return;
    };
    for e in &receipt.entries {
        for o in &e.openings {
            // As `writ receipt verify` reads an opening.
            let computed = o.opening().commitment().to_string();
            let _ = Commitment::parse(&computed);
            let _ = Commitment::parse(&o.salt.to_hex());
        }
    }
    let _ = serde_json::to_string(&receipt);
});
