//! Verification: from a presented token and the record found by its hash to
//! a principal, or a denial with a stable code.
//!
//! The steps run in PRODUCT order: constant-time hash comparison, the
//! user's enablement, status, expiry, the client's address, scope. [`Deployment::authenticate`] stops before scope, for
//! callers that authorize differently (such as creating a token with a
//! token); [`Deployment::verify`] runs them all.

use core::fmt;
use core::net::IpAddr;

use crate::actor::Standing;
use crate::code;
use crate::deployment::Deployment;
use crate::hash::TokenHash;
use crate::record::{Status, TokenRecord};
use crate::scope::{Request, Scope};

/// A token whose record matched, whose user's tokens were enabled, and
/// which was active and unexpired at the time it was checked. Only
/// [`Deployment::authenticate`] makes one.
#[derive(Clone, Copy, Debug)]
pub struct Authenticated<'r> {
    record: &'r TokenRecord,
    owner: Standing,
}

impl<'r> Authenticated<'r> {
    /// The authenticated token's record.
    pub fn record(&self) -> &'r TokenRecord {
        self.record
    }

    /// Its user's standing, as the caller looked it up with the record.
    pub fn owner(&self) -> Standing {
        self.owner
    }

    /// Whose token it is and what it may do.
    pub fn principal(&self) -> Principal<'r> {
        Principal {
            user_id: &self.record.user_id,
            token_id: &self.record.id,
            scope: &self.record.scope,
        }
    }
}

/// Who is calling: the outcome of a successful verification. It borrows the
/// record, so producing it allocates nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Principal<'r> {
    /// The token's owner.
    pub user_id: &'r str,
    /// The token's public id.
    pub token_id: &'r str,
    /// The token's scope.
    pub scope: &'r Scope,
}

/// A successful verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verified<'r> {
    /// Who is calling.
    pub principal: Principal<'r>,
    /// Whether the caller should record this use as the token's last-used
    /// time (at most once a minute per token; see [`TokenRecord::touch`]).
    pub touch: bool,
    /// Until when this outcome may be reused for the same token, request
    /// and client address while the record and its user's standing stay
    /// unchanged (see [`TokenRecord::recheck_at`]).
    pub recheck_at: i64,
}

/// Why a presented token was refused after parsing.
///
/// Callers answer the first four with one undifferentiated 401, and
/// [`Denial::IpDenied`] and [`Denial::ScopeDenied`] with a 403; see
/// [`Denial::is_unauthenticated`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Denial {
    /// No record, or a record whose hash does not match.
    Unknown,
    /// The token was deactivated.
    Inactive,
    /// The token expired.
    Expired {
        /// When it expired (ms since the epoch).
        expires_at: i64,
    },
    /// The token's user may not use tokens.
    Disabled,
    /// The request comes from outside the token's allowed IP ranges, or
    /// from an unknown address while the token has ranges.
    IpDenied,
    /// The scope does not allow the request.
    ScopeDenied,
}

impl Denial {
    /// The stable code: `TOKEN_UNKNOWN`, `TOKEN_INACTIVE`, `TOKEN_EXPIRED`,
    /// `TOKENS_DISABLED`, `IP_DENIED` or `SCOPE_DENIED`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unknown => code::TOKEN_UNKNOWN,
            Self::Inactive => code::TOKEN_INACTIVE,
            Self::Expired { .. } => code::TOKEN_EXPIRED,
            Self::Disabled => code::TOKENS_DISABLED,
            Self::IpDenied => code::IP_DENIED,
            Self::ScopeDenied => code::SCOPE_DENIED,
        }
    }

    /// Whether the denial means "not authenticated" (HTTP 401) rather than
    /// "authenticated but not allowed" (HTTP 403).
    pub fn is_unauthenticated(&self) -> bool {
        !matches!(self, Self::ScopeDenied | Self::IpDenied)
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown => f.write_str("the token is not known"),
            Self::Inactive => f.write_str("the token is inactive"),
            Self::Expired { expires_at } => write!(f, "the token expired at {expires_at} ms"),
            Self::Disabled => f.write_str("the token's user may not use tokens"),
            Self::IpDenied => f.write_str("the token may not be used from this address"),
            Self::ScopeDenied => f.write_str("the token's scope does not allow this request"),
        }
    }
}

impl core::error::Error for Denial {}

impl Deployment {
    /// Checks that `record`, looked up by `hash`, is the presented token's,
    /// that its user (whose standing `owner` the caller looked up with the
    /// record) may use tokens, that it is active and unexpired at `now`, and
    /// that its allowed IP ranges hold the client's address `ip` (`None`
    /// when the caller cannot tell it, which only an unrestricted token
    /// passes). Callers without users or roles pass [`Standing::OWNER`].
    pub fn authenticate<'r>(
        &self,
        hash: &TokenHash,
        record: Option<&'r TokenRecord>,
        owner: Standing,
        ip: Option<IpAddr>,
        now: i64,
    ) -> Result<Authenticated<'r>, Denial> {
        let record = record.ok_or(Denial::Unknown)?;
        if !record.hash.ct_eq(hash) {
            return Err(Denial::Unknown);
        }
        if !owner.tokens_enabled() {
            return Err(Denial::Disabled);
        }
        if record.status != Status::Active {
            return Err(Denial::Inactive);
        }
        if let Some(expires_at) = record.expires_at.filter(|&at| now >= at) {
            return Err(Denial::Expired { expires_at });
        }
        if !record.allowed_ips.allows(ip) {
            return Err(Denial::IpDenied);
        }
        Ok(Authenticated { record, owner })
    }

    /// Runs every verification step: [`Deployment::authenticate`] (with the
    /// request's client address), then the scope against the deployment's
    /// catalog.
    pub fn verify<'r>(
        &self,
        hash: &TokenHash,
        record: Option<&'r TokenRecord>,
        owner: Standing,
        request: &Request<'_>,
        now: i64,
    ) -> Result<Verified<'r>, Denial> {
        let authenticated = self.authenticate(hash, record, owner, request.ip, now)?;
        let record = authenticated.record;
        if !record.scope.allows(request, self.catalog()) {
            return Err(Denial::ScopeDenied);
        }
        Ok(Verified {
            principal: authenticated.principal(),
            touch: record.touch_due(now),
            recheck_at: record.recheck_at(now),
        })
    }
}
