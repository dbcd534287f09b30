//! Running case files: `writ policy test` and the corpus tests share this.
//!
//! A case passes when `outcome` is equal; `decisions` equals the produced
//! pairs compared as a set of `(target, category, status)`; `reasons` equals
//! the set of produced codes; and `due_at`, `not_before`, `preserve_until`
//! and `notify` (`when`, and `at` where the expectation has it) are equal
//! (`docs/formats.md`, "Case file").

use std::collections::BTreeSet;

use writ_model::{CaseFile, Decision, Expect};

use crate::{Pack, decide};

/// The result of one case.
#[derive(Debug)]
pub struct CaseResult {
    pub name: String,
    pub decision: Decision,
    /// Empty when the case passed; otherwise one line per difference.
    pub differences: Vec<String>,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Decides a case and compares the decision with its expectation.
pub fn run_case(pack: &Pack, case: &CaseFile) -> CaseResult {
    let decision = decide(pack, &case.input());
    CaseResult {
        name: case.name.clone(),
        differences: compare(&case.expect, &decision),
        decision,
    }
}

fn show<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "null".to_owned(), ToString::to_string)
}

/// The differences between an expectation and a decision, readable.
pub fn compare(expect: &Expect, got: &Decision) -> Vec<String> {
    let mut out = Vec::new();
    if expect.outcome != got.outcome {
        out.push(format!(
            "outcome: expected `{}`, got `{}`",
            expect.outcome, got.outcome
        ));
    }
    let want: BTreeSet<(String, String, String)> = expect
        .decisions
        .iter()
        .map(|p| {
            (
                p.target.clone(),
                p.category.to_string(),
                p.status.to_string(),
            )
        })
        .collect();
    let have: BTreeSet<(String, String, String)> = got
        .decisions
        .iter()
        .map(|p| {
            (
                p.target.clone(),
                p.category.to_string(),
                p.status.to_string(),
            )
        })
        .collect();
    for (t, c, s) in want.difference(&have) {
        out.push(format!("decisions: missing   {t} {c} {s}"));
    }
    for (t, c, s) in have.difference(&want) {
        out.push(format!("decisions: unexpected {t} {c} {s}"));
    }
    let want: BTreeSet<&str> = expect.reasons.iter().map(String::as_str).collect();
    let have: BTreeSet<&str> = got.codes().into_iter().collect();
    for code in want.difference(&have) {
        out.push(format!("reasons: missing `{code}`"));
    }
    for code in have.difference(&want) {
        out.push(format!("reasons: unexpected `{code}`"));
    }
    if expect.due_at != got.due_at {
        out.push(format!(
            "due_at: expected {}, got {}",
            expect.due_at, got.due_at
        ));
    }
    if expect.not_before != got.not_before {
        out.push(format!(
            "not_before: expected {}, got {}",
            show(&expect.not_before),
            show(&got.not_before)
        ));
    }
    if expect.preserve_until != got.preserve_until {
        out.push(format!(
            "preserve_until: expected {}, got {}",
            show(&expect.preserve_until),
            show(&got.preserve_until)
        ));
    }
    if expect.notify.when != got.notify.when {
        out.push(format!(
            "notify.when: expected `{}`, got `{}`",
            expect.notify.when, got.notify.when
        ));
    }
    if let Some(at) = expect.notify.at
        && got.notify.at != Some(at)
    {
        out.push(format!(
            "notify.at: expected {at}, got {}",
            show(&got.notify.at)
        ));
    }
    out
}
