//! Case files: the policy's regression tests (`docs/formats.md`, "Case file").

use serde::{Deserialize, Serialize};

use crate::decision::{NotifyWhen, Outcome, Status};
use crate::order::{Category, Order};
use crate::registry::{Account, Agency, PriorHold};
use crate::time::Timestamp;

/// Everything a decision depends on but the policy pack.
#[derive(Clone, Debug)]
pub struct DecisionInput {
    pub now: Timestamp,
    pub submitted_by: Option<String>,
    pub agencies: Vec<Agency>,
    pub accounts: Vec<Account>,
    pub prior: Vec<PriorHold>,
    pub order: Order,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub now: Timestamp,
    #[serde(default)]
    pub submitted_by: Option<String>,
    pub agencies: Vec<Agency>,
    pub accounts: Vec<Account>,
    #[serde(default, deserialize_with = "crate::ids::null_as_empty")]
    pub prior: Vec<PriorHold>,
    pub order: Order,
    pub expect: Expect,
}

impl CaseFile {
    pub fn input(&self) -> DecisionInput {
        DecisionInput {
            now: self.now,
            submitted_by: self.submitted_by.clone(),
            agencies: self.agencies.clone(),
            accounts: self.accounts.clone(),
            prior: self.prior.clone(),
            order: self.order.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedPair {
    pub target: String,
    pub category: Category,
    pub status: Status,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedNotify {
    pub when: NotifyWhen,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
}

/// What a case file expects of the decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub outcome: Outcome,
    pub decisions: Vec<ExpectedPair>,
    pub reasons: Vec<String>,
    pub due_at: Timestamp,
    pub not_before: Option<Timestamp>,
    pub preserve_until: Option<Timestamp>,
    pub notify: ExpectedNotify,
}
