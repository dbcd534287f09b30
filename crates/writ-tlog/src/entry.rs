//! Log entries: the events of `docs/formats.md` ("Transparency log"), encoded as
//! canonical JSON (RFC 8785) and versioned by `v`.
//!
//! An entry carries public fields and commitments to private details. A
//! commitment is SHA-256 over a fresh random 32-byte salt followed by the
//! canonical JSON of the details; the provider keeps the [`Opening`] (salt
//! and details) and can hand it to a court, an auditor or the affected user,
//! who checks it against the entry with [`Opening::verify`].

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use writ_model::Timestamp;

use crate::canonical;

/// The entry format version this code writes and reads.
pub const ENTRY_VERSION: u64 = 1;

/// Errors building or reading entries.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    #[error("entry is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("entry is not in canonical form (RFC 8785)")]
    NotCanonical,
    #[error("unsupported entry version `{0}`")]
    Version(String),
    #[error("entry field `{field}` is invalid: {reason}")]
    Field { field: &'static str, reason: String },
    #[error("no randomness available for a salt: {0}")]
    Random(String),
}

fn field(field: &'static str, reason: impl Into<String>) -> EntryError {
    EntryError::Field {
        field,
        reason: reason.into(),
    }
}

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
}

impl Kind {
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
        }
    }

    fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(Value::String(s.to_owned())).ok()
    }
}

/// A fresh random 32-byte salt. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Salt(pub [u8; 32]);

impl fmt::Debug for Salt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Salt(..)")
    }
}

impl Salt {
    /// A fresh salt from the operating system's randomness.
    pub fn random() -> Result<Self, EntryError> {
        let mut salt = [0u8; 32];
        getrandom::fill(&mut salt).map_err(|e| EntryError::Random(e.to_string()))?;
        Ok(Self(salt))
    }
}

/// A commitment: SHA-256 over salt and canonical JSON, lowercase hex in JSON.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Commitment(pub [u8; 32]);

impl fmt::Debug for Commitment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Commitment({self})")
    }
}

impl fmt::Display for Commitment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::hex::encode(&self.0))
    }
}

impl Commitment {
    /// Reads 64 lowercase hex digits.
    pub fn parse(text: &str) -> Result<Self, EntryError> {
        if text.len() != 64 || text.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(field(
                "commitments",
                format!("`{text}` is not 64 lowercase hex digits"),
            ));
        }
        crate::hex::decode(text)
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(Self)
            .ok_or_else(|| field("commitments", format!("`{text}` is not hex")))
    }
}

impl Serialize for Commitment {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Commitment {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The commitment to `details` under `salt`: SHA-256(salt || JCS(details)).
pub fn commit(salt: &Salt, details: &Value) -> Commitment {
    let mut h = Sha256::new();
    h.update(salt.0);
    h.update(canonical::to_vec(details));
    Commitment(h.finalize().into())
}

/// What opens a commitment: the salt and the private details. A receipt
/// carries it; a verifier recomputes the commitment.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Opening {
    /// The salt, lowercase hex.
    #[serde(with = "salt_hex")]
    pub salt: Salt,
    /// The private details, as committed.
    pub details: Value,
}

impl fmt::Debug for Opening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opening")
            .field("details", &self.details)
            .finish_non_exhaustive()
    }
}

mod salt_hex {
    use super::Salt;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(salt: &Salt, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::hex::encode(&salt.0))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Salt, D::Error> {
        let text = String::deserialize(d)?;
        crate::hex::decode(&text)
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(Salt)
            .ok_or_else(|| serde::de::Error::custom("salt must be 32 bytes of hex"))
    }
}

impl Opening {
    /// Commits to `details` with a fresh salt.
    pub fn new(details: Value) -> Result<Self, EntryError> {
        Ok(Self {
            salt: Salt::random()?,
            details,
        })
    }

    /// The commitment this opening opens.
    pub fn commitment(&self) -> Commitment {
        commit(&self.salt, &self.details)
    }

    /// Whether this opening opens `commitment`.
    pub fn verify(&self, commitment: &Commitment) -> bool {
        self.commitment() == *commitment
    }
}

/// An ordinary event entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub kind: Kind,
    /// The case's public id; absent for `registry` events.
    pub case: Option<String>,
    /// The event's time cut to the hour (to the day for deferred entries).
    pub hour: Timestamp,
    /// Public fields by kind (`docs/formats.md`): counts and codes, never identifiers.
    pub public: Map<String, Value>,
    pub commitments: Vec<Commitment>,
}

impl Event {
    /// An event at `at`, cut to the hour.
    pub fn new(kind: Kind, case: Option<&str>, at: Timestamp) -> Self {
        Self {
            kind,
            case: case.map(str::to_owned),
            hour: at.floor_hour(),
            public: Map::new(),
            commitments: Vec::new(),
        }
    }

    /// Cuts the time to the day, as deferred entries are (`docs/formats.md`,
    /// "Deferred entries"). `due_hour` in the public fields is the caller's.
    pub fn deferred(mut self) -> Self {
        self.hour = self.hour.floor_day();
        self
    }

    /// Sets a public field.
    pub fn public(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.public.insert(key.to_owned(), value.into());
        self
    }

    /// Adds a commitment to `details` with a fresh salt; returns the opening
    /// that the provider keeps.
    pub fn commit(&mut self, details: Value) -> Result<Opening, EntryError> {
        let opening = Opening::new(details)?;
        self.commitments.push(opening.commitment());
        Ok(opening)
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

/// A restricted entry: national security letter figures, only in bands.
#[derive(Clone, Debug, PartialEq)]
pub struct Restricted {
    pub unit: Unit,
    /// The half-year, for example `2026-H2`.
    pub period: String,
    pub commitment: Commitment,
}

/// A log entry.
#[derive(Clone, Debug, PartialEq)]
pub enum Entry {
    Event(Event),
    Restricted(Restricted),
}

impl Entry {
    /// The JSON object of the entry.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("v".into(), ENTRY_VERSION.into());
        match self {
            Entry::Event(e) => {
                m.insert("kind".into(), e.kind.as_str().into());
                if let Some(case) = &e.case {
                    m.insert("case".into(), case.clone().into());
                }
                m.insert("hour".into(), e.hour.to_string().into());
                m.insert("public".into(), Value::Object(e.public.clone()));
                m.insert(
                    "commitments".into(),
                    e.commitments
                        .iter()
                        .map(|c| Value::String(c.to_string()))
                        .collect(),
                );
            }
            Entry::Restricted(r) => {
                m.insert("kind".into(), "restricted".into());
                let unit = match r.unit {
                    Unit::Letter => "letter",
                    Unit::Selector => "selector",
                    Unit::Event => "event",
                };
                m.insert("unit".into(), unit.into());
                m.insert("period".into(), r.period.clone().into());
                m.insert("commitment".into(), r.commitment.to_string().into());
            }
        }
        Value::Object(m)
    }

    /// The canonical bytes that go into the log.
    pub fn to_bytes(&self) -> Vec<u8> {
        canonical::to_vec(&self.to_value())
    }

    /// Reads an entry from the log: canonical JSON, a known version, the
    /// fields of its kind and nothing else.
    pub fn parse(bytes: &[u8]) -> Result<Self, EntryError> {
        let value: Value = serde_json::from_slice(bytes)?;
        if canonical::to_vec(&value) != bytes {
            return Err(EntryError::NotCanonical);
        }
        let Value::Object(mut m) = value else {
            return Err(field("v", "entry is not an object"));
        };
        match m.remove("v") {
            Some(Value::Number(n)) if n.as_u64() == Some(ENTRY_VERSION) => {}
            other => {
                return Err(EntryError::Version(
                    other
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "missing".into()),
                ));
            }
        }
        let kind = take_str(&mut m, "kind")?;
        let entry = if kind == "restricted" {
            let unit = take_str(&mut m, "unit")?;
            let unit = serde_json::from_value(Value::String(unit.clone()))
                .map_err(|_| field("unit", format!("unknown unit `{unit}`")))?;
            let period = take_str(&mut m, "period")?;
            let commitment = Commitment::parse(&take_str(&mut m, "commitment")?)?;
            Entry::Restricted(Restricted {
                unit,
                period,
                commitment,
            })
        } else {
            let kind = Kind::parse(&kind)
                .ok_or_else(|| field("kind", format!("unknown kind `{kind}`")))?;
            let case = match m.remove("case") {
                None => None,
                Some(Value::String(s)) => Some(s),
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
            let public = match m.remove("public") {
                Some(Value::Object(p)) => p,
                _ => return Err(field("public", "missing or not an object")),
            };
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
                kind,
                case,
                hour,
                public,
                commitments,
            })
        };
        if let Some(extra) = m.keys().next() {
            return Err(EntryError::Field {
                field: "v",
                reason: format!("unknown field `{extra}` in a version 1 entry"),
            });
        }
        Ok(entry)
    }
}

fn take_str(m: &mut Map<String, Value>, name: &'static str) -> Result<String, EntryError> {
    match m.remove(name) {
        Some(Value::String(s)) => Ok(s),
        _ => Err(field(name, "missing or not a string")),
    }
}
