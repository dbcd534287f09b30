//! Signed notes and checkpoints: a verifier key's text, a checkpoint's body
//! and a signed note opened with a fixed key, as log clients and `writ log
//! verify --since` read them.
#![no_main]

use writ_tlog::{Checkpoint, NoteSigner, NoteVerifier};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = NoteVerifier::parse(text);
    let _ = Checkpoint::parse(text);
    if let Ok(signer) = NoteSigner::new("fuzz.example/log", &[7; 32]) {
        let vkey = signer.verifier();
        let _ = vkey.open(text);
        if let Ok(cp) = vkey.open_checkpoint(text) {
            // What opens must be what was signed: signing it again opens
            // to the same checkpoint.
            let again = signer
                .sign(&cp.to_text())
                .ok()
                .and_then(|n| vkey.open_checkpoint(&n).ok());
            assert_eq!(again.as_ref(), Some(&cp));
        }
    }
});
