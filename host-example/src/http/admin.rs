//! Administration and account routes: the members-may-create-tokens
//! setting, and changing one's own password.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::body::JsonBody;
use super::caller::{Accept, Credentials, Via, authenticate};
use super::{ApiError, App, session};
use crate::{auth, settings};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SettingsBody {
    members_can_create_tokens: bool,
}

async fn admin(app: &Arc<App>, credentials: &Credentials) -> Result<(), ApiError> {
    let caller = authenticate(app, credentials, Accept::Password).await?;
    match caller.via {
        Via::Password { admin: true, .. } => Ok(()),
        _ => Err(ApiError::forbidden(
            "only administrators may change settings",
        )),
    }
}

/// `GET /api/settings`: administrators only.
pub async fn settings(
    State(app): State<Arc<App>>,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    admin(&app, &credentials).await?;
    let allowed = settings::members_can_create_tokens(&app.db)?;
    Ok(axum::Json(json!({ "membersCanCreateTokens": allowed })).into_response())
}

/// `PUT /api/settings` with `{ "membersCanCreateTokens": bool }`.
pub async fn update_settings(
    State(app): State<Arc<App>>,
    credentials: Credentials,
    body: JsonBody,
) -> Result<Response, ApiError> {
    admin(&app, &credentials).await?;
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
/// authenticated by the current password (or a session). Every session of
/// the user ends; a caller who came with one gets a new one. Tokens are not
/// affected.
pub async fn change_password(
    State(app): State<Arc<App>>,
    credentials: Credentials,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let caller = authenticate(&app, &credentials, Accept::Password).await?;
    let body: PasswordBody = body.parse()?;
    auth::check_new_password(&body.password).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            tessera_core::code::PASSWORD_INVALID,
            e.to_string()
                .trim_start_matches(tessera_core::code::PASSWORD_INVALID)
                .trim_start_matches(": "),
        )
    })?;
    let hash = app
        .sign_in
        .pool
        .run(move || auth::hash_password(&body.password))
        .await??;
    app.db.set_password(&caller.user, &hash)?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    session::renew(&app, &credentials, &caller.via, &caller.user, &mut response)?;
    Ok(response)
}
