//! The one error type of the server and its single `IntoResponse`: RFC 9457
//! problem details. A 5xx never says more than "internal error"; its cause
//! is logged once, here.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use writ_gateway::GatewayError;

use crate::httpsig::SigError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Gateway(#[from] GatewayError),
    #[error("{0}")]
    Signature(#[from] SigError),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("request body larger than {0} bytes")]
    TooLarge(usize),
    #[error("rate limit exceeded")]
    RateLimited { retry_after: u64 },
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Unavailable(String),
}

impl AppError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            AppError::Gateway(e) => match e {
                GatewayError::Input(_) => StatusCode::UNPROCESSABLE_ENTITY,
                GatewayError::Conflict(_) | GatewayError::ConflictAt(_) => StatusCode::CONFLICT,
                GatewayError::NotFound(_) => StatusCode::NOT_FOUND,
                GatewayError::Gone(_) => StatusCode::GONE,
                GatewayError::Forbidden(_) => StatusCode::FORBIDDEN,
                GatewayError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
                GatewayError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
                GatewayError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                GatewayError::Store(e) if e.is_storage_fault() => StatusCode::SERVICE_UNAVAILABLE,
                GatewayError::Store(_) | GatewayError::Internal(_) => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            },
            AppError::Signature(SigError::TooLong(..)) => StatusCode::BAD_REQUEST,
            AppError::Signature(_) | AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// Seconds to wait before trying again, for a 429 or a 503.
    pub(crate) fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::RateLimited { retry_after }
            | AppError::Gateway(GatewayError::Throttled { retry_after }) => Some(*retry_after),
            _ if self.status() == StatusCode::SERVICE_UNAVAILABLE => Some(RETRY_UNAVAILABLE),
            _ => None,
        }
    }

    /// Whether the storage refused the write (a full or read-only disk).
    fn storage_fault(&self) -> bool {
        match self {
            AppError::Gateway(GatewayError::Unavailable(_)) => true,
            AppError::Gateway(GatewayError::Store(e)) => e.is_storage_fault(),
            _ => false,
        }
    }
}

/// Seconds a client is asked to wait (`Retry-After`) when the server is
/// unavailable: its storage refuses writes.
pub const RETRY_UNAVAILABLE: u64 = 10;

/// What a 503 for a storage fault says; the cause is logged.
const STORAGE_DETAIL: &str = "the server cannot write to its storage just now (a full or \
     read-only disk): nothing was recorded; try again later, the same request is safe to repeat";

/// Set on a response refused because the storage refused a write, with
/// the cause: the server's request layer records it for `/healthz`.
#[derive(Clone, Debug)]
pub(crate) struct StorageFault(pub(crate) String);

/// Set on an error response whose plain-text body is meant as it is (the
/// `unavailable` of `/healthz`): the problem-details layer leaves it alone.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PlainAnswer;

/// A problem details response.
pub fn problem(status: StatusCode, detail: &str, extra: Option<serde_json::Value>) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let mut body = json!({
        "type": "about:blank",
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    if let (Some(serde_json::Value::Object(extra)), Some(map)) = (extra, body.as_object_mut()) {
        map.extend(extra);
    }
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(status = status.as_u16(), error = %self, "internal error");
            return problem(status, "internal error", None);
        }
        let extra = match &self {
            AppError::Gateway(GatewayError::Input(e) | GatewayError::ConflictAt(e)) => {
                Some(json!({"field": e.path}))
            }
            _ => None,
        };
        let mut fault = None;
        let detail = match &self {
            AppError::Gateway(GatewayError::Input(e)) => e.to_string(),
            other if other.storage_fault() => {
                tracing::warn!(status = status.as_u16(), error = %other, "storage unavailable");
                fault = Some(StorageFault(other.to_string()));
                STORAGE_DETAIL.to_owned()
            }
            other => other.to_string(),
        };
        let mut response = problem(status, &detail, extra);
        if let Some(fault) = fault {
            response.extensions_mut().insert(fault);
        }
        if let Some(seconds) = self.retry_after()
            && let Ok(v) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Signature, Bearer"),
            );
        }
        response
    }
}
