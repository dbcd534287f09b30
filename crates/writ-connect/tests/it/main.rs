//! writ-connect tests: the demo mail service, scope enforcement, legal
//! holds, the SQL and HTTP connectors, resumable collection and flat memory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod collect;
mod demo;
mod holds;
mod http;
mod postgres;
mod scope;
mod sql;

use writ_model::Timestamp;
use writ_model::order::DateRange;
use writ_seal::PackageHeader;

pub fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

pub fn range(from: &str, to: &str) -> DateRange {
    DateRange {
        from: t(from),
        to: t(to),
    }
}

pub fn header() -> PackageHeader {
    PackageHeader {
        case: "c-0123456789abcdef".into(),
        order_sha256: "cd".repeat(32),
        created_at: t("2026-11-28T12:00:00Z"),
    }
}

/// A current-thread runtime for the async parts (holds, the demo's
/// database).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}
