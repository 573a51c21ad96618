//! A deployment as a JavaScript object: issue, verify and rotate.

use core::net::IpAddr;

use tessera_core::{
    CatalogEntry, DeploymentConfig, Policy, Request, Scope, Standing, TokenHash, code,
};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::fail::{denial, fail, millis};
use crate::index::RecordIndex;
use crate::owner::{Owner, owner_of};
use crate::record::{Decided, Joined, client_ip, scope_spec};

/// A configured deployment, built once and shared by every call.
#[wasm_bindgen]
pub struct Deployment {
    pub(crate) inner: tessera_core::Deployment,
}

/// 32 bytes of entropy, or a bad argument.
pub(crate) fn entropy(bytes: &[u8]) -> Result<[u8; 32], JsValue> {
    bytes
        .try_into()
        .map_err(|_| fail(code::BAD_REQUEST, "entropy must be exactly 32 bytes"))
}

/// A checked scope from its three JSON members (`SCOPE_INVALID`).
fn checked_scope(
    deployment: &tessera_core::Deployment,
    preset: Option<String>,
    actions: Option<Vec<String>>,
    resources: Option<Vec<String>>,
) -> Result<Scope, JsValue> {
    let spec = scope_spec(preset.as_deref(), actions, resources)
        .ok_or_else(|| fail(code::SCOPE_INVALID, "a preset is all, read or cli"))?;
    Scope::resolve(&spec, deployment.catalog()).map_err(|e| fail(e.code(), e))
}

#[wasm_bindgen]
impl Deployment {
    /// Builds a deployment from its configuration: the prefix, the catalog
    /// (each action's kinds are the next `kind_counts[i]` entries of
    /// `kinds`), the policy, a hex pepper and the token-creation action.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)] // One argument per configuration field.
    pub fn new(
        prefix: String,
        actions: Vec<String>,
        kind_counts: Vec<u32>,
        kinds: Vec<String>,
        allow_non_expiring: bool,
        max_lifetime_days: Option<u32>,
        max_tokens_per_user: Option<u32>,
        pepper: Option<String>,
        creation_action: Option<String>,
    ) -> Result<Deployment, JsValue> {
        if actions.len() != kind_counts.len() {
            return Err(fail(code::BAD_REQUEST, "one kind count per action"));
        }
        let mut kinds = kinds.into_iter();
        let catalog = actions
            .into_iter()
            .zip(kind_counts)
            .map(|(action, count)| CatalogEntry {
                action,
                kinds: kinds.by_ref().take(count as usize).collect(),
            })
            .collect();
        let config = DeploymentConfig {
            prefix,
            catalog,
            policy: Policy {
                allow_non_expiring,
                max_lifetime_days,
                max_tokens_per_user,
            },
            pepper,
            creation_action,
            read_action: None,
            write_action: None,
        };
        let inner = config.build().map_err(|e| fail(e.code(), e))?;
        Ok(Self { inner })
    }

    /// Parses a token or header value of this deployment and returns the
    /// 64-digit hex hash a store looks it up by, or, when parsing fails, the
    /// error's code (which is never 64 characters long). It does not throw,
    /// because garbage and attack traffic come through here.
    pub fn lookup_key(&self, input: &str) -> String {
        match self.inner.parse(input) {
            Ok(presented) => self.inner.hash(&presented).to_hex(),
            Err(error) => error.code().into(),
        }
    }

    /// Checks the token whose `lookup_key` is `key` against the record the
    /// store returned for it and its user's standing (`None`: enabled).
    /// With an action it verifies; without one it only authenticates (any
    /// active, unexpired token, whatever its scope). Of the record, only
    /// the members verification reads cross into the module (the
    /// TypeScript layer has checked the whole record's shape): `members`
    /// is the key alone when the store had no record, else the key, a
    /// newline and the members the core parses, joined (see [`Joined`]).
    /// Taking the key rather than the token again spares a second parse
    /// and hash. Returns 1 when last-used is worth writing, 0 when not, or
    /// `-1 - i` for the `i`-th code; a malformed member is
    /// `RECORD_INVALID`. It does not throw, because garbage and attack
    /// traffic come through here.
    #[allow(clippy::too_many_arguments)] // The members and the request, flat.
    pub fn check_stored(
        &self,
        members: &str,
        found: bool,
        expires_at: Option<f64>,
        last_used_at: Option<f64>,
        preset: bool,
        actions: i32,
        resources: i32,
        allowed_ips: u32,
        owner: Option<Owner>,
        action: Option<String>,
        resource: Option<String>,
        ip: Option<String>,
        now: f64,
    ) -> i32 {
        let owner = owner_of(owner);
        let (key, record) = match (found, members.split_once('\n')) {
            (false, None) => (members, None),
            (true, Some((key, text))) => match Decided::read(Joined {
                text,
                preset,
                actions,
                resources,
                allowed_ips,
            }) {
                Some(decided) => (key, Some(decided.record(expires_at, last_used_at))),
                None => return denial(code::RECORD_INVALID),
            },
            _ => return denial(code::BAD_REQUEST),
        };
        let (hash, ip) = match keyed(key, ip.as_deref()) {
            Ok(read) => read,
            Err(code) => return denial(code),
        };
        let now = millis(now);
        let outcome = match action.as_deref() {
            Some(action) => {
                let request = Request {
                    action,
                    resource: resource.as_deref(),
                    ip,
                };
                self.inner
                    .verify(&hash, record.as_ref(), owner, &request, now)
                    .map(|verified| verified.touch)
            }
            None => self
                .inner
                .authenticate(&hash, record.as_ref(), owner, ip, now)
                .map(|token| token.record().touch_due(now)),
        };
        match outcome {
            Ok(touch) => i32::from(touch),
            Err(denied) => denial(denied.code()),
        }
    }

    /// Verifies `input` against the records of an in-memory index, in one
    /// call, recording the use when the core says it is worth writing.
    /// Returns the record's slot in the index, or `-1 - i` for the `i`-th
    /// code.
    pub fn verify_indexed(
        &self,
        index: &mut RecordIndex,
        input: &str,
        action: &str,
        resource: Option<String>,
        ip: Option<String>,
        now: f64,
    ) -> i32 {
        let presented = match self.inner.parse(input) {
            Ok(presented) => presented,
            Err(error) => return denial(error.code()),
        };
        let ip = match client_ip(ip.as_deref()) {
            Ok(ip) => ip,
            Err(code) => return denial(code),
        };
        let hash = self.inner.hash(&presented);
        let now = millis(now);
        let request = Request {
            action,
            resource: resource.as_deref(),
            ip,
        };
        let found = index.find(&hash);
        let slot = found.map(|(_, slot)| slot);
        match self.inner.verify(
            &hash,
            found.map(|(record, _)| record),
            Standing::OWNER,
            &request,
            now,
        ) {
            Ok(verified) => {
                let touch = verified.touch;
                if touch {
                    index.touch_hash(&hash, now);
                }
                slot.and_then(|slot| i32::try_from(slot).ok())
                    .unwrap_or_else(|| denial(code::STORE_FAILED))
            }
            Err(denied) => denial(denied.code()),
        }
    }

    /// Whether every request scope `a` allows, scope `b` allows, under this
    /// deployment's catalog and any it grows into. Both are checked against
    /// the catalog (`SCOPE_INVALID`).
    #[allow(clippy::too_many_arguments)] // Three members per scope.
    pub fn is_subset(
        &self,
        a_preset: Option<String>,
        a_actions: Option<Vec<String>>,
        a_resources: Option<Vec<String>>,
        b_preset: Option<String>,
        b_actions: Option<Vec<String>>,
        b_resources: Option<Vec<String>>,
    ) -> Result<bool, JsValue> {
        let a = checked_scope(&self.inner, a_preset, a_actions, a_resources)?;
        let b = checked_scope(&self.inner, b_preset, b_actions, b_resources)?;
        Ok(a.is_subset(&b, self.inner.catalog()))
    }
}

/// A lookup key and a client address as the store path passes them: a key
/// that is not 64 hex digits is the adapter's own mistake (`BAD_REQUEST`).
fn keyed(key: &str, ip: Option<&str>) -> Result<(TokenHash, Option<IpAddr>), &'static str> {
    let hash = TokenHash::from_hex(key).ok_or(code::BAD_REQUEST)?;
    Ok((hash, client_ip(ip)?))
}
