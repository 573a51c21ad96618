//! How errors leave the adapter.

use tessera_core::code;
use wasm_bindgen::JsValue;

/// A thrown error: the string `CODE: message`. Messages come from the core's
/// `Display` implementations, which never repeat the input.
pub(crate) fn fail(code: &str, message: impl core::fmt::Display) -> JsValue {
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

/// Milliseconds from JavaScript as the core's `i64`. The TypeScript layer
/// has already refused non-integers and numbers beyond 2^53.
pub(crate) fn millis(value: f64) -> i64 {
    value as i64
}
