//! User notice (`docs/product.md`, lifecycle step 8; `docs/legal-rules.md`, section L).
//!
//! A case whose data went out is checked on every delivery pass: once its
//! decision's `notify` allows it (`on_disclosure`; `after` once `at` has
//! passed; `withheld` for an emergency once staff recorded that it is over)
//! and every event of the case is in the log, each user whose account was
//! disclosed gets one notice, through every configured channel: a file in
//! the demo outbox, e-mail over SMTP and a signed webhook (Standard Webhooks).
//!
//! The clock is the case store, not memory: a secrecy order that lapsed
//! while the server was down is noticed on the first pass after a restart.
//! A notice is claimed (`sending`) before it is sent and marked `sent` with
//! its `notified` event after; a crash in between sends it again with the
//! same id (the e-mail's `Message-ID`, the webhook's `webhook-id`), which
//! receivers use to drop the repeat.
//!
//! Each notice carries a receipt: the case id, the log indexes of the case's
//! events, and the openings (salt and details) of the commitments about that
//! user's targets, with which `writ receipt verify` checks the public log.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;
use tracing::Instrument as _;
use writ_events::{Private, Salt};
use writ_model::{Category, Decision, EventState, Instrument, NoticeState, NotifyWhen, Timestamp};
use writ_store::{Case, EventRow};

use crate::events::{self, CaseContext};
use crate::{Gateway, GatewayError, Result, epoch, random_bytes};

/// Where notices go.
#[derive(Clone, Debug, Default)]
pub struct NoticeConfig {
    /// One `.eml` file per notice (the demo's outbox).
    pub outbox: Option<PathBuf>,
    pub smtp: Option<SmtpConfig>,
    pub webhook: Option<WebhookConfig>,
    /// Who the notices are from, as users see it.
    pub provider: String,
    /// The public log prefix (`https://…/log`) a receipt is checked against.
    pub log_url: String,
    /// The log's verifier key.
    pub vkey: String,
    /// The log itself: each receipt then carries the checkpoint and the
    /// inclusion proofs of its entries (c2sp.org/tlog-proof), so that the
    /// user can check it without reaching the server.
    pub log: Option<writ_tlog::Log>,
    /// How long a notice waits for a checkpoint cosigned by the log's
    /// witnesses that covers its entries, before it goes out with the
    /// provider-signed one (its receipt says which); default one hour.
    pub witness_wait: Option<std::time::Duration>,
}

/// How long a notice waits for a cosigned checkpoint by default.
pub const WITNESS_WAIT: std::time::Duration = std::time::Duration::from_secs(3600);

/// How many attempts a notice gets before it is `dead`: with the delays
/// of [`retry_delay`], about five hours of trying.
pub const NOTICE_ATTEMPTS: i64 = 12;

/// The wait after the `attempts`-th failed attempt at a notice: 30 seconds
/// after the first, doubling with each one, at most an hour.
pub fn retry_delay(attempts: i64) -> i64 {
    const FIRST: i64 = 30;
    const CAP: i64 = 3600;
    let doublings = attempts.saturating_sub(1).clamp(0, 20) as u32;
    FIRST.saturating_mul(1 << doublings).min(CAP)
}

#[derive(Clone, Debug)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    /// The sender address.
    pub from: String,
}

impl SmtpConfig {
    /// Reads `smtp://host:port`.
    pub fn parse(url: &str, from: &str) -> Option<Self> {
        let rest = url.strip_prefix("smtp://")?;
        let (host, port) = match rest.trim_end_matches('/').rsplit_once(':') {
            Some((h, p)) => (h, p.parse().ok()?),
            None => (rest.trim_end_matches('/'), 25),
        };
        Some(Self {
            host: host.to_owned(),
            port,
            from: from.to_owned(),
        })
    }
}

#[derive(Clone, Debug)]
pub struct WebhookConfig {
    pub url: String,
    /// The signing secret's bytes (`whsec_<base64>` in configuration).
    pub secret: Vec<u8>,
}

impl WebhookConfig {
    /// `secret` as Standard Webhooks writes it: `whsec_` and base64.
    pub fn new(url: &str, secret: &str) -> Option<Self> {
        let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
        let secret = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
        Some(Self {
            url: url.to_owned(),
            secret,
        })
    }
}

/// The signature header of a webhook: `v1,` and base64 of
/// HMAC-SHA256(secret, `{id}.{timestamp}.{body}`).
pub fn webhook_signature(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).ok()?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// What a user can check the public log with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub v: u32,
    pub case: String,
    /// The account the receipt is about.
    pub account: String,
    pub entries: Vec<ReceiptEntry>,
    /// Whether the checkpoint the proofs are against carries a quorum of
    /// witness cosignatures (`true`) or only the provider's signature
    /// (`false`: the witnesses did not cosign one in time); absent when
    /// the receipt carries no proofs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witnessed: Option<bool>,
    /// One c2sp.org/tlog-proof per entry, all against one checkpoint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub proofs: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptEntry {
    /// The entry's index in the log.
    pub index: u64,
    pub kind: String,
    pub openings: Vec<Opening>,
}

/// One opened commitment: SHA-256(salt || canonical JSON of details) is the
/// entry's `commitments[commitment]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Opening {
    pub commitment: usize,
    /// Lowercase hex in the receipt.
    pub salt: Salt,
    pub details: Value,
}

impl Opening {
    /// The event model's opening, which checks itself against the entry's
    /// commitment.
    pub fn opening(&self) -> writ_events::Opening {
        writ_events::Opening::new(self.salt.clone(), self.details.clone())
    }
}

/// Whether a case's `notify` lets notice go out now.
pub fn notice_due(decision: &Decision, emergency_over: bool, now: Timestamp) -> bool {
    match decision.notify.when {
        NotifyWhen::OnDisclosure => true,
        NotifyWhen::After => decision.notify.at.is_some_and(|at| at <= now),
        NotifyWhen::Withheld => emergency_over,
        NotifyWhen::IssuingAuthority | NotifyWhen::None => false,
    }
}

/// One user's notice, ready to send.
struct Letter {
    account: String,
    email: Option<String>,
    text: String,
    subject: String,
    receipt: Receipt,
}

fn emergency_over(events: &[EventRow]) -> bool {
    events.iter().any(|e| {
        e.kind == "reviewed"
            && serde_json::from_str::<Value>(&e.private)
                .ok()
                .is_some_and(|p| p["details"][0]["action"] == "emergency_over")
    })
}

impl Gateway {
    /// Sends the notices that are due; returns how many releases were
    /// notified. Every release (package generation) that reached users
    /// gets its own notice naming what that package holds: a later package
    /// holds everything released before it, so a notice never understates
    /// what went out, whichever releases came before it.
    pub(crate) async fn notify_due(&self, config: &NoticeConfig, now: Timestamp) -> Result<usize> {
        let mut done = 0;
        for (case_id, generation) in self.store().releases_to_notify(epoch(now), 64).await? {
            let Some(case) = self.store().load_case(&case_id).await? else {
                continue;
            };
            let mut events = self.store().events_for_case(&case.id).await?;
            // A released deferred event lives on as a new row; the old one
            // never gets an index.
            events.retain(|e| e.state != EventState::Released.as_str());
            if !notice_due(&case.decision, emergency_over(&events), now) {
                continue;
            }
            if events.iter().any(|e| e.log_index.is_none()) {
                // The receipt needs every index. Secret entries whose
                // secrecy has passed are released now rather than at the
                // publisher's next sweep.
                if events
                    .iter()
                    .any(|e| e.state == EventState::Deferred.as_str())
                    && !events::deferred(&case.order, &case.decision, now)
                {
                    self.release_deferred(now).await?;
                }
                continue;
            }
            let span = tracing::info_span!("case", case = %case.id);
            match self
                .notify_release(config, &case, generation, &events, now)
                .instrument(span)
                .await
            {
                Ok(()) => done += 1,
                Err(e) => self.notice_failed(&case.id, generation, &e, now).await?,
            }
        }
        Ok(done)
    }

    /// Records a failed attempt at a claimed notice: tried again after
    /// [`retry_delay`], or `dead` after [`NOTICE_ATTEMPTS`] attempts.
    async fn notice_failed(
        &self,
        case_id: &str,
        generation: i64,
        error: &GatewayError,
        now: Timestamp,
    ) -> Result<()> {
        let attempts = self
            .store()
            .notices(case_id)
            .await?
            .into_iter()
            .find(|n| n.generation == generation)
            .map_or(0, |n| n.attempts);
        let retry_at = (attempts < NOTICE_ATTEMPTS).then(|| epoch(now) + retry_delay(attempts));
        match retry_at {
            Some(at) => tracing::warn!(
                case = case_id,
                generation,
                attempts,
                retry_at = at,
                "notice not sent: {error}"
            ),
            None => tracing::error!(
                case = case_id,
                generation,
                attempts,
                "notice not sent and given up until staff retry it: {error}"
            ),
        }
        self.store()
            .notice_failed(case_id, generation, &error.to_string(), retry_at)
            .await?;
        Ok(())
    }

    /// Puts a case's `dead` notices back in line, to be tried at the next
    /// delivery pass; how many there were. Reviewers and approvers only.
    pub async fn retry_notices(&self, user: &crate::auth::User, case_id: &str) -> Result<u64> {
        crate::lifecycle::may_review(user)?;
        self.case(case_id).await?;
        let n = self.store().retry_notices(case_id).await?;
        if n > 0 {
            tracing::info!(case = case_id, notices = n, "dead notices put back in line");
            self.events_written();
        }
        Ok(n)
    }

    async fn notify_release(
        &self,
        config: &NoticeConfig,
        case: &Case,
        generation: i64,
        events: &[EventRow],
        now: Timestamp,
    ) -> Result<()> {
        let Some(package) = self.store().package(&case.id).await? else {
            return Ok(());
        };
        if package.generation != generation {
            // A newer package replaced it meanwhile; its own notice covers
            // this one's pairs too.
            return Ok(());
        }
        // The checkpoint every receipt of this notice is proven against:
        // a cosigned one when the log has witnesses and they cosign one
        // covering the entries in time; else, after the wait, the
        // provider-signed one.
        let proven = match &config.log {
            None => None,
            Some(log) => {
                let last = events
                    .iter()
                    .filter_map(|e| e.log_index.and_then(|i| u64::try_from(i).ok()))
                    .max()
                    .unwrap_or(0);
                let waited = epoch(now) - package.available_at;
                let wait = config.witness_wait.unwrap_or(WITNESS_WAIT).as_secs() as i64;
                match checkpoint_for(log, last, waited >= wait) {
                    Some(c) => Some(c),
                    // Not yet: the next pass looks again.
                    None => return Ok(()),
                }
            }
        };
        let released: Vec<(String, String)> = serde_json::from_str(&package.pairs)?;
        let mut by_account: BTreeMap<String, BTreeSet<Category>> = BTreeMap::new();
        for (account, category) in released {
            let category = Category::parse(&category).ok_or_else(|| {
                GatewayError::Internal(format!("package of `{}`: category `{category}`", case.id))
            })?;
            by_account.entry(account).or_default().insert(category);
        }
        // The requester is the agency whose key signed the order, as the
        // registry names it; never what the order claims.
        let agency = self.store().agency(&case.signer).await?;
        let authority = agency.as_ref().map_or(case.signer.clone(), |a| {
            format!("{} ({})", a.name, a.country)
        });
        let basis = agency_text(&case.order.legal_basis, LEGAL_BASIS_CHARS);
        let notices = self.store().notices(&case.id).await?;
        let earlier = notices
            .iter()
            .filter(|n| n.generation < generation && n.state == NoticeState::Sent)
            .count();
        let mut letters = Vec::new();
        for (account, categories) in &by_account {
            let email = self.account_email(account).await?;
            let mut receipt = receipt(case, events, account)?;
            if let (Some(log), Some((note, witnessed))) = (&config.log, &proven) {
                receipt.proofs = proofs(log, note, &receipt).await?;
                receipt.witnessed = Some(*witnessed);
            }
            let range = case.order.date_range.map_or("all dates".to_owned(), |r| {
                format!("from {} to {}", r.from, r.to)
            });
            let indexes: Vec<String> = receipt
                .entries
                .iter()
                .map(|e| e.index.to_string())
                .collect();
            let subject = format!("{}: your account data was disclosed", config.provider);
            let words: Vec<&str> = categories.iter().map(|c| category_words(*c)).collect();
            let again = if earlier > 0 {
                "This notice is about a further release under a demand we told you about \
                 before; it lists everything released so far.\n\n"
            } else {
                ""
            };
            let text = format!(
                "{provider} received a legal demand for data about your account and \
                 disclosed data under it.\n\n\
                 {again}\
                 Authority: {authority}\n\
                 Instrument: {instrument}\n\
                 Legal basis, as stated by the authority: {basis}\n\
                 Data disclosed: {cats}; {range}\n\n\
                 Case {case}; public log entries {indexes}.\n\
                 The attached receipt.json opens the log's commitments about your account. \
                 Check it against the public log with:\n\n  \
                 writ receipt verify receipt.json --url {log} --vkey '{vkey}'\n",
                provider = config.provider,
                instrument = instrument_words(case.order.instrument),
                cats = words.join(", "),
                case = case.id,
                indexes = indexes.join(", "),
                log = config.log_url,
                vkey = config.vkey,
            );
            letters.push(Letter {
                account: account.clone(),
                email,
                text,
                subject,
                receipt,
            });
        }

        // Claim, send, then record.
        let notice_id = match notices.into_iter().find(|n| n.generation == generation) {
            Some(existing) => existing.notice_id,
            None => format!("n-{}", hex::encode(random_bytes::<12>()?)),
        };
        let summary = json!({
            "package": generation,
            "accounts": by_account
                .iter()
                .map(|(a, cats)| json!({"account": a, "categories": cats}))
                .collect::<Vec<_>>(),
        });
        self.store()
            .claim_notice(
                &case.id,
                generation,
                &notice_id,
                &summary.to_string(),
                epoch(now),
            )
            .await?;
        let config = config.clone();
        let id = notice_id.clone();
        let case_id = case.id.clone();
        let letters = tokio::task::spawn_blocking(move || -> Result<Vec<Letter>> {
            for letter in &letters {
                send(&config, &id, &case_id, letter)?;
            }
            Ok(letters)
        })
        .await
        .map_err(|e| GatewayError::Internal(format!("notice task: {e}")))??;

        let country = self.signer_country(&case.signer).await?;
        let ctx = CaseContext {
            case_id: &case.id,
            order: &case.order,
            order_sha256: &case.order_sha256,
            submitter: &case.signer,
            country: country.as_deref(),
        };
        let defer = self
            .defer_for(&case.id, &case.order, &case.decision)
            .await?;
        let event = events::notified(&ctx, letters.len(), &notice_id, now, defer)?;
        self.store()
            .mark_notice_sent(&case.id, generation, epoch(Timestamp::now()), &[event])
            .await?;
        Ok(())
    }

    async fn account_email(&self, account: &str) -> Result<Option<String>> {
        let Some(body) = self
            .store()
            .account_by_identifier("account_id", account)
            .await?
        else {
            return Ok(None);
        };
        let a: writ_model::Account = serde_json::from_str(&body)?;
        Ok(a.identifiers
            .iter()
            .find(|i| i.kind.as_str() == "email")
            .map(|i| i.value.clone()))
    }
}

/// The receipt for `account`: every logged event of the case, with the
/// openings of the commitments about the targets that resolve to it.
fn receipt(case: &Case, events: &[EventRow], account: &str) -> Result<Receipt> {
    let labels: BTreeSet<&str> = case
        .decision
        .decisions
        .iter()
        .filter(|p| p.account.as_deref() == Some(account))
        .map(|p| p.target.as_str())
        .collect();
    let positions: Vec<usize> = case
        .order
        .targets
        .iter()
        .enumerate()
        .filter(|(_, t)| labels.contains(t.label().as_str()))
        .map(|(i, _)| i + 1)
        .collect();
    let mut entries = Vec::new();
    for e in events {
        let Some(index) = e.log_index.and_then(|i| u64::try_from(i).ok()) else {
            continue;
        };
        let private = Private::parse(&e.private)?;
        let openings = positions
            .iter()
            .filter_map(|&k| {
                let o = private.opening(k)?;
                Some(Opening {
                    commitment: k,
                    salt: o.salt,
                    details: o.details,
                })
            })
            .collect();
        entries.push(ReceiptEntry {
            index,
            kind: e.kind.clone(),
            openings,
        });
    }
    Ok(Receipt {
        v: 1,
        case: case.id.clone(),
        account: account.to_owned(),
        entries,
        witnessed: None,
        proofs: Vec::new(),
    })
}

/// The signed checkpoint a notice whose last entry is `last` is proven
/// against, and whether it is cosigned by a quorum of witnesses: the
/// newest cosigned checkpoint that covers `last`; without witnesses, or
/// once `gave_up` (the notice waited its bound), the provider-signed one if
/// it covers `last`. `None`: wait.
fn checkpoint_for(log: &writ_tlog::Log, last: u64, gave_up: bool) -> Option<(String, bool)> {
    let published = log.checkpoint();
    match log.witnessing() {
        Some(w) => match w.cosigned {
            Some(c) if c.checkpoint.size > last => Some((c.note, true)),
            _ if gave_up && published.checkpoint.size > last => Some((published.note, false)),
            _ => None,
        },
        None => (published.checkpoint.size > last).then_some((published.note, false)),
    }
}

/// The c2sp.org/tlog-proof of each of the receipt's entries against the
/// checkpoint `note`, read from the log's own objects.
async fn proofs(log: &writ_tlog::Log, note: &str, receipt: &Receipt) -> Result<Vec<String>> {
    struct LogFetch {
        log: writ_tlog::Log,
        runtime: tokio::runtime::Handle,
    }
    impl writ_tlog::verify::Fetch for LogFetch {
        fn fetch(&self, path: &str) -> std::result::Result<Option<Vec<u8>>, String> {
            self.runtime
                .block_on(self.log.read(path))
                .map_err(|e| e.to_string())
        }
    }
    let fetch = LogFetch {
        log: log.clone(),
        runtime: tokio::runtime::Handle::current(),
    };
    let indexes: Vec<u64> = receipt.entries.iter().map(|e| e.index).collect();
    let note = note.to_owned();
    tokio::task::spawn_blocking(move || -> Result<Vec<String>> {
        let vkey = fetch.log.vkey().clone();
        let (_, proven) = writ_tlog::verify::proven_entries_at(&fetch, &vkey, &note, &indexes)
            .map_err(|e| GatewayError::Internal(format!("proving the receipt's entries: {e}")))?;
        Ok(proven
            .into_iter()
            .map(|p| {
                writ_tlog::tlog_proof::TlogProof {
                    extra: Some(p.entry),
                    index: p.index,
                    proof: p.proof,
                    checkpoint: note.clone(),
                }
                .to_text()
            })
            .collect())
    })
    .await
    .map_err(|e| GatewayError::Internal(format!("proof task: {e}")))?
}

fn send(config: &NoticeConfig, notice_id: &str, case_id: &str, letter: &Letter) -> Result<()> {
    let receipt = serde_json::to_string_pretty(&letter.receipt)?;
    let message_id = format!("<{notice_id}.{}@writ>", letter.account);
    let to = letter
        .email
        .clone()
        .unwrap_or_else(|| format!("{}@invalid", letter.account));
    let message = || -> Result<lettre::Message> {
        use lettre::message::{Attachment, MultiPart, SinglePart, header::ContentType};
        let from = config
            .smtp
            .as_ref()
            .map_or("notices@writ.invalid", |s| s.from.as_str());
        lettre::Message::builder()
            .from(from.parse().map_err(|e| bad(format!("from: {e}")))?)
            .to(to.parse().map_err(|e| bad(format!("to `{to}`: {e}")))?)
            .subject(&letter.subject)
            .message_id(Some(message_id.clone()))
            .multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(letter.text.clone()))
                    .singlepart(Attachment::new("receipt.json".to_owned()).body(
                        receipt.clone(),
                        ContentType::parse("application/json").map_err(|e| bad(e.to_string()))?,
                    )),
            )
            .map_err(|e| bad(format!("message: {e}")))
    };
    if let Some(dir) = &config.outbox {
        std::fs::create_dir_all(dir).map_err(|e| bad(format!("outbox: {e}")))?;
        let path = dir.join(format!("{notice_id}-{}.eml", letter.account));
        let tmp = dir.join(format!(".{notice_id}-{}.eml.tmp", letter.account));
        std::fs::write(&tmp, message()?.formatted()).map_err(|e| bad(format!("outbox: {e}")))?;
        std::fs::rename(&tmp, &path).map_err(|e| bad(format!("outbox: {e}")))?;
    }
    if let (Some(smtp), Some(_)) = (&config.smtp, &letter.email) {
        use lettre::Transport;
        let transport = lettre::SmtpTransport::builder_dangerous(&smtp.host)
            .port(smtp.port)
            .timeout(Some(std::time::Duration::from_secs(30)))
            .build();
        transport
            .send(&message()?)
            .map_err(|e| bad(format!("smtp: {e}")))?;
    }
    if let Some(hook) = &config.webhook {
        let body = serde_json::to_vec(&json!({
            "type": "writ.notice",
            "timestamp": Timestamp::now(),
            "data": {
                "case": case_id,
                "account": letter.account,
                "email": letter.email,
                "subject": letter.subject,
                "text": letter.text,
                "receipt": letter.receipt,
            }
        }))?;
        let id = format!("{notice_id}.{}", letter.account);
        let ts = Timestamp::now().as_second();
        let signature = webhook_signature(&hook.secret, &id, ts, &body)
            .ok_or_else(|| bad("webhook secret".into()))?;
        let answer = ureq::post(&hook.url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", &ts.to_string())
            .header("webhook-signature", &signature)
            .send(&body[..])
            .map_err(|e| bad(format!("webhook: {e}")))?;
        if !answer.status().is_success() {
            return Err(bad(format!("webhook answered {}", answer.status())));
        }
    }
    Ok(())
}

fn bad(message: String) -> GatewayError {
    GatewayError::Internal(message)
}

/// The most characters of an agency's legal basis a notice repeats.
const LEGAL_BASIS_CHARS: usize = 160;

/// Text an agency wrote, made fit for a message that comes from the
/// provider: one line, at most `max` characters (marked when cut), and no
/// link, e-mail address or domain name, so that an order cannot put a
/// phishing paragraph into a provider's notice.
pub fn agency_text(text: &str, max: usize) -> String {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| {
            if looks_like_address(w) {
                "[address removed]".to_owned()
            } else {
                w.chars().filter(|c| !c.is_control()).collect()
            }
        })
        .collect();
    let line = words.join(" ");
    if line.chars().count() <= max {
        return line;
    }
    let cut: String = line.chars().take(max).collect();
    format!("{} [cut]", cut.trim_end())
}

/// A URL, an e-mail address or a domain name: something with a scheme, an
/// `@`, a `www.`, or a host-like word whose last dotted label has two or
/// more letters (`example.com`, `bit.ly/x`; not `U.S.C.` or `Art.10`).
fn looks_like_address(word: &str) -> bool {
    let w = word.trim_matches(|c: char| !c.is_alphanumeric());
    let lower = w.to_lowercase();
    if lower.contains("://") || lower.contains('@') || lower.starts_with("www") {
        return true;
    }
    let host = lower.split('/').next().unwrap_or_default();
    let labels: Vec<&str> = host
        .split(['.', '\u{2024}', '\u{ff0e}', '\u{3002}'])
        .collect();
    labels.len() >= 2
        && labels[..labels.len() - 1].iter().all(|l| !l.is_empty())
        && labels
            .last()
            .is_some_and(|l| l.chars().count() >= 2 && l.chars().all(char::is_alphabetic))
}

/// A category as a user reads it.
pub fn category_words(c: Category) -> &'static str {
    match c {
        Category::Subscriber => "subscriber information (name, contact details, account dates)",
        Category::Identification => "identification records (sign-in addresses and devices)",
        Category::Traffic => "traffic records (who you communicated with, and when)",
        Category::Location => "location records",
        Category::Content => "the content of your messages and files",
    }
}

/// An instrument as a user reads it.
pub fn instrument_words(i: Instrument) -> &'static str {
    match i {
        Instrument::Subpoena => "subpoena",
        Instrument::CourtOrder => "court order",
        Instrument::SearchWarrant => "search warrant",
        Instrument::NationalSecurityLetter => "national security letter",
        Instrument::EmergencyRequest => "emergency request",
        Instrument::PreservationRequest => "preservation request",
        Instrument::Epoc => "European Production Order",
        Instrument::EpocPr => "European Preservation Order",
        Instrument::UkOverseasOrder => "UK overseas production order",
        Instrument::TechnicalAssistance => "technical assistance request",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agency_text_drops_addresses_and_lines() {
        let t = agency_text(
            "18 U.S.C. 2703\nVerify at https://evil.example/login or mail help@evil.example, see evil.com",
            500,
        );
        assert!(!t.contains("evil"), "{t}");
        assert!(!t.contains('\n'));
        assert!(t.contains("U.S.C."), "statute abbreviations stay: {t}");
        let long = agency_text(&"a ".repeat(400), 20);
        assert!(
            long.ends_with("[cut]") && long.chars().count() <= 26,
            "{long}"
        );
    }
}
