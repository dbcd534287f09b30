//! Salted commitments to private details, and what opens them
//! (`docs/formats.md`, "Transparency log").
//!
//! A commitment is SHA-256 over a 32-byte salt followed by the canonical
//! JSON of the details. The provider keeps the salts and details beside the
//! event ([`Private`]); an [`Opening`] hands one of them to a court, an
//! auditor or the affected user, who checks it against the logged entry.
//! The salts come from the caller: this crate does no IO, randomness
//! included.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::canonical;
use crate::error::{EventError, field};

/// A 32-byte salt, fresh for each commitment. Never printed; lowercase hex
/// in JSON (the case store and receipts carry it).
#[derive(Clone, PartialEq, Eq)]
pub struct Salt(pub [u8; 32]);

impl fmt::Debug for Salt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Salt(..)")
    }
}

impl Salt {
    /// Reads 64 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, EventError> {
        hex::decode(text)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(Self)
            .ok_or_else(|| field("salt", "not 32 bytes of hex"))
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl Serialize for Salt {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Salt {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::from_hex(&text).map_err(|_| serde::de::Error::custom("salt must be 32 bytes of hex"))
    }
}

/// A commitment: SHA-256 over salt and canonical JSON, lowercase hex in JSON.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Commitment(pub [u8; 32]);

impl fmt::Debug for Commitment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Commitment({self})")
    }
}

impl fmt::Display for Commitment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl Commitment {
    /// Reads 64 lowercase hex digits.
    pub fn parse(text: &str) -> Result<Self, EventError> {
        if text.len() != 64 || text.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(field(
                "commitments",
                format!("`{text}` is not 64 lowercase hex digits"),
            ));
        }
        hex::decode(text)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(Self)
            .ok_or_else(|| field("commitments", format!("`{text}` is not hex")))
    }

    /// The commitment to details already in canonical JSON: SHA-256(salt ||
    /// details). [`commit`] canonicalises first.
    pub fn of_canonical(salt: &Salt, canonical_details: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(salt.0);
        h.update(canonical_details);
        Commitment(h.finalize().into())
    }
}

impl Serialize for Commitment {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Commitment {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The commitment to `details` under `salt`: SHA-256(salt || JCS(details)).
pub fn commit(salt: &Salt, details: &Value) -> Commitment {
    Commitment::of_canonical(salt, &canonical::to_vec(details))
}

/// What opens a commitment: the salt and the private details. A receipt
/// carries it; a verifier recomputes the commitment.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Opening {
    /// The salt, lowercase hex.
    pub salt: Salt,
    /// The private details, as committed.
    pub details: Value,
}

impl fmt::Debug for Opening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opening")
            .field("details", &self.details)
            .finish_non_exhaustive()
    }
}

impl Opening {
    /// Commits to `details` under `salt`, which must be fresh.
    pub fn new(salt: Salt, details: Value) -> Self {
        Self { salt, details }
    }

    /// The commitment this opening opens.
    pub fn commitment(&self) -> Commitment {
        commit(&self.salt, &self.details)
    }

    /// Whether this opening opens `commitment`.
    pub fn verify(&self, commitment: &Commitment) -> bool {
        self.commitment() == *commitment
    }
}

/// What the provider keeps beside an event: the salt and details of each of
/// its commitments, in the entry's order (`{"details": [..], "salts": [..]}`
/// in the case store).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Private {
    pub salts: Vec<Salt>,
    pub details: Vec<Value>,
}

impl fmt::Debug for Private {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Private")
            .field("details", &self.details)
            .finish_non_exhaustive()
    }
}

impl Private {
    /// The private part of `openings`, in order.
    pub fn of(openings: Vec<Opening>) -> Self {
        let (salts, details) = openings.into_iter().map(|o| (o.salt, o.details)).unzip();
        Self { salts, details }
    }

    /// Reads the case store's text.
    pub fn parse(text: &str) -> Result<Self, EventError> {
        let mut de = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            field(path, e.into_inner().to_string())
        })
    }

    /// Its canonical JSON, as the case store keeps it.
    pub fn to_canonical(&self) -> Result<Vec<u8>, EventError> {
        canonical::to_vec_of(self).map_err(EventError::Json)
    }

    /// The opening of commitment `k`.
    pub fn opening(&self, k: usize) -> Option<Opening> {
        Some(Opening {
            salt: self.salts.get(k)?.clone(),
            details: self.details.get(k)?.clone(),
        })
    }
}
