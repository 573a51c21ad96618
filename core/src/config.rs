//! The deployment configuration as JSON, shared by every adapter.
//!
//! ```json
//! { "prefix": "tsr",
//!   "catalog": [{ "action": "apps.read", "kinds": ["read"] }],
//!   "policy": { "allowNonExpiring": true, "maxLifetimeDays": 366 },
//!   "pepper": "hex, at least 32 digits (optional)",
//!   "creationAction": "tokens.create",
//!   "readAction": "tokens.read", "writeAction": "tokens.write" }
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, CatalogEntry, CatalogError};
use crate::code;
use crate::deployment::{
    DEFAULT_CREATION_ACTION, DEFAULT_READ_ACTION, DEFAULT_WRITE_ACTION, Deployment,
};
use crate::expiry::Policy;
use crate::hash::Pepper;
use crate::prefix::Prefix;

/// A deployment as configuration data. Its `Debug` output shows whether a
/// pepper is set, never the pepper.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeploymentConfig {
    /// The token prefix.
    pub prefix: String,
    /// The action catalog.
    pub catalog: Vec<CatalogEntry>,
    /// The policy; every field is optional.
    #[serde(default)]
    pub policy: Policy,
    /// A server-side pepper in hex (at least 16 bytes), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pepper: Option<String>,
    /// The token-creation action; `tokens.create` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_action: Option<String>,
    /// The action that lets a token see the user's tokens; `tokens.read`
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_action: Option<String>,
    /// The action that lets a token edit and delete the user's tokens;
    /// `tokens.write` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_action: Option<String>,
}

impl fmt::Debug for DeploymentConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeploymentConfig")
            .field("prefix", &self.prefix)
            .field("catalog", &self.catalog)
            .field("policy", &self.policy)
            .field("pepper", &self.pepper.as_ref().map(|_| "<redacted>"))
            .field("creation_action", &self.creation_action)
            .field("read_action", &self.read_action)
            .field("write_action", &self.write_action)
            .finish()
    }
}

impl DeploymentConfig {
    /// Checks the configuration and builds the deployment.
    pub fn build(&self) -> Result<Deployment, ConfigError> {
        let prefix = Prefix::new(&self.prefix).map_err(|_| ConfigError::Prefix)?;
        let catalog = Catalog::new(self.catalog.iter().cloned()).map_err(ConfigError::Catalog)?;
        self.policy.check().map_err(|_| ConfigError::Policy)?;
        let mut deployment = Deployment::new(prefix, catalog).with_policy(self.policy);
        if let Some(hex) = &self.pepper {
            let key = zeroize::Zeroizing::new(crate::hex::decode(hex).ok_or(ConfigError::Pepper)?);
            deployment =
                deployment.with_pepper(Pepper::new(&key).map_err(|_| ConfigError::Pepper)?);
        }
        let action = self
            .creation_action
            .as_deref()
            .unwrap_or(DEFAULT_CREATION_ACTION);
        Ok(deployment
            .with_creation_action(action)
            .with_management_actions(
                self.read_action.as_deref().unwrap_or(DEFAULT_READ_ACTION),
                self.write_action.as_deref().unwrap_or(DEFAULT_WRITE_ACTION),
            ))
    }
}

/// Why a configuration was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The prefix is not 1 to 16 characters of `[a-z0-9]`.
    Prefix,
    /// The catalog is malformed.
    Catalog(CatalogError),
    /// The pepper is not hex, or shorter than 16 bytes.
    Pepper,
    /// A policy limit is below 1.
    Policy,
}

impl ConfigError {
    /// The stable code: `PREFIX_INVALID`, `CATALOG_INVALID` or
    /// `PEPPER_INVALID`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Prefix => code::PREFIX_INVALID,
            Self::Catalog(_) => code::CATALOG_INVALID,
            Self::Pepper => code::PEPPER_INVALID,
            Self::Policy => code::POLICY_INVALID,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Prefix => f.write_str("a token prefix must be 1 to 16 characters of [a-z0-9]"),
            Self::Catalog(error) => write!(f, "{error}"),
            Self::Pepper => f.write_str("a pepper must be at least 16 bytes, written in hex"),
            Self::Policy => f.write_str(code::message(code::POLICY_INVALID)),
        }
    }
}

impl core::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> Result<Deployment, ConfigError> {
        serde_json::from_str::<DeploymentConfig>(json)
            .unwrap()
            .build()
    }

    #[test]
    fn debug_never_shows_the_pepper() {
        let pepper = "00112233445566778899aabbccddeeff";
        let config: DeploymentConfig = serde_json::from_str(&alloc::format!(
            r#"{{"prefix":"tsr","catalog":[],"pepper":"{pepper}"}}"#
        ))
        .unwrap();
        let shown = alloc::format!("{config:?}");
        assert!(!shown.contains(pepper), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn builds_and_refuses_with_codes() {
        let ok =
            config(r#"{"prefix":"tsr","catalog":[{"action":"a.b","kinds":["read"]}]}"#).unwrap();
        assert_eq!(ok.creation_action(), "tokens.create");
        let codes = [
            (r#"{"prefix":"TSR","catalog":[]}"#, "PREFIX_INVALID"),
            (
                r#"{"prefix":"tsr","catalog":[{"action":""}]}"#,
                "CATALOG_INVALID",
            ),
            (
                r#"{"prefix":"tsr","catalog":[],"pepper":"abcd"}"#,
                "PEPPER_INVALID",
            ),
            (
                r#"{"prefix":"tsr","catalog":[],"pepper":"zz"}"#,
                "PEPPER_INVALID",
            ),
            (
                r#"{"prefix":"tsr","catalog":[],"policy":{"maxLifetimeDays":0}}"#,
                "POLICY_INVALID",
            ),
            (
                r#"{"prefix":"tsr","catalog":[],"policy":{"maxTokensPerUser":0}}"#,
                "POLICY_INVALID",
            ),
        ];
        for (json, code) in codes {
            assert_eq!(config(json).unwrap_err().code(), code, "{json}");
        }
    }
}
