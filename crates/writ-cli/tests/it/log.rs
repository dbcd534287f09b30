//! `writ log key | verify | prove` against a log written by the library.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use writ_tlog::{Config, InclusionProof, Log};

fn writ(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_writ"))
        .args(args)
        .output()
        .unwrap()
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// A data folder with a log of `n` entries; returns the two checkpoints
/// published along the way.
fn make_log(data: &Path, n: u64) -> (String, String) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let log = Log::open_dir(data, Config::default()).await.unwrap();
        log.append_batch(
            (0..n / 2)
                .map(|i| format!("entry {i}").into_bytes())
                .collect(),
        )
        .await
        .unwrap();
        let first = log.publish_now().await.unwrap().note;
        log.append_batch(
            (n / 2..n)
                .map(|i| format!("entry {i}").into_bytes())
                .collect(),
        )
        .await
        .unwrap();
        let second = log.close().await.unwrap().note;
        (first, second)
    })
}

#[test]
fn key_verify_prove() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (first, second) = make_log(&data, 1000);
    let data_arg = data.to_str().unwrap();
    let objects: PathBuf = data.join("objects/log");
    let objects_arg = objects.to_str().unwrap();

    let out = writ(&["log", "key", "--data", data_arg]);
    assert_eq!(code(&out), 0);
    let vkey = stdout(&out).trim().to_owned();
    assert!(vkey.starts_with("writ.example/log+"), "{vkey}");
    // The key never changes.
    assert_eq!(
        stdout(&writ(&["log", "key", "--data", data_arg])).trim(),
        vkey
    );

    let out = writ(&["log", "verify", "--dir", objects_arg, "--vkey", &vkey]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout(&out), second);

    let since = tmp.path().join("since");
    std::fs::write(&since, &first).unwrap();
    let since_arg = since.to_str().unwrap();
    let out = writ(&[
        "log",
        "verify",
        "--dir",
        objects_arg,
        "--vkey",
        &vkey,
        "--since",
        since_arg,
    ]);
    assert_eq!(code(&out), 0);

    let out = writ(&["log", "prove", "--data", data_arg, "--index", "777"]);
    assert_eq!(code(&out), 0);
    let proof: InclusionProof = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((proof.index, proof.size), (777, 1000));
    proof.verify().unwrap();
    assert_eq!(
        proof.leaf_hash,
        writ_tlog::hash::leaf_hash(b"entry 777").to_base64()
    );
    assert_eq!(
        code(&writ(&[
            "log", "prove", "--data", data_arg, "--index", "1000"
        ])),
        2
    );

    // Over HTTP.
    let url = serve(objects.clone());
    let out = writ(&[
        "log", "verify", "--url", &url, "--vkey", &vkey, "--since", since_arg,
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout(&out), second);

    // Bad usage.
    assert_eq!(
        code(&writ(&[
            "log",
            "verify",
            "--dir",
            objects_arg,
            "--vkey",
            "nope"
        ])),
        2
    );
    assert_eq!(code(&writ(&["log", "verify", "--vkey", &vkey])), 2);
    assert_eq!(
        code(&writ(&[
            "log",
            "verify",
            "--dir",
            objects_arg,
            "--url",
            &url,
            "--vkey",
            &vkey
        ])),
        2
    );

    // A rollback: the log is older than a checkpoint seen before.
    std::fs::write(&since, &second).unwrap();
    std::fs::write(objects.join("checkpoint"), &first).unwrap();
    let out = writ(&[
        "log",
        "verify",
        "--dir",
        objects_arg,
        "--vkey",
        &vkey,
        "--since",
        since_arg,
    ]);
    assert_eq!(code(&out), 1);
    std::fs::write(objects.join("checkpoint"), &second).unwrap();

    // A tampered bundle.
    let bundle = objects.join("tile/entries/001");
    let mut bytes = std::fs::read(&bundle).unwrap();
    bytes[5] ^= 1;
    std::fs::write(&bundle, &bytes).unwrap();
    let out = writ(&["log", "verify", "--dir", objects_arg, "--vkey", &vkey]);
    assert_eq!(code(&out), 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("verification failed"));
}

/// Serves a folder over HTTP/1.1, one request per connection, in a thread.
fn serve(root: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() || line == "\r\n" || line.is_empty() {
                    break;
                }
            }
            let path = request_line.split(' ').nth(1).unwrap_or("/");
            let rel = path.trim_start_matches("/log/");
            let body = if rel.contains("..") {
                None
            } else {
                std::fs::read(root.join(rel)).ok()
            };
            let response = match body {
                Some(body) => {
                    let mut r = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    r.extend_from_slice(&body);
                    r
                }
                None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_vec(),
            };
            let _ = stream.write_all(&response);
        }
    });
    format!("http://{addr}/log")
}
