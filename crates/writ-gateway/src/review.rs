//! Review: what console users see of a case, and the shorthand for their
//! actions. Every action goes through [`Gateway::change`]
//! (`crate::lifecycle`), the one place where a case changes.

use serde::Serialize;
use writ_model::order::NumberSource;
use writ_model::{Decision, Order, Timestamp};

use crate::auth::User;
use crate::intake::CaseView;
use crate::lifecycle::{Action, Actor, apply, may_review, stored_proposal};
pub use crate::lifecycle::{DropPair, Proposal};
use crate::{Gateway, Result, Submitted, from_epoch};

/// A case as a reviewer sees it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReviewCase {
    #[serde(flatten)]
    pub case: CaseView,
    pub agency: String,
    pub order: Order,
    pub due_at: Timestamp,
    pub proposals: Vec<OpenProposal>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OpenProposal {
    pub action: String,
    pub proposed_by: String,
    pub role: String,
    pub proposed_at: Timestamp,
    /// What confirming it would make of the decision as it stands now.
    pub decision: Decision,
}

impl Gateway {
    /// Cases waiting for a person, emergencies first, then by deadline.
    pub async fn queue(&self, user: &User) -> Result<Vec<CaseView>> {
        may_review(user)?;
        self.store()
            .review_queue(500)
            .await?
            .iter()
            .map(CaseView::of)
            .collect()
    }

    pub async fn review_case(&self, user: &User, case_id: &str) -> Result<ReviewCase> {
        may_review(user)?;
        let case = self.case(case_id).await?;
        let proposals = self.open_proposals(&case).await?;
        Ok(ReviewCase {
            case: CaseView::of(&case)?,
            agency: case.signer.clone(),
            order: case.order.clone(),
            due_at: case.due_at,
            proposals,
        })
    }

    /// A case's open proposals, each with what confirming it would make of
    /// the decision as it stands now.
    pub(crate) async fn open_proposals(
        &self,
        case: &writ_store::Case,
    ) -> Result<Vec<OpenProposal>> {
        self.store()
            .open_proposals(&case.id)
            .await?
            .iter()
            .map(|p| {
                Ok(OpenProposal {
                    action: p.action.as_str().to_owned(),
                    proposed_by: p.proposed_by.clone(),
                    role: p.role.clone(),
                    proposed_at: from_epoch(p.created_at)?,
                    decision: apply(&case.decision, &stored_proposal(p)?)?,
                })
            })
            .collect()
    }

    /// A reviewer or approver proposes approve, narrow or reject.
    pub async fn propose(
        &self,
        user: &User,
        case_id: &str,
        proposal: Proposal,
    ) -> Result<Submitted> {
        self.change(Actor::Staff(user), case_id, Action::Propose(proposal))
            .await
    }

    /// A second, different approver confirms the open proposal.
    pub async fn confirm(&self, user: &User, case_id: &str) -> Result<Submitted> {
        self.change(Actor::Staff(user), case_id, Action::Confirm)
            .await
    }

    /// Records the out-of-band callback to an emergency requester.
    pub async fn record_callback(
        &self,
        user: &User,
        case_id: &str,
        number_source: NumberSource,
        verified: bool,
    ) -> Result<Submitted> {
        self.change(
            Actor::Staff(user),
            case_id,
            Action::Callback {
                number_source,
                verified,
            },
        )
        .await
    }

    /// A court extended (`until`) or lifted (`None`) the secrecy order.
    pub async fn secrecy(
        &self,
        user: &User,
        case_id: &str,
        until: Option<Timestamp>,
    ) -> Result<Submitted> {
        self.change(Actor::Staff(user), case_id, Action::Secrecy { until })
            .await
    }
}
