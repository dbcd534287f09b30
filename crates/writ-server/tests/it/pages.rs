//! The console, the portal and the status page through the real router:
//! sign-in, CSRF, roles, the two-person rule, the portal's challenge
//! sign-in, submission and package download.

use base64::Engine as _;
use ed25519_dalek::Signer;
use writ_model::Timestamp;
use writ_server::{Auth, ROUTES};

use crate::support::{Resp, TestApp, subpoena, warrant};

/// A console user's password and TOTP secret, from `console-users.txt`.
fn credentials(t: &TestApp, name: &str) -> (String, String) {
    let text = std::fs::read_to_string(t.data().join("demo/console-users.txt")).unwrap();
    let line = text
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(name))
        .unwrap();
    let f: Vec<&str> = line.split_whitespace().collect();
    let secret = f[3]
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    (f[2].to_owned(), secret.to_owned())
}

fn code(secret: &str) -> String {
    writ_gateway::auth::totp(secret, Timestamp::now().as_second()).unwrap()
}

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

fn enc(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

fn headers(cookie: Option<&str>) -> Vec<(String, String)> {
    let mut h = vec![(FORM.0.to_owned(), FORM.1.to_owned())];
    if let Some(c) = cookie {
        h.push(("cookie".into(), c.to_owned()));
    }
    h
}

/// The session cookie (`name=value`) a response sets.
fn set_cookie(r: &Resp) -> String {
    let v = r
        .headers
        .get("set-cookie")
        .unwrap_or_else(|| panic!("no cookie set: {} {}", r.status, r.text))
        .to_str()
        .unwrap();
    assert!(
        v.contains("HttpOnly") && v.contains("SameSite=Strict"),
        "{v}"
    );
    v.split(';').next().unwrap().to_owned()
}

/// The CSRF token in a page's forms.
fn csrf(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    page[at..].split('"').next().unwrap().to_owned()
}

struct Console {
    cookie: String,
    csrf: String,
}

async fn sign_in(t: &TestApp, name: &str) -> Console {
    let (password, secret) = credentials(t, name);
    let r = t
        .raw(
            "POST",
            "/console/sign-in",
            &headers(None),
            form(&[
                ("name", name),
                ("password", &password),
                ("code", &code(&secret)),
            ]),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let cookie = set_cookie(&r);
    let home = t
        .raw("GET", "/console", &headers(Some(&cookie)), vec![])
        .await;
    assert_eq!(home.status, 200);
    Console {
        csrf: csrf(&home.text),
        cookie,
    }
}

async fn act(t: &TestApp, who: &Console, case: &str, action: &str, extra: &[(&str, &str)]) -> Resp {
    let mut pairs = vec![("csrf", who.csrf.as_str())];
    pairs.extend_from_slice(extra);
    t.raw(
        "POST",
        &format!("/console/cases/{case}/{action}"),
        &headers(Some(&who.cookie)),
        form(&pairs),
    )
    .await
}

async fn case_status(t: &TestApp, case: &str) -> String {
    t.app
        .gateway()
        .store()
        .case(case)
        .await
        .unwrap()
        .unwrap()
        .status
}

async fn new_warrant(t: &TestApp, reference: &str) -> String {
    let r = t
        .submit(
            "us-fbi-wfo",
            &warrant("us-fbi-wfo", reference, "alice@example.com"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()["case"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn sign_in_refuses_a_wrong_password_or_code() {
    let t = TestApp::start().await;
    let (password, secret) = credentials(&t, "rita");
    let wrong_code = format!(
        "{:06}",
        (code(&secret).parse::<u32>().unwrap() + 1) % 1_000_000
    );
    for (pw, c) in [
        ("not-the-password", code(&secret)),
        (password.as_str(), wrong_code),
        (password.as_str(), String::new()),
    ] {
        let r = t
            .raw(
                "POST",
                "/console/sign-in",
                &headers(None),
                form(&[("name", "rita"), ("password", pw), ("code", &c)]),
            )
            .await;
        assert_eq!(r.status, 401, "{}", r.text);
        assert!(r.headers.get("set-cookie").is_none());
        assert!(
            r.text.contains("wrong name, password or code"),
            "{}",
            r.text
        );
    }
    // No session: the queue shows the sign-in form, case pages redirect.
    let r = t.raw("GET", "/console", &[], vec![]).await;
    assert!(r.text.contains("action=\"/console/sign-in\""));
    // And signing in works, then signing out revokes the session.
    let rita = sign_in(&t, "rita").await;
    let out = t
        .raw(
            "POST",
            "/console/sign-out",
            &headers(Some(&rita.cookie)),
            form(&[("csrf", &rita.csrf)]),
        )
        .await;
    assert_eq!(out.status, 303);
    let r = t
        .raw("GET", "/console", &headers(Some(&rita.cookie)), vec![])
        .await;
    assert!(
        r.text.contains("action=\"/console/sign-in\""),
        "still signed in"
    );
}

#[tokio::test]
async fn forms_without_the_sessions_csrf_token_are_refused() {
    let t = TestApp::start().await;
    let case = new_warrant(&t, "PAGES-CSRF").await;
    let rita = sign_in(&t, "rita").await;
    let alex = sign_in(&t, "alex").await;
    assert_ne!(rita.csrf, alex.csrf);
    let before = t.state().await;
    for token in ["", "0123456789abcdef0123456789abcdef", alex.csrf.as_str()] {
        let r = t
            .raw(
                "POST",
                &format!("/console/cases/{case}/approve"),
                &headers(Some(&rita.cookie)),
                form(&[("csrf", token)]),
            )
            .await;
        assert_eq!(r.status, 403, "{}", r.text);
        assert!(r.text.contains("security token"), "{}", r.text);
    }
    assert_eq!(t.state().await, before);
    assert_eq!(case_status(&t, &case).await, "in_review");
}

#[tokio::test]
async fn roles_hold_in_the_pages() {
    let t = TestApp::start().await;
    let case = new_warrant(&t, "PAGES-ROLES").await;
    let adam = sign_in(&t, "adam").await;
    let rita = sign_in(&t, "rita").await;
    let before = t.state().await;
    // An admin takes no review action, and sees no queue.
    let r = act(&t, &adam, &case, "approve", &[]).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = t
        .raw(
            "GET",
            &format!("/console/cases/{case}"),
            &headers(Some(&adam.cookie)),
            vec![],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    // A reviewer proposes but cannot confirm, nor manage agencies.
    let r = act(&t, &rita, &case, "approve", &[]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = act(&t, &rita, &case, "confirm", &[]).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(case_status(&t, &case).await, "in_review");
    let r = t
        .raw(
            "GET",
            "/console/agencies",
            &headers(Some(&rita.cookie)),
            vec![],
        )
        .await;
    assert_eq!(r.status, 403);
    let r = t
        .raw(
            "POST",
            "/console/agencies/us-nypd/suspend",
            &headers(Some(&rita.cookie)),
            form(&[("csrf", &rita.csrf)]),
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(before.0 == t.state().await.0);
    // The admin manages the registry: suspend, history, numbers.
    let r = t
        .raw(
            "GET",
            "/console/agencies",
            &headers(Some(&adam.cookie)),
            vec![],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("us-nypd"));
    let r = t
        .raw(
            "POST",
            "/console/agencies/us-nypd/suspend",
            &headers(Some(&adam.cookie)),
            form(&[("csrf", &adam.csrf)]),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = t
        .raw(
            "POST",
            "/console/agencies/us-nypd/callbacks",
            &headers(Some(&adam.cookie)),
            form(&[
                ("csrf", &adam.csrf),
                ("numbers", "+12125550100\n+12125550101"),
            ]),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = t
        .raw(
            "POST",
            "/console/agencies/us-nypd/callbacks",
            &headers(Some(&adam.cookie)),
            form(&[("csrf", &adam.csrf), ("numbers", "call me maybe")]),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    let view = t.app.gateway().agency_view("us-nypd").await.unwrap();
    assert_eq!(view.agency.status.as_str(), "suspended");
    assert_eq!(view.callback_numbers, ["+12125550100", "+12125550101"]);
    let r = t
        .raw(
            "GET",
            "/console/agencies/us-nypd",
            &headers(Some(&adam.cookie)),
            vec![],
        )
        .await;
    assert!(
        r.text.contains("suspended") && r.text.contains("adam"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn two_people_through_the_pages() {
    let t = TestApp::start().await;
    let case = new_warrant(&t, "PAGES-TWO").await;
    let rita = sign_in(&t, "rita").await;
    let alex = sign_in(&t, "alex").await;
    let avery = sign_in(&t, "avery").await;

    // The queue lists it; the case page shows the decision and the events.
    let q = t
        .raw("GET", "/console", &headers(Some(&rita.cookie)), vec![])
        .await;
    assert!(q.text.contains(&case), "{}", q.text);
    let page = t
        .raw(
            "GET",
            &format!("/console/cases/{case}"),
            &headers(Some(&rita.cookie)),
            vec![],
        )
        .await;
    assert_eq!(page.status, 200);
    for needle in [
        "received",
        "decided",
        "PAGES-TWO",
        "email:alice@example.com",
        "Propose approval",
    ] {
        assert!(page.text.contains(needle), "no `{needle}` in the case page");
    }

    // An approver's own proposal needs another person.
    assert_eq!(act(&t, &alex, &case, "approve", &[]).await.status, 303);
    let r = act(&t, &alex, &case, "confirm", &[]).await;
    assert!(r.status.is_client_error(), "{} {}", r.status, r.text);
    assert_eq!(case_status(&t, &case).await, "in_review");

    // A narrowing proposed by the reviewer replaces it; a second approver
    // confirms.
    let r = act(
        &t,
        &rita,
        &case,
        "narrow",
        &[("drop", "content:email:alice@example.com")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(case_status(&t, &case).await, "in_review");
    let r = act(&t, &avery, &case, "confirm", &[]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(case_status(&t, &case).await, "narrowed");
    let page = t
        .raw(
            "GET",
            &format!("/console/cases/{case}"),
            &headers(Some(&avery.cookie)),
            vec![],
        )
        .await;
    assert!(page.text.contains("narrowed_in_review"));
    // The queue no longer holds it, and nothing more can be done.
    let q = t
        .raw("GET", "/console", &headers(Some(&rita.cookie)), vec![])
        .await;
    assert!(!q.text.contains(&case));
    let r = act(&t, &rita, &case, "approve", &[]).await;
    assert_eq!(r.status, 409, "{}", r.text);
}

#[tokio::test]
async fn an_emergency_callback_through_the_pages() {
    let t = TestApp::start().await;
    let order = serde_json::json!({
        "reference": "PAGES-EMERGENCY",
        "agency": "us-fbi-wfo",
        "instrument": "emergency_request",
        "legal_basis": "18 U.S.C. § 2702(b)(8), (c)(4)",
        "issued_by": {"kind": "police"},
        "issued_at": Timestamp::now().plus_minutes(-5),
        "targets": [{"kind": "email", "value": "alice@example.com"}],
        "categories": ["subscriber", "identification"],
        "date_range": {"from": "2026-01-01T00:00:00Z", "to": "2026-10-31T23:59:59Z"},
        "emergency": {"threat": "death", "facts": "a threat to kill a named person tonight"},
    });
    let r = t.submit("us-fbi-wfo", &order).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let case = r.json()["case"].as_str().unwrap().to_owned();
    let rita = sign_in(&t, "rita").await;
    let q = t
        .raw("GET", "/console", &headers(Some(&rita.cookie)), vec![])
        .await;
    assert!(q.text.contains("unverified emergency") && q.text.contains("class=\"emergency\""));
    // Approval cannot stand in for the callback.
    let r = act(&t, &rita, &case, "approve", &[]).await;
    assert_eq!(r.status, 409, "{}", r.text);
    let r = act(
        &t,
        &rita,
        &case,
        "callback",
        &[("number_source", "registry"), ("verified", "true")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let row = t.app.gateway().store().case(&case).await.unwrap().unwrap();
    assert!(
        !row.decision.contains("emergency_unverified"),
        "{}",
        row.decision
    );
    assert_eq!(row.outcome, "approve");
}

#[tokio::test]
async fn every_page_route_needs_its_session() {
    let t = TestApp::start().await;
    let case = new_warrant(&t, "PAGES-MATRIX").await;
    let before = t.state().await;
    let rita = sign_in(&t, "rita").await;
    let mut checked = 0;
    for (method, pattern, auth) in ROUTES {
        if !matches!(auth, Auth::Console | Auth::ConsoleAdmin | Auth::Portal) {
            continue;
        }
        let path = pattern
            .replace(
                "{id}",
                if pattern.contains("agencies") {
                    "us-fbi-wfo"
                } else {
                    &case
                },
            )
            .replace(
                "{action}",
                if pattern.contains("agencies") {
                    "suspend"
                } else {
                    "approve"
                },
            );
        // Nobody signed in, and a made-up cookie: a redirect to sign in.
        for cookie in [None, Some("writ_console=writ_pat_nope; writ_portal=nope")] {
            let r = t
                .raw(method, &path, &headers(cookie), form(&[("csrf", "x")]))
                .await;
            assert_eq!(r.status, 303, "{method} {path}: {}", r.text);
            let to = r.headers["location"].to_str().unwrap();
            assert!(to == "/console" || to == "/portal", "{to}");
        }
        // A console session is no portal session.
        if *auth == Auth::Portal {
            let r = t
                .raw(
                    method,
                    &path,
                    &headers(Some(&rita.cookie)),
                    form(&[("csrf", &rita.csrf)]),
                )
                .await;
            assert_eq!(r.status, 303, "{method} {path}");
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} page routes");
    assert_eq!(t.state().await, before);
}

/// Signs in to the portal as `agency` with `key`.
async fn portal_sign_in(t: &TestApp, agency: &str, key: &ed25519_dalek::SigningKey) -> Resp {
    let page = t.raw("GET", "/portal", &[], vec![]).await;
    let at = page.text.find("name=\"challenge\" value=\"").unwrap() + 24;
    let challenge = page.text[at..].split('"').next().unwrap().to_owned();
    assert!(challenge.starts_with("writ-portal-sign-in:"));
    let signature =
        base64::engine::general_purpose::STANDARD.encode(key.sign(challenge.as_bytes()).to_bytes());
    let body = form(&[
        ("agency", agency),
        ("challenge", &challenge),
        ("signature", &signature),
    ]);
    let r = t
        .raw("POST", "/portal/sign-in", &headers(None), body.clone())
        .await;
    // A challenge is good once.
    if r.status == 303 {
        let again = t.raw("POST", "/portal/sign-in", &headers(None), body).await;
        assert_eq!(again.status, 401);
    }
    r
}

#[tokio::test]
async fn the_portal_signs_in_submits_and_serves_packages() {
    let t = TestApp::start().await;
    // Another agency's key, or a key for another agency's name, is refused.
    let r = portal_sign_in(&t, "us-fbi-wfo", &t.key("us-nypd")).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(r.headers.get("set-cookie").is_none());
    let r = portal_sign_in(&t, "us-fbi-wfo", &t.key("us-fbi-wfo")).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let cookie = set_cookie(&r);
    let home = t
        .raw("GET", "/portal", &headers(Some(&cookie)), vec![])
        .await;
    assert!(home.text.contains("Submit an order"));
    let token = csrf(&home.text);

    // An order through the form; without the token it is refused.
    let order = subpoena("us-fbi-wfo", "PORTAL-1", "alice@example.com").to_string();
    let r = t
        .raw(
            "POST",
            "/portal/orders",
            &headers(Some(&cookie)),
            form(&[("order", &order)]),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(t.app.gateway().store().case_count().await.unwrap(), 0);
    let r = t
        .raw(
            "POST",
            "/portal/orders",
            &headers(Some(&cookie)),
            form(&[("csrf", &token), ("order", &order)]),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let location = r.headers["location"].to_str().unwrap().to_owned();
    let case = location.split("submitted=").nth(1).unwrap().to_owned();
    // Bad JSON is a 422 that names the problem.
    let r = t
        .raw(
            "POST",
            "/portal/orders",
            &headers(Some(&cookie)),
            form(&[("csrf", &token), ("order", "{\"reference\": 1}")]),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);

    // The case page shows the decision.
    let r = t
        .raw(
            "GET",
            &format!("/portal/cases/{case}"),
            &headers(Some(&cookie)),
            vec![],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(
        r.text.contains("PORTAL-1") && r.text.contains("subscriber"),
        "{}",
        r.text
    );

    // The package, once delivery has sealed it.
    while t.app.gateway().deliver_once().await.unwrap() != Default::default() {}
    let home = t
        .raw("GET", &location, &headers(Some(&cookie)), vec![])
        .await;
    assert!(
        home.text.contains(&format!("/portal/cases/{case}/package")),
        "{}",
        home.text
    );
    let r = t
        .raw(
            "GET",
            &format!("/portal/cases/{case}/package"),
            &headers(Some(&cookie)),
            vec![],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.bytes.starts_with(b"age-encryption.org/v1"));

    // Another agency sees neither the case nor its package.
    let other = portal_sign_in(&t, "us-nypd", &t.key("us-nypd")).await;
    let other = set_cookie(&other);
    let home = t
        .raw("GET", "/portal", &headers(Some(&other)), vec![])
        .await;
    assert!(!home.text.contains(&case));
    let r = t
        .raw(
            "GET",
            &format!("/portal/cases/{case}"),
            &headers(Some(&other)),
            vec![],
        )
        .await;
    assert_eq!(r.status, 404);
    assert!(!r.text.contains("PORTAL-1"));
    let r = t
        .raw(
            "GET",
            &format!("/portal/cases/{case}/package"),
            &headers(Some(&other)),
            vec![],
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn the_status_page_shows_the_log() {
    let t = TestApp::start().await;
    let r = t.raw("GET", "/status", &[], vec![]).await;
    assert_eq!(r.status, 200);
    let vkey = t.app.log.vkey().to_string();
    assert!(r.text.contains(&vkey), "{}", r.text);
    assert!(r.text.contains("writ log verify --url") && r.text.contains("href=\"/transparency\""));
    let csp = r.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'sha256-"),
        "{csp}"
    );
    assert_eq!(r.headers["cache-control"], "no-store");
    assert!(r.text.contains("<time") || r.text.contains("Latest checkpoint"));
}

#[tokio::test]
async fn a_secrecy_extension_through_the_pages() {
    let t = TestApp::start().await;
    let mut order = warrant("us-fbi-wfo", "PAGES-SECRECY", "alice@example.com");
    order["non_disclosure"] = serde_json::json!({
        "issued_by": {"kind": "judge"},
        "basis": "18 U.S.C. § 2705(b)",
        "until": Timestamp::now().plus_days(60),
    });
    let r = t.submit("us-fbi-wfo", &order).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let case = r.json()["case"].as_str().unwrap().to_owned();
    let rita = sign_in(&t, "rita").await;
    let page = t
        .raw(
            "GET",
            &format!("/console/cases/{case}"),
            &headers(Some(&rita.cookie)),
            vec![],
        )
        .await;
    assert!(page.text.contains("Secrecy order"), "{}", page.text);
    let r = act(
        &t,
        &rita,
        &case,
        "secrecy",
        &[("mode", "extend"), ("until", "not-a-date")],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    let until = Timestamp::now().plus_days(120).date_string();
    let r = act(
        &t,
        &rita,
        &case,
        "secrecy",
        &[("mode", "extend"), ("until", &until)],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let row = t.app.gateway().store().case(&case).await.unwrap().unwrap();
    assert!(
        row.order_json.contains(&format!("{until}T00:00:00Z")),
        "{}",
        row.order_json
    );
    let events = t
        .app
        .gateway()
        .store()
        .events_for_case(&case)
        .await
        .unwrap();
    assert!(events.iter().any(|e| e.kind == "extended"));
}
