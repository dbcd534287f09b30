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

/// The leaf hashes of `entries`, in order, into `out` (cleared first): the
/// same as [`leaf_hash`] of each.
///
/// One SHA-256 leaves most of a core's SHA unit idle, waiting on its own
/// previous round; four computed side by side fill it (`tape-sha256`), which
/// takes about half the time of one after another. The four run in step only
/// when their messages have the same number of 64-byte blocks, so entries are
/// hashed grouped by that number.
pub fn leaf_hashes(entries: &[&[u8]], out: &mut Vec<Hash>) {
    out.clear();
    for chunk in entries.chunks(1 << 16) {
        push_leaf_hashes(chunk, out);
    }
}

/// Appends the leaf hashes of at most 2^32 entries to `out`.
fn push_leaf_hashes(entries: &[&[u8]], out: &mut Vec<Hash>) {
    // SHA-256 pads a message with 0x80 and its length in 8 bytes. Each
    // entry's block count in the high half of a key, its index in the low.
    let blocks = |entry: &[u8]| ((1 + entry.len() + 9).div_ceil(64) as u64) << 32;
    let mut order: Vec<u64> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| blocks(e) | i as u64)
        .collect();
    order.sort_unstable();
    let index = |key: u64| (key & u64::from(u32::MAX)) as usize;
    let grouped: Vec<&[u8]> = order.iter().map(|&k| entries[index(k)]).collect();
    let mut digests = vec![[0u8; HASH_SIZE]; entries.len()];
    let mut start = 0;
    while let Some(&first) = order.get(start) {
        let end = start + order[start..].partition_point(|&k| k >> 32 == first >> 32);
        tape_sha256::hash_many_prefixed(&[0], &grouped[start..end], &mut digests[start..end]);
        start = end;
    }
    let base = out.len();
    out.resize(base + entries.len(), Hash::default());
    for (&k, digest) in order.iter().zip(digests) {
        out[base + index(k)] = Hash(digest);
    }
}

/// The RFC 6962 root of consecutive leaf hashes, any number of them (RFC
/// 6962, section 2.1): the tree is built a level at a time, a level's last
/// hash carried up as it is when the level has an odd number, which gives
/// the same tree as the RFC's split at the largest power of two. A level's
/// node hashes are computed several at a time, as in [`leaf_hashes`].
pub fn root_of(leaves: &[Hash]) -> Hash {
    let mut level: Vec<[u8; HASH_SIZE]> = leaves.iter().map(|h| h.0).collect();
    let mut next: Vec<[u8; HASH_SIZE]> = Vec::with_capacity(level.len() / 2 + 1);
    while level.len() > 1 {
        let pairs = level.len() / 2;
        next.clear();
        next.resize(pairs, [0; HASH_SIZE]);
        let bodies: Vec<&[u8]> = level.as_flattened()[..pairs * 2 * HASH_SIZE]
            .chunks_exact(2 * HASH_SIZE)
            .collect();
        tape_sha256::hash_many_prefixed(&[1], &bodies, &mut next);
        if let [.., last] = level[..]
            && level.len() % 2 == 1
        {
            next.push(last);
        }
        std::mem::swap(&mut level, &mut next);
    }
    level.first().map_or_else(Hash::empty, |h| Hash(*h))
}

/// The hash of an interior node: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 1 + 2 * HASH_SIZE];
    buf[0] = 1;
    buf[1..1 + HASH_SIZE].copy_from_slice(&left.0);
    buf[1 + HASH_SIZE..].copy_from_slice(&right.0);
    Hash(Sha256::digest(buf).into())
}
