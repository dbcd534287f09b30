//! What agencies call: signed requests only, and only about their own cases.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use writ_gateway::Submission;

use crate::httpsig::{self, SigError};
use crate::{AppError, AppState};

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

impl AppState {
    /// The agency that signed this request, or 401. Nothing is changed by a
    /// refused request, and a signature is accepted once: its nonce is
    /// recorded in the case store, so a replay is refused after a restart
    /// and by every other server of the deployment. Every agency route
    /// counts against the agency's rate limit (checked after the signature,
    /// so that nobody can spend another agency's allowance).
    pub(crate) async fn authenticate(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<String, AppError> {
        let now = writ_model::Timestamp::now().as_second();
        let parsed = httpsig::parse(
            header(headers, "signature-input"),
            header(headers, "signature"),
            header(headers, "content-digest"),
            body,
            now,
        )?;
        let (agency, key) = self
            .inner
            .gw
            .signing_key(&parsed.key_id)
            .await?
            .ok_or(SigError::UnknownKey)?;
        parsed.verify(&key, method.as_str(), uri.path())?;
        self.rate_limit(&agency)?;
        let first = self
            .inner
            .gw
            .use_nonce(&parsed.replay_key(), parsed.replay_expiry(), now)
            .await?;
        if !first {
            return Err(SigError::Replayed.into());
        }
        Ok(agency)
    }

    /// Takes one request from the agency's allowance (`--rate-limit`; 0
    /// turns it off), for the API and the portal alike.
    pub(crate) fn rate_limit(&self, agency: &str) -> Result<(), AppError> {
        self.inner
            .limiter
            .check(agency)
            .map_err(|retry_after| AppError::RateLimited { retry_after })
    }
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = super::body(body, state.inner.config.body_limit)?;
    let agency = state.authenticate(&method, &uri, &headers, &body).await?;
    let answer = state
        .inner
        .gw
        .submit(Submission {
            officer: None,
            submitter: &agency,
            body: &body,
        })
        .await?;
    let status = if answer.created {
        state
            .inner
            .metrics
            .outcome(answer.decision.outcome.as_str());
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(answer)).into_response())
}

/// A list of cases.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct CaseList {
    pub(crate) cases: Vec<writ_gateway::CaseView>,
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    limit: Option<i64>,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = super::body(body, state.inner.config.body_limit)?;
    let agency = state.authenticate(&method, &uri, &headers, &body).await?;
    let query = query.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(AppError::BadRequest(format!(
            "limit {limit}: give 1 to 1000"
        )));
    }
    let cases = state.inner.gw.agency_cases(&agency, limit).await?;
    Ok(Json(CaseList { cases }).into_response())
}

pub(crate) async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = super::body(body, state.inner.config.body_limit)?;
    let agency = state.authenticate(&method, &uri, &headers, &body).await?;
    Ok(Json(state.inner.gw.agency_case(&agency, &id).await?).into_response())
}

pub(crate) async fn withdraw(
    State(state): State<AppState>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = super::body(body, state.inner.config.body_limit)?;
    let agency = state.authenticate(&method, &uri, &headers, &body).await?;
    Ok(Json(state.inner.gw.withdraw(&agency, &id).await?).into_response())
}

/// The case's sealed package, streamed as stored, for the owning agency.
pub(crate) async fn package(
    State(state): State<AppState>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = super::body(body, state.inner.config.body_limit)?;
    let agency = state.authenticate(&method, &uri, &headers, &body).await?;
    package_response(&state, &agency, &id).await
}

/// The package of `id` for `agency`, streamed as stored (the API and the
/// portal serve it alike).
pub(crate) async fn package_response(
    state: &AppState,
    agency: &str,
    id: &str,
) -> Result<Response, AppError> {
    let file = state.inner.gw.agency_package(agency, id).await?;
    let reader = state.inner.gw.open_package(&file).await?;
    let digest = hex_to_b64(&file.sha256).ok_or_else(|| {
        AppError::Gateway(writ_gateway::GatewayError::Internal(format!(
            "bad package hash `{}`",
            file.sha256
        )))
    })?;
    Ok((
        StatusCode::OK,
        [
            ("content-type", "application/octet-stream".to_owned()),
            ("content-length", file.size.to_string()),
            ("content-digest", format!("sha-256=:{digest}:")),
            (
                "content-disposition",
                format!("attachment; filename=\"{id}.age\""),
            ),
            ("writ-package-generation", file.generation.to_string()),
        ],
        axum::body::Body::from_stream(reader.stream),
    )
        .into_response())
}

fn hex_to_b64(hex_text: &str) -> Option<String> {
    use base64::Engine;
    let bytes = hex::decode(hex_text).ok()?;
    Some(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// `PUT /v1/cases/{id}/attachments/{name}`: the bytes of a document the
/// case's order announced, signed like every agency request. 201 when
/// stored, 200 when these bytes were already stored; 422 for any other
/// bytes (nothing stored), 404 for a name the order does not announce.
pub(crate) async fn attachment(
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let limit = usize::try_from(writ_gateway::attachments::MAX_BYTES).unwrap_or(usize::MAX);
    let body = super::body(body, limit)?;
    let agency = state.authenticate(&method, &uri, &headers, &body).await?;
    let answer = state
        .inner
        .gw
        .put_attachment(&agency, &id, &name, &body)
        .await?;
    let status = if answer.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(answer)).into_response())
}

/// `GET /v1/cases/{id}/letter`: the response letter of one of the calling
/// agency's cases: PDF for `Accept: application/pdf`, else HTML.
pub(crate) async fn letter(
    State(state): State<AppState>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = super::body(body, state.inner.config.body_limit)?;
    let agency = state.authenticate(&method, &uri, &headers, &body).await?;
    let as_pdf = crate::pages::letter::wants_pdf(&headers);
    Ok(crate::pages::letter::response(&state, &agency, &id, &headers, as_pdf).await?)
}

/// `GET /v1/cases/{id}/certificate`: the certificate of authenticity of
/// the package one of the calling agency's cases has now: PDF for
/// `Accept: application/pdf`, else HTML; 404 until a custodian signed one.
pub(crate) async fn certificate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = super::body(body, state.inner.config.body_limit)?;
    let agency = state.authenticate(&method, &uri, &headers, &body).await?;
    let as_pdf = crate::pages::letter::wants_pdf(&headers);
    certificate_response(&state, &agency, &id, as_pdf).await
}

/// The certificate of `agency`'s case `id` (the API and the portal alike).
pub(crate) async fn certificate_response(
    state: &AppState,
    agency: &str,
    id: &str,
    as_pdf: bool,
) -> Result<Response, AppError> {
    let (case, cert) = state.gateway().agency_certificate(agency, id).await?;
    let about = crate::pages::certificate::About {
        case: &case.case,
        reference: &case.reference,
        agency,
    };
    Ok(crate::pages::certificate::response(
        state, &about, &cert, as_pdf,
    ))
}

/// The agency's answer to an open clarification question.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClarifyBody {
    /// The answer: not only white space, at most 4000 characters, no
    /// control characters but line breaks. A correction of the order itself
    /// is a new signed order with a new reference.
    #[schemars(schema_with = "message_schema")]
    message: String,
}

/// A clarification message's schema, as the gateway checks it.
pub(crate) fn message_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "minLength": 1,
        "maxLength": writ_gateway::lifecycle::MAX_CLARIFICATION,
        "allOf": [
            {"pattern": "\\S"},
            {"pattern": "^[^\\u0000-\\u0009\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"},
        ],
    })
}

/// One message of a case's clarification exchange, as the agency sees it.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct MessageView {
    /// `provider` (a question) or `agency` (an answer).
    side: &'static str,
    message: String,
    /// The order's fields a question names.
    fields: Vec<String>,
    /// The question says the order is incomplete: a European Production
    /// Order's deadline waits for the answer.
    incomplete: bool,
    /// For an incomplete European Production Order (the Annex III form):
    /// how many accounts the provider preserved meanwhile (Art. 10(9));
    /// 0 when the order did not allow the data to be identified.
    #[serde(skip_serializing_if = "Option::is_none")]
    preserved_accounts: Option<i64>,
    /// For an incomplete European Production Order that was notified: the
    /// enforcing authority the form also goes to.
    #[serde(skip_serializing_if = "Option::is_none")]
    enforcing_authority: Option<String>,
    at: writ_model::Timestamp,
}

/// `{messages: [...]}`, oldest first.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct Messages {
    messages: Vec<MessageView>,
}

pub(crate) fn message_views(rows: Vec<writ_store::MessageRow>) -> Vec<MessageView> {
    rows.into_iter()
        .map(|m| MessageView {
            side: m.side.as_str(),
            message: m.message,
            fields: m.fields,
            incomplete: m.incomplete,
            preserved_accounts: m.preserved,
            enforcing_authority: m.enforcing,
            at: writ_model::Timestamp::from_second(m.at).unwrap_or_else(writ_model::Timestamp::now),
        })
        .collect()
}

/// `GET /v1/cases/{id}/clarifications`: the case's clarification exchange.
pub(crate) async fn clarifications(
    State(state): State<AppState>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = super::body(body, state.inner.config.body_limit)?;
    let agency = state.authenticate(&method, &uri, &headers, &body).await?;
    let rows = state.inner.gw.agency_clarifications(&agency, &id).await?;
    Ok(Json(Messages {
        messages: message_views(rows),
    })
    .into_response())
}

/// `POST /v1/cases/{id}/clarification`: answer the open question.
pub(crate) async fn clarify(
    State(state): State<AppState>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = super::body(body, state.inner.config.body_limit)?;
    let agency = state.authenticate(&method, &uri, &headers, &body).await?;
    let c: ClarifyBody =
        writ_model::parse::from_json(&body).map_err(|e| AppError::Unprocessable(e.to_string()))?;
    state
        .inner
        .gw
        .change(
            writ_gateway::Actor::Agency(&agency),
            &id,
            writ_gateway::Action::Clarify { message: c.message },
        )
        .await?;
    Ok(Json(state.inner.gw.agency_case(&agency, &id).await?).into_response())
}
