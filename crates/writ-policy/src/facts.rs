//! Turning a decision's inputs into Cedar entities.
//!
//! Rust does what the rule book leaves to the engine: it finds the submitter
//! in the registry, resolves targets to accounts (section H), finds the hold a
//! renewal names, and computes derived instants. Everything else is left to
//! the policies, which read these facts through `schema/writ.cedarschema`.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::OnceLock;

use cedar_policy::{Context, Entities, EntityId, EntityTypeName, EntityUid, RestrictedExpression};
use cedar_policy_core::ast::{self, Literal, PartialValue, Value};
use cedar_policy_core::entities::{Entities as CoreEntities, NoEntitiesSchema, TCComputation};
use cedar_policy_core::extensions::Extensions;
use smol_str::SmolStr;
use writ_model::{
    Account, AccountStatus, Agency, Category, DecisionInput, Order, PriorHold, Target, TargetKind,
    order::normalize,
};

use crate::instants::Instants;
use crate::params::Parameters;
use crate::slice::{OPTIONAL_ORDER_ATTRS, Shape};

/// An entity's attributes. Entities are built from Cedar values directly:
/// the facts are values already, and evaluating restricted expressions to
/// the same values cost more than a rule's evaluation.
type Attrs = Vec<(SmolStr, PartialValue)>;

fn string(s: impl Into<SmolStr>) -> Value {
    Value::from(s.into())
}

fn long(v: i64) -> Value {
    Value::from(v)
}

fn boolean(v: bool) -> Value {
    Value::from(v)
}

fn set<I, S>(items: I) -> Value
where
    I: IntoIterator<Item = S>,
    S: Into<SmolStr>,
{
    Value::set_of_lits(items.into_iter().map(|s| Literal::from(s.into())), None)
}

fn record(fields: Vec<(&str, Value)>) -> Value {
    Value::record(fields, None)
}

fn attr(name: &str, value: Value) -> (SmolStr, PartialValue) {
    (SmolStr::new(name), PartialValue::Value(value))
}

pub(crate) fn uid(type_name: &str, id: &str) -> Result<EntityUid, String> {
    let t = EntityTypeName::from_str(type_name).map_err(|e| e.to_string())?;
    Ok(EntityUid::from_type_name_and_id(t, EntityId::new(id)))
}

/// The names every request uses. Parsing a name runs Cedar's parser, which
/// cost more than a rule's evaluation, so they are parsed once per process.
pub(crate) struct Names {
    submitter: EntityTypeName,
    account: EntityTypeName,
    pub order: EntityUid,
    pub accept: EntityUid,
    pub disclose: EntityUid,
}

impl Names {
    pub fn get() -> Result<&'static Names, String> {
        static NAMES: OnceLock<Result<Names, String>> = OnceLock::new();
        NAMES
            .get_or_init(|| {
                let name = |s: &str| EntityTypeName::from_str(s).map_err(|e| e.to_string());
                Ok(Names {
                    submitter: name("Writ::Submitter")?,
                    account: name("Writ::Account")?,
                    order: uid("Writ::Order", "order")?,
                    accept: uid("Writ::Action", "accept")?,
                    disclose: uid("Writ::Action", "disclose")?,
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The account entity of a set of account facts ([`account_key`]).
    pub fn account(&self, key: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(self.account.clone(), EntityId::new(key))
    }
}

/// The request contexts, which depend on the pack's parameters only: built
/// once when the pack loads, not once per request.
#[derive(Clone, Debug)]
pub(crate) struct Contexts {
    pub order: Context,
    /// One per category, in `Category::ALL` order.
    pairs: Vec<Context>,
}

impl Contexts {
    pub fn build(params: &Parameters) -> Result<Self, String> {
        let names = Names::get()?;
        let params = RestrictedExpression::new_record([(
            "max_targets".to_owned(),
            RestrictedExpression::new_long(i64::from(params.max_targets)),
        )])
        .map_err(|e| e.to_string())?;
        let order = Context::from_pairs([("params".to_owned(), params.clone())])
            .map_err(|e| e.to_string())?;
        let pairs = Category::ALL
            .iter()
            .map(|c| {
                Context::from_pairs([
                    ("params".to_owned(), params.clone()),
                    (
                        "order".to_owned(),
                        RestrictedExpression::new_entity_uid(names.order.clone()),
                    ),
                    (
                        "category".to_owned(),
                        RestrictedExpression::new_string(c.as_str().to_owned()),
                    ),
                ])
                .map_err(|e| e.to_string())
            })
            .collect::<Result<_, _>>()?;
        Ok(Contexts { order, pairs })
    }

    pub fn pair(&self, category: Category) -> Option<&Context> {
        let i = Category::ALL.iter().position(|c| *c == category)?;
        self.pairs.get(i)
    }
}

/// The threats that make an emergency EPOC qualify (Reg. 2023/1543 Art.
/// 3(18)), with facts that are not blank.
pub fn is_qualifying_epoc_emergency(order: &Order) -> bool {
    order.instrument == writ_model::Instrument::Epoc
        && order.emergency.as_ref().is_some_and(|e| {
            matches!(
                e.threat.as_str(),
                "death"
                    | "serious_physical_injury"
                    | "safety_of_person"
                    | "critical_infrastructure"
            ) && !e.facts_blank()
        })
}

/// Where a target led (section H).
#[derive(Clone, Copy, Debug)]
pub enum Resolution<'a> {
    /// An account that still holds data (`active` or `pending_deletion`).
    Found(&'a Account),
    /// A purged account: `no_data`.
    Purged(&'a Account),
    /// Nothing carries this identifier: `no_data`.
    Missing,
}

impl<'a> Resolution<'a> {
    pub fn account(self) -> Option<&'a Account> {
        match self {
            Resolution::Found(a) | Resolution::Purged(a) => Some(a),
            Resolution::Missing => None,
        }
    }
}

/// A target resolves to the account that carries an identifier of the same
/// kind and value (section H; e-mail compares case-insensitively). An
/// `account_id` target matches the account's `id` and nothing else: a
/// directory identifier of kind `account_id` plays no part in matching, so it
/// can never send an order to an account other than the one that id names
/// (`docs/instants-and-identifiers.md`).
pub fn resolve<'a>(target: &Target, accounts: &'a [Account]) -> Resolution<'a> {
    let found = if target.kind == TargetKind::AccountId {
        accounts.iter().find(|a| a.id.as_str() == target.value)
    } else {
        let wanted = normalize(target.kind, &target.value);
        accounts.iter().find(|a| {
            a.identifiers.iter().any(|i| {
                let kind = i.kind.target_kind();
                kind == target.kind && normalize(kind, &i.value) == wanted
            })
        })
    };
    match found {
        Some(a) if a.status == AccountStatus::Deleted => Resolution::Purged(a),
        Some(a) => Resolution::Found(a),
        None => Resolution::Missing,
    }
}

/// The registered submitter, if any.
pub fn submitter(input: &DecisionInput) -> Option<&Agency> {
    let id = input.submitted_by.as_deref()?;
    input.agencies.iter().find(|a| a.id.as_str() == id)
}

/// The hold a renewal names: same reference, same agency as the order, same
/// instrument.
pub fn renewed_hold(input: &DecisionInput) -> Option<&PriorHold> {
    let reference = input.order.renews.as_ref()?;
    input.prior.iter().find(|h| {
        h.reference == *reference
            && h.agency == input.order.agency
            && h.instrument == input.order.instrument
    })
}

/// The rules see an account only through its facts (where its data is
/// stored, who holds it), never through its identity: the account entity is
/// named by those facts, so that two targets with the same facts make the
/// same request, which is evaluated once.
pub fn account_key(account: &Account) -> String {
    format!(
        "{}|{}|{}",
        account.data_location, account.holder.us_person, account.holder.located_in
    )
}

/// Everything the Cedar requests of one decision share.
pub(crate) struct Facts {
    pub entities: Entities,
    pub principal: EntityUid,
    /// What the slices need to know (`slice.rs`).
    pub shape: Shape,
}

impl Facts {
    pub fn build(
        input: &DecisionInput,
        instants: &Instants,
        resolved: &[Resolution<'_>],
    ) -> Result<Self, String> {
        let names = Names::get()?;
        let order = &input.order;
        let principal = EntityUid::from_type_name_and_id(
            names.submitter.clone(),
            EntityId::new(input.submitted_by.as_deref().unwrap_or("")),
        );
        let mut submitter_attrs: Attrs = Vec::from([
            attr("authenticated", boolean(input.submitted_by.is_some())),
            attr(
                "agency_id",
                string(input.submitted_by.as_deref().unwrap_or_default()),
            ),
        ]);
        let agency = submitter(input);
        if let Some(agency) = agency {
            let fields = vec![
                ("country", string(agency.country.as_str())),
                ("status", string(agency.status.as_str())),
                ("established", boolean(instants.requester_established)),
                ("powers", set(agency.powers.iter().map(|p| p.as_str()))),
            ];
            submitter_attrs.push(attr("agency", record(fields)));
        }

        let mut issuers = vec![order.issued_by.kind.as_str()];
        if let Some(v) = &order.validated_by {
            issuers.push(v.kind.as_str());
        }
        let mut order_attrs: Attrs = Vec::from([
            attr("agency", string(order.agency.as_str())),
            attr("instrument", string(order.instrument.as_str())),
            attr("issued_by", string(order.issued_by.kind.as_str())),
            attr("issuers", set(issuers)),
            attr("issued_after_now", boolean(instants.issued_after_now)),
            attr("three_months_passed", boolean(instants.three_months_passed)),
            attr(
                "issued_under_e_evidence",
                boolean(instants.issued_under_e_evidence),
            ),
            attr(
                "issued_under_uk_agreement",
                boolean(instants.issued_under_uk_agreement),
            ),
            attr("expired", boolean(instants.expired)),
            attr("target_count", long(order.targets.len() as i64)),
            attr(
                "target_kinds",
                set(order.targets.iter().map(|t| t.kind.as_str())),
            ),
            attr(
                "categories",
                set(order.categories().iter().map(|c| c.as_str())),
            ),
            attr(
                "assistance",
                set(order.assistance.iter().map(String::as_str)),
            ),
        ]);
        if order.date_range.is_some() {
            order_attrs.push(attr(
                "date_range",
                record(vec![("inverted", boolean(instants.date_range_inverted))]),
            ));
        }
        if let Some(e) = &order.emergency {
            let mut fields = vec![
                ("threat", string(e.threat.clone())),
                ("facts_blank", boolean(e.facts_blank())),
                (
                    "qualifying_epoc",
                    boolean(is_qualifying_epoc_emergency(order)),
                ),
            ];
            if let Some(c) = &e.callback {
                fields.push((
                    "callback",
                    record(vec![
                        ("verified", boolean(c.verified)),
                        ("number_source", string(c.number_source.as_str())),
                    ]),
                ));
            }
            order_attrs.push(attr("emergency", record(fields)));
        }
        if let Some(o) = &order.offence {
            let mut fields = vec![
                ("max_custodial_years", long(o.max_custodial_years)),
                ("listed", boolean(o.listed)),
            ];
            if let Some(c) = o.committed_in {
                fields.push(("committed_in", string(c.as_str())));
            }
            order_attrs.push(attr("offence", record(fields)));
        }
        if let (Some(nd), Some(gag)) = (&order.non_disclosure, instants.gag) {
            let fields = vec![
                ("issuer", string(nd.issued_by.kind.as_str())),
                ("live", boolean(gag.live)),
                ("indefinite", boolean(gag.indefinite)),
                ("longer_than_max", boolean(gag.longer_than_max)),
            ];
            order_attrs.push(attr("non_disclosure", record(fields)));
        }
        if order.renews.is_some() {
            let mut fields = Vec::new();
            if let (Some(hold), Some(lapsed)) = (renewed_hold(input), instants.hold_lapsed) {
                fields.push((
                    "hold",
                    record(vec![
                        ("lapsed", boolean(lapsed)),
                        ("renewals", long(i64::from(hold.renewals))),
                    ]),
                ));
            }
            order_attrs.push(attr("renews", record(fields)));
        }

        // The shape is read off the attributes Cedar is given, so that the
        // slices and the facts cannot disagree.
        let present = OPTIONAL_ORDER_ATTRS
            .iter()
            .enumerate()
            .filter(|(_, a)| order_attrs.iter().any(|(k, _)| k == *a))
            .fold(0u8, |bits, (i, _)| bits | (1 << i));
        let shape = Shape {
            instrument: order.instrument,
            present,
            authenticated: input.submitted_by.is_some(),
            agency: agency.map(|a| a.country),
        };

        let entity = |uid: &EntityUid, attrs: Attrs| {
            let uid: &ast::EntityUID = uid.as_ref();
            ast::Entity::new_with_attr_partial_value(
                uid.clone(),
                attrs,
                HashSet::new(),
                HashSet::new(),
                [],
            )
        };
        let mut entities = vec![
            entity(&principal, submitter_attrs),
            entity(&names.order, order_attrs),
        ];
        let mut seen = HashSet::new();
        for r in resolved {
            if let Resolution::Found(account) = r
                && let key = account_key(account)
                && !seen.contains(&key)
            {
                let attrs: Attrs = Vec::from([
                    attr("data_location", string(account.data_location.as_str())),
                    attr("us_person", boolean(account.holder.us_person)),
                    attr("located_in", string(account.holder.located_in.as_str())),
                ]);
                entities.push(entity(&names.account(&key), attrs));
                seen.insert(key);
            }
        }
        // No entity has a parent: there is no hierarchy to close.
        let entities = CoreEntities::from_entities(
            entities,
            None::<&NoEntitiesSchema>,
            TCComputation::AssumeAlreadyComputed,
            Extensions::all_available(),
        )
        .map_err(|e| e.to_string())?
        .into();

        Ok(Facts {
            entities,
            principal,
            shape,
        })
    }
}
