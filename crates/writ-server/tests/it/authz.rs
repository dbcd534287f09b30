//! The authorization matrix, generated from the router's route table: every
//! protected route × (another agency, a console user without the role,
//! anonymous, a bad signature, a replayed signature) is refused, changes
//! nothing and leaks nothing of the case.

use serde_json::json;
use writ_model::Timestamp;
use writ_server::{Auth, routes};

use crate::support::{Resp, TestApp, sign, warrant};

const OWNER: &str = "us-fbi-wfo";
const OTHER: &str = "us-nypd";
const SECRET_REFERENCE: &str = "AUTHZ-SECRET-REF";
const SECRET_TARGET: &str = "alice@example.com";

fn body_for(path: &str) -> Vec<u8> {
    if path.ends_with("/narrow") {
        json!({"drop": [{"target": format!("email:{SECRET_TARGET}"), "category": "content"}]})
    } else if path.ends_with("/reject") {
        json!({"reason": "test"})
    } else if path.ends_with("/callback") {
        json!({"number_source": "registry", "verified": true})
    } else if path.ends_with("/secrecy") {
        json!({"lifted": true})
    } else if path.ends_with("/channel") {
        json!({"verified": true})
    } else if path.ends_with("/query") || path.ends_with("/clarification") {
        json!({"message": "test"})
    } else if path == "/v1/review/orders" {
        json!({"agency": OWNER, "channel": "post", "order": warrant(OWNER, "AUTHZ-REC", SECRET_TARGET)})
    } else if path == "/v1/orders" {
        warrant(OWNER, "AUTHZ-NEW", SECRET_TARGET)
    } else {
        return Vec::new();
    }
    .to_string()
    .into_bytes()
}

fn assert_refused(r: &Resp, allowed: &[u16], what: &str) {
    assert!(
        allowed.contains(&r.status.as_u16()),
        "{what}: got {} {}",
        r.status,
        r.text
    );
    r.assert_problem(r.status.as_u16());
    assert!(
        !r.text.contains(SECRET_REFERENCE),
        "{what} leaks the reference: {}",
        r.text
    );
    assert!(
        !r.text.contains(SECRET_TARGET),
        "{what} leaks the target: {}",
        r.text
    );
}

#[tokio::test]
async fn every_protected_route_refuses_strangers() {
    let t = TestApp::start().await;
    let answer = t
        .submit(OWNER, &warrant(OWNER, SECRET_REFERENCE, SECRET_TARGET))
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    let case = answer.json()["case"].as_str().unwrap().to_owned();
    let before = t.state().await;
    let mut checked = 0;

    for (method, pattern, auth) in &routes() {
        // Pages have their own matrix (`pages.rs`): no session gets a
        // redirect to sign in, not a problem document.
        if matches!(
            auth,
            Auth::Public | Auth::Console | Auth::ConsoleAdmin | Auth::Portal
        ) {
            continue;
        }
        let path = pattern.replace("{id}", &case);
        let body = body_for(&path);
        let what = |who: &str| format!("{who} {method} {pattern}");

        // Anonymous.
        let r = t.raw(method, &path, &[], body.clone()).await;
        assert_refused(&r, &[401], &what("anonymous"));

        // A bad signature: the owner's key id, another key.
        let forged = sign(
            OWNER,
            &t.key(OTHER),
            method,
            &path,
            &body,
            Timestamp::now().as_second(),
        );
        let mut headers = forged.headers.clone();
        let owner_key = sign(
            OWNER,
            &t.key(OWNER),
            method,
            &path,
            &body,
            Timestamp::now().as_second(),
        );
        headers[1] = owner_key.headers[1].clone(); // the owner's key id in Signature-Input
        let r = t.raw(method, &path, &headers, body.clone()).await;
        assert_refused(&r, &[401], &what("bad signature"));

        // A stale signature (10 minutes old).
        let stale = sign(
            OWNER,
            &t.key(OWNER),
            method,
            &path,
            &body,
            Timestamp::now().as_second() - 600,
        );
        let r = t.raw(method, &path, &stale.headers, body.clone()).await;
        assert_refused(&r, &[401], &what("stale signature"));

        match auth {
            Auth::Agency => {
                // Another agency: its own signature, someone else's case.
                if pattern.contains("{id}") {
                    let r = t.signed(OTHER, method, &path, &body).await;
                    assert_refused(&r, &[404], &what("another agency"));
                } else if *method == "GET" {
                    let r = t.signed(OTHER, method, &path, &body).await;
                    assert_eq!(r.status, 200);
                    assert!(!r.text.contains(&case), "another agency sees the case");
                }
                // A console user's token is no agency signature.
                let r = t.as_user("alex", method, &path, body_from(&body)).await;
                assert_refused(&r, &[401], &what("console user"));
                // A replayed signature: the second use is refused. Use a
                // read-only route so that the first use changes nothing.
                let read = format!("/v1/cases/{case}");
                let s = sign(
                    OWNER,
                    &t.key(OWNER),
                    "GET",
                    &read,
                    b"",
                    Timestamp::now().as_second(),
                );
                assert_eq!(t.raw("GET", &read, &s.headers, vec![]).await.status, 200);
                let r = t.raw("GET", &read, &s.headers, vec![]).await;
                assert_refused(&r, &[401], &what("replayed signature"));
                // And a replay of a signed write on this very route.
                let s = sign(
                    OWNER,
                    &t.key(OWNER),
                    method,
                    &path,
                    &body,
                    Timestamp::now().as_second(),
                );
                let _ = t.raw(method, &path, &s.headers, body.clone()).await;
                let after_first = t.state().await;
                let r = t.raw(method, &path, &s.headers, body.clone()).await;
                assert_refused(&r, &[401], &what("replayed signature"));
                assert_eq!(t.state().await, after_first, "{}", what("replay"));
            }
            Auth::Reviewer | Auth::Approver => {
                // An agency's signature is no console login.
                let r = t.signed(OWNER, method, &path, &body).await;
                assert_refused(&r, &[401], &what("agency"));
                // A made-up token.
                let r = t
                    .raw(
                        method,
                        &path,
                        &[("authorization".into(), "Bearer writ_pat_nope".into())],
                        body.clone(),
                    )
                    .await;
                assert_refused(&r, &[401], &what("bad token"));
                // A user without the role.
                let r = t.as_user("adam", method, &path, body_from(&body)).await;
                assert_refused(&r, &[403], &what("admin"));
                if *auth == Auth::Approver {
                    let r = t.as_user("rita", method, &path, body_from(&body)).await;
                    assert_refused(&r, &[403], &what("reviewer"));
                }
            }
            Auth::Public | Auth::Console | Auth::ConsoleAdmin | Auth::Portal => {}
        }
        checked += 1;
    }
    assert!(checked >= 14, "only {checked} routes checked");
    // Refused requests changed nothing (the replayed writes were refused;
    // their first uses are the only changes, and they were on the owner's
    // own case or a new order of the owner).
    let after = t.state().await;
    assert!(after.0 >= before.0);
}

fn body_from(body: &[u8]) -> Option<serde_json::Value> {
    (!body.is_empty()).then(|| serde_json::from_slice(body).unwrap())
}
