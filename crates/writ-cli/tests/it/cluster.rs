//! Several `writ serve` processes on one PostgreSQL database and one objects
//! folder: both take orders under load, the sequencer is killed with
//! SIGKILL, the other takes over. Nothing acknowledged is lost, nothing is
//! logged twice, and every checkpoint either server ever served is a prefix
//! of the final tree (no fork).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::{fresh_database, postgres, stderr, stdout, writ};

/// A `writ serve` process; its standard error lines are kept with the time
/// each arrived.
pub struct Node {
    pub child: Child,
    pub url: String,
    pub lines: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Node {
    pub fn start(data: &Path, database: &str, objects: &str, demo: bool) -> Node {
        Self::start_with(data, database, objects, demo, &[])
    }

    /// [`Node::start`] with more arguments for `writ serve`.
    pub fn start_with(
        data: &Path,
        database: &str,
        objects: &str,
        demo: bool,
        extra: &[&str],
    ) -> Node {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_writ"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--rate-limit", "0"])
            .args(extra)
            .args(["--database", database, "--objects", objects, "--data"])
            .arg(data)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if demo {
            cmd.arg("--demo");
        }
        let mut child = cmd.spawn().unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let kept = Arc::new(Mutex::new(Vec::new()));
        let url = loop {
            let line = lines.next().expect("server exited").unwrap();
            kept.lock().unwrap().push((Instant::now(), line.clone()));
            if let Some(url) = line.strip_prefix("listening on ") {
                break url.to_owned();
            }
        };
        let sink = kept.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push((Instant::now(), line));
            }
        });
        Node {
            child,
            url,
            lines: kept,
        }
    }

    /// When this server last started sequencing the log.
    pub fn sequencing_since(&self) -> Option<Instant> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|(_, l)| l.contains("sequencing the log"))
            .map(|(t, _)| *t)
    }

    pub fn log_text(&self) -> String {
        let lines = self.lines.lock().unwrap();
        lines
            .iter()
            .map(|(_, l)| l.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Waits for a condition, up to a limit.
pub fn wait_until(what: &str, limit: Duration, f: impl FnMut() -> bool) {
    wait_explained(what, limit, f, String::new);
}

/// [`wait_until`], whose failure message ends with `details()` (a server's
/// log, what the database holds), computed only if it times out.
pub fn wait_explained(
    what: &str,
    limit: Duration,
    mut f: impl FnMut() -> bool,
    details: impl FnOnce() -> String,
) {
    let start = Instant::now();
    while !f() {
        if start.elapsed() >= limit {
            panic!("timed out waiting for {what}\n{}", details());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn order(run: &str, i: usize) -> Vec<u8> {
    let account = i % writ_gateway::demo::SYNTHETIC_ACCOUNTS + 1;
    serde_json::json!({
        "reference": format!("CLUSTER-{run}-{i}"),
        "agency": "us-fbi-wfo",
        "instrument": "subpoena",
        "legal_basis": "18 U.S.C. § 2703(c)(2)",
        "issued_by": {"kind": "prosecutor"},
        "issued_at": writ_model::Timestamp::now().plus_days(-1),
        "targets": [{"kind": "email", "value": format!("user{account:05}@demo.example")}],
        "categories": ["subscriber"],
    })
    .to_string()
    .into_bytes()
}

/// A subpoena for subscriber data of an account stored at home: granted
/// without review, so its package is sealed at once.
pub fn alice_subpoena(reference: &str) -> Vec<u8> {
    serde_json::json!({
        "reference": reference,
        "agency": "us-fbi-wfo",
        "instrument": "subpoena",
        "legal_basis": "18 U.S.C. § 2703(c)(2)",
        "issued_by": {"kind": "prosecutor"},
        "issued_at": writ_model::Timestamp::now().plus_days(-1),
        "targets": [{"kind": "email", "value": "alice@example.com"}],
        "categories": ["subscriber"],
    })
    .to_string()
    .into_bytes()
}

/// Sends one signed order; the case id when it was acknowledged (201).
pub async fn submit(
    http: &reqwest::Client,
    server: &str,
    key: &ed25519_dalek::SigningKey,
    body: Vec<u8>,
) -> Option<String> {
    let nonce: String = writ_gateway::random_bytes::<12>()
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let (digest, input, signature) = writ_server::httpsig::sign(
        key,
        &writ_gateway::demo::key_id("us-fbi-wfo", &key.verifying_key()),
        "POST",
        "/v1/orders",
        &body,
        writ_model::Timestamp::now().as_second(),
        &nonce,
    );
    let response = http
        .post(format!("{server}/v1/orders"))
        .header("content-digest", digest)
        .header("signature-input", input)
        .header("signature", signature)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .ok()?;
    if response.status().as_u16() != 201 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&response.text().await.ok()?).ok()?;
    v["case"].as_str().map(str::to_owned)
}

fn get(url: &str) -> Option<String> {
    let mut response = ureq::get(url).call().ok()?;
    response.body_mut().read_to_string().ok()
}

/// (size, root) of a checkpoint note.
fn size_root(note: &str) -> Option<(u64, String)> {
    let mut lines = note.lines().skip(1);
    let size = lines.next()?.parse().ok()?;
    Some((size, lines.next()?.to_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequencer_fails_over_without_fork_or_loss() {
    let Some(pg) = postgres() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let objects = tmp.path().join("objects");
    failover(&pg, objects.to_str().unwrap(), tmp.path(), Fault::Kill).await;
}

/// The sequencer hangs instead of dying: stopped with SIGSTOP, it keeps its
/// connection to PostgreSQL open. Its lease ends after `--lease-timeout`,
/// the other server takes over within that bound plus its poll, and the
/// stopped one, resumed with SIGCONT, writes nothing to the log: it finds
/// its lease lost and goes on serving requests as a follower.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_sequencer_is_replaced_and_fenced() {
    let Some(pg) = postgres() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let objects = tmp.path().join("objects");
    failover(
        &pg,
        objects.to_str().unwrap(),
        tmp.path(),
        // WRIT_TEST_LEASE_TIMEOUT and WRIT_TEST_PAUSE (seconds) change the
        // run, e.g. 10 and 60 for the figures of docs/reliability.md.
        Fault::Pause {
            lease_timeout: Duration::from_secs(seconds("WRIT_TEST_LEASE_TIMEOUT", 3)),
            pause: Duration::from_secs(seconds("WRIT_TEST_PAUSE", 12)),
        },
    )
    .await;
}

fn seconds(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What happens to the first server, the sequencer, a third of the way
/// through the load.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// SIGKILL.
    Kill,
    /// SIGSTOP for `pause`, then SIGCONT; both servers run with
    /// `--lease-timeout lease_timeout`.
    Pause {
        lease_timeout: Duration,
        pause: Duration,
    },
}

/// What every other session on `database` is doing, and which of them hold
/// an advisory lock (the sequencer lease): for the message of a failure.
fn sessions(database: &str) -> String {
    use sqlx::{Connection as _, Row as _};
    tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current().block_on(async {
            let mut conn = match sqlx::PgConnection::connect(database).await {
                Ok(conn) => conn,
                Err(e) => return format!("cannot connect: {e}"),
            };
            let rows = sqlx::query(
                "SELECT a.pid, coalesce(a.state, ''), coalesce(a.wait_event_type, ''),
                        coalesce(a.wait_event, ''), left(coalesce(a.query, ''), 160),
                        EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid
                                AND l.locktype = 'advisory' AND l.granted)
                 FROM pg_stat_activity a
                 WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()",
            )
            .fetch_all(&mut conn)
            .await;
            match rows {
                Ok(rows) => rows
                    .iter()
                    .map(|r| {
                        format!(
                            "pid {} {} wait {}/{} advisory lock {}: {}",
                            r.get::<i32, _>(0),
                            r.get::<String, _>(1),
                            r.get::<String, _>(2),
                            r.get::<String, _>(3),
                            r.get::<bool, _>(5),
                            r.get::<String, _>(4).replace('\n', " "),
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
                Err(e) => format!("cannot list sessions: {e}"),
            }
        })
    })
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name}");
}

/// The same on an S3-compatible server (`WRIT_TEST_S3`, with the `AWS_*`
/// variables that `.ci/s3.sh` exports): `--objects s3://bucket/prefix`.
#[cfg(feature = "s3")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequencer_fails_over_on_s3() {
    let Some(pg) = postgres() else { return };
    let Some(bucket) = s3_bucket("failover") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    failover(
        &pg,
        &format!("s3://{bucket}/deployment"),
        tmp.path(),
        Fault::Kill,
    )
    .await;
}

async fn failover(pg: &str, objects_arg: &str, tmp: &Path, fault: Fault) {
    let database = fresh_database(pg).await;
    let objects_arg = objects_arg.to_owned();
    let timeout_arg = match fault {
        Fault::Kill => String::new(),
        Fault::Pause { lease_timeout, .. } => format!("{}s", lease_timeout.as_secs()),
    };
    let extra: Vec<&str> = match fault {
        Fault::Kill => vec![],
        Fault::Pause { .. } => vec!["--lease-timeout", &timeout_arg],
    };
    let a = Node::start_with(&tmp.join("a"), &database, &objects_arg, true, &extra);
    wait_until(
        "the first server to sequence",
        Duration::from_secs(30),
        || a.sequencing_since().is_some(),
    );
    let b = Node::start_with(&tmp.join("b"), &database, &objects_arg, false, &extra);
    let key = writ_gateway::demo::read_signing_key(
        &std::fs::read_to_string(tmp.join("a/demo/agencies/us-fbi-wfo/signing.key")).unwrap(),
    )
    .unwrap();
    let vkey = get(&format!("{}/log/vkey", b.url)).unwrap();

    // Watch both servers' checkpoints for the whole run.
    let seen: Arc<Mutex<BTreeMap<u64, HashSet<String>>>> = Arc::default();
    let watching = Arc::new(AtomicBool::new(true));
    let watcher = {
        let (seen, watching) = (seen.clone(), watching.clone());
        let urls = [a.url.clone(), b.url.clone()];
        std::thread::spawn(move || {
            while watching.load(Ordering::SeqCst) {
                for u in &urls {
                    if let Some((size, root)) = get(&format!("{u}/log/checkpoint"))
                        .as_deref()
                        .and_then(size_root)
                    {
                        seen.lock().unwrap().entry(size).or_default().insert(root);
                    }
                }
                std::thread::sleep(Duration::from_millis(25));
            }
        })
    };

    // Load: 8 clients, round robin over both servers, for a fixed count of
    // orders; the sequencer is killed a third of the way through.
    let total = 1200usize;
    let run = format!(
        "{:x}",
        Instant::now().elapsed().as_nanos() ^ std::process::id() as u128
    );
    let next = Arc::new(AtomicUsize::new(0));
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let dead: Arc<Mutex<HashSet<String>>> = Arc::default();
    let http = reqwest::Client::new();
    let mut clients = Vec::new();
    for c in 0..8 {
        let (next, acked, dead, http, key, run) = (
            next.clone(),
            acked.clone(),
            dead.clone(),
            http.clone(),
            key.clone(),
            run.clone(),
        );
        let urls = [a.url.clone(), b.url.clone()];
        clients.push(tokio::spawn(async move {
            let mut turn = c;
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= total {
                    return;
                }
                // Retry an order on the other server when one is down; an
                // unanswered order is not acknowledged and need not be logged.
                for _ in 0..4 {
                    turn += 1;
                    let url = &urls[turn % 2];
                    if dead.lock().unwrap().contains(url) {
                        continue;
                    }
                    if let Some(case) = submit(&http, url, &key, order(&run, i)).await {
                        acked.lock().unwrap().push(case);
                        break;
                    }
                }
            }
        }));
    }

    let leader_url = a.url.clone();
    let mut a = a;
    wait_until("a third of the load", Duration::from_secs(120), || {
        acked.lock().unwrap().len() >= total / 3
    });
    let before_kill = get(&format!("{leader_url}/log/checkpoint")).unwrap();
    dead.lock().unwrap().insert(leader_url.clone());
    match fault {
        Fault::Kill => {
            a.child.kill().unwrap(); // SIGKILL
            a.child.wait().unwrap();
        }
        Fault::Pause { .. } => signal(&a.child, "STOP"),
    }
    let killed_at = Instant::now();
    wait_explained(
        "the other server to take over",
        Duration::from_secs(30),
        || b.sequencing_since().is_some_and(|t| t > killed_at),
        || {
            format!(
                "its log:\n{}\nsessions on the database:\n{}",
                b.log_text(),
                sessions(&database)
            )
        },
    );
    let took_over = b.sequencing_since().unwrap() - killed_at;
    if let Fault::Pause {
        lease_timeout,
        pause,
    } = fault
    {
        // Within the lease's time-out, the second's poll and PostgreSQL's
        // own check of idle sessions (a few seconds of slack on a loaded
        // machine); never before the time-out.
        assert!(
            took_over >= lease_timeout && took_over < lease_timeout + Duration::from_secs(8),
            "the second server sequenced {took_over:?} after the pause, lease time-out {lease_timeout:?}\n{}",
            b.log_text()
        );
        let resume_at = killed_at + pause;
        std::thread::sleep(resume_at.saturating_duration_since(Instant::now()));
        let stopped_for = killed_at.elapsed();
        // Taken before the signal: the resumed server may write its first
        // lines before `kill` returns.
        let resumed = Instant::now();
        signal(&a.child, "CONT");
        // The resumed server learns it has lost the lease and does not take
        // it back while the second holds it.
        let found = |a: &Node| {
            a.lines.lock().unwrap().iter().any(|(t, l)| {
                *t >= resumed && (l.contains("lease lost") || l.contains("sequencer stopped"))
            })
        };
        wait_explained(
            "the resumed server to find its lease lost",
            Duration::from_secs(30),
            || found(&a),
            || format!("its log:\n{}", a.log_text()),
        );
        dead.lock().unwrap().remove(&leader_url);
        // It still takes orders, which the second server sequences.
        let mut late = Vec::new();
        for i in 0..20 {
            let case = submit(&http, &leader_url, &key, order(&run, total + i))
                .await
                .expect("the resumed server takes orders");
            late.push(case);
        }
        acked.lock().unwrap().extend(late);
        assert!(
            a.sequencing_since().is_some_and(|t| t < killed_at),
            "the resumed server sequenced again while the other held the lease\n{}",
            a.log_text()
        );
        eprintln!(
            "paused sequencer: stopped for {:.1} s, lease time-out {} s; the second server \
             sequenced {:.0} ms after SIGSTOP",
            stopped_for.as_secs_f64(),
            lease_timeout.as_secs(),
            took_over.as_secs_f64() * 1000.0
        );
    }
    for c in clients {
        c.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= total * 9 / 10,
        "only {} of {total} orders acknowledged",
        acked.len()
    );

    // Every acknowledged order's events reach the log: wait for the outbox to
    // empty, then for a checkpoint that covers it.
    let store = writ_store::Store::open(&database).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let logged = loop {
        let counts: HashMap<String, i64> =
            store.event_counts().await.unwrap().into_iter().collect();
        if counts.get("pending").copied().unwrap_or(0) == 0 {
            break counts.get("logged").copied().unwrap_or(0) as u64;
        }
        assert!(
            Instant::now() < deadline,
            "events still pending: {counts:?}\n{}",
            b.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut last = String::new();
    wait_until(
        "a checkpoint covering every event",
        Duration::from_secs(30),
        || {
            last = get(&format!("{}/log/checkpoint", b.url)).unwrap_or_default();
            size_root(&last).is_some_and(|(size, _)| size >= logged)
        },
    );
    watching.store(false, Ordering::SeqCst);
    watcher.join().unwrap();
    let final_size = size_root(&last).unwrap().0;
    assert_eq!(
        final_size, logged,
        "the log holds entries the outbox did not record"
    );

    // The whole log verifies, and extends the checkpoint served before the kill.
    let since = tmp.join("before-kill");
    std::fs::write(&since, &before_kill).unwrap();
    let prefix = format!("{}/log", b.url);
    let o = writ(&[
        "log",
        "verify",
        "--url",
        &prefix,
        "--vkey",
        vkey.trim(),
        "--since",
        since.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));

    // No fork: every checkpoint either server served is the final tree's
    // prefix of that size.
    let verifier = writ_tlog::NoteVerifier::parse(vkey.trim()).unwrap();
    let reader = writ_tlog::Reader::new(
        writ_tlog::storage::ObjectsLocation::parse(&objects_arg)
            .unwrap()
            .open("log")
            .unwrap(),
        verifier,
    );
    let seen = seen.lock().unwrap().clone();
    for (size, roots) in &seen {
        assert_eq!(roots.len(), 1, "two checkpoints of size {size}: {roots:?}");
        let root = reader.tree_hash(*size).await.unwrap().to_base64();
        assert!(
            roots.contains(&root),
            "checkpoint of size {size} is not a prefix of the log"
        );
    }

    // No loss, no duplicate: each acknowledged case has its `received` and
    // `decided` entries, and no entry is in the log twice.
    let mut entries = HashSet::new();
    let mut kinds: HashMap<String, Vec<String>> = HashMap::new();
    for index in 0..final_size {
        let e = reader.entry(index).await.unwrap().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&e).unwrap();
        if let Some(case) = v["case"].as_str() {
            kinds
                .entry(case.to_owned())
                .or_default()
                .push(v["kind"].as_str().unwrap().to_owned());
        }
        assert!(entries.insert(e), "entry {index} is in the log twice");
    }
    for case in &acked {
        let k = kinds.get(case).cloned().unwrap_or_default();
        assert!(
            k.contains(&"received".to_owned()) && k.contains(&"decided".to_owned()),
            "acknowledged case {case} is missing from the log: {k:?}"
        );
    }
    eprintln!(
        "failover: {} of {total} orders acknowledged, {} log entries, {} checkpoints seen; \
         the second server sequenced {:.0} ms after the kill",
        acked.len(),
        final_size,
        seen.len(),
        took_over.as_secs_f64() * 1000.0
    );
}

/// `writ migrate`: a single-machine deployment (SQLite and a local objects
/// folder) moves onto PostgreSQL and another objects folder; the checks pass,
/// a second run is refused, and a server on the new stores carries on the
/// same log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_moves_a_single_machine_losslessly() {
    let Some(pg) = postgres() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let to_objects = tmp.path().join("moved");
    migrate_single_machine(&pg, to_objects.to_str().unwrap(), tmp.path()).await;
}

/// The same, with the objects moved from the folder into an S3 bucket.
#[cfg(feature = "s3")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_moves_a_single_machine_losslessly_on_s3() {
    let Some(pg) = postgres() else { return };
    let Some(bucket) = s3_bucket("migrate") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    migrate_single_machine(&pg, &format!("s3://{bucket}/deployment"), tmp.path()).await;
}

async fn migrate_single_machine(pg: &str, to_objects: &str, tmp: &Path) {
    let data = tmp.join("single");
    let db_file = data.join("writ.db");
    let objects = data.join("objects");
    let node = Node::start(
        &data,
        &format!("sqlite://{}", db_file.display()),
        objects.to_str().unwrap(),
        true,
    );
    let key = writ_gateway::demo::read_signing_key(
        &std::fs::read_to_string(data.join("demo/agencies/us-fbi-wfo/signing.key")).unwrap(),
    )
    .unwrap();
    let http = reqwest::Client::new();
    for i in 0..40 {
        assert!(
            submit(&http, &node.url, &key, order("migrate", i))
                .await
                .is_some()
        );
    }
    // One granted at once, so that a sealed package moves too.
    let granted = submit(&http, &node.url, &key, alice_subpoena("MIGRATE-PACKAGE"))
        .await
        .unwrap();
    wait_until("the package to be sealed", Duration::from_secs(60), || {
        std::fs::read_dir(objects.join("packages")).is_ok_and(|mut d| {
            d.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with(&granted)))
        })
    });
    let vkey = get(&format!("{}/log/vkey", node.url)).unwrap();
    // A clean stop publishes the outbox.
    let stopped = Command::new("kill")
        .args(["-TERM", &node.child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let mut node = node;
    assert!(node.child.wait().unwrap().success(), "{}", node.log_text());
    let before = std::fs::read_to_string(objects.join("log/checkpoint")).unwrap();

    let database = fresh_database(pg).await;
    let from = format!("sqlite://{}", db_file.display());
    let args = [
        "migrate",
        "--from",
        &from,
        "--to",
        &database,
        "--from-objects",
        objects.to_str().unwrap(),
        "--to-objects",
        to_objects,
    ];
    let o = writ(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(summary["vkey"].as_str().unwrap(), vkey.trim());
    assert!(summary["log_size"].as_u64().unwrap() >= 80);
    assert!(
        stderr(&o).contains("per-row hashes match"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("equals the last signed root"),
        "{}",
        stderr(&o)
    );
    let sealed = std::fs::read_dir(objects.join("packages")).unwrap().count();
    assert!(sealed >= 1);
    assert_eq!(summary["packages"], sealed, "{}", stderr(&o));

    // The destination is no longer empty.
    let again = writ(&args);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("not empty"), "{}", stderr(&again));
    // A source that is not there.
    let missing = writ(&[
        "migrate",
        "--from",
        "sqlite:///nonexistent/writ.db",
        "--to",
        &database,
    ]);
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
    // A package damaged at the source is caught at the destination.
    let damaged = std::fs::read_dir(objects.join("packages"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&damaged).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&damaged, bytes).unwrap();
    let other = fresh_database(pg).await;
    let elsewhere = tmp.join("elsewhere");
    let o = writ(&[
        "migrate",
        "--from",
        &from,
        "--to",
        &other,
        "--from-objects",
        objects.to_str().unwrap(),
        "--to-objects",
        elsewhere.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("differs from the one sealed"),
        "{}",
        stderr(&o)
    );

    // A server on the new stores carries on the same log.
    let moved = Node::start(&tmp.join("moved-data"), &database, to_objects, false);
    assert_eq!(get(&format!("{}/log/vkey", moved.url)).unwrap(), vkey);
    wait_until(
        "the new server to sequence",
        Duration::from_secs(30),
        || moved.sequencing_since().is_some(),
    );
    let case = submit(&http, &moved.url, &key, order("migrate", 1000)).await;
    assert!(case.is_some(), "{}", moved.log_text());
    let since = tmp.join("before");
    std::fs::write(&since, &before).unwrap();
    let prefix = format!("{}/log", moved.url);
    let size_before = size_root(&before).unwrap().0;
    wait_until("the new order in the log", Duration::from_secs(30), || {
        get(&format!("{}/log/checkpoint", moved.url))
            .as_deref()
            .and_then(size_root)
            .is_some_and(|(size, _)| size >= size_before + 2)
    });
    let o = writ(&[
        "log",
        "verify",
        "--url",
        &prefix,
        "--vkey",
        vkey.trim(),
        "--since",
        since.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
}

/// Packages live beside the log's objects, so either server serves what the
/// sequencer sealed, and after the sequencer is lost the other one seals new
/// packages and still serves the old ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packages_survive_the_loss_of_the_sequencer() {
    let Some(pg) = postgres() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let objects = tmp.path().join("objects");
    packages_follow_the_sequencer(&pg, objects.to_str().unwrap(), tmp.path()).await;
}

/// The same with the packages in an S3 bucket.
#[cfg(feature = "s3")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packages_survive_the_loss_of_the_sequencer_on_s3() {
    let Some(pg) = postgres() else { return };
    let Some(bucket) = s3_bucket("packages") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let objects = format!("s3://{bucket}/deployment");
    packages_follow_the_sequencer(&pg, &objects, tmp.path()).await;
    // The packages are in the bucket, not on either machine's disk.
    let stored = writ_tlog::storage::ObjectsLocation::parse(&objects)
        .unwrap()
        .open("packages")
        .unwrap()
        .list()
        .await
        .unwrap();
    assert_eq!(stored.len(), 3, "{stored:?}");
    for node in ["a", "b"] {
        let work = tmp.path().join(node).join("work");
        let left: Vec<_> = std::fs::read_dir(&work)
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{node}: {left:?}");
    }
}

/// A fresh bucket on the S3 server of the tests (`WRIT_TEST_S3`), or `None`
/// after saying that the test is skipped; a missing server fails under
/// `WRIT_CI=1`.
#[cfg(feature = "s3")]
fn s3_bucket(name: &str) -> Option<String> {
    let endpoint = match std::env::var("WRIT_TEST_S3") {
        Ok(e) => e,
        Err(_) if std::env::var("WRIT_CI").is_ok_and(|v| v == "1") => {
            panic!("WRIT_CI=1 but WRIT_TEST_S3 is not set: the S3 tests must run")
        }
        Err(_) => {
            eprintln!("SKIPPED: no S3 server (set WRIT_TEST_S3 and AWS_*, as .ci/s3.sh does)");
            return None;
        }
    };
    let bucket = format!("writ-{name}-{}", std::process::id());
    ureq::put(format!("{endpoint}/{bucket}"))
        .send_empty()
        .unwrap();
    Some(bucket)
}

async fn packages_follow_the_sequencer(pg: &str, objects_arg: &str, tmp: &Path) {
    let database = fresh_database(pg).await;
    let a = Node::start(&tmp.join("a"), &database, objects_arg, true);
    wait_until(
        "the first server to sequence",
        Duration::from_secs(30),
        || a.sequencing_since().is_some(),
    );
    // Both run the demo connector; the demo is seeded once, by the first.
    let b = Node::start(&tmp.join("b"), &database, objects_arg, true);
    let agency_dir = tmp.join("a/demo/agencies/us-fbi-wfo");
    let key = writ_gateway::demo::read_signing_key(
        &std::fs::read_to_string(agency_dir.join("signing.key")).unwrap(),
    )
    .unwrap();
    let http = reqwest::Client::new();

    // Fetched through a server, checked against its Content-Digest, opened
    // with the agency's age identity and checked against its manifest.
    let fetch = |server: &str, case: &str| {
        let out = tmp.join("fetched").join(server.replace([':', '/'], "_"));
        writ(&[
            "fetch",
            "--server",
            server,
            "--agency",
            "us-fbi-wfo",
            "--key",
            agency_dir.join("signing.key").to_str().unwrap(),
            "--identity",
            agency_dir.join("age-identity.txt").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            case,
        ])
    };
    let first = submit(&http, &b.url, &key, alice_subpoena("PACKAGES-1"))
        .await
        .expect("acknowledged");
    // Sealed by the sequencer (a), served by the other (b).
    let fetched = |server: &str, case: &str, what: &str, logs: &dyn Fn() -> String| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let o = fetch(server, case);
            if o.status.success() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {}\n{}",
                stderr(&o),
                logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    fetched(&b.url, &first, "the first package", &|| {
        format!("{}\n--\n{}", a.log_text(), b.log_text())
    });
    assert!(
        b.log_text().lines().all(|l| !l.contains("delivery:")),
        "{}",
        b.log_text()
    );

    let mut a = a;
    a.child.kill().unwrap(); // SIGKILL
    a.child.wait().unwrap();
    let second = submit(&http, &b.url, &key, alice_subpoena("PACKAGES-2"))
        .await
        .expect("acknowledged");
    fetched(
        &b.url,
        &second,
        "the second package, sealed by the new sequencer",
        &|| b.log_text(),
    );
    let o = fetch(&b.url, &first);
    assert!(o.status.success(), "{}", stderr(&o));

    // The first comes back as a follower; then the second is lost, and the
    // first takes over again: either server may go.
    let a = Node::start(&tmp.join("a"), &database, objects_arg, true);
    let mut b = b;
    b.child.kill().unwrap();
    b.child.wait().unwrap();
    let third = submit(&http, &a.url, &key, alice_subpoena("PACKAGES-3"))
        .await
        .expect("acknowledged");
    fetched(
        &a.url,
        &third,
        "the third package, sealed by the first server again",
        &|| a.log_text(),
    );
    for case in [&first, &second] {
        let o = fetch(&a.url, case);
        assert!(o.status.success(), "{}", stderr(&o));
    }
}

/// The portal's challenge and session are the deployment's, not one
/// server's: a challenge shown by one server signs in at the other, once,
/// and the session works on both. The sign-in form's double-submit token
/// needs no shared state, so it passes at the other server too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_sign_in_works_across_servers() {
    use base64::Engine as _;
    use ed25519_dalek::Signer as _;
    let Some(pg) = postgres() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let database = fresh_database(&pg).await;
    let objects = tmp.path().join("objects");
    let a = Node::start(
        &tmp.path().join("a"),
        &database,
        objects.to_str().unwrap(),
        true,
    );
    let b = Node::start(
        &tmp.path().join("b"),
        &database,
        objects.to_str().unwrap(),
        true,
    );
    let key = writ_gateway::demo::read_signing_key(
        &std::fs::read_to_string(tmp.path().join("a/demo/agencies/us-fbi-wfo/signing.key"))
            .unwrap(),
    )
    .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(format!("{}/portal", a.url)).send().await.unwrap();
    let pre_session = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("writ_portal_sign_in="))
        .expect("a sign-in cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = page.text().await.unwrap();
    let csrf = pre_session.split_once('=').unwrap().1.to_owned();
    assert!(
        page.contains(&format!("name=\"csrf\" value=\"{csrf}\"")),
        "{page}"
    );
    let start = page.find("writ-portal-sign-in:").expect("a challenge");
    let challenge: String = page[start..]
        .chars()
        .take_while(|c| *c != '"' && *c != '\'')
        .collect();
    let message = writ_gateway::auth::portal_sign_in_message(&challenge);
    let signature =
        base64::engine::general_purpose::STANDARD.encode(key.sign(message.as_bytes()).to_bytes());
    let form = format!(
        "csrf={csrf}&agency=us-fbi-wfo&challenge={}&signature={}",
        form_encode(&challenge),
        form_encode(&signature)
    );
    let sign_in = |server: String| {
        http.post(format!("{server}/portal/sign-in"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", &pre_session)
            .body(form.clone())
            .send()
    };
    // Without the cookie the form is refused, and the challenge is not used up.
    let forged = http
        .post(format!("{}/portal/sign-in", b.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    let signed_in = sign_in(b.url.clone()).await.unwrap();
    assert_eq!(signed_in.status().as_u16(), 303, "{}", b.log_text());
    let cookie = signed_in
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    // Once only, whichever server sees it again.
    assert_eq!(sign_in(a.url.clone()).await.unwrap().status().as_u16(), 401);
    for server in [&a.url, &b.url] {
        let home = http
            .get(format!("{server}/portal"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(home.contains("/portal/sign-out"), "{server}: {home}");
        assert!(home.contains("us-fbi-wfo"), "{server}");
    }
}

/// `application/x-www-form-urlencoded` for one value.
fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
