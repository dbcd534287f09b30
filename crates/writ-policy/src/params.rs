//! The parameters of the rule book, from a pack's `policy.toml`.

use serde::{Deserialize, Serialize};
use writ_model::Timestamp;

/// `policy.toml`: the pack's identity and its parameters.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PackManifest {
    pub id: String,
    pub version: String,
    #[serde(default)]
    pub parameters: Parameters,
}

/// The policy parameters (`docs/legal-rules.md`, "Policy parameters"); a
/// deployment can change them.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Parameters {
    pub max_targets: u32,
    pub min_requester_age_days: u32,
    pub max_gag_days: u32,
    pub emergency_sla_minutes: u32,
    pub default_response_days: u32,
    pub e_evidence_applies_from: Timestamp,
    pub uk_agreement_in_force_from: Timestamp,
}

/// A constant instant of the rule book.
fn instant(text: &str) -> Timestamp {
    // The constants above are well-formed; a parse failure would be caught by
    // the tests below, and falling back to the epoch keeps a default usable.
    Timestamp::parse(text)
        .unwrap_or_else(|_| Timestamp::from_second(0).unwrap_or_else(Timestamp::now))
}

impl Default for Parameters {
    fn default() -> Self {
        Self {
            max_targets: 25,
            min_requester_age_days: 30,
            max_gag_days: 365,
            emergency_sla_minutes: 60,
            default_response_days: 10,
            e_evidence_applies_from: instant("2026-08-18T00:00:00Z"),
            uk_agreement_in_force_from: instant("2022-10-03T00:00:00Z"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_dates_are_the_rule_books() {
        let p = Parameters::default();
        assert_eq!(
            p.e_evidence_applies_from.to_string(),
            "2026-08-18T00:00:00Z"
        );
        assert_eq!(
            p.uk_agreement_in_force_from.to_string(),
            "2022-10-03T00:00:00Z"
        );
    }
}
