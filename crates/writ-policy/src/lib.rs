//! Writ's legal policy engine.
//!
//! [`decide`] is a pure function from a [`DecisionInput`] (order, submitter,
//! registry, directory, prior holds, `now`) and a [`Pack`] (Cedar rules plus
//! parameters) to a [`Decision`]. The legal rules live in Cedar policies
//! (`pack/*.cedar`), each carrying its reason code, message and citation as
//! annotations; this crate resolves targets, asks Cedar once for the order
//! and once per (target, category) pair, combines the statuses and computes
//! deadlines, notice and preservation dates.
//!
//! The engine never fails and never lets an error through: a rule that cannot
//! be evaluated refuses the pair or order it was asked about.

mod compiled;
mod conformance;
mod engine;
pub mod facts;
pub mod instants;
pub mod pack;
pub mod params;
pub mod runner;
mod slice;

pub use engine::{NO_DATA_FOUND, POLICY_ERROR, decide};
pub use pack::{Level, Pack, PackError, Rule};
pub use params::Parameters;
pub use writ_model::{Decision, DecisionInput};
