//! Officers' pages: the portal's officer sign-in (passkey or code), the
//! officer's account with its passkeys, an officer-admin's list of the
//! agency's officers, and the same list on the console's agency page. The
//! rules are the gateway's (`writ_gateway::officers`).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use writ_gateway::GatewayError;
use writ_gateway::officers::{Enrolment, NewOfficer, OfficerAdmin, officer_label};
use writ_model::Timestamp;
use writ_store::OfficerRow;

use super::portal::{self, HOME, SIGN_IN};
use super::{PageError, csrf_field, encode, field, layout, page, see_other, set_cookie, time};
use crate::AppState;

const ACCOUNT: &str = "/portal/account";

/// The officer fields of an add form, read from a posted form.
pub(crate) fn new_officer(f: &[(String, String)]) -> NewOfficer {
    let text = |k: &str| field(f, k).unwrap_or_default().to_owned();
    NewOfficer {
        name: text("officer_name"),
        title: text("officer_title"),
        badge: text("officer_badge"),
        email: text("officer_email"),
        phone: text("officer_phone"),
        admin: field(f, "officer_admin").is_some_and(|v| v == "yes"),
    }
}

/// The form that adds an officer, posting to `action`.
pub(crate) fn add_form(action: &str, csrf: &str) -> Markup {
    html! {
        form method="post" action=(action) {
            (csrf_field(csrf))
            fieldset {
                legend { "Add an officer" }
                p { label for="officer_name" { "Name" } br; input #officer_name name="officer_name" required size="40"; }
                p { label for="officer_title" { "Rank or title" } br; input #officer_title name="officer_title" size="40"; }
                p { label for="officer_badge" { "Badge or staff number" } br; input #officer_badge name="officer_badge" required size="20"; }
                p { label for="officer_email" { "E-mail address" } br; input #officer_email name="officer_email" type="email" required size="40"; }
                p { label for="officer_phone" { "Phone (international form, +…)" } br; input #officer_phone name="officer_phone" type="tel" required size="20"; }
                p { label { input type="checkbox" name="officer_admin" value="yes"; " Officer-admin (adds and removes the agency's officers)" } }
                button type="submit" { "Add the officer" }
            }
        }
    }
}

/// A link maker: the URL of an action on an officer, by the officer's id.
pub(crate) type OfficerUrl<'a> = &'a dyn Fn(&str) -> String;

/// The agency's officers as a table; `remove`, when given, makes a remove
/// button post to `remove(officer id)`, and `reset` a form that replaces
/// the officer's sign-in after a callback (the provider's admins only).
pub(crate) fn table(
    officers: &[(OfficerRow, usize)],
    csrf: &str,
    remove: Option<OfficerUrl<'_>>,
    reset: Option<(OfficerUrl<'_>, &[String])>,
) -> Markup {
    html! {
        @if officers.is_empty() { p { "No officer yet." } } @else {
            table #officers {
                thead { tr { th { "Officer" } th { "E-mail" } th { "Phone" } th { "Passkeys" } th { "Added" } th { "State" } } }
                tbody { @for (o, passkeys) in officers { tr {
                    td { (officer_label(o)) @if o.admin { br; span.flag { "officer-admin" } } }
                    td { (o.email) } td { (o.phone) } td { (passkeys) }
                    td { @if let Some(t) = Timestamp::from_second(o.created_at) { (time(t)) } }
                    td {
                        @match o.removed_at.and_then(Timestamp::from_second) {
                            Some(t) => { "removed " (time(t)) }
                            None => {
                                "active"
                                @if let Some(remove) = remove {
                                    form method="post" action=(remove(&o.id)) {
                                        (csrf_field(csrf))
                                        button type="submit" { "Remove " span.visually-hidden { (o.name) } }
                                    }
                                }
                                @if let Some((reset, numbers)) = reset {
                                    details {
                                        summary { "Replace a lost passkey " span.visually-hidden { "of " (o.name) } }
                                        form method="post" action=(reset(&o.id)) {
                                            (csrf_field(csrf))
                                            p { "Call the agency back on one of its registered numbers (never on a number from an e-mail) and confirm the officer's request; the officer's passkeys and sessions end, and a new code secret is shown once, to read to the officer." }
                                            label for={ "called-" (o.id) } { "Number called" }
                                            select id={ "called-" (o.id) } name="called" required {
                                                @for n in numbers { option value=(n) { (n) } }
                                            }
                                            button type="submit" { "Record the callback and replace the sign-in" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                } } }
            }
        }
    }
}

/// The page that shows a new (or reset) officer's code secret, once.
pub(crate) fn enrolment_page(nav: Markup, e: &Enrolment, back: &str) -> Response {
    let content = html! {
        p.notice role="status" { "Recorded: " (officer_label(&e.officer)) " of agency " code { (e.officer.agency_id) } "." }
        p { "Give the officer this secret by phone or in person, never by e-mail. It is shown only now. "
            "The officer adds it to an authenticator app, signs in to the portal with the app's code, then registers a passkey under “Your account”." }
        dl {
            dt { "Code secret (base32)" } dd { code #totp-secret { (e.totp_secret) } }
            dt { "As a link for an app" } dd { code #otpauth-uri { (e.otpauth_uri) } }
            dt { "Signs in as" } dd { "agency " code { (e.officer.agency_id) } ", e-mail " (e.officer.email) }
        }
        p { a href=(back) { "Back" } }
    };
    page(
        StatusCode::OK,
        layout("An officer's sign-in secret", nav, content),
    )
}

fn body(
    raw: Result<Bytes, BytesRejection>,
    state: &AppState,
    back: &str,
) -> Result<Vec<(String, String)>, PageError> {
    let bytes = crate::routes::body(raw, state.inner.config.body_limit)
        .map_err(|e| PageError::new(e, back))?;
    Ok(super::form(&bytes))
}

fn signed_in(state: &AppState, secret: &str) -> Response {
    let secure = state.inner.config.secure_cookies;
    see_other(
        HOME,
        &[
            set_cookie(portal::COOKIE, Some(secret), HOME, secure),
            SIGN_IN.clear(secure),
        ],
    )
}

/// The answer to a sign-in: the session's cookie, or the sign-in page
/// again with `denied`.
async fn answer(
    state: &AppState,
    headers: &HeaderMap,
    result: Result<Option<String>, GatewayError>,
    denied: &str,
) -> Result<Response, PageError> {
    match result {
        Ok(Some(secret)) => Ok(signed_in(state, &secret)),
        Ok(None) => {
            portal::sign_in_page(state, headers, StatusCode::UNAUTHORIZED, Some(denied)).await
        }
        Err(e) => Err(PageError::new(e, HOME)),
    }
}

/// The agency's officers with how many passkeys each has.
pub(crate) async fn rows(
    gw: &writ_gateway::Gateway,
    agency: &str,
) -> Result<Vec<(OfficerRow, usize)>, GatewayError> {
    let mut rows = Vec::new();
    for o in gw.officers(agency).await? {
        let n = gw.passkey_count(&o.id).await?;
        rows.push((o, n));
    }
    Ok(rows)
}

/// `POST /portal/sign-in/code`: an officer's sign-in with a TOTP code.
pub(crate) async fn code_sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    let f = body(raw, &state, HOME)?;
    SIGN_IN.check(&headers, &f, HOME)?;
    let now = Timestamp::now().as_second();
    let agency = field(&f, "agency").unwrap_or_default().trim();
    let email = field(&f, "email").unwrap_or_default();
    let code = field(&f, "code").unwrap_or_default();
    let result = state
        .gateway()
        .officer_sign_in(agency, email, code, now)
        .await;
    answer(
        &state,
        &headers,
        result,
        "the agency, e-mail address or code is wrong, or the code was used already",
    )
    .await
}

/// `POST /portal/sign-in/passkey`: the browser's answer to the sign-in
/// page's passkey request.
pub(crate) async fn passkey_sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    let f = body(raw, &state, HOME)?;
    SIGN_IN.check(&headers, &f, HOME)?;
    let now = Timestamp::now().as_second();
    let sealed = field(&f, "state").unwrap_or_default();
    let credential = serde_json::from_str(field(&f, "credential").unwrap_or_default())
        .unwrap_or(serde_json::Value::Null);
    let result = state
        .gateway()
        .passkey_sign_in_finish(sealed, &credential, now)
        .await;
    answer(&state, &headers, result, "the passkey was not accepted: it is not registered here, its officer was removed, or the request expired; try again or use your code").await
}

/// `GET /portal/account`: the officer's own account and passkeys; for an
/// officer-admin, the agency's officers too.
pub(crate) async fn account(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<
        axum::extract::Query<std::collections::HashMap<String, String>>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Result<Response, PageError> {
    let Some(s) = portal::session(&state, &headers).await else {
        return Ok(see_other(HOME, &[]));
    };
    portal::limited(&state, &s)?;
    let gw = state.gateway();
    let fail = |e: GatewayError| PageError::new(e, HOME);
    let done = query.ok().and_then(|q| q.0.get("done").cloned());
    let Some(me) = &s.officer else {
        let content = html! {
            p { "This session was opened with the agency's key, not by an officer. Officers sign in with their own passkey or code; the provider's admin or the agency's officer-admin adds them." }
        };
        return Ok(page(
            StatusCode::OK,
            layout("Your account", portal::nav(Some(&s)), content),
        ));
    };
    let now = Timestamp::now().as_second();
    let (options, sealed) = gw.passkey_register_start(me, now).await.map_err(fail)?;
    let host = gw.passkey_host().map_err(fail)?;
    let mine = gw.passkey_count(&me.id).await.map_err(fail)?;
    let officers = if me.admin {
        rows(gw, &s.agency).await.map_err(fail)?
    } else {
        Vec::new()
    };
    let remove = |id: &str| format!("/portal/officers/{}/remove", encode(id));
    let content = html! {
        @if let Some(d) = done { p.notice role="status" { "Recorded: " (d.replace('-', " ")) "." } }
        dl {
            dt { "Name" } dd { (me.name) }
            dt { "Rank or title" } dd { (me.title) }
            dt { "Badge or staff number" } dd { (me.badge) }
            dt { "E-mail" } dd { (me.email) }
            dt { "Phone" } dd { (me.phone) }
            dt { "Agency" } dd { code { (s.agency) } @if me.admin { " (officer-admin)" } }
        }
        h2 { "Passkeys" }
        p { "You have " strong #passkey-count { (mine) } " passkey" @if mine != 1 { "s" } ". "
            "A passkey signs you in without a code; it belongs to " code { (host) } "." }
        form #passkey-register method="post" action="/portal/passkeys" data-options=(options.to_string()) data-host=(host) {
            (csrf_field(&s.csrf))
            input type="hidden" name="state" value=(sealed);
            input type="hidden" name="credential" value="";
            button type="button" data-passkey="create" { "Register a passkey" }
            " " small { "(needs JavaScript)" }
            p.error role="alert" hidden {}
        }
        (super::passkey_script())
        @if me.admin {
            h2 { "Your agency's officers" }
            p { "Each addition and removal is recorded in the agency's history and as a registry entry in the public log." }
            (table(&officers, &s.csrf, Some(&remove), None))
            (add_form("/portal/officers", &s.csrf))
        }
    };
    Ok(page(
        StatusCode::OK,
        layout("Your account", portal::nav(Some(&s)), content),
    ))
}

/// `POST /portal/passkeys`: the browser's new passkey for the officer.
pub(crate) async fn register_passkey(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    let Some(s) = portal::session(&state, &headers).await else {
        return Ok(see_other(HOME, &[]));
    };
    portal::limited(&state, &s)?;
    let f = body(raw, &state, ACCOUNT)?;
    portal::check_csrf(&s, &f)?;
    let Some(me) = &s.officer else {
        return Err(PageError::forbidden(
            "passkeys belong to officers; this session was opened with the agency's key",
            ACCOUNT,
        ));
    };
    let credential = serde_json::from_str(field(&f, "credential").unwrap_or_default())
        .unwrap_or(serde_json::Value::Null);
    state
        .gateway()
        .passkey_register_finish(
            me,
            field(&f, "state").unwrap_or_default(),
            &credential,
            Timestamp::now().as_second(),
        )
        .await
        .map_err(|e| PageError::new(e, ACCOUNT))?;
    Ok(see_other(
        &format!("{ACCOUNT}?done=passkey-registered"),
        &[],
    ))
}

fn officer_admin(s: &portal::Session) -> Result<&OfficerRow, PageError> {
    s.officer.as_ref().filter(|o| o.admin).ok_or_else(|| {
        PageError::forbidden(
            "only one of the agency's officer-admins adds or removes its officers",
            ACCOUNT,
        )
    })
}

/// `POST /portal/officers`: an officer-admin adds an officer.
pub(crate) async fn add(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    let Some(s) = portal::session(&state, &headers).await else {
        return Ok(see_other(HOME, &[]));
    };
    portal::limited(&state, &s)?;
    let f = body(raw, &state, ACCOUNT)?;
    portal::check_csrf(&s, &f)?;
    let me = officer_admin(&s)?;
    let enrolment = state
        .gateway()
        .add_officer(OfficerAdmin::Officer(me), &s.agency, &new_officer(&f))
        .await
        .map_err(|e| PageError::new(e, ACCOUNT))?;
    Ok(enrolment_page(portal::nav(Some(&s)), &enrolment, ACCOUNT))
}

/// `POST /portal/officers/{officer}/remove`: an officer-admin removes one
/// of the agency's officers.
pub(crate) async fn remove(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(officer): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    let Some(s) = portal::session(&state, &headers).await else {
        return Ok(see_other(HOME, &[]));
    };
    portal::limited(&state, &s)?;
    let f = body(raw, &state, ACCOUNT)?;
    portal::check_csrf(&s, &f)?;
    let me = officer_admin(&s)?;
    state
        .gateway()
        .remove_officer(OfficerAdmin::Officer(me), &s.agency, &officer)
        .await
        .map_err(|e| PageError::new(e, ACCOUNT))?;
    Ok(see_other(&format!("{ACCOUNT}?done=officer-removed"), &[]))
}
