//! The sequencer: one [`Log`] handle per server.
//!
//! Appends are made durable in the trusted store by group commit: the
//! appends waiting while one commit runs go into the next, in one
//! transaction, so that one append costs about one flush to disk and many
//! cost little more. Every `period` (the log's maximum merge delay) the
//! staged entries are integrated: tiles and bundles are written (create-only,
//! durable), then a checkpoint is signed and swapped into the trusted store
//! on (size, root), then published. A checkpoint therefore never covers
//! anything that is not durable, and since staged entries never change, two
//! different checkpoints of one size are never signed.

use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::builder::TreeBuilder;
use crate::error::Error;
use crate::hash::Hash;
use crate::note::{Checkpoint, NoteSigner, NoteVerifier};
use crate::reader::{InclusionProof, Reader};
use crate::storage::{LocalDir, ObjectStorage};
use crate::tiles::{self, MAX_ENTRY_SIZE};
use crate::trusted::{
    Identity, SqliteStore, StagedBatch, StoredCheckpoint, TrustedError, TrustedStore,
};
use crate::{CHECKPOINT_PATH, DEFAULT_ORIGIN};

/// How a log is opened.
#[derive(Clone, Debug)]
pub struct Config {
    /// The origin (checkpoint first line and key name). `None`: the stored
    /// one, or [`DEFAULT_ORIGIN`] for a new log. A different origin than the
    /// stored one is refused.
    pub origin: Option<String>,
    /// How often staged entries are integrated and a checkpoint published:
    /// the maximum merge delay. 500 ms by default; 200 ms to 1 s in service.
    pub period: Duration,
    /// Most entries in one group commit.
    pub max_batch: usize,
    /// Most entries integrated per round of tile writes.
    pub max_integrate: usize,
    /// Most entries acknowledged but not yet in tiles; past it, appends wait
    /// for integration to catch up (bounds memory under sustained load).
    pub max_backlog: usize,
    /// The signing key, when it is kept outside the trusted store (`writ
    /// serve --log-key FILE`). `None`: the stored key, or a new one for a new
    /// log. A key other than the stored one is refused.
    pub key: Option<LogKey>,
    /// Witnesses to ask for cosignatures of each new checkpoint
    /// (c2sp.org/tlog-witness); `None`: the log is signed by its key alone.
    pub witness: Option<crate::witnessing::WitnessConfig>,
}

/// A log signing key (the Ed25519 seed) kept outside the trusted store. It
/// never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct LogKey([u8; 32]);

impl LogKey {
    /// The text of a key file: `writ-log-key-v1 <base64 seed>`.
    const PREFIX: &'static str = "writ-log-key-v1 ";

    /// A fresh random key.
    pub fn generate() -> Result<Self, Error> {
        NoteSigner::generate_seed()
            .map(Self)
            .map_err(|e| Error::Random(e.to_string()))
    }

    /// Reads a key file's text.
    pub fn parse(text: &str) -> Option<Self> {
        use base64::Engine as _;
        let b64 = text.trim().strip_prefix(Self::PREFIX)?;
        let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    /// The text of a key file.
    pub fn to_file_text(&self) -> String {
        use base64::Engine as _;
        format!(
            "{}{}\n",
            Self::PREFIX,
            base64::engine::general_purpose::STANDARD.encode(self.0)
        )
    }
}

impl fmt::Debug for LogKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LogKey(..)")
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            origin: None,
            period: Duration::from_millis(500),
            max_batch: 1 << 16,
            max_integrate: 1 << 16,
            max_backlog: 1 << 20,
            key: None,
            witness: None,
        }
    }
}

/// A published checkpoint: what it says and the signed note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    pub checkpoint: Checkpoint,
    pub note: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Status {
    pub(crate) published: Published,
    pub(crate) failed: Option<String>,
    /// Why the last integration round failed, while the next ones retry
    /// (a tile or the checkpoint could not be written): the published
    /// checkpoint lags what was acknowledged.
    pub(crate) retrying: Option<String>,
}

struct AppendReq {
    entries: Vec<Vec<u8>>,
    reply: oneshot::Sender<Result<Range<u64>, String>>,
}

type PublishReply = oneshot::Sender<Result<Published, String>>;

/// Entries acknowledged but not yet integrated, shared by the committer
/// (which waits when there are too many) and the integrator.
#[derive(Default)]
struct Backlog {
    count: std::sync::atomic::AtomicUsize,
    /// The integrator took entries into tiles.
    drained: tokio::sync::Notify,
    /// The committer asks for an integration round now.
    kick: tokio::sync::Notify,
}

struct Inner {
    /// A follower reads the log another server sequences.
    follower: bool,
    append_tx: mpsc::UnboundedSender<AppendReq>,
    publish_tx: mpsc::UnboundedSender<PublishReply>,
    status: watch::Receiver<Status>,
    reader: Reader,
    /// A copy of the key, for documents signed apart from checkpoints.
    signer: NoteSigner,
    /// Witnessing, when the log has witnesses.
    witness: Option<watch::Receiver<crate::witnessing::WitnessState>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last handle is gone: stop sequencing (like a crash; whatever was
        // acknowledged is durable and is integrated at the next open).
        if let Ok(tasks) = self.tasks.lock() {
            for t in tasks.iter() {
                t.abort();
            }
        }
    }
}

/// A transparency log that sequences appends. Cheap to clone.
#[derive(Clone)]
pub struct Log {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("vkey", self.inner.reader.vkey())
            .finish_non_exhaustive()
    }
}

/// The objects folder of a data folder: `<data>/objects/log`.
pub fn objects_dir(data: &Path) -> std::path::PathBuf {
    writ_objects::layout::log_objects(data)
}

/// The trusted store of a data folder: `<data>/writ.db`.
pub fn database_path(data: &Path) -> std::path::PathBuf {
    writ_objects::layout::database(data)
}

/// Opens the trusted store of a data folder and returns the log's signer,
/// creating the identity if the store has none (`writ log key`).
pub async fn identity(
    trusted: &dyn TrustedStore,
    origin: Option<&str>,
    key: Option<&LogKey>,
) -> Result<NoteSigner, Error> {
    let seed = match key {
        Some(k) => k.0,
        None => NoteSigner::generate_seed().map_err(|e| Error::Random(e.to_string()))?,
    };
    let fresh = Identity {
        origin: origin.unwrap_or(DEFAULT_ORIGIN).to_owned(),
        seed,
    };
    let stored = trusted.identity_or_init(fresh).await?;
    if key.is_some_and(|k| k.0 != stored.seed) {
        return Err(Error::KeyMismatch);
    }
    if let Some(configured) = origin
        && configured != stored.origin
    {
        return Err(Error::OriginChanged {
            stored: stored.origin,
            configured: configured.to_owned(),
        });
    }
    Ok(NoteSigner::new(&stored.origin, &stored.seed)?)
}

impl Log {
    /// Opens the log of a data folder: objects in `<data>/objects/log`, the
    /// trusted store in `<data>/writ.db`.
    pub async fn open_dir(data: &Path, config: Config) -> Result<Self, Error> {
        std::fs::create_dir_all(data).map_err(|source| {
            Error::Storage(crate::storage::StorageError::Io {
                path: data.display().to_string(),
                source,
            })
        })?;
        let trusted = SqliteStore::open(&database_path(data)).await?;
        let objects = LocalDir::new(objects_dir(data));
        Self::open(config, Arc::new(objects), Arc::new(trusted)).await
    }

    /// Opens (or creates) a log over the given stores, recovers whatever a
    /// crash left behind, and starts sequencing.
    pub async fn open(
        config: Config,
        objects: Arc<dyn ObjectStorage>,
        trusted: Arc<dyn TrustedStore>,
    ) -> Result<Self, Error> {
        let signer = identity(
            trusted.as_ref(),
            config.origin.as_deref(),
            config.key.as_ref(),
        )
        .await?;
        let vkey = signer.verifier();
        let origin = signer.name().to_owned();
        let report_signer = NoteSigner::new(&origin, &signer.seed())?;

        // The stored checkpoint is the truth; create the empty tree's on first open.
        let stored = match trusted.checkpoint().await? {
            Some(s) => s,
            None => {
                let cp = Checkpoint::new(&origin, 0, Hash::empty());
                let first = StoredCheckpoint {
                    size: 0,
                    root: cp.root,
                    note: signer.sign(&cp.to_text())?,
                };
                match trusted.compare_and_swap(None, first).await {
                    Ok(()) | Err(TrustedError::CasMismatch) => {}
                    Err(e) => return Err(e.into()),
                }
                trusted
                    .checkpoint()
                    .await?
                    .ok_or_else(|| Error::Inconsistent("no checkpoint after creating one".into()))?
            }
        };
        let stored_cp = vkey
            .open_checkpoint(&stored.note)
            .map_err(|_| Error::KeyChanged)?;
        if stored_cp.size != stored.size || stored_cp.root != stored.root {
            return Err(Error::Inconsistent(
                "stored checkpoint note differs from its size and root".into(),
            ));
        }

        // The public checkpoint may lag behind the stored one, never lead it.
        let public = objects.get(CHECKPOINT_PATH.to_owned()).await?;
        let mut public_lags = true;
        if let Some(bytes) = public {
            let note = String::from_utf8(bytes)
                .map_err(|_| Error::Corrupt("public checkpoint is not UTF-8".into()))?;
            let cp = vkey.open_checkpoint(&note)?;
            if cp.size > stored.size || (cp.size == stored.size && cp.root != stored.root) {
                return Err(Error::Inconsistent(format!(
                    "public checkpoint (size {}) is ahead of or forks from the stored one (size {})",
                    cp.size, stored.size
                )));
            }
            public_lags = note != stored.note;
        }

        // The right edge of the tree, from the tiles the stored checkpoint covers.
        let mut edge = Vec::new();
        for id in TreeBuilder::edge_tiles(stored.size) {
            let data = objects
                .get(id.path())
                .await?
                .ok_or_else(|| Error::Corrupt(format!("missing `{}`", id.path())))?;
            edge.push((id, data));
        }
        let builder = TreeBuilder::resume(stored.size, &edge)?;
        if builder.root() != stored.root {
            return Err(Error::Corrupt(
                "edge tiles do not match the stored checkpoint".into(),
            ));
        }

        // Entries acknowledged but not yet integrated.
        let mut pending = Vec::new();
        let mut next = stored.size;
        for batch in trusted.staged(stored.size).await? {
            let entries = tiles::split_bundle(&batch.entries)?;
            if entries.len() as u64 != batch.count || batch.first > next {
                return Err(Error::Inconsistent(format!(
                    "staged entries at {} do not follow {next}",
                    batch.first
                )));
            }
            for (i, e) in entries.into_iter().enumerate() {
                if batch.first + i as u64 == next {
                    pending.push(e.to_vec());
                    next += 1;
                }
            }
        }

        let published = Published {
            checkpoint: stored_cp,
            note: stored.note.clone(),
        };
        let (status_tx, status_rx) = watch::channel(Status {
            published: published.clone(),
            failed: None,
            retrying: None,
        });
        let status_tx = Arc::new(status_tx);
        let pending = Arc::new(Mutex::new(pending));
        let (append_tx, append_rx) = mpsc::unbounded_channel();
        let (publish_tx, publish_rx) = mpsc::unbounded_channel();

        let backlog = Arc::new(Backlog::default());
        backlog.count.store(
            next.saturating_sub(stored.size) as usize,
            std::sync::atomic::Ordering::SeqCst,
        );
        let committer = Committer {
            trusted: trusted.clone(),
            pending: pending.clone(),
            next,
            max_batch: config.max_batch.max(1),
            max_backlog: config.max_backlog.max(1),
            backlog: backlog.clone(),
            status: status_tx.clone(),
        };
        let integrator = Integrator {
            trusted,
            objects: objects.clone(),
            signer,
            builder,
            stored,
            public_lags,
            buffer: Vec::new(),
            pending,
            status: status_tx,
            max_integrate: config.max_integrate.max(1),
            backlog,
        };
        let mut tasks = vec![
            tokio::spawn(committer.run(append_rx)),
            tokio::spawn(integrator.run(publish_rx, config.period)),
        ];
        let reader = Reader::new(objects, vkey);
        let witness = config.witness.clone().map(|witness| {
            let (tx, rx) = watch::channel(crate::witnessing::WitnessState {
                quorum: witness.quorum,
                ..Default::default()
            });
            tasks.push(tokio::spawn(crate::witnessing::run(
                witness,
                reader.clone(),
                status_rx.clone(),
                Arc::new(tx),
            )));
            rx
        });
        Ok(Self {
            inner: Arc::new(Inner {
                follower: false,
                append_tx,
                publish_tx,
                status: status_rx,
                reader,
                signer: report_signer,
                witness,
                tasks: Mutex::new(tasks),
            }),
        })
    }

    /// Opens a log that this server reads but does not sequence (another
    /// server holds the sequencer lease): its checkpoint follows the public
    /// `checkpoint` object, read every `period` and checked against the key;
    /// appends are refused with [`Error::NotSequencer`], and
    /// [`Log::publish_now`] reads the public checkpoint at once.
    pub async fn follow(
        config: Config,
        objects: Arc<dyn ObjectStorage>,
        trusted: Arc<dyn TrustedStore>,
    ) -> Result<Self, Error> {
        let signer = identity(
            trusted.as_ref(),
            config.origin.as_deref(),
            config.key.as_ref(),
        )
        .await?;
        let vkey = signer.verifier();
        let published = match read_public(objects.as_ref(), &vkey).await? {
            Some(p) => p,
            None => {
                // Nothing published yet: the empty tree, which every signer
                // signs alike (Ed25519 is deterministic).
                let cp = Checkpoint::new(signer.name(), 0, Hash::empty());
                Published {
                    note: signer.sign(&cp.to_text())?,
                    checkpoint: cp,
                }
            }
        };
        let (status_tx, status_rx) = watch::channel(Status {
            published,
            failed: None,
            retrying: None,
        });
        let (append_tx, _) = mpsc::unbounded_channel();
        let (publish_tx, mut publish_rx) = mpsc::unbounded_channel::<PublishReply>();
        let period = config.period;
        let follower_objects = objects.clone();
        let follower_vkey = vkey.clone();
        // With witnesses, a follower serves the cosigned checkpoint the
        // sequencer stored, checked against the same policy.
        let (witness_tx, witness_rx) = match &config.witness {
            Some(w) => {
                let (tx, rx) = watch::channel(crate::witnessing::WitnessState {
                    quorum: w.quorum,
                    ..Default::default()
                });
                (Some((tx, w.policy())), Some(rx))
            }
            None => (None, None),
        };
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let mut waiters = Vec::new();
                tokio::select! {
                    _ = tick.tick() => {}
                    w = publish_rx.recv() => match w {
                        Some(w) => waiters.push(w),
                        None => return,
                    },
                }
                let read = read_public(follower_objects.as_ref(), &follower_vkey).await;
                if let Some((tx, policy)) = &witness_tx {
                    let cosigned =
                        crate::witnessing::load(follower_objects.as_ref(), &follower_vkey, policy)
                            .await;
                    let latest = read
                        .as_ref()
                        .ok()
                        .and_then(|p| p.as_ref())
                        .map_or(0, |p| p.checkpoint.size);
                    tx.send_modify(|w| {
                        if cosigned.as_ref().map(|c| c.checkpoint.size)
                            > w.cosigned.as_ref().map(|c| c.checkpoint.size)
                        {
                            w.cosigned = cosigned;
                        }
                        w.latest = latest;
                    });
                }
                if let Ok(Some(p)) = &read {
                    status_tx.send_if_modified(|s| {
                        let newer = p.checkpoint.size > s.published.checkpoint.size;
                        if newer {
                            s.published = p.clone();
                        }
                        newer
                    });
                }
                let reply = match read {
                    Ok(_) => Ok(status_tx.borrow().published.clone()),
                    Err(e) => Err(e.to_string()),
                };
                for w in waiters {
                    let _ = w.send(reply.clone());
                }
            }
        });
        Ok(Self {
            inner: Arc::new(Inner {
                // A follower signs reports as the log does (the key is the
                // log's, from the trusted store), never checkpoints.
                signer: NoteSigner::new(signer.name(), &signer.seed())?,
                follower: true,
                append_tx,
                publish_tx,
                status: status_rx,
                reader: Reader::new(objects, vkey),
                // Only the sequencer asks witnesses; a follower reads what
                // they cosigned.
                witness: witness_rx,
                tasks: Mutex::new(vec![task]),
            }),
        })
    }

    /// Whether this handle sequences the log (and is not a follower).
    pub fn sequences(&self) -> bool {
        !self.inner.follower
    }

    /// Resolves when the log stops sequencing after an unrecoverable error
    /// (a lost lease, a trusted store that went away), with the reason.
    pub async fn stopped(&self) -> String {
        let mut rx = self.inner.status.clone();
        loop {
            if let Some(failed) = rx.borrow_and_update().failed.clone() {
                return failed;
            }
            if rx.changed().await.is_err() {
                return "the log was shut down".to_owned();
            }
        }
    }

    /// Appends one entry; returns its index once it is durably stored.
    pub async fn append(&self, entry: Vec<u8>) -> Result<u64, Error> {
        Ok(self.append_batch(vec![entry]).await?.start)
    }

    /// Appends entries with consecutive indexes; returns them once they are
    /// durably stored.
    pub async fn append_batch(&self, entries: Vec<Vec<u8>>) -> Result<Range<u64>, Error> {
        if self.inner.follower {
            return Err(Error::NotSequencer);
        }
        if let Some(e) = entries.iter().find(|e| e.len() > MAX_ENTRY_SIZE) {
            return Err(Error::EntryTooLarge(e.len()));
        }
        if let Some(failed) = &self.inner.status.borrow().failed {
            return Err(Error::Stopped(failed.clone()));
        }
        let (reply, rx) = oneshot::channel();
        self.inner
            .append_tx
            .send(AppendReq { entries, reply })
            .map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?.map_err(Error::Stopped)
    }

    /// Waits until a published checkpoint covers `index`.
    pub async fn wait_published(&self, index: u64) -> Result<Published, Error> {
        let mut rx = self.inner.status.clone();
        loop {
            {
                let status = rx.borrow_and_update();
                if status.published.checkpoint.size > index {
                    return Ok(status.published.clone());
                }
                if let Some(failed) = &status.failed {
                    return Err(Error::Stopped(failed.clone()));
                }
            }
            rx.changed().await.map_err(|_| Error::Closed)?;
        }
    }

    /// Integrates every acknowledged entry now and publishes a checkpoint,
    /// without waiting for the period.
    pub async fn publish_now(&self) -> Result<Published, Error> {
        let (reply, rx) = oneshot::channel();
        self.inner
            .publish_tx
            .send(reply)
            .map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?.map_err(Error::Stopped)
    }

    /// Why the published checkpoint lags the acknowledged entries, while
    /// integration keeps failing and retrying (a tile or the checkpoint
    /// cannot be written); `None` once a round succeeds.
    pub fn lagging(&self) -> Option<String> {
        self.inner.status.borrow().retrying.clone()
    }

    /// The latest published checkpoint.
    pub fn checkpoint(&self) -> Published {
        self.inner.status.borrow().published.clone()
    }

    /// Witnessing: `None` when the log has no witnesses (or this handle
    /// follows a log another server sequences); else the newest cosigned
    /// checkpoint and how the witnesses are doing.
    pub fn witnessing(&self) -> Option<crate::witnessing::WitnessState> {
        self.inner.witness.as_ref().map(|rx| rx.borrow().clone())
    }

    /// Waits until a cosigned checkpoint covers `index` (for a log with
    /// witnesses), or at most `bound`; returns it, or `None` at the bound.
    pub async fn wait_cosigned(&self, index: u64, bound: Duration) -> Option<Published> {
        let mut rx = self.inner.witness.clone()?;
        tokio::time::timeout(bound, async {
            loop {
                if let Some(c) = &rx.borrow_and_update().cosigned
                    && c.checkpoint.size > index
                {
                    return Some(c.clone());
                }
                if rx.changed().await.is_err() {
                    return None;
                }
            }
        })
        .await
        .ok()
        .flatten()
    }

    /// The log's signing key, for documents that the log key signs besides
    /// checkpoints (transparency reports).
    pub fn signer(&self) -> &NoteSigner {
        &self.inner.signer
    }

    /// The verifier key (`origin+hash+base64`).
    pub fn vkey(&self) -> &NoteVerifier {
        self.inner.reader.vkey()
    }

    /// The inclusion proof of `index` in the tree of `size` leaves (at most
    /// the published size).
    pub async fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, Error> {
        let published = self.checkpoint().checkpoint.size;
        self.inner
            .reader
            .inclusion_proof_at(index, size, published)
            .await
    }

    /// The consistency proof between two published sizes.
    pub async fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, Error> {
        let published = self.checkpoint().checkpoint.size;
        self.inner
            .reader
            .consistency_proof_at(old, new, published)
            .await
    }

    /// An inclusion proof of `index` against the latest published checkpoint.
    pub async fn prove(&self, index: u64) -> Result<InclusionProof, Error> {
        self.inner.reader.prove(index).await
    }

    /// An object under the log's prefix (`checkpoint`, `tile/...`), exactly as
    /// stored, for serving `/log/...`; `None` for anything else.
    pub async fn read(&self, path: &str) -> Result<Option<Vec<u8>>, Error> {
        self.inner.reader.read(path).await
    }

    /// The reader over this log's objects.
    pub fn reader(&self) -> &Reader {
        &self.inner.reader
    }

    /// Publishes everything acknowledged, then stops sequencing.
    pub async fn close(self) -> Result<Published, Error> {
        let published = self.publish_now().await;
        if let Ok(tasks) = self.inner.tasks.lock() {
            for t in tasks.iter() {
                t.abort();
            }
        }
        published
    }
}

/// The public checkpoint, checked against the key; `None` when none is
/// published yet.
async fn read_public(
    objects: &dyn ObjectStorage,
    vkey: &NoteVerifier,
) -> Result<Option<Published>, Error> {
    let Some(bytes) = objects.get(CHECKPOINT_PATH.to_owned()).await? else {
        return Ok(None);
    };
    let note = String::from_utf8(bytes)
        .map_err(|_| Error::Corrupt("public checkpoint is not UTF-8".into()))?;
    let checkpoint = vkey.open_checkpoint(&note)?;
    Ok(Some(Published { checkpoint, note }))
}

struct Committer {
    trusted: Arc<dyn TrustedStore>,
    pending: Arc<Mutex<Vec<Vec<u8>>>>,
    next: u64,
    max_batch: usize,
    max_backlog: usize,
    backlog: Arc<Backlog>,
    status: Arc<watch::Sender<Status>>,
}

impl Committer {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<AppendReq>) {
        use std::sync::atomic::Ordering;
        while let Some(first) = rx.recv().await {
            // Backpressure: wait while integration is behind.
            loop {
                let drained = self.backlog.drained.notified();
                if self.backlog.count.load(Ordering::SeqCst) < self.max_backlog {
                    break;
                }
                self.backlog.kick.notify_one();
                drained.await;
            }
            let mut count = first.entries.len();
            let mut reqs = vec![first];
            // Group commit: everything that queued up while the last commit ran.
            while count < self.max_batch {
                match rx.try_recv() {
                    Ok(r) => {
                        count += r.entries.len();
                        reqs.push(r);
                    }
                    Err(_) => break,
                }
            }
            if let Err(e) = self.commit(reqs).await {
                self.status.send_modify(|s| s.failed = Some(e));
                return;
            }
        }
    }

    /// Stages one group; an error return stops the log.
    async fn commit(&mut self, reqs: Vec<AppendReq>) -> Result<(), String> {
        let mut blob = Vec::new();
        let mut count = 0u64;
        for r in &reqs {
            for e in &r.entries {
                if tiles::push_entry(&mut blob, e).is_err() {
                    return Err("entry too large".into());
                }
                count += 1;
            }
        }
        if count == 0 {
            for r in reqs {
                let _ = r.reply.send(Ok(self.next..self.next));
            }
            return Ok(());
        }
        let batch = StagedBatch {
            first: self.next,
            count,
            entries: blob,
        };
        let stored = match self.trusted.stage(batch.clone()).await {
            Ok(()) => true,
            // The write may have landed although an error came back: look.
            Err(err) => match self.trusted.staged(self.next).await {
                Ok(rows) => match rows.first() {
                    Some(row) if *row == batch => true,
                    Some(_) => return Err("staging area holds unexpected entries".into()),
                    None => {
                        for r in reqs {
                            let _ = r.reply.send(Err(err.to_string()));
                        }
                        return Ok(());
                    }
                },
                Err(e) => {
                    let message = format!("staging failed and its outcome is unknown: {e}");
                    for r in reqs {
                        let _ = r.reply.send(Err(message.clone()));
                    }
                    return Err(message);
                }
            },
        };
        if stored {
            let mut at = self.next;
            let mut replies = Vec::with_capacity(reqs.len());
            if let Ok(mut pending) = self.pending.lock() {
                for r in reqs {
                    let n = r.entries.len() as u64;
                    pending.extend(r.entries);
                    replies.push((r.reply, at..at + n));
                    at += n;
                }
            } else {
                return Err("pending entries lock poisoned".into());
            }
            self.backlog.count.fetch_add(
                (at - self.next) as usize,
                std::sync::atomic::Ordering::SeqCst,
            );
            self.next = at;
            for (reply, range) in replies {
                let _ = reply.send(Ok(range));
            }
        }
        Ok(())
    }
}

struct Integrator {
    trusted: Arc<dyn TrustedStore>,
    objects: Arc<dyn ObjectStorage>,
    signer: NoteSigner,
    builder: TreeBuilder,
    stored: StoredCheckpoint,
    public_lags: bool,
    buffer: Vec<Vec<u8>>,
    pending: Arc<Mutex<Vec<Vec<u8>>>>,
    status: Arc<watch::Sender<Status>>,
    max_integrate: usize,
    backlog: Arc<Backlog>,
}

/// How an integration round failed.
enum Failure {
    /// Nothing is lost; the next round retries.
    Retry(String),
    /// The trusted store holds a checkpoint this sequencer did not write.
    Fatal(String),
}

impl Integrator {
    async fn run(
        mut self,
        mut publish_rx: mpsc::UnboundedReceiver<PublishReply>,
        period: Duration,
    ) {
        let start = tokio::time::Instant::now() + period;
        let mut tick = tokio::time::interval_at(start, period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let mut waiters = Vec::new();
            tokio::select! {
                _ = tick.tick() => {}
                _ = self.backlog.kick.notified() => {}
                w = publish_rx.recv() => match w {
                    Some(w) => waiters.push(w),
                    None => return,
                },
            }
            while let Ok(w) = publish_rx.try_recv() {
                waiters.push(w);
            }
            let result = self.round().await;
            let reply = match &result {
                Ok(()) => Ok(self.status.borrow().published.clone()),
                Err(Failure::Retry(e)) | Err(Failure::Fatal(e)) => Err(e.clone()),
            };
            for w in waiters {
                let _ = w.send(reply.clone());
            }
            match result {
                Ok(()) => {
                    self.status
                        .send_if_modified(|s| s.retrying.take().is_some());
                }
                Err(Failure::Retry(e)) => {
                    self.status.send_modify(|s| s.retrying = Some(e));
                }
                Err(Failure::Fatal(e)) => {
                    self.status.send_modify(|s| s.failed = Some(e));
                    return;
                }
            }
        }
    }

    async fn round(&mut self) -> Result<(), Failure> {
        if let Ok(mut p) = self.pending.lock() {
            if self.buffer.is_empty() {
                std::mem::swap(&mut self.buffer, &mut p);
            } else {
                self.buffer.append(&mut p);
            }
        }
        if !self.buffer.is_empty() {
            self.integrate().await?;
        }
        if self.public_lags {
            self.objects
                .put(
                    CHECKPOINT_PATH.to_owned(),
                    self.stored.note.clone().into_bytes(),
                )
                .await
                .map_err(|e| Failure::Retry(e.to_string()))?;
            self.public_lags = false;
            let cp = Checkpoint::new(self.signer.name(), self.stored.size, self.stored.root);
            let note = self.stored.note.clone();
            self.status.send_modify(|s| {
                s.published = Published {
                    checkpoint: cp,
                    note,
                }
            });
            // Staged entries now in tiles are no longer needed; a failure here
            // only leaves them for later.
            let _ = self.trusted.prune(self.stored.size).await;
        }
        Ok(())
    }

    /// Writes the tiles of the buffered entries, then signs and stores a
    /// checkpoint covering them.
    async fn integrate(&mut self) -> Result<(), Failure> {
        let retry = |e: &dyn std::fmt::Display| Failure::Retry(e.to_string());
        let mut next = self.builder.clone();
        for chunk in self.buffer.chunks(self.max_integrate) {
            let before = next.size();
            let mut objects = Vec::new();
            next.push(chunk.iter().map(Vec::as_slice), &mut |id, data| {
                objects.push((id.path(), data))
            })
            .map_err(|e| retry(&e))?;
            objects.extend(
                next.partials(before)
                    .into_iter()
                    .map(|(id, data)| (id.path(), data)),
            );
            // Durable before any checkpoint covers them.
            self.objects
                .put_once(objects)
                .await
                .map_err(|e| retry(&e))?;
        }
        let cp = Checkpoint::new(self.signer.name(), next.size(), next.root());
        let new = StoredCheckpoint {
            size: cp.size,
            root: cp.root,
            note: self.signer.sign(&cp.to_text()).map_err(|e| retry(&e))?,
        };
        let old = (self.stored.size, self.stored.root);
        if let Err(err) = self.trusted.compare_and_swap(Some(old), new.clone()).await {
            // The swap may have landed although an error came back: look.
            match self.trusted.checkpoint().await {
                Ok(Some(s)) if s.size == new.size && s.root == new.root => {}
                Ok(Some(s)) if s.size == old.0 && s.root == old.1 => return Err(retry(&err)),
                Ok(_) => {
                    return Err(Failure::Fatal(format!(
                        "the trusted store holds a checkpoint this log did not write ({err})"
                    )));
                }
                Err(e) => return Err(retry(&e)),
            }
        }
        self.builder = next;
        self.stored = new;
        self.backlog
            .count
            .fetch_sub(self.buffer.len(), std::sync::atomic::Ordering::SeqCst);
        self.backlog.drained.notify_waiters();
        self.buffer.clear();
        self.public_lags = true;
        Ok(())
    }
}
