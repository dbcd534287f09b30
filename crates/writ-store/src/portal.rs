//! The agency portal's sessions, kept in the store so that every server of a
//! deployment knows them: a session opened at one server works on any.
//! (Challenges are stateless; a redeemed one is recorded as a used nonce.)

use sqlx::Row;

use crate::{Result, Store, StoreError};

impl Store {
    /// Opens a session for an agency, or one of its officers, after
    /// forgetting expired ones.
    pub async fn open_portal_session(
        &self,
        secret_hash: &str,
        agency_id: &str,
        officer_id: Option<&str>,
        expires_at: i64,
        now: i64,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM portal_sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO portal_sessions (secret_hash, agency_id, officer_id, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(secret_hash)
        .bind(agency_id)
        .bind(officer_id)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The agency of a live session, and its officer if an officer opened
    /// it.
    pub async fn portal_session(
        &self,
        secret_hash: &str,
        now: i64,
    ) -> Result<Option<(String, Option<String>)>> {
        let row = sqlx::query(
            "SELECT agency_id, officer_id FROM portal_sessions \
             WHERE secret_hash = $1 AND expires_at > $2",
        )
        .bind(secret_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    /// Ends a session.
    pub async fn close_portal_session(&self, secret_hash: &str) -> Result<()> {
        let _g = self.write_guard().await;
        sqlx::query("DELETE FROM portal_sessions WHERE secret_hash = $1")
            .bind(secret_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Revokes a request-signing key, recording it in the agency's history,
    /// and ends every portal session of its agency, in one transaction: a
    /// session does not say which key opened it, so all of them end.
    pub async fn revoke_agency_key(&self, key_id: &str, actor: &str, at: i64) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT agency_id FROM agency_keys WHERE key_id = $1 AND revoked_at IS NULL",
        )
        .bind(key_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::NotFound("key", key_id.to_owned()));
        };
        let agency: String = row.try_get(0)?;
        sqlx::query("UPDATE agency_keys SET revoked_at = $2 WHERE key_id = $1")
            .bind(key_id)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        crate::history(&mut tx, &agency, "key-revoke", key_id, actor, at).await?;
        Store::end_portal_sessions(&mut tx, &agency).await?;
        tx.commit().await?;
        Ok(())
    }
}
