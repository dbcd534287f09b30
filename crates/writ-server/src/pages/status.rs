//! `/status`: the public log status page.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use maud::html;

use super::{PageError, layout, page};
use crate::{AppError, AppState};

pub(crate) async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let log = state.inner.log.as_ref().ok_or_else(|| {
        PageError::new(
            AppError::Unavailable("this server has no transparency log".into()),
            "/",
        )
    })?;
    let published = log.checkpoint();
    let cp = &published.checkpoint;
    let vkey = log.vkey().to_string();
    let root = base64::engine::general_purpose::STANDARD.encode(cp.root.0);
    // The URL the reader used, so that the commands can be pasted as shown.
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    let prefix = format!("http://{host}/log");
    let content = html! {
        p { "Every event of every case is an entry in an append-only Merkle log ("
            a href="https://c2sp.org/tlog-tiles" { "C2SP tlog-tiles" } ", RFC 6962 hashing), "
            "signed as Ed25519 checkpoints. Anyone can check it with tools Writ did not write." }
        dl {
            dt { "Origin" } dd { code { (cp.origin) } }
            dt { "Entries (tree size)" } dd { strong #log-size { (cp.size) } }
            dt { "Root hash (base64)" } dd { code { (root) } }
            dt { "Verifier key" } dd { code #vkey { (vkey) } " (" a href="/log/vkey" { "as text" } ")" }
        }
        h2 { "Latest checkpoint" }
        pre { code { (published.note) } }
        p { a href="/log/checkpoint" { "/log/checkpoint" } " serves it as text; tiles and entry bundles are under " code { "/log/tile/" } "." }
        h2 { "How to verify" }
        p { "Check the checkpoint's signature, recompute every hash tile from the entry bundles and compare the root:" }
        pre { code { "writ log verify --url " (prefix) " --vkey \"$(curl -s " (prefix) "/vkey)\" > checkpoint.txt" } }
        p { "Later, check that the log only grew since the checkpoint you kept:" }
        pre { code { "writ log verify --url " (prefix) " --vkey \"$(curl -s " (prefix) "/vkey)\" --since checkpoint.txt" } }
        p { "The figures of the " a href="/transparency" { "transparency report" } " are computed from this log's public fields." }
    };
    Ok(page(
        StatusCode::OK,
        layout(
            "Log status",
            html! {
                a href="/status" { "Log status" }
                a href="/transparency" { "Transparency report" }
                a href="/console" { "Console" }
                a href="/portal" { "Agency portal" }
            },
            content,
        ),
    ))
}
