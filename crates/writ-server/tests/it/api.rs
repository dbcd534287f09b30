//! The API's main paths: intake, idempotency, the agency's own cases,
//! withdrawal, review with the two-person rule, sign-in, rate limits.

use serde_json::{Value, json};
use writ_server::ServerConfig;

use crate::support::{TestApp, subpoena, warrant};

/// The answer with its variable parts (ids, times) replaced, for snapshots.
fn shape(mut v: Value) -> Value {
    if v.get("case").is_some() {
        v["case"] = json!("[case]");
    }
    if v["decision"].get("due_at").is_some() {
        v["decision"]["due_at"] = json!("[due_at]");
    }
    v
}

#[tokio::test]
async fn intake_is_idempotent_and_logged() {
    let t = TestApp::start().await;
    let order = subpoena("us-fbi-wfo", "API-1", "alice@example.com");
    let first = t.submit("us-fbi-wfo", &order).await;
    assert_eq!(first.status, 201, "{}", first.text);
    insta::assert_json_snapshot!("subpoena_answer", shape(first.json()));
    let case = first.json()["case"].as_str().unwrap().to_owned();
    assert!(case.starts_with("c-") && case.len() == 18);

    // The same order again: 200 and the same answer.
    let again = t.submit("us-fbi-wfo", &order).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json(), first.json());

    // Key order and white space do not matter (canonical JSON).
    let mut text = serde_json::to_string_pretty(&order).unwrap();
    text.push('\n');
    let resent = t
        .signed("us-fbi-wfo", "POST", "/v1/orders", text.as_bytes())
        .await;
    assert_eq!(resent.status, 200);

    // The same reference with other content: 409, nothing stored.
    let before = t.state().await;
    let mut other = order.clone();
    other["categories"] = json!(["subscriber", "identification"]);
    let conflict = t.submit("us-fbi-wfo", &other).await;
    conflict.assert_problem(409);
    assert_eq!(t.state().await, before);

    // The agency sees its case; the events reach a published checkpoint.
    let shown = t
        .signed("us-fbi-wfo", "GET", &format!("/v1/cases/{case}"), b"")
        .await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.json()["status"], "decided");
    let list = t.signed("us-fbi-wfo", "GET", "/v1/cases", b"").await;
    assert_eq!(list.json()["cases"].as_array().unwrap().len(), 1);
    let events = t
        .app
        .gateway()
        .store()
        .events_for_case(&case)
        .await
        .unwrap();
    // Subscriber data is released at once: delivery seals it and logs
    // `disclosed`, and the user is told (`notified`).
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["received", "decided", "disclosed", "notified"]);
    // The publisher moves the outbox into the log in the background: wait
    // (bounded) until both events carry their log index, then until a
    // published checkpoint covers them.
    let logged = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            let events = t
                .app
                .gateway()
                .store()
                .events_for_case(&case)
                .await
                .unwrap();
            let indexes: Vec<i64> = events.iter().filter_map(|e| e.log_index).collect();
            if indexes.len() == 4 {
                return indexes;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the events reach the log");
    let last = u64::try_from(*logged.iter().max().unwrap()).unwrap();
    let published = t.app.log.wait_published(last).await.unwrap();
    assert!(published.checkpoint.size > last);
    let checkpoint = t.raw("GET", "/log/checkpoint", &[], vec![]).await;
    assert_eq!(checkpoint.status, 200);
    assert!(checkpoint.text.starts_with("writ.example/log\n"));
    let vkey = t.raw("GET", "/log/vkey", &[], vec![]).await;
    assert!(vkey.text.starts_with("writ.example/log+"));
}

#[tokio::test]
async fn review_needs_two_different_people() {
    let t = TestApp::start().await;
    let answer = t
        .submit(
            "us-fbi-wfo",
            &warrant("us-fbi-wfo", "API-W1", "alice@example.com"),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    let case = answer.json()["case"].as_str().unwrap().to_owned();
    let queue = t.as_user("rita", "GET", "/v1/review/queue", None).await;
    assert_eq!(queue.status, 200);
    assert!(queue.text.contains(&case));

    // The admin takes no review action; the reviewer cannot confirm.
    let path = |a: &str| format!("/v1/review/cases/{case}/{a}");
    t.as_user("adam", "GET", "/v1/review/queue", None)
        .await
        .assert_problem(403);
    t.as_user("adam", "POST", &path("approve"), None)
        .await
        .assert_problem(403);
    // Nothing to confirm yet.
    t.as_user("alex", "POST", &path("confirm"), None)
        .await
        .assert_problem(409);

    // An approver proposes, and cannot confirm his own proposal.
    let proposed = t.as_user("alex", "POST", &path("approve"), None).await;
    assert_eq!(proposed.status, 200, "{}", proposed.text);
    t.as_user("alex", "POST", &path("confirm"), None)
        .await
        .assert_problem(403);
    t.as_user("rita", "POST", &path("confirm"), None)
        .await
        .assert_problem(403);
    let shown = t
        .as_user("rita", "GET", &format!("/v1/review/cases/{case}"), None)
        .await;
    assert_eq!(shown.json()["status"], "in_review");
    assert_eq!(shown.json()["proposals"][0]["proposed_by"], "alex");

    // A different approver confirms: the case is approved.
    let confirmed = t.as_user("avery", "POST", &path("confirm"), None).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    let shown = t
        .signed("us-fbi-wfo", "GET", &format!("/v1/cases/{case}"), b"")
        .await;
    assert_eq!(shown.json()["status"], "approved");
    let kinds: Vec<String> = t
        .app
        .gateway()
        .store()
        .events_for_case(&case)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        // Delivery runs beside the review and logs its own events (the
        // package, then the user's notice), as fast as it gets to them.
        .filter(|k| k != "disclosed" && k != "notified")
        .collect();
    assert_eq!(kinds, ["received", "decided", "reviewed", "reviewed"]);
}

#[tokio::test]
async fn narrowing_takes_effect_on_confirmation() {
    let t = TestApp::start().await;
    let answer = t
        .submit(
            "us-fbi-wfo",
            &warrant("us-fbi-wfo", "API-N1", "alice@example.com"),
        )
        .await;
    let case = answer.json()["case"].as_str().unwrap().to_owned();
    let path = |a: &str| format!("/v1/review/cases/{case}/{a}");
    let body = json!({"drop": [{"target": "email:alice@example.com", "category": "content"}]});
    let r = t.as_user("rita", "POST", &path("narrow"), Some(body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Unknown pair: 404; wrong body: 422.
    let bad = json!({"drop": [{"target": "email:nobody@example.com", "category": "content"}]});
    t.as_user("rita", "POST", &path("narrow"), Some(bad))
        .await
        .assert_problem(404);
    t.as_user("rita", "POST", &path("narrow"), Some(json!({"drop": 3})))
        .await
        .assert_problem(422);
    let c = t.as_user("alex", "POST", &path("confirm"), None).await;
    assert_eq!(c.status, 200, "{}", c.text);
    let d = &c.json()["decision"];
    assert_eq!(d["outcome"], "partial");
    let content = d["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["category"] == "content")
        .unwrap();
    assert_eq!(content["status"], "deny");
}

#[tokio::test]
async fn refusals_are_never_overridden() {
    let t = TestApp::start().await;
    let mut order = warrant("us-fbi-wfo", "API-H1", "alice@example.com");
    order["assistance"] = json!(["install_software"]);
    let answer = t.submit("us-fbi-wfo", &order).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    let v = answer.json();
    assert_eq!(v["decision"]["outcome"], "reject", "{v}");
    assert!(v.to_string().contains("hacking_refused"), "{v}");
    let case = v["case"].as_str().unwrap();
    for action in ["approve", "confirm"] {
        let r = t
            .as_user(
                "alex",
                "POST",
                &format!("/v1/review/cases/{case}/{action}"),
                None,
            )
            .await;
        assert_eq!(r.status, 409, "{action}: {}", r.text);
    }
}

#[tokio::test]
async fn emergency_waits_for_the_callback_and_is_decided_again() {
    let t = TestApp::start().await;
    let order = json!({
        "reference": "API-E1",
        "agency": "us-fbi-wfo",
        "instrument": "emergency_request",
        "legal_basis": "18 U.S.C. § 2702(c)(4)",
        "issued_by": {"kind": "agency_official"},
        "issued_at": writ_model::Timestamp::now(),
        "targets": [{"kind": "email", "value": "bob@example.com"}],
        "categories": ["subscriber", "location"],
        "emergency": {"threat": "death", "facts": "A caller threatened to kill a hostage."},
    });
    let answer = t.submit("us-fbi-wfo", &order).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    assert!(
        answer.text.contains("emergency_unverified"),
        "{}",
        answer.text
    );
    let case = answer.json()["case"].as_str().unwrap().to_owned();
    let due = answer.json()["decision"]["due_at"].clone();
    // Approval cannot resolve it.
    t.as_user(
        "alex",
        "POST",
        &format!("/v1/review/cases/{case}/approve"),
        None,
    )
    .await
    .assert_problem(409);
    let cb = t
        .as_user(
            "rita",
            "POST",
            &format!("/v1/review/cases/{case}/callback"),
            Some(json!({"number_source": "registry", "verified": true})),
        )
        .await;
    assert_eq!(cb.status, 200, "{}", cb.text);
    assert!(!cb.text.contains("emergency_unverified"), "{}", cb.text);
    // The deadline does not restart.
    assert_eq!(cb.json()["decision"]["due_at"], due);
    // A second callback: not waiting any more.
    t.as_user(
        "rita",
        "POST",
        &format!("/v1/review/cases/{case}/callback"),
        Some(json!({"number_source": "registry", "verified": true})),
    )
    .await
    .assert_problem(409);
    let kinds: Vec<String> = t
        .app
        .gateway()
        .store()
        .events_for_case(&case)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["received", "decided", "verified", "decided"]);
}

#[tokio::test]
async fn a_review_action_without_fields_takes_only_an_empty_object() {
    let t = TestApp::start().await;
    let answer = t
        .submit(
            "us-fbi-wfo",
            &warrant("us-fbi-wfo", "API-EMPTY", "alice@example.com"),
        )
        .await;
    let case = answer.json()["case"].as_str().unwrap().to_owned();
    let path = format!("/v1/review/cases/{case}/approve");
    for body in [json!([]), json!({"note": "x"}), json!(null)] {
        t.as_user("alex", "POST", &path, Some(body))
            .await
            .assert_problem(422);
    }
    let ok = t.as_user("alex", "POST", &path, Some(json!({}))).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
}

#[tokio::test]
async fn an_agency_may_withdraw_once() {
    let t = TestApp::start().await;
    let answer = t
        .submit(
            "us-fbi-wfo",
            &warrant("us-fbi-wfo", "API-X1", "alice@example.com"),
        )
        .await;
    let case = answer.json()["case"].as_str().unwrap().to_owned();
    let path = format!("/v1/cases/{case}/withdraw");
    let w = t.signed("us-fbi-wfo", "POST", &path, b"").await;
    assert_eq!(w.status, 200, "{}", w.text);
    assert_eq!(w.json()["status"], "withdrawn");
    t.signed("us-fbi-wfo", "POST", &path, b"")
        .await
        .assert_problem(409);
}

#[tokio::test]
async fn console_sign_in_with_password_and_totp() {
    let t = TestApp::start().await;
    let users = std::fs::read_to_string(t.data().join("demo/console-users.txt")).unwrap();
    let line = users.lines().find(|l| l.contains(" rita ")).unwrap();
    let f: Vec<&str> = line.split_whitespace().collect();
    let secret = f[3]
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let code = writ_gateway::auth::totp(secret, writ_model::Timestamp::now().as_second()).unwrap();
    let login = |password: &str, code: &str| {
        json!({"name": "rita", "password": password, "code": code}).to_string()
    };
    let ok = t
        .raw(
            "POST",
            "/v1/console/tokens",
            &[],
            login(f[2], &code).into_bytes(),
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    let token = ok.json()["token"].as_str().unwrap().to_owned();
    let q = t
        .raw(
            "GET",
            "/v1/review/queue",
            &[("authorization".into(), format!("Bearer {token}"))],
            vec![],
        )
        .await;
    assert_eq!(q.status, 200);
    t.raw(
        "POST",
        "/v1/console/tokens",
        &[],
        login("wrong", &code).into_bytes(),
    )
    .await
    .assert_problem(401);
    t.raw(
        "POST",
        "/v1/console/tokens",
        &[],
        login(f[2], "000000").into_bytes(),
    )
    .await
    .assert_problem(401);
    // A revoked token stops working.
    assert!(t.app.gateway().revoke_token(&token).await.unwrap());
    t.raw(
        "GET",
        "/v1/review/queue",
        &[("authorization".into(), format!("Bearer {token}"))],
        vec![],
    )
    .await
    .assert_problem(401);
}

#[tokio::test]
async fn each_agency_is_rate_limited() {
    let t = TestApp::start_with(ServerConfig {
        rate_limit: 1,
        burst: 2,
        ..ServerConfig::default()
    })
    .await;
    for i in 0..2 {
        let r = t
            .submit(
                "us-fbi-wfo",
                &subpoena("us-fbi-wfo", &format!("RL-{i}"), "alice@example.com"),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let limited = t
        .submit(
            "us-fbi-wfo",
            &subpoena("us-fbi-wfo", "RL-3", "alice@example.com"),
        )
        .await;
    limited.assert_problem(429);
    assert!(limited.headers.get("retry-after").is_some());
    // Another agency has its own bucket.
    let other = t
        .submit("us-nypd", &subpoena("us-nypd", "RL-1", "bob@example.com"))
        .await;
    assert_eq!(other.status, 201, "{}", other.text);
}

#[tokio::test]
async fn openapi_health_and_metrics() {
    let t = TestApp::start().await;
    let doc = t.raw("GET", "/openapi.json", &[], vec![]).await.json();
    for (_, path, _) in &writ_server::routes() {
        let key = path.replace("{*path}", "{path}");
        assert!(
            doc["paths"].get(&key).is_some(),
            "{path} missing from openapi.json"
        );
    }
    // The description is generated from the route table: a change to the
    // API surface shows here, to be reviewed (additions only, for clients).
    insta::assert_json_snapshot!("openapi", doc);
    assert_eq!(t.raw("GET", "/healthz", &[], vec![]).await.status, 200);
    t.submit(
        "us-fbi-wfo",
        &subpoena("us-fbi-wfo", "M-1", "alice@example.com"),
    )
    .await;
    let m = t.raw("GET", "/metrics", &[], vec![]).await;
    assert!(
        m.text.contains("writ_orders_total{outcome=\"approve\"} 1"),
        "{}",
        m.text
    );
    assert!(m.text.contains("route=\"/v1/orders\""));
    let nf = t.raw("GET", "/nowhere", &[], vec![]).await;
    nf.assert_problem(404);
}

#[tokio::test]
async fn problem_details_shape() {
    let t = TestApp::start().await;
    let unsigned = t.raw("POST", "/v1/orders", &[], b"{}".to_vec()).await;
    insta::assert_json_snapshot!("unsigned_order", unsigned.assert_problem(401));
    let order = subpoena("us-fbi-wfo", "SHAPE-1", "alice@example.com");
    let mut bad = order.clone();
    bad["instrument"] = json!("letter_of_marque");
    let unknown = t.submit("us-fbi-wfo", &bad).await;
    insta::assert_json_snapshot!("unknown_instrument", unknown.assert_problem(422));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owning_agency_downloads_the_sealed_package() {
    let t = TestApp::start().await;
    let r = t
        .submit(
            "us-fbi-wfo",
            &subpoena("us-fbi-wfo", "PKG-1", "alice@example.com"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let case = r.json()["case"].as_str().unwrap().to_owned();
    let path = format!("/v1/cases/{case}/package");
    // The delivery worker seals it in the background.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let got = loop {
        let got = t.signed("us-fbi-wfo", "GET", &path, b"").await;
        if got.status == 200 {
            break got;
        }
        got.assert_problem(404);
        assert!(std::time::Instant::now() < deadline, "no package");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(
        got.headers.get("content-type").unwrap(),
        "application/octet-stream"
    );
    // The body is the age file whose hash the `disclosed` event commits to.
    let sha = writ_gateway::canonical::sha256_hex(&got.bytes);
    let digest = got.headers["content-digest"].to_str().unwrap().to_owned();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(hex::decode(&sha).unwrap());
    assert_eq!(digest, format!("sha-256=:{b64}:"));
    assert!(got.bytes.starts_with(b"age-encryption.org/v1\n"));
    let events = t
        .app
        .gateway()
        .store()
        .events_for_case(&case)
        .await
        .unwrap();
    let disclosed = events.iter().find(|e| e.kind == "disclosed").unwrap();
    let private: serde_json::Value = serde_json::from_str(&disclosed.private).unwrap();
    assert_eq!(private["details"][0]["package_sha256"], sha.as_str());

    // Another agency, even a valid one, learns nothing.
    let other = t.signed("us-nypd", "GET", &path, b"").await;
    other.assert_problem(404);
    assert_eq!(
        t.signed(
            "us-fbi-wfo",
            "GET",
            "/v1/cases/c-0000000000000000/package",
            b""
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn a_transcribed_order_is_released_only_after_another_person_verifies_its_channel() {
    let t = TestApp::start().await;
    // An agency cannot claim a transcription.
    let mut forged = subpoena("us-fbi-wfo", "API-T0", "alice@example.com");
    forged["transcription"] = json!({"channel": "post", "transcribed_by": "rita",
        "transcribed_at": "2026-01-01T00:00:00Z", "check": {"verified": true,
        "verified_by": "alex", "verified_at": "2026-01-01T00:00:00Z"}});
    t.submit("us-fbi-wfo", &forged).await.assert_problem(422);

    let body = json!({"agency": "us-fbi-wfo", "channel": "post",
        "order": subpoena("us-fbi-wfo", "API-T1", "alice@example.com")});
    // Bad input changes nothing: an agency not in the registry (404), an
    // unknown channel or field (422).
    t.as_user(
        "rita",
        "POST",
        "/v1/review/orders",
        Some(json!({"agency": "nobody", "channel": "post", "order": body["order"]})),
    )
    .await
    .assert_problem(404);
    for bad in [
        json!({"agency": "us-fbi-wfo", "channel": "pigeon", "order": body["order"]}),
        json!({"agency": "us-fbi-wfo", "channel": "post", "order": body["order"], "x": 1}),
    ] {
        t.as_user("rita", "POST", "/v1/review/orders", Some(bad))
            .await
            .assert_problem(422);
    }
    let r = t
        .as_user("rita", "POST", "/v1/review/orders", Some(body.clone()))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let case = r.json()["case"].as_str().unwrap().to_owned();
    let d = &r.json()["decision"];
    // A subpoena for subscriber data would go out at once; transcribed, it waits.
    assert_eq!(d["outcome"], "review", "{d}");
    assert!(r.text.contains("channel_unverified"), "{}", r.text);
    t.state().await;
    let store = t.app.gateway().store();
    assert_eq!(store.package(&case).await.unwrap(), None);
    // No approval clears it, and the transcriber cannot verify it.
    let path = |action: &str| format!("/v1/review/cases/{case}/{action}");
    t.as_user("alex", "POST", &path("approve"), None)
        .await
        .assert_problem(409);
    t.as_user(
        "rita",
        "POST",
        &path("channel"),
        Some(json!({"verified": true})),
    )
    .await
    .assert_problem(403);
    let v = t
        .as_user(
            "alex",
            "POST",
            &path("channel"),
            Some(json!({"verified": true})),
        )
        .await;
    assert_eq!(v.status, 200, "{}", v.text);
    assert!(!v.text.contains("channel_unverified"), "{}", v.text);
    assert_eq!(v.json()["decision"]["outcome"], "approve", "{}", v.text);
    // Once is enough.
    t.as_user(
        "avery",
        "POST",
        &path("channel"),
        Some(json!({"verified": true})),
    )
    .await
    .assert_problem(409);
    t.state().await;
    assert!(
        store.package(&case).await.unwrap().is_some(),
        "released after the callback"
    );
    let events = store.events_for_case(&case).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        &kinds[..4],
        ["received", "decided", "verified", "decided"],
        "{kinds:?}"
    );
    assert!(
        events[2].entry.contains("\"check\":\"channel\""),
        "{}",
        events[2].entry
    );
    assert!(
        events[0].entry.contains("\"country\":\"US\""),
        "{}",
        events[0].entry
    );

    // The agency does not confirm it: refused as a whole, nothing released.
    let mut refuted = body.clone();
    refuted["order"]["reference"] = json!("API-T2");
    let r = t
        .as_user("alex", "POST", "/v1/review/orders", Some(refuted))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let second = r.json()["case"].as_str().unwrap().to_owned();
    let v = t
        .as_user(
            "rita",
            "POST",
            &format!("/v1/review/cases/{second}/channel"),
            Some(json!({"verified": false})),
        )
        .await;
    assert_eq!(v.status, 200, "{}", v.text);
    assert_eq!(v.json()["decision"]["outcome"], "reject", "{}", v.text);
    assert!(v.text.contains("channel_refuted"), "{}", v.text);
    t.state().await;
    assert_eq!(store.package(&second).await.unwrap(), None);
    assert_eq!(
        store.case(&second).await.unwrap().unwrap().status,
        "rejected"
    );

    // A transcribed preservation request holds the data at once.
    let mut hold = json!({
        "reference": "API-T3",
        "agency": "us-fbi-wfo",
        "instrument": "preservation_request",
        "legal_basis": "18 U.S.C. § 2703(f)",
        "issued_by": {"kind": "agency_official"},
        "issued_at": writ_model::Timestamp::now(),
        "targets": [{"kind": "email", "value": "alice@example.com"}],
        "categories": ["subscriber", "content"],
    });
    hold = json!({"agency": "us-fbi-wfo", "channel": "fax", "order": hold});
    let r = t
        .as_user("rita", "POST", "/v1/review/orders", Some(hold))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.text.contains("channel_unverified"), "{}", r.text);
    let third = r.json()["case"].as_str().unwrap().to_owned();
    t.state().await;
    let holds = store.holds_for_agency("us-fbi-wfo").await.unwrap();
    assert!(
        holds.iter().any(|h| h.case_id == third),
        "the hold is placed before the channel is verified: {holds:?}"
    );
    let kinds: Vec<String> = store
        .events_for_case(&third)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(kinds.contains(&"preserved".to_owned()), "{kinds:?}");
}

#[tokio::test]
async fn a_clarification_round_trip_is_logged_and_moves_a_stopped_epoc_clock() {
    let t = TestApp::start().await;
    let epoc = json!({
        "reference": "API-Q1",
        "agency": "de-bka",
        "instrument": "epoc",
        "legal_basis": "Regulation (EU) 2023/1543, Art. 5",
        "issued_by": {"kind": "prosecutor"},
        "issued_at": writ_model::Timestamp::now().plus_days(-1),
        "targets": [{"kind": "email", "value": "dieter@example.de"}],
        "categories": ["subscriber"],
        "date_range": {"from": "2026-01-01T00:00:00Z", "to": "2026-10-31T23:59:59Z"},
    });
    let r = t.submit("de-bka", &epoc).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let case = r.json()["case"].as_str().unwrap().to_owned();
    let first_due: writ_model::Timestamp =
        serde_json::from_value(r.json()["decision"]["due_at"].clone()).unwrap();
    let query = format!("/v1/review/cases/{case}/query");
    // Bad questions change nothing.
    for bad in [
        json!({"message": "  "}),
        json!({"message": "which?", "fields": ["weather"]}),
        json!({"message": "which?", "extra": 1}),
    ] {
        t.as_user("rita", "POST", &query, Some(bad))
            .await
            .assert_problem(422);
    }
    // Nothing to answer yet.
    let answer = format!("/v1/cases/{case}/clarification");
    t.signed(
        "de-bka",
        "POST",
        &answer,
        json!({"message": "x"}).to_string().as_bytes(),
    )
    .await
    .assert_problem(409);
    let q = t
        .as_user(
            "rita",
            "POST",
            &query,
            Some(json!({"message": "The date range ends before the account was opened: which period do you mean?",
                "fields": ["date_range"], "incomplete": true})),
        )
        .await;
    assert_eq!(q.status, 200, "{}", q.text);
    // The agency reads the question, and another agency cannot.
    let read = t
        .signed(
            "de-bka",
            "GET",
            &format!("/v1/cases/{case}/clarifications"),
            b"",
        )
        .await;
    assert_eq!(read.status, 200, "{}", read.text);
    let messages = read.json()["messages"].as_array().unwrap().clone();
    assert_eq!(messages.len(), 1, "{}", read.text);
    assert_eq!(messages[0]["side"], "provider");
    assert_eq!(messages[0]["incomplete"], true);
    assert_eq!(messages[0]["fields"], json!(["date_range"]));
    assert!(
        !read.text.contains("rita"),
        "staff names stay with the provider"
    );
    t.signed(
        "us-fbi-wfo",
        "GET",
        &format!("/v1/cases/{case}/clarifications"),
        b"",
    )
    .await
    .assert_problem(404);
    // The answer starts the clock again: the whole 10 days from now.
    let before = writ_model::Timestamp::now();
    let a = t
        .signed(
            "de-bka",
            "POST",
            &answer,
            json!({"message": "From 1 March to 31 October 2026."})
                .to_string()
                .as_bytes(),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let due: writ_model::Timestamp =
        serde_json::from_value(a.json()["decision"]["due_at"].clone()).unwrap();
    // (Answered within the second it arrived, the new deadline may equal
    // the first; it is never earlier.)
    assert!(due >= first_due, "{due} not before {first_due}");
    assert!(due >= before.plus_days(10).plus_seconds(-2), "{due}");
    assert!(
        due <= writ_model::Timestamp::now().plus_days(10).plus_seconds(2),
        "{due}"
    );
    // Answered: nothing is open any more.
    t.signed(
        "de-bka",
        "POST",
        &answer,
        json!({"message": "again"}).to_string().as_bytes(),
    )
    .await
    .assert_problem(409);
    let events = t
        .app
        .gateway()
        .store()
        .events_for_case(&case)
        .await
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert!(
        kinds.contains(&"queried") && kinds.contains(&"clarified"),
        "{kinds:?}"
    );
    let clarified = events.iter().find(|e| e.kind == "clarified").unwrap();
    assert!(
        clarified.entry.contains("\"due_hour\""),
        "{}",
        clarified.entry
    );
    let queried = events.iter().find(|e| e.kind == "queried").unwrap();
    assert!(
        queried.entry.contains("\"incomplete\":true"),
        "{}",
        queried.entry
    );

    // Only a European Production Order's clock stops.
    let r = t
        .submit(
            "us-fbi-wfo",
            &subpoena("us-fbi-wfo", "API-Q2", "alice@example.com"),
        )
        .await;
    let sub = r.json()["case"].as_str().unwrap().to_owned();
    t.as_user(
        "rita",
        "POST",
        &format!("/v1/review/cases/{sub}/query"),
        Some(json!({"message": "which?", "incomplete": true})),
    )
    .await
    .assert_problem(409);
    // A plain question: the answer moves no deadline.
    let q = t
        .as_user(
            "rita",
            "POST",
            &format!("/v1/review/cases/{sub}/query"),
            Some(json!({"message": "Is the grand jury's number right?", "fields": ["issued_by"]})),
        )
        .await;
    assert_eq!(q.status, 200, "{}", q.text);
    let due_before = q.json()["decision"]["due_at"].clone();
    let a = t
        .signed(
            "us-fbi-wfo",
            "POST",
            &format!("/v1/cases/{sub}/clarification"),
            json!({"message": "Yes: GJ 2026-114."})
                .to_string()
                .as_bytes(),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json()["decision"]["due_at"], due_before);
    let events = t.app.gateway().store().events_for_case(&sub).await.unwrap();
    let clarified = events.iter().find(|e| e.kind == "clarified").unwrap();
    assert!(!clarified.entry.contains("due_hour"), "{}", clarified.entry);
}

/// A console page as `who` sees it.
async fn console_page(t: &TestApp, who: &crate::pages::Console, path: &str) -> String {
    let r = t
        .raw(
            "GET",
            path,
            &crate::pages::headers(Some(&who.cookie)),
            vec![],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.text
}

/// The holds the provider's systems keep on the account of these tests
/// (the demo mailbox's holds table): (account, category, until).
async fn provider_holds(t: &TestApp) -> Vec<(String, String, i64)> {
    let mail = writ_connect::demo::DemoMail::open(&writ_objects::layout::demo_mail(t.data()))
        .await
        .unwrap();
    let mut out = Vec::new();
    for account in ["acct-de-dieter"] {
        for c in writ_model::Category::ALL {
            if let Some(until) = mail
                .holds()
                .held_until(account, *c, writ_model::Timestamp::now())
                .await
                .unwrap()
            {
                out.push((account.to_owned(), c.as_str().to_owned(), until.as_second()));
            }
        }
    }
    out
}

#[tokio::test]
async fn an_incomplete_epoc_is_preserved_meanwhile_and_a_correction_is_a_new_linked_case() {
    let t = TestApp::start().await;
    let store = t.app.gateway().store().clone();
    let epoc = |reference: &str, issuer: &str| {
        json!({
            "reference": reference,
            "agency": "de-bka",
            "instrument": "epoc",
            "legal_basis": "Regulation (EU) 2023/1543, Art. 5",
            "issued_by": {"kind": "prosecutor", "name": issuer},
            "issued_at": writ_model::Timestamp::now().plus_days(-1),
            "targets": [{"kind": "email", "value": "dieter@example.de"}],
            "categories": ["subscriber"],
            "enforcing_authority": {"name": "Department of Justice, Mutual Legal Assistance", "country": "IE"},
        })
    };
    // An enforcing authority belongs to European orders only.
    let mut wrong = subpoena("us-fbi-wfo", "API-E0", "alice@example.com");
    wrong["enforcing_authority"] = json!({"name": "x", "country": "IE"});
    let p = t.submit("us-fbi-wfo", &wrong).await.assert_problem(422);
    assert!(p.to_string().contains("enforcing_authority"), "{p}");

    let r = t.submit("de-bka", &epoc("API-E1", "StA Berlin")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let case = r.json()["case"].as_str().unwrap().to_owned();
    let account = store
        .account_by_identifier("email", "dieter@example.de")
        .await
        .unwrap();
    assert!(account.unwrap().contains("\"id\":\"acct-de-dieter\""));
    t.state().await;
    assert!(provider_holds(&t).await.is_empty());

    // The Annex III form: the data is preserved meanwhile, without an end.
    let query = format!("/v1/review/cases/{case}/query");
    let q = t
        .as_user(
            "rita",
            "POST",
            &query,
            Some(json!({"message": "The certificate names no period.", "fields": ["date_range"], "incomplete": true})),
        )
        .await;
    assert_eq!(q.status, 200, "{}", q.text);
    t.state().await;
    let held = provider_holds(&t).await;
    assert_eq!(
        held,
        [(
            "acct-de-dieter".to_owned(),
            "subscriber".to_owned(),
            writ_connect::holds::OPEN_ENDED_S
        )],
        "held without an end date"
    );
    let preserved: Vec<_> = store
        .events_for_case(&case)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "preserved")
        .collect();
    assert_eq!(preserved.len(), 1);
    assert!(
        preserved[0].entry.contains("\"until_day\":null"),
        "{}",
        preserved[0].entry
    );
    let read = t
        .signed(
            "de-bka",
            "GET",
            &format!("/v1/cases/{case}/clarifications"),
            b"",
        )
        .await;
    assert_eq!(
        read.json()["messages"][0]["preserved_accounts"],
        1,
        "{}",
        read.text
    );
    assert!(
        read.json()["messages"][0]["enforcing_authority"]
            .as_str()
            .unwrap()
            .contains("(IE)"),
        "{}",
        read.text
    );
    // The console shows the form, addressed to both authorities.
    let rita = crate::pages::sign_in(&t, "rita").await;
    let page = console_page(&t, &rita, &format!("/console/cases/{case}")).await;
    assert!(page.contains("Annex III"), "{page}");
    assert!(page.contains("Mutual Legal Assistance (IE)"), "{page}");
    assert!(page.contains("preserved on 1 account"), "{page}");
    // Asking again preserves nothing twice.
    let q = t
        .as_user(
            "rita",
            "POST",
            &query,
            Some(json!({"message": "And the categories?", "incomplete": true})),
        )
        .await;
    assert_eq!(q.status, 200, "{}", q.text);
    let n = store
        .events_for_case(&case)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind == "preserved")
        .count();
    assert_eq!(n, 1);

    // A correction is a new order with a new reference, from the same
    // issuing authority; it never changes the earlier case.
    let mut stranger = epoc("API-E2", "StA München");
    stranger["corrects"] = json!("API-E1");
    let p = t.submit("de-bka", &stranger).await.assert_problem(409);
    assert_eq!(p["field"], "corrects", "{p}");
    assert!(p.to_string().contains("corrected certificate"), "{p}");
    let mut nowhere = epoc("API-E2", "StA Berlin");
    nowhere["corrects"] = json!("API-NONE");
    t.submit("de-bka", &nowhere).await.assert_problem(409);
    let mut other = subpoena("us-fbi-wfo", "API-E3", "alice@example.com");
    other["corrects"] = json!("API-E1");
    let p = t.submit("us-fbi-wfo", &other).await.assert_problem(409);
    assert!(p.to_string().contains("no earlier order of yours"), "{p}");
    let mut itself = epoc("API-E1", "StA Berlin");
    itself["corrects"] = json!("API-E1");
    t.submit("de-bka", &itself).await.assert_problem(409);
    let before = store.case(&case).await.unwrap().unwrap();
    t.app.gateway().deliver_once().await.unwrap();
    assert!(
        store
            .open_hold(&case, writ_connect::holds::OPEN_ENDED_S)
            .await
            .unwrap()
            .is_some(),
        "held until the data is produced, though a package went out before the question"
    );

    let mut corrected = epoc("API-E2", "StA Berlin");
    corrected["corrects"] = json!("API-E1");
    corrected["date_range"] = json!({"from": "2026-03-01T00:00:00Z", "to": "2026-10-31T23:59:59Z"});
    let r = t.submit("de-bka", &corrected).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let new_case = r.json()["case"].as_str().unwrap().to_owned();
    // Idempotent when sent again.
    let again = t.submit("de-bka", &corrected).await;
    assert_eq!(again.json()["case"], new_case.as_str(), "{}", again.text);
    assert_eq!(
        store.corrections(&new_case).await.unwrap(),
        (Some(case.clone()), vec![])
    );
    assert_eq!(
        store.corrections(&case).await.unwrap(),
        (None, vec![new_case.clone()])
    );
    let after = store.case(&case).await.unwrap().unwrap();
    assert_eq!(
        (before.version, &before.order_json, &before.decision),
        (after.version, &after.order_json, &after.decision),
        "the earlier case is untouched"
    );
    let page = console_page(&t, &rita, &format!("/console/cases/{case}")).await;
    assert!(page.contains("Corrected by"), "{page}");
    assert!(page.contains(&new_case), "{page}");

    // The data is produced on the corrected certificate (its package is
    // sealed): the earlier case's hold without an end date ends (Art.
    // 10(9)), though that case is still open, and the release is logged.
    // The agency may still withdraw the earlier order; nothing is released
    // twice.
    let mut released = false;
    for _ in 0..50 {
        t.app.gateway().deliver_once().await.unwrap();
        released = t.event_kinds(&case).await.contains(&"released".to_owned());
        if released {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(released, "the release is logged");
    assert!(
        store.package(&new_case).await.unwrap().is_some(),
        "the corrected order's data was produced"
    );
    assert!(provider_holds(&t).await.is_empty(), "nothing held any more");
    assert!(
        store
            .open_hold(&case, writ_connect::holds::OPEN_ENDED_S)
            .await
            .unwrap()
            .is_none()
    );
    let w = t
        .signed("de-bka", "POST", &format!("/v1/cases/{case}/withdraw"), b"")
        .await;
    assert_eq!(w.status, 200, "{}", w.text);
    t.state().await;
    t.app.gateway().deliver_once().await.unwrap();
    let releases = t
        .event_kinds(&case)
        .await
        .iter()
        .filter(|k| *k == "released")
        .count();
    assert_eq!(releases, 1, "one release of one hold");
}
