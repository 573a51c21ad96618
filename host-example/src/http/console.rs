//! The administrator's console over HTTP: another user's tokens, listed,
//! deactivated or re-activated, deleted (cascades included), or all
//! deactivated at once. Administrators sign in with their password (or the
//! page's session); what an administrator may do to which token is the
//! core's decision ([`tessera_core::Actor::Administrator`]), so a member
//! calling these routes gets the core's `FORBIDDEN`.
//!
//! Listing filters (`status`, `neverUsed`, `createdBy`) select from what
//! the core listed; they decide nothing about tokens. `expiringDays` asks
//! the core for the tokens valid now that expire within the window.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::body::JsonBody;
use super::caller::{Accept, Credentials, authenticate};
use super::tokens::{self, Acting, CascadeQuery};
use super::{ApiError, App};

/// Authenticates an administrator's request on `user`'s tokens.
async fn acting(
    app: &Arc<App>,
    credentials: &Credentials,
    user: String,
) -> Result<Acting, ApiError> {
    let caller = authenticate(app, credentials, Accept::Password).await?;
    Ok(Acting::Administrator { caller, user })
}

/// `GET /api/admin/users/{name}/tokens` filters.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListQuery {
    /// `active` or `inactive`.
    status: Option<String>,
    /// Only tokens never used.
    #[serde(default)]
    never_used: bool,
    /// `user` or `token`: how the token was created.
    created_by: Option<String>,
    /// Only tokens valid now that expire within this many days.
    expiring_days: Option<i64>,
}

/// What a bad filter is told.
const FILTERS: &str = "filters are status=active|inactive, neverUsed=true|false, \
     createdBy=user|token, expiringDays=N (a whole number of at least 0)";

/// `GET /api/admin/users/{name}/tokens[?status=active|inactive]
/// [&neverUsed=true][&createdBy=user|token][&expiringDays=N]`: the user's
/// tokens, oldest first, as their owner's list shows them.
pub async fn list(
    State(app): State<Arc<App>>,
    credentials: Credentials,
    Path(name): Path<String>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Ok(Query(query)) = query else {
        return Err(ApiError::bad_request(FILTERS));
    };
    let window = match query.expiring_days {
        None => None,
        Some(days) => Some(
            days.checked_mul(86_400_000)
                .filter(|w| *w >= 0)
                .ok_or_else(|| ApiError::bad_request(FILTERS))?,
        ),
    };
    if query
        .status
        .as_deref()
        .is_some_and(|s| s != "active" && s != "inactive")
        || query
            .created_by
            .as_deref()
            .is_some_and(|c| c != "user" && c != "token")
    {
        return Err(ApiError::bad_request(FILTERS));
    }
    let acting = acting(&app, &credentials, name).await?;
    let listed = tokens::operate_as(&app, acting, move |app, actor, _| match window {
        Some(window) => app.plugin.expiring_within(actor, window, app.clock.now()),
        None => app.plugin.list(actor, app.clock.now()),
    })
    .await?;
    let mut kept = Vec::with_capacity(listed.len());
    for json in listed {
        let record: Value =
            serde_json::from_str(&json).map_err(|e| ApiError::internal(&e.into()))?;
        let status_ok = query
            .status
            .as_deref()
            .is_none_or(|status| record["status"] == status);
        let used_ok = !query.never_used || record["lastUsedAt"].is_null();
        let creator_ok = query
            .created_by
            .as_deref()
            .is_none_or(|kind| record["createdBy"]["kind"] == kind);
        if status_ok && used_ok && creator_ok {
            kept.push(json);
        }
    }
    tokens::json_list(kept)
}

/// `PATCH /api/admin/users/{name}/tokens/{id}[?cascade=true]` with
/// `{ "status": "active" | "inactive" }` (a name or description is the
/// owner's: 403 `FORBIDDEN`).
pub async fn update(
    State(app): State<Arc<App>>,
    credentials: Credentials,
    Path((name, id)): Path<(String, String)>,
    query: Result<Query<CascadeQuery>, axum::extract::rejection::QueryRejection>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let cascade = tokens::cascade(query)?;
    let acting = acting(&app, &credentials, name).await?;
    tokens::update_as(&app, acting, id, cascade, &body).await
}

/// `DELETE /api/admin/users/{name}/tokens/{id}[?cascade=true]`.
pub async fn delete(
    State(app): State<Arc<App>>,
    credentials: Credentials,
    Path((name, id)): Path<(String, String)>,
    query: Result<Query<CascadeQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let cascade = tokens::cascade(query)?;
    let acting = acting(&app, &credentials, name).await?;
    tokens::delete_as(&app, acting, id, cascade).await
}

/// `POST /api/admin/users/{name}/tokens/deactivate`: every active token of
/// the user, deactivated at once: 200 `{ "deactivated": [ids] }`.
pub async fn deactivate_all(
    State(app): State<Arc<App>>,
    credentials: Credentials,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let acting = acting(&app, &credentials, name).await?;
    Ok(tokens::deactivate_all_as(&app, acting)
        .await?
        .into_response())
}
