//! Connectors to the provider's data, and the rules that bound what they may
//! hand over.
//!
//! A [`Connector`] streams the records it holds for one account, one
//! category and a date range. Three are built in: the demo mail service
//! ([`demo`]), SQL queries configured per category ([`sql`]) and a provider
//! endpoint that streams NDJSON ([`http`]).
//!
//! **Connectors are not trusted to respect scope.** Every record reaches a
//! package through [`Scope::records`], the one place that checks the pair was
//! granted and drops any record of another account, another category or
//! outside the order's date range ([`scope`]).
//!
//! [`collect()`] drives a connector over a job's granted pairs, spools the
//! records durably so that an interrupted collection resumes where it
//! stopped, and seals the package with `writ-seal`.
//!
//! Legal holds ([`holds`]) freeze data in the granted categories until a
//! date; the demo mail service's deletion path refuses to delete held data.

pub mod collect;
pub mod demo;
pub mod holds;
pub mod http;
pub mod scope;
pub mod sql;

use writ_model::order::DateRange;
use writ_model::{Category, Timestamp};

pub use collect::{CollectError, Collected, Job, collect};
pub use holds::{Hold, HoldError, Holds};
pub use scope::{Dropped, Scope, ScopeError};

/// One record of the provider's data.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The account the connector says it belongs to.
    pub account: String,
    /// The category the connector says it belongs to.
    pub category: Category,
    /// When it happened; `None` only for a subscriber profile, which
    /// describes the account as it stands.
    pub at: Option<Timestamp>,
    /// The record as it goes into the package, one JSON line.
    pub data: Json,
}

/// A record's JSON exactly as it goes into a package: one JSON value on one
/// line, without the newline that ends it.
///
/// Built from a value ([`Json::of`], compact, as `serde_json` writes it) or
/// from a line a provider sent ([`Json::line`], kept as sent once it is known
/// to be a JSON object), so that records a connector already holds as JSON
/// reach the package without being parsed into values and written again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Json(String);

impl Json {
    /// `value` written as compact JSON.
    pub fn of<T: serde::Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        // Compact output escapes every newline inside strings, so it is one
        // line.
        serde_json::to_string(value).map(Self)
    }

    /// A line that holds one JSON object, as it is, without surrounding
    /// whitespace. Anything else, a newline inside it included, is refused.
    pub fn line(line: &str) -> Result<Self, serde_json::Error> {
        Self::read::<serde::de::IgnoredAny>(line).map(|(json, _)| json)
    }

    /// [`Json::line`], reading `T` from the object in the same pass: the
    /// fields `T` names are read, the others checked and skipped.
    pub fn read<T: serde::de::DeserializeOwned>(
        line: &str,
    ) -> Result<(Self, T), serde_json::Error> {
        let text = line.trim_matches(|c: char| c.is_ascii_whitespace());
        if text.contains('\n') {
            return Err(serde::de::Error::custom(
                "a newline inside a record would split it",
            ));
        }
        if !text.starts_with('{') {
            return Err(serde::de::Error::custom("the record is not an object"));
        }
        let fields = serde_json::from_str(text)?;
        Ok((Self(text.to_owned()), fields))
    }

    /// JSON that its maker has checked or written itself: one value, no
    /// raw newline, no surrounding whitespace.
    pub(crate) fn trusted(text: String) -> Self {
        debug_assert!(!text.contains('\n'));
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The record parsed, for reading its fields.
    pub fn value(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(&self.0)
    }
}

/// A stream of records.
pub type RecordStream<'a> = Box<dyn Iterator<Item = Result<Record, ConnectError>> + Send + 'a>;

/// A source of the provider's data.
///
/// `records` is blocking: a connector may do network or disk IO while the
/// stream is read. Call it from a thread that may block (in an async server,
/// `tokio::task::spawn_blocking`).
pub trait Connector: Send + Sync {
    /// The records of `account` in `category`, within `range` when given.
    /// The range is a hint that lets a source skip what is outside it; the
    /// caller filters again ([`Scope`]).
    fn records(
        &self,
        account: &str,
        category: Category,
        range: Option<DateRange>,
    ) -> Result<RecordStream<'_>, ConnectError>;
}

/// What can go wrong while reading the provider's data.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("no source is configured for category `{0}`")]
    NotConfigured(Category),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("http: {0}")]
    Http(String),
    #[error("provider protocol: {0}")]
    Protocol(String),
    #[error("invalid connector configuration: {0}")]
    Config(String),
    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}
