//! What console users call, with a personal access token
//! (`Authorization: Bearer`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::Deserialize;
use writ_gateway::auth::User;
use writ_gateway::review::{DropPair, Proposal};
use writ_gateway::{Action, Actor};
use writ_model::Timestamp;
use writ_model::order::NumberSource;

use crate::{AppError, AppState};

async fn user(state: &AppState, headers: &HeaderMap) -> Result<User, AppError> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        // The scheme is case-insensitive (RFC 9110, section 11.1).
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token)
        .ok_or_else(|| AppError::Unauthorized("a bearer token is required".into()))?;
    Ok(state
        .inner
        .gw
        .user_for_token_within(token.trim(), state.inner.config.token_ttl)
        .await?)
}

/// Reads a JSON body (an empty body counts as `{}`), as a 422 on error.
fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    writ_model::parse::from_json(body).map_err(|e| AppError::Unprocessable(e.to_string()))
}

pub(crate) async fn queue(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let user = user(&state, &headers).await?;
    let cases = state.inner.gw.queue(&user).await?;
    Ok(Json(super::agency::CaseList { cases }).into_response())
}

pub(crate) async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let user = user(&state, &headers).await?;
    Ok(Json(state.inner.gw.review_case(&user, &id).await?).into_response())
}

/// No fields (an empty body counts as `{}`). Only an empty object is
/// one: serde would take `[]` for a struct without fields.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Empty {}

impl<'de> Deserialize<'de> for Empty {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let fields = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        match fields.keys().next() {
            Some(k) => Err(serde::de::Error::custom(format!(
                "unknown field `{k}`, there are no fields"
            ))),
            None => Ok(Empty {}),
        }
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Narrow {
    /// The pairs to drop.
    drop: Vec<DropPair>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Reject {
    reason: String,
}

impl JsonSchema for Reject {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Reject".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "object",
            "additionalProperties": false,
            "required": ["reason"],
            "properties": {"reason": {
                "description": "Shown to the agency: not only white space, no control characters but line breaks.",
                "type": "string",
                "minLength": 1,
                "maxLength": writ_gateway::lifecycle::MAX_REJECT_REASON,
                "allOf": [
                    {"pattern": "\\S"},
                    {"pattern": "^[^\\u0000-\\u0009\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"},
                ],
            }},
        })
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CallbackBody {
    /// Where the number called came from: only `registry` can verify.
    number_source: NumberSource,
    /// Whether the agency confirmed the request on that call.
    verified: bool,
}

fn query_fields_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "items": {"type": "string", "enum": writ_gateway::lifecycle::QUERY_FIELDS},
    })
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct QueryBody {
    /// The question to the agency: not only white space, at most 4000
    /// characters, no control characters but line breaks.
    #[schemars(schema_with = "crate::routes::agency::message_schema")]
    message: String,
    /// The order's fields at issue (its top-level field names).
    #[serde(default)]
    #[schemars(schema_with = "query_fields_schema")]
    fields: Vec<String>,
    /// The order is incomplete, manifestly wrong or lacks what is needed
    /// to execute it: a European Production Order's deadline waits for the
    /// answer (Reg. (EU) 2023/1543 Art. 10(5)); other orders' do not.
    #[serde(default)]
    incomplete: bool,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChannelBody {
    /// Whether the agency, called back on its registered number, confirmed
    /// that it sent the transcribed order.
    verified: bool,
}

/// The order a record carries: what an agency would sign.
fn order_request(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
    // Registers `Order`, of which `OrderRequest` is made.
    g.subschema_for::<writ_model::Order>();
    schemars::json_schema!({"$ref": "#/components/schemas/OrderRequest"})
}

/// An order that arrived on paper, by e-mail, by fax or in person, as
/// staff transcribed it.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecordBody {
    /// The requesting agency's registry id: the case is its own, and its
    /// figures count under its country.
    agency: String,
    /// How the order arrived.
    channel: writ_model::order::Channel,
    /// The order as transcribed, in the format agencies sign (without
    /// `transcription`, which Writ writes).
    #[schemars(schema_with = "order_request")]
    order: serde_json::Value,
}

/// `POST /v1/review/orders`: record an order that arrived on paper, by
/// e-mail, by fax or in person (201 with the decision, as for an agency's
/// own order); nothing is released until another person verifies the
/// channel (`POST /v1/review/cases/{id}/channel`).
pub(crate) async fn record(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = super::body(body, state.inner.config.body_limit)?;
    let user = user(&state, &headers).await?;
    let r: RecordBody = json(&body)?;
    let order = serde_json::to_vec(&r.order).map_err(|e| AppError::Unprocessable(e.to_string()))?;
    let answer = state
        .inner
        .gw
        .record_order(&user, &r.agency, r.channel, &order)
        .await?;
    let status = if answer.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(answer)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Secrecy {
    #[serde(default)]
    until: Option<Timestamp>,
    #[serde(default)]
    lifted: bool,
}

impl JsonSchema for Secrecy {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Secrecy".into()
    }

    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let until = g.subschema_for::<Timestamp>();
        schemars::json_schema!({
            "description": "Exactly one of: `until`, the new end a court set; `lifted: true`.",
            "oneOf": [
                {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["until"],
                    "properties": {"until": until, "lifted": {"const": false}},
                },
                {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["lifted"],
                    "properties": {"lifted": {"const": true}},
                },
            ],
        })
    }
}

macro_rules! actions {
    ($($name:ident = $action:literal),+ $(,)?) => {$(
        pub(crate) async fn $name(
            state: State<AppState>,
            Path(id): Path<String>,
            headers: HeaderMap,
            body: Result<Bytes, BytesRejection>,
        ) -> Result<Response, AppError> {
            act(state, id, $action, headers, body).await
        }
    )+};
}

actions! {
    approve = "approve",
    narrow = "narrow",
    reject = "reject",
    confirm = "confirm",
    callback = "callback",
    channel = "channel",
    query = "query",
    secrecy = "secrecy",
    emergency_over = "emergency-over",
    preservation_confirmed = "preservation-confirmed",
}

async fn act(
    State(state): State<AppState>,
    id: String,
    action: &'static str,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = super::body(body, state.inner.config.body_limit)?;
    let user = user(&state, &headers).await?;
    let action = match action {
        "approve" => {
            json::<Empty>(&body)?;
            Action::Propose(Proposal::Approve)
        }
        "narrow" => {
            let n: Narrow = json(&body)?;
            Action::Propose(Proposal::Narrow { drop: n.drop })
        }
        "reject" => {
            let r: Reject = json(&body)?;
            Action::Propose(Proposal::Reject { reason: r.reason })
        }
        "confirm" => {
            json::<Empty>(&body)?;
            Action::Confirm
        }
        "callback" => {
            let c: CallbackBody = json(&body)?;
            Action::Callback {
                number_source: c.number_source,
                verified: c.verified,
            }
        }
        "query" => {
            let q: QueryBody = json(&body)?;
            Action::Query {
                message: q.message,
                fields: q.fields,
                incomplete: q.incomplete,
            }
        }
        "channel" => {
            let c: ChannelBody = json(&body)?;
            Action::ChannelCheck {
                verified: c.verified,
            }
        }
        "secrecy" => {
            let s: Secrecy = json(&body)?;
            let until = match (s.until, s.lifted) {
                (Some(t), false) => Some(t),
                (None, true) => None,
                _ => {
                    return Err(AppError::Unprocessable(
                        "give exactly one of `until` and `lifted: true`".into(),
                    ));
                }
            };
            Action::Secrecy { until }
        }
        "emergency-over" => {
            json::<Empty>(&body)?;
            Action::EmergencyOver
        }
        "preservation-confirmed" => {
            json::<Empty>(&body)?;
            Action::PreservationConfirmed
        }
        other => return Err(AppError::NotFound(format!("review action `{other}`"))),
    };
    let answer = state
        .inner
        .gw
        .change(Actor::Staff(&user), &id, action)
        .await?;
    Ok(Json(answer).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Login {
    name: String,
    password: String,
    code: String,
    #[serde(default)]
    label: Option<String>,
}

impl JsonSchema for Login {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Login".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "object",
            "additionalProperties": false,
            "required": ["name", "password", "code"],
            "properties": {
                "name": {"type": "string"},
                "password": {"type": "string"},
                "code": {"type": "string", "description": "The current TOTP code (RFC 6238); each code is accepted once."},
                "label": {
                    "description": "Names the token in lists (default `console`).",
                    "type": "string",
                    "minLength": 1,
                    "maxLength": writ_gateway::auth::MAX_LABEL,
                    "allOf": [{"pattern": "\\S"}, {"pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"}],
                },
            },
        })
    }
}

/// A new personal access token.
#[derive(serde::Serialize, JsonSchema)]
pub(crate) struct TokenAnswer {
    token: String,
}

/// Password and TOTP code in, a personal access token out.
pub(crate) async fn login(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = super::body(body, state.inner.config.body_limit)?;
    let l: Login = json(&body)?;
    let token = state
        .inner
        .gw
        .login(
            &l.name,
            &l.password,
            &l.code,
            l.label.as_deref().unwrap_or("console"),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(TokenAnswer { token })).into_response())
}
