//! Assembling a running application: it opens the store and the log,
//! builds the gateway, spawns the background work of `writ-runtime`
//! (publisher or leader, delivery, sweep, the mailbox) and builds the HTTP state. It runs
//! no loop of its own. `writ serve` and the tests start the server the same
//! way.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::task::JoinHandle;
use writ_gateway::Gateway;
use writ_gateway::demo::Seeded;
use writ_objects::{ObjectsLocation, layout};
use writ_runtime::{Delivery, Leader, Publisher, ShutdownSignal, Sweep};
use writ_store::Store;

use crate::{AppState, ServerConfig};

/// How to start.
#[derive(Clone, Debug)]
pub struct AppOptions {
    /// The data folder: database, log objects, demo files.
    pub data: PathBuf,
    /// `None`: `sqlite://<data>/writ.db`.
    pub database: Option<String>,
    pub demo: bool,
    /// The log's objects folder; `None`: `<data>/objects`.
    pub objects: Option<PathBuf>,
    /// Objects elsewhere than a local folder (`--objects s3://bucket/prefix`);
    /// when set it wins over `objects`.
    pub object_store: Option<ObjectsLocation>,
    /// With PostgreSQL, how often a server that does not sequence the log
    /// asks for the sequencer lease (how soon it takes over from a dead one).
    pub lease_poll: Duration,
    /// With PostgreSQL, how long a sequencer that has stopped answering
    /// keeps the lease, and how long any server's transaction may wait
    /// for it before PostgreSQL rolls it back (`docs/deployment.md`, "A
    /// hung sequencer").
    pub lease_timeout: Duration,
    pub server: ServerConfig,
    /// The log's checkpoint period (maximum merge delay).
    pub log_period: Duration,
    /// The log's signing key when it is kept in a file (`--log-key`);
    /// `None`: kept in the case store.
    pub log_key: Option<writ_tlog::LogKey>,
    /// Where collection reads the provider's data; `None`: the demo mail
    /// service with `--demo`, else no delivery.
    pub connector: Option<ConnectorSpec>,
    /// How long a package may be downloaded once available.
    pub package_ttl: Duration,
    /// How often the delivery worker wakes up when nothing else wakes it.
    pub delivery_tick: Duration,
    /// User notices: channels and the public log URL for receipts. With
    /// `--demo`, notices are also written to `<data>/demo/outbox/`. The
    /// verifier key is filled in from the log.
    pub notice: writ_gateway::notice::NoticeConfig,
    /// Witnesses that cosign the log's checkpoints (`--witness`); `None`:
    /// the log is signed by its key alone.
    pub log_witness: Option<writ_tlog::witnessing::WitnessConfig>,
    /// Agency notifications: SMTP, the public URL their links use, and
    /// whether webhooks may reach loopback. With `--demo`, e-mails are
    /// also written to `<data>/demo/agency-outbox/`.
    pub agency_notices: writ_gateway::agency_notice::AgencyNoticeConfig,
    /// The legal-process mailbox to read (`--imap`); `None`: none.
    pub imap: Option<ImapSpec>,
    /// How often the mailbox is read (`--imap-interval`).
    pub imap_interval: Duration,
}

/// The provider's data source for collection.
pub use writ_runtime::ConnectorSpec;

/// Where the legal-process mailbox is.
pub use writ_runtime::ImapSpec;

impl AppOptions {
    /// Where the objects are: `object_store`, else `objects`, else
    /// `<data>/objects`.
    pub fn objects_location(&self) -> ObjectsLocation {
        match (&self.object_store, &self.objects) {
            (Some(location), _) => location.clone(),
            (None, Some(dir)) => ObjectsLocation::Dir(dir.clone()),
            (None, None) => ObjectsLocation::Dir(layout::objects(&self.data)),
        }
    }

    pub fn new(data: impl Into<PathBuf>) -> Self {
        AppOptions {
            data: data.into(),
            database: None,
            demo: false,
            objects: None,
            object_store: None,
            lease_poll: Duration::from_secs(1),
            lease_timeout: Duration::from_secs(10),
            server: ServerConfig::default(),
            log_period: Duration::from_millis(500),
            log_key: None,
            connector: None,
            package_ttl: Duration::from_secs(30 * 24 * 3600),
            delivery_tick: Duration::from_secs(1),
            notice: writ_gateway::notice::NoticeConfig {
                provider: "Writ".into(),
                log_url: "http://127.0.0.1:8080/log".into(),
                ..Default::default()
            },
            log_witness: None,
            agency_notices: writ_gateway::agency_notice::AgencyNoticeConfig {
                public_url: "http://127.0.0.1:8080".into(),
                provider: "Writ".into(),
                ..Default::default()
            },
            imap: None,
            imap_interval: Duration::from_secs(60),
        }
    }
}

/// Why the application did not start (or, [`StartError::Unfinished`], did
/// not stop cleanly).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("data folder `{0}`: {1}")]
    Data(String, std::io::Error),
    #[error("case store: {0}")]
    Store(#[from] writ_store::StoreError),
    #[error("policy pack: {0}")]
    Policy(String),
    #[error("transparency log: {0}")]
    Log(String),
    #[error("demo data: {0}")]
    Demo(#[from] writ_gateway::GatewayError),
    #[error("connector: {0}")]
    Connector(String),
    #[error("portal challenge key: {0}")]
    PortalKey(String),
    #[error("public URL: {0}")]
    PublicUrl(String),
    /// Shutting down: these background tasks did not finish in time.
    #[error("{0} did not finish in time")]
    Unfinished(String),
}

/// How long [`App::shutdown`] waits for the background tasks to finish.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A started application.
pub struct App {
    pub state: AppState,
    pub log: writ_tlog::Log,
    /// What demo seeding did, when `--demo`.
    pub seeded: Option<Seeded>,
    /// Stops the publisher (or leader); signalled after delivery stopped,
    /// so that its last events are published too.
    stop: ShutdownSignal,
    publisher: Option<JoinHandle<()>>,
    /// Stops delivery and the sweep.
    stop_delivery: ShutdownSignal,
    delivery: Vec<JoinHandle<()>>,
    sequencing: Arc<AtomicBool>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").finish_non_exhaustive()
    }
}

impl App {
    pub async fn start(options: AppOptions) -> Result<App, StartError> {
        std::fs::create_dir_all(&options.data)
            .map_err(|e| StartError::Data(options.data.display().to_string(), e))?;
        let url = options
            .database
            .clone()
            .unwrap_or_else(|| layout::database_url(&options.data));
        // A hung server frees the case rows its open transactions hold
        // within the same bound as the sequencer lease.
        let store = Store::open_with(&url, options.lease_timeout).await?;
        let pack =
            Arc::new(writ_policy::Pack::embedded().map_err(|e| StartError::Policy(e.to_string()))?);
        let engine = move |input: &writ_model::DecisionInput| writ_policy::decide(&pack, input);
        let config = writ_tlog::Config {
            period: options.log_period,
            key: options.log_key.clone(),
            witness: options.log_witness.clone(),
            ..writ_tlog::Config::default()
        };
        let gateway = Gateway::new(store.clone(), Arc::new(engine));
        gateway.set_data_folder(options.data.clone());
        // Officers' passkeys belong to the server's public host.
        gateway
            .set_public_url(&options.agency_notices.public_url)
            .map_err(|e| StartError::PublicUrl(e.to_string()))?;
        // Which witnesses cosign the log is public: a change is logged.
        let (vkeys, quorum) = options.log_witness.as_ref().map_or((Vec::new(), 0), |w| {
            let keys = w.witnesses.iter().map(|x| x.vkey.to_string()).collect();
            (keys, w.quorum)
        });
        gateway
            .record_witnesses(&vkeys, quorum)
            .await
            .map_err(|e| StartError::Log(e.to_string()))?;
        let (stop, stopped) = ShutdownSignal::new();
        let sequencing = Arc::new(AtomicBool::new(false));
        let log_err = |e: &dyn std::fmt::Display| StartError::Log(e.to_string());
        let (log, publisher) = if store.backend() == writ_store::Backend::Postgres {
            // Several servers: each reads the log from the shared objects; the
            // one that holds the lease sequences it.
            let objects = options
                .objects_location()
                .open(layout::LOG)
                .map_err(|e| log_err(&e))?;
            let reader = writ_tlog::trusted_pg::PgStore::reader(&url)
                .await
                .map_err(|e| log_err(&e))?;
            let view = writ_tlog::Log::follow(config.clone(), objects.clone(), Arc::new(reader))
                .await
                .map_err(|e| log_err(&e))?;
            let leader = Leader::new(
                gateway.clone(),
                url.clone(),
                config,
                objects,
                options.lease_poll,
                options.lease_timeout,
                sequencing.clone(),
            );
            (view, tokio::spawn(leader.run(stopped)))
        } else {
            let log = match &options.object_store {
                None if options.objects.is_none() => {
                    writ_tlog::Log::open_dir(&options.data, config).await
                }
                _ => {
                    let objects = options
                        .objects_location()
                        .open(layout::LOG)
                        .map_err(|e| log_err(&e))?;
                    let trusted =
                        writ_tlog::trusted::SqliteStore::open(&layout::database(&options.data))
                            .await
                            .map_err(|e| log_err(&e))?;
                    writ_tlog::Log::open(config, objects, Arc::new(trusted)).await
                }
            }
            .map_err(|e| log_err(&e))?;
            sequencing.store(true, Ordering::SeqCst);
            let publisher = Publisher::new(gateway.clone(), log.clone());
            publisher.reconcile().await;
            (log, tokio::spawn(publisher.run(stopped)))
        };
        // Documents uploaded with orders, beside the packages.
        gateway.set_attachments(
            options
                .objects_location()
                .open(layout::ATTACHMENTS)
                .map_err(|e| log_err(&e))?,
        );
        let seeded = if options.demo {
            Some(gateway.seed_demo(&options.data).await?)
        } else {
            None
        };
        let connector = options
            .connector
            .clone()
            .or(options.demo.then_some(ConnectorSpec::Demo));
        let (stop_delivery, delivery_stopped) = ShutdownSignal::new();
        let mut delivery = Vec::new();
        if let Some(spec) = connector {
            let provider = writ_runtime::provider(&spec, &options.data, &gateway)
                .await
                .map_err(|e| StartError::Connector(e.to_string()))?;
            // Packages beside the log's objects (a folder or a bucket);
            // collections in progress on this machine.
            let location = options.objects_location();
            let packages = location.open(layout::PACKAGES).map_err(|e| log_err(&e))?;
            let work = match &location {
                ObjectsLocation::Dir(dir) => dir.join(layout::WORK),
                ObjectsLocation::S3 { .. } => options.data.join(layout::WORK),
            };
            let mut config = writ_gateway::delivery::DeliveryConfig::new(provider, packages, work);
            config.package_ttl = options.package_ttl;
            config.tick = options.delivery_tick;
            let mut notice = options.notice.clone();
            if options.demo && notice.outbox.is_none() {
                notice.outbox = Some(layout::demo_outbox(&options.data));
            }
            notice.vkey = log.vkey().to_string();
            notice.log = Some(log.clone());
            let mut agencies = options.agency_notices.clone();
            if options.demo && agencies.outbox.is_none() {
                agencies.outbox = Some(layout::demo_agency_outbox(&options.data));
            }
            agencies.allow_loopback |= options.server.webhook_allow_loopback;
            config.agency_notices = agencies;
            if notice.outbox.is_some() || notice.smtp.is_some() || notice.webhook.is_some() {
                config.notices = Some(notice);
            }
            // With several servers only the sequencer delivers and sweeps,
            // so that a case is collected and sealed once.
            let worker = Delivery::new(gateway.clone(), config, sequencing.clone())?;
            let sweep = Sweep::new(gateway.clone(), sequencing.clone(), options.delivery_tick);
            delivery.push(tokio::spawn(worker.run(delivery_stopped.clone())));
            delivery.push(tokio::spawn(sweep.run(delivery_stopped.clone())));
        }
        if let Some(spec) = options.imap.clone() {
            // Like delivery, only the sequencer reads the mailbox, so that
            // servers sharing a database do not all poll it.
            let poller = writ_runtime::MailboxPoller::new(
                gateway.clone(),
                spec,
                options.imap_interval,
                sequencing.clone(),
            );
            delivery.push(tokio::spawn(poller.run(delivery_stopped)));
        }
        let state = AppState::new(gateway, Some(log.clone()), options.server);
        // The portal's challenge key is read (or made) now, so that serving
        // the sign-in page never writes.
        state
            .prepare()
            .await
            .map_err(|e| StartError::PortalKey(e.to_string()))?;
        Ok(App {
            state,
            log,
            seeded,
            stop,
            publisher: Some(publisher),
            stop_delivery,
            delivery,
            sequencing,
        })
    }

    pub fn router(&self) -> axum::Router {
        crate::router(self.state.clone())
    }

    pub fn gateway(&self) -> &Gateway {
        self.state.gateway()
    }

    /// Whether this server sequences the log now (always with SQLite; with
    /// PostgreSQL, while it holds the lease).
    pub fn sequencing(&self) -> bool {
        self.sequencing.load(Ordering::SeqCst)
    }

    /// Publishes what is left in the outbox and closes the log, within
    /// [`SHUTDOWN_GRACE`] in all: whatever of the delivery worker, the
    /// publisher and closing the log has not finished by then is named on
    /// standard error and left behind, and the shutdown ends with
    /// [`StartError::Unfinished`]. Nothing acknowledged is lost that way (an
    /// answer is given only once its change and events are durable, and the
    /// outbox goes to the log at the next start or with the next sequencer),
    /// but the stop was not clean.
    pub async fn shutdown(mut self) -> Result<(), StartError> {
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        let mut unfinished = Vec::new();
        let mut left = |what: &'static str| {
            tracing::warn!(
                task = what,
                grace_secs = SHUTDOWN_GRACE.as_secs(),
                "shutdown: {what} did not finish in time; leaving it"
            );
            unfinished.push(what);
        };
        self.stop_delivery.signal();
        let mut delivery_left = false;
        for d in self.delivery.drain(..) {
            delivery_left |= tokio::time::timeout_at(deadline, d).await.is_err();
        }
        if delivery_left {
            left("the delivery worker");
        }
        self.stop.signal();
        if let Some(p) = self.publisher.take()
            && tokio::time::timeout_at(deadline, p).await.is_err()
        {
            left("the publisher");
        }
        match tokio::time::timeout_at(deadline, self.log.clone().close()).await {
            Ok(closed) => {
                closed.map_err(|e| StartError::Log(e.to_string()))?;
            }
            Err(_) => left("closing the log"),
        }
        if unfinished.is_empty() {
            Ok(())
        } else {
            Err(StartError::Unfinished(unfinished.join(", ")))
        }
    }
}
