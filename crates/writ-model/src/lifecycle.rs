//! The states a case and what hangs off it go through
//! (`docs/formats.md`, "Case lifecycle").
//!
//! Every lifecycle word Writ stores or shows is one of these enums; the case
//! store keeps their wire names and reads them back through `parse`, so that
//! a state no code knows cannot be read into a running server.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::decision::{Decision, Outcome, Status};
use crate::order::{Category, string_enum};

string_enum! {
    /// Where a case stands. `decided` needs no person; `in_review` waits for
    /// one; the others end the reviewers' part (delivery may still go on).
    CaseStatus {
        Decided = "decided",
        InReview = "in_review",
        Approved = "approved",
        Narrowed = "narrowed",
        Rejected = "rejected",
        Withdrawn = "withdrawn",
    }
}

impl CaseStatus {
    /// Whether a confirmed review settled the case: its content may go out.
    pub fn is_confirmed(self) -> bool {
        matches!(self, CaseStatus::Approved | CaseStatus::Narrowed)
    }

    /// Whether anything may still be released under this status.
    pub fn may_release(self) -> bool {
        !matches!(self, CaseStatus::Rejected | CaseStatus::Withdrawn)
    }

    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            CaseStatus::Decided => "Decided",
            CaseStatus::InReview => "Waiting for review",
            CaseStatus::Approved => "Approved (two people)",
            CaseStatus::Narrowed => "Narrowed (two people)",
            CaseStatus::Rejected => "Rejected in review",
            CaseStatus::Withdrawn => "Withdrawn by the agency",
        }
    }
}

string_enum! {
    /// What a proposal would do; it takes effect when a different approver
    /// confirms it.
    ProposalAction {
        Approve = "approve",
        Narrow = "narrow",
        Reject = "reject",
    }
}

impl ProposalAction {
    /// The status a confirmed proposal leaves the case in.
    pub fn confirmed_status(self) -> CaseStatus {
        match self {
            ProposalAction::Approve => CaseStatus::Approved,
            ProposalAction::Narrow => CaseStatus::Narrowed,
            ProposalAction::Reject => CaseStatus::Rejected,
        }
    }
}

string_enum! {
    /// A proposal's life: open until confirmed or replaced by a newer one.
    ProposalState {
        Open = "open",
        Confirmed = "confirmed",
        Superseded = "superseded",
    }
}

string_enum! {
    /// A sealed package: `sealed` waits for its `not_before`, `ready` is
    /// served until it expires, `expired` is deleted.
    PackageState {
        Sealed = "sealed",
        Ready = "ready",
        Expired = "expired",
    }
}

string_enum! {
    /// A log event in the case store's outbox: `pending` waits for the
    /// publisher, `deferred` is held back while the case is secret, `logged`
    /// is in the log with its index, and `released` is a deferred event
    /// that went out as a new row in a batch.
    EventState {
        Pending = "pending",
        Deferred = "deferred",
        Logged = "logged",
        Released = "released",
    }
}

string_enum! {
    /// A user notice for one release: claimed before it is sent, `sent`
    /// with its `notified` event.
    NoticeState {
        Sending = "sending",
        Sent = "sent",
        Dead = "dead",
    }
}

impl Outcome {
    /// The outcome that follows from the pairs (rule book, decision step 4):
    /// `review` if any pair is `review`; else `approve` if every pair is
    /// `grant` or `preserve`; else `partial` if one is; else `no_data` if
    /// every pair is `no_data`; else `reject`. `None` for an order with no
    /// pairs (refused at step 1), whose outcome is already `reject`.
    pub fn of_pairs(statuses: impl IntoIterator<Item = Status>) -> Option<Outcome> {
        let statuses: Vec<Status> = statuses.into_iter().collect();
        if statuses.is_empty() {
            return None;
        }
        Some(if statuses.contains(&Status::Review) {
            Outcome::Review
        } else if statuses.iter().all(|s| s.is_granted()) {
            Outcome::Approve
        } else if statuses.iter().any(|s| s.is_granted()) {
            Outcome::Partial
        } else if statuses.iter().all(|s| *s == Status::NoData) {
            Outcome::NoData
        } else {
            Outcome::Reject
        })
    }
}

impl Decision {
    /// Sets `outcome` from the pairs as they stand now; a decision without
    /// pairs keeps its own.
    pub fn recompute_outcome(&mut self) {
        if let Some(o) = Outcome::of_pairs(self.decisions.iter().map(|p| p.status)) {
            self.outcome = o;
        }
    }

    /// Whether this decision ends the case by itself (nothing to do).
    pub fn ends_case(&self) -> bool {
        matches!(self.outcome, Outcome::Reject | Outcome::NoData)
    }

    /// Whether the engine is waiting for an emergency callback.
    pub fn awaits_callback(&self) -> bool {
        self.reasons
            .iter()
            .any(|r| r.code == ReasonCode::EMERGENCY_UNVERIFIED)
    }

    /// Whether the order was transcribed by staff and its channel is not
    /// verified yet: nothing is released, and no approval clears it.
    pub fn awaits_channel(&self) -> bool {
        self.reasons
            .iter()
            .any(|r| r.code == ReasonCode::CHANNEL_UNVERIFIED)
    }

    /// The status a fresh decision leaves a case in: waiting for a person
    /// when a `review` pair, a granted `content` pair, an unverified
    /// emergency or an unverified channel is in it, unless the decision
    /// ends the case.
    pub fn status_after(&self) -> CaseStatus {
        let needs_person = self.decisions.iter().any(|p| {
            p.status == Status::Review
                || (p.status == Status::Grant && p.category == Category::Content)
        }) || self.awaits_callback()
            || self.awaits_channel()
            || self.outcome == Outcome::Review;
        if needs_person && !self.ends_case() {
            CaseStatus::InReview
        } else {
            CaseStatus::Decided
        }
    }
}

/// Reason codes that Rust itself reads or writes (the rest come from the
/// policy pack, which is checked against the pack's own list at load).
#[derive(Debug)]
pub struct ReasonCode;

impl ReasonCode {
    pub const HACKING_REFUSED: &'static str = "hacking_refused";
    pub const EMERGENCY_UNVERIFIED: &'static str = "emergency_unverified";
    pub const NEW_REQUESTER: &'static str = "new_requester";
    pub const INDEFINITE_GAG: &'static str = "indefinite_gag";
    pub const LONG_GAG: &'static str = "long_gag";
    pub const GAG_NOT_BINDING: &'static str = "gag_not_binding";
    pub const INSTRUMENT_NOT_AVAILABLE: &'static str = "instrument_not_available";
    pub const NARROWED_IN_REVIEW: &'static str = "narrowed_in_review";
    pub const REJECTED_IN_REVIEW: &'static str = "rejected_in_review";
    /// A transcribed order whose channel is not verified yet.
    pub const CHANNEL_UNVERIFIED: &'static str = "channel_unverified";
    /// A transcribed order the agency did not confirm sending.
    pub const CHANNEL_REFUTED: &'static str = "channel_refuted";
    /// The codes of the rule book's section L (secrecy and notice): a
    /// court's change to a secrecy order recomputes exactly these.
    pub const SECTION_L: [&'static str; 3] =
        [Self::GAG_NOT_BINDING, Self::INDEFINITE_GAG, Self::LONG_GAG];
    /// The codes Rust adds in review, which no policy pack may use.
    pub const REVIEW: [&'static str; 2] = [Self::NARROWED_IN_REVIEW, Self::REJECTED_IN_REVIEW];
    /// The codes the engine adds for transcribed orders, outside the pack.
    pub const CHANNEL: [&'static str; 2] = [Self::CHANNEL_UNVERIFIED, Self::CHANNEL_REFUTED];
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    #[test]
    fn outcome_follows_step_four() {
        let cases: &[(&[Status], Option<Outcome>)] = &[
            (&[], None),
            (&[Grant, NoData], Some(Outcome::Partial)),
            (&[Grant, Preserve], Some(Outcome::Approve)),
            (&[Grant, Review], Some(Outcome::Review)),
            (&[NoData, NoData], Some(Outcome::NoData)),
            (&[Deny, NoData], Some(Outcome::Reject)),
            (&[Deny, Grant], Some(Outcome::Partial)),
        ];
        for (statuses, want) in cases {
            assert_eq!(
                Outcome::of_pairs(statuses.iter().copied()),
                *want,
                "{statuses:?}"
            );
        }
    }

    #[test]
    fn wire_names_round_trip() {
        for s in CaseStatus::ALL {
            assert_eq!(CaseStatus::parse(s.as_str()), Some(*s));
        }
        for s in PackageState::ALL {
            assert_eq!(PackageState::parse(s.as_str()), Some(*s));
        }
        for s in EventState::ALL {
            assert_eq!(EventState::parse(s.as_str()), Some(*s));
        }
    }
}
