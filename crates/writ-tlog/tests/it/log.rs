//! The sequencer end to end on a local folder.

use std::sync::Arc;

use writ_tlog::tree::{verify_consistency, verify_inclusion};
use writ_tlog::verify::{DirFetch, VerifyError, verify_log};
use writ_tlog::{Config, Error, Log, hash::leaf_hash};

use crate::common::{audit, entry, fast_config, open, stores, write_log};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_are_published_and_provable() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path()).await;
    assert_eq!(log.checkpoint().checkpoint.size, 0);
    // Concurrent appends share commits.
    let mut tasks = Vec::new();
    for i in 0..300u64 {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            (i, log.append(entry(i)).await.unwrap())
        }));
    }
    let mut indexes = Vec::new();
    for t in tasks {
        indexes.push(t.await.unwrap());
    }
    let mut seen: Vec<u64> = indexes.iter().map(|(_, idx)| *idx).collect();
    seen.sort();
    assert_eq!(seen, (0..300).collect::<Vec<_>>());
    let range = log
        .append_batch((300..700).map(entry).collect())
        .await
        .unwrap();
    assert_eq!(range, 300..700);

    let published = log.wait_published(699).await.unwrap();
    assert!(published.checkpoint.size >= 700);
    let size = published.checkpoint.size;
    let root = published.checkpoint.root;
    for (i, idx) in indexes.iter().step_by(7) {
        let proof = log.inclusion_proof(*idx, size).await.unwrap();
        verify_inclusion(&leaf_hash(&entry(*i)), *idx, size, &proof, &root).unwrap();
        let p = log.prove(*idx).await.unwrap();
        p.verify().unwrap();
    }
    // Consistency between two published checkpoints.
    log.append(b"one more".to_vec()).await.unwrap();
    let later = log.publish_now().await.unwrap();
    assert_eq!(later.checkpoint.size, size + 1);
    let proof = log.consistency_proof(size, size + 1).await.unwrap();
    verify_consistency(size, size + 1, &root, &later.checkpoint.root, &proof).unwrap();
    assert!(matches!(
        log.inclusion_proof(0, size + 2).await,
        Err(Error::NotPublished { .. })
    ));

    // What a server serves.
    let served = log.read("checkpoint").await.unwrap().unwrap();
    assert_eq!(String::from_utf8(served).unwrap(), later.note);
    assert!(log.read("tile/0/000").await.unwrap().is_some());
    assert!(log.read("../writ.db").await.unwrap().is_none());
    assert!(log.read("tile/0/999").await.unwrap().is_none());

    let verified = audit(dir.path(), log.vkey());
    assert_eq!(verified.checkpoint.size, 701);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopening_keeps_identity_and_refuses_another_origin() {
    let dir = tempfile::tempdir().unwrap();
    let log = write_log(dir.path(), 300).await;
    let vkey = log.vkey().to_string();
    assert!(vkey.starts_with("writ.example/log+"));
    let before = log.close().await.unwrap();
    let log = open(dir.path()).await;
    assert_eq!(log.vkey().to_string(), vkey);
    assert_eq!(log.checkpoint(), before);
    log.append(entry(1000)).await.unwrap();
    log.publish_now().await.unwrap();
    drop(log);
    let other = Config {
        origin: Some("other.example/log".into()),
        ..fast_config()
    };
    assert!(matches!(
        Log::open_dir(dir.path(), other).await,
        Err(Error::OriginChanged { .. })
    ));
}

/// A key kept in a file (`writ serve --log-key`) becomes the log's key, and
/// the log refuses any other key afterwards, given or stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_given_key_is_the_logs_key_for_good() {
    let key = writ_tlog::LogKey::generate().unwrap();
    let text = key.to_file_text();
    assert!(text.starts_with("writ-log-key-v1 "));
    assert_eq!(writ_tlog::LogKey::parse(&text), Some(key.clone()));
    assert_eq!(writ_tlog::LogKey::parse("writ-log-key-v1 AAAA"), None);
    assert_eq!(format!("{key:?}"), "LogKey(..)");

    let with = |key: &writ_tlog::LogKey| Config {
        key: Some(key.clone()),
        ..fast_config()
    };
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open_dir(dir.path(), with(&key)).await.unwrap();
    log.append(entry(0)).await.unwrap();
    log.publish_now().await.unwrap();
    let vkey = log.vkey().to_string();
    drop(log);
    // The same key from the file, or none (the stored one), opens the log.
    let log = Log::open_dir(dir.path(), with(&key)).await.unwrap();
    assert_eq!(log.vkey().to_string(), vkey);
    drop(log);
    let log = open(dir.path()).await;
    assert_eq!(log.vkey().to_string(), vkey);
    drop(log);
    // Another key is refused.
    let other = writ_tlog::LogKey::generate().unwrap();
    assert!(matches!(
        Log::open_dir(dir.path(), with(&other)).await,
        Err(Error::KeyMismatch)
    ));
    // The same key gives the same verifier key on another log.
    let dir2 = tempfile::tempdir().unwrap();
    let log2 = Log::open_dir(dir2.path(), with(&key)).await.unwrap();
    assert_eq!(log2.vkey().to_string(), vkey);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_origin_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        origin: Some("gateway.provider.test/log".into()),
        ..fast_config()
    };
    let log = Log::open_dir(dir.path(), config).await.unwrap();
    log.append(entry(0)).await.unwrap();
    let p = log.publish_now().await.unwrap();
    assert!(p.note.starts_with("gateway.provider.test/log\n1\n"));
    assert!(p.note.contains("\n\n\u{2014} gateway.provider.test/log "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_too_large_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path()).await;
    assert!(matches!(
        log.append(vec![0; 70_000]).await,
        Err(Error::EntryTooLarge(70_000))
    ));
    log.append(vec![1; 65_535]).await.unwrap();
    log.publish_now().await.unwrap();
    audit(dir.path(), log.vkey());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_entries_survive_a_drop_before_integration() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        period: std::time::Duration::from_secs(3600),
        ..fast_config()
    };
    let log = Log::open_dir(dir.path(), config.clone()).await.unwrap();
    log.publish_now().await.unwrap();
    let range = log
        .append_batch((0..1000).map(entry).collect())
        .await
        .unwrap();
    assert_eq!(log.checkpoint().checkpoint.size, 0);
    drop(log);
    let log = Log::open_dir(dir.path(), config).await.unwrap();
    let published = log.publish_now().await.unwrap();
    assert_eq!(published.checkpoint.size, range.end);
    assert_eq!(log.reader().entry(999).await.unwrap(), Some(entry(999)));
    audit(dir.path(), log.vkey());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auditor_rejects_tampering_forgery_and_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let log = write_log(dir.path(), 600).await;
    let vkey = log.vkey().clone();
    let early = log.checkpoint().note;
    log.append_batch((600..700).map(entry).collect())
        .await
        .unwrap();
    let late = log.publish_now().await.unwrap().note;
    drop(log);
    let objects = writ_tlog::objects_dir(dir.path());
    let fetch = DirFetch(objects.clone());
    let check = |since: Option<&str>| verify_log(&fetch, &vkey, since, &mut |_, _| {});
    check(Some(&early)).unwrap();

    // Rollback: the earlier checkpoint is newer than the log.
    let err = check(Some(&late));
    assert!(err.is_ok());
    std::fs::write(objects.join("checkpoint"), &early).unwrap();
    assert!(matches!(
        check(Some(&late)),
        Err(VerifyError::Rollback { .. })
    ));
    std::fs::write(objects.join("checkpoint"), &late).unwrap();

    // Forged checkpoint: another root, or a signature by another key.
    let forged = late.replacen("\n700\n", "\n701\n", 1);
    std::fs::write(objects.join("checkpoint"), &forged).unwrap();
    assert!(matches!(check(None), Err(VerifyError::Checkpoint(_))));
    let other = writ_tlog::NoteSigner::new("writ.example/log", &[9; 32]).unwrap();
    let cp = writ_tlog::Checkpoint::parse(vkey.open(&late).unwrap()).unwrap();
    std::fs::write(
        objects.join("checkpoint"),
        other.sign(&cp.to_text()).unwrap(),
    )
    .unwrap();
    assert!(matches!(check(None), Err(VerifyError::Checkpoint(_))));
    std::fs::write(objects.join("checkpoint"), &late).unwrap();

    // Tampered bundle and tile.
    for path in [
        "tile/entries/001",
        "tile/0/000",
        "tile/0/002.p/188",
        "tile/1/000.p/2",
    ] {
        let file = objects.join(path);
        let original = std::fs::read(&file).unwrap();
        let mut bad = original.clone();
        let at = bad.len() - 3;
        bad[at] ^= 1;
        std::fs::write(&file, &bad).unwrap();
        assert!(check(None).is_err(), "{path}");
        std::fs::remove_file(&file).unwrap();
        assert!(
            matches!(check(None), Err(VerifyError::Missing(_))),
            "{path}"
        );
        std::fs::write(&file, &original).unwrap();
    }
    check(None).unwrap();

    // A fork: a checkpoint of the same size as the log's with another root.
    let signer_store = stores(dir.path()).await.1;
    let signer = writ_tlog::identity(signer_store.as_ref(), None, None)
        .await
        .unwrap();
    let fork = writ_tlog::Checkpoint::new("writ.example/log", 600, leaf_hash(b"fork"));
    let fork_note = signer.sign(&fork.to_text()).unwrap();
    assert!(matches!(
        check(Some(&fork_note)),
        Err(VerifyError::Fork(600))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tiles_levels() {
    let dir = tempfile::tempdir().unwrap();
    let objects = Arc::new(
        writ_tlog::storage::LocalDir::new(writ_tlog::objects_dir(dir.path())).without_fsync(),
    );
    let trusted = stores(dir.path()).await.1;
    let log = Log::open(fast_config(), objects, trusted).await.unwrap();
    let n = 256 * 256 + 300;
    let mut i = 0u64;
    while i < n {
        let batch: Vec<Vec<u8>> = (i..(i + 5000).min(n)).map(entry).collect();
        i += batch.len() as u64;
        log.append_batch(batch).await.unwrap();
    }
    let p = log.publish_now().await.unwrap();
    assert_eq!(p.checkpoint.size, n);
    for idx in [0, 255, 256, 65_535, 65_536, n - 1] {
        let proof = log.inclusion_proof(idx, n).await.unwrap();
        verify_inclusion(&leaf_hash(&entry(idx)), idx, n, &proof, &p.checkpoint.root).unwrap();
    }
    assert!(objects_exist(
        dir.path(),
        &["tile/1/000", "tile/2/000.p/1", "tile/entries/257.p/44"]
    ));
    audit(dir.path(), log.vkey());
}

fn objects_exist(data: &std::path::Path, paths: &[&str]) -> bool {
    paths
        .iter()
        .all(|p| writ_tlog::objects_dir(data).join(p).exists())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backpressure_integrates_without_waiting_for_the_period() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        period: std::time::Duration::from_secs(3600),
        max_backlog: 500,
        ..fast_config()
    };
    let log = Log::open_dir(dir.path(), config).await.unwrap();
    for i in 0..20u64 {
        let range = log
            .append_batch((i * 300..(i + 1) * 300).map(entry).collect())
            .await
            .unwrap();
        assert_eq!(range, i * 300..(i + 1) * 300);
    }
    // The period never elapsed, yet much of the log is published: without
    // rounds driven by the backlog limit nothing would be. (How far the last
    // publication lags the last append depends on scheduling.)
    let published = log.checkpoint().checkpoint.size;
    assert!(published >= 3000, "published {published}");
    assert_eq!(log.publish_now().await.unwrap().checkpoint.size, 6000);
    audit(dir.path(), log.vkey());
}
