//! The `object_store` backend (cargo feature `s3`), over its in-memory
//! store: create-only writes, and a log that sequences and reopens on it.
//! Without the feature this module is empty; a live S3 is not needed.

#[cfg(feature = "s3")]
mod with_object_store {
    use std::sync::Arc;

    use object_store::memory::InMemory;
    use writ_tlog::Log;
    use writ_tlog::hash::leaf_hash;
    use writ_tlog::storage::{ObjectStorage, S3, StorageError};
    use writ_tlog::tree::verify_inclusion;

    use crate::common::{entry, fast_config, stores};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn log_on_object_store() {
        let tmp = tempfile::tempdir().unwrap();
        let memory = Arc::new(InMemory::new());
        let objects: Arc<dyn ObjectStorage> = Arc::new(S3::new(memory.clone(), "prefix/log"));

        // Create-only: the same bytes again are fine, other bytes are not.
        objects
            .put_once(vec![("tile/0/000.p/1".into(), vec![1; 32])])
            .await
            .unwrap();
        objects
            .put_once(vec![("tile/0/000.p/1".into(), vec![1; 32])])
            .await
            .unwrap();
        assert!(matches!(
            objects
                .put_once(vec![("tile/0/000.p/1".into(), vec![2; 32])])
                .await,
            Err(StorageError::Conflict(_))
        ));
        assert!(objects.get("tile/0/999".into()).await.unwrap().is_none());
        assert!(matches!(
            objects.get("../x".into()).await,
            Err(StorageError::BadPath(_))
        ));

        let objects: Arc<dyn ObjectStorage> = Arc::new(S3::new(memory.clone(), "other/log"));
        let trusted = stores(tmp.path()).await.1;
        let log = Log::open(fast_config(), objects.clone(), trusted.clone())
            .await
            .unwrap();
        log.append_batch((0..700).map(entry).collect())
            .await
            .unwrap();
        let p = log.publish_now().await.unwrap();
        let proof = log.inclusion_proof(123, 700).await.unwrap();
        verify_inclusion(
            &leaf_hash(&entry(123)),
            123,
            700,
            &proof,
            &p.checkpoint.root,
        )
        .unwrap();
        drop(log);

        let log = Log::open(fast_config(), objects, trusted).await.unwrap();
        assert_eq!(log.checkpoint(), p);
        log.append(entry(700)).await.unwrap();
        assert_eq!(log.publish_now().await.unwrap().checkpoint.size, 701);
        assert_eq!(log.reader().entry(700).await.unwrap(), Some(entry(700)));
    }
}
