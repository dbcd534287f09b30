//! Large objects (sealed packages): written from a local file in parts and
//! read back as a stream, listed and deleted, on a folder, on
//! `object_store`'s in-memory store and on an S3-compatible server
//! (`WRIT_TEST_S3`, as `.ci/s3.sh` starts; cargo feature `s3`).

use std::sync::Arc;

use futures_util::StreamExt as _;
use writ_tlog::storage::{LocalDir, ObjectStorage, PART_SIZE, StorageError};

/// Bytes that differ from part to part, so that a part out of place shows.
fn content(len: usize, seed: u8) -> Vec<u8> {
    let mut state = u32::from(seed) + 1;
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        })
        .collect()
}

async fn read_all(storage: &dyn ObjectStorage, path: &str) -> Option<(Vec<u8>, usize)> {
    let mut reader = storage.get_stream(path.to_owned()).await.unwrap()?;
    let mut out = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = reader.stream.next().await {
        out.extend_from_slice(&chunk.unwrap());
        chunks += 1;
    }
    assert_eq!(out.len() as u64, reader.size);
    Some((out, chunks))
}

/// The same checks for every kind of storage; `streamed`: whether reads
/// must come in several chunks (the in-memory store holds objects whole).
async fn exercise(storage: Arc<dyn ObjectStorage>, streamed: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("package.age");
    // More than two parts, the last one short.
    let big = content(2 * PART_SIZE + 12_345, 1);
    std::fs::write(&file, &big).unwrap();
    let path = "case-1-0a0b0c.age";
    storage
        .put_file(path.to_owned(), file.clone())
        .await
        .unwrap();
    let (back, chunks) = read_all(&*storage, path).await.unwrap();
    assert!(back == big, "the object differs from the file");
    assert!(
        !streamed || chunks > 1,
        "read as one chunk of {} bytes",
        back.len()
    );

    // A small file replaces it whole.
    let small = content(1000, 2);
    std::fs::write(&file, &small).unwrap();
    storage
        .put_file(path.to_owned(), file.clone())
        .await
        .unwrap();
    assert_eq!(read_all(&*storage, path).await.unwrap().0, small);

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let listed = storage.list().await.unwrap();
    let found: Vec<_> = listed.iter().filter(|l| l.path == path).collect();
    assert_eq!(found.len(), 1, "{listed:?}");
    assert!((found[0].modified - now).abs() < 300, "{:?}", found[0]);

    storage.delete(path.to_owned()).await.unwrap();
    assert!(read_all(&*storage, path).await.is_none());
    assert!(!storage.list().await.unwrap().iter().any(|l| l.path == path));
    // Deleting what is not there is not an error.
    storage.delete(path.to_owned()).await.unwrap();

    assert!(matches!(
        storage.get_stream("../escape.age".into()).await,
        Err(StorageError::BadPath(_))
    ));
    let missing = tmp.path().join("missing.age");
    assert!(storage.put_file("other.age".into(), missing).await.is_err());
    assert!(read_all(&*storage, "other.age").await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_objects_on_a_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = LocalDir::new(tmp.path().join("packages"));
    assert_eq!(
        dir.local_path("a.age"),
        Some(tmp.path().join("packages").join("a.age"))
    );
    exercise(Arc::new(dir), true).await;
    // No temporary file is left behind.
    let left: Vec<_> = std::fs::read_dir(tmp.path().join("packages"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[cfg(feature = "s3")]
mod with_object_store {
    use std::sync::Arc;

    use object_store::memory::InMemory;
    use writ_tlog::storage::{ObjectStorage, S3};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn large_objects_in_memory() {
        let storage = S3::new(Arc::new(InMemory::new()), "deployment/packages");
        assert_eq!(storage.local_path("a.age"), None);
        super::exercise(Arc::new(storage), false).await;
    }

    /// On an S3-compatible server, so that the multipart upload is the real
    /// protocol.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn large_objects_on_an_s3_server() {
        let endpoint = match std::env::var("WRIT_TEST_S3") {
            Ok(e) => e,
            Err(_) if std::env::var("WRIT_CI").is_ok_and(|v| v == "1") => {
                panic!("WRIT_CI=1 but WRIT_TEST_S3 is not set: the S3 tests must run")
            }
            Err(_) => {
                eprintln!("SKIPPED: no S3 server (set WRIT_TEST_S3 and AWS_*, as .ci/s3.sh does)");
                return;
            }
        };
        let bucket = format!("writ-large-{}", std::process::id());
        ureq::put(format!("{endpoint}/{bucket}"))
            .send_empty()
            .unwrap();
        let storage = S3::from_env(&bucket, "deployment/packages").unwrap();
        super::exercise(Arc::new(storage), true).await;
    }
}
