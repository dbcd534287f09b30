//! The proofs and the diff against the real solver, on the default pack and
//! on broken copies of it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use writ_prove::{Direction, Outcome, PackPolicies, Solver};

/// The solver, or `None` after saying loudly that the test is skipped;
/// under `WRIT_CI=1` a missing solver fails the test.
fn solver() -> Option<Solver> {
    match Solver::locate() {
        Ok(s) => Some(s),
        Err(e) if std::env::var_os("WRIT_CI").is_some() => {
            panic!("WRIT_CI is set and the solver is missing: {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED: {e}");
            None
        }
    }
}

fn default_pack_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../writ-policy/pack")
}

/// A copy of the default pack with `from` replaced by `to` in `file`.
fn broken_copy(file: &str, from: &str, to: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(default_pack_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_owned();
        let mut text = std::fs::read_to_string(&path).unwrap();
        if name == file {
            assert!(text.contains(from), "{file} has no `{from}`");
            text = text.replacen(from, to, 1);
        }
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

#[test]
fn every_property_of_the_default_pack_holds() {
    let Some(solver) = solver() else { return };
    let pack = PackPolicies::embedded().unwrap();
    let results = writ_prove::prove(&pack, &solver).unwrap();
    assert!(results.len() >= 30, "{} properties", results.len());
    for r in &results {
        assert!(
            r.outcome.holds(),
            "{} does not hold: {:?}",
            r.property.id,
            r.outcome
        );
    }
    let proven = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Proven))
        .count();
    assert_eq!(proven, results.len() - 2, "only two are the engine's");
}

#[test]
fn a_misspelled_subpoena_rule_fails_with_a_counterexample() {
    let Some(solver) = solver() else { return };
    let dir = broken_copy(
        "50-reach.cedar",
        "context.order.instrument == \"subpoena\"",
        "context.order.instrument == \"subpeona\"",
    );
    let pack = PackPolicies::load_dir(dir.path()).unwrap();
    let results = writ_prove::prove(&pack, &solver).unwrap();
    let failed: Vec<_> = results.iter().filter(|r| !r.outcome.holds()).collect();
    let ids: Vec<&str> = failed.iter().map(|r| r.property.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "F.subpoena.traffic",
            "F.subpoena.location",
            "F.subpoena.content"
        ]
    );
    let Outcome::Counterexample(request) = &failed[2].outcome else {
        panic!("{:?}", failed[2].outcome)
    };
    assert!(
        request.contains("instrument = \"subpoena\"") && request.contains("category: \"content\""),
        "{request}"
    );
}

#[test]
fn denmark_let_in_is_a_counterexample() {
    let Some(solver) = solver() else { return };
    let dir = broken_copy("30-refusals.cedar", "\"SE\"]", "\"SE\", \"DK\"]");
    let pack = PackPolicies::load_dir(dir.path()).unwrap();
    let results = writ_prove::prove(&pack, &solver).unwrap();
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| !r.outcome.holds())
        .map(|r| r.property.id.as_str())
        .collect();
    assert_eq!(failed, ["D.european_orders", "D.denmark_not_bound"]);
}

#[test]
fn the_diff_names_what_a_broken_pack_newly_permits() {
    let Some(solver) = solver() else { return };
    let old = PackPolicies::load_dir(&default_pack_dir()).unwrap();
    let dir = broken_copy(
        "50-reach.cedar",
        "[\"traffic\", \"location\", \"content\"].contains(context.category)",
        "[\"traffic\", \"location\"].contains(context.category)",
    );
    let new = PackPolicies::load_dir(dir.path()).unwrap();

    let same = writ_prove::diff(&old, &old, &solver).unwrap();
    assert!(same.is_empty(), "{same:?}");

    let changes = writ_prove::diff(&old, &new, &solver).unwrap();
    let lines: Vec<String> = changes.iter().map(|c| c.summary()).collect();
    assert_eq!(
        lines,
        [
            "subpoena, content: now disclosed (granted or after review), for some requests (example below)",
            "subpoena, content: now granted without review, for some requests (example below)",
        ],
        "{changes:#?}"
    );
    assert!(
        changes
            .iter()
            .all(|c| c.direction == Direction::NewlyPermitted)
    );
    assert!(
        changes[0].example.contains("\"subpoena\""),
        "{}",
        changes[0].example
    );

    let back = writ_prove::diff(&new, &old, &solver).unwrap();
    assert!(
        back.iter().all(|c| c.direction == Direction::NewlyRefused) && back.len() == 2,
        "{back:#?}"
    );
}

#[test]
fn a_solver_that_is_not_a_file_is_an_error() {
    let err = Solver::at("/no/such/cvc5");
    let pack = PackPolicies::embedded().unwrap();
    assert!(writ_prove::prove(&pack, &err).is_err());
}
