//! How errors leave the adapter.

use core::fmt::Display;

use serde::de::DeserializeOwned;
use tessera_core::code;
use wasm_bindgen::JsValue;

/// The pseudo-code for a malformed argument (the wrong JSON shape, a wrong
/// number of entropy bytes). It is not one of the core's codes: the
/// TypeScript layer throws a `TypeError` for it, as for any bad argument.
pub(crate) const BAD_ARGUMENT: &str = "BAD_ARGUMENT";

/// A thrown error: the string `CODE: message`. Messages come from the core's
/// `Display` implementations, which never repeat the input.
pub(crate) fn fail(code: &str, message: impl Display) -> JsValue {
    JsValue::from_str(&format!("{code}: {message}"))
}

/// The number a hot path returns for a denial with `code`: `-1 - i`, where
/// `i` is the code's position in `code::ALL`. An unlisted code (which the
/// core never produces) becomes `STORE_FAILED`, so the caller still fails
/// closed.
pub(crate) fn denial(code: &str) -> i32 {
    let position = |wanted: &str| code::ALL.iter().position(|c| *c == wanted);
    let index = position(code)
        .or_else(|| position(code::STORE_FAILED))
        .unwrap_or(0);
    -1 - i32::try_from(index).unwrap_or(0)
}

/// Reads JSON written by the TypeScript layer; a shape it cannot read is a
/// bad argument.
pub(crate) fn read<T: DeserializeOwned>(json: &str, what: &str) -> Result<T, JsValue> {
    serde_json::from_str(json).map_err(|error| fail(BAD_ARGUMENT, format!("{what}: {error}")))
}

/// Reads a stored record; one that does not match the record format is
/// `RECORD_INVALID`.
pub(crate) fn read_record(json: &str) -> Result<tessera_core::TokenRecord, JsValue> {
    serde_json::from_str(json).map_err(|_| {
        fail(
            code::RECORD_INVALID,
            "a stored record does not match the record format",
        )
    })
}

/// Writes a value as JSON for the TypeScript layer.
pub(crate) fn write<T: serde::Serialize>(value: &T) -> Result<String, JsValue> {
    serde_json::to_string(value).map_err(|error| fail(BAD_ARGUMENT, error))
}

/// Milliseconds from JavaScript as the core's `i64`. The TypeScript layer
/// has already refused non-integers and numbers beyond 2^53.
pub(crate) fn millis(value: f64) -> i64 {
    value as i64
}
