//! The plugin configuration: read once, checked whole, then immutable.
//!
//! ```json
//! { "deployment": { "prefix": "tsr", "catalog": [ .. ], "policy": {} },
//!   "tokenService": { "cluster": "tessera", "path": "/api/introspect/",
//!                     "timeoutMs": 1000, "credential": "at least 16 characters" },
//!   "cache": { "positiveSeconds": 30, "negativeSeconds": 5 },
//!   "rules": [ { "prefix": "/api/apps", "methods": ["GET"], "action": "apps.read" } ],
//!   "forward": { "userIdHeader": "x-tessera-user-id", "tokenIdHeader": "x-tessera-token-id",
//!                "stripAuthorization": true },
//!   "failureMode": "closed" }
//! ```
//!
//! [`Settings::from_json`] either returns settings that are valid as a
//! whole or an error naming the first problem; nothing is applied in part.
//! Errors never repeat the credential or the pepper.

use core::fmt;

use serde::Deserialize;
use tessera_core::{Deployment, DeploymentConfig};

use crate::feed::FeedSettings;
use crate::rules::{Need, Rule, RuleConfig};
use crate::uses::UsesSettings;

/// The configuration as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FilterConfig {
    /// The deployment, exactly as the token service has it (prefix,
    /// catalog, policy, pepper).
    pub deployment: DeploymentConfig,
    /// Where records are looked up.
    pub token_service: TokenServiceConfig,
    /// How long answers are cached.
    #[serde(default)]
    pub cache: CacheConfig,
    /// Path and method rules, first match wins.
    pub rules: Vec<RuleConfig>,
    /// What to do with a request no rule matches.
    #[serde(default)]
    pub unmatched: Unmatched,
    /// Headers set on allowed requests.
    #[serde(default)]
    pub forward: ForwardConfig,
    /// What to do when the token service cannot answer.
    #[serde(default)]
    pub failure_mode: FailureMode,
    /// The realm named in `WWW-Authenticate`.
    #[serde(default = "default_realm")]
    pub realm: String,
}

/// The token service's introspection endpoint.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenServiceConfig {
    /// The Envoy cluster of the token service.
    pub cluster: String,
    /// The `:authority` of callouts; the cluster name when absent.
    #[serde(default)]
    pub authority: Option<String>,
    /// The path the hash is appended to.
    #[serde(default = "default_path")]
    pub path: String,
    /// How long a callout may take, in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// The shared service credential (`Authorization: Service <credential>`).
    pub credential: String,
    /// The token service's revocation feed.
    #[serde(default = "default_feed_path")]
    pub feed_path: String,
    /// How often each worker polls the feed, in milliseconds; 0 turns the
    /// feed off (cached answers then live their full lifetime).
    #[serde(default = "default_feed_interval_ms")]
    pub feed_interval_ms: u64,
    /// Where last uses are reported.
    #[serde(default = "default_last_used_path")]
    pub last_used_path: String,
    /// The least time between two reports of last uses, in milliseconds;
    /// 0 turns reporting off.
    #[serde(default = "default_last_used_interval_ms")]
    pub last_used_interval_ms: u64,
}

impl fmt::Debug for TokenServiceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenServiceConfig")
            .field("cluster", &self.cluster)
            .field("authority", &self.authority)
            .field("path", &self.path)
            .field("timeout_ms", &self.timeout_ms)
            .field("credential", &"<redacted>")
            .field("feed_path", &self.feed_path)
            .field("feed_interval_ms", &self.feed_interval_ms)
            .field("last_used_path", &self.last_used_path)
            .field("last_used_interval_ms", &self.last_used_interval_ms)
            .finish()
    }
}

/// Cache lifetimes and sizes.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct CacheConfig {
    /// The longest a found record is reused (the token service's
    /// `cacheSeconds` may shorten it).
    pub positive_seconds: u32,
    /// The longest a "no such token" answer is reused.
    pub negative_seconds: u32,
    /// Shared-data slots across workers (a direct-mapped cache; bounded).
    pub slots: u32,
    /// Records each worker keeps decoded.
    pub local_entries: u32,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            positive_seconds: 30,
            negative_seconds: 5,
            slots: 4096,
            local_entries: 4096,
        }
    }
}

/// Requests that no rule matches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unmatched {
    /// Refused with 403 `FORBIDDEN`, token or not.
    #[default]
    Deny,
    /// Allowed with any valid token, whatever its scope.
    Authenticate,
}

/// Headers set on allowed requests.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ForwardConfig {
    /// Carries the token owner's user id; `null` for none.
    pub user_id_header: Option<String>,
    /// Carries the token's public id; `null` for none.
    pub token_id_header: Option<String>,
    /// Removes `Authorization` before the request goes upstream.
    pub strip_authorization: bool,
}

impl Default for ForwardConfig {
    fn default() -> Self {
        Self {
            user_id_header: Some("x-tessera-user-id".into()),
            token_id_header: Some("x-tessera-token-id".into()),
            strip_authorization: true,
        }
    }
}

/// When the token service cannot answer (unreachable, timeout, 5xx).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureMode {
    /// Answer 503 `STORE_FAILED`.
    #[default]
    Closed,
    /// Let the request through without identity headers.
    Open,
}

fn default_realm() -> String {
    "tessera".into()
}

fn default_path() -> String {
    "/api/introspect/".into()
}

fn default_timeout_ms() -> u64 {
    1000
}

fn default_feed_path() -> String {
    "/api/revocations".into()
}

fn default_feed_interval_ms() -> u64 {
    250
}

fn default_last_used_path() -> String {
    "/api/last-used".into()
}

fn default_last_used_interval_ms() -> u64 {
    1000
}

/// A configuration that was refused, with the reason in a sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid tessera filter configuration: {}", self.0)
    }
}

impl core::error::Error for ConfigError {}

fn fail<T>(reason: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(reason.into()))
}

/// The checked configuration the filter runs with. Its `Debug` output
/// leaves out the credential (and the deployment prints no pepper).
pub struct Settings {
    /// The deployment built from the configuration.
    pub deployment: Deployment,
    /// The token service's cluster.
    pub cluster: String,
    /// The `:authority` of callouts.
    pub authority: String,
    /// The introspection path prefix (the hash is appended).
    pub path: String,
    /// The callout timeout in milliseconds.
    pub timeout_ms: u64,
    /// `Service <credential>`, ready to send.
    pub service_authorization: String,
    /// Cache settings.
    pub cache: CacheConfig,
    /// The rules, in order.
    pub rules: Vec<Rule>,
    /// What unmatched requests get.
    pub unmatched: Unmatched,
    /// Headers for allowed requests.
    pub forward: ForwardConfig,
    /// Behaviour when the token service cannot answer.
    pub failure_mode: FailureMode,
    /// `WWW-Authenticate` realm.
    pub realm: String,
    /// The revocation feed, unless turned off.
    pub feed: Option<FeedSettings>,
    /// Last-use reports, unless turned off.
    pub uses: Option<UsesSettings>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("deployment", &self.deployment)
            .field("cluster", &self.cluster)
            .field("path", &self.path)
            .field("rules", &self.rules.len())
            .field("failure_mode", &self.failure_mode)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Parses and checks the plugin configuration.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ConfigError> {
        let config: FilterConfig = crate::json::from_slice(bytes).or_else(|e| {
            // Only messages that name fields or variants are repeated; for
            // anything else, the position.
            if e.names_only() {
                fail(e.to_string())
            } else {
                let (line, column) = e.position();
                fail(format!(
                    "not the expected JSON at line {line} column {column}"
                ))
            }
        })?;
        Self::new(config)
    }

    /// Checks a parsed configuration.
    pub fn new(config: FilterConfig) -> Result<Self, ConfigError> {
        let deployment = config
            .deployment
            .build()
            .or_else(|e| fail(format!("deployment: {} ({e})", e.code())))?;
        let service = &config.token_service;
        if service.cluster.is_empty() {
            return fail("tokenService.cluster must not be empty");
        }
        let authority = service
            .authority
            .clone()
            .unwrap_or_else(|| service.cluster.clone());
        if !is_header_value(&authority) || authority.is_empty() {
            return fail("tokenService.authority must be printable ASCII");
        }
        if !service.path.starts_with('/') || !is_header_value(&service.path) {
            return fail("tokenService.path must start with '/' and be printable ASCII");
        }
        if !(1..=60_000).contains(&service.timeout_ms) {
            return fail("tokenService.timeoutMs must be 1 to 60000");
        }
        if service.credential.len() < 16
            || !is_header_value(&service.credential)
            || service.credential.contains(' ')
        {
            return fail(
                "tokenService.credential must be at least 16 printable ASCII characters without spaces",
            );
        }
        if !service.feed_path.starts_with('/') || !is_header_value(&service.feed_path) {
            return fail("tokenService.feedPath must start with '/' and be printable ASCII");
        }
        if service.feed_interval_ms != 0 && !(50..=60_000).contains(&service.feed_interval_ms) {
            return fail("tokenService.feedIntervalMs must be 0 (off) or 50 to 60000");
        }
        let feed = (service.feed_interval_ms > 0).then(|| FeedSettings {
            path: service.feed_path.clone(),
            interval_ms: service.feed_interval_ms,
        });
        if !service.last_used_path.starts_with('/') || !is_header_value(&service.last_used_path) {
            return fail("tokenService.lastUsedPath must start with '/' and be printable ASCII");
        }
        if service.last_used_interval_ms != 0
            && !(100..=600_000).contains(&service.last_used_interval_ms)
        {
            return fail("tokenService.lastUsedIntervalMs must be 0 (off) or 100 to 600000");
        }
        let uses = (service.last_used_interval_ms > 0).then(|| UsesSettings {
            path: service.last_used_path.clone(),
            interval_ms: service.last_used_interval_ms,
        });
        let cache = config.cache;
        if cache.positive_seconds > 86_400 || cache.negative_seconds > 86_400 {
            return fail("cache lifetimes must be at most 86400 seconds");
        }
        if !(1..=65_536).contains(&cache.slots) {
            return fail("cache.slots must be 1 to 65536");
        }
        if !(1..=1_000_000).contains(&cache.local_entries) {
            return fail("cache.localEntries must be 1 to 1000000");
        }
        if config.rules.is_empty() {
            return fail("rules must list at least one rule");
        }
        let mut rules = Vec::with_capacity(config.rules.len());
        for (index, rule) in config.rules.iter().enumerate() {
            rules.push(
                Rule::new(rule, deployment.catalog())
                    .or_else(|e| fail(format!("rules[{index}]: {e}")))?,
            );
        }
        let forward = config.forward;
        for name in [&forward.user_id_header, &forward.token_id_header]
            .into_iter()
            .flatten()
        {
            if !is_header_name(name) {
                return fail(format!(
                    "forward header {name:?} must be a lower-case header name"
                ));
            }
            if ["authorization", "host", "cookie"].contains(&name.as_str()) {
                return fail(format!("forward header {name:?} is reserved"));
            }
        }
        if forward.user_id_header.is_some() && forward.user_id_header == forward.token_id_header {
            return fail("forward.userIdHeader and forward.tokenIdHeader must differ");
        }
        if config.realm.is_empty() || !is_header_value(&config.realm) || config.realm.contains('"')
        {
            return fail("realm must be printable ASCII without quotes");
        }
        Ok(Self {
            deployment,
            cluster: service.cluster.clone(),
            authority,
            path: service.path.clone(),
            timeout_ms: service.timeout_ms,
            service_authorization: format!("Service {}", service.credential),
            cache,
            rules,
            unmatched: config.unmatched,
            forward,
            failure_mode: config.failure_mode,
            realm: config.realm,
            feed,
            uses,
        })
    }

    /// What a request for `path` (without query) with `method` needs:
    /// `None` when no rule matches.
    pub fn route(&self, method: &str, path: &str) -> Option<Need> {
        self.rules
            .iter()
            .find_map(|rule| rule.matches(method, path))
    }
}

fn is_header_value(text: &str) -> bool {
    text.bytes().all(|b| (0x20..0x7f).contains(&b))
}

fn is_header_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// A valid configuration for tests, as JSON.
    pub(crate) fn sample() -> Value {
        json!({
            "deployment": {
                "prefix": "tsr",
                "catalog": [
                    { "action": "apps.read", "kinds": ["read"] },
                    { "action": "apps.write", "kinds": [] }
                ]
            },
            "tokenService": { "cluster": "tessera", "credential": "0123456789abcdef" },
            "rules": [
                { "prefix": "/healthz", "public": true },
                { "prefix": "/api/apps", "methods": ["GET", "HEAD"], "action": "apps.read" },
                { "prefix": "/api/apps", "methods": ["POST"], "action": "apps.write" }
            ]
        })
    }

    fn settings(value: &Value) -> Result<Settings, ConfigError> {
        Settings::from_json(value.to_string().as_bytes())
    }

    #[test]
    fn defaults_fill_the_optional_parts() {
        let s = settings(&sample()).unwrap();
        assert_eq!(s.authority, "tessera");
        assert_eq!(s.path, "/api/introspect/");
        assert_eq!(s.timeout_ms, 1000);
        assert_eq!(s.failure_mode, FailureMode::Closed);
        assert_eq!(s.unmatched, Unmatched::Deny);
        assert!(s.forward.strip_authorization);
        assert_eq!(
            s.forward.user_id_header.as_deref(),
            Some("x-tessera-user-id")
        );
        assert_eq!(s.cache.positive_seconds, 30);
        assert_eq!(s.service_authorization, "Service 0123456789abcdef");
        assert_eq!(s.route("GET", "/healthz"), Some(Need::Nothing));
        assert_eq!(s.route("DELETE", "/api/apps"), None);
    }

    #[test]
    fn null_forward_headers_mean_none() {
        let mut v = sample();
        v["forward"] = json!({ "userIdHeader": null, "tokenIdHeader": null });
        let s = settings(&v).unwrap();
        assert_eq!(s.forward.user_id_header, None);
        assert!(s.forward.strip_authorization);
    }

    #[test]
    fn bad_configurations_are_refused_with_a_reason() {
        type Change = fn(&mut Value);
        let cases: Vec<(Change, &str)> = vec![
            (
                |v| v["deployment"]["prefix"] = json!("TSR"),
                "PREFIX_INVALID",
            ),
            (
                |v| v["deployment"]["pepper"] = json!("abcd"),
                "PEPPER_INVALID",
            ),
            (
                |v| v["deployment"]["catalog"] = json!([{ "action": "" }]),
                "CATALOG_INVALID",
            ),
            (|v| v["tokenService"]["cluster"] = json!(""), "cluster"),
            (
                |v| v["tokenService"]["credential"] = json!("short"),
                "credential",
            ),
            (
                |v| v["tokenService"]["credential"] = json!("0123456789abcdef\n"),
                "credential",
            ),
            (|v| v["tokenService"]["path"] = json!("api"), "path"),
            (|v| v["tokenService"]["timeoutMs"] = json!(0), "timeoutMs"),
            (
                |v| {
                    v["tokenService"]
                        .as_object_mut()
                        .unwrap()
                        .remove("credential")
                        .map(drop)
                        .unwrap()
                },
                "missing field `credential`",
            ),
            (|v| v["cache"] = json!({ "slots": 0 }), "slots"),
            (
                |v| v["cache"] = json!({ "positiveSeconds": 100000 }),
                "86400",
            ),
            (
                |v| v["cache"] = json!({ "localEntries": 0 }),
                "localEntries",
            ),
            (|v| v["rules"] = json!([]), "at least one rule"),
            (
                |v| v["rules"][1]["action"] = json!("nope.nope"),
                "rules[1]: action",
            ),
            (
                |v| v["forward"] = json!({ "userIdHeader": "X-User" }),
                "lower-case",
            ),
            (
                |v| v["forward"] = json!({ "userIdHeader": "authorization" }),
                "reserved",
            ),
            (
                |v| v["forward"] = json!({ "userIdHeader": "x-a", "tokenIdHeader": "x-a" }),
                "differ",
            ),
            (|v| v["failureMode"] = json!("sideways"), "unknown variant"),
            (|v| v["realm"] = json!("a\"b"), "realm"),
            (|v| v["extra"] = json!(1), "unknown field `extra`"),
        ];
        for (change, words) in cases {
            let mut v = sample();
            change(&mut v);
            let error = settings(&v).unwrap_err().to_string();
            assert!(error.contains(words), "{words}: {error}");
        }
    }

    #[test]
    fn errors_never_repeat_the_credential() {
        let mut v = sample();
        v["tokenService"]["credential"] = json!(12345678901234567u64);
        let error = settings(&v).unwrap_err().to_string();
        assert!(!error.contains("12345678901234567"), "{error}");
        assert!(Settings::from_json(b"{").is_err());
        assert!(Settings::from_json(b"").is_err());
    }

    #[test]
    fn debug_output_hides_the_credential() {
        let s = settings(&sample()).unwrap();
        assert!(!format!("{s:?}").contains("0123456789abcdef"));
        let config: FilterConfig = serde_json::from_value(sample()).unwrap();
        assert!(!format!("{:?}", config.token_service).contains("0123456789abcdef"));
        let mut peppered = sample();
        peppered["deployment"]["pepper"] = json!("00112233445566778899aabbccddeeff");
        let config: FilterConfig = serde_json::from_value(peppered).unwrap();
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("00112233445566778899aabbccddeeff"),
            "{shown}"
        );
        assert!(!shown.contains("0123456789abcdef"), "{shown}");
    }
}
