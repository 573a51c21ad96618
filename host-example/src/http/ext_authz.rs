//! Envoy's external authorization (ext_authz) HTTP protocol: for Envoy
//! without the wasm filter, `tessera-host serve --ext-authz-config FILE`
//! answers `ANY /ext_authz/{original path}` (Envoy's `path_prefix`) with the
//! filter's own decisions.
//!
//! The configuration file is the filter's plugin configuration (the same
//! JSON, so the same rules, `unmatched`, `forward` headers, failure mode and
//! realm); its `deployment` must be this host's. The decisions are the
//! filter's code (`tessera_envoy::decide`, plain functions over data) with
//! records from this host's cache of verified records: the same codes, the
//! same bodies, the same `WWW-Authenticate`. Allowed: 200 with the identity
//! headers for `allowed_upstream_headers`, and the headers the upstream must
//! not see in `x-envoy-auth-headers-to-remove`. Refused: the filter's
//! status, JSON body and `WWW-Authenticate`.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tessera_core::{Standing, TokenRecord};
use tessera_envoy::config::Settings;
use tessera_envoy::decide::{self, Reply, Start};

use super::App;
use super::caller::Credentials;

/// The route prefix Envoy's `http_service.path_prefix` names.
pub const PREFIX: &str = "/ext_authz";

/// The response header that tells Envoy which request headers to remove
/// before the request goes upstream.
const HEADERS_TO_REMOVE: &str = "x-envoy-auth-headers-to-remove";

/// The filter's settings, read at start-up.
pub struct Gate {
    settings: Settings,
}

impl Gate {
    /// Reads the filter configuration at `path` and checks that its
    /// deployment is this host's (`deployment`, the host's configuration
    /// JSON): with another prefix, catalog or pepper every token would be
    /// refused, or worse, decided by other rules.
    pub fn load(path: &Path, deployment: &str) -> Result<Self> {
        let text =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let settings = Settings::from_json(&text).map_err(|e| anyhow::anyhow!("{e}"))?;
        let theirs: serde_json::Value =
            serde_json::from_slice(&text).context("the ext_authz configuration is not JSON")?;
        let ours: serde_json::Value =
            serde_json::from_str(deployment).context("the deployment is not JSON")?;
        if theirs.get("deployment") != Some(&ours) {
            bail!(
                "the deployment in {} differs from this host's (prefix, catalog, policy, pepper must be the same)",
                path.display()
            );
        }
        Ok(Self { settings })
    }
}

/// `ANY /ext_authz/{*path}`: one authorization check. The client's address
/// is what Envoy, a trusted proxy (`--trusted-proxy`), reports in
/// `X-Forwarded-For` (with `use_remote_address`, Envoy appends the
/// downstream address; `x-forwarded-for` must be among the ext_authz
/// filter's `allowed_headers`); from an untrusted peer, the peer's.
pub async fn check(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    credentials: Credentials,
) -> Response {
    let headers = &credentials.headers;
    let Some(gate) = &app.gate else {
        return (StatusCode::NOT_FOUND, "no such route").into_response();
    };
    let settings = &gate.settings;
    let original = uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .strip_prefix(PREFIX)
        .unwrap_or("/");
    // A value that is not text is a token presented malformed, as the
    // filter reads it (bytes that are not UTF-8 become U+FFFD).
    let authorization = || {
        headers
            .get(header::AUTHORIZATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()))
    };
    let mut lookup = match decide::start(settings, method.as_str(), original, authorization) {
        Start::Reply(reply) => return respond(&reply),
        Start::Lookup(lookup) => lookup,
    };
    // The host knows the client's address at no cost, so it is always set.
    lookup.ip = Some(credentials.client);
    let now = app.clock.now();
    let reply = match record(&app, lookup.hash.to_hex()).await {
        Ok(found) => {
            let record = found.as_ref().map(|(record, _)| record);
            let owner = found.as_ref().map_or(Standing::OWNER, |(_, owner)| *owner);
            let reply = decide::finish(settings, &lookup, record, owner, now);
            if let (Some(record), Reply::Deny(denied)) = (record, &reply)
                && super::caller::NOTED_REFUSALS.contains(&denied.reason)
            {
                app.note_refusal(record.id(), record.user_id(), denied.reason, lookup.ip);
            }
            if let (Some(record), Reply::Forward { .. }) = (record, &reply)
                && record.touch_due(now)
            {
                // A lost last-used write never refuses a request.
                let _ = app.plugin.records().touch(record.id(), now);
            }
            reply
        }
        Err(error) => {
            crate::log::warn(format_args!("ext_authz lookup failed: {error:#}"));
            decide::unavailable(settings)
        }
    };
    respond(&reply)
}

/// The record stored under `hash`, parsed, and its user's standing.
async fn record(app: &Arc<App>, hash: String) -> Result<Option<(TokenRecord, Standing)>> {
    app.record_by_hash(hash)
        .await?
        .map(|found| {
            let record = serde_json::from_str(&found.token.json)
                .context("RECORD_INVALID: a stored record")?;
            Ok((record, found.owner))
        })
        .transpose()
}

/// Envoy's form of a reply.
fn respond(reply: &Reply) -> Response {
    match reply {
        Reply::Forward { headers, .. } => {
            let mut response = StatusCode::OK.into_response();
            let mut removed = Vec::new();
            for (name, value) in headers {
                match (HeaderName::try_from(name.as_str()), value) {
                    (Ok(name), Some(value)) => {
                        if let Ok(value) = HeaderValue::from_str(value) {
                            response.headers_mut().insert(name, value);
                        }
                    }
                    (Ok(name), None) => removed.push(name.to_string()),
                    (Err(_), _) => {}
                }
            }
            if !removed.is_empty()
                && let Ok(value) = HeaderValue::from_str(&removed.join(","))
            {
                response.headers_mut().insert(HEADERS_TO_REMOVE, value);
            }
            response
        }
        Reply::Deny(denied) => {
            let status =
                StatusCode::from_u16(denied.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = (
                status,
                [(header::CONTENT_TYPE, "application/json")],
                denied.body(),
            )
                .into_response();
            if let Some(www) = denied
                .www_authenticate
                .as_deref()
                .and_then(|v| HeaderValue::from_str(v).ok())
            {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, www);
            }
            match &denied.token_id {
                Some(id) => crate::log::info(format_args!(
                    "ext_authz deny {} {} token={id}",
                    denied.status, denied.reason
                )),
                None => crate::log::info(format_args!(
                    "ext_authz deny {} {}",
                    denied.status, denied.reason
                )),
            }
            response
        }
    }
}
