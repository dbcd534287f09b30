//! A set of the pack's policies, ready to evaluate many times.
//!
//! Cedar's `Authorizer` rebuilds each policy's condition (a deep copy of its
//! expression tree) for every request, and assembles a response with the
//! ids and annotations of every policy, satisfied or not. A decision asks
//! the same few sets again and again, so each policy's condition is built
//! once, when the set is made, and evaluated by Cedar's own evaluator. The
//! answer follows Cedar's authorization semantics exactly: a policy whose
//! evaluation errors is skipped (and reported), the request is denied when
//! a `forbid` is satisfied, allowed when a `permit` is and no `forbid` is,
//! and denied otherwise; the determining policies are the satisfied
//! `forbid`s of a denial, or the satisfied `permit`s of an allowance.
//!
//!
//! One rewrite is made to each condition, for speed: Cedar builds a set
//! value (a tree and a hash set) every time it evaluates a literal set, so
//! a membership test against literals is written as the comparisons it
//! stands for: `["a", "b"].contains(x)` as `x == "a" || x == "b"`, and
//! `s.containsAny(["a", "b"])` as `s.contains("a") || s.contains("b")`.
//! Both forms give the same value, and the same error, for every `x` and
//! `s`: a set's membership is Cedar's equality, and the operand that can
//! fail is evaluated first in both.
//!
//! `Pack::with_cedar_authorizer` evaluates through Cedar's `Authorizer`
//! instead; the tests compare the two on every corpus case and on
//! generated orders.

use cedar_policy::{
    Authorizer, Context, Decision as CedarDecision, Effect, Entities, EntityUid, Policy, PolicyId,
    PolicySet, Request,
};
use std::sync::Arc;

use cedar_policy_core::ast::{self, BinaryOp, EntityUIDEntry, Expr, ExprKind, Literal, ValueKind};
use cedar_policy_core::evaluator::Evaluator;
use cedar_policy_core::extensions::Extensions;

/// One policy with its condition built.
#[derive(Clone, Debug)]
struct Compiled {
    id: PolicyId,
    effect: Effect,
    condition: ast::Expr,
    slots: ast::SlotEnv,
}

/// Policies in set order, with the Cedar set they came from.
#[derive(Clone, Debug)]
pub(crate) struct RuleSet {
    set: PolicySet,
    compiled: Vec<Compiled>,
}

/// What a set said about one request.
#[derive(Debug, Default)]
pub(crate) struct Answer {
    /// Whether the request is allowed.
    pub allowed: bool,
    /// The determining policies, in set order.
    pub reasons: Vec<PolicyId>,
    /// One message per policy that could not be evaluated.
    pub errors: Vec<String>,
}

impl RuleSet {
    pub fn new<'a>(policies: impl IntoIterator<Item = &'a Policy>) -> Result<Self, String> {
        let mut set = PolicySet::new();
        let mut compiled = Vec::new();
        for p in policies {
            set.add(p.clone()).map_err(|e| e.to_string())?;
            let core: &ast::Policy = p.as_ref();
            compiled.push(Compiled {
                id: p.id().clone(),
                effect: p.effect(),
                condition: comparisons(&core.condition()),
                slots: core.env().clone(),
            });
        }
        Ok(RuleSet { set, compiled })
    }

    #[cfg(test)]
    pub fn policies(&self) -> impl Iterator<Item = &Policy> {
        self.set.policies()
    }

    /// Evaluates one request. `cedar_authorizer` asks Cedar's `Authorizer`
    /// instead, for comparison.
    pub fn authorize(
        &self,
        principal: &EntityUid,
        action: &EntityUid,
        resource: &EntityUid,
        context: &Context,
        entities: &Entities,
        cedar_authorizer: bool,
    ) -> Answer {
        if cedar_authorizer {
            return self.authorize_with_cedar(principal, action, resource, context, entities);
        }
        let known = |uid: &EntityUid| EntityUIDEntry::known(uid.as_ref().clone(), None);
        let context: &ast::Context = context.as_ref();
        let request = ast::Request::new_unchecked(
            known(principal),
            known(action),
            known(resource),
            Some(context.clone()),
        );
        let evaluator = Evaluator::new(request, entities.as_ref(), Extensions::all_available());
        let mut forbids = Vec::new();
        let mut permits = Vec::new();
        let mut errors = Vec::new();
        for p in &self.compiled {
            let satisfied = match evaluator.interpret(&p.condition, &p.slots) {
                Ok(v) => match v.value_kind() {
                    ValueKind::Lit(Literal::Bool(b)) => *b,
                    _ => {
                        errors.push(format!(
                            "error while evaluating policy `{}`: the condition is not a boolean",
                            p.id
                        ));
                        continue;
                    }
                },
                Err(e) => {
                    errors.push(format!("error while evaluating policy `{}`: {e}", p.id));
                    continue;
                }
            };
            if satisfied {
                match p.effect {
                    Effect::Forbid => forbids.push(p.id.clone()),
                    Effect::Permit => permits.push(p.id.clone()),
                }
            }
        }
        if forbids.is_empty() && !permits.is_empty() {
            Answer {
                allowed: true,
                reasons: permits,
                errors,
            }
        } else {
            Answer {
                allowed: false,
                reasons: forbids,
                errors,
            }
        }
    }

    fn authorize_with_cedar(
        &self,
        principal: &EntityUid,
        action: &EntityUid,
        resource: &EntityUid,
        context: &Context,
        entities: &Entities,
    ) -> Answer {
        let request = match Request::new(
            principal.clone(),
            action.clone(),
            resource.clone(),
            context.clone(),
            None,
        ) {
            Ok(r) => r,
            Err(e) => {
                return Answer {
                    allowed: false,
                    reasons: Vec::new(),
                    errors: vec![format!("the request could not be built: {e}")],
                };
            }
        };
        let response = Authorizer::new().is_authorized(&request, &self.set, entities);
        let errors = response
            .diagnostics()
            .errors()
            .map(|e| e.to_string())
            .collect();
        // Cedar reports the determining policies as a set: put them in set
        // order, as the evaluation above does.
        let determining: Vec<&PolicyId> = response.diagnostics().reason().collect();
        let reasons = self
            .compiled
            .iter()
            .filter(|p| determining.contains(&&p.id))
            .map(|p| p.id.clone())
            .collect();
        Answer {
            allowed: response.decision() == CedarDecision::Allow,
            reasons,
            errors,
        }
    }
}

/// The literals of a non-empty set literal.
fn literal_set(e: &Expr) -> Option<Vec<Literal>> {
    let ExprKind::Set(items) = e.expr_kind() else {
        return None;
    };
    let literals: Option<Vec<Literal>> = items
        .iter()
        .map(|i| match i.expr_kind() {
            ExprKind::Lit(l) => Some(l.clone()),
            _ => None,
        })
        .collect();
    literals.filter(|l| !l.is_empty())
}

/// `t(l1) || t(l2) || ...` over the literals (at least one).
fn any_of(literals: Vec<Literal>, term: impl Fn(Expr) -> Expr) -> Expr {
    let mut terms: Vec<Expr> = literals.into_iter().map(|l| term(Expr::val(l))).collect();
    let last = terms.pop().unwrap_or_else(|| Expr::val(false));
    terms
        .into_iter()
        .rev()
        .fold(last, |rest, term| Expr::or(term, rest))
}

/// A condition with its membership tests against literal sets written as
/// comparisons (see the module's documentation). Every other node is kept;
/// the rewrite goes through `&&`, `||`, `!`, `if` and binary operators.
fn comparisons(e: &Expr) -> Expr {
    let loc = e.source_loc().cloned();
    let sub = |a: &Arc<Expr>| comparisons(a);
    let rewritten = match e.expr_kind() {
        ExprKind::And { left, right } => Expr::and(sub(left), sub(right)),
        ExprKind::Or { left, right } => Expr::or(sub(left), sub(right)),
        ExprKind::If {
            test_expr,
            then_expr,
            else_expr,
        } => Expr::ite(sub(test_expr), sub(then_expr), sub(else_expr)),
        ExprKind::UnaryApp { op, arg } => Expr::unary_app(*op, sub(arg)),
        ExprKind::BinaryApp { op, arg1, arg2 } => {
            match (op, literal_set(arg1), literal_set(arg2)) {
                (BinaryOp::Contains, Some(literals), _) => {
                    let x = sub(arg2);
                    any_of(literals, |l| Expr::is_eq(x.clone(), l))
                }
                (BinaryOp::ContainsAny, _, Some(literals)) => {
                    let s = sub(arg1);
                    any_of(literals, |l| Expr::contains(s.clone(), l))
                }
                _ => Expr::binary_app(*op, sub(arg1), sub(arg2)),
            }
        }
        _ => e.clone(),
    };
    rewritten.with_maybe_source_loc(loc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_expr(src: &str) -> Result<Expr, String> {
        src.parse().map_err(|e| format!("{e}"))
    }

    fn rewritten(src: &str) -> String {
        comparisons(&parse_expr(src).unwrap()).to_string()
    }

    #[test]
    fn membership_in_literal_sets_becomes_comparisons() {
        assert_eq!(
            rewritten(r#"["a", "b"].contains(context.x)"#),
            r#"(context.x == "a") || (context.x == "b")"#
        );
        assert_eq!(
            rewritten(r#"resource.s.containsAny(["a"]) && !["c"].contains(context.y)"#),
            r#"resource.s.contains("a") && (!(context.y == "c"))"#
        );
        // Not literals, or empty: kept.
        assert_eq!(
            rewritten(r#"[context.a].contains(context.x)"#),
            parse_expr(r#"[context.a].contains(context.x)"#)
                .unwrap()
                .to_string()
        );
        assert_eq!(
            rewritten(r#"[].contains(context.x)"#),
            parse_expr(r#"[].contains(context.x)"#).unwrap().to_string()
        );
    }

    /// `Pack::with_cedar_authorizer` reaches Cedar's `Authorizer`, which
    /// reads the policies and never the compiled conditions: with every
    /// compiled condition of an unsliced pack made `false`, the compiled
    /// path finds no rule allowing the order, and Cedar's decides as usual.
    /// (The tests that compare both paths rely on this.)
    #[test]
    fn the_cedar_authorizer_does_not_read_the_compiled_conditions() {
        let mut pack = crate::Pack::embedded().unwrap().without_slicing();
        for set in [&mut pack.order_rules, &mut pack.pair_rules] {
            for p in &mut set.compiled {
                p.condition = Expr::val(false);
            }
        }
        let case = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../corpus/public/001-us-subpoena-subscriber.json"
        );
        let input = writ_model::parse::case_file(&std::fs::read(case).unwrap())
            .unwrap()
            .input();
        let compiled = crate::decide(&pack, &input);
        assert_eq!(compiled.codes(), vec![crate::POLICY_ERROR]);
        assert!(
            compiled.reasons[0].message.contains("no rule allowed"),
            "{:?}",
            compiled.reasons
        );
        let cedar = crate::decide(&pack.with_cedar_authorizer(), &input);
        assert_eq!(
            cedar,
            crate::decide(&crate::Pack::embedded().unwrap(), &input)
        );
        assert!(!cedar.codes().contains(&crate::POLICY_ERROR));
    }
}
