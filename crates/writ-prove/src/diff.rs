//! `writ policy diff`: what a new pack permits that the old one refused, and
//! the reverse, per request shape (an instrument, and for pairs a category).
//!
//! Three questions are asked of each shape, each about one step of the
//! engine: is an order accepted (no order-level refusal), is a pair
//! disclosable at all (no `deny`, though perhaps after review), and is a
//! pair granted without review (no `deny`, no `review`). A shape whose answers
//! are the same for every request under both packs costs one query; only a
//! shape that changed is looked at in both directions.

use cedar_policy::{Decision, Policy};
use writ_model::{Category, Instrument};

use crate::policies::PackPolicies;
use crate::properties::{self, Action};
use crate::prove::{self, Compiler, compile, outside, policy_set, query_policy, request_env};
use crate::{ProveError, Solver, render};

/// Which way a shape moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The new pack permits requests of this shape that the old one refused.
    NewlyPermitted,
    /// The new pack refuses requests of this shape that the old one permitted.
    NewlyRefused,
}

/// One change between two packs.
#[derive(Clone, Debug)]
pub struct Change {
    pub instrument: Instrument,
    /// `None` for an order-level change.
    pub category: Option<Category>,
    pub direction: Direction,
    /// What is permitted or refused, in words ("disclosed, perhaps after
    /// review").
    pub what: &'static str,
    /// Whether the new answer holds for every request of the shape (any
    /// agency, any account), not only for some.
    pub for_every_request: bool,
    /// One request that moved, as order, submitter and pair fields.
    pub example: String,
}

impl Change {
    /// The change in a lawyer's words, one line (the example follows apart).
    pub fn summary(&self) -> String {
        let shape = match self.category {
            Some(c) => format!("{}, {}", self.instrument, c),
            None => format!("{} orders", self.instrument),
        };
        let verb = match self.direction {
            Direction::NewlyPermitted => "now",
            Direction::NewlyRefused => "no longer",
        };
        let scope = match (self.direction, self.for_every_request) {
            (Direction::NewlyPermitted, true) => "for every registered agency and account",
            (Direction::NewlyRefused, true) => "for any registered agency and account",
            (_, false) => "for some requests (example below)",
        };
        format!("{shape}: {verb} {}, {scope}", self.what)
    }
}

/// One of the engine's questions: an action, the levels that refuse, and
/// the words for "permitted".
struct Question {
    action: Action,
    refused_by: &'static [&'static str],
    what: &'static str,
}

const ACCEPTED: Question = Question {
    action: Action::Accept,
    refused_by: &["refusal"],
    what: "accepted (not refused as a whole)",
};
const DISCLOSABLE: Question = Question {
    action: Action::Disclose,
    refused_by: &["deny"],
    what: "disclosed (granted or after review)",
};
const GRANTED: Question = Question {
    action: Action::Disclose,
    refused_by: &["deny", "review"],
    what: "granted without review",
};

/// The changes from `from` to `to`, by shape.
pub fn diff(
    from: &PackPolicies,
    to: &PackPolicies,
    solver: &Solver,
) -> Result<Vec<Change>, ProveError> {
    let rt = prove::runtime()?;
    rt.block_on(async {
        let mut compiler = prove::compiler(solver)?;
        let mut changes = Vec::new();
        for &instrument in properties::instruments() {
            let shape = properties::order_shape(instrument);
            compare(
                from,
                to,
                &mut compiler,
                &shape,
                &[&ACCEPTED],
                (instrument, None),
                &mut changes,
            )
            .await?;
            for &category in properties::categories() {
                let shape = properties::pair_shape(instrument, category);
                compare(
                    from,
                    to,
                    &mut compiler,
                    &shape,
                    &[&DISCLOSABLE, &GRANTED],
                    (instrument, Some(category)),
                    &mut changes,
                )
                .await?;
            }
        }
        Ok(changes)
    })
}

/// Compares one shape: first whether the two packs decide it alike at the
/// finest level asked, then each question in both directions.
async fn compare(
    from: &PackPolicies,
    to: &PackPolicies,
    compiler: &mut Compiler,
    shape: &str,
    questions: &[&Question],
    (instrument, category): (Instrument, Option<Category>),
    changes: &mut Vec<Change>,
) -> Result<(), ProveError> {
    let symcc = |e: cedar_policy_symcc::err::Error| ProveError::Symcc(e.to_string());
    let Some(finest) = questions.last() else {
        return Ok(());
    };
    let action = finest.action;
    let env = request_env(to, action)?;
    let build_in = |pack: &PackPolicies, levels: &[&str], shape: &str| {
        outside(action, shape)
            .and_then(|p| policy_set(pack, action, levels, [p]))
            .and_then(|set| {
                let compiled = compile(pack, &set, &env)?;
                Ok((set, compiled))
            })
            .map_err(ProveError::Policies)
    };
    let build = |pack: &PackPolicies, levels: &[&str]| build_in(pack, levels, shape);
    // The conditions of a plausible order, for a readable example.
    let plausible = format!(
        "{shape} && {}",
        properties::plausible(action)
            .iter()
            .map(|c| format!("({c})"))
            .collect::<Vec<_>>()
            .join(" && ")
    );
    let same = compiler
        .check_equivalent_opt(
            &build(from, finest.refused_by)?.1,
            &build(to, finest.refused_by)?.1,
        )
        .await
        .map_err(symcc)?;
    if same {
        return Ok(());
    }
    let whole_shape: Policy = query_policy(
        "shape",
        &format!(
            "permit (principal, action == Writ::Action::\"{}\", resource) when {{ {shape} }};",
            action.name()
        ),
    )
    .map_err(ProveError::Policies)?;
    let whole_shape = cedar_policy::PolicySet::from_policies([whole_shape])
        .map_err(|e| ProveError::Policies(e.to_string()))
        .and_then(|set| compile(to, &set, &env).map_err(ProveError::Policies))?;
    for question in questions {
        let old = build(from, question.refused_by)?;
        let new = build(to, question.refused_by)?;
        for (direction, first, second) in [
            (Direction::NewlyPermitted, &new, &old),
            (Direction::NewlyRefused, &old, &new),
        ] {
            // A request the first set allows and the second refuses.
            let Some(mut example) = compiler
                .check_implies_with_counterexample_opt(&first.1, &second.1)
                .await
                .map_err(symcc)?
            else {
                continue;
            };
            prove::replay(&example, &first.0, Decision::Allow, action)?;
            prove::replay(&example, &second.0, Decision::Deny, action)?;
            let (old_plausible, new_plausible) = (
                build_in(from, question.refused_by, &plausible)?,
                build_in(to, question.refused_by, &plausible)?,
            );
            let (first_plausible, second_plausible) = match direction {
                Direction::NewlyPermitted => (&new_plausible, &old_plausible),
                Direction::NewlyRefused => (&old_plausible, &new_plausible),
            };
            if let Some(readable) = compiler
                .check_implies_with_counterexample_opt(&first_plausible.1, &second_plausible.1)
                .await
                .map_err(symcc)?
            {
                prove::replay(&readable, &first_plausible.0, Decision::Allow, action)?;
                prove::replay(&readable, &second_plausible.0, Decision::Deny, action)?;
                example = readable;
            }
            // Every request of the shape: allowed by the new pack (newly
            // permitted), or refused by it (newly refused).
            let for_every_request = match direction {
                Direction::NewlyPermitted => compiler
                    .check_implies_opt(&whole_shape, &new.1)
                    .await
                    .map_err(symcc)?,
                Direction::NewlyRefused => compiler
                    .check_always_denies_opt(&new.1)
                    .await
                    .map_err(symcc)?,
            };
            changes.push(Change {
                instrument,
                category,
                direction,
                what: question.what,
                for_every_request,
                example: render::request(&example, action),
            });
        }
    }
    Ok(())
}
