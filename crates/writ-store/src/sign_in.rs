//! Failed console sign-ins, kept in the store so that every server of a
//! deployment counts the same failures: the gateway's throttle asks how many
//! a name had lately, whichever server it runs on.

use sqlx::Row;

use crate::{Result, Store};

impl Store {
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
