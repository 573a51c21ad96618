//! Deployment settings kept in the database, read on every use so that a
//! change made by the CLI reaches a running server at once.

use anyhow::{Result, bail};

use crate::db::Db;

/// The setting that lets members (not only administrators) create tokens.
pub const MEMBERS_CAN_CREATE_TOKENS: &str = "members-can-create-tokens";

/// Whether members may create their own tokens (default: no).
pub fn members_can_create_tokens(db: &Db) -> Result<bool> {
    Ok(db.setting(MEMBERS_CAN_CREATE_TOKENS)?.as_deref() == Some("true"))
}

/// Allows or forbids members to create their own tokens.
pub fn set_members_can_create_tokens(db: &Db, allowed: bool) -> Result<()> {
    db.set_setting(
        MEMBERS_CAN_CREATE_TOKENS,
        if allowed { "true" } else { "false" },
    )
}

/// Sets a setting by name from the CLI, checking name and value.
pub fn set_by_name(db: &Db, name: &str, value: &str) -> Result<()> {
    match (name, value) {
        (MEMBERS_CAN_CREATE_TOKENS, "true" | "false") => {
            set_members_can_create_tokens(db, value == "true")
        }
        (MEMBERS_CAN_CREATE_TOKENS, _) => bail!("{name} is true or false"),
        _ => bail!("unknown setting {name:?}; known: {MEMBERS_CAN_CREATE_TOKENS}"),
    }
}
