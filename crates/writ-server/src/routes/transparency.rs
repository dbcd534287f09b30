//! The public transparency report: `GET /transparency` (the HTML page) and
//! `GET /transparency.json?period=P` (the signed JSON report), both at the
//! latest checkpoint and signed with the log key, which only the server
//! holds (`docs/http.md`).

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use writ_report::{Period, Report};
use writ_tlog::verify::Fetch;

use crate::{AppError, AppState};

#[derive(Debug, Deserialize)]
pub(crate) struct PeriodQuery {
    period: Option<String>,
}

/// Reads the log's objects from a blocking thread, through the sequencer's
/// storage (a folder or S3).
struct LogFetch {
    log: writ_tlog::Log,
    runtime: tokio::runtime::Handle,
}

impl Fetch for LogFetch {
    fn fetch(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        self.runtime
            .block_on(self.log.read(path))
            .map_err(|e| e.to_string())
    }
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Gateway(writ_gateway::GatewayError::Internal(e.to_string()))
}

/// The signed report of the period at the latest checkpoint; computed once
/// per (period, checkpoint) and kept among the last few
/// ([`crate::REPORTS_KEPT`], least recently used dropped first).
async fn report(state: &AppState, query: PeriodQuery) -> Result<Report, AppError> {
    let period = match query.period {
        Some(p) => Period::parse(&p).map_err(|e| AppError::BadRequest(e.to_string()))?,
        None => Period::of(&writ_model::Timestamp::now().to_string()).map_err(internal)?,
    };
    let log = crate::routes::public::log(state)?.clone();
    let published = log.checkpoint().checkpoint;
    let key = (period, published.size);
    if let Some(r) = cached(state, &key) {
        return Ok(r);
    }
    // One computation at a time; whoever waited here may find the report
    // computed meanwhile.
    let _computing = state.inner.computing.lock().await;
    if let Some(r) = cached(state, &key) {
        return Ok(r);
    }
    let fetch = LogFetch {
        log: log.clone(),
        runtime: tokio::runtime::Handle::current(),
    };
    let checkpoint = published.clone();
    state
        .inner
        .report_computations
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let report = tokio::task::spawn_blocking(move || {
        writ_report::compute(&fetch, &checkpoint, checkpoint.size, period, &mut |_| {})
            .and_then(|r| r.sign(fetch.log.signer()))
    })
    .await
    .map_err(internal)?
    .map_err(internal)?;
    let mut reports = state
        .inner
        .reports
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    // Reports of older checkpoints are never asked for again.
    reports.retain(|((_, size), _)| *size >= published.size);
    if reports.len() >= crate::REPORTS_KEPT {
        reports.pop_front();
    }
    reports.push_back((key, report.clone()));
    Ok(report)
}

/// The kept report for (period, checkpoint size), marked most recently used.
fn cached(state: &AppState, key: &(Period, u64)) -> Option<Report> {
    let mut reports = state
        .inner
        .reports
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let at = reports.iter().position(|(k, _)| k == key)?;
    let entry = reports.remove(at)?;
    let report = entry.1.clone();
    reports.push_back(entry);
    Some(report)
}

pub(crate) async fn json(
    State(state): State<AppState>,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, AppError> {
    let report = report(&state, query).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        report.to_json().map_err(internal)?,
    )
        .into_response())
}

pub(crate) async fn page(
    State(state): State<AppState>,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, AppError> {
    let report = report(&state, query).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        writ_report::render::to_html(&report).map_err(internal)?,
    )
        .into_response())
}
