//! Transparency reports computed from the public fields of the log alone
//! (`docs/formats.md`, "Reports from the log" and "Transparency report").
//!
//! - [`Tally`] reads log entries (their canonical JSON bytes, in log order)
//!   and [`Tally::finish`] turns them into [`Figures`] for one [`Period`];
//! - [`Report`] is the signed document: the period, the checkpoint it
//!   covers, the figures and the log key's signature over its canonical
//!   JSON; [`Report::sign`] and [`Report::verify_signature`];
//! - [`render`] writes the CSV (with Google's column layout) and the
//!   self-contained HTML page, and reads a report back from any form.
//!
//! Nothing here does IO: callers hand in the entries they fetched.

mod countries;
mod figures;
mod html;
mod lean;
mod period;
pub mod render;
mod report;
mod source;

pub use countries::name as country_name;
pub use figures::{
    Band, Counts, Figures, Month, NslBands, OnTime, Outcomes, Parsed, Parser, Preservation, Row,
    Tally, legal_process,
};
pub use html::Site;
pub use period::Period;
pub use report::{CheckpointRef, REPORT_VERSION, Report, SIGNATURE_CONTEXT};
pub use source::{Accepted, Prefix, compute, read_prefix, verify};

/// Why a report could not be computed, read or accepted.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("invalid period `{0}`: expected YYYY-H1 or YYYY-H2")]
    Period(String),
    #[error("log: {0}")]
    Log(String),
    #[error("log entry {index}: {reason}")]
    Entry { index: u64, reason: String },
    #[error("report is malformed: {0}")]
    Malformed(String),
    #[error("report signature does not verify with the log key")]
    BadSignature,
    #[error("report is signed for origin `{found}`, the key is `{expected}`'s")]
    Origin { expected: String, found: String },
    #[error("figure `{path}` is {reported} in the report but {recomputed} in the log")]
    FigureMismatch {
        path: String,
        reported: String,
        recomputed: String,
    },
    #[error("the CSV is not the rendering of its JSON report: line {0} differs")]
    CsvMismatch(usize),
}
