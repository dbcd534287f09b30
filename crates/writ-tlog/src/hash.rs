//! RFC 6962 hashing (RFC 6962, section 2.1; RFC 9162, section 2.1.1).
//!
//! Leaves are hashed with a `0x00` prefix and interior nodes with `0x01`, so that
//! a leaf can never be presented as an interior node (second-preimage
//! resistance).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};

/// Size of a hash in bytes.
pub const HASH_SIZE: usize = 32;

/// A SHA-256 hash of a leaf, of an interior node or of a whole tree.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; HASH_SIZE]);

/// A hash that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid hash `{0}`: expected 32 bytes in base64 or hex")]
pub struct HashParseError(pub String);

impl Hash {
    /// The hash of the empty tree: SHA-256 of nothing (RFC 6962, section 2.1).
    pub fn empty() -> Self {
        Self(Sha256::digest([]).into())
    }

    /// The bytes of the hash.
    pub fn as_bytes(&self) -> &[u8; HASH_SIZE] {
        &self.0
    }

    /// Reads a hash from a slice of exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; HASH_SIZE]>::try_from(bytes).ok().map(Self)
    }

    /// Standard base64, as checkpoints and proofs carry hashes.
    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0)
    }

    /// Reads a hash in standard base64.
    pub fn from_base64(text: &str) -> Result<Self, HashParseError> {
        BASE64
            .decode(text)
            .ok()
            .and_then(|bytes| Self::from_slice(&bytes))
            .ok_or_else(|| HashParseError(text.to_owned()))
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        crate::hex::encode(&self.0)
    }

    /// Reads a hash in hex (either case).
    pub fn from_hex(text: &str) -> Result<Self, HashParseError> {
        crate::hex::decode(text)
            .and_then(|bytes| Self::from_slice(&bytes))
            .ok_or_else(|| HashParseError(text.to_owned()))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

/// The hash of a leaf: SHA-256(0x00 || entry).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    Hash(h.finalize().into())
}

/// The hash of an interior node: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 1 + 2 * HASH_SIZE];
    buf[0] = 1;
    buf[1..1 + HASH_SIZE].copy_from_slice(&left.0);
    buf[1 + HASH_SIZE..].copy_from_slice(&right.0);
    Hash(Sha256::digest(buf).into())
}
