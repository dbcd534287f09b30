//! Read models: what the console's pages show, assembled here so that the
//! pages never reach into the case store and every rule they display (the
//! review flags, which stage a case waits at) exists once.

use writ_model::{AgencyStatus, Decision, ReasonCode, Timestamp};
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
        if decision.awaits_callback() {
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

    /// One case with everything its page shows.
    pub async fn case_detail(&self, user: &User, case_id: &str) -> Result<CaseDetail> {
        may_review(user)?;
        let case = self.case(case_id).await?;
        let agency = self.store().agency(&case.signer).await?;
        Ok(CaseDetail {
            flags: flags(&case.decision, agency.as_ref(), Timestamp::now()),
            agency,
            proposals: self.open_proposals(&case).await?,
            events: self.store().events_for_case(case_id).await?,
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
