//! One way to change a case.
//!
//! Every change to a case after intake, whoever asks for it (a reviewer in
//! the console, a client of the review API, the agency withdrawing its
//! order), is a typed [`Action`] given to [`Gateway::change`]. It loads the
//! case once, checks that the actor may take the action in the case's
//! present state, computes the new state from that present state (never
//! from a copy taken earlier: a proposal records only what it would do, and
//! is applied to the decision as it stands when it is confirmed), and writes
//! the case with its log events in one transaction guarded by the case's
//! version.
//!
//! The rules it holds (`docs/legal-rules.md`, sections C and L;
//! `docs/product.md`, lifecycle step 3):
//! - approve, narrow and reject are proposals; they take effect when a
//!   different approver confirms them (the two-person rule);
//! - a refusal or a `deny` is never overridden: review can only turn
//!   `review` pairs into grants or take granted pairs away;
//! - an unverified emergency is settled only by a recorded callback;
//! - a court's extension or lifting of a secrecy order recomputes only
//!   `notify` and the codes of section L;
//! - nothing is released from a case that was rejected or withdrawn.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;
use writ_model::order::{Callback, NumberSource};
use writ_model::{
    Account, AccountStatus, CaseStatus, Category, Decision, DecisionInput, Order, ProposalAction,
    ProposalState, Reason, ReasonCode, Status, Timestamp,
};
use writ_store::{
    Case, CaseChange, ClosedProposal, HoldRow, NewEvent, NewMessage, NewProposal, ProposalRow, Side,
};

use crate::auth::{Role, User};
use crate::events::{self, CaseContext};
use crate::intake::conflict;
use crate::{Gateway, GatewayError, Result, Submitted};

/// A proposed change to the engine's decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Proposal {
    Approve,
    Narrow { drop: Vec<DropPair> },
    Reject { reason: String },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DropPair {
    pub target: String,
    pub category: Category,
}

impl Proposal {
    pub fn action(&self) -> ProposalAction {
        match self {
            Proposal::Approve => ProposalAction::Approve,
            Proposal::Narrow { .. } => ProposalAction::Narrow,
            Proposal::Reject { .. } => ProposalAction::Reject,
        }
    }
}

/// Everything that can happen to a case after intake.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// A reviewer or approver proposes approve, narrow or reject.
    Propose(Proposal),
    /// A different approver confirms the open proposal.
    Confirm,
    /// Staff record the out-of-band callback to an emergency requester; the
    /// case is decided again as of its receipt.
    Callback {
        number_source: NumberSource,
        verified: bool,
    },
    /// Staff record the callback to the agency's registered number that
    /// verifies (or refutes) the channel of an order they transcribed; only
    /// someone other than the transcriber. The case is decided again.
    ChannelCheck { verified: bool },
    /// A court extended the secrecy order to `until`, or lifted it (`None`).
    Secrecy { until: Option<Timestamp> },
    /// Staff record that an emergency is over (notice may follow).
    EmergencyOver,
    /// Staff record that the agency confirmed a preservation.
    PreservationConfirmed,
    /// The agency withdraws its order.
    Withdraw,
    /// Staff ask the agency for a clarification: a message and the order's
    /// fields at issue; `incomplete` (a European Production Order only)
    /// stops its deadline until the answer (Reg. (EU) 2023/1543 Art. 10(5)).
    Query {
        message: String,
        fields: Vec<String>,
        incomplete: bool,
    },
    /// The agency answers the open question (`officer`: who, when known).
    Clarify { message: String },
}

impl Action {
    /// The action's name as the API's path and the console's forms spell it.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Propose(p) => p.action().as_str(),
            Action::Confirm => "confirm",
            Action::Callback { .. } => "callback",
            Action::ChannelCheck { .. } => "channel",
            Action::Secrecy { .. } => "secrecy",
            Action::EmergencyOver => "emergency-over",
            Action::PreservationConfirmed => "preservation-confirmed",
            Action::Withdraw => "withdraw",
            Action::Query { .. } => "query",
            Action::Clarify { .. } => "clarify",
        }
    }
}

/// Who acts.
#[derive(Clone, Copy, Debug)]
pub enum Actor<'a> {
    /// A console user (through the console or the review API).
    Staff(&'a User),
    /// The agency whose key signed the order (its API key, or a portal
    /// session opened with it).
    Agency(&'a str),
    /// One of the agency's officers, signed in to the portal.
    Officer(&'a writ_store::OfficerRow),
}

impl<'a> Actor<'a> {
    /// The agency acting, for the agency's side (its key or an officer).
    pub fn agency(&self) -> Option<&'a str> {
        match self {
            Actor::Staff(_) => None,
            Actor::Agency(a) => Some(a),
            Actor::Officer(o) => Some(o.agency_id.as_str()),
        }
    }

    /// The officer acting, if an officer is.
    pub fn officer(&self) -> Option<&'a writ_store::OfficerRow> {
        match self {
            Actor::Officer(o) => Some(o),
            _ => None,
        }
    }
}

/// The order's fields a clarification may name.
pub const QUERY_FIELDS: &[&str] = &[
    "reference",
    "instrument",
    "legal_basis",
    "issued_by",
    "validated_by",
    "issued_at",
    "expires_at",
    "respond_by",
    "offence",
    "targets",
    "categories",
    "date_range",
    "emergency",
    "non_disclosure",
    "attachments",
];

/// The longest clarification message, in characters.
pub const MAX_CLARIFICATION: usize = 4000;

/// A clarification message: something to say, at most
/// [`MAX_CLARIFICATION`] characters, no control characters but line breaks.
fn clarification_text(field: &str, text: &str) -> Result<String> {
    let bad = |m: String| GatewayError::Input(writ_model::InputError::at(field, m));
    let t = text.trim();
    if t.is_empty() {
        return Err(bad("write the message".into()));
    }
    let n = t.chars().count();
    if n > MAX_CLARIFICATION {
        return Err(bad(format!("{n} characters: at most {MAX_CLARIFICATION}")));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
        return Err(bad("no control characters but line breaks".into()));
    }
    Ok(t.to_owned())
}

/// Whether a person may still act on the case: in review, or decided and
/// not ended.
pub(crate) fn case_open(case: &Case) -> bool {
    case.status == CaseStatus::InReview
        || (case.status == CaseStatus::Decided && !case.decision.ends_case())
}

/// The longest reason a rejection may give, in characters.
pub const MAX_REJECT_REASON: usize = 2000;

/// A rejection's reason is shown to the agency: it says something (not
/// only white space), fits in [`MAX_REJECT_REASON`] characters, and holds
/// no control character but line breaks.
fn check_reject_reason(reason: &str) -> Result<()> {
    let bad = |message: String| {
        GatewayError::Input(writ_model::InputError {
            file: String::new(),
            path: "reason".into(),
            message,
        })
    };
    let chars = reason.chars().count();
    if reason.trim().is_empty() {
        return Err(bad("a rejection needs a reason".into()));
    }
    if chars > MAX_REJECT_REASON {
        return Err(bad(format!(
            "{chars} characters: a reason has at most {MAX_REJECT_REASON}"
        )));
    }
    if reason
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Err(bad(
            "a reason holds no control characters but line breaks".into()
        ));
    }
    Ok(())
}

pub(crate) fn may_review(user: &User) -> Result<()> {
    match user.role {
        Role::Reviewer | Role::Approver => Ok(()),
        Role::Admin => Err(GatewayError::Forbidden(
            "an admin takes no review action".into(),
        )),
    }
}

fn staff<'a>(actor: Actor<'a>) -> Result<&'a User> {
    match actor {
        Actor::Staff(user) => {
            may_review(user)?;
            Ok(user)
        }
        Actor::Agency(_) | Actor::Officer(_) => Err(GatewayError::Forbidden(
            "only the provider's staff take review actions".into(),
        )),
    }
}

fn review_reason(
    code: &str,
    target: Option<&str>,
    category: Option<Category>,
    message: &str,
) -> Reason {
    Reason {
        code: code.to_owned(),
        target: target.map(str::to_owned),
        category,
        message: message.to_owned(),
        citation: "provider policy: two-person review of disclosures".to_owned(),
    }
}

/// The decision a proposal makes of `current`, or why it cannot be made.
/// Pure: confirming applies it again to the decision as it stands then.
pub fn apply(current: &Decision, proposal: &Proposal) -> Result<Decision> {
    let mut d = current.clone();
    match proposal {
        Proposal::Approve => {
            for p in &mut d.decisions {
                if p.status == Status::Review {
                    p.status = Status::Grant;
                }
            }
        }
        Proposal::Narrow { drop } => {
            if drop.is_empty() {
                return Err(GatewayError::Conflict("nothing to drop".into()));
            }
            for pair in drop {
                let found = d
                    .decisions
                    .iter_mut()
                    .find(|p| p.target == pair.target && p.category == pair.category)
                    .ok_or_else(|| {
                        GatewayError::NotFound(format!(
                            "pair `{}` `{}` in the decision",
                            pair.target, pair.category
                        ))
                    })?;
                if found.status.is_granted() || found.status == Status::Review {
                    found.status = Status::Deny;
                    found.reasons.push(ReasonCode::NARROWED_IN_REVIEW.into());
                    d.reasons.push(review_reason(
                        ReasonCode::NARROWED_IN_REVIEW,
                        Some(&pair.target),
                        Some(pair.category),
                        "the reviewers narrowed the order",
                    ));
                }
            }
        }
        Proposal::Reject { reason: why } => {
            for p in &mut d.decisions {
                if p.status.is_granted() || p.status == Status::Review {
                    p.status = Status::Deny;
                    p.reasons.push(ReasonCode::REJECTED_IN_REVIEW.into());
                }
            }
            d.reasons.push(review_reason(
                ReasonCode::REJECTED_IN_REVIEW,
                None,
                None,
                why,
            ));
        }
    }
    d.recompute_outcome();
    if !matches!(proposal, Proposal::Reject { .. })
        && d.decisions.iter().any(|p| p.status == Status::Review)
    {
        return Err(GatewayError::Conflict(
            "pairs would still wait for review".into(),
        ));
    }
    Ok(d)
}

/// `decision` with `notify` and the codes of section L taken from `fresh`,
/// the engine's answer on the order with its new secrecy order.
pub fn with_secrecy_from(decision: &Decision, fresh: &Decision) -> Decision {
    let mut d = decision.clone();
    d.notify = fresh.notify.clone();
    d.reasons
        .retain(|r| !ReasonCode::SECTION_L.contains(&r.code.as_str()));
    d.reasons.extend(
        fresh
            .reasons
            .iter()
            .filter(|r| ReasonCode::SECTION_L.contains(&r.code.as_str()))
            .cloned(),
    );
    d
}

/// The open proposal's payload, from its stored detail.
pub(crate) fn stored_proposal(p: &ProposalRow) -> Result<Proposal> {
    let detail: serde_json::Value = serde_json::from_str(&p.detail)?;
    Ok(serde_json::from_value(detail["proposal"].clone())?)
}

/// Public figures of targets for a decision without pairs (an order refused
/// at step 1 still counts the accounts its targets resolve to): how many
/// accounts hold data, and how many of those are stored outside `country`.
pub fn resolved_figures(input: &DecisionInput, country: Option<&str>) -> (usize, usize) {
    let live: Vec<&Account> = input
        .accounts
        .iter()
        .filter(|a| a.status != AccountStatus::Deleted)
        .collect();
    let abroad = live
        .iter()
        .filter(|a| country.is_some_and(|c| a.data_location.as_str() != c))
        .count();
    (live.len(), abroad)
}

/// What a change writes besides the case itself.
struct Next {
    status: CaseStatus,
    decision: Decision,
    order: Order,
    /// Events, given the case's context after the change.
    events: Vec<EventSpec>,
    new_proposal: Option<NewProposal>,
    close_proposals: Vec<ClosedProposal>,
    new_message: Option<NewMessage>,
    /// Holds placed by the change (Art. 10(9) preservation).
    holds: Vec<HoldRow>,
}

/// An event to write, described before the context exists.
enum EventSpec {
    /// A hold without an end date was placed on `accounts` accounts.
    PreservedOpen {
        accounts: usize,
        on_time: bool,
    },
    Queried {
        fields: usize,
        incomplete: bool,
        user: String,
    },
    Clarified {
        due: Option<Timestamp>,
        /// The officer who answered, when one did.
        officer: Option<String>,
    },
    Reviewed {
        action: &'static str,
        role: &'static str,
        user: String,
        decision: Decision,
        ends: bool,
    },
    Verified {
        verified: bool,
        source: &'static str,
        user: String,
        /// `channel` for a transcribed order's channel; `None` for an
        /// emergency callback.
        check: Option<&'static str>,
    },
    Decided {
        decision: Decision,
        resolved: (usize, usize),
    },
    Extended {
        until: Option<Timestamp>,
        user: String,
    },
    Withdrawn,
}

impl Gateway {
    /// A case, typed, or "not found".
    pub async fn case(&self, case_id: &str) -> Result<Case> {
        self.store()
            .load_case(case_id)
            .await?
            .ok_or_else(|| GatewayError::NotFound(format!("case `{case_id}`")))
    }

    /// The one way to change a case: see the module's documentation.
    #[tracing::instrument(name = "change", skip_all, fields(case = %case_id, action = action.name()))]
    pub async fn change(
        &self,
        actor: Actor<'_>,
        case_id: &str,
        action: Action,
    ) -> Result<Submitted> {
        let case = self.case(case_id).await?;
        if let Some(agency) = actor.agency()
            && agency != case.signer
        {
            // Another agency's case does not exist, as far as it can tell.
            return Err(GatewayError::NotFound(format!("case `{case_id}`")));
        }
        // To the second, as the case store keeps it: a secrecy order lifted
        // "now" must read the same once stored.
        let now = crate::stored_now();
        let open = self.store().open_proposals(case_id).await?;
        let next = self.next(actor, &case, &open, &action, now).await?;
        let country = self.signer_country(&case.signer).await?;
        let ctx = CaseContext {
            case_id: &case.id,
            order: &next.order,
            order_sha256: &case.order_sha256,
            submitter: &case.signer,
            country: country.as_deref(),
        };
        let defer = self
            .defer_for(&case.id, &next.order, &next.decision)
            .await?;
        let events = next
            .events
            .into_iter()
            .map(|e| event(&ctx, e, now, defer))
            .collect::<Result<Vec<NewEvent>>>()?;
        let change = CaseChange {
            status: next.status,
            decision: next.decision.clone(),
            order: next.order.clone(),
            events,
            new_proposal: next.new_proposal,
            close_proposals: next.close_proposals,
            new_message: next.new_message,
            holds: next.holds,
            ..CaseChange::of(&case, now)
        };
        self.store().update_case(&change).await.map_err(conflict)?;
        self.events_written();
        tracing::info!(status = %next.status, outcome = %next.decision.outcome, "case changed");
        // A proposal changes nothing yet: the answer is the decision that
        // stands.
        Ok(Submitted {
            case: case.id,
            decision: next.decision,
            created: false,
        })
    }

    /// The state after `action`, from the case as it stands.
    async fn next(
        &self,
        actor: Actor<'_>,
        case: &Case,
        open: &[ProposalRow],
        action: &Action,
        now: Timestamp,
    ) -> Result<Next> {
        let unchanged = |events| Next {
            status: case.status,
            decision: case.decision.clone(),
            order: case.order.clone(),
            events,
            new_proposal: None,
            close_proposals: Vec::new(),
            new_message: None,
            holds: Vec::new(),
        };
        let id = &case.id;
        match action {
            Action::Propose(proposal) => {
                let user = staff(actor)?;
                if let Proposal::Reject { reason } = proposal {
                    check_reject_reason(reason)?;
                }
                if case.status != CaseStatus::InReview {
                    return Err(GatewayError::Conflict(format!(
                        "case `{id}` is {}, not waiting for review",
                        case.status
                    )));
                }
                if case.decision.codes().contains(&ReasonCode::HACKING_REFUSED) {
                    return Err(GatewayError::Conflict(
                        "a `hacking_refused` decision cannot be overridden".into(),
                    ));
                }
                if case.decision.awaits_callback() && !matches!(proposal, Proposal::Reject { .. }) {
                    return Err(GatewayError::Conflict(
                        "an unverified emergency is resolved only by a recorded callback".into(),
                    ));
                }
                if case.decision.awaits_channel() && !matches!(proposal, Proposal::Reject { .. }) {
                    return Err(GatewayError::Conflict(
                        "a transcribed order is released only once a callback to the agency's registered number verified its channel; no approval clears it".into(),
                    ));
                }
                // Checked now, applied again when confirmed.
                apply(&case.decision, proposal)?;
                Ok(Next {
                    new_proposal: Some(NewProposal {
                        action: proposal.action(),
                        detail: serde_json::to_string(&json!({ "proposal": proposal }))?,
                        proposed_by: user.name.clone(),
                        role: user.role.as_str().to_owned(),
                    }),
                    close_proposals: open
                        .iter()
                        .map(|p| ClosedProposal {
                            seq: p.seq,
                            state: ProposalState::Superseded,
                            decided_by: Some(user.name.clone()),
                        })
                        .collect(),
                    ..unchanged(vec![EventSpec::Reviewed {
                        action: proposal.action().as_str(),
                        role: user.role.as_str(),
                        user: user.name.clone(),
                        decision: case.decision.clone(),
                        ends: false,
                    }])
                })
            }
            Action::Confirm => {
                let user = staff(actor)?;
                if user.role != Role::Approver {
                    return Err(GatewayError::Forbidden("only an approver confirms".into()));
                }
                let Some(p) = open.last() else {
                    return Err(GatewayError::Conflict(format!(
                        "case `{id}` has no proposal to confirm"
                    )));
                };
                if p.proposed_by == user.name {
                    return Err(GatewayError::Forbidden(
                        "a different approver must confirm (two-person rule)".into(),
                    ));
                }
                if case.status != CaseStatus::InReview {
                    return Err(GatewayError::Conflict(format!(
                        "case `{id}` is {}",
                        case.status
                    )));
                }
                // Applied to the decision as it stands now: a secrecy order
                // changed since the proposal stays changed.
                let decision = apply(&case.decision, &stored_proposal(p)?)?;
                Ok(Next {
                    status: p.action.confirmed_status(),
                    decision: decision.clone(),
                    order: case.order.clone(),
                    events: vec![EventSpec::Reviewed {
                        action: "confirm",
                        role: user.role.as_str(),
                        user: user.name.clone(),
                        decision,
                        ends: true,
                    }],
                    new_proposal: None,
                    close_proposals: vec![ClosedProposal {
                        seq: p.seq,
                        state: ProposalState::Confirmed,
                        decided_by: Some(user.name.clone()),
                    }],
                    new_message: None,
                    holds: Vec::new(),
                })
            }
            Action::Callback {
                number_source,
                verified,
            } => {
                let user = staff(actor)?;
                // Only while a person still has the case: a rejected or
                // withdrawn case never becomes a release.
                if !case.decision.awaits_callback()
                    || !matches!(case.status, CaseStatus::InReview | CaseStatus::Decided)
                {
                    return Err(GatewayError::Conflict(format!(
                        "case `{id}` is not waiting for an emergency callback"
                    )));
                }
                let mut order = case.order.clone();
                let Some(emergency) = order.emergency.as_mut() else {
                    return Err(GatewayError::Conflict(format!(
                        "case `{id}` is not an emergency"
                    )));
                };
                emergency.callback = Some(Callback {
                    verified: *verified,
                    number_source: *number_source,
                    verified_by: Some(user.name.clone()),
                    verified_at: Some(now),
                });
                let (decision, input) = self.redecide(case, &order).await?;
                let country = self.signer_country(&case.signer).await?;
                let resolved = resolved_figures(&input, country.as_deref());
                Ok(Next {
                    status: decision.status_after(),
                    decision: decision.clone(),
                    order,
                    events: vec![
                        EventSpec::Verified {
                            verified: *verified,
                            source: match number_source {
                                NumberSource::Registry => "registry",
                                NumberSource::Request => "request",
                            },
                            user: user.name.clone(),
                            check: None,
                        },
                        EventSpec::Decided { decision, resolved },
                    ],
                    new_proposal: None,
                    close_proposals: Vec::new(),
                    new_message: None,
                    holds: Vec::new(),
                })
            }
            Action::ChannelCheck { verified } => {
                let user = staff(actor)?;
                let mut order = case.order.clone();
                let Some(t) = order.transcription.as_mut() else {
                    return Err(GatewayError::Conflict(format!(
                        "case `{id}` was not transcribed by staff: its agency signed it"
                    )));
                };
                if !case.decision.awaits_channel()
                    || !matches!(case.status, CaseStatus::InReview | CaseStatus::Decided)
                {
                    return Err(GatewayError::Conflict(format!(
                        "case `{id}` is not waiting for a channel verification"
                    )));
                }
                if t.transcribed_by == user.name {
                    return Err(GatewayError::Forbidden(
                        "the person who transcribed an order cannot verify its channel: another person calls the agency back".into(),
                    ));
                }
                t.check = Some(writ_model::order::ChannelCheck {
                    verified: *verified,
                    verified_by: user.name.clone(),
                    verified_at: now,
                });
                let (decision, input) = self.redecide(case, &order).await?;
                let country = self.signer_country(&case.signer).await?;
                let resolved = resolved_figures(&input, country.as_deref());
                Ok(Next {
                    status: if decision.ends_case() {
                        CaseStatus::Rejected
                    } else {
                        decision.status_after()
                    },
                    decision: decision.clone(),
                    order,
                    events: vec![
                        EventSpec::Verified {
                            verified: *verified,
                            source: "registry",
                            user: user.name.clone(),
                            check: Some("channel"),
                        },
                        EventSpec::Decided { decision, resolved },
                    ],
                    new_proposal: None,
                    close_proposals: Vec::new(),
                    new_message: None,
                    holds: Vec::new(),
                })
            }
            Action::Secrecy { until } => {
                let user = staff(actor)?;
                let mut order = case.order.clone();
                let Some(nd) = order.non_disclosure.as_mut() else {
                    return Err(GatewayError::Conflict(format!(
                        "case `{id}` has no secrecy order"
                    )));
                };
                nd.until = Some(until.map_or(now, crate::to_stored));
                let (fresh, _) = self.redecide(case, &order).await?;
                Ok(Next {
                    decision: with_secrecy_from(&case.decision, &fresh),
                    order,
                    ..unchanged(vec![EventSpec::Extended {
                        until: *until,
                        user: user.name.clone(),
                    }])
                })
            }
            Action::EmergencyOver | Action::PreservationConfirmed => {
                let user = staff(actor)?;
                let (name, applies) = match action {
                    Action::EmergencyOver => ("emergency_over", case.order.emergency.is_some()),
                    _ => (
                        "preservation_confirmed",
                        case.order.instrument.is_preservation(),
                    ),
                };
                if !applies {
                    return Err(GatewayError::Conflict(format!(
                        "`{name}` does not apply to case `{id}`"
                    )));
                }
                Ok(unchanged(vec![EventSpec::Reviewed {
                    action: name,
                    role: user.role.as_str(),
                    user: user.name.clone(),
                    decision: case.decision.clone(),
                    ends: false,
                }]))
            }
            Action::Withdraw => {
                if actor.agency().is_none() {
                    return Err(GatewayError::Forbidden(
                        "only the agency withdraws its order".into(),
                    ));
                }
                let ended = matches!(
                    case.status,
                    CaseStatus::Withdrawn
                        | CaseStatus::Rejected
                        | CaseStatus::Approved
                        | CaseStatus::Narrowed
                ) || (case.status == CaseStatus::Decided && case.decision.ends_case());
                if ended {
                    return Err(GatewayError::Conflict(format!(
                        "case `{id}` is {} and cannot be withdrawn",
                        case.status
                    )));
                }
                Ok(Next {
                    status: CaseStatus::Withdrawn,
                    ..unchanged(vec![EventSpec::Withdrawn])
                })
            }
            Action::Query {
                message,
                fields,
                incomplete,
            } => {
                let user = staff(actor)?;
                if !case_open(case) {
                    return Err(GatewayError::Conflict(format!(
                        "case `{id}` is {}: there is nothing left to clarify",
                        case.status
                    )));
                }
                let message = clarification_text("message", message)?;
                for f in fields {
                    if !QUERY_FIELDS.contains(&f.as_str()) {
                        return Err(GatewayError::Input(writ_model::InputError::at(
                            "fields",
                            format!(
                                "`{f}` is not a field of the order; one of {}",
                                QUERY_FIELDS.join(", ")
                            ),
                        )));
                    }
                }
                if *incomplete && case.order.instrument != writ_model::Instrument::Epoc {
                    return Err(GatewayError::Conflict(format!(
                        "case `{id}` is not a European Production Order: only such an order's deadline waits for a clarification (Reg. (EU) 2023/1543 Art. 10(5)); ask without `incomplete`"
                    )));
                }
                let mut events = vec![EventSpec::Queried {
                    fields: fields.len(),
                    incomplete: *incomplete,
                    user: user.name.clone(),
                }];
                // The Annex III form: the data is preserved meanwhile where
                // the order identifies it (Art. 10(9)), with a hold that
                // ends with the case or once the data is produced (delivery
                // ends it).
                let mut holds = Vec::new();
                let mut preserved = None;
                if *incomplete {
                    let accounts = held_accounts(&case.decision.decisions);
                    preserved = Some(accounts.len() as i64);
                    let open_until = writ_connect::holds::OPEN_ENDED_S;
                    let placed = self.store().open_hold(id, open_until).await?.is_some();
                    if !accounts.is_empty() && !placed {
                        let names: Vec<&str> = accounts.keys().copied().collect();
                        holds.push(HoldRow {
                            agency_id: case.order.agency.as_str().to_owned(),
                            reference: case.order.reference.as_str().to_owned(),
                            case_id: id.clone(),
                            instrument: case.order.instrument.as_str().to_owned(),
                            accounts: serde_json::to_string(&names)?,
                            preserve_until: open_until,
                            renewals: 0,
                        });
                        events.push(EventSpec::PreservedOpen {
                            accounts: accounts.len(),
                            on_time: now <= case.decision.due_at,
                        });
                    }
                }
                Ok(Next {
                    new_message: Some(NewMessage {
                        side: Side::Provider,
                        author: user.name.clone(),
                        message,
                        fields: fields.clone(),
                        incomplete: *incomplete,
                        preserved,
                        enforcing: incomplete
                            .then(|| case.order.enforcing_authority.as_ref())
                            .flatten()
                            .map(|e| format!("{} ({})", e.name, e.country.as_str())),
                    }),
                    holds,
                    ..unchanged(events)
                })
            }
            Action::Clarify { message } => {
                let Some(agency) = actor.agency() else {
                    return Err(GatewayError::Forbidden(
                        "only the agency answers a clarification".into(),
                    ));
                };
                let author = match actor.officer() {
                    Some(o) => crate::officers::officer_label(o),
                    None => agency.to_owned(),
                };
                let exchange = self.store().clarifications(id).await?;
                let open: Vec<_> = exchange
                    .iter()
                    .rev()
                    .take_while(|m| m.side == Side::Provider)
                    .collect();
                if open.is_empty() || !case_open(case) {
                    return Err(GatewayError::Conflict(format!(
                        "case `{id}` has no open question to answer"
                    )));
                }
                let message = clarification_text("message", message)?;
                // A stopped clock starts again, with the whole window the
                // rules give (10 days, or 8 hours for an emergency).
                let mut decision = case.decision.clone();
                let due = if open.iter().any(|m| m.incomplete) {
                    let input = self.decision_input_for(case).await?;
                    let first = self.engine().decide(&input).due_at;
                    let window = first.as_second() - case.decided_now.as_second();
                    let due = now.plus_seconds(window).max(case.due_at);
                    decision.due_at = due;
                    Some(due)
                } else {
                    None
                };
                Ok(Next {
                    decision,
                    new_message: Some(NewMessage {
                        side: Side::Agency,
                        author: author.clone(),
                        message,
                        fields: Vec::new(),
                        incomplete: false,
                        preserved: None,
                        enforcing: None,
                    }),
                    ..unchanged(vec![EventSpec::Clarified {
                        due,
                        officer: actor.officer().map(crate::officers::officer_label),
                    }])
                })
            }
        }
    }

    /// The case whose order case `case_id` corrects, and the cases whose
    /// orders correct it (the caller has checked who may read the case;
    /// a correction is always the same agency's).
    pub async fn corrections(&self, case_id: &str) -> Result<(Option<String>, Vec<String>)> {
        Ok(self.store().corrections(case_id).await?)
    }

    /// A case's clarification exchange, oldest first (staff).
    pub async fn clarifications(
        &self,
        user: &User,
        case_id: &str,
    ) -> Result<Vec<writ_store::MessageRow>> {
        may_review(user).or_else(|_| {
            (user.role == Role::Admin).then_some(()).ok_or_else(|| {
                GatewayError::Forbidden("only the provider's staff read a case".into())
            })
        })?;
        Ok(self.store().clarifications(case_id).await?)
    }

    /// The clarification exchange of one of the agency's own cases.
    pub async fn agency_clarifications(
        &self,
        agency: &str,
        case_id: &str,
    ) -> Result<Vec<writ_store::MessageRow>> {
        self.agency_case(agency, case_id).await?;
        Ok(self.store().clarifications(case_id).await?)
    }

    /// The engine's input for a case as it stands: its order now, judged as
    /// of its receipt.
    pub async fn decision_input_for(&self, case: &Case) -> Result<DecisionInput> {
        self.decision_input(&case.signer, &case.order, case.decided_now)
            .await
    }

    /// Decides a case again with its first decision's `now` and `due_at`
    /// (`docs/formats.md`, "Deciding again").
    pub(crate) async fn redecide(
        &self,
        case: &Case,
        order: &Order,
    ) -> Result<(Decision, DecisionInput)> {
        let input = self
            .decision_input(&case.signer, order, case.decided_now)
            .await?;
        let mut decision = self.engine().decide(&input);
        decision.due_at = case.due_at;
        Ok((decision, input))
    }
}

fn event(ctx: &CaseContext<'_>, spec: EventSpec, now: Timestamp, defer: bool) -> Result<NewEvent> {
    match spec {
        EventSpec::Reviewed {
            action,
            role,
            user,
            decision,
            ends,
        } => events::reviewed(ctx, action, role, &user, &decision, ends, now, defer),
        EventSpec::Verified {
            verified,
            source,
            user,
            check,
        } => events::verified(ctx, verified, source, check, &user, now, defer),
        EventSpec::Decided { decision, resolved } => {
            events::decided(ctx, &decision, Some(resolved), now, defer)
        }
        EventSpec::Extended { until, user } => events::extended(ctx, until, &user, now, defer),
        EventSpec::Withdrawn => events::withdrawn(ctx, now, defer),
        EventSpec::Queried {
            fields,
            incomplete,
            user,
        } => events::queried(ctx, fields, incomplete, &user, now, defer),
        EventSpec::Clarified { due, officer } => events::clarified(ctx, due, officer, now, defer),
        EventSpec::PreservedOpen { accounts, on_time } => {
            events::preserved(ctx, accounts, None, on_time, now, defer)
        }
    }
}

/// The accounts of `pairs`, each with its categories: what a hold on them
/// covers. With every pair of a decision, the accounts the order identifies
/// (an Art. 10(9) preservation while the order waits for its
/// clarification); with its `preserve` pairs, a preservation order's hold.
pub(crate) fn held_accounts<'a>(
    pairs: impl IntoIterator<Item = &'a writ_model::PairDecision>,
) -> BTreeMap<&'a str, Vec<Category>> {
    let mut held: BTreeMap<&str, Vec<Category>> = BTreeMap::new();
    for p in pairs {
        if let Some(a) = &p.account {
            let categories = held.entry(a.as_str()).or_default();
            if !categories.contains(&p.category) {
                categories.push(p.category);
            }
        }
    }
    held
}
