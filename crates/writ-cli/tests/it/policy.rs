use std::path::Path;
use std::process::Command;

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

/// Whether the cvc5 solver is there (WRIT_CVC5 or PATH); under `WRIT_CI=1`
/// a missing solver fails the test instead of skipping it.
fn have_solver() -> bool {
    let found = std::env::var_os("WRIT_CVC5").is_some_and(|p| Path::new(&p).is_file())
        || std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join("cvc5").is_file()));
    if !found {
        assert!(
            std::env::var_os("WRIT_CI").is_none(),
            "WRIT_CI is set and the cvc5 solver is missing"
        );
        eprintln!("SKIPPED: no cvc5 solver (WRIT_CVC5 or PATH)");
    }
    found
}

/// A copy of the default pack with the subpoena rule's instrument misspelled.
fn misspelled_subpoena_pack() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let pack = crate::repo().join("crates/writ-policy/pack");
    for entry in std::fs::read_dir(&pack).unwrap() {
        let path = entry.unwrap().path();
        let mut text = std::fs::read_to_string(&path).unwrap();
        if path.ends_with("50-reach.cedar") {
            text = text.replacen(
                "context.order.instrument == \"subpoena\"",
                "context.order.instrument == \"subpeona\"",
                1,
            );
        }
        std::fs::write(dir.path().join(path.file_name().unwrap()), text).unwrap();
    }
    dir
}

#[test]
fn policy_prove_proves_the_default_pack() {
    if !have_solver() {
        return;
    }
    let out = writ(&["policy", "prove"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", crate::stderr(&out));
    assert!(text.contains("proven  C.hacking: "), "{text}");
    assert!(text.contains("proven  F.subpoena.content: "), "{text}");
    let last = text.lines().last().unwrap();
    assert!(
        last.starts_with("31 proven, 2 held by the engine, 0 failed ("),
        "{last}"
    );
}

#[test]
fn policy_prove_refuses_a_broken_pack_with_a_counterexample() {
    if !have_solver() {
        return;
    }
    let dir = misspelled_subpoena_pack();
    let out = writ(&["policy", "prove", "--pack", dir.path().to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let failure = text
        .split("FAILED  ")
        .find(|s| s.starts_with("F.subpoena.content"))
        .unwrap_or_else(|| panic!("{text}"));
    let failure = failure.split("\nproven").next().unwrap();
    assert!(
        failure.contains("instrument = \"subpoena\"") && failure.contains("category: \"content\""),
        "{failure}"
    );
    assert!(
        text.lines()
            .last()
            .unwrap()
            .starts_with("28 proven, 2 held by the engine, 3 failed")
    );
}

#[test]
fn policy_diff_lists_what_a_new_pack_newly_permits() {
    if !have_solver() {
        return;
    }
    let dir = misspelled_subpoena_pack();
    let out = writ(&[
        "policy",
        "diff",
        "--from",
        "crates/writ-policy/pack",
        "--to",
        dir.path().to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("Newly permitted"), "{text}");
    assert!(
        text.contains("  subpoena, content: now disclosed (granted or after review)"),
        "{text}"
    );
    assert!(!text.contains("Newly refused"), "{text}");
    assert!(
        text.lines().last().unwrap().starts_with("6 changes"),
        "{text}"
    );
}

#[test]
fn a_custom_pack_loads_only_when_its_proofs_pass() {
    if !have_solver() {
        return;
    }
    let case = "corpus/public/001-us-subpoena-subscriber.json";
    let out = writ(&[
        "decide",
        "--case",
        case,
        "--policy",
        "crates/writ-policy/pack",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", crate::stderr(&out));

    let dir = misspelled_subpoena_pack();
    let broken = dir.path().to_str().unwrap();
    let out = writ(&["decide", "--case", case, "--policy", broken]);
    assert_eq!(out.status.code(), Some(2));
    let err = crate::stderr(&out);
    assert!(
        err.contains("F.subpoena.content") && err.contains("WRIT_ALLOW_UNPROVEN_PACK"),
        "{err}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_writ"))
        .args(["decide", "--case", case, "--policy", broken])
        .env("WRIT_ALLOW_UNPROVEN_PACK", "1")
        .current_dir(crate::repo())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(crate::stderr(&out).contains("WARNING: WRIT_ALLOW_UNPROVEN_PACK=1"));
}
