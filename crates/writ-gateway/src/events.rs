//! Log entries for case events (`docs/formats.md`, "Transparency log").
//!
//! Each entry is canonical JSON with a few public counts and salted
//! commitments to the private details: the first to the order-level details,
//! then one per target, so that a user's receipt opens only what is about
//! that user. Salts and details stay in the case store with the event.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use writ_model::{Decision, EventState, Instrument, Order, Status, Timestamp};
use writ_store::NewEvent;

use crate::canonical;
use crate::{Result, random_bytes};

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

/// The private details and commitments for a case event.
fn commitments(
    ctx: &CaseContext<'_>,
    decision: Option<&Decision>,
    extra: Option<Value>,
) -> Result<(Vec<String>, Value)> {
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
    let mut salts = Vec::with_capacity(details.len());
    let mut commitments = Vec::with_capacity(details.len());
    for d in &details {
        let (salt, commitment) = commit(d)?;
        commitments.push(commitment);
        salts.push(salt);
    }
    Ok((commitments, json!({"salts": salts, "details": details})))
}

/// A commitment to private details with a fresh salt (`docs/formats.md`): the
/// salt (hex) to keep, and the commitment (hex) to log.
fn commit(details: &Value) -> Result<(String, String)> {
    let salt = random_bytes::<32>()?;
    let commitment = writ_tlog::entry::commit(&writ_tlog::entry::Salt(salt), details);
    Ok((hex::encode(salt), commitment.to_string()))
}

fn entry(
    kind: &str,
    ctx: &CaseContext<'_>,
    at: Timestamp,
    defer: bool,
    public: Value,
    commitments: Vec<String>,
    private: Value,
) -> NewEvent {
    let hour = if defer {
        at.floor_day()
    } else {
        at.floor_hour()
    };
    let mut value = json!({
        "v": 1,
        "kind": kind,
        "case": ctx.case_id,
        "hour": hour,
        "commitments": commitments,
    });
    if let Some(map) = value.as_object_mut()
        && !public.is_null()
    {
        map.insert("public".to_owned(), public);
    }
    NewEvent {
        case_id: Some(ctx.case_id.to_owned()),
        kind: kind.to_owned(),
        entry: canonical::to_string(&value),
        private: canonical::to_string(&private),
        state: if defer {
            EventState::Deferred
        } else {
            EventState::Pending
        }
        .as_str()
        .to_owned(),
        created_at: at.as_second(),
    }
}

/// `received`: an order is stored.
pub fn received(ctx: &CaseContext<'_>, at: Timestamp, defer: bool) -> Result<NewEvent> {
    let (commitments, private) = commitments(ctx, None, None)?;
    let public = json!({
        "country": ctx.country,
        "instrument": ctx.order.instrument,
        "emergency": ctx.order.emergency.is_some(),
        "targets": ctx.order.targets.len(),
        "gag": ctx.order.non_disclosure.is_some(),
    });
    Ok(entry(
        "received",
        ctx,
        at,
        defer,
        public,
        commitments,
        private,
    ))
}

/// The public figures of a decision: accounts that resolve to data, those
/// stored outside the issuing country, and granted pairs per category.
fn figures(ctx: &CaseContext<'_>, d: &Decision) -> (usize, usize, BTreeMap<String, usize>) {
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
    (accounts.len(), abroad.len(), granted)
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
    let (commitments, private) = commitments(ctx, Some(d), None)?;
    let (mut accounts, mut accounts_abroad, granted) = figures(ctx, d);
    if d.decisions.is_empty()
        && let Some((a, abroad)) = resolved
    {
        (accounts, accounts_abroad) = (a, abroad);
    }
    let due_hour = if defer {
        d.due_at.floor_day()
    } else {
        d.due_at.floor_hour()
    };
    let mut public = json!({
        "outcome": d.outcome,
        "reasons": d.codes(),
        "accounts": accounts,
        "accounts_abroad": accounts_abroad,
        "granted": granted,
        "due_hour": due_hour,
    });
    if d.ends_case()
        && let Some(map) = public.as_object_mut()
    {
        map.insert("on_time".to_owned(), json!(at <= d.due_at));
    }
    Ok(entry(
        "decided",
        ctx,
        at,
        defer,
        public,
        commitments,
        private,
    ))
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
    let (commitments, private) =
        commitments(ctx, Some(d), Some(json!({"action": action, "user": user})))?;
    let (_, _, granted) = figures(ctx, d);
    let mut public = json!({
        "action": action,
        "role": role,
        "outcome": d.outcome,
        "granted": granted,
    });
    if ends && let Some(map) = public.as_object_mut() {
        map.insert("on_time".to_owned(), json!(at <= d.due_at));
    }
    Ok(entry(
        "reviewed",
        ctx,
        at,
        defer,
        public,
        commitments,
        private,
    ))
}

/// `verified`: staff recorded an emergency callback.
pub fn verified(
    ctx: &CaseContext<'_>,
    verified: bool,
    number_source: &str,
    user: &str,
    at: Timestamp,
    defer: bool,
) -> Result<NewEvent> {
    let (commitments, private) = commitments(ctx, None, Some(json!({"user": user})))?;
    let public = json!({
        "result": if verified { "verified" } else { "failed" },
        "number_source": number_source,
    });
    Ok(entry(
        "verified",
        ctx,
        at,
        defer,
        public,
        commitments,
        private,
    ))
}

/// `extended`: a court extended or lifted a secrecy order.
pub fn extended(
    ctx: &CaseContext<'_>,
    until: Option<Timestamp>,
    user: &str,
    at: Timestamp,
    defer: bool,
) -> Result<NewEvent> {
    let (commitments, private) = commitments(ctx, None, Some(json!({"user": user})))?;
    let public = json!({ "until_day": until.map(|u| u.date_string()) });
    Ok(entry(
        "extended",
        ctx,
        at,
        defer,
        public,
        commitments,
        private,
    ))
}

/// `withdrawn`: the agency withdrew its order.
pub fn withdrawn(ctx: &CaseContext<'_>, at: Timestamp, defer: bool) -> Result<NewEvent> {
    let (commitments, private) = commitments(ctx, None, None)?;
    Ok(entry(
        "withdrawn",
        ctx,
        at,
        defer,
        Value::Null,
        commitments,
        private,
    ))
}

/// `preserved`: a hold is placed or renewed.
pub fn preserved(
    ctx: &CaseContext<'_>,
    accounts: usize,
    until: Timestamp,
    on_time: bool,
    at: Timestamp,
    defer: bool,
) -> Result<NewEvent> {
    let (commitments, private) = commitments(ctx, None, None)?;
    let public =
        json!({"accounts": accounts, "until_day": until.date_string(), "on_time": on_time});
    Ok(entry(
        "preserved",
        ctx,
        at,
        defer,
        public,
        commitments,
        private,
    ))
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
    let (commitments, private) = commitments(
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
    let disclosed: BTreeMap<&str, usize> =
        disclosed.into_iter().map(|(c, a)| (c, a.len())).collect();
    let public = json!({"disclosed": disclosed, "on_time": at <= released.due_at});
    Ok(entry(
        "disclosed",
        ctx,
        at,
        defer,
        public,
        commitments,
        private,
    ))
}

/// `released`: a hold lapsed (or was released).
pub fn released(
    ctx: &CaseContext<'_>,
    accounts: usize,
    at: Timestamp,
    defer: bool,
) -> Result<NewEvent> {
    let (commitments, private) = commitments(ctx, None, None)?;
    Ok(entry(
        "released",
        ctx,
        at,
        defer,
        json!({ "accounts": accounts }),
        commitments,
        private,
    ))
}

/// `notified`: notices went out to `users` users.
pub fn notified(
    ctx: &CaseContext<'_>,
    users: usize,
    notice_id: &str,
    at: Timestamp,
    defer: bool,
) -> Result<NewEvent> {
    let (commitments, private) = commitments(ctx, None, Some(json!({"notice": notice_id})))?;
    Ok(entry(
        "notified",
        ctx,
        at,
        defer,
        json!({ "users": users }),
        commitments,
        private,
    ))
}

/// `expired`: a package was deleted after its download window.
pub fn expired(ctx: &CaseContext<'_>, at: Timestamp, defer: bool) -> Result<NewEvent> {
    let (commitments, private) = commitments(ctx, None, None)?;
    Ok(entry(
        "expired",
        ctx,
        at,
        defer,
        Value::Null,
        commitments,
        private,
    ))
}

/// `registry`: an agency or a console user changed. Identities are in the
/// commitment, never in the public fields.
pub fn registry(
    action: &str,
    country: Option<&str>,
    details: Value,
    at: Timestamp,
) -> Result<NewEvent> {
    let (salt, commitment) = commit(&details)?;
    let mut public = json!({ "action": action });
    if let (Some(c), Some(map)) = (country, public.as_object_mut()) {
        map.insert("country".to_owned(), json!(c));
    }
    let value = json!({
        "v": 1,
        "kind": "registry",
        "hour": at.floor_hour(),
        "public": public,
        "commitments": [commitment],
    });
    Ok(NewEvent {
        case_id: None,
        kind: "registry".to_owned(),
        entry: canonical::to_string(&value),
        private: canonical::to_string(&json!({"salts": [salt], "details": [details]})),
        state: EventState::Pending.as_str().to_owned(),
        created_at: at.as_second(),
    })
}
