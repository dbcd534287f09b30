//! The HTTP surface as one table: every route with its handler, who may call
//! it, what it reads and every status it answers. The router is built from
//! the table and `/openapi.json` is generated from it, with the bodies'
//! JSON Schemas derived from the Rust types that parse them, so that no
//! route or field exists without being described (`docs/http.md`).

use axum::routing::{MethodRouter, get, post, put};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::pages::{console, portal};
use crate::routes::*;
use crate::{AppState, Auth};

/// One route.
pub(crate) struct Op {
    pub method: &'static str,
    pub path: &'static str,
    pub auth: Auth,
    pub summary: &'static str,
    /// Query and extra path parameters (beyond `{id}`).
    pub params: &'static [Param],
    pub body: In,
    /// The success statuses with what they carry.
    pub ok: &'static [(u16, Out)],
    /// Statuses particular to this route, beyond those its kind answers.
    pub also: &'static [u16],
    pub handler: MethodRouter<AppState>,
}

/// A parameter: name, where (`query` or `path`), its schema, required.
pub(crate) struct Param(
    pub &'static str,
    pub &'static str,
    pub fn() -> Value,
    pub bool,
);

/// What a request carries.
pub(crate) enum In {
    Nothing,
    Json(fn(&mut SchemaGenerator) -> Schema),
    /// No body, or the empty object `{}`.
    Empty,
    /// Raw bytes (`application/octet-stream`).
    Bytes,
    /// A form (`application/x-www-form-urlencoded`): its field names, each
    /// a string; `csrf` is the form token, required on every form.
    Form(&'static [&'static str]),
    /// A form with a file (`multipart/form-data`): its text fields and its
    /// file field; `csrf` is the form token, checked by the handler before
    /// anything else.
    Multipart(&'static [&'static str], &'static str),
}

/// What a response carries.
#[derive(Clone, Copy)]
pub(crate) enum Out {
    Json(fn(&mut SchemaGenerator) -> Schema),
    Html,
    /// A PDF document, or the sign-in page for a visitor without a session.
    PdfOrPage,
    /// HTML, or PDF for `Accept: application/pdf`.
    HtmlOrPdf,
    Text,
    Bytes,
    /// The bytes, or the sign-in page for a visitor without a session.
    BytesOrPage,
    /// A redirect (`Location`).
    Redirect,
}

/// Every form carries its token (`csrf`): a POST to a page without one is
/// refused before anything else, whoever sends it.
pub(crate) async fn form_token(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (parts, body) = request.into_parts();
    // The body limit of the pages' own extractor applies after this; a
    // form is small, so this cap only bounds what is read here.
    let Ok(bytes) = axum::body::to_bytes(body, 4 * 1024 * 1024).await else {
        return crate::pages::PageError::new(crate::AppError::TooLarge(4 * 1024 * 1024), "/")
            .into_response();
    };
    if !form_urlencoded::parse(&bytes).any(|(k, _)| k == "csrf") {
        return crate::pages::PageError::forbidden(
            "the form's security token is missing or stale; reload the page and try again",
            "/",
        )
        .into_response();
    }
    next.run(axum::extract::Request::from_parts(parts, bytes.into()))
        .await
}

fn schema<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

fn string() -> Value {
    json!({"type": "string"})
}

fn period() -> Value {
    json!({"type": "string", "pattern": "^[0-9]{4}-H[12]$", "description": "A half-year; default: the current one."})
}

fn page_number() -> Value {
    json!({"type": "string", "description": "A page number from 1; anything else shows the first page."})
}

fn limit() -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": 1000, "description": "At most this many cases (default 100)."})
}

fn generation() -> Value {
    json!({"type": "string", "description": "A package's generation (1 for the first); anything else shows the newest certificate."})
}

fn console_action() -> Value {
    json!({"type": "string", "enum": console::ACTIONS})
}

fn agency_action() -> Value {
    json!({"type": "string", "enum": console::AGENCY_ACTIONS})
}

fn mailbox_action() -> Value {
    json!({"type": "string", "enum": crate::pages::mailbox::ACTIONS})
}

fn sha256() -> Value {
    json!({"type": "string", "description": "The SHA-256 (hex) of one of the message's attachments."})
}

fn attachment_name() -> Value {
    json!({"type": "string", "description": "The `name` of one of the order's `attachments`."})
}

fn tile_path() -> Value {
    json!({"type": "string", "description": "A tile path of c2sp.org/tlog-tiles, such as `0/000` or `entries/000.p/12`."})
}

/// The fields of the form that adds an officer (`pages::officers`).
const OFFICER_FIELDS: &[&str] = &[
    "csrf",
    "officer_name",
    "officer_title",
    "officer_badge",
    "officer_email",
    "officer_phone",
    "officer_admin",
];

/// The text fields of the portal's order form (`pages::order_form`).
pub(crate) const ORDER_FORM_FIELDS: &[&str] = &[
    "csrf",
    "action",
    "reference",
    "instrument",
    "legal_basis",
    "corrects",
    "issuer_kind",
    "issuer_name",
    "issuer_court",
    "validator_kind",
    "validator_name",
    "issued_at",
    "expires_at",
    "respond_by",
    "target_kind",
    "target_value",
    "category",
    "range_from",
    "range_to",
    "nd_basis",
    "nd_issuer_kind",
    "nd_issuer_name",
    "nd_until",
    "offence_description",
    "offence_years",
    "offence_listed",
    "offence_country",
    "ea_name",
    "ea_country",
    "em_threat",
    "em_facts",
    "document_keep",
];

/// The console's "Record a received order" form: the order form's fields
/// and these.
/// `mailbox` names the mailbox message being transcribed (`pages::mailbox`):
/// recording the order marks it transcribed.
pub(crate) const RECORD_FORM_EXTRA_FIELDS: &[&str] = &["agency", "channel", "mailbox"];

/// Every route of the server.
pub(crate) fn table() -> Vec<Op> {
    use Auth::*;
    let empty = In::Empty;
    let answer = Out::Json(schema::<writ_gateway::Submitted>);
    let case = Out::Json(schema::<writ_gateway::CaseView>);
    let cases = Out::Json(schema::<agency::CaseList>);
    let id = &[] as &[Param];
    let op = |method, path, auth, summary, body, ok: &'static [(u16, Out)], handler| Op {
        method,
        path,
        auth,
        summary,
        params: id,
        body,
        ok,
        also: &[],
        handler,
    };
    // The success answers, named once.
    static OK_HTML: &[(u16, Out)] = &[(200, Out::Html)];
    static SEE_OTHER: &[(u16, Out)] = &[(303, Out::Redirect)];
    static OK_TEXT: &[(u16, Out)] = &[(200, Out::Text)];
    let leak = |v: Vec<(u16, Out)>| -> &'static [(u16, Out)] { Vec::leak(v) };
    vec![
        Op {
            also: &[409],
            ..op(
                "POST",
                "/v1/orders",
                Agency,
                "Submit a signed order: 201 with the decision for a new one, 200 with the stored answer for the same reference and content, 409 for the same reference with other content",
                In::Json(|g| {
                    // Registers `Order`, of which `OrderRequest` is made.
                    g.subschema_for::<writ_model::Order>();
                    Schema::from(
                        json!({"$ref": "#/components/schemas/OrderRequest"})
                            .as_object()
                            .cloned()
                            .unwrap_or_default(),
                    )
                }),
                leak(vec![(201, answer), (200, answer)]),
                post(agency::submit),
            )
        },
        Op {
            params: &[Param("limit", "query", limit, false)],
            ..op(
                "GET",
                "/v1/cases",
                Agency,
                "The calling agency's cases, newest first",
                In::Nothing,
                leak(vec![(200, cases)]),
                get(agency::list),
            )
        },
        op(
            "GET",
            "/v1/cases/{id}",
            Agency,
            "One of the calling agency's cases",
            In::Nothing,
            leak(vec![(200, case)]),
            get(agency::show),
        ),
        Op {
            also: &[409],
            ..op(
                "POST",
                "/v1/cases/{id}/withdraw",
                Agency,
                "Withdraw an order",
                In::Nothing,
                leak(vec![(200, case)]),
                post(agency::withdraw),
            )
        },
        Op {
            also: &[403],
            ..op(
                "GET",
                "/v1/cases/{id}/package",
                Agency,
                "Download the case's sealed package (age, to the agency's recipient)",
                In::Nothing,
                leak(vec![(200, Out::Bytes)]),
                get(agency::package),
            )
        },
        op(
            "GET",
            "/v1/cases/{id}/letter",
            Agency,
            "The response letter of one of the calling agency's cases: PDF for `Accept: application/pdf`, else HTML; what was produced, refused and pending, with each reason's citation",
            In::Nothing,
            leak(vec![(200, Out::HtmlOrPdf)]),
            get(agency::letter),
        ),
        op(
            "GET",
            "/v1/cases/{id}/clarifications",
            Agency,
            "The case's clarification exchange, oldest first: the provider's questions and the agency's answers",
            In::Nothing,
            leak(vec![(200, Out::Json(schema::<agency::Messages>))]),
            get(agency::clarifications),
        ),
        Op {
            also: &[409],
            ..op(
                "POST",
                "/v1/cases/{id}/clarification",
                Agency,
                "Answer the provider's open question; logged as `clarified` (with the new deadline when a European Production Order's clock starts again); 409 when no question is open",
                In::Json(schema::<agency::ClarifyBody>),
                leak(vec![(200, case)]),
                post(agency::clarify),
            )
        },
        op(
            "GET",
            "/v1/cases/{id}/certificate",
            Agency,
            "The certificate of authenticity of the package one of the calling agency's cases has now (US productions, once a custodian signed it): PDF for `Accept: application/pdf`, else HTML; 404 before",
            In::Nothing,
            leak(vec![(200, Out::HtmlOrPdf)]),
            get(agency::certificate),
        ),
        Op {
            params: &[Param("name", "path", attachment_name, true)],
            also: &[404],
            ..op(
                "PUT",
                "/v1/cases/{id}/attachments/{name}",
                Agency,
                "Upload a document the order announced in `attachments` (raw bytes, at most 25 MiB): 201 when stored, 200 when these bytes were stored before, 422 (nothing stored) when the size or SHA-256 differs from the order's",
                In::Bytes,
                leak(vec![
                    (
                        201,
                        Out::Json(schema::<writ_gateway::attachments::Uploaded>),
                    ),
                    (
                        200,
                        Out::Json(schema::<writ_gateway::attachments::Uploaded>),
                    ),
                ]),
                put(agency::attachment).layer(axum::extract::DefaultBodyLimit::max(
                    usize::try_from(writ_gateway::attachments::MAX_BYTES).unwrap_or(usize::MAX),
                )),
            )
        },
        op(
            "GET",
            "/v1/review/queue",
            Reviewer,
            "Cases waiting for a person, emergencies first, then by deadline",
            In::Nothing,
            leak(vec![(200, cases)]),
            get(review::queue),
        ),
        op(
            "GET",
            "/v1/review/cases/{id}",
            Reviewer,
            "A case with its order and open proposals",
            In::Nothing,
            leak(vec![(
                200,
                Out::Json(schema::<writ_gateway::review::ReviewCase>),
            )]),
            get(review::show),
        ),
        op(
            "POST",
            "/v1/review/cases/{id}/approve",
            Reviewer,
            "Propose approval (takes effect when a different approver confirms)",
            empty.clone(),
            leak(vec![(200, answer)]),
            post(review::approve),
        ),
        op(
            "POST",
            "/v1/review/cases/{id}/narrow",
            Reviewer,
            "Propose dropping pairs",
            In::Json(schema::<review::Narrow>),
            leak(vec![(200, answer)]),
            post(review::narrow),
        ),
        op(
            "POST",
            "/v1/review/cases/{id}/reject",
            Reviewer,
            "Propose rejection, with the reason the agency is shown",
            In::Json(schema::<review::Reject>),
            leak(vec![(200, answer)]),
            post(review::reject),
        ),
        op(
            "POST",
            "/v1/review/cases/{id}/confirm",
            Approver,
            "Confirm the open proposal (an approver other than its author)",
            empty.clone(),
            leak(vec![(200, answer)]),
            post(review::confirm),
        ),
        op(
            "POST",
            "/v1/review/cases/{id}/callback",
            Reviewer,
            "Record an emergency callback; the case is decided again",
            In::Json(schema::<review::CallbackBody>),
            leak(vec![(200, answer)]),
            post(review::callback),
        ),
        op(
            "POST",
            "/v1/review/cases/{id}/query",
            Reviewer,
            "Ask the agency for a clarification (a message and the order's fields at issue); `incomplete` stops a European Production Order's deadline until the answer (Reg. (EU) 2023/1543 Art. 10(5)); logged as `queried`",
            In::Json(schema::<review::QueryBody>),
            leak(vec![(200, answer)]),
            post(review::query),
        ),
        op(
            "POST",
            "/v1/review/cases/{id}/channel",
            Reviewer,
            "Record the callback to the agency's registered number that verifies (or refutes) the channel of an order staff transcribed; not by the transcriber; the case is decided again",
            In::Json(schema::<review::ChannelBody>),
            leak(vec![(200, answer)]),
            post(review::channel),
        ),
        Op {
            also: &[404],
            ..op(
                "POST",
                "/v1/review/orders",
                Reviewer,
                "Record an order that arrived on paper, by e-mail, by fax or in person, as transcribed; nothing is released until another person verifies its channel; 404 for an agency not in the registry",
                In::Json(schema::<review::RecordBody>),
                leak(vec![(201, answer), (200, answer)]),
                post(review::record),
            )
        },
        op(
            "POST",
            "/v1/review/cases/{id}/secrecy",
            Reviewer,
            "A court extended (`until`) or lifted (`lifted: true`) a secrecy order",
            In::Json(schema::<review::Secrecy>),
            leak(vec![(200, answer)]),
            post(review::secrecy),
        ),
        op(
            "POST",
            "/v1/review/cases/{id}/emergency-over",
            Reviewer,
            "The emergency has passed (notice may follow)",
            empty.clone(),
            leak(vec![(200, answer)]),
            post(review::emergency_over),
        ),
        op(
            "POST",
            "/v1/review/cases/{id}/preservation-confirmed",
            Reviewer,
            "The agency confirmed that a production order was issued",
            empty,
            leak(vec![(200, answer)]),
            post(review::preservation_confirmed),
        ),
        Op {
            also: &[401],
            ..op(
                "POST",
                "/v1/console/tokens",
                Public,
                "Sign in with password and TOTP code; returns a personal access token",
                In::Json(schema::<review::Login>),
                leak(vec![(201, Out::Json(schema::<review::TokenAnswer>))]),
                post(review::login),
            )
        },
        op(
            "GET",
            "/log/checkpoint",
            Public,
            "The latest signed checkpoint (c2sp.org/tlog-checkpoint), with witness cosignatures when configured",
            In::Nothing,
            OK_TEXT,
            get(public::checkpoint),
        ),
        Op {
            params: &[Param("path", "path", tile_path, true)],
            ..op(
                "GET",
                "/log/tile/{*path}",
                Public,
                "A log tile or entry bundle (c2sp.org/tlog-tiles)",
                In::Nothing,
                leak(vec![(200, Out::Bytes)]),
                get(public::tile),
            )
        },
        op(
            "GET",
            "/log/vkey",
            Public,
            "The log's signed-note verifier key",
            In::Nothing,
            OK_TEXT,
            get(public::vkey),
        ),
        op(
            "GET",
            "/openapi.json",
            Public,
            "This document",
            In::Nothing,
            leak(vec![(200, Out::Json(|_| Schema::from(true)))]),
            get(public::openapi),
        ),
        op(
            "GET",
            "/healthz",
            Public,
            "`ok`; `degraded` while witnesses withhold a quorum or the log cannot be written \
             (still 200); `unavailable` (503) while the case store refuses writes (a full or \
             read-only disk). One line per reason",
            In::Nothing,
            leak(vec![(200, Out::Text), (503, Out::Text)]),
            get(public::healthz),
        ),
        op(
            "GET",
            "/metrics",
            Public,
            "Prometheus metrics",
            In::Nothing,
            OK_TEXT,
            get(public::metrics),
        ),
        op(
            "GET",
            "/status",
            Public,
            "The public log status page",
            In::Nothing,
            OK_HTML,
            get(crate::pages::status::status),
        ),
        Op {
            params: &[
                Param("q", "query", string, false),
                Param("status", "query", string, false),
                Param("instrument", "query", string, false),
                Param("country", "query", string, false),
            ],
            ..op(
                "GET",
                "/console",
                Public,
                "The console: the sign-in form, or the review queue; `q` searches every case by id, reference, agency, account or target",
                In::Nothing,
                OK_HTML,
                get(console::home),
            )
        },
        op(
            "POST",
            "/console/sign-in",
            Public,
            "Console sign-in: name, password, TOTP code; sets the session cookie",
            In::Form(&["name", "password", "code", "csrf"]),
            SEE_OTHER,
            post(console::sign_in),
        ),
        op(
            "POST",
            "/console/sign-out",
            Console,
            "Console sign-out; revokes the session",
            In::Form(&["csrf"]),
            SEE_OTHER,
            post(console::sign_out),
        ),
        Op {
            params: &[Param("done", "query", string, false)],
            ..op(
                "GET",
                "/console/cases/{id}",
                Console,
                "A case as reviewers see it",
                In::Nothing,
                OK_HTML,
                get(console::case),
            )
        },
        Op {
            params: &[Param("name", "path", attachment_name, true)],
            ..op(
                "GET",
                "/console/cases/{id}/attachments/{name}",
                Console,
                "A document uploaded with the order, as a download",
                In::Nothing,
                leak(vec![(200, Out::BytesOrPage)]),
                get(console::attachment),
            )
        },
        Op {
            params: &[Param("generation", "query", generation, false)],
            ..op(
                "GET",
                "/console/cases/{id}/certificate",
                Console,
                "A certificate of authenticity of the case's package (`generation`, else the newest), as the agency gets it",
                In::Nothing,
                OK_HTML,
                get(console::certificate),
            )
        },
        Op {
            params: &[Param("action", "path", console_action, true)],
            ..op(
                "POST",
                "/console/cases/{id}/{action}",
                Console,
                "A review action from the case page, or `certify`: sign the certificate of authenticity of package `generation`",
                In::Form(&[
                    "csrf",
                    "drop",
                    "reason",
                    "number_source",
                    "verified",
                    "mode",
                    "until",
                    "generation",
                    "custodian",
                    "custodian_title",
                    "place",
                    "inside_us",
                    "signature",
                    "message",
                    "field",
                    "incomplete",
                ]),
                SEE_OTHER,
                post(console::act),
            )
        },
        Op {
            params: &[Param("page", "query", page_number, false)],
            ..op(
                "GET",
                "/console/agencies",
                ConsoleAdmin,
                "The agency registry, for admins",
                In::Nothing,
                OK_HTML,
                get(console::agencies),
            )
        },
        Op {
            params: &[Param("done", "query", string, false)],
            ..op(
                "GET",
                "/console/agencies/{id}",
                ConsoleAdmin,
                "An agency: keys, callback numbers, history",
                In::Nothing,
                OK_HTML,
                get(console::agency),
            )
        },
        Op {
            params: &[
                Param("action", "path", agency_action, true),
                Param("officer", "query", string, false),
            ],
            ..op(
                "POST",
                "/console/agencies/{id}/{action}",
                ConsoleAdmin,
                "Change an agency: verify, suspend, add or revoke a key, set callback numbers, set where it is notified (`notify`: `email`, `webhook_url`), add an officer (`officer-add`, answering with the officer's code secret), remove one or replace its sign-in after a callback on a registered number (`officer-remove`, `officer-reset` with `called`; the officer in the query); `add` to the id `-` registers a new agency",
                In::Form(&[
                    "officer_name",
                    "officer_title",
                    "officer_badge",
                    "officer_email",
                    "officer_phone",
                    "officer_admin",
                    "called",
                    "csrf",
                    "public_key",
                    "key_id",
                    "numbers",
                    "email",
                    "webhook_url",
                    "id",
                    "name",
                    "country",
                    "kind",
                    "power",
                    "age_recipient",
                ]),
                SEE_OTHER,
                post(console::agency_act),
            )
        },
        Op {
            params: &[
                Param("page", "query", page_number, false),
                Param("submitted", "query", string, false),
            ],
            ..op(
                "GET",
                "/portal",
                Public,
                "The agency portal: the challenge sign-in, or the agency's cases",
                In::Nothing,
                OK_HTML,
                get(portal::home),
            )
        },
        op(
            "POST",
            "/portal/sign-in",
            Public,
            "Portal sign-in: the agency, the challenge and its Ed25519 signature",
            In::Form(&["agency", "challenge", "signature", "csrf"]),
            SEE_OTHER,
            post(portal::sign_in),
        ),
        op(
            "POST",
            "/portal/sign-in/code",
            Public,
            "An officer's portal sign-in with a TOTP code: the agency, the officer's e-mail address and the code",
            In::Form(&["agency", "email", "code", "csrf"]),
            SEE_OTHER,
            post(crate::pages::officers::code_sign_in),
        ),
        op(
            "POST",
            "/portal/sign-in/passkey",
            Public,
            "An officer's portal sign-in with a passkey: the sign-in page's sealed `state` and the browser's WebAuthn answer as JSON (`credential`)",
            In::Form(&["state", "credential", "csrf"]),
            SEE_OTHER,
            post(crate::pages::officers::passkey_sign_in),
        ),
        Op {
            params: &[Param("done", "query", string, false)],
            ..op(
                "GET",
                "/portal/account",
                Portal,
                "The officer's account and passkeys; for an officer-admin, the agency's officers",
                In::Nothing,
                OK_HTML,
                get(crate::pages::officers::account),
            )
        },
        op(
            "POST",
            "/portal/passkeys",
            Portal,
            "Register a passkey for the signed-in officer: the account page's sealed `state` and the browser's WebAuthn answer as JSON (`credential`)",
            In::Form(&["state", "credential", "csrf"]),
            SEE_OTHER,
            post(crate::pages::officers::register_passkey),
        ),
        op(
            "POST",
            "/portal/officers",
            Portal,
            "An officer-admin adds an officer to the agency; the answer shows the officer's code secret once",
            In::Form(OFFICER_FIELDS),
            OK_HTML,
            post(crate::pages::officers::add),
        ),
        Op {
            params: &[Param("officer", "path", string, true)],
            ..op(
                "POST",
                "/portal/officers/{officer}/remove",
                Portal,
                "An officer-admin removes one of the agency's officers; its passkeys and sessions end",
                In::Form(&["csrf"]),
                SEE_OTHER,
                post(crate::pages::officers::remove),
            )
        },
        op(
            "POST",
            "/portal/sign-out",
            Portal,
            "Portal sign-out",
            In::Form(&["csrf"]),
            SEE_OTHER,
            post(portal::sign_out),
        ),
        op(
            "POST",
            "/portal/orders",
            Portal,
            "Submit an order (its JSON in the `order` field) from the portal",
            In::Form(&["csrf", "order"]),
            SEE_OTHER,
            post(portal::submit),
        ),
        op(
            "GET",
            "/portal/orders/new",
            Portal,
            "The order form, with the agency's saved draft",
            In::Nothing,
            OK_HTML,
            get(crate::pages::order_form::new_order),
        ),
        Op {
            also: &[401],
            ..op(
                "POST",
                "/portal/orders/new",
                Portal,
                "One of the order form's buttons (`action`: check, save, add_target, remove_target_N, discard or submit), with the signed document as `document` (PDF or image, at most 25 MiB)",
                In::Multipart(ORDER_FORM_FIELDS, "document"),
                leak(vec![(200, Out::Html), (303, Out::Redirect)]),
                post(crate::pages::order_form::post_order).layer(
                    axum::extract::DefaultBodyLimit::max(
                        usize::try_from(writ_gateway::attachments::MAX_BYTES + 1024 * 1024)
                            .unwrap_or(usize::MAX),
                    ),
                ),
            )
        },
        op(
            "GET",
            "/console/orders/new",
            Console,
            "The form to record an order that arrived on paper, by e-mail, by fax or by hand (reviewers and approvers), with the user's draft",
            In::Nothing,
            OK_HTML,
            get(crate::pages::order_form::new_record),
        ),
        Op {
            also: &[401],
            ..op(
                "POST",
                "/console/orders/new",
                Console,
                "One of the record form's buttons (`action` as the portal's order form, `submit` records the order), with `agency` (a registry id), `channel` (email, post, fax or in_person) and the document as `document`",
                In::Multipart(
                    Vec::leak([ORDER_FORM_FIELDS, RECORD_FORM_EXTRA_FIELDS].concat()),
                    "document",
                ),
                leak(vec![(200, Out::Html), (303, Out::Redirect)]),
                post(crate::pages::order_form::post_record).layer(
                    axum::extract::DefaultBodyLimit::max(
                        usize::try_from(writ_gateway::attachments::MAX_BYTES + 1024 * 1024)
                            .unwrap_or(usize::MAX),
                    ),
                ),
            )
        },
        op(
            "GET",
            "/console/mailbox",
            Console,
            "The legal-process mailbox (`--imap`): the messages read from it, newest first, with their state (reviewers and approvers)",
            In::Nothing,
            OK_HTML,
            get(crate::pages::mailbox::list),
        ),
        op(
            "GET",
            "/console/mailbox/{id}",
            Console,
            "A message of the mailbox: its text, its attachments, and the forms to transcribe or dismiss it",
            In::Nothing,
            OK_HTML,
            get(crate::pages::mailbox::message),
        ),
        Op {
            params: &[Param("sha256", "path", sha256, true)],
            ..op(
                "GET",
                "/console/mailbox/{id}/attachments/{sha256}",
                Console,
                "An attachment of a mailbox message, as a download",
                In::Nothing,
                leak(vec![(200, Out::BytesOrPage)]),
                get(crate::pages::mailbox::attachment),
            )
        },
        Op {
            params: &[Param("action", "path", mailbox_action, true)],
            ..op(
                "POST",
                "/console/mailbox/{id}/{action}",
                Console,
                "`transcribe`: open the record form with the channel `email`, the chosen `attachment` (its SHA-256) as the document and the message in its `mailbox` field, as the user's draft; `dismiss`: the message carries no order",
                In::Form(&["csrf", "attachment"]),
                SEE_OTHER,
                post(crate::pages::mailbox::act),
            )
        },
        op(
            "GET",
            "/portal/cases/{id}",
            Portal,
            "One of the agency's cases with its decision and reasons",
            In::Nothing,
            OK_HTML,
            get(portal::case),
        ),
        op(
            "GET",
            "/portal/cases/{id}/letter",
            Portal,
            "The case's response letter (HTML, printable)",
            In::Nothing,
            OK_HTML,
            get(portal::letter),
        ),
        op(
            "GET",
            "/portal/cases/{id}/letter.pdf",
            Portal,
            "The case's response letter as a PDF",
            In::Nothing,
            leak(vec![(200, Out::PdfOrPage)]),
            get(portal::letter_pdf),
        ),
        op(
            "POST",
            "/portal/cases/{id}/clarification",
            Portal,
            "Answer the provider's open question about the case",
            In::Form(&["csrf", "message"]),
            SEE_OTHER,
            post(portal::clarify),
        ),
        op(
            "GET",
            "/portal/cases/{id}/certificate",
            Portal,
            "The certificate of authenticity of the case's package (HTML, printable)",
            In::Nothing,
            OK_HTML,
            get(portal::certificate),
        ),
        op(
            "GET",
            "/portal/cases/{id}/certificate.pdf",
            Portal,
            "The certificate of authenticity as a PDF",
            In::Nothing,
            leak(vec![(200, Out::PdfOrPage)]),
            get(portal::certificate_pdf),
        ),
        Op {
            also: &[403],
            ..op(
                "GET",
                "/portal/cases/{id}/package",
                Portal,
                "Download the case's sealed package from the portal",
                In::Nothing,
                leak(vec![(200, Out::BytesOrPage)]),
                get(portal::package),
            )
        },
        Op {
            params: &[Param("period", "query", period, false)],
            ..op(
                "GET",
                "/transparency",
                Public,
                "The transparency report page, the signed report embedded",
                In::Nothing,
                OK_HTML,
                get(crate::pages::transparency::page),
            )
        },
        Op {
            params: &[Param("period", "query", period, false)],
            ..op(
                "GET",
                "/transparency.json",
                Public,
                "The signed transparency report of a period at the latest checkpoint",
                In::Nothing,
                leak(vec![(200, Out::Json(|_| Schema::from(true)))]),
                get(transparency::json),
            )
        },
    ]
}

impl Clone for In {
    fn clone(&self) -> Self {
        match self {
            In::Nothing => In::Nothing,
            In::Json(f) => In::Json(*f),
            In::Empty => In::Empty,
            In::Form(f) => In::Form(f),
            In::Bytes => In::Bytes,
            In::Multipart(f, file) => In::Multipart(f, file),
        }
    }
}

/// The error statuses a route answers besides its own `also`: by who may
/// call it and what it reads.
fn errors(op: &Op) -> Vec<u16> {
    use Auth::*;
    // A malformed or repeated query parameter.
    let mut out = vec![400];
    if op.path.contains('{') {
        out.push(404);
    }
    match op.body {
        In::Nothing => {}
        In::Json(_) | In::Empty => out.extend([413, 422]),
        In::Form(_) | In::Bytes | In::Multipart(..) => out.extend([413, 422]),
    }
    // A write the storage refuses (a full or read-only disk).
    if op.method == "POST" {
        out.push(503);
    }
    match op.auth {
        Public if op.method == "POST" => out.extend([403, 429]),
        Public => {}
        Agency => out.extend([401, 429]),
        Reviewer | Approver => out.extend([401, 403, 409]),
        Console | ConsoleAdmin | Portal => out.extend([403, 409, 429]),
    }
    out.extend(op.also);
    out.sort_unstable();
    out.dedup();
    out
}

fn security(auth: Auth) -> Value {
    match auth {
        Auth::Public => json!([]),
        Auth::Agency => json!([{"httpSignature": []}]),
        Auth::Reviewer | Auth::Approver => json!([{"bearer": []}]),
        // A page answers a visitor without a session too: with the sign-in
        // form (GET) or a redirect to it (POST).
        Auth::Console | Auth::ConsoleAdmin => json!([{"consoleSession": []}, {}]),
        Auth::Portal => json!([{"portalSession": []}, {}]),
    }
}

fn content(out: Out, g: &mut SchemaGenerator) -> Value {
    match out {
        Out::Json(f) => json!({"application/json": {"schema": f(g)}}),
        Out::Html => json!({"text/html": {"schema": {"type": "string"}}}),
        Out::Text => json!({"text/plain": {"schema": {"type": "string"}}}),
        Out::PdfOrPage => json!({
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            "text/html": {"schema": {"type": "string"}},
        }),
        Out::HtmlOrPdf => json!({
            "text/html": {"schema": {"type": "string"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        }),
        Out::Bytes => {
            json!({"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}})
        }
        Out::BytesOrPage => json!({
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "text/html": {"schema": {"type": "string"}},
        }),
        Out::Redirect => Value::Null,
    }
}

/// The OpenAPI 3.1 description of `ops`.
pub(crate) fn openapi(ops: &[Op]) -> Value {
    let settings = schemars::generate::SchemaSettings::draft2020_12().with(|s| {
        s.definitions_path = "/components/schemas".into();
    });
    let mut g = settings.into_generator();
    let mut paths = Map::new();
    for op in ops {
        let path = op.path.replace("{*path}", "{path}");
        let mut params: Vec<Value> = Vec::new();
        for name in path.split('/').filter_map(|s| s.strip_prefix('{')) {
            let name = name.trim_end_matches('}');
            if let Some(p) = op.params.iter().find(|p| p.0 == name) {
                params
                    .push(json!({"name": p.0, "in": "path", "required": true, "schema": (p.2)()}));
            } else {
                params.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string", "minLength": 1}}));
            }
        }
        for p in op.params.iter().filter(|p| p.1 == "query") {
            params.push(json!({"name": p.0, "in": "query", "required": p.3, "schema": (p.2)()}));
        }
        let mut responses = Map::new();
        for (status, out) in op.ok {
            let mut r = json!({"description": description(*status)});
            let c = content(*out, &mut g);
            if !c.is_null() {
                r["content"] = c;
            }
            if matches!(out, Out::Redirect) {
                r["headers"] = json!({"Location": {"schema": {"type": "string"}}});
            }
            responses.insert(status.to_string(), r);
        }
        for status in errors(op) {
            let problem = json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}});
            // Pages answer their errors as pages.
            let html = matches!(op.auth, Auth::Console | Auth::ConsoleAdmin | Auth::Portal)
                || op.path.starts_with("/console")
                || op.path.starts_with("/portal");
            let body = if html {
                json!({"text/html": {"schema": {"type": "string"}}, "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}})
            } else {
                problem
            };
            responses.insert(
                status.to_string(),
                json!({"description": description(status), "content": body}),
            );
        }
        let mut operation = json!({
            "summary": op.summary,
            "operationId": operation_id(op),
            "security": security(op.auth),
            "responses": responses,
        });
        if !params.is_empty() {
            operation["parameters"] = Value::Array(params);
        }
        match &op.body {
            In::Nothing => {}
            In::Json(f) => {
                operation["requestBody"] = json!({
                    "required": true,
                    "content": {"application/json": {"schema": f(&mut g)}},
                });
            }
            In::Empty => {
                operation["requestBody"] = json!({
                    "required": false,
                    "content": {"application/json": {"schema": schema::<review::Empty>(&mut g)}},
                });
            }
            In::Bytes => {
                operation["requestBody"] = json!({
                    "required": true,
                    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
                });
            }
            In::Form(fields) => {
                let properties: Map<String, Value> = fields
                    .iter()
                    .map(|f| (f.to_string(), json!({"type": "string"})))
                    .collect();
                let required: Vec<&str> = fields.iter().copied().filter(|f| *f == "csrf").collect();
                // Without a session the form is not read: the answer is a
                // redirect to the sign-in page.
                operation["requestBody"] = json!({
                    "required": false,
                    "content": {"application/x-www-form-urlencoded": {"schema": {
                        "type": "object",
                        "properties": properties,
                        "required": required,
                    }}},
                });
            }
            In::Multipart(fields, file) => {
                let mut properties: Map<String, Value> = fields
                    .iter()
                    .map(|f| (f.to_string(), json!({"type": "string"})))
                    .collect();
                properties.insert(
                    file.to_string(),
                    json!({"type": "string", "format": "binary"}),
                );
                operation["requestBody"] = json!({
                    "required": true,
                    "content": {"multipart/form-data": {"schema": {
                        "type": "object",
                        "properties": properties,
                        "required": ["csrf"],
                        "additionalProperties": false,
                    }}},
                });
            }
        }
        let item = paths
            .entry(path)
            .or_insert_with(|| Value::Object(Map::new()));
        item[op.method.to_ascii_lowercase()] = operation;
    }
    let mut schemas: Map<String, Value> = g.take_definitions(true).into_iter().collect();
    request_order(&mut schemas);
    schemas.insert(
        "Problem".into(),
        json!({
            "description": "RFC 9457 problem details.",
            "type": "object",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "field": {"type": "string", "description": "The JSON path of the field at fault."},
            },
        }),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Writ",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Writ's HTTP API: agencies submit signed orders and fetch packages; reviewers act on cases; the log and the transparency reports are public. The reference is docs/http.md in the repository.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "httpSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Signature",
                    "description": "An RFC 9421 HTTP Message Signature by a registered agency key (Ed25519), with Signature-Input and, on a body, Content-Digest; see docs/http.md.",
                },
                "bearer": {"type": "http", "scheme": "bearer", "description": "A console user's personal access token."},
                "consoleSession": {"type": "apiKey", "in": "cookie", "name": "writ_console", "description": "A console session; every POST also carries the form's `csrf` token."},
                "portalSession": {"type": "apiKey", "in": "cookie", "name": "writ_portal", "description": "An agency officer's portal session; every POST also carries the form's `csrf` token."},
            },
        },
    })
}

/// What an agency sends is an order without `emergency.callback` (the
/// provider's staff record the callback) or `transcription`: `OrderRequest` and
/// `EmergencyRequest` are `Order` and `Emergency` without it, and the order
/// route reads them.
fn request_order(schemas: &mut Map<String, Value>) {
    let (Some(order), Some(emergency)) = (schemas.get("Order"), schemas.get("Emergency")) else {
        return;
    };
    let order = order.to_string().replace(
        "\"#/components/schemas/Emergency\"",
        "\"#/components/schemas/EmergencyRequest\"",
    );
    let Ok(mut order) = serde_json::from_str::<Value>(&order) else {
        return;
    };
    // Nor `transcription`, which the provider writes for orders its staff
    // transcribed.
    if let Some(p) = order["properties"].as_object_mut() {
        p.remove("transcription");
    }
    let mut emergency = emergency.clone();
    if let Some(p) = emergency["properties"].as_object_mut() {
        p.remove("callback");
    }
    // What `parse` checks beyond the types (docs/formats.md): categories
    // on every instrument but `technical_assistance`; an `emergency` block
    // only on `emergency_request` and `epoc`.
    order["allOf"] = json!([
        {"anyOf": [
            {"required": ["categories"], "properties": {"categories": {"type": "array"}}},
            {"properties": {"instrument": {"const": "technical_assistance"}}},
        ]},
        {"anyOf": [
            {"not": {"required": ["emergency"]}},
            {"properties": {"emergency": {"type": "null"}}},
            {"properties": {"instrument": {"enum": ["emergency_request", "epoc"]}}},
        ]},
        // An enforcing authority only on European orders.
        {"anyOf": [
            {"not": {"required": ["enforcing_authority"]}},
            {"properties": {"enforcing_authority": {"type": "null"}}},
            {"properties": {"instrument": {"enum": ["epoc", "epoc_pr"]}}},
        ]},
    ]);
    schemas.insert("OrderRequest".into(), order);
    schemas.insert("EmergencyRequest".into(), emergency);
}

fn operation_id(op: &Op) -> String {
    let mut id = op.method.to_ascii_lowercase();
    for part in op.path.split('/').filter(|p| !p.is_empty()) {
        id.push('_');
        id.extend(
            part.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
        );
    }
    id.replace("__", "_").trim_end_matches('_').to_owned()
}

fn description(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        303 => "See other: where the browser goes next",
        400 => "Bad request: a malformed request or a repeated query parameter",
        401 => "No valid signature or token",
        403 => "Not allowed for this caller, or a missing form token",
        404 => "No such resource, or not the caller's",
        409 => "Conflicts with the resource's state",
        413 => "The body is larger than the limit",
        422 => "The body is well-formed but not acceptable; `field` names what",
        429 => "Too many requests; Retry-After says when to try again",
        503 => {
            "The storage refuses writes (a full or read-only disk); nothing was recorded, \
                Retry-After says when to try again"
        }
        _ => "Other",
    }
}
