//! Generative tests of the engine against the rule book.
//!
//! Random well-formed orders over every instrument, issuer, validator,
//! category subset and target mix (found, not found, purged, pending deletion,
//! data abroad, identifiers that collide with another account's id), with
//! secrecy orders, emergencies, prior holds and renewals, registry ages, and
//! every instant placed on or around a boundary of the rule book, often by a
//! fraction of a second. Each decision is checked against `oracle`, an
//! independent reading of the rule book's steps, and against properties that
//! must hold whatever the rules say: totality and determinism, invariance
//! under another UTC offset and under a common shift of every instant, and a
//! change of result whenever one instant crosses its boundary.
//!
//! `PROPTEST_CASES` sets the number of cases of each property (1,000 by
//! default: about 20 s for the five in a debug build on the CI machine). A
//! long run is recorded in `crates/writ-policy/BENCHMARKS.md`.

// The oracle states the rule book's conditions as it words them (`!` of a
// test), and a scenario keeps each generated choice as a plain tuple.
#![allow(clippy::nonminimal_bool, clippy::type_complexity)]

use std::collections::BTreeSet;

use jiff::tz::Offset;
use jiff::{SignedDuration, Span, Timestamp as J};
use proptest::prelude::*;
use serde_json::{Value, json};
use writ_model::{
    Category, Country, Decision, DecisionInput, Instrument, IssuerKind, NotifyWhen, Outcome,
    Status, TargetKind, Timestamp, parse,
};
use writ_policy::decide;

use crate::default_pack;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

// ---------------------------------------------------------------------------
// Instants.

const BASE_NOW: &str = "2026-11-28T12:00:00Z";
const E_EVIDENCE: &str = "2026-08-18T00:00:00Z";
const UK_AGREEMENT: &str = "2022-10-03T00:00:00Z";

fn j(s: &str) -> J {
    s.parse().unwrap()
}

fn ns(n: i64) -> SignedDuration {
    SignedDuration::from_nanos(n)
}

fn days(d: i64) -> SignedDuration {
    SignedDuration::from_hours(d * 24)
}

/// `t` advanced by calendar months in UTC, the last day of the month where
/// the day does not exist (section B).
fn plus_months(t: J, months: i64) -> J {
    let utc = Offset::UTC;
    utc.to_timestamp(
        utc.to_datetime(t)
            .checked_add(Span::new().months(months))
            .unwrap(),
    )
    .unwrap()
}

fn to_j(t: Timestamp) -> J {
    J::from_nanosecond(t.as_nanosecond()).unwrap()
}

fn to_writ(t: J) -> Timestamp {
    Timestamp::from_nanosecond(t.as_nanosecond()).unwrap()
}

/// Offsets from a boundary: on it, a nanosecond, half a second or just under
/// a second either side, a few seconds, or anywhere within months.
fn delta() -> impl Strategy<Value = SignedDuration> {
    prop_oneof![
        3 => Just(ns(0)),
        2 => prop::sample::select(vec![1i64, -1, 500_000_000, -500_000_000, 999_999_999, -999_999_999])
            .prop_map(ns),
        3 => (-3_000_000_000i64..3_000_000_000).prop_map(ns),
        2 => (-200i64 * 86_400..200 * 86_400, 0i64..1_000_000_000)
            .prop_map(|(s, n)| SignedDuration::from_secs(s) + ns(n)),
    ]
}

/// Where `issued_at` lies: near `now`, near `now` less 3 calendar months, near
/// either fixed date of the rule book, or anywhere in the last three years.
#[derive(Clone, Copy, Debug)]
enum IssuedNear {
    Now,
    ThreeMonthsAgo,
    EEvidence,
    UkAgreement,
    Past(i64),
}

fn issued_near() -> impl Strategy<Value = IssuedNear> {
    prop_oneof![
        3 => Just(IssuedNear::Now),
        2 => Just(IssuedNear::ThreeMonthsAgo),
        1 => Just(IssuedNear::EEvidence),
        1 => Just(IssuedNear::UkAgreement),
        3 => (1i64..1000).prop_map(IssuedNear::Past),
    ]
}

// ---------------------------------------------------------------------------
// Scenarios: a decision input with every instant kept exactly.

const INSTRUMENTS: &[Instrument] = Instrument::ALL;
const ISSUERS: &[IssuerKind] = IssuerKind::ALL;
const COUNTRIES: &[&str] = &["US", "DE", "FR", "IE", "GB", "DK", "BR"];
const THREATS: &[&str] = &[
    "death",
    "serious_physical_injury",
    "safety_of_person",
    "critical_infrastructure",
    "property_damage",
];
const ASSISTANCE: &[&str] = &[
    "real_time_interception",
    "expedite",
    "provide_keys",
    "remote_access",
];

#[derive(Clone, Debug)]
struct Acct {
    location: &'static str,
    us_person: bool,
    located_in: &'static str,
    status: &'static str,
    /// Carries an identifier of kind `account_id` naming the next account.
    alias: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TargetSpec {
    Email(usize, bool),
    Username(usize),
    AccountId(usize),
    /// The id the next account's alias identifier names, as a target: it must
    /// resolve to the account with that id, never to the one carrying it.
    Missing(usize),
    Keyword,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Submitter {
    Nobody,
    Generated,
    Unknown,
    Other,
}

#[derive(Clone, Debug)]
struct Hold {
    same_agency: bool,
    same_instrument: bool,
    preserve_until: J,
    renewals: u32,
}

#[derive(Clone, Debug)]
struct Scenario {
    now: J,
    submitter: Submitter,
    mismatch: bool,
    country: &'static str,
    status: &'static str,
    verified_since: Option<J>,
    powers: (bool, bool),
    instrument: Instrument,
    issuer: IssuerKind,
    validator: Option<IssuerKind>,
    issued_at: J,
    expires_at: Option<J>,
    respond_by: Option<J>,
    categories: Vec<Category>,
    date_range: Option<(J, J)>,
    emergency: Option<(&'static str, bool, Option<(bool, bool)>)>,
    gag: Option<(IssuerKind, Option<J>)>,
    offence: Option<(i64, bool, Option<&'static str>)>,
    assistance: Vec<&'static str>,
    renews: Option<Option<Hold>>,
    accounts: Vec<Acct>,
    targets: Vec<TargetSpec>,
}

fn acct() -> impl Strategy<Value = Acct> {
    (
        prop::sample::select(COUNTRIES),
        any::<bool>(),
        prop::sample::select(COUNTRIES),
        prop::sample::select(&["active", "active", "pending_deletion", "deleted"][..]),
        prop::bool::weighted(0.3),
    )
        .prop_map(|(location, us_person, located_in, status, alias)| Acct {
            location,
            us_person,
            located_in,
            status,
            alias,
        })
}

fn target_spec(n: usize) -> impl Strategy<Value = TargetSpec> {
    prop_oneof![
        40 => (0..n, any::<bool>()).prop_map(|(i, up)| TargetSpec::Email(i, up)),
        10 => (0..n).prop_map(TargetSpec::Username),
        20 => (0..n).prop_map(TargetSpec::AccountId),
        15 => (0..n + 3).prop_map(TargetSpec::Missing),
        1 => Just(TargetSpec::Keyword),
    ]
}

prop_compose! {
    fn registry_part()(
        submitter in prop::sample::select(vec![
            Submitter::Generated, Submitter::Generated, Submitter::Generated, Submitter::Generated,
            Submitter::Generated, Submitter::Generated, Submitter::Nobody, Submitter::Unknown, Submitter::Other,
        ]),
        mismatch in prop::bool::weighted(0.05),
        country in prop::sample::select(COUNTRIES),
        status in prop::sample::select(&["verified", "verified", "verified", "verified", "pending", "suspended"][..]),
        verified in prop::option::weighted(0.9, (any::<bool>(), delta())),
        powers in (any::<bool>(), any::<bool>()),
    ) -> (Submitter, bool, &'static str, &'static str, Option<(bool, SignedDuration)>, (bool, bool)) {
        (submitter, mismatch, country, status, verified, powers)
    }
}

prop_compose! {
    fn order_part()(
        instrument in prop::sample::select(INSTRUMENTS),
        issuer in prop::sample::select(ISSUERS),
        validator in prop::option::weighted(0.3, prop::sample::select(ISSUERS)),
        issued in (issued_near(), delta()),
        expires in prop::option::weighted(0.3, delta()),
        respond in prop::option::weighted(0.3, delta()),
        categories in prop::sample::subsequence(Category::ALL, 0..=5).prop_shuffle(),
        range in prop::option::weighted(0.7, (1i64..400, delta())),
    ) -> (Instrument, IssuerKind, Option<IssuerKind>, (IssuedNear, SignedDuration), Option<SignedDuration>,
          Option<SignedDuration>, Vec<Category>, Option<(i64, SignedDuration)>) {
        (instrument, issuer, validator, issued, expires, respond, categories, range)
    }
}

prop_compose! {
    fn extras_part()(
        emergency in prop::option::weighted(0.8, (
            prop::sample::select(THREATS),
            prop::bool::weighted(0.9),
            prop::option::weighted(0.8, (prop::bool::weighted(0.8), prop::bool::weighted(0.8))),
        )),
        gag in prop::option::weighted(0.35, (
            prop::sample::select(ISSUERS),
            prop::option::weighted(0.8, (any::<bool>(), delta())),
        )),
        offence in prop::option::weighted(0.6, (0i64..8, prop::bool::weighted(0.3),
            prop::option::of(prop::sample::select(COUNTRIES)))),
        assistance in prop::sample::subsequence(ASSISTANCE, 0..2),
        renews in prop::option::weighted(0.15, prop::option::weighted(0.85, (
            prop::bool::weighted(0.9), prop::bool::weighted(0.9), delta(), 0u32..3))),
    ) -> (Option<(&'static str, bool, Option<(bool, bool)>)>, Option<(IssuerKind, Option<(bool, SignedDuration)>)>,
          Option<(i64, bool, Option<&'static str>)>, Vec<&'static str>,
          Option<Option<(bool, bool, SignedDuration, u32)>>) {
        (emergency, gag, offence, assistance, renews)
    }
}

fn directory_part() -> impl Strategy<Value = (Vec<Acct>, Vec<TargetSpec>)> {
    prop::collection::vec(acct(), 1..6).prop_flat_map(|accounts| {
        let n = accounts.len();
        let targets = prop_oneof![
            20 => prop::collection::vec(target_spec(n), 1..4),
            1 => Just(vec![]),
            1 => prop::collection::vec(target_spec(n), 24..30),
        ];
        (Just(accounts), targets)
    })
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        (-40i64 * 86_400..40 * 86_400, 0i64..1_000_000_000),
        registry_part(),
        order_part(),
        extras_part(),
        directory_part(),
    )
        .prop_map(
            |(now_shift, registry, order, extras, (accounts, targets))| {
                let now = j(BASE_NOW) + SignedDuration::from_secs(now_shift.0) + ns(now_shift.1);
                let (submitter, mismatch, country, status, verified, powers) = registry;
                let (instrument, issuer, validator, issued, expires, respond, categories, range) =
                    order;
                let (emergency, gag, offence, assistance, renews) = extras;
                let issued_at = match issued.0 {
                    IssuedNear::Now => now,
                    IssuedNear::ThreeMonthsAgo => plus_months(now, -3),
                    IssuedNear::EEvidence => j(E_EVIDENCE),
                    IssuedNear::UkAgreement => j(UK_AGREEMENT),
                    IssuedNear::Past(d) => now - days(d),
                } + issued.1;
                let mut targets = targets;
                dedup(&mut targets);
                Scenario {
                    now,
                    submitter,
                    mismatch,
                    country,
                    status,
                    // Near the 30-day boundary, or long ago.
                    verified_since: verified.map(|(near, d)| {
                        if near {
                            now - days(30) + d
                        } else {
                            now - days(900) + d
                        }
                    }),
                    powers,
                    instrument,
                    issuer,
                    validator,
                    issued_at,
                    expires_at: expires.map(|d| now + d),
                    respond_by: respond.map(|d| now + d),
                    categories,
                    date_range: range.map(|(back, d)| {
                        let to = now - days(back);
                        (to + d, to)
                    }),
                    emergency: emergency.filter(|_| instrument.allows_emergency()),
                    gag: gag.map(|(kind, until)| {
                        (
                            kind,
                            until.map(|(long, d)| if long { now + days(365) + d } else { now + d }),
                        )
                    }),
                    offence,
                    assistance,
                    renews: renews.map(|hold| {
                        hold.map(|(same_agency, same_instrument, d, renewals)| Hold {
                            same_agency,
                            same_instrument,
                            preserve_until: now + d,
                            renewals,
                        })
                    }),
                    accounts,
                    targets,
                }
            },
        )
}

/// Targets are unique (a duplicate is an input error, not a decision).
fn dedup(targets: &mut Vec<TargetSpec>) {
    let mut seen = Vec::new();
    targets.retain(|t| {
        let key = match *t {
            TargetSpec::Email(i, _) => (0, i),
            TargetSpec::Username(i) => (1, i),
            TargetSpec::AccountId(i) => (2, i),
            TargetSpec::Missing(i) => (3, i),
            TargetSpec::Keyword => (4, 0),
        };
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    });
}

impl Scenario {
    /// Every instant of the scenario, for shifting them all at once.
    fn shifted(&self, by: SignedDuration) -> Scenario {
        let mut s = self.clone();
        s.now += by;
        s.verified_since = s.verified_since.map(|t| t + by);
        s.issued_at += by;
        s.expires_at = s.expires_at.map(|t| t + by);
        s.respond_by = s.respond_by.map(|t| t + by);
        s.date_range = s.date_range.map(|(a, b)| (a + by, b + by));
        if let Some((_, until)) = &mut s.gag {
            *until = until.map(|t| t + by);
        }
        if let Some(Some(hold)) = &mut s.renews {
            hold.preserve_until += by;
        }
        s
    }

    fn account_id(i: usize) -> String {
        format!("acct-{i}")
    }

    /// The case file of this scenario, every instant written at `offset`.
    fn json(&self, offset: Offset) -> Value {
        let t = |x: J| x.display_with_offset(offset).to_string();
        let mut agency = json!({
            "id": "gen-agency", "name": "Generated", "country": self.country, "kind": "law_enforcement",
            "status": self.status, "verified_since": self.verified_since.map(t),
            "powers": [],
        });
        let mut powers = Vec::new();
        if self.powers.0 {
            powers.push("national_security_letter");
        }
        if self.powers.1 {
            powers.push("uk_overseas_order");
        }
        agency["powers"] = json!(powers);
        let other = json!({
            "id": "other-agency", "name": "Other", "country": "US", "kind": "law_enforcement",
            "status": "verified", "verified_since": t(j("2020-01-01T00:00:00Z")),
        });
        let n = self.accounts.len();
        let accounts: Vec<Value> = self
            .accounts
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let mut ids = vec![
                    json!({"kind": "email", "value": format!("User{i}@Example.com")}),
                    json!({"kind": "username", "value": format!("user{i}")}),
                ];
                if a.alias {
                    ids.push(json!({"kind": "account_id", "value": Self::account_id(i + 1 + n)}));
                    ids.push(json!({"kind": "account_id", "value": Self::account_id((i + 1) % n)}));
                }
                json!({
                    "id": Self::account_id(i), "identifiers": ids, "data_location": a.location,
                    "holder": {"us_person": a.us_person, "located_in": a.located_in}, "status": a.status,
                })
            })
            .collect();
        let targets: Vec<Value> = self
            .targets
            .iter()
            .map(|t| match *t {
                TargetSpec::Email(i, up) => json!({"kind": "email", "value":
                    if up { format!("USER{i}@EXAMPLE.COM") } else { format!("user{i}@example.com") }}),
                TargetSpec::Username(i) => json!({"kind": "username", "value": format!("user{i}")}),
                TargetSpec::AccountId(i) => json!({"kind": "account_id", "value": Self::account_id(i)}),
                TargetSpec::Missing(i) => json!({"kind": "account_id", "value": Self::account_id(i + 1 + n)}),
                TargetSpec::Keyword => json!({"kind": "keyword", "value": "bomb"}),
            })
            .collect();
        let agency_id = if self.mismatch {
            "other-agency"
        } else {
            "gen-agency"
        };
        let mut order = json!({
            "reference": "GEN-1", "agency": agency_id, "instrument": self.instrument.as_str(),
            "legal_basis": "generated", "issued_by": {"kind": self.issuer.as_str()},
            "issued_at": t(self.issued_at), "targets": targets,
            "assistance": self.assistance,
        });
        if self.instrument != Instrument::TechnicalAssistance || !self.categories.is_empty() {
            order["categories"] = json!(
                self.categories
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
            );
        }
        if let Some(v) = self.validator {
            order["validated_by"] = json!({"kind": v.as_str()});
        }
        if let Some(x) = self.expires_at {
            order["expires_at"] = t(x).into();
        }
        if let Some(x) = self.respond_by {
            order["respond_by"] = t(x).into();
        }
        if let Some((from, to)) = self.date_range {
            order["date_range"] = json!({"from": t(from), "to": t(to)});
        }
        if let Some((threat, facts, callback)) = self.emergency {
            let mut e = json!({"threat": threat, "facts": if facts { "a person is in danger" } else { " \t" }});
            if let Some((verified, registry)) = callback {
                e["callback"] = json!({"verified": verified,
                    "number_source": if registry { "registry" } else { "request" }});
            }
            order["emergency"] = e;
        }
        if let Some((kind, until)) = self.gag {
            order["non_disclosure"] = json!({"issued_by": {"kind": kind.as_str()}, "basis": "x"});
            if let Some(u) = until {
                order["non_disclosure"]["until"] = t(u).into();
            }
        }
        if let Some((years, listed, committed)) = self.offence {
            order["offence"] =
                json!({"description": "x", "max_custodial_years": years, "listed": listed});
            if let Some(c) = committed {
                order["offence"]["committed_in"] = c.into();
            }
        }
        let mut prior = Vec::new();
        if let Some(hold) = &self.renews {
            order["renews"] = "HOLD-1".into();
            if let Some(h) = hold {
                let instrument = if h.same_instrument {
                    self.instrument
                } else if self.instrument == Instrument::EpocPr {
                    Instrument::PreservationRequest
                } else {
                    Instrument::EpocPr
                };
                prior.push(json!({
                    "reference": "HOLD-1",
                    "agency": if h.same_agency { agency_id } else { "someone-else" },
                    "instrument": instrument.as_str(),
                    "preserve_until": t(h.preserve_until), "renewals": h.renewals,
                }));
            }
        }
        let submitted_by = match self.submitter {
            Submitter::Nobody => Value::Null,
            Submitter::Generated => "gen-agency".into(),
            Submitter::Unknown => "ghost-agency".into(),
            Submitter::Other => "other-agency".into(),
        };
        json!({
            "name": "generated", "now": t(self.now), "submitted_by": submitted_by,
            "agencies": [agency, other], "accounts": accounts, "prior": prior, "order": order,
            "expect": {"outcome": "approve", "decisions": [], "reasons": [], "due_at": t(self.now),
                       "not_before": null, "preserve_until": null, "notify": {"when": "none"}},
        })
    }

    fn input_at(&self, offset: Offset) -> DecisionInput {
        let text = self.json(offset).to_string();
        parse::case_file(text.as_bytes())
            .unwrap_or_else(|e| panic!("generated an ill-formed case: {e}\n{text}"))
            .input()
    }

    fn input(&self) -> DecisionInput {
        self.input_at(Offset::UTC)
    }
}

// ---------------------------------------------------------------------------
// The oracle: the rule book's steps, read directly.

#[derive(Debug, PartialEq)]
struct Expected {
    outcome: Outcome,
    pairs: Vec<(String, Category, Status)>,
    codes: BTreeSet<String>,
    due_at: Timestamp,
    not_before: Option<Timestamp>,
    preserve_until: Option<Timestamp>,
    notify: (NotifyWhen, Option<Timestamp>),
}

const EEV: &[&str] = &[
    "AT", "BE", "BG", "HR", "CY", "CZ", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT",
    "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];
const HACKING: &[&str] = &[
    "install_software",
    "remote_access",
    "disable_encryption",
    "provide_keys",
    "weaken_security",
    "exploit_vulnerability",
    "push_update",
    "impersonate_user",
    "covert_access",
];

fn issuer_in(kinds: &[IssuerKind], allowed: &[&str]) -> bool {
    kinds.iter().any(|k| allowed.contains(&k.as_str()))
}

fn oracle(input: &DecisionInput) -> Expected {
    use Instrument as I;
    let o = &input.order;
    let now = to_j(input.now);
    let ins = o.instrument;
    let registered = input
        .submitted_by
        .as_deref()
        .and_then(|id| input.agencies.iter().find(|a| a.id.as_str() == id));
    let c: Option<Country> = registered.map(|a| a.country);
    let c_is = |x: &str| c.is_some_and(|c| c.as_str() == x);
    let hold = o.renews.as_ref().and_then(|r| {
        input
            .prior
            .iter()
            .find(|h| h.reference == *r && h.agency == o.agency && h.instrument == ins)
    });
    let qualifying_epoc = ins == I::Epoc
        && o.emergency.as_ref().is_some_and(|e| {
            [
                "death",
                "serious_physical_injury",
                "safety_of_person",
                "critical_infrastructure",
            ]
            .contains(&e.threat.as_str())
                && !e.facts.trim().is_empty()
        });
    let due_at = match ins {
        I::EmergencyRequest => input.now.plus_minutes(60),
        I::Epoc if qualifying_epoc => input.now.plus_hours(8),
        I::Epoc => input.now.plus_days(10),
        I::PreservationRequest | I::EpocPr => input.now.plus_hours(24),
        _ => match o.respond_by {
            Some(t) if to_j(t) > now => t,
            _ => input.now.plus_days(10),
        },
    };

    // Step 1.
    let mut refusals = BTreeSet::new();
    let mut refuse = |code: &str| {
        refusals.insert(code.to_owned());
    };
    match (&input.submitted_by, registered) {
        (None, _) => refuse("unauthenticated"),
        (Some(_), None) => refuse("unknown_agency"),
        (Some(id), Some(a)) => {
            if a.status.as_str() != "verified" {
                refuse("agency_not_verified");
            }
            if o.agency.as_str() != id {
                refuse("submitter_mismatch");
            }
        }
    }
    let issued = to_j(o.issued_at);
    let hold_live = hold.is_some_and(|h| to_j(h.preserve_until) > now);
    if issued > now
        || o.date_range.is_some_and(|r| to_j(r.from) > to_j(r.to))
        || o.targets.is_empty()
        || (o.categories().is_empty() && ins != I::TechnicalAssistance)
        || (ins == I::EmergencyRequest && o.emergency.is_none())
        || (o.renews.is_some() && !hold_live)
    {
        refuse("invalid_order");
    }
    if o.expires_at.is_some_and(|t| to_j(t) <= now)
        || (ins == I::UkOverseasOrder && now >= plus_months(issued, 3))
    {
        refuse("order_expired");
    }
    if ins == I::TechnicalAssistance || o.assistance.iter().any(|a| HACKING.contains(&a.as_str())) {
        refuse("hacking_refused");
    }
    if o.targets.iter().any(|t| !t.kind.is_particular()) {
        refuse("not_particular");
    }
    if let Some(a) = registered {
        let power = |p: &str| a.powers.iter().any(|x| x.as_str() == p);
        let unavailable = match ins {
            I::NationalSecurityLetter => !(c_is("US") && power("national_security_letter")),
            I::Epoc | I::EpocPr => {
                !(EEV.contains(&a.country.as_str()) && !c_is("IE") && issued >= j(E_EVIDENCE))
            }
            I::UkOverseasOrder => {
                !(c_is("GB") && power("uk_overseas_order") && issued >= j(UK_AGREEMENT))
            }
            _ => false,
        };
        if unavailable {
            refuse("instrument_not_available");
        }
    }
    if ins == I::EmergencyRequest
        && let Some(e) = &o.emergency
        && (!["death", "serious_physical_injury"].contains(&e.threat.as_str())
            || e.facts.trim().is_empty())
    {
        refuse("emergency_not_qualifying");
    }
    if hold_live && hold.is_some_and(|h| h.renewals >= 1) {
        refuse("renewal_limit");
    }
    if !refusals.is_empty() {
        return Expected {
            outcome: Outcome::Reject,
            pairs: vec![],
            codes: refusals,
            due_at,
            not_before: None,
            preserve_until: None,
            notify: (NotifyWhen::None, None),
        };
    }

    // Step 2.
    let mut issuers = vec![o.issued_by.kind];
    issuers.extend(o.validated_by.as_ref().map(|v| v.kind));
    let mut codes = BTreeSet::new();
    let mut pairs = Vec::new();
    let mut notified = false;
    let committed_in = o.offence.as_ref().and_then(|x| x.committed_in);
    for t in &o.targets {
        let account = if t.kind == TargetKind::AccountId {
            input.accounts.iter().find(|a| a.id.as_str() == t.value)
        } else {
            input.accounts.iter().find(|a| {
                a.identifiers.iter().any(|i| {
                    i.kind.as_str() == t.kind.as_str()
                        && if t.kind == TargetKind::Email {
                            i.value.to_lowercase() == t.value.to_lowercase()
                        } else {
                            i.value == t.value
                        }
                })
            })
        };
        let account = account.filter(|a| a.status.as_str() != "deleted");
        for &cat in o.categories() {
            let label = t.label();
            let Some(a) = account else {
                codes.insert("no_data_found".to_owned());
                pairs.push((label, cat, Status::NoData));
                continue;
            };
            use Category::*;
            let non_basic = matches!(cat, Traffic | Location | Content);
            let mut deny = BTreeSet::new();
            let mut review = BTreeSet::new();
            let nja = "not_judicially_authorized";
            match ins {
                I::SearchWarrant | I::CourtOrder
                    if !issuer_in(&[o.issued_by.kind], &["judge", "court", "magistrate"]) =>
                {
                    deny.insert(nja);
                }
                I::Epoc
                    if !non_basic
                        && !qualifying_epoc
                        && !issuer_in(
                            &issuers,
                            &["judge", "court", "investigating_judge", "prosecutor"],
                        ) =>
                {
                    deny.insert(nja);
                }
                I::Epoc
                    if non_basic
                        && !issuer_in(&issuers, &["judge", "court", "investigating_judge"]) =>
                {
                    deny.insert(nja);
                }
                I::EpocPr
                    if !issuer_in(
                        &issuers,
                        &["judge", "court", "investigating_judge", "prosecutor"],
                    ) =>
                {
                    deny.insert(nja);
                }
                I::UkOverseasOrder if !issuer_in(&[o.issued_by.kind], &["judge", "court"]) => {
                    deny.insert(nja);
                }
                _ => {}
            }
            let cna = "category_not_authorized";
            match (ins, cat) {
                (I::Subpoena, Traffic | Location | Content)
                | (I::CourtOrder, Location | Content) => {
                    deny.insert(cna);
                }
                (I::NationalSecurityLetter, Subscriber) => {
                    review.insert("nsl_review");
                }
                (I::NationalSecurityLetter, _) => {
                    deny.insert(cna);
                }
                (I::EmergencyRequest, Content) if c_is("US") => {
                    review.insert("emergency_content");
                }
                (I::EmergencyRequest, Content) => {
                    deny.insert(cna);
                }
                _ => {}
            }
            let offence = o.offence.as_ref();
            if (ins == I::Epoc
                && non_basic
                && !offence.is_some_and(|x| x.max_custodial_years >= 3 || x.listed))
                || (ins == I::UkOverseasOrder
                    && !offence.is_some_and(|x| x.max_custodial_years >= 3))
            {
                deny.insert("offence_threshold");
            }
            let l = a.data_location.as_str();
            let domestic_kind = matches!(ins, I::Subpoena | I::CourtOrder | I::SearchWarrant);
            if c_is("US") && (domestic_kind || ins == I::NationalSecurityLetter) && l != "US" {
                review.insert("extraterritorial_data");
            }
            if !c_is("US") && domestic_kind && c.is_some_and(|c| c.as_str() != l) {
                deny.insert("outside_jurisdiction");
            }
            if ins == I::Epoc && cat == Content && l == "US" {
                review.insert("conflict_of_laws");
            }
            if ins == I::UkOverseasOrder
                && (a.holder.us_person || a.holder.located_in.as_str() == "US")
            {
                deny.insert("agreement_excludes_us_person");
            }
            if (domestic_kind
                || matches!(
                    ins,
                    I::NationalSecurityLetter | I::Epoc | I::UkOverseasOrder
                ))
                && non_basic
                && o.date_range.is_none()
            {
                review.insert("unbounded_date_range");
            }
            let status = if !deny.is_empty() {
                codes.extend(deny.iter().map(|s| s.to_string()));
                Status::Deny
            } else if !review.is_empty() {
                codes.extend(review.iter().map(|s| s.to_string()));
                Status::Review
            } else if ins.is_preservation() {
                Status::Preserve
            } else {
                Status::Grant
            };
            let domestic = c.is_some() && committed_in == c && Some(a.holder.located_in) == c;
            if ins == I::Epoc
                && !qualifying_epoc
                && status == Status::Grant
                && non_basic
                && !domestic
            {
                notified = true;
            }
            pairs.push((label, cat, status));
        }
    }
    let preserve_until = pairs
        .iter()
        .any(|p| p.2 == Status::Preserve)
        .then(|| match (ins, hold) {
            (I::PreservationRequest, Some(h)) => h.preserve_until.plus_days(90),
            (I::PreservationRequest, None) => input.now.plus_days(90),
            (_, Some(h)) => h.preserve_until.plus_days(30),
            (_, None) => input.now.plus_days(60),
        });

    // Step 3: triggers; and the informational codes.
    let mut triggers = BTreeSet::new();
    if o.targets.len() > 25 {
        triggers.insert("overbroad_targets");
    }
    if ins == I::EmergencyRequest
        && let Some(e) = &o.emergency
        && !e
            .callback
            .as_ref()
            .is_some_and(|cb| cb.verified && cb.number_source.as_str() == "registry")
    {
        triggers.insert("emergency_unverified");
    }
    if ins == I::EmergencyRequest
        && !registered
            .and_then(|a| a.verified_since)
            .is_some_and(|v| to_j(v) <= now - days(30))
    {
        triggers.insert("new_requester");
    }
    let gag = o
        .non_disclosure
        .as_ref()
        .filter(|nd| nd.until.is_none_or(|u| to_j(u) > now));
    let not_binding = gag.is_some_and(|nd| {
        c_is("US")
            && ins != I::NationalSecurityLetter
            && !issuer_in(&[nd.issued_by.kind], &["judge", "court", "magistrate"])
    });
    if !ins.is_preservation()
        && ins != I::Epoc
        && let Some(nd) = gag
    {
        if not_binding {
            codes.insert("gag_not_binding".to_owned());
        } else if nd.until.is_none() {
            triggers.insert("indefinite_gag");
        } else if nd.until.is_some_and(|u| to_j(u) > now + days(365)) {
            triggers.insert("long_gag");
        }
    }
    if ins == I::NationalSecurityLetter {
        triggers.insert("nsl_review");
    }
    if o.assistance.iter().any(|a| a == "real_time_interception") {
        triggers.insert("real_time_out_of_scope");
    }
    if ins == I::Epoc && o.emergency.is_some() && !qualifying_epoc {
        codes.insert("emergency_queried".to_owned());
    }
    if qualifying_epoc
        && o.categories()
            .iter()
            .any(|c| matches!(c, Category::Subscriber | Category::Identification))
        && !issuer_in(
            &issuers,
            &["judge", "court", "investigating_judge", "prosecutor"],
        )
    {
        codes.insert("validation_pending".to_owned());
    }
    if !triggers.is_empty() {
        for p in &mut pairs {
            if p.2.is_granted() {
                p.2 = Status::Review;
            }
        }
        codes.extend(triggers.iter().map(|s| s.to_string()));
    }

    // Step 4.
    let statuses: Vec<Status> = pairs.iter().map(|p| p.2).collect();
    let outcome = if statuses.contains(&Status::Review) {
        Outcome::Review
    } else if !statuses.is_empty() && statuses.iter().all(|s| s.is_granted()) {
        Outcome::Approve
    } else if statuses.iter().any(|s| s.is_granted()) {
        Outcome::Partial
    } else if !statuses.is_empty() && statuses.iter().all(|s| *s == Status::NoData) {
        Outcome::NoData
    } else {
        Outcome::Reject
    };

    // Section L.
    let live = statuses
        .iter()
        .any(|s| matches!(s, Status::Grant | Status::Review));
    let notify = if ins.is_preservation() || !live {
        (NotifyWhen::None, None)
    } else if ins == I::Epoc {
        (NotifyWhen::IssuingAuthority, None)
    } else if gag.is_none() && ins == I::EmergencyRequest {
        (NotifyWhen::Withheld, None)
    } else if gag.is_none() || not_binding {
        (NotifyWhen::OnDisclosure, None)
    } else if let Some(until) = gag.and_then(|nd| nd.until) {
        (NotifyWhen::After, Some(until))
    } else {
        (NotifyWhen::Withheld, None)
    };

    Expected {
        outcome,
        pairs,
        codes,
        due_at,
        not_before: notified.then(|| input.now.plus_days(10)),
        preserve_until,
        notify,
    }
}

fn observed(d: &Decision) -> Expected {
    Expected {
        outcome: d.outcome,
        pairs: d
            .decisions
            .iter()
            .map(|p| (p.target.clone(), p.category, p.status))
            .collect(),
        codes: d.codes().into_iter().map(str::to_owned).collect(),
        due_at: d.due_at,
        not_before: d.not_before,
        preserve_until: d.preserve_until,
        notify: (d.notify.when, d.notify.at),
    }
}

/// The codes of step 1 (refusals).
const REFUSALS: &[&str] = &[
    "unauthenticated",
    "unknown_agency",
    "agency_not_verified",
    "submitter_mismatch",
    "invalid_order",
    "order_expired",
    "hacking_refused",
    "not_particular",
    "instrument_not_available",
    "emergency_not_qualifying",
    "renewal_limit",
];

fn refused(d: &Decision) -> bool {
    d.codes().iter().any(|c| REFUSALS.contains(c))
}

/// What each instrument can reach at all (section F): a pair of another
/// category is never granted nor sent to review.
fn reachable(instrument: Instrument, category: Category) -> bool {
    use Category::*;
    match instrument {
        Instrument::Subpoena => matches!(category, Subscriber | Identification),
        Instrument::CourtOrder => matches!(category, Subscriber | Identification | Traffic),
        Instrument::NationalSecurityLetter => category == Subscriber,
        Instrument::TechnicalAssistance => false,
        _ => true,
    }
}

// ---------------------------------------------------------------------------
// Boundaries: one instant moved across its boundary by less than a second.

#[derive(Clone, Copy, Debug)]
enum Boundary {
    Expires,
    IssuedFuture,
    DateRange,
    UkThreeMonths,
    HoldLapse,
    GagLapse,
    LongGag,
    NewRequester,
    EEvidence,
    UkAgreement,
}

impl Boundary {
    const ALL: &'static [Boundary] = &[
        Boundary::Expires,
        Boundary::IssuedFuture,
        Boundary::DateRange,
        Boundary::UkThreeMonths,
        Boundary::HoldLapse,
        Boundary::GagLapse,
        Boundary::LongGag,
        Boundary::NewRequester,
        Boundary::EEvidence,
        Boundary::UkAgreement,
    ];

    /// The scenario with the boundary's instant placed `offset` after the
    /// boundary itself, and the code whose presence that placement decides.
    fn place(self, s: &Scenario, offset: SignedDuration) -> (Scenario, &'static str) {
        let mut s = s.clone();
        let now = s.now;
        let code = match self {
            Boundary::Expires => {
                s.expires_at = Some(now + offset);
                "order_expired"
            }
            Boundary::IssuedFuture => {
                s.issued_at = now + offset;
                "invalid_order"
            }
            Boundary::DateRange => {
                let to = now - days(30);
                s.date_range = Some((to + offset, to));
                "invalid_order"
            }
            Boundary::UkThreeMonths => {
                s.instrument = Instrument::UkOverseasOrder;
                s.emergency = None;
                s.issued_at = plus_months(now, -3) + offset;
                "order_expired"
            }
            Boundary::HoldLapse => {
                s.renews = Some(Some(Hold {
                    same_agency: true,
                    same_instrument: true,
                    preserve_until: now + offset,
                    renewals: 0,
                }));
                "invalid_order"
            }
            Boundary::GagLapse => {
                // A US prosecutor's secrecy order: live, it raises
                // `gag_not_binding`; lapsed, nothing.
                s.gag = Some((IssuerKind::Prosecutor, Some(now + offset)));
                s.country = "US";
                if matches!(
                    s.instrument,
                    Instrument::NationalSecurityLetter | Instrument::Epoc
                ) || s.instrument.is_preservation()
                {
                    s.instrument = Instrument::Subpoena;
                    s.emergency = None;
                }
                "gag_not_binding"
            }
            Boundary::LongGag => {
                s.gag = Some((IssuerKind::Judge, Some(now + days(365) + offset)));
                if s.instrument == Instrument::Epoc || s.instrument.is_preservation() {
                    s.instrument = Instrument::SearchWarrant;
                    s.emergency = None;
                }
                "long_gag"
            }
            Boundary::NewRequester => {
                s.instrument = Instrument::EmergencyRequest;
                // The boundary is the requester's: the generated agency,
                // whose registry entry carries `verified_since`, signs and
                // names itself.
                s.submitter = Submitter::Generated;
                s.mismatch = false;
                s.verified_since = Some(now - days(30) + offset);
                "new_requester"
            }
            Boundary::EEvidence => {
                s.instrument = if s.instrument == Instrument::EpocPr {
                    Instrument::EpocPr
                } else {
                    Instrument::Epoc
                };
                // Section D needs a registered submitter; one of a bound
                // member state, so that only the date decides.
                s.submitter = Submitter::Generated;
                s.country = "DE";
                s.issued_at = j(E_EVIDENCE) + offset;
                "instrument_not_available"
            }
            Boundary::UkAgreement => {
                s.instrument = Instrument::UkOverseasOrder;
                s.emergency = None;
                s.submitter = Submitter::Generated;
                s.country = "GB";
                s.powers.1 = true;
                s.issued_at = j(UK_AGREEMENT) + offset;
                "instrument_not_available"
            }
        };
        (s, code)
    }

    /// Whether the code is raised with the instant `offset` nanoseconds
    /// after the boundary (other conditions aside).
    fn fires(self, offset: i64) -> bool {
        match self {
            // Not after `now`: expired, quashed, lapsed.
            Boundary::Expires | Boundary::UkThreeMonths | Boundary::HoldLapse => offset <= 0,
            // After: in the future, inverted, live, long, new.
            Boundary::IssuedFuture
            | Boundary::DateRange
            | Boundary::GagLapse
            | Boundary::LongGag
            | Boundary::NewRequester => offset > 0,
            // Before a fixed date: not available yet.
            Boundary::EEvidence | Boundary::UkAgreement => offset < 0,
        }
    }

    /// Two offsets less than a second apart on either side of the boundary.
    fn straddle(self, apart: i64, split: i64) -> (i64, i64) {
        let shift = i64::from(matches!(self, Boundary::EEvidence | Boundary::UkAgreement));
        (-split - shift, apart - split - shift)
    }
}

fn setting() -> impl Strategy<Value = Offset> {
    prop::sample::select(vec![-43_200i32, -18_000, -60, 60, 3_600, 19_800, 50_400])
        .prop_map(|s| Offset::from_seconds(s).unwrap())
}

proptest! {
    // A common shift that crosses a fixed date or a month boundary is
    // skipped (a few percent of cases): allow as many skips as cases.
    #![proptest_config(ProptestConfig {
        cases: cases(),
        max_global_rejects: cases().max(1024),
        ..ProptestConfig::default()
    })]

    /// Every decision is total, deterministic, and exactly what the rule
    /// book's steps give: outcome, statuses, codes and dates.
    #[test]
    fn decisions_follow_the_rule_book(s in scenario()) {
        let input = s.input();
        let first = decide(default_pack(), &input);
        let second = decide(default_pack(), &input);
        prop_assert_eq!(&first, &second);
        prop_assert_eq!(observed(&first), oracle(&input), "{}", s.json(Offset::UTC));
    }

    /// The pack sliced per request shape decides every order as
    /// the whole pack does (`src/slice.rs`).
    #[test]
    fn slicing_the_pack_changes_no_decision(s in scenario()) {
        static UNSLICED: std::sync::OnceLock<writ_policy::Pack> = std::sync::OnceLock::new();
        let unsliced = UNSLICED.get_or_init(|| default_pack().clone().without_slicing());
        let input = s.input();
        prop_assert_eq!(decide(default_pack(), &input), decide(unsliced, &input));
    }

    /// The compiled sets (each condition built once, membership in literal
    /// sets written as comparisons: `src/compiled.rs`) decide every order
    /// as Cedar's `Authorizer` does.
    #[test]
    fn compiled_sets_decide_as_cedars_authorizer(s in scenario()) {
        static AUTHORIZER: std::sync::OnceLock<writ_policy::Pack> = std::sync::OnceLock::new();
        let authorizer = AUTHORIZER.get_or_init(|| default_pack().clone().with_cedar_authorizer());
        let input = s.input();
        prop_assert_eq!(decide(default_pack(), &input), decide(authorizer, &input));
    }

    /// A refusal at step 1 releases nothing; no pair is granted or sent to
    /// review in a category its instrument cannot reach; one pair per
    /// (target, category) otherwise.
    #[test]
    fn refusals_release_nothing_and_reach_is_bounded(s in scenario()) {
        let input = s.input();
        let d = decide(default_pack(), &input);
        if refused(&d) {
            prop_assert_eq!(d.outcome, Outcome::Reject);
            prop_assert!(d.decisions.is_empty());
            prop_assert_eq!(d.preserve_until, None);
            prop_assert_eq!(d.not_before, None);
            prop_assert_eq!(d.notify.when, NotifyWhen::None);
        } else {
            prop_assert_eq!(d.decisions.len(), input.order.targets.len() * input.order.categories().len());
        }
        for p in &d.decisions {
            if matches!(p.status, Status::Grant | Status::Preserve | Status::Review) {
                prop_assert!(reachable(input.order.instrument, p.category), "{} {}", p.category, p.status);
            }
        }
    }

    /// Writing every instant with another UTC offset changes nothing.
    #[test]
    fn another_utc_offset_changes_nothing(s in scenario(), offset in setting()) {
        let utc = decide(default_pack(), &s.input());
        let other = decide(default_pack(), &s.input_at(offset));
        prop_assert_eq!(utc, other);
    }

    /// Shifting every instant by the same amount changes nothing but the
    /// dates, which shift with it, when no fixed date of the rule book and
    /// no calendar-month boundary lies between.
    #[test]
    fn a_common_shift_changes_nothing(
        s in scenario(),
        by in prop_oneof![
            (-2_000_000_000i64..2_000_000_000).prop_map(ns),
            (-5i64 * 86_400..5 * 86_400, 0i64..1_000_000_000).prop_map(|(a, b)| SignedDuration::from_secs(a) + ns(b)),
        ],
    ) {
        let moved = s.shifted(by);
        let fixed = |x: &Scenario| (
            x.issued_at >= j(E_EVIDENCE),
            x.issued_at >= j(UK_AGREEMENT),
            x.now >= plus_months(x.issued_at, 3),
        );
        prop_assume!(fixed(&s) == fixed(&moved));
        let before = decide(default_pack(), &s.input());
        let after = decide(default_pack(), &moved.input());
        let shift = |t: Timestamp| to_writ(to_j(t) + by);
        let expected = Decision {
            due_at: shift(before.due_at),
            not_before: before.not_before.map(shift),
            preserve_until: before.preserve_until.map(shift),
            notify: writ_model::decision::Notify { when: before.notify.when, at: before.notify.at.map(shift) },
            ..before
        };
        prop_assert_eq!(expected, after);
    }

    /// Moving one instant across its boundary by less than a second changes
    /// that rule's result, unless another refusal decides the order anyway.
    #[test]
    fn crossing_a_boundary_by_under_a_second_changes_the_result(
        s in scenario(),
        boundary in prop::sample::select(Boundary::ALL),
        (apart, split) in (1i64..1_000_000_000).prop_flat_map(|m| (Just(m), 0..m)),
    ) {
        if matches!(boundary, Boundary::UkThreeMonths) {
            // Where `now` is a month's end that 3 months earlier does not
            // have, the boundary is not `now` less 3 months.
            prop_assume!(plus_months(plus_months(s.now, -3), 3) == s.now);
        }
        let (lo, hi) = boundary.straddle(apart, split);
        prop_assert!(hi - lo < 1_000_000_000 && boundary.fires(lo) != boundary.fires(hi));
        let (early, code) = boundary.place(&s, ns(lo));
        let (late, _) = boundary.place(&s, ns(hi));
        let (early, late) = (early.input(), late.input());
        let decisions = [decide(default_pack(), &early), decide(default_pack(), &late)];
        // A code of steps 2-6 is not reported when step 1 refuses the order.
        let decided_anyway = !REFUSALS.contains(&code) && decisions.iter().any(refused);
        if !decided_anyway {
            let (fires, quiet) = if boundary.fires(lo) { (0, 1) } else { (1, 0) };
            let inputs = [&early, &late];
            prop_assert!(
                decisions[fires].codes().contains(&code),
                "{:?}: `{}` not raised: {:?}", boundary, code, decisions[fires].codes()
            );
            // The other side lacks the code, unless another condition of the
            // rule book raises it there too.
            if decisions[quiet].codes().contains(&code) {
                prop_assert!(oracle(inputs[quiet]).codes.contains(code), "{:?}: `{}` on the wrong side", boundary, code);
            } else {
                prop_assert_ne!(observed(&decisions[fires]), observed(&decisions[quiet]));
            }
        }
    }
}
