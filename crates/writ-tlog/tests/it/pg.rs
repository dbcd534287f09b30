//! The trusted store in PostgreSQL and its sequencer lease, against a real
//! server (`WRIT_TEST_POSTGRES`; skipped with a message without it, and
//! mandatory under `WRIT_CI=1`).

use std::sync::Arc;

use sqlx::Connection as _;
use writ_tlog::hash::Hash;
use writ_tlog::storage::{LocalDir, ObjectStorage};
use writ_tlog::trusted::{StagedBatch, StoredCheckpoint, TrustedError, TrustedStore};
use writ_tlog::trusted_pg::{Lease, PgStore};
use writ_tlog::{Error, Log};

use crate::common::{entry, fast_config};

fn postgres() -> Option<String> {
    match std::env::var("WRIT_TEST_POSTGRES") {
        Ok(url) => Some(url),
        Err(_) if std::env::var("WRIT_CI").is_ok_and(|v| v == "1") => {
            panic!("WRIT_CI=1 but WRIT_TEST_POSTGRES is not set: the PostgreSQL tests must run")
        }
        Err(_) => {
            eprintln!("SKIPPED: no PostgreSQL (set WRIT_TEST_POSTGRES, as .ci/run does)");
            None
        }
    }
}

/// The sequencer's default lease time-out.
const LEASE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

async fn fresh(url: &str) -> String {
    writ_testdb::fresh_database(url, "writ_tlog").await
}

/// The lease, once the previous holder's session has ended (at most 10 s).
async fn lease(url: &str) -> PgStore {
    for _ in 0..200 {
        if let Lease::Held(s) = PgStore::try_lease(url, LEASE_TIMEOUT).await.unwrap() {
            return s;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the lease was never released")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_lease_holder_and_fenced_writes() {
    let Some(pg) = postgres() else { return };
    let url = fresh(&pg).await;
    let first = lease(&url).await;
    assert!(first.holds_lease().await);
    assert!(matches!(
        PgStore::try_lease(&url, LEASE_TIMEOUT).await.unwrap(),
        Lease::Taken
    ));

    // A reader may create the empty tree's checkpoint but write nothing else.
    let reader = PgStore::reader(&url).await.unwrap();
    let zero = StoredCheckpoint {
        size: 0,
        root: Hash::empty(),
        note: "zero".into(),
    };
    reader.compare_and_swap(None, zero.clone()).await.unwrap();
    assert!(matches!(
        reader.compare_and_swap(None, zero.clone()).await,
        Err(TrustedError::CasMismatch)
    ));
    let batch = StagedBatch {
        first: 0,
        count: 1,
        entries: vec![0, 1, 7],
    };
    assert!(matches!(
        reader.stage(batch.clone()).await,
        Err(TrustedError::NotLeader)
    ));
    first.stage(batch.clone()).await.unwrap();
    assert_eq!(reader.staged(0).await.unwrap(), vec![batch.clone()]);

    // Compare-and-swap on (size, root): never two roots for one size.
    let one = StoredCheckpoint {
        size: 1,
        root: Hash([1; 32]),
        note: "one".into(),
    };
    first
        .compare_and_swap(Some((0, Hash::empty())), one.clone())
        .await
        .unwrap();
    assert!(matches!(
        first
            .compare_and_swap(Some((0, Hash::empty())), one.clone())
            .await,
        Err(TrustedError::CasMismatch)
    ));
    let other = StoredCheckpoint {
        root: Hash([2; 32]),
        note: "other".into(),
        ..one.clone()
    };
    assert!(matches!(
        first.compare_and_swap(Some((1, one.root)), other).await,
        Err(TrustedError::NotAnExtension { .. })
    ));

    // The holder's session ends (as when its machine dies): the lease passes
    // on, and the old holder can write nothing more.
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_locks
         WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .execute(&mut admin)
    .await
    .unwrap();
    assert!(!first.holds_lease().await);
    let second = lease(&url).await;
    let next = StagedBatch {
        first: 1,
        count: 1,
        entries: vec![0, 1, 8],
    };
    assert!(first.stage(next.clone()).await.is_err());
    second.stage(next).await.unwrap();
    assert_eq!(second.checkpoint().await.unwrap(), Some(one));
}

/// A holder that stops answering (a frozen process says nothing on its
/// connection, though its kernel keeps the connection open) loses the lease
/// after its time-out, and can write nothing when it comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_holder_loses_the_lease_after_its_timeout() {
    let Some(pg) = postgres() else { return };
    let url = fresh(&pg).await;
    let timeout = std::time::Duration::from_secs(2);
    let Lease::Held(frozen) = PgStore::try_lease(&url, timeout).await.unwrap() else {
        panic!("a fresh database has no lease holder");
    };
    let asked = std::time::Instant::now();
    // Within the time-out the lease is still taken.
    assert!(matches!(
        PgStore::try_lease(&url, timeout).await.unwrap(),
        Lease::Taken
    ));
    let second = loop {
        if let Lease::Held(s) = PgStore::try_lease(&url, timeout).await.unwrap() {
            break s;
        }
        assert!(
            asked.elapsed() < std::time::Duration::from_secs(10),
            "a silent holder kept the lease"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let waited = asked.elapsed();
    assert!(
        waited >= std::time::Duration::from_millis(1900),
        "the lease passed on after {waited:?}, before the time-out"
    );
    let batch = StagedBatch {
        first: 0,
        count: 1,
        entries: vec![0, 1, 7],
    };
    assert!(!frozen.holds_lease().await);
    assert!(frozen.stage(batch.clone()).await.is_err());
    second.stage(batch.clone()).await.unwrap();
    assert_eq!(second.staged(0).await.unwrap(), vec![batch]);
    // A live holder that checks its lease more often than the time-out
    // keeps it.
    for _ in 0..4 {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        assert!(second.holds_lease().await);
    }
    assert!(matches!(
        PgStore::try_lease(&url, timeout).await.unwrap(),
        Lease::Taken
    ));
}

/// A holder that dies while one of its statements waits behind a lock (its
/// connection closes, but PostgreSQL would notice only when the statement
/// ends) frees the lease within seconds, well before its time-out, while
/// the lock it waited for is still held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_that_dies_mid_statement_frees_the_lease() {
    let Some(pg) = postgres() else { return };
    let url = fresh(&pg).await;
    let holder = lease(&url).await;
    let mut blocker = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut blocker).await.unwrap();
    sqlx::query("LOCK TABLE tlog_staged IN ACCESS EXCLUSIVE MODE")
        .execute(&mut blocker)
        .await
        .unwrap();
    let stuck = {
        let holder = holder.clone();
        tokio::spawn(async move {
            let batch = StagedBatch {
                first: 0,
                count: 1,
                entries: vec![0, 1, 7],
            };
            let _ = holder.stage(batch).await;
        })
    };
    // Once the statement waits for the lock, the holder dies.
    let sent = std::time::Instant::now();
    loop {
        let waiting: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity
               WHERE datname = current_database() AND wait_event_type = 'Lock')",
        )
        .fetch_one(&mut blocker)
        .await
        .unwrap();
        if waiting {
            break;
        }
        assert!(
            !stuck.is_finished() && sent.elapsed() < std::time::Duration::from_secs(10),
            "the statement did not wait for the lock"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        !stuck.is_finished(),
        "the statement did not wait for the lock"
    );
    stuck.abort();
    let _ = stuck.await;
    drop(holder);
    let died = std::time::Instant::now();
    loop {
        if let Lease::Held(_) = PgStore::try_lease(&url, LEASE_TIMEOUT).await.unwrap() {
            break;
        }
        assert!(
            died.elapsed() < LEASE_TIMEOUT / 2,
            "a holder that died mid-statement kept the lease for {:?}",
            died.elapsed()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    sqlx::query("ROLLBACK").execute(&mut blocker).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_moves_between_lease_holders() {
    let Some(pg) = postgres() else { return };
    let url = fresh(&pg).await;
    let tmp = tempfile::tempdir().unwrap();
    let objects: Arc<dyn ObjectStorage> = Arc::new(LocalDir::new(tmp.path().join("log")));

    let first = lease(&url).await;
    let log = Log::open(fast_config(), objects.clone(), Arc::new(first.clone()))
        .await
        .unwrap();
    let follower = Log::follow(
        fast_config(),
        objects.clone(),
        Arc::new(PgStore::reader(&url).await.unwrap()),
    )
    .await
    .unwrap();
    assert!(matches!(
        follower.append(entry(0)).await,
        Err(Error::NotSequencer)
    ));
    log.append_batch((0..300).map(entry).collect())
        .await
        .unwrap();
    let published = log.publish_now().await.unwrap();
    assert_eq!(follower.publish_now().await.unwrap(), published);
    // Acknowledged but not yet in tiles when the holder dies.
    log.append_batch((300..400).map(entry).collect())
        .await
        .unwrap();
    drop(log);
    drop(first);

    let second = lease(&url).await;
    let log = Log::open(fast_config(), objects.clone(), Arc::new(second))
        .await
        .unwrap();
    let p = log.publish_now().await.unwrap();
    assert_eq!(p.checkpoint.size, 400);
    assert_eq!(log.reader().entry(399).await.unwrap(), Some(entry(399)));
    let seen = follower.publish_now().await.unwrap();
    assert_eq!(seen, p);
    assert_eq!(follower.vkey().to_string(), log.vkey().to_string());
}
