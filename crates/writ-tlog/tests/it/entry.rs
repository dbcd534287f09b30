//! Entries and commitments (`docs/formats.md`, "Transparency log").

use serde_json::json;
use writ_model::Timestamp;
use writ_tlog::entry::{
    Commitment, Entry, EntryError, Event, Kind, Opening, Restricted, Salt, Unit, commit,
};

fn at(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

#[test]
fn decided_event_is_canonical_and_round_trips() {
    let mut event = Event::new(
        Kind::Decided,
        Some("c-7f3a9e0b2d4c4e1a"),
        at("2026-11-28T12:34:56Z"),
    )
    .public("outcome", "partial")
    .public("reasons", json!(["category_not_authorized"]))
    .public("accounts", 1)
    .public("accounts_abroad", 0)
    .public("granted", json!({"subscriber": 1}))
    .public("due_hour", "2026-12-08T12:00:00Z");
    let order = event
        .commit(json!({"agency": "us-fbi", "reference": "2026-001", "order_sha256": "ab"}))
        .unwrap();
    let target = event
        .commit(json!({"target": "alice@example.com", "pairs": []}))
        .unwrap();
    let entry = Entry::Event(event);
    let bytes = entry.to_bytes();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.starts_with("{\"case\":\"c-7f3a9e0b2d4c4e1a\",\"commitments\":[\""));
    assert!(text.contains(
        "\"hour\":\"2026-11-28T12:00:00Z\",\"kind\":\"decided\",\"public\":{\"accounts\":1,"
    ));
    assert!(text.ends_with(",\"v\":1}"));
    assert_eq!(Entry::parse(&bytes).unwrap(), entry);

    let Entry::Event(event) = &entry else {
        unreachable!()
    };
    assert!(order.verify(&event.commitments[0]));
    assert!(target.verify(&event.commitments[1]));
    assert!(!target.verify(&event.commitments[0]));

    // An opening travels as JSON (in a receipt) and still verifies.
    let carried: Opening = serde_json::from_str(&serde_json::to_string(&target).unwrap()).unwrap();
    assert!(carried.verify(&event.commitments[1]));
    let mut altered = carried.clone();
    altered.details["target"] = json!("bob@example.com");
    assert!(!altered.verify(&event.commitments[1]));
    // The salt is secret until opened: never in debug output.
    let salt_hex = serde_json::to_value(&target).unwrap()["salt"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!format!("{target:?}").contains(&salt_hex));
}

#[test]
fn commitment_is_sha256_of_salt_and_canonical_json() {
    let salt = Salt([7u8; 32]);
    let details = json!({"b": 1, "a": "x"});
    let mut input = vec![7u8; 32];
    input.extend_from_slice(br#"{"a":"x","b":1}"#);
    use sha2::Digest as _;
    let expected: [u8; 32] = sha2::Sha256::digest(&input).into();
    assert_eq!(commit(&salt, &details).0, expected);
    // Key order in the input does not matter.
    let reordered: serde_json::Value = serde_json::from_str(r#"{"a":"x","b":1}"#).unwrap();
    assert_eq!(commit(&salt, &details), commit(&salt, &reordered));
    // Fresh salts differ.
    assert_ne!(
        Opening::new(details.clone()).unwrap().commitment(),
        Opening::new(details).unwrap().commitment()
    );
}

#[test]
fn restricted_and_registry_entries() {
    let r = Entry::Restricted(Restricted {
        unit: Unit::Selector,
        period: "2026-H2".into(),
        commitment: Commitment([0xab; 32]),
    });
    let text = String::from_utf8(r.to_bytes()).unwrap();
    assert_eq!(
        text,
        format!(
            "{{\"commitment\":\"{}\",\"kind\":\"restricted\",\"period\":\"2026-H2\",\"unit\":\"selector\",\"v\":1}}",
            "ab".repeat(32)
        )
    );
    assert_eq!(Entry::parse(text.as_bytes()).unwrap(), r);

    let reg = Entry::Event(
        Event::new(Kind::Registry, None, at("2026-11-28T23:59:59Z"))
            .deferred()
            .public("action", "agency_added")
            .public("country", "US"),
    );
    let text = String::from_utf8(reg.to_bytes()).unwrap();
    assert!(text.contains("\"hour\":\"2026-11-28T00:00:00Z\""));
    assert!(!text.contains("\"case\""));
    assert_eq!(Entry::parse(text.as_bytes()).unwrap(), reg);
}

#[test]
fn parse_refuses_what_is_not_a_v1_entry() {
    let ok =
        r#"{"commitments":[],"hour":"2026-11-28T12:00:00Z","kind":"withdrawn","public":{},"v":1}"#;
    Entry::parse(ok.as_bytes()).unwrap();
    for (bad, what) in [
        (r#"{"v":1, "kind":"withdrawn"}"#, "whitespace"),
        (
            r#"{"kind":"withdrawn","v":1,"commitments":[],"hour":"2026-11-28T12:00:00Z","public":{}}"#,
            "order",
        ),
        (
            r#"{"commitments":[],"hour":"2026-11-28T12:00:00Z","kind":"withdrawn","public":{},"v":2}"#,
            "version",
        ),
        (
            r#"{"commitments":[],"hour":"2026-11-28T12:00:00Z","kind":"sneezed","public":{},"v":1}"#,
            "kind",
        ),
        (
            r#"{"commitments":[],"hour":"2026-11-28T12:30:00Z","kind":"withdrawn","public":{},"v":1}"#,
            "hour",
        ),
        (
            r#"{"commitments":["AB"],"hour":"2026-11-28T12:00:00Z","kind":"withdrawn","public":{},"v":1}"#,
            "commitment",
        ),
        (
            r#"{"commitments":[],"extra":1,"hour":"2026-11-28T12:00:00Z","kind":"withdrawn","public":{},"v":1}"#,
            "extra",
        ),
        (r#"[1]"#, "array"),
        ("{", "json"),
    ] {
        assert!(Entry::parse(bad.as_bytes()).is_err(), "{what}");
    }
    assert!(matches!(
        Entry::parse(br#"{"v": 1}"#),
        Err(EntryError::NotCanonical)
    ));
}
