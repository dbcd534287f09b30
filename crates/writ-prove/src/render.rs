//! A solver's counterexample as the fields a person reads: the order, the
//! submitter, and for a pair the account and category.

use cedar_policy::{EntityUid, EvalResult};
use cedar_policy_symcc::Env;
use serde_json::Value;

use crate::properties::Action;

/// Order fields shown first, in this order; the rest follow by name.
const FIRST: &[&str] = &[
    "instrument",
    "agency",
    "categories",
    "assistance",
    "issued_by",
];

pub(crate) fn request(env: &Env, action: Action) -> String {
    let request = &env.request;
    let mut lines = Vec::new();
    let context = request.context();
    let order = match action {
        Action::Accept => request.resource().cloned(),
        Action::Disclose => match context.and_then(|c| c.get("order")) {
            Some(EvalResult::EntityUid(uid)) => Some(uid),
            _ => None,
        },
    };
    if let Some(order) = order {
        lines.push(format!("order: {}", entity(env, &order)));
    }
    if let Some(principal) = request.principal() {
        lines.push(format!("submitter: {}", entity(env, principal)));
    }
    if action == Action::Disclose {
        if let Some(account) = request.resource() {
            lines.push(format!("account: {}", entity(env, account)));
        }
        if let Some(Some(category)) = context.map(|c| c.get("category")) {
            lines.push(format!("category: {}", eval(&category)));
        }
    }
    if let Some(Some(now)) = context.map(|c| c.get("now")) {
        lines.push(format!("now: {}", eval(&now)));
    }
    lines.join("\n")
}

fn entity(env: &Env, uid: &EntityUid) -> String {
    let Some(json) = env.entities.get(uid).and_then(|e| e.to_json_value().ok()) else {
        return "(no attributes)".to_owned();
    };
    let Some(Value::Object(attrs)) = json.get("attrs") else {
        return "(no attributes)".to_owned();
    };
    let mut fields: Vec<String> = FIRST
        .iter()
        .filter_map(|k| attrs.get(*k).map(|v| format!("{k} = {}", value(v))))
        .collect();
    fields.extend(
        attrs
            .iter()
            .filter(|(k, _)| !FIRST.contains(&k.as_str()))
            .map(|(k, v)| format!("{k} = {}", value(v))),
    );
    fields.join(", ")
}

/// A JSON value of Cedar's entity format, compactly: entity references by
/// id, records as `{key: value}`.
fn value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(value).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            if let Some(Value::Object(e)) = map.get("__entity") {
                return e
                    .get("id")
                    .map(value)
                    .unwrap_or_else(|| "(entity)".to_owned());
            }
            let fields: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k} = {}", value(v)))
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
        other => other.to_string(),
    }
}

fn eval(v: &EvalResult) -> String {
    match v {
        EvalResult::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}
