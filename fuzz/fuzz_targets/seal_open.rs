//! Sealed packages being opened (`writ fetch --identity`): with the first
//! byte even, the rest is the package file itself (the age header and
//! stream); odd, the rest is the plaintext tar, sealed here to the fixed
//! identity so that the fuzzer reaches the archive and manifest checks.
#![no_main]

use std::io::Write as _;
use std::sync::OnceLock;

use age::x25519::Identity;

fn identity() -> &'static Identity {
    static ID: OnceLock<Identity> = OnceLock::new();
    ID.get_or_init(Identity::generate)
}

fn seal(plain: &[u8]) -> Option<Vec<u8>> {
    let recipient = identity().to_public();
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient)).ok()?;
    let mut out = Vec::new();
    let mut writer = encryptor.wrap_output(&mut out).ok()?;
    writer.write_all(plain).ok()?;
    writer.finish().ok()?;
    Some(out)
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let _ = writ_seal::verify_reader(rest, identity());
    } else if let Some(sealed) = seal(rest) {
        let _ = writ_seal::verify_reader(sealed.as_slice(), identity());
    }
});
