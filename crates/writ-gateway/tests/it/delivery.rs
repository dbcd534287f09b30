//! Delivery through the application core: holds in the demo mail service,
//! collection of exactly the released pairs, sealing, availability, expiry.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use writ_connect::demo::{DeleteError, DemoMail};
use writ_connect::{ConnectError, Connector, Record, RecordStream};
use writ_gateway::auth::Role;
use writ_gateway::delivery::{DeliveryConfig, PackageFile, Provider};
use writ_gateway::review::Proposal;
use writ_gateway::{GatewayError, canonical};
use writ_model::order::DateRange;
use writ_model::{Category, Timestamp};

use crate::{T, order, start, submit, user};

struct D {
    t: T,
    mail: DemoMail,
    objects: std::path::PathBuf,
}

async fn with_delivery(connector: Option<Arc<dyn Connector>>) -> D {
    let t = start().await;
    let dir = t._dir.path().to_owned();
    let mail = DemoMail::open(&dir.join("demo").join("mail"))
        .await
        .unwrap();
    let objects = dir.join("objects");
    let connector = connector.unwrap_or_else(|| Arc::new(mail.clone()));
    t.gw.enable_delivery(DeliveryConfig::in_folder(
        Provider {
            connector,
            holds: mail.holds().clone(),
        },
        &objects,
    ))
    .unwrap();
    D { t, mail, objects }
}

impl D {
    /// Where a package's object lies in the objects folder.
    fn package_path(&self, file: &PackageFile) -> std::path::PathBuf {
        self.objects.join("packages").join(&file.object)
    }

    fn package_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.objects.join("packages"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// A package's bytes as the gateway streams them.
async fn read_package(d: &D, file: &PackageFile) -> Vec<u8> {
    use futures_util::StreamExt as _;
    let mut reader = d.t.gw.open_package(file).await.unwrap();
    let mut out = Vec::new();
    while let Some(chunk) = reader.stream.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(out.len() as u64, reader.size);
    out
}

fn identity(dir: &Path, agency: &str) -> writ_seal::Identity {
    let text = std::fs::read_to_string(
        dir.join("demo")
            .join("agencies")
            .join(agency)
            .join("age-identity.txt"),
    )
    .unwrap();
    text.lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .unwrap()
        .parse()
        .unwrap()
}

/// Opens the case's current package and returns its files as records.
fn open(d: &D, case: &str) -> (writ_seal::Manifest, Vec<(String, Vec<Value>)>) {
    let file = tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current().block_on(d.t.gw.agency_package("us-fbi-wfo", case))
    })
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("open");
    let manifest = writ_seal::open(
        &d.package_path(&file),
        &identity(d.t._dir.path(), "us-fbi-wfo"),
        &dest,
    )
    .unwrap();
    let files = manifest
        .files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(dest.join(&f.path)).unwrap();
            let records = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            (f.path.clone(), records)
        })
        .collect();
    (manifest, files)
}

fn in_range(record: &Value, range: &DateRange) -> bool {
    let Some(at) = record["at"].as_str() else {
        // A subscriber profile describes the account as it stands.
        return true;
    };
    let at = Timestamp::parse(at).unwrap();
    range.from <= at && at <= range.to
}

async fn kinds(d: &D, case: &str) -> Vec<String> {
    d.t.gw
        .store()
        .events_for_case(case)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warrant_delivers_non_content_at_once_and_content_after_two_people() {
    let d = with_delivery(None).await;
    let s = submit(&d.t, &order("D-1", "search_warrant", json!({}))).await;
    assert_eq!(d.t.gw.deliver_once().await.unwrap().sealed, 1);

    // Only the subscriber pair is out before anyone has looked at it.
    let (m1, files) = open(&d, &s.case);
    assert_eq!(m1.case, s.case);
    let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["acct-us-alice/subscriber.ndjson"]);
    assert_eq!(files[0].1.len(), 1);

    // A second pass with nothing new seals nothing.
    assert_eq!(d.t.gw.deliver_once().await.unwrap().sealed, 0);

    d.t.gw
        .propose(&user("rita", Role::Reviewer), &s.case, Proposal::Approve)
        .await
        .unwrap();
    assert_eq!(d.t.gw.deliver_once().await.unwrap().sealed, 0);
    d.t.gw
        .confirm(&user("alex", Role::Approver), &s.case)
        .await
        .unwrap();
    assert_eq!(d.t.gw.deliver_once().await.unwrap().sealed, 1);

    let (m2, files) = open(&d, &s.case);
    let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "acct-us-alice/subscriber.ndjson",
            "acct-us-alice/content.ndjson"
        ]
    );
    let range = DateRange {
        from: Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
        to: Timestamp::parse("2026-06-30T23:59:59Z").unwrap(),
    };
    let content = &files[1].1;
    assert!(
        !content.is_empty(),
        "the demo mailbox has mail in the range"
    );
    assert!(content.iter().all(|r| in_range(r, &range)), "{content:?}");
    // The whole mailbox is larger than what the range allows.
    let all: usize = writ_connect::demo::generate("acct-us-alice", Category::Content, None).count();
    assert!(content.len() < all, "{} of {all}", content.len());
    assert_eq!(m2.order_sha256, m1.order_sha256);

    // Two `disclosed` events, each committing to its package's hash.
    let events = d.t.gw.store().events_for_case(&s.case).await.unwrap();
    let disclosed: Vec<_> = events.iter().filter(|e| e.kind == "disclosed").collect();
    assert_eq!(disclosed.len(), 2);
    let file = d.t.gw.agency_package("us-fbi-wfo", &s.case).await.unwrap();
    let bytes = read_package(&d, &file).await;
    assert_eq!(canonical::sha256_hex(&bytes), file.sha256);
    assert_eq!(std::fs::read(d.package_path(&file)).unwrap(), bytes);
    let last = disclosed[1];
    let entry: Value = serde_json::from_str(&last.entry).unwrap();
    assert_eq!(
        entry["public"]["disclosed"],
        json!({"content": 1, "subscriber": 1})
    );
    let private: Value = serde_json::from_str(&last.private).unwrap();
    assert_eq!(
        private["details"][0]["package_sha256"],
        file.sha256.as_str()
    );
    let salt = hex::decode(private["salts"][0].as_str().unwrap()).unwrap();
    let mut preimage = salt;
    preimage.extend(canonical::to_string(&private["details"][0]).into_bytes());
    assert_eq!(
        canonical::sha256_hex(&preimage),
        entry["commitments"][0].as_str().unwrap()
    );
    // The replaced package is gone from the folder.
    assert_eq!(d.package_names(), std::slice::from_ref(&file.object));
    assert!(
        file.object.starts_with(&format!("{}-2-", s.case)),
        "{}",
        file.object
    );

    // Another agency sees nothing.
    let other = d.t.gw.agency_package("us-nypd", &s.case).await.unwrap_err();
    assert!(matches!(other, GatewayError::NotFound(_)), "{other}");

    // After the download window the package is deleted, once.
    let later = Timestamp::now().plus_days(31);
    assert_eq!(d.t.gw.deliver_at(later).await.unwrap().expired, 1);
    assert_eq!(d.t.gw.deliver_at(later).await.unwrap().expired, 0);
    let gone =
        d.t.gw
            .agency_package("us-fbi-wfo", &s.case)
            .await
            .unwrap_err();
    assert!(matches!(gone, GatewayError::Gone(_)), "{gone}");
    assert!(!d.package_path(&file).exists());
    assert_eq!(
        kinds(&d, &s.case)
            .await
            .iter()
            .filter(|k| *k == "expired")
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_and_unreviewed_cases_release_nothing() {
    let d = with_delivery(None).await;
    // Refused outright: no judge for content.
    let refused = submit(
        &d.t,
        &order(
            "D-2",
            "subpoena",
            json!({"issued_by": {"kind": "prosecutor"}, "categories": ["content"]}),
        ),
    )
    .await;
    // An unverified emergency waits for its callback.
    let emergency = submit(
        &d.t,
        &order(
            "D-3",
            "emergency_request",
            json!({
                "issued_by": {"kind": "police"},
                "categories": ["subscriber", "identification"],
                "emergency": {"threat": "death", "facts": "A caller threatened to kill a named person tonight."},
            }),
        ),
    )
    .await;
    assert!(
        emergency.decision.codes().contains(&"emergency_unverified"),
        "{:?}",
        emergency.decision
    );
    d.t.gw.deliver_once().await.unwrap();
    for case in [&refused.case, &emergency.case] {
        let e = d.t.gw.agency_package("us-fbi-wfo", case).await.unwrap_err();
        assert!(matches!(e, GatewayError::NotFound(_)), "{e}");
        assert!(!kinds(&d, case).await.contains(&"disclosed".to_owned()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preservation_order_holds_data_against_deletion_until_it_lapses() {
    let d = with_delivery(None).await;
    let s = submit(
        &d.t,
        &order(
            "D-4",
            "preservation_request",
            json!({"issued_by": {"kind": "police"}, "categories": ["content", "traffic"]}),
        ),
    )
    .await;
    let until = s.decision.preserve_until.expect("a preservation date");
    d.t.gw.deliver_once().await.unwrap();
    // Nothing is disclosed for a preservation order.
    assert!(d.t.gw.agency_package("us-fbi-wfo", &s.case).await.is_err());

    let now = Timestamp::now();
    let before: Vec<Record> = d
        .mail
        .records("acct-us-alice", Category::Content, None)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let refused = d
        .mail
        .delete("acct-us-alice", Category::Content, now)
        .await
        .unwrap_err();
    assert!(matches!(refused, DeleteError::Held { .. }), "{refused}");
    let after: Vec<Record> = d
        .mail
        .records("acct-us-alice", Category::Content, None)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(before, after, "a refused deletion leaves the data intact");
    // A category the order did not name is not held.
    d.mail
        .delete("acct-us-alice", Category::Subscriber, now)
        .await
        .unwrap();

    // At `preserve_until` the hold lapses: logged once, deletion allowed.
    let later = until.plus_minutes(1);
    assert_eq!(d.t.gw.deliver_at(later).await.unwrap().holds_released, 1);
    assert_eq!(d.t.gw.deliver_at(later).await.unwrap().holds_released, 0);
    let k = kinds(&d, &s.case).await;
    assert_eq!(k.iter().filter(|k| *k == "preserved").count(), 1, "{k:?}");
    assert_eq!(k.iter().filter(|k| *k == "released").count(), 1, "{k:?}");
    d.mail
        .delete("acct-us-alice", Category::Content, later)
        .await
        .unwrap();
}

/// The demo data, failing once after a number of records: a collection
/// interrupted mid-way.
struct FailOnce {
    left: AtomicUsize,
}

impl Connector for FailOnce {
    fn records(
        &self,
        account: &str,
        category: Category,
        range: Option<DateRange>,
    ) -> Result<RecordStream<'_>, ConnectError> {
        let inner = writ_connect::demo::generate(account, category, range);
        Ok(Box::new(inner.map(move |r| {
            let left = self.left.load(Ordering::SeqCst);
            if left == 1 {
                self.left.store(0, Ordering::SeqCst);
                return Err(ConnectError::Other("the provider went away".into()));
            }
            if left > 1 {
                self.left.store(left - 1, Ordering::SeqCst);
            }
            r
        })))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_collection_shows_nothing_and_resumes() {
    let d = with_delivery(Some(Arc::new(FailOnce {
        left: AtomicUsize::new(3),
    })))
    .await;
    let s = submit(
        &d.t,
        &order(
            "D-5",
            "court_order",
            json!({"categories": ["subscriber", "traffic"]}),
        ),
    )
    .await;
    let pass = d.t.gw.deliver_once().await.unwrap();
    assert_eq!((pass.failed, pass.sealed), (1, 0), "{pass:?}");
    assert_eq!(
        std::fs::read_dir(d.objects.join("packages"))
            .unwrap()
            .count(),
        0
    );
    let e =
        d.t.gw
            .agency_package("us-fbi-wfo", &s.case)
            .await
            .unwrap_err();
    assert!(matches!(e, GatewayError::NotFound(_)), "{e}");
    assert!(!kinds(&d, &s.case).await.contains(&"disclosed".to_owned()));

    // After the back-off the next pass finishes the job.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let pass = d.t.gw.deliver_once().await.unwrap();
    assert_eq!((pass.failed, pass.sealed), (0, 1), "{pass:?}");
    let (_, files) = open(&d, &s.case);
    assert_eq!(files.len(), 2);
    assert!(kinds(&d, &s.case).await.contains(&"disclosed".to_owned()));
    assert_eq!(
        std::fs::read_dir(d.objects.join("work")).unwrap().count(),
        0,
        "the work folder is cleaned up"
    );
}

fn emergency(reference: &str, agency: &str) -> Vec<u8> {
    let mut o: Value = serde_json::from_slice(&order(
        reference,
        "emergency_request",
        json!({
            "issued_by": {"kind": "police"},
            "categories": ["subscriber", "identification"],
            "emergency": {"threat": "death", "facts": "A caller threatened to kill a named person tonight."},
        }),
    ))
    .unwrap();
    o["agency"] = json!(agency);
    o.as_object_mut().unwrap().remove("date_range");
    o.to_string().into_bytes()
}

async fn submit_as(d: &D, agency: &str, body: &[u8]) -> writ_gateway::Submitted {
    d.t.gw
        .submit(writ_gateway::Submission {
            officer: None,
            submitter: agency,
            body,
        })
        .await
        .unwrap()
}

async fn released(d: &D, case: &str) -> bool {
    d.t.gw.deliver_once().await.unwrap();
    kinds(d, case).await.contains(&"disclosed".to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_emergency_is_released_at_once_and_forged_ones_never() {
    use writ_model::order::NumberSource;
    let d = with_delivery(None).await;
    let rita = user("rita", Role::Reviewer);

    // No callback at all: nothing.
    let none = submit_as(&d, "us-fbi-wfo", &emergency("E-0", "us-fbi-wfo")).await;
    assert!(!released(&d, &none.case).await);

    // The number came from the request itself: still unverified.
    let from_request = submit_as(&d, "us-fbi-wfo", &emergency("E-1", "us-fbi-wfo")).await;
    let after =
        d.t.gw
            .record_callback(&rita, &from_request.case, NumberSource::Request, true)
            .await
            .unwrap();
    assert!(after.decision.codes().contains(&"emergency_unverified"));
    assert!(!released(&d, &from_request.case).await);

    // The call to the registry's number did not confirm it.
    let failed = submit_as(&d, "us-fbi-wfo", &emergency("E-2", "us-fbi-wfo")).await;
    d.t.gw
        .record_callback(&rita, &failed.case, NumberSource::Registry, false)
        .await
        .unwrap();
    assert!(!released(&d, &failed.case).await);

    // A suspended agency's request is refused outright.
    let suspended = submit_as(&d, "us-harbor-pd", &emergency("E-3", "us-harbor-pd")).await;
    assert_eq!(suspended.decision.outcome.as_str(), "reject");
    assert!(!released(&d, &suspended.case).await);

    // An agency (and so a credential) registered today: a new requester
    // waits for two people even after a good callback.
    let mut fresh: writ_model::Agency = serde_json::from_value(json!({
        "id": "us-new-pd", "name": "New PD", "country": "US", "kind": "law_enforcement",
        "status": "verified", "verified_since": Timestamp::now(), "powers": [],
    }))
    .unwrap();
    fresh.verified_since = Some(Timestamp::now());
    let identity = age::x25519::Identity::generate();
    d.t.gw
        .add_agency(
            &fresh,
            &["+12025550199".to_owned()],
            Some(&identity.to_public().to_string()),
            "test",
        )
        .await
        .unwrap();
    let new = submit_as(&d, "us-new-pd", &emergency("E-4", "us-new-pd")).await;
    let after =
        d.t.gw
            .record_callback(&rita, &new.case, NumberSource::Registry, true)
            .await
            .unwrap();
    assert!(
        after.decision.codes().contains(&"new_requester"),
        "{:?}",
        after.decision
    );
    assert!(!released(&d, &new.case).await);

    // The real thing: a staff member calls the registry's number back.
    let real = submit_as(&d, "us-fbi-wfo", &emergency("E-5", "us-fbi-wfo")).await;
    let view = d.t.gw.agency_case("us-fbi-wfo", &real.case).await.unwrap();
    let clock = view.emergency_clock.expect("an emergency clock");
    assert!(clock.verified_at.is_none());
    d.t.gw
        .record_callback(&rita, &real.case, NumberSource::Registry, true)
        .await
        .unwrap();
    assert!(released(&d, &real.case).await);
    let (_, files) = open(&d, &real.case);
    let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "acct-us-alice/subscriber.ndjson",
            "acct-us-alice/identification.ndjson"
        ]
    );
    let view = d.t.gw.agency_case("us-fbi-wfo", &real.case).await.unwrap();
    assert!(view.emergency_clock.unwrap().verified_at.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_extends_the_hold() {
    let d = with_delivery(None).await;
    let first = submit(
        &d.t,
        &order(
            "D-6",
            "preservation_request",
            json!({"issued_by": {"kind": "police"}, "categories": ["content"]}),
        ),
    )
    .await;
    d.t.gw.deliver_once().await.unwrap();
    let until = first.decision.preserve_until.unwrap();
    let renewal = submit(
        &d.t,
        &order(
            "D-7",
            "preservation_request",
            json!({"issued_by": {"kind": "police"}, "categories": ["content"], "renews": "D-6"}),
        ),
    )
    .await;
    let extended = renewal.decision.preserve_until.expect("a renewal date");
    assert!(extended > until, "{extended} after {until}");
    d.t.gw.deliver_once().await.unwrap();
    let holds = d.mail.holds();
    // Past the first date, the data is still held until the renewed one.
    let between = until.plus_days(1);
    assert_eq!(
        holds
            .held_until("acct-us-alice", Category::Content, between)
            .await
            .unwrap(),
        Some(extended)
    );
    assert!(
        d.mail
            .delete("acct-us-alice", Category::Content, between)
            .await
            .is_err()
    );
    // The first hold's lapse is not logged at its old date: it was renewed.
    assert_eq!(d.t.gw.deliver_at(between).await.unwrap().holds_released, 0);
    assert_eq!(
        d.t.gw
            .deliver_at(extended.plus_minutes(1))
            .await
            .unwrap()
            .holds_released,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_deletes_only_old_packages_no_row_names() {
    let d = with_delivery(None).await;
    let s = submit(
        &d.t,
        &order(
            "D-8",
            "court_order",
            json!({"categories": ["subscriber", "traffic"]}),
        ),
    )
    .await;
    assert_eq!(d.t.gw.deliver_once().await.unwrap().sealed, 1);
    let file = d.t.gw.agency_package("us-fbi-wfo", &s.case).await.unwrap();
    let packages = d.objects.join("packages");
    // An upload whose row was never written, and one of a case that has
    // no package at all; a package sealed for upload and left behind.
    let orphans = [
        format!("{}-1-ffffffffffff.age", s.case),
        "c-none-1.age".into(),
    ];
    for name in &orphans {
        std::fs::write(packages.join(name), b"age").unwrap();
    }
    std::fs::write(d.objects.join("work").join("x-1-0.age"), b"age").unwrap();

    // Young objects may be uploads in progress: kept.
    let now = Timestamp::now();
    assert_eq!(d.t.gw.sweep_packages(now).await.unwrap(), 0);
    assert_eq!(d.package_names().len(), 3);
    assert!(!d.objects.join("work").join("x-1-0.age").exists());

    // An hour on, the orphans go and the live package stays.
    let later = now.plus_days(1);
    assert_eq!(d.t.gw.sweep_packages(later).await.unwrap(), 2);
    assert_eq!(d.package_names(), std::slice::from_ref(&file.object));
    let bytes = read_package(&d, &file).await;
    assert_eq!(canonical::sha256_hex(&bytes), file.sha256);
}

/// Finding 11 of the hardening review: a notice that cannot be sent was
/// tried about once a second forever. Now each failure waits twice as long
/// as the one before (30 s, 1 min, ... at most an hour); after the last
/// attempt the notice is `dead`, counted, and tried again only when staff
/// say so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finding_11_a_failing_notice_backs_off_to_a_dead_letter_that_staff_retry() {
    use writ_gateway::notice::{NOTICE_ATTEMPTS, NoticeConfig, retry_delay};
    use writ_model::NoticeState;

    let t = start().await;
    let dir = t._dir.path().to_owned();
    let mail = DemoMail::open(&dir.join("demo").join("mail"))
        .await
        .unwrap();
    // The outbox is a file, so every notice fails until it becomes a folder.
    let outbox = dir.join("outbox");
    std::fs::write(&outbox, b"not a folder").unwrap();
    let mut config = DeliveryConfig::in_folder(
        Provider {
            connector: Arc::new(mail.clone()),
            holds: mail.holds().clone(),
        },
        dir.join("objects"),
    );
    config.notices = Some(NoticeConfig {
        outbox: Some(outbox.clone()),
        provider: "Writ test".into(),
        log_url: "http://127.0.0.1/log".into(),
        vkey: "test".into(),
        ..NoticeConfig::default()
    });
    t.gw.enable_delivery(config).unwrap();
    let s = submit(&t, &order("N-11", "search_warrant", json!({}))).await;
    let store = t.gw.store();
    let notice = || async {
        let n = store.notices(&s.case).await.unwrap();
        assert_eq!(n.len(), 1, "one release, one notice: {n:?}");
        n.into_iter().next().unwrap()
    };

    let start_at = Timestamp::now().as_second();
    let at = |s: i64| Timestamp::from_second(s).unwrap();
    t.gw.deliver_at(at(start_at)).await.unwrap();
    log_everything(&t.gw).await;
    t.gw.deliver_at(at(start_at)).await.unwrap();
    let first = notice().await;
    assert_eq!(first.state, NoticeState::Sending);
    assert_eq!(first.attempts, 1);
    assert_eq!(first.next_attempt_at, start_at + retry_delay(1));
    assert!(first.last_error.as_deref().unwrap().contains("outbox"));

    // Before the back-off is over nothing is tried.
    t.gw.deliver_at(at(start_at + retry_delay(1) - 1))
        .await
        .unwrap();
    assert_eq!(notice().await.attempts, 1);

    // Each later attempt waits twice as long, up to the cap, until the last.
    let mut delays = Vec::new();
    let mut now = start_at;
    loop {
        let n = notice().await;
        if n.state == NoticeState::Dead {
            break;
        }
        delays.push(n.next_attempt_at - now);
        now = n.next_attempt_at;
        t.gw.deliver_at(at(now)).await.unwrap();
        assert!(delays.len() < 100, "the notice is never given up");
    }
    assert_eq!(delays.len() as i64, NOTICE_ATTEMPTS - 1);
    assert_eq!(
        delays,
        [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600]
    );
    assert_eq!(notice().await.attempts, NOTICE_ATTEMPTS);
    assert_eq!(t.gw.store_gauges().await.unwrap().dead_notices, 1);

    // A dead notice is not tried, however late.
    std::fs::remove_file(&outbox).unwrap();
    t.gw.deliver_at(at(now + 86_400)).await.unwrap();
    assert_eq!(notice().await.state, NoticeState::Dead);

    // Only reviewers and approvers put it back in line; then it goes out.
    assert!(matches!(
        t.gw.retry_notices(&user("ada", Role::Admin), &s.case).await,
        Err(GatewayError::Forbidden(_))
    ));
    assert_eq!(
        t.gw.retry_notices(&user("rita", Role::Reviewer), &s.case)
            .await
            .unwrap(),
        1
    );
    assert_eq!(t.gw.store_gauges().await.unwrap().dead_notices, 0);
    t.gw.deliver_at(at(now + 86_400)).await.unwrap();
    let sent = notice().await;
    assert_eq!(sent.state, NoticeState::Sent, "{sent:?}");
    assert_eq!(sent.attempts, 1);
    assert_eq!(std::fs::read_dir(&outbox).unwrap().count(), 1);
}

/// Marks every pending event of the store as logged, as a publisher would.
async fn log_everything(gw: &writ_gateway::Gateway) {
    let store = gw.store();
    let next = store.max_log_index().await.unwrap().map_or(0, |i| i + 1);
    let pending = store.pending_events(10_000).await.unwrap();
    let logged: Vec<(i64, i64)> = pending
        .iter()
        .enumerate()
        .map(|(i, e)| (e.seq, next + i as i64))
        .collect();
    store.mark_logged(&logged).await.unwrap();
}
