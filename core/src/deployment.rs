//! A deployment's configuration: the one value every operation starts from.

use alloc::boxed::Box;

use crate::catalog::Catalog;
use crate::expiry::Policy;
use crate::hash::{self, Pepper, TokenHash};
use crate::prefix::Prefix;
use crate::token::{ParseError, Presented};

/// The action whose presence in a token's scope lets it create tokens,
/// unless the deployment names another.
pub const DEFAULT_CREATION_ACTION: &str = "tokens.create";
/// The action whose presence in a token's scope lets it see the user's
/// tokens (list, details, expiring), unless the deployment names another.
pub const DEFAULT_READ_ACTION: &str = "tokens.read";
/// The action whose presence in a token's scope lets it edit and delete
/// the user's tokens within its reach, unless the deployment names another.
pub const DEFAULT_WRITE_ACTION: &str = "tokens.write";

/// What a deployment decides once: its prefix, action catalog, policy,
/// optional pepper and token-creation action.
///
/// Build it at start-up and share it; every method takes `&self` and the
/// time, entropy and records it needs as arguments.
#[derive(Clone, Debug)]
pub struct Deployment {
    prefix: Prefix,
    catalog: Catalog,
    policy: Policy,
    pepper: Option<Pepper>,
    creation_action: Box<str>,
    read_action: Box<str>,
    write_action: Box<str>,
}

impl Deployment {
    /// A deployment with the default policy, no pepper and `tokens.create`
    /// as the token-creation action.
    pub fn new(prefix: Prefix, catalog: Catalog) -> Self {
        Self {
            prefix,
            catalog,
            policy: Policy::default(),
            pepper: None,
            creation_action: DEFAULT_CREATION_ACTION.into(),
            read_action: DEFAULT_READ_ACTION.into(),
            write_action: DEFAULT_WRITE_ACTION.into(),
        }
    }

    /// Replaces the policy.
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Stores HMAC-SHA-256 under `pepper` instead of plain SHA-256.
    pub fn with_pepper(mut self, pepper: Pepper) -> Self {
        self.pepper = Some(pepper);
        self
    }

    /// Names another token-creation action.
    pub fn with_creation_action(mut self, action: &str) -> Self {
        self.creation_action = action.into();
        self
    }

    /// Names other actions for seeing and for editing the user's tokens.
    pub fn with_management_actions(mut self, read: &str, write: &str) -> Self {
        self.read_action = read.into();
        self.write_action = write.into();
        self
    }

    /// The token prefix.
    pub fn prefix(&self) -> &Prefix {
        &self.prefix
    }

    /// The action catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The token-creation action.
    pub fn creation_action(&self) -> &str {
        &self.creation_action
    }

    /// The action a token needs to see the user's tokens.
    pub fn read_action(&self) -> &str {
        &self.read_action
    }

    /// The action a token needs to edit or delete the user's tokens.
    pub fn write_action(&self) -> &str {
        &self.write_action
    }

    /// Parses a bare token or `Authorization` header value of this
    /// deployment. See [`Presented::parse`].
    pub fn parse<'a>(&self, input: &'a str) -> Result<Presented<'a>, ParseError> {
        Presented::parse(input, &self.prefix)
    }

    /// The stored hash of a presented token: the store's lookup key.
    pub fn hash(&self, presented: &Presented<'_>) -> TokenHash {
        hash::hash(presented.expose(), self.pepper.as_ref())
    }
}
