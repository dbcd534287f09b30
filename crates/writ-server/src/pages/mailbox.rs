//! The console's Mailbox (`/console/mailbox`): the messages the server read
//! from the legal-process mailbox (`writ serve --imap`), each a draft for
//! staff to transcribe or dismiss (docs/http.md, "The legal-process
//! mailbox"). For reviewers and approvers, like "Record a received order".
//!
//! "Transcribe" opens the existing record form (`/console/orders/new`) with
//! the channel `email`, the chosen attachment as its document and the
//! message in a hidden `mailbox` field, as the user's draft; recording the
//! order marks the message `transcribed` with the new case.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::html;
use writ_gateway::GatewayError;
use writ_gateway::drafts::check_document;
use writ_gateway::mailbox::MailView;

use super::console::{check_csrf, nav, session};
use super::{PageError, csrf_field, encode, field, form, layout, page, see_other, time};
use crate::{AppError, AppState};

pub(crate) const MAILBOX: &str = "/console/mailbox";

/// The actions on a message.
pub(crate) const ACTIONS: &[&str] = &["transcribe", "dismiss"];

fn link(id: &str) -> String {
    format!("{MAILBOX}/{}", encode(id))
}

fn state_label(m: &MailView) -> String {
    match m.state.as_str() {
        "transcribed" => format!("transcribed by {}", m.by.as_deref().unwrap_or("someone")),
        "dismissed" => format!("dismissed by {}", m.by.as_deref().unwrap_or("someone")),
        _ => "new".into(),
    }
}

/// `GET /console/mailbox`: the messages, newest first.
pub(crate) async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let Some(s) = session(&state, &headers).await else {
        return Ok(see_other("/console", &[]));
    };
    let mail = state
        .gateway()
        .mailbox(&s.user)
        .await
        .map_err(|e| PageError::new(e, "/console"))?;
    let content = html! {
        p { "Messages read from the legal-process mailbox. Transcribe a message to record the order it carries "
            "(it is held until another person calls the agency back, as every order staff record), or dismiss it. "
            "The mail stays in the mailbox." }
        @if mail.is_empty() {
            p { "No messages. The server reads a mailbox when started with " code { "--imap" } "." }
        } @else {
            table {
                thead { tr { th { "From" } th { "Subject" } th { "Date" } th { "Attachments" } th { "State" } } }
                tbody { @for m in &mail { tr {
                    td { (m.from) }
                    td { a href=(link(&m.id)) { @if m.subject.is_empty() { "(no subject)" } @else { (m.subject) } } }
                    td { @match m.date { Some(t) => (time(t)), None => "—" } }
                    td { @if m.attachments.is_empty() { "—" } @else {
                        @for (i, a) in m.attachments.iter().enumerate() { @if i > 0 { ", " } (a.name) } } }
                    td { (state_label(m))
                        @if let Some(c) = &m.case { " (" a href={ "/console/cases/" (encode(c)) } { (c) } ")" } }
                } } }
            }
        }
    };
    Ok(page(
        StatusCode::OK,
        layout("Mailbox", nav(Some(&s)), content),
    ))
}

/// `GET /console/mailbox/{id}`: a message, its text and attachments, and
/// what may be done with it.
pub(crate) async fn message(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let Some(s) = session(&state, &headers).await else {
        return Ok(see_other("/console", &[]));
    };
    let m = state
        .gateway()
        .mail(&s.user, &id)
        .await
        .map_err(|e| PageError::new(e, MAILBOX))?;
    let documents: Vec<_> = m.attachments.iter().filter(|a| a.document).collect();
    let content = html! {
        dl {
            dt { "From" } dd { (m.from) }
            dt { "Subject" } dd { (m.subject) }
            dt { "Date" } dd { @match m.date { Some(t) => (time(t)), None => "—" } }
            @if let Some(mid) = &m.message_id { dt { "Message-ID" } dd { code { (mid) } } }
            dt { "Read" } dd { (time(m.received_at)) }
            dt { "State" } dd { (state_label(&m))
                @if let Some(t) = m.decided_at { " on " (time(t)) }
                @if let Some(c) = &m.case { ": case " a href={ "/console/cases/" (encode(c)) } { (c) } } }
        }
        @if let Some(n) = &m.note { p.error role="note" { (n) } }
        h2 { "Text" }
        @if m.body.is_empty() { p { "(no text)" } } @else { pre { (m.body) } }
        h2 { "Attachments" }
        @if m.attachments.is_empty() { p { "None." } } @else {
            table {
                thead { tr { th { "Name" } th { "Type" } th { "Size" } th { "SHA-256" } } }
                tbody { @for a in &m.attachments { tr {
                    td { @if a.kept { a href={ (link(&m.id)) "/attachments/" (encode(&a.sha256)) } download { (a.name) } } @else { (a.name) } }
                    td { (a.media_type) @if !a.document { br; small { "not usable as the order's document" } } }
                    td { (a.size) " bytes" @if !a.kept { br; small { "too large: not kept" } } }
                    td { code { (a.sha256) } }
                } } }
            }
        }
        @if m.state == "new" {
            h2 { "Transcribe" }
            form method="post" action={ (link(&m.id)) "/transcribe" } {
                (csrf_field(&s.csrf))
                p { "Opens “Record a received order” with the channel " strong { "e-mail" } " and the chosen document, "
                    "replacing your current draft there. Recording the order marks this message transcribed." }
                @if documents.is_empty() {
                    p { "The message has no PDF or image to use as the order's document; the form opens without one." }
                    input type="hidden" name="attachment" value="";
                } @else {
                    fieldset { legend { "The signed order" }
                        @for (i, a) in documents.iter().enumerate() {
                            label { input type="radio" name="attachment" value=(a.sha256) checked[i == 0]; " " (a.name) " (" (a.media_type) ")" } br;
                        }
                    }
                }
                button type="submit" { "Transcribe" }
            }
            h2 { "Dismiss" }
            form method="post" action={ (link(&m.id)) "/dismiss" } {
                (csrf_field(&s.csrf))
                p { "When the message carries no order (a reply, a duplicate, mail sent there by mistake)." }
                button type="submit" { "Dismiss" }
            }
        }
        p { a href=(MAILBOX) { "Back to the mailbox" } }
    };
    let title = if m.subject.is_empty() {
        "Message".to_owned()
    } else {
        m.subject.clone()
    };
    Ok(page(StatusCode::OK, layout(&title, nav(Some(&s)), content)))
}

/// `GET /console/mailbox/{id}/attachments/{sha256}`: an attachment, as a
/// download (never shown inline: its bytes come from outside).
pub(crate) async fn attachment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, sha256)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let Some(s) = session(&state, &headers).await else {
        return Ok(see_other("/console", &[]));
    };
    let (a, bytes) = state
        .gateway()
        .mail_attachment(&s.user, &id, &sha256)
        .await
        .map_err(|e| PageError::new(e, &link(&id)))?;
    Ok(super::console::download(&a.name, bytes))
}

/// `POST /console/mailbox/{id}/{action}`: `transcribe` (with the chosen
/// `attachment`) or `dismiss`.
pub(crate) async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    let back = link(&id);
    // An unknown action is 404 before anything else, signed in or not.
    if !ACTIONS.contains(&action.as_str()) {
        return Err(PageError::new(
            AppError::NotFound(format!("mailbox action `{action}`")),
            &back,
        ));
    }
    let Some(s) = session(&state, &headers).await else {
        return Ok(see_other("/console", &[]));
    };
    let bytes = crate::routes::body(raw, state.inner.config.body_limit)
        .map_err(|e| PageError::new(e, &back))?;
    let f = form(&bytes);
    check_csrf(&s, &f, &back)?;
    let gw = state.gateway();
    let fail = |e: GatewayError| PageError::new(e, &back);
    if action == "dismiss" {
        gw.settle_mail(&s.user, &id, None).await.map_err(fail)?;
        return Ok(see_other(MAILBOX, &[]));
    }
    let m = gw.mail(&s.user, &id).await.map_err(fail)?;
    if m.state != "new" {
        return Err(fail(GatewayError::Conflict(format!(
            "the message is {} already",
            m.state
        ))));
    }
    let chosen = field(&f, "attachment").unwrap_or_default();
    let document = if chosen.is_empty() {
        None
    } else {
        let (a, bytes) = gw
            .mail_attachment(&s.user, &id, chosen)
            .await
            .map_err(fail)?;
        let d = check_document(&a.name, &bytes).map_err(fail)?;
        Some((d, bytes))
    };
    let fields = vec![
        ("channel".to_owned(), "email".to_owned()),
        ("mailbox".to_owned(), id.clone()),
    ];
    gw.save_draft(
        &super::order_form::console_draft_key(&s.user),
        fields,
        document.as_ref().map(|(d, b)| (d.clone(), b.as_slice())),
        false,
    )
    .await
    .map_err(fail)?;
    Ok(see_other(super::order_form::CONSOLE_NEW, &[]))
}
