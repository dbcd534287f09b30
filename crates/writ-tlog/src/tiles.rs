//! The tlog-tiles layout (c2sp.org/tlog-tiles): hash tiles, entry bundles
//! and their paths.
//!
//! A tile at tile level `L` holds up to 256 consecutive hashes of tree level
//! `8 * L`; a full tile has 256, a partial one (`.p/W`) the first `W`. An
//! entry bundle holds up to 256 consecutive entries, each prefixed with its
//! length as a big-endian `uint16` ("Log Entries").

use std::collections::HashMap;
use std::sync::Arc;

use crate::hash::{HASH_SIZE, Hash, node_hash};
use crate::tree::{HashReader, NodeId, TreeError};

/// Tile height: each tile spans 8 tree levels (c2sp.org/tlog-tiles, "Tiles").
pub const TILE_HEIGHT: u8 = 8;
/// Hashes in a full tile, entries in a full bundle.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;
/// The largest entry an entry bundle can carry.
pub const MAX_ENTRY_SIZE: usize = u16::MAX as usize;

/// A hash tile or an entry bundle, at a given width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    /// `None` for an entry bundle, `Some(L)` for a hash tile at tile level `L`.
    pub level: Option<u8>,
    /// The tile's position in its level.
    pub index: u64,
    /// How many hashes (or entries) it holds: 1 to 256.
    pub width: u16,
}

impl TileId {
    /// A hash tile.
    pub fn hashes(level: u8, index: u64, width: u16) -> Self {
        Self {
            level: Some(level),
            index,
            width,
        }
    }

    /// An entry bundle.
    pub fn entries(index: u64, width: u16) -> Self {
        Self {
            level: None,
            index,
            width,
        }
    }

    /// Whether it holds all 256 hashes or entries.
    pub fn is_full(&self) -> bool {
        u64::from(self.width) == TILE_WIDTH
    }

    /// The path under the log's prefix, for example `tile/0/x001/234` or
    /// `tile/entries/005.p/7` (c2sp.org/tlog-tiles, "Merkle Tree" and
    /// "Log Entries"): the index in 3-digit groups, all but the last
    /// prefixed with `x`; `.p/W` for a partial tile.
    pub fn path(&self) -> String {
        let mut out = String::from("tile/");
        match self.level {
            Some(level) => out.push_str(&level.to_string()),
            None => out.push_str("entries"),
        }
        out.push('/');
        out.push_str(&index_path(self.index));
        if !self.is_full() {
            out.push_str(".p/");
            out.push_str(&self.width.to_string());
        }
        out
    }

    /// Reads a path written by [`TileId::path`]; `None` if it is not one.
    pub fn parse_path(path: &str) -> Option<Self> {
        let rest = path.strip_prefix("tile/")?;
        let (kind, rest) = rest.split_once('/')?;
        let level = match kind {
            "entries" => None,
            digits => {
                if digits.len() > 2 || digits.starts_with('0') && digits != "0" {
                    return None;
                }
                let level: u8 = digits.parse().ok()?;
                if level > 63 {
                    return None;
                }
                Some(level)
            }
        };
        let (index_part, width) = match rest.split_once(".p/") {
            Some((index_part, w)) => {
                if w.starts_with('0') || w.is_empty() || w.len() > 3 {
                    return None;
                }
                let w: u16 = w.parse().ok()?;
                if w == 0 || u64::from(w) >= TILE_WIDTH {
                    return None;
                }
                (index_part, w)
            }
            None => (rest, TILE_WIDTH as u16),
        };
        let groups: Vec<&str> = index_part.split('/').collect();
        let (last, init) = groups.split_last()?;
        let mut index: u64 = 0;
        for g in init {
            let digits = g.strip_prefix('x')?;
            index = index
                .checked_mul(1000)?
                .checked_add(three_digits(digits)?)?;
        }
        index = index.checked_mul(1000)?.checked_add(three_digits(last)?)?;
        let id = Self {
            level,
            index,
            width,
        };
        // Only the canonical spelling (no superfluous leading groups).
        (id.path() == path).then_some(id)
    }
}

fn three_digits(s: &str) -> Option<u64> {
    if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The index part of a tile path: 3-digit groups, all but the last with `x`.
pub fn index_path(index: u64) -> String {
    let mut groups = Vec::new();
    let mut n = index;
    loop {
        groups.push(n % 1000);
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    let mut out = String::new();
    for (i, g) in groups.iter().rev().enumerate() {
        if i + 1 < groups.len() {
            out.push_str(&format!("x{g:03}/"));
        } else {
            out.push_str(&format!("{g:03}"));
        }
    }
    out
}

/// The hash tile at `level` and `index` as it stands in a tree of `size`
/// leaves, or `None` if that tree has no hash in it yet.
pub fn tile_at(level: u8, index: u64, size: u64) -> Option<TileId> {
    let count = size.checked_shr(u32::from(TILE_HEIGHT) * u32::from(level))?;
    let width = count.checked_sub(index * TILE_WIDTH)?.min(TILE_WIDTH);
    (width > 0).then(|| TileId::hashes(level, index, width as u16))
}

/// The entry bundle at `index` as it stands in a tree of `size` leaves.
pub fn bundle_at(index: u64, size: u64) -> Option<TileId> {
    let width = size.checked_sub(index * TILE_WIDTH)?.min(TILE_WIDTH);
    (width > 0).then(|| TileId::entries(index, width as u16))
}

/// Every hash tile and entry bundle of a tree of `size` leaves, as a client
/// reading that tree fetches them.
pub fn tiles_of_tree(size: u64) -> impl Iterator<Item = TileId> {
    let bundles = (0..size.div_ceil(TILE_WIDTH)).filter_map(move |i| bundle_at(i, size));
    let hashes = (0u8..64).flat_map(move |level| {
        let count = size
            .checked_shr(u32::from(TILE_HEIGHT) * u32::from(level))
            .unwrap_or(0);
        (0..count.div_ceil(TILE_WIDTH)).filter_map(move |i| tile_at(level, i, size))
    });
    bundles.chain(hashes)
}

/// The hash tiles that hold the hashes of `nodes`, at their width in a tree
/// of `size` leaves. Each node must lie within that tree.
pub fn tiles_for_nodes(nodes: &[NodeId], size: u64) -> Vec<TileId> {
    let mut out: Vec<TileId> = nodes
        .iter()
        .filter_map(|node| {
            let level = node.level / TILE_HEIGHT;
            let base = node.start() >> (u32::from(level) * u32::from(TILE_HEIGHT));
            tile_at(level, base / TILE_WIDTH, size)
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// One hash tile with the hashes of every perfect subtree inside it: level
/// `j` holds the hashes of `2^j` consecutive tile hashes (at most 511 in all).
#[derive(Clone, Debug)]
pub struct TileTree {
    levels: Vec<Vec<Hash>>,
}

impl TileTree {
    /// Builds the subtree hashes of a tile's bytes (a whole number of hashes).
    pub fn new(data: &[u8]) -> Self {
        let base: Vec<Hash> = data
            .chunks_exact(HASH_SIZE)
            .filter_map(Hash::from_slice)
            .collect();
        let mut levels = vec![base];
        while let Some(last) = levels.last() {
            if last.len() < 2 {
                break;
            }
            let next: Vec<Hash> = last
                .chunks_exact(2)
                .map(|pair| node_hash(&pair[0], &pair[1]))
                .collect();
            levels.push(next);
        }
        Self { levels }
    }

    /// How many hashes the tile holds.
    pub fn width(&self) -> usize {
        self.levels.first().map_or(0, Vec::len)
    }

    /// The hash of the `2^level` tile hashes starting at `index * 2^level`.
    pub fn get(&self, level: usize, index: usize) -> Option<Hash> {
        self.levels.get(level)?.get(index).copied()
    }
}

/// Hash tiles in memory, read as a [`HashReader`].
///
/// A node at tree level `l` lives in tile level `l / 8`; below the tile's
/// own level it is one of the tile's inner subtrees ([`TileTree`]).
#[derive(Default)]
pub struct TileSet {
    tiles: HashMap<(u8, u64), Arc<TileTree>>,
}

impl TileSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a tile's bytes (keeps the widest seen for a position).
    pub fn insert(&mut self, level: u8, index: u64, data: Vec<u8>) {
        self.insert_tree(level, index, Arc::new(TileTree::new(&data)));
    }

    /// Adds a tile whose subtrees are already computed.
    pub fn insert_tree(&mut self, level: u8, index: u64, tree: Arc<TileTree>) {
        match self.tiles.get(&(level, index)) {
            Some(existing) if existing.width() >= tree.width() => {}
            _ => {
                self.tiles.insert((level, index), tree);
            }
        }
    }

    /// The hash of one node, if the tiles hold it.
    pub fn node(&self, node: NodeId) -> Result<Hash, TreeError> {
        let level = node.level / TILE_HEIGHT;
        let shift = u32::from(level) * u32::from(TILE_HEIGHT);
        let below = u32::from(node.level) - shift;
        let first = node.start() >> shift;
        let unavailable = |reason: &str| TreeError::Unavailable {
            node,
            reason: reason.to_owned(),
        };
        let tree = self
            .tiles
            .get(&(level, first / TILE_WIDTH))
            .ok_or_else(|| unavailable("tile not loaded"))?;
        tree.get(below as usize, ((first % TILE_WIDTH) >> below) as usize)
            .ok_or_else(|| unavailable("tile too narrow"))
    }
}

impl HashReader for TileSet {
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, TreeError> {
        nodes.iter().map(|n| self.node(*n)).collect()
    }
}

/// The hash of the perfect subtree over consecutive hashes (a power of two
/// of them, as concatenated bytes).
pub fn subtree_hash(bytes: &[u8]) -> Hash {
    let level: Vec<Hash> = bytes
        .chunks_exact(HASH_SIZE)
        .filter_map(Hash::from_slice)
        .collect();
    crate::hash::root_of(&level)
}

/// Errors reading an entry bundle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("entry bundle is truncated")]
    Truncated,
    #[error("entry bundle holds {found} entries, expected {expected}")]
    WrongCount { found: usize, expected: usize },
    #[error("entry of {0} bytes is larger than 65535 bytes")]
    TooLarge(usize),
}

/// Appends one entry to a bundle being built.
pub fn push_entry(bundle: &mut Vec<u8>, entry: &[u8]) -> Result<(), BundleError> {
    let len = u16::try_from(entry.len()).map_err(|_| BundleError::TooLarge(entry.len()))?;
    bundle.extend_from_slice(&len.to_be_bytes());
    bundle.extend_from_slice(entry);
    Ok(())
}

/// Splits an entry bundle into its entries.
pub fn split_bundle(bundle: &[u8]) -> Result<Vec<&[u8]>, BundleError> {
    let mut out = Vec::new();
    let mut rest = bundle;
    while !rest.is_empty() {
        let [a, b, tail @ ..] = rest else {
            return Err(BundleError::Truncated);
        };
        let len = usize::from(u16::from_be_bytes([*a, *b]));
        if tail.len() < len {
            return Err(BundleError::Truncated);
        }
        out.push(&tail[..len]);
        rest = &tail[len..];
    }
    Ok(out)
}
