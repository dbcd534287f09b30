//! Loading packs: validation, annotations, parameters, conformance, and
//! failing closed.

use std::path::Path;

use writ_model::{Outcome, Status, parse};
use writ_policy::{Pack, PackError, decide};

const PACK_FILES: &[&str] = &[
    "00-base.cedar",
    "10-requester.cedar",
    "20-validity.cedar",
    "30-refusals.cedar",
    "40-authority.cedar",
    "50-reach.cedar",
    "60-location.cedar",
    "70-scope.cedar",
    "80-emergencies.cedar",
    "90-secrecy.cedar",
    "policy.toml",
];

/// A copy of the default pack in a temporary folder, for tests to change.
fn pack_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("pack");
    for f in PACK_FILES {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    dir
}

fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no `{from}`");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

fn load_err(dir: &Path) -> String {
    match Pack::load_dir(dir) {
        Ok(_) => panic!("the pack should be refused"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_pack_folder_is_the_embedded_pack() {
    let dir = pack_copy();
    let loaded = Pack::load_dir(dir.path()).unwrap();
    let embedded = crate::default_pack();
    assert_eq!(loaded.rules().len(), embedded.rules().len());
    assert_eq!(loaded.id, "writ-default");
    // The folder listing is complete: every file of the pack is listed above.
    let on_disk = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("pack"))
        .unwrap()
        .count();
    assert_eq!(on_disk, PACK_FILES.len());
}

#[test]
fn a_misspelt_attribute_fails_validation() {
    let dir = pack_copy();
    edit(
        dir.path(),
        "50-reach.cedar",
        "context.order.instrument == \"subpoena\"",
        "context.order.instrumnet == \"subpoena\"",
    );
    let err = load_err(dir.path());
    assert!(
        err.contains("does not validate against the schema"),
        "{err}"
    );
    assert!(err.contains("F.subpoena"), "{err}");
}

#[test]
fn rules_need_their_annotations() {
    let dir = pack_copy();
    edit(
        dir.path(),
        "70-scope.cedar",
        "@citation(\"provider policy\")\nforbid",
        "forbid",
    );
    let err = load_err(dir.path());
    assert!(err.contains("missing annotation `@citation`"), "{err}");

    let dir = pack_copy();
    edit(
        dir.path(),
        "70-scope.cedar",
        "@level(\"trigger\")",
        "@level(\"maybe\")",
    );
    assert!(load_err(dir.path()).contains("unknown level `maybe`"));

    let dir = pack_copy();
    edit(
        dir.path(),
        "70-scope.cedar",
        "@level(\"trigger\")",
        "@level(\"deny\")",
    );
    assert!(load_err(dir.path()).contains("must apply to `action == Writ::Action::\"disclose\"`"));
}

#[test]
fn a_pack_that_lets_hacking_through_is_refused() {
    let dir = pack_copy();
    edit(
        dir.path(),
        "30-refusals.cedar",
        "\"install_software\", ",
        "",
    );
    let err = load_err(dir.path());
    assert!(
        err.contains("the pack must refuse hacking") && err.contains("install_software"),
        "{err}"
    );
}

#[test]
fn parameters_come_from_policy_toml() {
    let dir = pack_copy();
    edit(
        dir.path(),
        "policy.toml",
        "max_targets = 25",
        "max_targets = 1",
    );
    edit(
        dir.path(),
        "policy.toml",
        "default_response_days = 10",
        "default_response_days = 3",
    );
    let pack = Pack::load_dir(dir.path()).unwrap();
    let mut case = crate::sample_case();
    case["order"]["targets"] = serde_json::json!([
        {"kind": "email", "value": "alice@example.com"},
        {"kind": "email", "value": "bob@example.com"}
    ]);
    let case = parse::case_file(case.to_string().as_bytes()).unwrap();
    let d = decide(&pack, &case.input());
    assert_eq!(d.outcome, Outcome::Review);
    assert_eq!(d.codes(), vec!["overbroad_targets"]);
    assert_eq!(d.due_at.to_string(), "2026-12-01T12:00:00Z");

    let dir = pack_copy();
    edit(
        dir.path(),
        "policy.toml",
        "max_targets = 25",
        "max_targetz = 25",
    );
    assert!(matches!(
        Pack::load_dir(dir.path()),
        Err(PackError::File { .. })
    ));
}

/// Cedar skips a policy whose evaluation errors; Writ refuses instead.
#[test]
fn a_rule_that_errors_fails_closed() {
    let dir = pack_copy();
    std::fs::write(
        dir.path().join("95-broken.cedar"),
        r#"
@id("X.overflow")
@code("broken_rule")
@level("review")
@message("a rule that overflows")
@citation("a test")
forbid (principal, action == Writ::Action::"disclose", resource)
when { context.params.max_targets * 9223372036854775807 > 0 };

@id("X.order_overflow")
@code("broken_order_rule")
@level("info")
@message("a rule that overflows only for emergencies")
@citation("a test")
forbid (principal, action == Writ::Action::"accept", resource)
when { resource.instrument == "emergency_request" && context.params.max_targets * 9223372036854775807 > 0 };
"#,
    )
    .unwrap();
    let pack = Pack::load_dir(dir.path()).unwrap();
    let case = parse::case_file(crate::sample_case().to_string().as_bytes()).unwrap();
    let d = decide(&pack, &case.input());
    assert_eq!(d.outcome, Outcome::Reject);
    assert!(d.decisions.iter().all(|p| p.status == Status::Deny));
    assert_eq!(d.codes(), vec![writ_policy::POLICY_ERROR]);
    assert!(
        d.reasons[0].message.contains("X.overflow"),
        "{:?}",
        d.reasons
    );

    let emergency = crate::corpus_dir("public").join("023-emergency-verified.json");
    let case = parse::case_file(&std::fs::read(emergency).unwrap()).unwrap();
    let d = decide(&pack, &case.input());
    assert_eq!(d.outcome, Outcome::Reject);
    assert!(d.decisions.is_empty());
    assert_eq!(d.codes(), vec![writ_policy::POLICY_ERROR]);
}

#[test]
fn reasons_carry_message_and_citation() {
    for rule in crate::default_pack().rules() {
        assert!(
            !rule.message.is_empty() && !rule.citation.is_empty(),
            "{}",
            rule.id
        );
    }
    let case = crate::corpus_dir("public").join("002-us-subpoena-asks-content.json");
    let case = parse::case_file(&std::fs::read(case).unwrap()).unwrap();
    let d = decide(crate::default_pack(), &case.input());
    let r = &d.reasons[0];
    assert_eq!(r.code, "category_not_authorized");
    assert_eq!(r.target.as_deref(), Some("email:alice@example.com"));
    assert!(r.citation.contains("2703(c)(2)"), "{}", r.citation);
}

/// Every case of the public corpus decided by `pack`, by the same pack
/// unsliced, and by the same pack through Cedar's `Authorizer` rather than
/// its compiled sets: neither the slicing nor the compiled conditions may
/// change anything.
fn assert_slicing_changes_nothing(pack: &Pack) {
    let unsliced = pack.clone().without_slicing();
    let authorizer = pack.clone().with_cedar_authorizer();
    let unsliced_authorizer = unsliced.clone().with_cedar_authorizer();
    let mut cases = 0;
    for entry in std::fs::read_dir(crate::corpus_dir("public")).unwrap() {
        let path = entry.unwrap().path();
        let case = parse::case_file(&std::fs::read(&path).unwrap()).unwrap();
        let input = case.input();
        let decided = decide(pack, &input);
        assert_eq!(decided, decide(&unsliced, &input), "{}", path.display());
        assert_eq!(decided, decide(&authorizer, &input), "{}", path.display());
        assert_eq!(
            decided,
            decide(&unsliced_authorizer, &input),
            "{}",
            path.display()
        );
        cases += 1;
    }
    assert!(cases > 20, "only {cases} corpus cases");
}

#[test]
fn slicing_keeps_a_rule_that_fails_before_its_instrument_test() {
    // The overflow (for two targets or more) is evaluated before the
    // instrument test, so the rule errors for every instrument: it must stay
    // in every slice and refuse a two-target search warrant with
    // `policy_error`.
    let dir = pack_copy();
    std::fs::write(
        dir.path().join("96-late-test.cedar"),
        r#"
@id("X.late_test")
@code("broken_order_rule")
@level("info")
@message("a rule that overflows for two targets, before its instrument test")
@citation("a test")
forbid (principal, action == Writ::Action::"accept", resource)
when { resource.target_count * 4611686018427387904 > 0 && resource.instrument == "emergency_request" };
"#,
    )
    .unwrap();
    let pack = Pack::load_dir(dir.path()).unwrap();
    let warrant = crate::corpus_dir("public").join("010-us-warrant-mixed-locations.json");
    let case = parse::case_file(&std::fs::read(warrant).unwrap()).unwrap();
    assert_eq!(case.input().order.targets.len(), 2);
    let d = decide(&pack, &case.input());
    assert_eq!(d.outcome, Outcome::Reject);
    assert_eq!(d.codes(), vec![writ_policy::POLICY_ERROR]);
    assert_slicing_changes_nothing(&pack);
}

#[test]
fn a_membership_test_whose_operand_fails_refuses_as_cedar_does() {
    // The compiled sets write `[1, 2].contains(x)` as `x == 1 || x == 2`
    // (`src/compiled.rs`): when `x` overflows (two targets or more), the
    // order is refused with `policy_error` and the very message Cedar's
    // `Authorizer` gives; with one target the rule is evaluated and holds.
    let dir = pack_copy();
    std::fs::write(
        dir.path().join("96-member.cedar"),
        r#"
@id("X.member")
@code("member_rule")
@level("refusal")
@message("a rule with a membership test that overflows for two targets")
@citation("a test")
forbid (principal, action == Writ::Action::"accept", resource)
when { [1, 2, 4611686018427387904].contains(resource.target_count * 4611686018427387904) };
"#,
    )
    .unwrap();
    let pack = Pack::load_dir(dir.path()).unwrap();
    let authorizer = pack.clone().with_cedar_authorizer();
    let warrant = crate::corpus_dir("public").join("010-us-warrant-mixed-locations.json");
    let case = parse::case_file(&std::fs::read(warrant).unwrap()).unwrap();
    let two = case.input();
    assert_eq!(two.order.targets.len(), 2);
    let d = decide(&pack, &two);
    assert_eq!(d.codes(), vec![writ_policy::POLICY_ERROR]);
    assert!(d.reasons[0].message.contains("overflow"), "{:?}", d.reasons);
    assert_eq!(d, decide(&authorizer, &two));

    let mut one = two.clone();
    one.order.targets.truncate(1);
    let d = decide(&pack, &one);
    assert_eq!(d.codes(), vec!["member_rule"]);
    assert_eq!(d, decide(&authorizer, &one));
    assert_slicing_changes_nothing(&pack);
}

#[test]
fn slicing_drops_a_rule_whose_instrument_test_comes_first() {
    // The instrument test stops the evaluation before the overflow for any
    // other instrument: dropping the rule from their slices changes nothing,
    // while an emergency is still refused.
    let dir = pack_copy();
    std::fs::write(
        dir.path().join("96-early-test.cedar"),
        r#"
@id("X.early_test")
@code("broken_rule")
@level("review")
@message("a rule that overflows only for emergencies")
@citation("a test")
forbid (principal, action == Writ::Action::"disclose", resource)
when { context.order.instrument == "emergency_request" && context.params.max_targets * 9223372036854775807 > 0 };
"#,
    )
    .unwrap();
    let pack = Pack::load_dir(dir.path()).unwrap();
    let case = parse::case_file(crate::sample_case().to_string().as_bytes()).unwrap();
    assert_eq!(
        decide(&pack, &case.input()),
        decide(crate::default_pack(), &case.input())
    );
    let emergency = crate::corpus_dir("public").join("023-emergency-verified.json");
    let case = parse::case_file(&std::fs::read(emergency).unwrap()).unwrap();
    let d = decide(&pack, &case.input());
    assert!(
        d.codes().contains(&writ_policy::POLICY_ERROR),
        "{:?}",
        d.codes()
    );
    assert_slicing_changes_nothing(&pack);
}

#[test]
fn slicing_by_shape_keeps_a_rule_for_the_shapes_that_reach_its_error() {
    // Behind the submitter's country and the order's date range, the rule
    // overflows for two targets: a two-target warrant from a US agency with
    // a date range reaches the overflow and is refused with
    // `policy_error`; the same order from an Irish agency, or without a
    // date range, stops before it, sliced or not.
    let dir = pack_copy();
    std::fs::write(
        dir.path().join("96-shape-test.cedar"),
        r#"
@id("X.shape_test")
@code("broken_order_rule")
@level("info")
@message("a rule that overflows for two targets, behind shape tests")
@citation("a test")
forbid (principal, action == Writ::Action::"accept", resource)
when { principal has agency && principal.agency.country == "US" && resource has date_range && resource.target_count * 4611686018427387904 > 0 };
"#,
    )
    .unwrap();
    let pack = Pack::load_dir(dir.path()).unwrap();
    let unsliced = pack.clone().without_slicing();
    let authorizer = pack.clone().with_cedar_authorizer();
    let warrant = crate::corpus_dir("public").join("010-us-warrant-mixed-locations.json");
    let case = parse::case_file(&std::fs::read(warrant).unwrap()).unwrap();
    let us = case.input();
    assert_eq!(us.order.targets.len(), 2);
    assert!(us.order.date_range.is_some());
    let d = decide(&pack, &us);
    assert_eq!(d.codes(), vec![writ_policy::POLICY_ERROR]);
    assert_eq!(d, decide(&unsliced, &us));
    // The same error, message included, as Cedar's `Authorizer` reports.
    assert_eq!(d, decide(&authorizer, &us));

    let mut open = us.clone();
    open.order.date_range = None;
    let d = decide(&pack, &open);
    assert!(
        !d.codes().contains(&writ_policy::POLICY_ERROR),
        "{:?}",
        d.codes()
    );
    assert_eq!(d, decide(&unsliced, &open));

    let mut irish = us.clone();
    for a in &mut irish.agencies {
        a.country = writ_model::Country::IE;
    }
    let d = decide(&pack, &irish);
    assert!(
        !d.codes().contains(&writ_policy::POLICY_ERROR),
        "{:?}",
        d.codes()
    );
    assert_eq!(d, decide(&unsliced, &irish));
    assert_slicing_changes_nothing(&pack);
}

#[test]
fn slicing_the_default_pack_changes_no_corpus_decision() {
    assert_slicing_changes_nothing(crate::default_pack());
}
