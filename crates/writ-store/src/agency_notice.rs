//! Agency notifications: where an agency is told that one of its cases
//! needs its attention (its contact settings), and what was announced.
//!
//! Announcements are found, not written by the changes that cause them: a
//! pass looks for cases and packages that changed since its watermark and
//! have no row yet, and adds one (`<case>:<kind>:<generation>`, so that each
//! is announced once whichever server looks).

use sqlx::AssertSqlSafe;
use sqlx::any::AnyRow;

use crate::{Result, Store, StoreError, get, history};

/// An agency's contact settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactRow {
    pub agency_id: String,
    pub email: Option<String>,
    pub webhook_url: Option<String>,
    /// `whsec_<base64>`, made by the server when the URL is set.
    pub webhook_secret: Option<String>,
    /// Cases and packages older than this are not announced.
    pub since: i64,
    pub updated_at: i64,
}

/// One announcement to an agency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgencyNotificationRow {
    pub id: String,
    pub agency_id: String,
    pub case_id: String,
    /// `decided`, `reviewed`, `package_ready` or `package_expiring`.
    pub kind: String,
    /// The package's generation; 0 for a case's own announcements.
    pub generation: i64,
    /// `pending`, `sent` or `dead`.
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

const NOTIFICATION_COLUMNS: &str = "id, agency_id, case_id, kind, generation, state, attempts, \
     next_attempt_at, last_error, created_at, sent_at";

impl AgencyNotificationRow {
    fn from_row(r: &AnyRow) -> Result<Self> {
        Ok(Self {
            id: get(r, 0)?,
            agency_id: get(r, 1)?,
            case_id: get(r, 2)?,
            kind: get(r, 3)?,
            generation: get(r, 4)?,
            state: get(r, 5)?,
            attempts: get(r, 6)?,
            next_attempt_at: get(r, 7)?,
            last_error: get(r, 8)?,
            created_at: get(r, 9)?,
            sent_at: get(r, 10)?,
        })
    }
}

/// How long before its expiry a package is announced as expiring.
pub const EXPIRING_SECONDS: i64 = 3 * 24 * 3600;

impl Store {
    /// Sets an agency's contact settings (recorded in its history); the
    /// announcements start with what changes from now on.
    pub async fn set_agency_notify(&self, c: &ContactRow, actor: &str) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT 1 FROM agencies WHERE id = $1")
            .bind(&c.agency_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound("agency", c.agency_id.clone()));
        }
        sqlx::query(
            "INSERT INTO agency_contacts (agency_id, email, webhook_url, webhook_secret, since, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (agency_id) DO UPDATE SET \
             email = excluded.email, webhook_url = excluded.webhook_url, \
             webhook_secret = excluded.webhook_secret, updated_at = excluded.updated_at",
        )
        .bind(&c.agency_id)
        .bind(&c.email)
        .bind(&c.webhook_url)
        .bind(&c.webhook_secret)
        .bind(c.since)
        .bind(c.updated_at)
        .execute(&mut *tx)
        .await?;
        let detail = format!(
            "e-mail {}; webhook {}",
            c.email.as_deref().unwrap_or("none"),
            c.webhook_url.as_deref().unwrap_or("none")
        );
        history(
            &mut tx,
            &c.agency_id,
            "contacts",
            &detail,
            actor,
            c.updated_at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn agency_notify(&self, agency_id: &str) -> Result<Option<ContactRow>> {
        let row = sqlx::query(
            "SELECT agency_id, email, webhook_url, webhook_secret, since, updated_at \
             FROM agency_contacts WHERE agency_id = $1",
        )
        .bind(agency_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(ContactRow {
                agency_id: get(&r, 0)?,
                email: get(&r, 1)?,
                webhook_url: get(&r, 2)?,
                webhook_secret: get(&r, 3)?,
                since: get(&r, 4)?,
                updated_at: get(&r, 5)?,
            })
        })
        .transpose()
    }

    /// Adds the announcements due for what changed at or after `watermark`
    /// (cases) and for every ready package: a decided case, a case a
    /// second person settled, a package ready, a package that expires
    /// within [`EXPIRING_SECONDS`] of `now`. Only agencies with contact
    /// settings, and only what is newer than those. How many were added.
    pub async fn find_agency_notifications(&self, watermark: i64, now: i64) -> Result<u64> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let mut added = 0;
        let statements = [
            // Decided at intake.
            "INSERT INTO agency_notifications (id, agency_id, case_id, kind, generation, state, created_at) \
             SELECT c.id || ':decided:0', c.agency_id, c.id, 'decided', 0, 'pending', $2 \
             FROM cases c JOIN agency_contacts a ON a.agency_id = c.agency_id \
             WHERE c.updated_at >= $1 AND c.created_at >= a.since \
             AND NOT EXISTS (SELECT 1 FROM agency_notifications n WHERE n.id = c.id || ':decided:0') \
             LIMIT 256 ON CONFLICT (id) DO NOTHING",
            // Settled by review (two people) or the agency's withdrawal.
            "INSERT INTO agency_notifications (id, agency_id, case_id, kind, generation, state, created_at) \
             SELECT c.id || ':reviewed:0', c.agency_id, c.id, 'reviewed', 0, 'pending', $2 \
             FROM cases c JOIN agency_contacts a ON a.agency_id = c.agency_id \
             WHERE c.updated_at >= $1 AND c.updated_at >= a.since \
             AND c.status IN ('approved', 'narrowed', 'rejected') \
             AND NOT EXISTS (SELECT 1 FROM agency_notifications n WHERE n.id = c.id || ':reviewed:0') \
             LIMIT 256 ON CONFLICT (id) DO NOTHING",
        ];
        for sql in statements {
            added += sqlx::query(sql)
                .bind(watermark)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        // A question from the provider's staff waiting for the agency's
        // answer (`generation` is the message's place in the exchange).
        added += sqlx::query(
            "INSERT INTO agency_notifications (id, agency_id, case_id, kind, generation, state, created_at) \
             SELECT m.case_id || ':clarification:' || CAST(m.seq AS TEXT), c.agency_id, m.case_id, \
             'clarification', m.seq, 'pending', $2 \
             FROM clarifications m JOIN cases c ON c.id = m.case_id \
             JOIN agency_contacts a ON a.agency_id = c.agency_id \
             WHERE m.side = 'provider' AND m.at >= $1 AND m.at >= a.since \
             AND NOT EXISTS (SELECT 1 FROM agency_notifications n WHERE \
             n.id = m.case_id || ':clarification:' || CAST(m.seq AS TEXT)) \
             LIMIT 256 ON CONFLICT (id) DO NOTHING",
        )
        .bind(watermark)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // A package ready to download.
        added += sqlx::query(
            "INSERT INTO agency_notifications (id, agency_id, case_id, kind, generation, state, created_at) \
             SELECT p.case_id || ':package_ready:' || CAST(p.generation AS TEXT), p.agency_id, p.case_id, \
             'package_ready', p.generation, 'pending', $1 \
             FROM packages p JOIN agency_contacts a ON a.agency_id = p.agency_id \
             WHERE p.state = 'ready' AND p.created_at >= a.since \
             AND NOT EXISTS (SELECT 1 FROM agency_notifications n WHERE \
             n.id = p.case_id || ':package_ready:' || CAST(p.generation AS TEXT)) \
             LIMIT 256 ON CONFLICT (id) DO NOTHING",
        )
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // A ready package close to its expiry.
        added += sqlx::query(
            "INSERT INTO agency_notifications (id, agency_id, case_id, kind, generation, state, created_at) \
             SELECT p.case_id || ':package_expiring:' || CAST(p.generation AS TEXT), p.agency_id, p.case_id, \
             'package_expiring', p.generation, 'pending', $1 \
             FROM packages p JOIN agency_contacts a ON a.agency_id = p.agency_id \
             WHERE p.state = 'ready' AND p.expires_at <= $2 AND p.expires_at > $1 \
             AND p.created_at >= a.since \
             AND NOT EXISTS (SELECT 1 FROM agency_notifications n WHERE \
             n.id = p.case_id || ':package_expiring:' || CAST(p.generation AS TEXT)) \
             LIMIT 256 ON CONFLICT (id) DO NOTHING",
        )
        .bind(now)
        .bind(now + EXPIRING_SECONDS)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(added)
    }

    /// Pending announcements whose time has come, oldest first.
    pub async fn due_agency_notifications(
        &self,
        now: i64,
        limit: i64,
    ) -> Result<Vec<AgencyNotificationRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM agency_notifications \
             WHERE state = 'pending' AND next_attempt_at <= $1 ORDER BY created_at, id LIMIT $2"
        )))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(AgencyNotificationRow::from_row).collect()
    }

    /// An agency's latest announcements, newest first.
    pub async fn agency_notifications(
        &self,
        agency_id: &str,
        limit: i64,
    ) -> Result<Vec<AgencyNotificationRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM agency_notifications \
             WHERE agency_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        )))
        .bind(agency_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(AgencyNotificationRow::from_row).collect()
    }

    /// Records an attempt: sent, or failed and tried again at `retry_at`
    /// (`None`: given up, `dead`).
    pub async fn agency_notification_tried(
        &self,
        id: &str,
        outcome: std::result::Result<i64, (&str, Option<i64>)>,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        match outcome {
            Ok(sent_at) => {
                sqlx::query(
                    "UPDATE agency_notifications SET state = 'sent', attempts = attempts + 1, \
                     sent_at = $2, last_error = NULL WHERE id = $1",
                )
                .bind(id)
                .bind(sent_at)
                .execute(&mut *tx)
                .await?;
            }
            Err((error, retry_at)) => {
                sqlx::query(
                    "UPDATE agency_notifications SET attempts = attempts + 1, last_error = $2, \
                     state = CASE WHEN $3 < 0 THEN 'dead' ELSE state END, \
                     next_attempt_at = CASE WHEN $3 < 0 THEN next_attempt_at ELSE $3 END \
                     WHERE id = $1",
                )
                .bind(id)
                .bind(error)
                .bind(retry_at.unwrap_or(-1))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
