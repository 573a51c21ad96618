//! `GET /api/introspect/{hash}`: the record stored under a token hash, for
//! gateways (the Envoy filter) that verify tokens themselves with the core.
//!
//! Callers present the shared service credential (`Authorization: Service
//! <secret>`). The answer carries the whole stored record, hash included,
//! since the gateway compares hashes itself, its user's standing (`owner`:
//! `admin`, `tokens` and `membersEnabled`, from which the gateway's core
//! refuses a disabled user's token), and how long it may cache the
//! answer (`cacheSeconds`, also as `Cache-Control: max-age`). The route does
//! not exist unless the host was started with a service credential.
//!
//! `GET /api/revocations` is the change feed those gateways poll, so that
//! they can cache answers for minutes and still refuse a revoked token
//! within their polling interval.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{ApiError, App};

/// The introspection settings of a running host.
pub struct Introspection {
    /// The shared service credential.
    pub secret: String,
    /// How long gateways may cache an answer.
    pub cache_seconds: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Found<'a> {
    record: &'a RawValue,
    owner: Owner,
    cache_seconds: u32,
}

/// The standing of a record's user, from which the gateway's core decides
/// whether the user's tokens may be used at all.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Owner {
    admin: bool,
    tokens: &'static str,
    members_enabled: bool,
}

impl From<tessera_core::Standing> for Owner {
    fn from(standing: tessera_core::Standing) -> Self {
        Self {
            admin: standing.admin,
            tokens: standing.tokens.as_str(),
            members_enabled: standing.members_enabled,
        }
    }
}

/// The introspection settings, once the caller presented the service
/// credential. Without one configured, these routes do not exist (404).
fn service<'a>(app: &'a App, headers: &HeaderMap) -> Result<&'a Introspection, ApiError> {
    let Some(settings) = &app.introspection else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            tessera_core::code::NOT_FOUND,
            "no such route",
        ));
    };
    let presented = super::caller::service_secret(headers).unwrap_or_default();
    if !crate::auth::same(presented.as_bytes(), settings.secret.as_bytes()) {
        return Err(ApiError::unauthenticated(
            "introspection without the service credential",
        ));
    }
    Ok(settings)
}

fn store_failed(error: &anyhow::Error) -> ApiError {
    crate::log::warn(format_args!("introspection lookup failed: {error:#}"));
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        tessera_core::code::STORE_FAILED,
        "the token store is unavailable",
    )
}

/// The most hashes one page of the change feed carries.
const FEED_PAGE: usize = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    after: Option<i64>,
}

/// `GET /api/revocations[?after=CURSOR]`: the change feed for gateways that
/// cache answers. `{ "cursor", "hashes", "reset", "more" }`: the hashes of
/// tokens changed or deleted (deactivated, rotated, renamed, deleted) after
/// `after`, oldest first; the next request passes `cursor`. With `reset`
/// the gateway forgets everything it cached (a first request, or a cursor
/// older than the feed keeps). Same credential as introspection.
pub async fn changes(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    query: Result<Query<FeedQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    service(&app, &headers)?;
    let Ok(Query(FeedQuery { after })) = query else {
        return Err(ApiError::bad_request(
            "after must be a cursor from an earlier answer",
        ));
    };
    if after.is_some_and(|after| after < 0) {
        return Err(ApiError::bad_request(
            "after must be a cursor from an earlier answer",
        ));
    }
    let page = app
        .blocking(move |app| app.db.changes(after, FEED_PAGE))
        .await
        .and_then(|page| page)
        .map_err(|e| store_failed(&e))?;
    Ok(axum::Json(serde_json::json!({
        "cursor": page.cursor,
        "hashes": page.hashes,
        "reset": page.reset,
        "more": page.more,
    }))
    .into_response())
}

/// The most uses one report may carry.
pub const MAX_USES: usize = 10_000;

/// The largest report body: [`MAX_USES`] uses of about 60 bytes each.
pub const USES_BODY_LIMIT: usize = 1 << 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Uses {
    uses: Vec<Use>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Use {
    id: String,
    at: i64,
}

/// `POST /api/last-used` with `{"uses": [{"id", "at"}]}`: uses of tokens a
/// gateway let through, noted like this host's own (written within about a
/// second, never to an earlier time than stored). A time ahead of this
/// host's clock counts as now. 204; same credential as introspection.
pub async fn last_used(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    service(&app, &headers)?;
    let Ok(Uses { uses }) = serde_json::from_slice::<Uses>(&body) else {
        return Err(ApiError::bad_request(
            "the body must be {\"uses\": [{\"id\", \"at\"}]}",
        ));
    };
    if uses.len() > MAX_USES {
        return Err(ApiError::bad_request("at most 10000 uses a report"));
    }
    let valid_id = |id: &str| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
    if uses.iter().any(|u| !valid_id(&u.id) || u.at <= 0) {
        return Err(ApiError::bad_request(
            "each use is a token id (32 hex digits) and a positive time",
        ));
    }
    let now = app.clock.now();
    let records = app.plugin.records();
    for Use { id, at } in uses {
        records
            .touch(&id.to_ascii_lowercase(), at.min(now))
            .map_err(|e| store_failed(&e))?;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/introspect/{hash}`.
pub async fn introspect(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(hash): Path<String>,
) -> Result<Response, ApiError> {
    let settings = service(&app, &headers)?;
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::bad_request("a token hash is 64 hex digits"));
    }
    let max_age = HeaderValue::from_str(&format!("max-age={}", settings.cache_seconds))
        .map_err(|e| ApiError::internal(&e.into()))?;
    let stored = app
        .record_by_hash(hash.to_ascii_lowercase())
        .await
        .map_err(|e| store_failed(&e))?;
    let mut response = match stored {
        Some(found) => {
            let record = RawValue::from_string(found.token.json)
                .map_err(|e| ApiError::internal(&e.into()))?;
            let body = Found {
                record: &record,
                owner: found.owner.into(),
                cache_seconds: settings.cache_seconds,
            };
            axum::Json(body).into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({
                "code": tessera_core::code::NOT_FOUND,
                "message": "no token has this hash",
                "cacheSeconds": settings.cache_seconds,
            })),
        )
            .into_response(),
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, max_age);
    Ok(response)
}
