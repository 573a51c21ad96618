//! A deployment as a JavaScript object: issue, verify and rotate.

use serde::{Deserialize, Serialize};
use tessera_core::{
    Creator, DeploymentConfig, Expiry, IssueRequest, Request, Scope, ScopeSpec, TokenRecord, code,
};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::fail::{BAD_ARGUMENT, denial, fail, millis, read, read_record, write};
use crate::index::RecordIndex;

/// A configured deployment, built once and shared by every call.
#[wasm_bindgen]
pub struct Deployment {
    inner: tessera_core::Deployment,
}

/// An issue request as the TypeScript layer writes it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IssueInput {
    user_id: String,
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    expires: Expiry,
    scope: ScopeSpec,
    #[serde(default)]
    tokens_held: usize,
}

/// A freshly issued token and its record.
#[derive(Serialize)]
struct IssuedOutput<'a> {
    token: &'a str,
    record: &'a TokenRecord,
}

/// A rotation: the new token and record, and the old record to store after.
#[derive(Serialize)]
struct RotatedOutput<'a> {
    token: &'a str,
    record: &'a TokenRecord,
    retired: &'a TokenRecord,
}

/// 32 bytes of entropy, or a bad argument.
fn entropy(bytes: &[u8]) -> Result<[u8; 32], JsValue> {
    bytes
        .try_into()
        .map_err(|_| fail(BAD_ARGUMENT, "entropy must be exactly 32 bytes"))
}

/// A request for `action`, on `resource` when one is given.
fn request<'a>(action: &'a str, resource: Option<&'a str>) -> Request<'a> {
    Request { action, resource }
}

#[wasm_bindgen]
impl Deployment {
    /// Builds a deployment from its JSON configuration (see the core's
    /// `DeploymentConfig`).
    #[wasm_bindgen(constructor)]
    pub fn new(config: &str) -> Result<Deployment, JsValue> {
        let config: DeploymentConfig = read(config, "deployment configuration")?;
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
        record: Option<String>,
        action: &str,
        resource: Option<String>,
        now: f64,
    ) -> i32 {
        let presented = match self.inner.parse(input) {
            Ok(presented) => presented,
            Err(error) => return denial(error.code()),
        };
        let record = match record.as_deref().map(read_record).transpose() {
            Ok(record) => record,
            Err(_) => return denial(code::RECORD_INVALID),
        };
        let hash = self.inner.hash(&presented);
        let request = request(action, resource.as_deref());
        match self
            .inner
            .verify(&hash, record.as_ref(), &request, millis(now))
        {
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
        let request = request(action, resource.as_deref());
        let Some((record, slot)) = index.find(&hash) else {
            return match self.inner.verify(&hash, None, &request, now) {
                Ok(_) => denial(code::STORE_FAILED),
                Err(denied) => denial(denied.code()),
            };
        };
        match self.inner.verify(&hash, Some(record), &request, now) {
            Ok(verified) => {
                if verified.touch {
                    index.touch_hash(&hash, now);
                }
                i32::try_from(slot).unwrap_or_else(|_| denial(code::STORE_FAILED))
            }
            Err(denied) => denial(denied.code()),
        }
    }

    /// Issues a token. `parent_token` and `parent_record` (the record the
    /// store holds under the parent's hash, if any) make it a token made by
    /// a token. Returns JSON `{ token, record }`.
    pub fn issue(
        &self,
        request: &str,
        parent_token: Option<String>,
        parent_record: Option<String>,
        now: f64,
        entropy_bytes: &[u8],
    ) -> Result<String, JsValue> {
        let input: IssueInput = read(request, "issue request")?;
        let entropy = entropy(entropy_bytes)?;
        let now = millis(now);
        let parent_record = parent_record.as_deref().map(read_record).transpose()?;
        let creator = match &parent_token {
            None => Creator::User,
            Some(token) => {
                let presented = self.inner.parse(token).map_err(|e| fail(e.code(), e))?;
                let hash = self.inner.hash(&presented);
                let parent = self
                    .inner
                    .authenticate(&hash, parent_record.as_ref(), now)
                    .map_err(|e| fail(e.code(), e))?;
                Creator::Token(parent)
            }
        };
        let issued = self
            .inner
            .issue(
                &IssueRequest {
                    user_id: &input.user_id,
                    name: &input.name,
                    description: input.description.as_deref(),
                    expires: input.expires,
                    scope: &input.scope,
                    creator,
                    tokens_held: input.tokens_held,
                },
                now,
                &entropy,
            )
            .map_err(|e| fail(e.code(), e))?;
        write(&IssuedOutput {
            token: issued.token.expose(),
            record: &issued.record,
        })
    }

    /// Rotates a stored record. Returns JSON `{ token, record, retired }`.
    pub fn rotate(
        &self,
        record: &str,
        grace_ms: f64,
        now: f64,
        entropy_bytes: &[u8],
    ) -> Result<String, JsValue> {
        let old = read_record(record)?;
        let entropy = entropy(entropy_bytes)?;
        let rotated = self
            .inner
            .rotate(&old, millis(grace_ms), millis(now), &entropy)
            .map_err(|e| fail(e.code(), e))?;
        write(&RotatedOutput {
            token: rotated.issued.token.expose(),
            record: &rotated.issued.record,
            retired: &rotated.retired,
        })
    }

    /// Whether every request scope `a` allows, scope `b` allows, under this
    /// deployment's catalog and any it grows into. Both are JSON scope
    /// specifications, checked against the catalog (`SCOPE_INVALID`).
    pub fn is_subset(&self, a: &str, b: &str) -> Result<bool, JsValue> {
        let resolve = |json: &str| -> Result<Scope, JsValue> {
            let spec: ScopeSpec = serde_json::from_str(json)
                .map_err(|_| fail(code::SCOPE_INVALID, "a scope is malformed"))?;
            Scope::resolve(&spec, self.inner.catalog()).map_err(|e| fail(e.code(), e))
        };
        let (a, b) = (resolve(a)?, resolve(b)?);
        Ok(a.is_subset(&b, self.inner.catalog()))
    }
}
