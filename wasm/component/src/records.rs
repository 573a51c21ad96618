//! Records in and out of storage.

use tessera_core::TokenRecord;
use tessera_core::code;

use crate::bindings::exports::tessera::tokens::service::TokenError;
use crate::bindings::tessera::tokens::store;
use crate::bindings::tessera::tokens::types::Stored;
use crate::errors::{fail, store_failed};

/// Reads a stored record back; a record the core cannot read is
/// `RECORD_INVALID`, never silently skipped.
pub(crate) fn decode(stored: &Stored) -> Result<TokenRecord, TokenError> {
    serde_json::from_str(&stored.json).map_err(|e| {
        fail(
            code::RECORD_INVALID,
            format_args!("stored record {}: {e}", stored.id),
        )
    })
}

/// The indexed columns and JSON of a record, for `put`.
pub(crate) fn encode(record: &TokenRecord) -> Result<Stored, TokenError> {
    Ok(Stored {
        id: record.id().into(),
        user_id: record.user_id().into(),
        hash: record.hash().to_hex(),
        expires_at: record.expires_at(),
        json: serde_json::to_string(record).map_err(|e| fail(code::INTERNAL, e))?,
    })
}

/// What lists and details show: the record without its hash, as JSON.
pub(crate) fn public_json(record: &TokenRecord) -> Result<String, TokenError> {
    serde_json::to_string(&record.info()).map_err(|e| fail(code::INTERNAL, e))
}

/// Writes a record.
pub(crate) fn put(record: &TokenRecord) -> Result<(), TokenError> {
    store::put(&encode(record)?).map_err(store_failed)
}

/// The record with this hash, if any.
pub(crate) fn by_hash(hash: &str) -> Result<Option<TokenRecord>, TokenError> {
    store::get_by_hash(hash)
        .map_err(store_failed)?
        .as_ref()
        .map(decode)
        .transpose()
}

/// The caller's record with this id; another user's is `NOT_FOUND`, so ids
/// reveal nothing about other users' tokens.
pub(crate) fn owned(user_id: &str, id: &str) -> Result<TokenRecord, TokenError> {
    let stored = store::get_by_id(id).map_err(store_failed)?;
    match stored.as_ref().map(decode).transpose()? {
        Some(record) if record.user_id() == user_id => Ok(record),
        _ => Err(crate::errors::not_found()),
    }
}

/// Every record of a user, oldest first.
pub(crate) fn of_user(user_id: &str) -> Result<Vec<TokenRecord>, TokenError> {
    let mut records = store::list_by_user(user_id)
        .map_err(store_failed)?
        .iter()
        .map(decode)
        .collect::<Result<Vec<_>, _>>()?;
    records.sort_by(|a, b| (a.created_at(), a.id()).cmp(&(b.created_at(), b.id())));
    Ok(records)
}
