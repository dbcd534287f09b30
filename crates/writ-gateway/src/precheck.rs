//! What the rule book will say about an order that can be told from the
//! order alone, shown on the portal's order form before it is sent
//! (docs/http.md, `/portal/orders/new`).
//!
//! The answer must not depend on the account directory: telling an agency
//! that an account exists, or where its data is kept, is itself a
//! disclosure that needs legal process. So the directory is never read.
//! Instead the order is decided against invented accounts, one for each
//! named target, in every combination of the facts an account can have
//! (where its data is, whether its holder is a US person, where the holder
//! is, whether it is being deleted), and only what the rules say in every
//! one of those decisions is reported: a refusal of the whole order, or a
//! deny of a (target, category) pair. A rule that depends on the account
//! fires in some combinations and not others, and is left out.

use std::collections::BTreeSet;

use writ_model::registry::{Holder, Identifier, IdentifierKind};
use writ_model::{
    Account, AccountStatus, Country, DecisionInput, Name, Order, Reason, Status, TargetKind,
};

use crate::{Gateway, Result};

/// What the rules say about an order whatever the accounts it names.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Foreseen {
    /// The order as a whole will be refused, for these reasons.
    pub refused: Vec<Reason>,
    /// These (target, category) pairs will be denied, for these reasons.
    pub denied: Vec<Reason>,
}

impl Foreseen {
    pub fn is_empty(&self) -> bool {
        self.refused.is_empty() && self.denied.is_empty()
    }
}

/// Where an invented account's data may be kept: the countries whose
/// rules differ in the rule book (the United States, an EU member, the
/// United Kingdom, elsewhere) and the submitter's own.
const LOCATIONS: [&str; 4] = ["US", "IE", "GB", "BR"];

fn identifier_kind(kind: TargetKind) -> Option<IdentifierKind> {
    Some(match kind {
        TargetKind::AccountId => IdentifierKind::AccountId,
        TargetKind::Email => IdentifierKind::Email,
        TargetKind::Phone => IdentifierKind::Phone,
        TargetKind::Username => IdentifierKind::Username,
        TargetKind::Keyword | TargetKind::Geofence | TargetKind::AllUsers => return None,
    })
}

/// Every combination of account facts, as a directory holding one account
/// per named target.
fn directories(order: &Order, home: Option<Country>) -> Vec<Vec<Account>> {
    let mut locations: Vec<Country> = LOCATIONS.iter().filter_map(|c| Country::parse(c)).collect();
    if let Some(home) = home
        && !locations.contains(&home)
    {
        locations.push(home);
    }
    let mut out = Vec::new();
    for &data_location in &locations {
        for &located_in in &locations {
            for us_person in [false, true] {
                for status in [AccountStatus::Active, AccountStatus::PendingDeletion] {
                    let accounts = order
                        .targets
                        .iter()
                        .enumerate()
                        .filter_map(|(i, t)| {
                            Some(Account {
                                id: Name::parse(format!("foreseen-{i}"))?,
                                identifiers: vec![Identifier {
                                    kind: identifier_kind(t.kind)?,
                                    value: t.value.clone(),
                                }],
                                data_location,
                                holder: Holder {
                                    us_person,
                                    located_in,
                                },
                                status,
                            })
                        })
                        .collect();
                    out.push(accounts);
                }
            }
        }
    }
    out
}

/// The reasons present in every list, in the first list's order.
fn common(lists: &[Vec<Reason>]) -> Vec<Reason> {
    let Some((first, rest)) = lists.split_first() else {
        return Vec::new();
    };
    let key = |r: &Reason| (r.code.clone(), r.target.clone(), r.category);
    let mut kept: BTreeSet<_> = first.iter().map(key).collect();
    for list in rest {
        let here: BTreeSet<_> = list.iter().map(key).collect();
        kept = kept.intersection(&here).cloned().collect();
    }
    first
        .iter()
        .filter(|r| kept.remove(&key(r)))
        .cloned()
        .collect()
}

impl Gateway {
    /// What the rule book will say about `order`, sent by `submitter`,
    /// that the order alone settles (see the module's comment). Reads the
    /// agency registry (the submitter's own entry and the order's agency),
    /// never the account directory or earlier holds.
    pub async fn foresee(&self, submitter: &str, order: &Order) -> Result<Foreseen> {
        let now = crate::stored_now();
        let agencies = self.order_agencies(submitter, order).await?;
        let home = agencies
            .iter()
            .find(|a| a.id.as_str() == submitter)
            .map(|a| a.country);
        let mut refused = Vec::new();
        let mut denied = Vec::new();
        for accounts in directories(order, home) {
            let input = DecisionInput {
                now,
                submitted_by: Some(submitter.to_owned()),
                agencies: agencies.clone(),
                accounts,
                prior: Vec::new(),
                order: order.clone(),
            };
            let d = self.engine().decide(&input);
            let order_level: Vec<Reason> = if d.decisions.is_empty() {
                d.reasons
                    .iter()
                    .filter(|r| r.target.is_none())
                    .cloned()
                    .collect()
            } else {
                Vec::new()
            };
            refused.push(order_level);
            let mut pair_denies = Vec::new();
            for p in d.decisions.iter().filter(|p| p.status == Status::Deny) {
                pair_denies.extend(
                    d.reasons
                        .iter()
                        .filter(|r| {
                            p.reasons.contains(&r.code)
                                && r.target.as_deref() == Some(p.target.as_str())
                                && r.category == Some(p.category)
                                && r.code != NO_DATA_FOUND
                        })
                        .cloned(),
                );
            }
            denied.push(pair_denies);
        }
        Ok(Foreseen {
            refused: common(&refused),
            denied: common(&denied),
        })
    }
}

/// The code of a pair whose target matches no account: it depends on the
/// directory, so it is never foreseen (`docs/legal-rules.md`, section H).
const NO_DATA_FOUND: &str = "no_data_found";
