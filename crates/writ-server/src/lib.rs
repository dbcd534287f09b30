//! Writ's HTTP API (axum): the only crate that knows HTTP.
//!
//! Agency routes (`/v1/orders`, `/v1/cases...`) authenticate every request
//! by an HTTP Message Signature ([`httpsig`]); review routes
//! (`/v1/review/...`) by a console user's personal access token; the log
//! (`/log/...`), `/transparency`, `/healthz`, `/metrics` and `/openapi.json`
//! are public.
//! Every error is an RFC 9457 problem ([`error::AppError`]).

mod api;
pub mod app;
pub mod conn;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod httpsig;
mod limits;
mod metrics;
mod pages;
mod routes;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use writ_gateway::Gateway;

pub use error::AppError;
use limits::RateLimiter;
use metrics::Metrics;

/// How the server limits its callers.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Requests a second per agency (every agency route and the portal); 0
    /// turns the limit off.
    pub rate_limit: u32,
    /// The burst an agency may send at once.
    pub burst: u32,
    /// The largest request body, in bytes.
    pub body_limit: usize,
    /// Mark the console's and portal's session cookies `Secure` (behind
    /// TLS, as deployed).
    pub secure_cookies: bool,
    /// How long a personal access token other than a console session
    /// lasts, in seconds.
    pub token_ttl: i64,
    /// Timeouts and the connection limit of the HTTP server.
    pub conn: conn::ConnLimits,
    /// The provider's name as agencies and courts read it.
    pub provider: String,
    /// The wording of certificates of authenticity.
    pub certificate: writ_gateway::certificate::CertificateTemplate,
    /// Let admins set agency webhooks on loopback addresses (tests and a
    /// local demo only).
    pub webhook_allow_loopback: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            rate_limit: 50,
            burst: 500,
            body_limit: 1024 * 1024,
            secure_cookies: false,
            token_ttl: writ_gateway::auth::DEFAULT_TOKEN_SECONDS,
            conn: conn::ConnLimits::default(),
            provider: "Writ".into(),
            certificate: writ_gateway::certificate::CertificateTemplate::federal(),
            webhook_allow_loopback: false,
        }
    }
}

/// How many transparency reports are kept, each for one (period,
/// checkpoint size): a few, so that alternating periods do not recompute
/// and memory stays bounded whatever periods are asked for.
const REPORTS_KEPT: usize = 8;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<StateInner>,
}

struct StateInner {
    gw: Gateway,
    log: Option<writ_tlog::Log>,
    config: ServerConfig,
    limiter: RateLimiter,
    metrics: Metrics,
    /// The latest transparency reports computed, most recently used last:
    /// ((period, checkpoint size), report), at most [`REPORTS_KEPT`].
    reports: std::sync::Mutex<VecDeque<((writ_report::Period, u64), writ_report::Report)>>,
    /// Held while a report is computed: one computation at a time, so that
    /// anonymous requests for many periods use one core at most.
    computing: tokio::sync::Mutex<()>,
    /// How many reports were computed (not served from the cache).
    report_computations: AtomicU64,
}

impl AppState {
    pub fn new(gw: Gateway, log: Option<writ_tlog::Log>, config: ServerConfig) -> Self {
        AppState {
            inner: Arc::new(StateInner {
                limiter: RateLimiter::new(config.rate_limit, config.burst),
                metrics: Metrics::default(),
                reports: std::sync::Mutex::new(VecDeque::new()),
                computing: tokio::sync::Mutex::new(()),
                report_computations: AtomicU64::new(0),
                gw,
                log,
                config,
            }),
        }
    }

    pub fn gateway(&self) -> &Gateway {
        &self.inner.gw
    }

    /// How many transparency reports this server has computed rather than
    /// served from its cache.
    pub fn report_computations(&self) -> u64 {
        self.inner.report_computations.load(Ordering::Relaxed)
    }

    /// Reads (or, on a new deployment, creates) the key that portal
    /// challenges are MAC'd with, so that pages need not write it later.
    pub async fn prepare(&self) -> Result<(), AppError> {
        self.inner.gw.portal_challenge_key().await?;
        Ok(())
    }
}

/// Every route the server answers: (method, path pattern, who may call
/// it), from the one table the router and `/openapi.json` are built from
/// ([`api`]); the authorization tests walk it.
pub fn routes() -> Vec<(&'static str, &'static str, Auth)> {
    api::table()
        .into_iter()
        .map(|op| (op.method, op.path, op.auth))
        .collect()
}

/// The OpenAPI 3.1 description of the server, generated from the route
/// table and the Rust types of the bodies.
pub fn openapi() -> &'static str {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DOC.get_or_init(|| api::openapi(&api::table()).to_string())
}

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    Public,
    /// A signed request from the agency that owns the case.
    Agency,
    /// A console user with the reviewer or approver role.
    Reviewer,
    /// A console user with the approver role.
    Approver,
    /// A console page: a signed-in console user's session cookie, and a
    /// CSRF token on every POST; the gateway checks the role of each action.
    Console,
    /// A console page for admins only.
    ConsoleAdmin,
    /// An agency officer's portal session (and a CSRF token on every POST).
    Portal,
}

/// The application's router, built from the route table ([`api`]).
pub fn router(state: AppState) -> Router {
    let limit = state.inner.config.body_limit;
    let mut by_path: Vec<(&'static str, axum::routing::MethodRouter<AppState>)> = Vec::new();
    for mut op in api::table() {
        if matches!(op.body, api::In::Form(_)) {
            op.handler = op.handler.layer(middleware::from_fn(api::form_token));
        }
        match by_path.iter_mut().find(|(p, _)| *p == op.path) {
            Some((_, handler)) => *handler = std::mem::take(handler).merge(op.handler),
            None => by_path.push((op.path, op.handler)),
        }
    }
    let mut router = Router::new();
    for (path, handler) in by_path {
        router = router.route(path, handler);
    }
    router
        .fallback(routes::public::not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(problems))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Every error the handlers did not shape themselves (axum's 405, a
/// malformed query's 400, ...) as RFC 9457 problem details, keeping the
/// response's other headers (`Allow`); and a query that names a parameter
/// twice is refused, since which of the two counts would be a guess.
async fn problems(request: Request, next: Next) -> Response {
    use axum::http::{StatusCode, header};
    if let Some(query) = request.uri().query() {
        let mut seen = std::collections::HashSet::new();
        for (name, _) in form_urlencoded::parse(query.as_bytes()) {
            if !seen.insert(name.clone()) {
                return error::problem(
                    StatusCode::BAD_REQUEST,
                    &format!("query parameter `{name}` is given more than once"),
                    None,
                );
            }
        }
    }
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let shaped = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| !t.starts_with("text/plain"));
    if shaped || response.extensions().get::<error::PlainAnswer>().is_some() {
        return response;
    }
    let (parts, body) = response.into_parts();
    // axum's rejections are one short line; anything longer is cut.
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let detail = if status.is_server_error() {
        "internal error"
    } else if text.trim().is_empty() {
        status.canonical_reason().unwrap_or("error")
    } else {
        text.trim()
    };
    let mut shaped = error::problem(status, detail, None);
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            shaped.headers_mut().insert(name.clone(), value.clone());
        }
    }
    shaped
}

/// Counts every request by its route pattern (never by its ids), and runs
/// it inside a `request` span: a number for this request, the method, the
/// route pattern, and the case id when the route names one, so that every
/// event logged while it is handled (by the gateway too) carries them.
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    use tracing::Instrument;
    static REQUESTS: AtomicU64 = AtomicU64::new(0);
    let start = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "other".to_owned());
    let case = case_in_path(&route, request.uri().path());
    let span = tracing::info_span!(
        "request",
        id = REQUESTS.fetch_add(1, Ordering::Relaxed) + 1,
        method = %method,
        route = %route,
        case = case.as_deref().unwrap_or(""),
    );
    let response = next.run(request).instrument(span.clone()).await;
    if let Some(error::StorageFault(e)) = response.extensions().get::<error::StorageFault>() {
        state.inner.gw.storage_failed(e.clone());
    }
    let status = response.status().as_u16();
    let seconds = start.elapsed().as_secs_f64();
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(status, ms = seconds * 1e3, "answered");
        } else {
            tracing::debug!(status, ms = seconds * 1e3, "answered");
        }
    });
    state
        .inner
        .metrics
        .request(&method, &route, status, seconds);
    response
}

/// The case id of a path whose route pattern names one
/// (`/v1/cases/{id}/...`, `/console/cases/{id}`, ...): the segment of `path`
/// where the pattern has `{id}` right after `cases`.
fn case_in_path(route: &str, path: &str) -> Option<String> {
    let mut pattern = route.split('/');
    let mut segments = path.split('/');
    let mut previous = "";
    loop {
        let (p, s) = (pattern.next()?, segments.next()?);
        if p == "{id}" && previous == "cases" {
            return Some(s.to_owned());
        }
        previous = p;
    }
}

/// Serves until `shutdown` resolves, then finishes the requests in flight;
/// with the timeouts and connection limit of the state's configuration
/// ([`conn`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.inner.config.conn.clone();
    conn::serve(listener, router(state), limits, shutdown).await
}

#[cfg(test)]
mod tests {
    use super::case_in_path;

    #[test]
    fn a_case_id_is_read_only_where_the_route_names_one() {
        assert_eq!(
            case_in_path("/v1/cases/{id}/package", "/v1/cases/c-123/package").as_deref(),
            Some("c-123")
        );
        assert_eq!(
            case_in_path("/console/cases/{id}/{action}", "/console/cases/c-9/confirm").as_deref(),
            Some("c-9")
        );
        assert_eq!(
            case_in_path("/console/agencies/{id}", "/console/agencies/us-fbi"),
            None
        );
        assert_eq!(case_in_path("/v1/cases", "/v1/cases"), None);
        assert_eq!(case_in_path("other", "/v1/cases/x"), None);
    }
}
