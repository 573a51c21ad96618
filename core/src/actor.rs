//! Who performs a lifecycle operation: a user the host authenticated (a
//! password, a session), or a token the core authenticated.
//!
//! Every lifecycle operation ([`crate::Lifecycle`]) starts from an actor.
//! The actor decides *whose* tokens an operation may touch (only its own
//! user's) and, for a token, *which*: only tokens it could have created
//! itself.

use crate::record::TokenRecord;
use crate::verify::Authenticated;

/// Whether a user may generate and use tokens, as an administrator set it
/// for that user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Enablement {
    /// The deployment-wide default for members decides (off unless an
    /// administrator turned it on).
    #[default]
    Inherit,
    /// Enabled, whatever the default.
    On,
    /// Disabled, whatever the default: the user can neither create tokens
    /// nor use the ones they hold.
    Off,
}

impl Enablement {
    /// The setting's name: `inherit`, `on` or `off`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Inherit => "inherit",
            Self::On => "on",
            Self::Off => "off",
        }
    }

    /// The setting with this name, if any.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "inherit" => Some(Self::Inherit),
            "on" => Some(Self::On),
            "off" => Some(Self::Off),
            _ => None,
        }
    }
}

/// What the host knows about a user's rights over tokens.
///
/// Tokens are enabled for administrators always, and for each member by
/// their own [`Enablement`], which may defer to the deployment's default.
/// Enabled means the user may generate *and use* tokens; the core combines
/// the three facts, so that no adapter decides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    /// Whether the user administers the deployment.
    pub admin: bool,
    /// The user's own setting.
    pub tokens: Enablement,
    /// The deployment-wide default for members whose setting is
    /// [`Enablement::Inherit`].
    pub members_enabled: bool,
}

impl Standing {
    /// A user whose tokens are enabled: what a library without users or
    /// roles (the npm package, a Rust service) passes for every owner.
    pub const OWNER: Self = Self {
        admin: false,
        tokens: Enablement::On,
        members_enabled: true,
    };

    /// Whether the user may generate and use tokens.
    pub fn tokens_enabled(&self) -> bool {
        self.admin
            || match self.tokens {
                Enablement::On => true,
                Enablement::Off => false,
                Enablement::Inherit => self.members_enabled,
            }
    }
}

/// Who issues a token for another user ([`Actor::Issuer`]).
#[derive(Clone, Copy, Debug)]
pub enum Issuer<'r> {
    /// An administrator the host authenticated by password or session (the
    /// core checks `admin`).
    Administrator {
        /// The administrator.
        admin_id: &'r str,
        /// The administrator's rights.
        standing: Standing,
    },
    /// A service key the host holds and the caller presented, by its name.
    ServiceKey {
        /// The key's name.
        key_id: &'r str,
    },
}

/// The standing of a user the host does not have: no rights at all.
const NOBODY: Standing = Standing {
    admin: false,
    tokens: Enablement::Off,
    members_enabled: false,
};

/// The actor of a lifecycle operation.
#[derive(Clone, Copy, Debug)]
pub enum Actor<'r> {
    /// A user the host authenticated by password or session.
    User {
        /// The user.
        user_id: &'r str,
        /// Their rights over tokens.
        standing: Standing,
    },
    /// A token, authenticated by [`crate::Deployment::authenticate`] (active,
    /// unexpired and its user enabled when it was checked), which carries
    /// its user's standing.
    Token {
        /// The token.
        token: Authenticated<'r>,
    },
    /// An administrator the host authenticated, acting on another user's
    /// tokens (an administrator's console): they may see them, deactivate
    /// or re-activate them and delete them, never create, rotate, rename or
    /// use them.
    Administrator {
        /// The administrator.
        admin_id: &'r str,
        /// The administrator's rights (the core checks `admin`).
        standing: Standing,
        /// The user whose tokens they act on.
        user_id: &'r str,
    },
    /// An administrator or a service key creating a token for a user
    /// (Workbench's user tokens). It may only create, and only when the
    /// deployment allows it, for a user who exists and whose tokens are
    /// enabled; the record names the issuer.
    Issuer {
        /// Who issues.
        issuer: Issuer<'r>,
        /// The user the token is for.
        user_id: &'r str,
        /// That user's standing, or `None` when the host has no such user.
        owner: Option<Standing>,
        /// Whether the deployment lets tokens be issued for users (off by
        /// default).
        allowed: bool,
    },
}

impl<'r> Actor<'r> {
    /// A user authenticated by the host.
    pub fn user(user_id: &'r str, standing: Standing) -> Self {
        Self::User { user_id, standing }
    }

    /// An authenticated token acting for its user.
    pub fn token(token: Authenticated<'r>) -> Self {
        Self::Token { token }
    }

    /// An administrator acting on `user_id`'s tokens.
    pub fn administrator(admin_id: &'r str, standing: Standing, user_id: &'r str) -> Self {
        Self::Administrator {
            admin_id,
            standing,
            user_id,
        }
    }

    /// An issuer creating a token for `user_id` (see [`Actor::Issuer`]).
    pub fn issuer(
        issuer: Issuer<'r>,
        user_id: &'r str,
        owner: Option<Standing>,
        allowed: bool,
    ) -> Self {
        Self::Issuer {
            issuer,
            user_id,
            owner,
            allowed,
        }
    }

    /// The user whose tokens the actor acts on.
    pub fn user_id(&self) -> &'r str {
        match self {
            Self::User { user_id, .. }
            | Self::Administrator { user_id, .. }
            | Self::Issuer { user_id, .. } => user_id,
            Self::Token { token, .. } => token.record().user_id(),
        }
    }

    /// The acting token's record, when a token acts.
    pub fn token_record(&self) -> Option<&'r TokenRecord> {
        match self {
            Self::User { .. } | Self::Administrator { .. } | Self::Issuer { .. } => None,
            Self::Token { token, .. } => Some(token.record()),
        }
    }

    /// The acting user's rights over tokens (an administrator's own; for
    /// an issuer, the rights of the user the token is for, none when there
    /// is no such user).
    pub fn standing(&self) -> Standing {
        match self {
            Self::User { standing, .. } | Self::Administrator { standing, .. } => *standing,
            Self::Token { token } => token.owner(),
            Self::Issuer { owner, .. } => owner.unwrap_or(NOBODY),
        }
    }

    /// Whether an administrator acts on another user's tokens.
    pub fn is_administrator(&self) -> bool {
        matches!(self, Self::Administrator { .. })
    }
}
