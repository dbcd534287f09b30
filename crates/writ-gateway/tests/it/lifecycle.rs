//! Random sequences of review actions, secrecy changes, callbacks and
//! releases against a real case store, delivery and the default policy
//! pack. After every step:
//! - the stored decision is what the engine and the recorded facts give
//!   now (its `notify` and section L codes those of the order as it stands;
//!   each pair the engine's, or changed only the ways review may change
//!   it), and its outcome follows from its pairs;
//! - no refusal and no `deny` of the engine is ever released, nothing
//!   leaves a rejected or withdrawn case, and a preservation order
//!   discloses nothing;
//! - a refused action changes nothing;
//! - the deadline moves only when the agency answers a question that
//!   stopped it (a European Production Order's Annex III form), and then to
//!   no earlier than the answer plus the whole window, never earlier than
//!   before;
//! - once such a question was asked, the accounts the order identifies are
//!   held until the case ends, and the hold ends with it or once an order
//!   correcting it has had its data produced;
//! - a correcting order leaves the earlier case as it was.
//!
//! At the end, once the log has every event and notice is allowed, every
//! released pair is named in a notice sent to its user.
//!
//! `PROPTEST_CASES` sets the number of sequences (40 by default, about a
//! second each in a debug build).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use proptest::prelude::*;
use serde_json::{Value, json};
use writ_connect::demo::DemoMail;
use writ_gateway::auth::Role;
use writ_gateway::delivery::{DeliveryConfig, Provider};
use writ_gateway::lifecycle::{DropPair, Proposal};
use writ_gateway::notice::{NoticeConfig, notice_due};
use writ_gateway::{Action, Actor, Gateway};
use writ_model::order::NumberSource;
use writ_model::{CaseStatus, Category, Outcome, ReasonCode, Status, Timestamp};
use writ_store::Case;

use crate::{order, start, user};

#[derive(Clone, Debug)]
enum Kind {
    /// Subscriber at once, content after two people.
    Warrant,
    /// The same, for an account that exists and one that does not.
    WarrantHalfFound,
    /// A warrant under a judge's secrecy order.
    GaggedWarrant,
    /// An emergency that waits for its callback.
    Emergency,
    /// A European Production Order, whose clock an Annex III question
    /// stops: for an account stored in the Union, one stored in the United
    /// States (its content waits for review) and one that does not exist.
    Epoc,
    /// A preservation order.
    Preservation,
}

#[derive(Clone, Debug)]
enum Step {
    Act(&'static str, Act),
    Deliver,
    /// The agency sends a new order that corrects the case's.
    Correct,
}

#[derive(Clone, Debug)]
enum Act {
    Approve,
    Reject,
    NarrowContent,
    Confirm,
    Extend(i64),
    Lift,
    Callback(bool, bool),
    EmergencyOver,
    Withdraw,
    /// A question to the agency; `true`: the order is incomplete (Annex
    /// III), which only a European Production Order may be.
    Query(bool),
    /// The agency's answer.
    Clarify,
    PreservationConfirmed,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        1 => Just(Kind::Warrant),
        1 => Just(Kind::WarrantHalfFound),
        1 => Just(Kind::GaggedWarrant),
        1 => Just(Kind::Emergency),
        3 => Just(Kind::Epoc),
        1 => Just(Kind::Preservation),
    ]
}

/// The agency whose key signs the kind's order.
fn agency(kind: &Kind) -> &'static str {
    match kind {
        Kind::Epoc => "de-bka",
        _ => "us-fbi-wfo",
    }
}

/// One step; a European order's sequences ask more Annex III questions and
/// send more corrections, so that holds placed and ended come up often.
fn step(european: bool) -> impl Strategy<Value = Step> {
    let who = prop_oneof![Just("rita"), Just("alex"), Just("avery")];
    let act = prop_oneof![
        2 => Just(Act::Approve),
        1 => Just(Act::Reject),
        1 => Just(Act::NarrowContent),
        3 => Just(Act::Confirm),
        1 => (1i64..200).prop_map(Act::Extend),
        1 => Just(Act::Lift),
        2 => (any::<bool>(), any::<bool>()).prop_map(|(v, r)| Act::Callback(v, r)),
        1 => Just(Act::EmergencyOver),
        1 => Just(Act::Withdraw),
        if european { 8 } else { 3 } => any::<bool>().prop_map(Act::Query),
        3 => Just(Act::Clarify),
        1 => Just(Act::PreservationConfirmed),
    ];
    prop_oneof![
        3 => (who, act).prop_map(|(w, a)| Step::Act(w, a)),
        1 => Just(Step::Deliver),
        if european { 2 } else { 1 } => Just(Step::Correct),
    ]
}

fn body(kind: &Kind, n: usize) -> Vec<u8> {
    let reference = format!("P-{n}");
    let mut o: Value =
        serde_json::from_slice(&order(&reference, "search_warrant", json!({}))).unwrap();
    match kind {
        Kind::Warrant => {}
        Kind::WarrantHalfFound => {
            o["targets"] = json!([
                {"kind": "email", "value": "alice@example.com"},
                {"kind": "email", "value": "nobody@example.com"},
            ]);
        }
        Kind::GaggedWarrant => {
            o["non_disclosure"] = json!({"issued_by": {"kind": "judge"}, "basis": "18 U.S.C. § 2705(b)",
                "until": Timestamp::now().plus_days(90)});
        }
        Kind::Emergency => {
            o["instrument"] = json!("emergency_request");
            o["issued_by"] = json!({"kind": "police"});
            o["categories"] = json!(["subscriber", "identification"]);
            o["emergency"] = json!({"threat": "death", "facts": "A caller threatened to kill a named person tonight."});
            o.as_object_mut().unwrap().remove("date_range");
        }
        Kind::Epoc => {
            o["agency"] = json!("de-bka");
            o["instrument"] = json!("epoc");
            o["legal_basis"] = json!("Regulation (EU) 2023/1543, Art. 5");
            o["targets"] = json!([
                {"kind": "email", "value": "dieter@example.de"},
                {"kind": "email", "value": "alice@example.com"},
                {"kind": "email", "value": "niemand@example.de"},
            ]);
            o["offence"] =
                json!({"description": "fraud", "max_custodial_years": 5, "listed": false});
            o["enforcing_authority"] =
                json!({"name": "Department of Justice, Mutual Legal Assistance", "country": "IE"});
        }
        Kind::Preservation => {
            o["instrument"] = json!("preservation_request");
            o["issued_by"] = json!({"kind": "police"});
            o["categories"] = json!(["content", "traffic"]);
        }
    }
    o.to_string().into_bytes()
}

fn action(case: &Case, act: &Act) -> Action {
    match act {
        Act::Approve => Action::Propose(Proposal::Approve),
        Act::Reject => Action::Propose(Proposal::Reject {
            reason: "not enough".into(),
        }),
        Act::NarrowContent => Action::Propose(Proposal::Narrow {
            drop: case
                .decision
                .decisions
                .iter()
                .filter(|p| p.category == Category::Content)
                .map(|p| DropPair {
                    target: p.target.clone(),
                    category: p.category,
                })
                .collect(),
        }),
        Act::Confirm => Action::Confirm,
        Act::Extend(days) => Action::Secrecy {
            until: Some(Timestamp::now().plus_days(*days)),
        },
        Act::Lift => Action::Secrecy { until: None },
        Act::Callback(verified, registry) => Action::Callback {
            verified: *verified,
            number_source: if *registry {
                NumberSource::Registry
            } else {
                NumberSource::Request
            },
        },
        Act::EmergencyOver => Action::EmergencyOver,
        Act::Withdraw => Action::Withdraw,
        Act::Query(incomplete) => Action::Query {
            message: "Which period do you mean?".into(),
            fields: vec!["date_range".into()],
            incomplete: *incomplete,
        },
        Act::Clarify => Action::Clarify {
            message: "The whole of the first half of 2026.".into(),
        },
        Act::PreservationConfirmed => Action::PreservationConfirmed,
    }
}

fn role(name: &str) -> Role {
    if name == "rita" {
        Role::Reviewer
    } else {
        Role::Approver
    }
}

/// The engine's decision on the case's order as it stands now, as of its
/// receipt.
fn fresh(
    gw_engine: &writ_policy::Pack,
    case: &Case,
    input: writ_model::DecisionInput,
) -> writ_model::Decision {
    let mut d = writ_policy::decide(gw_engine, &input);
    d.due_at = case.due_at;
    d
}

/// What the engine said of every pair at some point: a pair it ever denied
/// (or an order it ever refused) must never be released.
#[derive(Default)]
struct Seen {
    engine_denied: BTreeSet<(String, Category)>,
    refused: bool,
}

async fn check(gw: &Gateway, pack: &writ_policy::Pack, id: &str, seen: &mut Seen) -> Case {
    let case = gw.case(id).await.unwrap();
    let input = gw.decision_input_for(&case).await.unwrap();
    let engine = fresh(pack, &case, input);
    let d = &case.decision;
    // Notice and section L follow the order as it stands.
    assert_eq!(d.notify, engine.notify, "notify of {id}: {d:?}");
    let l = |d: &writ_model::Decision| -> BTreeSet<String> {
        d.reasons
            .iter()
            .filter(|r| ReasonCode::SECTION_L.contains(&r.code.as_str()))
            .map(|r| r.code.clone())
            .collect()
    };
    assert_eq!(l(d), l(&engine), "section L codes of {id}");
    // Each pair: the engine's status, or what review may make of it.
    assert_eq!(d.decisions.len(), engine.decisions.len());
    for (p, e) in d.decisions.iter().zip(&engine.decisions) {
        assert_eq!((&p.target, p.category), (&e.target, e.category));
        let reviewed = p
            .reasons
            .iter()
            .any(|r| ReasonCode::REVIEW.contains(&r.as_str()));
        let ok = p.status == e.status
            || (e.status == Status::Review
                && p.status == Status::Grant
                && case.status.is_confirmed())
            || (p.status == Status::Deny
                && reviewed
                && matches!(e.status, Status::Grant | Status::Preserve | Status::Review));
        assert!(
            ok,
            "pair {} {} is {} where the engine says {}",
            p.target, p.category, p.status, e.status
        );
        if let Some(account) = &e.account
            && e.status == Status::Deny
        {
            seen.engine_denied.insert((account.clone(), e.category));
        }
    }
    if engine.decisions.is_empty() && engine.outcome == Outcome::Reject {
        seen.refused = true;
    }
    match Outcome::of_pairs(d.decisions.iter().map(|p| p.status)) {
        Some(o) => assert_eq!(d.outcome, o, "outcome of {id}"),
        None => assert_eq!(d.outcome, Outcome::Reject),
    }
    // Nothing the engine refused or denied went out.
    if let Some(p) = gw.store().package(id).await.unwrap() {
        let pairs: Vec<(String, String)> = serde_json::from_str(&p.pairs).unwrap();
        assert!(!seen.refused, "a refused order was released");
        for (account, category) in pairs {
            let c = Category::parse(&category).unwrap();
            assert!(
                !seen.engine_denied.contains(&(account.clone(), c)),
                "{account} {category} was denied and released"
            );
        }
    }
    case
}

/// The case's hold without an end date still in force (Art. 10(9)).
async fn open_hold(gw: &Gateway, id: &str) -> Option<writ_store::HoldRow> {
    gw.store()
        .open_hold(id, writ_connect::holds::OPEN_ENDED_S)
        .await
        .unwrap()
}

/// Marks every pending event of the store as logged, as a publisher would.
async fn log_everything(gw: &Gateway) {
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

async fn run(kind: Kind, steps: Vec<Step>) {
    let t = start().await;
    let gw = &t.gw;
    let dir = t._dir.path().to_owned();
    let mail = DemoMail::open(&dir.join("demo").join("mail"))
        .await
        .unwrap();
    let mut config = DeliveryConfig::in_folder(
        Provider {
            connector: Arc::new(mail.clone()),
            holds: mail.holds().clone(),
        },
        dir.join("objects"),
    );
    config.notices = Some(NoticeConfig {
        outbox: Some(dir.join("outbox")),
        provider: "Writ test".into(),
        log_url: "http://127.0.0.1/log".into(),
        vkey: "test".into(),
        ..NoticeConfig::default()
    });
    gw.enable_delivery(config).unwrap();
    let pack = writ_policy::Pack::embedded().unwrap();
    let signer = agency(&kind);
    let submitted = gw
        .submit(writ_gateway::Submission {
            officer: None,
            submitter: signer,
            body: &body(&kind, 1),
        })
        .await
        .unwrap();
    let id = submitted.case;
    let mut seen = Seen::default();
    let mut case = check(gw, &pack, &id, &mut seen).await;
    // The whole window the rules give this order, from its receipt.
    let window = {
        let input = gw.decision_input_for(&case).await.unwrap();
        writ_policy::decide(&pack, &input).due_at.as_second() - case.decided_now.as_second()
    };
    // An Annex III question waits for its answer.
    let mut stopped = false;
    // Cases whose orders correct this one's.
    let mut corrections: Vec<String> = Vec::new();
    for s in &steps {
        let due_before = case.due_at;
        let mut answered = None;
        match s {
            Step::Deliver => {
                gw.deliver_once().await.unwrap();
                // Once a correcting order's data went out, the next pass ends
                // the earlier order's hold (Art. 10(9)).
                let mut produced = false;
                for c in &corrections {
                    produced |= gw.store().package(c).await.unwrap().is_some();
                }
                if produced {
                    gw.deliver_once().await.unwrap();
                    assert!(
                        open_hold(gw, &id).await.is_none(),
                        "a hold outlived the data's production on a corrected order"
                    );
                }
            }
            Step::Correct => {
                let mut order: Value =
                    serde_json::from_slice(&body(&kind, corrections.len() + 2)).unwrap();
                order["corrects"] = json!("P-1");
                let before = case.version;
                let s = gw
                    .submit(writ_gateway::Submission {
                        officer: None,
                        submitter: signer,
                        body: order.to_string().as_bytes(),
                    })
                    .await
                    .unwrap();
                assert_ne!(s.case, id);
                corrections.push(s.case);
                let after = gw.case(&id).await.unwrap();
                assert_eq!(
                    after.version, before,
                    "a correction changed the earlier case"
                );
            }
            Step::Act(who, act) => {
                let u = user(who, role(who));
                let a = action(&case, act);
                let actor = match act {
                    Act::Withdraw | Act::Clarify => Actor::Agency(signer),
                    _ => Actor::Staff(&u),
                };
                let before = case.version;
                let asked_at = Timestamp::now().as_second();
                let identified = case.decision.decisions.iter().any(|p| p.account.is_some());
                if gw.change(actor, &id, a).await.is_err() {
                    let after = gw.case(&id).await.unwrap();
                    assert_eq!(after.version, before, "a refused {act:?} changed the case");
                } else {
                    match act {
                        Act::Query(true) => {
                            stopped = true;
                            if identified {
                                assert!(
                                    open_hold(gw, &id).await.is_some(),
                                    "an incomplete order's data is not held"
                                );
                            }
                        }
                        Act::Clarify => {
                            if stopped {
                                answered = Some(asked_at);
                            }
                            stopped = false;
                        }
                        _ => {}
                    }
                }
            }
        }
        case = check(gw, &pack, &id, &mut seen).await;
        assert_eq!(case.decision.due_at, case.due_at, "two deadlines");
        if matches!(kind, Kind::Preservation) {
            assert!(
                gw.store().package(&id).await.unwrap().is_none(),
                "a preservation order disclosed data"
            );
        }
        match answered {
            Some(at) => {
                assert!(
                    case.due_at >= due_before,
                    "an answer brought the deadline forward"
                );
                assert!(
                    case.due_at.as_second() >= at + window,
                    "an answer gave less than the whole window"
                );
            }
            None => assert_eq!(case.due_at, due_before, "the deadline moved on {s:?}"),
        }
        if matches!(case.status, CaseStatus::Rejected | CaseStatus::Withdrawn)
            || (case.status == CaseStatus::Decided && case.decision.ends_case())
        {
            let before = gw.store().package(&id).await.unwrap().map(|p| p.generation);
            gw.deliver_once().await.unwrap();
            let after = gw.store().package(&id).await.unwrap().map(|p| p.generation);
            assert_eq!(before, after, "a {} case released more", case.status);
            assert!(
                open_hold(gw, &id).await.is_none(),
                "a hold outlived its {} case",
                case.status
            );
        }
    }

    // Settle: deliver, log, deliver again (notices wait for the log).
    for _ in 0..3 {
        gw.deliver_once().await.unwrap();
        log_everything(gw).await;
    }
    let case = gw.case(&id).await.unwrap();
    let Some(package) = gw.store().package(&id).await.unwrap() else {
        return;
    };
    let events = gw.store().events_for_case(&id).await.unwrap();
    let over = events
        .iter()
        .any(|e| e.kind == "reviewed" && e.private.contains("emergency_over"));
    let deferred = events.iter().any(|e| e.state == "deferred");
    if !notice_due(&case.decision, over, Timestamp::now()) || deferred {
        return;
    }
    let mut told: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for n in gw.store().notices(&id).await.unwrap() {
        if n.state != writ_model::NoticeState::Sent {
            continue;
        }
        let summary: Value = serde_json::from_str(&n.summary).unwrap();
        for a in summary["accounts"].as_array().unwrap() {
            for c in a["categories"].as_array().unwrap() {
                told.entry(a["account"].as_str().unwrap().to_owned())
                    .or_default()
                    .insert(c.as_str().unwrap().to_owned());
            }
        }
    }
    let pairs: Vec<(String, String)> = serde_json::from_str(&package.pairs).unwrap();
    for (account, category) in pairs {
        assert!(
            told.get(&account).is_some_and(|c| c.contains(&category)),
            "{account} {category} went out and no notice names it: {told:?}"
        );
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(40)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_sequence_of_actions_keeps_the_law(
        (kind, steps) in kind().prop_flat_map(|k| {
            let steps = prop::collection::vec(step(matches!(k, Kind::Epoc)), 1..12);
            (Just(k), steps)
        })
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(run(kind, steps));
    }
}
