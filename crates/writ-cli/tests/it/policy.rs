use crate::{stdout, writ};

#[test]
fn policy_test_runs_the_public_corpus() {
    let out = writ(&["policy", "test", "corpus/public"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(stdout(&out).lines().last(), Some("64 passed, 0 failed"));
}

#[test]
fn policy_test_reports_failures_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let good = crate::repo().join("corpus/public/001-us-subpoena-subscriber.json");
    std::fs::copy(&good, dir.path().join("a-good.json")).unwrap();
    let text = std::fs::read_to_string(&good)
        .unwrap()
        .replace("\"outcome\": \"approve\"", "\"outcome\": \"reject\"");
    std::fs::write(dir.path().join("b-wrong.json"), text).unwrap();
    std::fs::write(dir.path().join("c-broken.json"), "{\"name\": 1}").unwrap();
    let out = writ(&["policy", "test", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("b-wrong.json"), "{text}");
    assert!(
        text.contains("outcome: expected `reject`, got `approve`"),
        "{text}"
    );
    assert!(
        text.contains("c-broken.json") && text.contains("name: invalid type"),
        "{text}"
    );
    assert_eq!(text.lines().last(), Some("1 passed, 2 failed"));
}

#[test]
fn policy_check_validates_a_pack() {
    let out = writ(&["policy", "check", "crates/writ-policy/pack"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).starts_with("writ-default version 1:"));

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("policy.toml"),
        "id = \"x\"\nversion = \"1\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("a.cedar"),
        "@id(\"base\") @level(\"base\") permit (principal, action == Writ::Action::\"accept\", resource);",
    )
    .unwrap();
    let out = writ(&["policy", "check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(crate::stderr(&out).contains("the pack must refuse hacking"));
}

#[test]
fn a_missing_folder_is_bad_input() {
    let out = writ(&["policy", "test", "no/such/folder"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(crate::stderr(&out).contains("no/such/folder"));
}
