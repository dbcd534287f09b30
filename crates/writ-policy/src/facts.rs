//! Turning a decision's inputs into Cedar entities.
//!
//! Rust does what the rule book leaves to the engine: it finds the submitter
//! in the registry, resolves targets to accounts (section H), finds the hold a
//! renewal names, and computes derived instants. Everything else is left to
//! the policies, which read these facts through `schema/writ.cedarschema`.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::OnceLock;

use cedar_policy::{
    Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, RestrictedExpression,
};
use writ_model::{
    Account, AccountStatus, Agency, Category, DecisionInput, Order, PriorHold, Target, TargetKind,
    order::normalize,
};

use crate::instants::Instants;
use crate::params::Parameters;
use crate::slice::{OPTIONAL_ORDER_ATTRS, Shape};

type Attrs = Vec<(String, RestrictedExpression)>;

fn string(s: impl Into<String>) -> RestrictedExpression {
    RestrictedExpression::new_string(s.into())
}

fn long(v: i64) -> RestrictedExpression {
    RestrictedExpression::new_long(v)
}

fn boolean(v: bool) -> RestrictedExpression {
    RestrictedExpression::new_bool(v)
}

fn set<I, S>(items: I) -> RestrictedExpression
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    RestrictedExpression::new_set(items.into_iter().map(string))
}

fn record(fields: Vec<(&str, RestrictedExpression)>) -> Result<RestrictedExpression, String> {
    RestrictedExpression::new_record(fields.into_iter().map(|(k, v)| (k.to_owned(), v)))
        .map_err(|e| e.to_string())
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
        let params = record(vec![("max_targets", long(i64::from(params.max_targets)))])?;
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
                    ("category".to_owned(), string(c.as_str())),
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
            (
                "authenticated".to_owned(),
                boolean(input.submitted_by.is_some()),
            ),
            (
                "agency_id".to_owned(),
                string(input.submitted_by.clone().unwrap_or_default()),
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
            submitter_attrs.push(("agency".to_owned(), record(fields)?));
        }

        let mut issuers = vec![order.issued_by.kind.as_str()];
        if let Some(v) = &order.validated_by {
            issuers.push(v.kind.as_str());
        }
        let mut order_attrs: Attrs = Vec::from([
            ("agency".to_owned(), string(order.agency.as_str())),
            ("instrument".to_owned(), string(order.instrument.as_str())),
            (
                "issued_by".to_owned(),
                string(order.issued_by.kind.as_str()),
            ),
            ("issuers".to_owned(), set(issuers)),
            (
                "issued_after_now".to_owned(),
                boolean(instants.issued_after_now),
            ),
            (
                "three_months_passed".to_owned(),
                boolean(instants.three_months_passed),
            ),
            (
                "issued_under_e_evidence".to_owned(),
                boolean(instants.issued_under_e_evidence),
            ),
            (
                "issued_under_uk_agreement".to_owned(),
                boolean(instants.issued_under_uk_agreement),
            ),
            ("expired".to_owned(), boolean(instants.expired)),
            ("target_count".to_owned(), long(order.targets.len() as i64)),
            (
                "target_kinds".to_owned(),
                set(order.targets.iter().map(|t| t.kind.as_str())),
            ),
            (
                "categories".to_owned(),
                set(order.categories().iter().map(|c| c.as_str())),
            ),
            (
                "assistance".to_owned(),
                set(order.assistance.iter().cloned()),
            ),
        ]);
        if order.date_range.is_some() {
            order_attrs.push((
                "date_range".to_owned(),
                record(vec![("inverted", boolean(instants.date_range_inverted))])?,
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
                    ])?,
                ));
            }
            order_attrs.push(("emergency".to_owned(), record(fields)?));
        }
        if let Some(o) = &order.offence {
            let mut fields = vec![
                ("max_custodial_years", long(o.max_custodial_years)),
                ("listed", boolean(o.listed)),
            ];
            if let Some(c) = o.committed_in {
                fields.push(("committed_in", string(c.as_str())));
            }
            order_attrs.push(("offence".to_owned(), record(fields)?));
        }
        if let (Some(nd), Some(gag)) = (&order.non_disclosure, instants.gag) {
            let fields = vec![
                ("issuer", string(nd.issued_by.kind.as_str())),
                ("live", boolean(gag.live)),
                ("indefinite", boolean(gag.indefinite)),
                ("longer_than_max", boolean(gag.longer_than_max)),
            ];
            order_attrs.push(("non_disclosure".to_owned(), record(fields)?));
        }
        if order.renews.is_some() {
            let mut fields = Vec::new();
            if let (Some(hold), Some(lapsed)) = (renewed_hold(input), instants.hold_lapsed) {
                fields.push((
                    "hold",
                    record(vec![
                        ("lapsed", boolean(lapsed)),
                        ("renewals", long(i64::from(hold.renewals))),
                    ])?,
                ));
            }
            order_attrs.push(("renews".to_owned(), record(fields)?));
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

        let order_uid = names.order.clone();
        let mut entities = vec![
            Entity::new_with_tags(principal.clone(), submitter_attrs, [], [])
                .map_err(|e| e.to_string())?,
            Entity::new_with_tags(order_uid.clone(), order_attrs, [], [])
                .map_err(|e| e.to_string())?,
        ];
        let mut seen = HashSet::new();
        for r in resolved {
            if let Resolution::Found(account) = r
                && let key = account_key(account)
                && !seen.contains(&key)
            {
                let attrs: Attrs = Vec::from([
                    (
                        "data_location".to_owned(),
                        string(account.data_location.as_str()),
                    ),
                    ("us_person".to_owned(), boolean(account.holder.us_person)),
                    (
                        "located_in".to_owned(),
                        string(account.holder.located_in.as_str()),
                    ),
                ]);
                entities.push(
                    Entity::new_with_tags(names.account(&key), attrs, [], [])
                        .map_err(|e| e.to_string())?,
                );
                seen.insert(key);
            }
        }
        let entities = Entities::from_entities(entities, None).map_err(|e| e.to_string())?;

        Ok(Facts {
            entities,
            principal,
            shape,
        })
    }
}
