//! Assembling a running application: store, policy, log, gateway, publisher.
//! `writ serve` and the tests start the server the same way.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use writ_gateway::demo::Seeded;
use writ_gateway::{Gateway, TlogSink};
use writ_model::Timestamp;
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
    pub object_store: Option<writ_tlog::storage::ObjectsLocation>,
    /// With PostgreSQL, how often a server that does not sequence the log
    /// asks for the sequencer lease (how soon it takes over from a dead one).
    pub lease_poll: Duration,
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
}

/// The provider's data source for collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectorSpec {
    /// The demo mail service in `<data>/demo/mail/`.
    Demo,
    /// SQL queries per category, configured in a TOML file; holds live in
    /// the provider's database beside the data.
    Sql(PathBuf),
    /// A provider endpoint that streams NDJSON; holds live in the case
    /// store.
    Http { url: String, token: Option<String> },
}

impl std::str::FromStr for ConnectorSpec {
    type Err = String;

    /// `demo`, `sql:FILE`, or an `http://` / `https://` URL.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "demo" {
            Ok(Self::Demo)
        } else if let Some(path) = s.strip_prefix("sql:") {
            Ok(Self::Sql(PathBuf::from(path)))
        } else if s.starts_with("http://") || s.starts_with("https://") {
            Ok(Self::Http {
                url: s.to_owned(),
                token: std::env::var("WRIT_CONNECTOR_TOKEN").ok(),
            })
        } else {
            Err(format!(
                "unknown connector `{s}`: expected `demo`, `sql:FILE` or an http(s) URL"
            ))
        }
    }
}

impl AppOptions {
    /// Where the objects are: `object_store`, else `objects`, else
    /// `<data>/objects`.
    pub fn objects_location(&self) -> writ_tlog::storage::ObjectsLocation {
        match (&self.object_store, &self.objects) {
            (Some(location), _) => location.clone(),
            (None, Some(dir)) => writ_tlog::storage::ObjectsLocation::Dir(dir.clone()),
            (None, None) => writ_tlog::storage::ObjectsLocation::Dir(self.data.join("objects")),
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
    stop: watch::Sender<bool>,
    publisher: Option<JoinHandle<()>>,
    stop_delivery: Option<oneshot::Sender<()>>,
    delivery: Option<JoinHandle<()>>,
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
            .unwrap_or_else(|| format!("sqlite://{}", options.data.join("writ.db").display()));
        let store = Store::open(&url).await?;
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
        let (stop, stopped) = watch::channel(false);
        let sequencing = Arc::new(AtomicBool::new(false));
        let (log, publisher) = if store.backend() == writ_store::Backend::Postgres {
            // Several servers: each reads the log from the shared objects; the
            // one that holds the lease sequences it.
            let objects = options
                .objects_location()
                .open("log")
                .map_err(|e| StartError::Log(e.to_string()))?;
            let reader = writ_tlog::trusted_pg::PgStore::reader(&url)
                .await
                .map_err(|e| StartError::Log(e.to_string()))?;
            let view = writ_tlog::Log::follow(config.clone(), objects.clone(), Arc::new(reader))
                .await
                .map_err(|e| StartError::Log(e.to_string()))?;
            let leader = Leader {
                gateway: gateway.clone(),
                url: url.clone(),
                config,
                objects,
                poll: options.lease_poll,
                sequencing: sequencing.clone(),
            };
            (view, tokio::spawn(leader.run(stopped)))
        } else {
            let log = match &options.object_store {
                None if options.objects.is_none() => {
                    writ_tlog::Log::open_dir(&options.data, config).await
                }
                _ => {
                    let objects = options
                        .objects_location()
                        .open("log")
                        .map_err(|e| StartError::Log(e.to_string()))?;
                    match writ_tlog::trusted::SqliteStore::open(&writ_tlog::database_path(
                        &options.data,
                    ))
                    .await
                    {
                        Ok(trusted) => {
                            writ_tlog::Log::open(config, objects, Arc::new(trusted)).await
                        }
                        Err(e) => return Err(StartError::Log(e.to_string())),
                    }
                }
            }
            .map_err(|e| StartError::Log(e.to_string()))?;
            sequencing.store(true, Ordering::SeqCst);
            if let Err(e) = gateway.reconcile(&log).await {
                eprintln!(
                    "{} publisher: reconciling the outbox: {e}",
                    Timestamp::now()
                );
            }
            let publisher = {
                let gateway = gateway.clone();
                let sink = TlogSink(log.clone());
                let mut stopped = stopped;
                tokio::spawn(async move {
                    gateway
                        .publish(&sink, async move {
                            let _ = stopped.wait_for(|s| *s).await;
                        })
                        .await;
                    // Whatever reached the outbox before the stop goes out too.
                    drain(&gateway, &sink).await;
                })
            };
            (log, publisher)
        };
        let seeded = if options.demo {
            Some(gateway.seed_demo(&options.data).await?)
        } else {
            None
        };
        let connector = options
            .connector
            .clone()
            .or(options.demo.then_some(ConnectorSpec::Demo));
        let (stop_delivery, delivery) = match connector {
            None => (None, None),
            Some(spec) => {
                let provider = provider(&spec, &options.data, &gateway).await?;
                // Packages beside the log's objects (a folder or a bucket);
                // collections in progress on this machine.
                let location = options.objects_location();
                let packages = location
                    .open("packages")
                    .map_err(|e| StartError::Log(e.to_string()))?;
                let work = match &location {
                    writ_tlog::storage::ObjectsLocation::Dir(dir) => dir.join("work"),
                    writ_tlog::storage::ObjectsLocation::S3 { .. } => options.data.join("work"),
                };
                let mut config =
                    writ_gateway::delivery::DeliveryConfig::new(provider, packages, work);
                config.package_ttl = options.package_ttl;
                config.tick = options.delivery_tick;
                let mut notice = options.notice.clone();
                if options.demo && notice.outbox.is_none() {
                    notice.outbox = Some(options.data.join("demo").join("outbox"));
                }
                notice.vkey = log.vkey().to_string();
                if notice.outbox.is_some() || notice.smtp.is_some() || notice.webhook.is_some() {
                    config.notices = Some(notice);
                }
                gateway.enable_delivery(config)?;
                let (stop, stopped) = oneshot::channel::<()>();
                let gateway = gateway.clone();
                // With several servers only the sequencer delivers, so that
                // a case is collected and sealed once.
                let active = sequencing.clone();
                let task = tokio::spawn(async move {
                    gateway
                        .run_delivery(
                            async move {
                                let _ = stopped.await;
                            },
                            move || active.load(Ordering::SeqCst),
                        )
                        .await;
                });
                (Some(stop), Some(task))
            }
        };
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
            eprintln!(
                "{} shutdown: {what} did not finish within {} s; leaving it",
                Timestamp::now(),
                SHUTDOWN_GRACE.as_secs()
            );
            unfinished.push(what);
        };
        if let Some(stop) = self.stop_delivery.take() {
            let _ = stop.send(());
        }
        if let Some(d) = self.delivery.take()
            && tokio::time::timeout_at(deadline, d).await.is_err()
        {
            left("the delivery worker");
        }
        let _ = self.stop.send(true);
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

/// Opens the provider's data source and its holds table.
async fn provider(
    spec: &ConnectorSpec,
    data: &std::path::Path,
    gateway: &Gateway,
) -> Result<writ_gateway::delivery::Provider, StartError> {
    use writ_connect::{Connector, Holds};
    let fail = |e: &dyn std::fmt::Display| StartError::Connector(e.to_string());
    let (connector, holds): (Arc<dyn Connector>, Holds) = match spec {
        ConnectorSpec::Demo => {
            let mail = writ_connect::demo::DemoMail::open(&data.join("demo").join("mail"))
                .await
                .map_err(|e| fail(&e))?;
            let holds = mail.holds().clone();
            (Arc::new(mail), holds)
        }
        ConnectorSpec::Sql(path) => {
            let config = writ_connect::sql::SqlConfig::load(path).map_err(|e| fail(&e))?;
            let holds = Holds::open(&config.database).await.map_err(|e| fail(&e))?;
            (
                Arc::new(writ_connect::sql::SqlConnector::new(config)),
                holds,
            )
        }
        ConnectorSpec::Http { url, token } => {
            let holds = Holds::with_pool(gateway.store().pool().clone())
                .await
                .map_err(|e| fail(&e))?;
            (
                Arc::new(writ_connect::http::HttpConnector::new(url, token.clone())),
                holds,
            )
        }
    };
    Ok(writ_gateway::delivery::Provider { connector, holds })
}

/// Appends whatever is left in the outbox.
async fn drain(gateway: &Gateway, sink: &TlogSink) {
    while let Ok(n) = gateway.publish_once(sink).await {
        if n == 0 {
            break;
        }
    }
}

/// Sequencing on PostgreSQL: asks for the lease until it gets it, then opens
/// the log over the lease's connection, records what a previous sequencer
/// appended but did not mark, and publishes the outbox of every server
/// until it stops, loses the lease, or the log fails; then it asks again.
struct Leader {
    gateway: Gateway,
    url: String,
    config: writ_tlog::Config,
    objects: Arc<dyn writ_tlog::storage::ObjectStorage>,
    poll: Duration,
    sequencing: Arc<AtomicBool>,
}

impl Leader {
    async fn run(self, mut stop: watch::Receiver<bool>) {
        use writ_tlog::trusted_pg::{Lease, PgStore};
        loop {
            if *stop.borrow() {
                return;
            }
            match PgStore::try_lease(&self.url).await {
                Ok(Lease::Held(store)) => {
                    if self.lead(store, &mut stop).await {
                        return;
                    }
                }
                Ok(Lease::Taken) => {}
                Err(e) => eprintln!("{} sequencer lease: {e}", Timestamp::now()),
            }
            tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                _ = tokio::time::sleep(self.poll) => {}
            }
        }
    }

    /// Sequences while the lease holds; true when asked to stop.
    async fn lead(
        &self,
        store: writ_tlog::trusted_pg::PgStore,
        stop: &mut watch::Receiver<bool>,
    ) -> bool {
        let log = match writ_tlog::Log::open(
            self.config.clone(),
            self.objects.clone(),
            Arc::new(store.clone()),
        )
        .await
        {
            Ok(log) => log,
            Err(e) => {
                eprintln!("{} sequencer: opening the log: {e}", Timestamp::now());
                store.release().await;
                return false;
            }
        };
        self.sequencing.store(true, Ordering::SeqCst);
        eprintln!(
            "{} sequencing the log from size {}",
            Timestamp::now(),
            log.checkpoint().checkpoint.size
        );
        if let Err(e) = self.gateway.reconcile(&log).await {
            eprintln!(
                "{} publisher: reconciling the outbox: {e}",
                Timestamp::now()
            );
        }
        let sink = TlogSink(log.clone());
        let asked = Arc::new(AtomicBool::new(false));
        {
            // The lease is checked by a task of its own. `publish` polls the
            // future it is given only while it waits between rounds, and a
            // check suspended there mid-query would keep the lease's
            // connection locked while the round's appends wait for that
            // connection: the publisher would never append nor stop again.
            let (lost, lease_lost) = oneshot::channel::<()>();
            tokio::spawn(watch_lease(store.clone(), lost));
            let asked = asked.clone();
            let mut stop = stop.clone();
            let log = log.clone();
            let until = async move {
                tokio::select! {
                    _ = stop.wait_for(|s| *s) => asked.store(true, Ordering::SeqCst),
                    reason = log.stopped() => {
                        eprintln!("{} sequencer stopped: {reason}", Timestamp::now());
                    }
                    _ = lease_lost => {
                        eprintln!("{} sequencer lease lost", Timestamp::now());
                    }
                }
            };
            self.gateway.publish(&sink, until).await;
        }
        let asked = asked.load(Ordering::SeqCst) || *stop.borrow();
        if asked {
            drain(&self.gateway, &sink).await;
            if let Err(e) = log.close().await {
                eprintln!("{} sequencer: closing the log: {e}", Timestamp::now());
            }
            store.release().await;
        }
        self.sequencing.store(false, Ordering::SeqCst);
        asked
    }
}

/// Checks every second that `store` still holds the sequencer lease, and
/// says so on `lost` when it does not; returns once nobody listens.
async fn watch_lease(store: writ_tlog::trusted_pg::PgStore, mut lost: oneshot::Sender<()>) {
    loop {
        tokio::select! {
            _ = lost.closed() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        if !store.holds_lease().await {
            let _ = lost.send(());
            return;
        }
    }
}
