//! Public routes: the log, the API description, health and metrics.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::{AppError, AppState};

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
///
/// With witnesses, it is the newest checkpoint that a quorum of them
/// cosigned, with their signature lines (c2sp.org/tlog-witness): a newer one
/// that lacks the quorum is not published.
pub(crate) async fn checkpoint(State(state): State<AppState>) -> Result<Response, AppError> {
    let log = log(&state)?;
    let note = match log.witnessing() {
        None => log.checkpoint().note,
        Some(w) => w.cosigned.map(|c| c.note).ok_or_else(|| {
            AppError::Unavailable(
                "no checkpoint has been cosigned by a quorum of the log's witnesses yet".into(),
            )
        })?,
    };
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
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi(),
    )
        .into_response()
}

/// `ok`; `degraded` (still 200: intake goes on) when the newest checkpoint
/// has gone without a quorum of cosignatures for longer than the bound (an
/// outside witness being down must not take intake offline behind a load
/// balancer), or when the log cannot write and orders wait in the outbox;
/// `unavailable` (503, with `Retry-After`) when the case store refuses
/// writes (a full or read-only disk): new orders get 503 until a write
/// succeeds again, which `/healthz` itself tries at most once a second. One
/// line per reason, the most serious first.
pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
    let health = state.inner.gw.health().await;
    let mut unavailable = Vec::new();
    let mut degraded = Vec::new();
    if let Some(f) = &health.store {
        unavailable.push(format!(
            "unavailable: storage: the case store refuses writes since {}: {}; \
             new orders get 503 until it takes them again\n",
            f.since, f.error
        ));
    }
    if let Some(f) = &health.publisher {
        degraded.push(format!(
            "degraded: storage: events cannot be moved into the log since {}: {}; \
             they wait in the outbox\n",
            f.since, f.error
        ));
    }
    if let Some(log) = &state.inner.log {
        if let Some(e) = log.lagging() {
            degraded.push(format!(
                "degraded: storage: the log cannot publish a checkpoint: {e}; \
                 checkpoint size {} stays published\n",
                log.checkpoint().checkpoint.size
            ));
        }
        if let Some(w) = log.witnessing().filter(|w| w.degraded) {
            degraded.push(format!(
                "degraded: checkpoint {} lacks a quorum of {} witness cosignatures; {} stays published\n",
                w.latest,
                w.quorum,
                w.cosigned.map_or_else(
                    || "none".to_owned(),
                    |c| format!("size {}", c.checkpoint.size)
                ),
            ));
        }
    }
    let status = if unavailable.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut body: String = unavailable.into_iter().chain(degraded).collect();
    if body.is_empty() {
        body = "ok\n".to_owned();
    }
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(crate::error::RETRY_UNAVAILABLE),
        );
        response.extensions_mut().insert(crate::error::PlainAnswer);
    }
    response
}

pub(crate) async fn metrics(State(state): State<AppState>) -> Result<Response, AppError> {
    let store = state.inner.gw.store_gauges().await?;
    let events = store
        .events
        .into_iter()
        .map(|(s, n)| (format!("state=\"{s}\""), n))
        .collect();
    let cases = vec![(String::new(), store.cases)];
    let mut gauges = vec![
        ("writ_events", "Events in the outbox, by state.", events),
        ("writ_cases", "Cases in the store.", cases),
        (
            "writ_notices_dead",
            "User notices given up after their last attempt, until staff try again.",
            vec![(String::new(), store.dead_notices)],
        ),
    ];
    if let Some(log) = &state.inner.log {
        let size = i64::try_from(log.checkpoint().checkpoint.size).unwrap_or(i64::MAX);
        gauges.push((
            "writ_log_size",
            "Entries in the latest published checkpoint.",
            vec![(String::new(), size)],
        ));
        if let Some(w) = log.witnessing() {
            let cosigned = w
                .cosigned
                .as_ref()
                .map_or(0, |c| i64::try_from(c.checkpoint.size).unwrap_or(i64::MAX));
            gauges.push((
                "writ_log_cosigned_size",
                "Entries in the newest checkpoint cosigned by a quorum of witnesses.",
                vec![(String::new(), cosigned)],
            ));
            gauges.push((
                "writ_log_witness_degraded",
                "1 when the newest checkpoint has lacked a quorum of cosignatures past the bound.",
                vec![(String::new(), i64::from(w.degraded))],
            ));
            gauges.push((
                "writ_log_witness_up",
                "1 when the witness cosigned the last checkpoint it was sent, by witness.",
                w.witnesses
                    .iter()
                    .map(|v| {
                        (
                            format!("witness=\"{}\"", v.name.replace(['"', '\\'], "_")),
                            i64::from(v.error.is_none()),
                        )
                    })
                    .collect(),
            ));
        }
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
