//! Writ's application core: intake, decisions, the case lifecycle, review,
//! the agency registry and console users.
//!
//! The server and the command line both call this crate; it knows nothing of
//! HTTP. It stores through `writ-store` and decides through an [`Engine`]
//! (the policy pack in production). Every state change is written with its
//! log events in one transaction (the event outbox), so that an answer is
//! given only once the events are durable; a publisher then sequences them
//! into the transparency log through an [`EventSink`].
//!
//! Case lifecycle (`writ_model::CaseStatus`): `decided` or `in_review` at
//! intake, then `approved` / `narrowed` / `rejected` / `withdrawn`. Every
//! change after intake goes through [`Gateway::change`] with a typed
//! [`lifecycle::Action`]; the pages read through [`read`].

pub mod agency_notice;
pub mod attachments;
pub mod auth;
mod cache;
pub mod canonical;
pub mod certificate;
pub mod delivery;
pub mod demo;
pub mod drafts;
pub mod events;
pub mod health;
mod intake;
pub mod lifecycle;
pub mod mailbox;
pub mod notice;
pub mod officers;
pub mod portal;
pub mod precheck;
pub mod read;
pub mod registry;
pub mod review;
pub mod sink;

use std::sync::Arc;

use writ_model::{Decision, DecisionInput, InputError};
use writ_store::{Store, StoreError};

pub use health::{Health, StorageFault};
pub use intake::{CaseView, Submission, Submitted};
pub use lifecycle::{Action, Actor};
pub use portal::{PortalCase, PortalSession};
pub use sink::{EventSink, OutboxOnly, SinkError, TlogSink};

/// The policy engine, as the gateway sees it: a pure function.
pub trait Engine: Send + Sync {
    fn decide(&self, input: &DecisionInput) -> Decision;
}

impl<F> Engine for F
where
    F: Fn(&DecisionInput) -> Decision + Send + Sync,
{
    fn decide(&self, input: &DecisionInput) -> Decision {
        self(input)
    }
}

/// What went wrong, in terms a caller can map to an answer.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// Malformed or invalid input (HTTP 422).
    #[error("{0}")]
    Input(#[from] InputError),
    /// The request conflicts with the case's state or an earlier request
    /// (HTTP 409).
    #[error("{0}")]
    Conflict(String),
    /// A field of the input names something that conflicts with what is
    /// stored, such as an earlier order that is not there (HTTP 409, with
    /// the field).
    #[error("{0}")]
    ConflictAt(InputError),
    #[error("{0} not found")]
    NotFound(String),
    /// It existed and is gone for good (HTTP 410).
    #[error("{0}")]
    Gone(String),
    /// Authenticated, but not allowed (HTTP 403).
    #[error("{0}")]
    Forbidden(String),
    /// Not authenticated (HTTP 401).
    #[error("{0}")]
    Unauthorized(String),
    /// Too many failed sign-ins for a user name lately (HTTP 429); the
    /// name is refused for `retry_after` more seconds.
    #[error(
        "too many failed sign-ins for this user name; try again in {minutes} min",
        minutes = .retry_after.div_ceil(60)
    )]
    Throttled { retry_after: u64 },
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The storage refused the write (a full or read-only disk, an I/O
    /// error); nothing was recorded, and the same request may succeed later
    /// (HTTP 503).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<writ_events::EventError> for GatewayError {
    fn from(e: writ_events::EventError) -> Self {
        GatewayError::Internal(format!("event: {e}"))
    }
}

impl From<serde_json::Error> for GatewayError {
    fn from(e: serde_json::Error) -> Self {
        GatewayError::Internal(format!("json: {e}"))
    }
}

pub type Result<T, E = GatewayError> = std::result::Result<T, E>;

/// The application: the store, the engine and the intake writer.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    engine: Arc<dyn Engine>,
    intake: intake::Writer,
    health: Arc<health::Tracker>,
    published: tokio::sync::Notify,
    delivery_wake: tokio::sync::Notify,
    delivery: std::sync::OnceLock<Arc<delivery::Delivery>>,
    attachments: std::sync::OnceLock<Arc<dyn writ_objects::ObjectStorage>>,
    agencies: cache::TtlCache<Option<writ_store::AgencyRow>>,
    accounts: cache::TtlCache<Option<String>>,
    /// The portal challenges' MAC key, once read from the case store.
    portal_key: tokio::sync::OnceCell<[u8; 32]>,
    /// The relying party officers' passkeys belong to.
    passkeys: std::sync::OnceLock<webauthn_rs::Webauthn>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").finish_non_exhaustive()
    }
}

impl Gateway {
    /// Starts the gateway on an open store. Must run inside a Tokio runtime:
    /// it spawns the intake writer.
    pub fn new(store: Store, engine: Arc<dyn Engine>) -> Self {
        let health = Arc::new(health::Tracker::default());
        let intake = intake::Writer::start(store.clone(), health.clone());
        Gateway {
            inner: Arc::new(Inner {
                store,
                engine,
                intake,
                health,
                published: tokio::sync::Notify::new(),
                delivery_wake: tokio::sync::Notify::new(),
                delivery: std::sync::OnceLock::new(),
                attachments: std::sync::OnceLock::new(),
                agencies: cache::TtlCache::new(),
                accounts: cache::TtlCache::new(),
                portal_key: tokio::sync::OnceCell::new(),
                passkeys: std::sync::OnceLock::new(),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn engine(&self) -> &dyn Engine {
        self.inner.engine.as_ref()
    }

    /// A registry entry, through the cache.
    pub(crate) async fn agency_row(&self, id: &str) -> Result<Option<writ_store::AgencyRow>> {
        if let Some(hit) = self.inner.agencies.get(id) {
            return Ok(hit);
        }
        let row = self.store().agency(id).await?;
        self.inner.agencies.put(id.to_owned(), row.clone());
        Ok(row)
    }

    /// The account (JSON) an identifier names, through the cache.
    pub(crate) async fn account_body(&self, kind: &str, value: &str) -> Result<Option<String>> {
        let key = format!("{kind}\u{0}{value}");
        if let Some(hit) = self.inner.accounts.get(&key) {
            return Ok(hit);
        }
        let body = self.store().account_by_identifier(kind, value).await?;
        self.inner.accounts.put(key, body.clone());
        Ok(body)
    }

    /// Forgets cached registry entries and keys after a change.
    pub(crate) fn registry_changed(&self) {
        self.inner.agencies.clear();
    }

    /// Forgets cached accounts after a directory change.
    pub fn directory_changed(&self) {
        self.inner.accounts.clear();
    }

    /// Wakes the publisher: new events are in the outbox.
    pub(crate) fn events_written(&self) {
        self.inner.published.notify_one();
        self.inner.delivery_wake.notify_one();
    }

    /// Resolves when new events may be waiting in the outbox.
    pub async fn events_waiting(&self) {
        self.inner.published.notified().await;
    }
}

/// An instant as the case store keeps it: to the second (an order's JSON
/// and a case's times are stored to the second).
pub(crate) fn to_stored(t: writ_model::Timestamp) -> writ_model::Timestamp {
    writ_model::Timestamp::from_second(t.as_second()).unwrap_or(t)
}

/// Now, to the second.
pub(crate) fn stored_now() -> writ_model::Timestamp {
    to_stored(writ_model::Timestamp::now())
}

/// Seconds since the Unix epoch of a timestamp.
pub(crate) fn epoch(t: writ_model::Timestamp) -> i64 {
    t.as_second()
}

pub(crate) fn from_epoch(s: i64) -> Result<writ_model::Timestamp> {
    writ_model::Timestamp::from_second(s)
        .ok_or_else(|| GatewayError::Internal(format!("time `{s}` out of range")))
}

/// `n` random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| GatewayError::Internal(format!("random: {e}")))?;
    Ok(b)
}
