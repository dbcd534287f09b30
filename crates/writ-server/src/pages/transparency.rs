//! `/transparency`: the signed report of `/transparency.json` as the site
//! serves it, with the site's navigation and the verify command filled in
//! with this server's log prefix and verifier key.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use writ_report::{Report, Site};

use crate::routes::transparency::json;
use crate::{AppError, AppState};

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Gateway(writ_gateway::GatewayError::Internal(e.to_string()))
}

pub(crate) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, AppError> {
    let query: Query<crate::routes::transparency::PeriodQuery> =
        Query::try_from_uri(&uri).map_err(|e| AppError::BadRequest(e.body_text()))?;
    let Some(log) = state.inner.log.as_ref() else {
        // No log here: the plain page (and its error) as the API gives it.
        return crate::routes::transparency::page(State(state.clone()), query).await;
    };
    let vkey = log.vkey().to_string();
    let witnessing = log.witnessing();
    // The signed report exactly as `/transparency.json` serves it.
    let answer = json(State(state.clone()), query).await?;
    if answer.status() != StatusCode::OK {
        return Ok(answer);
    }
    let bytes = axum::body::to_bytes(answer.into_body(), 64 << 20)
        .await
        .map_err(internal)?;
    let report: Report = serde_json::from_slice(&bytes).map_err(internal)?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    let nav = [
        ("Transparency report", "/transparency"),
        ("Log status", "/status"),
        ("Console", "/console"),
        ("Agency portal", "/portal"),
    ];
    let site = Site {
        nav: nav
            .iter()
            .map(|(l, h)| ((*l).to_owned(), (*h).to_owned()))
            .collect(),
        log_url: format!("http://{host}/log"),
        vkey,
        witnesses: witnessing
            .as_ref()
            .map(|w| w.witnesses.iter().map(|v| v.vkey.clone()).collect())
            .unwrap_or_default(),
        quorum: witnessing.as_ref().map_or(0, |w| w.quorum),
    };
    let html = writ_report::render::to_html_in(&report, &site).map_err(internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response())
}
