//! A transparency-log witness: the witness side of c2sp.org/tlog-witness
//! with `cosignature/v1` (Ed25519) cosignatures.
//!
//! For each log it is configured with (by the log's verifier key), the
//! witness keeps the size, root and note of the latest checkpoint it
//! cosigned, durably, in SQLite. It cosigns a new checkpoint only if it is
//! signed by the log's key and a consistency proof shows that it extends
//! the one it holds; so it never cosigns two different roots at one size,
//! nor a smaller tree than one it has cosigned.
//!
//! Routes: `POST /add-checkpoint` (submission) and
//! `GET /<hex SHA-256 of the origin>/checkpoint` (monitoring: the latest
//! cosigned checkpoint with the log's and the witness's signatures).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sha2::{Digest as _, Sha256};
use sqlx::Row as _;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use writ_tlog::Hash;
use writ_tlog::cosignature::{AddCheckpoint, CosignerKey, now_unix, split_note};
use writ_tlog::note::{Checkpoint, NoteError, NoteVerifier};
use writ_tlog::tree::verify_consistency;

/// The largest request body the witness reads: a checkpoint, 63 proof
/// lines and a few signatures are a few kilobytes.
const BODY_LIMIT: usize = 64 * 1024;

/// Errors opening the witness's store.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    #[error("witness database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("witness database holds a bad row for `{0}`")]
    Corrupt(String),
}

/// Why a checkpoint was not cosigned, with the status tlog-witness assigns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// 400: the body is not an add-checkpoint request.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 404: no log with this origin is configured.
    #[error("unknown log origin `{0}`")]
    UnknownOrigin(String),
    /// 403: no valid signature by a key the witness trusts for the origin.
    #[error("not signed by a trusted key of the log: {0}")]
    Forbidden(String),
    /// 409: the request's old size is not the size the witness holds.
    #[error("the witness holds size {0}")]
    Conflict(u64),
    /// 422: the checkpoint is not consistent with the one the witness holds.
    #[error("inconsistent checkpoint: {0}")]
    Inconsistent(String),
    /// 500: the store failed; nothing was cosigned.
    #[error("internal error")]
    Internal(String),
}

impl Refusal {
    /// The HTTP status tlog-witness gives this refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::BadRequest(_) => StatusCode::BAD_REQUEST,
            Refusal::UnknownOrigin(_) => StatusCode::NOT_FOUND,
            Refusal::Forbidden(_) => StatusCode::FORBIDDEN,
            Refusal::Conflict(_) => StatusCode::CONFLICT,
            Refusal::Inconsistent(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Refusal::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            // The body of a 409 is the size alone (c2sp.org/tlog-witness).
            Refusal::Conflict(size) => (
                StatusCode::CONFLICT,
                [(header::CONTENT_TYPE, "text/x.tlog.size")],
                format!("{size}\n"),
            )
                .into_response(),
            other => (
                other.status(),
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("{other}\n"),
            )
                .into_response(),
        }
    }
}

/// What the witness holds for one log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Latest {
    pub size: u64,
    pub root: Hash,
    /// The checkpoint with the log's signature and the witness's cosignature.
    pub note: String,
}

/// The decision on a request, given what the witness holds for its log
/// (`None`: nothing yet). Pure, so that the rules of c2sp.org/tlog-witness,
/// "add-checkpoint", read in one place.
pub fn check(
    held: Option<&Latest>,
    old: u64,
    proof: &[Hash],
    checkpoint: &Checkpoint,
) -> Result<(), Refusal> {
    let size = checkpoint.size;
    if old > size {
        return Err(Refusal::BadRequest(format!(
            "old size {old} is larger than the checkpoint's size {size}"
        )));
    }
    let held_size = held.map_or(0, |h| h.size);
    if old != held_size {
        return Err(Refusal::Conflict(held_size));
    }
    if size == 0 && checkpoint.root != Hash::empty() {
        return Err(Refusal::Inconsistent(
            "a checkpoint of size 0 must have the empty tree's root".into(),
        ));
    }
    if old == 0 {
        if !proof.is_empty() {
            return Err(Refusal::Inconsistent(
                "the proof from size 0 must be empty".into(),
            ));
        }
        return Ok(());
    }
    let Some(held) = held else {
        return Err(Refusal::Conflict(0));
    };
    verify_consistency(old, size, &held.root, &checkpoint.root, proof)
        .map_err(|e| Refusal::Inconsistent(format!("consistency proof {old}..{size}: {e}")))
}

/// A running witness: its key, the logs it witnesses, its store.
#[derive(Clone)]
pub struct Witness {
    inner: Arc<Inner>,
}

struct Inner {
    key: CosignerKey,
    logs: BTreeMap<String, Vec<NoteVerifier>>,
    pool: SqlitePool,
    /// Checking a request against the held size and storing the new one
    /// must be atomic (c2sp.org/tlog-witness): one at a time.
    lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witness")
            .field("vkey", &self.inner.key.verifier().to_string())
            .field("logs", &self.inner.logs.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Witness {
    /// Opens (creating) the store in `data` (`witness.db`) and starts
    /// witnessing the logs of `logs`.
    pub async fn open(
        key: CosignerKey,
        data: &Path,
        logs: Vec<NoteVerifier>,
    ) -> Result<Self, WitnessError> {
        std::fs::create_dir_all(data).map_err(|e| WitnessError::Db(sqlx::Error::Io(e)))?;
        // WAL with synchronous=FULL: a cosigned size survives a power loss,
        // so a restarted witness never cosigns an older tree again.
        let options = SqliteConnectOptions::new()
            .filename(data.join("witness.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS witness_latest (
                origin TEXT PRIMARY KEY,
                size INTEGER NOT NULL,
                root BLOB NOT NULL,
                note TEXT NOT NULL)",
        )
        .execute(&pool)
        .await?;
        let mut by_origin: BTreeMap<String, Vec<NoteVerifier>> = BTreeMap::new();
        for v in logs {
            by_origin.entry(v.name().to_owned()).or_default().push(v);
        }
        Ok(Self {
            inner: Arc::new(Inner {
                key,
                logs: by_origin,
                pool,
                lock: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// The witness's verifier key.
    pub fn vkey(&self) -> String {
        self.inner.key.verifier().to_string()
    }

    /// What the witness holds for a log.
    pub async fn latest(&self, origin: &str) -> Result<Option<Latest>, WitnessError> {
        let row = sqlx::query("SELECT size, root, note FROM witness_latest WHERE origin = ?")
            .bind(origin)
            .fetch_optional(&self.inner.pool)
            .await?;
        row.map(|row| {
            let bad = || WitnessError::Corrupt(origin.to_owned());
            let size: i64 = row.try_get("size")?;
            let root: Vec<u8> = row.try_get("root")?;
            Ok(Latest {
                size: u64::try_from(size).map_err(|_| bad())?,
                root: Hash::from_slice(&root).ok_or_else(bad)?,
                note: row.try_get("note")?,
            })
        })
        .transpose()
    }

    /// Handles an add-checkpoint body: returns the cosignature line.
    pub async fn add_checkpoint(&self, body: &str) -> Result<String, Refusal> {
        let req = AddCheckpoint::parse(body).map_err(|e| Refusal::BadRequest(e.to_string()))?;
        let (text, _) =
            split_note(&req.checkpoint).map_err(|e| Refusal::BadRequest(e.to_string()))?;
        let checkpoint = Checkpoint::parse(text).map_err(|e| Refusal::BadRequest(e.to_string()))?;
        let keys = self
            .inner
            .logs
            .get(&checkpoint.origin)
            .ok_or_else(|| Refusal::UnknownOrigin(checkpoint.origin.clone()))?;
        // Signatures by unknown keys are ignored; one by a trusted key that
        // fails makes the note malformed (c2sp.org/signed-note).
        let mut trusted = None;
        for k in keys {
            match k.open(&req.checkpoint) {
                Ok(_) => trusted = Some(k),
                Err(NoteError::NotSigned(_)) => {}
                Err(e) => return Err(Refusal::Forbidden(e.to_string())),
            }
        }
        let Some(log_key) = trusted else {
            return Err(Refusal::Forbidden(format!(
                "no signature by a key trusted for `{}`",
                checkpoint.origin
            )));
        };
        let _guard = self.inner.lock.lock().await;
        let held = self
            .latest(&checkpoint.origin)
            .await
            .map_err(|e| Refusal::Internal(e.to_string()))?;
        if let Err(refusal) = check(held.as_ref(), req.old, &req.proof, &checkpoint) {
            if matches!(refusal, Refusal::Inconsistent(_)) {
                // Validly signed but inconsistent: possible evidence of a
                // fork, kept in the witness's output (tlog-witness allows it).
                tracing::warn!(
                    origin = %checkpoint.origin,
                    size = checkpoint.size,
                    checkpoint = %req.checkpoint,
                    "refused an inconsistent checkpoint: {refusal}"
                );
            }
            return Err(refusal);
        }
        let timestamp = now_unix().map_err(|e| Refusal::Internal(e.to_string()))?;
        let line = self.inner.key.cosign(text, timestamp);
        // The monitoring copy: the text, the log's signatures the witness
        // verified, and its own cosignature.
        let log_prefix = format!("\u{2014} {} ", log_key.name());
        let mut note = format!("{text}\n");
        for l in req.checkpoint[text.len()..].lines() {
            if l.starts_with(&log_prefix) {
                note.push_str(l);
                note.push('\n');
            }
        }
        note.push_str(&line);
        let size = i64::try_from(checkpoint.size)
            .map_err(|_| Refusal::BadRequest("tree size beyond 2^63".into()))?;
        sqlx::query(
            "INSERT INTO witness_latest (origin, size, root, note) VALUES (?, ?, ?, ?)
             ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, note = excluded.note",
        )
        .bind(&checkpoint.origin)
        .bind(size)
        .bind(checkpoint.root.as_bytes().as_slice())
        .bind(&note)
        .execute(&self.inner.pool)
        .await
        .map_err(|e| Refusal::Internal(e.to_string()))?;
        Ok(line)
    }

    /// The witness's routes.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/add-checkpoint", post(add_checkpoint))
            .route("/{origin}/checkpoint", get(monitor))
            .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
            .with_state(self.clone())
    }

    /// Serves the witness until `shutdown` resolves.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }
}

async fn add_checkpoint(State(w): State<Witness>, body: axum::body::Bytes) -> Response {
    let Ok(body) = std::str::from_utf8(&body) else {
        return Refusal::BadRequest("the body is not UTF-8".into()).into_response();
    };
    match w.add_checkpoint(body).await {
        Ok(line) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            line,
        )
            .into_response(),
        Err(Refusal::Internal(why)) => {
            tracing::error!("witness internal error: {why}");
            Refusal::Internal(String::new()).into_response()
        }
        Err(r) => r.into_response(),
    }
}

/// `GET /<origin hash>/checkpoint` (c2sp.org/tlog-witness, "Monitor
/// Retrieval Mechanism").
async fn monitor(State(w): State<Witness>, UrlPath(hash): UrlPath<String>) -> Response {
    let Some(origin) = w.inner.logs.keys().find(|o| hex_sha256(o) == hash).cloned() else {
        return (StatusCode::NOT_FOUND, "unknown log\n").into_response();
    };
    match w.latest(&origin).await {
        Ok(Some(latest)) => (
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            latest.note,
        )
            .into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "no checkpoint cosigned yet\n").into_response(),
        Err(e) => {
            tracing::error!("witness internal error: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
        }
    }
}

/// Lowercase hex of the SHA-256 of an origin: the path segment of the
/// monitoring endpoint.
pub fn hex_sha256(origin: &str) -> String {
    Sha256::digest(origin.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
