//! Records in and out of storage.

use std::cell::{OnceCell, RefCell};
use std::rc::Rc;

use tessera_core::code;
use tessera_core::{Scope, TokenRecord};

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

/// A record read by hash, kept with the JSON it was read from.
pub(crate) struct Decoded {
    json: String,
    /// The record.
    pub(crate) record: TokenRecord,
    scope_json: OnceCell<String>,
}

impl Decoded {
    /// `scope` as a principal carries it, in JSON: written once for the
    /// record's own scope, which is what a principal of it names.
    pub(crate) fn scope_json(&self, scope: &Scope) -> Result<String, TokenError> {
        let write =
            |scope: &Scope| serde_json::to_string(scope).map_err(|e| fail(code::INTERNAL, e));
        if !std::ptr::eq(scope, self.record.scope()) {
            return write(scope);
        }
        if let Some(json) = self.scope_json.get() {
            return Ok(json.clone());
        }
        let json = write(scope)?;
        Ok(self.scope_json.get_or_init(|| json).clone())
    }
}

/// How many records read by hash an instance keeps decoded.
const DECODED_SLOTS: usize = 64;

thread_local! {
    /// Records read by hash lately, in slots chosen by their hash. A stored
    /// record whose JSON is byte for byte the JSON a slot was decoded from
    /// is that slot's record, so a token verified again is not parsed
    /// again; any change to the record changes its JSON and decodes anew.
    static DECODED: RefCell<Vec<Option<Rc<Decoded>>>> = RefCell::new(vec![None; DECODED_SLOTS]);
}

/// The slot of a hash in hexadecimal: its first byte.
fn slot(hash: &str) -> usize {
    hash.get(..2)
        .and_then(|byte| usize::from_str_radix(byte, 16).ok())
        .unwrap_or(0)
        % DECODED_SLOTS
}

/// `stored`, decoded, or as decoded before when its JSON is unchanged.
fn decode_by_hash(hash: &str, stored: Stored) -> Result<Rc<Decoded>, TokenError> {
    let slot = slot(hash);
    let kept = DECODED.with_borrow(|slots| slots[slot].clone());
    if let Some(kept) = kept.filter(|kept| kept.json == stored.json) {
        return Ok(kept);
    }
    let record = decode(&stored)?;
    let decoded = Rc::new(Decoded {
        json: stored.json,
        record,
        scope_json: OnceCell::new(),
    });
    DECODED.with_borrow_mut(|slots| slots[slot] = Some(decoded.clone()));
    Ok(decoded)
}

/// The record with this hash, if any, and its user's standing.
pub(crate) fn by_hash(
    hash: &str,
) -> Result<Option<(Rc<Decoded>, tessera_core::Standing)>, TokenError> {
    store::get_by_hash(hash)
        .map_err(store_failed)?
        .map(|found| Ok((decode_by_hash(hash, found.stored)?, standing(found.owner))))
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
