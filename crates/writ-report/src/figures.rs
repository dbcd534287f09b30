//! From log entries to figures (`docs/formats.md`, "Reports from the log").
//!
//! A case counts in the period of its `received` entry, in its state at the
//! report's checkpoint, as the first of these that holds: content disclosed
//! (a `disclosed` entry includes `content`), non-content only (some
//! `disclosed` entry), withdrawn, no data (the last decision is `no_data`),
//! rejected (the last decision is `reject`, or a confirmed review rejects),
//! and otherwise pending. Preservation orders are counted apart, as Google
//! does; national security letters only in bands, from the `restricted`
//! entries of the period.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use writ_events::{EntryKind, EntryView, Kind, Unit};
use writ_model::Outcome;

use crate::{Period, ReportError};

/// Outcomes of the cases of a row, by the counting rule.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcomes {
    pub content_disclosed: u64,
    pub non_content_only: u64,
    pub withdrawn: u64,
    pub no_data: u64,
    pub rejected: u64,
    pub pending: u64,
}

impl Outcomes {
    /// Cases where some data was produced.
    pub fn produced(&self) -> u64 {
        self.content_disclosed + self.non_content_only
    }

    fn add(&mut self, outcome: CaseOutcome) {
        match outcome {
            CaseOutcome::Content => self.content_disclosed += 1,
            CaseOutcome::NonContent => self.non_content_only += 1,
            CaseOutcome::Withdrawn => self.withdrawn += 1,
            CaseOutcome::NoData => self.no_data += 1,
            CaseOutcome::Rejected => self.rejected += 1,
            CaseOutcome::Pending => self.pending += 1,
        }
    }
}

/// Answers against the first decision's deadline (`on_time` of the last
/// entry that ended the case); open cases count in neither.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnTime {
    pub met: u64,
    pub missed: u64,
}

impl OnTime {
    fn add(&mut self, on_time: Option<bool>) {
        match on_time {
            Some(true) => self.met += 1,
            Some(false) => self.missed += 1,
            None => {}
        }
    }
}

/// The figures of a set of requests for data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Orders received in the period.
    pub requests: u64,
    /// Targets the orders named (`received.targets`): Google's
    /// "Users/Accounts Specified".
    pub accounts_specified: u64,
    /// Targets that resolve to data (`accounts` of the last decision).
    pub accounts: u64,
    /// Orders carrying an emergency.
    pub emergency: u64,
    /// Orders reaching at least one account stored outside the issuing
    /// country, and those accounts (`accounts_abroad`).
    pub abroad_requests: u64,
    pub accounts_abroad: u64,
    pub outcomes: Outcomes,
    pub on_time: OnTime,
}

impl Counts {
    fn add(&mut self, case: &CaseState) {
        self.requests += 1;
        self.accounts_specified += case.targets;
        self.accounts += case.accounts;
        self.emergency += u64::from(case.emergency);
        self.abroad_requests += u64::from(case.abroad > 0);
        self.accounts_abroad += case.abroad;
        self.outcomes.add(case.outcome());
        self.on_time.add(case.on_time);
    }
}

/// One issuing country and instrument.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// ISO 3166-1 alpha-2; `null` for an unregistered submitter.
    pub country: Option<String>,
    pub instrument: String,
    #[serde(flatten)]
    pub counts: Counts,
}

/// Preservation orders of one country and instrument: reported apart.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preservation {
    pub country: Option<String>,
    pub instrument: String,
    pub requests: u64,
    pub accounts_specified: u64,
    /// Orders with at least one hold placed (`preserved` entries), and the
    /// accounts of their last hold.
    pub preserved: u64,
    pub accounts_preserved: u64,
    pub withdrawn: u64,
    pub rejected: u64,
    pub no_data: u64,
    pub pending: u64,
    pub on_time: OnTime,
}

/// A band of 500 (50 U.S.C. § 1874(a)(2)): `from` to `to`, inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Band {
    pub from: u64,
    pub to: u64,
}

impl Band {
    /// A unit with `m` entries in a period shows `m − 500` to `m − 1`
    /// (`docs/formats.md`, "Restricted entries"); no entries, no band yet.
    fn of(m: u64) -> Option<Self> {
        (m > 0).then(|| Band {
            from: m.saturating_sub(500),
            to: m - 1,
        })
    }
}

/// National security letters, in bands; `null` until the period's batch
/// is in the log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NslBands {
    pub letters: Option<Band>,
    pub selectors: Option<Band>,
    pub events: Option<Band>,
}

/// The requests received in one month of the period.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Month {
    /// `2026-07`.
    pub month: String,
    pub requests: u64,
    pub outcomes: Outcomes,
    pub on_time: OnTime,
}

/// Everything a report states.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    /// Entries read: the checkpoint's size.
    pub entries: u64,
    /// Requests for data by country and instrument (preservation apart).
    pub requests: Vec<Row>,
    pub totals: Counts,
    /// Requests carrying an emergency, all countries and instruments.
    pub emergency: Counts,
    pub preservation: Vec<Preservation>,
    pub national_security_letters: NslBands,
    pub months: Vec<Month>,
}

/// Google's `Legal Process` name of an instrument (`docs/formats.md`).
pub fn legal_process(instrument: &str) -> &'static str {
    match instrument {
        "subpoena" => "Subpoena",
        "search_warrant" => "Search Warrant",
        "court_order" => "Other Court Orders",
        "emergency_request" => "Emergency Disclosure Requests",
        "preservation_request" => "Preservation Requests",
        "epoc" => "European Production Orders",
        "epoc_pr" => "European Preservation Orders",
        "uk_overseas_order" => "Overseas Production Orders",
        _ => "Other",
    }
}

fn is_preservation(instrument: &str) -> bool {
    matches!(instrument, "preservation_request" | "epoc_pr")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decided {
    None,
    NoData,
    Reject,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CaseOutcome {
    Content,
    NonContent,
    Withdrawn,
    NoData,
    Rejected,
    Pending,
}

/// What the log says about one case so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct CaseState {
    group: u32,
    month: u8,
    emergency: bool,
    targets: u64,
    accounts: u64,
    abroad: u64,
    decided: Decided,
    review_rejected: bool,
    content: bool,
    disclosed: bool,
    withdrawn: bool,
    /// The accounts of the last hold placed, if any was.
    held: Option<u64>,
    on_time: Option<bool>,
}

impl CaseState {
    fn outcome(&self) -> CaseOutcome {
        if self.content {
            CaseOutcome::Content
        } else if self.disclosed {
            CaseOutcome::NonContent
        } else if self.withdrawn {
            CaseOutcome::Withdrawn
        } else if self.decided == Decided::NoData {
            CaseOutcome::NoData
        } else if self.decided == Decided::Reject || self.review_rejected {
            CaseOutcome::Rejected
        } else {
            CaseOutcome::Pending
        }
    }
}

/// A [`CaseState`] whose counts fit in 32 bits, in 24 bytes: a bucket of
/// the table, with its id, takes 32 bytes where the whole state would take
/// 64. The case table holds millions of cases, looked up in no order, so
/// its size is what reading them costs. A case whose counts do not fit is kept
/// whole instead ([`Cases`]).
#[derive(Clone, Copy, Debug)]
struct Packed {
    group: u32,
    targets: u32,
    accounts: u32,
    abroad: u32,
    held_accounts: u32,
    month: u8,
    /// The flags, `decided` and `on_time` ([`Packed::FLAGS`]).
    bits: u16,
}

impl Packed {
    const EMERGENCY: u16 = 1;
    const REVIEW_REJECTED: u16 = 1 << 1;
    const CONTENT: u16 = 1 << 2;
    const DISCLOSED: u16 = 1 << 3;
    const WITHDRAWN: u16 = 1 << 4;
    const HELD: u16 = 1 << 5;
    /// `on_time` in bits 6 and 7: none, false, true.
    const ON_TIME: u32 = 6;
    /// `decided` in bits 8 and 9.
    const DECIDED: u32 = 8;
    /// The flags in the order of their bits.
    const FLAGS: [u16; 6] = [
        Self::EMERGENCY,
        Self::REVIEW_REJECTED,
        Self::CONTENT,
        Self::DISCLOSED,
        Self::WITHDRAWN,
        Self::HELD,
    ];

    /// The state packed, or `None` if a count takes more than 32 bits.
    fn pack(s: &CaseState) -> Option<Self> {
        let flags = [
            s.emergency,
            s.review_rejected,
            s.content,
            s.disclosed,
            s.withdrawn,
            s.held.is_some(),
        ];
        let mut bits = 0;
        for (flag, set) in Self::FLAGS.into_iter().zip(flags) {
            if set {
                bits |= flag;
            }
        }
        let on_time: u16 = match s.on_time {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        };
        let decided: u16 = match s.decided {
            Decided::None => 0,
            Decided::NoData => 1,
            Decided::Reject => 2,
            Decided::Other => 3,
        };
        bits |= on_time << Self::ON_TIME | decided << Self::DECIDED;
        Some(Packed {
            group: s.group,
            targets: u32::try_from(s.targets).ok()?,
            accounts: u32::try_from(s.accounts).ok()?,
            abroad: u32::try_from(s.abroad).ok()?,
            held_accounts: u32::try_from(s.held.unwrap_or(0)).ok()?,
            month: s.month,
            bits,
        })
    }

    fn unpack(self) -> CaseState {
        let flag = |f: u16| self.bits & f != 0;
        CaseState {
            group: self.group,
            month: self.month,
            emergency: flag(Self::EMERGENCY),
            targets: self.targets.into(),
            accounts: self.accounts.into(),
            abroad: self.abroad.into(),
            decided: match (self.bits >> Self::DECIDED) & 3 {
                0 => Decided::None,
                1 => Decided::NoData,
                2 => Decided::Reject,
                _ => Decided::Other,
            },
            review_rejected: flag(Self::REVIEW_REJECTED),
            content: flag(Self::CONTENT),
            disclosed: flag(Self::DISCLOSED),
            withdrawn: flag(Self::WITHDRAWN),
            held: flag(Self::HELD).then_some(self.held_accounts.into()),
            on_time: match (self.bits >> Self::ON_TIME) & 3 {
                0 => None,
                1 => Some(false),
                _ => Some(true),
            },
        }
    }
}

/// Case ids as Writ makes them (`c-` and 16 hex digits) are kept as
/// integers; any other id as text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum CaseKey {
    Id(u64),
    Text(Box<str>),
}

impl CaseKey {
    fn of(id: &str) -> Self {
        match id.strip_prefix("c-") {
            Some(hex)
                if hex.len() == 16
                    && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) =>
            {
                match u64::from_str_radix(hex, 16) {
                    Ok(n) => CaseKey::Id(n),
                    Err(_) => CaseKey::Text(id.into()),
                }
            }
            _ => CaseKey::Text(id.into()),
        }
    }
}

/// A hash map with a fast, randomly seeded hasher: the case table holds
/// millions of cases.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

fn fast_map<K, V>() -> FastMap<K, V> {
    HashMap::with_hasher(foldhash::fast::RandomState::default())
}

/// The cases read so far, by key: each in exactly one of two maps.
#[derive(Debug)]
struct Cases {
    /// Cases with a Writ id whose state packs.
    packed: FastMap<u64, Packed>,
    /// The others: ids not in Writ's form, and counts beyond 32 bits.
    whole: FastMap<CaseKey, CaseState>,
    /// Every case kept whole: what the packed table is tested against.
    #[cfg(test)]
    never_pack: bool,
}

impl Cases {
    fn new() -> Self {
        Cases {
            packed: fast_map(),
            whole: fast_map(),
            #[cfg(test)]
            never_pack: false,
        }
    }

    fn pack(&self, state: &CaseState) -> Option<Packed> {
        #[cfg(test)]
        if self.never_pack {
            return None;
        }
        Packed::pack(state)
    }

    /// Adds a case; false if its key was already there (it is replaced).
    fn insert(&mut self, key: CaseKey, state: CaseState) -> bool {
        let mut new = self.whole.is_empty() || self.whole.remove(&key).is_none();
        if let CaseKey::Id(n) = key {
            match self.pack(&state) {
                Some(packed) => return self.packed.insert(n, packed).is_none() && new,
                None => new &= self.packed.remove(&n).is_none(),
            }
        }
        self.whole.insert(key, state);
        new
    }

    /// Changes the case under `key` with `change`; false if there is none.
    fn update(&mut self, key: &CaseKey, change: impl FnOnce(&mut CaseState)) -> bool {
        if let CaseKey::Id(n) = key
            && let Some(packed) = self.packed.get_mut(n)
        {
            let mut state = packed.unpack();
            change(&mut state);
            match Packed::pack(&state) {
                Some(p) => *packed = p,
                None => {
                    self.packed.remove(n);
                    self.whole.insert(key.clone(), state);
                }
            }
            return true;
        }
        if self.whole.is_empty() {
            return false;
        }
        match self.whole.get_mut(key) {
            Some(state) => {
                change(state);
                true
            }
            None => false,
        }
    }

    fn values(&self) -> impl Iterator<Item = CaseState> {
        let packed = self.packed.values().map(|p| p.unpack());
        packed.chain(self.whole.values().copied())
    }
}

/// A country and instrument as an entry names them.
type Group = (Option<String>, String);

/// A country and instrument borrowed from an entry's bytes.
type GroupRef<'a> = (Option<Cow<'a, str>>, Cow<'a, str>);

/// Reads entries in log order and counts them for one period.
#[derive(Debug)]
pub struct Tally {
    period: Period,
    start: String,
    end: String,
    months: Vec<String>,
    entries: u64,
    cases: Cases,
    /// (country, instrument) of each group, by index.
    groups: Vec<Group>,
    group_index: HashMap<Group, u32>,
    /// Restricted entries of the period: letter, selector, event.
    restricted: [u64; 3],
}

impl Tally {
    pub fn new(period: Period) -> Self {
        Tally {
            start: period.start(),
            end: period.end(),
            months: period.months(),
            period,
            entries: 0,
            cases: Cases::new(),
            groups: Vec::new(),
            group_index: HashMap::new(),
            restricted: [0; 3],
        }
    }

    pub fn period(&self) -> Period {
        self.period
    }

    /// The same tally with every case kept whole, never packed.
    #[cfg(test)]
    fn never_packing(mut self) -> Self {
        self.cases.never_pack = true;
        self
    }

    /// Entries read so far.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Reads the next entry of the log (its bytes as logged).
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), ReportError> {
        let parsed = self.parser().parse(self.entries, bytes)?;
        self.apply(parsed)
    }

    /// What reads entries for this tally; it can run on other threads,
    /// whose results go to [`Tally::apply`] in log order.
    pub fn parser(&self) -> Parser {
        Parser {
            period: self.period,
            start: self.start.clone(),
            end: self.end.clone(),
            months: self.months.clone(),
        }
    }

    /// The index of a group, numbered on first sight.
    fn group(&mut self, key: Group) -> Result<u32, ReportError> {
        if let Some(g) = self.group_index.get(&key) {
            return Ok(*g);
        }
        let g = u32::try_from(self.groups.len()).map_err(|_| ReportError::Entry {
            index: self.entries,
            reason: "too many countries and instruments".into(),
        })?;
        self.groups.push(key.clone());
        self.group_index.insert(key, g);
        Ok(g)
    }

    /// Counts the next entry, as [`Parser::parse`] read it.
    pub fn apply(&mut self, parsed: Parsed) -> Result<(), ReportError> {
        let inner = parsed.0.try_map_group(|g| self.group(g))?;
        self.count(inner)
    }

    /// Counts the entries of a batch a [`Reader`] read, in log order;
    /// `groups` numbers the reader's groups as this tally does (and grows
    /// with the groups the batch names first).
    pub(crate) fn apply_batch(
        &mut self,
        batch: Batch,
        groups: &mut Vec<u32>,
    ) -> Result<(), ReportError> {
        for key in batch.new_groups {
            groups.push(self.group(key)?);
        }
        for item in batch.items {
            let inner = item.try_map_group(|g| {
                groups
                    .get(g as usize)
                    .copied()
                    .ok_or_else(|| ReportError::Entry {
                        index: self.entries,
                        reason: "group not read".into(),
                    })
            })?;
            self.count(inner)?;
        }
        Ok(())
    }

    /// Counts the next entry, its group numbered.
    fn count(&mut self, inner: Inner<u32>) -> Result<(), ReportError> {
        let index = self.entries;
        self.entries += 1;
        let (case, event) = match inner {
            Inner::Skip => return Ok(()),
            Inner::Restricted(unit) => {
                if let Some(n) = self.restricted.get_mut(unit) {
                    *n += 1;
                }
                return Ok(());
            }
            Inner::Received {
                case,
                group,
                month,
                emergency,
                targets,
            } => {
                let state = CaseState {
                    group,
                    month,
                    emergency,
                    targets,
                    accounts: 0,
                    abroad: 0,
                    decided: Decided::None,
                    review_rejected: false,
                    content: false,
                    disclosed: false,
                    withdrawn: false,
                    held: None,
                    on_time: None,
                };
                if !self.cases.insert(case, state) {
                    return Err(ReportError::Entry {
                        index,
                        reason: "a second `received` entry for its case".into(),
                    });
                }
                return Ok(());
            }
            Inner::Event { case, event } => (case, event),
        };
        // Events of cases received in other periods do not count here.
        self.cases.update(&case, |state| {
            let on_time = match event {
                Event::Decided {
                    decided,
                    accounts,
                    abroad,
                    on_time,
                } => {
                    state.decided = decided;
                    state.accounts = accounts;
                    state.abroad = abroad;
                    on_time
                }
                Event::Reviewed { confirmed, on_time } => {
                    if let Some(rejected) = confirmed {
                        state.review_rejected = rejected;
                    }
                    on_time
                }
                Event::Disclosed { content, on_time } => {
                    state.disclosed = true;
                    state.content |= content;
                    on_time
                }
                Event::Preserved { accounts, on_time } => {
                    state.held = Some(accounts);
                    on_time
                }
                Event::Withdrawn => {
                    state.withdrawn = true;
                    None
                }
                Event::Other { on_time } => on_time,
            };
            if on_time.is_some() {
                state.on_time = on_time;
            }
        });
        Ok(())
    }

    /// The figures of every case read.
    pub fn finish(self) -> Figures {
        let mut rows: BTreeMap<u32, Counts> = BTreeMap::new();
        let mut preservation: BTreeMap<u32, Preservation> = BTreeMap::new();
        let mut totals = Counts::default();
        let mut emergency = Counts::default();
        let mut months: Vec<Month> = self
            .months
            .iter()
            .map(|m| Month {
                month: m.clone(),
                ..Month::default()
            })
            .collect();
        for case in self.cases.values() {
            let Some((_, instrument)) = self.groups.get(case.group as usize) else {
                continue;
            };
            if is_preservation(instrument) {
                let p = preservation.entry(case.group).or_default();
                p.requests += 1;
                p.accounts_specified += case.targets;
                if let Some(accounts) = case.held {
                    p.preserved += 1;
                    p.accounts_preserved += accounts;
                } else if case.withdrawn {
                    p.withdrawn += 1;
                } else if case.decided == Decided::NoData {
                    p.no_data += 1;
                } else if case.decided == Decided::Reject || case.review_rejected {
                    p.rejected += 1;
                } else {
                    p.pending += 1;
                }
                p.on_time.add(case.on_time);
                continue;
            }
            rows.entry(case.group).or_default().add(&case);
            totals.add(&case);
            if case.emergency {
                emergency.add(&case);
            }
            if let Some(m) = months.get_mut(usize::from(case.month)) {
                m.requests += 1;
                m.outcomes.add(case.outcome());
                m.on_time.add(case.on_time);
            }
        }
        let group = |g: u32| self.groups.get(g as usize).cloned().unwrap_or_default();
        let mut requests: Vec<Row> = rows
            .into_iter()
            .map(|(g, counts)| {
                let (country, instrument) = group(g);
                Row {
                    country,
                    instrument,
                    counts,
                }
            })
            .collect();
        requests.sort_by(|a, b| (&a.country, &a.instrument).cmp(&(&b.country, &b.instrument)));
        let mut preservation: Vec<Preservation> = preservation
            .into_iter()
            .map(|(g, mut p)| {
                let (country, instrument) = group(g);
                p.country = country;
                p.instrument = instrument;
                p
            })
            .collect();
        preservation.sort_by(|a, b| (&a.country, &a.instrument).cmp(&(&b.country, &b.instrument)));
        Figures {
            entries: self.entries,
            requests,
            totals,
            emergency,
            preservation,
            national_security_letters: NslBands {
                letters: Band::of(self.restricted[0]),
                selectors: Band::of(self.restricted[1]),
                events: Band::of(self.restricted[2]),
            },
            months,
        }
    }
}

/// An entry as read by a [`Parser`], waiting to be counted by
/// [`Tally::apply`].
#[derive(Debug)]
pub struct Parsed(Inner<Group>);

/// An entry as read; `G` names its group (country and instrument).
#[derive(Debug)]
enum Inner<G> {
    Skip,
    Restricted(usize),
    Received {
        case: CaseKey,
        group: G,
        month: u8,
        emergency: bool,
        targets: u64,
    },
    Event {
        case: CaseKey,
        event: Event,
    },
}

impl<G> Inner<G> {
    /// The same entry with its group named by `f` (only a `received`
    /// entry names one).
    fn try_map_group<H, E>(self, f: impl FnOnce(G) -> Result<H, E>) -> Result<Inner<H>, E> {
        Ok(match self {
            Inner::Skip => Inner::Skip,
            Inner::Restricted(unit) => Inner::Restricted(unit),
            Inner::Received {
                case,
                group,
                month,
                emergency,
                targets,
            } => Inner::Received {
                case,
                group: f(group)?,
                month,
                emergency,
                targets,
            },
            Inner::Event { case, event } => Inner::Event { case, event },
        })
    }
}

#[derive(Debug)]
enum Event {
    Decided {
        decided: Decided,
        accounts: u64,
        abroad: u64,
        on_time: Option<bool>,
    },
    Reviewed {
        /// `Some(rejects)` for a confirmation.
        confirmed: Option<bool>,
        on_time: Option<bool>,
    },
    Disclosed {
        content: bool,
        on_time: Option<bool>,
    },
    Preserved {
        accounts: u64,
        on_time: Option<bool>,
    },
    Withdrawn,
    Other {
        on_time: Option<bool>,
    },
}

/// Reads entries for a [`Tally`]: pure, and shareable between threads.
#[derive(Clone, Debug)]
pub struct Parser {
    period: Period,
    start: String,
    end: String,
    months: Vec<String>,
}

impl Parser {
    /// Reads entry `index` of the log.
    pub fn parse(&self, index: u64, bytes: &[u8]) -> Result<Parsed, ReportError> {
        let inner = self.read(index, bytes)?;
        inner
            .try_map_group(|(country, instrument)| {
                Ok((country.map(Cow::into_owned), instrument.into_owned()))
            })
            .map(Parsed)
    }

    /// Reads entry `index` of the log, its group borrowed from its bytes.
    fn read<'a>(&self, index: u64, bytes: &'a [u8]) -> Result<Inner<GroupRef<'a>>, ReportError> {
        let bad = |reason: String| ReportError::Entry { index, reason };
        let raw = match crate::lean::view(bytes) {
            Some(view) => view,
            None => EntryView::parse(bytes).map_err(|e| bad(format!("not an entry: {e}")))?,
        };
        let kind = match raw.kind {
            EntryKind::Restricted => {
                let unit = match raw.unit {
                    Some(Unit::Letter) => 0,
                    Some(Unit::Selector) => 1,
                    Some(Unit::Event) => 2,
                    None => return Err(bad("restricted entry without `unit`".into())),
                };
                let period = raw
                    .period
                    .as_deref()
                    .ok_or_else(|| bad("restricted entry without `period`".into()))?;
                return Ok(if Period::parse(period)? == self.period {
                    Inner::Restricted(unit)
                } else {
                    Inner::Skip
                });
            }
            EntryKind::Event(Kind::Registry) => return Ok(Inner::Skip),
            EntryKind::Event(kind) => kind,
        };
        let name = kind.as_str();
        let case_id = raw
            .case
            .as_deref()
            .ok_or_else(|| bad(format!("`{name}` entry without a case")))?;
        let case = CaseKey::of(case_id);
        let public = raw.public;
        if kind == Kind::Received {
            let hour = raw
                .hour
                .as_deref()
                .ok_or_else(|| bad("entry without `hour`".into()))?;
            if hour < self.start.as_str() || hour >= self.end.as_str() {
                return Ok(Inner::Skip);
            }
            let public = public.ok_or_else(|| bad("`received` without `public`".into()))?;
            let instrument = public
                .instrument
                .ok_or_else(|| bad("`received` without `instrument`".into()))?;
            let month = self
                .months
                .iter()
                .position(|m| hour.starts_with(m.as_str()))
                .and_then(|m| u8::try_from(m).ok())
                .ok_or_else(|| bad(format!("`hour` `{hour}` is not a timestamp")))?;
            return Ok(Inner::Received {
                case,
                group: (public.country, instrument),
                month,
                emergency: public.emergency.unwrap_or(false),
                targets: public.targets.unwrap_or(0),
            });
        }
        let on_time = public.as_ref().and_then(|p| p.on_time);
        let event = match kind {
            Kind::Decided => {
                let p = public.ok_or_else(|| bad("`decided` without `public`".into()))?;
                Event::Decided {
                    decided: match p.outcome {
                        Some(Outcome::NoData) => Decided::NoData,
                        Some(Outcome::Reject) => Decided::Reject,
                        Some(_) => Decided::Other,
                        None => return Err(bad("`decided` without `outcome`".into())),
                    },
                    accounts: p.accounts.unwrap_or(0),
                    abroad: p.accounts_abroad.unwrap_or(0),
                    on_time,
                }
            }
            Kind::Reviewed => Event::Reviewed {
                confirmed: public
                    .as_ref()
                    .filter(|p| p.action.as_deref() == Some("confirm"))
                    .map(|p| p.outcome == Some(Outcome::Reject)),
                on_time,
            },
            Kind::Disclosed => Event::Disclosed {
                content: public
                    .as_ref()
                    .and_then(|p| p.disclosed.as_ref())
                    .is_some_and(|d| d.get("content").is_some_and(|n| *n > 0)),
                on_time,
            },
            Kind::Preserved => Event::Preserved {
                accounts: public.as_ref().and_then(|p| p.accounts).unwrap_or(0),
                on_time,
            },
            Kind::Withdrawn => Event::Withdrawn,
            _ => Event::Other { on_time },
        };
        Ok(Inner::Event { case, event })
    }
}

/// Entries a [`Reader`] read, in log order, waiting for
/// [`Tally::apply_batch`].
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// Groups this batch names first among the reader's batches, in the
    /// order of the reader's numbers.
    new_groups: Vec<Group>,
    items: Vec<Inner<u32>>,
}

impl Batch {
    pub(crate) fn with_capacity(entries: usize) -> Self {
        Batch {
            new_groups: Vec::new(),
            items: Vec::with_capacity(entries),
        }
    }
}

/// A [`Parser`] for one thread: it numbers the groups it reads itself, so
/// that a batch names each group once.
#[derive(Debug)]
pub(crate) struct Reader<'p> {
    parser: &'p Parser,
    groups: FastMap<String, u32>,
    key: String,
}

impl<'p> Reader<'p> {
    pub(crate) fn new(parser: &'p Parser) -> Self {
        Reader {
            parser,
            groups: fast_map(),
            key: String::new(),
        }
    }

    /// Reads entry `index` of the log into `batch`.
    pub(crate) fn read(
        &mut self,
        index: u64,
        bytes: &[u8],
        batch: &mut Batch,
    ) -> Result<(), ReportError> {
        let inner = self.parser.read(index, bytes)?;
        let item = inner.try_map_group(|(country, instrument)| {
            // The country's length first, so that no two groups share a
            // key.
            self.key.clear();
            match &country {
                Some(c) => {
                    let _ = write!(self.key, "{}:{c}", c.len());
                }
                None => self.key.push('-'),
            }
            self.key.push_str(&instrument);
            if let Some(g) = self.groups.get(self.key.as_str()) {
                return Ok(*g);
            }
            let g = u32::try_from(self.groups.len()).map_err(|_| ReportError::Entry {
                index,
                reason: "too many countries and instruments".into(),
            })?;
            self.groups.insert(self.key.clone(), g);
            batch
                .new_groups
                .push((country.map(Cow::into_owned), instrument.into_owned()));
            Ok(g)
        })?;
        batch.items.push(item);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(counts: [u64; 4], bits: u16) -> CaseState {
        let bit = |n: u16| bits & (1 << n) != 0;
        CaseState {
            group: u32::from(bits) * 7919,
            month: (bits % 6) as u8,
            emergency: bit(0),
            targets: counts[0],
            accounts: counts[1],
            abroad: counts[2],
            decided: [
                Decided::None,
                Decided::NoData,
                Decided::Reject,
                Decided::Other,
            ][usize::from(bits >> 6 & 3)],
            review_rejected: bit(1),
            content: bit(2),
            disclosed: bit(3),
            withdrawn: bit(4),
            held: bit(5).then_some(counts[3]),
            on_time: [None, Some(false), Some(true)][usize::from(bits >> 8 & 3) % 3],
        }
    }

    #[test]
    fn a_packed_case_is_the_case() {
        assert_eq!(std::mem::size_of::<Packed>(), 24);
        assert_eq!(std::mem::size_of::<(u64, Packed)>(), 32);
        assert_eq!(std::mem::size_of::<(u64, CaseState)>(), 64);
        let big = u64::from(u32::MAX);
        for bits in 0..1024u16 {
            for counts in [[0, 0, 0, 0], [1, 2, 3, 4], [big, big, big, big]] {
                let s = state(counts, bits);
                let packed = Packed::pack(&s).unwrap_or_else(|| panic!("{s:?}"));
                assert_eq!(packed.unpack(), s);
            }
            for field in 0..4 {
                let mut counts = [5; 4];
                counts[field] = big + 1;
                // With a hold placed (bit 5), so that its count is there.
                assert!(Packed::pack(&state(counts, bits | 1 << 5)).is_none());
            }
        }
    }

    /// One entry of a generated log: a case (of a few, so that they meet
    /// again), what happens to it, and the count it names.
    #[derive(Clone, Debug)]
    struct Step {
        case: u8,
        kind: u8,
        count: u64,
        flag: u8,
    }

    fn step() -> impl proptest::strategy::Strategy<Value = Step> {
        use proptest::prelude::*;
        let count = prop_oneof![
            Just(0u64),
            Just(1),
            Just(7),
            Just(u64::from(u32::MAX)),
            Just(u64::from(u32::MAX) + 1),
            Just(1 << 40),
        ];
        (0..12u8, 0..7u8, count, 0..6u8).prop_map(|(case, kind, count, flag)| Step {
            case,
            kind,
            count,
            flag,
        })
    }

    fn entry(step: &Step) -> Vec<u8> {
        // Case 11 has an id that is not in Writ's form.
        let case = match step.case {
            11 => "case-eleven".to_owned(),
            n => format!("c-{:016x}", u64::from(n) * 0x0123_4567_89ab_cdef),
        };
        let n = step.count;
        let on_time = ["true", "false", "null"][usize::from(step.flag % 3)];
        let (kind, public) = match step.kind {
            0 => (
                "received",
                format!(
                    r#"{{"country":"US","emergency":{},"instrument":"{}","targets":{n}}}"#,
                    step.flag.is_multiple_of(2),
                    ["subpoena", "preservation_request", "search_warrant"]
                        [usize::from(step.flag % 3)],
                ),
            ),
            1 => (
                "decided",
                format!(
                    r#"{{"accounts":{n},"accounts_abroad":{},"on_time":{on_time},"outcome":"{}"}}"#,
                    n / 2,
                    ["approve", "reject", "no_data"][usize::from(step.flag % 3)],
                ),
            ),
            2 => (
                "reviewed",
                format!(
                    r#"{{"action":"confirm","on_time":{on_time},"outcome":"{}"}}"#,
                    ["approve", "reject"][usize::from(step.flag % 2)],
                ),
            ),
            3 => (
                "disclosed",
                format!(
                    r#"{{"disclosed":{{"content":{},"subscriber":{n}}},"on_time":{on_time}}}"#,
                    step.flag % 2,
                ),
            ),
            4 => (
                "preserved",
                format!(r#"{{"accounts":{n},"on_time":{on_time}}}"#),
            ),
            5 => ("withdrawn", "{}".to_owned()),
            _ => ("notified", format!(r#"{{"on_time":{on_time}}}"#)),
        };
        format!(
            r#"{{"case":"{case}","hour":"2026-08-01T10:00:00Z","kind":"{kind}","public":{public},"v":1}}"#
        )
        .into_bytes()
    }

    proptest::proptest! {
        /// Packing is invisible: any log gives the same figures, and the
        /// same errors at the same entries, whether cases are packed or
        /// all kept whole.
        #[test]
        fn packed_and_whole_tables_count_alike(
            steps in proptest::collection::vec(step(), 0..80),
        ) {
            let period = Period::parse("2026-H2").unwrap();
            let mut packed = Tally::new(period);
            let mut whole = Tally::new(period).never_packing();
            for step in &steps {
                let bytes = entry(step);
                let a = packed.push(&bytes).map_err(|e| e.to_string());
                let b = whole.push(&bytes).map_err(|e| e.to_string());
                // A second `received` is an error that ends a report; both
                // tables replace the case alike, so the log goes on here.
                proptest::prop_assert_eq!(a, b);
            }
            proptest::prop_assert_eq!(packed.finish(), whole.finish());
        }
    }

    #[test]
    fn a_case_whose_counts_outgrow_32_bits_is_kept_whole() {
        let mut cases = Cases::new();
        let small = state([1, 0, 0, 0], 0);
        let id = CaseKey::Id(7);
        let text = CaseKey::of("case-7");
        assert!(cases.insert(id.clone(), small));
        assert!(cases.insert(text.clone(), small));
        assert_eq!((cases.packed.len(), cases.whole.len()), (1, 1));
        assert!(cases.update(&id, |s| s.accounts = u64::from(u32::MAX) + 1));
        assert_eq!((cases.packed.len(), cases.whole.len()), (0, 2));
        assert!(cases.update(&id, |s| s.abroad = 2));
        assert!(!cases.update(&CaseKey::Id(8), |s| s.abroad = 2));
        let mut all: Vec<CaseState> = cases.values().collect();
        all.sort_by_key(|s| s.accounts);
        assert_eq!(all[0], small);
        assert_eq!(
            (all[1].targets, all[1].accounts, all[1].abroad),
            (1, u64::from(u32::MAX) + 1, 2)
        );
        // A key is in one map only, whichever holds it.
        assert!(!cases.insert(id.clone(), small));
        assert_eq!((cases.packed.len(), cases.whole.len()), (1, 1));
        assert!(!cases.insert(id, state([u64::MAX, 0, 0, 0], 0)));
        assert_eq!((cases.packed.len(), cases.whole.len()), (0, 2));
        assert!(!cases.insert(text, small));
        assert_eq!(cases.values().count(), 2);
    }
}
