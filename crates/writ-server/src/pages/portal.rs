//! The agency portal's pages: an officer signs in with a passkey or a TOTP
//! code (`writ_gateway::officers`), or anyone holding the agency's
//! registered request-signing key signs a one-time challenge (`writ agency
//! sign` makes the signature); then submits orders, sees the agency's own
//! cases and downloads their packages. The sign-in rules, challenges and
//! sessions are the gateway's (`writ_gateway::portal`); these pages only
//! render and read forms.
//!
//! Every page behind a session counts against the agency's rate limit, like
//! its signed API requests.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use writ_gateway::read::{AgencyPair, agency_pairs};
use writ_gateway::{GatewayError, Submission};
use writ_model::Timestamp;

use super::{
    PageError, SignInCsrf, csrf_field, csrf_token, encode, field, form, layout, page, pager, same,
    see_other, set_cookie, slice, time, with_cookies,
};
use crate::{AppError, AppState};

pub(super) const COOKIE: &str = "writ_portal";
pub(super) const HOME: &str = "/portal";
/// The sign-in form's double-submit token.
pub(super) const SIGN_IN: SignInCsrf = SignInCsrf {
    cookie: "writ_portal_sign_in",
    path: HOME,
};

pub(super) struct Session {
    pub(super) agency: String,
    /// The officer signed in; `None` for a session opened with the
    /// agency's key.
    pub(super) officer: Option<writ_store::OfficerRow>,
    secret: String,
    pub(super) csrf: String,
}

/// The agency's rate limit, for a page behind a session.
pub(super) fn limited(state: &AppState, s: &Session) -> Result<(), PageError> {
    state
        .rate_limit(&s.agency)
        .map_err(|e| PageError::new(e, HOME))
}

pub(super) async fn session(state: &AppState, headers: &HeaderMap) -> Option<Session> {
    let secret = super::cookie(headers, COOKIE)?;
    let s = state
        .gateway()
        .portal_session(&secret, Timestamp::now().as_second())
        .await
        .ok()??;
    Some(Session {
        agency: s.agency,
        officer: s.officer,
        csrf: csrf_token(&s.secret),
        secret: s.secret,
    })
}

pub(super) fn nav(s: Option<&Session>) -> Markup {
    html! {
        a href="/portal" { "Agency portal" }
        a href="/status" { "Log status" }
        a href="/transparency" { "Transparency report" }
        @if let Some(s) = s {
            a href="/portal/account" { "Your account" }
            form method="post" action="/portal/sign-out" {
                (csrf_field(&s.csrf))
                span { @if let Some(o) = &s.officer { (o.name) ", " } (s.agency) " " }
                button type="submit" { "Sign out" }
            }
        }
    }
}

fn body(
    raw: Result<Bytes, BytesRejection>,
    state: &AppState,
) -> Result<Vec<(String, String)>, PageError> {
    let bytes = crate::routes::body(raw, state.inner.config.body_limit)
        .map_err(|e| PageError::new(e, HOME))?;
    Ok(form(&bytes))
}

pub(super) fn check_csrf(s: &Session, form: &[(String, String)]) -> Result<(), PageError> {
    match field(form, "csrf") {
        Some(t) if same(t, &s.csrf) => Ok(()),
        _ => Err(PageError::forbidden(
            "the form's security token is missing or stale; reload the page and try again",
            HOME,
        )),
    }
}

/// The sign-in form with a new challenge and its double-submit token (set
/// as a cookie too).
pub(super) async fn sign_in_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let (token, cookie) = SIGN_IN
        .issue(headers, state.inner.config.secure_cookies)
        .map_err(|e| PageError::new(e, HOME))?;
    let challenge = state
        .gateway()
        .portal_challenge(Timestamp::now().as_second())
        .await
        .map_err(|e| PageError::new(e, HOME))?;
    let gw = state.gateway();
    let now = Timestamp::now().as_second();
    let (options, passkey_state) = gw
        .passkey_sign_in_start(now)
        .await
        .map_err(|e| PageError::new(e, HOME))?;
    let host = gw.passkey_host().map_err(|e| PageError::new(e, HOME))?;
    let markup = layout(
        "Agency portal sign-in",
        nav(None),
        html! {
            @if let Some(e) = error { p.error role="alert" { (e) } }
            h2 { "Officers" }
            p { "Sign in with your own account: the passkey you registered, or the code from your authenticator app. "
                "The provider's admin or your agency's officer-admin opens the account; a lost passkey is replaced by the provider after a call to your agency's registered number." }
            form #passkey-sign-in method="post" action="/portal/sign-in/passkey" data-options=(options.to_string()) data-host=(host) {
                (csrf_field(&token))
                input type="hidden" name="state" value=(passkey_state);
                input type="hidden" name="credential" value="";
                button type="button" data-passkey="get" { "Sign in with a passkey" }
                " " small { "(needs JavaScript; passkeys belong to " code { (host) } ")" }
                p.error role="alert" hidden {}
            }
            form method="post" action="/portal/sign-in/code" {
                (csrf_field(&token))
                fieldset {
                    legend { "Or sign in with a code" }
                    label for="officer-agency" { "Agency id" } input #officer-agency name="agency" required autocomplete="organization";
                    label for="officer-email" { "Your e-mail address" } input #officer-email name="email" type="email" required autocomplete="username";
                    label for="officer-code" { "Code" } input #officer-code name="code" required inputmode="numeric" pattern="[0-9]{6}" autocomplete="one-time-code" size="8";
                    button type="submit" { "Sign in with the code" }
                }
            }
            (super::passkey_script())
            h2 { "With the agency's key" }
            p { "Sign the challenge below with your agency's registered request-signing key, then paste the signature. "
                "With the " code { "writ" } " command line:" }
            p { small { "(What the key signs is the line " code { (writ_gateway::auth::PORTAL_SIGN_IN_CONTEXT) } ", a newline, then the challenge; "
                code { "writ agency sign" } " adds the line itself and signs nothing but a portal challenge.)" } }
            pre { code { "writ agency sign --key signing.key '" (challenge) "'" } }
            form method="post" action="/portal/sign-in" {
                (csrf_field(&token))
                input type="hidden" name="challenge" value=(challenge);
                p { label for="challenge-text" { "Challenge (valid for 10 minutes, once)" } br;
                    input #challenge-text value=(challenge) readonly size="70"; }
                p { label for="agency" { "Agency id" } br; input #agency name="agency" required autocomplete="username"; }
                p { label for="signature" { "Signature (base64 Ed25519)" } br;
                    textarea #signature name="signature" rows="3" cols="70" required {} }
                button type="submit" { "Sign in" }
            }
        },
    );
    Ok(with_cookies(page(status, markup), &[cookie]))
}

pub(crate) async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    let f = body(raw, &state)?;
    // Before anything else, so that a forged post does not even use up the
    // challenge.
    SIGN_IN.check(&headers, &f, HOME)?;
    let now = Timestamp::now().as_second();
    let agency = field(&f, "agency").unwrap_or_default().trim();
    let challenge = field(&f, "challenge").unwrap_or_default();
    let signature = field(&f, "signature").unwrap_or_default().trim();
    let denied = "the challenge, agency or signature is wrong or the challenge has expired";
    let Some(secret) = state
        .gateway()
        .portal_sign_in(agency, challenge, signature, now)
        .await
        .map_err(|e| PageError::new(e, HOME))?
    else {
        return sign_in_page(&state, &headers, StatusCode::UNAUTHORIZED, Some(denied)).await;
    };
    let secure = state.inner.config.secure_cookies;
    Ok(see_other(
        HOME,
        &[
            set_cookie(COOKIE, Some(&secret), HOME, secure),
            SIGN_IN.clear(secure),
        ],
    ))
}

pub(crate) async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    let clear = set_cookie(COOKIE, None, HOME, state.inner.config.secure_cookies);
    if let Some(s) = session(&state, &headers).await {
        let f = body(raw, &state)?;
        check_csrf(&s, &f)?;
        state
            .gateway()
            .portal_sign_out(&s.secret)
            .await
            .map_err(|e| PageError::new(e, HOME))?;
    }
    Ok(see_other(HOME, &[clear]))
}

pub(crate) async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    let Some(s) = session(&state, &headers).await else {
        return sign_in_page(&state, &headers, StatusCode::OK, None).await;
    };
    limited(&state, &s)?;
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let gw = state.gateway();
    let fail = |e: GatewayError| PageError::new(e, HOME);
    let cases = gw.agency_cases(&s.agency, 1000).await.map_err(fail)?;
    let page_no = q
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1usize)
        .max(1);
    let (from, to) = slice(cases.len(), page_no);
    let shown = &cases[from..to];
    let packages = gw.portal_packages(shown).await.map_err(fail)?;
    let content = html! {
        @if let Some(c) = q.get("submitted") {
            p.notice role="status" { "Order received: case " code { (c) } "." }
        }
        h2 { "Submit an order" }
        p { a href="/portal/orders/new" { strong { "Write a new order" } } " with the order form: the fields of the order, the signed document, a check against the rule book before it is sent, and a draft kept between visits." }
        details {
            summary { "Or paste an order as JSON" }
            form method="post" action="/portal/orders" {
                (csrf_field(&s.csrf))
                p { label for="order" { "The order as JSON (the format of the API's " code { "POST /v1/orders" } ")" } br;
                    textarea #order name="order" rows="14" cols="90" required spellcheck="false" {} }
                button type="submit" { "Submit the order" }
            }
        }
        h2 { "Your cases" }
        @if cases.is_empty() { p { "No case yet." } } @else {
            table {
                thead { tr { th { "Case" } th { "Reference" } th { "Received" } th { "Status" } th { "Decision" } th { "Released" } th { "Package" } } }
                tbody { @for (c, package) in shown.iter().zip(&packages) { tr {
                    td { a href={ "/portal/cases/" (encode(&c.case)) } { code { (c.case) } } }
                    td { (c.reference) } td { (time(c.received_at)) }
                    td { (c.status.label()) } td { strong { (c.decision.outcome.label()) } }
                    td { (released_summary(c, package.as_ref())) }
                    td { @match package {
                        Some(p) if p.state == writ_model::PackageState::Ready => {
                            a href={ "/portal/cases/" (encode(&c.case)) "/package" } download { "Download " (c.case) ".age" }
                            @if let Some(t) = Timestamp::from_second(p.expires_at) { br; small { "until " (time(t)) } }
                        }
                        Some(p) if p.state == writ_model::PackageState::Sealed => {
                            "sealed; available from " @if let Some(t) = Timestamp::from_second(p.available_at) { (time(t)) }
                        }
                        Some(p) => { (p.state.label()) }
                        None => "—",
                    } }
                } } }
            }
            (pager(cases.len(), page_no, |p| format!("{HOME}?page={p}")))
        }
    };
    Ok(page(
        StatusCode::OK,
        layout(
            &format!("Agency portal: {}", s.agency),
            nav(Some(&s)),
            content,
        ),
    ))
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    let Some(s) = session(&state, &headers).await else {
        return Ok(see_other(HOME, &[]));
    };
    limited(&state, &s)?;
    let f = body(raw, &state)?;
    check_csrf(&s, &f)?;
    let order = field(&f, "order").unwrap_or_default();
    let answer = state
        .gateway()
        .submit(Submission {
            submitter: &s.agency,
            officer: s.officer.as_ref(),
            body: order.as_bytes(),
        })
        .await
        .map_err(|e| PageError::new(e, HOME))?;
    Ok(see_other(
        &format!("{HOME}?submitted={}", encode(&answer.case)),
        &[],
    ))
}

/// One of the agency's cases: the decision with its reasons.
pub(crate) async fn case(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    let query_done: HashMap<String, String> = query.map(|Query(q)| q).unwrap_or_default();
    let submitted = query_done.contains_key("submitted");
    let Some(s) = session(&state, &headers).await else {
        return Ok(see_other(HOME, &[]));
    };
    limited(&state, &s)?;
    let gw = state.gateway();
    let writ_gateway::PortalCase { case: c, package } = gw
        .portal_case(&s.agency, &id)
        .await
        .map_err(|e| PageError::new(e, HOME))?;
    let d = &c.decision;
    let pairs = agency_pairs(c.status, d, package.as_ref());
    let held = pairs
        .iter()
        .filter(|(_, st)| *st == AgencyPair::Held)
        .count();
    let sealing = pairs.iter().any(|(_, st)| *st == AgencyPair::Sealing);
    let attachments = gw
        .agency_attachments(&s.agency, &c.case)
        .await
        .map_err(|e| PageError::new(e, HOME))?;
    let exchange = gw
        .agency_clarifications(&s.agency, &c.case)
        .await
        .map_err(|e| PageError::new(e, HOME))?;
    let (corrects, corrected_by) = gw
        .corrections(&c.case)
        .await
        .map_err(|e| PageError::new(e, HOME))?;
    let answered = query_answered(&query_done);
    // The certificate of the package the agency can download now, if any.
    let certified = match &package {
        Some(p) => gw
            .certificates(&c.case)
            .await
            .map_err(|e| PageError::new(e, HOME))?
            .into_iter()
            .any(|x| x.generation == p.generation),
        None => false,
    };
    let content = html! {
        @if submitted {
            p.notice role="status" { "Order received: case " code { (c.case) } ". The decision is below." }
        }
        dl {
            dt { "Reference" } dd { (c.reference) }
            dt { "Received" } dd { (time(c.received_at)) }
            dt { "Status" } dd { (c.status.label()) }
            @if let Some(old) = &corrects { dt { "Corrects" } dd { "your earlier order's case " a.corrects href={ "/portal/cases/" (encode(old)) } { (old) } " (which stays as it was decided)" } }
            @if !corrected_by.is_empty() { dt { "Corrected by" } dd { @for (i, k) in corrected_by.iter().enumerate() { @if i > 0 { ", " } a.corrected-by href={ "/portal/cases/" (encode(k)) } { (k) } } } }
            dt { "Decision" } dd { strong { (d.outcome.label()) } }
            dt { "Answer due" } dd { (time(d.due_at)) }
            @if let Some(t) = d.not_before { dt { "Not before" } dd { (time(t)) } }
            @if let Some(t) = d.preserve_until { dt { "Preserved until" } dd { (time(t)) } }
            dt { "Package" } dd { @match &package {
                Some(p) if p.state == writ_model::PackageState::Ready => {
                    a href={ "/portal/cases/" (encode(&c.case)) "/package" } download { "Download " (c.case) ".age" }
                    " (package " (p.generation) ", sealed " @if let Some(t) = Timestamp::from_second(p.created_at) { (time(t)) } ")"
                    @if held > 0 { br; strong.held { "It holds only the pairs marked released below; " (held) " more are held until the provider's review is finished." } }
                }
                Some(p) => { "package " (p.generation) ": " (p.state.label())
                    @if p.state == writ_model::PackageState::Sealed { @if let Some(t) = Timestamp::from_second(p.available_at) { " (available from " (time(t)) ")" } } }
                None => @if c.decision.preserve_until.is_some() { "none: a preservation order never gets a package" } @else if sealing { "none yet: being sealed" } @else if held > 0 { "none yet: waiting for the provider's review" } @else { "none" },
            } }
        }
        @if !attachments.is_empty() {
            h2 { "Documents sent with the order" }
            ul { @for a in &attachments { li {
                (a.name) " (" (a.media_type) ", " (a.size) " bytes, SHA-256 " code { (a.sha256) } "): "
                @if a.received { "received" } @else { strong { "not received yet" } " (upload it with " code { "PUT /v1/cases/" (c.case) "/attachments/" (a.name) } ")" }
            } } }
        }
        h2 { "What was released" }
        @if d.decisions.is_empty() { p { "The order was refused as a whole; nothing is released." } } @else {
            table #pairs {
                thead { tr { th { "Target" } th { "Category" } th { "Decision" } th { "Released?" } } }
                tbody { @for (p, st) in &pairs { tr {
                    td { (p.target) } td { (p.category.label()) } td { (p.status.label()) }
                    td { strong { (st.label()) } @if let AgencyPair::Released { generation } = st { " in package " (generation) } }
                } } }
            }
        }
        h2 { "Reasons" }
        @if d.reasons.is_empty() { p { "No rule fired." } } @else {
            table {
                thead { tr { th { "Target" } th { "Category" } th { "Reason" } th { "Citation" } } }
                tbody { @for r in &d.reasons { tr {
                    td { (r.target.as_deref().unwrap_or("the whole order")) }
                    td { (r.category.map(|c| c.label()).unwrap_or("—")) } td { (r.message) } td { (r.citation) }
                } } }
            }
        }
        p { a href={ "/portal/cases/" (encode(&c.case)) "/letter" } { "The response letter" } " (what was produced, refused and pending, with the reasons; " a href={ "/portal/cases/" (encode(&c.case)) "/letter.pdf" } { "as PDF" } ")" }
        @if !exchange.is_empty() {
            section aria-labelledby="clarification" {
                h2 #clarification { "Clarification" }
                @if answered { p.notice role="status" { "Your answer is recorded." } }
                @for m in &exchange {
                    div.message data-side=(m.side.as_str()) {
                        p { strong { @match m.side { writ_store::Side::Provider => "The provider asks", writ_store::Side::Agency => "Your answer" } }
                            " (" (super::letter::when_second(m.at)) ")"
                            @if !m.fields.is_empty() { " — about: " (m.fields.join(", ")) }
                            @if m.incomplete { " — " strong { "the order is incomplete: the provider's deadline waits for your answer" } } }
                        pre.message-text { (m.message) }
                        @if m.incomplete { (super::annex_iii::form(m, "your authority, which issued the order")) }
                    }
                }
                @if exchange.last().is_some_and(|m| m.side == writ_store::Side::Provider) {
                    form method="post" action={ "/portal/cases/" (encode(&c.case)) "/clarification" } {
                        (csrf_field(&s.csrf))
                        p { label for="answer" { "Your answer" } br; textarea #answer name="message" rows="4" cols="70" required {} }
                        p { small { "To correct the order itself, send a new order with a new reference that names this one's reference under \"Corrects\" (" a href="/portal/orders/new" { "the order form" } ", or " code { "corrects" } " in the JSON); an order is never changed in place. For a European Production Order, only the issuing authority's corrected certificate counts." } }
                        button type="submit" { "Send the answer" }
                    }
                }
            }
        }
        @if certified {
            p #certificate { a href={ "/portal/cases/" (encode(&c.case)) "/certificate" } { "The certificate of authenticity" } " of the package, signed by the provider's records custodian (" a href={ "/portal/cases/" (encode(&c.case)) "/certificate.pdf" } { "as PDF" } ")" }
        }
        p { a href="/portal" { "Back to your cases" } }
    };
    Ok(page(
        StatusCode::OK,
        layout(&format!("Case {id}"), nav(Some(&s)), content),
    ))
}

/// "2 of 3 pairs" released, for the list of cases.
fn released_summary(
    c: &writ_gateway::CaseView,
    package: Option<&writ_store::PackageRow>,
) -> String {
    let pairs = agency_pairs(c.status, &c.decision, package);
    let released = pairs
        .iter()
        .filter(|(_, st)| matches!(st, AgencyPair::Released { .. }))
        .count();
    let held = pairs
        .iter()
        .filter(|(_, st)| *st == AgencyPair::Held)
        .count();
    match (released, held) {
        (0, 0) => "nothing".to_owned(),
        (r, 0) => format!("{r} of {} pairs", pairs.len()),
        (r, h) => format!("{r} of {} pairs; {h} held for review", pairs.len()),
    }
}

pub(crate) async fn package(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let Some(s) = session(&state, &headers).await else {
        return Ok(see_other(HOME, &[]));
    };
    limited(&state, &s)?;
    crate::routes::agency::package_response(&state, &s.agency, &id)
        .await
        .map_err(|e: AppError| PageError::new(e, HOME))
}

/// `GET /portal/cases/{id}/letter`: the case's response letter (HTML).
pub(crate) async fn letter(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    letter_as(state, headers, id, false).await
}

/// `GET /portal/cases/{id}/letter.pdf`: the same letter as a PDF.
pub(crate) async fn letter_pdf(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    letter_as(state, headers, id, true).await
}

fn query_answered(q: &HashMap<String, String>) -> bool {
    q.get("done").is_some_and(|d| d == "clarification")
}

/// `POST /portal/cases/{id}/clarification`: the agency's answer to the
/// provider's open question.
pub(crate) async fn clarify(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    let back = format!("/portal/cases/{}", encode(&id));
    let Some(s) = session(&state, &headers).await else {
        return Ok(see_other(HOME, &[]));
    };
    limited(&state, &s)?;
    let f = body(raw, &state)?;
    check_csrf(&s, &f)?;
    state
        .gateway()
        .change(
            match &s.officer {
                Some(o) => writ_gateway::Actor::Officer(o),
                None => writ_gateway::Actor::Agency(&s.agency),
            },
            &id,
            writ_gateway::Action::Clarify {
                message: field(&f, "message").unwrap_or_default().to_owned(),
            },
        )
        .await
        .map_err(|e| PageError::new(e, &back))?;
    Ok(see_other(
        &format!("{back}?done=clarification#clarification"),
        &[],
    ))
}

/// `GET /portal/cases/{id}/certificate`: the certificate of authenticity
/// of the case's package (HTML).
pub(crate) async fn certificate(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    certificate_as(state, headers, id, false).await
}

/// `GET /portal/cases/{id}/certificate.pdf`: the same certificate as a PDF.
pub(crate) async fn certificate_pdf(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    certificate_as(state, headers, id, true).await
}

async fn certificate_as(
    state: AppState,
    headers: HeaderMap,
    id: String,
    as_pdf: bool,
) -> Result<Response, PageError> {
    let Some(s) = session(&state, &headers).await else {
        return Ok(see_other(HOME, &[]));
    };
    limited(&state, &s)?;
    crate::routes::agency::certificate_response(&state, &s.agency, &id, as_pdf)
        .await
        .map_err(|e| PageError::new(e, HOME))
}

async fn letter_as(
    state: AppState,
    headers: HeaderMap,
    id: String,
    as_pdf: bool,
) -> Result<Response, PageError> {
    let Some(s) = session(&state, &headers).await else {
        return Ok(see_other(HOME, &[]));
    };
    limited(&state, &s)?;
    super::letter::response(&state, &s.agency, &id, &headers, as_pdf)
        .await
        .map_err(|e| PageError::new(e, HOME))
}
