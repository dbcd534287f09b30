//! Reading a log from its object storage: the public checkpoint, entries and
//! proofs. Used by the sequencing [`crate::Log`] and, read-only, by tools.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::CHECKPOINT_PATH;
use crate::error::Error;
use crate::hash::Hash;
use crate::note::{Checkpoint, NoteVerifier};
use crate::storage::ObjectStorage;
use crate::tiles::{self, TILE_WIDTH, TileId, TileSet, TileTree};
use crate::tree::{self, NodeId};

/// An inclusion proof as `writ log prove` prints it and receipts carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// The log's origin.
    pub origin: String,
    /// The entry's index.
    pub index: u64,
    /// The tree size the proof is for.
    pub size: u64,
    /// The entry's leaf hash (RFC 6962), base64.
    pub leaf_hash: String,
    /// The tree's root at `size`, base64.
    pub root: String,
    /// Sibling hashes from the leaf up, base64 (RFC 9162, section 2.1.3).
    pub proof: Vec<String>,
    /// The signed checkpoint of `size`, when the proof is for a published one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

impl InclusionProof {
    /// Checks the proof on its own terms (leaf, index, size, root).
    pub fn verify(&self) -> Result<(), Error> {
        let leaf =
            Hash::from_base64(&self.leaf_hash).map_err(|e| Error::BadProof(e.to_string()))?;
        let root = Hash::from_base64(&self.root).map_err(|e| Error::BadProof(e.to_string()))?;
        let proof = self
            .proof
            .iter()
            .map(|p| Hash::from_base64(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::BadProof(e.to_string()))?;
        tree::verify_inclusion(&leaf, self.index, self.size, &proof, &root)
            .map_err(|e| Error::BadProof(e.to_string()))
    }
}

/// Upper tiles kept in memory (they never change); about 16 KiB each.
const TILE_CACHE_LIMIT: usize = 4096;

/// Level-0 tiles kept in memory.
const LEAF_TILE_CACHE_LIMIT: usize = 64;

/// Hash tiles by (level, index, width); each is immutable.
type TileCache = HashMap<(u8, u64, u16), Arc<TileTree>>;

/// Reads a log's objects.
#[derive(Clone)]
pub struct Reader {
    objects: Arc<dyn ObjectStorage>,
    vkey: NoteVerifier,
    cache: Arc<Mutex<TileCache>>,
    leaf_cache: Arc<Mutex<TileCache>>,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("vkey", &self.vkey)
            .finish_non_exhaustive()
    }
}

impl Reader {
    /// A reader of the log signed by `vkey` in `objects`.
    pub fn new(objects: Arc<dyn ObjectStorage>, vkey: NoteVerifier) -> Self {
        Self {
            objects,
            vkey,
            cache: Arc::default(),
            leaf_cache: Arc::default(),
        }
    }

    /// The verifier key.
    pub fn vkey(&self) -> &NoteVerifier {
        &self.vkey
    }

    /// The storage.
    pub fn objects(&self) -> &Arc<dyn ObjectStorage> {
        &self.objects
    }

    /// The public checkpoint, verified: the signed note and what it says.
    pub async fn checkpoint(&self) -> Result<(String, Checkpoint), Error> {
        let bytes = self
            .objects
            .get(CHECKPOINT_PATH.to_owned())
            .await?
            .ok_or(Error::NoCheckpoint)?;
        let note = String::from_utf8(bytes)
            .map_err(|_| Error::Corrupt("checkpoint is not UTF-8".into()))?;
        let checkpoint = self.vkey.open_checkpoint(&note)?;
        Ok((note, checkpoint))
    }

    /// An object by its path under the log's prefix (`checkpoint`,
    /// `tile/...`), exactly as stored: what a server serves under `/log/`.
    pub async fn read(&self, path: &str) -> Result<Option<Vec<u8>>, Error> {
        if !crate::storage::valid_object_path(path) {
            return Ok(None);
        }
        Ok(self.objects.get(path.to_owned()).await?)
    }

    /// A hash tile with its inner subtree hashes; tiles above level 0 are
    /// kept in memory, as every proof passes through the few at the top.
    async fn tile(&self, id: TileId) -> Result<Arc<TileTree>, Error> {
        let level = id.level.unwrap_or(0);
        let key = (level, id.index, id.width);
        // Tiles above level 0 are few and on every proof's path; of level 0,
        // keep a few (proofs against one checkpoint share its edge tiles).
        let (cache, limit) = if level > 0 {
            (&self.cache, TILE_CACHE_LIMIT)
        } else {
            (&self.leaf_cache, LEAF_TILE_CACHE_LIMIT)
        };
        if let Some(t) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return Ok(t);
        }
        let path = id.path();
        let data = self
            .objects
            .get(path.clone())
            .await?
            .ok_or_else(|| Error::Corrupt(format!("missing `{path}`")))?;
        if data.len() != usize::from(id.width) * crate::hash::HASH_SIZE {
            return Err(Error::Corrupt(format!("`{path}` has the wrong size")));
        }
        let tree = Arc::new(TileTree::new(&data));
        if let Ok(mut c) = cache.lock() {
            if c.len() >= limit {
                c.clear();
            }
            c.insert(key, tree.clone());
        }
        Ok(tree)
    }

    /// Reads the tiles holding `nodes` in a tree of `published` leaves.
    pub(crate) async fn tiles_for(
        &self,
        nodes: &[NodeId],
        published: u64,
    ) -> Result<TileSet, Error> {
        let mut set = TileSet::new();
        for id in tiles::tiles_for_nodes(nodes, published) {
            let tree = self.tile(id).await?;
            set.insert_tree(id.level.unwrap_or(0), id.index, tree);
        }
        Ok(set)
    }

    /// The inclusion proof of `index` in the tree of `size` leaves, which
    /// must not exceed the published size.
    pub async fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, Error> {
        let (_, cp) = self.checkpoint().await?;
        self.inclusion_proof_at(index, size, cp.size).await
    }

    pub(crate) async fn inclusion_proof_at(
        &self,
        index: u64,
        size: u64,
        published: u64,
    ) -> Result<Vec<Hash>, Error> {
        if size > published {
            return Err(Error::NotPublished { size, published });
        }
        let plan = tree::inclusion_plan(index, size)?;
        let nodes = tree::plan_nodes(&plan);
        let set = self.tiles_for(&nodes, published).await?;
        Ok(tree::assemble(&plan, &set_hashes(&set, &nodes)?))
    }

    /// The consistency proof between sizes `old` and `new`, at most the
    /// published size.
    pub async fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, Error> {
        let (_, cp) = self.checkpoint().await?;
        self.consistency_proof_at(old, new, cp.size).await
    }

    pub(crate) async fn consistency_proof_at(
        &self,
        old: u64,
        new: u64,
        published: u64,
    ) -> Result<Vec<Hash>, Error> {
        if new > published {
            return Err(Error::NotPublished {
                size: new,
                published,
            });
        }
        let plan = tree::consistency_plan(old, new)?;
        let nodes = tree::plan_nodes(&plan);
        let set = self.tiles_for(&nodes, published).await?;
        Ok(tree::assemble(&plan, &set_hashes(&set, &nodes)?))
    }

    /// The root hash of the tree of `size` leaves (at most the published size).
    pub async fn tree_hash(&self, size: u64) -> Result<Hash, Error> {
        let (_, cp) = self.checkpoint().await?;
        if size > cp.size {
            return Err(Error::NotPublished {
                size,
                published: cp.size,
            });
        }
        if size == 0 {
            return Ok(Hash::empty());
        }
        let nodes = tree::decompose(0, size);
        let set = self.tiles_for(&nodes, cp.size).await?;
        Ok(tree::fold(&set_hashes(&set, &nodes)?))
    }

    /// The entry at `index`, if the published tree has it.
    pub async fn entry(&self, index: u64) -> Result<Option<Vec<u8>>, Error> {
        let (_, cp) = self.checkpoint().await?;
        if index >= cp.size {
            return Ok(None);
        }
        let Some(id) = tiles::bundle_at(index / TILE_WIDTH, cp.size) else {
            return Ok(None);
        };
        let data = self
            .objects
            .get(id.path())
            .await?
            .ok_or_else(|| Error::Corrupt(format!("missing `{}`", id.path())))?;
        let entries = tiles::split_bundle(&data)?;
        Ok(entries
            .get((index % TILE_WIDTH) as usize)
            .map(|e| e.to_vec()))
    }

    /// A full inclusion proof of `index` against the published checkpoint.
    pub async fn prove(&self, index: u64) -> Result<InclusionProof, Error> {
        let (note, cp) = self.checkpoint().await?;
        if index >= cp.size {
            return Err(Error::NotPublished {
                size: index + 1,
                published: cp.size,
            });
        }
        let entry = self.entry(index).await?.ok_or(Error::NotPublished {
            size: index + 1,
            published: cp.size,
        })?;
        let proof = self.inclusion_proof_at(index, cp.size, cp.size).await?;
        Ok(InclusionProof {
            origin: cp.origin.clone(),
            index,
            size: cp.size,
            leaf_hash: crate::hash::leaf_hash(&entry).to_base64(),
            root: cp.root.to_base64(),
            proof: proof.iter().map(Hash::to_base64).collect(),
            checkpoint: Some(note),
        })
    }
}

fn set_hashes(set: &TileSet, nodes: &[NodeId]) -> Result<Vec<Hash>, Error> {
    use tree::HashReader as _;
    Ok(set.read_hashes(nodes)?)
}
