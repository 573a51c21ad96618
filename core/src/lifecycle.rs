//! Lifecycle operations: create, list, get, update, rotate, delete and
//! "expiring within", each decided from an actor and the records it is
//! handed.
//!
//! This is where *who may do what to which token* is decided, once, for
//! every surface. An adapter authenticates the actor, loads the actor's
//! user's records (one `list_by_user`), calls one method of [`Lifecycle`],
//! and applies the returned [`Write`]s in order, in one transaction. It
//! decides nothing about tokens itself.
//!
//! The rules:
//! - An actor acts only on its own user's tokens; any other id is
//!   [`LifecycleError::NotFound`], so ids reveal nothing.
//! - A token actor acts only on tokens it could have created itself: scope
//!   within its own (`SCOPE_EXCEEDS_PARENT`), allowed IP ranges within its
//!   own (`IPS_EXCEED_PARENT`), expiry no later than its own
//!   (`EXPIRY_EXCEEDS_PARENT`). A token may always deactivate or delete
//!   itself, whatever its scope.
//! - A token actor needs the deployment's read action to see tokens, its
//!   write action to edit or delete them (`SCOPE_DENIED`), and the creation
//!   action to create or rotate them (`PARENT_INVALID`).
//! - Creating and rotating need the user's tokens enabled (`FORBIDDEN`; a
//!   token of a disabled user is refused before, as `TOKENS_DISABLED`).
//! - Rotation is a creation and the policy's token limit holds, counting live tokens
//!   that are not already being replaced. A token in its rotation grace
//!   period cannot be rotated again or re-activated (`TOKEN_ROTATED`).
//! - Deleting or deactivating may cascade to every token the target created,
//!   directly or transitively; re-activation never cascades.
//! - An administrator acting on another user's tokens
//!   ([`Actor::Administrator`]) must be one (`FORBIDDEN`), and may list,
//!   get, deactivate, re-activate and delete them (cascades included) and
//!   deactivate all of them at once; never create, rotate, rename or
//!   describe them (`FORBIDDEN`).
//! - An issuer creating a token for a user ([`Actor::Issuer`]: an
//!   administrator or a service key) may do nothing else (`FORBIDDEN`), and
//!   only when the deployment allows it and an issuing administrator is one
//!   (`FORBIDDEN`), for a user the host has (`NOT_FOUND`) whose tokens are
//!   enabled (`FORBIDDEN`). The policy holds as for the user's own tokens.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::actor::{Actor, Issuer};
use crate::code;
use crate::deployment::Deployment;
use crate::expiry::Expiry;
use crate::issue::{Creator, IssueError, IssueRequest, Issued};
use crate::record::{CreatedBy, EditError, Status, TokenRecord};
use crate::rotate::RotateError;
use crate::scope::ScopeSpec;
use crate::token::Token;

/// One change for the store, applied in order with the others of the same
/// operation in one transaction.
///
/// An operation yields a handful of writes, so `Put` holds its record
/// inline rather than boxing it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum Write {
    /// Insert or replace the record with this id.
    Put(TokenRecord),
    /// Delete the record with this id.
    Delete(String),
}

impl Write {
    /// The id of the record this write changes.
    pub fn id(&self) -> &str {
        match self {
            Self::Put(record) => record.id(),
            Self::Delete(id) => id,
        }
    }
}

/// What to create: everything but the owner and creator, which come from
/// the actor.
#[derive(Clone, Copy, Debug)]
pub struct CreateRequest<'a> {
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
}

/// An edit: each field that is `Some` changes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Edit<'a> {
    /// A new name.
    pub name: Option<&'a str>,
    /// A new description; `Some(None)` removes it.
    pub description: Option<Option<&'a str>>,
    /// A new status.
    pub status: Option<Status>,
}

/// A token created by [`Lifecycle::create`] or [`Lifecycle::rotate`]: the
/// value to show once, its record, and the writes to apply.
#[derive(Debug)]
pub struct Minted {
    /// The token value. Show it once; never store or log it.
    pub token: Token,
    /// The new token's record.
    pub record: TokenRecord,
    /// The writes, in order: the new record first, then (for a rotation)
    /// the old one with its expiry brought forward.
    pub writes: Vec<Write>,
}

/// The outcome of [`Lifecycle::update`] or [`Lifecycle::delete`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The target's record after an update; `None` after a deletion.
    pub record: Option<TokenRecord>,
    /// The writes, in order, for one transaction.
    pub writes: Vec<Write>,
}

impl Change {
    /// The ids of every record the change touches, the target's first.
    pub fn affected(&self) -> impl Iterator<Item = &str> {
        self.writes.iter().map(Write::id)
    }
}

/// Why a lifecycle operation was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LifecycleError {
    /// No token with this id belongs to the actor's user.
    NotFound,
    /// The user may not create tokens (a member whose tokens are not
    /// enabled).
    Forbidden,
    /// The acting token's scope lacks the action the operation needs.
    ScopeDenied,
    /// The acting token may not create tokens.
    ParentInvalid,
    /// The target's scope is beyond the acting token's.
    ScopeExceedsParent,
    /// The target outlives the acting token.
    ExpiryExceedsParent,
    /// The target may be used from addresses the acting token may not.
    IpsExceedParent,
    /// The target was rotated and is in its grace period.
    Rotated,
    /// The user holds as many live tokens as the policy allows.
    LimitReached {
        /// The policy's limit.
        limit: u32,
    },
    /// Creating the token failed.
    Issue(IssueError),
    /// Rotating the token failed.
    Rotate(RotateError),
    /// The new name or description is not acceptable.
    Edit(EditError),
}

impl LifecycleError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => code::NOT_FOUND,
            Self::Forbidden => code::FORBIDDEN,
            Self::ScopeDenied => code::SCOPE_DENIED,
            Self::ParentInvalid => code::PARENT_INVALID,
            Self::ScopeExceedsParent => code::SCOPE_EXCEEDS_PARENT,
            Self::ExpiryExceedsParent => code::EXPIRY_EXCEEDS_PARENT,
            Self::IpsExceedParent => code::IPS_EXCEED_PARENT,
            Self::Rotated => code::TOKEN_ROTATED,
            Self::LimitReached { .. } => code::LIMIT_REACHED,
            Self::Issue(error) => error.code(),
            Self::Rotate(error) => error.code(),
            Self::Edit(error) => error.code(),
        }
    }
}

impl fmt::Display for LifecycleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ScopeExceedsParent => {
                f.write_str("the token's scope is beyond the acting token's")
            }
            Self::ExpiryExceedsParent => f.write_str("the token outlives the acting token"),
            Self::IpsExceedParent => {
                f.write_str("the token may be used from addresses the acting token may not")
            }
            Self::LimitReached { limit } => {
                write!(f, "the user already holds {limit} tokens, the most allowed")
            }
            Self::Issue(error) => write!(f, "{error}"),
            Self::Rotate(error) => write!(f, "{error}"),
            Self::Edit(error) => write!(f, "{error}"),
            other => f.write_str(code::message(other.code())),
        }
    }
}

impl core::error::Error for LifecycleError {}

impl From<IssueError> for LifecycleError {
    fn from(error: IssueError) -> Self {
        match error {
            IssueError::LimitReached { limit } => Self::LimitReached { limit },
            other => Self::Issue(other),
        }
    }
}

/// The lifecycle operations of one actor over its user's records at one
/// instant. Build it with [`Deployment::lifecycle`].
#[derive(Clone, Copy, Debug)]
pub struct Lifecycle<'a> {
    deployment: &'a Deployment,
    actor: Actor<'a>,
    records: Records<'a>,
    now: i64,
}

/// The records an operation reads: a slice of them, or of references to
/// them (so a caller that indexes records need not clone them).
#[derive(Clone, Copy, Debug)]
enum Records<'a> {
    Slice(&'a [TokenRecord]),
    Refs(&'a [&'a TokenRecord]),
}

impl Deployment {
    /// The lifecycle operations of `actor` at `now`, over `records`: every
    /// record of the actor's user (records of other users are ignored, so
    /// they can never be touched).
    pub fn lifecycle<'a>(
        &'a self,
        actor: Actor<'a>,
        records: &'a [TokenRecord],
        now: i64,
    ) -> Lifecycle<'a> {
        Lifecycle {
            deployment: self,
            actor,
            records: Records::Slice(records),
            now,
        }
    }

    /// [`Deployment::lifecycle`] over references to the records, for a
    /// caller that keeps them in an index of its own.
    pub fn lifecycle_of<'a>(
        &'a self,
        actor: Actor<'a>,
        records: &'a [&'a TokenRecord],
        now: i64,
    ) -> Lifecycle<'a> {
        Lifecycle {
            deployment: self,
            actor,
            records: Records::Refs(records),
            now,
        }
    }
}

/// What an operation needs the acting token's scope to allow.
#[derive(Clone, Copy)]
enum Need {
    Read,
    Write,
    Create,
}

impl<'a> Lifecycle<'a> {
    /// The actor's user's records.
    fn owned(&self) -> impl Iterator<Item = &'a TokenRecord> + '_ {
        let user = self.actor.user_id();
        let (slice, refs) = match self.records {
            Records::Slice(slice) => (slice, &[][..]),
            Records::Refs(refs) => (&[][..], refs),
        };
        slice
            .iter()
            .chain(refs.iter().copied())
            .filter(move |r| r.user_id() == user)
    }

    /// The actor's user's record with this id.
    fn find(&self, id: &str) -> Result<&'a TokenRecord, LifecycleError> {
        self.owned()
            .find(|r| r.id() == id)
            .ok_or(LifecycleError::NotFound)
    }

    /// Whether the token was replaced by rotation and is in its grace
    /// period. The mark is on the record itself, so deleting the successor
    /// never revives it.
    fn is_retiring(&self, record: &TokenRecord) -> bool {
        !record.is_expired(self.now) && record.replaced_by().is_some()
    }

    /// How many of the user's tokens count against the policy's limit:
    /// unexpired, and not replaced by rotation.
    fn live_count(&self, except: Option<&str>) -> usize {
        self.owned()
            .filter(|r| Some(r.id()) != except)
            .filter(|r| !r.is_expired(self.now) && !self.is_retiring(r))
            .count()
    }

    /// Checks that an acting token's scope allows what the operation needs,
    /// and that an acting administrator is one and stays within what an
    /// administrator may do to another user's tokens.
    fn permit(&self, need: Need) -> Result<(), LifecycleError> {
        if let Actor::Issuer { .. } = self.actor {
            return Err(LifecycleError::Forbidden);
        }
        if self.actor.is_administrator() {
            return match need {
                Need::Read | Need::Write if self.actor.standing().admin => Ok(()),
                _ => Err(LifecycleError::Forbidden),
            };
        }
        let Some(token) = self.actor.token_record() else {
            return Ok(());
        };
        let d = self.deployment;
        let (action, refusal) = match need {
            Need::Read => (d.read_action(), LifecycleError::ScopeDenied),
            Need::Write => (d.write_action(), LifecycleError::ScopeDenied),
            Need::Create => (d.creation_action(), LifecycleError::ParentInvalid),
        };
        if token.scope().allows_action(action, d.catalog()) {
            Ok(())
        } else {
            Err(refusal)
        }
    }

    /// Checks that `target` is within the acting token's reach: a token it
    /// could have created itself.
    fn reach(&self, target: &TokenRecord) -> Result<(), LifecycleError> {
        let Some(token) = self.actor.token_record() else {
            return Ok(());
        };
        if target.id() == token.id() {
            return Ok(());
        }
        if !target
            .scope()
            .is_subset(token.scope(), self.deployment.catalog())
        {
            return Err(LifecycleError::ScopeExceedsParent);
        }
        if !target.allowed_ips().within(token.allowed_ips()) {
            return Err(LifecycleError::IpsExceedParent);
        }
        match (target.expires_at(), token.expires_at()) {
            (_, None) => Ok(()),
            (Some(target), Some(limit)) if target <= limit => Ok(()),
            _ => Err(LifecycleError::ExpiryExceedsParent),
        }
    }

    /// Whether the target is the acting token itself.
    fn is_self(&self, target: &TokenRecord) -> bool {
        self.actor
            .token_record()
            .is_some_and(|token| token.id() == target.id())
    }

    /// Every token `root` created, directly or transitively, in breadth
    /// order. The children of each token are indexed once, so the walk is
    /// linear in the user's tokens; cycles (impossible for records the core
    /// made) end it.
    fn descendants(&self, root: &TokenRecord) -> Vec<&'a TokenRecord> {
        let mut children: BTreeMap<&str, Vec<&'a TokenRecord>> = BTreeMap::new();
        for record in self.owned() {
            if let CreatedBy::Token { token_id } = record.created_by() {
                children.entry(token_id.as_str()).or_default().push(record);
            }
        }
        let mut seen = BTreeSet::new();
        seen.insert(root.id());
        let mut found: Vec<&'a TokenRecord> = Vec::new();
        let mut next = 0;
        let mut parents: Vec<&str> = alloc::vec![root.id()];
        while next < parents.len() {
            let parent = parents[next];
            next += 1;
            for child in children.get(parent).into_iter().flatten() {
                if seen.insert(child.id()) {
                    found.push(child);
                    parents.push(child.id());
                }
            }
        }
        found
    }

    /// Refuses an acting administrator who is not one, and an issuer
    /// (which may only create), before anything about the target is
    /// revealed.
    fn permit_administrator(&self) -> Result<(), LifecycleError> {
        let issuer = matches!(self.actor, Actor::Issuer { .. });
        if issuer || (self.actor.is_administrator() && !self.actor.standing().admin) {
            return Err(LifecycleError::Forbidden);
        }
        Ok(())
    }

    /// Deactivates every active token of the user at once (a user's own
    /// "revoke all", or an administrator's): the writes, oldest first, and
    /// no record (several changed). A token actor may not (`FORBIDDEN`).
    pub fn deactivate_all(&self) -> Result<Change, LifecycleError> {
        if self.actor.token_record().is_some() {
            return Err(LifecycleError::Forbidden);
        }
        self.permit(Need::Write)?;
        let writes = self
            .list()?
            .into_iter()
            .filter(|r| r.status() == Status::Active)
            .map(|r| {
                let mut record = r.clone();
                record.set_status(Status::Inactive);
                Write::Put(record)
            })
            .collect();
        Ok(Change {
            record: None,
            writes,
        })
    }

    /// The user's tokens, oldest first.
    pub fn list(&self) -> Result<Vec<&'a TokenRecord>, LifecycleError> {
        self.permit(Need::Read)?;
        let mut records: Vec<_> = self.owned().collect();
        crate::order::sort_by(&mut records, |a, b| {
            (a.created_at(), a.id()) < (b.created_at(), b.id())
        });
        Ok(records)
    }

    /// One of the user's tokens.
    pub fn get(&self, id: &str) -> Result<&'a TokenRecord, LifecycleError> {
        self.permit(Need::Read)?;
        self.find(id)
    }

    /// The user's tokens that are valid now but expire within `window_ms`,
    /// oldest first.
    pub fn expiring_within(&self, window_ms: i64) -> Result<Vec<&'a TokenRecord>, LifecycleError> {
        let mut records = self.list()?;
        records.retain(|r| r.expires_within(self.now, window_ms));
        Ok(records)
    }

    /// Creates a token for the actor's user; a token actor becomes its
    /// parent, which it may not exceed; an issuer is named in the record.
    pub fn create(
        &self,
        request: &CreateRequest<'_>,
        entropy: &[u8; 32],
    ) -> Result<Minted, LifecycleError> {
        if let Actor::Issuer {
            issuer,
            owner,
            allowed,
            ..
        } = self.actor
        {
            let admin = match issuer {
                Issuer::Administrator { standing, .. } => standing.admin,
                Issuer::ServiceKey { .. } => true,
            };
            if !allowed || !admin {
                return Err(LifecycleError::Forbidden);
            }
            if owner.is_none() {
                return Err(LifecycleError::NotFound);
            }
        }
        if !self.actor.standing().tokens_enabled() {
            return Err(LifecycleError::Forbidden);
        }
        let creator = match self.actor {
            Actor::User { .. } => Creator::User,
            Actor::Token { token, .. } => Creator::Token(token),
            Actor::Issuer {
                issuer: Issuer::Administrator { admin_id, .. },
                ..
            } => Creator::Administrator(admin_id),
            Actor::Issuer {
                issuer: Issuer::ServiceKey { key_id },
                ..
            } => Creator::ServiceKey(key_id),
            Actor::Administrator { .. } => return Err(LifecycleError::Forbidden),
        };
        let issued = self.deployment.issue(
            &IssueRequest {
                user_id: self.actor.user_id(),
                name: request.name,
                description: request.description,
                expires: request.expires,
                scope: request.scope,
                allowed_ips: request.allowed_ips,
                creator,
                tokens_held: self.live_count(None),
            },
            self.now,
            entropy,
        )?;
        let Issued { token, record } = issued;
        Ok(Minted {
            token,
            writes: alloc::vec![Write::Put(record.clone())],
            record,
        })
    }

    /// Rotates the token with this id: a new token with the same owner,
    /// name, scope and lifetime takes over; the old one keeps working for
    /// `grace_ms`. A token actor's rotated token never outlives the actor.
    pub fn rotate(
        &self,
        id: &str,
        grace_ms: i64,
        entropy: &[u8; 32],
    ) -> Result<Minted, LifecycleError> {
        self.permit_administrator()?;
        let target = self.find(id)?;
        if !self.actor.standing().tokens_enabled() {
            return Err(LifecycleError::Forbidden);
        }
        self.permit(Need::Create)?;
        self.reach(target)?;
        if self.is_retiring(target) {
            return Err(LifecycleError::Rotated);
        }
        let rotated = self
            .deployment
            .rotate(target, grace_ms, self.now, entropy)
            .map_err(LifecycleError::Rotate)?;
        if let Some(limit) = self.deployment.policy().max_tokens_per_user
            && self.live_count(Some(target.id())) >= limit as usize
        {
            return Err(LifecycleError::LimitReached { limit });
        }
        let Issued { token, mut record } = rotated.issued;
        if let Some(limit) = self.actor.token_record().and_then(TokenRecord::expires_at) {
            record.expires_at = Some(record.expires_at.map_or(limit, |at| at.min(limit)));
        }
        Ok(Minted {
            token,
            writes: alloc::vec![Write::Put(record.clone()), Write::Put(rotated.retired)],
            record,
        })
    }

    /// Edits the token with this id: name, description, status. With
    /// `cascade`, a deactivation also deactivates every token the target
    /// created, directly or transitively.
    pub fn update(
        &self,
        id: &str,
        edit: &Edit<'_>,
        cascade: bool,
    ) -> Result<Change, LifecycleError> {
        self.permit_administrator()?;
        if self.actor.is_administrator() && (edit.name.is_some() || edit.description.is_some()) {
            return Err(LifecycleError::Forbidden);
        }
        let target = self.find(id)?;
        let only_deactivates = edit.name.is_none()
            && edit.description.is_none()
            && edit.status == Some(Status::Inactive);
        if !(only_deactivates && self.is_self(target)) {
            self.permit(Need::Write)?;
            self.reach(target)?;
        }
        let mut record = target.clone();
        if let Some(name) = edit.name {
            record.rename(name).map_err(LifecycleError::Edit)?;
        }
        if let Some(description) = edit.description {
            record.describe(description).map_err(LifecycleError::Edit)?;
        }
        if let Some(status) = edit.status {
            if status == Status::Active
                && target.status() == Status::Inactive
                && self.is_retiring(target)
            {
                return Err(LifecycleError::Rotated);
            }
            record.set_status(status);
        }
        let mut writes = alloc::vec![Write::Put(record.clone())];
        if cascade && edit.status == Some(Status::Inactive) {
            for child in self.descendants(target) {
                self.reach(child)?;
                if child.status() != Status::Inactive {
                    let mut child = child.clone();
                    child.set_status(Status::Inactive);
                    writes.push(Write::Put(child));
                }
            }
        }
        Ok(Change {
            record: Some(record),
            writes,
        })
    }

    /// Deletes the token with this id for good; with `cascade`, every token
    /// it created too, directly or transitively.
    pub fn delete(&self, id: &str, cascade: bool) -> Result<Change, LifecycleError> {
        self.permit_administrator()?;
        let target = self.find(id)?;
        if !self.is_self(target) {
            self.permit(Need::Write)?;
            self.reach(target)?;
        }
        let mut writes = alloc::vec![Write::Delete(target.id().into())];
        if cascade {
            for child in self.descendants(target) {
                self.reach(child)?;
                writes.push(Write::Delete(child.id().into()));
            }
        }
        Ok(Change {
            record: None,
            writes,
        })
    }
}
