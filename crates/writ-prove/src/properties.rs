//! The rule book's absolute properties (docs/legal-rules.md), as Cedar
//! conditions over the schema's names.
//!
//! A property says: every request of a given shape, for one action, is
//! refused by the pack's rules of the given levels. It is checked by adding
//! `forbid ... unless { shape }` to those rules and asking the solver whether
//! the set allows anything at all: a request it allows is a counterexample.
//!
//! Every name of the schema that a property uses is spelled here, in the
//! shapes below; a change of the schema is adjusted in this file alone.

use writ_model::{Category, Instrument};

/// Which Cedar action (and so which of the engine's two steps) a property is
/// about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Order-level rules (`Writ::Action::"accept"`): refusals, triggers.
    Accept,
    /// Pair-level rules (`Writ::Action::"disclose"`): deny and review.
    Disclose,
}

impl Action {
    /// The action's entity id in the schema.
    pub fn name(self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Disclose => "disclose",
        }
    }
}

/// One absolute property of the rule book.
#[derive(Clone, Debug)]
pub struct Property {
    /// A stable name: the rule book's section, then what it is about.
    pub id: String,
    /// The property in words.
    pub statement: String,
    pub check: Check,
}

/// How a property is held.
#[derive(Clone, Debug)]
pub enum Check {
    /// Every request of `shape` for `action` is refused by the pack's rules
    /// of the levels `refused_by` (the `@level` annotation): `refusal` for
    /// order-level refusals, `deny` for a pair denied, `deny` and `review`
    /// for "never granted without a person". `shape` is a Cedar condition
    /// over `principal`, `resource` and `context`.
    Refused {
        action: Action,
        refused_by: &'static [&'static str],
        shape: String,
    },
    /// No pair that a `deny` rule matches is allowed by the pack's pair
    /// rules: no permit of a pack can override a deny.
    DenyIsFinal,
    /// Held by the engine (Rust), not by the pack: `how` says how, and the
    /// tests that cover it.
    Engine { how: &'static str },
}

/// The levels of an order-level refusal.
const REFUSAL: &[&str] = &["refusal"];
/// The level of a pair denied.
const DENY: &[&str] = &["deny"];
/// The levels that keep a pair from being granted outright.
const DENY_OR_REVIEW: &[&str] = &["deny", "review"];

/// The order of an `accept` request is its resource; that of a `disclose`
/// request is in its context.
const ORDER_OF_ACCEPT: &str = "resource";
const ORDER_OF_DISCLOSE: &str = "context.order";

/// Pairs are evaluated only for an order that passed the order-level
/// refusals, which the properties of section A prove need a registered
/// submitter: pair properties assume one.
const REGISTERED: &str = "principal has agency";

/// The hacking assistance the rule book lists (section C).
pub const HACKING: &[&str] = &[
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

/// The member states bound by Regulation 2023/1543 that may send the
/// provider (designated establishment in Ireland) a European order: every EU
/// member state but Denmark and Ireland.
const EUROPEAN_ISSUERS: &[&str] = &[
    "AT", "BE", "BG", "HR", "CY", "CZ", "EE", "FI", "FR", "DE", "GR", "HU", "IT", "LV", "LT", "LU",
    "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];

fn set(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
    format!("[{}]", quoted.join(", "))
}

fn order_rule(id: &str, statement: String, shape: String) -> Property {
    Property {
        id: id.to_owned(),
        statement,
        check: Check::Refused {
            action: Action::Accept,
            refused_by: REFUSAL,
            shape,
        },
    }
}

fn pair_rule(
    id: &str,
    statement: String,
    refused_by: &'static [&'static str],
    shape: &str,
) -> Property {
    Property {
        id: id.to_owned(),
        statement,
        check: Check::Refused {
            action: Action::Disclose,
            refused_by,
            shape: format!("{REGISTERED} && {shape}"),
        },
    }
}

/// Table F of the rule book: what each instrument can never have granted
/// outright. `Some(levels)` for a cell that must be refused at those levels.
fn table_f() -> Vec<(Instrument, Category, &'static [&'static str], &'static str)> {
    use Category::{Content, Identification, Location, Subscriber, Traffic};
    use Instrument::{CourtOrder, NationalSecurityLetter, Subpoena};
    vec![
        (
            Subpoena,
            Traffic,
            DENY,
            "a subpoena never reaches traffic data",
        ),
        (
            Subpoena,
            Location,
            DENY,
            "a subpoena never reaches location data",
        ),
        (Subpoena, Content, DENY, "a subpoena never reaches content"),
        (
            CourtOrder,
            Location,
            DENY,
            "a § 2703(d) court order never reaches location data",
        ),
        (
            CourtOrder,
            Content,
            DENY,
            "a § 2703(d) court order never reaches content",
        ),
        (
            NationalSecurityLetter,
            Identification,
            DENY,
            "a national security letter never reaches identification data (§ 2709)",
        ),
        (
            NationalSecurityLetter,
            Traffic,
            DENY,
            "a national security letter never reaches traffic data (§ 2709)",
        ),
        (
            NationalSecurityLetter,
            Location,
            DENY,
            "a national security letter never reaches location data (§ 2709)",
        ),
        (
            NationalSecurityLetter,
            Content,
            DENY,
            "a national security letter never reaches content (§ 2709)",
        ),
        (
            NationalSecurityLetter,
            Subscriber,
            DENY_OR_REVIEW,
            "subscriber data under a national security letter always goes to a person (§ 2709 reaches less)",
        ),
    ]
}

/// Every property `writ policy prove` checks, in the rule book's order.
pub fn all() -> Vec<Property> {
    let o = ORDER_OF_ACCEPT;
    let d = ORDER_OF_DISCLOSE;
    let mut props = vec![
        // A. Requester.
        order_rule(
            "A.unauthenticated",
            "an order nobody authenticated is refused".into(),
            "!principal.authenticated".into(),
        ),
        order_rule(
            "A.unknown_agency",
            "an order from a submitter outside the registry is refused".into(),
            "!(principal has agency)".into(),
        ),
        order_rule(
            "A.agency_not_verified",
            "an order from a pending or suspended agency is refused".into(),
            "principal has agency && [\"pending\", \"suspended\"].contains(principal.agency.status)"
                .into(),
        ),
        order_rule(
            "A.submitter_mismatch",
            "an order naming another agency than its submitter is refused".into(),
            format!("principal has agency && {o}.agency != principal.agency_id"),
        ),
        // C. Refusals.
        order_rule(
            "C.technical_assistance",
            "a technical assistance order is refused, for every agency and category".into(),
            format!("{o}.instrument == \"technical_assistance\""),
        ),
        order_rule(
            "C.hacking",
            format!(
                "an order asking for any hacking assistance ({}) is refused, for every instrument, agency and category",
                HACKING.join(", ")
            ),
            format!("{o}.assistance.containsAny({})", set(HACKING)),
        ),
        order_rule(
            "C.not_particular",
            "a keyword, geofence or all-users target is refused".into(),
            format!("{o}.target_kinds.containsAny([\"keyword\", \"geofence\", \"all_users\"])"),
        ),
        // D. Instrument availability.
        order_rule(
            "D.national_security_letter",
            "only a US agency with that power (the FBI) may serve a national security letter".into(),
            format!(
                "principal has agency && {o}.instrument == \"national_security_letter\" && \
                 !(principal.agency.country == \"US\" && principal.agency.powers.contains(\"national_security_letter\"))"
            ),
        ),
        order_rule(
            "D.european_orders",
            "a European Production or Preservation Order is refused unless it comes from a bound member state other than Ireland".into(),
            format!(
                "principal has agency && [\"epoc\", \"epoc_pr\"].contains({o}.instrument) && \
                 !{}.contains(principal.agency.country)",
                set(EUROPEAN_ISSUERS)
            ),
        ),
        order_rule(
            "D.denmark_not_bound",
            "Denmark is not bound by Regulation 2023/1543: its European orders are refused".into(),
            format!(
                "principal has agency && principal.agency.country == \"DK\" && \
                 [\"epoc\", \"epoc_pr\"].contains({o}.instrument)"
            ),
        ),
        order_rule(
            "D.uk_overseas_order",
            "an overseas production order is refused unless the UK serving authority sends it".into(),
            format!(
                "principal has agency && {o}.instrument == \"uk_overseas_order\" && \
                 !(principal.agency.country == \"GB\" && principal.agency.powers.contains(\"uk_overseas_order\"))"
            ),
        ),
    ];

    // E. Issuing authority.
    props.push(pair_rule(
        "E.warrant_or_court_order",
        "a search warrant or court order not issued by a judge, court or magistrate discloses nothing".into(),
        DENY,
        &format!(
            "[\"search_warrant\", \"court_order\"].contains({d}.instrument) && \
             ![\"judge\", \"court\", \"magistrate\"].contains({d}.issued_by)"
        ),
    ));
    props.push(pair_rule(
        "E.epoc_other",
        "a European Production Order reaches traffic, location or content only if a judge, court or investigating judge issued or validated it".into(),
        DENY,
        &format!(
            "{d}.instrument == \"epoc\" && [\"traffic\", \"location\", \"content\"].contains(context.category) && \
             !{d}.issuers.containsAny([\"judge\", \"court\", \"investigating_judge\"])"
        ),
    ));
    props.push(pair_rule(
        "E.epoc_pr",
        "a European Preservation Order preserves nothing unless a judge, court, investigating judge or prosecutor issued or validated it".into(),
        DENY,
        &format!(
            "{d}.instrument == \"epoc_pr\" && \
             !{d}.issuers.containsAny([\"judge\", \"court\", \"investigating_judge\", \"prosecutor\"])"
        ),
    ));
    props.push(pair_rule(
        "E.uk_overseas_order",
        "an overseas production order not made by a judge discloses nothing".into(),
        DENY,
        &format!("{d}.instrument == \"uk_overseas_order\" && ![\"judge\", \"court\"].contains({d}.issued_by)"),
    ));

    // F. What each instrument can reach.
    for (instrument, category, levels, statement) in table_f() {
        props.push(pair_rule(
            &format!("F.{instrument}.{category}"),
            statement.to_owned(),
            levels,
            &format!("{d}.instrument == \"{instrument}\" && context.category == \"{category}\""),
        ));
    }
    props.push(pair_rule(
        "F.emergency_request.content.foreign",
        "no emergency request from a foreign government reaches content (§ 2702)".into(),
        DENY,
        &format!(
            "{d}.instrument == \"emergency_request\" && context.category == \"content\" && \
             principal.agency.country != \"US\""
        ),
    ));
    props.push(pair_rule(
        "F.emergency_request.content.us",
        "content in a US emergency always goes to a person first".into(),
        DENY_OR_REVIEW,
        &format!("{d}.instrument == \"emergency_request\" && context.category == \"content\""),
    ));

    // G. Offence thresholds.
    props.push(pair_rule(
        "G.uk_overseas_order",
        "an overseas production order discloses nothing without an offence punishable by 3 years or more".into(),
        DENY,
        &format!(
            "{d}.instrument == \"uk_overseas_order\" && \
             !({d} has offence && {d}.offence.max_custodial_years >= 3)"
        ),
    ));
    props.push(pair_rule(
        "G.epoc",
        "a European Production Order reaches traffic, location or content only for an offence of 3 years or more, or a listed one".into(),
        DENY,
        &format!(
            "{d}.instrument == \"epoc\" && [\"traffic\", \"location\", \"content\"].contains(context.category) && \
             !({d} has offence && ({d}.offence.max_custodial_years >= 3 || {d}.offence.listed))"
        ),
    ));

    // I. The US-UK agreement's exclusion.
    props.push(pair_rule(
        "I.agreement_excludes_us_person",
        "an overseas production order never reaches a US person or a person located in the United States".into(),
        DENY,
        &format!(
            "{d}.instrument == \"uk_overseas_order\" && (resource.us_person || resource.located_in == \"US\")"
        ),
    ));

    // Statuses.
    props.push(Property {
        id: "status.deny_is_final".into(),
        statement:
            "a pair that a deny rule matches is never granted: no permit of the pack overrides it"
                .into(),
        check: Check::DenyIsFinal,
    });
    props.push(Property {
        id: "status.refusal_is_final".into(),
        statement: "an order refused as a whole has no pair decided, and a denied pair is never turned into a grant by any other rule or person".into(),
        check: Check::Engine {
            how: "the engine stops at step 1 on any refusal and takes the strongest status of a pair (deny over review over grant); tests: writ-policy `properties.rs` (generative), the corpus",
        },
    });
    props.push(Property {
        id: "status.only_asked_categories".into(),
        statement: "nothing is granted in a category the order did not ask for".into(),
        check: Check::Engine {
            how: "the engine builds pairs from the order's own categories only; tests: writ-policy `properties.rs` (generative: one pair per target and requested category)",
        },
    });
    props
}

/// The request shapes `writ policy diff` compares: per instrument at the
/// order level, and per instrument and category at the pair level.
pub fn instruments() -> &'static [Instrument] {
    Instrument::ALL
}

pub fn categories() -> &'static [Category] {
    Category::ALL
}

/// The shape of an order of one instrument (order level).
pub(crate) fn order_shape(instrument: Instrument) -> String {
    format!("{ORDER_OF_ACCEPT}.instrument == \"{instrument}\"")
}

/// The shape of a pair of one instrument and category (pair level).
pub(crate) fn pair_shape(instrument: Instrument, category: Category) -> String {
    format!(
        "{REGISTERED} && {ORDER_OF_DISCLOSE}.instrument == \"{instrument}\" && context.category == \"{category}\""
    )
}

/// Conditions that make a counterexample read like a real order: a
/// verified agency that submitted its own order, known countries and issuer
/// kinds, one particular target, the category asked for. They never weaken
/// a proof: they are tried, one by one, only once a counterexample exists,
/// and each is kept only if a counterexample remains with it.
pub(crate) fn plausible(action: Action) -> Vec<String> {
    let o = match action {
        Action::Accept => ORDER_OF_ACCEPT,
        Action::Disclose => ORDER_OF_DISCLOSE,
    };
    let countries = set(&["US", "GB", "IE", "DE", "FR", "DK", "BR", "IN"]);
    let issuers = set(&[
        "judge",
        "court",
        "magistrate",
        "investigating_judge",
        "prosecutor",
        "grand_jury",
        "police",
        "agency_official",
    ]);
    let instruments: Vec<&str> = Instrument::ALL.iter().map(|i| i.as_str()).collect();
    let categories: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    let mut conditions = vec![
        "principal.authenticated".to_owned(),
        "principal has agency && principal.agency.status == \"verified\"".to_owned(),
        format!("principal.agency_id == \"agency-1\" && {o}.agency == principal.agency_id"),
        format!("principal has agency && {countries}.contains(principal.agency.country)"),
        format!("{}.contains({o}.instrument)", set(&instruments)),
        format!(
            "{issuers}.contains({o}.issued_by) && {o}.issuers.contains({o}.issued_by) && {issuers}.containsAll({o}.issuers)"
        ),
        format!("{o}.target_count == 1 && {o}.target_kinds == [\"email\"]"),
        format!("{o}.assistance.isEmpty()"),
        format!(
            "!{o}.categories.isEmpty() && {}.containsAll({o}.categories)",
            set(&categories)
        ),
    ];
    if action == Action::Disclose {
        conditions.push(format!("{o}.categories == [context.category]"));
        conditions.push(format!(
            "{countries}.contains(resource.data_location) && {countries}.contains(resource.located_in)"
        ));
    }
    conditions
}
