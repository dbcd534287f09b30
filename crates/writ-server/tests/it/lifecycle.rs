//! The case lifecycle after a decision, through the running application:
//! each test is a path on which the law was once applied wrongly.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use writ_model::Timestamp;

use crate::support::{TestApp, subpoena, warrant};

async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The case's log entries (as stored) of one kind.
async fn entries(t: &TestApp, case: &str, kind: &str) -> Vec<Value> {
    t.app
        .gateway()
        .store()
        .events_for_case(case)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == kind && e.state != "released")
        .map(|e| serde_json::from_str(&e.entry).unwrap())
        .collect()
}

/// The notices in the demo outbox, decoded from quoted-printable enough to
/// read their text.
fn outbox(t: &TestApp) -> Vec<String> {
    let mut out: Vec<(std::time::SystemTime, String)> =
        std::fs::read_dir(t.data().join("demo/outbox"))
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".eml"))
                    .map(|e| {
                        let text = std::fs::read_to_string(e.path()).unwrap();
                        let modified = e.metadata().unwrap().modified().unwrap();
                        (modified, text.replace("=\r\n", "").replace("=\n", ""))
                    })
                    .collect()
            })
            .unwrap_or_default();
    out.sort();
    out.into_iter().map(|(_, t)| t).collect()
}

async fn act(t: &TestApp, user: &str, case: &str, action: &str, body: Value) -> Value {
    let r = t
        .as_user(
            user,
            "POST",
            &format!("/v1/review/cases/{case}/{action}"),
            Some(body),
        )
        .await;
    assert_eq!(r.status, 200, "{action}: {}", r.text);
    r.json()
}

async fn submit(t: &TestApp, agency: &str, order: &Value) -> (String, Value) {
    let r = t.submit(agency, order).await;
    assert!(r.status == 201, "{}", r.text);
    let v = r.json();
    (
        v["case"].as_str().unwrap().to_owned(),
        v["decision"].clone(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_later_release_is_noticed_in_full() {
    let t = TestApp::start().await;
    let (case, _) = submit(
        &t,
        "us-fbi-wfo",
        &warrant("us-fbi-wfo", "L-1", "alice@example.com"),
    )
    .await;
    // Subscriber data goes out at once, and the user is told.
    wait_for("the first notice", async || {
        entries(&t, &case, "notified").await.len() == 1
    })
    .await;
    let first = outbox(&t);
    assert_eq!(first.len(), 1);
    assert!(first[0].contains("subscriber information"), "{}", first[0]);
    assert!(
        !first[0].contains("content of your messages"),
        "{}",
        first[0]
    );

    // Content after two people: a second package, and a second notice
    // that names everything that went out.
    act(&t, "rita", &case, "approve", json!({})).await;
    act(&t, "alex", &case, "confirm", json!({})).await;
    wait_for("the second notice", async || {
        entries(&t, &case, "notified").await.len() == 2
    })
    .await;
    assert_eq!(entries(&t, &case, "disclosed").await.len(), 2);
    let all = outbox(&t);
    assert_eq!(all.len(), 2, "one notice per release");
    let second = all
        .iter()
        .find(|n| n.contains("content of your messages"))
        .expect("a notice names the content that was released");
    assert!(second.contains("subscriber information"), "{second}");
    assert!(second.contains("further release"), "{second}");

    // Nothing more on later passes.
    for _ in 0..3 {
        t.app.gateway().deliver_once().await.unwrap();
    }
    assert_eq!(entries(&t, &case, "notified").await.len(), 2);
}

/// A warrant for content with a judge's secrecy order ending in `days`.
fn gagged_warrant(reference: &str, days: i64) -> (Value, Timestamp) {
    let until = Timestamp::parse(&format!(
        "{}T00:00:00Z",
        Timestamp::now().plus_days(days).date_string()
    ))
    .unwrap();
    let mut o = warrant("us-fbi-wfo", reference, "alice@example.com");
    o["non_disclosure"] =
        json!({"issued_by": {"kind": "judge"}, "basis": "18 U.S.C. § 2705(b)", "until": until});
    (o, until)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirming_keeps_a_courts_later_change_to_the_secrecy_order() {
    let t = TestApp::start().await;
    // Extended after the proposal: the confirmation keeps the extension.
    let (order, until) = gagged_warrant("L-2", 90);
    let (case, decision) = submit(&t, "us-fbi-wfo", &order).await;
    assert_eq!(decision["notify"]["when"], "after", "{decision}");
    assert_eq!(decision["notify"]["at"], json!(until), "{decision}");
    act(&t, "rita", &case, "approve", json!({})).await;
    let later = until.plus_days(60);
    let extended = act(&t, "rita", &case, "secrecy", json!({"until": later})).await;
    assert_eq!(extended["decision"]["notify"]["at"], json!(later));
    let confirmed = act(&t, "alex", &case, "confirm", json!({})).await;
    assert_eq!(
        confirmed["decision"]["notify"]["at"],
        json!(later),
        "{confirmed}"
    );
    let stored = t.app.gateway().case(&case).await.unwrap();
    assert_eq!(stored.decision.notify.at, Some(later));
    assert_eq!(stored.status, writ_model::CaseStatus::Approved);

    // Lifted after the proposal: the user may be told once it is confirmed.
    let (order, _) = gagged_warrant("L-3", 90);
    let (case, _) = submit(&t, "us-fbi-wfo", &order).await;
    act(&t, "rita", &case, "approve", json!({})).await;
    act(&t, "rita", &case, "secrecy", json!({"lifted": true})).await;
    let confirmed = act(&t, "avery", &case, "confirm", json!({})).await;
    let notify = &confirmed["decision"]["notify"];
    let lifted_by_now = notify["when"] == "on_disclosure"
        || (notify["when"] == "after"
            && Timestamp::parse(notify["at"].as_str().unwrap()).unwrap() <= Timestamp::now());
    assert!(lifted_by_now, "{confirmed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_keeps_a_partial_outcome_partial() {
    let t = TestApp::start().await;
    let mut o = warrant("us-fbi-wfo", "L-4", "alice@example.com");
    o["targets"] = json!([
        {"kind": "email", "value": "alice@example.com"},
        {"kind": "email", "value": "nobody@example.com"},
    ]);
    let (case, decision) = submit(&t, "us-fbi-wfo", &o).await;
    // Content of a warrant waits for two people; the pairs say `partial`.
    assert_eq!(decision["outcome"], "partial", "{decision}");
    let proposed = t
        .as_user("rita", "GET", &format!("/v1/review/cases/{case}"), None)
        .await;
    assert_eq!(proposed.status, 200);
    act(&t, "rita", &case, "approve", json!({})).await;
    let confirmed = act(&t, "alex", &case, "confirm", json!({})).await;
    // grant + no_data: `partial` by the rule book's step 4, as the engine
    // says of the same pairs.
    assert_eq!(confirmed["decision"]["outcome"], "partial", "{confirmed}");
    let reviewed = entries(&t, &case, "reviewed").await;
    assert_eq!(reviewed.last().unwrap()["public"]["outcome"], "partial");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoofed_order_counts_under_its_signer_and_its_accounts_count() {
    let t = TestApp::start().await;
    // br-pf signs an order that claims to come from the FBI.
    let (case, decision) = submit(
        &t,
        "br-pf",
        &subpoena("us-fbi-wfo", "L-5", "alice@example.com"),
    )
    .await;
    assert_eq!(decision["outcome"], "reject");
    let codes: Vec<&str> = decision["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"submitter_mismatch"), "{codes:?}");
    let received = entries(&t, &case, "received").await;
    assert_eq!(received[0]["public"]["country"], "BR", "{}", received[0]);
    // Refused at step 1, its target's account is still counted.
    let decided = entries(&t, &case, "decided").await;
    assert_eq!(decided[0]["public"]["accounts"], 1, "{}", decided[0]);
    assert_eq!(decided[0]["public"]["accounts_abroad"], 1, "{}", decided[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_agency_downloads_nothing() {
    let t = TestApp::start().await;
    let (case, _) = submit(
        &t,
        "us-fbi-wfo",
        &subpoena("us-fbi-wfo", "L-6", "alice@example.com"),
    )
    .await;
    let path = format!("/v1/cases/{case}/package");
    wait_for("the package", async || {
        t.signed("us-fbi-wfo", "GET", &path, b"").await.status == 200
    })
    .await;
    t.app
        .gateway()
        .set_agency_status("us-fbi-wfo", writ_model::AgencyStatus::Suspended, "adam")
        .await
        .unwrap();
    let r = t.signed("us-fbi-wfo", "GET", &path, b"").await;
    assert_eq!(r.status, 403, "{}", r.text);
    r.assert_problem(403);
    // The package is kept, with its deadline, should the production still
    // be compelled: re-verified, the agency gets it.
    t.app
        .gateway()
        .set_agency_status("us-fbi-wfo", writ_model::AgencyStatus::Verified, "adam")
        .await
        .unwrap();
    assert_eq!(t.signed("us-fbi-wfo", "GET", &path, b"").await.status, 200);
}
