//! Rows: what the store reads and writes. A case is read as a typed
//! [`Case`]; the other tables are plain rows.

use sqlx::any::AnyRow;
use writ_model::{CaseStatus, Decision, Order, ProposalAction, ProposalState, Timestamp};

use crate::{Result, StoreError, get};

pub(crate) const AGENCY_COLUMNS: &str = "id, name, country, kind, status, verified_since, powers, \
     callback_numbers, age_recipient, created_at, updated_at";

/// A registry entry with what only a live registry holds.
#[derive(Clone, Debug, PartialEq)]
pub struct AgencyRow {
    pub id: String,
    pub name: String,
    pub country: String,
    pub kind: String,
    pub status: String,
    pub verified_since: Option<i64>,
    /// JSON array of powers.
    pub powers: String,
    /// JSON array of E.164 numbers that staff call back.
    pub callback_numbers: String,
    /// The age X25519 recipient (`age1...`) packages are sealed to.
    pub age_recipient: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl AgencyRow {
    pub(crate) fn from_row(r: &AnyRow) -> Result<Self> {
        Ok(Self {
            id: get(r, 0)?,
            name: get(r, 1)?,
            country: get(r, 2)?,
            kind: get(r, 3)?,
            status: get(r, 4)?,
            verified_since: get(r, 5)?,
            powers: get(r, 6)?,
            callback_numbers: get(r, 7)?,
            age_recipient: get(r, 8)?,
            created_at: get(r, 9)?,
            updated_at: get(r, 10)?,
        })
    }
}

/// A request-signing key of an agency (Ed25519, base64 of the 32 bytes).
#[derive(Clone, Debug, PartialEq)]
pub struct AgencyKeyRow {
    pub key_id: String,
    pub agency_id: String,
    pub public_key: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl AgencyKeyRow {
    pub(crate) fn from_row(r: &AnyRow) -> Result<Self> {
        Ok(Self {
            key_id: get(r, 0)?,
            agency_id: get(r, 1)?,
            public_key: get(r, 2)?,
            created_at: get(r, 3)?,
            revoked_at: get(r, 4)?,
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct HistoryRow {
    pub action: String,
    pub detail: String,
    pub actor: String,
    pub at: i64,
}

/// A directory entry: its JSON and its identifiers `(kind, normalised value)`.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountRow {
    pub id: String,
    pub body: String,
    pub identifiers: Vec<(String, String)>,
}

/// A legal hold placed by a preservation order.
#[derive(Clone, Debug, PartialEq)]
pub struct HoldRow {
    pub agency_id: String,
    pub reference: String,
    pub case_id: String,
    pub instrument: String,
    /// JSON array of account ids.
    pub accounts: String,
    pub preserve_until: i64,
    pub renewals: i64,
}

impl HoldRow {
    pub(crate) fn from_row(r: &AnyRow) -> Result<Self> {
        Ok(Self {
            agency_id: get(r, 0)?,
            reference: get(r, 1)?,
            case_id: get(r, 2)?,
            instrument: get(r, 3)?,
            accounts: get(r, 4)?,
            preserve_until: get(r, 5)?,
            renewals: get(r, 6)?,
        })
    }
}

pub(crate) const CASE_COLUMNS: &str = "id, agency_id, reference, order_json, order_sha256, \
     canonical_sha256, instrument, emergency, status, outcome, decision, decided_now, due_at, \
     version, created_at, updated_at";

/// A case: the order as received, its current decision and status.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseRow {
    pub id: String,
    pub agency_id: String,
    pub reference: String,
    /// The order as it stands (with a recorded callback, once there is one).
    pub order_json: String,
    /// SHA-256 of the order's bytes as received.
    pub order_sha256: String,
    /// SHA-256 of the order's canonical JSON (RFC 8785), for idempotency.
    pub canonical_sha256: String,
    pub instrument: String,
    pub emergency: i64,
    pub status: String,
    pub outcome: String,
    /// The current decision, JSON.
    pub decision: String,
    /// The first decision's `now`: every re-decision judges as of receipt.
    pub decided_now: i64,
    /// The first decision's `due_at`: the deadline never restarts.
    pub due_at: i64,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl CaseRow {
    pub(crate) fn from_row(r: &AnyRow) -> Result<Self> {
        Ok(Self {
            id: get(r, 0)?,
            agency_id: get(r, 1)?,
            reference: get(r, 2)?,
            order_json: get(r, 3)?,
            order_sha256: get(r, 4)?,
            canonical_sha256: get(r, 5)?,
            instrument: get(r, 6)?,
            emergency: get(r, 7)?,
            status: get(r, 8)?,
            outcome: get(r, 9)?,
            decision: get(r, 10)?,
            decided_now: get(r, 11)?,
            due_at: get(r, 12)?,
            version: get(r, 13)?,
            created_at: get(r, 14)?,
            updated_at: get(r, 15)?,
        })
    }
}

/// A new case with everything that must be durable with it.
#[derive(Clone, Debug)]
pub struct NewCase {
    pub case: CaseRow,
    pub events: Vec<NewEvent>,
    pub holds: Vec<HoldRow>,
    /// The id of the earlier case whose order this one corrects.
    pub corrects: Option<String>,
    /// The officer who submitted it, if one did.
    pub officer: Option<String>,
}

/// What became of one new case in [`crate::Store::intake`].
#[derive(Clone, Debug)]
pub enum Intake {
    Stored,
    /// The agency's reference was already taken by this case.
    Existing(Box<CaseRow>),
}

/// An event for the log's outbox.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub case_id: Option<String>,
    pub kind: String,
    /// The log entry, canonical JSON.
    pub entry: String,
    /// The salts and private details its commitments open to.
    pub private: String,
    /// `pending` or `deferred`.
    pub state: String,
    pub created_at: i64,
}

pub(crate) const EVENT_COLUMNS: &str =
    "seq, case_id, kind, entry, private, state, log_index, created_at";

#[derive(Clone, Debug)]
pub struct EventRow {
    pub seq: i64,
    pub case_id: Option<String>,
    pub kind: String,
    pub entry: String,
    pub private: String,
    pub state: String,
    pub log_index: Option<i64>,
    pub created_at: i64,
}

impl EventRow {
    pub(crate) fn from_row(r: &AnyRow) -> Result<Self> {
        Ok(Self {
            seq: get(r, 0)?,
            case_id: get(r, 1)?,
            kind: get(r, 2)?,
            entry: get(r, 3)?,
            private: get(r, 4)?,
            state: get(r, 5)?,
            log_index: get(r, 6)?,
            created_at: get(r, 7)?,
        })
    }
}

/// A case as Writ works with it: the order and decision parsed, the status
/// typed. Read with [`crate::Store::load_case`]; no JSON text leaves the
/// store for a case.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub id: String,
    /// The agency whose key signed the order: the requester, whatever the
    /// order's own `agency` field claims.
    pub signer: String,
    pub reference: String,
    /// The order as it stands (with a recorded callback, once there is one).
    pub order: Order,
    /// SHA-256 of the order's bytes as received.
    pub order_sha256: String,
    pub status: CaseStatus,
    pub decision: Decision,
    /// The first decision's `now`: every re-decision judges as of receipt.
    pub decided_now: Timestamp,
    /// The first decision's `due_at`: the deadline never restarts.
    pub due_at: Timestamp,
    pub version: i64,
    pub received_at: Timestamp,
    pub updated_at: Timestamp,
}

fn epoch_time(table: &'static str, s: i64) -> Result<Timestamp> {
    Timestamp::from_second(s).ok_or_else(|| StoreError::Corrupt(table, format!("time `{s}`")))
}

impl Case {
    pub fn from_row(row: &CaseRow) -> Result<Self> {
        let corrupt = |what: &str, e: String| {
            StoreError::Corrupt("cases", format!("case `{}`: {what}: {e}", row.id))
        };
        Ok(Case {
            id: row.id.clone(),
            signer: row.agency_id.clone(),
            reference: row.reference.clone(),
            order: serde_json::from_str(&row.order_json)
                .map_err(|e| corrupt("order", e.to_string()))?,
            order_sha256: row.order_sha256.clone(),
            status: CaseStatus::parse(&row.status)
                .ok_or_else(|| corrupt("status", row.status.clone()))?,
            decision: serde_json::from_str(&row.decision)
                .map_err(|e| corrupt("decision", e.to_string()))?,
            decided_now: epoch_time("cases", row.decided_now)?,
            due_at: epoch_time("cases", row.due_at)?,
            version: row.version,
            received_at: epoch_time("cases", row.created_at)?,
            updated_at: epoch_time("cases", row.updated_at)?,
        })
    }
}

/// A change to a case and what goes with it, applied atomically.
#[derive(Clone, Debug)]
pub struct CaseChange {
    pub case_id: String,
    pub expected_version: i64,
    pub status: CaseStatus,
    pub decision: Decision,
    pub order: Order,
    pub at: Timestamp,
    pub events: Vec<NewEvent>,
    pub holds: Vec<HoldRow>,
    pub new_proposal: Option<NewProposal>,
    pub close_proposals: Vec<ClosedProposal>,
    /// A message of the case's clarification exchange.
    pub new_message: Option<NewMessage>,
}

/// Who wrote a clarification message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The provider's staff ask.
    Provider,
    /// The agency answers.
    Agency,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Provider => "provider",
            Side::Agency => "agency",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Side::Provider, Side::Agency]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// A clarification message to store with a case change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMessage {
    pub side: Side,
    /// The console user, or the agency (and officer) that answered.
    pub author: String,
    pub message: String,
    /// The order's fields at issue (the provider's question).
    pub fields: Vec<String>,
    /// The provider's question says the order is incomplete (a European
    /// Production Order's clock stops until the answer).
    pub incomplete: bool,
    /// The Annex III form's Art. 10(9) statement: how many accounts were
    /// preserved meanwhile (only on an incomplete European Production
    /// Order's question).
    pub preserved: Option<i64>,
    /// The enforcing authority the Annex III form also goes to.
    pub enforcing: Option<String>,
}

/// A stored clarification message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageRow {
    pub seq: i64,
    pub side: Side,
    pub author: String,
    pub message: String,
    pub fields: Vec<String>,
    pub incomplete: bool,
    pub preserved: Option<i64>,
    pub enforcing: Option<String>,
    pub at: i64,
}

impl CaseChange {
    /// A change that keeps the case as it is, to which the caller adds.
    pub fn of(case: &Case, at: Timestamp) -> Self {
        CaseChange {
            case_id: case.id.clone(),
            expected_version: case.version,
            status: case.status,
            decision: case.decision.clone(),
            order: case.order.clone(),
            at,
            events: Vec::new(),
            holds: Vec::new(),
            new_proposal: None,
            close_proposals: Vec::new(),
            new_message: None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct NewProposal {
    pub action: ProposalAction,
    /// JSON: what the action carries (`{"proposal": ...}`).
    pub detail: String,
    pub proposed_by: String,
    pub role: String,
}

#[derive(Clone, Debug)]
pub struct ClosedProposal {
    pub seq: i64,
    pub state: ProposalState,
    pub decided_by: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ProposalRow {
    pub seq: i64,
    pub case_id: String,
    pub action: ProposalAction,
    pub detail: String,
    pub proposed_by: String,
    pub role: String,
    pub state: ProposalState,
    pub decided_by: Option<String>,
    pub created_at: i64,
}

impl ProposalRow {
    pub(crate) fn from_row(r: &AnyRow) -> Result<Self> {
        Ok(Self {
            seq: get(r, 0)?,
            case_id: get(r, 1)?,
            action: {
                let a: String = get(r, 2)?;
                ProposalAction::parse(&a).ok_or(StoreError::Corrupt("proposals", a))?
            },
            detail: get(r, 3)?,
            proposed_by: get(r, 4)?,
            role: get(r, 5)?,
            state: {
                let st: String = get(r, 6)?;
                ProposalState::parse(&st).ok_or(StoreError::Corrupt("proposals", st))?
            },
            decided_by: get(r, 7)?,
            created_at: get(r, 8)?,
        })
    }
}

/// A console user. `role` is `reviewer`, `approver` or `admin`.
#[derive(Clone, PartialEq)]
pub struct UserRow {
    pub name: String,
    pub role: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Base32 TOTP secret.
    pub totp_secret: String,
    pub created_at: i64,
    pub disabled: bool,
}

impl std::fmt::Debug for UserRow {
    // The hash and the TOTP secret never print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

impl UserRow {
    pub(crate) fn from_row(r: &AnyRow) -> Result<Self> {
        let disabled: i64 = get(r, 5)?;
        Ok(Self {
            name: get(r, 0)?,
            role: get(r, 1)?,
            password_hash: get(r, 2)?,
            totp_secret: get(r, 3)?,
            created_at: get(r, 4)?,
            disabled: disabled != 0,
        })
    }
}

#[derive(Clone, Debug)]
pub struct TokenRow {
    pub token_hash: String,
    pub user_name: String,
    pub label: String,
    pub created_at: i64,
}

/// The holder of a live token, with what the token records.
#[derive(Clone, Debug)]
pub struct TokenUser {
    pub user: UserRow,
    pub label: String,
    /// When the token was minted (epoch seconds).
    pub created_at: i64,
}
