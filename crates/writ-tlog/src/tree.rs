//! The Merkle tree of RFC 9162, section 2.1: tree hashes, inclusion and
//! consistency proofs, and their verification.
//!
//! The code here never sees storage. It names the hashes it needs as perfect
//! subtrees ([`NodeId`]) and reads them through a [`HashReader`]; the tile
//! layer maps those to tiles (`tiles.rs`).

use crate::hash::{Hash, node_hash};

/// A perfect subtree: the `2^level` leaves starting at `index * 2^level`.
///
/// Level 0 is the leaf hashes themselves. These are the hashes that
/// tlog-tiles stores (c2sp.org/tlog-tiles, "Merkle Tree").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height of the subtree above the leaves.
    pub level: u8,
    /// Position of the subtree among those of its level.
    pub index: u64,
}

impl NodeId {
    /// First leaf covered.
    pub fn start(self) -> u64 {
        self.index << self.level
    }
    /// One past the last leaf covered.
    pub fn end(self) -> u64 {
        (self.index + 1) << self.level
    }
}

/// Errors from the tree algorithms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// A proof or hash was asked for outside the tree.
    #[error("index {index} is outside a tree of size {size}")]
    OutOfRange { index: u64, size: u64 },
    /// A consistency proof was asked for with the sizes the wrong way round.
    #[error("cannot prove size {old} against the smaller size {new}")]
    BadSizes { old: u64, new: u64 },
    /// The reader could not supply a hash.
    #[error("hash of subtree at level {}, index {} is unavailable: {reason}", .node.level, .node.index)]
    Unavailable { node: NodeId, reason: String },
}

/// Supplies the hashes of perfect subtrees.
pub trait HashReader {
    /// Returns the hashes of `nodes`, in the same order.
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, TreeError>;
}

/// The hash of a range of leaves `[lo, hi)` that forms a subtree of the
/// left-balanced tree: the perfect subtrees it splits into, largest first.
/// The hash is `node(p0, node(p1, ... node(pk-1, pk)))`.
pub fn decompose(lo: u64, hi: u64) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut start = lo;
    let mut remaining = hi - lo;
    while remaining > 0 {
        // The largest power of two not above `remaining`, limited by the
        // alignment of `start` so that the subtree is perfect.
        let mut level = 63 - remaining.leading_zeros();
        if start != 0 {
            level = level.min(start.trailing_zeros());
        }
        let size = 1u64 << level;
        out.push(NodeId {
            level: level as u8,
            index: start >> level,
        });
        start += size;
        remaining -= size;
    }
    out
}

/// Folds the hashes of a decomposition (largest first) into one hash.
pub fn fold(hashes: &[Hash]) -> Hash {
    let mut iter = hashes.iter().rev();
    let Some(last) = iter.next() else {
        return Hash::empty();
    };
    iter.fold(*last, |acc, h| node_hash(h, &acc))
}

/// The largest power of two strictly below `n` (`n >= 2`).
fn split(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// A proof as the subtree ranges whose hashes make it up, in proof order.
/// Each range is hashed by [`decompose`] and [`fold`].
pub type ProofPlan = Vec<(u64, u64)>;

/// The ranges of the inclusion proof of leaf `index` in a tree of `size`
/// leaves (RFC 9162, section 2.1.3.1).
pub fn inclusion_plan(index: u64, size: u64) -> Result<ProofPlan, TreeError> {
    if index >= size {
        return Err(TreeError::OutOfRange { index, size });
    }
    let mut plan = Vec::new();
    let (mut lo, mut hi) = (0u64, size);
    while hi - lo > 1 {
        let k = split(hi - lo);
        if index < lo + k {
            plan.push((lo + k, hi));
            hi = lo + k;
        } else {
            plan.push((lo, lo + k));
            lo += k;
        }
    }
    // The recursion yields the deepest sibling last; the proof lists it first.
    plan.reverse();
    Ok(plan)
}

/// The ranges of the consistency proof between sizes `old` and `new`
/// (RFC 9162, section 2.1.4.1). Empty when `old` is 0 or equals `new`.
pub fn consistency_plan(old: u64, new: u64) -> Result<ProofPlan, TreeError> {
    if old > new {
        return Err(TreeError::BadSizes { old, new });
    }
    let mut plan = Vec::new();
    if old == 0 || old == new {
        return Ok(plan);
    }
    // SUBPROOF(m, D[lo:hi], b), unrolled.
    let (mut lo, mut hi, mut m, mut complete) = (0u64, new, old, true);
    loop {
        let n = hi - lo;
        if m == n {
            if !complete {
                plan.push((lo, hi));
            }
            break;
        }
        let k = split(n);
        if m <= k {
            plan.push((lo + k, hi));
            hi = lo + k;
        } else {
            plan.push((lo, lo + k));
            lo += k;
            m -= k;
            complete = false;
        }
    }
    plan.reverse();
    Ok(plan)
}

/// Every perfect subtree whose hash a plan needs.
pub fn plan_nodes(plan: &[(u64, u64)]) -> Vec<NodeId> {
    plan.iter()
        .flat_map(|&(lo, hi)| decompose(lo, hi))
        .collect()
}

/// Hashes a plan with hashes read for [`plan_nodes`], in that order.
pub fn assemble(plan: &[(u64, u64)], hashes: &[Hash]) -> Vec<Hash> {
    let mut out = Vec::with_capacity(plan.len());
    let mut at = 0;
    for &(lo, hi) in plan {
        let n = decompose(lo, hi).len();
        let end = (at + n).min(hashes.len());
        out.push(fold(&hashes[at..end]));
        at = end;
    }
    out
}

fn run_plan(plan: &[(u64, u64)], reader: &dyn HashReader) -> Result<Vec<Hash>, TreeError> {
    let nodes = plan_nodes(plan);
    let hashes = reader.read_hashes(&nodes)?;
    if hashes.len() != nodes.len() {
        return Err(TreeError::Unavailable {
            node: nodes
                .first()
                .copied()
                .unwrap_or(NodeId { level: 0, index: 0 }),
            reason: "reader returned the wrong number of hashes".into(),
        });
    }
    Ok(assemble(plan, &hashes))
}

/// The root hash of the first `size` leaves.
pub fn tree_hash(size: u64, reader: &dyn HashReader) -> Result<Hash, TreeError> {
    if size == 0 {
        return Ok(Hash::empty());
    }
    Ok(run_plan(&[(0, size)], reader)?
        .first()
        .copied()
        .unwrap_or_else(Hash::empty))
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves.
pub fn inclusion_proof(
    index: u64,
    size: u64,
    reader: &dyn HashReader,
) -> Result<Vec<Hash>, TreeError> {
    run_plan(&inclusion_plan(index, size)?, reader)
}

/// The consistency proof between the trees of `old` and `new` leaves.
pub fn consistency_proof(
    old: u64,
    new: u64,
    reader: &dyn HashReader,
) -> Result<Vec<Hash>, TreeError> {
    run_plan(&consistency_plan(old, new)?, reader)
}

/// Why a proof did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("index {index} is outside a tree of size {size}")]
    OutOfRange { index: u64, size: u64 },
    #[error("proof has the wrong length")]
    WrongLength,
    #[error("proof does not lead to the expected root")]
    RootMismatch,
    #[error("sizes are inconsistent: {old} > {new}")]
    BadSizes { old: u64, new: u64 },
}

/// Verifies an inclusion proof (RFC 9162, section 2.1.3.2).
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::OutOfRange { index, size });
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(ProofError::WrongLength);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongLength);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Verifies a consistency proof (RFC 9162, section 2.1.4.2).
///
/// A proof from the empty tree, or between equal sizes, is empty and
/// verifies only if the roots are what they must be.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old > new {
        return Err(ProofError::BadSizes { old, new });
    }
    if old == 0 {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if *old_root == Hash::empty() {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    if old == new {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return Err(ProofError::WrongLength);
    };
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return Err(ProofError::WrongLength);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr != *old_root || sr != *new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}
