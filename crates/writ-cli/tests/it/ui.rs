//! The console and the agency portal in a real Chromium: `tests/ui/flow.mjs`
//! (playwright-core) against a real `writ serve --demo`. It signs in, works
//! a case through a reviewer and an approver, records an emergency callback,
//! submits orders through the portal and downloads a package; screenshots go
//! to `target/ui-screenshots/`.
//!
//! Needs Node.js, Chromium and `npm ci` in `tests/ui` (`.ci/chromium.sh`).
//! Without them the test is skipped with a message, unless `WRIT_CI` is set.

use std::path::Path;
use std::process::Command;

use crate::repo;
use crate::serve::start;

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())
}

/// What is missing to run the browser test, if anything.
fn missing() -> Vec<String> {
    let mut missing = Vec::new();
    if Command::new("node").arg("--version").output().is_err() {
        missing.push("node".to_owned());
    }
    if !Path::new(&chromium()).exists() {
        missing.push(chromium());
    }
    if !repo()
        .join("tests/ui/node_modules/playwright-core")
        .exists()
    {
        missing.push("tests/ui/node_modules (run `npm ci` in tests/ui)".to_owned());
    }
    missing
}

#[test]
fn console_and_portal_in_chromium() {
    let missing = missing();
    if !missing.is_empty() {
        assert!(
            std::env::var_os("WRIT_CI").is_none(),
            "WRIT_CI is set but the browser test cannot run: missing {missing:?}"
        );
        eprintln!(
            "\n*** SKIPPED console_and_portal_in_chromium: missing {} \
             (bash .ci/chromium.sh installs them; WRIT_CI=1 makes this a failure) ***\n",
            missing.join(", ")
        );
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let server = start(data.path());
    let shots = repo().join("target/ui-screenshots");
    let out = Command::new("node")
        .arg(repo().join("tests/ui/flow.mjs"))
        .env("WRIT_URL", &server.url)
        .env("WRIT_DATA", data.path())
        .env("WRIT_EXAMPLES", repo().join("examples/orders"))
        .env("WRIT_SCREENSHOTS", &shots)
        .env("CHROMIUM", chromium())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the browser flow failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    for shot in [
        "03-console-queue.png",
        "05-case-confirmed.png",
        "08-portal-package.png",
        "12-transparency.png",
    ] {
        assert!(shots.join(shot).exists(), "no screenshot {shot}");
    }
}
