//! kill -9: a child process appends in a loop and prints each acknowledged
//! index; it is killed at random moments. After each kill the log is
//! reopened: it must verify and hold every acknowledged entry.
//!
//! The child is this test binary itself, run with `WRIT_TLOG_KILL_CHILD`
//! set so that the `child` test below turns into the appending loop.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use writ_tlog::{Config, Log};

use crate::common::audit;

const CHILD_ENV: &str = "WRIT_TLOG_KILL_CHILD";

/// The appending loop, when run as the child; otherwise does nothing.
#[test]
fn child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let config = Config {
            period: Duration::from_millis(5),
            ..Config::default()
        };
        let log = Log::open_dir(std::path::Path::new(&dir), config)
            .await
            .unwrap();
        let pid = std::process::id();
        let mut tasks = Vec::new();
        for task in 0..4u64 {
            let log = log.clone();
            tasks.push(tokio::spawn(async move {
                for seq in 0u64.. {
                    if task == 0 && seq % 5 == 0 {
                        let payloads: Vec<String> = (0..20)
                            .map(|k| format!("p{pid}-t{task}-{seq}-{k}"))
                            .collect();
                        let range = log
                            .append_batch(payloads.iter().map(|p| p.clone().into_bytes()).collect())
                            .await
                            .unwrap();
                        for (i, p) in range.zip(&payloads) {
                            println!("ack {i} {p}");
                        }
                    } else {
                        let payload = format!("p{pid}-t{task}-{seq}");
                        let i = log.append(payload.clone().into_bytes()).await.unwrap();
                        println!("ack {i} {payload}");
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
}

/// A small deterministic generator, seeded from the clock.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn acknowledged_entries_survive_kill_9() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("kill -9 test seed {seed}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut acked: Vec<(u64, String)> = Vec::new();
    for round in 0..6 {
        let kill_after = 20 + xorshift(&mut seed) % 3000;
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["kill::child", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &data)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut seen = 0;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.strip_prefix("ack ") {
                let (index, payload) = rest.split_once(' ').unwrap();
                acked.push((index.parse().unwrap(), payload.to_owned()));
                seen += 1;
                if seen >= kill_after {
                    break;
                }
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(seen > 0, "round {round}: the child acknowledged nothing");

        rt.block_on(async {
            let log = Log::open_dir(&data, Config::default()).await.unwrap();
            let published = log.publish_now().await.unwrap();
            for (index, payload) in &acked {
                assert!(
                    *index < published.checkpoint.size,
                    "round {round}: index {index} lost"
                );
                let entry = log.reader().entry(*index).await.unwrap().unwrap();
                assert_eq!(entry, payload.as_bytes(), "round {round}: index {index}");
            }
            audit(&data, log.vkey());
            log.close().await.unwrap();
        });
    }
    let mut indexes: Vec<u64> = acked.iter().map(|(i, _)| *i).collect();
    indexes.sort();
    indexes.dedup();
    assert_eq!(
        indexes.len(),
        acked.len(),
        "an index was acknowledged twice"
    );
}
