//! Proofs of a policy pack's absolute properties, and the differences
//! between two packs, with Cedar's symbolic compiler (`cedar-policy-symcc`)
//! and the cvc5 SMT solver.
//!
//! Tests probe a pack with sample orders; the solver answers for every
//! request the schema allows, so a property it proves holds for all orders,
//! agencies and accounts, including ones the engine would never build. That
//! makes its counterexamples sometimes stronger than needed, never its proofs
//! weaker. What the engine (Rust) decides around the pack is not proven here:
//! `docs/policy-proofs.md` lists it and the tests that cover it.

mod diff;
mod policies;
mod prove;
mod render;
mod solver;

pub mod properties;

pub use diff::{Change, Direction, diff};
pub use policies::PackPolicies;
pub use prove::{Outcome, PropertyResult, prove};
pub use solver::{Solver, SolverError};

/// Why a proof or a comparison could not be made (as opposed to a property
/// that does not hold, which is an [`Outcome`]).
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    #[error("policy pack: {0}")]
    Pack(#[from] writ_policy::PackError),
    #[error("policy pack: {0}")]
    Policies(String),
    #[error(transparent)]
    Solver(#[from] SolverError),
    #[error("symbolic compiler: {0}")]
    Symcc(String),
}
