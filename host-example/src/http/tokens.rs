//! `/api/usertokens`: create, list, show, edit, rotate and delete the
//! caller's own tokens.
//!
//! Each route authenticates the caller, says who they are (an actor) and
//! passes the request to the plugin, where the core decides what the actor
//! may do to which token. No rule about tokens lives here.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use super::body::JsonBody;
use super::caller::{Accept, Caller, Credentials, Via, authenticate};
use super::{ApiError, App};
use crate::clock::entropy;
use crate::plugin::{Actor, Edit, Expiry, IssueRequest, Issued, Status};
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
    "replacedBy",
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

/// `?cascade=true` on `PATCH` and `DELETE`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CascadeQuery {
    #[serde(default)]
    cascade: bool,
}

/// Reads `?cascade=…`; anything but `true` or `false` is a 400.
fn cascade(
    query: Result<Query<CascadeQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<bool, ApiError> {
    query
        .map(|Query(q)| q.cascade)
        .map_err(|_| ApiError::bad_request("cascade must be true or false"))
}

#[derive(Deserialize)]
pub struct ExpiringQuery {
    #[serde(default = "seven")]
    days: i64,
}

fn seven() -> i64 {
    7
}

/// Reads the expiry with the core's one grammar: `"never"`, `{ "days": n }`
/// or `{ "at": RFC 3339 | null }`; absent is never.
fn expiry(value: Option<&Value>) -> Result<Expiry, ApiError> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(Expiry::Never);
    };
    serde_json::from_value::<tessera_core::Expiry>(value.clone())
        .map(Expiry::from)
        .map_err(|_| {
            ApiError::bad_request(
                "expires must be \"never\", {\"days\": n} or {\"at\": \"RFC 3339 time\" | null}",
            )
        })
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

/// The caller as the plugin's actor: the user (by password) or the token
/// (its `Authorization` value), with what the host knows of the user's
/// rights: whether they administer the service, and whether members may
/// create tokens here. The core decides what follows from them.
fn actor(app: &App, caller: &Caller) -> Result<Actor, ApiError> {
    let members = settings::members_can_create_tokens(&app.db)?;
    Ok(match &caller.via {
        Via::Password { admin, .. } => Actor::user(&caller.user, *admin, members),
        Via::Token { header, .. } => {
            let admin = app.db.user(&caller.user)?.is_some_and(|u| u.admin);
            Actor::token(header, admin, members)
        }
    })
}

/// Runs a token write with this process's other token writes kept out (see
/// `App::writing`). A poisoned lock only means another write panicked;
/// the database stayed consistent, so the turn is taken anyway.
fn one_at_a_time<T>(app: &App, write: impl FnOnce() -> T) -> T {
    let _turn = app.writing.lock().unwrap_or_else(|p| p.into_inner());
    write()
}

/// Authenticates a caller of `/api/usertokens` (a password, or any valid
/// token: what a token may do there is the core's decision) and returns
/// their actor.
async fn caller(app: &App, credentials: &Credentials) -> Result<Actor, ApiError> {
    let caller = authenticate(app, credentials, Accept::PasswordOrToken(None)).await?;
    actor(app, &caller)
}

/// `POST /api/usertokens`.
pub async fn create(
    State(app): State<Arc<App>>,
    credentials: Credentials,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let actor = caller(&app, &credentials).await?;
    let body: CreateBody = body.parse()?;
    let request = IssueRequest {
        name: body.name,
        description: body.description,
        expires: expiry(body.expires.as_ref())?,
        scope: body.scope.to_string(),
    };
    let entropy = entropy()?;
    let issued = one_at_a_time(&app, || {
        app.plugin
            .issue(&actor, &request, app.clock.now(), &entropy)
    })?
    .map_err(ApiError::from_operation)?;
    created(issued)
}

/// `GET /api/usertokens`.
pub async fn list(
    State(app): State<Arc<App>>,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    let actor = caller(&app, &credentials).await?;
    json_list(
        app.plugin
            .list(&actor, app.clock.now())?
            .map_err(ApiError::from_operation)?,
    )
}

/// `GET /api/usertokens/expiring?days=7`.
pub async fn expiring(
    State(app): State<Arc<App>>,
    credentials: Credentials,
    query: Result<Query<ExpiringQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let actor = caller(&app, &credentials).await?;
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
        .expiring_within(&actor, window, app.clock.now())?
        .map_err(ApiError::from_operation)?;
    json_list(found)
}

/// `GET /api/usertokens/{id}`.
pub async fn detail(
    State(app): State<Arc<App>>,
    credentials: Credentials,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let actor = caller(&app, &credentials).await?;
    json_record(
        app.plugin
            .get(&actor, &id, app.clock.now())?
            .map_err(ApiError::from_operation)?,
    )
}

/// `PATCH /api/usertokens/{id}[?cascade=true]`: `name`, `description` and
/// `status` only. A deactivation with `cascade` also deactivates every token
/// the target created; the answer is then `{ "record", "deactivated" }`.
pub async fn update(
    State(app): State<Arc<App>>,
    credentials: Credentials,
    Path(id): Path<String>,
    query: Result<Query<CascadeQuery>, axum::extract::rejection::QueryRejection>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let actor = caller(&app, &credentials).await?;
    let cascade = cascade(query)?;
    let Value::Object(fields) = body.0 else {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    };
    let mut edit = Edit {
        name: None,
        description: None,
        status: None,
    };
    for (key, value) in fields {
        match (key.as_str(), value) {
            ("name", Value::String(name)) => edit.name = Some(name),
            ("description", Value::String(text)) => edit.description = Some(Some(text)),
            ("description", Value::Null) => edit.description = Some(None),
            ("status", Value::String(status)) if status == "active" => {
                edit.status = Some(Status::Active)
            }
            ("status", Value::String(status)) if status == "inactive" => {
                edit.status = Some(Status::Inactive)
            }
            (key, _) if IMMUTABLE.contains(&key) => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    tessera_core::code::IMMUTABLE_FIELD,
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
    let updated = one_at_a_time(&app, || {
        app.plugin
            .update(&actor, &id, &edit, cascade, app.clock.now())
    })?
    .map_err(ApiError::from_operation)?;
    if !cascade {
        return json_record(updated.record);
    }
    let record =
        RawValue::from_string(updated.record).map_err(|e| ApiError::internal(&e.into()))?;
    let deactivated = &updated.affected[1.min(updated.affected.len())..];
    Ok(
        axum::Json(serde_json::json!({ "record": record, "deactivated": deactivated }))
            .into_response(),
    )
}

/// `POST /api/usertokens/{id}/rotate` with `{ "graceSeconds": n }`.
pub async fn rotate(
    State(app): State<Arc<App>>,
    credentials: Credentials,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let actor = caller(&app, &credentials).await?;
    let body: RotateBody = body.parse()?;
    let grace_ms = body
        .grace_seconds
        .checked_mul(1000)
        .ok_or_else(|| ApiError::bad_request("graceSeconds is out of range"))?;
    let entropy = entropy()?;
    let issued = one_at_a_time(&app, || {
        app.plugin
            .rotate(&actor, &id, grace_ms, app.clock.now(), &entropy)
    })?
    .map_err(ApiError::from_operation)?;
    created(issued)
}

/// `DELETE /api/usertokens/{id}[?cascade=true]`: 204; with `cascade`, every
/// token the target created goes too, and the answer is 200
/// `{ "deleted": [ids] }`, the target's first.
pub async fn delete(
    State(app): State<Arc<App>>,
    credentials: Credentials,
    Path(id): Path<String>,
    query: Result<Query<CascadeQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let actor = caller(&app, &credentials).await?;
    let cascade = cascade(query)?;
    let deleted = one_at_a_time(&app, || {
        app.plugin.delete(&actor, &id, cascade, app.clock.now())
    })?
    .map_err(ApiError::from_operation)?;
    if cascade {
        return Ok(axum::Json(serde_json::json!({ "deleted": deleted })).into_response());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
