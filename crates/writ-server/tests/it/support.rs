//! `TestApp`: the real application on a temporary data folder, with the demo
//! agencies' keys and console users at hand.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;
use writ_gateway::demo::{key_id, read_signing_key};
use writ_model::Timestamp;
use writ_server::ServerConfig;
use writ_server::app::{App, AppOptions};

pub struct TestApp {
    pub app: App,
    pub router: axum::Router,
    pub dir: tempfile::TempDir,
    /// Console users' tokens by name: rita (reviewer), alex and avery
    /// (approvers), adam (admin).
    pub tokens: HashMap<String, String>,
    /// The case store's URL when it is not the data folder's SQLite file.
    pub database: Option<String>,
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// Asserts an RFC 9457 problem with this status.
    pub fn assert_problem(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert_eq!(
            self.headers.get("content-type").unwrap(),
            "application/problem+json",
            "{}",
            self.text
        );
        let v = self.json();
        assert_eq!(v["status"], status);
        assert!(v["title"].is_string() && v["detail"].is_string());
        v
    }
}

/// A signed request's headers.
pub struct Signed {
    pub headers: Vec<(String, String)>,
}

pub fn sign(
    agency: &str,
    key: &ed25519_dalek::SigningKey,
    method: &str,
    path: &str,
    body: &[u8],
    created: i64,
) -> Signed {
    let nonce: String = writ_gateway::random_bytes::<12>()
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let (d, i, s) = writ_server::httpsig::sign(
        key,
        &key_id(agency, &key.verifying_key()),
        method,
        path,
        body,
        created,
        &nonce,
    );
    Signed {
        headers: vec![
            ("content-digest".into(), d),
            ("signature-input".into(), i),
            ("signature".into(), s),
        ],
    }
}

/// The case store for a test: SQLite in the data folder, or a new database on
/// the PostgreSQL server named by `WRIT_TEST_DATABASE` (`.ci/run` runs this
/// test binary a second time that way).
pub async fn test_database() -> Option<String> {
    let url = std::env::var("WRIT_TEST_DATABASE").ok()?;
    Some(writ_testdb::fresh_database(&url, "writ_server").await)
}

impl TestApp {
    pub async fn start() -> TestApp {
        Self::start_with(ServerConfig {
            rate_limit: 0,
            ..ServerConfig::default()
        })
        .await
    }

    pub async fn start_with(server: ServerConfig) -> TestApp {
        Self::start_in(tempfile::tempdir().unwrap(), |o| o.server = server).await
    }

    /// The demo application on `dir` (a fresh folder, or one a stopped
    /// application left), with options adjusted by `adjust`.
    pub async fn start_in(dir: tempfile::TempDir, adjust: impl FnOnce(&mut AppOptions)) -> TestApp {
        let mut options = AppOptions {
            demo: true,
            server: ServerConfig {
                rate_limit: 0,
                ..ServerConfig::default()
            },
            log_period: std::time::Duration::from_millis(100),
            delivery_tick: std::time::Duration::from_millis(200),
            database: test_database().await,
            lease_poll: std::time::Duration::from_millis(50),
            ..AppOptions::new(dir.path())
        };
        adjust(&mut options);
        let database = options.database.clone();
        let app = App::start(options).await.unwrap();
        let users = std::fs::read_to_string(dir.path().join("demo/console-users.txt")).unwrap();
        let tokens = writ_gateway::demo::read_users(&users)
            .into_iter()
            .map(|(_, name, token)| (name, token))
            .collect();
        TestApp {
            router: app.router(),
            app,
            dir,
            tokens,
            database,
        }
    }

    pub fn data(&self) -> &Path {
        self.dir.path()
    }

    pub fn key_path(&self, agency: &str) -> PathBuf {
        self.data()
            .join("demo/agencies")
            .join(agency)
            .join("signing.key")
    }

    pub fn key(&self, agency: &str) -> ed25519_dalek::SigningKey {
        read_signing_key(&std::fs::read_to_string(self.key_path(agency)).unwrap()).unwrap()
    }

    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Resp {
        let mut req = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let response = self
            .router
            .clone()
            .oneshot(req.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        Resp {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            bytes: bytes.to_vec(),
        }
    }

    /// A request signed by `agency`'s demo key.
    pub async fn signed(&self, agency: &str, method: &str, path: &str, body: &[u8]) -> Resp {
        let s = sign(
            agency,
            &self.key(agency),
            method,
            path,
            body,
            Timestamp::now().as_second(),
        );
        self.raw(method, path, &s.headers, body.to_vec()).await
    }

    pub async fn submit(&self, agency: &str, order: &Value) -> Resp {
        self.signed(agency, "POST", "/v1/orders", order.to_string().as_bytes())
            .await
    }

    /// A request with a console user's token.
    pub async fn as_user(&self, user: &str, method: &str, path: &str, body: Option<Value>) -> Resp {
        let token = self.tokens[user].clone();
        self.raw(
            method,
            path,
            &[("authorization".into(), format!("Bearer {token}"))],
            body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
        )
        .await
    }

    /// The kinds of a case's events, oldest first.
    pub async fn event_kinds(&self, case: &str) -> Vec<String> {
        self.app
            .gateway()
            .store()
            .events_for_case(case)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }

    /// Cases in the store and events in the outbox: what must not change
    /// when a request is refused.
    pub async fn state(&self) -> (i64, Vec<(String, i64)>) {
        let store = self.app.gateway().store();
        // Let delivery finish what earlier changes released (it runs in the
        // background and logs `disclosed`), so that only the request under
        // test could change the state.
        // Notices wait for the publisher to log the case's events, so wait
        // for the outbox to drain as well.
        // A notice falls due only once the publisher has logged the events
        // before it, so a quiet pass counts only when every event was logged
        // before it and nothing was added meanwhile.
        let settled = || async {
            let counts = store.event_counts().await.unwrap();
            let pending = counts.iter().any(|(state, n)| state == "pending" && *n > 0);
            (counts.iter().map(|(_, n)| n).sum::<i64>(), pending)
        };
        loop {
            let before = settled().await;
            let pass = self.app.gateway().deliver_once().await.unwrap();
            let after = settled().await;
            if pass == Default::default() && !before.1 && before == after {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let mut events = store.event_counts().await.unwrap();
        // Publishing moves events from pending to logged; count them all.
        let total: i64 = events.iter().map(|(_, n)| n).sum();
        events = vec![("all".into(), total)];
        (store.case_count().await.unwrap(), events)
    }
}

/// A subpoena for subscriber data of a demo account, issued yesterday.
pub fn subpoena(agency: &str, reference: &str, email: &str) -> Value {
    json!({
        "reference": reference,
        "agency": agency,
        "instrument": "subpoena",
        "legal_basis": "18 U.S.C. § 2703(c)(2)",
        "issued_by": {"kind": "prosecutor"},
        "issued_at": Timestamp::now().plus_days(-1),
        "targets": [{"kind": "email", "value": email}],
        "categories": ["subscriber"],
    })
}

/// A search warrant for content (goes to review: content needs two people).
pub fn warrant(agency: &str, reference: &str, email: &str) -> Value {
    json!({
        "reference": reference,
        "agency": agency,
        "instrument": "search_warrant",
        "legal_basis": "18 U.S.C. § 2703(a); Fed. R. Crim. P. 41",
        "issued_by": {"kind": "judge"},
        "issued_at": Timestamp::now().plus_days(-1),
        "expires_at": Timestamp::now().plus_days(10),
        "targets": [{"kind": "email", "value": email}],
        "categories": ["subscriber", "content"],
        "date_range": {"from": "2026-01-01T00:00:00Z", "to": "2026-06-30T23:59:59Z"},
    })
}
