//! Signed notes with Ed25519 (c2sp.org/signed-note) and checkpoints
//! (c2sp.org/tlog-checkpoint).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::hash::Hash;

/// Signature type byte of Ed25519 keys (c2sp.org/signed-note, "Signature types").
const ALG_ED25519: u8 = 0x01;
/// Signature lines start with an em dash and a space.
const SIG_PREFIX: &str = "\u{2014} ";

/// Errors reading or verifying notes, keys and checkpoints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("invalid key name `{0}`: must be non-empty, without spaces or `+`")]
    BadName(String),
    #[error("invalid verifier key `{0}`: expected `name+hash+base64` with an Ed25519 key")]
    BadVerifierKey(String),
    #[error("verifier key hash does not match its name and key")]
    KeyHashMismatch,
    #[error("malformed signed note: {0}")]
    Malformed(&'static str),
    #[error("signature by `{0}` does not verify")]
    BadSignature(String),
    #[error("note carries no signature by `{0}`")]
    NotSigned(String),
    #[error("malformed checkpoint: {0}")]
    BadCheckpoint(&'static str),
    #[error("checkpoint origin `{found}` differs from the key name `{expected}`")]
    OriginMismatch { expected: String, found: String },
}

fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
    {
        return Err(NoteError::BadName(name.to_owned()));
    }
    Ok(())
}

/// The 4-byte key id: the first bytes of SHA-256(name || "\n" || 0x01 || key).
fn key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ALG_ED25519]);
    h.update(key.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// A log's signing key: a name (the log's origin) and an Ed25519 key.
///
/// Never printed: `Debug` shows only the public half.
pub struct NoteSigner {
    name: String,
    key: SigningKey,
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoteSigner")
            .field("vkey", &self.verifier().to_string())
            .finish_non_exhaustive()
    }
}

impl NoteSigner {
    /// A signer from a name and a 32-byte Ed25519 seed.
    pub fn new(name: &str, seed: &[u8; 32]) -> Result<Self, NoteError> {
        check_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            key: SigningKey::from_bytes(seed),
        })
    }

    /// A fresh random seed for a new key.
    pub fn generate_seed() -> Result<[u8; 32], getrandom::Error> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)?;
        Ok(seed)
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The seed, to be kept in the trusted store.
    pub fn seed(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> NoteVerifier {
        let key = self.key.verifying_key();
        NoteVerifier {
            name: self.name.clone(),
            id: key_id(&self.name, &key),
            key,
        }
    }

    /// A plain Ed25519 signature over `message` with the log key, for
    /// documents other than notes (a transparency report). The caller puts a
    /// prefix of its own before the bytes so that such a signature can never
    /// be taken for a note's.
    pub fn sign_detached(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    /// Signs `text` (which must end in a newline) and returns the signed note.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        check_text(text)?;
        let sig = self.key.sign(text.as_bytes());
        let mut blob = Vec::with_capacity(68);
        blob.extend_from_slice(&key_id(&self.name, &self.key.verifying_key()));
        blob.extend_from_slice(&sig.to_bytes());
        Ok(format!(
            "{text}\n{SIG_PREFIX}{} {}\n",
            self.name,
            BASE64.encode(blob)
        ))
    }
}

/// A verifier key: `name+hash+base64(0x01 || key)` (c2sp.org/signed-note,
/// "Verifier keys").
#[derive(Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    id: [u8; 4],
    key: VerifyingKey,
}

impl fmt::Debug for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteVerifier({self})")
    }
}

impl fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut blob = vec![ALG_ED25519];
        blob.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{}+{}",
            self.name,
            crate::hex::encode(&self.id),
            BASE64.encode(blob)
        )
    }
}

impl NoteVerifier {
    /// Reads a verifier key.
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let bad = || NoteError::BadVerifierKey(vkey.to_owned());
        let vkey_trim = vkey.trim();
        let mut parts = vkey_trim.splitn(3, '+');
        let (Some(name), Some(hash), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        check_name(name).map_err(|_| bad())?;
        if hash.len() != 8 {
            return Err(bad());
        }
        let id = crate::hex::decode(hash).ok_or_else(bad)?;
        let blob = BASE64.decode(key).map_err(|_| bad())?;
        let Some((&ALG_ED25519, raw)) = blob.split_first() else {
            return Err(bad());
        };
        let raw: [u8; 32] = raw.try_into().map_err(|_| bad())?;
        let key = VerifyingKey::from_bytes(&raw).map_err(|_| bad())?;
        let expected = key_id(name, &key);
        if id != expected {
            return Err(NoteError::KeyHashMismatch);
        }
        Ok(Self {
            name: name.to_owned(),
            id: expected,
            key,
        })
    }

    /// The key's name (for a log, its origin).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Opens a signed note: checks that it carries a valid signature by this
    /// key and returns its text. Signatures by other keys are ignored
    /// (c2sp.org/signed-note, "Verifying notes").
    pub fn open<'a>(&self, note: &'a str) -> Result<&'a str, NoteError> {
        let split = note
            .rfind("\n\n")
            .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
        let text = &note[..split + 1];
        let sigs = &note[split + 2..];
        check_text(text)?;
        if sigs.is_empty() || !sigs.ends_with('\n') {
            return Err(NoteError::Malformed(
                "signature block must end with a newline",
            ));
        }
        let mut verified = false;
        for line in sigs[..sigs.len() - 1].split('\n') {
            let rest = line
                .strip_prefix(SIG_PREFIX)
                .ok_or(NoteError::Malformed("signature line without the em dash"))?;
            let (name, b64) = rest
                .split_once(' ')
                .ok_or(NoteError::Malformed("signature line without a signature"))?;
            let blob = BASE64
                .decode(b64)
                .map_err(|_| NoteError::Malformed("signature is not base64"))?;
            if blob.len() < 5 {
                return Err(NoteError::Malformed("signature too short"));
            }
            if name != self.name || blob[..4] != self.id {
                continue;
            }
            let sig = Signature::from_slice(&blob[4..])
                .map_err(|_| NoteError::BadSignature(name.to_owned()))?;
            // Strict, like every Ed25519 check of Writ: canonical encodings,
            // no small-order key or R (writ-server's `httpsig` module says
            // which C2SP edge-case vectors that accepts).
            self.key
                .verify_strict(text.as_bytes(), &sig)
                .map_err(|_| NoteError::BadSignature(name.to_owned()))?;
            verified = true;
        }
        if verified {
            Ok(text)
        } else {
            Err(NoteError::NotSigned(self.name.clone()))
        }
    }

    /// Checks a plain Ed25519 signature made by [`NoteSigner::sign_detached`].
    pub fn verify_detached(&self, message: &[u8], signature: &[u8]) -> Result<(), NoteError> {
        let sig = Signature::from_slice(signature)
            .map_err(|_| NoteError::BadSignature(self.name.clone()))?;
        self.key
            .verify_strict(message, &sig)
            .map_err(|_| NoteError::BadSignature(self.name.clone()))
    }

    /// Opens a signed checkpoint and reads it; its origin must be the key's name.
    pub fn open_checkpoint(&self, note: &str) -> Result<Checkpoint, NoteError> {
        let checkpoint = Checkpoint::parse(self.open(note)?)?;
        if checkpoint.origin != self.name {
            return Err(NoteError::OriginMismatch {
                expected: self.name.clone(),
                found: checkpoint.origin,
            });
        }
        Ok(checkpoint)
    }
}

/// Note text: non-empty UTF-8 ending in a newline, with no control
/// characters other than newlines.
fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(NoteError::Malformed("text must end with a newline"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(NoteError::Malformed("text holds control characters"));
    }
    Ok(())
}

/// A checkpoint (c2sp.org/tlog-checkpoint): origin, tree size, root hash,
/// and optional extension lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: &str, size: u64, root: Hash) -> Self {
        Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// The note text: one line each for origin, size, root, extensions.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for e in &self.extensions {
            out.push_str(e);
            out.push('\n');
        }
        out
    }

    /// Reads checkpoint text.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(NoteError::BadCheckpoint("must end with a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|l| !l.is_empty())
            .ok_or(NoteError::BadCheckpoint("missing origin"))?;
        let size_text = lines
            .next()
            .ok_or(NoteError::BadCheckpoint("missing tree size"))?;
        let canonical = !size_text.is_empty()
            && size_text.bytes().all(|b| b.is_ascii_digit())
            && (size_text == "0" || !size_text.starts_with('0'));
        let size: u64 =
            size_text
                .parse()
                .ok()
                .filter(|_| canonical)
                .ok_or(NoteError::BadCheckpoint(
                    "tree size is not a decimal number",
                ))?;
        let root = lines.next().and_then(|l| Hash::from_base64(l).ok()).ok_or(
            NoteError::BadCheckpoint("root hash is not 32 bytes of base64"),
        )?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(NoteError::BadCheckpoint("empty extension line"));
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }
}
