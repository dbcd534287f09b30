//! Failed console sign-ins, kept in the store so that every server of a
//! deployment counts the same failures: the gateway's throttle asks how many
//! a name had lately, whichever server it runs on.

use sqlx::Row;

use crate::{Result, Store};

/// What [`Store::begin_sign_in`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInAttempt {
    /// The attempt is recorded (as a failure until it succeeds) and may go
    /// on to the password check.
    Recorded,
    /// Too many failures in the window; the oldest of them was at this time.
    Throttled { oldest: i64 },
}

impl Store {
    /// Counts a name's recent failed sign-ins and, if there are fewer than
    /// `max` since `since`, records this attempt as one more, in one
    /// transaction (under a lock per name on PostgreSQL, under the write lock
    /// on SQLite). The attempt is counted before the password is checked, so
    /// that parallel attempts cannot all pass a check made before any of them
    /// was recorded; a successful sign-in then clears the name's failures.
    /// Failures from before `forget_before` are forgotten on the way.
    pub async fn begin_sign_in(
        &self,
        name_hash: &str,
        now: i64,
        since: i64,
        max: i64,
        forget_before: i64,
    ) -> Result<SignInAttempt> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        self.lock_key(&mut tx, name_hash).await?;
        sqlx::query("DELETE FROM sign_in_failures WHERE at < $1")
            .bind(forget_before)
            .execute(&mut *tx)
            .await?;
        let rows = sqlx::query(
            "SELECT at FROM sign_in_failures WHERE name_hash = $1 AND at > $2 \
             ORDER BY at DESC LIMIT $3",
        )
        .bind(name_hash)
        .bind(since)
        .bind(max)
        .fetch_all(&mut *tx)
        .await?;
        let recent: Vec<i64> = rows
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        if recent.len() as i64 >= max {
            let oldest = recent.last().copied().unwrap_or(now);
            tx.commit().await?;
            return Ok(SignInAttempt::Throttled { oldest });
        }
        sqlx::query("INSERT INTO sign_in_failures (name_hash, at) VALUES ($1, $2)")
            .bind(name_hash)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(SignInAttempt::Recorded)
    }

    /// Records a failed sign-in for a name (by its hash) at `at`, after
    /// forgetting every failure from before `forget_before`, so that the
    /// table holds no more than the recent past.
    pub async fn record_sign_in_failure(
        &self,
        name_hash: &str,
        at: i64,
        forget_before: i64,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sign_in_failures WHERE at < $1")
            .bind(forget_before)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO sign_in_failures (name_hash, at) VALUES ($1, $2)")
            .bind(name_hash)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The times of a name's failed sign-ins after `since`, newest first, at
    /// most `limit` of them.
    pub async fn recent_sign_in_failures(
        &self,
        name_hash: &str,
        since: i64,
        limit: i64,
    ) -> Result<Vec<i64>> {
        let rows = sqlx::query(
            "SELECT at FROM sign_in_failures WHERE name_hash = $1 AND at > $2 \
             ORDER BY at DESC LIMIT $3",
        )
        .bind(name_hash)
        .bind(since)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// Forgets a name's failed sign-ins (it has just signed in).
    pub async fn clear_sign_in_failures(&self, name_hash: &str) -> Result<()> {
        let _g = self.write_guard().await;
        sqlx::query("DELETE FROM sign_in_failures WHERE name_hash = $1")
            .bind(name_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
