//! Log entries for case events (`docs/formats.md`, "Transparency log").
//!
//! Each entry is canonical JSON with a few public counts and salted
//! commitments to the private details: the first to the order-level details,
//! then one per target, so that a user's receipt opens only what is about
//! that user. Salts and details stay in the case store with the event.
//!
//! The entries themselves are `writ_events`' structs: this module only
//! decides what goes into them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use writ_events::{Commitment, Event, Opening, Private, Public, Salt};
use writ_model::{Decision, EventState, Instrument, Order, Status, Timestamp};
use writ_store::NewEvent;

use crate::{GatewayError, Result, random_bytes};

/// What every event of a case needs to know.
#[derive(Clone, Debug)]
pub struct CaseContext<'a> {
    pub case_id: &'a str,
    pub order: &'a Order,
    /// SHA-256 of the order as received.
    pub order_sha256: &'a str,
    /// The agency whose key signed the order.
    pub submitter: &'a str,
    /// The requester's country: the registry entry of the agency whose key
    /// signed the order (what the order claims is in the commitments).
    pub country: Option<&'a str>,
}

/// Whether a case's events are held back (`docs/formats.md`, "Deferred entries"):
/// a binding secrecy order, a European order, or a national security letter
/// (unless refused as `instrument_not_available`).
pub fn deferred(order: &Order, decision: &Decision, now: Timestamp) -> bool {
    let codes = decision.codes();
    let nsl = order.instrument == Instrument::NationalSecurityLetter
        && !codes.contains(&"instrument_not_available");
    let european = matches!(order.instrument, Instrument::Epoc | Instrument::EpocPr);
    let gag = order.non_disclosure.as_ref().is_some_and(|nd| {
        nd.until.is_none_or(|until| until > now) && !codes.contains(&"gag_not_binding")
    });
    nsl || european || gag
}

/// The commitments of a case event and the private part kept beside it.
type Committed = (Vec<Commitment>, Private);

/// The private details and commitments for a case event.
fn commitments(
    ctx: &CaseContext<'_>,
    decision: Option<&Decision>,
    extra: Option<Value>,
) -> Result<Committed> {
    let mut details = Vec::with_capacity(ctx.order.targets.len() + 1);
    let mut order_level = json!({
        "agency": ctx.order.agency.as_str(),
        "submitted_by": ctx.submitter,
        "reference": ctx.order.reference.as_str(),
        "order_sha256": ctx.order_sha256,
    });
    // What the event adds (who acted, the package hash) goes in beside the
    // order-level details.
    if let (Some(Value::Object(extra)), Some(map)) = (extra, order_level.as_object_mut()) {
        map.extend(extra);
    }
    details.push(order_level);
    for target in &ctx.order.targets {
        let label = target.label();
        let pairs: Vec<Value> = decision
            .map(|d| {
                d.decisions
                    .iter()
                    .filter(|p| p.target == label)
                    .map(|p| json!({"category": p.category, "status": p.status, "account": p.account}))
                    .collect()
            })
            .unwrap_or_default();
        details.push(json!({
            "target": label,
            "pairs": pairs,
            "date_range": ctx.order.date_range,
        }));
    }
    seal(details)
}

/// Commits to each of `details` with a fresh salt (`docs/formats.md`).
fn seal(details: Vec<Value>) -> Result<Committed> {
    let openings = details
        .into_iter()
        .map(|d| Ok(Opening::new(Salt(random_bytes::<32>()?), d)))
        .collect::<Result<Vec<_>>>()?;
    let commitments = openings.iter().map(Opening::commitment).collect();
    Ok((commitments, Private::of(openings)))
}

fn text(bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| GatewayError::Internal(format!("entry: {e}")))
}

fn entry(
    ctx: &CaseContext<'_>,
    at: Timestamp,
    defer: bool,
    public: Public,
    (commitments, private): Committed,
) -> Result<NewEvent> {
    let mut event = Event::of_case(ctx.case_id, at, defer, public);
    event.commitments = commitments;
    Ok(NewEvent {
        case_id: Some(ctx.case_id.to_owned()),
        kind: event.kind().as_str().to_owned(),
        entry: text(event.to_entry()?)?,
        private: text(private.to_canonical()?)?,
        state: if defer {
            EventState::Deferred
        } else {
            EventState::Pending
        }
        .as_str()
        .to_owned(),
        created_at: at.as_second(),
    })
}

/// `received`: an order is stored.
/// `officer`: the officer who submitted it through the portal, if one did
/// (in the commitment, never in the public fields).
pub fn received(
    ctx: &CaseContext<'_>,
    officer: Option<String>,
    at: Timestamp,
    defer: bool,
) -> Result<NewEvent> {
    let public = Public::Received(writ_events::Received {
        country: ctx.country.map(str::to_owned),
        instrument: ctx.order.instrument,
        emergency: ctx.order.emergency.is_some(),
        targets: count(ctx.order.targets.len()),
        gag: ctx.order.non_disclosure.is_some(),
    });
    let extra = officer.map(|o| json!({"officer": o}));
    entry(ctx, at, defer, public, commitments(ctx, None, extra)?)
}

/// A count as logged.
fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// The public figures of a decision: accounts that resolve to data, those
/// stored outside the issuing country, and granted pairs per category.
fn figures(ctx: &CaseContext<'_>, d: &Decision) -> (u64, u64, BTreeMap<String, u64>) {
    let mut accounts = BTreeSet::new();
    let mut abroad = BTreeSet::new();
    let mut granted = BTreeMap::new();
    for p in &d.decisions {
        if let Some(account) = &p.account
            && p.status != Status::NoData
        {
            accounts.insert(account.clone());
            if let (Some(loc), Some(c)) = (&p.data_location, ctx.country)
                && loc.as_str() != c
            {
                abroad.insert(account.clone());
            }
        }
        if p.status.is_granted() {
            *granted.entry(p.category.as_str().to_owned()).or_insert(0) += 1;
        }
    }
    (count(accounts.len()), count(abroad.len()), granted)
}

/// `decided`: the engine decides (or decides again). An order refused at
/// step 1 has no pairs; its `accounts` and `accounts_abroad` are still
/// counted, from `resolved` (what its targets resolve to).
pub fn decided(
    ctx: &CaseContext<'_>,
    d: &Decision,
    resolved: Option<(usize, usize)>,
    at: Timestamp,
    defer: bool,
) -> Result<NewEvent> {
    let committed = commitments(ctx, Some(d), None)?;
    let (mut accounts, mut accounts_abroad, granted) = figures(ctx, d);
    if d.decisions.is_empty()
        && let Some((a, abroad)) = resolved
    {
        (accounts, accounts_abroad) = (count(a), count(abroad));
    }
    let public = Public::Decided(writ_events::Decided {
        outcome: d.outcome,
        reasons: d.codes().into_iter().map(str::to_owned).collect(),
        accounts,
        accounts_abroad,
        granted,
        due_hour: writ_events::event::cut(d.due_at, defer),
        on_time: d.ends_case().then_some(at <= d.due_at),
    });
    entry(ctx, at, defer, public, committed)
}

/// `reviewed`: a console user acts, or a second approver confirms.
#[allow(clippy::too_many_arguments)]
pub fn reviewed(
    ctx: &CaseContext<'_>,
    action: &str,
    role: &str,
    user: &str,
    d: &Decision,
    ends: bool,
    at: Timestamp,
    defer: bool,
) -> Result<NewEvent> {
    let committed = commitments(ctx, Some(d), Some(json!({"action": action, "user": user})))?;
    let (_, _, granted) = figures(ctx, d);
    let public = Public::Reviewed(writ_events::Reviewed {
        action: action.to_owned(),
        role: role.to_owned(),
        outcome: d.outcome,
        granted,
        on_time: ends.then_some(at <= d.due_at),
    });
    entry(ctx, at, defer, public, committed)
}

/// `verified`: staff recorded an emergency callback.
pub fn verified(
    ctx: &CaseContext<'_>,
    verified: bool,
    number_source: &str,
    check: Option<&str>,
    user: &str,
    at: Timestamp,
    defer: bool,
) -> Result<NewEvent> {
    let public = Public::Verified(writ_events::Verified {
        result: if verified { "verified" } else { "failed" }.to_owned(),
        number_source: number_source.to_owned(),
        check: check.map(str::to_owned),
    });
    let committed = commitments(ctx, None, Some(json!({"user": user})))?;
    entry(ctx, at, defer, public, committed)
}

/// `extended`: a court extended or lifted a secrecy order.
pub fn extended(
    ctx: &CaseContext<'_>,
    until: Option<Timestamp>,
    user: &str,
    at: Timestamp,
    defer: bool,
) -> Result<NewEvent> {
    let public = Public::Extended(writ_events::Extended {
        until_day: until.map(|u| u.date_string()),
    });
    let committed = commitments(ctx, None, Some(json!({"user": user})))?;
    entry(ctx, at, defer, public, committed)
}

/// `queried`: staff asked the agency for a clarification.
pub fn queried(
    ctx: &CaseContext<'_>,
    fields: usize,
    incomplete: bool,
    user: &str,
    at: Timestamp,
    defer: bool,
) -> Result<NewEvent> {
    let public = Public::Queried(writ_events::event::Queried {
        fields: fields as u64,
        incomplete,
    });
    let committed = commitments(ctx, None, Some(json!({"user": user})))?;
    entry(ctx, at, defer, public, committed)
}

/// `clarified`: the agency answered; `due`: the new deadline when the
/// answer started a stopped clock again.
pub fn clarified(
    ctx: &CaseContext<'_>,
    due: Option<Timestamp>,
    officer: Option<String>,
    at: Timestamp,
    defer: bool,
) -> Result<NewEvent> {
    let public = Public::Clarified(writ_events::event::Clarified {
        due_hour: due.map(|d| writ_events::event::cut(d, defer)),
    });
    let extra = officer.map(|o| json!({"officer": o}));
    entry(ctx, at, defer, public, commitments(ctx, None, extra)?)
}

/// `withdrawn`: the agency withdrew its order.
pub fn withdrawn(ctx: &CaseContext<'_>, at: Timestamp, defer: bool) -> Result<NewEvent> {
    entry(
        ctx,
        at,
        defer,
        Public::Withdrawn,
        commitments(ctx, None, None)?,
    )
}

/// `preserved`: a hold is placed or renewed.
pub fn preserved(
    ctx: &CaseContext<'_>,
    accounts: usize,
    until: Option<Timestamp>,
    on_time: bool,
    at: Timestamp,
    defer: bool,
) -> Result<NewEvent> {
    let public = Public::Preserved(writ_events::Preserved {
        accounts: count(accounts),
        until_day: until.map(|u| u.date_string()),
        on_time,
    });
    entry(ctx, at, defer, public, commitments(ctx, None, None)?)
}

/// `disclosed`: a package is ready for the agency. The order-level
/// commitment covers the package's hash; each target's covers the pairs
/// released for it.
pub fn disclosed(
    ctx: &CaseContext<'_>,
    released: &Decision,
    package_sha256: &str,
    generation: i64,
    at: Timestamp,
    defer: bool,
) -> Result<NewEvent> {
    let committed = commitments(
        ctx,
        Some(released),
        Some(json!({"package_sha256": package_sha256, "package": generation})),
    )?;
    let mut disclosed: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for p in &released.decisions {
        if let Some(account) = &p.account {
            disclosed
                .entry(p.category.as_str())
                .or_default()
                .insert(account);
        }
    }
    let public = Public::Disclosed(writ_events::Disclosed {
        disclosed: disclosed
            .into_iter()
            .map(|(c, a)| (c.to_owned(), count(a.len())))
            .collect(),
        on_time: at <= released.due_at,
    });
    entry(ctx, at, defer, public, committed)
}

/// `released`: a hold lapsed (or was released).
pub fn released(
    ctx: &CaseContext<'_>,
    accounts: usize,
    at: Timestamp,
    defer: bool,
) -> Result<NewEvent> {
    let public = Public::Released(writ_events::Released {
        accounts: count(accounts),
    });
    entry(ctx, at, defer, public, commitments(ctx, None, None)?)
}

/// `notified`: notices went out to `users` users.
pub fn notified(
    ctx: &CaseContext<'_>,
    users: usize,
    notice_id: &str,
    at: Timestamp,
    defer: bool,
) -> Result<NewEvent> {
    let public = Public::Notified(writ_events::Notified {
        users: count(users),
    });
    let committed = commitments(ctx, None, Some(json!({"notice": notice_id})))?;
    entry(ctx, at, defer, public, committed)
}

/// `expired`: a package was deleted after its download window.
pub fn expired(ctx: &CaseContext<'_>, at: Timestamp, defer: bool) -> Result<NewEvent> {
    entry(
        ctx,
        at,
        defer,
        Public::Expired,
        commitments(ctx, None, None)?,
    )
}

/// `registry`: an agency or a console user changed. Identities are in the
/// commitment, never in the public fields.
pub fn registry(
    action: &str,
    country: Option<&str>,
    details: Value,
    at: Timestamp,
) -> Result<NewEvent> {
    let (commitments, private) = seal(vec![details])?;
    let event = Event {
        case: None,
        hour: at.floor_hour(),
        public: Public::Registry(writ_events::Registry {
            action: action.to_owned(),
            country: country.map(str::to_owned),
        }),
        commitments,
    };
    Ok(NewEvent {
        case_id: None,
        kind: event.kind().as_str().to_owned(),
        entry: text(event.to_entry()?)?,
        private: text(private.to_canonical()?)?,
        state: EventState::Pending.as_str().to_owned(),
        created_at: at.as_second(),
    })
}
