//! A sample protected API whose routes map to catalog actions, to show
//! scopes at work: `GET /api/apps` needs `apps.read`, `POST /api/apps`
//! `apps.write`, `POST /api/deploys` `deploy.run`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_json::value::RawValue;

use super::body::JsonBody;
use super::caller::{Accept, Credentials, Via, authenticate};
use super::{ApiError, App};
use crate::config::{APPS_READ, APPS_WRITE, DEPLOY_RUN};

/// `GET /healthz`: no authentication.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /api/whoami`: any valid token.
pub async fn whoami(
    State(app): State<Arc<App>>,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    let caller = authenticate(&app, &credentials, Accept::Token(None)).await?;
    let Via::Token {
        token_id,
        scope,
        expires_at,
        ..
    } = caller.via
    else {
        return Err(ApiError::unauthenticated(
            "a password where only tokens are accepted",
        ));
    };
    let scope = RawValue::from_string(scope).map_err(|e| ApiError::internal(&e.into()))?;
    Ok(axum::Json(WhoAmI {
        user_id: &caller.user,
        token_id: &token_id,
        scope: &scope,
        expires_at,
    })
    .into_response())
}

/// The answer of `GET /api/whoami`. Written straight from the plugin's
/// JSON scope: a `json!` value would parse the scope again to hold it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WhoAmI<'a> {
    user_id: &'a str,
    token_id: &'a str,
    scope: &'a RawValue,
    expires_at: Option<i64>,
}

/// `GET /api/policy`: the deployment's limits on tokens (whether they may
/// never expire, the longest lifetime, the most a user may hold), for any
/// signed-in user or valid token.
pub async fn policy(
    State(app): State<Arc<App>>,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    authenticate(&app, &credentials, Accept::PasswordOrToken(None)).await?;
    let policy =
        RawValue::from_string(app.policy.clone()).map_err(|e| ApiError::internal(&e.into()))?;
    Ok(axum::Json(policy).into_response())
}

/// `GET /api/catalog`: the deployment's actions and their kinds, for any
/// signed-in user or valid token (clients offer them as custom scopes).
pub async fn catalog(
    State(app): State<Arc<App>>,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    authenticate(&app, &credentials, Accept::PasswordOrToken(None)).await?;
    let catalog =
        RawValue::from_string(app.catalog.clone()).map_err(|e| ApiError::internal(&e.into()))?;
    Ok(axum::Json(catalog).into_response())
}

/// `GET /api/apps`: `apps.read`.
pub async fn list_apps(
    State(app): State<Arc<App>>,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    authenticate(&app, &credentials, Accept::Token(Some(APPS_READ))).await?;
    let apps = app.apps.lock().unwrap_or_else(|p| p.into_inner()).clone();
    Ok(axum::Json(json!({ "apps": apps })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppBody {
    name: String,
}

/// `POST /api/apps`: `apps.write`.
pub async fn create_app(
    State(app): State<Arc<App>>,
    credentials: Credentials,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let caller = authenticate(&app, &credentials, Accept::Token(Some(APPS_WRITE))).await?;
    let body: AppBody = body.parse()?;
    if body.name.trim().is_empty() || body.name.len() > 100 {
        return Err(ApiError::bad_request("an app name is 1 to 100 bytes"));
    }
    app.apps
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(body.name.clone());
    let by = match caller.via {
        Via::Token { token_id, .. } => token_id,
        Via::Password { .. } => caller.user,
    };
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "name": body.name, "createdBy": by })),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeployBody {
    app: String,
}

/// `POST /api/deploys`: `deploy.run`.
pub async fn deploy(
    State(app): State<Arc<App>>,
    credentials: Credentials,
    body: JsonBody,
) -> Result<Response, ApiError> {
    authenticate(&app, &credentials, Accept::Token(Some(DEPLOY_RUN))).await?;
    let body: DeployBody = body.parse()?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({ "app": body.app, "status": "started" })),
    )
        .into_response())
}
