//! The witness side of c2sp.org/tlog-witness over HTTP: what it cosigns
//! and what it refuses, with which status.

use writ_tlog::LogKey;
use writ_tlog::cosignature::AddCheckpoint;

use crate::common::{self, get, grow, post, start, witness_key};

fn body(old: u64, proof: Vec<writ_tlog::Hash>, note: &str) -> String {
    AddCheckpoint {
        old,
        proof,
        checkpoint: note.to_owned(),
    }
    .to_body()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cosigns_consistent_checkpoints_and_refuses_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let key = LogKey::generate().unwrap();
    let log = common::log(&dir.path().join("a"), "test.example/a", &key).await;
    let wkey = witness_key("witness.test/w1");
    let w = start(&wkey, &dir.path().join("w"), &[log.vkey()], "127.0.0.1:0").await;
    let add = format!("{}/add-checkpoint", w.url);

    // First contact: old 0, no proof.
    let p5 = grow(&log, "a", 5).await;
    let (status, _, text) = post(&add, body(0, vec![], &p5.note)).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.starts_with("\u{2014} witness.test/w1 ") && text.ends_with('\n'));
    let cosigned = format!("{}{text}", p5.note);
    assert!(wkey.verifier().verify(&cosigned).unwrap().is_some());

    // The same request again: the witness holds 5 now.
    let (status, ct, text) = post(&add, body(0, vec![], &p5.note)).await;
    assert_eq!(
        (status, ct.as_str(), text.as_str()),
        (409, "text/x.tlog.size", "5\n")
    );

    // Consistent growth, one entry at a time, with every proof flipped first.
    let mut old = p5;
    for n in 6..=21u64 {
        let new = grow(&log, "a", 1).await;
        let proof = log.consistency_proof(old.checkpoint.size, n).await.unwrap();
        for i in 0..proof.len() {
            let mut bad = proof.clone();
            bad[i].0[0] ^= 0x80;
            let (status, _, text) = post(&add, body(old.checkpoint.size, bad, &new.note)).await;
            assert_eq!(status, 422, "size {n}, proof line {i}: {text}");
        }
        // A proof missing its last line.
        if !proof.is_empty() {
            let short = proof[..proof.len() - 1].to_vec();
            let (status, ..) = post(&add, body(old.checkpoint.size, short, &new.note)).await;
            assert_eq!(status, 422, "size {n}, short proof");
        }
        let (status, _, text) = post(&add, body(old.checkpoint.size, proof, &new.note)).await;
        assert_eq!(status, 200, "size {n}: {text}");
        old = new;
    }
    assert_eq!(
        w.witness
            .latest("test.example/a")
            .await
            .unwrap()
            .unwrap()
            .size,
        21
    );

    // The same size again is cosigned again (same root).
    let (status, ..) = post(&add, body(21, vec![], &old.note)).await;
    assert_eq!(status, 200);

    // A rolled-back size: an older checkpoint with the held size as old.
    let (status, ..) = post(&add, body(21, vec![], &grow_note(&key, 5).await)).await;
    assert_eq!(status, 400);

    // A fork: the same key and origin, other entries, same size.
    let fork_dir = dir.path().join("fork");
    let fork = common::log(&fork_dir, "test.example/a", &key).await;
    let f21 = grow(&fork, "fork", 21).await;
    assert_ne!(f21.checkpoint.root, old.checkpoint.root);
    let (status, _, text) = post(&add, body(21, vec![], &f21.note)).await;
    assert_eq!(status, 422, "{text}");
    // ... and a larger fork with its own (valid, for the fork) proof.
    let f30 = grow(&fork, "fork", 9).await;
    let fproof = fork.consistency_proof(21, 30).await.unwrap();
    let (status, _, text) = post(&add, body(21, fproof, &f30.note)).await;
    assert_eq!(status, 422, "{text}");
    let held = w.witness.latest("test.example/a").await.unwrap().unwrap();
    assert_eq!((held.size, held.root), (21, old.checkpoint.root));

    // Unknown origin: 404. Known origin, unknown key: 403.
    let other = common::log(&dir.path().join("b"), "test.example/b", &key).await;
    let b = grow(&other, "b", 1).await;
    assert_eq!(post(&add, body(0, vec![], &b.note)).await.0, 404);
    let stranger = common::log(
        &dir.path().join("c"),
        "test.example/a",
        &LogKey::generate().unwrap(),
    )
    .await;
    let c = grow(&stranger, "c", 30).await;
    assert_eq!(post(&add, body(21, vec![], &c.note)).await.0, 403);
    // A tampered log signature with the trusted key's name and id: 403.
    let tampered = old.note.replace("\n21\n", "\n22\n");
    assert_eq!(post(&add, body(21, vec![], &tampered)).await.0, 403);

    // Malformed bodies and old > size: 400.
    assert_eq!(post(&add, "old 01\n\nx".into()).await.0, 400);
    assert_eq!(post(&add, "hello".into()).await.0, 400);
    assert_eq!(post(&add, body(22, vec![], &old.note)).await.0, 400);

    // The monitoring endpoint: the log's signature and the witness's.
    let origin_hash = writ_witness::hex_sha256("test.example/a");
    let (status, note) = get(&format!("{}/{origin_hash}/checkpoint", w.url)).await;
    assert_eq!(status, 200);
    assert_eq!(log.vkey().open_checkpoint(&note).unwrap().size, 21);
    assert!(wkey.verifier().verify(&note).unwrap().is_some());
    let (status, _) = get(&format!("{}/{}/checkpoint", w.url, "00".repeat(32))).await;
    assert_eq!(status, 404);
}

/// A note of a log with `key` at `size` entries (tagged like log `a`).
async fn grow_note(key: &LogKey, size: usize) -> String {
    let dir = tempfile::tempdir().unwrap();
    let log = common::log(dir.path(), "test.example/a", key).await;
    grow(&log, "a", size).await.note
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_logs_share_a_witness_and_it_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (ka, kb) = (LogKey::generate().unwrap(), LogKey::generate().unwrap());
    let a = common::log(&dir.path().join("a"), "test.example/a", &ka).await;
    let b = common::log(&dir.path().join("b"), "test.example/b", &kb).await;
    let wkey = witness_key("witness.test/shared");
    let data = dir.path().join("w");
    let w = start(&wkey, &data, &[a.vkey(), b.vkey()], "127.0.0.1:0").await;
    let add = format!("{}/add-checkpoint", w.url);
    let a3 = grow(&a, "a", 3).await;
    let b7 = grow(&b, "b", 7).await;
    assert_eq!(post(&add, body(0, vec![], &a3.note)).await.0, 200);
    assert_eq!(post(&add, body(0, vec![], &b7.note)).await.0, 200);
    // Each log's state is its own.
    assert_eq!(post(&add, body(1, vec![], &a3.note)).await.2, "3\n");
    assert_eq!(post(&add, body(3, vec![], &b7.note)).await.2, "7\n");

    // Restart the witness on the same store (on a new port: the old
    // listener closes only once its aborted task is next polled).
    drop(w);
    let w = start(&wkey, &data, &[a.vkey(), b.vkey()], "127.0.0.1:0").await;
    let add = format!("{}/add-checkpoint", w.url);
    let (status, _, size) = post(&add, body(0, vec![], &a3.note)).await;
    assert_eq!(
        (status, size.as_str()),
        (409, "3\n"),
        "the held size survived"
    );
    let a9 = grow(&a, "a", 6).await;
    let proof = a.consistency_proof(3, 9).await.unwrap();
    assert_eq!(post(&add, body(3, proof, &a9.note)).await.0, 200);
    let b8 = grow(&b, "b", 1).await;
    let proof = b.consistency_proof(7, 8).await.unwrap();
    assert_eq!(post(&add, body(7, proof, &b8.note)).await.0, 200);
}
