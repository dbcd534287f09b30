//! Writ's domain model: the contracts of `docs/formats.md` as Rust types.
//!
//! Everything here is plain data with no IO. Inputs are read through
//! [`parse`], which refuses malformed input with an [`InputError`] naming the
//! JSON path at fault, so that the rest of Writ only sees well-formed values.

pub mod case;
pub mod decision;
pub mod ids;
mod labels;
pub mod lifecycle;
pub mod order;
pub mod parse;
pub mod registry;
pub mod time;

pub use case::{CaseFile, DecisionInput, Expect};
pub use decision::{Decision, NotifyWhen, Outcome, PairDecision, Reason, Status};
pub use ids::{Country, Name};
pub use lifecycle::{
    CaseStatus, EventState, NoticeState, PackageState, ProposalAction, ProposalState, ReasonCode,
};
pub use order::{Category, EnforcingAuthority, Instrument, IssuerKind, Order, Target, TargetKind};
pub use parse::InputError;
pub use registry::{Account, AccountStatus, Agency, AgencyStatus, PriorHold};
pub use time::Timestamp;
