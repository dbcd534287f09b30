//! Where the log's public objects live: the checkpoint, hash tiles and
//! entry bundles, under the paths of c2sp.org/tlog-tiles. The storage itself
//! is `writ-objects`, re-exported here; what is the log's own is which paths
//! it serves.

pub use writ_objects::*;

/// Whether `path` is one the log stores: `checkpoint` or a tile path.
pub fn valid_object_path(path: &str) -> bool {
    path == crate::CHECKPOINT_PATH || crate::tiles::TileId::parse_path(path).is_some()
}
