//! The agency portal's sign-in challenges and sessions, kept in the store so
//! that every server of a deployment knows them: a challenge issued by one
//! server can be answered at another, and a session works on any.

use sqlx::Row;

use crate::{Result, Store};

impl Store {
    /// Records a new challenge, after forgetting expired ones; past `cap`
    /// open challenges the ones that expire first are forgotten, so that
    /// anyone asking for challenges cannot grow the table without bound.
    pub async fn insert_portal_challenge(
        &self,
        challenge: &str,
        expires_at: i64,
        now: i64,
        cap: i64,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM portal_challenges WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let open: i64 = sqlx::query("SELECT COUNT(*) FROM portal_challenges")
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        if open >= cap {
            sqlx::query(
                "DELETE FROM portal_challenges WHERE challenge IN \
                 (SELECT challenge FROM portal_challenges ORDER BY expires_at LIMIT $1)",
            )
            .bind(open - cap + 1)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("INSERT INTO portal_challenges (challenge, expires_at) VALUES ($1, $2)")
            .bind(challenge)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes a challenge: `true` once, if it was issued and has not expired.
    pub async fn take_portal_challenge(&self, challenge: &str, now: i64) -> Result<bool> {
        let _g = self.write_guard().await;
        let done =
            sqlx::query("DELETE FROM portal_challenges WHERE challenge = $1 AND expires_at > $2")
                .bind(challenge)
                .bind(now)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Opens a session for an agency, after forgetting expired ones.
    pub async fn open_portal_session(
        &self,
        secret_hash: &str,
        agency_id: &str,
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
            "INSERT INTO portal_sessions (secret_hash, agency_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(secret_hash)
        .bind(agency_id)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The agency of a live session.
    pub async fn portal_session(&self, secret_hash: &str, now: i64) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT agency_id FROM portal_sessions WHERE secret_hash = $1 AND expires_at > $2",
        )
        .bind(secret_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
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
}
