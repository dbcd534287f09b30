//! The legal-process mailbox against a real IMAP server: a throwaway
//! Dovecot (Debian's `dovecot-imapd`) on a free loopback port, messages put
//! in over IMAP, the server started with `--imap` reading them into drafts,
//! one transcribed through the console's pages into a case, one dismissed,
//! and the poller restarted without keeping anything twice.
//!
//! Without `dovecot` the test says why and passes, unless `WRIT_CI=1`.

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sha2::Digest as _;
use writ_model::Timestamp;
use writ_server::app::ImapSpec;

use crate::pages::{csrf, form, headers, multipart, sign_in};
use crate::support::TestApp;

const WARRANT: &[u8] = include_bytes!("../../../writ-gateway/tests/mail/warrant-pdf.eml");
const PLAIN: &[u8] = include_bytes!("../../../writ-gateway/tests/mail/plain-no-message-id.eml");
const SCAN: &[u8] = include_bytes!("../../../writ-gateway/tests/mail/html-with-scan.eml");
const PDF: &[u8] = include_bytes!("../../../writ-gateway/tests/mail/warrant-2026-114.pdf");

const USER: &str = "legal";
const PASSWORD: &str = "s3cret pass";

/// A Dovecot of the test's own: its configuration, sockets, state, log and
/// mail in a temporary folder; stopped when dropped.
struct Dovecot {
    dir: tempfile::TempDir,
    child: Child,
    port: u16,
}

fn dovecot_binary() -> Option<PathBuf> {
    let mut places: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("dovecot"))
                .collect()
        })
        .unwrap_or_default();
    places.push("/usr/sbin/dovecot".into());
    places.into_iter().find(|p| p.is_file())
}

/// The account of `uid` in /etc/passwd: (name, uid, gid).
fn account(pred: impl Fn(&str, u32) -> bool) -> Option<(String, u32, u32)> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        let (uid, gid) = (f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?);
        pred(f[0], uid).then(|| (f[0].to_owned(), uid, gid))
    })
}

impl Dovecot {
    /// `None` (and why, on standard error) when Dovecot is not installed;
    /// under `WRIT_CI=1` that fails the test instead.
    fn start() -> Option<Dovecot> {
        let Some(binary) = dovecot_binary() else {
            let why = "dovecot is not installed (Debian: apt-get install -y dovecot-imapd)";
            assert!(
                std::env::var("WRIT_CI").as_deref() != Ok("1"),
                "WRIT_CI=1: {why}"
            );
            eprintln!("skipped the mailbox test against Dovecot: {why}");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // Dovecot's processes that are not root must reach the folder.
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        let me = std::fs::metadata(d).unwrap().uid();
        // Root runs Dovecot's own way: logins and internal processes as the
        // package's users (it refuses root there), and the mail as
        // `dovecot`, since it refuses UID 0 for mail too. Anyone else runs
        // all of it as themselves.
        let (internal, login, mail) = if me == 0 {
            let dovecot = account(|n, _| n == "dovecot").expect("the dovecot user");
            ("dovecot".to_owned(), "dovenull".to_owned(), dovecot)
        } else {
            let mine = account(|_, uid| uid == me).expect("the running user in /etc/passwd");
            (mine.0.clone(), mine.0.clone(), mine)
        };
        let home = d.join("mail");
        std::fs::create_dir_all(&home).unwrap();
        if me == 0 {
            std::os::unix::fs::chown(&home, Some(mail.1), Some(mail.2)).unwrap();
        }
        std::fs::write(
            d.join("users"),
            format!(
                "{USER}:{{PLAIN}}{PASSWORD}:{}:{}::{}::\n",
                mail.1,
                mail.2,
                home.display()
            ),
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let conf = format!(
            r#"protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
ssl = no
auth_mechanisms = plain
disable_plaintext_auth = no
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{d}/mail/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {d}/users
}}
userdb {{
  driver = passwd-file
  args = {d}/users
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"#,
            d = d.display(),
            uid = mail.1,
            gid = mail.2,
        );
        std::fs::write(d.join("dovecot.conf"), conf).unwrap();
        let child = Command::new(binary)
            .arg("-F")
            .arg("-c")
            .arg(d.join("dovecot.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Some(Dovecot { dir, child, port })
    }

    fn url(&self) -> String {
        format!("imap://{USER}:s3cret%20pass@127.0.0.1:{}/INBOX", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    /// Logs in, retrying while Dovecot starts.
    async fn session(&self) -> async_imap::Session<tokio::net::TcpStream> {
        for _ in 0..100 {
            if let Ok(tcp) = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await {
                let mut client = async_imap::Client::new(tcp);
                if let Ok(Some(_)) = client.read_response().await {
                    match client.login(USER, PASSWORD).await {
                        Ok(s) => return s,
                        Err((e, _)) => panic!("login: {e}\n{}", self.log()),
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("dovecot did not answer\n{}", self.log());
    }

    /// Puts a message into the INBOX, as a delivery would.
    async fn append(&self, raw: &[u8]) {
        let mut s = self.session().await;
        if let Err(e) = s.append("INBOX", None, None, raw).await {
            panic!("APPEND: {e:?}\n{}", self.log());
        }
        s.logout().await.unwrap();
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

async fn mail(t: &TestApp) -> Vec<writ_store::MailRow> {
    t.app.gateway().store().mail_list(100).await.unwrap()
}

/// Waits until the store holds `n` messages.
async fn wait_for(t: &TestApp, d: &Dovecot, n: usize) -> Vec<writ_store::MailRow> {
    let rows = wait_until(t, n, Duration::from_secs(30)).await;
    if rows.len() >= n {
        return rows;
    }
    panic!(
        "expected {n} messages, have {:?}\n{}",
        mail(t).await,
        d.log()
    );
}

/// The store's messages once it holds `n`, or after `limit` as they are.
async fn wait_until(t: &TestApp, n: usize, limit: Duration) -> Vec<writ_store::MailRow> {
    let start = std::time::Instant::now();
    loop {
        let rows = mail(t).await;
        if rows.len() >= n || start.elapsed() >= limit {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn with_mailbox(d: &Dovecot) -> impl FnOnce(&mut writ_server::app::AppOptions) {
    let spec = ImapSpec::parse(&d.url(), None).unwrap();
    move |o: &mut writ_server::app::AppOptions| {
        o.imap = Some(spec);
        o.imap_interval = Duration::from_millis(200);
    }
}

#[tokio::test]
async fn mail_becomes_drafts_that_staff_transcribe_or_dismiss() {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    dovecot.append(WARRANT).await;
    dovecot.append(PLAIN).await;
    let database = crate::support::test_database().await;
    let db = database.clone();
    let adjust = with_mailbox(&dovecot);
    let t = TestApp::start_in(tempfile::tempdir().unwrap(), move |o| {
        adjust(o);
        o.database = db;
    })
    .await;
    let rows = wait_for(&t, &dovecot, 2).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    let warrant = rows
        .iter()
        .find(|r| r.subject == "Search warrant 2026-114")
        .unwrap()
        .clone();
    let plain = rows
        .iter()
        .find(|r| r.subject == "Réquisition urgente")
        .unwrap()
        .clone();
    assert_eq!(warrant.sender, "Clerk of Court <clerk@court.example>");
    assert_eq!(
        warrant.message_id.as_deref(),
        Some("warrant-2026-114@court.example")
    );
    assert_eq!(warrant.sent_at, Some(1_796_308_200));
    assert_eq!((warrant.uid, plain.uid), (1, 2));
    assert_eq!(warrant.state, "new");
    assert!(
        warrant.body.contains("signed search warrant"),
        "{}",
        warrant.body
    );
    assert_eq!(plain.message_id, None);
    assert!(plain.body.contains("Veuillez trouver"), "{}", plain.body);
    let attachments: Vec<serde_json::Value> = serde_json::from_str(&warrant.attachments).unwrap();
    assert_eq!(attachments.len(), 2, "{attachments:?}");
    let pdf_hash = sha256(PDF);
    assert_eq!(attachments[0]["name"], "warrant 2026-114.pdf");
    assert_eq!(attachments[0]["media_type"], "application/pdf");
    assert_eq!(attachments[0]["sha256"], pdf_hash.as_str());
    assert_eq!(attachments[0]["size"], PDF.len());
    assert_eq!(attachments[0]["document"], true);
    assert_eq!(attachments[1]["name"], "cover-letter.docx");
    assert_eq!(attachments[1]["document"], false);

    // The pages: the list, a message, an attachment's download; not for admins.
    let rita = sign_in(&t, "rita").await;
    let get = |path: String, cookie: String| {
        let t = &t;
        async move { t.raw("GET", &path, &headers(Some(&cookie)), vec![]).await }
    };
    let list = get("/console/mailbox".into(), rita.cookie.clone()).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert!(
        list.text.contains("Search warrant 2026-114"),
        "{}",
        list.text
    );
    assert!(list.text.contains("Réquisition urgente"), "{}", list.text);
    assert!(list.text.contains("warrant 2026-114.pdf"), "{}", list.text);
    let message = format!("/console/mailbox/{}", warrant.id);
    let page = get(message.clone(), rita.cookie.clone()).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("signed search warrant"), "{}", page.text);
    assert!(page.text.contains(&pdf_hash), "{}", page.text);
    let download = get(
        format!("{message}/attachments/{pdf_hash}"),
        rita.cookie.clone(),
    )
    .await;
    assert_eq!(download.status, 200, "{}", download.text);
    assert_eq!(download.bytes, PDF);
    assert_eq!(download.headers["content-type"], "application/octet-stream");
    let adam = sign_in(&t, "adam").await;
    let refused = get("/console/mailbox".into(), adam.cookie.clone()).await;
    assert_eq!(refused.status, 403, "{}", refused.text);

    // Transcribe: the record form opens with the channel, the document and
    // the message; recording the order marks the message transcribed.
    let r = t
        .raw(
            "POST",
            &format!("{message}/transcribe"),
            &headers(Some(&rita.cookie)),
            form(&[("csrf", &rita.csrf), ("attachment", &pdf_hash)]),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.headers["location"], "/console/orders/new");
    let record = get("/console/orders/new".into(), rita.cookie.clone()).await;
    assert_eq!(record.status, 200, "{}", record.text);
    assert!(
        record
            .text
            .contains(&format!("name=\"mailbox\" value=\"{}\"", warrant.id)),
        "{}",
        record.text
    );
    assert!(
        record.text.contains("<option value=\"email\" selected"),
        "{}",
        record.text
    );
    assert!(
        record.text.contains("warrant 2026-114.pdf"),
        "{}",
        record.text
    );
    let issued = Timestamp::now().plus_days(-1).date_string();
    let (content_type, body) = multipart(
        &[
            ("csrf", &csrf(&record.text)),
            ("agency", "us-fbi-wfo"),
            ("channel", "email"),
            ("mailbox", &warrant.id),
            ("reference", "MAILBOX-1"),
            ("instrument", "subpoena"),
            ("legal_basis", "18 U.S.C. § 2703(c)(2)"),
            ("issuer_kind", "grand_jury"),
            ("issued_at", &issued),
            ("target_kind", "email"),
            ("target_value", "alice@example.com"),
            ("category", "subscriber"),
            ("document_keep", "on"),
            ("action", "submit"),
        ],
        None,
    );
    let r = t
        .raw(
            "POST",
            "/console/orders/new",
            &[
                ("content-type".to_owned(), content_type),
                ("cookie".to_owned(), rita.cookie.clone()),
            ],
            body,
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let location = r.headers["location"].to_str().unwrap().to_owned();
    let case = location
        .trim_start_matches("/console/cases/")
        .split('?')
        .next()
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
    let tr = stored.order.transcription.as_ref().unwrap();
    assert_eq!(
        (tr.channel.as_str(), tr.transcribed_by.as_str()),
        ("email", "rita")
    );
    assert!(stored.decision.awaits_channel());
    assert_eq!(stored.order.attachments.len(), 1);
    assert_eq!(stored.order.attachments[0].sha256, pdf_hash);
    let rita_user = writ_gateway::auth::User {
        name: "rita".into(),
        role: writ_gateway::auth::Role::Reviewer,
    };
    let (_, bytes) = t
        .app
        .gateway()
        .attachment_for_review(&rita_user, &case, "warrant 2026-114.pdf")
        .await
        .unwrap();
    assert_eq!(bytes, PDF);
    let kept = t
        .app
        .gateway()
        .store()
        .mail(&warrant.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.state, "transcribed");
    assert_eq!(kept.case_id.as_deref(), Some(case.as_str()));
    assert_eq!(kept.actor.as_deref(), Some("rita"));
    let page = get(message.clone(), rita.cookie.clone()).await;
    assert!(page.text.contains("transcribed by rita"), "{}", page.text);
    assert!(page.text.contains(&case), "{}", page.text);
    assert!(!page.text.contains("/transcribe\""), "{}", page.text);

    // Dismiss, once.
    let dismiss = format!("/console/mailbox/{}/dismiss", plain.id);
    let r = t
        .raw(
            "POST",
            &dismiss,
            &headers(Some(&rita.cookie)),
            form(&[("csrf", &rita.csrf)]),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = t
        .raw(
            "POST",
            &dismiss,
            &headers(Some(&rita.cookie)),
            form(&[("csrf", &rita.csrf)]),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    // Without the form's token nothing changes.
    let r = t
        .raw(
            "POST",
            &format!("{message}/dismiss"),
            &headers(Some(&rita.cookie)),
            form(&[("csrf", "forged")]),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let dismissed = t
        .app
        .gateway()
        .store()
        .mail(&plain.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (dismissed.state.as_str(), dismissed.actor.as_deref()),
        ("dismissed", Some("rita"))
    );

    // Restarted, the poller reads the mailbox again and keeps nothing twice;
    // a message that arrives later is picked up.
    let TestApp { app, dir, .. } = t;
    app.shutdown().await.unwrap();
    let db = database.clone();
    let adjust = with_mailbox(&dovecot);
    let t = TestApp::start_in(dir, move |o| {
        adjust(o);
        o.database = db;
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(mail(&t).await.len(), 2);
    dovecot.append(SCAN).await;
    let rows = wait_for(&t, &dovecot, 3).await;
    assert_eq!(rows.len(), 3, "{rows:?}");
    let scan = rows.iter().find(|r| r.subject == "Subpoena scan").unwrap();
    assert_eq!((scan.uid, scan.state.as_str()), (3, "new"));
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(mail(&t).await.len(), 3);
    let kept = t
        .app
        .gateway()
        .store()
        .mail(&warrant.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.state, "transcribed");

    // The mailbox rebuilt on the server (its indexes gone: a new
    // UIDVALIDITY): it is read again from the start. A message with a
    // Message-ID is recognised and its draft moves to the new address; one
    // without (the plain one) cannot be, and becomes a new draft.
    let maildir = dovecot.dir.path().join("mail/Maildir");
    let mut rows = Vec::new();
    // A session of the poller open while the indexes go can write them
    // back with the old UIDVALIDITY: the rebuild is repeated until a new
    // one is seen, as a real rebuild is never seen half done.
    for _ in 0..10 {
        for entry in std::fs::read_dir(&maildir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("dovecot") && path.is_file() {
                let _ = std::fs::remove_file(&path);
            }
        }
        rows = wait_until(&t, 4, Duration::from_secs(3)).await;
        if rows.len() >= 4 {
            break;
        }
    }
    if rows.len() < 4 {
        rows = wait_for(&t, &dovecot, 4).await;
    }
    assert_eq!(rows.len(), 4, "{rows:?}");
    let moved = t
        .app
        .gateway()
        .store()
        .mail(&warrant.id)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(moved.uidvalidity, warrant.uidvalidity);
    assert_eq!(
        (moved.state.as_str(), moved.case_id.as_deref()),
        ("transcribed", Some(case.as_str()))
    );
    let plains: Vec<_> = rows
        .iter()
        .filter(|r| r.subject == "Réquisition urgente")
        .collect();
    assert_eq!(plains.len(), 2, "{rows:?}");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(mail(&t).await.len(), 4);
}

#[test]
fn mailbox_urls() {
    let s = ImapSpec::parse("imap://legal:p%40ss@127.0.0.1:1143/Legal%20Process", None).unwrap();
    assert_eq!(
        (
            s.tls,
            s.host.as_str(),
            s.port,
            s.user.as_str(),
            s.password.as_str(),
            s.mailbox.as_str()
        ),
        (false, "127.0.0.1", 1143, "legal", "p@ss", "Legal Process")
    );
    // The password is never shown.
    assert!(!format!("{s} {s:?}").contains("p@ss"));
    let s = ImapSpec::parse("imaps://legal@mail.example/", Some("from-file".into())).unwrap();
    assert_eq!(
        (s.tls, s.port, s.password.as_str(), s.mailbox.as_str()),
        (true, 993, "from-file", "INBOX")
    );
    for bad in ["pop3://a:b@h/", "imap://h/", "imap://a@h/", "not a url"] {
        assert!(ImapSpec::parse(bad, None).is_err(), "{bad}");
    }
}

/// Every mailbox route, from the route table: an admin is refused (as on
/// "Record a received order"), a reviewer gets a page or 404 for an unknown
/// message, and nothing changes. Needs no IMAP server.
#[tokio::test]
async fn mailbox_pages_are_for_reviewers_and_approvers() {
    let t = TestApp::start().await;
    let adam = sign_in(&t, "adam").await;
    let rita = sign_in(&t, "rita").await;
    let before = t.state().await;
    let mut checked = 0;
    for (method, pattern, auth) in &writ_server::routes() {
        if !pattern.starts_with("/console/mailbox") {
            continue;
        }
        assert_eq!(*auth, writ_server::Auth::Console, "{pattern}");
        let path = pattern
            .replace("{id}", "m0000")
            .replace("{action}", "dismiss")
            .replace("{sha256}", &"0".repeat(64));
        for (who, expected) in [
            (&adam, 403),
            (&rita, if path == "/console/mailbox" { 200 } else { 404 }),
        ] {
            let r = t
                .raw(
                    method,
                    &path,
                    &headers(Some(&who.cookie)),
                    form(&[("csrf", &who.csrf)]),
                )
                .await;
            assert_eq!(r.status, expected, "{method} {path}: {}", r.text);
        }
        checked += 1;
    }
    assert_eq!(checked, 4);
    assert_eq!(t.state().await, before);
    assert!(mail(&t).await.is_empty());
}
