//! Sealing of disclosure packages (`docs/formats.md`, "Package").
//!
//! A package is an uncompressed tar holding one `<account>/<category>.ndjson`
//! file per granted pair and a `manifest.json`, encrypted with age to the
//! agency's X25519 recipient. Everything streams: records are written to a
//! spool file while they are hashed and counted ([`Spool`]), spool files are
//! copied into the tar inside the age stream ([`PackageWriter`]), and the age
//! file itself is hashed as it is written, so memory stays flat whatever the
//! size of an account.
//!
//! Sealing writes age v1 with its own implementation ([`agev1`],
//! [`AgeWriter`]) so that the payload's chunks are encrypted on every core;
//! opening uses the `age` crate.
//!
//! Why spool: a tar header carries the size of its entry before the entry's
//! bytes, and records arrive one by one from a connector whose output cannot
//! be replayed. Spooling each file to disk first costs one extra sequential
//! write and read, keeps memory flat, and gives collection a durable point to
//! resume from.
//!
//! The manifest is the tar's last entry, since it holds every file's hash.
//!
//! The core ([`hash`], [`manifest`], [`RecordWriter`]) does no IO of its own:
//! it works over any [`std::io::Write`].

pub mod agev1;
mod early_sync;
pub mod hash;
pub mod manifest;
mod open;
mod package;
mod spool;
mod writer;

use std::io;
use std::path::PathBuf;

pub use age::x25519::{Identity, Recipient};
pub use hash::{HashingWriter, ParallelHashingWriter, hex};
pub use manifest::{FileEntry, MANIFEST_PATH, Manifest, PackageHeader, file_path};
pub use open::{open, verify, verify_reader};
pub use package::{PackageWriter, Sealed, seal_spools, sync_dir};
pub use spool::{RecordWriter, Spool, Spooled};
pub use writer::{AgeWriter, Written};

/// What can go wrong while sealing or opening a package.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("{what} `{path}`: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("{what}: {source}")]
    Stream {
        what: &'static str,
        source: io::Error,
    },
    #[error("cannot encrypt to the recipient: {0}")]
    Encrypt(#[from] age::EncryptError),
    #[error("cannot encrypt to the recipient: {0}")]
    Recipient(String),
    #[error("cannot decrypt the package: {0}")]
    Decrypt(#[from] age::DecryptError),
    #[error("invalid package path `{0}`")]
    BadPath(String),
    #[error("record is not a single JSON line: {0}")]
    BadRecord(String),
    #[error("cannot encode the manifest: {0}")]
    Json(#[from] serde_json::Error),
    #[error("package does not match its manifest: {0}")]
    Mismatch(String),
}

impl SealError {
    pub(crate) fn io(
        what: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| SealError::Io { what, path, source }
    }

    pub(crate) fn stream(what: &'static str) -> impl FnOnce(io::Error) -> Self {
        move |source| SealError::Stream { what, source }
    }
}
