//! The order an agency submits (`docs/formats.md`, "Order").

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{Country, Name, integral, null_as_empty};
use crate::time::Timestamp;

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Reads a wire name.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;

string_enum! {
    /// The legal instrument an order is.
    Instrument {
        Subpoena = "subpoena",
        CourtOrder = "court_order",
        SearchWarrant = "search_warrant",
        NationalSecurityLetter = "national_security_letter",
        EmergencyRequest = "emergency_request",
        PreservationRequest = "preservation_request",
        Epoc = "epoc",
        EpocPr = "epoc_pr",
        UkOverseasOrder = "uk_overseas_order",
        TechnicalAssistance = "technical_assistance",
    }
}

impl Instrument {
    /// Preservation instruments freeze data and disclose nothing.
    pub fn is_preservation(self) -> bool {
        matches!(self, Instrument::PreservationRequest | Instrument::EpocPr)
    }

    /// A disclosure instrument is any instrument other than
    /// `preservation_request`, `epoc_pr` and `technical_assistance`.
    pub fn is_disclosure(self) -> bool {
        !self.is_preservation() && self != Instrument::TechnicalAssistance
    }

    /// Only these carry an `emergency` block.
    pub fn allows_emergency(self) -> bool {
        matches!(self, Instrument::EmergencyRequest | Instrument::Epoc)
    }
}

string_enum! {
    /// Who issued (or validated) an order.
    IssuerKind {
        Judge = "judge",
        Court = "court",
        Magistrate = "magistrate",
        InvestigatingJudge = "investigating_judge",
        Prosecutor = "prosecutor",
        GrandJury = "grand_jury",
        Police = "police",
        AgencyOfficial = "agency_official",
    }
}

string_enum! {
    /// How a target names an account.
    TargetKind {
        AccountId = "account_id",
        Email = "email",
        Phone = "phone",
        Username = "username",
        Keyword = "keyword",
        Geofence = "geofence",
        AllUsers = "all_users",
    }
}

impl TargetKind {
    /// `keyword`, `geofence` and `all_users` name no particular account.
    pub fn is_particular(self) -> bool {
        !matches!(
            self,
            TargetKind::Keyword | TargetKind::Geofence | TargetKind::AllUsers
        )
    }
}

string_enum! {
    /// A category of data.
    Category {
        Subscriber = "subscriber",
        Identification = "identification",
        Traffic = "traffic",
        Location = "location",
        Content = "content",
    }
}

impl Category {
    pub fn is_content(self) -> bool {
        self == Category::Content
    }
}

string_enum! {
    /// How an order that no agency key signed reached the provider.
    Channel {
        Email = "email",
        Post = "post",
        Fax = "fax",
        InPerson = "in_person",
    }
}

string_enum! {
    /// Where the number used for an emergency callback came from.
    NumberSource {
        Registry = "registry",
        Request = "request",
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Issuer {
    pub kind: IssuerKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub court: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Offence {
    pub description: String,
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = 999)))]
    #[serde(deserialize_with = "integral")]
    pub max_custodial_years: i64,
    pub listed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committed_in: Option<Country>,
}

/// The authority of the executing State that a European Production Order
/// was notified to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EnforcingAuthority {
    #[cfg_attr(feature = "schema", schemars(length(min = 1), regex(pattern = r"\S")))]
    pub name: String,
    pub country: Country,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Target {
    pub kind: TargetKind,
    pub value: String,
}

impl Target {
    /// `kind:value` as submitted, the form decisions use.
    pub fn label(&self) -> String {
        format!("{}:{}", self.kind, self.value)
    }

    /// The value as compared: e-mail addresses compare case-insensitively.
    pub fn match_key(&self) -> (TargetKind, String) {
        (self.kind, normalize(self.kind, &self.value))
    }
}

/// The form in which an identifier value is compared.
pub fn normalize(kind: TargetKind, value: &str) -> String {
    if kind == TargetKind::Email {
        value.to_lowercase()
    } else {
        value.to_owned()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DateRange {
    pub from: Timestamp,
    pub to: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Callback {
    pub verified: bool,
    pub number_source: NumberSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<Timestamp>,
}

/// The provider's record of an order that arrived on paper, by e-mail,
/// by fax or in person and was transcribed by its staff (never sent by an
/// agency): nothing of it is released until a callback to the agency's
/// registered number, by someone other than the transcriber, confirms that
/// the agency sent it (`channel_unverified`, docs/legal-rules.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Transcription {
    pub channel: Channel,
    pub transcribed_by: String,
    pub transcribed_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<ChannelCheck>,
}

/// The callback that verified (or refuted) a transcribed order's channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChannelCheck {
    /// The agency confirmed sending the order.
    pub verified: bool,
    pub verified_by: String,
    pub verified_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Emergency {
    pub threat: String,
    pub facts: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<Callback>,
}

impl Emergency {
    /// `facts` counts as empty when it is empty after trimming white space.
    pub fn facts_blank(&self) -> bool {
        self.facts.trim().is_empty()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NonDisclosure {
    pub issued_by: Issuer,
    pub basis: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Attachment {
    #[cfg_attr(
        feature = "schema",
        schemars(regex(pattern = r"^(?!\.{1,2}$)[^/\\\x00]+$"))
    )]
    pub name: String,
    pub media_type: String,
    #[cfg_attr(feature = "schema", schemars(regex(pattern = r"^[0-9a-f]{64}$")))]
    pub sha256: String,
    #[serde(deserialize_with = "integral")]
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = 26_214_400)))]
    pub size: u64,
}

/// The largest document an order may announce, in bytes (25 MiB, what
/// e-mail systems carry): a larger one could never be uploaded, so an order
/// that announces one is an input error.
pub const MAX_ATTACHMENT_BYTES: u64 = 25 * 1024 * 1024;

/// An order as submitted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Order {
    pub reference: Name,
    pub agency: Name,
    pub instrument: Instrument,
    pub legal_basis: String,
    pub issued_by: Issuer,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validated_by: Option<Issuer>,
    pub issued_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub respond_by: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offence: Option<Offence>,
    #[cfg_attr(
        feature = "schema",
        schemars(length(max = 500), extend("uniqueItems" = true))
    )]
    pub targets: Vec<Target>,
    /// Required for every instrument but `technical_assistance` (checked in
    /// [`crate::parse`]); use [`Order::categories`] to read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(extend("uniqueItems" = true)))]
    pub categories: Option<Vec<Category>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_range: Option<DateRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency: Option<Emergency>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_disclosure: Option<NonDisclosure>,
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<String>>"))]
    pub assistance: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renews: Option<Name>,
    /// The `reference` of the agency's earlier order that this one
    /// corrects: a correction is a new order, never an edit of the old one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<Name>,
    /// The enforcing authority a European Production Order was notified to
    /// (Reg. (EU) 2023/1543 Art. 8); absent when it was not notified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforcing_authority: Option<EnforcingAuthority>,
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<Attachment>>"))]
    pub attachments: Vec<Attachment>,
    /// Written by the provider for an order its staff transcribed; refused
    /// from agencies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcription: Option<Transcription>,
}

/// At most this many targets in one order (`docs/formats.md`).
pub const MAX_TARGETS: usize = 500;

impl Order {
    /// The requested categories, in order (none when absent).
    pub fn categories(&self) -> &[Category] {
        self.categories.as_deref().unwrap_or(&[])
    }
}
