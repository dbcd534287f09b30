//! The engine's answer (`docs/formats.md`, "Decision").

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::Country;
use crate::order::{Category, string_enum};
use crate::time::Timestamp;

string_enum! {
    /// The outcome of a whole order.
    Outcome {
        Approve = "approve",
        Partial = "partial",
        Review = "review",
        Reject = "reject",
        NoData = "no_data",
    }
}

string_enum! {
    /// The status of one (target, category) pair.
    Status {
        Grant = "grant",
        Preserve = "preserve",
        Deny = "deny",
        Review = "review",
        NoData = "no_data",
    }
}

impl Status {
    /// Granted or preserved: the engine lets this pair go ahead.
    pub fn is_granted(self) -> bool {
        matches!(self, Status::Grant | Status::Preserve)
    }
}

string_enum! {
    /// When the user may be told.
    NotifyWhen {
        OnDisclosure = "on_disclosure",
        After = "after",
        IssuingAuthority = "issuing_authority",
        Withheld = "withheld",
        None = "none",
    }
}

/// The decision for one (target, category) pair.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PairDecision {
    pub target: String,
    pub account: Option<String>,
    pub category: Category,
    pub status: Status,
    pub data_location: Option<Country>,
    pub reasons: Vec<String>,
}

/// One rule that fired, with the sentence and citation a reader needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Reason {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    pub message: String,
    pub citation: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Notify {
    pub when: NotifyWhen,
    pub at: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PolicyRef {
    pub id: String,
    pub version: String,
}

/// The engine's decision on an order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Decision {
    pub outcome: Outcome,
    pub decisions: Vec<PairDecision>,
    pub reasons: Vec<Reason>,
    pub due_at: Timestamp,
    pub not_before: Option<Timestamp>,
    pub preserve_until: Option<Timestamp>,
    pub notify: Notify,
    pub policy: PolicyRef,
}

impl Decision {
    /// The distinct reason codes, sorted.
    pub fn codes(&self) -> Vec<&str> {
        let mut codes: Vec<&str> = self.reasons.iter().map(|r| r.code.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        codes
    }
}
