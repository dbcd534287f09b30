//! The publisher of a single server (SQLite): moves the outbox into the log
//! it sequences.

use tracing::Instrument as _;
use writ_gateway::{Gateway, TlogSink};

use crate::Shutdown;

/// Publishes the outbox into a log this server sequences, until shutdown;
/// then appends whatever reached the outbox before it.
pub struct Publisher {
    gateway: Gateway,
    log: writ_tlog::Log,
}

impl Publisher {
    pub fn new(gateway: Gateway, log: writ_tlog::Log) -> Self {
        Self { gateway, log }
    }

    /// Marks the events that an earlier run appended but had not marked, so
    /// that none is logged twice. Call before [`Publisher::run`] and before
    /// anything else appends.
    pub async fn reconcile(&self) {
        if let Err(e) = self.gateway.reconcile(&self.log).await {
            tracing::warn!(error = %e, "publisher: reconciling the outbox");
        }
    }

    pub async fn run(self, mut shutdown: Shutdown) {
        let Self { gateway, log } = self;
        async move {
            let sink = TlogSink(log);
            gateway
                .publish(&sink, async move { shutdown.wait().await })
                .await;
            // Whatever reached the outbox before the stop goes out too.
            drain(&gateway, &sink).await;
            tracing::debug!("publisher stopped");
        }
        .instrument(tracing::info_span!("publisher"))
        .await;
    }
}

/// Appends whatever is left in the outbox.
pub(crate) async fn drain(gateway: &Gateway, sink: &TlogSink) {
    while let Ok(n) = gateway.publish_once(sink).await {
        if n == 0 {
            break;
        }
    }
}
