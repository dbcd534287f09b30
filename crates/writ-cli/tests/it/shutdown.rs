//! `writ serve` on PostgreSQL stops promptly and cleanly on SIGTERM while it
//! sequences the log under load, start after start.
//!
//! Regression: the sequencer checked its lease inside the future that the
//! publisher polls only between rounds; a check suspended there mid-query
//! kept the lease's connection locked while the next round's append waited
//! for it, and the server printed "shutting down" and never exited (about
//! one stop in five under load).

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::cluster::{Node, order, submit, wait_until};
use crate::{fresh_database, postgres};

/// Starts and stops.
const RUNS: usize = 5;
/// Orders keep coming this long before the signal: the lease is checked
/// every second, so several checks meet the publisher at work.
const LOAD: Duration = Duration::from_millis(2500);
/// Under the server's own grace period for stuck background tasks (10 s),
/// so that a stuck stop fails here rather than ending on that backstop.
const PROMPT: Duration = Duration::from_secs(8);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_a_sequencing_server_promptly() {
    let Some(pg) = postgres() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();
    for run in 0..RUNS {
        let database = fresh_database(&pg).await;
        let data = tmp.path().join(format!("run-{run}"));
        let objects = data.join("objects");
        let mut node = Node::start(&data, &database, objects.to_str().unwrap(), true);
        wait_until("the server to sequence", Duration::from_secs(30), || {
            node.sequencing_since().is_some()
        });
        let key = writ_gateway::demo::read_signing_key(
            &std::fs::read_to_string(data.join("demo/agencies/us-fbi-wfo/signing.key")).unwrap(),
        )
        .unwrap();

        // Four clients send orders until the load time is up.
        let acked = Arc::new(AtomicUsize::new(0));
        let next = Arc::new(AtomicUsize::new(0));
        let until = Instant::now() + LOAD;
        let mut clients = Vec::new();
        for _ in 0..4 {
            let (http, key, url) = (http.clone(), key.clone(), node.url.clone());
            let (acked, next) = (acked.clone(), next.clone());
            let tag = format!("stop-{run}");
            clients.push(tokio::spawn(async move {
                while Instant::now() < until {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if submit(&http, &url, &key, order(&tag, i)).await.is_some() {
                        acked.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }));
        }
        for c in clients {
            c.await.unwrap();
        }
        let acked = acked.load(Ordering::SeqCst);
        assert!(acked > 0, "run {run}: no order acknowledged");

        let signalled = Instant::now();
        let kill = Command::new("kill")
            .args(["-TERM", &node.child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let status = loop {
            if let Some(status) = node.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                signalled.elapsed() < PROMPT,
                "run {run}: the server has not exited {} s after SIGTERM:\n{}",
                PROMPT.as_secs(),
                node.log_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert!(
            status.success(),
            "run {run}: {status} after SIGTERM:\n{}",
            node.log_text()
        );

        // A clean stop leaves nothing in the outbox: every event of the
        // acknowledged orders went to the log before the server exited.
        let store = writ_store::Store::open(&database).await.unwrap();
        let pending = store
            .event_counts()
            .await
            .unwrap()
            .into_iter()
            .find(|(state, _)| state == "pending")
            .map_or(0, |(_, n)| n);
        assert_eq!(pending, 0, "run {run}: events left in the outbox");
        eprintln!(
            "run {run}: {acked} orders acknowledged, exited {} ms after SIGTERM",
            signalled.elapsed().as_millis()
        );
    }
}
