//! The bad-input catalogue: each gets a 4xx problem and changes nothing.

use serde_json::json;

use crate::support::{TestApp, subpoena};

fn order() -> serde_json::Value {
    subpoena("us-fbi-wfo", "BAD-1", "alice@example.com")
}

fn with(f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut o = order();
    f(&mut o);
    o.to_string().into_bytes()
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let t = TestApp::start().await;
    // One good order first, for the duplicate-reference case.
    assert_eq!(t.submit("us-fbi-wfo", &order()).await.status, 201);

    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_field = with(|o| {
        o["offence"] = serde_json::from_str::<serde_json::Value>(&format!(
            "{}1{}",
            "[".repeat(100),
            "]".repeat(100)
        ))
        .unwrap();
    });
    let huge = with(|o| o["legal_basis"] = json!("x".repeat(2 * 1024 * 1024)));
    let many_targets = with(|o| {
        o["reference"] = json!("BAD-MANY");
        o["targets"] = json!(
            (0..501)
                .map(|i| json!({"kind": "email", "value": format!("u{i}@example.com")}))
                .collect::<Vec<_>>()
        );
    });
    let catalogue: Vec<(&str, Vec<u8>, u16)> = vec![
        ("empty body", Vec::new(), 422),
        ("malformed JSON", b"{\"reference\": ".to_vec(), 422),
        ("not an object", b"[1, 2, 3]".to_vec(), 422),
        ("not UTF-8", vec![0xff, 0xfe, 0x7b, 0x7d], 422),
        ("unknown field", with(|o| o["colour"] = json!("red")), 422),
        ("wrong type", with(|o| o["targets"] = json!("alice")), 422),
        (
            "wrong number type",
            with(|o| {
                o["offence"] =
                    json!({"description": "x", "max_custodial_years": "ten", "listed": false})
            }),
            422,
        ),
        (
            "missing field",
            with(|o| {
                o.as_object_mut().unwrap().remove("issued_at");
            }),
            422,
        ),
        (
            "invalid date",
            with(|o| o["issued_at"] = json!("2026-02-30T00:00:00Z")),
            422,
        ),
        (
            "date without zone",
            with(|o| o["issued_at"] = json!("2026-11-20T10:00:00")),
            422,
        ),
        (
            "unknown instrument",
            with(|o| o["instrument"] = json!("letter_of_marque")),
            422,
        ),
        (
            "unknown category",
            with(|o| o["categories"] = json!(["subscriber", "thoughts"])),
            422,
        ),
        (
            "unknown target kind",
            with(|o| o["targets"] = json!([{"kind": "aura", "value": "x"}])),
            422,
        ),
        (
            "duplicate target",
            with(
                |o| o["targets"] = json!([{"kind": "email", "value": "a@example.com"}, {"kind": "email", "value": "A@example.com"}]),
            ),
            422,
        ),
        ("too many targets", many_targets, 422),
        (
            "callback sent by the agency",
            with(|o| {
                o["instrument"] = json!("emergency_request");
                o["emergency"] = json!({"threat": "death", "facts": "x", "callback": {"verified": true, "number_source": "registry"}});
            }),
            422,
        ),
        (
            "emergency block on a subpoena",
            with(|o| o["emergency"] = json!({"threat": "death", "facts": "x"})),
            422,
        ),
        ("deep nesting", deep.into_bytes(), 422),
        ("deep nesting in a field", deep_field, 422),
        ("huge body", huge, 413),
        (
            "duplicate reference, other content",
            with(|o| o["categories"] = json!(["identification"])),
            409,
        ),
    ];
    let before = t.state().await;
    for (name, body, status) in catalogue {
        let r = t.signed("us-fbi-wfo", "POST", "/v1/orders", &body).await;
        let problem = r.assert_problem(status);
        assert!(
            !problem["detail"].as_str().unwrap().is_empty(),
            "{name}: empty detail"
        );
        assert_eq!(t.state().await, before, "{name} changed something");
    }
    // Field errors name the field.
    let r = t
        .signed(
            "us-fbi-wfo",
            "POST",
            "/v1/orders",
            &with(|o| o["issued_at"] = json!("soon")),
        )
        .await;
    assert_eq!(r.json()["field"], "issued_at", "{}", r.text);
}

#[tokio::test]
async fn bad_review_input_is_refused() {
    let t = TestApp::start().await;
    let r = t
        .as_user(
            "rita",
            "POST",
            "/v1/review/cases/c-0000000000000000/approve",
            None,
        )
        .await;
    r.assert_problem(404);
    let r = t
        .raw(
            "POST",
            "/v1/review/cases/c-0000000000000000/callback",
            &[(
                "authorization".into(),
                format!("Bearer {}", t.tokens["rita"]),
            )],
            b"{\"number_source\": \"pigeon\", \"verified\": true}".to_vec(),
        )
        .await;
    r.assert_problem(422);
}
