//! What console users call, with a personal access token
//! (`Authorization: Bearer`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
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
    Ok(Json(serde_json::json!({ "cases": cases })).into_response())
}

pub(crate) async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let user = user(&state, &headers).await?;
    Ok(Json(state.inner.gw.review_case(&user, &id).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Narrow {
    drop: Vec<DropPair>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reject {
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallbackBody {
    number_source: NumberSource,
    verified: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Secrecy {
    #[serde(default)]
    until: Option<Timestamp>,
    #[serde(default)]
    lifted: bool,
}

pub(crate) async fn act(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = super::body(body, state.inner.config.body_limit)?;
    let user = user(&state, &headers).await?;
    let action = match action.as_str() {
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
struct Login {
    name: String,
    password: String,
    code: String,
    #[serde(default)]
    label: Option<String>,
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
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "token": token })),
    )
        .into_response())
}
