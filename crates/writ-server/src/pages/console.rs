//! The console: sign-in with password and TOTP, the review queue, the case
//! page with its actions, and the agency registry for admins.
//!
//! A console session is a personal access token minted by the same
//! `login` as `POST /v1/console/tokens`, kept in an `HttpOnly` cookie
//! scoped to `/console`; it lasts twelve hours from sign-in (the gateway's
//! rule), and signing out revokes it.

use std::collections::{BTreeSet, HashMap};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use maud::{Markup, html};
use writ_gateway::auth::{CONSOLE_SESSION, CONSOLE_SESSION_SECONDS, Role, User};
use writ_gateway::read::{PairFate, QueueItem, Stage};
use writ_gateway::review::{DropPair, Proposal};
use writ_gateway::{Action, Actor, GatewayError};
use writ_model::order::NumberSource;
use writ_model::registry::AgencyKind;
use writ_model::{
    AgencyStatus, CaseStatus, Category, Instrument, NoticeState, ProposalAction, Timestamp,
};

use super::{
    PageError, SignInCsrf, csrf_field, csrf_token, encode, field, form, layout, page, pager, same,
    see_other, set_cookie, slice, time, with_cookies,
};
use crate::{AppError, AppState};

const COOKIE: &str = "writ_console";
const HOME: &str = "/console";
/// The sign-in form's double-submit token.
const SIGN_IN: SignInCsrf = SignInCsrf {
    cookie: "writ_console_sign_in",
    path: HOME,
};

/// A signed-in console user.
pub(crate) struct Session {
    pub(crate) user: User,
    token: String,
    pub(crate) csrf: String,
}

/// The session of the request's cookie, if it names a live session.
pub(crate) async fn session(state: &AppState, headers: &HeaderMap) -> Option<Session> {
    let token = super::cookie(headers, COOKIE)?;
    let user = state
        .gateway()
        .user_for_session(&token, CONSOLE_SESSION_SECONDS)
        .await
        .ok()?;
    Some(Session {
        user,
        csrf: csrf_token(&token),
        token,
    })
}

pub(super) fn nav(s: Option<&Session>) -> Markup {
    html! {
        a href="/console" { "Queue" }
        @if s.is_some_and(|s| s.user.role != Role::Admin) { a href="/console/orders/new" { "Record a received order" } a href="/console/mailbox" { "Mailbox" } }
        @if s.is_some_and(|s| s.user.role == Role::Admin) { a href="/console/agencies" { "Agencies" } }
        a href="/status" { "Log status" }
        a href="/transparency" { "Transparency report" }
        @if let Some(s) = s {
            form method="post" action="/console/sign-out" {
                (csrf_field(&s.csrf))
                span { (s.user.name) " (" (s.user.role.as_str()) ") " }
                button type="submit" { "Sign out" }
            }
        }
    }
}

fn body(
    body: Result<Bytes, BytesRejection>,
    state: &AppState,
) -> Result<Vec<(String, String)>, PageError> {
    let bytes = crate::routes::body(body, state.inner.config.body_limit)
        .map_err(|e| PageError::new(e, HOME))?;
    Ok(form(&bytes))
}

/// Refuses a form whose CSRF token is not the session's.
pub(super) fn check_csrf(
    s: &Session,
    form: &[(String, String)],
    back: &str,
) -> Result<(), PageError> {
    match field(form, "csrf") {
        Some(t) if same(t, &s.csrf) => Ok(()),
        _ => Err(PageError::forbidden(
            "the form's security token is missing or stale; reload the page and try again",
            back,
        )),
    }
}

/// The sign-in form, with its double-submit token (set as a cookie too).
fn sign_in_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let (token, cookie) = SIGN_IN
        .issue(headers, state.inner.config.secure_cookies)
        .map_err(|e| PageError::new(e, HOME))?;
    let markup = layout(
        "Console sign-in",
        nav(None),
        html! {
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/console/sign-in" {
                (csrf_field(&token))
                p { label for="name" { "User name" } br; input #name name="name" autocomplete="username" required autofocus; }
                p { label for="password" { "Password" } br; input #password type="password" name="password" autocomplete="current-password" required; }
                p { label for="code" { "Authenticator code (6 digits)" } br;
                    input #code name="code" inputmode="numeric" pattern="[0-9]{6}" autocomplete="one-time-code" required; }
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
    SIGN_IN.check(&headers, &f, HOME)?;
    let (name, password, code) = (
        field(&f, "name").unwrap_or_default(),
        field(&f, "password").unwrap_or_default(),
        field(&f, "code").unwrap_or_default().trim(),
    );
    let secure = state.inner.config.secure_cookies;
    match state
        .gateway()
        .login(name, password, code, CONSOLE_SESSION)
        .await
    {
        Ok(token) => Ok(see_other(
            HOME,
            &[
                set_cookie(COOKIE, Some(&token), HOME, secure),
                SIGN_IN.clear(secure),
            ],
        )),
        Err(GatewayError::Unauthorized(why)) => {
            sign_in_page(&state, &headers, StatusCode::UNAUTHORIZED, Some(&why))
        }
        Err(e @ GatewayError::Throttled { retry_after }) => {
            let mut r = sign_in_page(
                &state,
                &headers,
                StatusCode::TOO_MANY_REQUESTS,
                Some(&e.to_string()),
            )?;
            if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(r)
        }
        Err(e) => Err(PageError::new(e, HOME)),
    }
}

pub(crate) async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    let clear = set_cookie(COOKIE, None, HOME, state.inner.config.secure_cookies);
    let Some(s) = session(&state, &headers).await else {
        return Ok(see_other(HOME, &[clear]));
    };
    let f = body(raw, &state)?;
    check_csrf(&s, &f, HOME)?;
    state
        .gateway()
        .revoke_token(&s.token)
        .await
        .map_err(|e| PageError::new(e, HOME))?;
    Ok(see_other(HOME, &[clear]))
}

// ---- the queue ----------------------------------------------------------

fn stage_label(stage: Stage) -> &'static str {
    match stage {
        Stage::Callback => "awaiting a callback (emergency or channel)",
        Stage::Confirmation => "awaiting second approval",
        Stage::Proposal => "awaiting proposal",
    }
}

pub(crate) async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    let Some(s) = session(&state, &headers).await else {
        return sign_in_page(&state, &headers, StatusCode::OK, None);
    };
    let q = query.map(|Query(q)| q).unwrap_or_default();
    if s.user.role == Role::Admin {
        return Ok(page(
            StatusCode::OK,
            layout(
                "Console",
                nav(Some(&s)),
                html! {
                    p { "Admins take no review action. " a href="/console/agencies" { "Open the agency registry" } "." }
                },
            ),
        ));
    }
    let gw = state.gateway();
    let fail = |e: GatewayError| PageError::new(e, HOME);
    let pick = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let search = pick("q").map(str::trim).filter(|t| !t.is_empty());
    // A search looks at every case, open or closed; else the queue.
    let all = match search {
        Some(term) => gw.search_cases(&s.user, term).await.map_err(fail)?,
        None => gw.queue_items(&s.user).await.map_err(fail)?,
    };
    let now = Timestamp::now();
    let (want_stage, want_instrument, want_country) =
        (pick("status"), pick("instrument"), pick("country"));
    let instruments: BTreeSet<&str> = all
        .iter()
        .map(|r| r.case.order.instrument.as_str())
        .collect();
    let countries: BTreeSet<String> = all.iter().map(|r| r.country.clone()).collect();
    let shown: Vec<&QueueItem> = all
        .iter()
        .filter(|r| want_stage.is_none_or(|w| w == r.stage.as_str()))
        .filter(|r| want_instrument.is_none_or(|w| w == r.case.order.instrument.as_str()))
        .filter(|r| want_country.is_none_or(|w| w == r.country))
        .collect();
    let page_no = q
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1usize)
        .max(1);
    let (from, to) = slice(shown.len(), page_no);
    let link = |p: usize| {
        format!(
            "/console?q={}&status={}&instrument={}&country={}&page={p}",
            encode(search.unwrap_or_default()),
            encode(want_stage.unwrap_or_default()),
            encode(want_instrument.unwrap_or_default()),
            encode(want_country.unwrap_or_default()),
        )
    };
    let content = html! {
        form method="get" action="/console" role="search" {
            fieldset {
                legend { "Find a case" }
                label for="q" { "Case id, reference, agency, account or target identifier" } " "
                input #q type="search" name="q" value=(search.unwrap_or_default()) size="40";
                " " button type="submit" { "Search" }
                @if search.is_some() { " " a href="/console" { "Back to the queue" } }
            }
        }
        @match search {
            Some(term) => p #found { (shown.len()) " case" @if shown.len() != 1 { "s" } " found for “" (term) "”, open or closed, newest first." },
            None => p { "Open cases waiting for a person: emergencies first, then by deadline." },
        }
        form method="get" action="/console" {
            @if let Some(term) = search { input type="hidden" name="q" value=(term); }
            fieldset {
                legend { "Filter" }
                label for="f-status" { "Status " }
                select #f-status name="status" {
                    option value="" { "anything" }
                    @for st in [Stage::Proposal, Stage::Confirmation, Stage::Callback] {
                        option value=(st.as_str()) selected[want_stage == Some(st.as_str())] { (stage_label(st)) }
                    }
                }
                label for="f-instrument" { " Instrument " }
                select #f-instrument name="instrument" {
                    option value="" { "any" }
                    @for i in &instruments {
                        option value=(i) selected[want_instrument == Some(*i)] { (Instrument::parse(i).map_or(*i, |x| x.label())) }
                    }
                }
                label for="f-country" { " Country " }
                select #f-country name="country" {
                    option value="" { "any" }
                    @for c in &countries {
                        option value=(c) selected[want_country == Some(c.as_str())] { (c) }
                    }
                }
                " " button type="submit" { "Apply" }
            }
        }
        @if shown.is_empty() {
            p { @if search.is_some() { "No case matches." } @else { "No case is waiting." } }
        } @else {
            table {
                caption.visually-hidden { "Review queue" }
                thead { tr { th { "Case" } th { "Agency" } th { "Country" } th { "Instrument" } th { "Outcome" } th { @if search.is_some() { "Status" } @else { "Waiting for" } } th { "Deadline" } th { "Flags" } } }
                tbody {
                    @for r in &shown[from..to] {
                        @let emergency = r.case.order.emergency.is_some();
                        tr class=[emergency.then_some("emergency")] {
                            td { a href={ "/console/cases/" (r.case.id) } { (r.case.id) } br; small { (r.case.reference) } }
                            td { (r.case.signer) }
                            td { (r.country) }
                            td { (r.case.order.instrument.label()) @if emergency { " " strong { "(emergency)" } } }
                            td { (r.case.decision.outcome.label()) }
                            td { @if search.is_some() && r.case.status != CaseStatus::InReview { (r.case.status.label()) } @else { (stage_label(r.stage)) } }
                            td { (super::countdown(r.case.decision.due_at, now)) br; small { (time(r.case.decision.due_at)) } }
                            td { @for f in &r.flags { span.flag { (f.label()) } } }
                        }
                    }
                }
            }
            (pager(shown.len(), page_no, link))
        }
    };
    Ok(page(
        StatusCode::OK,
        layout("Review queue", nav(Some(&s)), content),
    ))
}

// ---- a case -------------------------------------------------------------

fn case_link(id: &str) -> String {
    format!("/console/cases/{}", encode(id))
}

pub(crate) async fn case(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    let Some(s) = session(&state, &headers).await else {
        return Ok(see_other(HOME, &[]));
    };
    let gw = state.gateway();
    let fail = |e: GatewayError| PageError::new(e, HOME);
    let detail = gw.case_detail(&s.user, &id).await.map_err(fail)?;
    let documents = gw.attachments_of(&detail.case).await.map_err(fail)?;
    let certificates = gw.certificates(&id).await.map_err(fail)?;
    let exchange = gw.clarifications(&s.user, &id).await.map_err(fail)?;
    let (corrects, corrected_by) = gw.corrections(&id).await.map_err(fail)?;
    let (case, agency) = (&detail.case, &detail.agency);
    let now = Timestamp::now();
    let d = &case.decision;
    let country = agency.as_ref().map(|a| a.country.clone());
    let flags = &detail.flags;
    let order_json = serde_json::to_string_pretty(&case.order).map_err(|e| fail(e.into()))?;
    let done = query.ok().and_then(|Query(q)| q.get("done").cloned());
    let open = case.status == CaseStatus::InReview;
    // An unverified emergency or transcribed order: no approval until the
    // callback is recorded.
    let unverified = d.awaits_callback() || d.awaits_channel();
    let awaits_channel = d.awaits_channel();
    let action = |a: &str| format!("{}/{a}", case_link(&id));
    // The two-person rule: never offer the proposer its own confirmation.
    let proposer = detail
        .proposals
        .last()
        .is_some_and(|p| p.proposed_by == s.user.name);
    let may_confirm = s.user.role == Role::Approver && !detail.proposals.is_empty() && !proposer;
    let hacking = d.codes().contains(&writ_model::ReasonCode::HACKING_REFUSED);
    let open_for_query = case.status == CaseStatus::InReview
        || (case.status == CaseStatus::Decided && !d.ends_case());
    let o = &case.order;
    let count = |f: fn(&PairFate) -> bool| detail.pairs.iter().filter(|p| f(&p.fate)).count();
    let released = count(|f| matches!(f, PairFate::Released { .. }));
    let waiting = count(|f| matches!(f, PairFate::Waiting(_)));
    let refused = count(|f| matches!(f, PairFate::Refused | PairFate::Closed(_)));
    let content = html! {
        @if let Some(done) = done { p.notice role="status" { "Recorded: " (done_label(&done)) "." } }
        section aria-labelledby="facts" {
            h2 #facts { "The order" }
            dl.facts {
                dt { "Reference" } dd { (case.reference) }
                dt { "Agency" } dd { @if let Some(a) = agency { (a.name) " — " } (case.signer) @if let Some(c) = &country { " (" (c) ")" } }
                dt { "Instrument" } dd { (o.instrument.label()) @if o.emergency.is_some() { " " strong { "(emergency)" } } }
                dt { "Legal basis" } dd { (o.legal_basis) }
                dt { "Issued by" } dd { (issuer(&o.issued_by)) }
                @if let Some(v) = &o.validated_by { dt { "Validated by" } dd { (issuer(v)) } }
                @if let Some(e) = &o.enforcing_authority { dt { "Enforcing authority" } dd { (e.name) " (" (e.country.as_str()) "), notified under Art. 8 of Regulation (EU) 2023/1543" } }
                @if let Some(old) = &corrects { dt { "Corrects" } dd { "the agency's earlier order " (o.corrects.as_ref().map_or("", |r| r.as_str())) ", case " a.corrects href=(case_link(old)) { (old) } " (which stays as it was decided)" } }
                @if !corrected_by.is_empty() { dt { "Corrected by" } dd { @for (i, c) in corrected_by.iter().enumerate() { @if i > 0 { ", " } a.corrected-by href=(case_link(c)) { (c) } } " — a newer order of the agency that corrects this one" } }
                dt { "Issued" } dd { (time(o.issued_at)) }
                dt { "Expires" } dd { @match o.expires_at { Some(t) => (time(t)), None => "no expiry date given" } }
                @if let Some(t) = o.respond_by { dt { "Respond by (agency's request)" } dd { (time(t)) } }
                dt { "Date range" } dd { @match &o.date_range { Some(r) => { (time(r.from)) " to " (time(r.to)) }, None => "none given (all dates)" } }
                dt { "Secrecy order" } dd { @match &o.non_disclosure {
                    Some(nd) => { "Yes, issued by " (issuer(&nd.issued_by)) " under " (nd.basis) "; "
                        @match nd.until { Some(t) => { "until " (time(t)) }, None => "no end date" } },
                    None => "none",
                } }
                @if let Some(off) = &o.offence { dt { "Offence" } dd { (off.description) " (up to " (off.max_custodial_years) " years)" } }
                @if let Some(e) = &o.emergency { dt { "Emergency" } dd { (e.threat) } }
                dt { "Targets" } dd { @for (i, t) in o.targets.iter().enumerate() { @if i > 0 { "; " } (t.kind.label()) " " code { (t.value) } } }
                dt { "Categories" } dd { (o.categories().iter().map(|c| c.label()).collect::<Vec<_>>().join(", ")) }
                dt { "Case status" } dd { (case.status.label()) }
                dt { "Received" } dd { (time(case.received_at))
                    @if let Some(t) = &case.order.transcription {
                        " — by " (t.channel.label()) ", transcribed by " strong.who { (t.transcribed_by) } " at " (time(t.transcribed_at)) "; "
                        @match &t.check {
                            Some(c) if c.verified => { "channel verified by " (c.verified_by) " at " (time(c.verified_at)) },
                            Some(c) => { "the agency did not confirm it (" (c.verified_by) ", " (time(c.verified_at)) ")" },
                            None => strong { "channel not verified yet" },
                        }
                    } }
                dt { "Deadline" } dd { (time(case.due_at)) " — " (super::countdown(case.due_at, now)) }
                dt { "Flags" } dd { @if flags.is_empty() { "none" } @for f in flags { span.flag { (f.label()) } } }
                dt { "Documents" } dd #documents {
                    @if documents.is_empty() { "none announced" }
                    ul { @for a in &documents { li {
                        @if a.received {
                            a href=(format!("{}/attachments/{}", case_link(&id), encode(&a.name))) { (a.name) }
                        } @else { (a.name) }
                        " (" (a.media_type) ", " (a.size) " bytes) — "
                        @if a.received { "received, SHA-256 checked" } @else { strong { "announced, not uploaded yet" } }
                    } } }
                }
            }
        }
        section aria-labelledby="standing" {
            h2 #standing { "Where it stands: " (d.outcome.label()) }
            p #summary { (released) " released, " (waiting) " held, " (refused) " refused or not released, of " (detail.pairs.len()) " pairs. "
                "The user is told " (d.notify.when.label()) @if let Some(at) = d.notify.at { " (from " (time(at)) ")" } "." }
            @if let Some(t) = d.not_before { p { "The agency may download nothing before " (time(t)) "." } }
            @if let Some(t) = d.preserve_until { p { "Preserved until " (time(t)) "; a preservation order never releases data." } }
            @if d.decisions.is_empty() { p { "The order was refused as a whole; no pair is released." } } @else {
                form method="post" action=(action("narrow")) {
                    (csrf_field(&s.csrf))
                    table #pairs {
                        caption.visually-hidden { "Each target and category, what was decided and what happened" }
                        thead { tr { @if open && !unverified { th { "Drop" } } th { "Target" } th { "Account" } th { "Category" } th { "Decision" } th { "What happened" } th { "Stored in" } th { "Reasons and citations" } } }
                        tbody { @for (i, v) in detail.pairs.iter().enumerate() {
                            @let p = &v.pair;
                            @let droppable = open && (p.status.is_granted() || p.status == writ_model::Status::Review);
                            tr.pair data-fate=(v.fate.label()) {
                                @if open && !unverified { td { @if droppable {
                                    input type="checkbox" id={ "drop-" (i) } name="drop" value={ (p.category.as_str()) ":" (p.target) };
                                    label for={ "drop-" (i) } { span.visually-hidden { "drop " (p.target) " " (p.category.label()) } }
                                } } }
                                td { (p.target) } td.account { (p.account.as_deref().unwrap_or("—")) } td { (p.category.label()) }
                                td { (p.status.label()) }
                                td { strong { (v.fate.label()) }
                                    @match &v.fate {
                                        PairFate::Released { generation, at } => { " in package " (generation) " at " (time(*at)) },
                                        PairFate::Waiting(why) | PairFate::Closed(why) => { ": " (why) },
                                        PairFate::Preserved(Some(t)) => { " until " (time(*t)) },
                                        _ => {},
                                    } }
                                td { (p.data_location.as_ref().map(|c| c.as_str()).unwrap_or("—")) }
                                td { @if v.reasons.is_empty() { "—" } @for r in &v.reasons { p.reason { (r.message) " " small.cite { "(" (r.citation) ")" } } } }
                            }
                        } }
                    }
                    @if open && !unverified && !hacking { button type="submit" { "Propose narrowing (drop the checked pairs)" } }
                }
            }
            @let order_reasons: Vec<_> = d.reasons.iter().filter(|r| r.target.is_none() && r.category.is_none()).collect();
            @if !order_reasons.is_empty() {
                h3 { "Rules about the whole order" }
                ul { @for r in order_reasons { li { (r.message) " " small.cite { "(" (r.citation) ")" } } } }
            }
            p { small { "Policy " (d.policy.id) " version " (d.policy.version) "." } }
        }
        section aria-labelledby="packages" {
            h2 #packages { "Packages released" }
            @if detail.releases.is_empty() {
                p { @if case.order.instrument.is_preservation() { "None: a preservation order never gets a package." } @else { "Nothing has been released to the agency." } }
            } @else {
                table {
                    thead { tr { th { "Package" } th { "Sealed" } th { "Holds" } th { "State" } } }
                    tbody { @for r in &detail.releases { tr {
                        td { "package " (r.generation) }
                        td { (time(r.at)) }
                        td { @for (t, c) in &r.pairs { (c.label()) " of " (t) br; } }
                        td { @match &detail.package {
                            Some(pk) if pk.generation == r.generation => {
                                (pk.state.label())
                                @if let Some(t) = Timestamp::from_second(pk.available_at) { br; small { "available from " (time(t)) } }
                                @if let Some(t) = Timestamp::from_second(pk.expires_at) { br; small { "expires " (time(t)) } }
                            },
                            _ => "replaced by a later package, which holds everything in this one",
                        } }
                    } } }
                }
            }
        }
        @if country.as_deref() == Some(writ_gateway::certificate::US) && !detail.releases.is_empty() {
            (certificate_section(&state, &s, &id, detail.package.as_ref(), &certificates))
        }
        @if !detail.proposals.is_empty() {
            section aria-labelledby="waiting" {
                h2 #waiting { "Waiting for a second person" }
                @for p in &detail.proposals {
                    p { "Proposed " strong { (ProposalAction::parse(&p.action).map_or(p.action.as_str(), |x| x.label())) }
                        " by " strong.who { (p.proposed_by) } " (" (p.role) ") at " (time(p.proposed_at))
                        "; confirming it would make the outcome " strong { (p.decision.outcome.label()) } "." }
                }
                @if may_confirm {
                    form method="post" action=(action("confirm")) {
                        (csrf_field(&s.csrf))
                        button type="submit" { "Confirm (second approval)" }
                    }
                } @else if proposer {
                    p { "You proposed this: it waits for a different approver (two-person rule)." }
                } @else {
                    p { "Only an approver other than the proposer can confirm; it waits for a different approver." }
                }
            }
        }
        section aria-labelledby="clarification" {
            h2 #clarification { "Clarification" }
            @if exchange.is_empty() { p { "Nothing was asked of the agency." } }
            @for m in &exchange {
                div.message data-side=(m.side.as_str()) {
                    p { strong { @match m.side { writ_store::Side::Provider => { "Asked by " (m.author) }, writ_store::Side::Agency => { "Answered by the agency" } } }
                        " at " (super::letter::when_second(m.at))
                        @if !m.fields.is_empty() { " — about: " (m.fields.join(", ")) }
                        @if m.incomplete { " — " strong { "the order is incomplete: its deadline waits for the answer" } } }
                    pre.message-text { (m.message) }
                    @if m.incomplete { (super::annex_iii::form(m, &issuer(&case.order.issued_by))) }
                }
            }
            @if exchange.last().is_some_and(|m| m.side == writ_store::Side::Provider) { p { "Waiting for the agency's answer." } }
            @if open_for_query && matches!(s.user.role, Role::Reviewer | Role::Approver) {
                form method="post" action=(action("query")) {
                    (csrf_field(&s.csrf))
                    fieldset { legend { "Ask the agency" }
                        p { label for="query-message" { "Question (the agency reads it in the portal)" } br;
                            textarea #query-message name="message" rows="3" cols="70" required {} }
                        p { "Fields at issue: "
                            @for f in writ_gateway::lifecycle::QUERY_FIELDS {
                                label { input type="checkbox" name="field" value=(f); " " (f.replace('_', " ")) } " "
                            } }
                        @if case.order.instrument == Instrument::Epoc {
                            p { label { input type="checkbox" name="incomplete" value="on"; " The order is incomplete, manifestly wrong or lacks what is needed to execute it (Annex III; its deadline waits for the answer, Reg. (EU) 2023/1543 Art. 10(5))" } }
                        }
                        button type="submit" { "Ask the agency" }
                    }
                }
            }
        }
        h2 { "Actions" }
        @if !open && !unverified && case.order.non_disclosure.is_none() && case.order.emergency.is_none() && !case.order.instrument.is_preservation() {
            p { "No action is open: the case is " (case.status.label().to_lowercase()) "." }
        }
        @if open && !unverified && !hacking {
            form method="post" action=(action("approve")) {
                (csrf_field(&s.csrf))
                button type="submit" { "Propose approval" }
            }
        }
        @if open {
            form method="post" action=(action("reject")) {
                (csrf_field(&s.csrf))
                fieldset { legend { "Reject" }
                    label for="reason" { "Reason" } " "
                    input #reason name="reason" required size="50";
                    " " button type="submit" { "Propose rejection" }
                }
            }
        }
        @if awaits_channel {
            @let transcriber = case.order.transcription.as_ref().map(|t| t.transcribed_by.as_str()).unwrap_or_default();
            @if transcriber == s.user.name {
                p.notice { "You transcribed this order: another person calls the agency back to verify that it sent it." }
            } @else {
                form method="post" action=(action("channel")) {
                    (csrf_field(&s.csrf))
                    fieldset { legend { "Verify the channel" }
                        p { "Call the agency back on a number from the registry"
                            @if let Some(a) = &agency { " (" (a.callback_numbers.trim_matches(|c| c == '[' || c == ']').replace('"', "")) ")" }
                            ", never one from the document or its envelope or e-mail, and ask whether it sent this order (its reference and date)." }
                        p { "Result: "
                            label { input type="radio" name="verified" value="true" checked; " the agency confirmed it sent the order" }
                            label { input type="radio" name="verified" value="false"; " the agency did not confirm it" } }
                        button type="submit" { "Record the channel callback" }
                    }
                }
            }
        }
        @if unverified && !awaits_channel {
            form method="post" action=(action("callback")) {
                (csrf_field(&s.csrf))
                fieldset { legend { "Record the emergency callback" }
                    p { "Call the agency back on a number from the registry"
                        @if let Some(a) = &agency { " (" (a.callback_numbers.trim_matches(|c| c == '[' || c == ']').replace('"', "")) ")" }
                        ", never a number from the request." }
                    p { "Number called: "
                        label { input type="radio" name="number_source" value="registry" checked; " from the registry" }
                        label { input type="radio" name="number_source" value="request"; " from the request" } }
                    p { "Result: "
                        label { input type="radio" name="verified" value="true" checked; " the agency confirmed the request" }
                        label { input type="radio" name="verified" value="false"; " not confirmed" } }
                    button type="submit" { "Record the callback" }
                }
            }
        }
        @if case.order.non_disclosure.is_some() {
            form method="post" action=(action("secrecy")) {
                (csrf_field(&s.csrf))
                fieldset { legend { "Secrecy order" }
                    p { label { input type="radio" name="mode" value="extend" checked; " a court extended it until " }
                        label for="until" { span.visually-hidden { "new end date" } }
                        input #until type="date" name="until"; }
                    p { label { input type="radio" name="mode" value="lift"; " a court lifted it" } }
                    button type="submit" { "Record" }
                }
            }
        }
        @if case.order.emergency.is_some() {
            form method="post" action=(action("emergency-over")) {
                (csrf_field(&s.csrf)) button type="submit" { "Record that the emergency is over" }
            }
        }
        @if case.order.instrument.is_preservation() {
            form method="post" action=(action("preservation-confirmed")) {
                (csrf_field(&s.csrf)) button type="submit" { "Record the confirmation that a production order was issued" }
            }
        }
        @if !detail.notices.is_empty() {
            h2 { "User notices" }
            table {
                thead { tr { th { "Release" } th { "State" } th { "Attempts" } th { "Sent or next try" } th { "Last error" } } }
                tbody { @for n in &detail.notices { tr {
                    td { "package " (n.generation) }
                    td { strong { (n.state.label()) } }
                    td { (n.attempts) }
                    td { @match (n.state, n.sent_at) {
                        (NoticeState::Sent, Some(at)) => @if let Some(t) = Timestamp::from_second(at) { "sent " (time(t)) },
                        (NoticeState::Sending, _) => @if let Some(t) = Timestamp::from_second(n.next_attempt_at) { "next try " (time(t)) },
                        _ => "—",
                    } }
                    td { (n.last_error.as_deref().unwrap_or("—")) }
                } } }
            }
            @if detail.notices.iter().any(|n| n.state == NoticeState::Dead) && s.user.role != Role::Admin {
                form method="post" action=(action("retry-notice")) {
                    (csrf_field(&s.csrf))
                    button type="submit" { "Try the notice again" }
                }
            }
        }
        h2 #history { "History" }
        table {
            caption.visually-hidden { "Everything that happened to the case, oldest first" }
            thead { tr { th { "When" } th { "What" } th { "Who" } th { "Transparency log" } } }
            tbody { @for h in &detail.history { tr {
                td { (time(h.at)) } td { (h.what) } td.who { (h.by) }
                td { @match (h.log_index, h.state) {
                    (Some(i), _) => { "entry " (i) },
                    (None, Some(st)) => (st.label()),
                    (None, None) => "—",
                } }
            } } }
        }
        details {
            summary { "The order as submitted (JSON)" }
            pre { code { (order_json) } }
        }
    };
    Ok(page(
        StatusCode::OK,
        layout(&format!("Case {id}"), nav(Some(&s)), content),
    ))
}

/// An issuer in words: kind, name, court.
fn issuer(i: &writ_model::order::Issuer) -> String {
    let mut out = i.kind.label().to_owned();
    if let Some(n) = &i.name {
        out.push(' ');
        out.push_str(n);
    }
    if let Some(c) = &i.court {
        out.push_str(", ");
        out.push_str(c);
    }
    out
}

/// The action a form recorded, in words.
fn done_label(action: &str) -> &str {
    match action {
        "approve" => "approval proposed; it waits for a different approver",
        "narrow" => "narrowing proposed; it waits for a different approver",
        "reject" => "rejection proposed; it waits for a different approver",
        "confirm" => "proposal confirmed",
        "callback" => "emergency callback",
        "channel" => "channel callback",
        "query" => "question sent to the agency",
        "record" => {
            "order recorded; nothing of it is released until another person verifies its channel"
        }
        "secrecy" => "secrecy order change",
        "emergency-over" => "the emergency is over",
        "preservation-confirmed" => "production order confirmed",
        "retry-notice" => "the notice will be tried again",
        "certify" => "certificate of authenticity signed",
        "add" => "agency added (pending until verified)",
        "verify" => "agency verified",
        "suspend" => "agency suspended",
        "key" => "key added",
        "officer-remove" => "officer removed; their passkeys and sessions ended",
        "key-revoke" => "key revoked",
        "callbacks" => "callback numbers saved",
        "notify" => "notification settings saved",
        other => other,
    }
}

fn parse_category(s: &str) -> Result<Category, GatewayError> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| GatewayError::Conflict(format!("unknown category `{s}`")))
}

/// The case page's "Certificate of authenticity" section: the certificates
/// signed, and for the package as it is now, if not certified yet, what the
/// custodian declares and the form to sign it.
fn certificate_section(
    state: &AppState,
    s: &Session,
    id: &str,
    package: Option<&writ_store::PackageRow>,
    certificates: &[writ_store::CertificateRow],
) -> Markup {
    let config = &state.inner.config;
    let template = &config.certificate;
    let unsigned = package.filter(|p| !certificates.iter().any(|c| c.generation == p.generation));
    let may_sign = matches!(s.user.role, Role::Reviewer | Role::Approver);
    // What the custodian reads before signing, with their part left blank.
    let preview = writ_store::CertificateRow {
        case_id: id.to_owned(),
        generation: 0,
        package_sha256: String::new(),
        files: String::new(),
        custodian: "[your full name]".into(),
        custodian_title: "[your title]".into(),
        place: String::new(),
        inside_us: true,
        signed_by: String::new(),
        signed_at: 0,
    };
    let fill = |t: &str| {
        writ_gateway::certificate::CertificateTemplate::fill(t, &config.provider, &preview)
    };
    let link = format!("{}/certificate", case_link(id));
    html! {
        section aria-labelledby="certificate" {
            h2 #certificate { "Certificate of authenticity" }
            p { "For a US court: a records custodian's certification under Federal Rules of Evidence 902(11), 902(13) and 902(14), signed under penalty of perjury (28 U.S.C. § 1746), delivered to the agency beside the package. It certifies the provider's records, not who wrote a user's content." }
            @for c in certificates {
                p.certified { "Package " (c.generation) " certified by " strong { (c.custodian) } ", " (c.custodian_title) ", at " (c.place) " on " (super::letter::when_second(c.signed_at)) " (signed in as " (c.signed_by) "). "
                    a href={ (link) "?generation=" (c.generation) } { "Read it" }
                    @if package.is_some_and(|p| p.generation != c.generation) { " — " strong { "the package was replaced since; the agency does not get this certificate" } } }
            }
            @match unsigned {
                Some(p) if may_sign => {
                    p { "Package " (p.generation) " is not certified yet. You sign as the custodian; this is what you declare:" }
                    details {
                        summary { "The declaration" }
                        p { (fill(&template.opening)) }
                        ol { @for st in &template.statements { li { (fill(st)) } } }
                        p { (fill(&template.scope)) }
                        p { "Then, with the package's files and their SHA-256 values: " (fill(&template.inside_us)) " (signed outside the United States: " (fill(&template.outside_us)) ")" }
                    }
                    form method="post" action=(format!("{}/certify", case_link(id))) {
                        (csrf_field(&s.csrf))
                        input type="hidden" name="generation" value=(p.generation);
                        fieldset { legend { "Sign the certificate of package " (p.generation) }
                            p { label for="custodian" { "Your full name" } " " input #custodian name="custodian" required size="40" autocomplete="name"; }
                            p { label for="custodian_title" { "Your title" } " " input #custodian_title name="custodian_title" required size="40" placeholder="Custodian of Records"; }
                            p { label for="place" { "Where you sign" } " " input #place name="place" required size="40" placeholder="City, State or City, Country"; }
                            p { "Signed " input #inside-yes type="radio" name="inside_us" value="yes" checked; label for="inside-yes" { "inside the United States" } " "
                                input #inside-no type="radio" name="inside_us" value="no"; label for="inside-no" { "outside the United States" } }
                            p { label for="signature" { "Signature: type /s/ and your full name" } " " input #signature name="signature" required size="40" placeholder="/s/ Full Name"; }
                            button type="submit" { "Sign under penalty of perjury" }
                        }
                    }
                },
                Some(p) => p { "Package " (p.generation) " is not certified yet; a reviewer or approver signs it as the custodian." },
                None => {},
            }
        }
    }
}

/// `GET /console/cases/{id}/certificate`: a certificate of the case
/// (`?generation=N`, else the newest), as the agency gets it.
pub(crate) async fn certificate(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    let Some(s) = session(&state, &headers).await else {
        return Ok(see_other(HOME, &[]));
    };
    let back = case_link(&id);
    let gw = state.gateway();
    let fail = |e: GatewayError| PageError::new(e, &back);
    let detail = gw.case_detail(&s.user, &id).await.map_err(fail)?;
    let want = query
        .ok()
        .and_then(|Query(q)| q.get("generation").and_then(|g| g.parse::<i64>().ok()));
    let cert = gw
        .certificates(&id)
        .await
        .map_err(fail)?
        .into_iter()
        .find(|c| want.is_none_or(|g| g == c.generation))
        .ok_or_else(|| {
            fail(GatewayError::NotFound(format!(
                "a certificate of case `{id}`"
            )))
        })?;
    let about = super::certificate::About {
        case: &id,
        reference: &detail.case.reference,
        agency: &detail.case.signer,
    };
    Ok(super::certificate::response(&state, &about, &cert, false))
}

/// The actions of the case page's forms.
pub(crate) const ACTIONS: &[&str] = &[
    "approve",
    "narrow",
    "reject",
    "confirm",
    "callback",
    "channel",
    "query",
    "secrecy",
    "emergency-over",
    "preservation-confirmed",
    "retry-notice",
    "certify",
];

/// The change a case page's form asks for, read from the action (the
/// path's last segment) and the form alone: 422 for a form that does not say
/// enough, 404 for an action this form does not take. (`retry-notice` and
/// `certify` are not changes of the case and are handled apart.)
pub(crate) fn review_action(action: &str, f: &[(String, String)]) -> Result<Action, AppError> {
    let bad = |why: &str| AppError::Unprocessable(why.to_owned());
    Ok(match action {
        "approve" => Action::Propose(Proposal::Approve),
        "narrow" => {
            let mut drop = Vec::new();
            for (k, v) in f {
                if k != "drop" {
                    continue;
                }
                let (category, target) = v.split_once(':').ok_or_else(|| bad("bad pair"))?;
                drop.push(DropPair {
                    target: target.to_owned(),
                    category: parse_category(category)?,
                });
            }
            if drop.is_empty() {
                return Err(bad("check at least one pair to drop"));
            }
            Action::Propose(Proposal::Narrow { drop })
        }
        "reject" => {
            let reason = field(f, "reason").unwrap_or_default().trim();
            if reason.is_empty() {
                return Err(bad("a rejection needs a reason"));
            }
            Action::Propose(Proposal::Reject {
                reason: reason.to_owned(),
            })
        }
        "confirm" => Action::Confirm,
        "query" => Action::Query {
            message: field(f, "message").unwrap_or_default().to_owned(),
            fields: f
                .iter()
                .filter(|(k, _)| k == "field")
                .map(|(_, v)| v.clone())
                .collect(),
            incomplete: field(f, "incomplete") == Some("on"),
        },
        "channel" => {
            let verified = match field(f, "verified") {
                Some("true") => true,
                Some("false") => false,
                _ => return Err(bad("say whether the agency confirmed the order")),
            };
            Action::ChannelCheck { verified }
        }
        "callback" => {
            let number_source = match field(f, "number_source") {
                Some("registry") => NumberSource::Registry,
                Some("request") => NumberSource::Request,
                _ => return Err(bad("say where the number called came from")),
            };
            let verified = match field(f, "verified") {
                Some("true") => true,
                Some("false") => false,
                _ => return Err(bad("say whether the callback verified the request")),
            };
            Action::Callback {
                number_source,
                verified,
            }
        }
        "secrecy" => {
            let until = match field(f, "mode") {
                Some("lift") => None,
                Some("extend") => {
                    let day = field(f, "until").unwrap_or_default();
                    let t = Timestamp::parse(&format!("{day}T00:00:00Z"))
                        .map_err(|_| bad("give the new end date as YYYY-MM-DD"))?;
                    Some(t)
                }
                _ => return Err(bad("say whether the secrecy order was extended or lifted")),
            };
            Action::Secrecy { until }
        }
        "emergency-over" => Action::EmergencyOver,
        "preservation-confirmed" => Action::PreservationConfirmed,
        other => return Err(AppError::NotFound(format!("review action `{other}`"))),
    })
}

pub(crate) async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    if !ACTIONS.contains(&action.as_str()) {
        return Err(PageError::new(
            AppError::NotFound(format!("review action `{action}`")),
            &case_link(&id),
        ));
    }
    let Some(s) = session(&state, &headers).await else {
        return Ok(see_other(HOME, &[]));
    };
    let back = case_link(&id);
    let f = body(raw, &state)?;
    check_csrf(&s, &f, &back)?;
    let gw = state.gateway();
    let fail = |e: GatewayError| PageError::new(e, &back);
    if action == "retry-notice" {
        gw.retry_notices(&s.user, &id).await.map_err(fail)?;
        return Ok(see_other(&format!("{back}?done=retry-notice"), &[]));
    }
    if action == "certify" {
        let text = |k: &str| field(&f, k).unwrap_or_default().to_owned();
        let generation = field(&f, "generation")
            .and_then(|g| g.parse::<i64>().ok())
            .ok_or_else(|| {
                PageError::new(
                    AppError::Unprocessable("generation: the package's number is missing".into()),
                    &back,
                )
            })?;
        let form = writ_gateway::certificate::CertifyForm {
            custodian: text("custodian"),
            custodian_title: text("custodian_title"),
            place: text("place"),
            inside_us: field(&f, "inside_us") != Some("no"),
            signature: text("signature"),
        };
        gw.certify(&s.user, &id, generation, &form, Timestamp::now())
            .await
            .map_err(fail)?;
        return Ok(see_other(&format!("{back}?done=certify#certificate"), &[]));
    }
    let act = review_action(&action, &f).map_err(|e| PageError::new(e, &back))?;
    gw.change(Actor::Staff(&s.user), &id, act)
        .await
        .map_err(fail)?;
    Ok(see_other(&format!("{back}?done={}", encode(&action)), &[]))
}

// ---- the agency registry (admins) ----------------------------------------

/// What the "add an agency" form asks for, read from the form alone.
pub(crate) struct NewAgency {
    /// The id as given (trimmed).
    pub(crate) id: String,
    pub(crate) agency: writ_model::Agency,
    pub(crate) numbers: Vec<String>,
    pub(crate) age_recipient: Option<String>,
    /// The first key: its text as given, and the key.
    pub(crate) key: Option<(String, ed25519_dalek::VerifyingKey)>,
}

/// Reads the "add an agency" form: the registry entry, its callback
/// numbers, its age recipient and its first key; 422 (or the registry's
/// error for a bad key) for a form that does not make one.
pub(crate) fn new_agency(f: &[(String, String)]) -> Result<NewAgency, AppError> {
    let text = |k: &str| field(f, k).unwrap_or_default().trim().to_owned();
    let powers: Vec<&str> = f
        .iter()
        .filter(|(k, _)| k == "power")
        .map(|(_, v)| v.as_str())
        .collect();
    let agency: writ_model::Agency = serde_json::from_value(serde_json::json!({
        "id": text("id"), "name": text("name"), "country": text("country").to_uppercase(),
        "kind": text("kind"), "status": "pending", "verified_since": null, "powers": powers,
    }))
    .map_err(|e| AppError::Unprocessable(format!("the agency: {e}")))?;
    let age = text("age_recipient");
    let public = text("public_key");
    let key = if public.is_empty() {
        None
    } else {
        let key = writ_gateway::registry::parse_public_key(&public)?;
        Some((public, key))
    };
    Ok(NewAgency {
        id: text("id"),
        agency,
        numbers: callback_numbers(f),
        age_recipient: (!age.is_empty()).then_some(age),
        key,
    })
}

/// The callback numbers of a form's `numbers` field: one a line.
pub(crate) fn callback_numbers(f: &[(String, String)]) -> Vec<String> {
    field(f, "numbers")
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The key an agency page's "add a key" form gives for agency `id`: its id
/// (given, or derived from the key), its text and the key.
pub(crate) fn agency_key(
    id: &str,
    f: &[(String, String)],
) -> Result<(String, String, ed25519_dalek::VerifyingKey), AppError> {
    let public = field(f, "public_key").unwrap_or_default().trim();
    let key = writ_gateway::registry::parse_public_key(public)?;
    let key_id = match field(f, "key_id").map(str::trim) {
        Some(k) if !k.is_empty() => k.to_owned(),
        _ => writ_gateway::demo::key_id(id, &key),
    };
    Ok((key_id, public.to_owned(), key))
}

/// The "add an agency" form: the registry entry, then its first key.
async fn add_agency(
    state: &AppState,
    s: &Session,
    f: &[(String, String)],
) -> Result<Response, PageError> {
    let back = format!("{AGENCIES}#add");
    let new = new_agency(f).map_err(|e| PageError::new(e, &back))?;
    let id = new.id.clone();
    let gw = state.gateway();
    let actor = s.user.name.as_str();
    gw.add_agency(
        &new.agency,
        &new.numbers,
        new.age_recipient.as_deref(),
        actor,
    )
    .await
    .map_err(|e| PageError::new(e, &back))?;
    if let Some((public, key)) = new.key {
        let key_id = writ_gateway::demo::key_id(&id, &key);
        gw.add_agency_key(&id, &key_id, &public, actor)
            .await
            .map_err(|e| PageError::new(e, &back))?;
    }
    Ok(see_other(
        &format!("{AGENCIES}/{}?done=add", encode(&id)),
        &[],
    ))
}

const AGENCIES: &str = "/console/agencies";

fn admin(s: &Session) -> Result<(), PageError> {
    if s.user.role == Role::Admin {
        Ok(())
    } else {
        Err(PageError::forbidden(
            "only an admin manages the agency registry",
            HOME,
        ))
    }
}

pub(crate) async fn agencies(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    let Some(s) = session(&state, &headers).await else {
        return Ok(see_other(HOME, &[]));
    };
    admin(&s)?;
    let rows = state
        .gateway()
        .agency_list(&s.user)
        .await
        .map_err(|e| PageError::new(e, HOME))?;
    let page_no = query
        .ok()
        .and_then(|Query(q)| q.get("page").and_then(|p| p.parse().ok()))
        .unwrap_or(1usize)
        .max(1);
    let (from, to) = slice(rows.len(), page_no);
    let content = html! {
        table {
            thead { tr { th { "Agency" } th { "Name" } th { "Country" } th { "Kind" } th { "Status" } th { "Verified since" } } }
            tbody { @for a in &rows[from..to] { tr {
                td { a href={ "/console/agencies/" (encode(&a.id)) } { (a.id) } }
                td { (a.name) } td { (a.country) } td { (AgencyKind::parse(&a.kind).map_or(a.kind.as_str(), |x| x.label())) } td { (AgencyStatus::parse(&a.status).map_or(a.status.as_str(), |x| x.label())) }
                td { @match a.verified_since.and_then(Timestamp::from_second) { Some(t) => (time(t)), None => "—" } }
            } } }
        }
        (pager(rows.len(), page_no, |p| format!("{AGENCIES}?page={p}")))
        h2 #add { "Add an agency" }
        form method="post" action={ (AGENCIES) "/-/add" } {
            (csrf_field(&s.csrf))
            fieldset { legend { "New registry entry (pending until an admin verifies it)" }
                p { label for="new-id" { "Agency id (lower case, e.g. us-fbi-wfo)" } br; input #new-id name="id" required size="30"; }
                p { label for="new-name" { "Name" } br; input #new-name name="name" required size="50"; }
                p { label for="new-country" { "Country (ISO 3166-1 alpha-2, e.g. US)" } br; input #new-country name="country" required size="4" maxlength="2"; }
                p { label for="new-kind" { "Kind" } br;
                    select #new-kind name="kind" { @for k in AgencyKind::ALL { option value=(k.as_str()) { (k.label()) } } } }
                p { "Special powers: "
                    @for pw in writ_model::registry::Power::ALL {
                        label { input type="checkbox" name="power" value=(pw.as_str()); " " (pw.label()) }
                    } }
                p { label for="new-key" { "Request-signing key: Ed25519 public key (base64, 32 bytes; optional, more can be added later)" } br; input #new-key name="public_key" size="60"; }
                p { label for="new-numbers" { "Callback numbers for emergencies: one E.164 number a line" } br;
                    textarea #new-numbers name="numbers" rows="2" cols="30" {} }
                p { label for="new-age" { "Age recipient packages are sealed to (age1..., optional)" } br; input #new-age name="age_recipient" size="70"; }
                button type="submit" { "Add the agency" }
            }
        }
    };
    Ok(page(
        StatusCode::OK,
        layout("Agencies", nav(Some(&s)), content),
    ))
}

pub(crate) async fn agency(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    let Some(s) = session(&state, &headers).await else {
        return Ok(see_other(HOME, &[]));
    };
    admin(&s)?;
    let gw = state.gateway();
    let fail = |e: GatewayError| PageError::new(e, AGENCIES);
    let view = gw.agency_view(&id).await.map_err(fail)?;
    let detail = gw.agency_detail(&s.user, &id).await.map_err(fail)?;
    let (keys, history) = (&detail.keys, &detail.history);
    let notify = gw.agency_notify(&id).await.map_err(fail)?;
    let notifications = gw.agency_notifications(&id).await.map_err(fail)?;
    let officers = super::officers::rows(gw, &id).await.map_err(fail)?;
    let done = query.ok().and_then(|Query(q)| q.get("done").cloned());
    let a = &view.agency;
    let action = |x: &str| format!("{AGENCIES}/{}/{x}", encode(&id));
    let content = html! {
        @if let Some(done) = done { p.notice role="status" { "Recorded: " (done_label(&done)) "." } }
        dl {
            dt { "Name" } dd { (a.name) }
            dt { "Country" } dd { (a.country.as_str()) }
            dt { "Kind" } dd { (a.kind.label()) }
            dt { "Status" } dd { strong { (a.status.label()) } }
            dt { "Verified since" } dd { @match a.verified_since { Some(t) => (time(t)), None => "—" } }
            dt { "Age recipient" } dd { code { (view.age_recipient.as_deref().unwrap_or("—")) } }
        }
        form method="post" action=(action("verify")) { (csrf_field(&s.csrf)) button type="submit" { "Verify" } }
        form method="post" action=(action("suspend")) { (csrf_field(&s.csrf)) button type="submit" { "Suspend" } }
        h2 { "Request-signing keys" }
        table {
            thead { tr { th { "Key id" } th { "Public key" } th { "Added" } th { "Revoked" } } }
            tbody { @for k in keys.iter() { tr {
                td { code { (k.key_id) } } td { code { (k.public_key) } }
                td { @if let Some(t) = Timestamp::from_second(k.created_at) { (time(t)) } }
                td { @match k.revoked_at.and_then(Timestamp::from_second) {
                    Some(t) => (time(t)),
                    None => form method="post" action=(action("key-revoke")) {
                        (csrf_field(&s.csrf))
                        input type="hidden" name="key_id" value=(k.key_id);
                        button type="submit" { "Revoke " span.visually-hidden { (k.key_id) } }
                    },
                } }
            } } }
        }
        form method="post" action=(action("key")) {
            (csrf_field(&s.csrf))
            fieldset { legend { "Add a key" }
                p { label for="public_key" { "Ed25519 public key (base64, 32 bytes)" } br; input #public_key name="public_key" size="60" required; }
                p { label for="key_id" { "Key id (empty: derived from the key)" } br; input #key_id name="key_id" size="40"; }
                button type="submit" { "Add key" }
            }
        }
        h2 #officer-list { "Officers" }
        p { "People of the agency with portal accounts of their own: a passkey, or a code from an authenticator app. Each addition, removal and replaced sign-in is in the history below and a registry entry in the public log." }
        (super::officers::table(
            &officers,
            &s.csrf,
            Some(&|o: &str| format!("{}?officer={}", action("officer-remove"), encode(o))),
            Some((&|o: &str| format!("{}?officer={}", action("officer-reset"), encode(o)), &view.callback_numbers)),
        ))
        (super::officers::add_form(&action("officer-add"), &s.csrf))
        h2 { "Callback numbers" }
        form method="post" action=(action("callbacks")) {
            (csrf_field(&s.csrf))
            p { label for="numbers" { "One E.164 number a line; staff call only these to verify an emergency" } br;
                textarea #numbers name="numbers" rows="3" cols="30" { (view.callback_numbers.join("\n")) } }
            button type="submit" { "Save numbers" }
        }
        h2 #notifications { "Notifications" }
        p { "The agency is told when one of its cases is decided or settled by review, when a package is ready and three days before it expires: by e-mail, and by a signed webhook (Standard Webhooks) if you set one. Messages give the case id and a link to the portal, never the case's contents. A webhook URL must resolve to public addresses only." }
        form method="post" action=(action("notify")) {
            (csrf_field(&s.csrf))
            p { label for="email" { "Contact e-mail address (empty: none)" } br;
                input #email name="email" type="email" size="40" value=(notify.as_ref().and_then(|n| n.email.clone()).unwrap_or_default()); }
            p { label for="webhook_url" { "Webhook URL, https:// (empty: none)" } br;
                input #webhook_url name="webhook_url" type="url" size="60" value=(notify.as_ref().and_then(|n| n.webhook_url.clone()).unwrap_or_default()); }
            button type="submit" { "Save notification settings" }
        }
        @if let Some(secret) = notify.as_ref().and_then(|n| n.webhook_secret.as_deref()) {
            details {
                summary { "The webhook's signing secret (give it to the agency by a trusted channel)" }
                p { code #webhook-secret { (secret) } }
                p { "Each POST carries " code { "webhook-id" } ", " code { "webhook-timestamp" } " and " code { "webhook-signature" } " (" code { "v1," } " and base64 of HMAC-SHA256 over id.timestamp.body); a new URL gets a new secret." }
            }
        }
        @if !notifications.is_empty() {
            table #sent-notifications {
                caption { "Latest notifications" }
                thead { tr { th { "Case" } th { "What" } th { "State" } th { "When" } th { "Last error" } } }
                tbody { @for n in &notifications { tr {
                    td { a href=(case_link(&n.case_id)) { (n.case_id) } }
                    td { (writ_gateway::agency_notice::describe(n)) }
                    td { (match NoticeState::parse(&n.state) { Some(NoticeState::Dead) => "given up", Some(st) => st.label(), None => "waiting" }) " after " (n.attempts) " attempts" }
                    td { @if let Some(t) = n.sent_at.or(Some(n.created_at)).and_then(Timestamp::from_second) { (time(t)) } }
                    td { (n.last_error.as_deref().unwrap_or("—")) }
                } } }
            }
        }
        h2 { "History" }
        table {
            thead { tr { th { "When" } th { "Change" } th { "Detail" } th { "By" } } }
            tbody { @for h in history.iter().rev() { tr {
                td { @if let Some(t) = Timestamp::from_second(h.at) { (time(t)) } }
                td { (h.action.replace('_', " ")) } td { (h.detail) } td { (h.actor) }
            } } }
        }
    };
    Ok(page(
        StatusCode::OK,
        layout(&format!("Agency {id}"), nav(Some(&s)), content),
    ))
}

/// The actions of an agency page's forms.
/// (`add` is posted to the agency id `-`: a new agency.)
pub(crate) const AGENCY_ACTIONS: &[&str] = &[
    "add",
    "verify",
    "suspend",
    "key",
    "key-revoke",
    "callbacks",
    "notify",
    "officer-add",
    "officer-remove",
    "officer-reset",
];

pub(crate) async fn agency_act(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    if !AGENCY_ACTIONS.contains(&action.as_str()) {
        return Err(PageError::new(
            AppError::NotFound(format!("agency action `{action}`")),
            AGENCIES,
        ));
    }
    let Some(s) = session(&state, &headers).await else {
        return Ok(see_other(HOME, &[]));
    };
    let back = format!("{AGENCIES}/{}", encode(&id));
    let f = body(raw, &state)?;
    check_csrf(&s, &f, &back)?;
    admin(&s)?;
    let gw = state.gateway();
    let actor = s.user.name.as_str();
    if id == "-" && action == "add" {
        return add_agency(&state, &s, &f).await;
    }
    let officer = query
        .ok()
        .and_then(|Query(q)| q.get("officer").cloned())
        .unwrap_or_default();
    match action.as_str() {
        "officer-add" => {
            let enrolment = gw
                .add_officer(
                    writ_gateway::officers::OfficerAdmin::Staff(&s.user),
                    &id,
                    &super::officers::new_officer(&f),
                )
                .await
                .map_err(|e| PageError::new(e, &back))?;
            return Ok(super::officers::enrolment_page(
                nav(Some(&s)),
                &enrolment,
                &back,
            ));
        }
        "officer-reset" => {
            let called = field(&f, "called").unwrap_or_default();
            let enrolment = gw
                .reset_officer(&s.user, &id, &officer, called)
                .await
                .map_err(|e| PageError::new(e, &back))?;
            return Ok(super::officers::enrolment_page(
                nav(Some(&s)),
                &enrolment,
                &back,
            ));
        }
        "officer-remove" => {
            gw.remove_officer(
                writ_gateway::officers::OfficerAdmin::Staff(&s.user),
                &id,
                &officer,
            )
            .await
        }
        "verify" => {
            gw.set_agency_status(&id, AgencyStatus::Verified, actor)
                .await
        }
        "suspend" => {
            gw.set_agency_status(&id, AgencyStatus::Suspended, actor)
                .await
        }
        "key" => {
            let (key_id, public, _) = agency_key(&id, &f).map_err(|e| PageError::new(e, &back))?;
            gw.add_agency_key(&id, &key_id, &public, actor).await
        }
        "key-revoke" => {
            let key_id = field(&f, "key_id").unwrap_or_default().trim();
            gw.revoke_agency_key(&id, key_id, actor).await
        }
        "callbacks" => {
            gw.set_callback_numbers(&id, &callback_numbers(&f), actor)
                .await
        }
        "notify" => {
            let settings = writ_gateway::agency_notice::NotifySettings {
                email: field(&f, "email").unwrap_or_default().to_owned(),
                webhook_url: field(&f, "webhook_url").unwrap_or_default().to_owned(),
            };
            let loopback = state.inner.config.webhook_allow_loopback;
            gw.set_agency_notify(&s.user, &id, &settings, loopback, Timestamp::now())
                .await
                .map(|_| ())
        }
        other => {
            return Err(PageError::new(
                AppError::NotFound(format!("registry action `{other}`")),
                &back,
            ));
        }
    }
    .map_err(|e| PageError::new(e, &back))?;
    Ok(see_other(&format!("{back}?done={}", encode(&action)), &[]))
}

/// `GET /console/cases/{id}/attachments/{name}`: a document uploaded with
/// the order, as a download (never shown inline: its bytes come from the
/// agency).
pub(crate) async fn attachment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, name)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let Some(s) = session(&state, &headers).await else {
        return Ok(see_other(HOME, &[]));
    };
    let (a, bytes) = state
        .gateway()
        .attachment_for_review(&s.user, &id, &name)
        .await
        .map_err(|e| PageError::new(e, &case_link(&id)))?;
    Ok(download(&a.name, bytes))
}

/// Bytes from outside (an agency, a mailbox) as a download: never shown
/// inline, sniffed or run.
pub(super) fn download(name: &str, bytes: Vec<u8>) -> Response {
    let file_name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    axum::response::IntoResponse::into_response((
        [
            ("content-type", "application/octet-stream".to_owned()),
            (
                "content-disposition",
                format!("attachment; filename=\"{file_name}\""),
            ),
            ("x-content-type-options", "nosniff".to_owned()),
            ("content-security-policy", "sandbox".to_owned()),
        ],
        bytes,
    ))
}
