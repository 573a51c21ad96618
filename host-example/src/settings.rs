//! Deployment settings kept in the database, read on every use so that a
//! change made by the CLI reaches a running server at once.

use anyhow::{Result, bail};
use tessera_core::{Enablement, Standing};

use crate::db::{Db, MEMBERS_DEFAULT_KEY, Origin};

/// The deployment's default for members: whether a member whose own
/// setting is `inherit` may generate and use tokens. The name predates
/// per-user settings, when it governed creation only; it keeps working.
pub const MEMBERS_CAN_CREATE_TOKENS: &str = MEMBERS_DEFAULT_KEY;

/// The deployment's default for members (default: off).
pub fn members_can_create_tokens(db: &Db) -> Result<bool> {
    Ok(db.setting(MEMBERS_CAN_CREATE_TOKENS)?.as_deref() == Some("true"))
}

/// A user's standing, read now: their admin flag and own setting, and the
/// default for members. A user id that is no user of the host (a service
/// principal) is enabled, as [`crate::db::FoundToken`] reads it.
pub fn standing(db: &Db, user: &str) -> Result<Standing> {
    let row = db.user(user)?;
    let default = db.setting(MEMBERS_CAN_CREATE_TOKENS)?;
    Ok(crate::db::standing(
        row.as_ref().is_some_and(|u| u.admin),
        row.as_ref().map(|u| u.tokens.as_str()),
        default.as_deref(),
    ))
}

/// The standing of whoever holds the database (the CLI's operator), acting
/// for a user: what the user's administrator could do.
pub const OPERATOR: Standing = Standing {
    admin: true,
    tokens: Enablement::On,
    members_enabled: true,
};

/// Sets the deployment's default for members.
pub fn set_members_can_create_tokens(db: &Db, allowed: bool, origin: &Origin) -> Result<()> {
    db.set_setting(
        MEMBERS_CAN_CREATE_TOKENS,
        if allowed { "true" } else { "false" },
        origin,
    )
}

/// Sets a setting by name from the CLI, checking name and value.
pub fn set_by_name(db: &Db, name: &str, value: &str, origin: &Origin) -> Result<()> {
    match (name, value) {
        (MEMBERS_CAN_CREATE_TOKENS, "true" | "false") => {
            set_members_can_create_tokens(db, value == "true", origin)
        }
        (MEMBERS_CAN_CREATE_TOKENS, _) => bail!("{name} is true or false"),
        _ => bail!("unknown setting {name:?}; known: {MEMBERS_CAN_CREATE_TOKENS}"),
    }
}
