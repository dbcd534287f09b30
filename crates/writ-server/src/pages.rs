//! Server-rendered pages: the console (`/console`), the agency portal
//! (`/portal`) and the public status page (`/status`).
//!
//! Every page works without JavaScript: forms post and redirect, lists are
//! paginated by links, and the only script is a few lines that show times in
//! the viewer's zone (the UTC text stays as the fallback). Every form POST
//! carries a per-session CSRF token in a hidden field, and session cookies
//! are `HttpOnly` and `SameSite=Strict` (`Secure` when configured). The two
//! sign-in forms, which have no session yet, carry a double-submit token
//! instead ([`SignInCsrf`]), so that another site cannot sign a browser in
//! to an account of its choosing.
//!
//! The pages call the same gateway functions as the API, so the rules (the
//! two-person rule, roles, which agency sees what) hold here exactly as
//! there.

pub(crate) mod annex_iii;
pub(crate) mod certificate;
pub(crate) mod console;
pub(crate) mod letter;
pub(crate) mod mailbox;
pub(crate) mod officers;
pub(crate) mod order_form;
pub(crate) mod portal;
pub(crate) mod status;
pub(crate) mod transparency;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use writ_gateway::GatewayError;
use writ_model::Timestamp;

use crate::AppError;

/// Rows per page of a long list.
pub(crate) const PAGE_SIZE: usize = 25;

/// Shows every `<time>` in the viewer's zone; the UTC text is the fallback.
const LOCALISE: &str = "document.querySelectorAll('time[datetime]').forEach(function(t){\
var d=new Date(t.getAttribute('datetime'));if(!isNaN(d)){t.textContent=d.toLocaleString();}});";

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;line-height:1.45}\
header{background:#1f3a5f;color:#fff;padding:.6rem 1rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}\
header a{color:#fff}header form{margin:0 0 0 auto}main{padding:1rem;max-width:78rem}\
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}th,td{border:1px solid #c8c8c8;padding:.3rem .5rem;text-align:left;vertical-align:top}\
th{background:#eef1f5}tr.emergency td{background:#fff1f0}.flag{display:inline-block;background:#fde68a;border-radius:.3rem;padding:0 .35rem;margin:.1rem;font-size:.85em}\
.overdue{color:#b00020;font-weight:bold}.notice{background:#e7f5e9;border:1px solid #7bb885;padding:.5rem}.error{background:#fdecea;border:1px solid #e0817a;padding:.5rem}\
fieldset{margin:.5rem 0 1rem;border:1px solid #c8c8c8}label{display:inline-block;margin:.2rem .6rem .2rem 0}\
input,select,textarea,button{font:inherit}button{padding:.25rem .8rem;cursor:pointer}\
a:focus,button:focus,input:focus,select:focus,textarea:focus{outline:3px solid #f59e0b;outline-offset:1px}\
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}\
pre{background:#f6f8fa;padding:.5rem;overflow:auto;max-height:30rem}nav.pages a{margin-right:.6rem}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0}";

/// The passkey buttons' script (`button[data-passkey]` in a form whose
/// `data-options` hold the WebAuthn options as JSON): asks the browser for
/// a passkey (`get`) or a new one (`create`), puts the answer in the form's
/// `credential` field and sends the form. Without JavaScript the button
/// does nothing and the page offers another way.
const PASSKEY: &str = "document.querySelectorAll('button[data-passkey]').forEach(function(b){\
b.addEventListener('click',async function(){var f=b.form,err=f.querySelector('.error');\
try{var P=window.PublicKeyCredential;\
if(!P||!P.parseRequestOptionsFromJSON)throw new Error('this browser does not support passkeys');\
var o=JSON.parse(f.dataset.options).publicKey,c;\
if(b.dataset.passkey==='get'){c=await navigator.credentials.get({publicKey:P.parseRequestOptionsFromJSON(o)});}\
else{c=await navigator.credentials.create({publicKey:P.parseCreationOptionsFromJSON(o)});}\
f.elements.credential.value=JSON.stringify(c.toJSON());f.submit();}\
catch(e){err.textContent=(location.hostname!==f.dataset.host?'Passkeys work at '+f.dataset.host+', not at '+location.hostname+'. ':'')+'The passkey did not work: '+e.message;err.hidden=false;}});});";

/// The script element of [`PASSKEY`], for a page with passkey buttons.
pub(crate) fn passkey_script() -> Markup {
    html! { script { (PreEscaped(PASSKEY)) } }
}

/// The page frame: title, navigation, content.
pub(crate) fn layout(title: &str, nav: Markup, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Writ" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header { strong { "Writ" } (nav) }
                main { h1 { (title) } (content) }
                script { (PreEscaped(LOCALISE)) }
            }
        }
    }
}

/// A timestamp: UTC text, the instant in `datetime`, UTC on hover.
pub(crate) fn time(t: Timestamp) -> Markup {
    let utc = t.to_string();
    let text = utc.replacen('T', " ", 1).replace('Z', " UTC");
    html! { time datetime=(utc) title={ "UTC " (utc) } { (text) } }
}

/// "in 3 d 4 h" or "overdue by 2 h", from now.
pub(crate) fn countdown(due: Timestamp, now: Timestamp) -> Markup {
    let left = due.as_second() - now.as_second();
    let span = left.unsigned_abs();
    let (d, h, m) = (span / 86_400, span % 86_400 / 3600, span % 3600 / 60);
    let text = if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m} min")
    } else {
        format!("{m} min")
    };
    if left < 0 {
        html! { span.overdue { "overdue by " (text) } }
    } else {
        html! { span { "in " (text) } }
    }
}

/// A hidden CSRF field.
pub(crate) fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// The CSRF token bound to a session: a keyed hash of the session secret,
/// so that it needs no storage and dies with the session.
pub(crate) fn csrf_token(session_secret: &str) -> String {
    let digest =
        writ_gateway::canonical::sha256_hex(format!("writ-csrf\n{session_secret}").as_bytes());
    digest[..32].to_owned()
}

/// Compares in time independent of where the strings differ.
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A cookie's value from the request.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value for a session cookie on `path`; `None` clears it.
pub(crate) fn set_cookie(name: &str, value: Option<&str>, path: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match value {
        Some(v) => format!("{name}={v}; Path={path}; HttpOnly; SameSite=Strict{secure}"),
        None => format!("{name}=; Path={path}; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    }
}

/// How long a sign-in form's token lasts: long enough to find an
/// authenticator or sign a challenge, short enough to be no session.
const SIGN_IN_SECONDS: u32 = 3600;

/// Login CSRF protection for a sign-in form (a double-submit token): the
/// page sets a short-lived pre-session cookie and puts the same random value
/// in the form's hidden `csrf` field; the POST is accepted only when both
/// are there and equal. Another site can make a browser post the form, but
/// can neither read nor set the cookie, so it cannot sign the browser in to
/// an account of its choosing. The check needs no storage, so any server
/// of a deployment answers any step.
pub(crate) struct SignInCsrf {
    /// The pre-session cookie's name.
    pub(crate) cookie: &'static str,
    /// The path it is scoped to, like the session cookie.
    pub(crate) path: &'static str,
}

impl SignInCsrf {
    /// The token for a sign-in form: the request's own, so that two open
    /// sign-in pages both work, or a new one. Returns it with the
    /// `Set-Cookie` value that (re)sets it for [`SIGN_IN_SECONDS`].
    pub(crate) fn issue(
        &self,
        headers: &HeaderMap,
        secure: bool,
    ) -> Result<(String, String), GatewayError> {
        let token = match cookie(headers, self.cookie) {
            Some(t) if well_formed(&t) => t,
            _ => hex::encode(writ_gateway::random_bytes::<16>()?),
        };
        let secure = if secure { "; Secure" } else { "" };
        let set = format!(
            "{}={token}; Path={}; Max-Age={SIGN_IN_SECONDS}; HttpOnly; SameSite=Strict{secure}",
            self.cookie, self.path
        );
        Ok((token, set))
    }

    /// Refuses a sign-in POST unless the form's token and the cookie's are
    /// both present and equal.
    pub(crate) fn check(
        &self,
        headers: &HeaderMap,
        form: &[(String, String)],
        back: &str,
    ) -> Result<(), PageError> {
        match (cookie(headers, self.cookie), field(form, "csrf")) {
            (Some(c), Some(f)) if well_formed(&c) && same(&c, f) => Ok(()),
            _ => Err(PageError::forbidden(
                "the form's security token is missing or stale; reload the page and try again",
                back,
            )),
        }
    }

    /// The `Set-Cookie` value that drops the pre-session cookie (once
    /// signed in).
    pub(crate) fn clear(&self, secure: bool) -> String {
        set_cookie(self.cookie, None, self.path, secure)
    }
}

/// A sign-in token as [`SignInCsrf::issue`] makes them: 32 hex digits.
fn well_formed(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Adds `Set-Cookie` headers to a response.
pub(crate) fn with_cookies(mut r: Response, cookies: &[String]) -> Response {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

/// An `application/x-www-form-urlencoded` body as name-value pairs, in
/// order (a checkbox list repeats its name).
pub(crate) fn form(body: &[u8]) -> Vec<(String, String)> {
    body.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut it = p.splitn(2, |b| *b == b'=');
            let k = decode(it.next().unwrap_or_default());
            let v = decode(it.next().unwrap_or_default());
            (k, v)
        })
        .collect()
}

fn decode(part: &[u8]) -> String {
    let mut out = Vec::with_capacity(part.len());
    let mut i = 0;
    while i < part.len() {
        match part[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < part.len() => {
                let hex = std::str::from_utf8(&part[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first value of a form field.
pub(crate) fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Percent-encodes a query value.
pub(crate) fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A 303 to `location`, with cookies to set.
pub(crate) fn see_other(location: &str, cookies: &[String]) -> Response {
    let mut r = (StatusCode::SEE_OTHER, ()).into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    with_cookies(r, cookies)
}

/// The pages' content security policy: nothing but the page's own inline
/// style and script (pinned by their hashes), forms only to this server,
/// and no framing.
fn content_security_policy() -> &'static str {
    static CSP: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CSP.get_or_init(|| {
        use base64::Engine as _;
        use sha2::Digest as _;
        let hash = |text: &str| {
            base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(text.as_bytes()))
        };
        format!(
            "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}' 'sha256-{}'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            hash(STYLE),
            hash(LOCALISE),
            hash(PASSKEY)
        )
    })
}

/// A rendered page with a status; pages are never cached.
pub(crate) fn page(status: StatusCode, markup: Markup) -> Response {
    let mut r = (status, Html(markup.into_string())).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(content_security_policy()) {
        r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    r.headers_mut()
        .insert("x-frame-options", HeaderValue::from_static("DENY"));
    r
}

/// A failure shown as a page: the same statuses as the API's problems, and
/// like them a 5xx says no more than "internal error".
#[derive(Debug)]
pub(crate) struct PageError {
    pub(crate) error: AppError,
    /// Where the "back" link goes.
    pub(crate) back: String,
}

impl PageError {
    pub(crate) fn new(error: impl Into<AppError>, back: &str) -> Self {
        PageError {
            error: error.into(),
            back: back.to_owned(),
        }
    }

    pub(crate) fn forbidden(why: &str, back: &str) -> Self {
        Self::new(GatewayError::Forbidden(why.to_owned()), back)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.error.status();
        let detail = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(status = 500, error = %self.error, "internal error");
            "internal error".to_owned()
        } else {
            self.error.to_string()
        };
        let title = status.canonical_reason().unwrap_or("Error");
        page(
            status,
            layout(
                title,
                html! {
                    a href="/console" { "Console" }
                    a href="/portal" { "Agency portal" }
                    a href="/status" { "Log status" }
                    a href="/transparency" { "Transparency report" }
                },
                html! {
                    p.error role="alert" { (detail) }
                    p { a href=(self.back) { "Back" } }
                },
            ),
        )
    }
}

/// Page numbers: which slice of `len` rows page `page` (from 1) shows.
pub(crate) fn slice(len: usize, page: usize) -> (usize, usize) {
    let start = page.saturating_sub(1).saturating_mul(PAGE_SIZE).min(len);
    (start, (start + PAGE_SIZE).min(len))
}

/// "Previous" and "next" links for a paginated list.
pub(crate) fn pager(len: usize, page: usize, link: impl Fn(usize) -> String) -> Markup {
    let pages = len.div_ceil(PAGE_SIZE).max(1);
    html! {
        nav.pages aria-label="Pages" {
            @if page > 1 { a href=(link(page - 1)) rel="prev" { "← Previous" } }
            span { "Page " (page) " of " (pages) " (" (len) " in all)" }
            @if page < pages { " " a href=(link(page + 1)) rel="next" { "Next →" } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode() {
        let f = form(b"a=1&drop=content%3Aemail%3Aa%40b.c&drop=x+y&empty=&bad=%zz&end=%4");
        assert_eq!(
            f,
            vec![
                ("a".into(), "1".into()),
                ("drop".into(), "content:email:a@b.c".into()),
                ("drop".into(), "x y".into()),
                ("empty".into(), "".into()),
                ("bad".into(), "%zz".into()),
                ("end".into(), "%4".into()),
            ]
        );
        assert_eq!(decode(b"%41"), "A");
    }

    #[test]
    fn cookies_and_csrf() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; writ_console=tok; b=2"),
        );
        assert_eq!(cookie(&h, "writ_console").as_deref(), Some("tok"));
        assert_eq!(cookie(&h, "writ_portal"), None);
        assert_ne!(csrf_token("one"), csrf_token("two"));
        assert!(same(&csrf_token("one"), &csrf_token("one")));
        assert!(!same("abc", "abd") && !same("abc", "ab"));
    }
}
