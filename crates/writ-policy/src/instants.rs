//! Every comparison of instants the rule book makes, in one place.
//!
//! Writ's timestamps keep nanoseconds and are compared as instants
//! (`docs/instants-and-identifiers.md`). Cedar's `datetime` extension keeps
//! whole milliseconds, and a `Long` of Unix seconds keeps less, so no instant
//! reaches the rules: each boundary of the rule book is decided here, exactly,
//! and the rules read the answers as booleans (`schema/writ.cedarschema`).
//! The engine's own dates (`due_at`, `notify`) read the same answers, so the
//! pack and the engine can never disagree about which side of a boundary an
//! instant lies on.

use writ_model::DecisionInput;

use crate::facts::{renewed_hold, submitter};
use crate::params::Parameters;

/// Where `now` lies relative to a secrecy order's end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GagTimes {
    /// No `until`, or `until` is after `now`: the order has not lapsed
    /// (section L: one whose `until` is not after `now` counts as absent).
    pub live: bool,
    /// No `until` at all.
    pub indefinite: bool,
    /// `until` is more than `max_gag_days` after `now` (L7).
    pub longer_than_max: bool,
}

/// The answers to every time question of one decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instants {
    /// B: `issued_at` is after `now`.
    pub issued_after_now: bool,
    /// B: `date_range.from` is after `date_range.to` (false without a range).
    pub date_range_inverted: bool,
    /// B: `expires_at` is present and not after `now`.
    pub expired: bool,
    /// B: `now` is at or after `issued_at` advanced by 3 calendar months
    /// (whatever the instrument; the rule reads it for overseas orders).
    pub three_months_passed: bool,
    /// D: `issued_at` is on or after the day Regulation 2023/1543 applies.
    pub issued_under_e_evidence: bool,
    /// D: `issued_at` is on or after the US-UK agreement entered into force.
    pub issued_under_uk_agreement: bool,
    /// K3: the submitter's `verified_since` is present and at least
    /// `min_requester_age_days` before `now` (false without a submitter).
    pub requester_established: bool,
    /// B, M3: the hold a renewal names has a `preserve_until` not after `now`
    /// (`None` when the order renews nothing or names no hold).
    pub hold_lapsed: Option<bool>,
    /// L: the secrecy order, if the order carries one.
    pub gag: Option<GagTimes>,
    /// P: `respond_by` is present and after `now`.
    pub respond_by_after_now: bool,
}

impl Instants {
    /// Compares every instant of the input with `now` (and with the pack's
    /// dates), exactly: [`Timestamp`] orders by nanoseconds.
    pub fn of(input: &DecisionInput, params: &Parameters) -> Self {
        let now = input.now;
        let order = &input.order;
        let days = |d: u32| i64::from(d);
        Instants {
            issued_after_now: order.issued_at > now,
            date_range_inverted: order.date_range.is_some_and(|r| r.from > r.to),
            expired: order.expires_at.is_some_and(|t| t <= now),
            three_months_passed: now >= order.issued_at.plus_months(3),
            issued_under_e_evidence: order.issued_at >= params.e_evidence_applies_from,
            issued_under_uk_agreement: order.issued_at >= params.uk_agreement_in_force_from,
            requester_established: submitter(input)
                .and_then(|a| a.verified_since)
                .is_some_and(|since| since <= now.plus_days(-days(params.min_requester_age_days))),
            hold_lapsed: renewed_hold(input).map(|h| h.preserve_until <= now),
            gag: order.non_disclosure.as_ref().map(|nd| GagTimes {
                live: nd.until.is_none_or(|u| u > now),
                indefinite: nd.until.is_none(),
                longer_than_max: nd
                    .until
                    .is_some_and(|u| u > now.plus_days(days(params.max_gag_days))),
            }),
            respond_by_after_now: order.respond_by.is_some_and(|t| t > now),
        }
    }
}
