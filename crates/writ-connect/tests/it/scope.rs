use std::sync::Mutex;

use serde_json::json;
use writ_connect::scope::ScopedError;
use writ_connect::{ConnectError, Connector, Dropped, Job, Record, RecordStream, Scope, collect};
use writ_model::Category;
use writ_model::order::DateRange;
use writ_seal::Identity;

use crate::{header, range, t};

/// A connector that returns more than it is asked for: other accounts,
/// other categories, records outside the range and undated records.
#[derive(Default)]
struct Misbehaving {
    calls: Mutex<Vec<(String, Category)>>,
}

impl Connector for Misbehaving {
    fn records(
        &self,
        account: &str,
        category: Category,
        _range: Option<DateRange>,
    ) -> Result<RecordStream<'_>, ConnectError> {
        self.calls
            .lock()
            .unwrap()
            .push((account.to_owned(), category));
        let rec = |acc: &str, cat: Category, at: Option<&str>, n: u32| Record {
            account: acc.to_owned(),
            category: cat,
            at: at.map(t),
            data: writ_connect::Json::of(&json!({"n": n, "at": at})).unwrap(),
        };
        let account = account.to_owned();
        Ok(Box::new(
            vec![
                rec(&account, category, Some("2026-03-01T00:00:00Z"), 1),
                rec(&account, category, Some("2025-12-31T23:59:59Z"), 2),
                rec(&account, category, Some("2026-07-01T00:00:01Z"), 3),
                rec(&account, Category::Content, Some("2026-03-02T00:00:00Z"), 4),
                rec("mallory", category, Some("2026-03-03T00:00:00Z"), 5),
                rec(&account, category, None, 6),
                rec(&account, category, Some("2026-01-01T00:00:00Z"), 7),
                rec(&account, category, Some("2026-07-01T00:00:00Z"), 8),
            ]
            .into_iter()
            .map(Ok),
        ))
    }
}

fn order_range() -> DateRange {
    range("2026-01-01T00:00:00Z", "2026-07-01T00:00:00Z")
}

#[test]
fn only_granted_pairs_and_dates_reach_the_package() {
    let dir = tempfile::tempdir().unwrap();
    let identity = Identity::generate();
    let scope = Scope::new(
        [
            ("alice".to_owned(), Category::Traffic),
            ("alice".to_owned(), Category::Subscriber),
        ],
        Some(order_range()),
    );
    let job = Job {
        header: header(),
        scope,
        recipient: identity.to_public(),
        work_dir: dir.path().join("work"),
        dest: dir.path().join("case.age"),
    };
    let connector = Misbehaving::default();
    let collected = collect(&job, &connector).unwrap();
    // Traffic: 1, 7 and 8 (the range is inclusive); subscriber: the same
    // plus 6, the undated profile.
    assert_eq!(
        collected.dropped,
        Dropped {
            other_account: 2,
            other_category: 2,
            out_of_range: 4,
            undated: 1,
        }
    );
    let out = dir.path().join("out");
    let manifest = writ_seal::open(&job.dest, &identity, &out).unwrap();
    let paths: Vec<_> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["alice/subscriber.ndjson", "alice/traffic.ndjson"]);
    let numbers = |path: &str| -> Vec<u64> {
        std::fs::read_to_string(out.join(path))
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["n"]
                    .as_u64()
                    .unwrap()
            })
            .collect()
    };
    assert_eq!(numbers("alice/traffic.ndjson"), [1, 7, 8]);
    assert_eq!(numbers("alice/subscriber.ndjson"), [1, 6, 7, 8]);
    // The connector was only ever asked for granted pairs.
    let mut calls = connector.calls.lock().unwrap().clone();
    calls.sort();
    assert_eq!(
        calls,
        [
            ("alice".to_owned(), Category::Subscriber),
            ("alice".to_owned(), Category::Traffic)
        ]
    );
}

#[test]
fn a_pair_that_was_not_granted_is_refused_before_the_connector_is_called() {
    let scope = Scope::new(
        [("alice".to_owned(), Category::Traffic)],
        Some(order_range()),
    );
    let connector = Misbehaving::default();
    for (account, category) in [("alice", Category::Content), ("bob", Category::Traffic)] {
        let err = scope.records(&connector, account, category).unwrap_err();
        assert!(matches!(err, ScopedError::NotGranted(_)), "{err}");
    }
    assert!(connector.calls.lock().unwrap().is_empty());
}

#[test]
fn without_a_range_every_dated_record_of_the_pair_passes() {
    let scope = Scope::new([("alice".to_owned(), Category::Traffic)], None);
    let connector = Misbehaving::default();
    let mut records = scope
        .records(&connector, "alice", Category::Traffic)
        .unwrap();
    let n: Vec<u64> = records
        .by_ref()
        .map(|r| r.unwrap().data.value().unwrap()["n"].as_u64().unwrap())
        .collect();
    assert_eq!(n, [1, 2, 3, 7, 8]);
    assert_eq!(records.dropped().total(), 3);
}

#[test]
fn scope_from_a_decision_takes_granted_pairs_only() {
    let order: writ_model::Order = serde_json::from_value(json!({
        "reference": "R-1", "agency": "a", "instrument": "search_warrant", "legal_basis": "x",
        "issued_by": {"kind": "judge", "name": "J"}, "issued_at": "2026-11-01T00:00:00Z",
        "targets": [{"kind": "account_id", "value": "alice"}],
        "categories": ["traffic", "content"],
        "date_range": {"from": "2026-01-01T00:00:00Z", "to": "2026-07-01T00:00:00Z"}
    }))
    .unwrap();
    let pair = |category: &str, status: &str| {
        json!({"target": "account_id:alice", "account": "alice", "category": category,
               "status": status, "data_location": null, "reasons": []})
    };
    let decision: writ_model::Decision = serde_json::from_value(json!({
        "outcome": "partial",
        "decisions": [pair("traffic", "grant"), pair("content", "review"), pair("subscriber", "preserve")],
        "reasons": [], "due_at": "2026-11-10T00:00:00Z", "not_before": null, "preserve_until": null,
        "notify": {"when": "none", "at": null}, "policy": {"id": "p", "version": "1"}
    }))
    .unwrap();
    let scope = Scope::granted(&decision, &order);
    assert_eq!(
        scope.pairs().collect::<Vec<_>>(),
        [("alice", Category::Traffic)]
    );
    assert_eq!(scope.range(), order.date_range);
}
