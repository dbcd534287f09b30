//! The pack sliced per instrument (and per category for pair rules), at load.
//!
//! Most rules apply to one instrument or a few (`resource.instrument == ...`,
//! `context.order.instrument == ...`) and many pair rules to some categories
//! only (`context.category == ...`). Both are known before Cedar is asked, so
//! each request is evaluated only against the rules that can fire for them:
//! about a third of the pack for a search warrant.
//!
//! Dropping a rule must not change what Cedar says, errors included: a rule
//! whose evaluation errors refuses with `policy_error`. A rule is dropped for
//! a value only when its `when` condition is a chain of `&&` (evaluated left
//! to right, stopping at the first `false`) in which one conjunct is a test of
//! the known value that is false for it, and every conjunct before that test
//! cannot raise an error. The conjuncts that count as error-free are built
//! only from literals, variables, attribute reads, `has`, comparisons,
//! boolean operators and set membership: with no extension functions and no
//! arithmetic, Cedar can then only fail on a missing attribute or entity or a
//! type mismatch, which strict validation at load rules out for the facts the
//! engine gives (every request's entities are present and follow the schema).
//! Anything else (several conditions, `unless`, arithmetic, calls, a test
//! after an unknown conjunct) keeps the rule in every slice.

use std::collections::HashMap;

use cedar_policy::{Policy, PolicySet};
use serde_json::Value;
use writ_model::{Category, Instrument};

/// A fact every request of a set knows before Cedar evaluates it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Known {
    Instrument,
    Category,
}

/// What one conjunct says about a known fact: the values it lets through.
enum Test {
    Only(Vec<String>),
    Not(Vec<String>),
}

impl Test {
    fn allows(&self, value: &str) -> bool {
        match self {
            Test::Only(v) => v.iter().any(|x| x == value),
            Test::Not(v) => !v.iter().any(|x| x == value),
        }
    }

    fn negate(self) -> Self {
        match self {
            Test::Only(v) => Test::Not(v),
            Test::Not(v) => Test::Only(v),
        }
    }
}

/// Which set a policy belongs to decides how the known facts are read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetKind {
    /// `accept`: the resource is the order.
    Order,
    /// `disclose`: the order is `context.order`, the category
    /// `context.category`.
    Pair,
}

fn attr<'a>(e: &'a Value, name: &str) -> Option<&'a Value> {
    let dot = e.get(".")?;
    (dot.get("attr")?.as_str()? == name).then_some(dot.get("left")?)
}

fn is_var(e: &Value, name: &str) -> bool {
    e.get("Var").and_then(Value::as_str) == Some(name)
}

fn known(e: &Value, kind: SetKind) -> Option<Known> {
    match kind {
        SetKind::Order => attr(e, "instrument")
            .filter(|l| is_var(l, "resource"))
            .map(|_| Known::Instrument),
        SetKind::Pair => {
            if let Some(order) = attr(e, "instrument").and_then(|l| attr(l, "order")) {
                return is_var(order, "context").then_some(Known::Instrument);
            }
            attr(e, "category")
                .filter(|l| is_var(l, "context"))
                .map(|_| Known::Category)
        }
    }
}

fn string_literal(e: &Value) -> Option<String> {
    e.get("Value")?.as_str().map(str::to_owned)
}

fn string_set(e: &Value) -> Option<Vec<String>> {
    e.get("Set")?
        .as_array()?
        .iter()
        .map(string_literal)
        .collect()
}

fn binary<'a>(e: &'a Value, op: &str) -> Option<(&'a Value, &'a Value)> {
    let b = e.get(op)?;
    Some((b.get("left")?, b.get("right")?))
}

/// A conjunct that tests a known fact against literals, and what it allows.
fn test(e: &Value, kind: SetKind) -> Option<(Known, Test)> {
    if let Some(arg) = e.get("!").and_then(|n| n.get("arg")) {
        let (k, t) = test(arg, kind)?;
        return Some((k, t.negate()));
    }
    for (op, negated) in [("==", false), ("!=", true)] {
        if let Some((l, r)) = binary(e, op) {
            let (fact, lit) = match (known(l, kind), known(r, kind)) {
                (Some(k), None) => (k, string_literal(r)?),
                (None, Some(k)) => (k, string_literal(l)?),
                _ => return None,
            };
            let t = Test::Only(vec![lit]);
            return Some((fact, if negated { t.negate() } else { t }));
        }
    }
    let (set, member) = binary(e, "contains")?;
    Some((known(member, kind)?, Test::Only(string_set(set)?)))
}

/// Whether evaluating `e` cannot raise an error (see the module's comment).
fn error_free(e: &Value) -> bool {
    let Some(obj) = e.as_object() else {
        return false;
    };
    let Some((op, body)) = obj.iter().next().filter(|_| obj.len() == 1) else {
        return false;
    };
    let field = |name: &str| body.get(name).is_some_and(error_free);
    match op.as_str() {
        "Value" | "Var" => true,
        "Set" => body.as_array().is_some_and(|a| a.iter().all(error_free)),
        "." | "has" => field("left"),
        "!" | "isEmpty" => field("arg"),
        "==" | "!=" | "&&" | "||" | "<" | "<=" | ">" | ">=" | "contains" | "containsAll"
        | "containsAny" => field("left") && field("right"),
        _ => false,
    }
}

/// The conjuncts of `e`, in evaluation order.
fn conjuncts<'a>(e: &'a Value, out: &mut Vec<&'a Value>) {
    match binary(e, "&&") {
        Some((l, r)) => {
            conjuncts(l, out);
            conjuncts(r, out);
        }
        None => out.push(e),
    }
}

/// The tests that let a policy be dropped, or none when it must be kept.
fn tests_of(policy: &Policy, kind: SetKind) -> Vec<(Known, Test)> {
    let Ok(json) = policy.to_json() else {
        return Vec::new();
    };
    let Some([condition]) = json
        .get("conditions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    else {
        return Vec::new();
    };
    let (Some("when"), Some(body)) = (
        condition.get("kind").and_then(Value::as_str),
        condition.get("body"),
    ) else {
        return Vec::new();
    };
    let mut all = Vec::new();
    conjuncts(body, &mut all);
    let mut tests = Vec::new();
    for c in all {
        if let Some(t) = test(c, kind) {
            tests.push(t);
        } else if !error_free(c) {
            break;
        }
    }
    tests
}

/// The sliced sets of a pack. A request whose instrument (or category) has
/// no slice is evaluated against the whole set.
#[derive(Clone, Debug, Default)]
pub(crate) struct Slices {
    order: HashMap<Instrument, PolicySet>,
    pair: HashMap<(Instrument, Category), PolicySet>,
}

impl Slices {
    pub fn build(order_rules: &PolicySet, pair_rules: &PolicySet) -> Result<Self, String> {
        let order_tests: Vec<_> = order_rules
            .policies()
            .map(|p| (p, tests_of(p, SetKind::Order)))
            .collect();
        let pair_tests: Vec<_> = pair_rules
            .policies()
            .map(|p| (p, tests_of(p, SetKind::Pair)))
            .collect();
        let keeps = |tests: &[(Known, Test)], instrument: &str, category: &str| {
            tests.iter().all(|(k, t)| match k {
                Known::Instrument => t.allows(instrument),
                Known::Category => t.allows(category),
            })
        };
        let mut slices = Slices::default();
        for &instrument in Instrument::ALL {
            let mut set = PolicySet::new();
            for (p, tests) in &order_tests {
                if keeps(tests, instrument.as_str(), "") {
                    set.add((*p).clone()).map_err(|e| e.to_string())?;
                }
            }
            slices.order.insert(instrument, set);
            for &category in Category::ALL {
                let mut set = PolicySet::new();
                for (p, tests) in &pair_tests {
                    if keeps(tests, instrument.as_str(), category.as_str()) {
                        set.add((*p).clone()).map_err(|e| e.to_string())?;
                    }
                }
                slices.pair.insert((instrument, category), set);
            }
        }
        Ok(slices)
    }

    pub fn order(&self, instrument: Instrument) -> Option<&PolicySet> {
        self.order.get(&instrument)
    }

    pub fn pair(&self, instrument: Instrument, category: Category) -> Option<&PolicySet> {
        self.pair.get(&(instrument, category))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Pack;

    fn ids(set: Option<&PolicySet>) -> Vec<String> {
        let mut ids: Vec<String> = set
            .expect("a slice")
            .policies()
            .map(|p| p.id().to_string())
            .collect();
        ids.sort();
        ids
    }

    #[test]
    fn a_search_warrant_is_asked_only_the_rules_that_can_fire() {
        let pack = Pack::embedded().unwrap();
        let order = ids(pack.slices.order(Instrument::SearchWarrant));
        for kept in [
            "A.unauthenticated",
            "C.hacking_refused",
            "L5.gag_not_binding",
        ] {
            assert!(order.contains(&kept.to_owned()), "{kept}: {order:?}");
        }
        for dropped in [
            "N.nsl_review",
            "K2.emergency_unverified",
            "D.european_orders",
        ] {
            assert!(!order.contains(&dropped.to_owned()), "{dropped}: {order:?}");
        }
        assert_eq!((order.len(), pack.order_rules.policies().count()), (20, 31));
        assert_eq!(
            ids(pack
                .slices
                .pair(Instrument::SearchWarrant, Category::Subscriber)),
            [
                "E.warrant_or_court_order",
                "I.extraterritorial_data",
                "I.outside_jurisdiction",
                "base.disclose"
            ]
        );
        assert_eq!(
            ids(pack
                .slices
                .pair(Instrument::SearchWarrant, Category::Content)),
            [
                "E.warrant_or_court_order",
                "I.extraterritorial_data",
                "I.outside_jurisdiction",
                "J1.unbounded_date_range",
                "base.disclose"
            ]
        );
    }

    #[test]
    fn a_test_after_an_unknown_conjunct_keeps_the_rule() {
        let parse = |text: &str| text.parse::<Policy>().unwrap();
        let early = parse(
            r#"forbid (principal, action, resource) when { resource.instrument == "subpoena" && resource.n + 1 > 0 };"#,
        );
        assert_eq!(tests_of(&early, SetKind::Order).len(), 1);
        let late = parse(
            r#"forbid (principal, action, resource) when { resource.n + 1 > 0 && resource.instrument == "subpoena" };"#,
        );
        assert!(tests_of(&late, SetKind::Order).is_empty());
        let negated = parse(
            r#"forbid (principal, action, resource) when { principal has a && !["epoc", "epoc_pr"].contains(resource.instrument) };"#,
        );
        let tests = tests_of(&negated, SetKind::Order);
        assert!(tests.len() == 1 && !tests[0].1.allows("epoc") && tests[0].1.allows("subpoena"));
        let unless = parse(
            r#"forbid (principal, action, resource) unless { resource.instrument == "subpoena" };"#,
        );
        assert!(tests_of(&unless, SetKind::Order).is_empty());
    }
}
