//! The pack sliced per request shape: what every request of a decision
//! knows before Cedar is asked.
//!
//! Most rules apply to one instrument or a few (`resource.instrument == ...`,
//! `context.order.instrument == ...`), many pair rules to some categories
//! only (`context.category == ...`), and many rules open with a test of the
//! order's optional blocks (`resource has non_disclosure`, `!(context.order
//! has date_range)`) or of the submitter (`principal.authenticated`,
//! `principal has agency`, `principal.agency.country == "US"`). All of these
//! are known from the order's [`Shape`] before Cedar evaluates anything, so
//! each request is evaluated only against the rules that can fire for its
//! shape: for a search warrant from a registered US agency, with a date
//! range and no secrecy order, 12 of the 31 order rules and 3 of the 19
//! pair rules per category.
//!
//! Dropping a rule must not change what Cedar says, errors included: a rule
//! whose evaluation errors refuses with `policy_error`. A rule is dropped for
//! a shape only when its `when` condition is a chain of `&&` (evaluated left
//! to right, stopping at the first `false`) in which one conjunct is a test of
//! a known fact that is false for the shape, and every conjunct before that
//! test cannot raise an error. The conjuncts that count as error-free are
//! built only from literals, variables, attribute reads, `has`, comparisons,
//! boolean operators and set membership: with no extension functions and no
//! arithmetic, Cedar can then only fail on a missing attribute or entity or a
//! type mismatch, which strict validation at load rules out for the facts the
//! engine gives (every request's entities are present and follow the schema,
//! and an optional attribute is read only behind its `has` test). A test of
//! the submitter's country is known only when the submitter is a registered
//! agency; otherwise it stops the chain. Anything else (several conditions,
//! `unless`, arithmetic, calls, a test after an unknown conjunct) keeps the
//! rule in every slice.
//!
//! A pack's slices are built per shape the first time a shape is seen and
//! kept with the pack: they hold rules, never answers, so a decision is still
//! evaluated in full by Cedar against its own facts.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use cedar_policy::{Policy, PolicySet};
use serde_json::Value;
use writ_model::{Category, Country, Instrument};

use crate::compiled::RuleSet;

/// The optional attributes of the order entity (`facts.rs`), in the order of
/// the bits of [`Shape::present`].
pub(crate) const OPTIONAL_ORDER_ATTRS: [&str; 5] = [
    "date_range",
    "emergency",
    "offence",
    "non_disclosure",
    "renews",
];

/// The order entity's attributes that every order has.
const REQUIRED_ORDER_ATTRS: [&str; 13] = [
    "agency",
    "instrument",
    "issued_by",
    "issuers",
    "issued_after_now",
    "three_months_passed",
    "issued_under_e_evidence",
    "issued_under_uk_agreement",
    "expired",
    "target_count",
    "target_kinds",
    "categories",
    "assistance",
];

/// What every request of one decision knows before Cedar evaluates it: the
/// instrument, which optional blocks the order entity has, and who
/// submitted it. Built by [`crate::facts::Facts::build`] from the same
/// values it gives Cedar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Shape {
    pub instrument: Instrument,
    /// Bit `i` set when the order entity has `OPTIONAL_ORDER_ATTRS[i]`.
    pub present: u8,
    /// `principal.authenticated`.
    pub authenticated: bool,
    /// The registered submitter's country (`principal has agency`).
    pub agency: Option<Country>,
}

impl Shape {
    /// The value of a known fact for this shape and category, or `None`
    /// when the shape does not know it (the chain stops there).
    fn value(&self, fact: &Known, category: Option<Category>) -> Option<Fact> {
        let flag = |b: bool| Some(Fact::Bool(b));
        match fact {
            Known::Instrument => Some(Fact::Str(self.instrument.as_str())),
            Known::Category => category.map(|c| Fact::Str(c.as_str())),
            Known::OrderHas(attr) => {
                if let Some(i) = OPTIONAL_ORDER_ATTRS.iter().position(|a| a == attr) {
                    flag(self.present & (1 << i) != 0)
                } else if REQUIRED_ORDER_ATTRS.contains(&attr.as_str()) {
                    flag(true)
                } else {
                    None
                }
            }
            Known::Agency => flag(self.agency.is_some()),
            Known::Authenticated => flag(self.authenticated),
            Known::Country => self.agency.map(Fact::Country),
        }
    }
}

/// A fact every request of a shape knows before Cedar evaluates it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Known {
    Instrument,
    Category,
    /// `resource has X` (order set) or `context.order has X` (pair set).
    OrderHas(String),
    /// `principal has agency`.
    Agency,
    /// `principal.authenticated`.
    Authenticated,
    /// `principal.agency.country`.
    Country,
}

/// A known fact's value.
enum Fact {
    Str(&'static str),
    Bool(bool),
    Country(Country),
}

/// What one conjunct says about a known fact: the values it lets through.
#[derive(Clone, Debug)]
enum Test {
    Only(Vec<String>),
    Not(Vec<String>),
}

impl Test {
    fn allows(&self, value: &Fact) -> bool {
        let value = match value {
            Fact::Str(s) => s,
            Fact::Bool(true) => "true",
            Fact::Bool(false) => "false",
            Fact::Country(c) => c.as_str(),
        };
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

/// Whether `e` is the order entity of a set: `resource` for the order set,
/// `context.order` for the pair set.
fn is_order(e: &Value, kind: SetKind) -> bool {
    match kind {
        SetKind::Order => is_var(e, "resource"),
        SetKind::Pair => attr(e, "order").is_some_and(|l| is_var(l, "context")),
    }
}

/// A known fact that is compared with literals.
fn known(e: &Value, kind: SetKind) -> Option<Known> {
    if attr(e, "instrument").is_some_and(|l| is_order(l, kind)) {
        return Some(Known::Instrument);
    }
    if kind == SetKind::Pair && attr(e, "category").is_some_and(|l| is_var(l, "context")) {
        return Some(Known::Category);
    }
    attr(e, "country")
        .and_then(|l| attr(l, "agency"))
        .filter(|l| is_var(l, "principal"))
        .map(|_| Known::Country)
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

/// A conjunct that is a boolean fact in itself: `principal.authenticated`,
/// `principal has agency`, `resource has X` / `context.order has X`.
fn flag(e: &Value, kind: SetKind) -> Option<Known> {
    if attr(e, "authenticated").is_some_and(|l| is_var(l, "principal")) {
        return Some(Known::Authenticated);
    }
    let has = e.get("has")?;
    let (left, name) = (has.get("left")?, has.get("attr")?.as_str()?);
    if is_var(left, "principal") && name == "agency" {
        Some(Known::Agency)
    } else if is_order(left, kind) {
        Some(Known::OrderHas(name.to_owned()))
    } else {
        None
    }
}

/// A conjunct that tests a known fact against literals, and what it allows.
fn test(e: &Value, kind: SetKind) -> Option<(Known, Test)> {
    if let Some(arg) = e.get("!").and_then(|n| n.get("arg")) {
        let (k, t) = test(arg, kind)?;
        return Some((k, t.negate()));
    }
    if let Some(k) = flag(e, kind) {
        return Some((k, Test::Only(vec!["true".to_owned()])));
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

/// One conjunct of a rule's chain, as slicing reads it.
#[derive(Clone, Debug)]
enum Step {
    /// A test of a known fact (itself error-free once the fact is known).
    Test(Known, Test),
    /// A conjunct that cannot raise an error: evaluation goes on past it.
    Safe,
}

/// The steps of a policy's chain up to its first conjunct that may raise
/// an error (past which nothing can be concluded), or none when the
/// policy is not a single `when` chain.
fn steps_of(policy: &Policy, kind: SetKind) -> Vec<Step> {
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
    let mut steps = Vec::new();
    for c in all {
        if let Some((k, t)) = test(c, kind) {
            steps.push(Step::Test(k, t));
        } else if error_free(c) {
            steps.push(Step::Safe);
        } else {
            break;
        }
    }
    steps
}

/// Whether a rule with these steps can fire for a shape (and category):
/// `false` only when a test of a known fact is false and everything before
/// it was error-free.
fn can_fire(steps: &[Step], shape: &Shape, category: Option<Category>) -> bool {
    for step in steps {
        if let Step::Test(fact, test) = step {
            match shape.value(fact, category) {
                Some(v) if !test.allows(&v) => return false,
                Some(_) => {}
                // Not known for this shape: it might raise an error.
                None => return true,
            }
        }
    }
    true
}

/// The sets one shape evaluates.
#[derive(Debug)]
pub(crate) struct ShapeSets {
    pub order: RuleSet,
    /// One per category, in `Category::ALL` order.
    pairs: Vec<RuleSet>,
}

impl ShapeSets {
    pub fn pair(&self, category: Category) -> Option<&RuleSet> {
        let i = Category::ALL.iter().position(|c| *c == category)?;
        self.pairs.get(i)
    }
}

/// At most this many shapes keep their sets; beyond, a shape's sets are
/// built for each decision (correct, only slower).
const MAX_SHAPES: usize = 4096;

/// The pack's rules with their steps, and the sets of every shape seen so
/// far. An unsliced pack (the default) evaluates every request against the
/// whole sets.
#[derive(Clone, Debug, Default)]
pub(crate) struct Slices {
    order: Vec<(Policy, Vec<Step>)>,
    pair: Vec<(Policy, Vec<Step>)>,
    enabled: bool,
    shapes: Arc<RwLock<HashMap<Shape, Arc<ShapeSets>>>>,
}

impl Slices {
    pub fn build(order_rules: &PolicySet, pair_rules: &PolicySet) -> Self {
        let steps = |set: &PolicySet, kind| {
            set.policies()
                .map(|p| (p.clone(), steps_of(p, kind)))
                .collect()
        };
        Slices {
            order: steps(order_rules, SetKind::Order),
            pair: steps(pair_rules, SetKind::Pair),
            enabled: true,
            shapes: Arc::default(),
        }
    }

    /// The sets for a shape, or `None` when the pack is not sliced.
    pub fn for_shape(&self, shape: &Shape) -> Result<Option<Arc<ShapeSets>>, String> {
        if !self.enabled {
            return Ok(None);
        }
        if let Some(sets) = self.shapes.read().ok().and_then(|m| m.get(shape).cloned()) {
            return Ok(Some(sets));
        }
        let sets = Arc::new(self.sets(shape)?);
        if let Ok(mut map) = self.shapes.write()
            && map.len() < MAX_SHAPES
        {
            map.insert(*shape, sets.clone());
        }
        Ok(Some(sets))
    }

    fn sets(&self, shape: &Shape) -> Result<ShapeSets, String> {
        let slice = |rules: &[(Policy, Vec<Step>)], category| {
            RuleSet::new(
                rules
                    .iter()
                    .filter(|(_, steps)| can_fire(steps, shape, category))
                    .map(|(p, _)| p),
            )
        };
        Ok(ShapeSets {
            order: slice(&self.order, None)?,
            pairs: Category::ALL
                .iter()
                .map(|&c| slice(&self.pair, Some(c)))
                .collect::<Result<_, _>>()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Pack;

    fn ids(set: &RuleSet) -> Vec<String> {
        let mut ids: Vec<String> = set.policies().map(|p| p.id().to_string()).collect();
        ids.sort();
        ids
    }

    fn warrant(present: u8, agency: Option<Country>) -> Shape {
        Shape {
            instrument: Instrument::SearchWarrant,
            present,
            authenticated: true,
            agency,
        }
    }

    const DATE_RANGE: u8 = 1;
    const NON_DISCLOSURE: u8 = 1 << 3;

    #[test]
    fn a_search_warrant_is_asked_only_the_rules_that_can_fire() {
        let pack = Pack::embedded().unwrap();
        let sets = pack
            .slices
            .for_shape(&warrant(DATE_RANGE, Some(Country::US)))
            .unwrap()
            .unwrap();
        let order = ids(&sets.order);
        for kept in [
            "A.agency_not_verified",
            "C.hacking_refused",
            "B.inverted_date_range",
        ] {
            assert!(order.contains(&kept.to_owned()), "{kept}: {order:?}");
        }
        for dropped in [
            "A.unauthenticated",
            "A.unknown_agency",
            "N.nsl_review",
            "K2.emergency_unverified",
            "D.european_orders",
            "L5.gag_not_binding",
            "B.renews_unknown",
        ] {
            assert!(!order.contains(&dropped.to_owned()), "{dropped}: {order:?}");
        }
        assert_eq!(
            (order.len(), pack.order_rules.policies().count()),
            (12, 31),
            "{order:?}"
        );
        assert_eq!(
            ids(sets.pair(Category::Subscriber).unwrap()),
            [
                "E.warrant_or_court_order",
                "I.extraterritorial_data",
                "base.disclose"
            ]
        );
        assert_eq!(
            ids(sets.pair(Category::Content).unwrap()),
            [
                "E.warrant_or_court_order",
                "I.extraterritorial_data",
                "base.disclose"
            ]
        );
    }

    #[test]
    fn the_shape_decides_which_guarded_rules_stay() {
        let pack = Pack::embedded().unwrap();
        let sets = |shape: Shape| pack.slices.for_shape(&shape).unwrap().unwrap();
        // No date range: the unbounded-range rule can fire for content.
        let open = sets(warrant(0, Some(Country::US)));
        assert!(
            ids(open.pair(Category::Content).unwrap())
                .contains(&"J1.unbounded_date_range".to_owned())
        );
        // A secrecy order brings its rules back.
        let gagged = sets(warrant(DATE_RANGE | NON_DISCLOSURE, Some(Country::US)));
        assert!(ids(&gagged.order).contains(&"L5.gag_not_binding".to_owned()));
        // A foreign agency: the other location rule.
        let foreign = sets(warrant(DATE_RANGE, Some(Country::GB)));
        let subscriber = ids(foreign.pair(Category::Subscriber).unwrap());
        assert!(
            subscriber.contains(&"I.outside_jurisdiction".to_owned()),
            "{subscriber:?}"
        );
        assert!(
            !subscriber.contains(&"I.extraterritorial_data".to_owned()),
            "{subscriber:?}"
        );
        // An unregistered submitter: its own refusal, and no agency rules.
        let unknown = sets(warrant(DATE_RANGE, None));
        let order = ids(&unknown.order);
        assert!(order.contains(&"A.unknown_agency".to_owned()), "{order:?}");
        assert!(
            !order.contains(&"A.agency_not_verified".to_owned()),
            "{order:?}"
        );
        // Nobody authenticated.
        let anonymous = sets(Shape {
            authenticated: false,
            ..warrant(DATE_RANGE, None)
        });
        assert!(ids(&anonymous.order).contains(&"A.unauthenticated".to_owned()));
    }

    fn steps(text: &str, kind: SetKind) -> Vec<Step> {
        steps_of(&text.parse::<Policy>().unwrap(), kind)
    }

    fn fires(text: &str, shape: &Shape) -> bool {
        can_fire(&steps(text, SetKind::Order), shape, None)
    }

    #[test]
    fn a_test_after_an_unknown_conjunct_keeps_the_rule() {
        let us = warrant(0, Some(Country::US));
        let subpoena = |shape: Shape| Shape {
            instrument: Instrument::Subpoena,
            ..shape
        };
        assert!(!fires(
            r#"forbid (principal, action, resource) when { resource.instrument == "subpoena" && resource.n + 1 > 0 };"#,
            &us
        ));
        assert!(fires(
            r#"forbid (principal, action, resource) when { resource.n + 1 > 0 && resource.instrument == "subpoena" };"#,
            &us
        ));
        let negated = r#"forbid (principal, action, resource) when { principal has agency && !["epoc", "epoc_pr"].contains(resource.instrument) };"#;
        assert!(fires(negated, &us));
        assert!(!fires(
            negated,
            &Shape {
                instrument: Instrument::Epoc,
                ..us
            }
        ));
        assert!(!fires(negated, &warrant(0, None)));
        let unless =
            r#"forbid (principal, action, resource) unless { resource.instrument == "subpoena" };"#;
        assert!(fires(unless, &us) && fires(unless, &subpoena(us)));
        // A country test is known only for a registered agency: for anyone
        // else the chain stops there and the rule stays (Cedar reports the
        // missing attribute).
        let country = r#"forbid (principal, action, resource) when { principal.agency.country == "GB" && resource.instrument == "subpoena" };"#;
        assert!(!fires(country, &us));
        assert!(fires(country, &warrant(0, None)));
        // An attribute the shape does not know about stops the chain too.
        assert!(fires(
            r#"forbid (principal, action, resource) when { resource has unheard_of && resource.instrument == "subpoena" };"#,
            &us
        ));
        assert!(!fires(
            r#"forbid (principal, action, resource) when { resource has expired && resource.instrument == "subpoena" };"#,
            &us
        ));
    }
}
