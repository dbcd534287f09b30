//! A full disk: `writ serve --demo` with its data folder on a small tmpfs.
//! Once a file fills the file system, new orders get 503 problem details
//! with `Retry-After` and `/healthz` says that the case store refuses
//! writes and why; when the file is removed the server takes orders again
//! by itself, without a restart. After a SIGKILL every acknowledged order
//! is there with its logged `received` event and `writ check` passes.
//!
//! Mounting a tmpfs needs root (CAP_SYS_ADMIN): without it the test says so
//! and passes (`tools/faults.sh` covers ENOSPC through strace everywhere).

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::check::check;
use crate::cluster::alice_subpoena;

/// A tmpfs mounted on a temporary folder, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().ok()?;
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then_some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_writ"))
        .args([
            "serve",
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--rate-limit",
            "0",
        ])
        .arg("--data")
        .arg(data)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("server exited").unwrap();
        if let Some(url) = line.strip_prefix("listening on ") {
            break url.to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
    Server { child, url }
}

/// What the server answered an order: status, `Retry-After`, content type,
/// body.
struct Answer {
    status: u16,
    retry_after: Option<String>,
    content_type: String,
    body: String,
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    key: &ed25519_dalek::SigningKey,
    body: Vec<u8>,
) -> Answer {
    let nonce = hex::encode(writ_gateway::random_bytes::<12>().unwrap());
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
        .post(format!("{url}/v1/orders"))
        .header("content-digest", digest)
        .header("signature-input", input)
        .header("signature", signature)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    Answer {
        status: response.status().as_u16(),
        retry_after: header("retry-after"),
        content_type: header("content-type").unwrap_or_default(),
        body: response.text().await.unwrap(),
    }
}

async fn healthz(http: &reqwest::Client, url: &str) -> (u16, String) {
    let r = http.get(format!("{url}/healthz")).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Fills the file system that holds `dir` with one more file; returns it.
fn fill(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    loop {
        match f.write(&chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
            Err(e) => panic!("filling {}: {e}", path.display()),
        }
    }
    // The last blocks, a byte at a time up to a page.
    while f.write(&[0u8; 512]).is_ok_and(|n| n > 0) {}
    let _ = f.sync_all();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_orders_with_503_and_recovers_without_a_restart() {
    let Some(fs) = Tmpfs::mount("48m") else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (needs root); tools/faults.sh covers ENOSPC");
        return;
    };
    let data = fs.path().join("data");
    let server = serve(&data);
    let key = writ_gateway::demo::read_signing_key(
        &std::fs::read_to_string(data.join("demo/agencies/us-fbi-wfo/signing.key")).unwrap(),
    )
    .unwrap();
    let http = reqwest::Client::new();
    let mut acked = Vec::new();
    let mut n = 0;
    let mut order = || {
        n += 1;
        alice_subpoena(&format!("DISK-FULL-{n}"))
    };

    for _ in 0..3 {
        let a = post(&http, &server.url, &key, order()).await;
        assert_eq!(a.status, 201, "{}", a.body);
        acked.push(a.body);
    }
    assert_eq!(healthz(&http, &server.url).await, (200, "ok\n".into()));

    // Full: orders are taken while SQLite still has room in its files, then
    // refused with 503.
    let filler = fill(fs.path(), "filler");
    let refused = loop {
        let a = post(&http, &server.url, &key, order()).await;
        match a.status {
            201 => acked.push(a.body),
            503 => break a,
            other => panic!("on a full disk: {other} {}", a.body),
        }
        assert!(acked.len() < 2000, "a full disk never refused an order");
    };
    assert_eq!(refused.content_type, "application/problem+json");
    assert_eq!(refused.retry_after.as_deref(), Some("10"));
    let problem: serde_json::Value = serde_json::from_str(&refused.body).unwrap();
    assert_eq!(problem["status"], 503, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("cannot write to its storage"),
        "{problem}"
    );
    let (status, body) = healthz(&http, &server.url).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body.starts_with("unavailable: storage: the case store refuses writes"),
        "{body}"
    );
    assert!(
        body.contains("No space left on device") || body.contains("full"),
        "{body}"
    );
    // Still refused while the disk stays full (undoing the failed writes
    // freed a little: fill that too), and /healthz keeps saying so.
    let filler_2 = fill(fs.path(), "filler-2");
    let a = post(&http, &server.url, &key, order()).await;
    assert_eq!(a.status, 503, "{}", a.body);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body) = healthz(&http, &server.url).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("No space left on device"), "{body}");

    // Space returns: healthy again and taking orders, without a restart.
    std::fs::remove_file(&filler).unwrap();
    std::fs::remove_file(&filler_2).unwrap();
    let start = Instant::now();
    loop {
        let (status, body) = healthz(&http, &server.url).await;
        if status == 200 && body == "ok\n" {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "still unhealthy after space returned: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for _ in 0..3 {
        let a = post(&http, &server.url, &key, order()).await;
        assert_eq!(a.status, 201, "{}", a.body);
        acked.push(a.body);
    }

    // Nothing acknowledged is lost, and the folder checks clean after a
    // SIGKILL and a restart that logs the outbox.
    drop(server);
    let server = serve(&data);
    let start = Instant::now();
    let ids: Vec<String> = acked
        .iter()
        .map(|b| {
            let v: serde_json::Value = serde_json::from_str(b).unwrap();
            v["case"].as_str().unwrap().to_owned()
        })
        .collect();
    let url = format!("sqlite://{}", data.join("writ.db").display());
    let store = writ_store::Store::open(&url).await.unwrap();
    loop {
        let mut unlogged = Vec::new();
        for id in &ids {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM events WHERE case_id = $1 AND kind = 'received' \
                 AND log_index IS NOT NULL",
            )
            .bind(id)
            .fetch_one(store.pool())
            .await
            .unwrap();
            if n != 1 {
                unlogged.push(id.clone());
            }
        }
        if unlogged.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "acknowledged orders without a logged `received` event: {unlogged:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    store.pool().close().await;
    drop(server);
    let (code, out, err) = check(&data, &None);
    assert_eq!(code, 0, "{out}\n{err}");
}

/// Standard error on a full device (`/dev/full`): every log line fails to
/// be written, and the server starts, takes an order and stops cleanly all
/// the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_standard_error_does_not_stop_the_server() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("SKIPPED: no /dev/full here");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // The listening line cannot be read: the port is chosen here.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_writ"))
        .args(["serve", "--demo", "--rate-limit", "0", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data")
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(full)
        .spawn()
        .unwrap();
    let server = Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    let start = Instant::now();
    let key_file = data.join("demo/agencies/us-fbi-wfo/signing.key");
    while http
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .is_err()
        || !key_file.exists()
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the server did not start with standard error on /dev/full"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let key =
        writ_gateway::demo::read_signing_key(&std::fs::read_to_string(&key_file).unwrap()).unwrap();
    let a = post(&http, &server.url, &key, alice_subpoena("STDERR-FULL-1")).await;
    assert_eq!(a.status, 201, "{}", a.body);
    // Asked to stop, it stops cleanly (exit 0), not with a panic.
    let mut server = server;
    let pid = server.child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status}");
}
