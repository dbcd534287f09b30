//! A demo warrant for content, from `writ submit` through two people to a
//! package that `writ fetch` and Debian's `age -d` both open, holding
//! exactly the granted data.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::serve::start;
use crate::{repo, stderr, stdout, writ};

fn token(data: &Path, name: &str) -> String {
    let users = std::fs::read_to_string(data.join("demo/console-users.txt")).unwrap();
    users
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(name))
        .unwrap()
        .split_whitespace()
        .nth(4)
        .unwrap()
        .to_owned()
}

#[test]
fn a_demo_warrant_for_content_reaches_age_d() {
    let ci = std::env::var_os("WRIT_CI").is_some();
    let has_age = Command::new("age").arg("--version").output().is_ok();
    assert!(
        has_age || !ci,
        "WRIT_CI is set but the `age` CLI is not installed"
    );
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data);
    let agency_dir = data.join("demo/agencies/us-fbi-wfo");
    let key = agency_dir.join("signing.key").display().to_string();
    let identity = agency_dir.join("age-identity.txt").display().to_string();
    let order = repo().join("examples/orders/search-warrant.json");
    let o = writ(&[
        "submit",
        "--server",
        &server.url,
        "--agency",
        "us-fbi-wfo",
        "--key",
        &key,
        "--json",
        order.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let answer: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let case = answer["case"].as_str().unwrap().to_owned();

    let out = dir.path().join("out");
    let fetch = |with_identity: bool| {
        let mut args = vec![
            "fetch",
            "--server",
            &server.url,
            "--agency",
            "us-fbi-wfo",
            "--key",
            &key,
            "--out",
            out.to_str().unwrap(),
        ];
        if with_identity {
            args.extend(["--identity", &identity]);
        }
        args.push(&case);
        writ(&args)
    };
    // Another agency's key gets nothing, and an exit code of 1.
    let other = writ(&[
        "fetch",
        "--server",
        &server.url,
        "--agency",
        "us-nypd",
        "--key",
        &data
            .join("demo/agencies/us-nypd/signing.key")
            .display()
            .to_string(),
        "--out",
        out.to_str().unwrap(),
        &case,
    ]);
    assert_eq!(other.status.code(), Some(1), "{}", stderr(&other));

    // The subscriber record goes out at once; content waits for two people.
    let content = out.join(&case).join("acct-us-alice/content.ndjson");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let o = fetch(true);
        if o.status.success() {
            break;
        }
        assert!(Instant::now() < deadline, "{}", stderr(&o));
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        out.join(&case)
            .join("acct-us-alice/subscriber.ndjson")
            .exists()
    );
    assert!(!content.exists());

    let rita = token(&data, "rita");
    let alex = token(&data, "alex");
    for (t, action) in [(&rita, "approve"), (&alex, "confirm")] {
        let o = writ(&[
            "review",
            "--server",
            &server.url,
            "--token",
            t,
            action,
            &case,
        ]);
        assert!(o.status.success(), "{action}: {}", stderr(&o));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while !content.exists() {
        let o = fetch(true);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(Instant::now() < deadline, "no content package yet");
        std::thread::sleep(Duration::from_millis(200));
    }

    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join(&case).join("manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["case"], case.as_str());
    let paths: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "acct-us-alice/subscriber.ndjson",
            "acct-us-alice/content.ndjson"
        ]
    );
    let text = std::fs::read_to_string(&content).unwrap();
    assert!(!text.is_empty());
    for line in text.lines() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        let at = r["at"].as_str().unwrap();
        assert!(
            ("2026-01-01T00:00:00Z"..="2026-10-31T23:59:59Z").contains(&at),
            "{at} is outside the order's date range"
        );
    }

    if !has_age {
        eprintln!("SKIPPED the `age -d` half: the `age` CLI is not installed");
        return;
    }
    // The standard tool opens the same file, and the manifest's hashes match.
    let plain = dir.path().join("plain.tar");
    let status = Command::new("age")
        .args(["-d", "-i", &identity, "-o"])
        .arg(&plain)
        .arg(out.join(format!("{case}.age")))
        .status()
        .unwrap();
    assert!(status.success());
    let unpacked = dir.path().join("unpacked");
    std::fs::create_dir_all(&unpacked).unwrap();
    let status = Command::new("tar")
        .arg("-xf")
        .arg(&plain)
        .arg("-C")
        .arg(&unpacked)
        .status()
        .unwrap();
    assert!(status.success());
    for f in manifest["files"].as_array().unwrap() {
        let bytes = std::fs::read(unpacked.join(f["path"].as_str().unwrap())).unwrap();
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            f["sha256"].as_str().unwrap()
        );
        assert_eq!(
            bytes.iter().filter(|b| **b == b'\n').count() as u64,
            f["records"].as_u64().unwrap()
        );
    }
}
