//! Request handlers, by audience.

pub(crate) mod agency;
pub(crate) mod public;
pub(crate) mod review;
pub(crate) mod transparency;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;

use crate::AppError;

/// The body, or the problem that replaces it (too large, unreadable).
pub(crate) fn body(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, AppError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge(limit)
        } else {
            AppError::BadRequest(e.body_text())
        }
    })
}
