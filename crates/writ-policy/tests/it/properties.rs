//! Properties of the engine over random well-formed orders.

use proptest::prelude::*;
use writ_model::{Category, DecisionInput, Order, Status, parse};
use writ_policy::decide;

use crate::{default_pack, sample_case};

const INSTRUMENTS: &[&str] = &[
    "subpoena",
    "court_order",
    "search_warrant",
    "national_security_letter",
    "emergency_request",
    "preservation_request",
    "epoc",
    "epoc_pr",
    "uk_overseas_order",
    "technical_assistance",
];
const ISSUERS: &[&str] = &[
    "judge",
    "court",
    "magistrate",
    "investigating_judge",
    "prosecutor",
    "grand_jury",
    "police",
    "agency_official",
];
const AGENCIES: &[&str] = &[
    "us-fbi-wfo",
    "us-nypd",
    "us-lakeview-so",
    "us-riverside-pd",
    "us-harbor-pd",
    "de-bka",
    "fr-ofac",
    "ie-garda",
    "gb-nca",
    "gb-homeoffice-ipu",
    "dk-nc3",
    "br-pf",
    "in-cbi",
];
const TARGETS: &[(&str, &str)] = &[
    ("email", "alice@example.com"),
    ("email", "CIARA@example.ie"),
    ("email", "dieter@example.de"),
    ("email", "emma@example.co.uk"),
    ("email", "frank@example.com"),
    ("email", "hana@example.com"),
    ("email", "ivan@example.ie"),
    ("email", "nobody@example.com"),
    ("username", "alice"),
    ("phone", "+12125550123"),
    ("account_id", "acct-br-gabriel"),
    ("keyword", "pressure cooker"),
];
const CATEGORIES: &[&str] = &[
    "subscriber",
    "identification",
    "traffic",
    "location",
    "content",
];
const ASSISTANCE: &[&str] = &["real_time_interception", "provide_keys", "expedite"];
const THREATS: &[&str] = &[
    "death",
    "serious_physical_injury",
    "safety_of_person",
    "property_damage",
];

fn time(offset_hours: i64) -> String {
    writ_model::Timestamp::parse("2026-11-28T12:00:00Z")
        .unwrap()
        .plus_hours(offset_hours)
        .to_string()
}

prop_compose! {
    fn order_json()(
        instrument in prop::sample::select(INSTRUMENTS),
        agency in prop::sample::select(AGENCIES),
        issuer in prop::sample::select(ISSUERS),
        validator in prop::option::of(prop::sample::select(ISSUERS)),
        issued in -3000i64..2,
        expires in prop::option::of(-48i64..48),
        respond in prop::option::of(-48i64..480),
        targets in prop::sample::subsequence(TARGETS, 0..5),
        categories in prop::sample::subsequence(CATEGORIES, 0..=5).prop_shuffle(),
        range in prop::option::of((-9000i64..0, -9000i64..0)),
        emergency in prop::option::of((prop::sample::select(THREATS), any::<bool>(), prop::option::of((any::<bool>(), any::<bool>())))),
        gag in prop::option::of((prop::sample::select(ISSUERS), prop::option::of(-10i64..20000))),
        assistance in prop::sample::subsequence(ASSISTANCE, 0..2),
        offence in prop::option::of((0i64..12, any::<bool>(), prop::option::of(prop::sample::select(&["DE", "FR", "US"][..])))),
    ) -> serde_json::Value {
        let mut o = serde_json::json!({
            "reference": "P-1", "agency": agency, "instrument": instrument, "legal_basis": "x",
            "issued_by": {"kind": issuer}, "issued_at": time(issued),
            "targets": targets.iter().map(|(k, v)| serde_json::json!({"kind": k, "value": v})).collect::<Vec<_>>(),
            "categories": categories, "assistance": assistance,
        });
        if let Some(v) = validator { o["validated_by"] = serde_json::json!({"kind": v}); }
        if let Some(e) = expires { o["expires_at"] = time(e).into(); }
        if let Some(r) = respond { o["respond_by"] = time(r).into(); }
        if let Some((a, b)) = range { o["date_range"] = serde_json::json!({"from": time(a), "to": time(b)}); }
        if let Some((threat, facts, callback)) = emergency
            && (instrument == "emergency_request" || instrument == "epoc")
        {
            let mut e = serde_json::json!({"threat": threat, "facts": if facts { "facts" } else { " " }});
            if let Some((verified, registry)) = callback {
                e["callback"] = serde_json::json!({"verified": verified, "number_source": if registry { "registry" } else { "request" }});
            }
            o["emergency"] = e;
        }
        if let Some((kind, until)) = gag {
            o["non_disclosure"] = serde_json::json!({"issued_by": {"kind": kind}, "basis": "x"});
            if let Some(u) = until { o["non_disclosure"]["until"] = time(u).into(); }
        }
        if let Some((years, listed, committed)) = offence {
            o["offence"] = serde_json::json!({"description": "x", "max_custodial_years": years, "listed": listed});
            if let Some(c) = committed { o["offence"]["committed_in"] = c.into(); }
        }
        o
    }
}

fn input(order: serde_json::Value, submitter: Option<&str>) -> DecisionInput {
    let mut case = sample_case();
    case["order"] = order;
    case["submitted_by"] = submitter.into();
    let mut input = parse::case_file(case.to_string().as_bytes())
        .unwrap_or_else(|e| panic!("generated an ill-formed case: {e}"))
        .input();
    input.prior = vec![];
    input
}

fn without(order: &Order, category: Category) -> Order {
    let mut o = order.clone();
    o.categories = Some(
        o.categories()
            .iter()
            .copied()
            .filter(|c| *c != category)
            .collect(),
    );
    o
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Random well-formed orders never panic, and the same input always gives
    /// the same decision.
    #[test]
    fn decisions_are_total_and_deterministic(order in order_json(), anonymous in prop::bool::weighted(0.05)) {
        let submitter = if anonymous { None } else { order["agency"].as_str().map(str::to_owned) };
        let input = input(order, submitter.as_deref());
        let first = decide(default_pack(), &input);
        let second = decide(default_pack(), &input);
        prop_assert_eq!(&first, &second);
        // One pair per (target, category) unless refused as a whole.
        if !first.decisions.is_empty() {
            prop_assert_eq!(first.decisions.len(), input.order.targets.len() * input.order.categories().len());
        }
    }

    /// Dropping a category from an order never turns another pair from deny
    /// into grant.
    #[test]
    fn dropping_a_category_never_grants_a_denied_pair(order in order_json(), drop in prop::sample::select(CATEGORIES)) {
        let full = input(order, None);
        let full = DecisionInput { submitted_by: Some(full.order.agency.to_string()), ..full };
        let before = decide(default_pack(), &full);
        let category = Category::parse(drop).unwrap();
        let fewer = DecisionInput { order: without(&full.order, category), ..full.clone() };
        let after = decide(default_pack(), &fewer);
        for pair in &after.decisions {
            let earlier = before.decisions.iter().find(|p| p.target == pair.target && p.category == pair.category);
            if let Some(earlier) = earlier
                && earlier.status == Status::Deny
            {
                prop_assert!(!pair.status.is_granted(), "{} {} went from deny to {}", pair.target, pair.category, pair.status);
            }
        }
    }
}
