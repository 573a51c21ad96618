//! Records in and out of storage.

use tessera_core::TokenRecord;
use tessera_core::code;

use crate::bindings::exports::tessera::tokens::service::TokenError;
use crate::bindings::tessera::tokens::store;
use crate::bindings::tessera::tokens::types::{self as wit, Stored, Write};
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
        json: serde_json::to_string(record).map_err(|e| fail(code::INTERNAL, e))?,
    })
}

/// What lists and details show: the record without its hash, as JSON.
pub(crate) fn public_json(record: &TokenRecord) -> Result<String, TokenError> {
    serde_json::to_string(&record.info()).map_err(|e| fail(code::INTERNAL, e))
}

/// Applies an operation's writes in one transaction.
pub(crate) fn apply(writes: &[tessera_core::Write]) -> Result<(), TokenError> {
    let writes = writes
        .iter()
        .map(|write| {
            Ok(match write {
                tessera_core::Write::Put(record) => Write::Put(encode(record)?),
                tessera_core::Write::Delete(id) => Write::Delete(id.clone()),
            })
        })
        .collect::<Result<Vec<_>, TokenError>>()?;
    store::apply(&writes).map_err(store_failed)
}

/// A user's standing as the core takes it.
pub(crate) fn standing(standing: wit::Standing) -> tessera_core::Standing {
    tessera_core::Standing {
        admin: standing.admin,
        tokens: match standing.tokens {
            wit::Enablement::Inherit => tessera_core::Enablement::Inherit,
            wit::Enablement::On => tessera_core::Enablement::On,
            wit::Enablement::Off => tessera_core::Enablement::Off,
        },
        members_enabled: standing.members_enabled,
    }
}

/// The record with this hash, if any, and its user's standing.
pub(crate) fn by_hash(
    hash: &str,
) -> Result<Option<(TokenRecord, tessera_core::Standing)>, TokenError> {
    store::get_by_hash(hash)
        .map_err(store_failed)?
        .map(|found| Ok((decode(&found.stored)?, standing(found.owner))))
        .transpose()
}

/// Every record of a user.
pub(crate) fn of_user(user_id: &str) -> Result<Vec<TokenRecord>, TokenError> {
    store::list_by_user(user_id)
        .map_err(store_failed)?
        .iter()
        .map(decode)
        .collect()
}
