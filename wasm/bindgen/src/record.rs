//! A stored record as a JavaScript object: built from its fields, edited
//! through the core, and written out as JSON.

use tessera_core::{
    AllowedIps, CreatedBy, Preset, RecordParts, Scope, ScopeSpec, Status, TokenHash, TokenRecord,
    VerificationParts, code,
};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::fail::{fail, millis};
use crate::json;

/// A client address from JavaScript; one that is not an IP address is
/// `BAD_REQUEST`, never taken for an unknown address.
pub(crate) fn client_ip(ip: Option<&str>) -> Result<Option<core::net::IpAddr>, &'static str> {
    ip.map(|text| tessera_core::parse_ip(text).ok_or(code::BAD_REQUEST))
        .transpose()
}

/// A preset by its JSON name.
pub(crate) fn preset(name: &str) -> Option<Preset> {
    [Preset::All, Preset::Read, Preset::Cli]
        .into_iter()
        .find(|p| p.as_str() == name)
}

/// A scope specification from its three JSON members; an unknown preset
/// name is `None`.
pub(crate) fn scope_spec(
    preset_name: Option<String>,
    actions: Option<Vec<String>>,
    resources: Option<Vec<String>>,
) -> Option<ScopeSpec> {
    let preset = match preset_name {
        Some(name) => Some(preset(&name)?),
        None => None,
    };
    Some(ScopeSpec {
        preset,
        actions,
        resources,
    })
}

/// A list of strings as the TypeScript layer passes it: its items joined
/// by newlines, and how many there are. One string crosses into the module
/// instead of one value per item. An item that holds a newline splits in
/// two, so the count disagrees and the list is refused rather than read as
/// other items.
#[derive(Clone, Copy)]
pub(crate) struct Joined<'a> {
    pub(crate) text: &'a str,
    pub(crate) count: u32,
}

impl Joined<'_> {
    /// The items, or `None` when their number is not the count.
    pub(crate) fn items(self) -> Option<Vec<String>> {
        if self.count == 0 {
            return self.text.is_empty().then(Vec::new);
        }
        let items: Vec<String> = self.text.split('\n').map(String::from).collect();
        (usize::try_from(self.count).ok() == Some(items.len())).then_some(items)
    }
}

/// An optional list as the TypeScript layer passes it (see [`Joined`]).
pub(crate) fn joined(text: Option<&str>, count: u32) -> Option<Joined<'_>> {
    text.map(|text| Joined { text, count })
}

/// The members of a stored record that verification reads and the core
/// parses (the hash, status, scope and allowed IP ranges), read from their
/// JavaScript values; `None` when one is malformed (`RECORD_INVALID`).
pub(crate) struct Decided {
    hash: TokenHash,
    status: Status,
    scope: Scope,
    allowed_ips: AllowedIps,
}

impl Decided {
    pub(crate) fn read(
        hash: &str,
        status: &str,
        scope_preset: Option<String>,
        scope_actions: Option<Joined<'_>>,
        scope_resources: Option<Joined<'_>>,
        allowed_ips: Joined<'_>,
    ) -> Option<Self> {
        let scope_actions = match scope_actions {
            Some(list) => Some(list.items()?),
            None => None,
        };
        let scope_resources = match scope_resources {
            Some(list) => Some(list.items()?),
            None => None,
        };
        let allowed_ips = allowed_ips.items()?;
        let spec = scope_spec(scope_preset, scope_actions, scope_resources)?;
        Some(Self {
            hash: TokenHash::from_hex(hash)?,
            status: match status {
                "active" => Status::Active,
                "inactive" => Status::Inactive,
                _ => return None,
            },
            scope: Scope::from_spec(&spec).ok()?,
            allowed_ips: AllowedIps::parse(&allowed_ips).ok()?,
        })
    }

    /// A record of only these members and the two times, for one
    /// verification (see [`TokenRecord::for_verification`]).
    pub(crate) fn record(self, expires_at: Option<f64>, last_used_at: Option<f64>) -> TokenRecord {
        TokenRecord::for_verification(VerificationParts {
            hash: self.hash,
            status: self.status,
            expires_at: expires_at.map(millis),
            last_used_at: last_used_at.map(millis),
            scope: self.scope,
            allowed_ips: self.allowed_ips,
        })
    }
}

/// A stored record, checked as reading its JSON form would check it.
#[wasm_bindgen]
pub struct Record {
    pub(crate) inner: TokenRecord,
}

fn invalid() -> JsValue {
    fail(
        code::RECORD_INVALID,
        "a stored record does not match the record format",
    )
}

#[wasm_bindgen]
impl Record {
    /// Builds a record from its fields (the TypeScript layer has checked
    /// their types). A malformed hash, scope, allowed IP range, status or
    /// creator is `RECORD_INVALID`.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)] // One argument per record field.
    pub fn new(
        id: String,
        user_id: String,
        name: String,
        description: Option<String>,
        hash: &str,
        hint: String,
        creator_kind: &str,
        creator_id: Option<String>,
        created_at: f64,
        expires_at: Option<f64>,
        scope_preset: Option<String>,
        scope_actions: Option<String>,
        scope_actions_count: u32,
        scope_resources: Option<String>,
        scope_resources_count: u32,
        allowed_ips: &str,
        allowed_ips_count: u32,
        status: &str,
        last_used_at: Option<f64>,
        rotated_from: Option<String>,
        replaced_by: Option<String>,
    ) -> Result<Record, JsValue> {
        let decided = Decided::read(
            hash,
            status,
            scope_preset,
            joined(scope_actions.as_deref(), scope_actions_count),
            joined(scope_resources.as_deref(), scope_resources_count),
            Joined {
                text: allowed_ips,
                count: allowed_ips_count,
            },
        )
        .ok_or_else(invalid)?;
        let parts = RecordParts {
            id,
            user_id,
            name,
            description,
            hash: decided.hash,
            hint,
            created_by: match (creator_kind, creator_id) {
                ("user", None) => CreatedBy::User,
                ("token", Some(token_id)) => CreatedBy::Token { token_id },
                ("admin", Some(user_id)) => CreatedBy::Admin { user_id },
                ("service", Some(key_id)) => CreatedBy::Service { key_id },
                _ => return Err(invalid()),
            },
            created_at: millis(created_at),
            expires_at: expires_at.map(millis),
            scope: decided.scope,
            allowed_ips: decided.allowed_ips,
            status: decided.status,
            last_used_at: last_used_at.map(millis),
            rotated_from,
            replaced_by,
        };
        Ok(Self {
            inner: TokenRecord::from_parts(parts),
        })
    }

    /// The record in its stored shape, as JSON.
    pub fn json(&self) -> String {
        json::record(&self.inner, true)
    }

    /// What lists show (everything but the hash), as JSON.
    pub fn info(&self) -> String {
        json::record(&self.inner, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &str, count: u32) -> Option<Vec<String>> {
        Joined { text, count }.items()
    }

    #[test]
    fn joined_lists_read_back_only_when_the_count_agrees() {
        assert_eq!(items("", 0), Some(vec![]));
        assert_eq!(items("", 1), Some(vec![String::new()]));
        assert_eq!(items("\n", 2), Some(vec![String::new(), String::new()]));
        assert_eq!(
            items("apps.read\ndeploy.run", 2),
            Some(vec!["apps.read".into(), "deploy.run".into()])
        );
        // One item holding a newline is two items: refused, not read as two.
        assert_eq!(items("apps.read\napps.write", 1), None);
        assert_eq!(items("apps.read", 2), None);
        assert_eq!(items("x", 0), None);
        assert_eq!(items("a\nb\nc", u32::MAX), None);
    }
}
