//! Read-only queries for `writ check`, the consistency check of a data
//! folder: the events that claim a place in the log, and the package rows
//! that name an object. Each query pages by key so that a large store is
//! read in bounded memory.

use sqlx::Row;

use crate::{Result, Store, get};

/// An event the publisher has logged: its row and the log index it claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedEvent {
    pub seq: i64,
    pub case_id: Option<String>,
    pub kind: String,
    /// The entry's text, whose UTF-8 bytes are the log entry.
    pub entry: String,
    pub log_index: i64,
}

/// A package row as the check reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageObject {
    pub case_id: String,
    pub generation: i64,
    /// The object's name under the packages storage.
    pub object: String,
    /// SHA-256 (lowercase hex) of the object.
    pub sha256: String,
    pub size: i64,
    /// `sealed`, `ready` or `expired` (an expired package's object is gone).
    pub state: String,
}

impl Store {
    /// Events with a log index, by log index, from `after` (exclusive; -1
    /// for the first page), at most `limit`.
    pub async fn logged_events_after(&self, after: i64, limit: i64) -> Result<Vec<LoggedEvent>> {
        let rows = sqlx::query(
            "SELECT seq, case_id, kind, entry, log_index FROM events \
             WHERE log_index IS NOT NULL AND log_index > $1 ORDER BY log_index LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LoggedEvent {
                    seq: get(r, 0)?,
                    case_id: r.try_get(1)?,
                    kind: get(r, 2)?,
                    entry: get(r, 3)?,
                    log_index: get(r, 4)?,
                })
            })
            .collect()
    }

    /// Events in the `logged` state that have no log index: a publisher
    /// marks an event logged and records its index in one statement, so
    /// any such row is damage. Their sequence numbers, at most `limit`.
    pub async fn logged_events_without_index(&self, limit: i64) -> Result<Vec<i64>> {
        let rows = sqlx::query(
            "SELECT seq FROM events WHERE state = 'logged' AND log_index IS NULL \
             ORDER BY seq LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| get(r, 0)).collect()
    }

    /// Package rows after the case id `after` (exclusive; "" for the first
    /// page), by case id, at most `limit`.
    pub async fn package_objects_after(
        &self,
        after: &str,
        limit: i64,
    ) -> Result<Vec<PackageObject>> {
        let rows = sqlx::query(
            "SELECT case_id, generation, object, sha256, size, state FROM packages \
             WHERE case_id > $1 ORDER BY case_id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PackageObject {
                    case_id: get(r, 0)?,
                    generation: get(r, 1)?,
                    object: get(r, 2)?,
                    sha256: get(r, 3)?,
                    size: get(r, 4)?,
                    state: get(r, 5)?,
                })
            })
            .collect()
    }
}
