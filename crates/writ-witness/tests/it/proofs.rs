//! Offline proofs (c2sp.org/tlog-proof) of entries of a cosigned
//! checkpoint: they verify with the log key and a quorum of witnesses, and
//! fail when any part of them is changed.

use writ_tlog::LogKey;
use writ_tlog::cosignature::WitnessPolicy;
use writ_tlog::tlog_proof::{TlogProof, TlogProofError};

use crate::common::{self, grow, witness_key};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proofs_verify_offline_and_nothing_in_them_can_change() {
    let dir = tempfile::tempdir().unwrap();
    let log = common::log(dir.path(), "test.example/p", &LogKey::generate().unwrap()).await;
    let published = grow(&log, "p", 37).await;
    let w = witness_key("witness.test/p");
    let text = &published.note[..published.note.find("\n\n").unwrap() + 1];
    let cosigned = format!("{}{}", published.note, w.cosign(text, 1_800_000_000));
    let policy = WitnessPolicy {
        witnesses: vec![w.verifier()],
        quorum: 1,
    };
    for index in [0u64, 1, 17, 36] {
        let proof = TlogProof {
            extra: Some(format!("p {index}").into_bytes()),
            index,
            proof: log.inclusion_proof(index, 37).await.unwrap(),
            checkpoint: cosigned.clone(),
        };
        let text = proof.to_text();
        let read = TlogProof::parse(&text).unwrap();
        assert_eq!(read, proof);
        let (cp, entry) = read.verify(log.vkey(), Some(&policy)).unwrap();
        assert_eq!((cp.size, entry), (37, format!("p {index}").as_bytes()));
        // Without the cosignature, the policy refuses it.
        let bare = TlogProof {
            checkpoint: published.note.clone(),
            ..proof.clone()
        };
        assert!(matches!(
            bare.verify(log.vkey(), Some(&policy)),
            Err(TlogProofError::Witnesses(_))
        ));
        // Another index, another entry, a flipped proof bit: not included.
        let moved = TlogProof {
            index: (index + 1) % 37,
            ..proof.clone()
        };
        assert!(moved.verify(log.vkey(), Some(&policy)).is_err());
        let other = TlogProof {
            extra: Some(b"p x".to_vec()),
            ..proof.clone()
        };
        assert!(other.verify(log.vkey(), Some(&policy)).is_err());
        for i in 0..proof.proof.len() {
            for bit in [0usize, 100, 255] {
                let mut bad = proof.clone();
                bad.proof[i].0[bit / 8] ^= 1 << (bit % 8);
                assert!(bad.verify(log.vkey(), None).is_err(), "line {i} bit {bit}");
            }
        }
    }
    assert!(TlogProof::parse("c2sp.org/tlog-proof@v2\nindex 0\n\nx").is_err());
    assert!(TlogProof::parse("c2sp.org/tlog-proof@v1\nindex 01\n\nx").is_err());
}
