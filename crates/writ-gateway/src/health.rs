//! Whether the server can write: the storage faults that intake and the
//! publisher met (a full or read-only disk, an I/O error), until a write
//! succeeds again. `/healthz` reports them; nothing here refuses a request
//! by itself: every order is tried, and the first that commits clears the
//! fault, so that the server recovers without a restart when space returns.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use writ_model::Timestamp;

/// What cannot be written, why, and since when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageFault {
    pub error: String,
    pub since: Timestamp,
}

/// The health of the server's storage.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Health {
    /// The case store refuses writes: new orders get 503.
    pub store: Option<StorageFault>,
    /// The outbox cannot be moved into the log: orders are taken and wait
    /// in the outbox.
    pub publisher: Option<StorageFault>,
}

#[derive(Default)]
pub(crate) struct Tracker {
    state: Mutex<Health>,
    /// The folder a probe writes in (the data folder).
    folder: std::sync::OnceLock<PathBuf>,
    last_probe: Mutex<Option<Instant>>,
}

/// How often `/healthz` tries a write while the store is at fault.
const PROBE_EVERY: Duration = Duration::from_secs(1);
/// What the probe writes and syncs: a disk with less room than this stays
/// unavailable (a failed write frees a little space as it is undone; an
/// order should not be taken on the strength of that).
const PROBE_BYTES: usize = 1024 * 1024;

impl Tracker {
    pub(crate) fn store_failed(&self, error: String) {
        self.set(|h| &mut h.store, Some(error));
    }

    pub(crate) fn store_written(&self) {
        self.set(|h| &mut h.store, None);
    }

    pub(crate) fn publisher_failed(&self, error: String) {
        self.set(|h| &mut h.publisher, Some(error));
    }

    pub(crate) fn published(&self) {
        self.set(|h| &mut h.publisher, None);
    }

    fn set(&self, field: impl Fn(&mut Health) -> &mut Option<StorageFault>, error: Option<String>) {
        let Ok(mut h) = self.state.lock() else {
            return;
        };
        let slot = field(&mut h);
        match (error, slot.as_mut()) {
            (None, _) => *slot = None,
            // The first failure's time stays; the latest reason is shown.
            (Some(e), Some(f)) => f.error = e,
            (Some(e), None) => {
                *slot = Some(StorageFault {
                    error: e,
                    since: Timestamp::now(),
                })
            }
        }
    }

    pub(crate) fn snapshot(&self) -> Health {
        self.state.lock().map(|h| h.clone()).unwrap_or_default()
    }

    pub(crate) fn set_folder(&self, folder: PathBuf) {
        let _ = self.folder.set(folder);
    }

    /// Whether it is time to probe again (at most once per [`PROBE_EVERY`]).
    pub(crate) fn probe_due(&self) -> bool {
        let Ok(mut last) = self.last_probe.lock() else {
            return false;
        };
        if last.is_some_and(|t| t.elapsed() < PROBE_EVERY) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }

    /// Writes, syncs and removes a small file in the data folder; the error
    /// names the folder.
    pub(crate) async fn probe_folder(&self) -> Result<(), String> {
        let Some(folder) = self.folder.get().cloned() else {
            return Ok(());
        };
        tokio::task::spawn_blocking(move || {
            use std::io::Write as _;
            let path = folder.join(".healthz-probe");
            let result = (|| {
                let mut f = std::fs::File::create(&path)?;
                f.write_all(&vec![0u8; PROBE_BYTES])?;
                f.sync_all()
            })();
            let _ = std::fs::remove_file(&path);
            result.map_err(|e| format!("cannot write the data folder {}: {e}", folder.display()))
        })
        .await
        .map_err(|e| format!("probe: {e}"))?
    }
}

impl crate::Gateway {
    /// Records that the case store refused a write (a request was answered
    /// 503): `/healthz` says so until a write succeeds again.
    pub fn storage_failed(&self, error: String) {
        self.inner.health.store_failed(error);
    }

    /// The folder whose disk `/healthz` probes while the store is at fault
    /// (the data folder).
    pub fn set_data_folder(&self, folder: PathBuf) {
        self.inner.health.set_folder(folder);
    }

    /// The storage's health. While the case store is at fault, first tries
    /// a write (at most once a second): a file in the data folder and a row
    /// in the store; when both succeed the fault is cleared.
    pub async fn health(&self) -> Health {
        let tracker = &self.inner.health;
        if tracker.snapshot().store.is_some() && tracker.probe_due() {
            let probed = match tracker.probe_folder().await {
                Ok(()) => self
                    .store()
                    .probe_write()
                    .await
                    .map_err(|e| format!("the case store: {e}")),
                Err(e) => Err(e),
            };
            match probed {
                Ok(()) => tracker.store_written(),
                Err(e) => tracker.store_failed(e),
            }
        }
        tracker.snapshot()
    }
}
