//! Every case file of the repository's corpora, through the same code path as
//! `writ decide --case` and `writ policy test`.

use writ_model::parse;
use writ_policy::runner::run_case;

use crate::{corpus_dir, default_pack};

fn run_folder(sub: &str) -> usize {
    let dir = corpus_dir(sub);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    for file in &files {
        let case = parse::case_file(&std::fs::read(file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let result = run_case(default_pack(), &case);
        if !result.passed() {
            failures.push(format!(
                "{}:\n  {}",
                file.display(),
                result.differences.join("\n  ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "failing cases:\n{}",
        failures.join("\n")
    );
    files.len()
}

#[test]
fn public_corpus_passes() {
    assert_eq!(run_folder("public"), 64);
}

#[test]
fn rule_cases_pass() {
    assert!(run_folder("rules") >= 100);
}

/// Every reason code of the rule book is exercised by some case of the
/// repository's corpora, so a rule that stops firing breaks a test.
#[test]
fn every_reason_code_is_covered() {
    let mut seen = std::collections::BTreeSet::new();
    for sub in ["public", "rules"] {
        for entry in std::fs::read_dir(corpus_dir(sub)).unwrap() {
            let case = parse::case_file(&std::fs::read(entry.unwrap().path()).unwrap()).unwrap();
            seen.extend(case.expect.reasons.iter().cloned());
        }
    }
    let mut codes: Vec<String> = default_pack()
        .rules()
        .iter()
        .map(|r| r.code.clone())
        .collect();
    codes.push(writ_policy::NO_DATA_FOUND.to_owned());
    let missing: Vec<&String> = codes.iter().filter(|c| !seen.contains(*c)).collect();
    assert!(missing.is_empty(), "codes no case expects: {missing:?}");
    assert!(seen.len() >= 31, "{seen:?}");
}

/// A wrong expectation is reported, field by field.
#[test]
fn a_wrong_expectation_fails_with_readable_differences() {
    let mut case = crate::sample_case();
    case["expect"]["outcome"] = "reject".into();
    case["expect"]["reasons"] = serde_json::json!(["not_particular"]);
    case["expect"]["decisions"][0]["status"] = "deny".into();
    case["expect"]["notify"] = serde_json::json!({"when": "after", "at": "2027-01-01T00:00:00Z"});
    case["expect"]["due_at"] = "2026-12-09T12:00:00Z".into();
    let case = parse::case_file(case.to_string().as_bytes()).unwrap();
    let result = run_case(default_pack(), &case);
    assert_eq!(
        result.differences,
        vec![
            "outcome: expected `reject`, got `approve`",
            "decisions: missing   email:alice@example.com subscriber deny",
            "decisions: unexpected email:alice@example.com subscriber grant",
            "reasons: missing `not_particular`",
            "due_at: expected 2026-12-09T12:00:00Z, got 2026-12-08T12:00:00Z",
            "notify.when: expected `after`, got `on_disclosure`",
            "notify.at: expected 2027-01-01T00:00:00Z, got null",
        ]
    );
}
