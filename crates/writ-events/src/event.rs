//! The entries of the log: one struct of public fields per event kind
//! (`docs/formats.md`, "Transparency log", table of public fields by kind),
//! the envelope around them, and restricted entries.
//!
//! [`Entry::to_entry`] writes the canonical bytes that go into the log;
//! [`Entry::parse`] reads them back: canonical JSON, version 1, the fields
//! of its kind and nothing else. Field names are the log's: changing one
//! changes what is logged.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use writ_model::{Instrument, Outcome, Timestamp};

use crate::canonical;
use crate::commitment::Commitment;
use crate::error::{EventError, field};

/// The entry format version this code writes and reads.
pub const ENTRY_VERSION: u64 = 1;

/// The kinds of events (`docs/formats.md`, table of public fields by kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Received,
    Decided,
    Reviewed,
    Verified,
    Disclosed,
    Preserved,
    Released,
    Notified,
    Extended,
    Withdrawn,
    Expired,
    Registry,
    Queried,
    Clarified,
}

impl Kind {
    pub const ALL: [Kind; 14] = [
        Kind::Received,
        Kind::Decided,
        Kind::Reviewed,
        Kind::Verified,
        Kind::Disclosed,
        Kind::Preserved,
        Kind::Released,
        Kind::Notified,
        Kind::Extended,
        Kind::Withdrawn,
        Kind::Expired,
        Kind::Registry,
        Kind::Queried,
        Kind::Clarified,
    ];

    /// The name as written in entries.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Received => "received",
            Kind::Decided => "decided",
            Kind::Reviewed => "reviewed",
            Kind::Verified => "verified",
            Kind::Disclosed => "disclosed",
            Kind::Preserved => "preserved",
            Kind::Released => "released",
            Kind::Notified => "notified",
            Kind::Extended => "extended",
            Kind::Withdrawn => "withdrawn",
            Kind::Expired => "expired",
            Kind::Registry => "registry",
            Kind::Queried => "queried",
            Kind::Clarified => "clarified",
        }
    }

    /// Reads a name as written in entries.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "received" => Kind::Received,
            "decided" => Kind::Decided,
            "reviewed" => Kind::Reviewed,
            "verified" => Kind::Verified,
            "disclosed" => Kind::Disclosed,
            "preserved" => Kind::Preserved,
            "released" => Kind::Released,
            "notified" => Kind::Notified,
            "extended" => Kind::Extended,
            "withdrawn" => Kind::Withdrawn,
            "expired" => Kind::Expired,
            "registry" => Kind::Registry,
            "queried" => Kind::Queried,
            "clarified" => Kind::Clarified,
            _ => return None,
        })
    }

    /// Whether entries of this kind belong to a case (all but `registry`).
    pub fn has_case(self) -> bool {
        self != Kind::Registry
    }
}

/// `received`: an order is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Received {
    /// The requester's country from the registry; `null` for a submitter
    /// the registry does not place.
    pub country: Option<String>,
    pub instrument: Instrument,
    pub emergency: bool,
    /// Targets the order names.
    pub targets: u64,
    /// Whether the order carries a secrecy (non-disclosure) requirement.
    pub gag: bool,
}

/// `decided`: the engine decides (or decides again).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decided {
    pub outcome: Outcome,
    /// Reason codes, sorted and without repeats.
    pub reasons: Vec<String>,
    /// Accounts that resolve to data, and those stored outside the issuing
    /// country.
    pub accounts: u64,
    pub accounts_abroad: u64,
    /// Granted pairs per category.
    pub granted: BTreeMap<String, u64>,
    /// The deadline, cut as the entry's hour is.
    pub due_hour: Timestamp,
    /// Only when the decision ends the case: whether it came in time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_time: Option<bool>,
}

/// `reviewed`: a console user acts, or a second approver confirms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reviewed {
    pub action: String,
    pub role: String,
    pub outcome: Outcome,
    pub granted: BTreeMap<String, u64>,
    /// Only when the review ends the case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_time: Option<bool>,
}

/// `verified`: staff recorded an emergency callback, or the callback that
/// verified the channel of an order they transcribed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verified {
    /// `verified` or `failed`.
    pub result: String,
    pub number_source: String,
    /// `channel` for a transcribed order's channel; absent for an
    /// emergency callback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
}

/// `disclosed`: a package is ready for the agency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disclosed {
    /// Accounts released per category.
    pub disclosed: BTreeMap<String, u64>,
    pub on_time: bool,
}

/// `preserved`: a hold is placed or renewed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preserved {
    pub accounts: u64,
    /// The hold's last day, `YYYY-MM-DD`; `null` for a hold without an end
    /// date (a European Production Order waiting for its clarification,
    /// Reg. (EU) 2023/1543 Art. 10(9)), which ends with its case.
    pub until_day: Option<String>,
    pub on_time: bool,
}

/// `released`: a hold lapsed (or was released).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Released {
    pub accounts: u64,
}

/// `notified`: notices went out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notified {
    pub users: u64,
}

/// `extended`: a court extended or lifted a secrecy order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extended {
    /// The new last day, `YYYY-MM-DD`; `null` when lifted.
    pub until_day: Option<String>,
}

/// `queried`: the provider asked the agency for a clarification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Queried {
    /// How many of the order's fields are at issue.
    pub fields: u64,
    /// The order is incomplete or manifestly wrong: a European Production
    /// Order's deadline does not run until the answer (Reg. (EU) 2023/1543
    /// Art. 10(5)).
    pub incomplete: bool,
}

/// `clarified`: the agency answered a clarification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clarified {
    /// The new deadline, cut to the hour, when the answer started a
    /// stopped clock again; `on_time` of later entries compares with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_hour: Option<Timestamp>,
}

/// `registry`: an agency or a console user changed. Identities are in the
/// commitment, never here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// The public fields of an event, by kind. `withdrawn` and `expired`
/// entries have none: no `public` member is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Public {
    Received(Received),
    Decided(Decided),
    Reviewed(Reviewed),
    Verified(Verified),
    Disclosed(Disclosed),
    Preserved(Preserved),
    Released(Released),
    Notified(Notified),
    Extended(Extended),
    Withdrawn,
    Expired,
    Registry(Registry),
    Queried(Queried),
    Clarified(Clarified),
}

impl Public {
    pub fn kind(&self) -> Kind {
        match self {
            Public::Received(_) => Kind::Received,
            Public::Decided(_) => Kind::Decided,
            Public::Reviewed(_) => Kind::Reviewed,
            Public::Verified(_) => Kind::Verified,
            Public::Disclosed(_) => Kind::Disclosed,
            Public::Preserved(_) => Kind::Preserved,
            Public::Released(_) => Kind::Released,
            Public::Notified(_) => Kind::Notified,
            Public::Extended(_) => Kind::Extended,
            Public::Withdrawn => Kind::Withdrawn,
            Public::Expired => Kind::Expired,
            Public::Registry(_) => Kind::Registry,
            Public::Queried(_) => Kind::Queried,
            Public::Clarified(_) => Kind::Clarified,
        }
    }

    /// The `public` member, or `None` for the kinds that have none.
    fn to_value(&self) -> Result<Option<Value>, EventError> {
        let v = match self {
            Public::Received(p) => serde_json::to_value(p),
            Public::Decided(p) => serde_json::to_value(p),
            Public::Reviewed(p) => serde_json::to_value(p),
            Public::Verified(p) => serde_json::to_value(p),
            Public::Disclosed(p) => serde_json::to_value(p),
            Public::Preserved(p) => serde_json::to_value(p),
            Public::Released(p) => serde_json::to_value(p),
            Public::Notified(p) => serde_json::to_value(p),
            Public::Extended(p) => serde_json::to_value(p),
            Public::Registry(p) => serde_json::to_value(p),
            Public::Queried(p) => serde_json::to_value(p),
            Public::Clarified(p) => serde_json::to_value(p),
            Public::Withdrawn | Public::Expired => return Ok(None),
        };
        v.map(Some).map_err(EventError::Json)
    }

    fn from_value(kind: Kind, public: Option<Value>) -> Result<Self, EventError> {
        fn read<T: DeserializeOwned>(public: Option<Value>) -> Result<T, EventError> {
            let Some(value) = public else {
                return Err(field("public", "missing"));
            };
            serde_path_to_error::deserialize(value).map_err(|e| {
                let path = e.path().to_string();
                let name = if path == "." {
                    "public".to_owned()
                } else {
                    format!("public.{path}")
                };
                field(name, e.into_inner().to_string())
            })
        }
        Ok(match kind {
            Kind::Received => Public::Received(read(public)?),
            Kind::Decided => Public::Decided(read(public)?),
            Kind::Reviewed => Public::Reviewed(read(public)?),
            Kind::Verified => Public::Verified(read(public)?),
            Kind::Disclosed => Public::Disclosed(read(public)?),
            Kind::Preserved => Public::Preserved(read(public)?),
            Kind::Released => Public::Released(read(public)?),
            Kind::Notified => Public::Notified(read(public)?),
            Kind::Extended => Public::Extended(read(public)?),
            Kind::Registry => Public::Registry(read(public)?),
            Kind::Queried => Public::Queried(read(public)?),
            Kind::Clarified => Public::Clarified(read(public)?),
            // The gateway writes no `public` for these; an empty object
            // (as earlier entries had) reads the same.
            Kind::Withdrawn | Kind::Expired => match public {
                None => no_public(kind),
                Some(Value::Object(m)) if m.is_empty() => no_public(kind),
                Some(_) => {
                    return Err(field(
                        "public",
                        format!("a `{}` entry has no public fields", kind.as_str()),
                    ));
                }
            },
        })
    }
}

fn no_public(kind: Kind) -> Public {
    if kind == Kind::Withdrawn {
        Public::Withdrawn
    } else {
        Public::Expired
    }
}

/// An event entry: the envelope and the public fields of its kind.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The case's public id; `None` exactly for `registry` events.
    pub case: Option<String>,
    /// The event's time cut to the hour, or to the day for deferred entries
    /// (`docs/formats.md`, "Deferred entries").
    pub hour: Timestamp,
    pub public: Public,
    /// The first to the order-level details, then one per target (for
    /// `registry`, one to the change).
    pub commitments: Vec<Commitment>,
}

impl Event {
    /// An event of a case at `at`, cut to the hour, or to the day when
    /// `deferred`.
    pub fn of_case(case: &str, at: Timestamp, deferred: bool, public: Public) -> Self {
        Self {
            case: Some(case.to_owned()),
            hour: cut(at, deferred),
            public,
            commitments: Vec::new(),
        }
    }

    pub fn kind(&self) -> Kind {
        self.public.kind()
    }

    /// The canonical bytes that go into the log.
    pub fn to_entry(&self) -> Result<Vec<u8>, EventError> {
        let mut m = Map::new();
        m.insert("v".into(), ENTRY_VERSION.into());
        m.insert("kind".into(), self.kind().as_str().into());
        if let Some(case) = &self.case {
            m.insert("case".into(), case.clone().into());
        }
        m.insert("hour".into(), self.hour.to_string().into());
        if let Some(public) = self.public.to_value()? {
            m.insert("public".into(), public);
        }
        m.insert(
            "commitments".into(),
            self.commitments
                .iter()
                .map(|c| Value::String(c.to_string()))
                .collect(),
        );
        Ok(canonical::to_vec(&Value::Object(m)))
    }
}

/// `at` cut to the hour, or to the day for deferred entries.
pub fn cut(at: Timestamp, deferred: bool) -> Timestamp {
    if deferred {
        at.floor_day()
    } else {
        at.floor_hour()
    }
}

/// The unit of a restricted entry (`docs/formats.md`, "Restricted entries").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Letter,
    Selector,
    Event,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Letter => "letter",
            Unit::Selector => "selector",
            Unit::Event => "event",
        }
    }
}

/// A restricted entry: national security letter figures, published only
/// in padded batches and counted only in bands.
#[derive(Clone, Debug, PartialEq)]
pub struct Restricted {
    pub unit: Unit,
    /// The half-year, for example `2026-H2`.
    pub period: String,
    pub commitment: Commitment,
}

impl Restricted {
    /// The canonical bytes that go into the log.
    pub fn to_entry(&self) -> Vec<u8> {
        let mut m = Map::new();
        m.insert("v".into(), ENTRY_VERSION.into());
        m.insert("kind".into(), "restricted".into());
        m.insert("unit".into(), self.unit.as_str().into());
        m.insert("period".into(), self.period.clone().into());
        m.insert("commitment".into(), self.commitment.to_string().into());
        canonical::to_vec(&Value::Object(m))
    }
}

/// A log entry.
#[derive(Clone, Debug, PartialEq)]
pub enum Entry {
    Event(Event),
    Restricted(Restricted),
}

impl Entry {
    /// The canonical bytes that go into the log.
    pub fn to_entry(&self) -> Result<Vec<u8>, EventError> {
        match self {
            Entry::Event(e) => e.to_entry(),
            Entry::Restricted(r) => Ok(r.to_entry()),
        }
    }

    /// Reads an entry from the log: canonical JSON, a known version, the
    /// fields of its kind and nothing else.
    pub fn parse(bytes: &[u8]) -> Result<Self, EventError> {
        let value: Value = serde_json::from_slice(bytes).map_err(EventError::Json)?;
        if canonical::to_vec(&value) != bytes {
            return Err(EventError::NotCanonical);
        }
        let Value::Object(mut m) = value else {
            return Err(field("v", "entry is not an object"));
        };
        match m.remove("v") {
            Some(Value::Number(n)) if n.as_u64() == Some(ENTRY_VERSION) => {}
            other => {
                return Err(EventError::Version(
                    other.map_or_else(|| "missing".into(), |v| v.to_string()),
                ));
            }
        }
        let kind = take_str(&mut m, "kind")?;
        let entry = if kind == "restricted" {
            let unit = take_str(&mut m, "unit")?;
            let unit = serde_json::from_value(Value::String(unit.clone()))
                .map_err(|_| field("unit", format!("unknown unit `{unit}`")))?;
            let period = take_str(&mut m, "period")?;
            let commitment = Commitment::parse(&take_str(&mut m, "commitment")?)
                .map_err(|e| rename(e, "commitment"))?;
            Entry::Restricted(Restricted {
                unit,
                period,
                commitment,
            })
        } else {
            let kind = Kind::parse(&kind).ok_or(EventError::Kind(kind))?;
            let case = match m.remove("case") {
                None if !kind.has_case() => None,
                Some(Value::String(s)) if kind.has_case() => Some(s),
                None => return Err(field("case", "missing")),
                Some(Value::String(_)) => {
                    return Err(field("case", "a `registry` entry has no case"));
                }
                Some(_) => return Err(field("case", "not a string")),
            };
            let hour_text = take_str(&mut m, "hour")?;
            let hour = Timestamp::parse(&hour_text).map_err(|e| field("hour", e.to_string()))?;
            if hour.floor_hour() != hour || hour.to_string() != hour_text {
                return Err(field(
                    "hour",
                    format!("`{hour_text}` is not cut to the hour"),
                ));
            }
            let public = Public::from_value(kind, m.remove("public"))?;
            let commitments = match m.remove("commitments") {
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|c| {
                        c.as_str()
                            .ok_or_else(|| field("commitments", "not a string"))
                            .and_then(Commitment::parse)
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                _ => return Err(field("commitments", "missing or not an array")),
            };
            Entry::Event(Event {
                case,
                hour,
                public,
                commitments,
            })
        };
        if let Some(extra) = m.keys().next() {
            return Err(field(extra.clone(), "unknown field in a version 1 entry"));
        }
        Ok(entry)
    }
}

fn rename(e: EventError, name: &str) -> EventError {
    match e {
        EventError::Field { reason, .. } => field(name, reason),
        other => other,
    }
}

fn take_str(m: &mut Map<String, Value>, name: &'static str) -> Result<String, EventError> {
    match m.remove(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(field(name, "not a string")),
        None => Err(field(name, "missing")),
    }
}
