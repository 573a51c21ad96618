//! Issuing: from a request, `now` and entropy to a token shown once and the
//! record to store.

use alloc::string::String;
use core::fmt;

use crate::code;
use crate::deployment::Deployment;
use crate::expiry::{self, Expiry, ExpiryFault};
use crate::hash::{TokenHash, token_id};
use crate::network::{AllowedIps, IpsError};
use crate::record::{CreatedBy, Status, TokenRecord, check_description, check_name, check_user_id};
use crate::scope::{Scope, ScopeError, ScopeSpec};
use crate::token::Token;
use crate::verify::Authenticated;

/// Who asks for the new token.
#[derive(Clone, Copy, Debug)]
pub enum Creator<'a> {
    /// The user, authenticated by the host (a password, a session).
    User,
    /// Another token of the same user, authenticated with
    /// [`Deployment::authenticate`]. The new token may not exceed it.
    Token(Authenticated<'a>),
    /// An administrator (this user id), for the user.
    Administrator(&'a str),
    /// A service key the host holds (this name), for the user.
    ServiceKey(&'a str),
}

/// What to issue.
#[derive(Clone, Copy, Debug)]
pub struct IssueRequest<'a> {
    /// The owner.
    pub user_id: &'a str,
    /// The display name (required).
    pub name: &'a str,
    /// An optional description.
    pub description: Option<&'a str>,
    /// The expiry choice.
    pub expires: Expiry,
    /// The scope asked for.
    pub scope: &'a ScopeSpec,
    /// The CIDR ranges the token may be used from; empty for anywhere.
    pub allowed_ips: &'a [String],
    /// Who asks.
    pub creator: Creator<'a>,
    /// How many tokens the user holds now, for the policy's limit.
    pub tokens_held: usize,
}

/// A freshly issued token: the value to show once and the record to store.
#[derive(Debug)]
pub struct Issued {
    /// The token value. Show it once; never store or log it.
    pub token: Token,
    /// The record to store.
    pub record: TokenRecord,
}

/// Why a token was not issued.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IssueError {
    /// The user id is empty, too long or has control characters.
    UserInvalid,
    /// The name is empty, too long or has control characters.
    NameInvalid,
    /// The description is too long or has control characters.
    DescriptionInvalid,
    /// The scope is malformed or names actions the catalog lacks.
    Scope(ScopeError),
    /// The parent token is another user's, no longer valid, or lacks the
    /// token-creation action.
    ParentInvalid,
    /// The scope asks for more than the parent token's scope.
    ScopeExceedsParent,
    /// An allowed IP range is malformed, or there are too many.
    Ips(IpsError),
    /// The allowed IP ranges reach beyond the parent token's.
    IpsExceedParent,
    /// The expiry is in the past, zero days, or out of range.
    ExpiryInvalid,
    /// The expiry is later than the policy allows (or "never" when the
    /// policy requires expiry).
    ExpiryExceedsPolicy,
    /// The expiry is later than the parent token's.
    ExpiryExceedsParent,
    /// The user holds as many tokens as the policy allows.
    LimitReached {
        /// The policy's limit.
        limit: u32,
    },
}

impl IssueError {
    /// The stable code of each variant.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UserInvalid => code::USER_INVALID,
            Self::NameInvalid => code::NAME_INVALID,
            Self::DescriptionInvalid => code::DESCRIPTION_INVALID,
            Self::Scope(error) => error.code(),
            Self::ParentInvalid => code::PARENT_INVALID,
            Self::ScopeExceedsParent => code::SCOPE_EXCEEDS_PARENT,
            Self::Ips(error) => error.code(),
            Self::IpsExceedParent => code::IPS_EXCEED_PARENT,
            Self::ExpiryInvalid => code::EXPIRY_INVALID,
            Self::ExpiryExceedsPolicy => code::EXPIRY_EXCEEDS_POLICY,
            Self::ExpiryExceedsParent => code::EXPIRY_EXCEEDS_PARENT,
            Self::LimitReached { .. } => code::LIMIT_REACHED,
        }
    }
}

impl From<ExpiryFault> for IssueError {
    fn from(fault: ExpiryFault) -> Self {
        match fault {
            ExpiryFault::Invalid => Self::ExpiryInvalid,
            ExpiryFault::ExceedsPolicy => Self::ExpiryExceedsPolicy,
            ExpiryFault::ExceedsParent => Self::ExpiryExceedsParent,
        }
    }
}

impl fmt::Display for IssueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UserInvalid => {
                f.write_str("the user id must be 1 to 256 bytes without control characters")
            }
            Self::NameInvalid => {
                f.write_str("a token name must be 1 to 100 characters without control characters")
            }
            Self::DescriptionInvalid => f.write_str(
                "a description must be at most 1000 characters without control characters",
            ),
            Self::Scope(error) => write!(f, "{error}"),
            Self::ParentInvalid => {
                f.write_str("the parent token may not create tokens for this user")
            }
            Self::ScopeExceedsParent => {
                f.write_str("the scope asks for more than the parent token's scope")
            }
            Self::Ips(error) => write!(f, "{error}"),
            Self::IpsExceedParent => f.write_str(
                "a token made by a token may only be used from within its parent's IP ranges",
            ),
            Self::ExpiryInvalid => f.write_str(
                "the expiry must be a future time, a number of days of at least 1, -1 or never",
            ),
            Self::ExpiryExceedsPolicy => {
                f.write_str("the expiry is later than the deployment's policy allows")
            }
            Self::ExpiryExceedsParent => {
                f.write_str("a token made by a token may not outlive its parent")
            }
            Self::LimitReached { limit } => {
                write!(f, "the user already holds {limit} tokens, the most allowed")
            }
        }
    }
}

impl core::error::Error for IssueError {}

impl Deployment {
    /// Issues a token.
    ///
    /// Checks run in this order, so the same request always yields the same
    /// error: user id, name, description, scope, parent (owner, validity at
    /// `now`, the token-creation action, scope within the parent's), expiry
    /// (policy, then parent), then the policy's token limit.
    pub fn issue(
        &self,
        request: &IssueRequest<'_>,
        now: i64,
        entropy: &[u8; 32],
    ) -> Result<Issued, IssueError> {
        if !check_user_id(request.user_id) {
            return Err(IssueError::UserInvalid);
        }
        let name = check_name(request.name).ok_or(IssueError::NameInvalid)?;
        let description =
            check_description(request.description).ok_or(IssueError::DescriptionInvalid)?;
        let scope = Scope::resolve(request.scope, self.catalog()).map_err(IssueError::Scope)?;
        let allowed_ips = AllowedIps::parse(request.allowed_ips).map_err(IssueError::Ips)?;
        let (created_by, parent_expiry) = match request.creator {
            Creator::User => (CreatedBy::User, None),
            Creator::Token(parent) => {
                let parent = parent.record();
                let valid = parent.user_id == request.user_id
                    && parent.status == Status::Active
                    && !parent.is_expired(now)
                    && parent
                        .scope
                        .allows_action(self.creation_action(), self.catalog());
                if !valid {
                    return Err(IssueError::ParentInvalid);
                }
                if !scope.is_subset(&parent.scope, self.catalog()) {
                    return Err(IssueError::ScopeExceedsParent);
                }
                if !allowed_ips.within(&parent.allowed_ips) {
                    return Err(IssueError::IpsExceedParent);
                }
                let created_by = CreatedBy::Token {
                    token_id: parent.id.clone(),
                };
                (created_by, Some(parent.expires_at))
            }
            Creator::Administrator(admin_id) if check_user_id(admin_id) => (
                CreatedBy::Admin {
                    user_id: admin_id.into(),
                },
                None,
            ),
            Creator::ServiceKey(key_id) if check_user_id(key_id) => (
                CreatedBy::Service {
                    key_id: key_id.into(),
                },
                None,
            ),
            Creator::Administrator(_) | Creator::ServiceKey(_) => {
                return Err(IssueError::UserInvalid);
            }
        };
        let expires_at = expiry::resolve(request.expires, now, self.policy(), parent_expiry)?;
        if let Some(limit) = self.policy().max_tokens_per_user
            && request.tokens_held >= limit as usize
        {
            return Err(IssueError::LimitReached { limit });
        }
        let token = Token::compose(self.prefix(), entropy);
        let (id, hash, hint) = self.identify(&token);
        let record = TokenRecord {
            id,
            user_id: request.user_id.into(),
            name,
            description,
            hash,
            hint,
            created_by,
            created_at: now,
            expires_at,
            scope,
            allowed_ips,
            status: Status::Active,
            last_used_at: None,
            rotated_from: None,
            replaced_by: None,
        };
        Ok(Issued { token, record })
    }

    /// The id, hash and hint of a freshly composed token.
    pub(crate) fn identify(&self, token: &Token) -> (String, TokenHash, String) {
        let presented = token.presented();
        (
            token_id(token.expose()),
            self.hash(&presented),
            presented.hint(),
        )
    }
}
