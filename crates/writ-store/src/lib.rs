//! Writ's case store: agencies, accounts, cases, events, console users.
//!
//! One code path serves SQLite (embedded, the default) and PostgreSQL (for
//! several servers) through sqlx's `Any` driver: `$1` placeholders, times as
//! integer epoch seconds, JSON as text (the `Any` driver has no time or JSON types). The store knows
//! nothing of HTTP, of the policy or of the log; it keeps rows and runs each
//! change in one transaction.
//!
//! **SQLite is durable only with WAL and `synchronous=FULL`**: every
//! connection is opened that way, so that a committed transaction survives a
//! power loss. Writes to SQLite are serialised inside the process, which turns
//! lock contention into queueing instead of `SQLITE_BUSY` errors.
//!
//! **On PostgreSQL a hung server cannot hold rows for long.** A server that
//! hangs (stopped, frozen by its hypervisor) with a transaction open keeps
//! its connection, and the rows that transaction locked stay locked for the
//! other servers. Every connection therefore sets
//! `idle_in_transaction_session_timeout` ([`Store::open_with`]; 10 s by
//! default): PostgreSQL ends a session whose transaction waits that long for
//! its client, which rolls the transaction back and frees its rows. The
//! store's transactions run statements back to back and never wait on
//! anything else, so a live server is never idle that long inside one; a
//! hung server that resumes finds its connection gone, and its commit fails
//! (nothing it had not yet acknowledged is kept).

mod agency_notice;
pub mod check;
mod delivery;
mod mailbox;
mod migrate;
mod nonces;
mod officers;
mod portal;
mod rows;
mod sign_in;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, AssertSqlSafe, Executor, Row};

pub use agency_notice::{AgencyNotificationRow, ContactRow, EXPIRING_SECONDS};
pub use delivery::{CertificateRow, DueColumn, Fulfilled, NoticeRow, PackageRow};
pub use mailbox::{MailAdded, MailRow};
pub use officers::{OfficerRow, PasskeyRow};
pub use rows::*;
pub use sign_in::SignInAttempt;

/// Errors of the case store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("unsupported database url `{0}`: use sqlite:// or postgres://")]
    UnsupportedUrl(String),
    #[error("{0} `{1}` already exists")]
    Exists(&'static str, String),
    #[error("{0} `{1}` not found")]
    NotFound(&'static str, String),
    /// Someone else changed the row between our read and our write.
    #[error("case `{0}` changed concurrently")]
    Conflict(String),
    #[error("corrupt row in `{0}`: {1}")]
    Corrupt(&'static str, String),
}

impl StoreError {
    /// Whether the storage under the database failed, not the request: a
    /// full or read-only disk, an I/O error. SQLite's `SQLITE_READONLY`,
    /// `SQLITE_IOERR`, `SQLITE_FULL` and `SQLITE_CANTOPEN` (with their
    /// extended codes); PostgreSQL's classes 53 (insufficient resources:
    /// disk full, out of memory) and 58 (system error: I/O), and a
    /// read-only transaction (25006); the operating system's "no space",
    /// "read-only file system" and "quota exceeded". The same request may
    /// succeed once the storage recovers.
    pub fn is_storage_fault(&self) -> bool {
        let StoreError::Database(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::Database(db) => match db.code() {
                // SQLite reports its (extended) result code as a number,
                // PostgreSQL a five-character SQLSTATE.
                Some(code) => match code.parse::<i64>() {
                    Ok(n) => matches!(n & 0xff, 8 | 10 | 13 | 14),
                    Err(_) => code.starts_with("53") || code.starts_with("58") || code == "25006",
                },
                None => false,
            },
            sqlx::Error::Io(io) => matches!(
                io.kind(),
                std::io::ErrorKind::StorageFull
                    | std::io::ErrorKind::ReadOnlyFilesystem
                    | std::io::ErrorKind::QuotaExceeded
            ),
            _ => false,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Rows per multi-row insert, well under SQLite's limit of 32,766 bound
/// parameters (16 per case, 6 per event).
const CASES_PER_STATEMENT: usize = 256;
const EVENTS_PER_STATEMENT: usize = 1024;

/// Which database the store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle on the case store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    write_lock: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

/// How long a transaction may wait for its client before PostgreSQL ends
/// its session, unless [`Store::open_with`] says otherwise.
pub const IDLE_IN_TRANSACTION: Duration = Duration::from_secs(10);

impl Store {
    /// Opens (and creates, for SQLite) the database at `url` and brings its
    /// schema up to date.
    pub async fn open(url: &str) -> Result<Self> {
        Self::open_with(url, IDLE_IN_TRANSACTION).await
    }

    /// [`Store::open`], with PostgreSQL ending the session of a transaction
    /// that waits `idle_in_transaction` for its client (at least a second;
    /// not used on SQLite, where only this process holds locks).
    pub async fn open_with(url: &str, idle_in_transaction: Duration) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let mut pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(30));
        if backend == Backend::Sqlite {
            // A COMMIT that fails (a full disk, an I/O error) makes SQLite
            // roll the transaction back itself; sqlx's ROLLBACK then fails
            // and leaves the connection counting an open transaction, so
            // that every later BEGIN on it fails. Such a connection is
            // closed instead of reused (the ping first lets the queued
            // rollback run).
            pool = pool.before_acquire(|conn, _meta| {
                Box::pin(async move {
                    use sqlx::Connection as _;
                    conn.ping().await?;
                    Ok(!conn.is_in_transaction())
                })
            });
            pool = pool.after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode=WAL").await?;
                    conn.execute("PRAGMA synchronous=FULL").await?;
                    conn.execute("PRAGMA busy_timeout=10000").await?;
                    conn.execute("PRAGMA foreign_keys=ON").await?;
                    Ok(())
                })
            });
        }
        if backend == Backend::Postgres {
            let millis = idle_in_transaction
                .as_millis()
                .clamp(1000, i32::MAX as u128)
                .to_string();
            pool = pool.after_connect(move |conn, _meta| {
                let millis = millis.clone();
                Box::pin(async move {
                    sqlx::query(
                        "SELECT set_config('idle_in_transaction_session_timeout', $1, false)",
                    )
                    .bind(millis)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            });
        }
        let pool = pool.connect_with(options).await?;
        let store = Store {
            pool,
            backend,
            write_lock: Default::default(),
        };
        migrate::run(&store).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Serialises writers on SQLite (one writer at a time is all SQLite
    /// allows); PostgreSQL takes row locks itself.
    async fn write_guard(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite => Some(self.write_lock.lock().await),
            Backend::Postgres => None,
        }
    }

    /// Starts a write transaction. On SQLite it takes the write lock at
    /// once (`BEGIN IMMEDIATE`): a deferred transaction that reads first and
    /// writes later fails with `SQLITE_BUSY` when another connection (the
    /// log's sequencer shares the file) wrote in between.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    // ---- meta ---------------------------------------------------------

    pub async fn meta(&self, key: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get(0)?),
            None => None,
        })
    }

    /// Stores `value` under `key` unless a value is already there, and
    /// returns the value that is stored (the first writer wins, so that
    /// servers started together agree).
    pub async fn meta_insert_if_absent(&self, key: &str, value: &str) -> Result<String> {
        let _g = self.write_guard().await;
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        drop(_g);
        self.meta(key)
            .await?
            .ok_or_else(|| StoreError::NotFound("meta", key.to_owned()))
    }

    /// Sets `key` to `value` and writes `events` with it, in one
    /// transaction, when the stored value differs; whether it did.
    pub async fn meta_change(&self, key: &str, value: &str, events: &[NewEvent]) -> Result<bool> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let old: Option<String> = sqlx::query("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        if old.as_deref() == Some(value) {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&mut *tx)
        .await?;
        for e in events {
            insert_event(&mut tx, e).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    // ---- agencies -----------------------------------------------------

    /// Adds an agency; fails with [`StoreError::Exists`] if the id is taken.
    pub async fn insert_agency(&self, a: &AgencyRow, actor: &str) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "INSERT INTO agencies (id, name, country, kind, status, verified_since, powers, \
             callback_numbers, age_recipient, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&a.id)
        .bind(&a.name)
        .bind(&a.country)
        .bind(&a.kind)
        .bind(&a.status)
        .bind(a.verified_since)
        .bind(&a.powers)
        .bind(&a.callback_numbers)
        .bind(&a.age_recipient)
        .bind(a.created_at)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Exists("agency", a.id.clone()));
        }
        history(&mut tx, &a.id, "add", &a.status, actor, a.created_at).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn agency(&self, id: &str) -> Result<Option<AgencyRow>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {AGENCY_COLUMNS} FROM agencies WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| AgencyRow::from_row(&r)).transpose()
    }

    pub async fn agencies(&self) -> Result<Vec<AgencyRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {AGENCY_COLUMNS} FROM agencies ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(AgencyRow::from_row).collect()
    }

    /// Changes an agency's status (`verified`, `suspended`, ...), recording
    /// who did it in the agency's history.
    pub async fn set_agency_status(
        &self,
        id: &str,
        status: &str,
        verified_since: Option<i64>,
        actor: &str,
        at: i64,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE agencies SET status = $2, verified_since = COALESCE($3, verified_since), \
             updated_at = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(verified_since)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("agency", id.to_owned()));
        }
        history(&mut tx, id, status, status, actor, at).await?;
        if status == "suspended" {
            // A suspended agency's officers are signed out at once.
            Store::end_portal_sessions(&mut tx, id).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sets the callback numbers and the age recipient of an agency.
    pub async fn set_agency_contacts(
        &self,
        id: &str,
        callback_numbers: &str,
        age_recipient: Option<&str>,
        actor: &str,
        at: i64,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE agencies SET callback_numbers = $2, age_recipient = COALESCE($3, age_recipient), \
             updated_at = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(callback_numbers)
        .bind(age_recipient)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("agency", id.to_owned()));
        }
        history(&mut tx, id, "contacts", callback_numbers, actor, at).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn add_agency_key(&self, key: &AgencyKeyRow, actor: &str) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT id FROM agencies WHERE id = $1")
            .bind(&key.agency_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound("agency", key.agency_id.clone()));
        }
        let done = sqlx::query(
            "INSERT INTO agency_keys (key_id, agency_id, public_key, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, NULL) ON CONFLICT (key_id) DO NOTHING",
        )
        .bind(&key.key_id)
        .bind(&key.agency_id)
        .bind(&key.public_key)
        .bind(key.created_at)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Exists("key", key.key_id.clone()));
        }
        history(
            &mut tx,
            &key.agency_id,
            "key-add",
            &key.key_id,
            actor,
            key.created_at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn agency_key(&self, key_id: &str) -> Result<Option<AgencyKeyRow>> {
        let row = sqlx::query(
            "SELECT key_id, agency_id, public_key, created_at, revoked_at FROM agency_keys \
             WHERE key_id = $1",
        )
        .bind(key_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| AgencyKeyRow::from_row(&r)).transpose()
    }

    pub async fn agency_keys(&self, agency_id: &str) -> Result<Vec<AgencyKeyRow>> {
        let rows = sqlx::query(
            "SELECT key_id, agency_id, public_key, created_at, revoked_at FROM agency_keys \
             WHERE agency_id = $1 ORDER BY key_id",
        )
        .bind(agency_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(AgencyKeyRow::from_row).collect()
    }

    pub async fn agency_history(&self, agency_id: &str) -> Result<Vec<HistoryRow>> {
        let rows = sqlx::query(
            "SELECT action, detail, actor, at FROM agency_history WHERE agency_id = $1 ORDER BY seq",
        )
        .bind(agency_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(HistoryRow {
                    action: r.try_get(0)?,
                    detail: r.try_get(1)?,
                    actor: r.try_get(2)?,
                    at: r.try_get(3)?,
                })
            })
            .collect()
    }

    // ---- accounts -----------------------------------------------------

    /// Adds accounts (skipping ids already present) in one transaction.
    pub async fn insert_accounts(&self, accounts: &[AccountRow]) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        for a in accounts {
            let done = sqlx::query(
                "INSERT INTO accounts (id, body) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&a.id)
            .bind(&a.body)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                continue;
            }
            for (kind, value) in &a.identifiers {
                sqlx::query(
                    "INSERT INTO account_identifiers (kind, value, account_id) VALUES ($1, $2, $3) \
                     ON CONFLICT (kind, value) DO NOTHING",
                )
                .bind(kind)
                .bind(value)
                .bind(&a.id)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The account (its JSON body) that carries the identifier, if any.
    pub async fn account_by_identifier(&self, kind: &str, value: &str) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT a.body FROM account_identifiers i JOIN accounts a ON a.id = i.account_id \
             WHERE i.kind = $1 AND i.value = $2",
        )
        .bind(kind)
        .bind(value)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => Some(r.try_get(0)?),
            None => None,
        })
    }

    pub async fn account_count(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM accounts")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }

    // ---- holds --------------------------------------------------------

    pub async fn holds_for_agency(&self, agency_id: &str) -> Result<Vec<HoldRow>> {
        let rows = sqlx::query(
            "SELECT agency_id, reference, case_id, instrument, accounts, preserve_until, renewals \
             FROM holds WHERE agency_id = $1",
        )
        .bind(agency_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(HoldRow::from_row).collect()
    }

    // ---- cases --------------------------------------------------------

    /// Stores a batch of new cases, each with its events and holds, in one
    /// transaction (one fsync for the whole batch: group commit).
    ///
    /// A case whose (agency, reference) is already taken is not stored: its
    /// outcome is [`Intake::Existing`] with the stored case, which the caller
    /// compares with what was sent.
    pub async fn intake(&self, batch: &[NewCase]) -> Result<Vec<Intake>> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        // One multi-row statement per table and chunk: a batch costs a few
        // round trips to the database, not a few per case. The unique
        // (agency, reference) index decides which cases are new; only a
        // refused one pays for reading the case that holds its reference.
        let mut inserted = std::collections::HashSet::new();
        for chunk in batch.chunks(CASES_PER_STATEMENT) {
            let mut sql = format!("INSERT INTO cases ({CASE_COLUMNS}) VALUES ");
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                for j in 0..16 {
                    if j > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&format!("${}", i * 16 + j + 1));
                }
                sql.push(')');
            }
            sql.push_str(" ON CONFLICT (agency_id, reference) DO NOTHING RETURNING id");
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for new in chunk {
                let c = &new.case;
                q = q
                    .bind(&c.id)
                    .bind(&c.agency_id)
                    .bind(&c.reference)
                    .bind(&c.order_json)
                    .bind(&c.order_sha256)
                    .bind(&c.canonical_sha256)
                    .bind(&c.instrument)
                    .bind(c.emergency)
                    .bind(&c.status)
                    .bind(&c.outcome)
                    .bind(&c.decision)
                    .bind(c.decided_now)
                    .bind(c.due_at)
                    .bind(c.version)
                    .bind(c.created_at)
                    .bind(c.updated_at);
            }
            for row in q.fetch_all(&mut *tx).await? {
                inserted.insert(get::<String>(&row, 0)?);
            }
        }
        let mut out = Vec::with_capacity(batch.len());
        let mut events = Vec::new();
        for new in batch {
            let c = &new.case;
            if !inserted.contains(&c.id) {
                let row = sqlx::query(AssertSqlSafe(format!(
                    "SELECT {CASE_COLUMNS} FROM cases WHERE agency_id = $1 AND reference = $2"
                )))
                .bind(&c.agency_id)
                .bind(&c.reference)
                .fetch_one(&mut *tx)
                .await?;
                out.push(Intake::Existing(Box::new(CaseRow::from_row(&row)?)));
                continue;
            }
            events.extend(new.events.iter());
            for h in &new.holds {
                upsert_hold(&mut tx, h).await?;
            }
            if let Some(officer) = &new.officer {
                sqlx::query("INSERT INTO case_officers (case_id, officer_id) VALUES ($1, $2)")
                    .bind(&c.id)
                    .bind(officer)
                    .execute(&mut *tx)
                    .await?;
            }
            if let Some(old) = &new.corrects {
                sqlx::query("INSERT INTO corrections (case_id, corrects) VALUES ($1, $2)")
                    .bind(&c.id)
                    .bind(old)
                    .execute(&mut *tx)
                    .await?;
            }
            out.push(Intake::Stored);
        }
        for chunk in events.chunks(EVENTS_PER_STATEMENT) {
            let mut sql = String::from(
                "INSERT INTO events (case_id, kind, entry, private, state, log_index, created_at) VALUES ",
            );
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                let b = i * 6;
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, NULL, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6
                ));
            }
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for e in chunk {
                q = q
                    .bind(&e.case_id)
                    .bind(&e.kind)
                    .bind(&e.entry)
                    .bind(&e.private)
                    .bind(&e.state)
                    .bind(e.created_at);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    pub async fn case(&self, id: &str) -> Result<Option<CaseRow>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| CaseRow::from_row(&r)).transpose()
    }

    /// A case, typed.
    pub async fn load_case(&self, id: &str) -> Result<Option<Case>> {
        self.case(id).await?.map(|r| Case::from_row(&r)).transpose()
    }

    /// An agency's cases, typed, newest first.
    pub async fn agency_cases(&self, agency_id: &str, limit: i64) -> Result<Vec<Case>> {
        self.cases_for_agency(agency_id, limit)
            .await?
            .iter()
            .map(Case::from_row)
            .collect()
    }

    /// The cases waiting for a person, typed: emergencies first, then by
    /// deadline.
    pub async fn review_queue(&self, limit: i64) -> Result<Vec<Case>> {
        self.queue(limit)
            .await?
            .iter()
            .map(Case::from_row)
            .collect()
    }

    pub async fn case_by_reference(
        &self,
        agency_id: &str,
        reference: &str,
    ) -> Result<Option<CaseRow>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE agency_id = $1 AND reference = $2"
        )))
        .bind(agency_id)
        .bind(reference)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| CaseRow::from_row(&r)).transpose()
    }

    /// An agency's cases, newest first.
    pub async fn cases_for_agency(&self, agency_id: &str, limit: i64) -> Result<Vec<CaseRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE agency_id = $1 \
             ORDER BY created_at DESC, id LIMIT $2"
        )))
        .bind(agency_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(CaseRow::from_row).collect()
    }

    /// Cases whose id is `term`, or whose reference, agency, order (its
    /// target identifiers) or decision (its accounts) contains it; newest
    /// first.
    pub async fn search_cases(&self, term: &str, limit: i64) -> Result<Vec<Case>> {
        let escaped: String = term
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        // Letters compare without regard to case on both backends (SQLite's
        // LIKE ignores ASCII case, PostgreSQL's does not).
        let like = format!("%{}%", escaped.to_lowercase());
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE id = $1 \
             OR LOWER(reference) LIKE $2 ESCAPE '\\' OR LOWER(agency_id) LIKE $2 ESCAPE '\\' \
             OR LOWER(order_json) LIKE $2 ESCAPE '\\' OR LOWER(decision) LIKE $2 ESCAPE '\\' \
             ORDER BY created_at DESC, id LIMIT $3"
        )))
        .bind(term)
        .bind(&like)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| CaseRow::from_row(r).and_then(|row| Case::from_row(&row)))
            .collect()
    }

    /// The cases waiting for a person: emergencies first, then by deadline.
    pub async fn queue(&self, limit: i64) -> Result<Vec<CaseRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE status = 'in_review' \
             ORDER BY emergency DESC, due_at, id LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(CaseRow::from_row).collect()
    }

    pub async fn case_count(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM cases")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }

    /// Applies a change to a case, with its events, proposals and holds, in
    /// one transaction. The change applies only if the case is still at
    /// `expected_version` (else [`StoreError::Conflict`]).
    pub async fn update_case(&self, change: &CaseChange) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let decision = serde_json::to_string(&change.decision)
            .map_err(|e| StoreError::Corrupt("cases", e.to_string()))?;
        let order = serde_json::to_string(&change.order)
            .map_err(|e| StoreError::Corrupt("cases", e.to_string()))?;
        let done = sqlx::query(
            "UPDATE cases SET status = $2, outcome = $3, decision = $4, order_json = $5, \
             version = version + 1, updated_at = $6, due_at = $8 WHERE id = $1 AND version = $7",
        )
        .bind(&change.case_id)
        .bind(change.status.as_str())
        .bind(change.decision.outcome.as_str())
        .bind(&decision)
        .bind(&order)
        .bind(change.at.as_second())
        .bind(change.expected_version)
        .bind(change.decision.due_at.as_second())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(change.case_id.clone()));
        }
        if let Some(m) = &change.new_message {
            let fields = serde_json::to_string(&m.fields)
                .map_err(|e| StoreError::Corrupt("clarifications", e.to_string()))?;
            sqlx::query(
                "INSERT INTO clarifications (case_id, seq, side, author, message, fields, incomplete, at, \
                 preserved, enforcing) \
                 SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9 \
                 FROM clarifications WHERE case_id = $1",
            )
            .bind(&change.case_id)
            .bind(m.side.as_str())
            .bind(&m.author)
            .bind(&m.message)
            .bind(&fields)
            .bind(i64::from(m.incomplete))
            .bind(change.at.as_second())
            .bind(m.preserved)
            .bind(&m.enforcing)
            .execute(&mut *tx)
            .await?;
        }
        for p in &change.close_proposals {
            sqlx::query(
                "UPDATE proposals SET state = $2, decided_by = $3, decided_at = $4 WHERE seq = $1",
            )
            .bind(p.seq)
            .bind(p.state.as_str())
            .bind(&p.decided_by)
            .bind(change.at.as_second())
            .execute(&mut *tx)
            .await?;
        }
        if let Some(p) = &change.new_proposal {
            sqlx::query(
                "INSERT INTO proposals (case_id, action, detail, proposed_by, role, state, \
                 decided_by, created_at, decided_at) VALUES ($1, $2, $3, $4, $5, 'open', NULL, $6, NULL)",
            )
            .bind(&change.case_id)
            .bind(p.action.as_str())
            .bind(&p.detail)
            .bind(&p.proposed_by)
            .bind(&p.role)
            .bind(change.at.as_second())
            .execute(&mut *tx)
            .await?;
        }
        for e in &change.events {
            insert_event(&mut tx, e).await?;
        }
        for h in &change.holds {
            upsert_hold(&mut tx, h).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The e-mail address of the officer who submitted case `id`, unless
    /// there is none or the officer was removed since.
    pub async fn case_officer_email(&self, id: &str) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT o.email FROM case_officers k JOIN officers o ON o.id = k.officer_id \
             WHERE k.case_id = $1 AND o.removed_at IS NULL",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| get::<String>(&r, 0)).transpose()
    }

    /// The case whose order case `id` corrects, and the cases whose
    /// orders correct it, oldest first.
    pub async fn corrections(&self, id: &str) -> Result<(Option<String>, Vec<String>)> {
        let corrects = sqlx::query("SELECT corrects FROM corrections WHERE case_id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| get::<String>(&r, 0))
            .transpose()?;
        let rows = sqlx::query(
            "SELECT k.case_id FROM corrections k JOIN cases c ON c.id = k.case_id \
             WHERE k.corrects = $1 ORDER BY c.created_at, c.id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let by = rows
            .iter()
            .map(|r| get::<String>(r, 0))
            .collect::<Result<Vec<_>>>()?;
        Ok((corrects, by))
    }

    /// A case's clarification exchange, oldest first.
    pub async fn clarifications(&self, case_id: &str) -> Result<Vec<MessageRow>> {
        let rows = sqlx::query(
            "SELECT seq, side, author, message, fields, incomplete, at, preserved, enforcing \
             FROM clarifications \
             WHERE case_id = $1 ORDER BY seq",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let side: String = get(r, 1)?;
                let fields: String = get(r, 4)?;
                Ok(MessageRow {
                    seq: get(r, 0)?,
                    side: Side::parse(&side).ok_or(StoreError::Corrupt("clarifications", side))?,
                    author: get(r, 2)?,
                    message: get(r, 3)?,
                    fields: serde_json::from_str(&fields)
                        .map_err(|e| StoreError::Corrupt("clarifications", e.to_string()))?,
                    incomplete: get::<i64>(r, 5)? != 0,
                    at: get(r, 6)?,
                    preserved: get(r, 7)?,
                    enforcing: get(r, 8)?,
                })
            })
            .collect()
    }

    pub async fn open_proposals(&self, case_id: &str) -> Result<Vec<ProposalRow>> {
        let rows = sqlx::query(
            "SELECT seq, case_id, action, detail, proposed_by, role, state, decided_by, created_at \
             FROM proposals WHERE case_id = $1 AND state = 'open' ORDER BY seq",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ProposalRow::from_row).collect()
    }

    // ---- events -------------------------------------------------------

    /// Events waiting to be appended to the log, oldest first.
    pub async fn pending_events(&self, limit: i64) -> Result<Vec<EventRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE state = 'pending' ORDER BY seq LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(EventRow::from_row).collect()
    }

    pub async fn events_for_case(&self, case_id: &str) -> Result<Vec<EventRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE case_id = $1 ORDER BY seq"
        )))
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(EventRow::from_row).collect()
    }

    /// Whether a case has events waiting for their batch.
    pub async fn has_deferred(&self, case_id: &str) -> Result<bool> {
        let row =
            sqlx::query("SELECT seq FROM events WHERE case_id = $1 AND state = 'deferred' LIMIT 1")
                .bind(case_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some())
    }

    /// Cases that have deferred events.
    pub async fn deferred_cases(&self) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT DISTINCT case_id FROM events WHERE state = 'deferred' AND case_id IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// Releases the deferred events of these cases in one batch: in the
    /// order the cases are given, each case's events in the order they
    /// happened, appended to the outbox as new pending rows (the originals
    /// are kept as `released`).
    pub async fn release_deferred(&self, case_ids: &[String]) -> Result<usize> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let mut n = 0;
        for case_id in case_ids {
            let rows = sqlx::query(AssertSqlSafe(format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE case_id = $1 AND state = 'deferred' ORDER BY seq"
            )))
            .bind(case_id)
            .fetch_all(&mut *tx)
            .await?;
            for row in rows.iter().map(EventRow::from_row) {
                let e = row?;
                sqlx::query("UPDATE events SET state = 'released' WHERE seq = $1")
                    .bind(e.seq)
                    .execute(&mut *tx)
                    .await?;
                insert_event(
                    &mut tx,
                    &NewEvent {
                        case_id: e.case_id,
                        kind: e.kind,
                        entry: e.entry,
                        private: e.private,
                        state: writ_model::EventState::Pending.as_str().into(),
                        created_at: e.created_at,
                    },
                )
                .await?;
                n += 1;
            }
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Records that events were appended to the log at the given indexes.
    /// Runs of consecutive events with consecutive indexes (the usual case:
    /// one batch of the outbox, appended in order) take one statement each.
    pub async fn mark_logged(&self, logged: &[(i64, i64)]) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        let mut i = 0;
        while i < logged.len() {
            let (first_seq, first_index) = logged[i];
            let mut j = i + 1;
            while j < logged.len()
                && logged[j].0 == logged[j - 1].0 + 1
                && logged[j].1 == logged[j - 1].1 + 1
            {
                j += 1;
            }
            let last_seq = logged[j - 1].0;
            sqlx::query(
                "UPDATE events SET state = 'logged', log_index = seq - $1 + $2 \
                 WHERE seq >= $1 AND seq <= $3",
            )
            .bind(first_seq)
            .bind(first_index)
            .bind(last_seq)
            .execute(&mut *tx)
            .await?;
            i = j;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Appends events that belong to no single case (registry changes).
    pub async fn insert_events(&self, events: &[NewEvent]) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        for e in events {
            insert_event(&mut tx, e).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The highest log index recorded for an event, if any.
    pub async fn max_log_index(&self) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT MAX(log_index) FROM events WHERE state = 'logged'")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?)
    }

    /// Writes and commits one small row (the meta key `health_probe`, the
    /// time): whether the database takes a write now.
    pub async fn probe_write(&self) -> Result<()> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let _g = self.write_guard().await;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('health_probe', $1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(now.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many events are in each state.
    pub async fn event_counts(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT state, COUNT(*) FROM events GROUP BY state ORDER BY state")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    // ---- console users ------------------------------------------------

    pub async fn insert_user(&self, u: &UserRow) -> Result<()> {
        let _g = self.write_guard().await;
        let done = sqlx::query(
            "INSERT INTO console_users (name, role, password_hash, totp_secret, created_at, disabled) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&u.name)
        .bind(&u.role)
        .bind(&u.password_hash)
        .bind(&u.totp_secret)
        .bind(u.created_at)
        .bind(i64::from(u.disabled))
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Exists("user", u.name.clone()));
        }
        Ok(())
    }

    pub async fn user(&self, name: &str) -> Result<Option<UserRow>> {
        let row = sqlx::query(
            "SELECT name, role, password_hash, totp_secret, created_at, disabled \
             FROM console_users WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| UserRow::from_row(&r)).transpose()
    }

    pub async fn insert_token(&self, t: &TokenRow) -> Result<()> {
        let _g = self.write_guard().await;
        sqlx::query(
            "INSERT INTO access_tokens (token_hash, user_name, label, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, NULL)",
        )
        .bind(&t.token_hash)
        .bind(&t.user_name)
        .bind(&t.label)
        .bind(t.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The user that holds an unrevoked token with this hash, with the
    /// token's label and when it was minted.
    pub async fn token_user(&self, token_hash: &str) -> Result<Option<TokenUser>> {
        let row = sqlx::query(
            "SELECT u.name, u.role, u.password_hash, u.totp_secret, u.created_at, u.disabled, \
             t.label, t.created_at \
             FROM access_tokens t JOIN console_users u ON u.name = t.user_name \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(TokenUser {
                user: UserRow::from_row(&r)?,
                label: get(&r, 6)?,
                created_at: get(&r, 7)?,
            })
        })
        .transpose()
    }

    pub async fn revoke_token(&self, token_hash: &str, at: i64) -> Result<bool> {
        let _g = self.write_guard().await;
        let done = sqlx::query(
            "UPDATE access_tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}

pub(crate) async fn history(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    agency_id: &str,
    action: &str,
    detail: &str,
    actor: &str,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO agency_history (agency_id, action, detail, actor, at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(agency_id)
    .bind(action)
    .bind(detail)
    .bind(actor)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) async fn insert_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    e: &NewEvent,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO events (case_id, kind, entry, private, state, log_index, created_at) \
         VALUES ($1, $2, $3, $4, $5, NULL, $6)",
    )
    .bind(&e.case_id)
    .bind(&e.kind)
    .bind(&e.entry)
    .bind(&e.private)
    .bind(&e.state)
    .bind(e.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn upsert_hold(tx: &mut sqlx::Transaction<'_, sqlx::Any>, h: &HoldRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO holds (agency_id, reference, case_id, instrument, accounts, preserve_until, renewals) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (agency_id, reference) DO UPDATE SET \
         preserve_until = excluded.preserve_until, renewals = excluded.renewals, accounts = excluded.accounts, \
         released_at = NULL",
    )
    .bind(&h.agency_id)
    .bind(&h.reference)
    .bind(&h.case_id)
    .bind(&h.instrument)
    .bind(&h.accounts)
    .bind(h.preserve_until)
    .bind(h.renewals)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) fn get<'r, T>(row: &'r AnyRow, i: usize) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    Ok(row.try_get(i)?)
}
