//! Sequencing on PostgreSQL, where several servers share the case store and
//! the objects and exactly one, the holder of the sequencer lease, appends.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::oneshot;
use tracing::Instrument as _;
use writ_gateway::{Gateway, TlogSink};
use writ_tlog::trusted_pg::{Lease, PgStore};

use crate::Shutdown;
use crate::publisher::drain;

/// Asks for the lease until it gets it, then opens the log over the lease's
/// connection, records what a previous sequencer appended but did not mark,
/// and publishes the outbox of every server until it stops, loses the
/// lease, or the log fails; then it asks again. It gives the lease back on
/// shutdown.
pub struct Leader {
    gateway: Gateway,
    url: String,
    config: writ_tlog::Config,
    objects: Arc<dyn writ_objects::ObjectStorage>,
    poll: Duration,
    timeout: Duration,
    sequencing: Arc<AtomicBool>,
}

impl Leader {
    /// A leader for the case store at `url` (PostgreSQL), the log's objects
    /// in `objects`. `poll`: how often to ask for a lease another server
    /// holds. `timeout`: how long a holder that has stopped answering keeps
    /// the lease ([`PgStore::try_lease`]). `sequencing` is true while this
    /// server sequences.
    pub fn new(
        gateway: Gateway,
        url: String,
        config: writ_tlog::Config,
        objects: Arc<dyn writ_objects::ObjectStorage>,
        poll: Duration,
        timeout: Duration,
        sequencing: Arc<AtomicBool>,
    ) -> Self {
        Self {
            gateway,
            url,
            config,
            objects,
            poll,
            timeout,
            sequencing,
        }
    }

    pub async fn run(self, shutdown: Shutdown) {
        self.run_inner(shutdown)
            .instrument(tracing::info_span!("leader"))
            .await;
    }

    async fn run_inner(self, mut shutdown: Shutdown) {
        loop {
            if shutdown.requested() {
                return;
            }
            match PgStore::try_lease(&self.url, self.timeout).await {
                Ok(Lease::Held(store)) => {
                    if self.lead(store, &mut shutdown).await {
                        return;
                    }
                }
                Ok(Lease::Taken) => {}
                Err(e) => tracing::warn!(error = %e, "sequencer lease"),
            }
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = tokio::time::sleep(self.poll) => {}
            }
        }
    }

    /// Sequences while the lease holds; true when asked to stop.
    async fn lead(&self, store: PgStore, shutdown: &mut Shutdown) -> bool {
        // The lease is checked by a task of its own from the start: the
        // check is also what keeps the lease connection from going idle
        // while the log opens. `publish` polls the future it is given only
        // while it waits between rounds, and a check suspended there
        // mid-query would keep the lease's connection locked while the
        // round's appends wait for that connection: the publisher would
        // never append nor stop again.
        let (lost, lease_lost) = oneshot::channel::<()>();
        tokio::spawn(watch_lease(store.clone(), lost).in_current_span());
        let log = match writ_tlog::Log::open(
            self.config.clone(),
            self.objects.clone(),
            Arc::new(store.clone()),
        )
        .await
        {
            Ok(log) => log,
            Err(e) => {
                tracing::error!(error = %e, "sequencer: opening the log");
                store.release().await;
                return false;
            }
        };
        self.sequencing.store(true, Ordering::SeqCst);
        let size = log.checkpoint().checkpoint.size;
        tracing::info!(size, "sequencing the log from size {size}");
        if let Err(e) = self.gateway.reconcile(&log).await {
            tracing::warn!(error = %e, "publisher: reconciling the outbox");
        }
        let sink = TlogSink(log.clone());
        let asked = Arc::new(AtomicBool::new(false));
        {
            let asked = asked.clone();
            let mut shutdown = shutdown.clone();
            let log = log.clone();
            let until = async move {
                tokio::select! {
                    _ = shutdown.wait() => asked.store(true, Ordering::SeqCst),
                    reason = log.stopped() => {
                        tracing::error!(%reason, "sequencer stopped");
                    }
                    _ = lease_lost => {
                        tracing::warn!("sequencer lease lost");
                    }
                }
            };
            self.gateway
                .publish(&sink, until)
                .instrument(tracing::info_span!("publisher"))
                .await;
        }
        let asked = asked.load(Ordering::SeqCst) || shutdown.requested();
        if asked {
            drain(&self.gateway, &sink).await;
            if let Err(e) = log.close().await {
                tracing::error!(error = %e, "sequencer: closing the log");
            }
            store.release().await;
        }
        self.sequencing.store(false, Ordering::SeqCst);
        asked
    }
}

/// How long a lease check may take: a check that cannot complete (the
/// lease connection stuck behind a write, or a peer that no longer answers)
/// counts as a lost lease, so that a sequencer never goes on believing it
/// holds one it cannot confirm.
const LEASE_CHECK_LIMIT: Duration = Duration::from_secs(10);

/// Checks every second that `store` still holds the sequencer lease, and
/// says so on `lost` when it does not, or cannot tell within
/// [`LEASE_CHECK_LIMIT`]; returns once nobody listens.
async fn watch_lease(store: PgStore, mut lost: oneshot::Sender<()>) {
    loop {
        tokio::select! {
            _ = lost.closed() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        let held = tokio::time::timeout(LEASE_CHECK_LIMIT, store.holds_lease())
            .await
            .unwrap_or(false);
        if !held {
            let _ = lost.send(());
            return;
        }
    }
}
