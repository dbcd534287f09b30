//! Public routes: the log, the API description, health and metrics.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::{AppError, AppState};

const OPENAPI: &str = include_str!("../openapi.json");

pub(crate) fn log(state: &AppState) -> Result<&writ_tlog::Log, AppError> {
    state
        .inner
        .log
        .as_ref()
        .ok_or_else(|| AppError::Unavailable("this server has no transparency log".into()))
}

async fn object(
    state: &AppState,
    path: &str,
    content_type: &'static str,
    cache: &'static str,
) -> Result<Response, AppError> {
    let bytes = log(state)?
        .read(path)
        .await
        .map_err(|e| AppError::Gateway(writ_gateway::GatewayError::Internal(e.to_string())))?
        .ok_or_else(|| AppError::NotFound(format!("`/log/{path}`")))?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response())
}

/// The latest published checkpoint, from the sequencer's memory: the object
/// in the folder is replaced as the log grows, and a reader must never catch
/// it between two versions.
pub(crate) async fn checkpoint(State(state): State<AppState>) -> Result<Response, AppError> {
    let note = log(&state)?.checkpoint().note;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        note,
    )
        .into_response())
}

pub(crate) async fn tile(
    State(state): State<AppState>,
    Path(path): Path<String>,
) -> Result<Response, AppError> {
    // Full tiles never change; partial ones (`.p/`) are replaced by fuller ones.
    let cache = if path.contains(".p/") {
        "no-store"
    } else {
        "public, max-age=31536000, immutable"
    };
    object(
        &state,
        &format!("tile/{path}"),
        "application/octet-stream",
        cache,
    )
    .await
}

pub(crate) async fn vkey(State(state): State<AppState>) -> Result<Response, AppError> {
    let vkey = log(&state)?.vkey().to_string();
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{vkey}\n"),
    )
        .into_response())
}

pub(crate) async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

pub(crate) async fn healthz() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "ok\n",
    )
        .into_response()
}

pub(crate) async fn metrics(State(state): State<AppState>) -> Result<Response, AppError> {
    let store = state.inner.gw.store();
    let events = store
        .event_counts()
        .await
        .map_err(writ_gateway::GatewayError::from)?
        .into_iter()
        .map(|(s, n)| (format!("state=\"{s}\""), n))
        .collect();
    let cases = vec![(
        String::new(),
        store
            .case_count()
            .await
            .map_err(writ_gateway::GatewayError::from)?,
    )];
    let mut gauges = vec![
        ("writ_events", "Events in the outbox, by state.", events),
        ("writ_cases", "Cases in the store.", cases),
    ];
    if let Some(log) = &state.inner.log {
        let size = i64::try_from(log.checkpoint().checkpoint.size).unwrap_or(i64::MAX);
        gauges.push((
            "writ_log_size",
            "Entries in the latest published checkpoint.",
            vec![(String::new(), size)],
        ));
    }
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.inner.metrics.render(&gauges),
    )
        .into_response())
}

pub(crate) async fn not_found() -> AppError {
    AppError::NotFound("route".into())
}
