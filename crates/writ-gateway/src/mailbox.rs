//! The legal-process mailbox (`writ serve --imap`; docs/http.md, "The
//! legal-process mailbox"): each message read from the mailbox becomes a
//! draft that staff transcribe into an order through the console's "Record
//! a received order", or dismiss.
//!
//! A message is read here as MIME ([`parse_mail`], pure): who sent it, its
//! subject, date and Message-ID, its plain text (at most [`MAX_BODY_BYTES`])
//! and its attachments, each with its media type read from its first bytes
//! ([`crate::drafts::document_type`]): only a PDF or an image may become an
//! order's document; the others are listed. [`Gateway::keep_mail`] stores
//! the attachments first (objects under `attachments/mailbox/<id>/<sha256>`)
//! and the row last, whose uniqueness makes a repeated fetch harmless.
//!
//! A mailbox draft is nobody's order: nothing in it is decided, logged or
//! counted until staff record the order from it, which holds it like any
//! transcribed order until someone else calls the agency back.

use serde::{Deserialize, Serialize};
use writ_model::Timestamp;
use writ_store::{MailAdded, MailRow};

use crate::attachments::MAX_BYTES;
use crate::auth::User;
use crate::drafts::{document_name, document_type};
use crate::lifecycle::may_review;
use crate::{Gateway, GatewayError, Result};

/// The most of a message's plain text that is kept, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The largest message read whole, in bytes: a 25 MiB document in base64
/// with room for the rest. A larger one is kept with its headers and a
/// note, for staff to read in the mailbox itself.
pub const MAX_MESSAGE_BYTES: u64 = 40 * 1024 * 1024;

/// At most this many attachments of a message are kept.
pub const MAX_ATTACHMENTS: usize = 50;

/// An attachment of a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailAttachment {
    pub name: String,
    /// Read from the bytes for a document; else as the message declares it.
    pub media_type: String,
    pub sha256: String,
    pub size: u64,
    /// A PDF or an image: it may be an order's document.
    pub document: bool,
    /// Its bytes are kept (false for one over [`MAX_BYTES`]).
    pub kept: bool,
}

/// A message read as MIME.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedMail {
    pub message_id: Option<String>,
    pub from: String,
    pub subject: String,
    pub date: Option<i64>,
    pub body: String,
    /// The attachments, with the bytes of those kept.
    pub attachments: Vec<(MailAttachment, Option<Vec<u8>>)>,
    /// What was not kept, and why.
    pub notes: Vec<String>,
}

/// One line of header text: no control characters, at most `max` characters.
fn line(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    clean.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` cut to at most `max` bytes, at a character boundary.
fn bounded(text: &str, max: usize) -> (&str, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], true)
}

/// Reads a message (its raw RFC 5322 bytes) as a mailbox draft. Never
/// fails: what cannot be read is said in the notes.
pub fn parse_mail(raw: &[u8]) -> ParsedMail {
    let Some(m) = mail_parser::MessageParser::default().parse(raw) else {
        return ParsedMail {
            notes: vec!["The message could not be read as e-mail; read it in the mailbox.".into()],
            ..ParsedMail::default()
        };
    };
    let from = m
        .from()
        .map(|a| {
            a.iter()
                .map(|x| match (x.name(), x.address()) {
                    (Some(n), Some(e)) => format!("{n} <{e}>"),
                    (None, Some(e)) => e.to_owned(),
                    (Some(n), None) => n.to_owned(),
                    (None, None) => String::new(),
                })
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let mut out = ParsedMail {
        message_id: m
            .message_id()
            .map(|id| line(id, 500))
            .filter(|id| !id.is_empty()),
        from: line(&from, 500),
        subject: line(m.subject().unwrap_or_default(), 500),
        date: m.date().map(|d| d.to_timestamp()),
        ..ParsedMail::default()
    };
    let body = m.body_text(0).unwrap_or_default();
    let (text, cut) = bounded(&body, MAX_BODY_BYTES);
    out.body = text.to_owned();
    if cut {
        out.notes.push(format!(
            "The text has {} bytes; only the first {} KiB are shown.",
            body.len(),
            MAX_BODY_BYTES / 1024
        ));
    }
    for (i, part) in m.attachments().enumerate() {
        use mail_parser::MimeHeaders as _;
        if i >= MAX_ATTACHMENTS {
            out.notes.push(format!(
                "The message has more than {MAX_ATTACHMENTS} attachments; only the first {MAX_ATTACHMENTS} are kept."
            ));
            break;
        }
        let bytes = part.contents();
        let name = match part.attachment_name() {
            Some(n) => document_name(n),
            None => format!("attachment-{}", i + 1),
        };
        let declared = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_owned(),
            })
            .map(|t| line(&t.to_ascii_lowercase(), 100))
            .unwrap_or_else(|| "application/octet-stream".into());
        let detected = document_type(bytes);
        let size = bytes.len() as u64;
        let kept = size <= MAX_BYTES;
        if !kept {
            out.notes.push(format!(
                "The attachment {name} has {size} bytes, more than the {MAX_BYTES} (25 MiB) a document may have: it is listed, not kept."
            ));
        }
        out.attachments.push((
            MailAttachment {
                name,
                media_type: detected.map(str::to_owned).unwrap_or(declared),
                sha256: crate::canonical::sha256_hex(bytes),
                size,
                document: detected.is_some() && kept && size > 0,
                kept,
            },
            kept.then(|| bytes.to_vec()),
        ));
    }
    out
}

/// A message as the console shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailView {
    pub id: String,
    pub message_id: Option<String>,
    pub from: String,
    pub subject: String,
    pub date: Option<Timestamp>,
    pub body: String,
    pub note: Option<String>,
    pub attachments: Vec<MailAttachment>,
    /// `new`, `transcribed` or `dismissed`.
    pub state: String,
    pub case: Option<String>,
    /// Who transcribed or dismissed it.
    pub by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub received_at: Timestamp,
}

impl MailView {
    fn of(r: MailRow) -> Result<Self> {
        Ok(Self {
            attachments: serde_json::from_str(&r.attachments)?,
            id: r.id,
            message_id: r.message_id,
            from: r.sender,
            subject: r.subject,
            date: r.sent_at.and_then(Timestamp::from_second),
            body: r.body,
            note: r.note,
            state: r.state,
            case: r.case_id,
            by: r.actor,
            decided_at: r.decided_at.and_then(Timestamp::from_second),
            received_at: Timestamp::from_second(r.received_at).ok_or_else(|| {
                GatewayError::Internal(format!("mailbox: received_at {}", r.received_at))
            })?,
        })
    }
}

/// The id of the draft of the message at (`uidvalidity`, `uid`): the same
/// for a repeated fetch, so that its objects are written again in place.
fn mail_id(uidvalidity: u32, uid: u32, message_id: Option<&str>) -> String {
    let h = crate::canonical::sha256_hex(
        format!("{uidvalidity}:{uid}:{}", message_id.unwrap_or_default()).as_bytes(),
    );
    format!("m{}", &h[..20])
}

fn object(id: &str, sha256: &str) -> String {
    format!("mailbox/{id}/{sha256}")
}

fn internal(e: writ_objects::StorageError) -> GatewayError {
    GatewayError::Internal(format!("mailbox: {e}"))
}

impl Gateway {
    /// The highest UID kept under `uidvalidity`.
    pub async fn mail_last_uid(&self, uidvalidity: u32) -> Result<Option<u32>> {
        Ok(self
            .store()
            .mail_last_uid(i64::from(uidvalidity))
            .await?
            .and_then(|u| u32::try_from(u).ok()))
    }

    /// Keeps the message at (`uidvalidity`, `uid`) as a mailbox draft:
    /// `raw` is the whole message, or only its headers when it has
    /// `oversize` bytes (more than [`MAX_MESSAGE_BYTES`]). Its attachments
    /// are stored first, the row last; a message kept before (at this
    /// address, or by its Message-ID) is not kept twice.
    pub async fn keep_mail(
        &self,
        uidvalidity: u32,
        uid: u32,
        raw: &[u8],
        oversize: Option<u64>,
    ) -> Result<MailAdded> {
        let mut mail = parse_mail(raw);
        if let Some(size) = oversize {
            mail.body.clear();
            mail.attachments.clear();
            mail.notes = vec![format!(
                "The message has {size} bytes, more than the {MAX_MESSAGE_BYTES} this server reads: only its headers are kept; read it in the mailbox itself."
            )];
        }
        let id = mail_id(uidvalidity, uid, mail.message_id.as_deref());
        let storage = self.attachment_storage()?;
        for (a, bytes) in &mail.attachments {
            if let Some(bytes) = bytes {
                storage
                    .put(object(&id, &a.sha256), bytes.clone())
                    .await
                    .map_err(internal)?;
            }
        }
        let listed: Vec<&MailAttachment> = mail.attachments.iter().map(|(a, _)| a).collect();
        let row = MailRow {
            id,
            uidvalidity: i64::from(uidvalidity),
            uid: i64::from(uid),
            message_id: mail.message_id,
            sender: mail.from,
            subject: mail.subject,
            sent_at: mail.date,
            body: mail.body,
            note: (!mail.notes.is_empty()).then(|| mail.notes.join(" ")),
            attachments: serde_json::to_string(&listed)?,
            state: "new".into(),
            case_id: None,
            actor: None,
            decided_at: None,
            received_at: crate::stored_now().as_second(),
        };
        Ok(self.store().add_mail(&row).await?)
    }

    /// The mailbox's drafts, newest first (reviewers and approvers).
    pub async fn mailbox(&self, user: &User) -> Result<Vec<MailView>> {
        may_review(user)?;
        self.store()
            .mail_list(1000)
            .await?
            .into_iter()
            .map(MailView::of)
            .collect()
    }

    /// One draft of the mailbox (reviewers and approvers).
    pub async fn mail(&self, user: &User, id: &str) -> Result<MailView> {
        may_review(user)?;
        let row = self
            .store()
            .mail(id)
            .await?
            .ok_or_else(|| GatewayError::NotFound(format!("message `{id}`")))?;
        MailView::of(row)
    }

    /// An attachment of a draft with its bytes, checked against its hash.
    pub async fn mail_attachment(
        &self,
        user: &User,
        id: &str,
        sha256: &str,
    ) -> Result<(MailAttachment, Vec<u8>)> {
        let mail = self.mail(user, id).await?;
        let a = mail
            .attachments
            .into_iter()
            .find(|a| a.sha256 == sha256 && a.kept)
            .ok_or_else(|| GatewayError::NotFound(format!("attachment `{sha256}`")))?;
        let bytes = self
            .attachment_storage()?
            .get(object(id, sha256))
            .await
            .map_err(internal)?
            .filter(|b| crate::canonical::sha256_hex(b) == a.sha256)
            .ok_or_else(|| GatewayError::NotFound(format!("attachment `{sha256}` (not kept)")))?;
        Ok((a, bytes))
    }

    /// Settles a `new` draft: transcribed into `case`, or dismissed
    /// (`None`), by `user`.
    pub async fn settle_mail(&self, user: &User, id: &str, case: Option<&str>) -> Result<()> {
        may_review(user)?;
        match self
            .store()
            .settle_mail(id, case, &user.name, crate::stored_now().as_second())
            .await
        {
            Ok(None) => Ok(()),
            Ok(Some(state)) => Err(GatewayError::Conflict(format!(
                "the message is {state} already"
            ))),
            Err(writ_store::StoreError::NotFound(..)) => {
                Err(GatewayError::NotFound(format!("message `{id}`")))
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    /// Each fixture `tests/mail/NAME.eml` is read as `tests/mail/NAME.json`
    /// says: the headers, the text, and per attachment its name, media
    /// type, size, whether it may be a document and whether it is kept.
    #[test]
    fn fixtures() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "eml") {
                continue;
            }
            let raw = std::fs::read(&path).unwrap();
            let want: serde_json::Value =
                serde_json::from_slice(&std::fs::read(path.with_extension("json")).unwrap())
                    .unwrap();
            let got = parse_mail(&raw);
            let what = path.display();
            assert_eq!(
                got.message_id.as_deref(),
                want["message_id"].as_str(),
                "{what}"
            );
            assert_eq!(got.from, want["from"].as_str().unwrap(), "{what}");
            assert_eq!(got.subject, want["subject"].as_str().unwrap(), "{what}");
            assert_eq!(got.date, want["date"].as_i64(), "{what}");
            assert!(
                got.body.contains(want["body_contains"].as_str().unwrap()),
                "{what}: {}",
                got.body
            );
            let attachments: Vec<serde_json::Value> = got
                .attachments
                .iter()
                .map(|(a, bytes)| {
                    if let Some(b) = bytes {
                        assert_eq!(crate::canonical::sha256_hex(b), a.sha256);
                        assert_eq!(b.len() as u64, a.size);
                    }
                    serde_json::json!({
                        "name": a.name,
                        "media_type": a.media_type,
                        "size": a.size,
                        "document": a.document,
                        "kept": a.kept,
                    })
                })
                .collect();
            assert_eq!(
                serde_json::Value::Array(attachments),
                want["attachments"],
                "{what}"
            );
            assert_eq!(
                got.notes.len() as u64,
                want["notes"].as_u64().unwrap(),
                "{what}: {:?}",
                got.notes
            );
            seen += 1;
        }
        assert!(seen >= 3, "only {seen} fixtures");
    }

    #[test]
    fn a_long_text_is_cut_at_a_character_boundary() {
        let text = "é".repeat(MAX_BODY_BYTES);
        let raw = format!(
            "From: a@b.example\r\nSubject: long\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}"
        );
        let got = parse_mail(raw.as_bytes());
        assert!(got.body.len() <= MAX_BODY_BYTES);
        assert!(got.body.len() > MAX_BODY_BYTES - 4);
        assert_eq!(got.notes.len(), 1, "{:?}", got.notes);
    }

    #[test]
    fn ids_are_stable_per_address() {
        assert_eq!(mail_id(1, 2, Some("<x>")), mail_id(1, 2, Some("<x>")));
        assert_ne!(mail_id(1, 2, None), mail_id(1, 3, None));
        assert_ne!(mail_id(1, 2, None), mail_id(2, 2, None));
    }
}
