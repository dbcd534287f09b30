//! The age v1 encryption of `writ_seal::agev1` and `AgeWriter` against the
//! C2SP age test vectors (`age-vectors/`, from C2SP/CCTV, 0BSD licensed),
//! the `age` crate and Debian's `age` CLI.
//!
//! The vectors cannot test encryption end to end (it draws fresh
//! randomness), so they are used as their README suggests: every header
//! that parses is encoded again and compared byte for byte, its MAC is
//! recomputed from the given file key, X25519 stanzas are unwrapped with
//! the keys this crate derives, and every successful payload is decrypted
//! and encrypted again with the given file key and nonce, through the
//! parallel writer, and compared byte for byte.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use sha2::{Digest, Sha256};
use writ_seal::agev1::{self, CHUNK, FileKey, Sealing, Stanza, TAG};
use writ_seal::{AgeWriter, Identity, SealError};

struct Vector {
    name: String,
    expect: String,
    payload: Option<String>,
    file_key: Option<FileKey>,
    identities: Vec<String>,
    armored: bool,
    /// The age file, decompressed.
    file: Vec<u8>,
}

fn vectors() -> Vec<Vector> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/age-vectors");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "LICENSE")
        .collect();
    paths.sort();
    assert!(paths.len() > 100, "the vectors are missing from {dir:?}");
    paths.iter().map(|p| parse_vector(p)).collect()
}

fn parse_vector(path: &Path) -> Vector {
    let bytes = std::fs::read(path).unwrap();
    let split = bytes.windows(2).position(|w| w == b"\n\n").unwrap();
    let head = std::str::from_utf8(&bytes[..split]).unwrap();
    let mut body = bytes[split + 2..].to_vec();
    let mut v = Vector {
        name: path.file_name().unwrap().to_string_lossy().into_owned(),
        expect: String::new(),
        payload: None,
        file_key: None,
        identities: Vec::new(),
        armored: false,
        file: Vec::new(),
    };
    for line in head.lines() {
        let (key, value) = line.split_once(": ").unwrap();
        match key {
            "expect" => v.expect = value.to_owned(),
            "payload" => v.payload = Some(value.to_owned()),
            "file key" => {
                // Some failure vectors carry a file key of another length.
                v.file_key = <[u8; 16]>::try_from(hex_decode(value))
                    .ok()
                    .map(FileKey::new);
            }
            "identity" => v.identities.push(value.to_owned()),
            "armored" => v.armored = value == "yes",
            "compressed" => {
                assert_eq!(value, "zlib");
                let mut out = Vec::new();
                flate2::read::ZlibDecoder::new(body.as_slice())
                    .read_to_end(&mut out)
                    .unwrap();
                body = out;
            }
            _ => {}
        }
    }
    v.file = body;
    v
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A parsed binary header.
struct Header {
    stanzas: Vec<Stanza>,
    /// Bytes up to and including `---`.
    without_mac: usize,
    mac: Vec<u8>,
    /// Bytes up to and including the MAC line's newline.
    len: usize,
}

/// A strict reader of the header, written from the specification for
/// these tests (the crate itself only writes headers).
fn parse_header(file: &[u8]) -> Option<Header> {
    let mut lines = Lines { file, at: 0 };
    if lines.next()?.1 != b"age-encryption.org/v1" {
        return None;
    }
    let mut stanzas = Vec::new();
    loop {
        let (start, l) = lines.next()?;
        if let Some(mac) = l.strip_prefix(b"--- ") {
            return Some(Header {
                stanzas,
                without_mac: start + 3,
                mac: STANDARD_NO_PAD.decode(mac).ok()?,
                len: lines.at,
            });
        }
        let words = std::str::from_utf8(l.strip_prefix(b"-> ")?).ok()?;
        let mut words = words.split(' ').map(str::to_owned);
        let tag = words.next()?;
        let args: Vec<String> = words.collect();
        if tag.is_empty() || args.iter().any(String::is_empty) {
            return None;
        }
        let mut text = Vec::new();
        loop {
            let (_, l) = lines.next()?;
            if l.len() > 64 {
                return None;
            }
            text.extend_from_slice(l);
            if l.len() < 64 {
                break;
            }
        }
        let body = STANDARD_NO_PAD.decode(&text).ok()?;
        // Only canonical encodings count: the same bytes must come back.
        if STANDARD_NO_PAD.encode(&body).as_bytes() != text.as_slice() {
            return None;
        }
        stanzas.push(Stanza { tag, args, body });
    }
}

/// Lines ending in `\n`, with where each starts.
struct Lines<'a> {
    file: &'a [u8],
    at: usize,
}

impl<'a> Lines<'a> {
    fn next(&mut self) -> Option<(usize, &'a [u8])> {
        let start = self.at;
        let end = self.file.get(start..)?.iter().position(|&b| b == b'\n')? + start;
        self.at = end + 1;
        Some((start, &self.file[start..end]))
    }
}

const STRIDE: usize = CHUNK + TAG;

/// STREAM decryption, written from the specification for these tests.
fn stream_decrypt(key: &[u8; 32], payload: &[u8]) -> Result<Vec<u8>, String> {
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    let mut out = Vec::new();
    let mut rest = payload;
    let mut counter = 0u64;
    loop {
        if rest.len() < TAG {
            return Err("a chunk shorter than its tag".into());
        }
        let (chunk, tail) = rest.split_at(rest.len().min(STRIDE));
        let last = tail.is_empty();
        let mut nonce = [0u8; 12];
        nonce[3..11].copy_from_slice(&counter.to_be_bytes());
        nonce[11] = u8::from(last);
        let plain = cipher
            .decrypt(Nonce::from_slice(&nonce), chunk)
            .map_err(|_| format!("chunk {counter} does not decrypt"))?;
        if last && plain.is_empty() && counter > 0 {
            return Err("an empty last chunk after others".into());
        }
        out.extend_from_slice(&plain);
        if last {
            return Ok(out);
        }
        counter += 1;
        rest = tail;
    }
}

fn binary(v: &Vector) -> bool {
    !v.armored
}

#[test]
fn every_header_that_parses_is_encoded_back_to_the_same_bytes() {
    let mut checked = 0;
    for v in vectors().iter().filter(|v| binary(v)) {
        let header = parse_header(&v.file);
        if v.expect == "header failure" {
            continue;
        }
        let header = header.unwrap_or_else(|| panic!("{}: the header should parse", v.name));
        assert_eq!(
            agev1::header_without_mac(&header.stanzas),
            &v.file[..header.without_mac],
            "{}",
            v.name
        );
        checked += 1;
    }
    assert!(checked >= 50, "only {checked} headers checked");
}

#[test]
fn header_macs_are_recomputed_from_the_file_key() {
    let (mut good, mut bad) = (0, 0);
    for v in vectors().iter().filter(|v| binary(v)) {
        let (Some(key), Some(header)) = (&v.file_key, parse_header(&v.file)) else {
            continue;
        };
        let mac = agev1::header_mac(key, &v.file[..header.without_mac]).unwrap();
        match v.expect.as_str() {
            "success" | "payload failure" => {
                assert_eq!(mac.as_slice(), header.mac, "{}", v.name);
                good += 1;
            }
            "HMAC failure" => {
                assert_ne!(mac.as_slice(), header.mac, "{}", v.name);
                bad += 1;
            }
            _ => {}
        }
    }
    assert!(
        good > 30 && bad > 0,
        "{good} good and {bad} bad MACs checked"
    );
}

/// The secret scalar of an `AGE-SECRET-KEY-1...` identity.
fn secret_of(identity: &str) -> Option<[u8; 32]> {
    let (hrp, data) = bech32::decode(identity).ok()?;
    (hrp.as_str().eq_ignore_ascii_case("age-secret-key-")).then_some(())?;
    data.try_into().ok()
}

/// Unwraps the file key from any X25519 stanza with `secret`, using the
/// crate's own derivations.
fn unwrap_x25519(stanzas: &[Stanza], secret: &[u8; 32]) -> Result<Option<Vec<u8>>, SealError> {
    let recipient = x25519_dalek::x25519(*secret, x25519_dalek::X25519_BASEPOINT_BYTES);
    for s in stanzas.iter().filter(|s| s.tag == "X25519") {
        let Ok(share) = STANDARD_NO_PAD.decode(&s.args[0]) else {
            continue;
        };
        let Ok(share) = <[u8; 32]>::try_from(share) else {
            continue;
        };
        let shared = agev1::x25519_shared(secret, &share)?;
        let key = agev1::x25519_wrap_key(&shared, &share, &recipient);
        let cipher = ChaCha20Poly1305::new(Key::from_slice(key.as_slice()));
        if let Ok(file_key) = cipher.decrypt(&Nonce::default(), s.body.as_slice()) {
            return Ok(Some(file_key));
        }
    }
    Ok(None)
}

#[test]
fn x25519_stanzas_unwrap_to_the_file_key_with_the_derived_keys() {
    let mut checked = 0;
    for v in vectors()
        .iter()
        .filter(|v| binary(v) && v.expect == "success")
    {
        let Some(header) = parse_header(&v.file) else {
            continue;
        };
        if !header.stanzas.iter().any(|s| s.tag == "X25519") {
            continue;
        }
        let secrets: Vec<[u8; 32]> = v.identities.iter().filter_map(|i| secret_of(i)).collect();
        if secrets.is_empty() {
            // Only a post-quantum hybrid identity, which is not age's X25519.
            continue;
        }
        let found = secrets
            .iter()
            .find_map(|s| unwrap_x25519(&header.stanzas, s).unwrap());
        let found = found.unwrap_or_else(|| panic!("{}: no stanza unwrapped", v.name));
        assert_eq!(found.as_slice(), v.file_key.as_ref().unwrap().as_slice());
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} vectors checked");
}

#[test]
fn a_low_order_share_or_recipient_is_refused() {
    let v = vectors()
        .into_iter()
        .find(|v| v.name == "x25519_low_order")
        .unwrap();
    let header = parse_header(&v.file).unwrap();
    let secret = secret_of(&v.identities[0]).unwrap();
    let err = unwrap_x25519(&header.stanzas, &secret).unwrap_err();
    assert!(matches!(err, SealError::Recipient(_)), "{err}");

    // Sealing to a low-order recipient is refused before anything is
    // written: the all-zero point, as an `age1...` recipient.
    let zero =
        bech32::encode::<bech32::Bech32>(bech32::Hrp::parse("age").unwrap(), &[0u8; 32]).unwrap();
    let recipient: writ_seal::Recipient = zero.parse().unwrap();
    let err = AgeWriter::new(Vec::new(), &recipient).unwrap_err();
    assert!(matches!(err, SealError::Recipient(_)), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let err =
        writ_seal::PackageWriter::create(&dir.path().join("p.age"), &recipient, super::header())
            .unwrap_err();
    assert!(matches!(err, SealError::Recipient(_)), "{err}");
}

/// Re-encrypts a vector's plaintext through the parallel writer with the
/// vector's header, file key and nonce, writing it in pieces of `piece`
/// bytes.
fn reseal(header: &[u8], key: &FileKey, nonce: [u8; 16], plain: &[u8], piece: usize) -> Vec<u8> {
    let sealing = Sealing::from_parts(header.to_vec(), key, nonce);
    let mut writer = AgeWriter::with_sealing(Vec::new(), sealing, 2).unwrap();
    for part in plain.chunks(piece.max(1)) {
        writer.write_all(part).unwrap();
    }
    let written = writer.finish().unwrap();
    assert_eq!(written.bytes, written.inner.len() as u64);
    assert_eq!(
        written.sha256,
        writ_seal::hex(&Sha256::digest(&written.inner))
    );
    written.inner
}

#[test]
fn successful_payloads_decrypt_and_encrypt_back_to_the_same_bytes() {
    let mut checked = 0;
    let mut chunks = 0;
    for v in vectors().iter().filter(|v| binary(v)) {
        let Some(header) = parse_header(&v.file) else {
            continue;
        };
        let Some(key) = &v.file_key else { continue };
        let rest = &v.file[header.len..];
        if rest.len() < 16 {
            assert_ne!(v.expect, "success", "{}", v.name);
            continue;
        }
        let nonce: [u8; 16] = rest[..16].try_into().unwrap();
        let payload_key = agev1::payload_key(key, &nonce);
        let plain = stream_decrypt(&payload_key, &rest[16..]);
        match v.expect.as_str() {
            "success" => {
                let plain = plain.unwrap_or_else(|e| panic!("{}: {e}", v.name));
                assert_eq!(
                    writ_seal::hex(&Sha256::digest(&plain)),
                    *v.payload.as_ref().unwrap(),
                    "{}",
                    v.name
                );
                for piece in [1000, CHUNK, 3 * CHUNK + 7, usize::MAX] {
                    let again = reseal(&v.file[..header.len], key, nonce, &plain, piece);
                    assert!(again == v.file, "{}: re-encrypted bytes differ", v.name);
                }
                chunks += plain.len().div_ceil(CHUNK);
                checked += 1;
            }
            // The decryptor above is strict enough to refuse them: it is
            // not accepting everything.
            "payload failure" => assert!(plain.is_err(), "{}", v.name),
            _ => {}
        }
    }
    // Among them the 257- and 258-chunk payloads, which span several of
    // the writer's 16-chunk segments.
    assert!(
        checked >= 19 && chunks > 700,
        "{checked} payloads, {chunks} chunks"
    );
}

/// Payload sizes around every boundary of the writer: chunk, segment, and
/// several segments, including exact multiples (the last chunk full).
const SIZES: &[usize] = &[
    0,
    1,
    CHUNK - 1,
    CHUNK,
    CHUNK + 1,
    16 * CHUNK - 1,
    16 * CHUNK,
    16 * CHUNK + 1,
    32 * CHUNK,
    40 * CHUNK + 12_345,
];

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn the_age_crate_opens_every_boundary_size() {
    let identity = Identity::generate();
    for &size in SIZES {
        let plain = pattern(size);
        let mut writer = AgeWriter::new(Vec::new(), &identity.to_public()).unwrap();
        // Through `copy_from` (the path sealing takes), in odd-sized reads.
        let mut reader = Slow(&plain[..], 40_000);
        assert_eq!(writer.copy_from(&mut reader).unwrap(), size as u64);
        let file = writer.finish().unwrap().inner;
        let decryptor = age::Decryptor::new(file.as_slice()).unwrap();
        let mut out = Vec::new();
        decryptor
            .decrypt(std::iter::once(&identity as &dyn age::Identity))
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert!(out == plain, "size {size}");
    }
}

/// A reader that gives at most `1` bytes a call.
struct Slow<'a>(&'a [u8], usize);

impl Read for Slow<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.1).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn the_age_cli_opens_every_boundary_size() {
    let Some(()) = super::age_cli("the_age_cli_opens_every_boundary_size") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let identity = Identity::generate();
    let key = dir.path().join("identity.txt");
    {
        use age::secrecy::ExposeSecret;
        std::fs::write(&key, format!("{}\n", identity.to_string().expose_secret())).unwrap();
    }
    for &size in SIZES {
        let plain = pattern(size);
        let mut writer = AgeWriter::new(Vec::new(), &identity.to_public()).unwrap();
        writer.write_all(&plain).unwrap();
        let sealed = dir.path().join("f.age");
        std::fs::write(&sealed, writer.finish().unwrap().inner).unwrap();
        let out = std::process::Command::new("age")
            .arg("-d")
            .arg("-i")
            .arg(&key)
            .arg(&sealed)
            .output()
            .unwrap();
        assert!(out.status.success(), "size {size}: {:?}", out);
        assert!(out.stdout == plain, "size {size}");
    }
}

/// The header of a package's age file, its nonce and its file key
/// (unwrapped with the identity).
fn secrets_of(file: &[u8], identity: &Identity) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    use age::secrecy::ExposeSecret;
    let header = parse_header(file).unwrap();
    assert_eq!(header.stanzas.len(), 1);
    let stanza = &header.stanzas[0];
    assert_eq!(stanza.tag, "X25519");
    let secret = secret_of(identity.to_string().expose_secret()).unwrap();
    let file_key = unwrap_x25519(&header.stanzas, &secret).unwrap().unwrap();
    let share = STANDARD_NO_PAD.decode(&stanza.args[0]).unwrap();
    let nonce = file[header.len..header.len + 16].to_vec();
    (share, nonce, file_key)
}

#[test]
fn two_seals_of_the_same_input_differ_in_file_key_share_and_nonce() {
    let dir = tempfile::tempdir().unwrap();
    let identity = Identity::generate();
    let first = super::sample(dir.path(), &identity);
    let first_bytes = std::fs::read(&first.path).unwrap();
    let second = super::sample(dir.path(), &identity);
    let second_bytes = std::fs::read(&second.path).unwrap();
    assert_eq!(first.manifest, second.manifest);
    let (share1, nonce1, key1) = secrets_of(&first_bytes, &identity);
    let (share2, nonce2, key2) = secrets_of(&second_bytes, &identity);
    assert_eq!(key1.len(), 16);
    assert_ne!(key1, key2, "file key");
    assert_ne!(share1, share2, "ephemeral share");
    assert_ne!(nonce1, nonce2, "payload nonce");
    assert_ne!(first.sha256, second.sha256);
}
