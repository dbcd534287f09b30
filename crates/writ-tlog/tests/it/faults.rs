//! A fault table in the style of Sunlight's: each write step fails once
//! "not persisted" and once "persisted, but an error returned"; then the log
//! either retries in place or is reloaded as after a crash, and the
//! invariants must hold: the stored checkpoint is never behind the public
//! one, equal sizes mean equal roots, every acknowledged entry is in the
//! log, and the log verifies.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use writ_tlog::storage::{BoxFuture, ObjectStorage, StorageError};
use writ_tlog::trusted::{Identity, StagedBatch, StoredCheckpoint, TrustedError, TrustedStore};
use writ_tlog::verify::{DirFetch, verify_log};
use writ_tlog::{Hash, Log, NoteVerifier};

use crate::common::{entry, fast_config, stores, write_log};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Stage,
    Bundle,
    Tile,
    Cas,
    Public,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    NotPersisted,
    PersistedButError,
}

struct Fault {
    step: Step,
    mode: Mode,
    armed: AtomicBool,
}

impl Fault {
    /// Whether the fault fires now (once).
    fn fire(&self, step: Step) -> bool {
        step == self.step && self.armed.swap(false, Ordering::SeqCst)
    }
}

struct FaultyObjects {
    inner: Arc<dyn ObjectStorage>,
    fault: Arc<Fault>,
}

fn is_bundle(path: &str) -> bool {
    path.starts_with("tile/entries/")
}

impl ObjectStorage for FaultyObjects {
    fn put_once(&self, objects: Vec<(String, Vec<u8>)>) -> BoxFuture<'_, Result<(), StorageError>> {
        Box::pin(async move {
            let step = if objects.iter().any(|(p, _)| is_bundle(p))
                && self.fault.step == Step::Bundle
            {
                Some(Step::Bundle)
            } else if objects.iter().any(|(p, _)| !is_bundle(p)) && self.fault.step == Step::Tile {
                Some(Step::Tile)
            } else {
                None
            };
            if let Some(step) = step.filter(|s| self.fault.fire(*s)) {
                let path = objects
                    .iter()
                    .find(|(p, _)| is_bundle(p) == (step == Step::Bundle))
                    .map(|(p, _)| p.clone())
                    .unwrap_or_default();
                let keep: Vec<_> = match self.fault.mode {
                    // Everything else lands; the faulted kind does not.
                    Mode::NotPersisted => objects
                        .into_iter()
                        .filter(|(p, _)| is_bundle(p) != (step == Step::Bundle))
                        .collect(),
                    Mode::PersistedButError => objects,
                };
                self.inner.put_once(keep).await?;
                return Err(StorageError::Injected(path));
            }
            self.inner.put_once(objects).await
        })
    }

    fn put(&self, path: String, data: Vec<u8>) -> BoxFuture<'_, Result<(), StorageError>> {
        Box::pin(async move {
            if self.fault.fire(Step::Public) {
                if self.fault.mode == Mode::PersistedButError {
                    self.inner.put(path.clone(), data).await?;
                }
                return Err(StorageError::Injected(path));
            }
            self.inner.put(path, data).await
        })
    }

    fn get(&self, path: String) -> BoxFuture<'_, Result<Option<Vec<u8>>, StorageError>> {
        self.inner.get(path)
    }
}

struct FaultyTrusted {
    inner: Arc<dyn TrustedStore>,
    fault: Arc<Fault>,
}

impl TrustedStore for FaultyTrusted {
    fn identity_or_init(&self, fresh: Identity) -> BoxFuture<'_, Result<Identity, TrustedError>> {
        self.inner.identity_or_init(fresh)
    }

    fn identity(&self) -> BoxFuture<'_, Result<Option<Identity>, TrustedError>> {
        self.inner.identity()
    }

    fn checkpoint(&self) -> BoxFuture<'_, Result<Option<StoredCheckpoint>, TrustedError>> {
        self.inner.checkpoint()
    }

    fn compare_and_swap(
        &self,
        old: Option<(u64, Hash)>,
        new: StoredCheckpoint,
    ) -> BoxFuture<'_, Result<(), TrustedError>> {
        Box::pin(async move {
            if self.fault.fire(Step::Cas) {
                if self.fault.mode == Mode::PersistedButError {
                    self.inner.compare_and_swap(old, new).await?;
                }
                return Err(TrustedError::Injected("checkpoint compare-and-swap"));
            }
            self.inner.compare_and_swap(old, new).await
        })
    }

    fn stage(&self, batch: StagedBatch) -> BoxFuture<'_, Result<(), TrustedError>> {
        Box::pin(async move {
            if self.fault.fire(Step::Stage) {
                if self.fault.mode == Mode::PersistedButError {
                    self.inner.stage(batch).await?;
                }
                return Err(TrustedError::Injected("staging"));
            }
            self.inner.stage(batch).await
        })
    }

    fn staged(&self, from: u64) -> BoxFuture<'_, Result<Vec<StagedBatch>, TrustedError>> {
        self.inner.staged(from)
    }

    fn prune(&self, below: u64) -> BoxFuture<'_, Result<(), TrustedError>> {
        self.inner.prune(below)
    }
}

/// The stored and public checkpoints: stored never behind, equal sizes agree.
async fn check_invariants(data: &std::path::Path, vkey: &NoteVerifier) -> (String, Option<String>) {
    let (objects, trusted) = stores(data).await;
    let stored = trusted.checkpoint().await.unwrap().unwrap();
    let stored_cp = vkey.open_checkpoint(&stored.note).unwrap();
    let public = objects
        .get("checkpoint".into())
        .await
        .unwrap()
        .map(|b| String::from_utf8(b).unwrap());
    if let Some(public) = &public {
        let public_cp = vkey.open_checkpoint(public).unwrap();
        assert!(
            stored_cp.size >= public_cp.size,
            "public checkpoint ahead of the stored one"
        );
        if stored_cp.size == public_cp.size {
            assert_eq!(
                stored_cp.root, public_cp.root,
                "two checkpoints of one size"
            );
        }
    }
    (stored.note, public)
}

async fn run_case(step: Step, mode: Mode, reload: bool) {
    let case = format!("{step:?} {mode:?} reload={reload}");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    let log = write_log(data, 300).await;
    let vkey = log.vkey().clone();
    log.close().await.unwrap();

    let fault = Arc::new(Fault {
        step,
        mode,
        armed: AtomicBool::new(true),
    });
    let (objects, trusted) = stores(data).await;
    let faulty_objects = Arc::new(FaultyObjects {
        inner: objects,
        fault: fault.clone(),
    });
    let faulty_trusted = Arc::new(FaultyTrusted {
        inner: trusted,
        fault: fault.clone(),
    });
    let config = writ_tlog::Config {
        period: std::time::Duration::from_secs(3600),
        ..fast_config()
    };
    let log = Log::open(config, faulty_objects, faulty_trusted)
        .await
        .unwrap();
    let mut acked = Vec::new();
    for round in 0..3u64 {
        let entries: Vec<Vec<u8>> = (0..150).map(|i| entry(1000 + round * 1000 + i)).collect();
        match log.append_batch(entries.clone()).await {
            Ok(range) => acked.extend(range.zip(entries)),
            Err(e) => assert!(
                step == Step::Stage && mode == Mode::NotPersisted,
                "{case}: append failed: {e}"
            ),
        }
    }
    let first = log.publish_now().await;
    // A swap that landed although an error came back is recognised at once
    // (the log reads the stored checkpoint back); other faults fail the round.
    let faulted_publish = matches!(
        (step, mode),
        (Step::Bundle | Step::Tile | Step::Public, _) | (Step::Cas, Mode::NotPersisted)
    );
    assert_eq!(first.is_err(), faulted_publish, "{case}: {first:?}");
    assert!(
        !fault.armed.load(Ordering::SeqCst),
        "{case}: the fault never fired"
    );
    let mut notes = vec![check_invariants(data, &vkey).await];

    if !reload {
        // The same process retries and heals.
        let p = log
            .publish_now()
            .await
            .unwrap_or_else(|e| panic!("{case}: retry failed: {e}"));
        assert_eq!(p.checkpoint.size, 300 + acked.len() as u64, "{case}");
        notes.push(check_invariants(data, &vkey).await);
    }
    drop(log);

    // Reload as after a crash; everything acknowledged gets published.
    let log = crate::common::open(data).await;
    let p = log
        .publish_now()
        .await
        .unwrap_or_else(|e| panic!("{case}: after reload: {e}"));
    assert_eq!(p.checkpoint.size, 300 + acked.len() as u64, "{case}");
    for (index, expected) in &acked {
        assert_eq!(
            log.reader().entry(*index).await.unwrap().as_ref(),
            Some(expected),
            "{case}"
        );
    }
    let (stored, public) = check_invariants(data, &vkey).await;
    assert_eq!(
        Some(&stored),
        public.as_ref(),
        "{case}: public checkpoint lags after publishing"
    );
    // Every checkpoint seen along the way is consistent with the final log.
    let fetch = DirFetch(writ_tlog::objects_dir(data));
    for (stored, public) in notes {
        for note in std::iter::once(stored).chain(public) {
            verify_log(&fetch, &vkey, Some(&note), &mut |_, _| {})
                .unwrap_or_else(|e| panic!("{case}: {e}"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_table() {
    for step in [
        Step::Stage,
        Step::Bundle,
        Step::Tile,
        Step::Cas,
        Step::Public,
    ] {
        for mode in [Mode::NotPersisted, Mode::PersistedButError] {
            for reload in [true, false] {
                run_case(step, mode, reload).await;
            }
        }
    }
}
