//! Delivery (lifecycle steps 5–7) and the sweep of old package objects,
//! and the provider's data source they read.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tracing::Instrument as _;
use writ_gateway::Gateway;
use writ_gateway::delivery::{DeliveryConfig, Provider};
use writ_model::Timestamp;
use writ_objects::layout;

use crate::Shutdown;

/// How often the delivering server sweeps the packages.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

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

/// The provider's data source could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ProviderError(pub String);

/// Opens the provider's data source and its holds table.
pub async fn provider(
    spec: &ConnectorSpec,
    data: &Path,
    gateway: &Gateway,
) -> Result<Provider, ProviderError> {
    use writ_connect::{Connector, Holds};
    let fail = |e: &dyn std::fmt::Display| ProviderError(e.to_string());
    let (connector, holds): (Arc<dyn Connector>, Holds) = match spec {
        ConnectorSpec::Demo => {
            let mail = writ_connect::demo::DemoMail::open(&layout::demo_mail(data))
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
    Ok(Provider { connector, holds })
}

/// The delivery worker: a pass whenever a case changes, and at least every
/// tick, while `active` says this server is the one that delivers (with
/// several servers only the sequencer delivers, so that a case is collected
/// and sealed once). A pass also sends the user notices that are due.
pub struct Delivery {
    gateway: Gateway,
    active: Arc<AtomicBool>,
    tick: Duration,
}

impl Delivery {
    /// Turns on delivery in `gateway` with `config`; the worker runs once
    /// [`Delivery::run`] is called.
    pub fn new(
        gateway: Gateway,
        config: DeliveryConfig,
        active: Arc<AtomicBool>,
    ) -> Result<Self, writ_gateway::GatewayError> {
        let tick = config.tick;
        gateway.enable_delivery(config)?;
        Ok(Self {
            gateway,
            active,
            tick,
        })
    }

    pub async fn run(self, shutdown: Shutdown) {
        self.run_inner(shutdown)
            .instrument(tracing::info_span!("delivery"))
            .await;
    }

    async fn run_inner(self, mut shutdown: Shutdown) {
        loop {
            if !self.active.load(Ordering::SeqCst) {
                tokio::select! {
                    _ = shutdown.wait() => return,
                    _ = tokio::time::sleep(self.tick) => continue,
                }
            }
            match self.gateway.deliver_once().await {
                // More may be waiting: go again at once.
                Ok(pass) if pass.work() > 0 => {
                    tokio::task::yield_now().await;
                    if shutdown.requested() {
                        return;
                    }
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "delivery pass failed"),
            }
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = self.gateway.delivery_wanted() => {}
                _ = tokio::time::sleep(self.tick) => {}
            }
        }
    }
}

/// Deletes package objects no package row names ([`Gateway::sweep_packages`])
/// each time this server becomes the one that delivers, and every hour while
/// it is.
pub struct Sweep {
    gateway: Gateway,
    active: Arc<AtomicBool>,
    tick: Duration,
}

impl Sweep {
    /// A sweep of the packages of `gateway`, whose delivery is enabled;
    /// `tick`: how often it looks at `active`.
    pub fn new(gateway: Gateway, active: Arc<AtomicBool>, tick: Duration) -> Self {
        Self {
            gateway,
            active,
            tick,
        }
    }

    pub async fn run(self, shutdown: Shutdown) {
        self.run_inner(shutdown)
            .instrument(tracing::info_span!("sweep"))
            .await;
    }

    async fn run_inner(self, mut shutdown: Shutdown) {
        // When this server last swept, since it last became the one that
        // delivers.
        let mut swept: Option<Instant> = None;
        loop {
            if !self.active.load(Ordering::SeqCst) {
                swept = None;
            } else if swept.is_none_or(|at| at.elapsed() >= SWEEP_EVERY) {
                swept = Some(Instant::now());
                match self.gateway.sweep_packages(Timestamp::now()).await {
                    Ok(0) => {}
                    Ok(removed) => tracing::info!(removed, "swept old package objects"),
                    Err(e) => tracing::warn!(error = %e, "cannot sweep the packages"),
                }
            }
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = tokio::time::sleep(self.tick) => {}
            }
        }
    }
}
