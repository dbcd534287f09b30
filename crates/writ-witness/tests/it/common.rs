//! Shared helpers: logs, a witness on a local port, plain HTTP.

use std::path::Path;
use std::time::Duration;

use writ_tlog::cosignature::CosignerKey;
use writ_tlog::note::NoteVerifier;
use writ_tlog::{Config, Log, LogKey};
use writ_witness::Witness;

/// A log in `dir` with a fixed key, integrating only when asked.
pub async fn log(dir: &Path, origin: &str, key: &LogKey) -> Log {
    log_with(dir, origin, key, None).await
}

pub async fn log_with(
    dir: &Path,
    origin: &str,
    key: &LogKey,
    witness: Option<writ_tlog::witnessing::WitnessConfig>,
) -> Log {
    Log::open_dir(
        dir,
        Config {
            origin: Some(origin.to_owned()),
            period: Duration::from_secs(3600),
            key: Some(key.clone()),
            witness,
            ..Config::default()
        },
    )
    .await
    .unwrap()
}

/// Appends `n` entries tagged `tag` and publishes.
pub async fn grow(log: &Log, tag: &str, n: usize) -> writ_tlog::Published {
    for i in 0..n {
        log.append(format!("{tag} {i}").into_bytes()).await.unwrap();
    }
    log.publish_now().await.unwrap()
}

/// A witness serving on 127.0.0.1; stops when dropped.
pub struct Running {
    pub witness: Witness,
    pub url: String,
    pub addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub fn witness_key(name: &str) -> CosignerKey {
    CosignerKey::generate(name).unwrap()
}

/// Starts a witness of `logs` with `key` over the store in `data`, on
/// `addr` (port 0: any).
pub async fn start(key: &CosignerKey, data: &Path, logs: &[&NoteVerifier], addr: &str) -> Running {
    let key = CosignerKey::parse(&key.to_file_text()).unwrap();
    let witness = Witness::open(key, data, logs.iter().map(|v| (*v).clone()).collect())
        .await
        .unwrap();
    // A witness restarted on its old address may find the old listener
    // still open: an aborted task lets go of it only when next polled.
    let mut tries = 0;
    let listener = loop {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => break l,
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && tries < 250 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(e) => panic!("binding {addr}: {e}"),
        }
    };
    let addr = listener.local_addr().unwrap();
    let w = witness.clone();
    let task = tokio::spawn(async move {
        w.serve(listener, std::future::pending()).await.unwrap();
    });
    Running {
        witness,
        url: format!("http://{addr}"),
        addr,
        task,
    }
}

/// A plain HTTP POST: status, content type, body.
pub async fn post(url: &str, body: String) -> (u16, String, String) {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut resp = agent.post(&url).send(body).unwrap();
        let ct = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let status = resp.status().as_u16();
        (status, ct, resp.body_mut().read_to_string().unwrap())
    })
    .await
    .unwrap()
}

/// A plain HTTP GET: status and body.
pub async fn get(url: &str) -> (u16, String) {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut resp = agent.get(&url).call().unwrap();
        let status = resp.status().as_u16();
        (status, resp.body_mut().read_to_string().unwrap())
    })
    .await
    .unwrap()
}
