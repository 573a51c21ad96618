//! A stored record as a JavaScript object: built from its fields, edited
//! through the core, and written out as JSON.

use tessera_core::{
    AllowedIps, CreatedBy, Preset, RecordParts, Scope, ScopeSpec, Status, TokenHash, TokenRecord,
    code,
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
        scope_actions: Option<Vec<String>>,
        scope_resources: Option<Vec<String>>,
        allowed_ips: Vec<String>,
        status: &str,
        last_used_at: Option<f64>,
        rotated_from: Option<String>,
        replaced_by: Option<String>,
    ) -> Result<Record, JsValue> {
        let spec = scope_spec(scope_preset, scope_actions, scope_resources).ok_or_else(invalid)?;
        let status = match status {
            "active" => Status::Active,
            "inactive" => Status::Inactive,
            _ => return Err(invalid()),
        };
        let parts = RecordParts {
            id,
            user_id,
            name,
            description,
            hash: TokenHash::from_hex(hash).ok_or_else(invalid)?,
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
            scope: Scope::from_spec(&spec).map_err(|_| invalid())?,
            allowed_ips: AllowedIps::parse(&allowed_ips).map_err(|_| invalid())?,
            status,
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
