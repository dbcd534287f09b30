//! Assembling a running application: store, policy, log, gateway, publisher.
//! `writ serve` and the tests start the server the same way.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use writ_gateway::demo::Seeded;
use writ_gateway::{Gateway, TlogSink};
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
    pub fn new(data: impl Into<PathBuf>) -> Self {
        AppOptions {
            data: data.into(),
            database: None,
            demo: false,
            objects: None,
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
        }
    }
}

/// Why the application did not start.
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
}

/// A started application.
pub struct App {
    pub state: AppState,
    pub log: writ_tlog::Log,
    /// What demo seeding did, when `--demo`.
    pub seeded: Option<Seeded>,
    stop: Option<oneshot::Sender<()>>,
    publisher: Option<JoinHandle<()>>,
    stop_delivery: Option<oneshot::Sender<()>>,
    delivery: Option<JoinHandle<()>>,
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
            ..writ_tlog::Config::default()
        };
        let log = match &options.objects {
            None => writ_tlog::Log::open_dir(&options.data, config).await,
            Some(objects) => match writ_tlog::trusted::SqliteStore::open(&writ_tlog::database_path(
                &options.data,
            ))
            .await
            {
                Ok(trusted) => {
                    writ_tlog::Log::open(
                        config,
                        Arc::new(writ_tlog::storage::LocalDir::new(objects.join("log"))),
                        Arc::new(trusted),
                    )
                    .await
                }
                Err(e) => return Err(StartError::Log(e.to_string())),
            },
        }
        .map_err(|e| StartError::Log(e.to_string()))?;
        let gateway = Gateway::new(store, Arc::new(engine));
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
                let objects = options
                    .objects
                    .clone()
                    .unwrap_or_else(|| options.data.join("objects"));
                let mut config = writ_gateway::delivery::DeliveryConfig::new(provider, objects);
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
                let task = tokio::spawn(async move {
                    gateway
                        .run_delivery(async move {
                            let _ = stopped.await;
                        })
                        .await;
                });
                (Some(stop), Some(task))
            }
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let publisher = {
            let gateway = gateway.clone();
            let sink = TlogSink(log.clone());
            tokio::spawn(async move {
                gateway
                    .publish(&sink, async move {
                        let _ = stopped.await;
                    })
                    .await;
                // Whatever reached the outbox before the stop goes out too.
                while let Ok(n) = gateway.publish_once(&sink).await {
                    if n == 0 {
                        break;
                    }
                }
            })
        };
        Ok(App {
            state: AppState::new(gateway, Some(log.clone()), options.server),
            log,
            seeded,
            stop: Some(stop),
            publisher: Some(publisher),
            stop_delivery,
            delivery,
        })
    }

    pub fn router(&self) -> axum::Router {
        crate::router(self.state.clone())
    }

    pub fn gateway(&self) -> &Gateway {
        self.state.gateway()
    }

    /// Publishes what is left in the outbox and closes the log.
    pub async fn shutdown(mut self) -> Result<(), StartError> {
        if let Some(stop) = self.stop_delivery.take() {
            let _ = stop.send(());
        }
        if let Some(d) = self.delivery.take() {
            let _ = d.await;
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(p) = self.publisher.take() {
            let _ = p.await;
        }
        self.log
            .clone()
            .close()
            .await
            .map_err(|e| StartError::Log(e.to_string()))?;
        Ok(())
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
