//! Auditing a whole log from its public objects, as `writ log verify` does:
//! the checkpoint's signature, every entry bundle and hash tile recomputed,
//! the root, and consistency with an earlier checkpoint.
//!
//! Synchronous and storage-agnostic: objects come through [`Fetch`].

use std::collections::HashSet;
use std::io;
use std::path::PathBuf;

use crate::CHECKPOINT_PATH;
use crate::builder::TreeBuilder;
use crate::hash::{Hash, leaf_hash};
use crate::note::{Checkpoint, NoteError, NoteVerifier};
use crate::tiles::{self, TILE_WIDTH, TileId, TileSet};
use crate::tree;

/// Reads a log's objects by path (`checkpoint`, `tile/...`).
pub trait Fetch: Sync {
    /// The object's bytes, `None` if it does not exist.
    fn fetch(&self, path: &str) -> Result<Option<Vec<u8>>, String>;
}

/// A local copy of a log's prefix (`DIR/checkpoint`, `DIR/tile/...`).
#[derive(Clone, Debug)]
pub struct DirFetch(pub PathBuf);

impl Fetch for DirFetch {
    fn fetch(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        if !crate::storage::valid_object_path(path) {
            return Err(format!("invalid path `{path}`"));
        }
        match std::fs::read(self.0.join(path)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// Why a log did not verify.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("cannot read `{path}`: {message}")]
    Fetch { path: String, message: String },
    #[error("`{0}` is missing")]
    Missing(String),
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] NoteError),
    #[error("earlier checkpoint: {0}")]
    Since(NoteError),
    #[error("`{path}` is malformed: {reason}")]
    Malformed { path: String, reason: String },
    #[error("`{0}` does not match the hashes recomputed from the entries")]
    TileMismatch(String),
    #[error("root recomputed from the entries differs from the checkpoint's")]
    RootMismatch,
    #[error("rollback: the earlier checkpoint has size {old}, the log only {new}")]
    Rollback { old: u64, new: u64 },
    #[error("fork: the log's tree of size {0} differs from the earlier checkpoint's")]
    Fork(u64),
    #[error("entry {index} is not in the log of size {size}")]
    NotInLog { index: u64, size: u64 },
    #[error("entry {0} is not in the tree the checkpoint signs (its inclusion proof fails)")]
    NotIncluded(u64),
    #[error("consistency proof from size {old} to {new} does not verify: {reason}")]
    Consistency { old: u64, new: u64, reason: String },
}

/// What a successful verification established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub checkpoint: Checkpoint,
    /// The signed note as fetched.
    pub note: String,
    /// Bundles and tiles read.
    pub objects: u64,
}

fn get(fetch: &dyn Fetch, path: &str) -> Result<Vec<u8>, VerifyError> {
    fetch
        .fetch(path)
        .map_err(|message| VerifyError::Fetch {
            path: path.to_owned(),
            message,
        })?
        .ok_or_else(|| VerifyError::Missing(path.to_owned()))
}

/// Verifies a whole log. `since` is an earlier signed checkpoint (its note)
/// that the log must extend. `progress` is called with the number of
/// entries checked so far.
pub fn verify_log(
    fetch: &dyn Fetch,
    vkey: &NoteVerifier,
    since: Option<&str>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Verified, VerifyError> {
    let note_bytes = get(fetch, CHECKPOINT_PATH)?;
    let note = String::from_utf8(note_bytes).map_err(|_| VerifyError::Malformed {
        path: CHECKPOINT_PATH.into(),
        reason: "not UTF-8".into(),
    })?;
    let checkpoint = vkey.open_checkpoint(&note)?;
    let since = since
        .map(|s| vkey.open_checkpoint(s).map_err(VerifyError::Since))
        .transpose()?;
    let size = checkpoint.size;
    if let Some(old) = &since
        && old.size > size
    {
        return Err(VerifyError::Rollback {
            old: old.size,
            new: size,
        });
    }

    // The tiles that the check against the earlier checkpoint needs: those
    // holding its root's subtrees and the consistency proof's.
    let mut needed = HashSet::new();
    if let Some(old) = &since {
        let mut nodes = tree::decompose(0, old.size);
        if let Ok(plan) = tree::consistency_plan(old.size, size) {
            nodes.extend(tree::plan_nodes(&plan));
        }
        for id in tiles::tiles_for_nodes(&nodes, size) {
            needed.insert((id.level.unwrap_or(0), id.index));
        }
    }

    // Recompute every tile from the entries and compare with the log's.
    let mut builder = TreeBuilder::new();
    let mut objects = 0u64;
    let mut tiles_seen = TileSet::new();
    let mut compare = |id: TileId, data: Vec<u8>, objects: &mut u64| -> Result<(), VerifyError> {
        let Some(level) = id.level else {
            return Ok(());
        };
        let path = id.path();
        let served = get(fetch, &path)?;
        *objects += 1;
        if served != data {
            return Err(VerifyError::TileMismatch(path));
        }
        if needed.contains(&(level, id.index)) {
            tiles_seen.insert(level, id.index, data);
        }
        Ok(())
    };
    // Reading bundles and hashing their entries is most of the work: worker
    // threads do it, and this thread folds the leaf hashes into tiles in order.
    let bundles = size.div_ceil(TILE_WIDTH);
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8) as u64;
    let mut mismatch: Option<VerifyError> = None;
    let stop = std::sync::atomic::AtomicBool::new(false);
    let stop = &stop;
    std::thread::scope(|scope| -> Result<(), VerifyError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<(u64, Result<Vec<Hash>, VerifyError>)>(
            4 * workers as usize,
        );
        for w in 0..workers {
            let tx = tx.clone();
            scope.spawn(move || {
                let mut n = w;
                while n < bundles && !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let leaves = bundle_leaves(fetch, n, size);
                    let failed = leaves.is_err();
                    if tx.send((n, leaves)).is_err() || failed {
                        return;
                    }
                    n += workers;
                }
            });
        }
        drop(tx);
        let mut waiting = std::collections::BTreeMap::new();
        let mut next = 0u64;
        let result = (|| {
            while next < bundles {
                let leaves = match waiting.remove(&next) {
                    Some(l) => l,
                    None => {
                        let Ok((n, l)) = rx.recv() else {
                            return Err(VerifyError::Missing(format!("bundle {next}")));
                        };
                        waiting.insert(n, l);
                        continue;
                    }
                };
                let leaves = leaves?;
                objects += 1;
                builder.push_leaf_hashes(&leaves, &mut |tid, data| {
                    if mismatch.is_none()
                        && let Err(e) = compare(tid, data, &mut objects)
                    {
                        mismatch = Some(e);
                    }
                });
                if let Some(e) = mismatch.take() {
                    return Err(e);
                }
                progress(builder.size(), size);
                next += 1;
            }
            Ok(())
        })();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        // Unblock workers waiting to send.
        drop(rx);
        result
    })?;
    for (id, data) in builder.partials(0) {
        compare(id, data, &mut objects)?;
    }
    if builder.root() != checkpoint.root {
        return Err(VerifyError::RootMismatch);
    }

    // The earlier checkpoint: its root must be this tree's at its size, and
    // the consistency proof from the tiles must verify.
    if let Some(old) = since {
        let nodes = tree::decompose(0, old.size);
        let old_root = if old.size == 0 {
            Hash::empty()
        } else {
            let hashes: Vec<Hash> = nodes
                .iter()
                .map(|n| tiles_seen.node(*n))
                .collect::<Result<_, _>>()
                .map_err(|e| VerifyError::Consistency {
                    old: old.size,
                    new: size,
                    reason: e.to_string(),
                })?;
            tree::fold(&hashes)
        };
        if old_root != old.root {
            return Err(VerifyError::Fork(old.size));
        }
        let proof = tree::consistency_proof(old.size, size, &tiles_seen).map_err(|e| {
            VerifyError::Consistency {
                old: old.size,
                new: size,
                reason: e.to_string(),
            }
        })?;
        tree::verify_consistency(old.size, size, &old.root, &checkpoint.root, &proof).map_err(
            |e| VerifyError::Consistency {
                old: old.size,
                new: size,
                reason: e.to_string(),
            },
        )?;
    }
    Ok(Verified {
        checkpoint,
        note,
        objects,
    })
}

/// The leaf hashes of entry bundle `n` of a tree of `size` leaves.
fn bundle_leaves(fetch: &dyn Fetch, n: u64, size: u64) -> Result<Vec<Hash>, VerifyError> {
    let id =
        tiles::bundle_at(n, size).ok_or_else(|| VerifyError::Missing(format!("bundle {n}")))?;
    let path = id.path();
    let bundle = get(fetch, &path)?;
    let entries = tiles::split_bundle(&bundle).map_err(|e| VerifyError::Malformed {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    if entries.len() != usize::from(id.width) {
        return Err(VerifyError::Malformed {
            path,
            reason: format!("{} entries, expected {}", entries.len(), id.width),
        });
    }
    let mut leaves = Vec::new();
    crate::hash::leaf_hashes(&entries, &mut leaves);
    Ok(leaves)
}

/// An entry read from a log and proven to be in its signed checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvenEntry {
    pub index: u64,
    pub entry: Vec<u8>,
    /// The inclusion proof that bound it to the checkpoint's root.
    pub proof: Vec<Hash>,
}

/// Reads the signed checkpoint and the entries at `indexes`, each checked
/// against the checkpoint's root by an inclusion proof assembled from the
/// log's hash tiles: what a receipt holder needs to trust an entry without
/// auditing the whole log.
pub fn proven_entries(
    fetch: &dyn Fetch,
    vkey: &NoteVerifier,
    indexes: &[u64],
) -> Result<(Checkpoint, Vec<ProvenEntry>), VerifyError> {
    proven_entries_noted(fetch, vkey, indexes).map(|(_, c, e)| (c, e))
}

/// [`proven_entries`], with the checkpoint's signed note as fetched (with
/// any cosignatures), for proofs that are verified offline later.
pub fn proven_entries_noted(
    fetch: &dyn Fetch,
    vkey: &NoteVerifier,
    indexes: &[u64],
) -> Result<(String, Checkpoint, Vec<ProvenEntry>), VerifyError> {
    let note_bytes = get(fetch, CHECKPOINT_PATH)?;
    let note = String::from_utf8(note_bytes).map_err(|_| VerifyError::Malformed {
        path: CHECKPOINT_PATH.into(),
        reason: "not UTF-8".into(),
    })?;
    let (checkpoint, entries) = proven_entries_at(fetch, vkey, &note, indexes)?;
    Ok((note, checkpoint, entries))
}

/// [`proven_entries`] against a given signed checkpoint `note` (one the
/// log published, perhaps not its newest: a cosigned one), the entries
/// and hashes read from `fetch`.
pub fn proven_entries_at(
    fetch: &dyn Fetch,
    vkey: &NoteVerifier,
    note: &str,
    indexes: &[u64],
) -> Result<(Checkpoint, Vec<ProvenEntry>), VerifyError> {
    use crate::tree::HashReader as _;
    let checkpoint = vkey.open_checkpoint(note)?;
    let size = checkpoint.size;
    let mut out = Vec::with_capacity(indexes.len());
    for &index in indexes {
        if index >= size {
            return Err(VerifyError::NotInLog { index, size });
        }
        let bundle = tiles::bundle_at(index / TILE_WIDTH, size)
            .ok_or(VerifyError::NotInLog { index, size })?;
        let path = bundle.path();
        let data = get(fetch, &path)?;
        let entries = tiles::split_bundle(&data).map_err(|e| VerifyError::Malformed {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let entry = entries
            .get((index % TILE_WIDTH) as usize)
            .ok_or_else(|| VerifyError::Malformed {
                path: path.clone(),
                reason: format!("no entry {index} in it"),
            })?
            .to_vec();
        let malformed = |reason: String| VerifyError::Malformed {
            path: format!("proof of {index}"),
            reason,
        };
        let plan = tree::inclusion_plan(index, size).map_err(|e| malformed(e.to_string()))?;
        let nodes = tree::plan_nodes(&plan);
        let mut set = TileSet::new();
        for id in tiles::tiles_for_nodes(&nodes, size) {
            let path = id.path();
            let data = get(fetch, &path)?;
            if data.len() != usize::from(id.width) * crate::hash::HASH_SIZE {
                return Err(VerifyError::Malformed {
                    path,
                    reason: "wrong size".into(),
                });
            }
            set.insert_tree(
                id.level.unwrap_or(0),
                id.index,
                std::sync::Arc::new(tiles::TileTree::new(&data)),
            );
        }
        let hashes = set
            .read_hashes(&nodes)
            .map_err(|e| malformed(e.to_string()))?;
        let proof = tree::assemble(&plan, &hashes);
        tree::verify_inclusion(&leaf_hash(&entry), index, size, &proof, &checkpoint.root)
            .map_err(|_| VerifyError::NotIncluded(index))?;
        out.push(ProvenEntry {
            index,
            entry,
            proof,
        });
    }
    Ok((checkpoint, out))
}

/// The consistency proof between sizes `old` and `new` (at most the size
/// of the log's current tiles), assembled from the log's hash tiles: what a
/// monitor checks each new checkpoint with. The hashes come from the log
/// and prove nothing by themselves; `tree::verify_consistency` against two
/// signed roots does.
pub fn consistency_from_tiles(
    fetch: &dyn Fetch,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, VerifyError> {
    use crate::tree::HashReader as _;
    let malformed = |reason: String| VerifyError::Malformed {
        path: format!("consistency proof {old}..{new}"),
        reason,
    };
    let plan = tree::consistency_plan(old, new).map_err(|e| malformed(e.to_string()))?;
    let nodes = tree::plan_nodes(&plan);
    let mut set = TileSet::new();
    for id in tiles::tiles_for_nodes(&nodes, new) {
        let path = id.path();
        let data = get(fetch, &path)?;
        if data.len() != usize::from(id.width) * crate::hash::HASH_SIZE {
            return Err(VerifyError::Malformed {
                path,
                reason: "wrong size".into(),
            });
        }
        set.insert_tree(
            id.level.unwrap_or(0),
            id.index,
            std::sync::Arc::new(tiles::TileTree::new(&data)),
        );
    }
    let hashes = set
        .read_hashes(&nodes)
        .map_err(|e| malformed(e.to_string()))?;
    Ok(tree::assemble(&plan, &hashes))
}
