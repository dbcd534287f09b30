//! Where events go after the outbox: the transparency log.
//!
//! Events are durable in the case store's outbox as soon as the change that
//! caused them commits. The publisher reads them in order and appends them
//! to an [`EventSink`] (the Merkle log), then records each entry's index.
//! Deferred events stay in the outbox until their batch is due.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use writ_model::{EventState, Timestamp};

use crate::Gateway;

#[derive(Debug, thiserror::Error)]
#[error("event sink: {0}")]
pub struct SinkError(pub String);

pub type SinkFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u64>, SinkError>> + Send + 'a>>;

/// Appends log entries durably and returns their indexes, in order.
pub trait EventSink: Send + Sync {
    fn append<'a>(&'a self, entries: &'a [Vec<u8>]) -> SinkFuture<'a>;
}

/// The sink used when no Merkle log is attached: the outbox itself is the
/// durable, ordered record, and each event's index is its position in it.
/// Indexes continue across restarts from the store.
#[derive(Debug)]
pub struct OutboxOnly {
    next: tokio::sync::Mutex<Option<u64>>,
    store: writ_store::Store,
}

impl OutboxOnly {
    pub fn new(store: writ_store::Store) -> Self {
        OutboxOnly {
            next: tokio::sync::Mutex::new(None),
            store,
        }
    }
}

impl EventSink for OutboxOnly {
    fn append<'a>(&'a self, entries: &'a [Vec<u8>]) -> SinkFuture<'a> {
        Box::pin(async move {
            let mut next = self.next.lock().await;
            let start = match *next {
                Some(n) => n,
                None => {
                    let counts = self
                        .store
                        .event_counts()
                        .await
                        .map_err(|e| SinkError(e.to_string()))?;
                    counts
                        .iter()
                        .filter(|(state, _)| state == EventState::Logged.as_str())
                        .map(|(_, n)| u64::try_from(*n).unwrap_or(0))
                        .sum()
                }
            };
            let indexes: Vec<u64> = (start..start + entries.len() as u64).collect();
            *next = Some(start + entries.len() as u64);
            Ok(indexes)
        })
    }
}

impl Gateway {
    /// Moves pending events from the outbox into the sink until `stop`
    /// resolves. Wakes on new events, and at least once a second.
    pub async fn publish(&self, sink: &dyn EventSink, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        let mut last_release: Option<std::time::Instant> = None;
        loop {
            if last_release.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
                last_release = Some(std::time::Instant::now());
                if let Err(e) = self.release_deferred(Timestamp::now()).await {
                    tracing::warn!("publisher: releasing deferred events: {e}");
                }
            }
            match self.publish_once(sink).await {
                Ok(n) => {
                    self.inner.health.published();
                    if n > 0 {
                        continue;
                    }
                }
                Err(e) => {
                    tracing::warn!("publisher: {e}");
                    self.inner.health.publisher_failed(e.to_string());
                }
            }
            tokio::select! {
                _ = &mut stop => return,
                _ = self.events_waiting() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    /// Releases the deferred events of cases whose reason for secrecy has
    /// passed (`docs/formats.md`, "Deferred entries"): the secrecy order lapsed
    /// or was lifted, or the half-year of the case closed. The cases go out
    /// in random order. National security letters stay: their events are
    /// published only in the banded `restricted` batches.
    pub async fn release_deferred(&self, now: Timestamp) -> crate::Result<usize> {
        let mut due = Vec::new();
        for case_id in self.store().deferred_cases().await? {
            let Some(row) = self.store().case(&case_id).await? else {
                continue;
            };
            let order: writ_model::Order = serde_json::from_str(&row.order_json)?;
            if order.instrument == writ_model::Instrument::NationalSecurityLetter {
                continue;
            }
            let decision: writ_model::Decision = serde_json::from_str(&row.decision)?;
            let received = crate::from_epoch(row.created_at)?;
            let half_closed = half_year(received) != half_year(now);
            if half_closed || !crate::events::deferred(&order, &decision, now) {
                due.push((crate::random_bytes::<8>()?, case_id));
            }
        }
        if due.is_empty() {
            return Ok(0);
        }
        due.sort();
        let cases: Vec<String> = due.into_iter().map(|(_, c)| c).collect();
        let n = self.store().release_deferred(&cases).await?;
        self.events_written();
        Ok(n)
    }

    /// Appends one batch of pending events; returns how many.
    pub async fn publish_once(&self, sink: &dyn EventSink) -> crate::Result<usize> {
        let pending = self.store().pending_events(PUBLISH_BATCH).await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let entries: Vec<Vec<u8>> = pending
            .iter()
            .map(|e| e.entry.as_bytes().to_vec())
            .collect();
        let indexes = sink
            .append(&entries)
            .await
            .map_err(|e| crate::GatewayError::Internal(e.to_string()))?;
        let logged: Vec<(i64, i64)> = pending
            .iter()
            .zip(indexes)
            .map(|(e, i)| (e.seq, i64::try_from(i).unwrap_or(i64::MAX)))
            .collect();
        self.store().mark_logged(&logged).await?;
        Ok(logged.len())
    }
}

/// Most events one publishing round appends.
const PUBLISH_BATCH: i64 = 4096;

impl Gateway {
    /// Records the log indexes of events that reached the log but not the
    /// outbox's books: the publisher appends a batch, then marks it logged,
    /// and a crash (or a sequencer that lost its lease) in between leaves
    /// the batch appended and still pending. Run before publishing with a
    /// newly opened log, so that such events are not appended twice. Only
    /// the tail past the highest recorded index can be affected, and it is at
    /// most one batch long; entries are matched to pending events by their
    /// bytes (each carries fresh random salts). Returns how many were marked.
    pub async fn reconcile(&self, log: &writ_tlog::Log) -> crate::Result<usize> {
        let internal = |e: writ_tlog::Error| crate::GatewayError::Internal(e.to_string());
        let size = log.publish_now().await.map_err(internal)?.checkpoint.size;
        let next = match self.store().max_log_index().await? {
            Some(i) => u64::try_from(i).unwrap_or(0) + 1,
            None => 0,
        };
        if next >= size {
            return Ok(0);
        }
        let from = next.max(size.saturating_sub(PUBLISH_BATCH as u64));
        let pending = self.store().pending_events(2 * PUBLISH_BATCH).await?;
        let mut by_entry: std::collections::HashMap<&str, std::collections::VecDeque<i64>> =
            std::collections::HashMap::new();
        for e in &pending {
            by_entry
                .entry(e.entry.as_str())
                .or_default()
                .push_back(e.seq);
        }
        let mut logged = Vec::new();
        for index in from..size {
            let Some(bytes) = log.reader().entry(index).await.map_err(internal)? else {
                continue;
            };
            let Ok(text) = std::str::from_utf8(&bytes) else {
                continue;
            };
            if let Some(seq) = by_entry.get_mut(text).and_then(|q| q.pop_front()) {
                logged.push((seq, i64::try_from(index).unwrap_or(i64::MAX)));
            }
        }
        logged.sort_unstable();
        self.store().mark_logged(&logged).await?;
        Ok(logged.len())
    }
}

/// The transparency log as the sink: appends are durable once acknowledged
/// (the log's own group commit).
#[derive(Debug, Clone)]
pub struct TlogSink(pub writ_tlog::Log);

impl EventSink for TlogSink {
    fn append<'a>(&'a self, entries: &'a [Vec<u8>]) -> SinkFuture<'a> {
        Box::pin(async move {
            let range = self
                .0
                .append_batch(entries.to_vec())
                .await
                .map_err(|e| SinkError(e.to_string()))?;
            Ok(range.collect())
        })
    }
}

/// `2026-H2` and the like.
fn half_year(t: Timestamp) -> String {
    let date = t.date_string();
    let month: u32 = date.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(1);
    let year = date.get(..4).unwrap_or("0000");
    format!("{year}-H{}", if month <= 6 { 1 } else { 2 })
}
