//! `/api/webhooks`: subscriptions to webhooks about tokens. A user follows
//! their own tokens; an administrator may follow every user's
//! (`deploymentWide`). Managed by password or session, never by a token:
//! a token that leaked must not be able to redirect its own warnings.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::body::JsonBody;
use super::caller::{Accept, Caller, Credentials, Via, authenticate};
use super::{ApiError, App};
use crate::db::Webhook;
use crate::webhooks::{deliver, events, sign};

/// The most subscriptions one user may hold (and the most deployment-wide
/// ones).
pub const MAX_PER_USER: usize = 10;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateBody {
    url: String,
    #[serde(default)]
    events: Option<Vec<String>>,
    #[serde(default)]
    deployment_wide: bool,
}

fn is_admin(caller: &Caller) -> bool {
    matches!(caller.via, Via::Password { admin: true, .. })
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        tessera_core::code::BAD_REQUEST,
        message,
    )
}

fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        tessera_core::code::NOT_FOUND,
        "no such webhook",
    )
}

/// What lists show of a subscription: never its secret.
fn shown(hook: &Webhook) -> Value {
    json!({
        "id": hook.id,
        "owner": hook.owner,
        "url": hook.url,
        "events": hook.events.split(',').collect::<Vec<_>>(),
        "createdAt": hook.created_at,
        "delivered": hook.delivered,
        "attempts": hook.attempts,
        "nextAttemptAt": (hook.attempts > 0).then_some(hook.next_attempt_at),
        "lastError": hook.last_error,
    })
}

/// `POST /api/webhooks` with `{url, events?, deploymentWide?}`: 201 with
/// the subscription and its signing secret, shown this once.
pub async fn create(
    State(app): State<Arc<App>>,
    credentials: Credentials,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let caller = authenticate(&app, &credentials, Accept::Password).await?;
    let body: CreateBody = body.parse()?;
    if body.deployment_wide && !is_admin(&caller) {
        return Err(ApiError::forbidden(
            "only administrators may follow every user's tokens",
        ));
    }
    deliver::check_url(&body.url, app.webhooks.private_networks).map_err(invalid)?;
    let events = match body.events {
        None => events::TYPES.iter().map(|t| t.to_string()).collect(),
        Some(list) if list.is_empty() => return Err(invalid("name at least one event type")),
        Some(list) => {
            if let Some(unknown) = list.iter().find(|t| !events::TYPES.contains(&t.as_str())) {
                return Err(invalid(format!(
                    "unknown event type {unknown:?}; the types are {}",
                    events::TYPES.join(", ")
                )));
            }
            let mut list = list;
            list.sort();
            list.dedup();
            list
        }
    };
    let owner = (!body.deployment_wide).then(|| caller.user.clone());
    let held = match &owner {
        Some(user) => app.db.webhooks(Some(user))?.len(),
        None => app
            .db
            .webhooks(None)?
            .iter()
            .filter(|h| h.owner.is_none())
            .count(),
    };
    if held >= MAX_PER_USER {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            tessera_core::code::LIMIT_REACHED,
            format!("a user may hold at most {MAX_PER_USER} webhooks"),
        ));
    }
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|e| ApiError::internal(&anyhow::anyhow!("{e}")))?;
    let hook = Webhook {
        id: id.iter().map(|b| format!("{b:02x}")).collect(),
        owner,
        url: body.url,
        secret: sign::new_secret().map_err(|e| ApiError::internal(&e))?,
        events: events.join(","),
        created_at: app.clock.now(),
        cursor: 0,
        attempts: 0,
        next_attempt_at: 0,
        last_error: None,
        delivered: 0,
    };
    let stored = app.db.webhook_create(&hook)?;
    let mut answer = shown(&stored);
    answer["secret"] = json!(stored.secret);
    Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
}

/// `GET /api/webhooks`: the caller's subscriptions; an administrator's
/// list also holds the deployment-wide ones and everyone's.
pub async fn list(
    State(app): State<Arc<App>>,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    let caller = authenticate(&app, &credentials, Accept::Password).await?;
    let owner = (!is_admin(&caller)).then_some(caller.user.as_str());
    let hooks: Vec<Value> = app.db.webhooks(owner)?.iter().map(shown).collect();
    Ok(axum::Json(hooks).into_response())
}

/// `DELETE /api/webhooks/{id}`: 204; another user's is 404 (an
/// administrator may delete any).
pub async fn delete(
    State(app): State<Arc<App>>,
    credentials: Credentials,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&app, &credentials, Accept::Password).await?;
    let hook = app.db.webhook(&id)?.ok_or_else(not_found)?;
    if !is_admin(&caller) && hook.owner.as_deref() != Some(caller.user.as_str()) {
        return Err(not_found());
    }
    if !app.db.webhook_delete(&id)? {
        return Err(not_found());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
