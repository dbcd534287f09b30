//! The SQL connector: one query per category, configured in a TOML file,
//! run against PostgreSQL or SQLite through sqlx's `Any` driver.
//!
//! ```toml
//! database = "postgres://reader@db.internal/mail"   # or "sqlite:///srv/mail.db"
//! time = "epoch"                                    # or "rfc3339"
//!
//! [queries]
//! subscriber = "SELECT id AS account, name, email FROM users WHERE id = $1"
//! traffic = """SELECT sent_at AS at, sender, recipient, size FROM messages
//!              WHERE owner = $1 AND sent_at BETWEEN $2 AND $3 ORDER BY sent_at"""
//! ```
//!
//! `$1` is the account id, `$2` and `$3` the order's range (`from`, `to`,
//! inclusive) as integer seconds since the epoch or as RFC 3339 text per
//! `time`; a query binds only the parameters it names. Each row becomes one
//! JSON object keyed by column name; a column named `at` dates the record
//! and is required in every category but `subscriber`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc;

use serde::Deserialize;
use serde_json::{Map, Value};
use sqlx::any::{AnyRow, AnyTypeInfoKind};
use sqlx::{Column, Row, ValueRef};
use writ_model::order::DateRange;
use writ_model::{Category, Timestamp};

use crate::{ConnectError, Connector, Json, Record, RecordStream};

/// How times are passed to and read from the database.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeFormat {
    /// Integer seconds since 1970-01-01T00:00:00Z.
    #[default]
    Epoch,
    /// RFC 3339 text, UTC (`2026-11-28T12:00:00Z`), which sorts as time.
    Rfc3339,
}

/// The connector's configuration file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlConfig {
    pub database: String,
    #[serde(default)]
    pub time: TimeFormat,
    pub queries: BTreeMap<Category, String>,
}

impl SqlConfig {
    pub fn parse(text: &str) -> Result<Self, ConnectError> {
        toml::from_str(text).map_err(|e| ConnectError::Config(e.to_string()))
    }

    pub fn load(path: &Path) -> Result<Self, ConnectError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConnectError::Io {
            what: "cannot read the SQL connector configuration",
            source,
        })?;
        Self::parse(&text)
    }
}

/// Rows in flight between the query and the reader: bounded, so that a fast
/// database cannot fill memory ahead of a slow package writer.
const IN_FLIGHT: usize = 64;

/// Runs the configured queries.
#[derive(Clone, Debug)]
pub struct SqlConnector {
    config: SqlConfig,
}

impl SqlConnector {
    pub fn new(config: SqlConfig) -> Self {
        sqlx::any::install_default_drivers();
        Self { config }
    }
}

impl Connector for SqlConnector {
    fn records(
        &self,
        account: &str,
        category: Category,
        range: Option<DateRange>,
    ) -> Result<RecordStream<'_>, ConnectError> {
        let query = self
            .config
            .queries
            .get(&category)
            .ok_or(ConnectError::NotConfigured(category))?
            .clone();
        let params = highest_parameter(&query);
        let url = self.config.database.clone();
        let time = self.config.time;
        let account = account.to_owned();
        let (tx, rx) = mpsc::sync_channel::<Result<Record, ConnectError>>(IN_FLIGHT);
        // sqlx is async; the connector's interface is a blocking iterator.
        // The query runs on its own thread with its own small runtime, so
        // the iterator works from any thread, inside an async server or not.
        let spawned = std::thread::Builder::new()
            .name("writ-sql".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(source) => {
                        let _ = tx.send(Err(ConnectError::Io {
                            what: "cannot start the SQL runtime",
                            source,
                        }));
                        return;
                    }
                };
                runtime.block_on(run(url, query, params, time, account, category, range, tx));
            });
        spawned.map_err(|source| ConnectError::Io {
            what: "cannot start the SQL thread",
            source,
        })?;
        Ok(Box::new(rx.into_iter()))
    }
}

#[allow(clippy::too_many_arguments)]
async fn run(
    url: String,
    query: String,
    params: usize,
    time: TimeFormat,
    account: String,
    category: Category,
    range: Option<DateRange>,
    tx: mpsc::SyncSender<Result<Record, ConnectError>>,
) {
    use sqlx::Connection;
    let mut conn = match sqlx::AnyConnection::connect(&url).await {
        Ok(c) => c,
        Err(e) => {
            let _ = tx.send(Err(e.into()));
            return;
        }
    };
    let (from, to) = match range {
        Some(r) => (r.from.as_second(), r.to.as_second()),
        None => (i64::MIN / 2, i64::MAX / 2),
    };
    // The query is the provider's own configuration, not user input.
    let mut q = sqlx::query(sqlx::AssertSqlSafe(query));
    if params >= 1 {
        q = q.bind(account.clone());
    }
    for bound in [from, to].into_iter().take(params.saturating_sub(1)) {
        q = match time {
            TimeFormat::Epoch => q.bind(bound),
            TimeFormat::Rfc3339 => q.bind(rfc3339(bound)),
        };
    }
    let mut rows = q.fetch(&mut conn);
    while let Some(row) = std::future::poll_fn(|cx| rows.as_mut().poll_next(cx)).await {
        let record = row
            .map_err(ConnectError::from)
            .and_then(|row| record_of(&row, &account, category, time));
        let failed = record.is_err();
        if tx.send(record).is_err() || failed {
            // The reader stopped listening, or the stream is over.
            return;
        }
    }
}

fn rfc3339(seconds: i64) -> String {
    match Timestamp::from_second(seconds) {
        Some(t) => t.to_string(),
        None if seconds < 0 => "0001-01-01T00:00:00Z".into(),
        None => "9999-12-31T23:59:59Z".into(),
    }
}

/// The highest `$N` a query names.
fn highest_parameter(query: &str) -> usize {
    let bytes = query.as_bytes();
    let mut highest = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'$' {
            let digits: String = query
                .get(i + 1..)
                .unwrap_or("")
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(n) = digits.parse::<usize>() {
                highest = highest.max(n);
            }
        }
    }
    highest
}

fn record_of(
    row: &AnyRow,
    account: &str,
    category: Category,
    time: TimeFormat,
) -> Result<Record, ConnectError> {
    let mut object = Map::new();
    for (i, column) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(i)?;
        let value = if raw.is_null() {
            Value::Null
        } else {
            match raw.type_info().kind() {
                AnyTypeInfoKind::Null => Value::Null,
                AnyTypeInfoKind::Bool => Value::from(row.try_get::<bool, _>(i)?),
                AnyTypeInfoKind::SmallInt | AnyTypeInfoKind::Integer | AnyTypeInfoKind::BigInt => {
                    Value::from(row.try_get::<i64, _>(i)?)
                }
                AnyTypeInfoKind::Real | AnyTypeInfoKind::Double => {
                    Value::from(row.try_get::<f64, _>(i)?)
                }
                AnyTypeInfoKind::Text => Value::from(row.try_get::<String, _>(i)?),
                AnyTypeInfoKind::Blob => {
                    use base64::Engine;
                    Value::from(
                        base64::engine::general_purpose::STANDARD
                            .encode(row.try_get::<Vec<u8>, _>(i)?),
                    )
                }
            }
        };
        object.insert(column.name().to_owned(), value);
    }
    let at = match object.get("at") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if time == TimeFormat::Epoch => {
            let t = n.as_i64().and_then(Timestamp::from_second);
            Some(t.ok_or_else(|| {
                ConnectError::Protocol(format!("column `at` holds {n}, not a time"))
            })?)
        }
        Some(Value::String(s)) => Some(
            Timestamp::parse(s).map_err(|e| ConnectError::Protocol(format!("column `at`: {e}")))?,
        ),
        Some(other) => {
            return Err(ConnectError::Protocol(format!(
                "column `at` holds {other}, not a time"
            )));
        }
    };
    Ok(Record {
        account: account.to_owned(),
        category,
        at,
        data: Json::of(&object)
            .map_err(|e| ConnectError::Protocol(format!("cannot write the row as JSON: {e}")))?,
    })
}
