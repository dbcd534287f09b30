//! Fresh PostgreSQL databases for the tests that run on PostgreSQL: each
//! test gets an empty database of its own on the test server
//! (`WRIT_TEST_POSTGRES` or `WRIT_TEST_DATABASE`, as `.ci/run` sets them).
//! Only tests depend on it, so a failure panics, as a test does.

#![allow(clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};

/// Creates an empty database on the PostgreSQL server that `server` (any
/// database URL on it) points to, named `<prefix>_<pid>_<nanos>_<n>`, and
/// returns its URL. Panics if the server refuses: a test cannot go on
/// without it.
pub async fn fresh_database(server: &str, prefix: &str) -> String {
    use sqlx::Connection as _;
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let mut admin = sqlx::PgConnection::connect(server)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to `{server}`: {e}"));
    let name = format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("cannot create database `{name}`: {e}"));
    let _ = admin.close().await;
    let base = server.rsplit_once('/').map_or(server, |(base, _)| base);
    format!("{base}/{name}")
}
