//! A deployment as a JavaScript object: issue, verify and rotate.

use tessera_core::{
    CatalogEntry, Creator, DeploymentConfig, Expiry, IssueRequest, Policy, Request, Scope, code,
};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::fail::{denial, fail, millis};
use crate::index::RecordIndex;
use crate::json::Json;
use crate::record::{Record, scope_spec};

/// A configured deployment, built once and shared by every call.
#[wasm_bindgen]
pub struct Deployment {
    inner: tessera_core::Deployment,
}

/// 32 bytes of entropy, or a bad argument.
fn entropy(bytes: &[u8]) -> Result<[u8; 32], JsValue> {
    bytes
        .try_into()
        .map_err(|_| fail("BAD_ARGUMENT", "entropy must be exactly 32 bytes"))
}

/// A checked scope from its three JSON members (`SCOPE_INVALID`).
fn checked_scope(
    deployment: &tessera_core::Deployment,
    preset: Option<String>,
    actions: Option<Vec<String>>,
    resources: Option<Vec<String>>,
) -> Result<Scope, JsValue> {
    let spec = scope_spec(preset, actions, resources)
        .ok_or_else(|| fail(code::SCOPE_INVALID, "a preset is all, read or cli"))?;
    Scope::resolve(&spec, deployment.catalog()).map_err(|e| fail(e.code(), e))
}

/// `{ "token": .., "record": .. }` and, for a rotation, `"retired"`.
fn issued_json(token: &str, record: &Record, retired: Option<&Record>) -> String {
    let mut json = Json::new();
    json.open().key("token").string(token);
    json.key("record").raw(&record.json());
    if let Some(retired) = retired {
        json.key("retired").raw(&retired.json());
    }
    json.close();
    json.finish()
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
            return Err(fail("BAD_ARGUMENT", "one kind count per action"));
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

    /// Verifies `input` against the record the store returned for its hash
    /// (`None` when there was none). Returns 1 when last-used is worth
    /// writing, 0 when not, or `-1 - i` for the `i`-th code.
    pub fn verify_record(
        &self,
        input: &str,
        record: Option<Record>,
        action: &str,
        resource: Option<String>,
        now: f64,
    ) -> i32 {
        let presented = match self.inner.parse(input) {
            Ok(presented) => presented,
            Err(error) => return denial(error.code()),
        };
        let hash = self.inner.hash(&presented);
        let request = Request {
            action,
            resource: resource.as_deref(),
        };
        let record = record.as_ref().map(|r| &r.inner);
        match self.inner.verify(&hash, record, &request, millis(now)) {
            Ok(verified) => i32::from(verified.touch),
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
        now: f64,
    ) -> i32 {
        let presented = match self.inner.parse(input) {
            Ok(presented) => presented,
            Err(error) => return denial(error.code()),
        };
        let hash = self.inner.hash(&presented);
        let now = millis(now);
        let request = Request {
            action,
            resource: resource.as_deref(),
        };
        let found = index.find(&hash);
        let slot = found.map(|(_, slot)| slot);
        match self
            .inner
            .verify(&hash, found.map(|(record, _)| record), &request, now)
        {
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

    /// Issues a token. `expiry` is `"never"`, `"days"` or `"at"`, with
    /// `expiry_value` the days or time (`None` with `"at"`: a year ahead).
    /// `parent_token` and `parent` (the record the store holds under the
    /// parent's hash, if any) make it a token made by a token. Returns JSON
    /// `{ token, record }`.
    #[allow(clippy::too_many_arguments)] // One argument per request field.
    pub fn issue(
        &self,
        user_id: &str,
        name: &str,
        description: Option<String>,
        expiry: &str,
        expiry_value: Option<f64>,
        scope_preset: Option<String>,
        scope_actions: Option<Vec<String>>,
        scope_resources: Option<Vec<String>>,
        tokens_held: u32,
        parent_token: Option<String>,
        parent: Option<Record>,
        now: f64,
        entropy_bytes: &[u8],
    ) -> Result<String, JsValue> {
        let entropy = entropy(entropy_bytes)?;
        let now = millis(now);
        let expires = match (expiry, expiry_value) {
            ("never", _) => Expiry::Never,
            ("days", Some(days)) => Expiry::Days(millis(days)),
            ("at", at) => Expiry::At(at.map(millis)),
            _ => return Err(fail("BAD_ARGUMENT", "expires is never, days or at")),
        };
        let spec = scope_spec(scope_preset, scope_actions, scope_resources)
            .ok_or_else(|| fail(code::SCOPE_INVALID, "a preset is all, read or cli"))?;
        let parent_record = parent.as_ref().map(|p| &p.inner);
        let creator = match &parent_token {
            None => Creator::User,
            Some(token) => {
                let presented = self.inner.parse(token).map_err(|e| fail(e.code(), e))?;
                let hash = self.inner.hash(&presented);
                let parent = self
                    .inner
                    .authenticate(&hash, parent_record, now)
                    .map_err(|e| fail(e.code(), e))?;
                Creator::Token(parent)
            }
        };
        let issued = self
            .inner
            .issue(
                &IssueRequest {
                    user_id,
                    name,
                    description: description.as_deref(),
                    expires,
                    scope: &spec,
                    creator,
                    tokens_held: tokens_held as usize,
                },
                now,
                &entropy,
            )
            .map_err(|e| fail(e.code(), e))?;
        let record = Record {
            inner: issued.record,
        };
        Ok(issued_json(issued.token.expose(), &record, None))
    }

    /// Rotates a stored record. Returns JSON `{ token, record, retired }`.
    pub fn rotate(
        &self,
        old: &Record,
        grace_ms: f64,
        now: f64,
        entropy_bytes: &[u8],
    ) -> Result<String, JsValue> {
        let entropy = entropy(entropy_bytes)?;
        let rotated = self
            .inner
            .rotate(&old.inner, millis(grace_ms), millis(now), &entropy)
            .map_err(|e| fail(e.code(), e))?;
        let record = Record {
            inner: rotated.issued.record,
        };
        let retired = Record {
            inner: rotated.retired,
        };
        Ok(issued_json(
            rotated.issued.token.expose(),
            &record,
            Some(&retired),
        ))
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
