//! Tile paths and the tiled tree against the naive one.

use writ_tlog::builder::TreeBuilder;
use writ_tlog::hash::leaf_hash;
use writ_tlog::tiles::{TileId, TileSet, split_bundle, tile_at, tiles_of_tree};
use writ_tlog::tree;

#[test]
fn paths_follow_c2sp() {
    let cases = [
        (TileId::hashes(0, 0, 256), "tile/0/000"),
        (TileId::hashes(0, 1234067, 256), "tile/0/x001/x234/067"),
        (TileId::hashes(1, 5, 44), "tile/1/005.p/44"),
        (TileId::entries(1000, 256), "tile/entries/x001/000"),
        (TileId::entries(7, 3), "tile/entries/007.p/3"),
        (TileId::hashes(2, 999, 1), "tile/2/999.p/1"),
    ];
    for (id, path) in cases {
        assert_eq!(id.path(), path);
        assert_eq!(TileId::parse_path(path), Some(id));
    }
    for bad in [
        "tile/0/1",
        "tile/0/x000/001",
        "tile/0/001.p/0",
        "tile/0/001.p/256",
        "tile/0/001.p/007",
        "tile/00/001",
        "tile/entries/../001",
        "checkpoint/x",
        "tile/0/001/",
    ] {
        assert_eq!(TileId::parse_path(bad), None, "{bad}");
    }
}

#[test]
fn builder_matches_naive_tree_at_every_size() {
    let mut builder = TreeBuilder::new();
    let mut full = Vec::new();
    let mut leaves = Vec::new();
    for size in 1..=70_000u64 {
        let e = format!("entry {size}").into_bytes();
        leaves.push(leaf_hash(&e));
        builder
            .push([e.as_slice()], &mut |id, data| {
                if let Some(level) = id.level {
                    full.push((level, id.index, data));
                }
            })
            .unwrap();
        if size % 997 == 0 || size < 600 || size == 65_536 {
            let mut set = TileSet::new();
            for (level, index, data) in &full {
                set.insert(*level, *index, data.clone());
            }
            let partials = builder.partials(0);
            for (id, data) in &partials {
                if let Some(level) = id.level {
                    set.insert(level, id.index, data.clone());
                }
            }
            let expected = naive(&leaves);
            assert_eq!(builder.root(), expected, "size {size}");
            assert_eq!(
                tree::tree_hash(size, &set).unwrap(),
                expected,
                "size {size}"
            );
            let index = size / 3;
            let proof = tree::inclusion_proof(index, size, &set).unwrap();
            tree::verify_inclusion(&leaves[index as usize], index, size, &proof, &expected)
                .unwrap();
            // Every tile a reader of this size fetches is there.
            for id in tiles_of_tree(size).filter(|t| t.level.is_some()) {
                assert!(
                    id.is_full() || partials.iter().any(|(p, _)| *p == id),
                    "{}",
                    id.path()
                );
            }
            // The edge is enough to continue.
            let edge: Vec<_> = TreeBuilder::edge_tiles(size)
                .into_iter()
                .map(|id| {
                    let data = partials
                        .iter()
                        .find(|(p, _)| *p == id)
                        .map(|(_, d)| d.clone())
                        .unwrap();
                    (id, data)
                })
                .collect();
            let resumed = TreeBuilder::resume(size, &edge).unwrap();
            assert_eq!(resumed.root(), expected);
            assert!(tile_at(0, 0, size).is_some());
        }
    }
}

fn naive(leaves: &[writ_tlog::Hash]) -> writ_tlog::Hash {
    let mut level = leaves.to_vec();
    // Left-balanced: fold the perfect subtrees of the decomposition.
    let parts = tree::decompose(0, level.len() as u64);
    let mut hashes = Vec::new();
    for p in parts {
        let mut sub: Vec<_> = level[p.start() as usize..p.end() as usize].to_vec();
        while sub.len() > 1 {
            sub = sub
                .chunks(2)
                .map(|c| writ_tlog::hash::node_hash(&c[0], &c[1]))
                .collect();
        }
        hashes.push(sub[0]);
    }
    level.clear();
    tree::fold(&hashes)
}

#[test]
fn bundles_round_trip() {
    let mut b = Vec::new();
    for e in [&b""[..], b"a", &[7u8; 300][..]] {
        writ_tlog::tiles::push_entry(&mut b, e).unwrap();
    }
    let entries = split_bundle(&b).unwrap();
    assert_eq!(entries, vec![&b""[..], b"a", &[7u8; 300][..]]);
    assert!(split_bundle(&b[..b.len() - 1]).is_err());
    assert!(writ_tlog::tiles::push_entry(&mut b, &vec![0; 65_536]).is_err());
}
