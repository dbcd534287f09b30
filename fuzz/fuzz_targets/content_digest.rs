//! `Content-Digest` against the body, under otherwise valid signature
//! headers: the input is the header's text, a NUL, then the body.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (header, body) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let Ok(header) = std::str::from_utf8(header) else {
        return;
    };
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let now = 1_764_000_000;
    let (_, input, signature) = writ_server::httpsig::sign(
        &key,
        "us-fbi-wfo:0000000000000000",
        "POST",
        "/v1/orders",
        body,
        now,
        "000000000000000000000000",
    );
    if let Ok(parsed) =
        writ_server::httpsig::parse(Some(&input), Some(&signature), Some(header), body, now)
    {
        let _ = parsed.verify(&key.verifying_key(), "POST", "/v1/orders");
    }
});
