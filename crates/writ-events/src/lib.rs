//! Writ's case events as log entries (`docs/formats.md`, "Transparency log").
//!
//! One model of what the log holds, for everything that writes or reads it
//! (the gateway, `writ simulate`, reports, receipts):
//!
//! - [`event`]: the entry envelope (`v`, `kind`, `case`, `hour`, `public`,
//!   `commitments`), a struct of public fields per [`Kind`], restricted
//!   entries, [`Entry::to_entry`] and the strict [`Entry::parse`];
//! - [`view`]: a borrowed reading of the public fields only, for reports
//!   over millions of entries;
//! - [`commitment`]: salted commitments to the private details, their
//!   [`Opening`]s and the [`Private`] part the provider keeps;
//! - [`canonical`]: canonical JSON (RFC 8785), which entries and commitments
//!   hash.
//!
//! The crate does no IO (the caller brings fresh salts). The log itself
//! (`writ-tlog`) knows nothing of events: it logs bytes.

pub mod canonical;
pub mod commitment;
mod error;
pub mod event;
pub mod view;

pub use commitment::{Commitment, Opening, Private, Salt, commit};
pub use error::EventError;
pub use event::{
    Decided, Disclosed, ENTRY_VERSION, Entry, Event, Extended, Kind, Notified, Preserved, Public,
    Received, Registry, Released, Restricted, Reviewed, Unit, Verified,
};
pub use view::{EntryKind, EntryView, PublicView};
