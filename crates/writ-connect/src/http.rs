//! The HTTP connector: a provider endpoint that streams NDJSON records.
//!
//! `GET {base}/accounts/{account}/{category}?from={from}&to={to}`, where
//! `{account}` is percent-encoded, `{category}` is one of `subscriber`,
//! `identification`, `traffic`, `location`, `content`, and `from`/`to` are
//! RFC 3339 UTC times (inclusive; both absent when the order has no range).
//! With a token, the request carries `Authorization: Bearer {token}`.
//!
//! The answer is `200` with `Content-Type: application/x-ndjson`: one JSON
//! object a line, each a record as it goes into the package, with an `at`
//! field (RFC 3339) dating it (optional in `subscriber`), and as its last
//! line a trailer `{"@end": {"records": N}}` giving the number of records
//! sent. A stream that ends without the trailer, or whose count differs, is
//! an error: a connection cut mid-stream must not pass for a short account.
//! `404` means the provider has no such account (no records). Any other
//! status is an error. See the crate's README for the full protocol.

use std::io::{BufRead, BufReader};
use std::time::Duration;

use serde_json::Value;
use writ_model::order::DateRange;
use writ_model::{Category, Timestamp};

use crate::{ConnectError, Connector, Json, Record, RecordStream};

/// Reads records from a provider endpoint.
#[derive(Clone, Debug)]
pub struct HttpConnector {
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl HttpConnector {
    /// `base` is the endpoint's URL prefix, without a trailing slash.
    pub fn new(base: &str, token: Option<String>) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            // A stream may run for a long time; only silence is an error.
            .timeout_recv_body(None)
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .build();
        Self {
            base: base.trim_end_matches('/').to_owned(),
            token,
            agent: config.into(),
        }
    }
}

impl Connector for HttpConnector {
    fn records(
        &self,
        account: &str,
        category: Category,
        range: Option<DateRange>,
    ) -> Result<RecordStream<'_>, ConnectError> {
        let url = format!(
            "{}/accounts/{}/{}",
            self.base,
            percent_encode(account),
            category.as_str()
        );
        let mut request = self.agent.get(&url);
        if let Some(r) = range {
            request = request
                .query("from", r.from.to_string())
                .query("to", r.to.to_string());
        }
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let response = request
            .call()
            .map_err(|e| ConnectError::Http(e.to_string()))?;
        match response.status().as_u16() {
            200 => {}
            404 => return Ok(Box::new(std::iter::empty())),
            code => return Err(ConnectError::Http(format!("`{url}` answered {code}"))),
        }
        let reader = BufReader::with_capacity(256 * 1024, response.into_body().into_reader());
        Ok(Box::new(NdjsonStream {
            reader,
            account: account.to_owned(),
            category,
            records: 0,
            ended: false,
            failed: false,
        }))
    }
}

struct NdjsonStream<R> {
    reader: R,
    account: String,
    category: Category,
    records: u64,
    ended: bool,
    failed: bool,
}

impl<R: BufRead> NdjsonStream<R> {
    fn read_one(&mut self) -> Result<Option<Record>, ConnectError> {
        let mut line = Vec::new();
        loop {
            line.clear();
            let n =
                self.reader
                    .read_until(b'\n', &mut line)
                    .map_err(|source| ConnectError::Io {
                        what: "cannot read the provider's stream",
                        source,
                    })?;
            if n == 0 {
                if self.ended {
                    return Ok(None);
                }
                return Err(ConnectError::Protocol(format!(
                    "the stream ended after {} records without its `@end` trailer",
                    self.records
                )));
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if self.ended {
                return Err(ConnectError::Protocol(
                    "data after the `@end` trailer".into(),
                ));
            }
            let text = std::str::from_utf8(&line)
                .map_err(|e| ConnectError::Protocol(format!("line {}: {e}", self.records + 1)))?;
            // Only `at` and `@end` are read; the rest is checked to be JSON
            // and kept as sent, without building values for it.
            let (data, peek) = Json::read::<Peek>(text)
                .map_err(|e| ConnectError::Protocol(format!("line {}: {e}", self.records + 1)))?;
            if peek.end.0 && self.is_trailer(data.as_str())? {
                continue;
            }
            let at = match peek.at {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(
                    Timestamp::parse(&s)
                        .map_err(|e| ConnectError::Protocol(format!("`at`: {e}")))?,
                ),
                Some(other) => {
                    return Err(ConnectError::Protocol(format!(
                        "`at` is {other}, not a time"
                    )));
                }
            };
            self.records += 1;
            return Ok(Some(Record {
                account: self.account.clone(),
                category: self.category,
                at,
                data,
            }));
        }
    }

    /// Whether `text`, a line with an `@end` field, is the trailer (an
    /// object with that field alone); if so, checks its count and ends the
    /// stream.
    fn is_trailer(&mut self, text: &str) -> Result<bool, ConnectError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| ConnectError::Protocol(format!("line {}: {e}", self.records + 1)))?;
        let Some(end) = value
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.get("@end"))
        else {
            return Ok(false);
        };
        let sent = end.get("records").and_then(Value::as_u64);
        if sent != Some(self.records) {
            let announced = match sent {
                Some(n) => format!("the trailer announces {n} records"),
                None => "the trailer gives no count of records (`records`)".to_owned(),
            };
            return Err(ConnectError::Protocol(format!(
                "{announced}, {} were received",
                self.records
            )));
        }
        self.ended = true;
        Ok(true)
    }
}

/// The fields of a line that the connector reads; the others are skipped.
#[derive(serde::Deserialize)]
struct Peek {
    #[serde(default)]
    at: Option<Value>,
    #[serde(rename = "@end", default)]
    end: Present,
}

/// Whether a field is there, whatever its value (`null` included, which an
/// `Option` would take for absence).
#[derive(Default)]
struct Present(bool);

impl<'de> serde::Deserialize<'de> for Present {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d)?;
        Ok(Present(true))
    }
}

impl<R: BufRead> Iterator for NdjsonStream<R> {
    type Item = Result<Record, ConnectError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.read_one() {
            Ok(Some(r)) => Some(Ok(r)),
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
