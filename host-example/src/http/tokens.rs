//! `/api/usertokens`: create, list, show, edit, rotate and delete the
//! caller's own tokens.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use super::body::JsonBody;
use super::caller::{Accept, Caller, Via, authenticate};
use super::{ApiError, App};
use crate::clock::{entropy, parse_rfc3339_ms};
use crate::config::{TOKENS_CREATE, TOKENS_READ, TOKENS_WRITE};
use crate::plugin::{Edit, Expiry, IssueRequest, Issued};
use crate::settings;

/// Fields of a record that are fixed at creation.
const IMMUTABLE: &[&str] = &[
    "scope",
    "expires",
    "expiresAt",
    "id",
    "userId",
    "createdAt",
    "createdBy",
    "hint",
    "lastUsedAt",
    "rotatedFrom",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    expires: Option<Value>,
    scope: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RotateBody {
    #[serde(default)]
    grace_seconds: i64,
}

#[derive(Deserialize)]
pub struct ExpiringQuery {
    #[serde(default = "seven")]
    days: i64,
}

fn seven() -> i64 {
    7
}

/// Reads `"never"`, `{ "days": n }` or `{ "at": RFC 3339 | null }`.
fn expiry(value: Option<&Value>) -> Result<Expiry, ApiError> {
    let malformed = || {
        ApiError::bad_request(
            "expires must be \"never\", {\"days\": n} or {\"at\": \"RFC 3339 time\" | null}",
        )
    };
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(Expiry::Never);
    };
    if value.as_str() == Some("never") {
        return Ok(Expiry::Never);
    }
    let map = value
        .as_object()
        .filter(|m| m.len() == 1)
        .ok_or_else(malformed)?;
    if let Some(days) = map.get("days") {
        return days.as_i64().map(Expiry::Days).ok_or_else(malformed);
    }
    match map.get("at") {
        Some(Value::Null) => Ok(Expiry::At(None)),
        Some(Value::String(text)) => {
            let at = parse_rfc3339_ms(text).ok_or_else(malformed)?;
            Ok(Expiry::At(Some(at)))
        }
        _ => Err(malformed()),
    }
}

/// The body of a creation: the token, shown this once, and its record.
#[derive(Serialize)]
struct Created<'a> {
    token: &'a str,
    record: &'a RawValue,
}

/// `201 { "token": "...", "record": {...} }`.
fn created(issued: Issued) -> Result<Response, ApiError> {
    let record = RawValue::from_string(issued.record).map_err(|e| ApiError::internal(&e.into()))?;
    let body = Created {
        token: &issued.token,
        record: &record,
    };
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

fn json_list(items: Vec<String>) -> Result<Response, ApiError> {
    let items = items
        .into_iter()
        .map(RawValue::from_string)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::internal(&e.into()))?;
    Ok(axum::Json(items).into_response())
}

fn json_record(record: String) -> Result<Response, ApiError> {
    let record = RawValue::from_string(record).map_err(|e| ApiError::internal(&e.into()))?;
    Ok(axum::Json(record).into_response())
}

/// Whether this user may create tokens: administrators always, members
/// when an administrator allowed it.
fn may_create(app: &App, caller: &Caller) -> Result<bool, ApiError> {
    let admin = match caller.via {
        Via::Password { admin } => admin,
        Via::Token { .. } => app.db.user(&caller.user)?.is_some_and(|u| u.admin),
    };
    Ok(admin || settings::members_can_create_tokens(&app.db)?)
}

/// `POST /api/usertokens`.
pub async fn create(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let caller = authenticate(&app, &headers, Accept::PasswordOrToken(None)).await?;
    if !may_create(&app, &caller)? {
        return Err(ApiError::forbidden(
            "only administrators may create tokens here; an administrator can allow members",
        ));
    }
    let body: CreateBody = body.parse()?;
    let request = IssueRequest {
        user_id: caller.user.clone(),
        name: body.name,
        description: body.description,
        expires: expiry(body.expires.as_ref())?,
        scope: body.scope.to_string(),
        parent_token: match caller.via {
            Via::Token { header, .. } => Some(header),
            Via::Password { .. } => None,
        },
    };
    let issued = app
        .plugin
        .issue(&request, app.clock.now(), &entropy()?)?
        .map_err(ApiError::from_operation)?;
    created(issued)
}

/// `GET /api/usertokens`.
pub async fn list(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, ApiError> {
    let caller = authenticate(&app, &headers, Accept::PasswordOrToken(Some(TOKENS_READ))).await?;
    json_list(
        app.plugin
            .list(&caller.user)?
            .map_err(ApiError::from_operation)?,
    )
}

/// `GET /api/usertokens/expiring?days=7`.
pub async fn expiring(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    query: Result<Query<ExpiringQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&app, &headers, Accept::PasswordOrToken(Some(TOKENS_READ))).await?;
    let Ok(Query(query)) = query else {
        return Err(ApiError::bad_request("days must be a whole number"));
    };
    let window = query
        .days
        .checked_mul(86_400_000)
        .filter(|w| *w >= 0)
        .ok_or_else(|| ApiError::bad_request("days must be a whole number of at least 0"))?;
    let found = app
        .plugin
        .expiring_within(&caller.user, window, app.clock.now())?
        .map_err(ApiError::from_operation)?;
    json_list(found)
}

/// `GET /api/usertokens/{id}`.
pub async fn detail(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&app, &headers, Accept::PasswordOrToken(Some(TOKENS_READ))).await?;
    json_record(
        app.plugin
            .get(&caller.user, &id)?
            .map_err(ApiError::from_operation)?,
    )
}

/// `PATCH /api/usertokens/{id}`: `name`, `description` and `status` only.
pub async fn update(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let caller = authenticate(&app, &headers, Accept::PasswordOrToken(Some(TOKENS_WRITE))).await?;
    let Value::Object(fields) = body.0 else {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    };
    let mut edit = Edit {
        name: None,
        description: None,
        active: None,
    };
    for (key, value) in fields {
        match (key.as_str(), value) {
            ("name", Value::String(name)) => edit.name = Some(name),
            ("description", Value::String(text)) => edit.description = Some(Some(text)),
            ("description", Value::Null) => edit.description = Some(None),
            ("status", Value::String(status)) if status == "active" => edit.active = Some(true),
            ("status", Value::String(status)) if status == "inactive" => edit.active = Some(false),
            (key, _) if IMMUTABLE.contains(&key) => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "IMMUTABLE_FIELD",
                    format!("{key} is fixed at creation; create a new token instead"),
                ));
            }
            ("name" | "description" | "status", _) => {
                return Err(ApiError::bad_request(format!(
                    "{key} has the wrong type (status is \"active\" or \"inactive\")"
                )));
            }
            (key, _) => return Err(ApiError::bad_request(format!("unknown field {key}"))),
        }
    }
    json_record(
        app.plugin
            .update(&caller.user, &id, &edit)?
            .map_err(ApiError::from_operation)?,
    )
}

/// `POST /api/usertokens/{id}/rotate` with `{ "graceSeconds": n }`.
pub async fn rotate(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let caller = authenticate(&app, &headers, Accept::PasswordOrToken(Some(TOKENS_CREATE))).await?;
    let body: RotateBody = body.parse()?;
    let grace_ms = body
        .grace_seconds
        .checked_mul(1000)
        .ok_or_else(|| ApiError::bad_request("graceSeconds is out of range"))?;
    let issued = app
        .plugin
        .rotate(&caller.user, &id, grace_ms, app.clock.now(), &entropy()?)?
        .map_err(ApiError::from_operation)?;
    created(issued)
}

/// `DELETE /api/usertokens/{id}`.
pub async fn delete(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&app, &headers, Accept::PasswordOrToken(Some(TOKENS_WRITE))).await?;
    app.plugin
        .delete(&caller.user, &id)?
        .map_err(ApiError::from_operation)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
