//! Every kind of entry the gateway writes reads back through the event
//! model (`writ_events::Entry::parse`), the same bytes it logs.

use serde_json::json;
use writ_events::{Entry, Kind, Private, Public};
use writ_gateway::events::{self, CaseContext};
use writ_model::Timestamp;

use crate::{order, start, submit};

#[tokio::test]
async fn every_kind_the_gateway_writes_parses() {
    let t = start().await;
    let s = submit(&t, &order("E-1", "search_warrant", json!({}))).await;
    let case = t.gw.store().load_case(&s.case).await.unwrap().unwrap();
    let ctx = CaseContext {
        case_id: &case.id,
        order: &case.order,
        order_sha256: &case.order_sha256,
        submitter: "us-fbi-wfo",
        country: Some("US"),
    };
    let d = &case.decision;
    let now = Timestamp::now();
    let made = [
        events::received(&ctx, None, now, false),
        events::decided(&ctx, d, Some((1, 0)), now, true),
        events::reviewed(&ctx, "confirm", "approver", "ann", d, true, now, false),
        events::verified(&ctx, true, "registry", None, "ann", now, false),
        events::verified(&ctx, false, "registry", Some("channel"), "bea", now, false),
        events::disclosed(&ctx, d, "ab", 1, now, false),
        events::preserved(&ctx, 1, Some(now.plus_days(90)), true, now, false),
        events::released(&ctx, 1, now, false),
        events::notified(&ctx, 1, "n-1", now, false),
        events::extended(&ctx, None, "ann", now, false),
        events::withdrawn(&ctx, now, false),
        events::expired(&ctx, now, false),
        events::registry("agency_added", Some("US"), json!({"agency": "x"}), now),
        events::queried(&ctx, 2, true, "ann", now, false),
        events::clarified(&ctx, Some(now.plus_days(10)), None, now, false),
    ];
    let mut kinds = Vec::new();
    for e in made {
        let e = e.unwrap();
        let Entry::Event(event) = Entry::parse(e.entry.as_bytes()).unwrap() else {
            panic!("not an event: {}", e.entry)
        };
        assert_eq!(event.kind().as_str(), e.kind);
        assert_eq!(event.case.as_deref(), e.case_id.as_deref());
        // Every commitment opens with what the case store keeps.
        let private = Private::parse(&e.private).unwrap();
        assert_eq!(private.salts.len(), event.commitments.len());
        for (k, c) in event.commitments.iter().enumerate() {
            assert!(private.opening(k).unwrap().verify(c));
        }
        if let Public::Received(r) = &event.public {
            assert_eq!(r.country.as_deref(), Some("US"));
            assert_eq!(r.targets, 1);
        }
        kinds.push(event.kind());
    }
    // The channel check is a second `verified` entry.
    kinds.dedup();
    assert_eq!(kinds, Kind::ALL);
}

/// A change of the log's witnesses is a `registry` entry of its own; the
/// same set again writes nothing.
#[tokio::test]
async fn a_change_of_witnesses_is_logged_once() {
    let t = crate::start().await;
    let gw = &t.gw;
    let registry_entries = || async {
        gw.store()
            .pending_events(10_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.entry.contains("\"action\":\"witnesses\""))
            .count()
    };
    assert_eq!(gw.witnesses().await.unwrap(), (Vec::new(), 0));
    // A deployment that never had witnesses records nothing.
    assert!(!gw.record_witnesses(&[], 0).await.unwrap());
    assert_eq!(registry_entries().await, 0);
    let a = "witness.example+01234567+BAAA".to_owned();
    let b = "other.example+89abcdef+BBBB".to_owned();
    assert!(
        gw.record_witnesses(&[a.clone(), b.clone()], 2)
            .await
            .unwrap()
    );
    // The same set, in another order: no change.
    assert!(
        !gw.record_witnesses(&[b.clone(), a.clone()], 2)
            .await
            .unwrap()
    );
    assert_eq!(registry_entries().await, 1);
    assert_eq!(
        gw.witnesses().await.unwrap(),
        (vec![b.clone(), a.clone()], 2)
    );
    // Another quorum is another set.
    assert!(
        gw.record_witnesses(&[a.clone(), b.clone()], 1)
            .await
            .unwrap()
    );
    // No witnesses any more: recorded too.
    assert!(gw.record_witnesses(&[], 0).await.unwrap());
    assert_eq!(registry_entries().await, 3);
    assert_eq!(gw.witnesses().await.unwrap(), (Vec::new(), 0));
}
