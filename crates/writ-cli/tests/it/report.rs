//! `writ simulate`, `writ report` and `writ report verify`, run as a user
//! runs them.

use std::path::Path;

use crate::{database_args, stderr, stdout, test_database, writ};

fn simulate(data: &Path, events: &str) {
    let o = writ(&[
        "simulate",
        "--data",
        data.to_str().unwrap(),
        "--events",
        events,
        "--now",
        "2026-11-28T12:00:00Z",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

fn vkey(data: &Path) -> String {
    let o = writ(&["log", "key", "--data", data.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o).trim().to_owned()
}

fn verify(report: &Path, data: &Path, vkey: &str) -> std::process::Output {
    let objects = writ_tlog::objects_dir(data);
    writ(&[
        "report",
        "verify",
        report.to_str().unwrap(),
        "--dir",
        objects.to_str().unwrap(),
        "--vkey",
        vkey,
    ])
}

#[test]
fn simulated_log_reports_and_verifies_in_every_form() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    simulate(&data, "4000");
    let vkey = vkey(&data);

    // Every simulated entry reads as a log entry of `docs/formats.md`.
    let bundle = std::fs::read(writ_tlog::objects_dir(&data).join("tile/entries/000")).unwrap();
    let entries = writ_tlog::tiles::split_bundle(&bundle).unwrap();
    assert_eq!(entries.len(), 256);
    for e in entries {
        writ_events::Entry::parse(e).unwrap();
    }

    let o = writ(&[
        "report",
        "--data",
        data.to_str().unwrap(),
        "--period",
        "2026-H2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["checkpoint"]["size"], 4000);
    let totals = &report["figures"]["totals"];
    let requests = totals["requests"].as_u64().unwrap();
    let outcomes: u64 = totals["outcomes"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(outcomes, requests);
    // Microsoft's 1.8 accounts per request, within sampling error.
    let per_request = totals["accounts_specified"].as_u64().unwrap() as f64 / requests as f64;
    assert!((1.6..2.0).contains(&per_request), "{per_request}");

    let json = dir.path().join("report.json");
    std::fs::write(&json, stdout(&o)).unwrap();
    let o = verify(&json, &data, &vkey);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("accepted"), "{}", stdout(&o));

    for format in ["csv", "html"] {
        let out = dir.path().join(format!("report.{format}"));
        let o = writ(&[
            "report",
            "--data",
            data.to_str().unwrap(),
            "--period",
            "2026-H2",
            "--format",
            format,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let o = verify(&out, &data, &vkey);
        assert!(o.status.success(), "{format}: {}", stderr(&o));
    }

    // A CSV that is not its JSON's rendering.
    let csv = dir.path().join("report.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let line = text.lines().nth(1).unwrap().to_owned();
    let changed = line.replacen("2026-12-31,", "2026-12-30,", 1);
    assert_ne!(changed, line);
    std::fs::write(&csv, text.replace(&line, &changed)).unwrap();
    let o = verify(&csv, &data, &vkey);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("rejected"), "{}", stderr(&o));

    // A figure changed in the JSON: the signature no longer holds.
    let text = std::fs::read_to_string(&json).unwrap();
    let tampered = text.replacen(
        &format!("\"requests\": {requests}"),
        &format!("\"requests\": {}", requests - 1),
        1,
    );
    assert_ne!(tampered, text);
    std::fs::write(&json, tampered).unwrap();
    let o = verify(&json, &data, &vkey);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("signature"), "{}", stderr(&o));
}

#[test]
fn a_report_is_checked_against_the_right_log_key() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    simulate(&a, "300");
    simulate(&b, "300");
    let o = writ(&[
        "report",
        "--data",
        a.to_str().unwrap(),
        "--period",
        "2026-H2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report = dir.path().join("a.json");
    std::fs::write(&report, stdout(&o)).unwrap();
    // Log b's key and log b: a's report is not b's.
    let o = verify(&report, &b, &vkey(&b));
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    // Bad usage: exit 2.
    let o = writ(&[
        "report",
        "--data",
        a.to_str().unwrap(),
        "--period",
        "2026-Q3",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// `writ serve` on a simulated folder: its signed report is the one the
/// folder gives, and it verifies over HTTP. A simulated log is written to
/// SQLite; on PostgreSQL the folder is first moved there with `writ
/// migrate`, as a deployment would be, and served from there.
#[test]
fn a_served_simulated_log_reports_over_http() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    simulate(&data, "1500");
    let vkey = vkey(&data);
    let local = writ(&[
        "report",
        "--data",
        data.to_str().unwrap(),
        "--period",
        "2026-H2",
    ]);
    assert!(local.status.success(), "{}", stderr(&local));

    let database = test_database();
    if let Some(url) = &database {
        let sqlite = format!("sqlite://{}", data.join("writ.db").display());
        let o = writ(&["migrate", "--from", &sqlite, "--to", url]);
        assert!(o.status.success(), "{}", stderr(&o));
        // The server must not fall back on the SQLite file.
        for file in ["writ.db", "writ.db-wal", "writ.db-shm"] {
            let _ = std::fs::remove_file(data.join(file));
        }
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_writ"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .args(database_args(&database))
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
    std::thread::spawn(move || for _ in lines {});
    let prefix = format!("{url}/log");

    let served = writ(&["report", "--url", &prefix, "--period", "2026-H2"]);
    let page = dir.path().join("page.html");
    let html = writ(&[
        "report",
        "--url",
        &prefix,
        "--period",
        "2026-H2",
        "--format",
        "html",
        "--out",
        page.to_str().unwrap(),
    ]);
    let verified = writ(&[
        "report",
        "verify",
        page.to_str().unwrap(),
        "--url",
        &prefix,
        "--vkey",
        &vkey,
    ]);
    let _ = child.kill();
    let _ = child.wait();

    assert!(served.status.success(), "{}", stderr(&served));
    // Ed25519 signatures are deterministic: the same figures at the same
    // checkpoint give the same document.
    assert_eq!(stdout(&served), stdout(&local));
    assert!(html.status.success(), "{}", stderr(&html));
    assert!(verified.status.success(), "{}", stderr(&verified));
    assert!(
        stdout(&verified).contains("covers 1500 entries"),
        "{}",
        stdout(&verified)
    );
}
