//! Entry bundles, hash tiles and tile paths as a log auditor fetches them:
//! the input is split into a bundle and a hash tile served as the objects of
//! a one-tile log whose checkpoint (size from the first byte) is validly
//! signed, then audited with `verify_log` and `proven_entries`.
#![no_main]

use writ_tlog::verify::{Fetch, proven_entries, verify_log};
use writ_tlog::{Checkpoint, Hash, NoteSigner};

struct Objects {
    checkpoint: String,
    bundle: Vec<u8>,
    tile: Vec<u8>,
    size: u64,
}

impl Fetch for Objects {
    fn fetch(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        let partial = |kind: &str| {
            if self.size == 256 {
                format!("tile/{kind}/000")
            } else {
                format!("tile/{kind}/000.p/{}", self.size)
            }
        };
        Ok(if path == "checkpoint" {
            Some(self.checkpoint.clone().into_bytes())
        } else if path == partial("entries") {
            Some(self.bundle.clone())
        } else if path == partial("0") {
            Some(self.tile.clone())
        } else {
            None
        })
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let _ = writ_tlog::tiles::split_bundle(rest);
    let _ = writ_tlog::tiles::TileTree::new(rest);
    if let Ok(path) = std::str::from_utf8(rest) {
        let _ = writ_tlog::tiles::TileId::parse_path(path);
    }
    let size = u64::from(first) + 1;
    let cut = (size as usize * 32).min(rest.len());
    let (tile, bundle) = rest.split_at(cut);
    // The root the checkpoint claims: the tile's, when it parses as one.
    let root = writ_tlog::tiles::subtree_hash(tile);
    let Ok(signer) = NoteSigner::new("fuzz.example/log", &[7; 32]) else {
        return;
    };
    let Ok(note) = signer.sign(&Checkpoint::new("fuzz.example/log", size, root).to_text()) else {
        return;
    };
    let objects = Objects {
        checkpoint: note,
        bundle: bundle.to_vec(),
        tile: tile.to_vec(),
        size,
    };
    let vkey = signer.verifier();
    let _ = verify_log(&objects, &vkey, None, &mut |_, _| {});
    let _ = proven_entries(&objects, &vkey, &[0, size - 1]);
    let _ = Hash::from_slice(tile);
});
