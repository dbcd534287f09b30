//! Proofs: every inclusion and consistency proof of every tree up to 64
//! leaves, against a naive RFC 6962 implementation, with every bit flip and
//! every other index failing; property tests for larger trees.

use proptest::prelude::*;
use writ_tlog::hash::{Hash, leaf_hash, leaf_hashes, node_hash, root_of};
use writ_tlog::tree::{
    self, HashReader, NodeId, TreeError, consistency_proof, inclusion_proof, tree_hash,
    verify_consistency, verify_inclusion,
};

/// RFC 6962, section 2.1, straight from the text.
fn naive_mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Hash::empty(),
        1 => leaves[0],
        n => {
            let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            node_hash(&naive_mth(&leaves[..k]), &naive_mth(&leaves[k..]))
        }
    }
}

fn naive_path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return vec![];
    }
    let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
    if m < k {
        let mut p = naive_path(m, &leaves[..k]);
        p.push(naive_mth(&leaves[k..]));
        p
    } else {
        let mut p = naive_path(m - k, &leaves[k..]);
        p.push(naive_mth(&leaves[..k]));
        p
    }
}

fn naive_subproof(m: usize, leaves: &[Hash], b: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if b { vec![] } else { vec![naive_mth(leaves)] };
    }
    let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
    if m <= k {
        let mut p = naive_subproof(m, &leaves[..k], b);
        p.push(naive_mth(&leaves[k..]));
        p
    } else {
        let mut p = naive_subproof(m - k, &leaves[k..], false);
        p.push(naive_mth(&leaves[..k]));
        p
    }
}

/// A reader that computes every node from the leaves.
struct Leaves(Vec<Hash>);

impl HashReader for Leaves {
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, TreeError> {
        Ok(nodes
            .iter()
            .map(|n| naive_mth(&self.0[n.start() as usize..n.end() as usize]))
            .collect())
    }
}

fn leaves(n: usize) -> Vec<Hash> {
    (0..n)
        .map(|i| leaf_hash(format!("leaf {i}").as_bytes()))
        .collect()
}

fn flips(proof: &[Hash]) -> impl Iterator<Item = Vec<Hash>> + '_ {
    (0..proof.len()).flat_map(move |i| {
        (0..256).map(move |bit| {
            let mut p = proof.to_vec();
            p[i].0[bit / 8] ^= 1 << (bit % 8);
            p
        })
    })
}

#[test]
fn every_inclusion_proof_up_to_64() {
    let all = leaves(64);
    for size in 1..=64usize {
        let reader = Leaves(all[..size].to_vec());
        let root = naive_mth(&all[..size]);
        assert_eq!(tree_hash(size as u64, &reader).unwrap(), root);
        for index in 0..size {
            let proof = inclusion_proof(index as u64, size as u64, &reader).unwrap();
            assert_eq!(
                proof,
                naive_path(index, &all[..size]),
                "size {size} index {index}"
            );
            let leaf = all[index];
            verify_inclusion(&leaf, index as u64, size as u64, &proof, &root).unwrap();
            for bad in flips(&proof) {
                assert!(verify_inclusion(&leaf, index as u64, size as u64, &bad, &root).is_err());
            }
            for other in 0..size as u64 + 2 {
                if other != index as u64 {
                    assert!(verify_inclusion(&leaf, other, size as u64, &proof, &root).is_err());
                }
            }
            // A wrong leaf, and truncated or extended proofs. (A different
            // tree size with the same root is not checked: the root alone
            // does not bind the size, which is why checkpoints carry both.)
            let mut bad_leaf = leaf;
            bad_leaf.0[0] ^= 1;
            assert!(verify_inclusion(&bad_leaf, index as u64, size as u64, &proof, &root).is_err());
            if let Some((_, shorter)) = proof.split_last() {
                assert!(
                    verify_inclusion(&leaf, index as u64, size as u64, shorter, &root).is_err()
                );
            }
            let mut longer = proof.clone();
            longer.push(root);
            assert!(verify_inclusion(&leaf, index as u64, size as u64, &longer, &root).is_err());
        }
    }
}

#[test]
fn every_consistency_proof_up_to_64() {
    let all = leaves(64);
    for new in 1..=64usize {
        let reader = Leaves(all[..new].to_vec());
        let new_root = naive_mth(&all[..new]);
        for old in 1..=new {
            let old_root = naive_mth(&all[..old]);
            let proof = consistency_proof(old as u64, new as u64, &reader).unwrap();
            let expected = if old == new {
                vec![]
            } else {
                naive_subproof(old, &all[..new], true)
            };
            assert_eq!(proof, expected, "{old} -> {new}");
            verify_consistency(old as u64, new as u64, &old_root, &new_root, &proof).unwrap();
            for bad in flips(&proof) {
                assert!(
                    verify_consistency(old as u64, new as u64, &old_root, &new_root, &bad).is_err()
                );
            }
            for other in 1..=new {
                if other != old {
                    assert!(
                        verify_consistency(other as u64, new as u64, &old_root, &new_root, &proof)
                            .is_err(),
                        "old {old} as {other} -> {new}"
                    );
                }
            }
            let mut bad_old = old_root;
            bad_old.0[31] ^= 0x80;
            assert!(
                verify_consistency(old as u64, new as u64, &bad_old, &new_root, &proof).is_err()
            );
            let mut bad_new = new_root;
            bad_new.0[31] ^= 0x80;
            assert!(
                verify_consistency(old as u64, new as u64, &old_root, &bad_new, &proof).is_err()
            );
        }
    }
}

#[test]
fn empty_tree() {
    assert_eq!(
        Hash::empty().to_hex(),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert!(verify_consistency(0, 5, &Hash::empty(), &leaf_hash(b"x"), &[]).is_ok());
    assert!(verify_inclusion(&leaf_hash(b"x"), 0, 0, &[], &Hash::empty()).is_err());
}

#[test]
fn batched_roots_are_the_rfc_roots_for_every_size_up_to_600() {
    let all = leaves(600);
    for n in 0..=all.len() {
        assert_eq!(root_of(&all[..n]), naive_mth(&all[..n]), "{n} leaves");
    }
}

#[test]
fn batched_leaf_hashes_match_known_values() {
    // SHA-256 of the single byte 0x00: the leaf hash of an empty entry.
    let mut out = vec![Hash::default(); 3];
    leaf_hashes(&[b"", b"", b""], &mut out);
    for h in &out {
        assert_eq!(
            h.to_hex(),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }
    leaf_hashes(&[], &mut out);
    assert!(out.is_empty());
    // More entries than one call sorts at once.
    let many: Vec<Vec<u8>> = (0..70_000u32)
        .map(|i| i.to_be_bytes().repeat(1 + i as usize % 40))
        .collect();
    let slices: Vec<&[u8]> = many.iter().map(Vec::as_slice).collect();
    leaf_hashes(&slices, &mut out);
    assert_eq!(out.len(), many.len());
    for (i, (h, e)) in out.iter().zip(&slices).enumerate() {
        assert_eq!(*h, leaf_hash(e), "entry {i}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Entries of every length around the block boundaries, in any mix and
    /// order, hash as one at a time does.
    #[test]
    fn batched_leaf_hashes_are_leaf_hashes(
        entries in proptest::collection::vec(
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..200),
                proptest::collection::vec(any::<u8>(), 200..700),
                (0usize..12).prop_flat_map(|k| proptest::collection::vec(any::<u8>(), 64 * k + 54..64 * k + 57)),
            ],
            0..300,
        )
    ) {
        let slices: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        let mut batched = Vec::new();
        leaf_hashes(&slices, &mut batched);
        let one_by_one: Vec<Hash> = slices.iter().map(|e| leaf_hash(e)).collect();
        prop_assert_eq!(&batched, &one_by_one);
        prop_assert_eq!(root_of(&batched), naive_mth(&one_by_one));
    }

    #[test]
    fn larger_trees(size in 1u64..5000, a in any::<u64>(), b in any::<u64>()) {
        let all = leaves(size as usize);
        let reader = Leaves(all.clone());
        let root = naive_mth(&all);
        let index = a % size;
        let proof = inclusion_proof(index, size, &reader).unwrap();
        prop_assert!(verify_inclusion(&all[index as usize], index, size, &proof, &root).is_ok());
        let old = 1 + b % size;
        let old_root = naive_mth(&all[..old as usize]);
        let cproof = consistency_proof(old, size, &reader).unwrap();
        prop_assert!(verify_consistency(old, size, &old_root, &root, &cproof).is_ok());
        if !cproof.is_empty() {
            let mut bad = cproof.clone();
            let i = (a as usize) % bad.len();
            bad[i].0[(b % 32) as usize] ^= 1;
            prop_assert!(verify_consistency(old, size, &old_root, &root, &bad).is_err());
        }
        if !proof.is_empty() {
            let mut bad = proof.clone();
            let i = (b as usize) % bad.len();
            bad[i].0[(a % 32) as usize] ^= 4;
            prop_assert!(verify_inclusion(&all[index as usize], index, size, &bad, &root).is_err());
        }
    }

    #[test]
    fn decomposition_covers_range(size in 1u64..1_000_000) {
        let parts = tree::decompose(0, size);
        let mut at = 0;
        for p in &parts {
            prop_assert_eq!(p.start(), at);
            at = p.end();
        }
        prop_assert_eq!(at, size);
    }
}
