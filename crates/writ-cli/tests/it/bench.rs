//! `writ bench seal` on a small account.

use crate::{database_args, stderr, stdout, test_database, writ};

#[test]
fn bench_seal_reports_throughput_ratio_and_peak_rss() {
    let ci = std::env::var_os("WRIT_CI").is_some();
    if std::process::Command::new("age")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(!ci, "WRIT_CI is set but the `age` CLI is not installed");
        eprintln!(
            "SKIPPED bench_seal_reports_throughput_ratio_and_peak_rss: the `age` CLI is not installed"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().to_str().unwrap();
    let out = writ(&["bench", "seal", "--size", "2MB", "--json", "--work", work]);
    assert!(out.status.success(), "{}", stderr(&out));
    let reports: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let r = &reports[0];
    assert_eq!(r["size"], "2MB");
    assert!(r["plaintext_bytes"].as_u64().unwrap() > 1_000_000);
    assert!(r["ratio_seal"].as_f64().unwrap() > 0.0);
    assert!(r["peak_rss_mib"].as_f64().unwrap() < 64.0);
    // The work folder is cleaned up.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn bench_seal_refuses_a_bad_size() {
    let out = writ(&["bench", "seal", "--size", "lots"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("invalid size `lots`"));
}

#[test]
fn bench_emergency_times_order_to_package() {
    let database = test_database();
    let out = writ(
        &[
            &["bench", "emergency", "--runs", "2", "--json"][..],
            &database_args(&database),
        ]
        .concat(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(r["runs"], 2);
    let total = r["median_ms"].as_f64().unwrap();
    let parts = r["submit_ms"].as_f64().unwrap()
        + r["callback_ms"].as_f64().unwrap()
        + r["package_ready_ms"].as_f64().unwrap();
    assert!(total > 0.0 && parts > 0.0, "{r}");
    assert!(r["max_ms"].as_f64().unwrap() >= total);
}

#[test]
fn bench_objects_streams_a_large_object_with_flat_memory() {
    let dir = tempfile::tempdir().unwrap();
    let objects = dir.path().join("objects");
    let out = writ(&[
        "bench",
        "objects",
        "--objects",
        objects.to_str().unwrap(),
        "--size",
        "40MiB",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(r["bytes"], 40 * 1024 * 1024);
    for field in ["local_copy_mb_s", "upload_mb_s", "download_mb_s"] {
        assert!(r[field].as_f64().unwrap() > 0.0, "{field}: {r}");
    }
    // Far less than the object: it was never held whole.
    assert!(r["peak_rss_mib"].as_f64().unwrap() < 32.0, "{r}");
    // The object is deleted afterwards.
    assert_eq!(std::fs::read_dir(objects.join("bench")).unwrap().count(), 0);
    let bad = writ(&["bench", "objects", "--objects", "ftp://x", "--size", "1MB"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
}
