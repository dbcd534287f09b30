//! `writ policy prove`: each property as one solver query.

use std::time::{Duration, Instant};

use cedar_policy::{Authorizer, Decision, Policy, PolicyId, PolicySet, RequestEnv};
use cedar_policy_symcc::solver::LocalSolver;
use cedar_policy_symcc::{CedarSymCompiler, CompiledPolicySet, Env};

use crate::policies::PackPolicies;
use crate::properties::{self, Action, Check, Property};
use crate::{ProveError, Solver, render};

/// What became of one property.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// The solver showed that no request breaks it.
    Proven,
    /// A request that breaks it, as the order, submitter and pair fields.
    Counterexample(String),
    /// Held by the engine, not the pack (see [`Check::Engine`]).
    Engine(&'static str),
    /// The property could not be stated against this pack's schema (a name
    /// it uses is gone): not proven.
    NotStated(String),
}

impl Outcome {
    /// Whether the property holds (or is the engine's to hold).
    pub fn holds(&self) -> bool {
        matches!(self, Outcome::Proven | Outcome::Engine(_))
    }
}

/// One property, its outcome, and how long its query took.
#[derive(Clone, Debug)]
pub struct PropertyResult {
    pub property: Property,
    pub outcome: Outcome,
    pub elapsed: Duration,
}

pub(crate) type Compiler = CedarSymCompiler<LocalSolver>;

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, ProveError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ProveError::Symcc(format!("cannot start the runtime: {e}")))
}

pub(crate) fn compiler(solver: &Solver) -> Result<Compiler, ProveError> {
    CedarSymCompiler::new(solver.start()?).map_err(|e| ProveError::Symcc(e.to_string()))
}

/// Checks every property of [`properties::all`] on a pack.
pub fn prove(pack: &PackPolicies, solver: &Solver) -> Result<Vec<PropertyResult>, ProveError> {
    let rt = runtime()?;
    rt.block_on(async {
        let mut compiler = compiler(solver)?;
        let mut results = Vec::new();
        for property in properties::all() {
            let started = Instant::now();
            let outcome = check(pack, &mut compiler, &property).await?;
            results.push(PropertyResult {
                property,
                outcome,
                elapsed: started.elapsed(),
            });
        }
        Ok(results)
    })
}

/// The schema's request environment of one action.
pub(crate) fn request_env(pack: &PackPolicies, action: Action) -> Result<RequestEnv, ProveError> {
    pack.schema
        .request_envs()
        .find(|env| env.action().id().unescaped() == action.name())
        .ok_or_else(|| {
            ProveError::Policies(format!("the schema has no action `{}`", action.name()))
        })
}

/// A policy of the query itself (not of the pack).
pub(crate) fn query_policy(id: &str, text: &str) -> Result<Policy, String> {
    Policy::parse(Some(PolicyId::new(format!("query:{id}"))), text)
        .map_err(|e| format!("{e}: {text}"))
}

/// `forbid` every request of `action` outside `shape`.
pub(crate) fn outside(action: Action, shape: &str) -> Result<Policy, String> {
    query_policy(
        "outside",
        &format!(
            "forbid (principal, action == Writ::Action::\"{}\", resource) unless {{ {shape} }};",
            action.name()
        ),
    )
}

/// The pack's policies of one action at some levels (and its base permits),
/// with `extra` query policies.
pub(crate) fn policy_set(
    pack: &PackPolicies,
    action: Action,
    levels: &[&str],
    extra: impl IntoIterator<Item = Policy>,
) -> Result<PolicySet, String> {
    let mut set = PolicySet::new();
    for p in pack.select(action.name(), levels) {
        set.add(p.policy.clone())
            .map_err(|e| format!("`{}`: {e}", p.id))?;
    }
    for p in extra {
        set.add(p).map_err(|e| e.to_string())?;
    }
    Ok(set)
}

pub(crate) fn compile(
    pack: &PackPolicies,
    set: &PolicySet,
    env: &RequestEnv,
) -> Result<CompiledPolicySet, String> {
    CompiledPolicySet::compile(set, env, &pack.schema).map_err(|e| e.to_string())
}

async fn check(
    pack: &PackPolicies,
    compiler: &mut Compiler,
    property: &Property,
) -> Result<Outcome, ProveError> {
    let symcc = |e: cedar_policy_symcc::err::Error| ProveError::Symcc(e.to_string());
    match &property.check {
        Check::Engine { how } => Ok(Outcome::Engine(how)),
        Check::Refused {
            action,
            refused_by,
            shape,
        } => {
            let env = request_env(pack, *action)?;
            let query = |shape: &str| {
                outside(*action, shape)
                    .and_then(|p| policy_set(pack, *action, refused_by, [p]))
                    .and_then(|set| Ok((compile(pack, &set, &env)?, set)))
            };
            let (compiled, set) = match query(shape) {
                Ok(c) => c,
                Err(e) => return Ok(Outcome::NotStated(e)),
            };
            let Some(mut found) = compiler
                .check_always_denies_with_counterexample_opt(&compiled)
                .await
                .map_err(symcc)?
            else {
                return Ok(Outcome::Proven);
            };
            replay(&found, &set, Decision::Allow, *action)?;
            // A readable counterexample: all the conditions of a plausible
            // order at once (one query) or, when that leaves none, one by
            // one, keeping each that leaves one.
            let plausible = properties::plausible(*action);
            let all = plausible
                .iter()
                .map(|c| format!("({c})"))
                .collect::<Vec<_>>()
                .join(" && ");
            let mut narrowed = shape.clone();
            let tries = std::iter::once(all).chain(plausible);
            for (i, condition) in tries.enumerate() {
                let candidate = format!("{narrowed} && ({condition})");
                let Ok((compiled, set)) = query(&candidate) else {
                    continue;
                };
                if let Some(env) = compiler
                    .check_always_denies_with_counterexample_opt(&compiled)
                    .await
                    .map_err(symcc)?
                {
                    replay(&env, &set, Decision::Allow, *action)?;
                    found = env;
                    narrowed = candidate;
                    if i == 0 {
                        break;
                    }
                }
            }
            Ok(outcome(Some(found), *action))
        }
        Check::DenyIsFinal => {
            let env = request_env(pack, Action::Disclose)?;
            let denies_set = match deny_rules_as_permits(pack) {
                Ok(set) => set,
                Err(e) => return Ok(Outcome::NotStated(e)),
            };
            let all = pack
                .policies
                .iter()
                .filter(|p| p.action == Action::Disclose.name())
                .map(|p| p.policy.clone());
            let compiled = PolicySet::from_policies(all)
                .map_err(|e| e.to_string())
                .and_then(|set| {
                    Ok((
                        compile(pack, &denies_set, &env)?,
                        compile(pack, &set, &env)?,
                    ))
                });
            let (denies, all) = match compiled {
                Ok(c) => c,
                Err(e) => return Ok(Outcome::NotStated(e)),
            };
            let found = compiler
                .check_disjoint_with_counterexample_opt(&denies, &all)
                .await
                .map_err(symcc)?;
            if let Some(env) = &found {
                replay(env, &denies_set, Decision::Allow, Action::Disclose)?;
            }
            Ok(outcome(found, Action::Disclose))
        }
    }
}

/// Checks a counterexample with Cedar's own authorizer: the solver's model
/// must give the decision the query claims. This guards against a solver
/// whose answers the symbolic compiler misreads (another cvc5 version than
/// the one it documents).
pub(crate) fn replay(
    env: &Env,
    set: &PolicySet,
    expected: Decision,
    action: Action,
) -> Result<(), ProveError> {
    let response = Authorizer::new().is_authorized(&env.request, set, &env.entities);
    if response.decision() == expected {
        Ok(())
    } else {
        Err(ProveError::Symcc(format!(
            "the solver's counterexample does not replay in Cedar (expected {expected:?}): {}",
            render::request(env, action)
        )))
    }
}

fn outcome(found: Option<Env>, action: Action) -> Outcome {
    match found {
        None => Outcome::Proven,
        Some(env) => Outcome::Counterexample(render::request(&env, action)),
    }
}

/// The pack's `deny` rules turned into permits: the set allows exactly the
/// requests that some deny rule matches.
fn deny_rules_as_permits(pack: &PackPolicies) -> Result<PolicySet, String> {
    let mut set = PolicySet::new();
    for p in pack
        .policies
        .iter()
        .filter(|p| p.action == Action::Disclose.name() && p.level == "deny")
    {
        let mut json = p.policy.to_json().map_err(|e| e.to_string())?;
        if let Some(effect) = json.get_mut("effect") {
            *effect = serde_json::Value::String("permit".into());
        }
        let permit = Policy::from_json(Some(p.policy.id().clone()), json)
            .map_err(|e| format!("`{}`: {e}", p.id))?;
        set.add(permit).map_err(|e| e.to_string())?;
    }
    Ok(set)
}
