//! Legal holds (`docs/product.md`, "Preservation"): an approved preservation
//! order freezes an account's data in the granted categories until
//! `preserve_until`; a renewal extends the hold; holds lapse on time.
//!
//! Holds live in one table, `writ_holds`, in any database the `Any` driver
//! reaches (SQLite or PostgreSQL). A deletion path honours them by deleting
//! only where no hold is active, in the same statement or transaction as the
//! delete (see [`crate::demo::DemoMail::delete`] and the README).
//!
//! A hold is active while `until` is in the future: an expired hold stops
//! blocking deletion at once, even before [`Holds::lapse_holds`] removes it
//! and reports it (for the `released` log event).

use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::AnyPool;
use sqlx::Row;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use writ_model::{Category, Timestamp};

/// One held (account, category) under one case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// The case whose order placed it.
    pub case: String,
    pub account: String,
    pub category: Category,
    pub until: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum HoldError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("unknown category `{0}` in the holds table")]
    BadCategory(String),
    #[error("invalid time {0} in the holds table")]
    BadTime(i64),
}

/// The `until` of a hold without an end date (9999-12-30T00:00:00Z, the
/// last whole day every supported database and time library can hold):
/// data preserved while a European Production Order waits for its
/// clarification (Reg. (EU) 2023/1543 Art. 10(9)). It ends when its case
/// does ([`Holds::end_open`]).
pub const OPEN_ENDED_S: i64 = 253_402_128_000;

/// [`OPEN_ENDED_S`] as a time (moving a known time by the difference
/// lands on it exactly: the sum lies inside the representable range).
pub fn open_ended() -> Timestamp {
    let epoch = Timestamp::from_second(0).unwrap_or_else(Timestamp::now);
    epoch.plus_seconds(OPEN_ENDED_S - epoch.as_second())
}

/// The holds table.
#[derive(Clone, Debug)]
pub struct Holds {
    pool: AnyPool,
}

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS writ_holds (
    case_id TEXT NOT NULL,
    account TEXT NOT NULL,
    category TEXT NOT NULL,
    until_s BIGINT NOT NULL,
    PRIMARY KEY (case_id, account, category)
)";

const INDEX: &str =
    "CREATE INDEX IF NOT EXISTS writ_holds_account ON writ_holds (account, category, until_s)";

impl Holds {
    /// Opens the database at `url` (`sqlite://...` is created if missing;
    /// `postgres://...`) and creates the table if needed.
    pub async fn open(url: &str) -> Result<Self, HoldError> {
        Self::with_pool(connect(url).await?).await
    }

    /// Uses an existing pool (for example the case store's).
    pub async fn with_pool(pool: AnyPool) -> Result<Self, HoldError> {
        sqlx::query(SCHEMA).execute(&pool).await?;
        sqlx::query(INDEX).execute(&pool).await?;
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Places a hold on `account` in `categories` until `until` for `case`.
    /// Placing it again (a renewal) only ever extends it: a hold is never
    /// shortened by this call.
    pub async fn place(
        &self,
        case: &str,
        account: &str,
        categories: &[Category],
        until: Timestamp,
    ) -> Result<(), HoldError> {
        let mut tx = self.pool.begin().await?;
        for category in categories {
            sqlx::query(
                "INSERT INTO writ_holds (case_id, account, category, until_s) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (case_id, account, category) DO UPDATE SET until_s =
                   CASE WHEN excluded.until_s > writ_holds.until_s THEN excluded.until_s
                        ELSE writ_holds.until_s END",
            )
            .bind(case)
            .bind(account)
            .bind(category.as_str())
            .bind(until.as_second())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Extends every hold of `case` to `until` (a renewal of the
    /// preservation order); holds already later are left alone. Returns how
    /// many holds were extended.
    pub async fn extend(&self, case: &str, until: Timestamp) -> Result<u64, HoldError> {
        let done =
            sqlx::query("UPDATE writ_holds SET until_s = $2 WHERE case_id = $1 AND until_s < $2")
                .bind(case)
                .bind(until.as_second())
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected())
    }

    /// Releases every hold of `case` (the order was withdrawn or lifted) and
    /// returns them.
    pub async fn release(&self, case: &str) -> Result<Vec<Hold>, HoldError> {
        let rows = sqlx::query(
            "DELETE FROM writ_holds WHERE case_id = $1 RETURNING case_id, account, category, until_s",
        )
        .bind(case)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(hold_of).collect()
    }

    /// Ends `case`'s holds without an end date at `now` (the case ended
    /// or its data went out); [`Holds::lapse_holds`] then removes them.
    /// Returns how many were ended.
    pub async fn end_open(&self, case: &str, now: Timestamp) -> Result<u64, HoldError> {
        let done =
            sqlx::query("UPDATE writ_holds SET until_s = $2 WHERE case_id = $1 AND until_s = $3")
                .bind(case)
                .bind(now.as_second())
                .bind(OPEN_ENDED_S)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected())
    }

    /// Removes the holds whose time has come (`until <= now`) and returns
    /// them, so that the caller can log a `released` event per case.
    pub async fn lapse_holds(&self, now: Timestamp) -> Result<Vec<Hold>, HoldError> {
        let rows = sqlx::query(
            "DELETE FROM writ_holds WHERE until_s <= $1 RETURNING case_id, account, category, until_s",
        )
        .bind(now.as_second())
        .fetch_all(&self.pool)
        .await?;
        let mut holds: Vec<Hold> = rows.iter().map(hold_of).collect::<Result<_, _>>()?;
        holds.sort_by(|a, b| {
            (&a.case, &a.account, a.category).cmp(&(&b.case, &b.account, b.category))
        });
        Ok(holds)
    }

    /// The latest `until` of the holds active at `now` on (`account`,
    /// `category`), or `None` when the data may be deleted.
    pub async fn held_until(
        &self,
        account: &str,
        category: Category,
        now: Timestamp,
    ) -> Result<Option<Timestamp>, HoldError> {
        let row = sqlx::query(
            "SELECT MAX(until_s) AS until_s FROM writ_holds
             WHERE account = $1 AND category = $2 AND until_s > $3",
        )
        .bind(account)
        .bind(category.as_str())
        .bind(now.as_second())
        .fetch_one(&self.pool)
        .await?;
        let until: Option<i64> = row.try_get("until_s")?;
        until
            .map(|s| Timestamp::from_second(s).ok_or(HoldError::BadTime(s)))
            .transpose()
    }

    /// The holds active at `now` on `account`.
    pub async fn active(&self, account: &str, now: Timestamp) -> Result<Vec<Hold>, HoldError> {
        let rows = sqlx::query(
            "SELECT case_id, account, category, until_s FROM writ_holds
             WHERE account = $1 AND until_s > $2 ORDER BY case_id, category",
        )
        .bind(account)
        .bind(now.as_second())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(hold_of).collect()
    }
}

fn hold_of(row: &AnyRow) -> Result<Hold, HoldError> {
    let category: String = row.try_get("category")?;
    let until: i64 = row.try_get("until_s")?;
    Ok(Hold {
        case: row.try_get("case_id")?,
        account: row.try_get("account")?,
        category: Category::parse(&category).ok_or(HoldError::BadCategory(category))?,
        until: Timestamp::from_second(until).ok_or(HoldError::BadTime(until))?,
    })
}

/// Connects to SQLite (created if missing, WAL with `synchronous=FULL` so
/// that a placed hold survives a power loss) or PostgreSQL.
pub(crate) async fn connect(url: &str) -> Result<AnyPool, sqlx::Error> {
    sqlx::any::install_default_drivers();
    let sqlite = url.starts_with("sqlite:");
    let url = if sqlite && !url.contains("mode=") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}mode=rwc")
    } else {
        url.to_owned()
    };
    let options = AnyConnectOptions::from_str(&url)?;
    let mut pool = AnyPoolOptions::new()
        .max_connections(if sqlite { 4 } else { 8 })
        .acquire_timeout(Duration::from_secs(30));
    if sqlite {
        pool = pool.after_connect(|conn, _meta| {
            Box::pin(async move {
                use sqlx::Executor;
                conn.execute("PRAGMA journal_mode=WAL").await?;
                conn.execute("PRAGMA synchronous=FULL").await?;
                conn.execute("PRAGMA busy_timeout=10000").await?;
                Ok(())
            })
        });
    }
    pool.connect_with(options).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_open_ended_hold_lasts_until_the_agreed_second() {
        assert_eq!(super::open_ended().as_second(), super::OPEN_ENDED_S);
        assert_eq!(super::open_ended().date_string(), "9999-12-30");
    }
}
