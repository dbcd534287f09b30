//! A small HTTP client for the agency and review commands: signs agency
//! requests (RFC 9421) and reads problem details.

use std::path::Path;

use anyhow::Context;
use ed25519_dalek::SigningKey;
use writ_gateway::demo::{key_id, read_signing_key};
use writ_model::{CaseStatus, Category, Outcome, Status};

use crate::input::BadInput;

/// What came back: status and body.
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The problem's `detail`, or the body.
    pub fn detail(&self) -> String {
        serde_json::from_str::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v["detail"].as_str().map(str::to_owned))
            .unwrap_or_else(|| self.body.clone())
    }
}

/// An agency's signing identity.
pub struct Signer {
    pub key: SigningKey,
    pub key_id: String,
}

impl Signer {
    pub fn load(agency: &str, path: &Path) -> anyhow::Result<Signer> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| BadInput(format!("{}: cannot read: {e}", path.display())))?;
        let key = read_signing_key(&text).ok_or_else(|| {
            BadInput(format!(
                "{}: not a signing key (base64 of a 32-byte Ed25519 seed)",
                path.display()
            ))
        })?;
        Ok(Signer {
            key_id: key_id(agency, &key.verifying_key()),
            key,
        })
    }

    pub fn headers(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> anyhow::Result<Vec<(String, String)>> {
        let nonce = hex_nonce()?;
        let (digest, input, signature) = writ_server::httpsig::sign(
            &self.key,
            &self.key_id,
            method,
            path,
            body,
            writ_model::Timestamp::now().as_second(),
            &nonce,
        );
        Ok(vec![
            ("content-digest".into(), digest),
            ("signature-input".into(), input),
            ("signature".into(), signature),
        ])
    }
}

fn hex_nonce() -> anyhow::Result<String> {
    let bytes = writ_gateway::random_bytes::<16>().context("random nonce")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Sends a request; `signer` signs it, `token` adds a bearer token.
pub async fn send(
    client: &reqwest::Client,
    server: &str,
    method: &str,
    path: &str,
    body: Vec<u8>,
    signer: Option<&Signer>,
    token: Option<&str>,
) -> anyhow::Result<Answer> {
    let url = format!("{}{path}", server.trim_end_matches('/'));
    let m = reqwest::Method::from_bytes(method.as_bytes()).context("method")?;
    let mut request = client.request(m, &url);
    if let Some(s) = signer {
        for (k, v) in s.headers(method, path, &body)? {
            request = request.header(k, v);
        }
    }
    if let Some(t) = token {
        request = request.header("authorization", format!("Bearer {t}"));
    }
    if !body.is_empty() {
        request = request.header("content-type", "application/json");
    }
    let response = request
        .body(body)
        .send()
        .await
        .with_context(|| format!("cannot reach `{url}`"))?;
    let status = response.status().as_u16();
    let body = response.text().await.context("reading the answer")?;
    Ok(Answer { status, body })
}

/// A runtime for a command.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Prints a `{"case", "decision"}` answer for people.
pub fn print_answer(body: &str) -> anyhow::Result<()> {
    let v: serde_json::Value =
        serde_json::from_str(body).context("the server's answer is not JSON")?;
    let d = &v["decision"];
    let word = |s: &serde_json::Value, f: fn(&str) -> Option<&'static str>| {
        let raw = s.as_str().unwrap_or("?");
        f(raw).unwrap_or(raw).to_owned()
    };
    println!("Case       {}", v["case"].as_str().unwrap_or("?"));
    if let Some(st) = v["status"].as_str() {
        println!(
            "Status     {}",
            CaseStatus::parse(st).map_or(st, |x| x.label())
        );
    }
    println!(
        "Outcome    {}",
        word(&d["outcome"], |s| Outcome::parse(s).map(Outcome::label))
    );
    println!("Deadline   {}", d["due_at"].as_str().unwrap_or("-"));
    if let Some(t) = d["not_before"].as_str() {
        println!("Not before {t}");
    }
    if let Some(t) = d["preserve_until"].as_str() {
        println!("Preserved until {t} (preserve_until): data is held, nothing is disclosed");
    }
    if let Some(pairs) = d["decisions"].as_array().filter(|p| !p.is_empty()) {
        let rows: Vec<[String; 3]> = pairs
            .iter()
            .map(|p| {
                [
                    p["target"].as_str().unwrap_or("?").to_owned(),
                    word(&p["category"], |s| Category::parse(s).map(Category::label)),
                    word(&p["status"], |s| Status::parse(s).map(Status::label)),
                ]
            })
            .collect();
        println!();
        print_table(&["Target", "Category", "Decision"], &rows);
    }
    if let Some(reasons) = d["reasons"].as_array().filter(|r| !r.is_empty()) {
        println!();
        println!("Reasons:");
        for r in reasons {
            println!(
                "  {} ({})",
                r["message"].as_str().unwrap_or(""),
                r["citation"].as_str().unwrap_or("")
            );
        }
    }
    Ok(())
}

/// Prints rows under a header, each column as wide as its widest cell.
pub fn print_table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let text: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", text.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}
