//! Entries, commitments and openings (`docs/formats.md`, "Transparency log").
//!
//! `tests/data/entries.jsonl` holds one entry per kind as the gateway writes
//! it for fixed inputs: the bytes must not change, since the log and Go's
//! reference verifier hash them.

use std::collections::BTreeMap;

use serde_json::json;
use writ_events::event::{Clarified, Queried};
use writ_events::{
    Commitment, Decided, Disclosed, Entry, EntryKind, EntryView, Event, EventError, Extended, Kind,
    Notified, Opening, Preserved, Private, Public, Received, Registry, Released, Restricted,
    Reviewed, Salt, Unit, Verified, commit,
};
use writ_model::{Instrument, Outcome, Timestamp};

fn at(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn granted(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

/// One entry of every kind (and a restricted one), for fixed inputs.
fn every_kind() -> Vec<Entry> {
    let t = at("2026-11-28T12:34:56Z");
    let case = "c-7f3a9e0b2d4c4e1a";
    let event = |deferred: bool, public: Public| {
        let mut e = Event::of_case(case, t, deferred, public);
        e.commitments = vec![Commitment([0xab; 32]), Commitment([0x01; 32])];
        Entry::Event(e)
    };
    vec![
        event(
            false,
            Public::Received(Received {
                country: Some("US".into()),
                instrument: Instrument::SearchWarrant,
                emergency: false,
                targets: 1,
                gag: true,
            }),
        ),
        event(
            false,
            Public::Received(Received {
                country: None,
                instrument: Instrument::Subpoena,
                emergency: false,
                targets: 2,
                gag: false,
            }),
        ),
        event(
            false,
            Public::Decided(Decided {
                outcome: Outcome::Partial,
                reasons: vec!["category_not_authorized".into()],
                accounts: 1,
                accounts_abroad: 0,
                granted: granted(&[("subscriber", 1)]),
                due_hour: at("2026-12-08T12:00:00Z"),
                on_time: None,
            }),
        ),
        event(
            true,
            Public::Decided(Decided {
                outcome: Outcome::Reject,
                reasons: vec!["gag_not_binding".into(), "hacking_refused".into()],
                accounts: 2,
                accounts_abroad: 1,
                granted: granted(&[]),
                due_hour: at("2026-12-08T00:00:00Z"),
                on_time: Some(true),
            }),
        ),
        event(
            false,
            Public::Reviewed(Reviewed {
                action: "confirm".into(),
                role: "approver".into(),
                outcome: Outcome::Approve,
                granted: granted(&[("content", 1), ("subscriber", 1)]),
                on_time: Some(false),
            }),
        ),
        event(
            false,
            Public::Verified(Verified {
                result: "verified".into(),
                number_source: "registry".into(),
                check: None,
            }),
        ),
        event(
            false,
            Public::Disclosed(Disclosed {
                disclosed: granted(&[("content", 1)]),
                on_time: true,
            }),
        ),
        event(
            false,
            Public::Preserved(Preserved {
                accounts: 3,
                until_day: Some("2027-02-26".into()),
                on_time: true,
            }),
        ),
        event(
            false,
            Public::Preserved(Preserved {
                accounts: 1,
                until_day: None,
                on_time: true,
            }),
        ),
        event(false, Public::Released(Released { accounts: 3 })),
        event(false, Public::Notified(Notified { users: 1 })),
        event(false, Public::Extended(Extended { until_day: None })),
        event(
            false,
            Public::Extended(Extended {
                until_day: Some("2027-05-01".into()),
            }),
        ),
        event(false, Public::Withdrawn),
        event(false, Public::Expired),
        event(
            false,
            Public::Verified(Verified {
                result: "failed".into(),
                number_source: "registry".into(),
                check: Some("channel".into()),
            }),
        ),
        event(
            false,
            Public::Queried(Queried {
                fields: 2,
                incomplete: true,
            }),
        ),
        event(false, Public::Clarified(Clarified { due_hour: None })),
        event(
            false,
            Public::Clarified(Clarified {
                due_hour: Some(t.floor_hour()),
            }),
        ),
        Entry::Event(Event {
            case: None,
            hour: t.floor_hour(),
            public: Public::Registry(Registry {
                action: "agency_added".into(),
                country: Some("US".into()),
            }),
            commitments: vec![Commitment([0xcd; 32])],
        }),
        Entry::Event(Event {
            case: None,
            hour: t.floor_hour(),
            public: Public::Registry(Registry {
                action: "user_added".into(),
                country: None,
            }),
            commitments: vec![Commitment([0xcd; 32])],
        }),
        Entry::Restricted(Restricted {
            unit: Unit::Selector,
            period: "2026-H2".into(),
            commitment: Commitment([0xab; 32]),
        }),
    ]
}

#[test]
fn every_kind_writes_the_expected_bytes_and_reads_back() {
    let expected_path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/entries.jsonl");
    let written: Vec<String> = every_kind()
        .iter()
        .map(|e| String::from_utf8(e.to_entry().unwrap()).unwrap())
        .collect();
    if std::env::var_os("WRIT_BLESS").is_some() {
        std::fs::write(expected_path, written.join("\n") + "\n").unwrap();
    }
    let expected = std::fs::read_to_string(expected_path).unwrap();
    let expected: Vec<&str> = expected.lines().collect();
    assert_eq!(expected.len(), written.len());
    for ((entry, text), want) in every_kind().iter().zip(&written).zip(expected) {
        assert_eq!(text, want);
        assert_eq!(&Entry::parse(text.as_bytes()).unwrap(), entry, "{text}");
        // The borrowed reading sees the same kind and public figures.
        let view = EntryView::parse(text.as_bytes()).unwrap();
        match entry {
            Entry::Event(e) => {
                assert_eq!(view.kind, EntryKind::Event(e.kind()));
                assert_eq!(view.case.as_deref(), e.case.as_deref());
            }
            Entry::Restricted(r) => {
                assert_eq!(view.kind, EntryKind::Restricted);
                assert_eq!(view.unit, Some(r.unit));
            }
        }
    }
    // Every kind is covered.
    for kind in Kind::ALL {
        assert!(
            every_kind()
                .iter()
                .any(|e| matches!(e, Entry::Event(ev) if ev.kind() == kind)),
            "{kind:?}"
        );
    }
}

#[test]
fn kinds_without_public_fields_write_none() {
    for e in every_kind() {
        let Entry::Event(ev) = &e else { continue };
        let text = String::from_utf8(e.to_entry().unwrap()).unwrap();
        let has_public = text.contains("\"public\"");
        assert_eq!(
            has_public,
            !matches!(ev.kind(), Kind::Withdrawn | Kind::Expired),
            "{text}"
        );
    }
    // An empty `public` object, as earlier entries carried, reads the same.
    let old = r#"{"case":"c-1","commitments":[],"hour":"2026-11-28T12:00:00Z","kind":"withdrawn","public":{},"v":1}"#;
    let Entry::Event(e) = Entry::parse(old.as_bytes()).unwrap() else {
        panic!("not an event")
    };
    assert_eq!(e.public, Public::Withdrawn);
}

#[test]
fn deferred_entries_are_cut_to_the_day() {
    let e = Event::of_case("c-1", at("2026-11-28T23:59:59Z"), true, Public::Expired);
    assert_eq!(e.hour, at("2026-11-28T00:00:00Z"));
    let e = Event::of_case("c-1", at("2026-11-28T23:59:59Z"), false, Public::Expired);
    assert_eq!(e.hour, at("2026-11-28T23:00:00Z"));
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
    assert_eq!(
        Commitment::of_canonical(&salt, br#"{"a":"x","b":1}"#).0,
        expected
    );
    // Key order in the input does not matter.
    let reordered: serde_json::Value = serde_json::from_str(r#"{"a":"x","b":1}"#).unwrap();
    assert_eq!(commit(&salt, &details), commit(&salt, &reordered));
    // Different salts differ.
    assert_ne!(
        Opening::new(Salt([1; 32]), details.clone()).commitment(),
        Opening::new(Salt([2; 32]), details).commitment()
    );
}

#[test]
fn openings_travel_as_json_and_hide_their_salt() {
    let opening = Opening::new(
        Salt([9; 32]),
        json!({"target": "alice@example.com", "pairs": []}),
    );
    let c = opening.commitment();
    let carried: Opening = serde_json::from_str(&serde_json::to_string(&opening).unwrap()).unwrap();
    assert!(carried.verify(&c));
    let mut altered = carried.clone();
    altered.details["target"] = json!("bob@example.com");
    assert!(!altered.verify(&c));
    assert!(!format!("{opening:?}").contains(&"09".repeat(32)));

    // The private part kept beside an event: canonical, in order.
    let private = Private::of(vec![opening.clone(), altered]);
    let text = String::from_utf8(private.to_canonical().unwrap()).unwrap();
    assert!(text.starts_with(r#"{"details":[{"pairs":[],"target":"alice@example.com"}"#));
    assert!(text.ends_with(&format!(
        r#""salts":["{}","{}"]}}"#,
        "09".repeat(32),
        "09".repeat(32)
    )));
    assert_eq!(Private::parse(&text).unwrap().opening(0), Some(opening));
    assert_eq!(Private::parse(&text).unwrap().opening(2), None);
    let bad = Private::parse(r#"{"details":[],"salts":["zz"]}"#).unwrap_err();
    assert!(bad.to_string().contains("salts"), "{bad}");
}

/// Each bad entry and the field its error must name.
#[test]
fn parse_errors_name_the_field() {
    let base = r#"{"case":"c-1","commitments":[],"hour":"2026-11-28T12:00:00Z","kind":"KIND","public":PUBLIC,"v":1}"#;
    let of = |kind: &str, public: &str| base.replace("KIND", kind).replace("PUBLIC", public);
    let cases: Vec<(String, &str)> = vec![
        (of("decided", r#"{"accounts":1}"#), "public"),
        (
            of(
                "decided",
                r#"{"accounts":"one","accounts_abroad":0,"due_hour":"2026-12-08T12:00:00Z","granted":{},"outcome":"approve","reasons":[]}"#,
            ),
            "public.accounts",
        ),
        (
            of(
                "decided",
                r#"{"accounts":1,"accounts_abroad":0,"due_hour":"2026-12-08T12:00:00Z","granted":{"content":-1},"outcome":"approve","reasons":[]}"#,
            ),
            "public.granted.content",
        ),
        (
            of(
                "received",
                r#"{"country":"US","emergency":false,"gag":false,"instrument":"letter_of_marque","targets":1}"#,
            ),
            "public.instrument",
        ),
        (
            of("released", r#"{"accounts":1,"users":2}"#),
            "public.users",
        ),
        (of("withdrawn", r#"{"users":2}"#), "public"),
        (
            of("notified", r#"{"users":1}"#).replace(r#""hour""#, r#""extra":1,"hour""#),
            "extra",
        ),
        (
            base.replace("\"public\":PUBLIC,", "")
                .replace("KIND", "notified"),
            "public",
        ),
        (
            of("notified", r#"{"users":1}"#).replace("12:00:00Z", "12:30:00Z"),
            "hour",
        ),
        (
            of("notified", r#"{"users":1}"#).replace("[]", r#"["AB"]"#),
            "commitments",
        ),
        (
            of("notified", r#"{"users":1}"#).replace(r#""case":"c-1","#, ""),
            "case",
        ),
        (
            of("notified", r#"{"users":1}"#).replace(r#""commitments""#, r#""comments""#),
            "commitments",
        ),
    ];
    for (bad, name) in cases {
        match Entry::parse(bad.as_bytes()) {
            Err(EventError::Field { field, .. }) => assert_eq!(field, name, "{bad}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
}

#[test]
fn parse_refuses_what_is_not_a_v1_entry() {
    let ok =
        r#"{"case":"c-1","commitments":[],"hour":"2026-11-28T12:00:00Z","kind":"withdrawn","v":1}"#;
    Entry::parse(ok.as_bytes()).unwrap();
    assert!(matches!(
        Entry::parse(br#"{"v": 1}"#),
        Err(EventError::NotCanonical)
    ));
    assert!(matches!(
        Entry::parse(ok.replace("\"v\":1", "\"v\":2").as_bytes()),
        Err(EventError::Version(v)) if v == "2"
    ));
    assert!(matches!(
        Entry::parse(ok.replace("withdrawn", "sneezed").as_bytes()),
        Err(EventError::Kind(k)) if k == "sneezed"
    ));
    assert!(matches!(
        Entry::parse(
            r#"{"case":"c-1","commitments":[],"hour":"2026-11-28T12:00:00Z","kind":"registry","public":{"action":"x"},"v":1}"#
                .as_bytes()
        ),
        Err(EventError::Field { field, .. }) if field == "case"
    ));
    for bad in [
        r#"{"kind":"withdrawn","v":1,"case":"c-1","commitments":[],"hour":"2026-11-28T12:00:00Z"}"#,
        "[1]",
        "{",
    ] {
        assert!(Entry::parse(bad.as_bytes()).is_err(), "{bad}");
    }
    assert!(matches!(
        EntryView::parse(ok.replace("\"v\":1", "\"v\":2").as_bytes()),
        Err(EventError::Version(_))
    ));
    assert!(EntryView::parse(ok.replace("withdrawn", "sneezed").as_bytes()).is_err());
}
