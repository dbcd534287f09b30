//! One-time values shared by every server of a deployment: the nonces of
//! signed API requests and the ids of redeemed portal challenges.
//!
//! A value is recorded with the time after which it could not be accepted
//! anyway (its signature or challenge would be stale), so a row lives no
//! longer than that: every insert first prunes the rows that have expired.
//! Rows have one size whatever a client sent, since the caller passes a
//! SHA-256; and only authenticated requests reach this table (the signature
//! verifies first), at most the per-agency rate allows.

use crate::{Backend, Result, Store};

impl Store {
    /// Records a one-time value (by its hash) until `expires_at`: `true` the
    /// first time, `false` when it is already recorded and not expired (a
    /// replay). Atomic across servers: the primary key decides.
    pub async fn use_nonce(&self, key_hash: &str, expires_at: i64, now: i64) -> Result<bool> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM used_nonces WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query(
            "INSERT INTO used_nonces (key_hash, expires_at) VALUES ($1, $2) \
             ON CONFLICT (key_hash) DO NOTHING",
        )
        .bind(key_hash)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// How many one-time values are recorded (expired or not).
    pub async fn used_nonce_count(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM used_nonces")
            .fetch_one(&self.pool)
            .await?;
        crate::get(&row, 0)
    }

    /// Accepts a TOTP time step for a user if it is later than every step
    /// accepted before (RFC 6238, section 5.2: a code is good once): `true`
    /// when accepted and recorded, `false` for a step at or before the last
    /// one. One conditional statement, so two servers cannot both accept it.
    pub async fn accept_totp_step(&self, user: &str, step: i64) -> Result<bool> {
        let _g = self.write_guard().await;
        let done = sqlx::query(
            "INSERT INTO totp_last_steps (user_name, last_step) VALUES ($1, $2) \
             ON CONFLICT (user_name) DO UPDATE SET last_step = excluded.last_step \
             WHERE totp_last_steps.last_step < excluded.last_step",
        )
        .bind(user)
        .bind(step)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends every portal session of an agency (suspended, or a key revoked),
    /// inside the caller's transaction.
    pub(crate) async fn end_portal_sessions(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        agency_id: &str,
    ) -> Result<u64> {
        let done = sqlx::query("DELETE FROM portal_sessions WHERE agency_id = $1")
            .bind(agency_id)
            .execute(&mut **tx)
            .await?;
        Ok(done.rows_affected())
    }

    /// Takes a transaction-level lock on PostgreSQL for `key` (a hash of
    /// what the caller serialises); SQLite writers are serialised already.
    pub(crate) async fn lock_key(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        key: &str,
    ) -> Result<()> {
        if self.backend() == Backend::Postgres {
            // Keys that collide only wait for each other.
            let n = key
                .bytes()
                .fold(0i64, |n, b| n.wrapping_mul(131).wrapping_add(i64::from(b)));
            sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock($1)) AS l")
                .bind(n)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}
