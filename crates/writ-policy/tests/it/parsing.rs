//! Input errors are refused before any rule runs, with the JSON path at fault.

use serde_json::{Value, json};
use writ_model::parse;

use crate::sample_case;

/// Applies `change` to the sample case and expects `message` from the parser.
fn check(change: impl FnOnce(&mut Value), message: &str) {
    let mut case = sample_case();
    change(&mut case);
    let err = parse::case_file(case.to_string().as_bytes())
        .expect_err("the case should be refused")
        .in_file("case.json")
        .to_string();
    assert!(
        err.starts_with(message),
        "expected a message starting with\n  {message}\ngot\n  {err}"
    );
}

#[test]
fn unknown_enum_value_names_the_path() {
    check(
        |c| {
            c["order"]["targets"] =
                json!([{"kind": "email", "value": "a@b.c"}, {"kind": "ip", "value": "1.2.3.4"}])
        },
        "case.json: order.targets[1].kind: unknown variant `ip`",
    );
}

#[test]
fn unknown_fields_are_refused() {
    check(
        |c| c["order"]["priority"] = json!("high"),
        "case.json: order.priority: unknown field `priority`, expected one of `reference`",
    );
    check(
        |c| c["accounts"][2]["holder"]["citizen"] = json!(true),
        "case.json: accounts[2].holder.citizen: unknown field `citizen`",
    );
}

#[test]
fn missing_fields_are_refused() {
    check(
        |c| {
            c["order"].as_object_mut().unwrap().remove("issued_by");
        },
        "case.json: order: missing field `issued_by`",
    );
    check(
        |c| {
            c["order"]["date_range"]
                .as_object_mut()
                .unwrap()
                .remove("to");
        },
        "case.json: order.date_range: missing field `to`",
    );
    check(
        |c| {
            c["order"].as_object_mut().unwrap().remove("categories");
        },
        "case.json: order: missing field `categories`",
    );
}

#[test]
fn wrong_types_are_refused() {
    check(
        |c| c["order"]["targets"] = json!("alice@example.com"),
        "case.json: order.targets: invalid type: string",
    );
    check(
        |c| {
            c["order"]["offence"] =
                json!({"description": "x", "max_custodial_years": "3", "listed": false})
        },
        "case.json: order.offence.max_custodial_years: invalid type: string",
    );
}

#[test]
fn invalid_dates_are_refused() {
    check(
        |c| c["order"]["issued_at"] = json!("2026-02-30T10:00:00Z"),
        "case.json: order.issued_at: invalid timestamp `2026-02-30T10:00:00Z`",
    );
    check(
        |c| c["now"] = json!("tomorrow"),
        "case.json: now: invalid timestamp `tomorrow`",
    );
}

#[test]
fn duplicates_are_refused() {
    check(
        |c| {
            c["order"]["targets"] = json!([
                {"kind": "email", "value": "alice@example.com"},
                {"kind": "email", "value": "Alice@Example.com"}
            ])
        },
        "case.json: order.targets[1]: duplicate target `email:Alice@Example.com`",
    );
    check(
        |c| c["order"]["categories"] = json!(["subscriber", "traffic", "subscriber"]),
        "case.json: order.categories[2]: duplicate category `subscriber`",
    );
    check(
        |c| c["accounts"][1]["identifiers"][0]["value"] = json!("ALICE@example.com"),
        "case.json: accounts[1].identifiers[0]: identifier `email:ALICE@example.com` is also on account `acct-us-alice`",
    );
    check(
        |c| c["accounts"][1]["id"] = json!("acct-us-alice"),
        "case.json: accounts[1].id: duplicate account id `acct-us-alice`",
    );
    check(
        |c| c["agencies"][1]["id"] = json!("us-fbi-wfo"),
        "case.json: agencies[1].id: duplicate agency id `us-fbi-wfo`",
    );
}

#[test]
fn structural_limits_are_refused() {
    check(
        |c| {
            let targets: Vec<Value> = (0..501)
                .map(|i| json!({"kind": "email", "value": format!("u{i}@example.com")}))
                .collect();
            c["order"]["targets"] = Value::Array(targets);
        },
        "case.json: order.targets: 501 targets: at most 500",
    );
    check(
        |c| c["order"]["emergency"] = json!({"threat": "death", "facts": "x"}),
        "case.json: order.emergency: an `emergency` block is allowed only on `emergency_request` and `epoc`",
    );
    check(
        |c| c["order"]["agency"] = json!("  "),
        "case.json: order.agency: must not be empty",
    );
    check(
        |c| c["agencies"][0]["country"] = json!("usa"),
        "case.json: agencies[0].country: invalid country code `usa`",
    );
}

#[test]
fn null_counts_as_absent() {
    let mut case = sample_case();
    for field in [
        "validated_by",
        "expires_at",
        "respond_by",
        "offence",
        "emergency",
        "non_disclosure",
        "assistance",
        "renews",
        "attachments",
    ] {
        case["order"][field] = Value::Null;
    }
    let parsed = parse::case_file(case.to_string().as_bytes()).unwrap();
    assert!(parsed.order.assistance.is_empty());
    assert!(parsed.order.expires_at.is_none());
}

#[test]
fn malformed_json_is_refused() {
    let err = parse::order(b"{\"reference\": ").unwrap_err().to_string();
    assert!(err.contains("invalid JSON: EOF while parsing"), "{err}");
    let err = parse::order(b"[]").unwrap_err().to_string();
    assert_eq!(err, "expected a JSON object (an order)");
    let err = parse::order(b"  ").unwrap_err().to_string();
    assert_eq!(err, "invalid JSON: the input is empty");
    let deep = format!("{{\"reference\": {}", "[".repeat(10_000));
    let err = parse::order(deep.as_bytes()).unwrap_err().to_string();
    assert!(
        err.starts_with("reference: invalid type: sequence"),
        "{err}"
    );
}

#[test]
fn attachments_are_checked() {
    let doc = |name: &str, sha: &str, size: u64| json!([{"name": name, "media_type": "application/pdf", "sha256": sha, "size": size}]);
    let sha = "ae800d81c034bf6aa4bfb328ef956c0c8976b9011903bd022fcb2e566afd4294";
    check(
        |c| c["order"]["attachments"] = doc("../warrant.pdf", sha, 10),
        "case.json: order.attachments[0].name: `../warrant.pdf` is not a plain file name",
    );
    check(
        |c| c["order"]["attachments"] = doc("warrant.pdf", "AE80", 10),
        "case.json: order.attachments[0].sha256: expected 64 lowercase hexadecimal digits",
    );
    check(
        |c| c["order"]["attachments"] = doc("warrant.pdf", sha, 25 * 1024 * 1024 + 1),
        "case.json: order.attachments[0].size: 26214401 bytes: a document may have at most 26214400 bytes (25 MiB)",
    );
    check(
        |c| c["order"]["attachments"] = json!([{"name": "w.pdf", "media_type": "application/pdf", "sha256": sha, "size": 1.6e34}]),
        "case.json: order.attachments[0].size: expected a whole number",
    );
    let mut case = sample_case();
    case["order"]["attachments"] = doc("warrant.pdf", sha, 25 * 1024 * 1024);
    parse::case_file(case.to_string().as_bytes()).expect("25 MiB is allowed");
}
