//! The encryption side of the age v1 format (C2SP age, "age-encryption.org/v1"),
//! on RustCrypto primitives.
//!
//! Writ seals with its own implementation rather than the `age` crate for
//! one reason: the `age` crate keeps the payload key to itself, so its
//! STREAM chunks can only be encrypted one after the other on one core.
//! Here the payload key is known, and [`AgeWriter`](crate::AgeWriter)
//! encrypts independent 64 KiB chunks on every core. Opening a package still
//! goes through the `age` crate, and the tests check this module against the
//! C2SP test vectors, the `age` crate and Debian's `age` CLI.
//!
//! Only what sealing needs is here: one X25519 recipient stanza, the header
//! and its MAC, and STREAM encryption. The pieces are public so that the
//! known-answer tests can check each against the vectors.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::SealError;

/// The first line of every age v1 header.
pub const VERSION_LINE: &str = "age-encryption.org/v1";
/// Plaintext bytes per STREAM chunk.
pub const CHUNK: usize = 64 * 1024;
/// The Poly1305 tag after each chunk.
pub const TAG: usize = 16;
/// Bytes of the payload nonce written after the header.
pub const NONCE: usize = 16;

const X25519_INFO: &[u8] = b"age-encryption.org/v1/X25519";
const X25519_TAG: &str = "X25519";
const BODY_COLUMNS: usize = 64;

/// The 16-byte symmetric key of one age file, wiped when dropped.
pub type FileKey = Zeroizing<[u8; 16]>;
/// A derived 32-byte key, wiped when dropped.
pub type DerivedKey = Zeroizing<[u8; 32]>;

/// A recipient stanza of the header: `-> tag args...` and its body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stanza {
    pub tag: String,
    pub args: Vec<String>,
    pub body: Vec<u8>,
}

/// Fresh randomness from the operating system.
pub fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>, SealError> {
    let mut bytes = Zeroizing::new([0u8; N]);
    getrandom::fill(bytes.as_mut_slice()).map_err(|e| SealError::Stream {
        what: "cannot draw random bytes",
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(bytes)
}

/// The raw 32 bytes of an X25519 recipient (`age1...`).
pub fn recipient_bytes(recipient: &age::x25519::Recipient) -> Result<[u8; 32], SealError> {
    let text = recipient.to_string();
    let (hrp, data) = bech32::decode(&text)
        .map_err(|e| SealError::Recipient(format!("`{text}` is not bech32: {e}")))?;
    if hrp.as_str() != "age" {
        return Err(SealError::Recipient(format!(
            "`{text}` is not an age recipient"
        )));
    }
    <[u8; 32]>::try_from(data.as_slice())
        .map_err(|_| SealError::Recipient(format!("`{text}` is not 32 bytes")))
}

/// X25519 of `secret` and `point`, refusing the all-zero result that a
/// low-order point gives: such a "shared" secret is known to everyone, and
/// the age specification requires rejecting it.
pub fn x25519_shared(secret: &[u8; 32], point: &[u8; 32]) -> Result<DerivedKey, SealError> {
    let shared = Zeroizing::new(x25519_dalek::x25519(*secret, *point));
    // Constant time does not matter here: the result is refused or used,
    // and whether it is zero depends only on the public point.
    if shared.iter().all(|&b| b == 0) {
        return Err(SealError::Recipient(
            "the recipient is a low-order point (all-zero shared secret)".into(),
        ));
    }
    Ok(shared)
}

/// The key that wraps the file key in an X25519 stanza:
/// HKDF-SHA256(ikm = shared secret, salt = ephemeral share || recipient,
/// info = "age-encryption.org/v1/X25519").
pub fn x25519_wrap_key(shared: &[u8; 32], share: &[u8; 32], recipient: &[u8; 32]) -> DerivedKey {
    let mut salt = [0u8; 64];
    salt[..32].copy_from_slice(share);
    salt[32..].copy_from_slice(recipient);
    hkdf(&salt, shared, X25519_INFO)
}

/// The X25519 recipient stanza wrapping `file_key` to `recipient`, with a
/// fresh ephemeral secret.
pub fn x25519_stanza(file_key: &FileKey, recipient: &[u8; 32]) -> Result<Stanza, SealError> {
    let ephemeral = random::<32>()?;
    let share = x25519_dalek::x25519(*ephemeral, x25519_dalek::X25519_BASEPOINT_BYTES);
    let shared = x25519_shared(&ephemeral, recipient)?;
    let key = x25519_wrap_key(&shared, &share, recipient);
    let mut body = file_key.to_vec();
    // A zero nonce is safe: the wrap key is used once, for this stanza.
    ChaCha20Poly1305::new(Key::from_slice(key.as_slice()))
        .encrypt_in_place(&Nonce::default(), b"", &mut body)
        .map_err(|_| SealError::Recipient("cannot wrap the file key".into()))?;
    Ok(Stanza {
        tag: X25519_TAG.into(),
        args: vec![STANDARD_NO_PAD.encode(share)],
        body,
    })
}

/// The header up to and including `---`: the bytes the MAC covers.
pub fn header_without_mac(stanzas: &[Stanza]) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(VERSION_LINE.as_bytes());
    out.push(b'\n');
    for stanza in stanzas {
        out.extend_from_slice(b"->");
        for word in std::iter::once(&stanza.tag).chain(&stanza.args) {
            out.push(b' ');
            out.extend_from_slice(word.as_bytes());
        }
        out.push(b'\n');
        // The body is base64 without padding in lines of 64 columns; the
        // last line is always shorter, so an empty line ends a body whose
        // length is a multiple of 48 bytes.
        let body = STANDARD_NO_PAD.encode(&stanza.body);
        let mut rest = body.as_bytes();
        loop {
            let (line, tail) = rest.split_at(rest.len().min(BODY_COLUMNS));
            out.extend_from_slice(line);
            out.push(b'\n');
            rest = tail;
            if line.len() < BODY_COLUMNS {
                break;
            }
        }
    }
    out.extend_from_slice(b"---");
    out
}

/// HMAC-SHA256 over the header up to `---`, keyed with
/// HKDF-SHA256(ikm = file key, salt = empty, info = "header").
pub fn header_mac(file_key: &FileKey, header_without_mac: &[u8]) -> Result<[u8; 32], SealError> {
    let key = hkdf(&[], file_key.as_slice(), b"header");
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_slice())
        .map_err(|_| SealError::Recipient("cannot key the header MAC".into()))?;
    mac.update(header_without_mac);
    Ok(mac.finalize().into_bytes().into())
}

/// The whole header: stanzas, `---`, a space, the MAC and a newline.
pub fn encode_header(stanzas: &[Stanza], file_key: &FileKey) -> Result<Vec<u8>, SealError> {
    let mut out = header_without_mac(stanzas);
    let mac = header_mac(file_key, &out)?;
    out.push(b' ');
    out.extend_from_slice(STANDARD_NO_PAD.encode(mac).as_bytes());
    out.push(b'\n');
    Ok(out)
}

/// The STREAM key: HKDF-SHA256(ikm = file key, salt = payload nonce,
/// info = "payload").
pub fn payload_key(file_key: &FileKey, nonce: &[u8; NONCE]) -> DerivedKey {
    hkdf(nonce, file_key.as_slice(), b"payload")
}

/// Encrypts one STREAM chunk in place and returns its tag. The chunk nonce
/// is the 11-byte big-endian `counter` followed by 1 for the last chunk and
/// 0 otherwise.
pub fn encrypt_chunk(
    cipher: &PayloadCipher,
    counter: u64,
    last: bool,
    chunk: &mut [u8],
) -> Result<[u8; TAG], SealError> {
    let mut nonce = [0u8; 12];
    nonce[3..11].copy_from_slice(&counter.to_be_bytes());
    nonce[11] = u8::from(last);
    let tag = cipher
        .0
        .seal_in_place_separate_tag(
            ring::aead::Nonce::assume_unique_for_key(nonce),
            ring::aead::Aad::empty(),
            chunk,
        )
        .map_err(|_| SealError::Stream {
            what: "cannot encrypt a chunk",
            source: std::io::Error::other("chunk too long"),
        })?;
    let mut out = [0u8; TAG];
    out.copy_from_slice(tag.as_ref());
    Ok(out)
}

/// The ChaCha20-Poly1305 key of a payload. STREAM chunks are encrypted with
/// `ring`'s implementation (assembly on x86-64 and ARM), the bulk of the
/// work of sealing; the header's small wrap uses RustCrypto's.
#[derive(Clone)]
pub struct PayloadCipher(std::sync::Arc<ring::aead::LessSafeKey>);

impl std::fmt::Debug for PayloadCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PayloadCipher")
    }
}

/// The cipher of a payload key.
pub fn payload_cipher(key: &DerivedKey) -> Result<PayloadCipher, SealError> {
    let key = ring::aead::UnboundKey::new(&ring::aead::CHACHA20_POLY1305, key.as_slice()).map_err(
        |_| SealError::Stream {
            what: "cannot use the payload key",
            source: std::io::Error::other("a ChaCha20-Poly1305 key is 32 bytes"),
        },
    )?;
    Ok(PayloadCipher(std::sync::Arc::new(
        ring::aead::LessSafeKey::new(key),
    )))
}

/// Everything needed to write one age file to one X25519 recipient: the
/// header with its stanza and MAC, the payload nonce and the payload key.
pub struct Sealing {
    pub header: Vec<u8>,
    pub nonce: [u8; NONCE],
    pub payload_key: DerivedKey,
}

impl std::fmt::Debug for Sealing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealing")
            .field("header", &String::from_utf8_lossy(&self.header))
            .finish_non_exhaustive()
    }
}

impl Sealing {
    /// A fresh file key, ephemeral share and payload nonce for `recipient`.
    pub fn new(recipient: &age::x25519::Recipient) -> Result<Self, SealError> {
        let recipient = recipient_bytes(recipient)?;
        let file_key: FileKey = random::<16>()?;
        let stanza = x25519_stanza(&file_key, &recipient)?;
        let header = encode_header(std::slice::from_ref(&stanza), &file_key)?;
        let nonce = *random::<NONCE>()?;
        Ok(Self::from_parts(header, &file_key, nonce))
    }

    /// A sealing with a given header, file key and nonce: for known-answer
    /// tests, which re-encrypt a vector's payload and compare the bytes.
    pub fn from_parts(header: Vec<u8>, file_key: &FileKey, nonce: [u8; NONCE]) -> Self {
        Self {
            header,
            payload_key: payload_key(file_key, &nonce),
            nonce,
        }
    }
}

fn hkdf(salt: &[u8], ikm: &[u8], info: &[u8]) -> DerivedKey {
    let mut okm = Zeroizing::new([0u8; 32]);
    // `expand` fails only for outputs longer than 255 × 32 bytes; 32 bytes
    // never do.
    let _ = Hkdf::<Sha256>::new(Some(salt), ikm).expand(info, okm.as_mut_slice());
    okm
}
