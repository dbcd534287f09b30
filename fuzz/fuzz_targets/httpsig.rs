//! RFC 9421 signature headers as the API reads them: `Signature-Input`,
//! `Signature` and `Content-Digest` (split from the input at NUL bytes) with
//! the body that follows; a parse that succeeds is then verified.
#![no_main]

fn text(p: Option<&[u8]>) -> Option<&str> {
    p.and_then(|b| std::str::from_utf8(b).ok())
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(4, |b| *b == 0);
    let input = text(parts.next());
    let signature = text(parts.next());
    let digest = text(parts.next());
    let body = parts.next().unwrap_or_default();
    if let Ok(parsed) = writ_server::httpsig::parse(input, signature, digest, body, 1_764_000_000) {
        let _ = parsed.replay_key();
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
        let _ = parsed.verify(&key, "POST", "/v1/orders");
    }
});
