//! The exported token service: each call authenticates the actor, reads the
//! actor's user's records through the storage imports, lets the core decide,
//! and applies the writes the core returns in one transaction.

use std::net::IpAddr;
use std::sync::OnceLock;

use tessera_core::{
    Actor, CreateRequest, Deployment, DeploymentConfig, Edit, Expiry, Issuer, Minted, Request,
    ScopeSpec, Standing, Status, TokenRecord, code,
};

use crate::bindings::exports::tessera::tokens::service::{
    self as wit, Guest, IssueRequest as WitIssueRequest, Issued, Principal, TokenError, Updated,
};
use crate::bindings::tessera::tokens::store;
use crate::errors::{coded, fail};
use crate::records;

/// The component's export.
pub(crate) struct Plugin;

/// The deployment, built once per instance from the host's configuration.
fn deployment() -> Result<&'static Deployment, TokenError> {
    static DEPLOYMENT: OnceLock<Result<Deployment, TokenError>> = OnceLock::new();
    DEPLOYMENT
        .get_or_init(|| {
            let config: DeploymentConfig = serde_json::from_str(&store::config())
                .map_err(|e| fail(code::BAD_REQUEST, format_args!("configuration: {e}")))?;
            config.build().map_err(coded)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The client address the host passed; one that is not an IP address is a
/// host's mistake, refused rather than taken for an unknown address.
fn client_ip(ip: Option<&str>) -> Result<Option<IpAddr>, TokenError> {
    ip.map(|text| {
        tessera_core::parse_ip(text)
            .ok_or_else(|| fail(code::BAD_REQUEST, "the client address is not an IP address"))
    })
    .transpose()
}

fn entropy(bytes: &[u8]) -> Result<[u8; 32], TokenError> {
    bytes
        .try_into()
        .map_err(|_| fail(code::BAD_REQUEST, "entropy must be exactly 32 bytes"))
}

fn expiry(expires: wit::Expiry) -> Expiry {
    match expires {
        wit::Expiry::Never => Expiry::Never,
        wit::Expiry::Days(days) => Expiry::Days(days),
        wit::Expiry::At(at) => Expiry::At(at),
    }
}

fn minted(minted: &Minted) -> Result<Issued, TokenError> {
    Ok(Issued {
        token: minted.token.expose().into(),
        record: records::public_json(&minted.record)?,
    })
}

fn public_list(records: &[&TokenRecord]) -> Result<Vec<String>, TokenError> {
    records.iter().map(|r| records::public_json(r)).collect()
}

/// A token actor's hash and what the store found under it: the record and
/// its user's standing.
type Looked = (
    tessera_core::TokenHash,
    Option<(std::rc::Rc<records::Decoded>, Standing)>,
);

/// Who acts beside a token: a user, an administrator on another user's
/// tokens, or an issuer creating a token for a user.
enum Role {
    User,
    Administrator(String),
    Issuer {
        by: By,
        owner: Option<Standing>,
        allowed: bool,
    },
}

/// The issuer of [`Role::Issuer`], owned.
enum By {
    Administrator(String, Standing),
    ServiceKey(String),
}

/// The actor, resolved: a token actor's record (looked up by its hash) and
/// the actor's user's records, which every operation decides over.
struct Resolved {
    token: Option<Looked>,
    /// The client address a token actor is presented from.
    ip: Option<IpAddr>,
    user_id: Option<String>,
    role: Role,
    standing: Standing,
    records: Vec<TokenRecord>,
}

impl Resolved {
    /// Looks up what the actor's operations need: for a token, its record;
    /// then every record of the user.
    fn load(d: &Deployment, actor: &wit::Actor) -> Result<Self, TokenError> {
        let mut role = Role::User;
        let mut ip = None;
        let (token, user_id, standing) = match actor {
            wit::Actor::User(user) => (
                None,
                Some(user.user_id.clone()),
                records::standing(user.standing),
            ),
            wit::Actor::Administrator(admin) => {
                role = Role::Administrator(admin.admin_id.clone());
                (
                    None,
                    Some(admin.user_id.clone()),
                    records::standing(admin.standing),
                )
            }
            wit::Actor::Issuer(issuer) => {
                let by = match &issuer.issuer {
                    wit::Issuer::Administrator(admin) => {
                        By::Administrator(admin.user_id.clone(), records::standing(admin.standing))
                    }
                    wit::Issuer::ServiceKey(key) => By::ServiceKey(key.clone()),
                };
                role = Role::Issuer {
                    by,
                    owner: issuer.owner.map(records::standing),
                    allowed: issuer.allowed,
                };
                (None, Some(issuer.user_id.clone()), Standing::OWNER)
            }
            wit::Actor::Token(token) => {
                ip = client_ip(token.ip.as_deref())?;
                let presented = d.parse(&token.credential).map_err(coded)?;
                let hash = d.hash(&presented);
                let found = records::by_hash(&hash.to_hex())?;
                let user_id = found.as_ref().map(|(r, _)| r.record.user_id().to_string());
                let owner = found.as_ref().map_or(Standing::OWNER, |(_, owner)| *owner);
                (Some((hash, found)), user_id, owner)
            }
        };
        let records = match &user_id {
            Some(user_id) => records::of_user(user_id)?,
            None => Vec::new(),
        };
        Ok(Self {
            token,
            ip,
            user_id,
            role,
            standing,
            records,
        })
    }

    /// The core's actor; a token that is unknown, inactive or expired now
    /// is refused with its denial.
    fn actor(&self, d: &Deployment, now: i64) -> Result<Actor<'_>, TokenError> {
        let user_id = self.user_id.as_deref().unwrap_or_default();
        if let Some((hash, found)) = &self.token {
            let record = found.as_ref().map(|(decoded, _)| &decoded.record);
            let token = d
                .authenticate(hash, record, self.standing, self.ip, now)
                .map_err(coded)?;
            return Ok(Actor::token(token));
        }
        Ok(match &self.role {
            Role::User => Actor::user(user_id, self.standing),
            Role::Administrator(admin_id) => Actor::administrator(admin_id, self.standing, user_id),
            Role::Issuer { by, owner, allowed } => {
                let issuer = match by {
                    By::Administrator(admin_id, standing) => Issuer::Administrator {
                        admin_id,
                        standing: *standing,
                    },
                    By::ServiceKey(key_id) => Issuer::ServiceKey { key_id },
                };
                Actor::issuer(issuer, user_id, *owner, *allowed)
            }
        })
    }
}

/// Runs `operation` with the actor's lifecycle at `now`.
fn with_lifecycle<T>(
    actor: &wit::Actor,
    now: i64,
    operation: impl FnOnce(&tessera_core::Lifecycle<'_>) -> Result<T, TokenError>,
) -> Result<T, TokenError> {
    let d = deployment()?;
    let resolved = Resolved::load(d, actor)?;
    let actor = resolved.actor(d, now)?;
    operation(&d.lifecycle(actor, &resolved.records, now))
}

impl Guest for Plugin {
    fn check() -> Result<(), TokenError> {
        deployment().map(|_| ())
    }

    fn issue(
        actor: wit::Actor,
        request: WitIssueRequest,
        now: i64,
        entropy_bytes: Vec<u8>,
    ) -> Result<Issued, TokenError> {
        let entropy = entropy(&entropy_bytes)?;
        let scope: ScopeSpec = serde_json::from_str(&request.scope)
            .map_err(|e| fail(code::SCOPE_INVALID, format_args!("scope: {e}")))?;
        with_lifecycle(&actor, now, |life| {
            let new = life
                .create(
                    &CreateRequest {
                        name: &request.name,
                        description: request.description.as_deref(),
                        expires: expiry(request.expires),
                        scope: &scope,
                        allowed_ips: &request.allowed_ips,
                    },
                    &entropy,
                )
                .map_err(coded)?;
            records::apply(&new.writes)?;
            minted(&new)
        })
    }

    fn verify(
        input: String,
        request: Option<wit::Request>,
        ip: Option<String>,
        now: i64,
    ) -> Result<Principal, TokenError> {
        let d = deployment()?;
        let ip = client_ip(ip.as_deref())?;
        let presented = d.parse(&input).map_err(coded)?;
        let hash = d.hash(&presented);
        let found = records::by_hash(&hash.to_hex())?;
        let decoded = found.as_ref().map(|(decoded, _)| decoded);
        let record = decoded.map(|decoded| &decoded.record);
        let owner = found.as_ref().map_or(Standing::OWNER, |(_, owner)| *owner);
        let (principal, touch, recheck_at) = match &request {
            Some(request) => {
                let request = Request {
                    action: &request.action,
                    resource: request.resource.as_deref(),
                    ip,
                };
                let verified = d
                    .verify(&hash, record, owner, &request, now)
                    .map_err(coded)?;
                (verified.principal, verified.touch, verified.recheck_at)
            }
            None => {
                let authenticated = d
                    .authenticate(&hash, record, owner, ip, now)
                    .map_err(coded)?;
                let record = authenticated.record();
                (
                    authenticated.principal(),
                    record.touch_due(now),
                    record.recheck_at(now),
                )
            }
        };
        if touch {
            // A lost last-used write never refuses a valid token; the host
            // logs the failure.
            let _ = store::touch(principal.token_id, now);
        }
        Ok(Principal {
            user_id: principal.user_id.into(),
            token_id: principal.token_id.into(),
            scope: match decoded {
                Some(decoded) => decoded.scope_json(principal.scope)?,
                None => {
                    serde_json::to_string(principal.scope).map_err(|e| fail(code::INTERNAL, e))?
                }
            },
            expires_at: record.and_then(TokenRecord::expires_at),
            recheck_at,
        })
    }

    fn list(actor: wit::Actor, now: i64) -> Result<Vec<String>, TokenError> {
        with_lifecycle(&actor, now, |life| {
            public_list(&life.list().map_err(coded)?)
        })
    }

    fn get(actor: wit::Actor, id: String, now: i64) -> Result<String, TokenError> {
        with_lifecycle(&actor, now, |life| {
            records::public_json(life.get(&id).map_err(coded)?)
        })
    }

    fn update(
        actor: wit::Actor,
        id: String,
        edit: wit::Edit,
        cascade: bool,
        now: i64,
    ) -> Result<Updated, TokenError> {
        let edit_of = Edit {
            name: edit.name.as_deref(),
            description: edit.description.as_ref().map(Option::as_deref),
            status: edit.status.map(|status| match status {
                wit::Status::Active => Status::Active,
                wit::Status::Inactive => Status::Inactive,
            }),
        };
        with_lifecycle(&actor, now, |life| {
            let change = life.update(&id, &edit_of, cascade).map_err(coded)?;
            records::apply(&change.writes)?;
            let record = change
                .record
                .as_ref()
                .ok_or_else(|| fail(code::INTERNAL, "an update without its record"))?;
            Ok(Updated {
                record: records::public_json(record)?,
                affected: change.affected().map(Into::into).collect(),
            })
        })
    }

    fn rotate(
        actor: wit::Actor,
        id: String,
        grace_ms: i64,
        now: i64,
        entropy_bytes: Vec<u8>,
    ) -> Result<Issued, TokenError> {
        let entropy = entropy(&entropy_bytes)?;
        with_lifecycle(&actor, now, |life| {
            let new = life.rotate(&id, grace_ms, &entropy).map_err(coded)?;
            records::apply(&new.writes)?;
            minted(&new)
        })
    }

    fn delete(
        actor: wit::Actor,
        id: String,
        cascade: bool,
        now: i64,
    ) -> Result<Vec<String>, TokenError> {
        with_lifecycle(&actor, now, |life| {
            let change = life.delete(&id, cascade).map_err(coded)?;
            records::apply(&change.writes)?;
            Ok(change.affected().map(Into::into).collect())
        })
    }

    fn deactivate_all(actor: wit::Actor, now: i64) -> Result<Vec<String>, TokenError> {
        with_lifecycle(&actor, now, |life| {
            let change = life.deactivate_all().map_err(coded)?;
            if !change.writes.is_empty() {
                records::apply(&change.writes)?;
            }
            Ok(change.affected().map(Into::into).collect())
        })
    }

    fn expiring_within(
        actor: wit::Actor,
        window_ms: i64,
        now: i64,
    ) -> Result<Vec<String>, TokenError> {
        with_lifecycle(&actor, now, |life| {
            public_list(&life.expiring_within(window_ms).map_err(coded)?)
        })
    }
}
