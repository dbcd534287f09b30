//! Witness cosignatures (c2sp.org/tlog-cosignature, `cosignature/v1` with
//! Ed25519) and the body of a witness's `add-checkpoint` request
//! (c2sp.org/tlog-witness).
//!
//! A cosignature is a note signature line whose signature is a
//! `timestamped_signature`: an 8-byte big-endian POSIX time followed by an
//! Ed25519 signature over
//!
//! ```text
//! cosignature/v1
//! time <timestamp>
//! <the checkpoint's note text, signature lines excluded>
//! ```
//!
//! Its key id is `SHA-256(name || "\n" || 0x04 || public key)[:4]`, and its
//! verifier key is `name+hex(id)+base64(0x04 || public key)`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::hash::Hash;
use crate::note::{Checkpoint, NoteError, NoteVerifier};

/// Signature type byte of timestamped Ed25519 cosignatures
/// (c2sp.org/signed-note, "Signature types").
const ALG_COSIGNATURE_V1: u8 = 0x04;
/// Signature lines start with an em dash and a space.
const SIG_PREFIX: &str = "\u{2014} ";
/// At most this many consistency proof lines (c2sp.org/tlog-witness).
pub const MAX_PROOF_LINES: usize = 63;

/// Errors reading cosigner keys, cosignatures and requests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    #[error("invalid cosigner key name `{0}`: must be non-empty, without spaces or `+`")]
    BadName(String),
    #[error(
        "invalid witness verifier key `{0}`: expected `name+hash+base64(0x04 || key)` (cosignature/v1)"
    )]
    BadVerifierKey(String),
    #[error("witness verifier key hash does not match its name and key")]
    KeyHashMismatch,
    #[error("not a witness key file (`writ-witness-key-v1 <name> <base64 seed>`)")]
    BadKeyFile,
    #[error(transparent)]
    Note(#[from] NoteError),
    #[error("malformed add-checkpoint request: {0}")]
    BadRequest(&'static str),
    #[error("the system clock is before 1970")]
    Clock,
}

fn check_name(name: &str) -> Result<(), CosignatureError> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
    {
        return Err(CosignatureError::BadName(name.to_owned()));
    }
    Ok(())
}

fn key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ALG_COSIGNATURE_V1]);
    h.update(key.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// The message a `cosignature/v1` signature covers.
fn signed_message(timestamp: u64, text: &str) -> Vec<u8> {
    format!("cosignature/v1\ntime {timestamp}\n{text}").into_bytes()
}

/// A witness's signing key. Never printed: `Debug` shows only the public half.
pub struct CosignerKey {
    name: String,
    key: SigningKey,
}

impl fmt::Debug for CosignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CosignerKey")
            .field("vkey", &self.verifier().to_string())
            .finish_non_exhaustive()
    }
}

impl CosignerKey {
    const PREFIX: &'static str = "writ-witness-key-v1";

    /// A key from a name and a 32-byte Ed25519 seed.
    pub fn new(name: &str, seed: &[u8; 32]) -> Result<Self, CosignatureError> {
        check_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            key: SigningKey::from_bytes(seed),
        })
    }

    /// A new key with a random seed.
    pub fn generate(name: &str) -> Result<Self, CosignatureError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|_| CosignatureError::BadKeyFile)?;
        Self::new(name, &seed)
    }

    /// Reads a key file: `writ-witness-key-v1 <name> <base64 seed>`.
    pub fn parse(text: &str) -> Result<Self, CosignatureError> {
        let mut parts = text.split_whitespace();
        let (Some(Self::PREFIX), Some(name), Some(seed), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(CosignatureError::BadKeyFile);
        };
        let seed: [u8; 32] = BASE64
            .decode(seed)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(CosignatureError::BadKeyFile)?;
        Self::new(name, &seed)
    }

    /// The text of a key file.
    pub fn to_file_text(&self) -> String {
        format!(
            "{} {} {}\n",
            Self::PREFIX,
            self.name,
            BASE64.encode(self.key.to_bytes())
        )
    }

    /// The witness's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> CosignatureVerifier {
        let key = self.key.verifying_key();
        CosignatureVerifier {
            name: self.name.clone(),
            id: key_id(&self.name, &key),
            key,
        }
    }

    /// The cosignature line (ending in a newline) over a checkpoint's note
    /// text, made at `timestamp` (seconds since the epoch).
    pub fn cosign(&self, text: &str, timestamp: u64) -> String {
        let sig = self.key.sign(&signed_message(timestamp, text));
        let mut blob = Vec::with_capacity(76);
        blob.extend_from_slice(&key_id(&self.name, &self.key.verifying_key()));
        blob.extend_from_slice(&timestamp.to_be_bytes());
        blob.extend_from_slice(&sig.to_bytes());
        format!("{SIG_PREFIX}{} {}\n", self.name, BASE64.encode(blob))
    }
}

/// A witness's verifier key for `cosignature/v1`.
#[derive(Clone, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    id: [u8; 4],
    key: VerifyingKey,
}

impl fmt::Debug for CosignatureVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CosignatureVerifier({self})")
    }
}

impl fmt::Display for CosignatureVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut blob = vec![ALG_COSIGNATURE_V1];
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

impl CosignatureVerifier {
    /// Reads a verifier key `name+hash+base64(0x04 || key)`.
    pub fn parse(vkey: &str) -> Result<Self, CosignatureError> {
        let bad = || CosignatureError::BadVerifierKey(vkey.to_owned());
        let mut parts = vkey.trim().splitn(3, '+');
        let (Some(name), Some(hash), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        check_name(name).map_err(|_| bad())?;
        if hash.len() != 8 {
            return Err(bad());
        }
        let id = crate::hex::decode(hash).ok_or_else(bad)?;
        let blob = BASE64.decode(key).map_err(|_| bad())?;
        let Some((&ALG_COSIGNATURE_V1, raw)) = blob.split_first() else {
            return Err(bad());
        };
        let raw: [u8; 32] = raw.try_into().map_err(|_| bad())?;
        let key = VerifyingKey::from_bytes(&raw).map_err(|_| bad())?;
        let expected = key_id(name, &key);
        if id != expected {
            return Err(CosignatureError::KeyHashMismatch);
        }
        Ok(Self {
            name: name.to_owned(),
            id: expected,
            key,
        })
    }

    /// The witness's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The timestamp of this witness's valid cosignature on `note`, if it
    /// carries one. Lines of other keys are ignored; a line with this key's
    /// name and id whose signature fails makes the note malformed
    /// (c2sp.org/signed-note), and is an error.
    pub fn verify(&self, note: &str) -> Result<Option<u64>, NoteError> {
        let (text, lines) = split_note(note)?;
        let mut found = None;
        for (name, blob) in lines {
            if name != self.name || blob.len() < 4 || blob[..4] != self.id {
                continue;
            }
            let bad = || NoteError::BadSignature(name.to_owned());
            if blob.len() != 4 + 8 + 64 {
                return Err(bad());
            }
            let mut ts = [0u8; 8];
            ts.copy_from_slice(&blob[4..12]);
            let timestamp = u64::from_be_bytes(ts);
            let sig = Signature::from_slice(&blob[12..]).map_err(|_| bad())?;
            self.key
                .verify(&signed_message(timestamp, text), &sig)
                .map_err(|_| bad())?;
            found = Some(timestamp);
        }
        Ok(found)
    }
}

/// A note's signature lines as (key name, decoded signature blob).
pub type SignatureLines<'a> = Vec<(&'a str, Vec<u8>)>;

/// Splits a signed note into its text (ending in a newline) and its
/// signature lines.
pub fn split_note(note: &str) -> Result<(&str, SignatureLines<'_>), NoteError> {
    let split = note
        .rfind("\n\n")
        .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
    let text = &note[..split + 1];
    let sigs = &note[split + 2..];
    if sigs.is_empty() || !sigs.ends_with('\n') {
        return Err(NoteError::Malformed(
            "signature block must end with a newline",
        ));
    }
    let mut out = Vec::new();
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
        out.push((name, blob));
    }
    Ok((text, out))
}

/// A trust policy: which witnesses count and how many must have cosigned.
#[derive(Clone, Debug)]
pub struct WitnessPolicy {
    pub witnesses: Vec<CosignatureVerifier>,
    pub quorum: usize,
}

/// Why a checkpoint does not satisfy a [`WitnessPolicy`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error(transparent)]
    Note(#[from] NoteError),
    #[error("the checkpoint carries {valid} valid cosignatures of the {quorum} required{}", if .problems.is_empty() { String::new() } else { format!(" ({})", .problems.join("; ")) })]
    NoQuorum {
        valid: usize,
        quorum: usize,
        problems: Vec<String>,
    },
}

impl WitnessPolicy {
    /// Opens a checkpoint signed by the log and cosigned by at least
    /// `quorum` of the policy's witnesses; returns it and the names of the
    /// witnesses whose cosignatures verified.
    pub fn open_checkpoint(
        &self,
        log: &NoteVerifier,
        note: &str,
    ) -> Result<(Checkpoint, Vec<String>), PolicyError> {
        let checkpoint = log.open_checkpoint(note)?;
        let mut valid = Vec::new();
        let mut problems = Vec::new();
        for w in &self.witnesses {
            match w.verify(note) {
                Ok(Some(_)) => valid.push(w.name().to_owned()),
                Ok(None) => problems.push(format!("none by `{}`", w.name())),
                Err(e) => problems.push(e.to_string()),
            }
        }
        if valid.len() < self.quorum {
            return Err(PolicyError::NoQuorum {
                valid: valid.len(),
                quorum: self.quorum,
                problems,
            });
        }
        Ok((checkpoint, valid))
    }
}

/// The body of `POST <witness>/add-checkpoint` (c2sp.org/tlog-witness).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the checkpoint the witness last cosigned, as the log
    /// believes it.
    pub old: u64,
    /// The consistency proof from `old` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note.
    pub checkpoint: String,
}

impl AddCheckpoint {
    /// The request body.
    pub fn to_body(&self) -> String {
        let mut out = format!("old {}\n", self.old);
        for h in &self.proof {
            out.push_str(&h.to_base64());
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    /// Reads a request body.
    pub fn parse(body: &str) -> Result<Self, CosignatureError> {
        let bad = CosignatureError::BadRequest;
        let (head, checkpoint) = body
            .split_once("\n\n")
            .ok_or(bad("no empty line before the checkpoint"))?;
        let mut lines = head.split('\n');
        let old = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .and_then(parse_decimal)
            .ok_or(bad("the first line must be `old <size>` in decimal"))?;
        let proof = lines
            .map(|l| Hash::from_base64(l).map_err(|_| bad("a proof line is not a base64 hash")))
            .collect::<Result<Vec<_>, _>>()?;
        if proof.len() > MAX_PROOF_LINES {
            return Err(bad("more than 63 consistency proof lines"));
        }
        Ok(Self {
            old,
            proof,
            checkpoint: checkpoint.to_owned(),
        })
    }
}

/// An ASCII decimal without leading zeroes (`0` alone for zero).
pub fn parse_decimal(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if canonical { text.parse().ok() } else { None }
}

/// Seconds since the epoch now.
pub fn now_unix() -> Result<u64, CosignatureError> {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .map_err(|_| CosignatureError::Clock)
}
