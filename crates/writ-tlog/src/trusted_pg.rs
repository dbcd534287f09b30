//! The trusted store in PostgreSQL, for several servers sharing one log.
//!
//! Exactly one server sequences at a time. It holds a session-level advisory
//! lock ([`LEASE_KEY`]) on one connection and does every write of the
//! trusted store on that same connection: when the server dies, or loses its
//! connection, PostgreSQL releases the lock, and the writes of a server that
//! has lost it fail because its connection is gone. That is the fence: a
//! server that no longer holds the lease can neither stage an entry nor swap
//! a checkpoint. The compare-and-swap on (size, root) still guards every
//! checkpoint, so even two servers that both believed they led could never
//! store two different checkpoints of one size.
//!
//! A server that hangs instead of dying (stopped with SIGSTOP, frozen by its
//! hypervisor, swapping) keeps its TCP connection open, and its kernel
//! still answers keep-alive probes, so PostgreSQL would keep its lock for as
//! long as it hangs. The lease connection therefore sets
//! `idle_session_timeout` and `idle_in_transaction_session_timeout` to the
//! lease's time-out: the holder checks its lease every second, so a live
//! holder is never idle that long, and PostgreSQL ends the session of one
//! that is, which releases the lock. A statement on that connection may not
//! run longer than the time-out either (`statement_timeout`), and while one
//! runs PostgreSQL checks every second that the holder is still connected
//! (`client_connection_check_interval`): a holder that dies mid-statement
//! loses the lock within a second, one that hangs mid-statement within twice
//! the time-out (the statement's, then the idle session's). When the hung
//! server resumes, its connection is gone and every write it attempts fails: it can write
//! nothing, and it learns at its next check that it has lost the lease.
//!
//! The other servers open the store through a pool ([`PgStore::reader`]): they
//! read the identity and the checkpoint, and may create the identity and the
//! empty tree's checkpoint (insert-if-absent, and the same bytes whoever
//! signs them: Ed25519 signatures are deterministic).

use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Connection as _, Row as _};
use tokio::sync::Mutex;

use crate::hash::Hash;
use crate::storage::BoxFuture;
use crate::trusted::{Identity, StagedBatch, StoredCheckpoint, TrustedError, TrustedStore};

/// The advisory lock key of the sequencer lease (`b"writlog\0"` as a number).
pub const LEASE_KEY: i64 = 0x7772_6974_6c6f_6700;
/// The shortest lease time-out, in milliseconds: twice the holder's check.
const MIN_LEASE_TIMEOUT_MS: u128 = 2000;
/// The advisory lock key that serializes creating the tables.
const SCHEMA_KEY: i64 = 0x7772_6974_6c6f_6701;

/// Where the store's statements run.
#[derive(Clone)]
enum Conn {
    /// A pool: reads, and the insert-if-absent first writes.
    Pool(PgPool),
    /// The lease holder's own connection: every write is fenced by it.
    Leader(Arc<Mutex<PgConnection>>),
}

/// The trusted store in PostgreSQL.
#[derive(Clone)]
pub struct PgStore {
    conn: Conn,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let role = match self.conn {
            Conn::Pool(_) => "reader",
            Conn::Leader(_) => "leader",
        };
        f.debug_struct("PgStore")
            .field("role", &role)
            .finish_non_exhaustive()
    }
}

fn to_i64(n: u64) -> Result<i64, TrustedError> {
    i64::try_from(n).map_err(|_| TrustedError::Corrupt("number out of range"))
}

fn to_u64(n: i64) -> Result<u64, TrustedError> {
    u64::try_from(n).map_err(|_| TrustedError::Corrupt("negative number"))
}

const DDL: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS tlog_identity (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        origin TEXT NOT NULL,
        seed BYTEA NOT NULL)",
    "CREATE TABLE IF NOT EXISTS tlog_checkpoint (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        size BIGINT NOT NULL,
        root BYTEA NOT NULL,
        note TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS tlog_staged (
        first BIGINT PRIMARY KEY,
        count BIGINT NOT NULL,
        entries BYTEA NOT NULL)",
];

/// Creates the tables if they are missing; servers starting together take
/// turns (concurrent `CREATE TABLE IF NOT EXISTS` can fail in PostgreSQL).
async fn create_tables(conn: &mut PgConnection) -> Result<(), TrustedError> {
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SCHEMA_KEY)
        .execute(&mut *tx)
        .await?;
    for ddl in DDL {
        sqlx::query(*ddl).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The outcome of asking for the sequencer lease.
#[derive(Debug)]
pub enum Lease {
    /// This server sequences; the store writes through the lease's connection.
    Held(PgStore),
    /// Another server holds it.
    Taken,
}

impl PgStore {
    /// A store for reading (the servers that do not sequence).
    pub async fn reader(url: &str) -> Result<Self, TrustedError> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        let mut conn = pool.acquire().await?;
        create_tables(&mut conn).await?;
        drop(conn);
        Ok(Self {
            conn: Conn::Pool(pool),
        })
    }

    /// Asks for the sequencer lease without waiting: [`Lease::Held`] when
    /// this server got it. `timeout`: how long the holder may go without a
    /// statement on its lease connection before PostgreSQL ends the session
    /// and so frees the lease (at least a second; the holder checks its
    /// lease every second).
    pub async fn try_lease(url: &str, timeout: Duration) -> Result<Lease, TrustedError> {
        let options = PgConnectOptions::from_str(url)?;
        let mut conn = PgConnection::connect_with(&options).await?;
        create_tables(&mut conn).await?;
        let millis = timeout
            .as_millis()
            .clamp(MIN_LEASE_TIMEOUT_MS, i32::MAX as u128);
        // Session settings, before the lock: a session that goes idle this
        // long is ended by the server, and the lock with it; so is one whose
        // statement runs this long (stuck behind a lock). While a statement
        // runs, the server also checks every second that the holder is still
        // connected: a holder that died mid-statement would otherwise keep
        // the lock until that statement ended.
        let millis = millis.to_string();
        for (setting, value) in [
            ("idle_session_timeout", millis.as_str()),
            ("idle_in_transaction_session_timeout", millis.as_str()),
            ("statement_timeout", millis.as_str()),
            ("client_connection_check_interval", "1000"),
        ] {
            sqlx::query("SELECT set_config($1, $2, false)")
                .bind(setting)
                .bind(value)
                .execute(&mut conn)
                .await?;
        }
        let held: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(LEASE_KEY)
            .fetch_one(&mut conn)
            .await?;
        if !held {
            let _ = conn.close().await;
            return Ok(Lease::Taken);
        }
        Ok(Lease::Held(Self {
            conn: Conn::Leader(Arc::new(Mutex::new(conn))),
        }))
    }

    /// Whether this store still holds the lease: its connection answers and
    /// still holds the lock. A reader never holds it.
    pub async fn holds_lease(&self) -> bool {
        let Conn::Leader(conn) = &self.conn else {
            return false;
        };
        let mut conn = conn.lock().await;
        let held = sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'
               AND pid = pg_backend_pid() AND granted
               AND ((classid::bigint << 32) | objid::bigint) = $1)",
        )
        .bind(LEASE_KEY)
        .fetch_one(&mut *conn)
        .await;
        matches!(held, Ok(true))
    }

    /// Gives the lease up (a clean shutdown): another server may take over at
    /// once instead of after this connection closes.
    pub async fn release(&self) {
        if let Conn::Leader(conn) = &self.conn {
            let mut conn = conn.lock().await;
            let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(LEASE_KEY)
                .execute(&mut *conn)
                .await;
        }
    }

    async fn fetch_optional(
        &self,
        query: &'static str,
    ) -> Result<Option<sqlx::postgres::PgRow>, TrustedError> {
        Ok(match &self.conn {
            Conn::Pool(pool) => sqlx::query(query).fetch_optional(pool).await?,
            Conn::Leader(conn) => {
                let mut conn = conn.lock().await;
                sqlx::query(query).fetch_optional(&mut *conn).await?
            }
        })
    }

    /// The leader's connection, for a write; a reader may not write.
    fn leader(&self) -> Result<&Arc<Mutex<PgConnection>>, TrustedError> {
        match &self.conn {
            Conn::Leader(conn) => Ok(conn),
            Conn::Pool(_) => Err(TrustedError::NotLeader),
        }
    }

    async fn identity_inner(&self) -> Result<Option<Identity>, TrustedError> {
        let row = self
            .fetch_optional("SELECT origin, seed FROM tlog_identity WHERE id = 1")
            .await?;
        row.map(|row| {
            let seed: Vec<u8> = row.try_get("seed")?;
            Ok(Identity {
                origin: row.try_get("origin")?,
                seed: seed
                    .try_into()
                    .map_err(|_| TrustedError::Corrupt("signing key is not 32 bytes"))?,
            })
        })
        .transpose()
    }

    async fn checkpoint_inner(&self) -> Result<Option<StoredCheckpoint>, TrustedError> {
        let row = self
            .fetch_optional("SELECT size, root, note FROM tlog_checkpoint WHERE id = 1")
            .await?;
        row.map(|row| {
            let root: Vec<u8> = row.try_get("root")?;
            Ok(StoredCheckpoint {
                size: to_u64(row.try_get("size")?)?,
                root: Hash::from_slice(&root)
                    .ok_or(TrustedError::Corrupt("root is not 32 bytes"))?,
                note: row.try_get("note")?,
            })
        })
        .transpose()
    }

    async fn execute(
        &self,
        query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> Result<u64, TrustedError> {
        Ok(match &self.conn {
            Conn::Pool(pool) => query.execute(pool).await?.rows_affected(),
            Conn::Leader(conn) => {
                let mut conn = conn.lock().await;
                query.execute(&mut *conn).await?.rows_affected()
            }
        })
    }
}

impl TrustedStore for PgStore {
    fn identity_or_init(&self, fresh: Identity) -> BoxFuture<'_, Result<Identity, TrustedError>> {
        Box::pin(async move {
            self.execute(
                sqlx::query(
                    "INSERT INTO tlog_identity (id, origin, seed) VALUES (1, $1, $2)
                     ON CONFLICT DO NOTHING",
                )
                .bind(fresh.origin.clone())
                .bind(fresh.seed.to_vec()),
            )
            .await?;
            self.identity_inner()
                .await?
                .ok_or(TrustedError::Corrupt("identity vanished"))
        })
    }

    fn identity(&self) -> BoxFuture<'_, Result<Option<Identity>, TrustedError>> {
        Box::pin(self.identity_inner())
    }

    fn checkpoint(&self) -> BoxFuture<'_, Result<Option<StoredCheckpoint>, TrustedError>> {
        Box::pin(self.checkpoint_inner())
    }

    fn compare_and_swap(
        &self,
        old: Option<(u64, Hash)>,
        new: StoredCheckpoint,
    ) -> BoxFuture<'_, Result<(), TrustedError>> {
        Box::pin(async move {
            let affected = match old {
                // The empty tree's checkpoint: anyone may create it, and
                // every signer makes the same one.
                None => {
                    self.execute(
                        sqlx::query(
                            "INSERT INTO tlog_checkpoint (id, size, root, note) VALUES (1, $1, $2, $3)
                             ON CONFLICT DO NOTHING",
                        )
                        .bind(to_i64(new.size)?)
                        .bind(new.root.as_bytes().to_vec())
                        .bind(new.note.clone()),
                    )
                    .await?
                }
                Some((old_size, old_root)) => {
                    if new.size < old_size || (new.size == old_size && new.root != old_root) {
                        return Err(TrustedError::NotAnExtension {
                            old: old_size,
                            new: new.size,
                        });
                    }
                    let conn = self.leader()?;
                    let mut conn = conn.lock().await;
                    sqlx::query(
                        "UPDATE tlog_checkpoint SET size = $1, root = $2, note = $3
                         WHERE id = 1 AND size = $4 AND root = $5",
                    )
                    .bind(to_i64(new.size)?)
                    .bind(new.root.as_bytes().to_vec())
                    .bind(new.note.clone())
                    .bind(to_i64(old_size)?)
                    .bind(old_root.as_bytes().to_vec())
                    .execute(&mut *conn)
                    .await?
                    .rows_affected()
                }
            };
            if affected == 1 {
                Ok(())
            } else {
                Err(TrustedError::CasMismatch)
            }
        })
    }

    fn stage(&self, batch: StagedBatch) -> BoxFuture<'_, Result<(), TrustedError>> {
        Box::pin(async move {
            let conn = self.leader()?;
            let mut conn = conn.lock().await;
            sqlx::query("INSERT INTO tlog_staged (first, count, entries) VALUES ($1, $2, $3)")
                .bind(to_i64(batch.first)?)
                .bind(to_i64(batch.count)?)
                .bind(batch.entries)
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }

    fn staged(&self, from: u64) -> BoxFuture<'_, Result<Vec<StagedBatch>, TrustedError>> {
        Box::pin(async move {
            let query = sqlx::query(
                "SELECT first, count, entries FROM tlog_staged WHERE first + count > $1 ORDER BY first",
            )
            .bind(to_i64(from)?);
            let rows = match &self.conn {
                Conn::Pool(pool) => query.fetch_all(pool).await?,
                Conn::Leader(conn) => {
                    let mut conn = conn.lock().await;
                    query.fetch_all(&mut *conn).await?
                }
            };
            rows.into_iter()
                .map(|row| {
                    Ok(StagedBatch {
                        first: to_u64(row.try_get("first")?)?,
                        count: to_u64(row.try_get("count")?)?,
                        entries: row.try_get("entries")?,
                    })
                })
                .collect()
        })
    }

    fn prune(&self, below: u64) -> BoxFuture<'_, Result<(), TrustedError>> {
        Box::pin(async move {
            let conn = self.leader()?;
            let mut conn = conn.lock().await;
            sqlx::query("DELETE FROM tlog_staged WHERE first + count <= $1")
                .bind(to_i64(below)?)
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }
}
