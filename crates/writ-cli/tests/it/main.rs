//! The `writ` command, run as a user runs it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod agency;
mod backup;
mod bench;
mod check;
mod cluster;
mod decide;
mod disk_full;
mod fetch;
mod human;
mod log;
mod policy;
mod report;
mod serve;
mod shutdown;
mod ui;
mod witness;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn writ(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_writ"))
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The PostgreSQL server for the tests that need one (`WRIT_TEST_POSTGRES`),
/// or `None` after saying loudly that the test is skipped; under `WRIT_CI=1`
/// a missing server fails the test.
pub fn postgres() -> Option<String> {
    match std::env::var("WRIT_TEST_POSTGRES") {
        Ok(url) => Some(url),
        Err(_) if std::env::var("WRIT_CI").is_ok_and(|v| v == "1") => {
            panic!("WRIT_CI=1 but WRIT_TEST_POSTGRES is not set: the PostgreSQL tests must run")
        }
        Err(_) => {
            eprintln!("SKIPPED: no PostgreSQL (set WRIT_TEST_POSTGRES, as .ci/run does)");
            None
        }
    }
}

/// The case store for a test's `writ serve` (and the admin commands beside
/// it): a new, empty database on the PostgreSQL server named by
/// `WRIT_TEST_DATABASE` (`.ci/run` runs this test binary a second time that
/// way), or `None` for SQLite in the data folder.
pub fn test_database() -> Option<String> {
    let url = std::env::var("WRIT_TEST_DATABASE").ok()?;
    // Its own runtime on its own thread, so that async tests may call it too.
    let fresh = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(fresh_database(&url))
    });
    Some(fresh.join().unwrap())
}

/// `--database URL` for a `writ` command when the test runs on PostgreSQL.
pub fn database_args(database: &Option<String>) -> Vec<&str> {
    match database {
        Some(url) => vec!["--database", url],
        None => vec![],
    }
}

/// A new, empty database on the PostgreSQL server at `url`; its URL.
pub async fn fresh_database(url: &str) -> String {
    writ_testdb::fresh_database(url, "writ_cli").await
}
