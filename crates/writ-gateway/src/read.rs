//! Read models: what the console's pages show, assembled here so that the
//! pages never reach into the case store and every rule they display (the
//! review flags, which stage a case waits at) exists once.

use serde_json::Value;
use writ_model::{
    AgencyStatus, CaseStatus, Category, Decision, EventState, Outcome, PairDecision,
    ProposalAction, Reason, ReasonCode, Status, Timestamp,
};
use writ_store::{AgencyKeyRow, AgencyRow, Case, EventRow, HistoryRow, NoticeRow, PackageRow};

use crate::auth::{Role, User};
use crate::lifecycle::may_review;
use crate::review::OpenProposal;
use crate::{Gateway, GatewayError, Result};

/// What a reviewer should see at a glance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Flag {
    IndefiniteGag,
    LongGag,
    DataAbroad,
    ConflictOfLaws,
    UnverifiedEmergency,
    NewRequester,
}

impl Flag {
    pub fn label(self) -> &'static str {
        match self {
            Flag::IndefiniteGag => "indefinite gag",
            Flag::LongGag => "long gag",
            Flag::DataAbroad => "data abroad",
            Flag::ConflictOfLaws => "conflict of laws",
            Flag::UnverifiedEmergency => "unverified emergency",
            Flag::NewRequester => "new requester",
        }
    }
}

/// How long a requester counts as new to the reviewers after its first
/// verification, even once the pack's own threshold has passed.
const NEW_REQUESTER_DAYS: i64 = 90;

/// The review flags of a decision, from its reason codes and the
/// requester's registry entry (the one rule; the API's `flags` field is
/// derived from it).
pub fn flags(decision: &Decision, agency: Option<&AgencyRow>, now: Timestamp) -> Vec<Flag> {
    let codes = decision.codes();
    let country = agency.map(|a| a.country.as_str());
    let mut out = Vec::new();
    if codes.contains(&ReasonCode::INDEFINITE_GAG) {
        out.push(Flag::IndefiniteGag);
    }
    if codes.contains(&ReasonCode::LONG_GAG) {
        out.push(Flag::LongGag);
    }
    let abroad = codes.contains(&"extraterritorial_data")
        || codes.contains(&"outside_jurisdiction")
        || decision.decisions.iter().any(|p| {
            p.data_location
                .as_ref()
                .is_some_and(|l| Some(l.as_str()) != country)
        });
    if abroad {
        out.push(Flag::DataAbroad);
    }
    if codes.contains(&"conflict_of_laws") {
        out.push(Flag::ConflictOfLaws);
    }
    if codes.contains(&ReasonCode::EMERGENCY_UNVERIFIED) {
        out.push(Flag::UnverifiedEmergency);
    }
    let recent = agency.is_some_and(|a| {
        AgencyStatus::parse(&a.status) != Some(AgencyStatus::Verified)
            || a.verified_since
                .is_none_or(|v| v > now.plus_days(-NEW_REQUESTER_DAYS).as_second())
    });
    if codes.contains(&ReasonCode::NEW_REQUESTER) || recent {
        out.push(Flag::NewRequester);
    }
    out
}

/// What a queued case waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// An emergency waits for the callback to be recorded.
    Callback,
    /// A proposal waits for a second approver.
    Confirmation,
    /// Nobody has proposed anything yet.
    Proposal,
}

impl Stage {
    pub const ALL: [Stage; 3] = [Stage::Callback, Stage::Confirmation, Stage::Proposal];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Callback => "callback",
            Stage::Confirmation => "confirmation",
            Stage::Proposal => "proposal",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|st| st.as_str() == s)
    }

    fn of(decision: &Decision, open_proposals: usize) -> Stage {
        if decision.awaits_callback() || decision.awaits_channel() {
            Stage::Callback
        } else if open_proposals > 0 {
            Stage::Confirmation
        } else {
            Stage::Proposal
        }
    }
}

/// A case in the review queue.
#[derive(Clone, Debug)]
pub struct QueueItem {
    pub case: Case,
    /// The requester's country ("" when it is not in the registry).
    pub country: String,
    pub stage: Stage,
    pub flags: Vec<Flag>,
}

/// A case as the console's case page shows it.
#[derive(Clone, Debug)]
pub struct CaseDetail {
    pub case: Case,
    /// The requester's registry entry.
    pub agency: Option<AgencyRow>,
    pub flags: Vec<Flag>,
    pub proposals: Vec<OpenProposal>,
    pub events: Vec<EventRow>,
    pub package: Option<PackageRow>,
    pub notices: Vec<NoticeRow>,
    /// Every pair of the decision with what became of it.
    pub pairs: Vec<PairView>,
    /// Every package sealed for the case, oldest first.
    pub releases: Vec<Release>,
    /// The case's history in words, oldest first.
    pub history: Vec<HistoryItem>,
}

/// What became of one (target, category) pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PairFate {
    /// Sealed into package `generation` at `at`.
    Released { generation: i64, at: Timestamp },
    /// Not released yet: what it waits for, and for whom.
    Waiting(String),
    /// Refused by the engine or in review (see the pair's reasons).
    Refused,
    /// The account holds no data, or no account matched.
    NoData,
    /// Held by a legal hold; nothing is disclosed.
    Preserved(Option<Timestamp>),
    /// Never to be released: why.
    Closed(String),
}

impl PairFate {
    /// A short word for the pair's state, for tables and tests.
    pub fn label(&self) -> &'static str {
        match self {
            PairFate::Released { .. } => "Released",
            PairFate::Waiting(_) => "Held",
            PairFate::Refused => "Refused",
            PairFate::NoData => "No data held",
            PairFate::Preserved(_) => "Preserved, not disclosed",
            PairFate::Closed(_) => "Not released",
        }
    }
}

/// One pair as the case page shows it.
#[derive(Clone, Debug)]
pub struct PairView {
    pub pair: PairDecision,
    pub fate: PairFate,
    /// The rules that fired on this pair, with their citations.
    pub reasons: Vec<Reason>,
}

/// A package sealed for a case.
#[derive(Clone, Debug)]
pub struct Release {
    pub generation: i64,
    pub at: Timestamp,
    /// (target, category) of every pair it holds.
    pub pairs: Vec<(String, Category)>,
}

/// One step of a case's history.
#[derive(Clone, Debug)]
pub struct HistoryItem {
    pub at: Timestamp,
    /// What happened, in words.
    pub what: String,
    /// Who did it: a console user (with role), the agency, or the system.
    pub by: String,
    pub state: Option<EventState>,
    pub log_index: Option<i64>,
}

/// An agency as the registry page shows it.
#[derive(Clone, Debug)]
pub struct AgencyDetail {
    pub agency: AgencyRow,
    pub keys: Vec<AgencyKeyRow>,
    pub history: Vec<HistoryRow>,
}

fn admin(user: &User) -> Result<()> {
    if user.role == Role::Admin {
        Ok(())
    } else {
        Err(GatewayError::Forbidden(
            "only an admin manages the agency registry".into(),
        ))
    }
}

impl Gateway {
    /// The review queue, with what its page shows.
    pub async fn queue_items(&self, user: &User) -> Result<Vec<QueueItem>> {
        may_review(user)?;
        let cases = self.store().review_queue(500).await?;
        let agencies = self.store().agencies().await?;
        let now = Timestamp::now();
        let mut items = Vec::with_capacity(cases.len());
        for case in cases {
            let open = self.store().open_proposals(&case.id).await?.len();
            let agency = agencies.iter().find(|a| a.id == case.signer);
            items.push(QueueItem {
                country: agency.map(|a| a.country.clone()).unwrap_or_default(),
                stage: Stage::of(&case.decision, open),
                flags: flags(&case.decision, agency, now),
                case,
            });
        }
        Ok(items)
    }

    /// Cases found by id, reference, agency (id or name), account or target
    /// identifier, newest first; at most 200.
    pub async fn search_cases(&self, user: &User, term: &str) -> Result<Vec<QueueItem>> {
        may_review(user)?;
        let term = term.trim();
        if term.is_empty() {
            return Ok(Vec::new());
        }
        let agencies = self.store().agencies().await?;
        let mut cases = self.store().search_cases(term, 200).await?;
        // An agency's name is in the registry, not in its cases.
        let lower = term.to_lowercase();
        for a in agencies
            .iter()
            .filter(|a| a.name.to_lowercase().contains(&lower))
        {
            for c in self.store().agency_cases(&a.id, 200).await? {
                if !cases.iter().any(|k| k.id == c.id) {
                    cases.push(c);
                }
            }
        }
        cases.sort_by(|a, b| b.received_at.cmp(&a.received_at).then(a.id.cmp(&b.id)));
        cases.truncate(200);
        let now = Timestamp::now();
        let mut items = Vec::with_capacity(cases.len());
        for case in cases {
            let open = self.store().open_proposals(&case.id).await?.len();
            let agency = agencies.iter().find(|a| a.id == case.signer);
            items.push(QueueItem {
                country: agency.map(|a| a.country.clone()).unwrap_or_default(),
                stage: Stage::of(&case.decision, open),
                flags: flags(&case.decision, agency, now),
                case,
            });
        }
        Ok(items)
    }

    /// One case with everything its page shows.
    pub async fn case_detail(&self, user: &User, case_id: &str) -> Result<CaseDetail> {
        may_review(user)?;
        let case = self.case(case_id).await?;
        let agency = self.store().agency(&case.signer).await?;
        let proposals = self.open_proposals(&case).await?;
        let events = self.store().events_for_case(case_id).await?;
        let releases = releases(&events);
        let open = proposals
            .last()
            .map(|p| (p.proposed_by.as_str(), p.action.as_str()));
        let pairs = pair_views(&case, &releases, open);
        let history = history(&case, &events);
        Ok(CaseDetail {
            flags: flags(&case.decision, agency.as_ref(), Timestamp::now()),
            agency,
            pairs,
            releases,
            history,
            proposals,
            events,
            package: self.store().package(case_id).await?,
            notices: self.store().notices(case_id).await?,
            case,
        })
    }

    /// Every registry entry (admins).
    pub async fn agency_list(&self, user: &User) -> Result<Vec<AgencyRow>> {
        admin(user)?;
        Ok(self.store().agencies().await?)
    }

    /// The registry's agencies for staff who record an order that arrived
    /// on paper: `(id, name, country)`, by id.
    pub async fn agency_choices(&self, user: &User) -> Result<Vec<(String, String, String)>> {
        crate::lifecycle::may_review(user)?;
        Ok(self
            .store()
            .agencies()
            .await?
            .into_iter()
            .map(|a| (a.id, a.name, a.country))
            .collect())
    }

    /// One registry entry with its keys and history (admins).
    pub async fn agency_detail(&self, user: &User, id: &str) -> Result<AgencyDetail> {
        admin(user)?;
        let agency = self
            .store()
            .agency(id)
            .await?
            .ok_or_else(|| GatewayError::NotFound(format!("agency `{id}`")))?;
        Ok(AgencyDetail {
            keys: self.store().agency_keys(id).await?,
            history: self.store().agency_history(id).await?,
            agency,
        })
    }
}

/// What an agency sees of one pair of its case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgencyPair {
    /// In package `generation`, the agency's current package.
    Released {
        generation: i64,
    },
    /// Not released yet: the provider's review (or a callback) is not done.
    Held,
    /// Released, being collected and sealed: in the next package.
    Sealing,
    /// Refused, or never to be released.
    NotReleased,
    NoData,
    Preserved,
}

impl AgencyPair {
    /// The words an officer reads.
    pub fn label(&self) -> &'static str {
        match self {
            AgencyPair::Released { .. } => "Released",
            AgencyPair::Held => "Held: the provider's review is not finished",
            AgencyPair::Sealing => "Released: being sealed into the next package",
            AgencyPair::NotReleased => "Not released",
            AgencyPair::NoData => "No data held",
            AgencyPair::Preserved => "Preserved, not disclosed",
        }
    }
}

/// Each pair of an agency's case with whether its package holds it: a
/// package row names every (account, category) released so far.
pub fn agency_pairs(
    status: CaseStatus,
    decision: &Decision,
    package: Option<&PackageRow>,
) -> Vec<(PairDecision, AgencyPair)> {
    let released: Vec<(String, String)> = package
        .and_then(|p| serde_json::from_str(&p.pairs).ok())
        .unwrap_or_default();
    let now = crate::delivery::releasable(status, decision);
    decision
        .decisions
        .iter()
        .map(|p| {
            let inside = p.account.as_ref().is_some_and(|a| {
                released
                    .iter()
                    .any(|(ra, rc)| ra == a && rc == p.category.as_str())
            });
            let state = match (inside, package, p.status) {
                (true, Some(pk), _) => AgencyPair::Released {
                    generation: pk.generation,
                },
                (_, _, Status::Deny) => AgencyPair::NotReleased,
                (_, _, Status::NoData) => AgencyPair::NoData,
                (_, _, Status::Preserve) => AgencyPair::Preserved,
                _ if !status.may_release() => AgencyPair::NotReleased,
                _ if p
                    .account
                    .as_ref()
                    .is_some_and(|a| now.contains(&(a.clone(), p.category))) =>
                {
                    AgencyPair::Sealing
                }
                _ => AgencyPair::Held,
            };
            (p.clone(), state)
        })
        .collect()
}

/// The private details kept beside an event (empty when unreadable).
fn details(e: &EventRow) -> Vec<Value> {
    writ_events::Private::parse(&e.private)
        .map(|p| p.details)
        .unwrap_or_default()
}

fn event_time(e: &EventRow) -> Timestamp {
    Timestamp::from_second(e.created_at).unwrap_or_else(Timestamp::now)
}

/// The packages of a case from its `disclosed` events: each event's
/// private details name the pairs it released, per target.
fn releases(events: &[EventRow]) -> Vec<Release> {
    events
        .iter()
        .filter(|e| e.kind == "disclosed")
        .map(|e| {
            let details = details(e);
            let generation = details
                .first()
                .and_then(|d| d.get("package"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let mut pairs = Vec::new();
            for t in details.iter().skip(1) {
                let Some(target) = t.get("target").and_then(Value::as_str) else {
                    continue;
                };
                for p in t
                    .get("pairs")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let granted = p.get("status").and_then(Value::as_str) == Some("grant");
                    let category = p
                        .get("category")
                        .and_then(Value::as_str)
                        .and_then(Category::parse);
                    if let (true, Some(c)) = (granted, category) {
                        pairs.push((target.to_owned(), c));
                    }
                }
            }
            Release {
                generation,
                at: event_time(e),
                pairs,
            }
        })
        .collect()
}

/// What became of each pair: released (in which package, when), waiting
/// (for what, for whom), refused, or closed. `open` is the open proposal's
/// proposer and action, if any.
fn pair_views(case: &Case, releases: &[Release], open: Option<(&str, &str)>) -> Vec<PairView> {
    let d = &case.decision;
    let second = match open {
        Some((by, action)) => format!(
            "waits for an approver other than {by} to confirm the proposed {}",
            ProposalAction::parse(action).map_or(action.to_owned(), |a| a.label().to_owned())
        ),
        None => "waits for a reviewer to propose, then a different approver to confirm".to_owned(),
    };
    d.decisions
        .iter()
        .map(|p| {
            let released = releases.iter().find(|r| {
                r.pairs
                    .iter()
                    .any(|(t, c)| *t == p.target && *c == p.category)
            });
            let fate = match (released, p.status) {
                (Some(r), _) => PairFate::Released {
                    generation: r.generation,
                    at: r.at,
                },
                (None, Status::Deny) => PairFate::Refused,
                (None, Status::NoData) => PairFate::NoData,
                (None, Status::Preserve) => PairFate::Preserved(d.preserve_until),
                (None, _) if case.status == CaseStatus::Rejected => {
                    PairFate::Closed("the order was rejected in review".to_owned())
                }
                (None, _) if case.status == CaseStatus::Withdrawn => {
                    PairFate::Closed("the agency withdrew the order".to_owned())
                }
                (None, _) if d.awaits_callback() => PairFate::Waiting(
                    "held until staff record the emergency callback on a registry number"
                        .to_owned(),
                ),
                (None, _) if d.awaits_channel() => PairFate::Waiting(
                    "held until another person verifies, by a callback to the agency's registered number, that the agency sent this transcribed order"
                        .to_owned(),
                ),
                (None, Status::Review) => PairFate::Waiting(format!("needs review: {second}")),
                (None, Status::Grant)
                    if p.category == Category::Content && !case.status.is_confirmed() =>
                {
                    PairFate::Waiting(format!("content is held for the two-person rule: {second}"))
                }
                (None, _) => {
                    PairFate::Waiting("due for release: the package is being sealed".to_owned())
                }
            };
            let reasons = d
                .reasons
                .iter()
                .filter(|r| p.reasons.contains(&r.code))
                .filter(|r| r.target.as_ref().is_none_or(|t| *t == p.target))
                .filter(|r| r.category.is_none_or(|c| c == p.category))
                .cloned()
                .collect();
            PairView {
                pair: p.clone(),
                fate,
                reasons,
            }
        })
        .collect()
}

/// A reviewed event's action in words.
fn review_words(action: &str, outcome: Option<Outcome>) -> String {
    match action {
        "confirm" => format!(
            "confirmed the proposal (second approval){}",
            outcome
                .map(|o| format!(": {}", o.label()))
                .unwrap_or_default()
        ),
        "emergency_over" => "recorded that the emergency is over".to_owned(),
        "preservation_confirmed" => {
            "recorded the confirmation that a production order was issued".to_owned()
        }
        a => match ProposalAction::parse(a) {
            Some(p) => format!("proposed {}; waits for a different approver", p.label()),
            None => format!("reviewed ({a})"),
        },
    }
}

/// The case's history in words, from its events and their private details
/// (who acted is kept there, out of the public log).
fn history(case: &Case, events: &[EventRow]) -> Vec<HistoryItem> {
    events
        .iter()
        .map(|e| {
            let details = details(e);
            let first = details.first();
            let text = |k: &str| first.and_then(|d| d.get(k)).and_then(Value::as_str);
            let entry: Value = serde_json::from_str(&e.entry).unwrap_or(Value::Null);
            let public = entry.get("public").cloned().unwrap_or(Value::Null);
            let field = |k: &str| public.get(k).and_then(Value::as_str).map(str::to_owned);
            let role = field("role");
            let user = text("user").map(|u| match &role {
                Some(r) => format!("{u} ({r})"),
                None => u.to_owned(),
            });
            let system = "Writ".to_owned();
            let (what, by) = match e.kind.as_str() {
                "received" => (
                    format!("order received ({})", case.order.instrument.label()),
                    match text("officer") {
                        Some(o) => format!(
                            "{o}, agency {}",
                            text("submitted_by").unwrap_or(&case.signer)
                        ),
                        None => {
                            format!("agency {}", text("submitted_by").unwrap_or(&case.signer))
                        }
                    },
                ),
                "decided" => (
                    format!(
                        "the policy engine decided: {}",
                        field("outcome")
                            .and_then(|o| Outcome::parse(&o))
                            .map_or("—", |x| x.label())
                    ),
                    "policy engine".to_owned(),
                ),
                "reviewed" => (
                    review_words(
                        field("action").as_deref().unwrap_or_default(),
                        field("outcome").and_then(|o| Outcome::parse(&o)),
                    ),
                    user.unwrap_or_else(|| system.clone()),
                ),
                "verified" => (
                    format!(
                        "recorded the emergency callback: {}, on {}",
                        if field("result").as_deref() == Some("verified") {
                            "the agency confirmed the request"
                        } else {
                            "not confirmed"
                        },
                        field("number_source")
                            .and_then(|s| writ_model::order::NumberSource::parse(&s))
                            .map_or("an unknown number", |s| s.label())
                    ),
                    user.unwrap_or_else(|| system.clone()),
                ),
                "disclosed" => {
                    let generation = first
                        .and_then(|d| d.get("package"))
                        .and_then(Value::as_i64)
                        .unwrap_or(0);
                    (
                        format!("package {generation} sealed for the agency"),
                        system,
                    )
                }
                "preserved" => (
                    match field("until_day") {
                        Some(day) => format!("legal hold placed until {day}"),
                        None => "legal hold placed without an end date while the order waits for its clarification (Reg. (EU) 2023/1543 Art. 10(9))".to_owned(),
                    },
                    system,
                ),
                "released" => ("legal hold lapsed".to_owned(), system),
                "notified" => ("the user was notified".to_owned(), system),
                "extended" => (
                    match field("until_day") {
                        Some(day) => {
                            format!("recorded that a court extended the secrecy order until {day}")
                        }
                        None => "recorded that a court lifted the secrecy order".to_owned(),
                    },
                    user.unwrap_or_else(|| system.clone()),
                ),
                "withdrawn" => (
                    "the agency withdrew the order".to_owned(),
                    format!("agency {}", case.signer),
                ),
                "expired" => ("the package expired and was deleted".to_owned(), system),
                "queried" => (
                    "the provider asked the agency for a clarification".to_owned(),
                    user.unwrap_or(system),
                ),
                "clarified" => (
                    "the agency answered the clarification".to_owned(),
                    match text("officer") {
                        Some(o) => format!("{o}, agency {}", case.signer),
                        None => format!("agency {}", case.signer),
                    },
                ),
                other => (other.replace('_', " "), system),
            };
            HistoryItem {
                at: event_time(e),
                what,
                by,
                state: EventState::parse(&e.state),
                log_index: e.log_index,
            }
        })
        .collect()
}

/// What `/metrics` shows of the case store.
#[derive(Debug, Clone)]
pub struct StoreGauges {
    /// Events in the outbox, by state (its wire name).
    pub events: Vec<(String, i64)>,
    /// Cases in the store.
    pub cases: i64,
    /// User notices given up after their last attempt, until staff retry.
    pub dead_notices: i64,
}

impl Gateway {
    /// The case store's gauges for `/metrics`.
    pub async fn store_gauges(&self) -> Result<StoreGauges> {
        Ok(StoreGauges {
            events: self.store().event_counts().await?,
            cases: self.store().case_count().await?,
            dead_notices: self.store().dead_notice_count().await?,
        })
    }
}
