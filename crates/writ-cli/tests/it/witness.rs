//! A witnessed log, as an operator runs it: `writ witness serve` beside
//! `writ serve --witness`, then the verifiers with `--witness --quorum`,
//! offline receipts, `writ log watch`, and a witness going down.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{stderr, stdout, writ};

struct Proc {
    child: Child,
    url: String,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `writ ARGS` and waits for its `listening on URL` line.
fn spawn(args: &[&str]) -> Proc {
    let mut child = Command::new(env!("CARGO_BIN_EXE_writ"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("exited before listening").unwrap();
        if let Some(url) = line.strip_prefix("listening on ") {
            break url.to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Proc { child, url }
}

fn get(url: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent.get(url).call().unwrap();
    (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
}

/// Polls `url` until `pred` holds on its body (20 s at most).
fn until(url: &str, pred: impl Fn(u16, &str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = get(url);
        if pred(status, &body) {
            return body;
        }
        assert!(Instant::now() < deadline, "{url}: {status} {body}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn witnessed_log_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // The log's verifier key before the server runs; a copy of the store
    // holding only the key makes a second log with the same key (a fork).
    let out = writ(&["log", "key", "--data", s(&data)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let vkey = stdout(&out).trim().to_owned();
    let fork_data = tmp.path().join("fork");
    std::fs::create_dir_all(&fork_data).unwrap();
    for f in ["writ.db", "writ.db-wal"] {
        if data.join(f).exists() {
            std::fs::copy(data.join(f), fork_data.join(f)).unwrap();
        }
    }

    let wkey_file = tmp.path().join("witness.key");
    let out = writ(&[
        "witness",
        "key",
        "--out",
        s(&wkey_file),
        "--name",
        "witness.test/w",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let wvkey = stdout(&out).lines().last().unwrap().to_owned();
    assert!(wvkey.starts_with("witness.test/w+"), "{wvkey}");
    // Never overwritten.
    assert_eq!(
        writ(&["witness", "key", "--out", s(&wkey_file)])
            .status
            .code(),
        Some(2)
    );
    let other = tmp.path().join("other.key");
    let other_vkey = stdout(&writ(&["witness", "key", "--out", s(&other)]))
        .trim()
        .to_owned();

    let wdata = tmp.path().join("wdata");
    let witness = spawn(&[
        "witness",
        "serve",
        "--key",
        s(&wkey_file),
        "--listen",
        "127.0.0.1:0",
        "--data",
        s(&wdata),
        "--log",
        &vkey,
    ]);
    let spec = format!("{wvkey}={}", witness.url);
    let server = spawn(&[
        "serve",
        "--demo",
        "--listen",
        "127.0.0.1:0",
        "--data",
        s(&data),
        "--witness",
        &spec,
        "--witness-bound",
        "1s",
    ]);
    let log_url = format!("{}/log", server.url);
    // The demo's registry entries are logged and cosigned.
    let note = until(&format!("{log_url}/checkpoint"), |st, b| {
        st == 200
            && b.lines().nth(1).is_some_and(|n| n != "0")
            && b.contains("\u{2014} witness.test/w ")
    });
    assert!(note.starts_with(vkey.split('+').next().unwrap()));
    assert_eq!(
        until(&format!("{}/healthz", server.url), |st, _| st == 200),
        "ok\n"
    );
    // The public page names the witnesses and puts them in its verify
    // command.
    let (status, page) = get(&format!("{}/transparency", server.url));
    assert_eq!(status, 200);
    let shown = page.replace("&#39;", "'");
    assert!(
        shown.contains(&format!("--witness '{wvkey}' --quorum 1")),
        "{page}"
    );
    assert!(
        shown.contains("fewer than 1 of these 1 have cosigned"),
        "{page}"
    );

    // Verifiers: pass with the right witness, fail without its cosignature.
    let out = writ(&[
        "log",
        "verify",
        "--url",
        &log_url,
        "--vkey",
        &vkey,
        "--witness",
        &wvkey,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = writ(&[
        "log",
        "verify",
        "--url",
        &log_url,
        "--vkey",
        &vkey,
        "--witness",
        &wvkey,
        "--witness",
        &other_vkey,
        "--quorum",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("valid cosignatures"),
        "{}",
        stderr(&out)
    );
    let out = writ(&[
        "log",
        "verify",
        "--url",
        &log_url,
        "--vkey",
        &vkey,
        "--witness",
        &wvkey,
        "--quorum",
        "2",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a quorum above the witnesses given is bad input"
    );

    // An offline receipt for a case's first entry.
    let submit = |order: &str| {
        let out = writ(&[
            "submit",
            "--server",
            &server.url,
            "--key",
            s(&data.join("demo/agencies/us-fbi-wfo/signing.key")),
            "--agency",
            "us-fbi-wfo",
            s(&crate::repo().join("examples/orders").join(order)),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    };
    submit("subpoena.json");
    let vk = writ_tlog::NoteVerifier::parse(&vkey).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let (index, e) = 'found: loop {
        let note = get(&format!("{log_url}/checkpoint")).1;
        let size = vk.open_checkpoint(&note).unwrap().size;
        let indexes: Vec<u64> = (0..size).collect();
        let (_, entries) = writ_tlog::verify::proven_entries(
            &writ_tlog::verify::DirFetch(data.join("objects/log")),
            &vk,
            &indexes,
        )
        .unwrap();
        for p in entries {
            let e: serde_json::Value = serde_json::from_slice(&p.entry).unwrap();
            if e["case"].is_string() {
                break 'found (p.index, e);
            }
        }
        assert!(Instant::now() < deadline, "no case entry was cosigned");
        std::thread::sleep(Duration::from_millis(50));
    };
    let receipt = tmp.path().join("receipt.json");
    std::fs::write(
        &receipt,
        serde_json::json!({
            "v": 1, "case": e["case"], "account": "nobody@example.com",
            "entries": [{"index": index, "kind": e["kind"], "openings": []}]
        })
        .to_string(),
    )
    .unwrap();
    let proven = tmp.path().join("proven.json");
    let out = writ(&[
        "receipt",
        "prove",
        s(&receipt),
        "--url",
        &log_url,
        "--vkey",
        &vkey,
        "--witness",
        &wvkey,
        "--out",
        s(&proven),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = writ(&[
        "receipt",
        "verify",
        "--offline",
        s(&proven),
        "--vkey",
        &vkey,
        "--witness",
        &wvkey,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("receipt verified"),
        "{}",
        stdout(&out)
    );
    let out = writ(&[
        "receipt",
        "verify",
        "--offline",
        s(&proven),
        "--vkey",
        &vkey,
        "--witness",
        &other_vkey,
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "another witness: {}",
        stderr(&out)
    );
    let out = writ(&[
        "receipt",
        "verify",
        "--offline",
        s(&receipt),
        "--vkey",
        &vkey,
    ]);
    assert_eq!(out.status.code(), Some(1), "no proofs: {}", stderr(&out));
    // A proof whose entry was changed does not verify.
    let text = std::fs::read_to_string(&proven).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let p = v["proofs"][0].as_str().unwrap().to_owned();
    let extra = p.lines().nth(1).unwrap().to_owned();
    let mut bytes = base64_decode(extra.strip_prefix("extra ").unwrap());
    let last = bytes.len() - 2;
    bytes[last] ^= 1;
    v["proofs"][0] = p
        .replace(&extra, &format!("extra {}", base64_encode(&bytes)))
        .into();
    let tampered = tmp.path().join("tampered.json");
    std::fs::write(&tampered, v.to_string()).unwrap();
    let out = writ(&[
        "receipt",
        "verify",
        "--offline",
        s(&tampered),
        "--vkey",
        &vkey,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    // The user's notice carries its receipt with proofs against a
    // cosigned checkpoint: it verifies offline, with the witness required.
    let outbox = data.join("demo/outbox");
    let deadline = Instant::now() + Duration::from_secs(30);
    let eml = loop {
        let found = std::fs::read_dir(&outbox)
            .into_iter()
            .flatten()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "eml"));
        if let Some(p) = found {
            break std::fs::read_to_string(p).unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "no notice in {}",
            outbox.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let notice_receipt: serde_json::Value =
        serde_json::from_slice(&attachment(&eml, "receipt.json")).unwrap();
    assert_eq!(notice_receipt["witnessed"], true, "{notice_receipt}");
    assert_eq!(
        notice_receipt["proofs"].as_array().map(Vec::len),
        notice_receipt["entries"].as_array().map(Vec::len),
        "{notice_receipt}"
    );
    let from_notice = tmp.path().join("notice-receipt.json");
    std::fs::write(&from_notice, notice_receipt.to_string()).unwrap();
    let out = writ(&[
        "receipt",
        "verify",
        "--offline",
        s(&from_notice),
        "--vkey",
        &vkey,
        "--witness",
        &wvkey,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // The monitor agrees with the witness, and keeps its state.
    let state = tmp.path().join("watch.state");
    let wspec = format!("{wvkey}={}", witness.url);
    let out = writ(&[
        "log",
        "watch",
        "--url",
        &log_url,
        "--vkey",
        &vkey,
        "--witness",
        &wspec,
        "--once",
        "--state",
        s(&state),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("cosigned by witness.test/w"),
        "{}",
        stdout(&out)
    );

    // The witness goes down: orders are still taken, the published
    // checkpoint stays the cosigned one, and health says degraded.
    drop(witness);
    let before = get(&format!("{log_url}/checkpoint")).1;
    submit("court-order.json");
    let health = until(&format!("{}/healthz", server.url), |st, b| {
        st == 200 && b.starts_with("degraded")
    });
    assert!(health.contains("stays published"), "{health}");
    assert_eq!(get(&format!("{log_url}/checkpoint")).1, before);
    let metrics = get(&format!("{}/metrics", server.url)).1;
    assert!(metrics.contains("writ_log_witness_degraded 1"), "{metrics}");
    assert!(
        metrics.contains("writ_log_witness_up{witness=\"witness.test/w\"} 0"),
        "{metrics}"
    );
    drop(server);

    // A fork: another log with the same key (another history) is reported
    // by the monitor against the state it kept.
    let fork = spawn(&[
        "serve",
        "--demo",
        "--listen",
        "127.0.0.1:0",
        "--data",
        s(&fork_data),
    ]);
    let fork_url = format!("{}/log", fork.url);
    until(&format!("{fork_url}/checkpoint"), |st, b| {
        st == 200 && b.lines().nth(1).is_some_and(|n| n != "0")
    });
    let hook = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hook_url = format!("http://{}/alert", hook.local_addr().unwrap());
    let received = std::thread::spawn(move || {
        use std::io::{Read as _, Write as _};
        let (mut conn, _) = hook.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = vec![0u8; 65536];
        let mut got = Vec::new();
        while let Ok(n) = conn.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&got).contains("\"alert\"") {
                break;
            }
        }
        let _ = conn.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n");
        String::from_utf8_lossy(&got).into_owned()
    });
    let out = writ(&[
        "log",
        "watch",
        "--url",
        &fork_url,
        "--vkey",
        &vkey,
        "--once",
        "--state",
        s(&state),
        "--webhook",
        &hook_url,
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).starts_with("FORK: "), "{}", stdout(&out));
    assert!(received.join().unwrap().contains("\"alert\":\"fork\""));
}

/// The decoded body of the MIME part of `eml` whose file name is `name`
/// (base64 or quoted-printable, as the mailer chose).
fn attachment(eml: &str, name: &str) -> Vec<u8> {
    let eml = eml.replace("\r\n", "\n");
    let at = eml
        .find(&format!("filename=\"{name}\""))
        .unwrap_or_else(|| panic!("no {name} in the notice:\n{eml}"));
    let part = &eml[at..];
    let headers_end = part.find("\n\n").unwrap();
    let headers = eml[..at + headers_end]
        .rsplit("\n--")
        .next()
        .unwrap()
        .to_ascii_lowercase();
    let body = &part[headers_end + 2..];
    let body = &body[..body.find("\n--").unwrap_or(body.len())];
    if headers.contains("content-transfer-encoding: base64") {
        base64_decode(&body.split_whitespace().collect::<String>())
    } else if headers.contains("content-transfer-encoding: quoted-printable") {
        let joined = body.replace("=\n", "");
        let mut out = Vec::new();
        let bytes = joined.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'=' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        out
    } else {
        body.as_bytes().to_vec()
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}
