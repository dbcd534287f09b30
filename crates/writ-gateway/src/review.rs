//! Review: what console users do to a case.
//!
//! `approve`, `narrow` and `reject` are proposals; they take effect when a
//! different approver confirms them (the two-person rule of `product.md`).
//! `callback`, `secrecy`, `emergency-over` and `preservation-confirmed`
//! record facts and take effect at once. A refusal or a `deny` is never
//! overridden (`legal-rules.md`, section C): a `review` action can only turn
//! `review` pairs into grants or take granted pairs away.

use serde::{Deserialize, Serialize};
use serde_json::json;
use writ_model::order::{Callback, NumberSource};
use writ_model::{Category, Decision, Order, Outcome, Reason, Status, Timestamp};
use writ_store::{CaseChange, CaseRow, ClosedProposal, NewProposal};

use crate::auth::{Role, User};
use crate::events::{self, CaseContext};
use crate::intake::{CaseView, conflict, status_after};
use crate::{Gateway, GatewayError, Result, Submitted, epoch, from_epoch};

/// A proposed change to the engine's decision.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Proposal {
    Approve,
    Narrow { drop: Vec<DropPair> },
    Reject { reason: String },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropPair {
    pub target: String,
    pub category: Category,
}

impl Proposal {
    fn name(&self) -> &'static str {
        match self {
            Proposal::Approve => "approve",
            Proposal::Narrow { .. } => "narrow",
            Proposal::Reject { .. } => "reject",
        }
    }
}

/// A case as a reviewer sees it.
#[derive(Clone, Debug, Serialize)]
pub struct ReviewCase {
    #[serde(flatten)]
    pub case: CaseView,
    pub agency: String,
    pub order: Order,
    pub due_at: Timestamp,
    pub proposals: Vec<OpenProposal>,
}

#[derive(Clone, Debug, Serialize)]
pub struct OpenProposal {
    pub action: String,
    pub proposed_by: String,
    pub role: String,
    pub proposed_at: Timestamp,
    pub decision: Decision,
}

fn may_review(user: &User) -> Result<()> {
    match user.role {
        Role::Reviewer | Role::Approver => Ok(()),
        Role::Admin => Err(GatewayError::Forbidden(
            "an admin takes no review action".into(),
        )),
    }
}

/// The outcome that follows from the pairs.
fn recompute(d: &mut Decision) {
    if d.decisions.is_empty() {
        return;
    }
    let relevant: Vec<Status> = d
        .decisions
        .iter()
        .map(|p| p.status)
        .filter(|s| *s != Status::NoData)
        .collect();
    let granted = relevant.iter().filter(|s| s.is_granted()).count();
    d.outcome = if relevant.contains(&Status::Review) {
        Outcome::Review
    } else if relevant.is_empty() {
        Outcome::NoData
    } else if granted == 0 {
        Outcome::Reject
    } else if granted == relevant.len() {
        Outcome::Approve
    } else {
        Outcome::Partial
    };
}

fn reason(code: &str, target: Option<&str>, category: Option<Category>, message: &str) -> Reason {
    Reason {
        code: code.to_owned(),
        target: target.map(str::to_owned),
        category,
        message: message.to_owned(),
        citation: "product.md, Lifecycle of a case, step 3".to_owned(),
    }
}

/// The decision a proposal would make, or why it cannot be made.
fn apply(current: &Decision, proposal: &Proposal) -> Result<Decision> {
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
                    found.reasons.push("narrowed_in_review".into());
                    d.reasons.push(reason(
                        "narrowed_in_review",
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
                    p.reasons.push("rejected_in_review".into());
                }
            }
            d.reasons
                .push(reason("rejected_in_review", None, None, why));
        }
    }
    recompute(&mut d);
    if !matches!(proposal, Proposal::Reject { .. })
        && d.decisions.iter().any(|p| p.status == Status::Review)
    {
        return Err(GatewayError::Conflict(
            "pairs would still wait for review".into(),
        ));
    }
    if matches!(proposal, Proposal::Reject { .. }) {
        d.outcome = Outcome::Reject;
    }
    Ok(d)
}

impl Gateway {
    async fn review_row(&self, case_id: &str) -> Result<CaseRow> {
        self.store()
            .case(case_id)
            .await?
            .ok_or_else(|| GatewayError::NotFound(format!("case `{case_id}`")))
    }

    /// Cases waiting for a person, emergencies first, then by deadline.
    pub async fn queue(&self, user: &User) -> Result<Vec<CaseView>> {
        may_review(user)?;
        self.store()
            .queue(500)
            .await?
            .iter()
            .map(CaseView::from_row)
            .collect()
    }

    pub async fn review_case(&self, user: &User, case_id: &str) -> Result<ReviewCase> {
        may_review(user)?;
        let row = self.review_row(case_id).await?;
        let proposals = self
            .store()
            .open_proposals(case_id)
            .await?
            .into_iter()
            .map(|p| {
                let detail: serde_json::Value = serde_json::from_str(&p.detail)?;
                Ok(OpenProposal {
                    action: p.action,
                    proposed_by: p.proposed_by,
                    role: p.role,
                    proposed_at: from_epoch(p.created_at)?,
                    decision: serde_json::from_value(detail["decision"].clone())?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ReviewCase {
            case: CaseView::from_row(&row)?,
            agency: row.agency_id.clone(),
            order: serde_json::from_str(&row.order_json)?,
            due_at: from_epoch(row.due_at)?,
            proposals,
        })
    }

    fn answer(row: &CaseRow, decision: Decision) -> Submitted {
        Submitted {
            case: row.id.clone(),
            decision,
            created: false,
        }
    }

    /// A reviewer or approver proposes approve, narrow or reject.
    pub async fn propose(
        &self,
        user: &User,
        case_id: &str,
        proposal: Proposal,
    ) -> Result<Submitted> {
        may_review(user)?;
        let row = self.review_row(case_id).await?;
        let current: Decision = serde_json::from_str(&row.decision)?;
        if row.status != "in_review" {
            return Err(GatewayError::Conflict(format!(
                "case `{case_id}` is {}, not waiting for review",
                row.status
            )));
        }
        if current.codes().contains(&"hacking_refused") {
            return Err(GatewayError::Conflict(
                "a `hacking_refused` decision cannot be overridden".into(),
            ));
        }
        if current.codes().contains(&"emergency_unverified")
            && !matches!(proposal, Proposal::Reject { .. })
        {
            return Err(GatewayError::Conflict(
                "an unverified emergency is resolved only by a recorded callback".into(),
            ));
        }
        let proposed = apply(&current, &proposal)?;
        let order: Order = serde_json::from_str(&row.order_json)?;
        let now = Timestamp::now();
        let country = self.country_of(&order).await?;
        let ctx = context(&row, &order, country.as_deref());
        let defer = self.defer_for(&row.id, &order, &current).await?;
        let superseded = self.store().open_proposals(case_id).await?;
        let change = CaseChange {
            case_id: row.id.clone(),
            expected_version: row.version,
            status: row.status.clone(),
            outcome: row.outcome.clone(),
            decision: row.decision.clone(),
            order_json: row.order_json.clone(),
            at: epoch(now),
            events: vec![events::reviewed(
                &ctx,
                proposal.name(),
                user.role.as_str(),
                &user.name,
                &current,
                false,
                now,
                defer,
            )?],
            new_proposal: Some(NewProposal {
                action: proposal.name().to_owned(),
                detail: serde_json::to_string(
                    &json!({"proposal": proposal, "decision": proposed}),
                )?,
                proposed_by: user.name.clone(),
                role: user.role.as_str().to_owned(),
            }),
            close_proposals: superseded
                .iter()
                .map(|p| ClosedProposal {
                    seq: p.seq,
                    state: "superseded".into(),
                    decided_by: Some(user.name.clone()),
                })
                .collect(),
            ..CaseChange::default()
        };
        self.store().update_case(&change).await.map_err(conflict)?;
        self.events_written();
        Ok(Self::answer(&row, current))
    }

    /// A second, different approver confirms the open proposal.
    pub async fn confirm(&self, user: &User, case_id: &str) -> Result<Submitted> {
        may_review(user)?;
        if user.role != Role::Approver {
            return Err(GatewayError::Forbidden("only an approver confirms".into()));
        }
        let row = self.review_row(case_id).await?;
        let open = self.store().open_proposals(case_id).await?;
        let Some(p) = open.last() else {
            return Err(GatewayError::Conflict(format!(
                "case `{case_id}` has no proposal to confirm"
            )));
        };
        if p.proposed_by == user.name {
            return Err(GatewayError::Forbidden(
                "a different approver must confirm (two-person rule)".into(),
            ));
        }
        if row.status != "in_review" {
            return Err(GatewayError::Conflict(format!(
                "case `{case_id}` is {}",
                row.status
            )));
        }
        let detail: serde_json::Value = serde_json::from_str(&p.detail)?;
        let decision: Decision = serde_json::from_value(detail["decision"].clone())?;
        let status = match p.action.as_str() {
            "approve" => "approved",
            "narrow" => "narrowed",
            _ => "rejected",
        };
        let order: Order = serde_json::from_str(&row.order_json)?;
        let now = Timestamp::now();
        let country = self.country_of(&order).await?;
        let ctx = context(&row, &order, country.as_deref());
        let defer = self.defer_for(&row.id, &order, &decision).await?;
        let change = CaseChange {
            case_id: row.id.clone(),
            expected_version: row.version,
            status: status.to_owned(),
            outcome: decision.outcome.as_str().to_owned(),
            decision: serde_json::to_string(&decision)?,
            order_json: row.order_json.clone(),
            at: epoch(now),
            events: vec![events::reviewed(
                &ctx,
                "confirm",
                user.role.as_str(),
                &user.name,
                &decision,
                true,
                now,
                defer,
            )?],
            close_proposals: vec![ClosedProposal {
                seq: p.seq,
                state: "confirmed".into(),
                decided_by: Some(user.name.clone()),
            }],
            ..CaseChange::default()
        };
        self.store().update_case(&change).await.map_err(conflict)?;
        self.events_written();
        Ok(Self::answer(&row, decision))
    }

    /// Records the out-of-band callback to an emergency requester and
    /// decides the case again as of its receipt (`formats.md`, "Deciding
    /// again").
    pub async fn record_callback(
        &self,
        user: &User,
        case_id: &str,
        number_source: NumberSource,
        verified: bool,
    ) -> Result<Submitted> {
        may_review(user)?;
        let row = self.review_row(case_id).await?;
        let current: Decision = serde_json::from_str(&row.decision)?;
        if !current.codes().contains(&"emergency_unverified") || row.status == "withdrawn" {
            return Err(GatewayError::Conflict(format!(
                "case `{case_id}` is not waiting for an emergency callback"
            )));
        }
        let mut order: Order = serde_json::from_str(&row.order_json)?;
        let now = Timestamp::now();
        let Some(emergency) = order.emergency.as_mut() else {
            return Err(GatewayError::Conflict(format!(
                "case `{case_id}` is not an emergency"
            )));
        };
        emergency.callback = Some(Callback {
            verified,
            number_source,
            verified_by: Some(user.name.clone()),
            verified_at: Some(now),
        });
        let decision = self.redecide(&row, &order).await?;
        let country = self.country_of(&order).await?;
        let ctx = context(&row, &order, country.as_deref());
        let defer = self.defer_for(&row.id, &order, &decision).await?;
        let source = match number_source {
            NumberSource::Registry => "registry",
            NumberSource::Request => "request",
        };
        let change = CaseChange {
            case_id: row.id.clone(),
            expected_version: row.version,
            status: status_after(&decision).to_owned(),
            outcome: decision.outcome.as_str().to_owned(),
            decision: serde_json::to_string(&decision)?,
            order_json: serde_json::to_string(&order)?,
            at: epoch(now),
            events: vec![
                events::verified(&ctx, verified, source, &user.name, now, defer)?,
                events::decided(&ctx, &decision, now, defer)?,
            ],
            ..CaseChange::default()
        };
        self.store().update_case(&change).await.map_err(conflict)?;
        self.events_written();
        Ok(Self::answer(&row, decision))
    }

    /// Decides a case again with its first decision's `now` and `due_at`.
    async fn redecide(&self, row: &CaseRow, order: &Order) -> Result<Decision> {
        let input = self
            .decision_input(&row.agency_id, order, from_epoch(row.decided_now)?)
            .await?;
        let mut decision = self.engine().decide(&input);
        decision.due_at = from_epoch(row.due_at)?;
        Ok(decision)
    }

    /// A court extended (`until`) or lifted (`None`) the secrecy order: only
    /// `notify` is recomputed.
    pub async fn secrecy(
        &self,
        user: &User,
        case_id: &str,
        until: Option<Timestamp>,
    ) -> Result<Submitted> {
        may_review(user)?;
        let row = self.review_row(case_id).await?;
        let mut order: Order = serde_json::from_str(&row.order_json)?;
        let now = Timestamp::now();
        let Some(nd) = order.non_disclosure.as_mut() else {
            return Err(GatewayError::Conflict(format!(
                "case `{case_id}` has no secrecy order"
            )));
        };
        nd.until = Some(until.unwrap_or(now));
        let mut decision: Decision = serde_json::from_str(&row.decision)?;
        let fresh = self.redecide(&row, &order).await?;
        // `formats.md`: only `notify` and the codes of section L change.
        const SECTION_L: [&str; 3] = ["gag_not_binding", "indefinite_gag", "long_gag"];
        decision.notify = fresh.notify;
        decision
            .reasons
            .retain(|r| !SECTION_L.contains(&r.code.as_str()));
        decision.reasons.extend(
            fresh
                .reasons
                .into_iter()
                .filter(|r| SECTION_L.contains(&r.code.as_str())),
        );
        let country = self.country_of(&order).await?;
        let ctx = context(&row, &order, country.as_deref());
        let defer = self.defer_for(&row.id, &order, &decision).await?;
        let change = CaseChange {
            case_id: row.id.clone(),
            expected_version: row.version,
            status: row.status.clone(),
            outcome: row.outcome.clone(),
            decision: serde_json::to_string(&decision)?,
            order_json: serde_json::to_string(&order)?,
            at: epoch(now),
            events: vec![events::extended(&ctx, until, &user.name, now, defer)?],
            ..CaseChange::default()
        };
        self.store().update_case(&change).await.map_err(conflict)?;
        self.events_written();
        Ok(Self::answer(&row, decision))
    }

    /// Records a fact that takes effect at once: `emergency_over` or
    /// `preservation_confirmed`.
    pub async fn record_fact(&self, user: &User, case_id: &str, action: &str) -> Result<Submitted> {
        may_review(user)?;
        let row = self.review_row(case_id).await?;
        let order: Order = serde_json::from_str(&row.order_json)?;
        let applies = match action {
            "emergency_over" => order.emergency.is_some(),
            "preservation_confirmed" => order.instrument.is_preservation(),
            _ => false,
        };
        if !applies {
            return Err(GatewayError::Conflict(format!(
                "`{action}` does not apply to case `{case_id}`"
            )));
        }
        let decision: Decision = serde_json::from_str(&row.decision)?;
        let now = Timestamp::now();
        let country = self.country_of(&order).await?;
        let ctx = context(&row, &order, country.as_deref());
        let defer = self.defer_for(&row.id, &order, &decision).await?;
        let change = CaseChange {
            case_id: row.id.clone(),
            expected_version: row.version,
            status: row.status.clone(),
            outcome: row.outcome.clone(),
            decision: row.decision.clone(),
            order_json: row.order_json.clone(),
            at: epoch(now),
            events: vec![events::reviewed(
                &ctx,
                action,
                user.role.as_str(),
                &user.name,
                &decision,
                false,
                now,
                defer,
            )?],
            ..CaseChange::default()
        };
        self.store().update_case(&change).await.map_err(conflict)?;
        self.events_written();
        Ok(Self::answer(&row, decision))
    }
}

fn context<'a>(row: &'a CaseRow, order: &'a Order, country: Option<&'a str>) -> CaseContext<'a> {
    CaseContext {
        case_id: &row.id,
        order,
        order_sha256: &row.order_sha256,
        submitter: &row.agency_id,
        country,
    }
}
