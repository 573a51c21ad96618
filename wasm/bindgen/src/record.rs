//! Edits and views of a stored record, each a JSON round trip through the
//! core's `TokenRecord` (which refuses unknown fields, so a corrupt record
//! is `RECORD_INVALID` rather than half-read).

use tessera_core::Status;
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::fail::{BAD_ARGUMENT, fail, millis, read, read_record, write};

/// The record as lists show it: everything but the hash.
#[wasm_bindgen]
pub fn record_info(record: &str) -> Result<String, JsValue> {
    write(&read_record(record)?.info())
}

/// The record with its status set to `"active"` or `"inactive"`.
#[wasm_bindgen]
pub fn record_set_status(record: &str, status: &str) -> Result<String, JsValue> {
    let mut record = read_record(record)?;
    let status: Status = read(&format!("\"{}\"", status.escape_default()), "status")?;
    record.set_status(status);
    write(&record)
}

/// The record renamed (when `name` is given) and redescribed (when
/// `describe` is true; `None` or an empty description removes it).
#[wasm_bindgen]
pub fn record_edit(
    record: &str,
    name: Option<String>,
    describe: bool,
    description: Option<String>,
) -> Result<String, JsValue> {
    let mut record = read_record(record)?;
    if let Some(name) = name {
        record.rename(&name).map_err(|e| fail(e.code(), e))?;
    }
    if describe {
        record
            .describe(description.as_deref())
            .map_err(|e| fail(e.code(), e))?;
    }
    write(&record)
}

/// Whether the record is valid at `now` but expires within `window_ms`.
#[wasm_bindgen]
pub fn record_expires_within(record: &str, now: f64, window_ms: f64) -> Result<bool, JsValue> {
    if window_ms < 0.0 {
        return Err(fail(BAD_ARGUMENT, "the window must not be negative"));
    }
    Ok(read_record(record)?.expires_within(millis(now), millis(window_ms)))
}
