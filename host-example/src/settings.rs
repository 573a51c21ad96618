//! Deployment settings kept in the database, read on every use so that a
//! change made by the CLI reaches a running server at once.

use anyhow::{Result, bail};
use tessera_core::{Enablement, Standing};

use crate::db::{Db, ISSUE_FOR_USERS_KEY, MEMBERS_DEFAULT_KEY, Origin};

/// The deployment's default for members: whether a member whose own
/// setting is `inherit` may generate and use tokens. The name predates
/// per-user settings, when it governed creation only; it keeps working.
pub const MEMBERS_CAN_CREATE_TOKENS: &str = MEMBERS_DEFAULT_KEY;

/// Whether administrators (by password or session) and service keys may
/// issue tokens for users (Workbench's user tokens). Off by default: a
/// token made without the user's own credentials is a choice the
/// deployment makes.
pub const ISSUE_FOR_USERS: &str = ISSUE_FOR_USERS_KEY;

/// Whether tokens may be issued for users (default: off).
pub fn issue_for_users(db: &Db) -> Result<bool> {
    Ok(db.setting(ISSUE_FOR_USERS)?.as_deref() == Some("true"))
}

/// Lets tokens be issued for users, or stops it.
pub fn set_issue_for_users(db: &Db, allowed: bool, origin: &Origin) -> Result<()> {
    db.set_setting(
        ISSUE_FOR_USERS,
        if allowed { "true" } else { "false" },
        origin,
    )
}

/// The standing of a user of the host, or `None` when there is no such
/// user (unlike [`standing`], which treats any id as a service principal).
pub fn user_standing(db: &Db, user: &str) -> Result<Option<Standing>> {
    let (exists, standing) = lookup(db, user)?;
    Ok(exists.then_some(standing))
}

/// The deployment's default for members (default: off).
pub fn members_can_create_tokens(db: &Db) -> Result<bool> {
    Ok(db.setting(MEMBERS_CAN_CREATE_TOKENS)?.as_deref() == Some("true"))
}

/// A user's standing, read now: their admin flag and own setting, and the
/// default for members. A user id that is no user of the host (a service
/// principal) is enabled, as [`crate::db::FoundToken`] reads it.
pub fn standing(db: &Db, user: &str) -> Result<Standing> {
    Ok(lookup(db, user)?.1)
}

/// Whether `user` is a user of the host, and their standing as
/// [`standing`] reads it.
fn lookup(db: &Db, user: &str) -> Result<(bool, Standing)> {
    let row = db.user(user)?;
    let default = db.setting(MEMBERS_CAN_CREATE_TOKENS)?;
    Ok((
        row.is_some(),
        crate::db::standing(
            row.as_ref().is_some_and(|u| u.admin),
            row.as_ref().map(|u| u.tokens.as_str()),
            default.as_deref(),
        ),
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
        (ISSUE_FOR_USERS, "true" | "false") => set_issue_for_users(db, value == "true", origin),
        (MEMBERS_CAN_CREATE_TOKENS | ISSUE_FOR_USERS, _) => bail!("{name} is true or false"),
        _ => {
            bail!("unknown setting {name:?}; known: {MEMBERS_CAN_CREATE_TOKENS}, {ISSUE_FOR_USERS}")
        }
    }
}
