//! The application core without HTTP: intake, events, review rules.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use serde_json::{Value, json};
use writ_gateway::auth::{Role, User};
use writ_gateway::review::Proposal;
use writ_gateway::{Gateway, GatewayError, Submission, canonical};
use writ_model::Timestamp;
use writ_store::Store;

mod delivery;
mod events;
mod foresee;
mod lifecycle;
mod mailbox;
mod officers;

struct T {
    gw: Gateway,
    _dir: tempfile::TempDir,
}

async fn start() -> T {
    let dir = tempfile::tempdir().unwrap();
    let url = match test_database().await {
        Some(url) => url,
        None => format!("sqlite://{}", dir.path().join("writ.db").display()),
    };
    let store = Store::open(&url).await.unwrap();
    let pack = Arc::new(writ_policy::Pack::embedded().unwrap());
    let gw = Gateway::new(
        store,
        Arc::new(move |i: &writ_model::DecisionInput| writ_policy::decide(&pack, i)),
    );
    gw.seed_demo(dir.path()).await.unwrap();
    T { gw, _dir: dir }
}

/// A new database on the PostgreSQL server named by `WRIT_TEST_DATABASE`
/// (`.ci/run` runs this test binary a second time that way); `None`: SQLite.
async fn test_database() -> Option<String> {
    let url = std::env::var("WRIT_TEST_DATABASE").ok()?;
    Some(writ_testdb::fresh_database(&url, "writ_gateway").await)
}

fn user(name: &str, role: Role) -> User {
    User {
        name: name.into(),
        role,
    }
}

fn order(reference: &str, instrument: &str, extra: Value) -> Vec<u8> {
    let mut o = json!({
        "reference": reference,
        "agency": "us-fbi-wfo",
        "instrument": instrument,
        "legal_basis": "test",
        "issued_by": {"kind": "judge"},
        "issued_at": Timestamp::now().plus_days(-1),
        "expires_at": Timestamp::now().plus_days(10),
        "targets": [{"kind": "email", "value": "alice@example.com"}],
        "categories": ["subscriber", "content"],
        "date_range": {"from": "2026-01-01T00:00:00Z", "to": "2026-06-30T23:59:59Z"},
    });
    for (k, v) in extra.as_object().unwrap() {
        o[k] = v.clone();
    }
    o.to_string().into_bytes()
}

async fn submit(t: &T, body: &[u8]) -> writ_gateway::Submitted {
    t.gw.submit(Submission {
        officer: None,
        submitter: "us-fbi-wfo",
        body,
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn events_commit_to_salted_private_details() {
    let t = start().await;
    let s = submit(&t, &order("G-1", "search_warrant", json!({}))).await;
    let events = t.gw.store().events_for_case(&s.case).await.unwrap();
    assert_eq!(events.len(), 2);
    for e in &events {
        let entry: Value = serde_json::from_str(&e.entry).unwrap();
        // The entry is canonical JSON, version 1, cut to the hour.
        assert_eq!(canonical::to_string(&entry), e.entry);
        assert_eq!(entry["v"], 1);
        assert_eq!(entry["case"], s.case.as_str());
        assert!(entry["hour"].as_str().unwrap().ends_with(":00:00Z"));
        assert!(
            !e.entry.contains("alice"),
            "an identifier in a public entry"
        );
        assert!(!e.entry.contains("G-1"), "the reference in a public entry");
        // Order-level commitment first, then one per target; each opens.
        let private: Value = serde_json::from_str(&e.private).unwrap();
        let commitments = entry["commitments"].as_array().unwrap();
        assert_eq!(commitments.len(), 2);
        for (i, c) in commitments.iter().enumerate() {
            let mut bytes = hex::decode(private["salts"][i].as_str().unwrap()).unwrap();
            assert_eq!(bytes.len(), 32);
            bytes.extend(canonical::to_string(&private["details"][i]).into_bytes());
            assert_eq!(canonical::sha256_hex(&bytes), c.as_str().unwrap());
        }
        assert_eq!(private["details"][0]["reference"], "G-1");
    }
    let decided: Value = serde_json::from_str(&events[1].entry).unwrap();
    assert_eq!(decided["public"]["accounts"], 1);
    assert_eq!(decided["public"]["granted"]["content"], 1);
    let received: Value = serde_json::from_str(&events[0].entry).unwrap();
    assert_eq!(received["public"]["country"], "US");
    assert_eq!(received["public"]["targets"], 1);
}

#[tokio::test]
async fn secret_cases_are_deferred_and_cut_to_the_day() {
    let t = start().await;
    let gag = json!({"non_disclosure": {"issued_by": {"kind": "judge"}, "basis": "18 U.S.C. § 2705(b)",
        "until": Timestamp::now().plus_days(180)}});
    let s = submit(&t, &order("G-GAG", "search_warrant", gag)).await;
    for e in t.gw.store().events_for_case(&s.case).await.unwrap() {
        assert_eq!(e.state, "deferred");
        let entry: Value = serde_json::from_str(&e.entry).unwrap();
        assert!(entry["hour"].as_str().unwrap().ends_with("T00:00:00Z"));
    }
    let open = submit(&t, &order("G-OPEN", "search_warrant", json!({}))).await;
    for e in t.gw.store().events_for_case(&open.case).await.unwrap() {
        assert_eq!(e.state, "pending");
    }
}

#[tokio::test]
async fn concurrent_submissions_of_one_reference_make_one_case() {
    let t = start().await;
    let body = order("G-RACE", "search_warrant", json!({}));
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (gw, body) = (t.gw.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            gw.submit(Submission {
                officer: None,
                submitter: "us-fbi-wfo",
                body: &body,
            })
            .await
            .unwrap()
        }));
    }
    let mut cases = std::collections::BTreeSet::new();
    let mut created = 0;
    for task in tasks {
        let s = task.await.unwrap();
        created += usize::from(s.created);
        cases.insert(s.case);
    }
    assert_eq!(cases.len(), 1);
    assert_eq!(created, 1);
    assert_eq!(t.gw.store().case_count().await.unwrap(), 1);
}

#[tokio::test]
async fn two_person_rule() {
    let t = start().await;
    let s = submit(&t, &order("G-2P", "search_warrant", json!({}))).await;
    let (rita, alex, avery, adam) = (
        user("rita", Role::Reviewer),
        user("alex", Role::Approver),
        user("avery", Role::Approver),
        user("adam", Role::Admin),
    );
    assert!(matches!(
        t.gw.propose(&adam, &s.case, Proposal::Approve).await,
        Err(GatewayError::Forbidden(_))
    ));
    t.gw.propose(
        &rita,
        &s.case,
        Proposal::Reject {
            reason: "overbroad".into(),
        },
    )
    .await
    .unwrap();
    assert!(matches!(
        t.gw.confirm(&rita, &s.case).await,
        Err(GatewayError::Forbidden(_))
    ));
    // A later proposal supersedes the earlier one.
    t.gw.propose(&alex, &s.case, Proposal::Approve)
        .await
        .unwrap();
    assert!(matches!(
        t.gw.confirm(&alex, &s.case).await,
        Err(GatewayError::Forbidden(_))
    ));
    let done = t.gw.confirm(&avery, &s.case).await.unwrap();
    assert_eq!(done.decision.outcome.as_str(), "approve");
    let row = t.gw.store().case(&s.case).await.unwrap().unwrap();
    assert_eq!(row.status, "approved");
    // Nothing more to confirm.
    assert!(matches!(
        t.gw.confirm(&avery, &s.case).await,
        Err(GatewayError::Conflict(_))
    ));
}

#[tokio::test]
async fn registry_and_console_users() {
    let t = start().await;
    let agency: writ_model::Agency = serde_json::from_value(json!({
        "id": "us-test-pd", "name": "Test PD", "country": "US", "kind": "law_enforcement",
        "status": "pending", "verified_since": null
    }))
    .unwrap();
    t.gw.add_agency(&agency, &["+12025550999".into()], None, "admin")
        .await
        .unwrap();
    assert!(matches!(
        t.gw.add_agency(&agency, &[], None, "admin").await,
        Err(GatewayError::Conflict(_))
    ));
    let (key, _) = writ_gateway::demo::new_signing_key().unwrap();
    let public = base64_of(key.verifying_key().as_bytes());
    let id = writ_gateway::demo::key_id("us-test-pd", &key.verifying_key());
    t.gw.add_agency_key("us-test-pd", &id, &public, "admin")
        .await
        .unwrap();
    let (owner, _) = t.gw.signing_key(&id).await.unwrap().unwrap();
    assert_eq!(owner, "us-test-pd");
    t.gw.set_agency_status("us-test-pd", writ_model::AgencyStatus::Verified, "admin")
        .await
        .unwrap();
    let view = t.gw.agency_view("us-test-pd").await.unwrap();
    assert_eq!(view.agency.status.as_str(), "verified");
    assert!(view.agency.verified_since.is_some());
    t.gw.set_agency_status("us-test-pd", writ_model::AgencyStatus::Suspended, "admin")
        .await
        .unwrap();

    let new = t.gw.create_user("carol", Role::Approver).await.unwrap();
    assert!(!format!("{new:?}").contains(&new.password));
    let u = t.gw.user_for_token(&new.token).await.unwrap();
    assert_eq!((u.name.as_str(), u.role), ("carol", Role::Approver));
    let code = writ_gateway::auth::totp(&new.totp_secret, Timestamp::now().as_second()).unwrap();
    let token =
        t.gw.login("carol", &new.password, &code, "test")
            .await
            .unwrap();
    assert!(t.gw.user_for_token(&token).await.is_ok());
    assert!(t.gw.login("carol", "wrong", &code, "test").await.is_err());
    // Registry changes and new users are log events.
    let counts = t.gw.store().event_counts().await.unwrap();
    assert!(counts.iter().map(|(_, n)| n).sum::<i64>() > 0);
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn deferred_entries_go_out_when_the_secrecy_order_is_lifted() {
    let t = start().await;
    let gag = json!({"non_disclosure": {"issued_by": {"kind": "judge"}, "basis": "18 U.S.C. § 2705(b)",
        "until": Timestamp::now().plus_days(180)}});
    let s = submit(&t, &order("G-LIFT", "search_warrant", gag)).await;
    assert_eq!(t.gw.release_deferred(Timestamp::now()).await.unwrap(), 0);
    let rita = user("rita", Role::Reviewer);
    t.gw.secrecy(&rita, &s.case, None).await.unwrap();
    assert_eq!(t.gw.release_deferred(Timestamp::now()).await.unwrap(), 3);
    let events = t.gw.store().events_for_case(&s.case).await.unwrap();
    let states: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.kind.as_str(), e.state.as_str()))
        .collect();
    assert_eq!(
        states,
        [
            ("received", "released"),
            ("decided", "released"),
            ("extended", "released"),
            ("received", "pending"),
            ("decided", "pending"),
            ("extended", "pending"),
        ]
    );
}

/// A user of its own for a test, with its password and TOTP secret.
async fn new_user(t: &T, name: &str) -> writ_gateway::auth::NewUser {
    t.gw.create_user(name, Role::Reviewer).await.unwrap()
}

fn code_at(new: &writ_gateway::auth::NewUser, at: Timestamp) -> String {
    writ_gateway::auth::totp(&new.totp_secret, at.as_second()).unwrap()
}

#[tokio::test]
async fn sign_in_is_throttled_per_name() {
    use writ_gateway::auth::{MAX_FAILED_SIGN_INS, THROTTLE_WINDOW_SECONDS};
    let t = start().await;
    let carol = new_user(&t, "carol").await;
    let dave = new_user(&t, "dave").await;
    let now = Timestamp::now();
    let login = |name: &'static str, password: String, at: Timestamp, code: String| {
        let gw = t.gw.clone();
        async move { gw.login_at(name, &password, &code, "test", at).await }
    };
    // Five failures, a known name and an unknown one alike...
    for name in ["carol", "nobody"] {
        for i in 0..MAX_FAILED_SIGN_INS {
            let e = login(
                name,
                "wrong".into(),
                now.plus_seconds(i),
                code_at(&carol, now),
            )
            .await
            .unwrap_err();
            assert!(
                matches!(&e, GatewayError::Unauthorized(m) if m == "wrong name, password or code"),
                "{name}: {e}"
            );
        }
    }
    // ...then the name is refused, even with the right password and code,
    // until the first of them leaves the window.
    let later = now.plus_seconds(60);
    for name in ["carol", "nobody"] {
        let e = login(name, carol.password.clone(), later, code_at(&carol, later))
            .await
            .unwrap_err();
        let GatewayError::Throttled { retry_after } = e else {
            panic!("{name}: {e}")
        };
        assert_eq!(retry_after as i64, THROTTLE_WINDOW_SECONDS - 60, "{name}");
        assert!(e.to_string().contains("try again in 14 min"), "{e}");
    }
    // Another name is not held back.
    login("dave", dave.password.clone(), later, code_at(&dave, later))
        .await
        .unwrap();
    // Once the window has passed, the right password works again.
    let after = now.plus_seconds(THROTTLE_WINDOW_SECONDS);
    let token = login(
        "carol",
        carol.password.clone(),
        after,
        code_at(&carol, after),
    )
    .await
    .unwrap();
    assert!(t.gw.user_for_token(&token).await.is_ok());
    // The names tried are not in the store, only their hashes.
    let names: Vec<String> = sqlx::query_scalar("SELECT name_hash FROM sign_in_failures")
        .fetch_all(t.gw.store().pool())
        .await
        .unwrap();
    assert!(!names.is_empty());
    assert!(
        names
            .iter()
            .all(|n| !n.contains("carol") && !n.contains("nobody"))
    );
}

#[tokio::test]
async fn a_successful_sign_in_clears_the_count_and_old_failures_are_forgotten() {
    use writ_gateway::auth::MAX_FAILED_SIGN_INS;
    let t = start().await;
    let carol = new_user(&t, "carol").await;
    let now = Timestamp::now();
    let fail = |at: Timestamp| {
        let gw = t.gw.clone();
        async move { gw.login_at("carol", "wrong", "000000", "test", at).await }
    };
    // Four failures, a success, four more failures: nine in the window, but
    // never five since the last success.
    for round in 0..2 {
        for _ in 0..MAX_FAILED_SIGN_INS - 1 {
            assert!(matches!(
                fail(now).await,
                Err(GatewayError::Unauthorized(_))
            ));
        }
        // A TOTP code is good once, so each round signs in at a new step.
        let at = now.plus_seconds(round * 30);
        t.gw.login_at("carol", &carol.password, &code_at(&carol, at), "test", at)
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
    }
    // Failures are forgotten a day later, when the next one is recorded.
    for _ in 0..3 {
        fail(now).await.unwrap_err();
    }
    let rows = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sign_in_failures")
            .fetch_one(t.gw.store().pool())
            .await
            .unwrap()
    };
    assert_eq!(rows().await, 3);
    fail(now.plus_days(2)).await.unwrap_err();
    assert_eq!(rows().await, 1);
}

#[tokio::test]
async fn console_sessions_last_twelve_hours() {
    use writ_gateway::auth::{CONSOLE_SESSION, CONSOLE_SESSION_SECONDS};
    let t = start().await;
    new_user(&t, "carol").await;
    let now = Timestamp::now().as_second();
    let token = |label: &str, age: i64| {
        let gw = t.gw.clone();
        let label = label.to_owned();
        async move {
            let token = format!("writ_pat_test_{label}_{age}").replace(' ', "_");
            gw.store()
                .insert_token(&writ_store::TokenRow {
                    token_hash: canonical::sha256_hex(token.as_bytes()),
                    user_name: "carol".into(),
                    label,
                    created_at: now - age,
                })
                .await
                .unwrap();
            token
        }
    };
    let fresh = token(CONSOLE_SESSION, CONSOLE_SESSION_SECONDS - 60).await;
    let stale = token(CONSOLE_SESSION, CONSOLE_SESSION_SECONDS + 1).await;
    let old_cli = token("cli", 30 * 86_400).await;
    // A session is good for twelve hours from sign-in, on the pages...
    let u =
        t.gw.user_for_session(&fresh, CONSOLE_SESSION_SECONDS)
            .await
            .unwrap();
    assert_eq!(u.name, "carol");
    let e =
        t.gw.user_for_session(&stale, CONSOLE_SESSION_SECONDS)
            .await
            .unwrap_err();
    assert!(
        matches!(&e, GatewayError::Unauthorized(m) if m.contains("expired")),
        "{e}"
    );
    // ...and as a bearer token.
    assert!(t.gw.user_for_token(&fresh).await.is_ok());
    assert!(matches!(
        t.gw.user_for_token(&stale).await,
        Err(GatewayError::Unauthorized(_))
    ));
    // A token minted for the command line lasts until it is revoked, but is
    // no console session.
    assert_eq!(t.gw.user_for_token(&old_cli).await.unwrap().name, "carol");
    assert!(
        t.gw.user_for_session(&old_cli, CONSOLE_SESSION_SECONDS)
            .await
            .is_err()
    );
}

/// Search finds a case by each of its keys, whatever the case of the
/// letters typed, on SQLite and on PostgreSQL alike; `%` is a character,
/// not a pattern.
#[tokio::test]
async fn search_finds_a_case_by_each_key_in_any_letter_case() {
    let t = start().await;
    let s = submit(&t, &order("Mixed-Case-Ref-7", "subpoena", json!({}))).await;
    let other = submit(
        &t,
        &order(
            "OTHER-1",
            "subpoena",
            json!({"targets": [
        {"kind": "email", "value": "bob@example.com"}]}),
        ),
    )
    .await;
    let reviewer = user("riley", Role::Reviewer);
    for term in [
        s.case.as_str(),
        "mixed-case-ref-7",
        "MIXED-CASE",
        "ALICE@Example.com",
        "acct-us-ALICE",
    ] {
        let found = t.gw.search_cases(&reviewer, term).await.unwrap();
        let ids: Vec<&str> = found.iter().map(|i| i.case.id.as_str()).collect();
        assert!(ids.contains(&s.case.as_str()), "{term}: {ids:?}");
        assert!(!ids.contains(&other.case.as_str()), "{term}: {ids:?}");
    }
    // The agency, by id and by the name in the registry.
    for term in ["US-FBI-WFO", "washington field"] {
        let found = t.gw.search_cases(&reviewer, term).await.unwrap();
        assert_eq!(found.len(), 2, "{term}");
    }
    for term in ["%", "no-such-thing"] {
        assert!(
            t.gw.search_cases(&reviewer, term).await.unwrap().is_empty(),
            "{term}"
        );
    }
    // Search is for the provider's reviewers.
    assert!(matches!(
        t.gw.search_cases(&user("ada", Role::Admin), "alice").await,
        Err(GatewayError::Forbidden(_))
    ));
}
