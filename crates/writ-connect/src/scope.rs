//! Scope enforcement: the one place that decides which records may reach a
//! package (`docs/product.md`: "Collection is scoped to exactly the accounts,
//! categories and dates granted; nothing else leaves").
//!
//! A connector is asked only for granted pairs, and every record it returns
//! is checked again here: a record of another account, of another category,
//! or dated outside the order's range is dropped and counted, never written.
//! An undated record passes only in the `subscriber` category, where it is
//! the profile of the account as it stands; in any other category a record
//! without a date cannot be shown to be inside the range, so it is dropped.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use writ_model::order::DateRange;
use writ_model::{Category, Decision, Order, Status};

use crate::{ConnectError, Connector, Record};

/// The granted (account, category) pairs and the order's date range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scope {
    pairs: BTreeSet<(String, Category)>,
    range: Option<DateRange>,
}

/// A pair that was not granted was asked for.
#[derive(Debug, thiserror::Error)]
#[error("account `{account}` in category `{category}` was not granted")]
pub struct ScopeError {
    pub account: String,
    pub category: Category,
}

/// Records dropped by scope enforcement, by reason. Any non-zero count means
/// a connector returned more than it was asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dropped {
    pub other_account: u64,
    pub other_category: u64,
    pub out_of_range: u64,
    pub undated: u64,
}

impl Dropped {
    pub fn total(&self) -> u64 {
        self.other_account + self.other_category + self.out_of_range + self.undated
    }

    pub fn add(&mut self, other: Dropped) {
        self.other_account += other.other_account;
        self.other_category += other.other_category;
        self.out_of_range += other.out_of_range;
        self.undated += other.undated;
    }
}

/// Why a record may not pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    OtherAccount,
    OtherCategory,
    OutOfRange,
    Undated,
}

impl Scope {
    pub fn new(
        pairs: impl IntoIterator<Item = (String, Category)>,
        range: Option<DateRange>,
    ) -> Self {
        Self {
            pairs: pairs.into_iter().collect(),
            range,
        }
    }

    /// The pairs a decision grants for disclosure (status `grant`, resolved
    /// to an account) with the order's date range. `preserve` pairs are not
    /// collected: they are held ([`crate::Holds`]).
    pub fn granted(decision: &Decision, order: &Order) -> Self {
        Self::new(
            decision
                .decisions
                .iter()
                .filter(|d| d.status == Status::Grant)
                .filter_map(|d| d.account.clone().map(|a| (a, d.category))),
            order.date_range,
        )
    }

    /// The granted pairs, sorted.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, Category)> {
        self.pairs.iter().map(|(a, c)| (a.as_str(), *c))
    }

    pub fn range(&self) -> Option<DateRange> {
        self.range
    }

    pub fn is_granted(&self, account: &str, category: Category) -> bool {
        self.pairs.contains(&(account.to_owned(), category))
    }

    /// Whether `record`, read for the granted pair (`account`, `category`),
    /// may go into a package.
    pub fn admit(&self, account: &str, category: Category, record: &Record) -> Result<(), Refusal> {
        if record.account != account {
            return Err(Refusal::OtherAccount);
        }
        if record.category != category {
            return Err(Refusal::OtherCategory);
        }
        match (record.at, self.range) {
            (Some(at), Some(range)) if at < range.from || at > range.to => Err(Refusal::OutOfRange),
            (Some(_), _) => Ok(()),
            (None, _) if category == Category::Subscriber => Ok(()),
            (None, _) => Err(Refusal::Undated),
        }
    }

    /// The records of a granted pair, read from `connector` and filtered.
    /// Asking for a pair that was not granted is an error, before the
    /// connector is even called.
    pub fn records<'a>(
        &'a self,
        connector: &'a dyn Connector,
        account: &'a str,
        category: Category,
    ) -> Result<Scoped<'a>, ScopedError> {
        if !self.is_granted(account, category) {
            return Err(ScopedError::NotGranted(ScopeError {
                account: account.to_owned(),
                category,
            }));
        }
        let inner = connector.records(account, category, self.range)?;
        Ok(Scoped {
            scope: self,
            account,
            category,
            inner,
            dropped: Dropped::default(),
        })
    }
}

/// Why the records of a pair cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ScopedError {
    #[error(transparent)]
    NotGranted(#[from] ScopeError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
}

/// The records of one granted pair that pass [`Scope::admit`].
pub struct Scoped<'a> {
    scope: &'a Scope,
    account: &'a str,
    category: Category,
    inner: crate::RecordStream<'a>,
    dropped: Dropped,
}

impl std::fmt::Debug for Scoped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scoped")
            .field("account", &self.account)
            .field("category", &self.category)
            .field("dropped", &self.dropped)
            .finish_non_exhaustive()
    }
}

impl Scoped<'_> {
    /// What was dropped so far.
    pub fn dropped(&self) -> Dropped {
        self.dropped
    }
}

impl Iterator for Scoped<'_> {
    type Item = Result<Record, ConnectError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let record = match self.inner.next()? {
                Ok(r) => r,
                Err(e) => return Some(Err(e)),
            };
            match self.scope.admit(self.account, self.category, &record) {
                Ok(()) => return Some(Ok(record)),
                Err(Refusal::OtherAccount) => self.dropped.other_account += 1,
                Err(Refusal::OtherCategory) => self.dropped.other_category += 1,
                Err(Refusal::OutOfRange) => self.dropped.out_of_range += 1,
                Err(Refusal::Undated) => self.dropped.undated += 1,
            }
        }
    }
}
