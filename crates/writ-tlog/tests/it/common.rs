//! Functions shared by the tests.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use writ_tlog::storage::{LocalDir, ObjectStorage};
use writ_tlog::trusted::{SqliteStore, TrustedStore};
use writ_tlog::verify::{DirFetch, verify_log};
use writ_tlog::{Config, Log};

/// A config that integrates quickly, for tests.
pub fn fast_config() -> Config {
    Config {
        period: Duration::from_millis(20),
        ..Config::default()
    }
}

/// Distinct entries for a test log.
pub fn entry(i: u64) -> Vec<u8> {
    format!("{{\"test\":{i}}}").into_bytes()
}

/// The stores of a data folder.
pub async fn stores(data: &Path) -> (Arc<dyn ObjectStorage>, Arc<dyn TrustedStore>) {
    let objects: Arc<dyn ObjectStorage> = Arc::new(LocalDir::new(writ_tlog::objects_dir(data)));
    let trusted: Arc<dyn TrustedStore> = Arc::new(
        SqliteStore::open(&writ_tlog::database_path(data))
            .await
            .unwrap(),
    );
    (objects, trusted)
}

/// Opens the log of a data folder.
pub async fn open(data: &Path) -> Log {
    Log::open_dir(data, fast_config()).await.unwrap()
}

/// Verifies the public objects of a data folder's log with the auditor.
pub fn audit(data: &Path, log_vkey: &writ_tlog::NoteVerifier) -> writ_tlog::verify::Verified {
    verify_log(
        &DirFetch(writ_tlog::objects_dir(data)),
        log_vkey,
        None,
        &mut |_, _| {},
    )
    .unwrap()
}

/// Writes a log of `n` entries into `data` and publishes it.
pub async fn write_log(data: &Path, n: u64) -> Log {
    let log = open(data).await;
    let mut i = 0;
    while i < n {
        let batch: Vec<Vec<u8>> = (i..(i + 97).min(n)).map(entry).collect();
        i += batch.len() as u64;
        log.append_batch(batch).await.unwrap();
    }
    log.publish_now().await.unwrap();
    log
}
