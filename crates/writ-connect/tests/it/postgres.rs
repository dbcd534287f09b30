//! Holds and the SQL connector on PostgreSQL, when `WRIT_TEST_POSTGRES`
//! names a server (CI starts one); the provider's own deletion path is the
//! README's single statement.

use writ_connect::Connector;
use writ_connect::Holds;
use writ_connect::sql::{SqlConfig, SqlConnector};
use writ_model::{Category, Timestamp};

use crate::{block_on, range};

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

/// A fresh database on the test server, or `None` (skipped) without one.
fn fresh_database() -> Option<String> {
    let Ok(url) = std::env::var("WRIT_TEST_POSTGRES") else {
        eprintln!("skipped the PostgreSQL run: set WRIT_TEST_POSTGRES to a server URL");
        return None;
    };
    Some(block_on(writ_testdb::fresh_database(&url, "writ_connect")))
}

#[test]
fn holds_and_queries_on_postgresql() {
    let Some(url) = fresh_database() else { return };
    block_on(async {
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        for stmt in [
            "CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT, email TEXT)",
            "CREATE TABLE messages (owner TEXT, sent_at BIGINT, sender TEXT, size BIGINT)",
            "INSERT INTO users VALUES ('u1', 'Ada', 'ada@example.com')",
            "INSERT INTO messages VALUES ('u1', 1767225600, 'x@example.com', 10), \
             ('u1', 1798761600, 'z@example.com', 30)",
        ] {
            sqlx::query(stmt).execute(&pool).await.unwrap();
        }
        let holds = Holds::open(&url).await.unwrap();
        let until = t("2027-03-01T00:00:00Z");
        holds
            .place("c-1", "u1", &[Category::Content, Category::Traffic], until)
            .await
            .unwrap();
        let during = t("2027-01-01T00:00:00Z");
        assert_eq!(
            holds
                .held_until("u1", Category::Traffic, during)
                .await
                .unwrap(),
            Some(until)
        );
        // The provider's deletion path, as the README shows it: delete only
        // where no hold is active, in the same statement.
        let delete = "DELETE FROM messages WHERE owner = $1 AND NOT EXISTS (
             SELECT 1 FROM writ_holds WHERE account = $1 AND category = 'traffic' AND until_s > $2)";
        let done = sqlx::query(delete)
            .bind("u1")
            .bind(during.as_second())
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(done.rows_affected(), 0, "held data must not be deleted");

        let sql = SqlConnector::new(
            SqlConfig::parse(&format!(
                r#"
database = "{url}"
[queries]
subscriber = "SELECT id AS account, name, email FROM users WHERE id = $1"
traffic = "SELECT sent_at AS at, sender, size FROM messages WHERE owner = $1 AND sent_at BETWEEN $2 AND $3 ORDER BY sent_at"
"#
            ))
            .unwrap(),
        );
        let sql_records = tokio::task::spawn_blocking(move || {
            let r = range("2026-01-01T00:00:00Z", "2026-06-30T00:00:00Z");
            sql.records("u1", Category::Traffic, Some(r))
                .unwrap()
                .map(Result::unwrap)
                .collect::<Vec<_>>()
        })
        .await
        .unwrap();
        assert_eq!(sql_records.len(), 1);
        assert_eq!(
            sql_records[0].data.value().unwrap()["sender"],
            "x@example.com"
        );

        // Once the hold lapses it is reported once and deletion proceeds.
        let after = t("2027-03-02T00:00:00Z");
        assert_eq!(holds.lapse_holds(after).await.unwrap().len(), 2);
        assert!(holds.lapse_holds(after).await.unwrap().is_empty());
        let done = sqlx::query(delete)
            .bind("u1")
            .bind(after.as_second())
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(done.rows_affected(), 2);
    });
}
