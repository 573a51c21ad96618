//! GitHub secret scanning: `POST /api/github/secret-scanning`.
//!
//! GitHub sends a JSON list of strings it found in public code (`[{ "token",
//! "type", "url", "source" }]`), signed with ECDSA P-256 over the raw body
//! (`Github-Public-Key-Signature`, base64 of the DER signature) by the key
//! `Github-Public-Key-Identifier` names. With `--github-keys FILE` (GitHub's
//! own `{"public_keys": [{"key_identifier", "key"}]}` document, fetched where
//! a network exists), this host checks the signature first, then each
//! string's shape and checksum, and has every real token deactivate itself
//! (a token may always deactivate itself; nothing is deleted: the owner
//! decides). The answer is GitHub's format: `[{ "token_hash", "token_type",
//! "label" }]`, `true_positive` for a real token of this deployment.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{DerSignature, Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use serde::{Deserialize, Serialize};
use tessera_core::Presented;

use super::body::JsonBody;
use super::caller::Credentials;
use super::tokens::one_at_a_time;
use super::{ApiError, App};
use crate::db::{ActorKind, Origin};
use crate::log;
use crate::plugin::{Actor, Edit, Status};

/// The most entries one alert may carry.
const MAX_ENTRIES: usize = 10_000;

/// The largest alert body accepted.
pub const BODY_LIMIT: usize = 4 * 1024 * 1024;

/// GitHub's public keys for secret scanning, by identifier.
pub struct GithubKeys(HashMap<String, VerifyingKey>);

#[derive(Deserialize)]
struct KeysDocument {
    public_keys: Vec<KeyEntry>,
}

#[derive(Deserialize)]
struct KeyEntry {
    key_identifier: String,
    key: String,
}

/// Where GitHub publishes its secret scanning keys.
pub const KEYS_URL: &str = "https://api.github.com/meta/public_keys/secret_scanning";

impl GithubKeys {
    /// Reads GitHub's key document (`GET /meta/public_keys/secret_scanning`).
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    /// Reads the key document's text.
    pub fn parse(text: &str) -> Result<Self> {
        let document: KeysDocument =
            serde_json::from_str(text).context("not GitHub's public key document")?;
        let mut keys = HashMap::new();
        for entry in document.public_keys {
            let key = VerifyingKey::from_public_key_pem(&entry.key).map_err(|e| {
                anyhow::anyhow!(
                    "key {:?} is not a P-256 public key: {e}",
                    entry.key_identifier
                )
            })?;
            keys.insert(entry.key_identifier, key);
        }
        if keys.is_empty() {
            bail!("the document holds no public keys");
        }
        Ok(Self(keys))
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none (never, once loaded).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `signature` (base64 of a DER ECDSA signature) by the key
    /// `identifier` covers `body`.
    fn verifies(&self, identifier: &str, signature: &str, body: &[u8]) -> bool {
        let Some(key) = self.0.get(identifier) else {
            return false;
        };
        let Ok(der) = STANDARD.decode(signature.trim()) else {
            return false;
        };
        let Ok(der) = DerSignature::from_bytes(&der) else {
            return false;
        };
        let Ok(signature) = Signature::try_from(der) else {
            return false;
        };
        // Either form of s is the same signature; accept both.
        let signature = signature.normalize_s().unwrap_or(signature);
        key.verify(body, &signature).is_ok()
    }
}

#[derive(Deserialize)]
struct Reported {
    token: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    url: String,
}

#[derive(Serialize)]
struct Verdict<'a> {
    token_hash: String,
    token_type: &'a str,
    label: &'static str,
}

/// `POST /api/github/secret-scanning`.
pub async fn alert(
    State(app): State<Arc<App>>,
    credentials: Credentials,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let headers = &credentials.headers;
    let Some(keys) = &app.github else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            tessera_core::code::NOT_FOUND,
            "secret scanning alerts are not configured here (--github-keys)",
        ));
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let identifier = header("github-public-key-identifier");
    if !keys.verifies(identifier, header("github-public-key-signature"), &body.0) {
        return Err(ApiError::unauthenticated(&format!(
            "a secret scanning alert without a valid signature (key {:?})",
            identifier.chars().take(80).collect::<String>()
        )));
    }
    let reported: Vec<Reported> = serde_json::from_slice(&body.0)
        .map_err(|e| ApiError::bad_request(format!("the alert is not a list of findings: {e}")))?;
    if reported.len() > MAX_ENTRIES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            tessera_core::code::PAYLOAD_TOO_LARGE,
            format!("an alert may carry at most {MAX_ENTRIES} findings"),
        ));
    }
    let mut labels: HashMap<&str, &'static str> = HashMap::new();
    for entry in &reported {
        if labels.contains_key(entry.token.as_str()) {
            continue;
        }
        let label = judge(&app, &entry.token, &entry.url, credentials.client)?;
        labels.insert(entry.token.as_str(), label);
    }
    let verdicts: Vec<Verdict<'_>> = reported
        .iter()
        .map(|entry| Verdict {
            // GitHub's `token_hash` is the plain SHA-256 of the token (never
            // peppered): the core's token hash without a pepper.
            token_hash: tessera_core::hash(&entry.token, None).to_hex(),
            token_type: &entry.kind,
            label: labels[entry.token.as_str()],
        })
        .collect();
    Ok((StatusCode::OK, axum::Json(verdicts)).into_response())
}

/// `true_positive` for a real token of this deployment (deactivated now if
/// it was active), else `false_positive`. Only a string with a token's
/// shape and checksum reaches the store.
fn judge(app: &App, token: &str, url: &str, client: IpAddr) -> Result<&'static str, ApiError> {
    let Ok(presented) = Presented::parse_any(token) else {
        return Ok("false_positive");
    };
    if presented.expose() != token {
        // Only a bare token is a finding; "Bearer …" is not what leaked.
        return Ok("false_positive");
    }
    let id = presented.id();
    // The token deactivates itself; GitHub's address is not the token's
    // client, so no allowed IP range applies to it.
    let actor = Actor::token(token, None);
    let edit = Edit {
        name: None,
        description: None,
        status: Some(Status::Inactive),
    };
    let url: String = url.chars().take(200).collect();
    let origin = Origin {
        kind: ActorKind::Scanner,
        user: None,
        token_id: None,
        address: Some(client),
        at: app.clock.now(),
        cascade_of: None,
        detail: Some(serde_json::json!({ "leakedAt": url })),
    };
    let mut updated = one_at_a_time(app, || {
        app.plugin
            .update(&origin, &actor, &id, &edit, false, app.clock.now())
    })?;
    // A token whose user's tokens are disabled cannot act, even on itself,
    // nor can a token with allowed IP ranges from here; it is deactivated
    // for its user, as an administrator would, so that enabling the user
    // again does not bring a leaked token back.
    if let Err(error) = &updated
        && [
            tessera_core::code::TOKENS_DISABLED,
            tessera_core::code::IP_DENIED,
        ]
        .contains(&error.code.as_str())
        && let Some(stored) = app.db.token_by_id(&id)?
    {
        let owner = Actor::user(&stored.user_id, crate::settings::OPERATOR);
        updated = one_at_a_time(app, || {
            app.plugin
                .update(&origin, &owner, &id, &edit, false, app.clock.now())
        })?;
    }
    match updated {
        Ok(_) => {
            log::warn(format_args!(
                "secret scanning: token {id} leaked at {url:?}; deactivated"
            ));
            Ok("true_positive")
        }
        // A string that passes the checksum but is not a token here.
        Err(error)
            if error.code == tessera_core::code::TOKEN_UNKNOWN
                || error.code == tessera_core::code::TOKEN_PREFIX =>
        {
            Ok("false_positive")
        }
        // A real token that is already refused (inactive, expired) or
        // cannot be changed now: still a real leak.
        Err(error) => {
            log::warn(format_args!(
                "secret scanning: token {id} leaked at {url:?}; not changed ({})",
                error.code
            ));
            Ok("true_positive")
        }
    }
}
