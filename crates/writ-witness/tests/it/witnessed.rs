//! The log's witness client against real witnesses: cosigned checkpoints,
//! a quorum, a witness that goes away and comes back, a witness that holds
//! a larger tree than the log (409), a forked log refused.

use std::time::{Duration, Instant};

use writ_tlog::LogKey;
use writ_tlog::cosignature::WitnessPolicy;
use writ_tlog::witnessing::{Witness, WitnessConfig, WitnessState};

use crate::common::{self, grow, start, witness_key};

/// Waits (polling, up to 20 s) until the log's witnessing state satisfies `pred`.
async fn until(log: &writ_tlog::Log, pred: impl Fn(&WitnessState) -> bool) -> WitnessState {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let state = log.witnessing().unwrap();
        if pred(&state) {
            return state;
        }
        assert!(
            Instant::now() < deadline,
            "witnessing never got there: {state:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_publishes_checkpoints_cosigned_by_a_quorum() {
    let dir = tempfile::tempdir().unwrap();
    let key = LogKey::generate().unwrap();
    let (k1, k2) = (
        witness_key("witness.test/one"),
        witness_key("witness.test/two"),
    );
    // The witnesses need the log's vkey: derive it from a log opened once.
    let vkey = {
        let l = common::log(&dir.path().join("probe"), "test.example/w", &key).await;
        l.vkey().clone()
    };
    let w1 = start(&k1, &dir.path().join("w1"), &[&vkey], "127.0.0.1:0").await;
    let w2 = start(&k2, &dir.path().join("w2"), &[&vkey], "127.0.0.1:0").await;
    let witnesses = vec![
        Witness::parse(&format!("{}={}", k1.verifier(), w1.url)).unwrap(),
        Witness::parse(&format!("{}={}", k2.verifier(), w2.url)).unwrap(),
    ];
    let config = WitnessConfig {
        quorum: 2,
        bound: Duration::from_millis(300),
        timeout: Duration::from_secs(2),
        ..WitnessConfig::new(witnesses.clone())
    };
    let policy = config.policy();
    let data = dir.path().join("log");
    let log = common::log_with(&data, "test.example/w", &key, Some(config.clone())).await;

    let p = grow(&log, "x", 10).await;
    let cosigned = log.wait_cosigned(9, Duration::from_secs(20)).await.unwrap();
    assert_eq!(cosigned.checkpoint, p.checkpoint);
    let (cp, names) = policy.open_checkpoint(log.vkey(), &cosigned.note).unwrap();
    assert_eq!((cp.size, names.len()), (10, 2));
    // The provider-signed note alone does not satisfy the policy.
    assert!(policy.open_checkpoint(log.vkey(), &p.note).is_err());

    // One witness goes away: no quorum of 2; the cosigned checkpoint stays
    // at 10 and the state turns degraded after the bound.
    let addr2 = w2.addr;
    drop(w2);
    grow(&log, "x", 5).await;
    let state = until(&log, |s| s.degraded).await;
    assert_eq!(state.cosigned.unwrap().checkpoint.size, 10);
    assert_eq!(state.latest, 15);
    assert!(state.witnesses[1].error.is_some());
    // Witness one has cosigned 15 already (it answered); witness two has not.
    assert_eq!(state.witnesses[0].size, Some(15));

    // It comes back (same store, same address): the log catches up.
    let w2 = start(&k2, &dir.path().join("w2"), &[&vkey], &addr2.to_string()).await;
    let state = until(&log, |s| {
        !s.degraded && s.cosigned.as_ref().is_some_and(|c| c.checkpoint.size == 15)
    })
    .await;
    assert!(state.witnesses.iter().all(|w| w.error.is_none()));

    // The log restarts: it does not know what the witnesses hold, learns it
    // from their 409s, and the stored cosigned checkpoint is served at once.
    drop(log);
    let log = common::log_with(&data, "test.example/w", &key, Some(config.clone())).await;
    let first = log.witnessing().unwrap();
    assert!(first.cosigned.is_none_or(|c| c.checkpoint.size == 15));
    grow(&log, "x", 1).await;
    let c = log
        .wait_cosigned(15, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(c.checkpoint.size, 16);
    policy.open_checkpoint(log.vkey(), &c.note).unwrap();
    drop(w1);
    drop(w2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forked_log_gets_no_cosignature() {
    let dir = tempfile::tempdir().unwrap();
    let key = LogKey::generate().unwrap();
    let wkey = witness_key("witness.test/fork");
    let honest = common::log(&dir.path().join("honest"), "test.example/f", &key).await;
    let w = start(
        &wkey,
        &dir.path().join("w"),
        &[honest.vkey()],
        "127.0.0.1:0",
    )
    .await;
    let witnesses = vec![Witness::parse(&format!("{}={}", wkey.verifier(), w.url)).unwrap()];
    let config = WitnessConfig {
        bound: Duration::from_millis(200),
        ..WitnessConfig::new(witnesses)
    };
    // The honest view reaches the witness first.
    let add = format!("{}/add-checkpoint", w.url);
    let h = grow(&honest, "honest", 8).await;
    let body = writ_tlog::cosignature::AddCheckpoint {
        old: 0,
        proof: vec![],
        checkpoint: h.note.clone(),
    };
    assert_eq!(common::post(&add, body.to_body()).await.0, 200);

    // A split view: the same key signs another tree, which asks the same
    // witness. It is never cosigned; the state says so.
    let forked = common::log_with(
        &dir.path().join("forked"),
        "test.example/f",
        &key,
        Some(config),
    )
    .await;
    grow(&forked, "split", 12).await;
    let state = until(&forked, |s| s.degraded).await;
    assert!(state.cosigned.is_none());
    let why = state.witnesses[0].error.clone().unwrap();
    assert!(why.starts_with("422"), "{why}");
    // And one that is smaller than what the witness holds (rolled back).
    let small_dir = dir.path().join("small");
    let small = common::log_with(
        &small_dir,
        "test.example/f",
        &key,
        Some(WitnessConfig {
            bound: Duration::from_millis(200),
            ..WitnessConfig::new(vec![
                Witness::parse(&format!("{}={}", wkey.verifier(), w.url)).unwrap(),
            ])
        }),
    )
    .await;
    grow(&small, "honest", 3).await;
    let state = until(&small, |s| s.degraded).await;
    let why = state.witnesses[0].error.clone().unwrap();
    assert!(why.contains("rolled back or forked"), "{why}");
    assert_eq!(
        w.witness
            .latest("test.example/f")
            .await
            .unwrap()
            .unwrap()
            .root,
        h.checkpoint.root
    );
    let _ = WitnessPolicy {
        witnesses: vec![],
        quorum: 0,
    };
}
