//! A user's notice receipt (JSON) as `writ receipt verify` reads it: the
//! receipt, each opening's salt, and the commitment recomputed from it.
#![no_main]

use writ_gateway::notice::Receipt;
use writ_tlog::entry::{Commitment, Salt, commit};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(receipt) = serde_json::from_slice::<Receipt>(data) else {
        return;
    };
    for e in &receipt.entries {
        for o in &e.openings {
            // As `writ receipt verify` reads an opening.
            let salt = hex::decode(&o.salt)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok());
            if let Some(salt) = salt {
                let computed = commit(&Salt(salt), &o.details).to_string();
                let _ = Commitment::parse(&computed);
            }
            let _ = Commitment::parse(&o.salt);
        }
    }
    let _ = serde_json::to_string(&receipt);
});
