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
use serde_json::value::RawValue;

use super::body::JsonBody;
use super::caller::{Accept, Caller, Credentials, Via, authenticate, service_secret};
use super::{ApiError, App};
use crate::clock::entropy;
use crate::db::Origin;
use crate::plugin::{Actor, Edit, Expiry, IssueRequest, Issued, Outcome, Status};
use crate::{requests, settings};

/// `?cascade=true` on `PATCH` and `DELETE`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CascadeQuery {
    #[serde(default)]
    cascade: bool,
}

/// Reads `?cascade=…`; anything but `true` or `false` is a 400.
pub(super) fn cascade(
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

pub(super) fn json_list(items: Vec<String>) -> Result<Response, ApiError> {
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

/// Whom an operation acts as: the caller on their own tokens, an
/// administrator (the caller, by password) on another user's, or an issuer
/// creating a token for a user.
pub(super) enum Acting {
    /// The caller, by password, session or token.
    Caller(Caller),
    /// The caller as an administrator, on `user`'s tokens.
    Administrator {
        /// The administrator.
        caller: Caller,
        /// The user whose tokens they act on.
        user: String,
    },
    /// An administrator (by password or session) or a service key,
    /// creating a token for `user`.
    Issuer {
        /// Who issues.
        by: IssuedBy,
        /// The user the token is for.
        user: String,
    },
}

/// Who issues a token for a user.
pub(super) enum IssuedBy {
    /// An administrator, by password or session (the core checks they are
    /// one).
    Administrator(Caller),
    /// A service key, by its name, presented from `client`.
    ServiceKey {
        /// The key's name.
        name: String,
        /// The client's address.
        client: std::net::IpAddr,
    },
}

impl Acting {
    /// Who the audit log says made a change at `at`.
    fn origin(&self, at: i64) -> Origin {
        match self {
            Self::Caller(caller) => caller.origin(false, at),
            Self::Administrator { caller, .. }
            | Self::Issuer {
                by: IssuedBy::Administrator(caller),
                ..
            } => caller.origin(true, at),
            Self::Issuer {
                by: IssuedBy::ServiceKey { name, client },
                ..
            } => Origin {
                kind: crate::db::ActorKind::Service,
                user: None,
                token_id: None,
                address: Some(*client),
                at,
                cascade_of: None,
                detail: Some(serde_json::json!({ "serviceKey": name })),
            },
        }
    }
}

/// The plugin's actor: a user (by password or session) with their standing
/// as the database holds it now; a token (its `Authorization` value), whose
/// owner's standing the plugin reads with its record; or an administrator
/// on another user's tokens, with the administrator's standing. The core
/// decides what follows from them (an administrator who is none is
/// `FORBIDDEN` there).
fn actor(app: &App, acting: &Acting) -> Result<Actor, ApiError> {
    Ok(match acting {
        Acting::Caller(caller) => match &caller.via {
            Via::Password { .. } => {
                Actor::user(&caller.user, settings::standing(&app.db, &caller.user)?)
            }
            Via::Token { header, .. } => Actor::token(header, Some(caller.client)),
        },
        Acting::Administrator { caller, user } => Actor::administrator(
            &caller.user,
            settings::standing(&app.db, &caller.user)?,
            user,
        ),
        Acting::Issuer { by, user } => {
            let owner = settings::user_standing(&app.db, user)?;
            let allowed = settings::issue_for_users(&app.db)?;
            match by {
                IssuedBy::Administrator(caller) => Actor::administrator_issuing(
                    &caller.user,
                    settings::standing(&app.db, &caller.user)?,
                    user,
                    owner,
                    allowed,
                ),
                IssuedBy::ServiceKey { name, .. } => {
                    Actor::service_key_issuing(name, user, owner, allowed)
                }
            }
        }
    })
}

/// Runs a token write with this process's other token writes kept out (see
/// `App::writing`). A poisoned lock only means another write panicked;
/// the database stayed consistent, so the turn is taken anyway.
pub(super) fn one_at_a_time<T>(app: &App, write: impl FnOnce() -> T) -> T {
    let _turn = app.writing.lock().unwrap_or_else(|p| p.into_inner());
    write()
}

/// Authenticates a caller of `/api/usertokens` (a password, or any valid
/// token: what a token may do there is the core's decision).
async fn caller(app: &Arc<App>, credentials: &Credentials) -> Result<Caller, ApiError> {
    authenticate(app, credentials, Accept::PasswordOrToken(None)).await
}

/// Runs a plugin operation as the caller's actor where it may wait on the
/// database (see [`App::blocking`]): the actor's standing and the operation
/// both read it.
async fn operate<T: Send + 'static>(
    app: &Arc<App>,
    caller: Caller,
    operation: impl FnOnce(&App, &Actor, &Origin) -> Outcome<T> + Send + 'static,
) -> Result<T, ApiError> {
    operate_as(app, Acting::Caller(caller), operation).await
}

/// [`operate`] as whoever `acting` names; `operation` also gets the
/// origin the audit log records for its writes.
pub(super) async fn operate_as<T: Send + 'static>(
    app: &Arc<App>,
    acting: Acting,
    operation: impl FnOnce(&App, &Actor, &Origin) -> Outcome<T> + Send + 'static,
) -> Result<T, ApiError> {
    app.blocking(move |app| {
        let actor = actor(app, &acting)?;
        let origin = acting.origin(app.clock.now());
        operation(app, &actor, &origin)?.map_err(ApiError::from_operation)
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
}

/// The name of the service key the request presents (`Authorization:
/// Service <secret>`), `None` when it presents none; a key the host does
/// not hold is 401, like any wrong credential.
fn service_key(app: &App, credentials: &Credentials) -> Result<Option<String>, ApiError> {
    let Some(secret) = service_secret(&credentials.headers) else {
        return Ok(None);
    };
    match app.service_keys.find(secret.trim()) {
        Some(name) => Ok(Some(name.to_owned())),
        None => Err(ApiError::unauthenticated("an unknown service key")),
    }
}

/// Who creates a token: the caller for themselves; for another user
/// (`userId`), an administrator by password or session, or a service key,
/// which the core lets issue only when the deployment allows it. A token
/// never issues for another user.
async fn creator(
    app: &Arc<App>,
    credentials: &Credentials,
    bytes: &[u8],
) -> Result<(Acting, requests::Create), ApiError> {
    if let Some(name) = service_key(app, credentials)? {
        let body = requests::create(bytes)?;
        let Some(user) = body.user_id.clone() else {
            return Err(ApiError::bad_request(
                "a service key issues tokens for users: userId is required",
            ));
        };
        let by = IssuedBy::ServiceKey {
            name,
            client: credentials.client,
        };
        return Ok((Acting::Issuer { by, user }, body));
    }
    let caller = caller(app, credentials).await?;
    let body = requests::create(bytes)?;
    let acting = match &body.user_id {
        Some(user) if *user != caller.user => {
            if !matches!(caller.via, Via::Password { .. }) {
                return Err(ApiError::forbidden(
                    "a token cannot issue tokens for other users",
                ));
            }
            Acting::Issuer {
                user: user.clone(),
                by: IssuedBy::Administrator(caller),
            }
        }
        _ => Acting::Caller(caller),
    };
    Ok((acting, body))
}

/// `POST /api/usertokens`: a token for the caller, or, with `userId`, for
/// that user (see [`creator`]).
pub async fn create(
    State(app): State<Arc<App>>,
    credentials: Credentials,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let (acting, body) = creator(&app, &credentials, &body.0).await?;
    let request = IssueRequest {
        name: body.name,
        description: body.description,
        expires: Expiry::from(body.expires),
        scope: body.scope,
        allowed_ips: body.allowed_ips,
    };
    let entropy = entropy()?;
    let issued = operate_as(&app, acting, move |app, actor, origin| {
        one_at_a_time(app, || {
            app.plugin
                .issue(origin, actor, &request, app.clock.now(), &entropy)
        })
    })
    .await?;
    created(issued)
}

/// `GET /api/usertokens`.
pub async fn list(
    State(app): State<Arc<App>>,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    let caller = caller(&app, &credentials).await?;
    json_list(
        operate(&app, caller, |app, actor, _| {
            app.plugin.list(actor, app.clock.now())
        })
        .await?,
    )
}

/// `GET /api/usertokens/expiring?days=7`.
pub async fn expiring(
    State(app): State<Arc<App>>,
    credentials: Credentials,
    query: Result<Query<ExpiringQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let caller = caller(&app, &credentials).await?;
    let Ok(Query(query)) = query else {
        return Err(ApiError::bad_request("days must be a whole number"));
    };
    let window = query
        .days
        .checked_mul(86_400_000)
        .filter(|w| *w >= 0)
        .ok_or_else(|| ApiError::bad_request("days must be a whole number of at least 0"))?;
    let found = operate(&app, caller, move |app, actor, _| {
        app.plugin.expiring_within(actor, window, app.clock.now())
    })
    .await?;
    json_list(found)
}

/// `GET /api/usertokens/{id}`.
pub async fn detail(
    State(app): State<Arc<App>>,
    credentials: Credentials,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = caller(&app, &credentials).await?;
    json_record(
        operate(&app, caller, move |app, actor, _| {
            app.plugin.get(actor, &id, app.clock.now())
        })
        .await?,
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
    let caller = caller(&app, &credentials).await?;
    update_as(&app, Acting::Caller(caller), id, cascade(query)?, &body).await
}

/// An edit as `acting`: the edited record, or with `cascade` `{ "record",
/// "deactivated" }`.
pub(super) async fn update_as(
    app: &Arc<App>,
    acting: Acting,
    id: String,
    cascade: bool,
    body: &JsonBody,
) -> Result<Response, ApiError> {
    let change = requests::update(&body.0)?;
    let edit = Edit {
        name: change.name,
        description: change.description,
        status: change.status.map(|status| match status {
            requests::Status::Active => Status::Active,
            requests::Status::Inactive => Status::Inactive,
        }),
    };
    let updated = operate_as(app, acting, move |app, actor, origin| {
        let origin = if cascade {
            origin.cascading_from(&id)
        } else {
            origin.clone()
        };
        one_at_a_time(app, || {
            app.plugin
                .update(&origin, actor, &id, &edit, cascade, app.clock.now())
        })
    })
    .await?;
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
    let caller = caller(&app, &credentials).await?;
    let grace_ms = requests::rotate(&body.0)?;
    let entropy = entropy()?;
    let issued = operate(&app, caller, move |app, actor, origin| {
        one_at_a_time(app, || {
            app.plugin
                .rotate(origin, actor, &id, grace_ms, app.clock.now(), &entropy)
        })
    })
    .await?;
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
    let caller = caller(&app, &credentials).await?;
    delete_as(&app, Acting::Caller(caller), id, cascade(query)?).await
}

/// A deletion as `acting`: 204, or with `cascade` 200 `{ "deleted" }`.
pub(super) async fn delete_as(
    app: &Arc<App>,
    acting: Acting,
    id: String,
    cascade: bool,
) -> Result<Response, ApiError> {
    let deleted = operate_as(app, acting, move |app, actor, origin| {
        let origin = if cascade {
            origin.cascading_from(&id)
        } else {
            origin.clone()
        };
        one_at_a_time(app, || {
            app.plugin
                .delete(&origin, actor, &id, cascade, app.clock.now())
        })
    })
    .await?;
    if cascade {
        return Ok(axum::Json(serde_json::json!({ "deleted": deleted })).into_response());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /api/usertokens/deactivate`: deactivates every active token of the
/// caller (by password) at once: 200 `{ "deactivated": [ids] }`. A token may
/// not (403 `FORBIDDEN`, the core's rule).
pub async fn deactivate_all(
    State(app): State<Arc<App>>,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    let caller = caller(&app, &credentials).await?;
    deactivate_all_as(&app, Acting::Caller(caller)).await
}

/// Deactivates every active token of `acting`'s user at once.
pub(super) async fn deactivate_all_as(
    app: &Arc<App>,
    acting: Acting,
) -> Result<Response, ApiError> {
    let deactivated = operate_as(app, acting, |app, actor, origin| {
        one_at_a_time(app, || {
            app.plugin.deactivate_all(origin, actor, app.clock.now())
        })
    })
    .await?;
    Ok(axum::Json(serde_json::json!({ "deactivated": deactivated })).into_response())
}
