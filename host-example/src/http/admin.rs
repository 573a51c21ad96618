//! Administration and account routes: the deployment's settings (the
//! default for members, `membersCanCreateTokens`, which governs whether
//! members who inherit it may generate *and use* tokens; `issueForUsers`,
//! whether administrators and service keys may create tokens for users),
//! each user's own token setting, and changing one's own password.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::body::JsonBody;
use super::caller::{Accept, Caller, Credentials, Via, authenticate};
use super::{ApiError, App, session};
use crate::db::User;
use crate::{auth, settings};
use tessera_core::{Enablement, Standing};

/// A change of settings: each member present is set.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SettingsBody {
    #[serde(default)]
    members_can_create_tokens: Option<bool>,
    #[serde(default)]
    issue_for_users: Option<bool>,
}

/// The deployment's settings as the API shows them.
fn settings_json(db: &crate::db::Db) -> Result<serde_json::Value, ApiError> {
    Ok(json!({
        "membersCanCreateTokens": settings::members_can_create_tokens(db)?,
        "issueForUsers": settings::issue_for_users(db)?,
    }))
}

async fn admin(app: &Arc<App>, credentials: &Credentials) -> Result<Caller, ApiError> {
    let caller = authenticate(app, credentials, Accept::Password).await?;
    match caller.via {
        Via::Password { admin: true, .. } => Ok(caller),
        _ => Err(ApiError::forbidden(
            "only administrators may change settings",
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserTokensBody {
    tokens: String,
}

/// A user as administrators see them: never the password hash. `tokens` is
/// their own setting, `tokensEnabled` what follows from it (the core's
/// rule: administrators always; members by their setting or the default).
fn user_json(user: &User, members_enabled: bool) -> serde_json::Value {
    let standing = Standing {
        admin: user.admin,
        tokens: user.tokens,
        members_enabled,
    };
    json!({
        "name": user.name,
        "admin": user.admin,
        "tokens": user.tokens.as_str(),
        "tokensEnabled": standing.tokens_enabled(),
    })
}

/// `GET /api/users`: every user with their token setting; administrators
/// only.
pub async fn users(
    State(app): State<Arc<App>>,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    admin(&app, &credentials).await?;
    let members_enabled = settings::members_can_create_tokens(&app.db)?;
    let users: Vec<_> = app
        .db
        .users()?
        .iter()
        .map(|user| user_json(user, members_enabled))
        .collect();
    Ok(
        axum::Json(json!({ "membersCanCreateTokens": members_enabled, "users": users }))
            .into_response(),
    )
}

/// `PUT /api/users/{name}/tokens` with `{ "tokens": "inherit" | "on" |
/// "off" }`: whether the user may generate and use tokens. Turning a member
/// off refuses their tokens at once on every surface (`TOKENS_DISABLED`);
/// nothing is deleted, and turning them on again restores the tokens.
pub async fn set_user_tokens(
    State(app): State<Arc<App>>,
    credentials: Credentials,
    Path(name): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let caller = admin(&app, &credentials).await?;
    let body: UserTokensBody = body.parse()?;
    let Some(tokens) = Enablement::parse(&body.tokens) else {
        return Err(ApiError::bad_request("tokens is inherit, on or off"));
    };
    let origin = caller.origin(true, app.clock.now());
    // No record or answer cached with the old standing is served again.
    let changed = app
        .plugin
        .records()
        .change_standing(|db| db.set_user_tokens(&name, tokens, &origin))?;
    if !changed {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            tessera_core::code::NOT_FOUND,
            "no such user",
        ));
    }
    let user = app
        .db
        .user(&name)?
        .ok_or_else(|| ApiError::internal(&anyhow::anyhow!("a user vanished")))?;
    let members_enabled = settings::members_can_create_tokens(&app.db)?;
    Ok(axum::Json(user_json(&user, members_enabled)).into_response())
}

/// `GET /api/settings`: administrators only.
pub async fn settings(
    State(app): State<Arc<App>>,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    admin(&app, &credentials).await?;
    Ok(axum::Json(settings_json(&app.db)?).into_response())
}

/// `PUT /api/settings` with `{ "membersCanCreateTokens"?: bool,
/// "issueForUsers"?: bool }` (at least one): answers every setting after
/// the change.
pub async fn update_settings(
    State(app): State<Arc<App>>,
    credentials: Credentials,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let caller = admin(&app, &credentials).await?;
    let body: SettingsBody = body.parse()?;
    if body.members_can_create_tokens.is_none() && body.issue_for_users.is_none() {
        return Err(ApiError::bad_request(
            "name a setting: membersCanCreateTokens or issueForUsers",
        ));
    }
    let origin = caller.origin(true, app.clock.now());
    if let Some(allowed) = body.issue_for_users {
        settings::set_issue_for_users(&app.db, allowed, &origin)?;
    }
    if let Some(allowed) = body.members_can_create_tokens {
        app.plugin
            .records()
            .change_standing(|db| settings::set_members_can_create_tokens(db, allowed, &origin))?;
    }
    Ok(axum::Json(settings_json(&app.db)?).into_response())
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
    let origin = caller.origin(false, app.clock.now());
    app.db.set_password(&caller.user, &hash, &origin)?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    session::renew(&app, &credentials, &caller.via, &caller.user, &mut response)?;
    Ok(response)
}
