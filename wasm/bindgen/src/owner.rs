//! The standing of a record's user, for stores that know users (such as the
//! introspection store, which the token service answers with it).

use tessera_core::{Enablement, Standing, code};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::fail::fail;

/// Whether a record's user administers the deployment, their own token
/// setting, and the deployment's default for members: the core decides
/// from them whether the user's tokens may be used.
#[wasm_bindgen]
pub struct Owner {
    pub(crate) inner: Standing,
}

#[wasm_bindgen]
impl Owner {
    /// Builds a standing; a setting other than `inherit`, `on` or `off` is
    /// `RECORD_INVALID`.
    #[wasm_bindgen(constructor)]
    pub fn new(admin: bool, tokens: &str, members_enabled: bool) -> Result<Owner, JsValue> {
        let tokens = Enablement::parse(tokens).ok_or_else(|| {
            fail(
                code::RECORD_INVALID,
                "an owner's tokens setting is inherit, on or off",
            )
        })?;
        Ok(Self {
            inner: Standing {
                admin,
                tokens,
                members_enabled,
            },
        })
    }
}

/// The standing to verify with: the store's, or [`Standing::OWNER`] for a
/// store that knows no users.
pub(crate) fn owner_of(owner: Option<Owner>) -> Standing {
    owner.map_or(Standing::OWNER, |owner| owner.inner)
}
