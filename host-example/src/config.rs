//! The deployment configuration the host hands its plugin: a built-in
//! default, or a JSON file of the same shape (`--config FILE`).

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{Value, json};

/// The action that lets a token read its user's token list.
pub const TOKENS_READ: &str = "tokens.read";
/// The action that lets a token create (and rotate) tokens.
pub const TOKENS_CREATE: &str = "tokens.create";
/// The action that lets a token edit or delete its user's tokens.
pub const TOKENS_WRITE: &str = "tokens.write";
/// The sample API's actions.
pub const APPS_READ: &str = "apps.read";
/// Creating an app in the sample API.
pub const APPS_WRITE: &str = "apps.write";
/// Starting a deploy in the sample API.
pub const DEPLOY_RUN: &str = "deploy.run";

/// The built-in deployment: prefix `tsr`, the sample API's catalog, the
/// default policy (tokens may never expire, no limits).
pub fn default_config() -> Value {
    json!({
        "prefix": "tsr",
        "catalog": [
            { "action": APPS_READ, "kinds": ["read", "cli"] },
            { "action": APPS_WRITE, "kinds": [] },
            { "action": DEPLOY_RUN, "kinds": ["cli"] },
            { "action": TOKENS_READ, "kinds": ["read"] },
            { "action": TOKENS_CREATE, "kinds": [] },
            { "action": TOKENS_WRITE, "kinds": [] }
        ],
        "policy": {}
    })
}

/// The configuration JSON: from `path` if given, else the default. The
/// plugin checks it at start-up.
pub fn load(path: Option<&Path>) -> Result<String> {
    let value = match path {
        None => default_config(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not valid JSON", path.display()))?
        }
    };
    Ok(value.to_string())
}

/// The action catalog of a configuration, as JSON (`[{ "action", "kinds" }]`),
/// for clients that offer its actions (the token page's custom scopes).
/// The deployment's token policy as `GET /api/policy` shows it, every limit
/// named (`null`: none), so clients can say what the limits are before they
/// are reached.
pub fn policy(config: &str) -> Result<String> {
    let value: Value = serde_json::from_str(config).context("the configuration is not JSON")?;
    let policy = value.get("policy").cloned().unwrap_or(Value::Null);
    let member = |name: &str| policy.get(name).cloned().unwrap_or(Value::Null);
    let allow_non_expiring = policy
        .get("allowNonExpiring")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    Ok(serde_json::json!({
        "allowNonExpiring": allow_non_expiring,
        "maxLifetimeDays": member("maxLifetimeDays"),
        "maxTokensPerUser": member("maxTokensPerUser"),
    })
    .to_string())
}

/// The deployment's action catalog as JSON.
pub fn catalog(config: &str) -> Result<String> {
    let value: Value = serde_json::from_str(config).context("the configuration is not JSON")?;
    Ok(value
        .get("catalog")
        .cloned()
        .unwrap_or(Value::Array(Vec::new()))
        .to_string())
}
