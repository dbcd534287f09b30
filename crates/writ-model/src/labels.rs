//! The words a person reads for each enum: one `label` per type. Pages and
//! the CLI's human output show these; JSON and the API keep the wire names
//! (`as_str`).

use crate::decision::{NotifyWhen, Outcome, Status};
use crate::lifecycle::{EventState, NoticeState, PackageState, ProposalAction, ProposalState};
use crate::order::{Category, Channel, Instrument, IssuerKind, NumberSource, TargetKind};
use crate::registry::{AccountStatus, AgencyKind, AgencyStatus, IdentifierKind, Power};

impl Instrument {
    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            Instrument::Subpoena => "Subpoena",
            Instrument::CourtOrder => "Court order",
            Instrument::SearchWarrant => "Search warrant",
            Instrument::NationalSecurityLetter => "National security letter",
            Instrument::EmergencyRequest => "Emergency request",
            Instrument::PreservationRequest => "Preservation request",
            Instrument::Epoc => "European Production Order",
            Instrument::EpocPr => "European Preservation Order",
            Instrument::UkOverseasOrder => "UK overseas production order",
            Instrument::TechnicalAssistance => "Technical assistance request",
        }
    }
}

impl IssuerKind {
    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            IssuerKind::Judge => "Judge",
            IssuerKind::Court => "Court",
            IssuerKind::Magistrate => "Magistrate",
            IssuerKind::InvestigatingJudge => "Investigating judge",
            IssuerKind::Prosecutor => "Prosecutor",
            IssuerKind::GrandJury => "Grand jury",
            IssuerKind::Police => "Police",
            IssuerKind::AgencyOfficial => "Agency official",
        }
    }
}

impl TargetKind {
    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            TargetKind::AccountId => "Account id",
            TargetKind::Email => "E-mail address",
            TargetKind::Phone => "Phone number",
            TargetKind::Username => "User name",
            TargetKind::Keyword => "Keyword",
            TargetKind::Geofence => "Geofence",
            TargetKind::AllUsers => "All users",
        }
    }
}

impl Category {
    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            Category::Subscriber => "Subscriber data",
            Category::Identification => "Identification data",
            Category::Traffic => "Traffic data",
            Category::Location => "Location data",
            Category::Content => "Content",
        }
    }
}

impl Channel {
    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            Channel::Email => "e-mail",
            Channel::Post => "post",
            Channel::Fax => "fax",
            Channel::InPerson => "hand delivery",
        }
    }
}

impl NumberSource {
    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            NumberSource::Registry => "a number from the registry",
            NumberSource::Request => "a number from the request",
        }
    }
}

impl Outcome {
    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Approve => "Approved in full",
            Outcome::Partial => "Partly approved",
            Outcome::Review => "Needs review",
            Outcome::Reject => "Refused",
            Outcome::NoData => "No data held",
        }
    }
}

impl Status {
    /// The words a person reads (what the decision says of a pair; what
    /// was released is a separate question).
    pub fn label(self) -> &'static str {
        match self {
            Status::Grant => "Granted",
            Status::Preserve => "Preserved",
            Status::Deny => "Refused",
            Status::Review => "Needs review",
            Status::NoData => "No data held",
        }
    }
}

impl NotifyWhen {
    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            NotifyWhen::OnDisclosure => "when the data is released",
            NotifyWhen::After => "after the secrecy order ends",
            NotifyWhen::IssuingAuthority => "by the issuing authority, not by us",
            NotifyWhen::Withheld => "withheld (no notice may be given)",
            NotifyWhen::None => "no notice (nothing is released)",
        }
    }
}

impl ProposalAction {
    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            ProposalAction::Approve => "approval",
            ProposalAction::Narrow => "narrowing",
            ProposalAction::Reject => "rejection",
        }
    }
}

impl ProposalState {
    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            ProposalState::Open => "waiting for a second approver",
            ProposalState::Confirmed => "confirmed",
            ProposalState::Superseded => "replaced by a newer proposal",
        }
    }
}

impl PackageState {
    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            PackageState::Sealed => "sealed, not yet available to the agency",
            PackageState::Ready => "ready for the agency to download",
            PackageState::Expired => "expired and deleted",
        }
    }
}

impl EventState {
    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            EventState::Pending => "waiting for the log",
            EventState::Deferred => "held back while the case is secret",
            EventState::Logged => "in the log",
            EventState::Released => "in the log (after its secrecy)",
        }
    }
}

impl NoticeState {
    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            NoticeState::Sending => "being sent",
            NoticeState::Sent => "sent",
            NoticeState::Dead => "failed: given up until staff try again",
        }
    }
}

impl AgencyStatus {
    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            AgencyStatus::Verified => "Verified",
            AgencyStatus::Pending => "Pending verification",
            AgencyStatus::Suspended => "Suspended",
        }
    }
}

impl AgencyKind {
    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            AgencyKind::LawEnforcement => "Law enforcement",
            AgencyKind::Prosecutor => "Prosecutor",
            AgencyKind::Court => "Court",
            AgencyKind::DesignatedAuthority => "Designated authority",
        }
    }
}

impl Power {
    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            Power::NationalSecurityLetter => "National security letters",
            Power::UkOverseasOrder => "UK overseas production orders",
        }
    }
}

impl AccountStatus {
    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            AccountStatus::Active => "Active",
            AccountStatus::PendingDeletion => "Pending deletion",
            AccountStatus::Deleted => "Deleted",
        }
    }
}

impl IdentifierKind {
    /// The words a person reads.
    pub fn label(self) -> &'static str {
        self.target_kind().label()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A label is words, never the wire name with its underscores.
    #[test]
    fn labels_are_not_wire_names() {
        let mut labels: Vec<(&str, &str)> = Vec::new();
        labels.extend(Instrument::ALL.iter().map(|v| (v.as_str(), v.label())));
        labels.extend(IssuerKind::ALL.iter().map(|v| (v.as_str(), v.label())));
        labels.extend(TargetKind::ALL.iter().map(|v| (v.as_str(), v.label())));
        labels.extend(Category::ALL.iter().map(|v| (v.as_str(), v.label())));
        labels.extend(Outcome::ALL.iter().map(|v| (v.as_str(), v.label())));
        labels.extend(Status::ALL.iter().map(|v| (v.as_str(), v.label())));
        labels.extend(NotifyWhen::ALL.iter().map(|v| (v.as_str(), v.label())));
        labels.extend(PackageState::ALL.iter().map(|v| (v.as_str(), v.label())));
        labels.extend(EventState::ALL.iter().map(|v| (v.as_str(), v.label())));
        labels.extend(AgencyStatus::ALL.iter().map(|v| (v.as_str(), v.label())));
        labels.extend(AgencyKind::ALL.iter().map(|v| (v.as_str(), v.label())));
        for (wire, label) in labels {
            assert!(!label.contains('_'), "{wire}: {label}");
        }
    }
}
