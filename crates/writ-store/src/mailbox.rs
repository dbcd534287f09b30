//! The legal-process mailbox: messages read from an IMAP mailbox, kept as
//! drafts for staff to transcribe (`writ serve --imap`).
//!
//! A message is kept once: by its mailbox address (UIDVALIDITY and UID,
//! unique), and by its Message-ID when it has one. After the mailbox's
//! UIDVALIDITY changed, a message already kept under its Message-ID moves to
//! its new address rather than becoming a second draft, so that the highest
//! UID kept per UIDVALIDITY stays the point to read on from.

use sqlx::any::AnyRow;

use crate::{Result, Store, StoreError, get};

/// One message of the mailbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailRow {
    pub id: String,
    pub uidvalidity: i64,
    pub uid: i64,
    pub message_id: Option<String>,
    /// The `From` header as written.
    pub sender: String,
    pub subject: String,
    /// The `Date` header (seconds since the epoch), when it could be read.
    pub sent_at: Option<i64>,
    /// The plain-text body, bounded.
    pub body: String,
    /// What was not kept, and why (a message over the size limit, a body
    /// cut short, an attachment too large).
    pub note: Option<String>,
    /// JSON array of the attachments.
    pub attachments: String,
    /// `new`, `transcribed` or `dismissed`.
    pub state: String,
    /// The case recorded from it (`transcribed`).
    pub case_id: Option<String>,
    /// Who transcribed or dismissed it.
    pub actor: Option<String>,
    pub decided_at: Option<i64>,
    pub received_at: i64,
}

const COLUMNS: &str = "id, uidvalidity, uid, message_id, sender, subject, sent_at, body, note, \
     attachments, state, case_id, actor, decided_at, received_at";

impl MailRow {
    fn from_row(r: &AnyRow) -> Result<Self> {
        Ok(Self {
            id: get(r, 0)?,
            uidvalidity: get(r, 1)?,
            uid: get(r, 2)?,
            message_id: get(r, 3)?,
            sender: get(r, 4)?,
            subject: get(r, 5)?,
            sent_at: get(r, 6)?,
            body: get(r, 7)?,
            note: get(r, 8)?,
            attachments: get(r, 9)?,
            state: get(r, 10)?,
            case_id: get(r, 11)?,
            actor: get(r, 12)?,
            decided_at: get(r, 13)?,
            received_at: get(r, 14)?,
        })
    }
}

/// What became of a message offered to [`Store::add_mail`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailAdded {
    /// A new draft.
    Added,
    /// Kept before at this address (a repeated fetch).
    Known,
    /// Kept before under its Message-ID, at another address: the row now
    /// names the new one. Carries the id of the row.
    Moved(String),
}

impl Store {
    /// Keeps a message read from the mailbox, unless it is kept already (at
    /// the same address, or under the same Message-ID: then the row moves
    /// to this address). The row's attachments must be stored before.
    pub async fn add_mail(&self, row: &MailRow) -> Result<MailAdded> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        if let Some(message_id) = &row.message_id {
            let known =
                sqlx::query("SELECT id, uidvalidity, uid FROM mailbox WHERE message_id = $1")
                    .bind(message_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(k) = known {
                let id: String = get(&k, 0)?;
                let (uidvalidity, uid): (i64, i64) = (get(&k, 1)?, get(&k, 2)?);
                if (uidvalidity, uid) == (row.uidvalidity, row.uid) {
                    return Ok(MailAdded::Known);
                }
                // Another address of the same message: a mailbox read again
                // under a new UIDVALIDITY, or a copy. The newest address wins
                // unless another row holds it already.
                let moved = sqlx::query(
                    "UPDATE mailbox SET uidvalidity = $1, uid = $2 WHERE id = $3 \
                     AND NOT EXISTS (SELECT 1 FROM mailbox m WHERE m.uidvalidity = $1 AND m.uid = $2)",
                )
                .bind(row.uidvalidity)
                .bind(row.uid)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                return Ok(if moved.rows_affected() > 0 {
                    MailAdded::Moved(id)
                } else {
                    MailAdded::Known
                });
            }
        }
        let q = format!(
            "INSERT INTO mailbox ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT DO NOTHING"
        );
        let added = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(&row.id)
            .bind(row.uidvalidity)
            .bind(row.uid)
            .bind(&row.message_id)
            .bind(&row.sender)
            .bind(&row.subject)
            .bind(row.sent_at)
            .bind(&row.body)
            .bind(&row.note)
            .bind(&row.attachments)
            .bind(&row.state)
            .bind(&row.case_id)
            .bind(&row.actor)
            .bind(row.decided_at)
            .bind(row.received_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(if added.rows_affected() > 0 {
            MailAdded::Added
        } else {
            MailAdded::Known
        })
    }

    /// The highest UID kept under `uidvalidity`; reading goes on above it.
    pub async fn mail_last_uid(&self, uidvalidity: i64) -> Result<Option<i64>> {
        let r = sqlx::query("SELECT MAX(uid) FROM mailbox WHERE uidvalidity = $1")
            .bind(uidvalidity)
            .fetch_one(&self.pool)
            .await?;
        get::<Option<i64>>(&r, 0)
    }

    /// The messages, newest first.
    pub async fn mail_list(&self, limit: i64) -> Result<Vec<MailRow>> {
        let q = format!(
            "SELECT {COLUMNS} FROM mailbox ORDER BY received_at DESC, uidvalidity DESC, uid DESC LIMIT $1"
        );
        sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(MailRow::from_row)
            .collect()
    }

    pub async fn mail(&self, id: &str) -> Result<Option<MailRow>> {
        let q = format!("SELECT {COLUMNS} FROM mailbox WHERE id = $1");
        sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(MailRow::from_row)
            .transpose()
    }

    /// Settles a `new` message: `transcribed` with the case recorded from
    /// it, or `dismissed` (`case_id` `None`). `Ok(None)` once settled;
    /// `Ok(Some(state))` when it was settled before (nothing changes); an
    /// unknown message is not found.
    pub async fn settle_mail(
        &self,
        id: &str,
        case_id: Option<&str>,
        actor: &str,
        at: i64,
    ) -> Result<Option<String>> {
        let _g = self.write_guard().await;
        let state = if case_id.is_some() {
            "transcribed"
        } else {
            "dismissed"
        };
        let changed = sqlx::query(
            "UPDATE mailbox SET state = $1, case_id = $2, actor = $3, decided_at = $4 \
             WHERE id = $5 AND state = 'new'",
        )
        .bind(state)
        .bind(case_id)
        .bind(actor)
        .bind(at)
        .bind(id)
        .execute(&self.pool)
        .await?;
        drop(_g);
        if changed.rows_affected() > 0 {
            return Ok(None);
        }
        match self.mail(id).await? {
            None => Err(StoreError::NotFound("message", id.to_owned())),
            Some(m) => Ok(Some(m.state)),
        }
    }
}
