//! Administration and account routes: the members-may-create-tokens
//! setting, and changing one's own password.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::body::JsonBody;
use super::caller::{Accept, Via, authenticate};
use super::{ApiError, App};
use crate::{auth, settings};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SettingsBody {
    members_can_create_tokens: bool,
}

async fn admin(app: &App, headers: &HeaderMap) -> Result<(), ApiError> {
    let caller = authenticate(app, headers, Accept::Password).await?;
    match caller.via {
        Via::Password { admin: true } => Ok(()),
        _ => Err(ApiError::forbidden(
            "only administrators may change settings",
        )),
    }
}

/// `GET /api/settings`: administrators only.
pub async fn settings(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    admin(&app, &headers).await?;
    let allowed = settings::members_can_create_tokens(&app.db)?;
    Ok(axum::Json(json!({ "membersCanCreateTokens": allowed })).into_response())
}

/// `PUT /api/settings` with `{ "membersCanCreateTokens": bool }`.
pub async fn update_settings(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    admin(&app, &headers).await?;
    let body: SettingsBody = body.parse()?;
    settings::set_members_can_create_tokens(&app.db, body.members_can_create_tokens)?;
    Ok(
        axum::Json(json!({ "membersCanCreateTokens": body.members_can_create_tokens }))
            .into_response(),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    password: String,
}

/// `PUT /api/password` with `{ "password": "..." }`: the caller's own,
/// authenticated by the current password. Tokens are not affected.
pub async fn change_password(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let caller = authenticate(&app, &headers, Accept::Password).await?;
    let body: PasswordBody = body.parse()?;
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&body.password))
        .await
        .map_err(|e| ApiError::internal(&e.into()))?
        .map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                tessera_core::code::BAD_REQUEST,
                e.to_string(),
            )
        })?;
    app.db.set_password(&caller.user, &hash)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
