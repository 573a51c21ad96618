//! Who performs a lifecycle operation: a user the host authenticated (a
//! password, a session), or a token the core authenticated.
//!
//! Every lifecycle operation ([`crate::Lifecycle`]) starts from an actor.
//! The actor decides *whose* tokens an operation may touch (only its own
//! user's) and, for a token, *which*: only tokens it could have created
//! itself.

use crate::record::TokenRecord;
use crate::verify::Authenticated;

/// What the host knows about a user's rights over tokens.
///
/// A deployment lets administrators create tokens always, and members only
/// when an administrator allowed it; the core combines the two, so that no
/// adapter decides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    /// Whether the user administers the deployment.
    pub admin: bool,
    /// Whether the deployment lets members (non-administrators) create
    /// tokens.
    pub members_may_create: bool,
}

impl Standing {
    /// A user who may create tokens: what a library without roles (the npm
    /// package, a Rust service) passes for the user it authenticated.
    pub const OWNER: Self = Self {
        admin: false,
        members_may_create: true,
    };

    /// Whether the user may create (and so rotate) tokens.
    pub fn may_create(&self) -> bool {
        self.admin || self.members_may_create
    }
}

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
    /// A token, authenticated by [`crate::Deployment::authenticate`] (active
    /// and unexpired when it was checked).
    Token {
        /// The token.
        token: Authenticated<'r>,
        /// Its user's rights over tokens.
        standing: Standing,
    },
}

impl<'r> Actor<'r> {
    /// A user authenticated by the host.
    pub fn user(user_id: &'r str, standing: Standing) -> Self {
        Self::User { user_id, standing }
    }

    /// An authenticated token acting for its user.
    pub fn token(token: Authenticated<'r>, standing: Standing) -> Self {
        Self::Token { token, standing }
    }

    /// The user the actor acts for.
    pub fn user_id(&self) -> &'r str {
        match self {
            Self::User { user_id, .. } => user_id,
            Self::Token { token, .. } => token.record().user_id(),
        }
    }

    /// The acting token's record, when a token acts.
    pub fn token_record(&self) -> Option<&'r TokenRecord> {
        match self {
            Self::User { .. } => None,
            Self::Token { token, .. } => Some(token.record()),
        }
    }

    /// The user's rights over tokens.
    pub fn standing(&self) -> Standing {
        match self {
            Self::User { standing, .. } | Self::Token { standing, .. } => *standing,
        }
    }
}
