//! The agency registry, the account directory and earlier preservation holds.

use serde::{Deserialize, Serialize};

use crate::ids::{Country, Name, null_as_empty};
use crate::order::{Instrument, TargetKind, string_enum};
use crate::time::Timestamp;

use std::fmt;

string_enum! {
    /// Whether the provider's admins have verified an agency.
    AgencyStatus {
        Verified = "verified",
        Pending = "pending",
        Suspended = "suspended",
    }
}

string_enum! {
    /// Descriptive kind of an agency.
    AgencyKind {
        LawEnforcement = "law_enforcement",
        Prosecutor = "prosecutor",
        Court = "court",
        DesignatedAuthority = "designated_authority",
    }
}

string_enum! {
    /// Special instruments an agency may serve.
    Power {
        NationalSecurityLetter = "national_security_letter",
        UkOverseasOrder = "uk_overseas_order",
    }
}

/// A registry entry (`docs/formats.md`, "Agency").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agency {
    pub id: Name,
    pub name: String,
    pub country: Country,
    pub kind: AgencyKind,
    pub status: AgencyStatus,
    #[serde(default)]
    pub verified_since: Option<Timestamp>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub powers: Vec<Power>,
}

string_enum! {
    /// Whether an account still holds data.
    AccountStatus {
        Active = "active",
        PendingDeletion = "pending_deletion",
        Deleted = "deleted",
    }
}

string_enum! {
    /// The kinds of identifier an account carries.
    IdentifierKind {
        AccountId = "account_id",
        Email = "email",
        Phone = "phone",
        Username = "username",
    }
}

impl IdentifierKind {
    pub fn target_kind(self) -> TargetKind {
        match self {
            IdentifierKind::AccountId => TargetKind::AccountId,
            IdentifierKind::Email => TargetKind::Email,
            IdentifierKind::Phone => TargetKind::Phone,
            IdentifierKind::Username => TargetKind::Username,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identifier {
    pub kind: IdentifierKind,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holder {
    pub us_person: bool,
    pub located_in: Country,
}

/// A directory entry (`docs/formats.md`, "Account").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub id: Name,
    pub identifiers: Vec<Identifier>,
    pub data_location: Country,
    pub holder: Holder,
    pub status: AccountStatus,
}

/// A hold created by an earlier preservation order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorHold {
    pub reference: Name,
    pub agency: Name,
    pub instrument: Instrument,
    pub preserve_until: Timestamp,
    #[serde(default)]
    pub renewals: u32,
}
