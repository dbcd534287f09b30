//! The shared state behind the server's defences: one-time values, TOTP
//! steps, the sign-in throttle under parallel attempts, and sessions ended
//! by a suspension.

use writ_store::*;

use super::{agency, postgres, sqlite};

async fn nonces_are_used_once_until_they_expire(s: &Store) {
    assert!(s.use_nonce("h1", 1_000, 400).await.unwrap());
    assert!(!s.use_nonce("h1", 1_000, 500).await.unwrap());
    assert!(s.use_nonce("h2", 600, 500).await.unwrap());
    assert_eq!(s.used_nonce_count().await.unwrap(), 2);
    // Once expired, a row is pruned by the next insert and the value could
    // be recorded again (by then its signature is stale anyway).
    assert!(s.use_nonce("h3", 2_000, 700).await.unwrap());
    assert_eq!(s.used_nonce_count().await.unwrap(), 2);
    assert!(s.use_nonce("h2", 2_000, 700).await.unwrap());
}
both!(
    nonce_window_is_shared,
    nonces_are_used_once_until_they_expire
);

async fn totp_steps_are_accepted_once(s: &Store) {
    assert!(s.accept_totp_step("carol", 100).await.unwrap());
    assert!(!s.accept_totp_step("carol", 100).await.unwrap());
    assert!(!s.accept_totp_step("carol", 99).await.unwrap());
    assert!(s.accept_totp_step("carol", 101).await.unwrap());
    assert!(s.accept_totp_step("dave", 100).await.unwrap());
}
both!(totp_code_reuse_is_refused, totp_steps_are_accepted_once);

async fn parallel_attempts_respect_the_limit(s: &Store) {
    let tries: Vec<_> = (0..30)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.begin_sign_in("n1", 1_000, 0, 5, 0).await.unwrap() })
        })
        .collect();
    let mut recorded = 0;
    for t in tries {
        if t.await.unwrap() == SignInAttempt::Recorded {
            recorded += 1;
        }
    }
    assert_eq!(recorded, 5);
    assert_eq!(
        s.begin_sign_in("n1", 1_001, 0, 5, 0).await.unwrap(),
        SignInAttempt::Throttled { oldest: 1_000 }
    );
    // Another name is not affected; a cleared name starts again.
    assert_eq!(
        s.begin_sign_in("n2", 1_001, 0, 5, 0).await.unwrap(),
        SignInAttempt::Recorded
    );
    s.clear_sign_in_failures("n1").await.unwrap();
    assert_eq!(
        s.begin_sign_in("n1", 1_002, 0, 5, 0).await.unwrap(),
        SignInAttempt::Recorded
    );
}
both!(
    sign_in_limit_holds_under_parallel_attempts,
    parallel_attempts_respect_the_limit
);

async fn suspension_ends_sessions(s: &Store) {
    s.insert_agency(&agency("a1"), "admin").await.unwrap();
    s.insert_agency(&agency("a2"), "admin").await.unwrap();
    s.open_portal_session("h1", "a1", None, 10_000, 400)
        .await
        .unwrap();
    s.open_portal_session("h2", "a2", None, 10_000, 400)
        .await
        .unwrap();
    s.set_agency_status("a1", "verified", Some(500), "admin", 500)
        .await
        .unwrap();
    assert!(s.portal_session("h1", 600).await.unwrap().is_some());
    s.set_agency_status("a1", "suspended", None, "admin", 700)
        .await
        .unwrap();
    assert_eq!(s.portal_session("h1", 800).await.unwrap(), None);
    assert!(s.portal_session("h2", 800).await.unwrap().is_some());
}
both!(
    portal_sessions_outlive_suspension_no_more,
    suspension_ends_sessions
);

async fn key_revocation_ends_sessions(s: &Store) {
    s.insert_agency(&agency("a1"), "admin").await.unwrap();
    s.add_agency_key(
        &AgencyKeyRow {
            key_id: "a1:k1".into(),
            agency_id: "a1".into(),
            public_key: "pk".into(),
            created_at: 400,
            revoked_at: None,
        },
        "admin",
    )
    .await
    .unwrap();
    s.open_portal_session("h1", "a1", None, 10_000, 400)
        .await
        .unwrap();
    s.revoke_agency_key("a1:k1", "admin", 500).await.unwrap();
    assert_eq!(s.portal_session("h1", 600).await.unwrap(), None);
    assert_eq!(
        s.agency_key("a1:k1").await.unwrap().unwrap().revoked_at,
        Some(500)
    );
    assert!(matches!(
        s.revoke_agency_key("a1:k1", "admin", 600).await,
        Err(StoreError::NotFound(..))
    ));
}
both!(
    portal_sessions_outlive_key_revocation_no_more,
    key_revocation_ends_sessions
);

/// A server that hangs with a transaction open (here: a transaction that
/// locks an agency's row and then waits) holds that row only until the
/// store's idle-in-transaction time-out: PostgreSQL then ends its session,
/// another server's write of the same row goes through, and the hung
/// server's commit fails without changing anything.
#[tokio::test]
async fn a_hung_transaction_frees_its_rows_on_postgres() {
    let Ok(server) = std::env::var("WRIT_TEST_POSTGRES") else {
        eprintln!("skipped: set WRIT_TEST_POSTGRES to a server URL");
        return;
    };
    let url = writ_testdb::fresh_database(&server, "writ_store_hung").await;
    let timeout = std::time::Duration::from_secs(2);
    let hung = Store::open_with(&url, timeout).await.unwrap();
    let other = Store::open_with(&url, timeout).await.unwrap();
    hung.insert_agency(&agency("a1"), "admin").await.unwrap();

    let mut tx = hung.pool().begin().await.unwrap();
    sqlx::query("UPDATE agencies SET name = 'changed by the hung server' WHERE id = 'a1'")
        .execute(&mut *tx)
        .await
        .unwrap();
    // The hung server now says nothing; the other server writes the row.
    let started = std::time::Instant::now();
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        other.set_agency_status(
            "a1",
            "verified",
            Some(1_700_000_100),
            "admin",
            1_700_000_100,
        ),
    )
    .await
    .expect("the row stayed locked: the hung transaction was not ended")
    .unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= std::time::Duration::from_millis(1500),
        "the write did not wait for the lock ({waited:?}): the test proves nothing"
    );
    assert!(
        waited < std::time::Duration::from_secs(10),
        "the row was freed after {waited:?}, not within the 2 s time-out"
    );
    assert!(
        tx.commit().await.is_err(),
        "the hung server's commit went through after its session was ended"
    );
    let row = other.agency("a1").await.unwrap().unwrap();
    assert_eq!(row.status, "verified");
    assert_eq!(row.name, "Agency a1");
}
