//! The trusted store: the log's identity (origin and signing key), the
//! latest signed checkpoint with compare-and-swap on (size, root), and the
//! staging area where appended entries are durable before they reach tiles.
//!
//! As in Sunlight, the checkpoint here is the truth; the public `checkpoint`
//! object may lag behind it but never runs ahead. SQLite now; the trait lets
//! it move into the case database.

use std::fmt;
use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use sqlx::Row as _;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::hash::Hash;
use crate::storage::BoxFuture;

/// Errors from the trusted store.
#[derive(Debug, thiserror::Error)]
pub enum TrustedError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("checkpoint compare-and-swap failed: the stored checkpoint is not the expected one")]
    CasMismatch,
    #[error("refusing to replace checkpoint of size {old} by one of size {new} with another root")]
    NotAnExtension { old: u64, new: u64 },
    #[error("stored data is corrupt: {0}")]
    Corrupt(&'static str),
    #[error("no randomness available for a key: {0}")]
    Random(String),
    #[error("injected fault in {0}")]
    Injected(&'static str),
    #[error("this server does not hold the sequencer lease")]
    NotLeader,
}

/// The log's identity. The seed is secret and never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Identity {
    pub origin: String,
    pub seed: [u8; 32],
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// A signed checkpoint as the trusted store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub root: Hash,
    /// The signed note.
    pub note: String,
}

/// Entries made durable by one group commit: indexes `first..first + n`,
/// encoded as an entry bundle (length-prefixed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StagedBatch {
    pub first: u64,
    pub count: u64,
    pub entries: Vec<u8>,
}

/// The trusted store of a log.
pub trait TrustedStore: Send + Sync + 'static {
    /// Returns the stored identity, storing `fresh` first if there is none
    /// (insert if absent: concurrent first starts agree).
    fn identity_or_init(&self, fresh: Identity) -> BoxFuture<'_, Result<Identity, TrustedError>>;

    /// Returns the stored identity, if any.
    fn identity(&self) -> BoxFuture<'_, Result<Option<Identity>, TrustedError>>;

    /// The latest signed checkpoint.
    fn checkpoint(&self) -> BoxFuture<'_, Result<Option<StoredCheckpoint>, TrustedError>>;

    /// Replaces the checkpoint if the stored one has `old`'s size and root
    /// (`None`: none is stored); [`TrustedError::CasMismatch`] otherwise.
    fn compare_and_swap(
        &self,
        old: Option<(u64, Hash)>,
        new: StoredCheckpoint,
    ) -> BoxFuture<'_, Result<(), TrustedError>>;

    /// Stores a batch of entries durably (one transaction).
    fn stage(&self, batch: StagedBatch) -> BoxFuture<'_, Result<(), TrustedError>>;

    /// Staged batches that end after index `from`, in order.
    fn staged(&self, from: u64) -> BoxFuture<'_, Result<Vec<StagedBatch>, TrustedError>>;

    /// Forgets staged batches that end at or before `below` (already in tiles
    /// covered by the stored checkpoint).
    fn prune(&self, below: u64) -> BoxFuture<'_, Result<(), TrustedError>>;
}

/// The trusted store in SQLite (`<data>/writ.db`).
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

fn to_i64(n: u64) -> Result<i64, TrustedError> {
    i64::try_from(n).map_err(|_| TrustedError::Corrupt("number out of range"))
}

fn to_u64(n: i64) -> Result<u64, TrustedError> {
    u64::try_from(n).map_err(|_| TrustedError::Corrupt("negative number"))
}

impl SqliteStore {
    /// Opens (creating if needed) the database file. WAL with
    /// `synchronous=FULL`, so that a commit survives a power loss.
    pub async fn open(path: &Path) -> Result<Self, TrustedError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        Self::connect(options).await
    }

    /// Opens a database from a `sqlite:` URL (`sqlite::memory:` for tests).
    pub async fn open_url(url: &str) -> Result<Self, TrustedError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .synchronous(SqliteSynchronous::Full);
        Self::connect(options).await
    }

    async fn connect(options: SqliteConnectOptions) -> Result<Self, TrustedError> {
        // One connection: writes are serialized by the sequencer anyway, and an
        // in-memory database lives only as long as its connection.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        for ddl in [
            "CREATE TABLE IF NOT EXISTS tlog_identity (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                origin TEXT NOT NULL,
                seed BLOB NOT NULL)",
            "CREATE TABLE IF NOT EXISTS tlog_checkpoint (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                size INTEGER NOT NULL,
                root BLOB NOT NULL,
                note TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS tlog_staged (
                first INTEGER PRIMARY KEY,
                count INTEGER NOT NULL,
                entries BLOB NOT NULL)",
        ] {
            sqlx::query(ddl).execute(&pool).await?;
        }
        Ok(Self { pool })
    }

    async fn identity_inner(&self) -> Result<Option<Identity>, TrustedError> {
        let row = sqlx::query("SELECT origin, seed FROM tlog_identity WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            let seed: Vec<u8> = row.try_get("seed")?;
            Ok(Identity {
                origin: row.try_get("origin")?,
                seed: seed
                    .try_into()
                    .map_err(|_| TrustedError::Corrupt("signing key is not 32 bytes"))?,
            })
        })
        .transpose()
    }

    async fn checkpoint_inner(&self) -> Result<Option<StoredCheckpoint>, TrustedError> {
        let row = sqlx::query("SELECT size, root, note FROM tlog_checkpoint WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            let root: Vec<u8> = row.try_get("root")?;
            Ok(StoredCheckpoint {
                size: to_u64(row.try_get("size")?)?,
                root: Hash::from_slice(&root)
                    .ok_or(TrustedError::Corrupt("root is not 32 bytes"))?,
                note: row.try_get("note")?,
            })
        })
        .transpose()
    }
}

impl TrustedStore for SqliteStore {
    fn identity_or_init(&self, fresh: Identity) -> BoxFuture<'_, Result<Identity, TrustedError>> {
        Box::pin(async move {
            sqlx::query("INSERT INTO tlog_identity (id, origin, seed) VALUES (1, ?, ?) ON CONFLICT DO NOTHING")
                .bind(&fresh.origin)
                .bind(fresh.seed.as_slice())
                .execute(&self.pool)
                .await?;
            self.identity_inner()
                .await?
                .ok_or(TrustedError::Corrupt("identity vanished"))
        })
    }

    fn identity(&self) -> BoxFuture<'_, Result<Option<Identity>, TrustedError>> {
        Box::pin(self.identity_inner())
    }

    fn checkpoint(&self) -> BoxFuture<'_, Result<Option<StoredCheckpoint>, TrustedError>> {
        Box::pin(self.checkpoint_inner())
    }

    fn compare_and_swap(
        &self,
        old: Option<(u64, Hash)>,
        new: StoredCheckpoint,
    ) -> BoxFuture<'_, Result<(), TrustedError>> {
        Box::pin(async move {
            let result = match old {
                None => {
                    sqlx::query(
                        "INSERT INTO tlog_checkpoint (id, size, root, note) VALUES (1, ?, ?, ?)
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(to_i64(new.size)?)
                    .bind(new.root.as_bytes().as_slice())
                    .bind(&new.note)
                    .execute(&self.pool)
                    .await?
                }
                Some((old_size, old_root)) => {
                    // Two different checkpoints of one size are never stored.
                    if new.size < old_size || (new.size == old_size && new.root != old_root) {
                        return Err(TrustedError::NotAnExtension {
                            old: old_size,
                            new: new.size,
                        });
                    }
                    sqlx::query(
                        "UPDATE tlog_checkpoint SET size = ?, root = ?, note = ?
                         WHERE id = 1 AND size = ? AND root = ?",
                    )
                    .bind(to_i64(new.size)?)
                    .bind(new.root.as_bytes().as_slice())
                    .bind(&new.note)
                    .bind(to_i64(old_size)?)
                    .bind(old_root.as_bytes().as_slice())
                    .execute(&self.pool)
                    .await?
                }
            };
            if result.rows_affected() == 1 {
                Ok(())
            } else {
                Err(TrustedError::CasMismatch)
            }
        })
    }

    fn stage(&self, batch: StagedBatch) -> BoxFuture<'_, Result<(), TrustedError>> {
        Box::pin(async move {
            sqlx::query("INSERT INTO tlog_staged (first, count, entries) VALUES (?, ?, ?)")
                .bind(to_i64(batch.first)?)
                .bind(to_i64(batch.count)?)
                .bind(batch.entries)
                .execute(&self.pool)
                .await?;
            Ok(())
        })
    }

    fn staged(&self, from: u64) -> BoxFuture<'_, Result<Vec<StagedBatch>, TrustedError>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT first, count, entries FROM tlog_staged WHERE first + count > ? ORDER BY first",
            )
            .bind(to_i64(from)?)
            .fetch_all(&self.pool)
            .await?;
            rows.into_iter()
                .map(|row| {
                    Ok(StagedBatch {
                        first: to_u64(row.try_get("first")?)?,
                        count: to_u64(row.try_get("count")?)?,
                        entries: row.try_get("entries")?,
                    })
                })
                .collect()
        })
    }

    fn prune(&self, below: u64) -> BoxFuture<'_, Result<(), TrustedError>> {
        Box::pin(async move {
            sqlx::query("DELETE FROM tlog_staged WHERE first + count <= ?")
                .bind(to_i64(below)?)
                .execute(&self.pool)
                .await?;
            Ok(())
        })
    }
}
