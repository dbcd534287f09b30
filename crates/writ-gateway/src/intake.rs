//! Intake: an order in, a decision out, both durable before the answer.
//!
//! New cases go through one writer task that commits them in batches (group
//! commit): under load, many orders share one transaction and one fsync,
//! while a lone order is written at once.

use serde::Serialize;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use writ_model::{
    Account, Agency, AgencyStatus, CaseStatus, Decision, DecisionInput, InputError, Order,
    PriorHold, ReasonCode, Status, Timestamp, parse,
};
use writ_store::{Case, CaseRow, HoldRow, Intake, NewCase, Store, StoreError};

use crate::events::{self, CaseContext};
use crate::lifecycle::{Action, Actor, resolved_figures};
use crate::read::Flag;
use crate::{Gateway, GatewayError, Result, canonical, epoch, from_epoch, random_bytes};

/// The most new cases committed in one transaction.
const MAX_BATCH: usize = 256;

/// Why a batch was not written: the message, and whether the storage failed
/// (rather than the batch).
type Failure = (String, bool);

type Job = (NewCase, oneshot::Sender<Result<Intake, Failure>>);

/// The intake writer's mailbox.
pub(crate) struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    pub(crate) fn start(store: Store, health: std::sync::Arc<crate::health::Tracker>) -> Self {
        let (tx, mut rx) = mpsc::channel::<Job>(4 * MAX_BATCH);
        tokio::spawn(async move {
            let mut jobs = Vec::with_capacity(MAX_BATCH);
            while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
                let (cases, replies): (Vec<NewCase>, Vec<_>) = jobs.drain(..).unzip();
                match store.intake(&cases).await {
                    Ok(results) => {
                        health.store_written();
                        for (reply, result) in replies.into_iter().zip(results) {
                            let _ = reply.send(Ok(result));
                        }
                    }
                    Err(e) => {
                        let message = e.to_string();
                        let storage = e.is_storage_fault();
                        if storage {
                            tracing::warn!(error = %e, "intake: the case store refuses writes");
                            health.store_failed(message.clone());
                        }
                        for reply in replies {
                            let _ = reply.send(Err((message.clone(), storage)));
                        }
                    }
                }
            }
        });
        Writer { tx }
    }

    async fn write(&self, case: NewCase) -> Result<Intake> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((case, reply))
            .await
            .map_err(|_| GatewayError::Internal("intake writer stopped".into()))?;
        answer
            .await
            .map_err(|_| GatewayError::Internal("intake writer stopped".into()))?
            .map_err(|(e, storage)| {
                if storage {
                    GatewayError::Unavailable(e)
                } else {
                    GatewayError::Store(StoreError::Corrupt("cases", e))
                }
            })
    }
}

/// An order as submitted by an authenticated agency.
#[derive(Debug)]
pub struct Submission<'a> {
    /// The agency whose key signed the request.
    pub submitter: &'a str,
    /// The officer who submitted it through the portal, if one did.
    pub officer: Option<&'a writ_store::OfficerRow>,
    /// The request body, exactly as received.
    pub body: &'a [u8],
}

/// The answer to a submission: `{"case": ID, "decision": DECISION}`.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Submitted {
    pub case: String,
    pub decision: Decision,
    /// False when the same order had been submitted before (HTTP 200, not 201).
    #[serde(skip)]
    pub created: bool,
}

/// A case as an agency sees it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CaseView {
    pub case: String,
    pub reference: String,
    pub status: CaseStatus,
    pub received_at: Timestamp,
    pub decision: Decision,
    /// For an emergency request: how long it has waited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emergency_clock: Option<EmergencyClock>,
    /// What a reviewer should look at first: `challenge_gag` (a secrecy
    /// order without end or longer than policy allows, to be challenged
    /// in court), `emergency_unverified`, `new_requester`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "schema", schemars(default))]
    pub flags: Vec<&'static str>,
}

/// The review flags a decision raises, by their API names: derived from the
/// one flag rule (`read::flags`), from the decision alone.
pub fn flags(decision: &Decision) -> Vec<&'static str> {
    let mut out = Vec::new();
    for f in crate::read::flags(decision, None, Timestamp::now()) {
        let name = match f {
            Flag::IndefiniteGag | Flag::LongGag => "challenge_gag",
            Flag::UnverifiedEmergency => ReasonCode::EMERGENCY_UNVERIFIED,
            Flag::NewRequester => ReasonCode::NEW_REQUESTER,
            Flag::DataAbroad | Flag::ConflictOfLaws => continue,
        };
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// The clock of an emergency request, from receipt to the recorded callback
/// (or to now while none is recorded).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EmergencyClock {
    pub received_at: Timestamp,
    /// When staff recorded the callback.
    pub verified_at: Option<Timestamp>,
    /// Seconds from receipt to the callback, or to now.
    pub waited_seconds: i64,
    pub due_at: Timestamp,
}

impl CaseView {
    pub fn of(case: &Case) -> Result<Self> {
        let received_at = case.received_at;
        let emergency_clock = case.order.emergency.as_ref().map(|e| {
            let verified_at = e.callback.as_ref().and_then(|c| c.verified_at);
            let until = verified_at.unwrap_or_else(Timestamp::now);
            EmergencyClock {
                received_at,
                verified_at,
                waited_seconds: until.as_second() - received_at.as_second(),
                due_at: case.decision.due_at,
            }
        });
        Ok(CaseView {
            case: case.id.clone(),
            reference: case.reference.clone(),
            status: case.status,
            received_at,
            flags: flags(&case.decision),
            decision: case.decision.clone(),
            emergency_clock,
        })
    }
}

/// A fresh public case id: 64 random bits.
fn new_case_id() -> Result<String> {
    Ok(format!("c-{}", hex::encode(random_bytes::<8>()?)))
}

impl Gateway {
    /// Takes in an order: checks it, decides it, stores it with its
    /// `received` and `decided` events, and answers once all is durable.
    ///
    /// The same `reference` from the same agency with the same canonical
    /// content gets the stored answer again; with other content, a conflict.
    #[tracing::instrument(name = "submit", skip_all, fields(submitter = %s.submitter, case))]
    pub async fn submit(&self, s: Submission<'_>) -> Result<Submitted> {
        let order = parse::order(s.body)?;
        if order
            .emergency
            .as_ref()
            .is_some_and(|e| e.callback.is_some())
        {
            // The callback is the provider's record, never the agency's word.
            return Err(InputError {
                file: String::new(),
                path: "emergency.callback".into(),
                message: "the callback is recorded by the provider's staff, not sent by the agency"
                    .into(),
            }
            .into());
        }
        if order.transcription.is_some() {
            return Err(InputError::at(
                "transcription",
                "a transcription is recorded by the provider's staff, not sent by the agency",
            )
            .into());
        }
        if let Some(o) = s.officer
            && (o.agency_id != s.submitter || o.removed_at.is_some())
        {
            return Err(GatewayError::Forbidden(
                "the officer does not act for this agency".into(),
            ));
        }
        self.admit(s.submitter, s.officer, order, s.body).await
    }

    /// Records an order that arrived by `channel` (paper, e-mail, fax, in
    /// person) and that `user` transcribed, for registry entry `agency`: it
    /// goes through the same intake as a signed one, with that agency as
    /// its submitter (the country its figures count under), and the
    /// decision holds every release until another person verifies the
    /// channel ([`crate::Action::ChannelCheck`]).
    #[tracing::instrument(name = "record", skip_all, fields(agency = %agency, case))]
    pub async fn record_order(
        &self,
        user: &crate::auth::User,
        agency: &str,
        channel: writ_model::order::Channel,
        order_json: &[u8],
    ) -> Result<Submitted> {
        crate::lifecycle::may_review(user)?;
        if self.agency_row(agency).await?.is_none() {
            return Err(GatewayError::NotFound(format!(
                "agency `{agency}` in the registry"
            )));
        }
        let mut order = parse::order(order_json)?;
        if order
            .emergency
            .as_ref()
            .is_some_and(|e| e.callback.is_some())
        {
            return Err(InputError::at(
                "emergency.callback",
                "record the callback on the case once the order is recorded",
            )
            .into());
        }
        order.transcription = Some(writ_model::order::Transcription {
            channel,
            transcribed_by: user.name.clone(),
            transcribed_at: crate::stored_now(),
            check: None,
        });
        let body = serde_json::to_vec(&order)?;
        self.admit(agency, None, order, &body).await
    }

    /// The id of the case whose order `order` corrects: one of the
    /// submitter's own cases, with the reference `reference`
    /// (`docs/legal-rules.md`, "Clarification"). A European order is
    /// corrected only by the issuing authority's corrected certificate:
    /// the same instrument, issued by the same authority.
    async fn corrected_case(
        &self,
        submitter: &str,
        order: &Order,
        reference: &writ_model::Name,
    ) -> Result<String> {
        let Some(row) = self
            .store()
            .case_by_reference(submitter, reference.as_str())
            .await?
        else {
            return Err(GatewayError::ConflictAt(InputError::at(
                "corrects",
                format!("no earlier order of yours has the reference `{reference}`"),
            )));
        };
        let old: Order = serde_json::from_str(&row.order_json)?;
        let european = matches!(
            old.instrument,
            writ_model::Instrument::Epoc | writ_model::Instrument::EpocPr
        );
        if european && (order.instrument != old.instrument || order.issued_by != old.issued_by) {
            return Err(GatewayError::ConflictAt(InputError::at(
                "corrects",
                format!(
                    "`{reference}` is a European order: only the issuing authority's corrected certificate corrects it, an `{}` issued by the same authority (Regulation (EU) 2023/1543 Art. 10(5))",
                    old.instrument
                ),
            )));
        }
        Ok(row.id)
    }

    /// Decides and stores an order from `submitter` (`body`: its bytes as
    /// received, or as staff recorded it).
    async fn admit(
        &self,
        submitter: &str,
        officer: Option<&writ_store::OfficerRow>,
        order: Order,
        body: &[u8],
    ) -> Result<Submitted> {
        let s = Submission {
            submitter,
            officer,
            body,
        };
        // Whether the reference is taken is settled when the case is written.
        let canonical_sha256 = canonical::sha256_hex(canonical::of(&order)?.as_bytes());
        let corrects = match &order.corrects {
            Some(reference) => Some(self.corrected_case(s.submitter, &order, reference).await?),
            None => None,
        };

        // The case store keeps instants to the second: decide with the
        // `now` it will keep, so that every re-decision judges the same
        // instant.
        let now = crate::stored_now();
        let input = self.decision_input(s.submitter, &order, now).await?;
        let decision = self.engine().decide(&input);
        // Figures are counted under the authenticated signer's country,
        // never the one the order claims.
        let country = input
            .agencies
            .iter()
            .find(|a| a.id.as_str() == s.submitter)
            .map(|a| a.country.as_str().to_owned());
        let case_id = new_case_id()?;
        let order_sha256 = canonical::sha256_hex(s.body);
        let ctx = CaseContext {
            case_id: &case_id,
            order: &order,
            order_sha256: &order_sha256,
            submitter: s.submitter,
            country: country.as_deref(),
        };
        let defer = events::deferred(&order, &decision, now);
        let mut evs = vec![
            events::received(
                &ctx,
                s.officer.map(crate::officers::officer_label),
                now,
                defer,
            )?,
            events::decided(
                &ctx,
                &decision,
                Some(resolved_figures(&input, country.as_deref())),
                now,
                defer,
            )?,
        ];
        let holds = holds_for(&case_id, &order, &decision, &input.prior);
        if let Some(h) = holds.first()
            && let Some(until) = decision.preserve_until
        {
            let accounts: Vec<String> = serde_json::from_str(&h.accounts)?;
            evs.push(events::preserved(
                &ctx,
                accounts.len(),
                Some(until),
                now <= decision.due_at,
                now,
                defer,
            )?);
        }
        let status = decision.status_after();
        let row = CaseRow {
            id: case_id.clone(),
            agency_id: s.submitter.to_owned(),
            reference: order.reference.as_str().to_owned(),
            order_json: serde_json::to_string(&order)?,
            order_sha256,
            canonical_sha256: canonical_sha256.clone(),
            instrument: order.instrument.as_str().to_owned(),
            emergency: i64::from(order.emergency.is_some()),
            status: status.as_str().to_owned(),
            outcome: decision.outcome.as_str().to_owned(),
            decision: serde_json::to_string(&decision)?,
            decided_now: epoch(now),
            due_at: epoch(decision.due_at),
            version: 1,
            created_at: epoch(now),
            updated_at: epoch(now),
        };
        let written = self
            .inner
            .intake
            .write(NewCase {
                case: row,
                events: evs,
                holds,
                corrects,
                officer: s.officer.map(|o| o.id.clone()),
            })
            .await?;
        match written {
            Intake::Stored => {
                self.events_written();
                tracing::Span::current().record("case", case_id.as_str());
                tracing::info!(outcome = %decision.outcome, "order received and decided");
                Ok(Submitted {
                    case: case_id,
                    decision,
                    created: true,
                })
            }
            // Another request with the same reference won the race.
            Intake::Existing(existing) => same_or_conflict(&existing, &canonical_sha256),
        }
    }

    /// Everything the engine needs: the registry entries of the order's
    /// agency and of the submitter, the accounts its targets name, and the
    /// holds the agency placed before.
    pub(crate) async fn decision_input(
        &self,
        submitter: &str,
        order: &Order,
        now: Timestamp,
    ) -> Result<DecisionInput> {
        let store = self.store();
        let agencies = self.order_agencies(submitter, order).await?;
        let mut accounts: Vec<Account> = Vec::new();
        for t in &order.targets {
            if !t.kind.is_particular() {
                continue;
            }
            let (kind, value) = t.match_key();
            if let Some(body) = self.account_body(kind.as_str(), &value).await? {
                let account: Account = serde_json::from_str(&body)?;
                if !accounts.iter().any(|a| a.id == account.id) {
                    accounts.push(account);
                }
            }
        }
        // Earlier holds matter only to a renewal (`docs/legal-rules.md`).
        let mut prior = Vec::new();
        let holds = match order.renews {
            Some(_) => store.holds_for_agency(order.agency.as_str()).await?,
            None => Vec::new(),
        };
        for h in holds {
            prior.push(PriorHold {
                reference: writ_model::Name::parse(h.reference.clone())
                    .ok_or_else(|| GatewayError::Internal("empty hold reference".into()))?,
                agency: order.agency.clone(),
                instrument: serde_json::from_value(Value::String(h.instrument.clone()))?,
                preserve_until: from_epoch(h.preserve_until)?,
                renewals: u32::try_from(h.renewals).unwrap_or(u32::MAX),
            });
        }
        Ok(DecisionInput {
            now,
            submitted_by: Some(submitter.to_owned()),
            agencies,
            accounts,
            prior,
            order: order.clone(),
        })
    }

    /// The registry entries of the order's agency and of the submitter.
    pub(crate) async fn order_agencies(
        &self,
        submitter: &str,
        order: &Order,
    ) -> Result<Vec<Agency>> {
        let mut agencies = Vec::with_capacity(2);
        for id in [order.agency.as_str(), submitter] {
            if agencies.iter().any(|a: &Agency| a.id.as_str() == id) {
                continue;
            }
            if let Some(row) = self.agency_row(id).await? {
                agencies.push(crate::registry::agency_of_row(&row)?);
            }
        }
        Ok(agencies)
    }

    /// Whether a new event of a case is held back: the case is still secret,
    /// or earlier events of it are still waiting for their batch (a case's
    /// entries appear in the order they happened).
    pub(crate) async fn defer_for(
        &self,
        case_id: &str,
        order: &Order,
        decision: &Decision,
    ) -> Result<bool> {
        Ok(events::deferred(order, decision, Timestamp::now())
            || self.store().has_deferred(case_id).await?)
    }

    /// The country of the agency whose key signed an order: the country a
    /// case is counted under, whatever the order claims.
    pub(crate) async fn signer_country(&self, signer: &str) -> Result<Option<String>> {
        Ok(self.agency_row(signer).await?.map(|a| a.country))
    }

    /// One of the agency's own cases; another agency's case is "not found".
    pub async fn agency_case(&self, agency: &str, case_id: &str) -> Result<CaseView> {
        match self.store().load_case(case_id).await? {
            Some(case) if case.signer == agency => CaseView::of(&case),
            _ => Err(GatewayError::NotFound(format!("case `{case_id}`"))),
        }
    }

    pub async fn agency_cases(&self, agency: &str, limit: i64) -> Result<Vec<CaseView>> {
        self.store()
            .agency_cases(agency, limit)
            .await?
            .iter()
            .map(CaseView::of)
            .collect()
    }

    /// The agency withdraws its order; a case that has ended cannot be.
    pub async fn withdraw(&self, agency: &str, case_id: &str) -> Result<CaseView> {
        self.change(Actor::Agency(agency), case_id, Action::Withdraw)
            .await?;
        self.agency_case(agency, case_id).await
    }

    /// Whether an agency may be served now (packages, portal sessions):
    /// only a `verified` registry entry. A suspended or pending agency's
    /// orders are still recorded and refused by the policy. Read from the
    /// case store, not the cache, so that a suspension recorded by any
    /// server takes effect at the next request.
    pub async fn agency_may_be_served(&self, agency: &str) -> Result<bool> {
        Ok(self
            .store()
            .agency(agency)
            .await?
            .is_some_and(|a| AgencyStatus::parse(&a.status) == Some(AgencyStatus::Verified)))
    }
}

pub(crate) fn conflict(e: StoreError) -> GatewayError {
    match e {
        StoreError::Conflict(id) => {
            GatewayError::Conflict(format!("case `{id}` changed meanwhile; try again"))
        }
        other => other.into(),
    }
}

fn same_or_conflict(existing: &CaseRow, canonical_sha256: &str) -> Result<Submitted> {
    if existing.canonical_sha256 == canonical_sha256 {
        Ok(Submitted {
            case: existing.id.clone(),
            decision: serde_json::from_str(&existing.decision)?,
            created: false,
        })
    } else {
        Err(GatewayError::Conflict(format!(
            "reference `{}` was already used for a different order (case `{}`)",
            existing.reference, existing.id
        )))
    }
}

/// The hold a preservation decision places (or renews).
fn holds_for(
    case_id: &str,
    order: &Order,
    decision: &Decision,
    prior: &[PriorHold],
) -> Vec<HoldRow> {
    let Some(until) = decision.preserve_until else {
        return Vec::new();
    };
    let mut accounts: Vec<String> = decision
        .decisions
        .iter()
        .filter(|p| p.status == Status::Preserve)
        .filter_map(|p| p.account.clone())
        .collect();
    accounts.sort();
    accounts.dedup();
    if accounts.is_empty() {
        return Vec::new();
    }
    let (reference, renewals) = match order.renews.as_ref().and_then(|r| {
        prior
            .iter()
            .find(|h| h.reference.as_str() == r.as_str())
            .map(|h| (r.as_str().to_owned(), i64::from(h.renewals) + 1))
    }) {
        Some(x) => x,
        None => (order.reference.as_str().to_owned(), 0),
    };
    vec![HoldRow {
        agency_id: order.agency.as_str().to_owned(),
        reference,
        case_id: case_id.to_owned(),
        instrument: order.instrument.as_str().to_owned(),
        accounts: serde_json::to_string(&accounts).unwrap_or_else(|_| "[]".into()),
        preserve_until: epoch(until),
        renewals,
    }]
}
