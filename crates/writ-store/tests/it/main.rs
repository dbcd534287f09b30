//! The case store on SQLite, and on PostgreSQL when `WRIT_TEST_POSTGRES`
//! names a server (`postgres://user@host:port/db`): the same tests, the same
//! code path.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sqlx::Row;
use writ_store::*;

/// A fresh store per test: a temporary SQLite file, or a new database on
/// the PostgreSQL server.
struct Fresh {
    store: Store,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite() -> Fresh {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("writ.db").display());
    Fresh {
        store: Store::open(&url).await.unwrap(),
        _dir: Some(dir),
    }
}

async fn postgres() -> Option<Fresh> {
    let Ok(url) = std::env::var("WRIT_TEST_POSTGRES") else {
        eprintln!("skipped the PostgreSQL run: set WRIT_TEST_POSTGRES to a server URL");
        return None;
    };
    Some(Fresh {
        store: Store::open(&writ_testdb::fresh_database(&url, "writ_store").await)
            .await
            .unwrap(),
        _dir: None,
    })
}

/// Runs a check on SQLite, then on PostgreSQL when available.
macro_rules! both {
    ($name:ident, $check:ident) => {
        #[tokio::test]
        async fn $name() {
            let s = sqlite().await;
            $check(&s.store).await;
            if let Some(p) = postgres().await {
                $check(&p.store).await;
            }
        }
    };
}

fn agency(id: &str) -> AgencyRow {
    AgencyRow {
        id: id.into(),
        name: format!("Agency {id}"),
        country: "US".into(),
        kind: "law_enforcement".into(),
        status: "pending".into(),
        verified_since: None,
        powers: "[]".into(),
        callback_numbers: "[\"+12025550100\"]".into(),
        age_recipient: None,
        created_at: 1_700_000_000,
        updated_at: 1_700_000_000,
    }
}

/// A well-formed order and decision, as the gateway stores them.
const ORDER: &str = r#"{"reference":"R1","agency":"a1","instrument":"subpoena","legal_basis":"test","issued_by":{"kind":"prosecutor"},"issued_at":"2023-11-14T00:00:00Z","targets":[{"kind":"email","value":"alice@example.com"}],"categories":["subscriber"]}"#;
const DECISION: &str = r#"{"outcome":"review","decisions":[],"reasons":[],"due_at":"2023-11-24T22:13:20Z","not_before":null,"preserve_until":null,"notify":{"when":"on_disclosure","at":null},"policy":{"id":"writ-default","version":"1"}}"#;

fn case(id: &str, agency: &str, reference: &str) -> CaseRow {
    CaseRow {
        id: id.into(),
        agency_id: agency.into(),
        reference: reference.into(),
        order_json: ORDER.into(),
        order_sha256: "00".into(),
        canonical_sha256: format!("h-{id}"),
        instrument: "subpoena".into(),
        emergency: 0,
        status: "in_review".into(),
        outcome: "review".into(),
        decision: DECISION.into(),
        decided_now: 1_700_000_000,
        due_at: 1_700_864_000,
        version: 1,
        created_at: 1_700_000_000,
        updated_at: 1_700_000_000,
    }
}

fn event(case: &str, kind: &str) -> NewEvent {
    NewEvent {
        case_id: Some(case.into()),
        kind: kind.into(),
        entry: format!("{{\"kind\":\"{kind}\"}}"),
        private: "{}".into(),
        state: "pending".into(),
        created_at: 1_700_000_000,
    }
}

async fn registry(s: &Store) {
    s.insert_agency(&agency("a1"), "admin").await.unwrap();
    assert!(matches!(
        s.insert_agency(&agency("a1"), "admin").await,
        Err(StoreError::Exists(..))
    ));
    s.set_agency_status(
        "a1",
        "verified",
        Some(1_700_000_100),
        "admin",
        1_700_000_100,
    )
    .await
    .unwrap();
    let a = s.agency("a1").await.unwrap().unwrap();
    assert_eq!(
        (a.status.as_str(), a.verified_since),
        ("verified", Some(1_700_000_100))
    );
    let key = AgencyKeyRow {
        key_id: "a1:k".into(),
        agency_id: "a1".into(),
        public_key: "AAAA".into(),
        created_at: 1,
        revoked_at: None,
    };
    s.add_agency_key(&key, "admin").await.unwrap();
    assert!(s.add_agency_key(&key, "admin").await.is_err());
    let mut orphan = key.clone();
    orphan.key_id = "x".into();
    orphan.agency_id = "nobody".into();
    assert!(matches!(
        s.add_agency_key(&orphan, "admin").await,
        Err(StoreError::NotFound(..))
    ));
    assert_eq!(s.agency_key("a1:k").await.unwrap().unwrap().agency_id, "a1");
    let history: Vec<String> = s
        .agency_history("a1")
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.action)
        .collect();
    assert_eq!(history, ["add", "verified", "key-add"]);
}
both!(registry_changes_are_recorded, registry);

async fn accounts(s: &Store) {
    let row = AccountRow {
        id: "acct-1".into(),
        body: "{\"id\":\"acct-1\"}".into(),
        identifiers: vec![
            ("account_id".into(), "acct-1".into()),
            ("email".into(), "alice@example.com".into()),
        ],
    };
    s.insert_accounts(&[row.clone(), row]).await.unwrap();
    assert_eq!(s.account_count().await.unwrap(), 1);
    assert!(
        s.account_by_identifier("email", "alice@example.com")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        s.account_by_identifier("email", "bob@example.com")
            .await
            .unwrap()
            .is_none()
    );
}
both!(accounts_are_found_by_identifier, accounts);

async fn intake(s: &Store) {
    let batch = vec![
        NewCase {
            case: case("c-1", "a1", "R1"),
            events: vec![event("c-1", "received"), event("c-1", "decided")],
            holds: vec![],
            corrects: None,
            officer: None,
        },
        // The same reference again in the same batch: the first one wins.
        NewCase {
            case: case("c-2", "a1", "R1"),
            events: vec![event("c-2", "received")],
            holds: vec![],
            corrects: Some("c-9".into()),
            officer: None,
        },
        // Another agency may use the same reference.
        NewCase {
            case: case("c-3", "a2", "R1"),
            events: vec![],
            holds: vec![HoldRow {
                agency_id: "a2".into(),
                reference: "R1".into(),
                case_id: "c-3".into(),
                instrument: "preservation_request".into(),
                accounts: "[\"acct-1\"]".into(),
                preserve_until: 1_800_000_000,
                renewals: 0,
            }],
            corrects: Some("c-1".into()),
            officer: None,
        },
    ];
    let out = s.intake(&batch).await.unwrap();
    assert!(matches!(out[0], Intake::Stored));
    assert!(matches!(&out[1], Intake::Existing(c) if c.id == "c-1"));
    assert!(matches!(out[2], Intake::Stored));
    assert_eq!(s.case_count().await.unwrap(), 2);
    assert_eq!(s.events_for_case("c-1").await.unwrap().len(), 2);
    // A stored correction links both ways; a refused case links nothing.
    assert_eq!(
        s.corrections("c-3").await.unwrap(),
        (Some("c-1".to_owned()), vec![])
    );
    assert_eq!(
        s.corrections("c-1").await.unwrap(),
        (None, vec!["c-3".to_owned()])
    );
    assert_eq!(s.corrections("c-2").await.unwrap(), (None, vec![]));
    assert_eq!(s.corrections("c-9").await.unwrap(), (None, vec![]));
    assert!(s.events_for_case("c-2").await.unwrap().is_empty());
    assert_eq!(s.holds_for_agency("a2").await.unwrap().len(), 1);
    assert_eq!(
        s.case_by_reference("a2", "R1").await.unwrap().unwrap().id,
        "c-3"
    );
    assert_eq!(s.queue(10).await.unwrap().len(), 2);

    // A change applies only at the version it was read at.
    let typed = s.load_case("c-1").await.unwrap().unwrap();
    assert_eq!(typed.status, writ_model::CaseStatus::InReview);
    assert_eq!(typed.order.reference.as_str(), "R1");
    let change = CaseChange {
        status: writ_model::CaseStatus::Approved,
        events: vec![event("c-1", "reviewed")],
        new_proposal: Some(NewProposal {
            action: writ_model::ProposalAction::Approve,
            detail: "{}".into(),
            proposed_by: "rita".into(),
            role: "reviewer".into(),
        }),
        ..CaseChange::of(
            &typed,
            writ_model::Timestamp::from_second(1_700_000_500).unwrap(),
        )
    };
    s.update_case(&change).await.unwrap();
    assert!(matches!(
        s.update_case(&change).await,
        Err(StoreError::Conflict(_))
    ));
    let c = s.case("c-1").await.unwrap().unwrap();
    assert_eq!((c.status.as_str(), c.version), ("approved", 2));
    assert_eq!(s.open_proposals("c-1").await.unwrap().len(), 1);

    // The outbox: pending in order, then logged.
    let pending = s.pending_events(100).await.unwrap();
    let kinds: Vec<&str> = pending.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["received", "decided", "reviewed"]);
    let logged: Vec<(i64, i64)> = pending
        .iter()
        .enumerate()
        .map(|(i, e)| (e.seq, i as i64))
        .collect();
    s.mark_logged(&logged).await.unwrap();
    assert!(s.pending_events(100).await.unwrap().is_empty());
    assert_eq!(s.event_counts().await.unwrap(), [("logged".to_owned(), 3)]);
}
both!(intake_is_unique_per_agency_reference, intake);

async fn users(s: &Store) {
    let u = UserRow {
        name: "rita".into(),
        role: "reviewer".into(),
        password_hash: "$argon2id$...".into(),
        totp_secret: "SECRET".into(),
        created_at: 1,
        disabled: false,
    };
    s.insert_user(&u).await.unwrap();
    assert!(s.insert_user(&u).await.is_err());
    assert!(!format!("{u:?}").contains("SECRET"));
    s.insert_token(&TokenRow {
        token_hash: "h1".into(),
        user_name: "rita".into(),
        label: "cli".into(),
        created_at: 1,
    })
    .await
    .unwrap();
    let held = s.token_user("h1").await.unwrap().unwrap();
    assert_eq!(
        (
            held.user.name.as_str(),
            held.label.as_str(),
            held.created_at
        ),
        ("rita", "cli", 1)
    );
    assert!(s.revoke_token("h1", 2).await.unwrap());
    assert!(!s.revoke_token("h1", 3).await.unwrap());
    assert!(s.token_user("h1").await.unwrap().is_none());
}
both!(tokens_are_revocable, users);

async fn meta(s: &Store) {
    assert_eq!(
        s.meta_insert_if_absent("k", "first").await.unwrap(),
        "first"
    );
    assert_eq!(
        s.meta_insert_if_absent("k", "second").await.unwrap(),
        "first"
    );
    assert_eq!(s.meta("k").await.unwrap().as_deref(), Some("first"));
}
both!(first_writer_wins, meta);

#[tokio::test]
async fn sqlite_is_durable_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("writ.db").display());
    let s = Store::open(&url).await.unwrap();
    let mut conn = s.pool().acquire().await.unwrap();
    let mode: String = sqlx::query("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(mode, "wal");
    let sync: i64 = sqlx::query("PRAGMA synchronous")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(sync, 2, "synchronous=FULL");
    drop(conn);
    s.insert_agency(&agency("a1"), "admin").await.unwrap();
    s.pool().close().await;
    // Migrations run once; the data is still there.
    let again = Store::open(&url).await.unwrap();
    assert!(again.agency("a1").await.unwrap().is_some());
    assert!(matches!(
        Store::open("mysql://localhost/x").await,
        Err(StoreError::UnsupportedUrl(_))
    ));
}

async fn logged_runs(s: &Store) {
    let events: Vec<NewEvent> = (0..5).map(|i| event("c-9", &format!("k{i}"))).collect();
    s.insert_events(&events).await.unwrap();
    let pending = s.pending_events(10).await.unwrap();
    let seqs: Vec<i64> = pending.iter().map(|e| e.seq).collect();
    // Two runs: seqs 0, 1 at 10, 11; seq 3 at 40; seq 2 and 4 stay pending.
    s.mark_logged(&[(seqs[0], 10), (seqs[1], 11), (seqs[3], 40)])
        .await
        .unwrap();
    let all = s.events_for_case("c-9").await.unwrap();
    let got: Vec<(&str, Option<i64>)> = all
        .iter()
        .map(|e| (e.state.as_str(), e.log_index))
        .collect();
    assert_eq!(
        got,
        [
            ("logged", Some(10)),
            ("logged", Some(11)),
            ("pending", None),
            ("logged", Some(40)),
            ("pending", None),
        ]
    );
}
both!(logged_indexes_follow_runs, logged_runs);

async fn portal_sessions(s: &Store) {
    // Sessions: found until they expire or are closed.
    s.open_portal_session("h1", "us-fbi-wfo", None, 1_000, 400)
        .await
        .unwrap();
    s.open_portal_session("h2", "us-nypd", None, 1_000, 400)
        .await
        .unwrap();
    assert_eq!(
        s.portal_session("h1", 999).await.unwrap(),
        Some(("us-fbi-wfo".to_owned(), None))
    );
    assert_eq!(s.portal_session("h1", 1_000).await.unwrap(), None);
    s.close_portal_session("h2").await.unwrap();
    assert_eq!(s.portal_session("h2", 500).await.unwrap(), None);
    assert_eq!(s.portal_session("unknown", 500).await.unwrap(), None);
}
both!(portal_state_is_shared, portal_sessions);

async fn sign_in_failures(s: &Store) {
    // Newest first, only those after `since`, at most `limit`.
    for at in [100, 200, 300, 400] {
        s.record_sign_in_failure("n1", at, 0).await.unwrap();
    }
    s.record_sign_in_failure("n2", 350, 0).await.unwrap();
    assert_eq!(
        s.recent_sign_in_failures("n1", 0, 10).await.unwrap(),
        [400, 300, 200, 100]
    );
    assert_eq!(
        s.recent_sign_in_failures("n1", 200, 10).await.unwrap(),
        [400, 300]
    );
    assert_eq!(
        s.recent_sign_in_failures("n1", 0, 3).await.unwrap(),
        [400, 300, 200]
    );
    assert!(
        s.recent_sign_in_failures("nobody", 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Recording forgets every failure before the horizon, of any name.
    s.record_sign_in_failure("n3", 500, 300).await.unwrap();
    assert_eq!(
        s.recent_sign_in_failures("n1", 0, 10).await.unwrap(),
        [400, 300]
    );
    assert_eq!(s.recent_sign_in_failures("n2", 0, 10).await.unwrap(), [350]);
    let rows: i64 = sqlx::query("SELECT COUNT(*) FROM sign_in_failures")
        .fetch_one(s.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(rows, 4);
    // Clearing one name leaves the others.
    s.clear_sign_in_failures("n1").await.unwrap();
    assert!(
        s.recent_sign_in_failures("n1", 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.recent_sign_in_failures("n2", 0, 10).await.unwrap(), [350]);
    assert_eq!(s.recent_sign_in_failures("n3", 0, 10).await.unwrap(), [500]);
}
both!(sign_in_failures_are_shared_and_bounded, sign_in_failures);

mod hardening;

async fn officers(s: &Store) {
    use writ_store::{OfficerRow, PasskeyRow};
    s.insert_agency(&agency("a1"), "admin").await.unwrap();
    let reg = |what: &str| NewEvent {
        case_id: None,
        kind: "registry".into(),
        entry: format!("{{\"kind\":\"registry\",\"action\":\"{what}\"}}"),
        private: "{}".into(),
        state: "pending".into(),
        created_at: 1_700_000_000,
    };
    let row = OfficerRow {
        id: "o-1".into(),
        agency_id: "a1".into(),
        name: "Dana Reyes".into(),
        title: "Special Agent".into(),
        badge: "4411".into(),
        email: "dana@a1.example".into(),
        phone: "+12025550100".into(),
        admin: true,
        totp_secret: "SECRET".into(),
        created_at: 1_700_000_000,
        created_by: "adam".into(),
        removed_at: None,
    };
    s.insert_officer(&row, &reg("officer_add")).await.unwrap();
    // One live officer per address in an agency.
    let twin = OfficerRow {
        id: "o-2".into(),
        ..row.clone()
    };
    assert!(matches!(
        s.insert_officer(&twin, &reg("officer_add")).await,
        Err(StoreError::Exists(..))
    ));
    assert_eq!(s.officer("o-1").await.unwrap(), Some(row.clone()));
    assert_eq!(
        s.officer_by_email("a1", "dana@a1.example").await.unwrap(),
        Some(row.clone())
    );
    let key = PasskeyRow {
        credential_id: "cred-1".into(),
        officer_id: "o-1".into(),
        passkey: "{}".into(),
        created_at: 1_700_000_001,
        last_used_at: None,
    };
    s.insert_passkey(&key).await.unwrap();
    assert!(matches!(
        s.insert_passkey(&key).await,
        Err(StoreError::Exists(..))
    ));
    s.update_passkey("cred-1", "{\"n\":1}", 1_700_000_002)
        .await
        .unwrap();
    assert_eq!(
        s.passkeys_by_credential("cred-1")
            .await
            .unwrap()
            .map(|p| (p.passkey, p.last_used_at)),
        Some(("{\"n\":1}".to_owned(), Some(1_700_000_002)))
    );
    s.open_portal_session("h1", "a1", Some("o-1"), 10_000, 400)
        .await
        .unwrap();
    assert_eq!(
        s.portal_session("h1", 500).await.unwrap(),
        Some(("a1".to_owned(), Some("o-1".to_owned())))
    );
    // A reset ends the passkeys and sessions and replaces the secret.
    s.reset_officer(
        "o-1",
        "NEW",
        "called back",
        "adam",
        1_700_000_003,
        &reg("officer_reset"),
    )
    .await
    .unwrap();
    assert!(s.passkeys("o-1").await.unwrap().is_empty());
    assert_eq!(s.portal_session("h1", 500).await.unwrap(), None);
    assert_eq!(s.officer("o-1").await.unwrap().unwrap().totp_secret, "NEW");
    // Removed: gone from the address, kept by id, and the address is free.
    s.insert_passkey(&key).await.unwrap();
    s.remove_officer("o-1", "adam", 1_700_000_004, &reg("officer_remove"))
        .await
        .unwrap();
    assert!(s.passkeys("o-1").await.unwrap().is_empty());
    assert_eq!(
        s.officer_by_email("a1", "dana@a1.example").await.unwrap(),
        None
    );
    assert_eq!(
        s.officer("o-1").await.unwrap().unwrap().removed_at,
        Some(1_700_000_004)
    );
    assert!(matches!(
        s.remove_officer("o-1", "adam", 1_700_000_005, &reg("officer_remove"))
            .await,
        Err(StoreError::NotFound(..))
    ));
    s.insert_officer(&twin, &reg("officer_add")).await.unwrap();
    assert_eq!(s.officers("a1").await.unwrap().len(), 2);
    // Each change wrote its registry event with it.
    let logged = s.pending_events(100).await.unwrap();
    let actions: Vec<_> = logged
        .iter()
        .filter(|e| e.kind == "registry")
        .map(|e| e.entry.clone())
        .collect();
    assert_eq!(actions.len(), 4, "{actions:?}");
}

both!(officers_are_kept_with_their_registry_entries, officers);

fn mail(id: &str, uidvalidity: i64, uid: i64, message_id: Option<&str>) -> MailRow {
    MailRow {
        id: id.into(),
        uidvalidity,
        uid,
        message_id: message_id.map(str::to_owned),
        sender: "Clerk <clerk@court.example>".into(),
        subject: format!("Order {id}"),
        sent_at: Some(1_700_000_000),
        body: "Please find the order attached.".into(),
        note: None,
        attachments: "[]".into(),
        state: "new".into(),
        case_id: None,
        actor: None,
        decided_at: None,
        received_at: 1_700_000_000 + uid,
    }
}

async fn mailbox(s: &Store) {
    assert_eq!(s.mail_last_uid(7).await.unwrap(), None);
    let a = mail("m-a", 7, 1, Some("<a@court.example>"));
    let b = mail("m-b", 7, 2, None);
    assert_eq!(s.add_mail(&a).await.unwrap(), MailAdded::Added);
    assert_eq!(s.add_mail(&b).await.unwrap(), MailAdded::Added);
    // A repeated fetch (after a crash, or by a second server) changes nothing.
    assert_eq!(s.add_mail(&a).await.unwrap(), MailAdded::Known);
    assert_eq!(
        s.add_mail(&mail("m-b2", 7, 2, None)).await.unwrap(),
        MailAdded::Known
    );
    assert_eq!(s.mail_last_uid(7).await.unwrap(), Some(2));
    // The mailbox's UIDVALIDITY changed: the same message (by Message-ID)
    // moves to its new address, a message without one is a new draft.
    let moved = mail("m-a-again", 9, 1, Some("<a@court.example>"));
    assert_eq!(
        s.add_mail(&moved).await.unwrap(),
        MailAdded::Moved("m-a".into())
    );
    assert_eq!(s.mail_last_uid(9).await.unwrap(), Some(1));
    assert_eq!(s.mail_last_uid(7).await.unwrap(), Some(2));
    assert_eq!(s.add_mail(&moved).await.unwrap(), MailAdded::Known);
    let list = s.mail_list(100).await.unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0].id, "m-b");
    let kept = s.mail("m-a").await.unwrap().unwrap();
    assert_eq!((kept.uidvalidity, kept.uid), (9, 1));
    assert_eq!(kept.subject, "Order m-a");
    assert_eq!(kept.sent_at, Some(1_700_000_000));
    // Settled once: transcribed with its case and who, or dismissed.
    assert_eq!(
        s.settle_mail("m-a", Some("c-1"), "rita", 1_700_000_100)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.settle_mail("m-a", None, "alex", 1_700_000_101)
            .await
            .unwrap(),
        Some("transcribed".into())
    );
    let kept = s.mail("m-a").await.unwrap().unwrap();
    assert_eq!(kept.state, "transcribed");
    assert_eq!(kept.case_id.as_deref(), Some("c-1"));
    assert_eq!(kept.actor.as_deref(), Some("rita"));
    assert_eq!(kept.decided_at, Some(1_700_000_100));
    assert_eq!(
        s.settle_mail("m-b", None, "alex", 1_700_000_102)
            .await
            .unwrap(),
        None
    );
    let b = s.mail("m-b").await.unwrap().unwrap();
    assert_eq!((b.state.as_str(), b.case_id), ("dismissed", None));
    assert!(matches!(
        s.settle_mail("m-nope", None, "alex", 1).await,
        Err(StoreError::NotFound(..))
    ));
    assert_eq!(s.mail("m-nope").await.unwrap(), None);
}

both!(mailbox_keeps_each_message_once, mailbox);
