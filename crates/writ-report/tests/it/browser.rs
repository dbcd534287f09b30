//! The HTML report in a real browser: Debian's Chromium driven by
//! playwright-core (`tests/ui/`), JavaScript off, every chart drawn,
//! nothing fetched, and a screenshot taken. `.ci/chromium.sh` installs
//! both; without them the test is skipped loudly, except under `WRIT_CI=1`,
//! where it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use writ_report::render;
use writ_report::{CheckpointRef, Report};

use crate::{restricted, small_log, tally};

fn harness() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/ui")
}

/// Why the browser cannot run here, if it cannot.
fn missing() -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Some(format!("no Chromium at `{chromium}`"));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("no `node`".into());
    }
    if !harness().join("node_modules/playwright-core").is_dir() {
        return Some("playwright-core is not installed in tests/ui".into());
    }
    None
}

#[test]
fn the_report_page_renders_in_chromium_without_javascript() {
    if let Some(why) = missing() {
        if std::env::var_os("WRIT_CI").is_some() {
            panic!("browser test cannot run under WRIT_CI: {why} (run .ci/chromium.sh)");
        }
        eprintln!(
            "\n\n*** SKIPPED the_report_page_renders_in_chromium_without_javascript: {why}; \
             run .ci/chromium.sh ***\n"
        );
        return;
    }
    let mut log = small_log();
    log.extend(restricted("letter", "2026-H2", 500));
    let report = Report::new(
        "2026-H2",
        CheckpointRef {
            origin: "writ.example/log".into(),
            size: log.len() as u64,
            root: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into(),
        },
        tally(&log, "2026-H2"),
    );
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, render::to_html(&report).unwrap()).unwrap();
    let shot = dir.path().join("report.png");
    let out = Command::new("node")
        .arg(harness().join("screenshot.mjs"))
        .arg(&page)
        .arg(&shot)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "chromium: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(seen["heading"], "Transparency report 2026-H2");
    assert_eq!(seen["embedded"], "2026-H2");
    assert_eq!(seen["charts"].as_array().unwrap().len(), 3, "{seen}");
    assert_eq!(seen["requests"].as_array().unwrap().len(), 0, "{seen}");
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 10_000,
        "a blank screenshot: {} bytes",
        png.len()
    );
}
