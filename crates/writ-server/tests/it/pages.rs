//! The console, the portal and the status page through the real router:
//! sign-in (its CSRF token, throttle and session lifetime), CSRF, roles, the
//! two-person rule, the portal's challenge sign-in, submission and package
//! download.

use base64::Engine as _;
use ed25519_dalek::Signer;
use writ_model::Timestamp;
use writ_server::{Auth, routes};

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

pub(crate) fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
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

pub(crate) fn headers(cookie: Option<&str>) -> Vec<(String, String)> {
    let mut h = vec![(FORM.0.to_owned(), FORM.1.to_owned())];
    if let Some(c) = cookie {
        h.push(("cookie".into(), c.to_owned()));
    }
    h
}

/// The whole `Set-Cookie` value a response sets for cookie `name`.
fn set_cookie_header(r: &Resp, name: &str) -> Option<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with(&format!("{name}=")))
}

/// The cookie `name` (`name=value`) a response sets.
fn set_cookie(r: &Resp, name: &str) -> String {
    let v = set_cookie_header(r, name)
        .unwrap_or_else(|| panic!("no cookie {name} set: {} {}", r.status, r.text));
    assert!(
        v.contains("HttpOnly") && v.contains("SameSite=Strict"),
        "{v}"
    );
    v.split(';').next().unwrap().to_owned()
}

/// A sign-in page (`/console` or `/portal` without a session): its text,
/// the pre-session cookie it sets and the token in its form.
struct SignInForm {
    text: String,
    cookie: String,
    csrf: String,
}

async fn sign_in_form(t: &TestApp, home: &str) -> SignInForm {
    let r = t.raw("GET", home, &[], vec![]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let cookie = set_cookie(&r, &format!("writ{}_sign_in", home.replace('/', "_")));
    let csrf = csrf(&r.text);
    assert_eq!(cookie.split_once('=').unwrap().1, csrf);
    SignInForm {
        text: r.text,
        cookie,
        csrf,
    }
}

/// Posts the console's sign-in form with `cookie` and these fields.
async fn post_console_sign_in(t: &TestApp, cookie: Option<&str>, fields: &[(&str, &str)]) -> Resp {
    t.raw("POST", "/console/sign-in", &headers(cookie), form(fields))
        .await
}

/// The CSRF token in a page's forms.
pub(crate) fn csrf(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    page[at..].split('"').next().unwrap().to_owned()
}

pub(crate) struct Console {
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

pub(crate) async fn sign_in(t: &TestApp, name: &str) -> Console {
    let (password, secret) = credentials(t, name);
    let page = sign_in_form(t, "/console").await;
    let r = post_console_sign_in(
        t,
        Some(&page.cookie),
        &[
            ("csrf", &page.csrf),
            ("name", name),
            ("password", &password),
            ("code", &code(&secret)),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    // The pre-session cookie goes once signed in.
    let gone = set_cookie_header(&r, "writ_console_sign_in").unwrap();
    assert!(gone.contains("Max-Age=0"), "{gone}");
    let cookie = set_cookie(&r, "writ_console");
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
    let page = sign_in_form(&t, "/console").await;
    for (pw, c) in [
        ("not-the-password", code(&secret)),
        (password.as_str(), wrong_code),
        (password.as_str(), String::new()),
    ] {
        let r = post_console_sign_in(
            &t,
            Some(&page.cookie),
            &[
                ("csrf", &page.csrf),
                ("name", "rita"),
                ("password", pw),
                ("code", &c),
            ],
        )
        .await;
        assert_eq!(r.status, 401, "{}", r.text);
        assert!(set_cookie_header(&r, "writ_console").is_none());
        // The form comes back with the same token, to try again.
        assert_eq!(csrf(&r.text), page.csrf);
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
    assert!(page.text.contains("the reviewers narrowed the order"));
    assert!(!page.text.contains("narrowed_in_review"));
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
    for (method, pattern, auth) in &routes() {
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
                } else if pattern.contains("mailbox") {
                    "dismiss"
                } else {
                    "approve"
                },
            );
        // Nobody signed in, and a made-up cookie: a redirect to sign in;
        // the order form's post says so instead, so that nothing written
        // is lost in a redirect.
        let upload = *method == "POST"
            && (*pattern == "/portal/orders/new" || *pattern == "/console/orders/new");
        for cookie in [None, Some("writ_console=writ_pat_nope; writ_portal=nope")] {
            let r = t
                .raw(method, &path, &headers(cookie), form(&[("csrf", "x")]))
                .await;
            if upload {
                assert_eq!(r.status, 401, "{method} {path}: {}", r.text);
                assert!(r.text.contains("sign in again"), "{}", r.text);
                continue;
            }
            assert_eq!(r.status, 303, "{method} {path}: {}", r.text);
            let to = r.headers["location"].to_str().unwrap();
            assert!(to == "/console" || to == "/portal", "{to}");
        }
        // A console session is no portal session.
        if *auth == Auth::Portal && !upload {
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

/// The challenge on a portal sign-in page.
fn challenge(page: &str) -> String {
    let at = page.find("name=\"challenge\" value=\"").unwrap() + 24;
    let challenge = page[at..].split('"').next().unwrap().to_owned();
    assert!(challenge.starts_with("writ-portal-sign-in:"));
    challenge
}

/// The portal's sign-in form as `agency` with `key`, signing `challenge`.
fn portal_form(
    csrf: Option<&str>,
    agency: &str,
    challenge: &str,
    key: &ed25519_dalek::SigningKey,
) -> Vec<u8> {
    let message = writ_gateway::auth::portal_sign_in_message(challenge);
    let signature =
        base64::engine::general_purpose::STANDARD.encode(key.sign(message.as_bytes()).to_bytes());
    let mut fields = vec![
        ("agency", agency),
        ("challenge", challenge),
        ("signature", &signature),
    ];
    if let Some(c) = csrf {
        fields.push(("csrf", c));
    }
    form(&fields)
}

/// Signs in to the portal as `agency` with `key`.
async fn portal_sign_in(t: &TestApp, agency: &str, key: &ed25519_dalek::SigningKey) -> Resp {
    let page = sign_in_form(t, "/portal").await;
    let body = portal_form(Some(&page.csrf), agency, &challenge(&page.text), key);
    let r = t
        .raw(
            "POST",
            "/portal/sign-in",
            &headers(Some(&page.cookie)),
            body.clone(),
        )
        .await;
    // A challenge is good once.
    if r.status == 303 {
        let gone = set_cookie_header(&r, "writ_portal_sign_in").unwrap();
        assert!(gone.contains("Max-Age=0"), "{gone}");
        let again = t
            .raw(
                "POST",
                "/portal/sign-in",
                &headers(Some(&page.cookie)),
                body,
            )
            .await;
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
    assert!(set_cookie_header(&r, "writ_portal").is_none());
    let r = portal_sign_in(&t, "us-fbi-wfo", &t.key("us-fbi-wfo")).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let cookie = set_cookie(&r, "writ_portal");
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
        r.text.contains("PORTAL-1") && r.text.contains("Subscriber data"),
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
    let other = set_cookie(&other, "writ_portal");
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

/// Rows in a table of the case store.
async fn rows(t: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(t.app.gateway().store().pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn sign_in_forms_refuse_posts_without_their_cookie() {
    let t = TestApp::start().await;
    let (password, secret) = credentials(&t, "rita");
    let page = sign_in_form(&t, "/console").await;
    // A short-lived cookie on the console's path, not `Secure` unless asked.
    let set = set_cookie_header(
        &t.raw("GET", "/console", &[], vec![]).await,
        "writ_console_sign_in",
    )
    .unwrap();
    assert!(
        set.contains("Path=/console;") && set.contains("Max-Age=") && !set.contains("Secure"),
        "{set}"
    );
    // A second visitor gets another token; a reload keeps one's own.
    let other = sign_in_form(&t, "/console").await;
    assert_ne!(page.csrf, other.csrf);
    let reload = t
        .raw("GET", "/console", &headers(Some(&page.cookie)), vec![])
        .await;
    assert_eq!(csrf(&reload.text), page.csrf);

    let before = (
        rows(&t, "access_tokens").await,
        rows(&t, "sign_in_failures").await,
    );
    let code = code(&secret);
    let refused: [(Option<&str>, Option<&str>); 5] = [
        (None, Some(&page.csrf)),
        (Some(&page.cookie), None),
        (Some(&page.cookie), Some(&other.csrf)),
        (Some(&other.cookie), Some(&page.csrf)),
        (Some("writ_console_sign_in="), Some("")),
    ];
    for (cookie, token) in refused {
        let mut fields = vec![("name", "rita"), ("password", &password), ("code", &code)];
        if let Some(token) = token {
            fields.push(("csrf", token));
        }
        let r = post_console_sign_in(&t, cookie, &fields).await;
        assert_eq!(r.status, 403, "{cookie:?} {token:?}: {}", r.text);
        assert!(r.text.contains("security token"), "{}", r.text);
        assert!(set_cookie_header(&r, "writ_console").is_none());
    }
    // Nothing changed: no token minted, no failure counted.
    assert_eq!(
        (
            rows(&t, "access_tokens").await,
            rows(&t, "sign_in_failures").await
        ),
        before
    );
    // Cookie and field together sign in.
    let r = post_console_sign_in(
        &t,
        Some(&page.cookie),
        &[
            ("csrf", &page.csrf),
            ("name", "rita"),
            ("password", &password),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(rows(&t, "access_tokens").await, before.0 + 1);

    // The portal alike, and a refused post does not use up its challenge.
    let portal = sign_in_form(&t, "/portal").await;
    let other = sign_in_form(&t, "/portal").await;
    let set = set_cookie_header(
        &t.raw("GET", "/portal", &[], vec![]).await,
        "writ_portal_sign_in",
    )
    .unwrap();
    assert!(set.contains("Path=/portal;"), "{set}");
    let challenge = challenge(&portal.text);
    let key = t.key("us-fbi-wfo");
    let sessions = rows(&t, "portal_sessions").await;
    let refused: [(Option<&str>, Option<&str>); 5] = [
        (None, Some(&portal.csrf)),
        (Some(&portal.cookie), None),
        (Some(&portal.cookie), Some(&other.csrf)),
        (Some(&other.cookie), Some(&portal.csrf)),
        // The console's token is no portal token.
        (Some(&page.cookie), Some(&page.csrf)),
    ];
    for (cookie, token) in refused {
        let r = t
            .raw(
                "POST",
                "/portal/sign-in",
                &headers(cookie),
                portal_form(token, "us-fbi-wfo", &challenge, &key),
            )
            .await;
        assert_eq!(r.status, 403, "{cookie:?} {token:?}: {}", r.text);
        assert!(r.text.contains("security token"), "{}", r.text);
        assert!(set_cookie_header(&r, "writ_portal").is_none());
    }
    assert_eq!(rows(&t, "portal_sessions").await, sessions);
    let r = t
        .raw(
            "POST",
            "/portal/sign-in",
            &headers(Some(&portal.cookie)),
            portal_form(Some(&portal.csrf), "us-fbi-wfo", &challenge, &key),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(rows(&t, "portal_sessions").await, sessions + 1);
}

#[tokio::test]
async fn sign_in_cookies_are_secure_when_configured() {
    let t = TestApp::start_with(writ_server::ServerConfig {
        rate_limit: 0,
        secure_cookies: true,
        ..Default::default()
    })
    .await;
    for home in ["/console", "/portal"] {
        let r = t.raw("GET", home, &[], vec![]).await;
        let name = format!("writ{}_sign_in", home.replace('/', "_"));
        let set = set_cookie_header(&r, &name).unwrap();
        assert!(
            set.contains("; Secure")
                && set.contains("HttpOnly")
                && set.contains("SameSite=Strict")
                && set.contains(&format!("Path={home};")),
            "{set}"
        );
    }
}

#[tokio::test]
async fn console_sign_in_is_throttled_after_five_failures() {
    let t = TestApp::start().await;
    let (password, secret) = credentials(&t, "rita");
    let page = sign_in_form(&t, "/console").await;
    let attempt = |password: String| {
        let page = &page;
        let t = &t;
        let code = code(&secret);
        async move {
            post_console_sign_in(
                t,
                Some(&page.cookie),
                &[
                    ("csrf", &page.csrf),
                    ("name", "rita"),
                    ("password", &password),
                    ("code", &code),
                ],
            )
            .await
        }
    };
    for _ in 0..5 {
        let r = attempt("not-the-password".into()).await;
        assert_eq!(r.status, 401, "{}", r.text);
    }
    // The sixth try is refused, right password or not, with the sign-in
    // form and a message.
    let r = attempt(password.clone()).await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert!(
        r.text.contains("too many failed sign-ins") && r.text.contains("try again in 15 min"),
        "{}",
        r.text
    );
    assert!(r.text.contains("action=\"/console/sign-in\""));
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
    assert!(set_cookie_header(&r, "writ_console").is_none());
    // The API says the same, as a problem.
    let login = serde_json::json!({"name": "rita", "password": password, "code": code(&secret)});
    let r = t
        .raw(
            "POST",
            "/v1/console/tokens",
            &[],
            login.to_string().into_bytes(),
        )
        .await;
    let problem = r.assert_problem(429);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("too many failed sign-ins"),
        "{problem}"
    );
    assert!(r.headers.contains_key("retry-after"));
    // Other names are not held back.
    sign_in(&t, "alex").await;
}

#[tokio::test]
async fn console_sessions_expire_twelve_hours_after_sign_in() {
    use writ_gateway::auth::{CONSOLE_SESSION, CONSOLE_SESSION_SECONDS};
    let t = TestApp::start().await;
    let case = new_warrant(&t, "PAGES-EXPIRY").await;
    // Sessions opened as if rita had signed in a while ago.
    let opened = |age: i64| {
        let t = &t;
        async move {
            let token = format!("writ_pat_session_aged_{age}");
            t.app
                .gateway()
                .store()
                .insert_token(&writ_store::TokenRow {
                    token_hash: writ_gateway::canonical::sha256_hex(token.as_bytes()),
                    user_name: "rita".into(),
                    label: CONSOLE_SESSION.into(),
                    created_at: Timestamp::now().as_second() - age,
                })
                .await
                .unwrap();
            Console {
                cookie: format!("writ_console={token}"),
                // What the pages derive from the session secret.
                csrf: writ_gateway::canonical::sha256_hex(format!("writ-csrf\n{token}").as_bytes())
                    [..32]
                    .to_owned(),
            }
        }
    };
    let recent = opened(CONSOLE_SESSION_SECONDS - 60).await;
    let stale = opened(CONSOLE_SESSION_SECONDS + 1).await;
    let home = t
        .raw("GET", "/console", &headers(Some(&recent.cookie)), vec![])
        .await;
    assert!(home.text.contains("rita (reviewer)"), "{}", home.text);
    assert_eq!(csrf(&home.text), recent.csrf);
    // Twelve hours on, the cookie signs nobody in: the sign-in form, and a
    // form post goes back to it and changes nothing.
    let before = t.state().await;
    let home = t
        .raw("GET", "/console", &headers(Some(&stale.cookie)), vec![])
        .await;
    assert!(
        home.text.contains("action=\"/console/sign-in\""),
        "{}",
        home.text
    );
    assert!(!home.text.contains("rita (reviewer)"));
    let r = act(&t, &stale, &case, "approve", &[]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.headers["location"], "/console");
    assert_eq!(t.state().await, before);
    assert_eq!(case_status(&t, &case).await, "in_review");
    // Nor does it work as a bearer token on the API.
    let token = stale.cookie.split_once('=').unwrap().1;
    t.raw(
        "GET",
        "/v1/review/queue",
        &[("authorization".into(), format!("Bearer {token}"))],
        vec![],
    )
    .await
    .assert_problem(401);
    // The recent one still acts.
    let r = act(&t, &recent, &case, "approve", &[]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(
        r.headers["location"],
        format!("/console/cases/{case}?done=approve").as_str()
    );
}

#[tokio::test]
async fn a_suspension_ends_portal_sessions_and_refuses_sign_in() {
    let t = TestApp::start().await;
    let r = portal_sign_in(&t, "us-fbi-wfo", &t.key("us-fbi-wfo")).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let cookie = set_cookie(&r, "writ_portal");
    let home = t
        .raw("GET", "/portal", &headers(Some(&cookie)), vec![])
        .await;
    assert!(home.text.contains("Submit an order"), "{}", home.text);
    t.app
        .gateway()
        .set_agency_status("us-fbi-wfo", writ_model::AgencyStatus::Suspended, "adam")
        .await
        .unwrap();
    // The open session ends at once: the portal shows its sign-in form.
    let home = t
        .raw("GET", "/portal", &headers(Some(&cookie)), vec![])
        .await;
    assert!(!home.text.contains("Submit an order"), "{}", home.text);
    // And a new sign-in with the agency's own key is refused.
    let r = portal_sign_in(&t, "us-fbi-wfo", &t.key("us-fbi-wfo")).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(set_cookie_header(&r, "writ_portal").is_none());
}

/// A document the order announces: the announced bytes are stored whenever
/// they come (201, then 200 again), any other bytes are refused with 422 and
/// store nothing, another agency cannot upload to the case, and reviewers
/// see it on the case page and download it (never inline).
#[tokio::test]
async fn attachments_are_stored_only_as_announced() {
    let t = TestApp::start().await;
    let pdf = b"%PDF-1.7\nthe signed warrant, page 1 of 1\n%%EOF\n".to_vec();
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&pdf));
    let mut order = warrant("us-fbi-wfo", "ATT-1", "alice@example.com");
    order["attachments"] = serde_json::json!([
        {"name": "warrant.pdf", "media_type": "application/pdf", "sha256": sha, "size": pdf.len()},
        {"name": "affidavit.pdf", "media_type": "application/pdf", "sha256": "0".repeat(64), "size": 10},
    ]);
    let r = t.submit("us-fbi-wfo", &order).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let case = r.json()["case"].as_str().unwrap().to_owned();
    let path = format!("/v1/cases/{case}/attachments/warrant.pdf");
    let stored = |t: &TestApp| {
        let dir = t.data().join("objects/attachments").join(&case);
        std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0)
    };

    // Other bytes first: refused, nothing stored.
    let mut forged = pdf.clone();
    forged[10] ^= 1;
    let r = t.signed("us-fbi-wfo", "PUT", &path, &forged).await;
    let p = r.assert_problem(422);
    assert!(p["detail"].as_str().unwrap().contains("SHA-256"), "{p}");
    let r = t
        .signed("us-fbi-wfo", "PUT", &path, &pdf[..pdf.len() - 1])
        .await;
    let p = r.assert_problem(422);
    assert!(
        p["detail"].as_str().unwrap().contains("bytes were sent"),
        "{p}"
    );
    assert_eq!(stored(&t), 0);
    // A name the order does not announce, another agency, no signature.
    t.signed(
        "us-fbi-wfo",
        "PUT",
        &format!("/v1/cases/{case}/attachments/other.pdf"),
        &pdf,
    )
    .await
    .assert_problem(404);
    t.signed("us-nypd", "PUT", &path, &pdf)
        .await
        .assert_problem(404);
    assert_eq!(t.raw("PUT", &path, &[], pdf.clone()).await.status, 401);
    assert_eq!(stored(&t), 0);

    // The announced bytes: stored, and the same again is 200.
    let r = t.signed("us-fbi-wfo", "PUT", &path, &pdf).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["attachment"]["received"], true);
    assert_eq!(r.json()["created"], true);
    let r = t.signed("us-fbi-wfo", "PUT", &path, &pdf).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["created"], false);
    // Other bytes after the right ones: still refused, the stored ones kept.
    t.signed("us-fbi-wfo", "PUT", &path, &forged)
        .await
        .assert_problem(422);
    assert_eq!(stored(&t), 1);

    // The case page lists both; the received one downloads as announced.
    let rita = sign_in(&t, "rita").await;
    let page = t
        .raw(
            "GET",
            &format!("/console/cases/{case}"),
            &headers(Some(&rita.cookie)),
            vec![],
        )
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("received, SHA-256 checked"),
        "{}",
        page.text
    );
    assert!(
        page.text.contains("announced, not uploaded yet"),
        "{}",
        page.text
    );
    let link = format!("/console/cases/{case}/attachments/warrant.pdf");
    assert!(page.text.contains(&link), "{}", page.text);
    let file = t
        .raw("GET", &link, &headers(Some(&rita.cookie)), vec![])
        .await;
    assert_eq!(file.status, 200);
    assert_eq!(file.bytes, pdf);
    assert_eq!(file.headers["content-type"], "application/octet-stream");
    assert!(
        file.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(file.headers["x-content-type-options"], "nosniff");
    // Without a session: the sign-in page, not the document.
    let anon = t.raw("GET", &link, &[], vec![]).await;
    assert_ne!(anon.bytes, pdf);
}

/// The response letter says what was produced (with the package's SHA-256),
/// what waits and why, each reason with its citation; for an order refused
/// at step 1 it names nothing the agency did not send and says no record
/// was searched for. Another agency's case is not found; the portal serves
/// the same letter.
#[tokio::test]
async fn the_response_letter_says_what_went_out_and_why() {
    let t = TestApp::start().await;
    let r = t
        .submit(
            "us-fbi-wfo",
            &warrant("us-fbi-wfo", "LETTER-1", "alice@example.com"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let case = r.json()["case"].as_str().unwrap().to_owned();
    t.state().await; // delivery seals the subscriber data
    let package = t
        .app
        .gateway()
        .store()
        .package(&case)
        .await
        .unwrap()
        .expect("the subscriber data was released at once");
    let letter = t
        .signed(
            "us-fbi-wfo",
            "GET",
            &format!("/v1/cases/{case}/letter"),
            b"",
        )
        .await;
    assert_eq!(letter.status, 200, "{}", letter.text);
    assert!(
        letter.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let text = &letter.text;
    for needle in [
        "LETTER-1",
        case.as_str(),
        package.sha256.as_str(),
        "Subscriber",
        "Still pending",
        "writ log verify --url",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    // Content is held for the two-person rule, and says so.
    let pending = &text[text.find("id=\"pending\"").expect("a pending table")..];
    assert!(pending.contains("Content"), "{text}");
    // Internal account ids never appear; the agency's identifiers do.
    assert!(!text.contains("acct-"), "{text}");
    assert!(text.contains("alice@example.com"));

    // Refused at step 1 (the warrant's window has closed).
    let mut expired = warrant("us-fbi-wfo", "LETTER-2", "alice@example.com");
    expired["issued_at"] = serde_json::json!(Timestamp::now().plus_days(-20));
    expired["expires_at"] = serde_json::json!(Timestamp::now().plus_days(-5));
    let r = t.submit("us-fbi-wfo", &expired).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["decision"]["outcome"], "reject");
    let refused = r.json()["case"].as_str().unwrap().to_owned();
    let letter = t
        .signed(
            "us-fbi-wfo",
            "GET",
            &format!("/v1/cases/{refused}/letter"),
            b"",
        )
        .await;
    assert_eq!(letter.status, 200, "{}", letter.text);
    assert!(
        letter.text.contains("refused as a whole"),
        "{}",
        letter.text
    );
    assert!(letter.text.contains("Nothing has been produced."));
    assert!(
        letter.text.contains("Fed. R. Crim. P. 41(e)(2)(A)"),
        "{}",
        letter.text
    );
    assert!(!letter.text.contains("acct-"));

    // The same letters as PDF, their text extractable (pdftotext, from
    // Debian's poppler-utils, which `.ci/run` installs).
    for (id, needles) in [
        (
            &case,
            vec![
                "LETTER-1",
                package.sha256.as_str(),
                "Still pending",
                "Subscriber",
            ],
        ),
        (
            &refused,
            vec![
                "LETTER-2",
                "refused as a whole",
                "Fed. R. Crim. P. 41(e)(2)(A)",
            ],
        ),
    ] {
        let path = format!("/v1/cases/{id}/letter");
        let s = crate::support::sign(
            "us-fbi-wfo",
            &t.key("us-fbi-wfo"),
            "GET",
            &path,
            b"",
            Timestamp::now().as_second(),
        );
        let mut h = s.headers.clone();
        h.push(("accept".into(), "application/pdf".into()));
        let r = t.raw("GET", &path, &h, vec![]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.headers["content-type"], "application/pdf");
        assert!(r.bytes.starts_with(b"%PDF-"));
        let Some(text) = pdftotext(&r.bytes) else {
            assert!(
                std::env::var_os("WRIT_CI").is_none(),
                "pdftotext is missing"
            );
            eprintln!("pdftotext is missing: the PDF's text is not checked");
            continue;
        };
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for needle in needles {
            assert!(
                flat.contains(needle),
                "{needle} missing from the PDF:\n{text}"
            );
        }
        assert!(!flat.contains("acct-"), "{text}");
    }

    // Another agency: not found, as for any of its cases.
    t.signed("us-nypd", "GET", &format!("/v1/cases/{case}/letter"), b"")
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn a_custodian_certifies_a_package_and_the_agency_gets_the_certificate() {
    let t = TestApp::start().await;
    let case = new_warrant(&t, "CERT-1").await;
    t.state().await; // delivery seals the subscriber data
    let store = t.app.gateway().store();
    let package = store.package(&case).await.unwrap().expect("a package");
    let files: Vec<serde_json::Value> = serde_json::from_str(&package.files).unwrap();
    assert_eq!(files.len(), 1, "{}", package.files);
    let file_sha = files[0]["sha256"].as_str().unwrap().to_owned();
    let cert_path = format!("/v1/cases/{case}/certificate");
    // Nothing to fetch before a custodian signs.
    t.signed("us-fbi-wfo", "GET", &cert_path, b"")
        .await
        .assert_problem(404);

    // The case page offers the form, with what the custodian declares.
    let rita = sign_in(&t, "rita").await;
    let page = t
        .raw(
            "GET",
            &format!("/console/cases/{case}"),
            &headers(Some(&rita.cookie)),
            vec![],
        )
        .await;
    assert!(page.text.contains("id=\"certificate\""), "{}", page.text);
    assert!(page.text.contains("Sign under penalty of perjury"));
    assert!(page.text.contains("803(6)(A)"));

    let generation = package.generation.to_string();
    let good = [
        ("generation", generation.as_str()),
        ("custodian", "Rita Ramos"),
        ("custodian_title", "Custodian of Records"),
        ("place", "Austin, Texas"),
        ("inside_us", "yes"),
        ("signature", "/s/ Rita Ramos"),
    ];
    // Bad forms change nothing: a signature that is not the name, a
    // missing title, a generation that is not the package's.
    let before = t.state().await;
    for (k, v, status) in [
        ("signature", "Rita Ramos", 422),
        ("custodian_title", " ", 422),
        ("generation", "7", 409),
    ] {
        let mut f = good.to_vec();
        f.retain(|(name, _)| *name != k);
        f.push((k, v));
        let r = act(&t, &rita, &case, "certify", &f).await;
        assert_eq!(r.status, status, "{k}: {}", r.text);
    }
    // An admin is no custodian.
    let adam = sign_in(&t, "adam").await;
    let r = act(&t, &adam, &case, "certify", &good).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(t.state().await, before);

    let r = act(&t, &rita, &case, "certify", &good).await;
    assert_eq!(r.status, 303, "{}", r.text);
    // Once per package: a certificate is never replaced.
    let alex = sign_in(&t, "alex").await;
    let again = act(&t, &alex, &case, "certify", &good).await;
    assert_eq!(again.status, 409, "{}", again.text);

    // The agency fetches it, HTML and PDF; it names the files and hashes.
    let html = t.signed("us-fbi-wfo", "GET", &cert_path, b"").await;
    assert_eq!(html.status, 200, "{}", html.text);
    for needle in [
        "CERT-1",
        case.as_str(),
        package.sha256.as_str(),
        file_sha.as_str(),
        "Rita Ramos",
        "Custodian of Records",
        "Austin, Texas",
        "/s/ Rita Ramos",
        "902(11)",
        "803(6)(B)",
        "I declare under penalty of perjury that the foregoing is true and correct.",
        "does not certify who wrote",
    ] {
        assert!(
            html.text.contains(needle),
            "{needle} missing:\n{}",
            html.text
        );
    }
    // Signed inside the United States: § 1746 (2), not (1).
    assert!(
        !html
            .text
            .contains("under the laws of the United States of America")
    );
    let s = crate::support::sign(
        "us-fbi-wfo",
        &t.key("us-fbi-wfo"),
        "GET",
        &cert_path,
        b"",
        Timestamp::now().as_second(),
    );
    let mut h = s.headers.clone();
    h.push(("accept".into(), "application/pdf".into()));
    let pdf = t.raw("GET", &cert_path, &h, vec![]).await;
    assert_eq!(pdf.status, 200, "{}", pdf.text);
    assert_eq!(pdf.headers["content-type"], "application/pdf");
    match pdftotext(&pdf.bytes) {
        Some(text) => {
            let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
            for needle in [
                package.sha256.as_str(),
                file_sha.as_str(),
                "/s/ Rita Ramos",
                "902(14)",
            ] {
                assert!(
                    flat.contains(needle),
                    "{needle} missing from the PDF:\n{text}"
                );
            }
        }
        None => assert!(
            std::env::var_os("WRIT_CI").is_none(),
            "pdftotext is missing"
        ),
    }
    // Another agency: not found.
    t.signed("us-nypd", "GET", &cert_path, b"")
        .await
        .assert_problem(404);
    // The console shows who signed it, and the certificate itself.
    let page = t
        .raw(
            "GET",
            &format!("/console/cases/{case}"),
            &headers(Some(&rita.cookie)),
            vec![],
        )
        .await;
    assert!(
        page.text
            .contains("certified by <strong>Rita Ramos</strong>"),
        "{}",
        page.text
    );
    assert!(!page.text.contains("Sign under penalty of perjury"));
    let view = t
        .raw(
            "GET",
            &format!("/console/cases/{case}/certificate"),
            &headers(Some(&rita.cookie)),
            vec![],
        )
        .await;
    assert_eq!(view.status, 200);
    assert!(view.text.contains(file_sha.as_str()));

    // Not a US production: no certificate.
    let mut order = warrant("br-pf", "CERT-BR", "alice@example.com");
    order["agency"] = serde_json::json!("br-pf");
    let r = t.submit("br-pf", &order).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let br = r.json()["case"].as_str().unwrap().to_owned();
    let r = act(&t, &rita, &br, "certify", &good).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.text.contains("not a US production"), "{}", r.text);
}

#[tokio::test]
async fn an_admin_sets_where_an_agency_is_notified() {
    let t = TestApp::start().await;
    let adam = sign_in(&t, "adam").await;
    let post = |fields: Vec<(&'static str, String)>| {
        let mut pairs = vec![("csrf".to_owned(), adam.csrf.clone())];
        pairs.extend(fields.into_iter().map(|(k, v)| (k.to_owned(), v)));
        let body: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let body = form(&body);
        let cookie = adam.cookie.clone();
        let t = &t;
        async move {
            t.raw(
                "POST",
                "/console/agencies/us-fbi-wfo/notify",
                &headers(Some(&cookie)),
                body,
            )
            .await
        }
    };
    // A webhook to a private or loopback address is refused; nothing is saved.
    for url in [
        "http://127.0.0.1:9/hook",
        "http://192.168.0.10/hook",
        "http://[fd00::1]/x",
    ] {
        let r = post(vec![("email", String::new()), ("webhook_url", url.into())]).await;
        assert_eq!(r.status, 422, "{url}: {}", r.text);
        assert!(r.text.contains("not a public address"), "{}", r.text);
    }
    assert_eq!(
        t.app.gateway().agency_notify("us-fbi-wfo").await.unwrap(),
        None
    );
    // An e-mail address alone is saved, and recorded in the history.
    let r = post(vec![
        ("email", "duty@fbi-wfo.test".into()),
        ("webhook_url", String::new()),
    ])
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = t
        .raw(
            "GET",
            "/console/agencies/us-fbi-wfo",
            &headers(Some(&adam.cookie)),
            vec![],
        )
        .await;
    assert!(
        page.text.contains("value=\"duty@fbi-wfo.test\""),
        "{}",
        page.text
    );
    assert!(
        r.headers["location"]
            .to_str()
            .unwrap()
            .ends_with("?done=notify"),
        "{:?}",
        r.headers
    );
    assert!(
        page.text.contains("e-mail duty@fbi-wfo.test; webhook none"),
        "{}",
        page.text
    );
    assert!(!page.text.contains("webhook-secret"));
    // A reviewer may not.
    let rita = sign_in(&t, "rita").await;
    let r = t
        .raw(
            "POST",
            "/console/agencies/us-fbi-wfo/notify",
            &headers(Some(&rita.cookie)),
            form(&[("csrf", &rita.csrf), ("email", "x@y.test")]),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
}

/// The text of a PDF by `pdftotext`; `None` when it is not installed.
fn pdftotext(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("letter.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A `multipart/form-data` body of text fields and, optionally, one file.
pub(crate) fn multipart(
    fields: &[(&str, &str)],
    file: Option<(&str, &str, &[u8])>,
) -> (String, Vec<u8>) {
    let boundary = "writ-test-boundary-7f3a";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, media_type, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"document\"; filename=\"{name}\"\r\nContent-Type: {media_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_form(
    t: &TestApp,
    cookie: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &str, &[u8])>,
) -> Resp {
    let (content_type, body) = multipart(fields, file);
    t.raw(
        "POST",
        "/portal/orders/new",
        &[
            ("content-type".to_owned(), content_type),
            ("cookie".to_owned(), cookie.to_owned()),
        ],
        body,
    )
    .await
}

/// The `<section id="foreseen">` of a page.
fn foreseen(page: &str) -> &str {
    let at = page
        .find("<section id=\"foreseen\">")
        .expect("a foreseen section");
    let end = page[at..].find("</section>").unwrap() + at;
    &page[at..end]
}

#[tokio::test]
async fn the_order_form_checks_keeps_a_draft_and_submits_with_the_document() {
    let t = TestApp::start().await;
    let r = portal_sign_in(&t, "us-fbi-wfo", &t.key("us-fbi-wfo")).await;
    let cookie = set_cookie(&r, "writ_portal");
    let home = t
        .raw("GET", "/portal", &headers(Some(&cookie)), vec![])
        .await;
    assert!(home.text.contains("/portal/orders/new"), "{}", home.text);
    let form_page = t
        .raw("GET", "/portal/orders/new", &headers(Some(&cookie)), vec![])
        .await;
    assert_eq!(form_page.status, 200, "{}", form_page.text);
    assert!(form_page.text.contains("enctype=\"multipart/form-data\""));
    assert!(!form_page.text.contains("is restored"));
    let token = csrf(&form_page.text);
    let issued = Timestamp::now().plus_days(-1).date_string();
    let expires = Timestamp::now().plus_days(10).date_string();
    let subpoena_fields = |csrf: &'static str| {
        vec![
            ("csrf", csrf),
            ("reference", "FORM-1"),
            ("instrument", "subpoena"),
            ("legal_basis", "18 U.S.C. § 2703(c)(2)"),
            ("issuer_kind", "grand_jury"),
            ("target_kind", "email"),
            ("target_value", "alice@example.com"),
            ("category", "subscriber"),
            ("category", "content"),
        ]
    };
    let token: &'static str = Box::leak(token.into_boxed_str());
    let mut fields = subpoena_fields(token);
    fields.push(("issued_at", &issued));
    fields.push(("expires_at", &expires));

    // Without the form's token nothing happens, not even a draft.
    let mut forged: Vec<(&str, &str)> = fields
        .iter()
        .filter(|(k, _)| *k != "csrf")
        .copied()
        .collect();
    forged.push(("action", "save"));
    let r = post_form(&t, &cookie, &forged, None).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let again = t
        .raw("GET", "/portal/orders/new", &headers(Some(&cookie)), vec![])
        .await;
    assert!(!again.text.contains("is restored"));

    // A field the form does not have is refused, and nothing is kept.
    let mut unknown = fields.clone();
    unknown.extend([("agency", "us-nypd"), ("action", "save")]);
    let r = post_form(&t, &cookie, &unknown, None).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("no field `agency`"), "{}", r.text);
    let again = t
        .raw("GET", "/portal/orders/new", &headers(Some(&cookie)), vec![])
        .await;
    assert!(!again.text.contains("is restored"));

    // Adding a row keeps the draft; it is there after a reload.
    let mut add = fields.clone();
    add.push(("action", "add_target"));
    let r = post_form(&t, &cookie, &add, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("id=\"target_value_1\""), "{}", r.text);
    let reload = t
        .raw("GET", "/portal/orders/new", &headers(Some(&cookie)), vec![])
        .await;
    assert!(reload.text.contains("is restored"), "{}", reload.text);
    assert!(reload.text.contains("value=\"FORM-1\""));
    assert!(reload.text.contains("id=\"target_value_1\""));
    // Removing it.
    let mut remove = add.clone();
    remove.retain(|(k, _)| *k != "action");
    remove.extend([
        ("target_kind", "phone"),
        ("target_value", ""),
        ("action", "remove_target_1"),
    ]);
    let r = post_form(&t, &cookie, &remove, None).await;
    assert_eq!(r.status, 200);
    assert!(!r.text.contains("id=\"target_value_1\""));

    // The check: content by subpoena is denied whatever the account, and
    // the answer is the same for an account the provider does not hold.
    let mut check = fields.clone();
    check.push(("action", "check"));
    let r = post_form(&t, &cookie, &check, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let held = foreseen(&r.text).to_owned();
    assert!(held.contains("denied whatever the account"), "{held}");
    assert!(held.contains("Content"), "{held}");
    assert!(!held.contains("Subscriber data"), "{held}");
    let mut check_missing: Vec<(&str, &str)> = check
        .iter()
        .map(|&(k, v)| {
            if k == "target_value" {
                (k, "nobody-here@example.org")
            } else {
                (k, v)
            }
        })
        .collect();
    let r = post_form(&t, &cookie, &check_missing, None).await;
    assert_eq!(
        foreseen(&r.text).replace("nobody-here@example.org", "alice@example.com"),
        held
    );
    // A field left empty is named next to it, and nothing is sent.
    check_missing.retain(|(k, _)| *k != "legal_basis" && *k != "action");
    check_missing.push(("action", "submit"));
    let r = post_form(&t, &cookie, &check_missing, None).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("id=\"error-legal_basis\""), "{}", r.text);
    assert_eq!(t.app.gateway().store().case_count().await.unwrap(), 0);

    // A document that is neither a PDF nor an image is refused.
    let mut submit: Vec<(&str, &str)> = fields
        .iter()
        .map(|&(k, v)| match (k, v) {
            ("instrument", _) => (k, "search_warrant"),
            ("issuer_kind", _) => (k, "judge"),
            ("legal_basis", _) => (k, "18 U.S.C. § 2703(a); Fed. R. Crim. P. 41"),
            _ => (k, v),
        })
        .collect();
    submit.extend([("issuer_name", "Hon. J. Doe"), ("action", "submit")]);
    let r = post_form(
        &t,
        &cookie,
        &submit,
        Some(("warrant.exe", "application/pdf", b"MZ\x90\x00")),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("must be a PDF or an image"), "{}", r.text);
    assert_eq!(t.app.gateway().store().case_count().await.unwrap(), 0);

    // The warrant with its PDF: a case, the document announced and kept.
    let pdf = b"%PDF-1.4\n% a signed warrant\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
    let r = post_form(
        &t,
        &cookie,
        &submit,
        Some(("C:\\scans\\warrant.pdf", "application/pdf", pdf)),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let location = r.headers["location"].to_str().unwrap().to_owned();
    let case = location
        .strip_prefix("/portal/cases/")
        .and_then(|l| l.strip_suffix("?submitted=1"))
        .unwrap()
        .to_owned();
    let stored = t
        .app
        .gateway()
        .store()
        .load_case(&case)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.order.reference.as_str(), "FORM-1");
    assert_eq!(stored.order.issued_by.name.as_deref(), Some("Hon. J. Doe"));
    let a = &stored.order.attachments[0];
    assert_eq!(a.name, "warrant.pdf");
    assert_eq!(a.media_type, "application/pdf");
    assert_eq!(a.size, pdf.len() as u64);
    assert_eq!(a.sha256, writ_gateway::canonical::sha256_hex(pdf));
    let page = t
        .raw("GET", &location, &headers(Some(&cookie)), vec![])
        .await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Order received"), "{}", page.text);
    assert!(
        page.text.contains("warrant.pdf") && page.text.contains("received"),
        "{}",
        page.text
    );
    // The draft is gone.
    let fresh = t
        .raw("GET", "/portal/orders/new", &headers(Some(&cookie)), vec![])
        .await;
    assert!(!fresh.text.contains("is restored"));
    // The reviewer downloads the very bytes.
    let rita = sign_in(&t, "rita").await;
    let r = t
        .raw(
            "GET",
            &format!("/console/cases/{case}/attachments/warrant.pdf"),
            &headers(Some(&rita.cookie)),
            vec![],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.bytes, pdf);

    // The same reference with other content is a conflict shown at the
    // reference; nothing new is stored.
    let other: Vec<(&str, &str)> = submit
        .iter()
        .map(|&(k, v)| {
            if k == "target_value" {
                (k, "bob@example.com")
            } else {
                (k, v)
            }
        })
        .collect();
    let r = post_form(&t, &cookie, &other, None).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.text.contains("id=\"error-reference\""), "{}", r.text);
    assert_eq!(t.app.gateway().store().case_count().await.unwrap(), 1);

    // A correction names the earlier reference; a reference the agency
    // never used, or an enforcing authority on a warrant, is named next to
    // its field and nothing is stored.
    let correction = |corrects: &'static str| -> Vec<(&str, &str)> {
        other
            .iter()
            .map(|&(k, v)| {
                if k == "reference" {
                    (k, "FORM-2")
                } else {
                    (k, v)
                }
            })
            .chain([("corrects", corrects)])
            .collect()
    };
    let r = post_form(&t, &cookie, &correction("FORM-9"), None).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.text.contains("id=\"error-corrects\""), "{}", r.text);
    let mut half = correction("FORM-1");
    half.push(("ea_name", "Department of Justice"));
    let r = post_form(&t, &cookie, &half, None).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("id=\"error-enforcing\""), "{}", r.text);
    half.push(("ea_country", "IE"));
    let r = post_form(&t, &cookie, &half, None).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(
        r.text.contains("only on `epoc` and `epoc_pr`"),
        "{}",
        r.text
    );
    assert_eq!(t.app.gateway().store().case_count().await.unwrap(), 1);
    let r = post_form(&t, &cookie, &correction("FORM-1"), None).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let location = r.headers["location"].to_str().unwrap().to_owned();
    let page = t
        .raw("GET", &location, &headers(Some(&cookie)), vec![])
        .await;
    assert!(page.text.contains("Corrects"), "{}", page.text);
    assert!(page.text.contains(&case), "{}", page.text);
    let old = t
        .raw(
            "GET",
            &format!("/portal/cases/{case}"),
            &headers(Some(&cookie)),
            vec![],
        )
        .await;
    assert!(old.text.contains("Corrected by"), "{}", old.text);
}

#[tokio::test]
async fn staff_record_a_mailed_subpoena_and_another_person_verifies_its_channel() {
    let t = TestApp::start().await;
    let rita = sign_in(&t, "rita").await;
    let page = t
        .raw(
            "GET",
            "/console/orders/new",
            &headers(Some(&rita.cookie)),
            vec![],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("Record a received order"));
    assert!(
        page.text.contains("value=\"us-fbi-wfo\""),
        "the registry's agencies"
    );
    let post = |fields: Vec<(&str, &str)>, file: Option<(&str, &str, &[u8])>| {
        let (content_type, body) = multipart(&fields, file);
        let cookie = rita.cookie.clone();
        let t = &t;
        async move {
            t.raw(
                "POST",
                "/console/orders/new",
                &[
                    ("content-type".to_owned(), content_type),
                    ("cookie".to_owned(), cookie),
                ],
                body,
            )
            .await
        }
    };
    let issued = Timestamp::now().plus_days(-1).date_string();
    let fields = vec![
        ("csrf", rita.csrf.as_str()),
        ("reference", "MAIL-1"),
        ("instrument", "subpoena"),
        ("legal_basis", "18 U.S.C. § 2703(c)(2)"),
        ("issuer_kind", "grand_jury"),
        ("issued_at", issued.as_str()),
        ("target_kind", "email"),
        ("target_value", "alice@example.com"),
        ("category", "subscriber"),
    ];
    // Without the agency and the channel nothing is recorded.
    let before = t.state().await;
    let mut f = fields.clone();
    f.push(("action", "submit"));
    let r = post(f, None).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(
        r.text.contains("choose the agency that sent the order"),
        "{}",
        r.text
    );
    assert!(r.text.contains("say how the order arrived"), "{}", r.text);
    assert_eq!(t.state().await.0, before.0);

    let pdf = b"%PDF-1.4\n% a mailed subpoena\n";
    let mut f = fields.clone();
    f.extend([
        ("agency", "us-fbi-wfo"),
        ("channel", "post"),
        ("action", "submit"),
    ]);
    let r = post(f, Some(("subpoena.pdf", "application/pdf", pdf))).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let location = r.headers["location"].to_str().unwrap().to_owned();
    assert!(location.ends_with("?done=record"), "{location}");
    let case = location
        .trim_start_matches("/console/cases/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    t.state().await;
    let store = t.app.gateway().store();
    let stored = store.load_case(&case).await.unwrap().unwrap();
    assert_eq!(stored.signer, "us-fbi-wfo");
    let tr = stored
        .order
        .transcription
        .as_ref()
        .expect("a transcription");
    assert_eq!(
        (tr.channel.as_str(), tr.transcribed_by.as_str()),
        ("post", "rita")
    );
    assert!(stored.decision.awaits_channel());
    assert_eq!(
        stored.order.attachments.len(),
        1,
        "the document is attached"
    );
    assert_eq!(
        store.package(&case).await.unwrap(),
        None,
        "nothing released"
    );

    // The transcriber is told another person verifies; no approval is offered.
    let mine = t
        .raw("GET", &location, &headers(Some(&rita.cookie)), vec![])
        .await;
    assert!(
        mine.text.contains("Recorded: order recorded"),
        "{}",
        mine.text
    );
    assert!(
        mine.text.contains("You transcribed this order"),
        "{}",
        mine.text
    );
    assert!(!mine.text.contains("Propose approval"));
    let r = act(&t, &rita, &case, "channel", &[("verified", "true")]).await;
    assert_eq!(r.status, 403, "{}", r.text);

    let alex = sign_in(&t, "alex").await;
    let theirs = t
        .raw(
            "GET",
            &format!("/console/cases/{case}"),
            &headers(Some(&alex.cookie)),
            vec![],
        )
        .await;
    assert!(
        theirs.text.contains("Record the channel callback"),
        "{}",
        theirs.text
    );
    let r = act(&t, &alex, &case, "channel", &[("verified", "true")]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    t.state().await;
    assert!(
        store.package(&case).await.unwrap().is_some(),
        "released once verified"
    );
    let after = t
        .raw(
            "GET",
            &format!("/console/cases/{case}"),
            &headers(Some(&alex.cookie)),
            vec![],
        )
        .await;
    assert!(
        after.text.contains("channel verified by alex"),
        "{}",
        after.text
    );
    // The agency sees its case in the portal like any other.
    let r = portal_sign_in(&t, "us-fbi-wfo", &t.key("us-fbi-wfo")).await;
    let cookie = set_cookie(&r, "writ_portal");
    let portal = t
        .raw("GET", "/portal", &headers(Some(&cookie)), vec![])
        .await;
    assert!(portal.text.contains(&case), "{}", portal.text);
}

#[tokio::test]
async fn a_reviewer_asks_in_the_console_and_the_officer_answers_in_the_portal() {
    let t = TestApp::start().await;
    let case = new_warrant(&t, "PAGES-Q1").await;
    let rita = sign_in(&t, "rita").await;
    let r = act(
        &t,
        &rita,
        &case,
        "query",
        &[
            ("message", "Which court issued the warrant?"),
            ("field", "issued_by"),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    // A search warrant's deadline does not stop.
    let r = act(
        &t,
        &rita,
        &case,
        "query",
        &[("message", "x"), ("incomplete", "on")],
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.text);
    let page = t
        .raw(
            "GET",
            &format!("/console/cases/{case}"),
            &headers(Some(&rita.cookie)),
            vec![],
        )
        .await;
    assert!(
        page.text.contains("Which court issued the warrant?"),
        "{}",
        page.text
    );
    assert!(page.text.contains("Waiting for the agency's answer."));

    let r = portal_sign_in(&t, "us-fbi-wfo", &t.key("us-fbi-wfo")).await;
    let cookie = set_cookie(&r, "writ_portal");
    let portal = t
        .raw(
            "GET",
            &format!("/portal/cases/{case}"),
            &headers(Some(&cookie)),
            vec![],
        )
        .await;
    assert!(portal.text.contains("The provider asks"), "{}", portal.text);
    assert!(portal.text.contains("Send the answer"));
    assert!(
        !portal.text.contains("rita"),
        "staff names stay with the provider"
    );
    let token = csrf(&portal.text);
    let r = t
        .raw(
            "POST",
            &format!("/portal/cases/{case}/clarification"),
            &headers(Some(&cookie)),
            form(&[
                ("csrf", &token),
                ("message", "The US District Court for D.C."),
            ]),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = t
        .raw(
            "GET",
            &format!("/console/cases/{case}"),
            &headers(Some(&rita.cookie)),
            vec![],
        )
        .await;
    assert!(
        page.text.contains("Answered by the agency"),
        "{}",
        page.text
    );
    assert!(page.text.contains("The US District Court for D.C."));
    assert!(!page.text.contains("Waiting for the agency's answer."));
}
