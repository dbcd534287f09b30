//! The response letter: what the provider answers an agency about one of
//! its cases, as a page it can print or file (`GET /v1/cases/{id}/letter`,
//! `GET /portal/cases/{id}/letter`; docs/http.md, "Response letters").
//!
//! It says what was produced (per target and category, the package's
//! SHA-256 and size), what was refused or not released and why (each
//! reason's message and its legal citation), what is still pending, and how
//! to check it against the public log. It speaks only of the identifiers the
//! agency sent: an order refused as a whole names no account and says
//! nothing about whether any exists.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use writ_gateway::CaseView;
use writ_gateway::read::{AgencyPair, agency_pairs};
use writ_model::Timestamp;
use writ_store::PackageRow;

use super::time;

const STYLE: &str = "body{font:11pt/1.45 Georgia,serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#111}\
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #999}\
table{border-collapse:collapse;width:100%}th,td{border:1px solid #999;padding:.25rem .4rem;text-align:left;vertical-align:top}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:700}dd{margin:0}\
code,pre{font-family:ui-monospace,monospace;font-size:.9em;overflow-wrap:anywhere}pre{white-space:pre-wrap}\
@media print{a{color:inherit;text-decoration:none}}";

/// Where the letter points for checking: the log's address and key.
pub(crate) struct LogRef {
    pub url: String,
    pub vkey: String,
}

/// The letter for case `c` (the agency's view of it) with its latest
/// package, as of `now`.
pub(crate) fn render(
    c: &CaseView,
    package: Option<&PackageRow>,
    log: Option<&LogRef>,
    now: Timestamp,
) -> String {
    let d = &c.decision;
    let pairs = agency_pairs(c.status, d, package);
    let released: Vec<_> = pairs
        .iter()
        .filter(|(_, st)| matches!(st, AgencyPair::Released { .. }))
        .collect();
    let refused: Vec<_> = pairs
        .iter()
        .filter(|(_, st)| matches!(st, AgencyPair::NotReleased | AgencyPair::NoData))
        .collect();
    let pending: Vec<_> = pairs
        .iter()
        .filter(|(_, st)| matches!(st, AgencyPair::Held | AgencyPair::Sealing))
        .collect();
    let markup: Markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Response to " (c.reference) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "Response to your request " (c.reference) }
                dl {
                    dt { "Your reference" } dd { (c.reference) }
                    dt { "Our case" } dd { code { (c.case) } }
                    dt { "Received" } dd { (time(c.received_at)) }
                    dt { "Status" } dd { (c.status.label()) }
                    dt { "Decision" } dd { strong { (d.outcome.label()) } }
                    dt { "Answer due" } dd { (time(d.due_at)) }
                    @if let Some(t) = d.preserve_until { dt { "Preserved until" } dd { (time(t)) } }
                    dt { "Letter written" } dd { (time(now)) }
                }

                h2 { "What was produced" }
                @match package {
                    Some(p) if !released.is_empty() => {
                        p { "Package " (p.generation) " holds the records below, sealed to your agency's registered recipient key (age format). Its SHA-256, over the file as you download it, is:" }
                        pre { code #package-sha256 { (p.sha256) } }
                        p { (p.size) " bytes; sealed " @if let Some(t) = Timestamp::from_second(p.created_at) { (time(t)) } "; downloadable until " @if let Some(t) = Timestamp::from_second(p.expires_at) { (time(t)) } "." }
                        table #produced {
                            thead { tr { th { "Target" } th { "Category" } th { "Package" } } }
                            tbody { @for (p, st) in &released { tr {
                                td { (p.target) } td { (p.category.label()) }
                                td { @if let AgencyPair::Released { generation } = st { (generation) } }
                            } } }
                        }
                    }
                    _ => p #produced { "Nothing has been produced." }
                }

                h2 { "What was refused or not produced" }
                @if d.decisions.is_empty() {
                    p #refused { "The request was refused as a whole, for the reasons below; no record was searched for or produced." }
                } @else if refused.is_empty() {
                    p #refused { "Nothing." }
                } @else {
                    table #refused {
                        thead { tr { th { "Target" } th { "Category" } th { "Answer" } } }
                        tbody { @for (p, st) in &refused { tr {
                            td { (p.target) } td { (p.category.label()) } td { (st.label()) }
                        } } }
                    }
                }

                h2 { "Still pending" }
                @if pending.is_empty() { p #pending { "Nothing." } } @else {
                    p { "These are decided but not yet released: they wait for the provider's review (two people for content) or for sealing. You will be told when a package is ready." }
                    table #pending {
                        thead { tr { th { "Target" } th { "Category" } th { "State" } } }
                        tbody { @for (p, st) in &pending { tr {
                            td { (p.target) } td { (p.category.label()) } td { (st.label()) }
                        } } }
                    }
                }

                h2 { "Reasons" }
                @if d.reasons.is_empty() { p { "No rule limited this request." } } @else {
                    table #reasons {
                        thead { tr { th { "Applies to" } th { "Reason" } th { "Legal basis" } } }
                        tbody { @for r in &d.reasons { tr {
                            td { (r.target.as_deref().unwrap_or("the whole request")) @if let Some(cat) = r.category { ", " (cat.label()) } }
                            td { (r.message) } td { (r.citation) }
                        } } }
                    }
                }

                h2 { "How to check this answer" }
                p { "Every step of this case (its receipt, the decision, each release) is an entry of our public transparency log, under the case id above. The log is append-only; anyone can check that it has not been rewritten:" }
                @if let Some(log) = log {
                    pre { code { "writ log verify --url " (log.url) " --vkey '" (log.vkey) "'" } }
                }
                p { "The package's SHA-256 above is the one committed to in the case's disclosure entry." }
            }
        }
    };
    markup.into_string()
}

/// The letter of `agency`'s case `id` as an HTML response (the API and the
/// portal serve it alike); another agency's case is not found.
pub(crate) async fn response(
    state: &crate::AppState,
    agency: &str,
    id: &str,
    headers: &axum::http::HeaderMap,
) -> Result<axum::response::Response, writ_gateway::GatewayError> {
    let writ_gateway::PortalCase { case, package } =
        state.gateway().portal_case(agency, id).await?;
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    let log = state.inner.log.as_ref().map(|l| LogRef {
        url: format!("http://{host}/log"),
        vkey: l.vkey().to_string(),
    });
    let html = render(&case, package.as_ref(), log.as_ref(), Timestamp::now());
    Ok(axum::response::IntoResponse::into_response((
        [
            ("content-type", "text/html; charset=utf-8".to_owned()),
            ("cache-control", "no-store".to_owned()),
            (
                "content-disposition",
                format!("inline; filename=\"{}-letter.html\"", super::encode(id)),
            ),
        ],
        html,
    )))
}
