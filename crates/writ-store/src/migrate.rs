//! A small migration runner: numbered SQL files embedded in the binary,
//! applied in order, each in its own transaction, recorded in
//! `schema_migrations`. One set of files serves both databases; the only
//! dialect difference, the auto-incrementing key, is a placeholder.

use sqlx::AssertSqlSafe;

use crate::{Backend, Result, Store};

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_initial.sql")),
    (
        2,
        include_str!("../migrations/0002_delivery_and_notices.sql"),
    ),
    (3, include_str!("../migrations/0003_portal_sessions.sql")),
    (4, include_str!("../migrations/0004_sign_in_failures.sql")),
    (5, include_str!("../migrations/0005_release_notices.sql")),
    (6, include_str!("../migrations/0006_hardening.sql")),
    (7, include_str!("../migrations/0007_notice_backoff.sql")),
    (8, include_str!("../migrations/0008_certificates.sql")),
    (
        9,
        include_str!("../migrations/0009_agency_notifications.sql"),
    ),
    (10, include_str!("../migrations/0010_clarifications.sql")),
    (11, include_str!("../migrations/0011_officers.sql")),
    (12, include_str!("../migrations/0012_corrections.sql")),
    (13, include_str!("../migrations/0013_mailbox.sql")),
];

/// Serializes migrations on PostgreSQL, where several servers may start
/// together against one database (a transaction-level advisory lock; the
/// outer select keeps the `void` result away from the `Any` driver).
const PG_LOCK: &str = "SELECT 1 FROM (SELECT pg_advisory_xact_lock(7877016436547584001)) AS l";

pub(crate) async fn run(store: &Store) -> Result<()> {
    let _g = store.write_guard().await;
    let mut tx = store.begin_write().await?;
    if store.backend() == Backend::Postgres {
        sqlx::query(PG_LOCK).execute(&mut *tx).await?;
    }
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let serial = match store.backend() {
        Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        Backend::Postgres => "BIGSERIAL PRIMARY KEY",
    };
    for (version, sql) in MIGRATIONS {
        let mut tx = store.begin_write().await?;
        if store.backend() == Backend::Postgres {
            // Servers starting together against one database take turns.
            sqlx::query(PG_LOCK).execute(&mut *tx).await?;
        }
        let done = sqlx::query("SELECT version FROM schema_migrations WHERE version = $1")
            .bind(*version)
            .fetch_optional(&mut *tx)
            .await?;
        if done.is_some() {
            continue;
        }
        let sql = sql.replace("{{SERIAL}}", serial);
        for statement in statements(&sql) {
            sqlx::query(AssertSqlSafe(statement))
                .execute(&mut *tx)
                .await?;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(*version)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Splits a migration into statements, dropping `--` comments.
fn statements(sql: &str) -> Vec<String> {
    let mut text = String::new();
    for line in sql.lines() {
        let line = match line.find("--") {
            Some(i) => &line[..i],
            None => line,
        };
        text.push_str(line);
        text.push('\n');
    }
    text.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}
