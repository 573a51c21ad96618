//! Functions on token strings that need no deployment: for secret scanners,
//! CLIs and tests.

use tessera_core::{Pepper, Prefix, Presented, code};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::fail::fail;
use crate::json::Json;

/// Parses a bare token or `Authorization` header value: under `prefix` when
/// one is given, else under whatever well-formed prefix it carries. Returns
/// JSON `{ token, prefix, id, hint }`.
#[wasm_bindgen]
pub fn present(input: &str, prefix: Option<String>) -> Result<String, JsValue> {
    let presented = match prefix {
        Some(prefix) => {
            let prefix = Prefix::new(&prefix).map_err(|e| fail(e.code(), e))?;
            Presented::parse(input, &prefix)
        }
        None => Presented::parse_any(input),
    }
    .map_err(|e| fail(e.code(), e))?;
    let mut json = Json::new();
    json.open()
        .key("token")
        .string(presented.expose())
        .key("prefix")
        .string(presented.prefix())
        .key("id")
        .string(&presented.id())
        .key("hint")
        .string(&presented.hint())
        .close();
    Ok(json.finish())
}

/// The stored hash of a token (any prefix; a header value is accepted) in
/// hex: SHA-256, or HMAC-SHA-256 under `pepper`.
#[wasm_bindgen]
pub fn hash_token(input: &str, pepper: Option<Vec<u8>>) -> Result<String, JsValue> {
    let presented = Presented::parse_any(input).map_err(|e| fail(e.code(), e))?;
    let pepper = match pepper {
        Some(key) => Some(Pepper::new(&key).map_err(|e| fail(e.code(), e))?),
        None => None,
    };
    Ok(tessera_core::hash(presented.expose(), pepper.as_ref()).to_hex())
}

/// The unanchored regular expression that matches a token under `prefix`.
#[wasm_bindgen]
pub fn token_pattern(prefix: &str) -> Result<String, JsValue> {
    let prefix = Prefix::new(prefix).map_err(|e| fail(code::PREFIX_INVALID, e))?;
    Ok(tessera_core::token_pattern(&prefix))
}
