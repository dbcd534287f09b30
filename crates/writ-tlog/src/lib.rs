//! Writ's transparency log: an append-only Merkle log laid out as a C2SP
//! tlog (`docs/formats.md`, "Transparency log").
//!
//! - [`hash`] and [`tree`]: RFC 6962 hashing, tree hashes, inclusion and
//!   consistency proofs (RFC 9162, section 2.1), with no storage in sight;
//! - [`tiles`] and [`builder`]: the tlog-tiles layout (c2sp.org/tlog-tiles);
//! - [`note`]: Ed25519 signed notes (c2sp.org/signed-note) and checkpoints
//!   (c2sp.org/tlog-checkpoint);
//! - entries are bytes: what they say (Writ's events, canonical JSON,
//!   commitments) is `writ-events`' business, not the log's;
//! - [`storage`] and [`trusted`]: the object storage (local folder, S3) and
//!   the trusted store (SQLite, or PostgreSQL with a sequencer lease in
//!   [`trusted_pg`]) behind traits;
//! - [`Log`]: the sequencer a server holds; [`Reader`] reads a log;
//!   [`verify`] audits one from its public objects;
//! - [`cosignature`] and [`witnessing`]: witness cosignatures
//!   (c2sp.org/tlog-cosignature) and asking witnesses for them
//!   (c2sp.org/tlog-witness).

pub mod builder;
pub mod cosignature;
mod error;
pub mod hash;
mod hex;
mod log;
pub mod note;
mod reader;
pub mod storage;
pub mod tiles;
pub mod tlog_proof;
pub mod tree;
pub mod trusted;
pub mod trusted_pg;
pub mod verify;
pub mod witnessing;

pub use error::Error;
pub use hash::Hash;
pub use log::{Config, Log, LogKey, Published, database_path, identity, objects_dir};
pub use note::{Checkpoint, NoteSigner, NoteVerifier};
pub use reader::{InclusionProof, Reader};

/// The path of the public checkpoint under the log's prefix.
pub const CHECKPOINT_PATH: &str = "checkpoint";

/// The origin of a new log when none is configured.
pub const DEFAULT_ORIGIN: &str = "writ.example/log";
