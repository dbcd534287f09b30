//! Growing the tree: the right edge of a tiled tree in memory, fed with
//! entries, producing the tiles and bundles to store (c2sp.org/tlog-tiles).
//!
//! Pure: the sequencer writes what it yields, and the verifier compares what
//! it yields with what a log serves.

use crate::hash::{HASH_SIZE, Hash, leaf_hash};
use crate::tiles::{self, BundleError, TILE_HEIGHT, TILE_WIDTH, TileId};
use crate::tree::{decompose, fold};

/// Errors rebuilding the edge of a tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuilderError {
    #[error("edge tile `{0}` has the wrong size")]
    BadTile(String),
    #[error(transparent)]
    Bundle(#[from] BundleError),
}

/// The right edge of a tree: for each tile level, the hashes of its partial
/// tile, and the entries of the partial entry bundle.
///
/// Invariant: `edges[L].len() == (size >> 8L) % 256`.
#[derive(Clone, Debug, Default)]
pub struct TreeBuilder {
    size: u64,
    edges: Vec<Vec<Hash>>,
    bundle: Vec<u8>,
    bundle_count: u64,
}

impl TreeBuilder {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The tiles a builder needs to continue a tree of `size` leaves: the
    /// partial hash tile of each level and the partial entry bundle.
    pub fn edge_tiles(size: u64) -> Vec<TileId> {
        let mut out = Vec::new();
        if !size.is_multiple_of(TILE_WIDTH)
            && let Some(b) = tiles::bundle_at(size / TILE_WIDTH, size)
        {
            out.push(b);
        }
        for level in 0u8..8 {
            let count = size >> (u32::from(level) * u32::from(TILE_HEIGHT));
            if !count.is_multiple_of(TILE_WIDTH)
                && let Some(t) = tiles::tile_at(level, count / TILE_WIDTH, size)
            {
                out.push(t);
            }
        }
        out
    }

    /// Continues a tree of `size` leaves from its edge tiles (as listed by
    /// [`TreeBuilder::edge_tiles`], with their bytes).
    pub fn resume(size: u64, edge: &[(TileId, Vec<u8>)]) -> Result<Self, BuilderError> {
        let mut b = Self {
            size,
            ..Self::default()
        };
        for (id, data) in edge {
            match id.level {
                None => {
                    let entries = tiles::split_bundle(data)?;
                    if entries.len() != usize::from(id.width) {
                        return Err(BuilderError::BadTile(id.path()));
                    }
                    b.bundle = data.clone();
                    b.bundle_count = entries.len() as u64;
                }
                Some(level) => {
                    if data.len() != usize::from(id.width) * HASH_SIZE {
                        return Err(BuilderError::BadTile(id.path()));
                    }
                    let level = usize::from(level);
                    if b.edges.len() <= level {
                        b.edges.resize(level + 1, Vec::new());
                    }
                    b.edges[level] = data
                        .chunks_exact(HASH_SIZE)
                        .filter_map(Hash::from_slice)
                        .collect();
                }
            }
        }
        // Check the invariant, so that a missing edge tile is caught here.
        for (level, edge) in b.edges.iter().enumerate() {
            let count = size >> (level as u32 * u32::from(TILE_HEIGHT));
            if edge.len() as u64 != count % TILE_WIDTH {
                return Err(BuilderError::BadTile(format!("level {level}")));
            }
        }
        let needed_levels = (0u32..64)
            .take_while(|l| size >> (l * u32::from(TILE_HEIGHT)) > 0)
            .filter(|l| !(size >> (l * u32::from(TILE_HEIGHT))).is_multiple_of(TILE_WIDTH))
            .count();
        let present = b.edges.iter().filter(|e| !e.is_empty()).count();
        if present != needed_levels || b.bundle_count != size % TILE_WIDTH {
            return Err(BuilderError::BadTile("edge".into()));
        }
        Ok(b)
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Adds entries; calls `sink` with every entry bundle and hash tile that
    /// becomes full. Partial tiles are left to [`TreeBuilder::partials`].
    pub fn push<'e>(
        &mut self,
        entries: impl IntoIterator<Item = &'e [u8]>,
        sink: &mut dyn FnMut(TileId, Vec<u8>),
    ) -> Result<(), BundleError> {
        for entry in entries {
            tiles::push_entry(&mut self.bundle, entry)?;
            self.bundle_count += 1;
            self.push_leaf_hash(leaf_hash(entry), sink);
            if self.bundle_count == TILE_WIDTH {
                let index = (self.size - 1) / TILE_WIDTH;
                sink(
                    TileId::entries(index, TILE_WIDTH as u16),
                    std::mem::take(&mut self.bundle),
                );
                self.bundle_count = 0;
            }
        }
        Ok(())
    }

    /// Adds leaves by their hashes, for a verifier that hashed the entries
    /// itself: such a builder keeps no entry bundle. Calls `sink` with every
    /// hash tile that becomes full.
    pub fn push_leaf_hashes(&mut self, leaves: &[Hash], sink: &mut dyn FnMut(TileId, Vec<u8>)) {
        for leaf in leaves {
            self.push_leaf_hash(*leaf, sink);
        }
    }

    /// Adds one leaf by its hash (the entry bundle is not kept).
    fn push_leaf_hash(&mut self, leaf: Hash, sink: &mut dyn FnMut(TileId, Vec<u8>)) {
        self.size += 1;
        let mut hash = leaf;
        let mut level = 0usize;
        loop {
            if self.edges.len() <= level {
                self.edges.push(Vec::with_capacity(TILE_WIDTH as usize));
            }
            self.edges[level].push(hash);
            if self.edges[level].len() as u64 != TILE_WIDTH {
                break;
            }
            let full = std::mem::take(&mut self.edges[level]);
            let bytes = hashes_to_bytes(&full);
            let count = self.size >> (level as u32 * u32::from(TILE_HEIGHT));
            let index = count / TILE_WIDTH - 1;
            hash = tiles::subtree_hash(&bytes);
            sink(TileId::hashes(level as u8, index, TILE_WIDTH as u16), bytes);
            level += 1;
        }
    }

    /// The partial tiles and partial bundle of the current size, for every
    /// level whose count changed since a tree of `since` leaves.
    pub fn partials(&self, since: u64) -> Vec<(TileId, Vec<u8>)> {
        let mut out = Vec::new();
        if self.size == since {
            return out;
        }
        if self.bundle_count > 0 {
            out.push((
                TileId::entries(self.size / TILE_WIDTH, self.bundle_count as u16),
                self.bundle.clone(),
            ));
        }
        for (level, edge) in self.edges.iter().enumerate() {
            let shift = level as u32 * u32::from(TILE_HEIGHT);
            if edge.is_empty() || self.size >> shift == since >> shift {
                continue;
            }
            let count = self.size >> shift;
            out.push((
                TileId::hashes(level as u8, count / TILE_WIDTH, edge.len() as u16),
                hashes_to_bytes(edge),
            ));
        }
        out
    }

    /// The root hash of the tree (RFC 9162, section 2.1.1).
    pub fn root(&self) -> Hash {
        let mut parts = Vec::new();
        for edge in self.edges.iter().rev() {
            let mut at = 0u64;
            for node in decompose(0, edge.len() as u64) {
                let n = 1usize << node.level;
                let start = at as usize;
                let bytes = hashes_to_bytes(&edge[start..start + n]);
                parts.push(tiles::subtree_hash(&bytes));
                at += n as u64;
            }
        }
        fold(&parts)
    }

    /// The edge's hash tiles (partial tiles of the current size), so that
    /// proofs near the end of the tree need not read them back.
    pub fn edge_hash_tiles(&self) -> Vec<(u8, u64, Vec<u8>)> {
        self.edges
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.is_empty())
            .map(|(level, e)| {
                let count = self.size >> (level as u32 * u32::from(TILE_HEIGHT));
                (level as u8, count / TILE_WIDTH, hashes_to_bytes(e))
            })
            .collect()
    }
}

fn hashes_to_bytes(hashes: &[Hash]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hashes.len() * HASH_SIZE);
    for h in hashes {
        out.extend_from_slice(&h.0);
    }
    out
}
