//! The log's error type.

use crate::builder::BuilderError;
use crate::note::NoteError;
use crate::storage::StorageError;
use crate::tiles::BundleError;
use crate::tree::TreeError;
use crate::trusted::TrustedError;

/// Errors from the log.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Trusted(#[from] TrustedError),
    #[error(transparent)]
    Note(#[from] NoteError),
    #[error(transparent)]
    Tree(#[from] TreeError),
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    Builder(#[from] BuilderError),
    #[error("entry of {0} bytes is larger than the 65535 bytes a bundle can hold")]
    EntryTooLarge(usize),
    #[error("the log's origin is `{stored}`; it cannot change to `{configured}`")]
    OriginChanged { stored: String, configured: String },
    #[error("the stored checkpoint is not signed by the stored key")]
    KeyChanged,
    #[error("the given log key is not this log's key: a log's key never changes")]
    KeyMismatch,
    #[error("log state is inconsistent: {0}")]
    Inconsistent(String),
    #[error("log data is corrupt: {0}")]
    Corrupt(String),
    #[error("the log has no public checkpoint")]
    NoCheckpoint,
    #[error("tree size {size} is beyond the published size {published}")]
    NotPublished { size: u64, published: u64 },
    #[error("invalid proof: {0}")]
    BadProof(String),
    #[error("the log was shut down")]
    Closed,
    #[error("this server does not sequence the log: another server holds the lease")]
    NotSequencer,
    #[error("the log stopped after an unrecoverable error: {0}")]
    Stopped(String),
    #[error("no randomness available: {0}")]
    Random(String),
}
