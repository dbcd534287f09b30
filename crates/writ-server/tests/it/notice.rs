//! User notices from a running application: e-mail through a real SMTP
//! server, a signed webhook to a real HTTP receiver, receipts that verify
//! against the log, and a secrecy order that lapses while the server is down.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use writ_gateway::notice::{Receipt, SmtpConfig, WebhookConfig, webhook_signature};
use writ_model::Timestamp;
use writ_tlog::note::NoteVerifier;
use writ_tlog::verify::{DirFetch, proven_entries};

use crate::support::{TestApp, subpoena};

/// A real SMTP server: Python's aiosmtpd, writing what it receives to an
/// mbox file.
struct Smtp {
    child: Child,
    port: u16,
    /// A Maildir.
    mbox: std::path::PathBuf,
}

impl Smtp {
    /// Every message received so far.
    fn messages(&self) -> Vec<String> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(dir) = std::fs::read_dir(self.mbox.join(sub)) {
                for e in dir {
                    out.push(std::fs::read_to_string(e.unwrap().path()).unwrap());
                }
            }
        }
        out
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Debian's Python, where `.ci/notice-deps.sh` installs aiosmtpd.
fn python() -> &'static str {
    if std::path::Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

fn smtp(dir: &std::path::Path) -> Option<Smtp> {
    let ci = std::env::var_os("WRIT_CI").is_some();
    let present = Command::new(python())
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|s| s.success());
    if !present {
        assert!(!ci, "WRIT_CI is set but python3-aiosmtpd is not installed");
        eprintln!("SKIPPED: python3-aiosmtpd is not installed");
        return None;
    }
    let port = free_port();
    let mbox = dir.join("mbox");
    let child = Command::new(python())
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(&mbox)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the SMTP server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(Smtp { child, port, mbox })
}

/// Each request a receiver got: its headers and body.
type Received = Arc<Mutex<Vec<(Vec<(String, String)>, Vec<u8>)>>>;

/// A real HTTP receiver: keeps each request's headers and body, answers 204.
fn webhook_receiver() -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let keep = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = Vec::new();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                let l = line.trim_end();
                if l.is_empty() {
                    break;
                }
                let (k, v) = l.split_once(':').unwrap();
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
            let len: usize = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .map_or(0, |(_, v)| v.parse().unwrap());
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            keep.lock().unwrap().push((headers, body));
            stream
                .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
                .unwrap();
        }
    });
    (url, got)
}

async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn check_receipt(t: &TestApp, receipt: &Receipt) {
    let vkey = NoteVerifier::parse(&t.app.log.vkey().to_string()).unwrap();
    let fetch = DirFetch(t.data().join("objects/log"));
    let indexes: Vec<u64> = receipt.entries.iter().map(|e| e.index).collect();
    let (_, entries) = proven_entries(&fetch, &vkey, &indexes).unwrap();
    for (claimed, proven) in receipt.entries.iter().zip(&entries) {
        let entry: Value = serde_json::from_slice(&proven.entry).unwrap();
        assert_eq!(entry["case"], receipt.case.as_str());
        assert_eq!(entry["kind"], claimed.kind.as_str());
        for o in &claimed.openings {
            let c = o.opening().commitment();
            assert_eq!(entry["commitments"][o.commitment], c.to_string());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disclosure_notifies_the_user_by_email_and_signed_webhook() {
    let dir = tempfile::tempdir().unwrap();
    let Some(smtp) = smtp(dir.path()) else { return };
    let (hook_url, hooks) = webhook_receiver();
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let port = smtp.port;
    let t = TestApp::start_in(dir, |o| {
        o.notice.smtp = SmtpConfig::parse(&format!("smtp://127.0.0.1:{port}"), "notices@writ.test");
        o.notice.webhook = WebhookConfig::new(&hook_url, secret);
    })
    .await;
    let r = t
        .submit(
            "us-fbi-wfo",
            &subpoena("us-fbi-wfo", "N-1", "alice@example.com"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let case = r.json()["case"].as_str().unwrap().to_owned();
    wait_for("the notice", async || {
        t.event_kinds(&case).await.contains(&"notified".to_owned())
    })
    .await;

    // E-mail: one message to the account's address, receipt attached.
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let mbox = &messages[0];
    assert!(mbox.contains("To: alice@example.com"), "{mbox}");
    assert!(mbox.contains("FBI Washington Field Office"), "{mbox}");
    assert!(mbox.contains("filename=\"receipt.json\""), "{mbox}");

    // Webhook: signed over id, timestamp and body with the shared secret.
    let hooks = hooks.lock().unwrap().clone();
    assert_eq!(hooks.len(), 1);
    let (headers, body) = &hooks[0];
    let h = |k: &str| headers.iter().find(|(n, _)| n == k).unwrap().1.clone();
    let ts: i64 = h("webhook-timestamp").parse().unwrap();
    let secret_bytes = WebhookConfig::new("x", secret).unwrap().secret;
    assert_eq!(
        h("webhook-signature"),
        webhook_signature(&secret_bytes, &h("webhook-id"), ts, body).unwrap()
    );
    let forged = webhook_signature(b"another secret", &h("webhook-id"), ts, body).unwrap();
    assert_ne!(h("webhook-signature"), forged);
    let payload: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(payload["type"], "writ.notice");
    assert_eq!(payload["data"]["email"], "alice@example.com");
    let receipt: Receipt = serde_json::from_value(payload["data"]["receipt"].clone()).unwrap();
    assert_eq!(receipt.case, case);
    let receipt_kinds: Vec<&str> = receipt.entries.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(receipt_kinds, ["received", "decided", "disclosed"]);
    assert!(receipt.entries.iter().all(|e| e.openings.len() == 1));
    // The receipt opens commitments that are in the signed log.
    wait_for("a checkpoint", async || {
        let last = receipt.entries.iter().map(|e| e.index).max().unwrap();
        t.app.log.wait_published(last).await.is_ok()
    })
    .await;
    check_receipt(&t, &receipt);
    // A tampered receipt does not open the commitment.
    let mut tampered = receipt.clone();
    tampered.entries[2].openings[0].details["target"] = json!("email:mallory@example.com");
    let c = tampered.entries[2].openings[0].opening().commitment();
    let vkey = NoteVerifier::parse(&t.app.log.vkey().to_string()).unwrap();
    let (_, entries) = proven_entries(
        &DirFetch(t.data().join("objects/log")),
        &vkey,
        &[tampered.entries[2].index],
    )
    .unwrap();
    let entry: Value = serde_json::from_slice(&entries[0].entry).unwrap();
    assert_ne!(entry["commitments"][1], c.to_string());

    // Exactly once, whatever further passes run.
    for _ in 0..3 {
        t.app.gateway().deliver_once().await.unwrap();
    }
    let n = t
        .event_kinds(&case)
        .await
        .iter()
        .filter(|k| *k == "notified")
        .count();
    assert_eq!(n, 1);
    assert_eq!(smtp.messages().len(), 1);
}

/// A court order with a secrecy order that lapses a few seconds after it
/// arrives.
fn gagged(reference: &str, until: Timestamp) -> Value {
    let mut o = subpoena("us-fbi-wfo", reference, "alice@example.com");
    o["instrument"] = json!("court_order");
    o["legal_basis"] = json!("18 U.S.C. § 2703(d)");
    o["issued_by"] = json!({"kind": "judge"});
    o["categories"] = json!(["subscriber", "traffic"]);
    o["non_disclosure"] =
        json!({"issued_by": {"kind": "judge"}, "basis": "18 U.S.C. § 2705(b)", "until": until});
    o
}

fn outbox_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir.join("demo/outbox"))
        .map(|d| {
            d.filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".eml"))
            })
            .count()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secrecy_order_that_lapses_while_the_server_is_down_is_noticed_once() {
    let t = TestApp::start_in(tempfile::tempdir().unwrap(), |_| {}).await;
    let until = Timestamp::now().plus_minutes(0).plus_hours(0);
    let until = Timestamp::from_second(until.as_second() + 4).unwrap();
    let r = t.submit("us-fbi-wfo", &gagged("N-2", until)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let v = r.json();
    assert_eq!(v["decision"]["notify"]["when"], "after", "{v}");
    let case = v["case"].as_str().unwrap().to_owned();
    // Disclosed at once, but the user is not told while the order binds.
    wait_for("the package", async || {
        t.event_kinds(&case).await.contains(&"disclosed".to_owned())
    })
    .await;
    assert_eq!(outbox_files(t.data()), 0);
    assert!(!t.event_kinds(&case).await.contains(&"notified".to_owned()));

    // The server stops; the secrecy order lapses meanwhile.
    let TestApp {
        app, dir, database, ..
    } = t;
    app.shutdown().await.unwrap();
    while Timestamp::now() <= until {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(outbox_files(dir.path()), 0);

    // After the restart (on the same stores) the notice goes out, once.
    let t = TestApp::start_in(dir, |o| o.database = database).await;
    wait_for("the notice after the restart", async || {
        t.event_kinds(&case).await.contains(&"notified".to_owned())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(outbox_files(t.data()), 1);
    let k = t.event_kinds(&case).await;
    assert_eq!(k.iter().filter(|k| *k == "notified").count(), 1, "{k:?}");
    // Every event of the case is in the log by then (the receipt needs it).
    let events = t
        .app
        .gateway()
        .store()
        .events_for_case(&case)
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .filter(|e| e.kind != "notified" && e.state != "released")
            .all(|e| e.log_index.is_some())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emergency_is_noticed_only_once_staff_record_that_it_is_over() {
    let t = TestApp::start_in(tempfile::tempdir().unwrap(), |_| {}).await;
    let order = json!({
        "reference": "N-E1",
        "agency": "us-fbi-wfo",
        "instrument": "emergency_request",
        "legal_basis": "18 U.S.C. § 2702(c)(4)",
        "issued_by": {"kind": "agency_official"},
        "issued_at": Timestamp::now(),
        "targets": [{"kind": "email", "value": "bob@example.com"}],
        "categories": ["subscriber", "location"],
        "emergency": {"threat": "death", "facts": "A caller threatened to kill a hostage."},
    });
    let answer = t.submit("us-fbi-wfo", &order).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    let case = answer.json()["case"].as_str().unwrap().to_owned();
    let path = |a: &str| format!("/v1/review/cases/{case}/{a}");
    let cb = t
        .as_user(
            "rita",
            "POST",
            &path("callback"),
            Some(json!({"number_source": "registry", "verified": true})),
        )
        .await;
    assert_eq!(cb.status, 200, "{}", cb.text);
    assert_eq!(cb.json()["decision"]["notify"]["when"], "withheld");
    // The package is ready at once; the agency sees the emergency clock.
    let pkg = format!("/v1/cases/{case}/package");
    wait_for("the package", async || {
        t.signed("us-fbi-wfo", "GET", &pkg, b"").await.status == 200
    })
    .await;
    let shown = t
        .signed("us-fbi-wfo", "GET", &format!("/v1/cases/{case}"), b"")
        .await;
    let clock = &shown.json()["emergency_clock"];
    assert!(clock["verified_at"].is_string(), "{clock}");
    assert!(clock["waited_seconds"].as_i64().unwrap() >= 0);
    // No notice while the emergency lasts.
    for _ in 0..3 {
        t.app.gateway().deliver_once().await.unwrap();
    }
    assert_eq!(outbox_files(t.data()), 0);
    let over = t
        .as_user("rita", "POST", &path("emergency-over"), None)
        .await;
    assert_eq!(over.status, 200, "{}", over.text);
    wait_for("the notice", async || {
        t.event_kinds(&case).await.contains(&"notified".to_owned())
    })
    .await;
    assert_eq!(outbox_files(t.data()), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_gag_is_flagged_for_challenge_and_a_court_extension_is_logged() {
    let t = TestApp::start_in(tempfile::tempdir().unwrap(), |_| {}).await;
    let mut o = gagged("N-3", Timestamp::now());
    o["non_disclosure"].as_object_mut().unwrap().remove("until");
    let r = t.submit("us-fbi-wfo", &o).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let case = r.json()["case"].as_str().unwrap().to_owned();
    let queue = t.as_user("rita", "GET", "/v1/review/queue", None).await;
    let item = queue.json()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["case"] == case.as_str())
        .cloned()
        .unwrap();
    assert_eq!(item["flags"], json!(["challenge_gag"]), "{item}");
    assert_eq!(item["decision"]["notify"]["when"], "withheld");

    // The court sets an end date: recorded, logged, notice scheduled.
    let until = Timestamp::now().plus_days(30);
    let s = t
        .as_user(
            "rita",
            "POST",
            &format!("/v1/review/cases/{case}/secrecy"),
            Some(json!({"until": until})),
        )
        .await;
    assert_eq!(s.status, 200, "{}", s.text);
    let d = &s.json()["decision"];
    assert_eq!(d["notify"], json!({"when": "after", "at": until}), "{d}");
    let codes: Vec<&str> = d["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(!codes.contains(&"indefinite_gag"), "{codes:?}");
    assert!(t.event_kinds(&case).await.contains(&"extended".to_owned()));
    let shown = t
        .as_user("rita", "GET", &format!("/v1/review/cases/{case}"), None)
        .await;
    assert!(!shown.text.contains("challenge_gag"), "{}", shown.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agency_is_told_by_email_and_signed_webhook_without_the_cases_contents() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = smtp(dir.path());
    let (hook_url, hooks) = webhook_receiver();
    let port = smtp.as_ref().map(|s| s.port);
    let t = TestApp::start_in(dir, |o| {
        o.server.webhook_allow_loopback = true;
        if let Some(port) = port {
            o.agency_notices.smtp =
                SmtpConfig::parse(&format!("smtp://127.0.0.1:{port}"), "notices@writ.test");
        }
    })
    .await;
    let gw = t.app.gateway();
    let adam = writ_gateway::auth::User {
        name: "adam".into(),
        role: writ_gateway::auth::Role::Admin,
    };
    let rita = writ_gateway::auth::User {
        name: "rita".into(),
        role: writ_gateway::auth::Role::Reviewer,
    };
    let settings = |email: &str, url: &str| writ_gateway::agency_notice::NotifySettings {
        email: email.into(),
        webhook_url: url.into(),
    };
    // Only an admin sets them; bad addresses are refused and change nothing.
    assert!(matches!(
        gw.set_agency_notify(
            &rita,
            "us-fbi-wfo",
            &settings("", &hook_url),
            true,
            Timestamp::now()
        )
        .await,
        Err(writ_gateway::GatewayError::Forbidden(_))
    ));
    for (email, url, allow, says) in [
        ("not an address", "", true, "is not an e-mail address"),
        ("", "ftp://example.org/", true, "https:// or http://"),
        ("", &hook_url, false, "not a public address"),
        ("", "http://10.0.0.7/hook", true, "not a public address"),
        (
            "",
            "http://169.254.169.254/latest/meta-data",
            true,
            "not a public address",
        ),
        (
            "",
            "http://[::ffff:127.0.0.1]:9/x",
            false,
            "not a public address",
        ),
    ] {
        let err = gw
            .set_agency_notify(
                &adam,
                "us-fbi-wfo",
                &settings(email, url),
                allow,
                Timestamp::now(),
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains(says), "{url}: {err}");
    }
    assert_eq!(gw.agency_notify("us-fbi-wfo").await.unwrap(), None);

    let contact = gw
        .set_agency_notify(
            &adam,
            "us-fbi-wfo",
            &settings("duty-officer@fbi-wfo.test", &hook_url),
            true,
            Timestamp::now(),
        )
        .await
        .unwrap();
    let secret = contact.webhook_secret.clone().expect("a secret is made");
    assert!(secret.starts_with("whsec_"), "{secret}");

    let r = t
        .submit(
            "us-fbi-wfo",
            &crate::support::warrant("us-fbi-wfo", "AN-1", "alice@example.com"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let case = r.json()["case"].as_str().unwrap().to_owned();
    // Decided, then the subscriber data's package is ready.
    wait_for("two webhooks", async || hooks.lock().unwrap().len() >= 2).await;
    t.state().await;
    let got = hooks.lock().unwrap().clone();
    let mut types = Vec::new();
    let secret_bytes = WebhookConfig::new("", &secret).unwrap().secret;
    for (headers, body) in &got {
        let h = |k: &str| {
            headers
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no {k}"))
        };
        let ts: i64 = h("webhook-timestamp").parse().unwrap();
        assert_eq!(
            h("webhook-signature"),
            webhook_signature(&secret_bytes, &h("webhook-id"), ts, body).unwrap()
        );
        let v: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(v["data"]["case"], case.as_str(), "{v}");
        assert!(
            v["data"]["url"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/portal/cases/{case}")),
            "{v}"
        );
        // Nothing of the case's contents.
        let text = String::from_utf8_lossy(body);
        for secret_word in ["alice", "AN-1", "subscriber", "acct-", "2703"] {
            assert!(!text.contains(secret_word), "{secret_word} in {text}");
        }
        types.push(v["type"].as_str().unwrap().to_owned());
    }
    types.sort();
    assert_eq!(types, ["case.decided", "package.ready"], "{got:?}");

    // The same by e-mail: the demo's agency outbox, and SMTP when present.
    let outbox = t.data().join("demo/agency-outbox");
    let mut mails: Vec<String> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    if let Some(smtp) = &smtp {
        wait_for("two e-mails", async || smtp.messages().len() >= 2).await;
        mails.extend(smtp.messages());
    }
    assert!(mails.len() >= 2, "{mails:?}");
    for m in &mails {
        assert!(m.contains("duty-officer@fbi-wfo.test"), "{m}");
        assert!(m.contains(&case), "{m}");
        assert!(!m.contains("alice") && !m.contains("AN-1"), "{m}");
    }

    // A question from the provider's staff is announced too, with the
    // question's number and without its words.
    gw.change(
        writ_gateway::Actor::Staff(&rita),
        &case,
        writ_gateway::Action::Query {
            message: "Which alice do you mean?".into(),
            fields: vec!["targets".into()],
            incomplete: false,
        },
    )
    .await
    .unwrap();
    wait_for("the question's webhook", async || {
        hooks.lock().unwrap().len() >= 3
    })
    .await;
    let (_, body) = hooks.lock().unwrap()[2].clone();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["type"], "case.clarification_requested", "{v}");
    assert_eq!(v["data"]["generation"], 1, "{v}");
    assert!(!String::from_utf8_lossy(&body).contains("alice"), "{v}");

    // Each is announced once, whatever the passes.
    for _ in 0..3 {
        gw.deliver_once().await.unwrap();
    }
    assert_eq!(hooks.lock().unwrap().len(), 3);
    let rows = gw.agency_notifications("us-fbi-wfo").await.unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows.iter().all(|n| n.state == "sent" && n.attempts == 1));

    // An order an officer submitted: the officer is told too, in the same
    // message as the agency's contact address.
    let dana = gw
        .store()
        .officers("us-fbi-wfo")
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.name == "Dana Reyes")
        .expect("the demo's officer");
    let body = serde_json::to_vec(&crate::support::warrant(
        "us-fbi-wfo",
        "AN-3",
        "alice@example.com",
    ))
    .unwrap();
    let by_officer = gw
        .submit(writ_gateway::Submission {
            submitter: "us-fbi-wfo",
            officer: Some(&dana),
            body: &body,
        })
        .await
        .unwrap()
        .case;
    let mail_of = |case: &str| {
        std::fs::read_dir(&outbox)
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .find(|m| m.contains(case) && m.contains("decided"))
    };
    wait_for("the officer's e-mail", async || {
        mail_of(&by_officer).is_some()
    })
    .await;
    let mail = mail_of(&by_officer).unwrap();
    let to = mail
        .lines()
        .find(|l| l.starts_with("To:"))
        .unwrap_or_default()
        .to_owned();
    assert!(
        to.contains("duty-officer@fbi-wfo.test") && to.contains("dana.reyes@fbi.example"),
        "{mail}"
    );
    wait_for("the officer's case's webhooks", async || {
        hooks.lock().unwrap().len() >= 5
    })
    .await;
    let settled = hooks.lock().unwrap().len();

    // A webhook pointed (behind the checks' back) at a private address is
    // refused when connecting; the attempt is recorded and retried later.
    let mut row = gw.agency_notify("us-fbi-wfo").await.unwrap().unwrap();
    row.webhook_url = Some("http://10.255.255.1:9/hook".into());
    row.email = None;
    gw.store().set_agency_notify(&row, "test").await.unwrap();
    let r = t
        .submit(
            "us-fbi-wfo",
            &crate::support::warrant("us-fbi-wfo", "AN-2", "alice@example.com"),
        )
        .await;
    let second = r.json()["case"].as_str().unwrap().to_owned();
    wait_for("a failed attempt", async || {
        gw.agency_notifications("us-fbi-wfo")
            .await
            .unwrap()
            .iter()
            .any(|n| n.case_id == second && n.attempts > 0)
    })
    .await;
    let failed: Vec<_> = gw
        .agency_notifications("us-fbi-wfo")
        .await
        .unwrap()
        .into_iter()
        .filter(|n| n.case_id == second)
        .collect();
    for n in &failed {
        assert_eq!(n.state, "pending", "{n:?}");
        assert!(n.next_attempt_at > Timestamp::now().as_second(), "{n:?}");
        let error = n.last_error.as_deref().unwrap_or_default();
        assert!(error.contains("not a public address"), "{error}");
    }
    assert_eq!(hooks.lock().unwrap().len(), settled);
}
