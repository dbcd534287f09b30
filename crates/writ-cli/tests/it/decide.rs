use serde_json::Value;

use crate::{stderr, stdout, writ};

#[test]
fn decide_a_case_prints_the_decision() {
    let out = writ(&[
        "decide",
        "--case",
        "corpus/public/002-us-subpoena-asks-content.json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let d: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(d["outcome"], "partial");
    assert_eq!(d["decisions"][1]["status"], "deny");
    assert_eq!(d["reasons"][0]["code"], "category_not_authorized");
    assert_eq!(d["policy"]["id"], "writ-default");
}

#[test]
fn a_refusal_is_a_decision_not_an_error() {
    let out = writ(&[
        "decide",
        "--case",
        "corpus/public/016-warrant-with-malware-install.json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let d: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(d["outcome"], "reject");
    assert_eq!(d["reasons"][0]["code"], "hacking_refused");
}

/// The same decision from separate files as from the case file.
#[test]
fn decide_from_separate_files() {
    let case: Value = serde_json::from_slice(
        &std::fs::read(crate::repo().join("corpus/public/030-us-preservation-renewal.json"))
            .unwrap(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, v: &Value| {
        let p = dir.path().join(name);
        std::fs::write(&p, v.to_string()).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let order = write("order.json", &case["order"]);
    let registry = write("registry.json", &case["agencies"]);
    let directory = write("directory.json", &case["accounts"]);
    let prior = write("prior.json", &case["prior"]);
    let out = writ(&[
        "decide",
        "--order",
        &order,
        "--registry",
        &registry,
        "--directory",
        &directory,
        "--prior",
        &prior,
        "--now",
        "2026-11-28T12:00:00Z",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let d: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(d["outcome"], "approve");
    assert_eq!(d["preserve_until"], "2027-03-10T00:00:00Z");

    // --submitted-by overrides the order's agency.
    let out = writ(&[
        "decide",
        "--order",
        &order,
        "--registry",
        &registry,
        "--directory",
        &directory,
        "--now",
        "2026-11-28T12:00:00Z",
        "--submitted-by",
        "us-nypd",
    ]);
    let d: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(d["reasons"][0]["code"], "submitter_mismatch");
}

#[test]
fn malformed_input_exits_2_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(
        crate::repo().join("corpus/public/001-us-subpoena-subscriber.json"),
    )
    .unwrap()
    .replace(
        "\"kind\": \"email\",\n        \"value\": \"alice@example.com\"",
        "\"kind\": \"ip\",\n        \"value\": \"alice@example.com\"",
    );
    let path = dir.path().join("case.json");
    std::fs::write(&path, text).unwrap();
    let out = writ(&["decide", "--case", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("case.json: order.targets[0].kind: unknown variant `ip`"),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
    assert!(!err.contains("panicked"));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["decide"][..],
        &["decide", "--order", "x.json"][..],
        &["decide", "--case", "no-such-file.json"][..],
        &["frobnicate"][..],
    ] {
        let out = writ(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
    let out = writ(&[
        "decide",
        "--order",
        "corpus/public/001-us-subpoena-subscriber.json",
        "--registry",
        "corpus/public/001-us-subpoena-subscriber.json",
        "--directory",
        "corpus/public/001-us-subpoena-subscriber.json",
        "--now",
        "soon",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bench_decide_reports_latency() {
    let out = writ(&["bench", "decide", "--decisions", "50"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("us-warrant-mixed-locations: 2 targets x 1 categories: median ")
            && text.contains("decisions/s"),
        "{text}"
    );
}
