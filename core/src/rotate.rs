//! Rotation: a new token that takes over from an old one, which keeps
//! working for a grace period.

use core::fmt;

use crate::code;
use crate::deployment::Deployment;
use crate::expiry::{DAY_MS, MAX_EXPIRES_AT};
use crate::issue::Issued;
use crate::record::{CreatedBy, Status, TokenRecord};
use crate::token::Token;

/// The outcome of a rotation: the new token and record, and the old record
/// with its expiry brought forward.
///
/// Store `issued.record` first and `retired` second: if the second write is
/// lost, the old token merely keeps its original expiry, and nothing that
/// was acknowledged is lost.
#[derive(Debug)]
pub struct Rotated {
    /// The new token and its record.
    pub issued: Issued,
    /// The old record, now expiring at `now + grace` (or earlier, if it
    /// already did).
    pub retired: TokenRecord,
}

/// Why a token could not be rotated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RotateError {
    /// The old token is inactive: reactivate it first, or issue a new one.
    Inactive,
    /// The old token has expired and cannot be renewed.
    Expired,
    /// The grace period is negative.
    GraceInvalid,
    /// The old token's lifetime is longer than the policy now allows.
    ExceedsPolicy,
}

impl RotateError {
    /// The stable code: `TOKEN_INACTIVE`, `TOKEN_EXPIRED`, `EXPIRY_INVALID`
    /// or `EXPIRY_EXCEEDS_POLICY`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Inactive => code::TOKEN_INACTIVE,
            Self::Expired => code::TOKEN_EXPIRED,
            Self::GraceInvalid => code::EXPIRY_INVALID,
            Self::ExceedsPolicy => code::EXPIRY_EXCEEDS_POLICY,
        }
    }
}

impl fmt::Display for RotateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Inactive => "an inactive token cannot be rotated",
            Self::Expired => "an expired token cannot be rotated",
            Self::GraceInvalid => "the grace period must not be negative",
            Self::ExceedsPolicy => "the token's lifetime is longer than the policy now allows",
        })
    }
}

impl core::error::Error for RotateError {}

impl Deployment {
    /// Rotates `old`: a new token with the same owner, name, description,
    /// creator and scope, and the same lifetime counted from `now`.
    ///
    /// A token made by a token never outlives its parent, and the parent is
    /// not at hand here, so such a token's new expiry is also capped at the
    /// old one's. The old record's expiry becomes `now + grace_ms`, never
    /// later than it already was. Rotation does not count against the
    /// policy's token limit: the old token is on its way out.
    pub fn rotate(
        &self,
        old: &TokenRecord,
        grace_ms: i64,
        now: i64,
        entropy: &[u8; 32],
    ) -> Result<Rotated, RotateError> {
        if old.status != Status::Active {
            return Err(RotateError::Inactive);
        }
        if old.is_expired(now) {
            return Err(RotateError::Expired);
        }
        if grace_ms < 0 {
            return Err(RotateError::GraceInvalid);
        }
        let policy = self.policy();
        let expires_at = match old.expires_at {
            None if !policy.allow_non_expiring => return Err(RotateError::ExceedsPolicy),
            None => None,
            Some(at) => {
                let lifetime = at.saturating_sub(old.created_at);
                let cap = policy.max_lifetime_days.map(|d| i64::from(d) * DAY_MS);
                if cap.is_some_and(|cap| lifetime > cap) {
                    return Err(RotateError::ExceedsPolicy);
                }
                let renewed = now.saturating_add(lifetime).min(MAX_EXPIRES_AT);
                Some(match old.created_by {
                    CreatedBy::Token { .. } => renewed.min(at),
                    CreatedBy::User | CreatedBy::Admin { .. } | CreatedBy::Service { .. } => {
                        renewed
                    }
                })
            }
        };
        let token = Token::compose(self.prefix(), entropy);
        let (id, hash, hint) = self.identify(&token);
        let record = TokenRecord {
            id,
            hash,
            hint,
            created_at: now,
            expires_at,
            status: Status::Active,
            last_used_at: None,
            rotated_from: Some(old.id.clone()),
            replaced_by: None,
            ..old.clone()
        };
        let mut retired = old.clone();
        retired.replaced_by = Some(record.id.clone());
        let sunset = now.saturating_add(grace_ms);
        retired.expires_at = Some(retired.expires_at.map_or(sunset, |at| at.min(sunset)));
        Ok(Rotated {
            issued: Issued { token, record },
            retired,
        })
    }
}
