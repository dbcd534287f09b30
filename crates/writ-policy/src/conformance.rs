//! What every pack must keep, checked when it loads.
//!
//! `hacking_refused` is the one refusal that even a new policy version must
//! keep (`docs/legal-rules.md`, section C). A pack is probed with orders that ask
//! for each kind of hacking assistance; one that lets any through is refused
//! at load, before it can decide a real order.

use writ_model::{DecisionInput, Outcome, Timestamp};

use crate::pack::Pack;

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

fn probe(instrument: &str, assistance: &str) -> Result<DecisionInput, String> {
    let now = Timestamp::parse("2026-11-28T12:00:00Z").map_err(|e| e.to_string())?;
    let agency = serde_json::json!({
        "id": "probe-agency", "name": "Probe", "country": "US", "kind": "law_enforcement",
        "status": "verified", "verified_since": "2020-01-01T00:00:00Z",
        "powers": ["national_security_letter"]
    });
    let account = serde_json::json!({
        "id": "probe-account", "identifiers": [{"kind": "email", "value": "probe@example.com"}],
        "data_location": "US", "holder": {"us_person": true, "located_in": "US"}, "status": "active"
    });
    let order = serde_json::json!({
        "reference": "PROBE-1", "agency": "probe-agency", "instrument": instrument,
        "legal_basis": "probe", "issued_by": {"kind": "judge"},
        "issued_at": "2026-11-27T12:00:00Z",
        "targets": [{"kind": "email", "value": "probe@example.com"}],
        "categories": ["content"],
        "date_range": {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"},
        "assistance": [assistance]
    });
    Ok(DecisionInput {
        now,
        submitted_by: Some("probe-agency".to_owned()),
        agencies: vec![serde_json::from_value(agency).map_err(|e| e.to_string())?],
        accounts: vec![serde_json::from_value(account).map_err(|e| e.to_string())?],
        prior: Vec::new(),
        order: serde_json::from_value(order).map_err(|e| e.to_string())?,
    })
}

pub(crate) fn check(pack: &Pack) -> Result<(), String> {
    let mut probes = vec![("technical_assistance", "provide_keys")];
    probes.extend(HACKING.iter().map(|a| ("search_warrant", *a)));
    for (instrument, assistance) in probes {
        let decision = crate::decide(pack, &probe(instrument, assistance)?);
        let refused = decision.outcome == Outcome::Reject
            && decision.decisions.is_empty()
            && decision.codes().contains(&"hacking_refused");
        if !refused {
            return Err(format!(
                "the pack must refuse hacking: a `{instrument}` asking for `{assistance}` was not refused with `hacking_refused` (got `{}` with {:?})",
                decision.outcome,
                decision.codes()
            ));
        }
    }
    Ok(())
}
