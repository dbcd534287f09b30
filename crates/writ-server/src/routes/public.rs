//! Public routes: the log, the API description, health and metrics.

use axum::extract::{Path, State};
use axum::http::header;
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

/// `ok`, or `degraded` (still 200: an outside witness being down must not
/// take intake offline behind a load balancer) when the newest checkpoint
/// has gone without a quorum of cosignatures for longer than the bound.
pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
    let body = match state.inner.log.as_ref().and_then(|l| l.witnessing()) {
        Some(w) if w.degraded => format!(
            "degraded: checkpoint {} lacks a quorum of {} witness cosignatures; {} stays published\n",
            w.latest,
            w.quorum,
            w.cosigned.map_or_else(
                || "none".to_owned(),
                |c| format!("size {}", c.checkpoint.size)
            ),
        ),
        _ => "ok\n".to_owned(),
    };
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
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
