use writ_connect::Connector;
use writ_connect::sql::{SqlConfig, SqlConnector};
use writ_model::Category;

use crate::{block_on, range};

fn provider_db(path: &std::path::Path) {
    block_on(async {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        for stmt in [
            "CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT, email TEXT)",
            "CREATE TABLE messages (owner TEXT, sent_at BIGINT, sender TEXT, size BIGINT, score REAL, raw BLOB)",
            "INSERT INTO users VALUES ('u1', 'Ada', 'ada@example.com'), ('u2', 'Bram', 'bram@example.com')",
            "INSERT INTO messages VALUES
               ('u1', 1767225600, 'x@example.com', 10, 0.5, x'0102'),
               ('u1', 1772323200, 'y@example.com', 20, NULL, NULL),
               ('u1', 1798761600, 'z@example.com', 30, 1.5, NULL),
               ('u2', 1772323200, 'w@example.com', 40, 2.5, NULL)",
        ] {
            sqlx::query(stmt).execute(&mut conn).await.unwrap();
        }
    });
}

#[test]
fn queries_per_category_with_the_account_and_range_bound() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("provider.db");
    provider_db(&db);
    let config = SqlConfig::parse(&format!(
        r#"
database = "sqlite://{}"
[queries]
subscriber = "SELECT id AS account, name, email FROM users WHERE id = $1"
traffic = "SELECT sent_at AS at, sender, size, score, raw FROM messages WHERE owner = $1 AND sent_at BETWEEN $2 AND $3 ORDER BY sent_at"
"#,
        db.display()
    ))
    .unwrap();
    let sql = SqlConnector::new(config);
    let r = range("2026-01-01T00:00:00Z", "2026-06-30T00:00:00Z");
    let traffic: Vec<_> = sql
        .records("u1", Category::Traffic, Some(r))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(traffic.len(), 2);
    assert_eq!(traffic[0].at.unwrap().to_string(), "2026-01-01T00:00:00Z");
    assert_eq!(traffic[0].data.value().unwrap()["sender"], "x@example.com");
    assert_eq!(traffic[0].data.value().unwrap()["raw"], "AQI=");
    assert_eq!(traffic[0].data.value().unwrap()["score"], 0.5);
    assert!(traffic[1].data.value().unwrap()["score"].is_null());
    let profile: Vec<_> = sql
        .records("u2", Category::Subscriber, None)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(profile.len(), 1);
    assert_eq!(profile[0].data.value().unwrap()["name"], "Bram");
    assert!(profile[0].at.is_none());
    assert!(sql.records("u1", Category::Content, None).is_err());
}

#[test]
fn a_broken_query_is_an_error_in_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("provider.db");
    provider_db(&db);
    let config = SqlConfig::parse(&format!(
        "database = \"sqlite://{}\"\n[queries]\ntraffic = \"SELECT * FROM nowhere WHERE owner = $1\"\n",
        db.display()
    ))
    .unwrap();
    let sql = SqlConnector::new(config);
    let mut stream = sql.records("u1", Category::Traffic, None).unwrap();
    assert!(stream.next().unwrap().is_err());
    assert!(stream.next().is_none());
    assert!(SqlConfig::parse("database = 1").is_err());
}
