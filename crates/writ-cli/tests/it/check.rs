//! `writ check`: a demo data folder checks clean, and each kind of damage
//! (a flipped byte in an entry bundle, a deleted package object, an edited
//! event row) makes it exit 1 naming the fault; undoing the damage makes it
//! pass again, so each failure is the damage's and nothing else's.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::serve::start;
use crate::{database_args, repo, stderr, stdout, writ};

/// Sends the example orders that are granted at once (so that their
/// packages are sealed) with `writ submit`.
pub(crate) fn submit_examples(data: &Path, url: &str) {
    for example in ["subpoena", "court-order", "search-warrant"] {
        let key = data.join("demo/agencies/us-fbi-wfo/signing.key");
        let order = repo().join(format!("examples/orders/{example}.json"));
        let out = writ(&[
            "submit",
            "--server",
            url,
            "--agency",
            "us-fbi-wfo",
            "--key",
            key.to_str().unwrap(),
            order.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{example}: {}", stderr(&out));
    }
}

/// `writ check` on a data folder; (exit code, stdout, stderr).
pub(crate) fn check(data: &Path, database: &Option<String>) -> (i32, String, String) {
    let mut args = vec!["check", "--data", data.to_str().unwrap()];
    args.extend(database_args(database));
    let out = writ(&args);
    (out.status.code().unwrap(), stdout(&out), stderr(&out))
}

/// The package objects in a data folder.
pub(crate) fn packages(data: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(data.join("objects/packages")) {
        Ok(dir) => dir.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

/// A demo folder with three sealed packages, its server stopped by SIGKILL
/// (a check must pass after a crash too).
fn demo_folder(data: &Path) -> Option<String> {
    let server = start(data);
    submit_examples(data, &server.url);
    let start = Instant::now();
    while packages(data).len() < 3 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the packages were not sealed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Let the publisher log the `disclosed` events too: no event pending in
    // the outbox, as the server's metrics count them.
    // and publish them: every event logged is in the published checkpoint.
    let gauge = |metrics: &str, name: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next()?.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let settled = |m: &str| {
        let logged = gauge(m, "writ_events{state=\"logged\"}");
        gauge(m, "writ_events{state=\"pending\"}") == 0
            && logged > 0
            && gauge(m, "writ_log_size ") == logged
    };
    while ureq::get(&format!("{}/metrics", server.url))
        .call()
        .ok()
        .and_then(|mut r| r.body_mut().read_to_string().ok())
        .is_none_or(|m| !settled(&m))
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the events were not logged"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server.database.clone()
}

#[test]
fn check_passes_on_a_demo_folder_and_names_each_fault() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let database = demo_folder(data);

    let (code, out, err) = check(data, &database);
    assert_eq!(
        code, 0,
        "a fresh demo folder must check clean:\n{out}\n{err}"
    );
    assert!(err.contains("consistent: log of "), "{err}");
    assert!(err.contains("3 packages"), "{err}");

    // A flipped byte in the first entry bundle.
    let bundle = data.join("objects/log").join(first_bundle(data));
    let original = std::fs::read(&bundle).unwrap();
    let mut flipped = original.clone();
    flipped[40] ^= 0x01;
    std::fs::write(&bundle, &flipped).unwrap();
    let (code, out, _) = check(data, &database);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("log: ") && out.contains("does not match the hashes"),
        "{out}"
    );
    assert!(out.contains("differs from log entry 0"), "{out}");
    std::fs::write(&bundle, &original).unwrap();
    assert_eq!(check(data, &database).0, 0);

    // A deleted package object.
    let package = packages(data).into_iter().next().unwrap();
    let aside = data.join("aside.age");
    std::fs::rename(&package, &aside).unwrap();
    let (code, out, _) = check(data, &database);
    assert_eq!(code, 1, "{out}");
    let name = package.file_name().unwrap().to_str().unwrap();
    assert!(
        out.contains("package: ") && out.contains(name) && out.contains("is missing"),
        "{out}"
    );
    // Its bytes changed, same length.
    let mut bytes = std::fs::read(&aside).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x80;
    std::fs::write(&package, &bytes).unwrap();
    let (code, out, _) = check(data, &database);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("has SHA-256"), "{out}");
    std::fs::rename(&aside, &package).unwrap();
    assert_eq!(check(data, &database).0, 0);

    // An edited event row: the `received` entry of a case now says
    // something the log does not.
    let url = database
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", data.join("writ.db").display()));
    let seq = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let store = writ_store::Store::open(&url).await.unwrap();
            let seq: i64 = sqlx::query_scalar(
                "SELECT MIN(seq) FROM events WHERE kind = 'received' AND log_index IS NOT NULL",
            )
            .fetch_one(store.pool())
            .await
            .unwrap();
            sqlx::query("UPDATE events SET entry = entry || ' ' WHERE seq = $1")
                .bind(seq)
                .execute(store.pool())
                .await
                .unwrap();
            seq
        });
    let (code, out, _) = check(data, &database);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("event: event {seq} (received of case c-"))
            && out.contains("differs from log entry"),
        "{out}"
    );
}

#[test]
fn check_refuses_a_folder_that_is_not_a_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = writ(&["check", "--data", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("writ.db"), "{}", stderr(&out));
}

/// The path of the first entry bundle under the published checkpoint
/// (older partial bundles stay beside it, unused).
fn first_bundle(data: &Path) -> String {
    let note = std::fs::read_to_string(data.join("objects/log/checkpoint")).unwrap();
    let size: u64 = note.lines().nth(1).unwrap().parse().unwrap();
    if size >= 256 {
        "tile/entries/000".into()
    } else {
        format!("tile/entries/000.p/{size}")
    }
}
