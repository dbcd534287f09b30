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
}

/// A started application.
pub struct App {
    pub state: AppState,
    pub log: writ_tlog::Log,
    /// What demo seeding did, when `--demo`.
    pub seeded: Option<Seeded>,
    stop: Option<oneshot::Sender<()>>,
    publisher: Option<JoinHandle<()>>,
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
