//! A second, minimal implementation of the verifier and signer sides of
//! `cosignature/v1`, written here from the text of c2sp.org/tlog-cosignature
//! and c2sp.org/signed-note alone (no code shared with writ-tlog), checked
//! against ours in both directions.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer as _, Verifier as _};
use sha2::{Digest as _, Sha256};
use writ_tlog::cosignature::{CosignatureVerifier, CosignerKey};

use crate::common;

/// "The key ID for Ed25519 cosignatures MUST be computed as
/// SHA-256(<name> || "\n" || 0x04 || 32-byte Ed25519 cosigner public key)[:4]"
fn spec_key_id(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut input = name.as_bytes().to_vec();
    input.push(b'\n');
    input.push(0x04);
    input.extend_from_slice(public);
    let d = Sha256::digest(&input);
    [d[0], d[1], d[2], d[3]]
}

/// "The signed message MUST be two newline (U+000A) terminated lines (one
/// header line and one timestamp line) followed by the whole note body".
fn spec_message(timestamp: u64, body: &str) -> Vec<u8> {
    let mut m = b"cosignature/v1\n".to_vec();
    m.extend_from_slice(format!("time {timestamp}\n").as_bytes());
    m.extend_from_slice(body.as_bytes());
    m
}

/// A vkey: `<name>+hex(key ID)+base64(0x04 || public key)`.
fn spec_parse_vkey(vkey: &str) -> (String, [u8; 4], [u8; 32]) {
    let parts: Vec<&str> = vkey.splitn(3, '+').collect();
    assert_eq!(parts.len(), 3, "{vkey}");
    let blob = B64.decode(parts[2]).unwrap();
    assert_eq!(blob[0], 0x04, "signature type of cosignature/v1");
    let public: [u8; 32] = blob[1..].try_into().unwrap();
    let id = spec_key_id(parts[0], &public);
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, parts[1], "the vkey's hash is the key ID");
    (parts[0].to_owned(), id, public)
}

/// The timestamp of a valid cosignature by `vkey` on `note`, if any.
fn spec_verify(vkey: &str, note: &str) -> Option<u64> {
    let (name, id, public) = spec_parse_vkey(vkey);
    let key = ed25519_dalek::VerifyingKey::from_bytes(&public).unwrap();
    // A checkpoint's body has no blank line; the signatures follow the first.
    let (body, sigs) = note.split_once("\n\n").unwrap();
    let body = format!("{body}\n");
    for line in sigs.lines() {
        let rest = line.strip_prefix("\u{2014} ").unwrap();
        let (who, b64) = rest.split_once(' ').unwrap();
        let blob = B64.decode(b64).unwrap();
        if who != name || blob[..4] != id {
            continue;
        }
        // timestamped_signature: u64 timestamp (big-endian), then 64 bytes.
        assert_eq!(blob.len(), 4 + 8 + 64);
        let ts = u64::from_be_bytes(blob[4..12].try_into().unwrap());
        let sig = ed25519_dalek::Signature::from_slice(&blob[12..]).unwrap();
        if key.verify(&spec_message(ts, &body), &sig).is_ok() {
            return Some(ts);
        }
    }
    None
}

/// A cosignature line made the spec's way.
fn spec_cosign(name: &str, seed: &[u8; 32], body: &str, ts: u64) -> (String, String) {
    let key = ed25519_dalek::SigningKey::from_bytes(seed);
    let public = key.verifying_key().to_bytes();
    let id = spec_key_id(name, &public);
    let mut blob = id.to_vec();
    blob.extend_from_slice(&ts.to_be_bytes());
    blob.extend_from_slice(&key.sign(&spec_message(ts, body)).to_bytes());
    let mut vblob = vec![0x04];
    vblob.extend_from_slice(&public);
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    (
        format!("{name}+{hex}+{}", B64.encode(vblob)),
        format!("\u{2014} {name} {}\n", B64.encode(blob)),
    )
}

/// The example checkpoint of c2sp.org/tlog-cosignature, with its log
/// signature line.
const EXAMPLE: &str = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";

#[test]
fn our_cosignatures_verify_by_the_spec() {
    let key = common::witness_key("witness.example/w1");
    let vkey = key.verifier().to_string();
    let body = &EXAMPLE[..EXAMPLE.find("\n\n").unwrap() + 1];
    let note = format!("{EXAMPLE}{}", key.cosign(body, 1_679_315_147));
    assert_eq!(spec_verify(&vkey, &note), Some(1_679_315_147));
    // Another timestamp than the one signed, or another body, fails.
    let forged = note.replace("20852163", "20852164");
    assert_eq!(spec_verify(&vkey, &forged), None);
    // Flip every byte of the cosignature blob: never valid.
    let line = key.cosign(body, 7);
    let b64 = line.trim_end().rsplit(' ').next().unwrap();
    let blob = B64.decode(b64).unwrap();
    for i in 4..blob.len() {
        let mut bad = blob.clone();
        bad[i] ^= 1;
        let note = format!(
            "{EXAMPLE}\u{2014} witness.example/w1 {}\n",
            B64.encode(&bad)
        );
        assert_eq!(spec_verify(&vkey, &note), None, "byte {i}");
        let ours = CosignatureVerifier::parse(&vkey).unwrap().verify(&note);
        assert!(!matches!(ours, Ok(Some(_))), "byte {i}");
    }
}

#[test]
fn spec_cosignatures_verify_by_ours() {
    let seed = [7u8; 32];
    let body = &EXAMPLE[..EXAMPLE.find("\n\n").unwrap() + 1];
    let (vkey, line) = spec_cosign("witness.example/spec", &seed, body, 1_700_000_000);
    let ours = CosignatureVerifier::parse(&vkey).unwrap();
    assert_eq!(ours.to_string(), vkey, "the vkey reads back the same");
    let note = format!("{EXAMPLE}{line}");
    assert_eq!(ours.verify(&note).unwrap(), Some(1_700_000_000));
    // The same key as a CosignerKey signs the same bytes (Ed25519 is
    // deterministic), so both implementations agree on the line itself.
    let key = CosignerKey::new("witness.example/spec", &seed).unwrap();
    assert_eq!(key.cosign(body, 1_700_000_000), line);
    // A signed-note key (type 0x01) is not a cosigner key.
    let mut other = B64.decode(vkey.rsplit('+').next().unwrap()).unwrap();
    other[0] = 0x01;
    let wrong = format!(
        "witness.example/spec+{}+{}",
        vkey.split('+').nth(1).unwrap(),
        B64.encode(other)
    );
    assert!(CosignatureVerifier::parse(&wrong).is_err());
    // Signatures of unknown keys are ignored, not errors.
    let stranger = common::witness_key("witness.example/other");
    assert_eq!(stranger.verifier().verify(&note).unwrap(), None);
}
