//! A borrowed, public-fields-only reading of an entry, for readers that go
//! through millions of entries (`writ report`).
//!
//! [`EntryView::parse`] reads the envelope and the public fields a report
//! counts, borrowing strings from the entry's bytes (they are never escaped
//! in entries Writ writes, so nothing is copied), and skips the commitments
//! unread. It does not check the canonical form or refuse unknown public
//! fields: [`crate::Entry::parse`] is the strict reading.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use writ_model::Outcome;

use crate::error::{EventError, field};
use crate::event::{ENTRY_VERSION, Kind, Unit};

/// What an entry is: an event of some kind, or a restricted entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    Event(Kind),
    Restricted,
}

impl<'de> Deserialize<'de> for EntryKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = Cow::<'de, str>::deserialize(d)?;
        if name == "restricted" {
            return Ok(EntryKind::Restricted);
        }
        Kind::parse(&name)
            .map(EntryKind::Event)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown kind `{name}`")))
    }
}

/// An entry's envelope and public fields, borrowed from its bytes.
#[derive(Debug, Deserialize)]
pub struct EntryView<'a> {
    pub v: u64,
    pub kind: EntryKind,
    #[serde(borrow, default)]
    pub case: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub hour: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub public: Option<PublicView<'a>>,
    /// Restricted entries only.
    #[serde(default)]
    pub unit: Option<Unit>,
    #[serde(borrow, default)]
    pub period: Option<Cow<'a, str>>,
}

/// The public fields that reports count, whatever the kind (see
/// [`crate::event`] for which kind has which). Others are skipped unread.
#[derive(Debug, Default, Deserialize)]
pub struct PublicView<'a> {
    #[serde(borrow, default)]
    pub country: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub instrument: Option<Cow<'a, str>>,
    #[serde(default)]
    pub emergency: Option<bool>,
    #[serde(default)]
    pub targets: Option<u64>,
    #[serde(default)]
    pub outcome: Option<Outcome>,
    #[serde(default)]
    pub accounts: Option<u64>,
    #[serde(default)]
    pub accounts_abroad: Option<u64>,
    #[serde(borrow, default)]
    pub action: Option<Cow<'a, str>>,
    #[serde(default)]
    pub on_time: Option<bool>,
    #[serde(borrow, default)]
    pub disclosed: Option<BTreeMap<Cow<'a, str>, u64>>,
}

impl<'a> EntryView<'a> {
    /// Reads the envelope and public fields of `bytes`, which must be a
    /// version 1 entry.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, EventError> {
        let view: EntryView<'a> = serde_json::from_slice(bytes).map_err(EventError::Json)?;
        if view.v != ENTRY_VERSION {
            return Err(EventError::Version(view.v.to_string()));
        }
        Ok(view)
    }

    /// The case, which every event but `registry` has.
    pub fn case(&self) -> Result<&str, EventError> {
        self.case.as_deref().ok_or_else(|| field("case", "missing"))
    }

    /// The hour.
    pub fn hour(&self) -> Result<&str, EventError> {
        self.hour.as_deref().ok_or_else(|| field("hour", "missing"))
    }
}
