//! What can go wrong reading an entry.

/// Errors reading (or, rarely, writing) a log entry. Each names the field
/// at fault, as a path from the entry's top (`public.granted`).
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("entry is not JSON: {0}")]
    Json(#[source] serde_json::Error),
    #[error("entry is not in canonical form (RFC 8785)")]
    NotCanonical,
    #[error("unsupported entry version `{0}`")]
    Version(String),
    #[error("unknown entry kind `{0}`")]
    Kind(String),
    #[error("entry field `{field}` is invalid: {reason}")]
    Field { field: String, reason: String },
}

pub(crate) fn field(field: impl Into<String>, reason: impl Into<String>) -> EventError {
    EventError::Field {
        field: field.into(),
        reason: reason.into(),
    }
}
