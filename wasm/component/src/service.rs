//! The exported token service: each call reads what it needs through the
//! storage imports, lets the core decide, and writes back the result.

use std::sync::OnceLock;

use tessera_core::{
    Creator, Deployment, DeploymentConfig, Expiry, IssueRequest, Request, ScopeSpec, Status, code,
};

use crate::bindings::exports::tessera::tokens::service::{
    self as wit, Edit, Guest, IssueRequest as WitIssueRequest, Issued, Principal, TokenError,
};
use crate::bindings::tessera::tokens::store;
use crate::errors::{coded, fail, store_failed};
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

fn issued(issued: &tessera_core::Issued) -> Result<Issued, TokenError> {
    Ok(Issued {
        token: issued.token.expose().into(),
        record: records::public_json(&issued.record)?,
    })
}

impl Guest for Plugin {
    fn check() -> Result<(), TokenError> {
        deployment().map(|_| ())
    }

    fn issue(
        request: WitIssueRequest,
        now: i64,
        entropy_bytes: Vec<u8>,
    ) -> Result<Issued, TokenError> {
        let d = deployment()?;
        let entropy = entropy(&entropy_bytes)?;
        let scope: ScopeSpec = serde_json::from_str(&request.scope)
            .map_err(|e| fail(code::SCOPE_INVALID, format_args!("scope: {e}")))?;
        // The parent's record must outlive the borrow `Creator::Token` holds.
        let parent = match &request.parent_token {
            None => None,
            Some(input) => {
                let presented = d.parse(input).map_err(coded)?;
                let hash = d.hash(&presented);
                Some((hash, records::by_hash(&hash.to_hex())?))
            }
        };
        let creator = match &parent {
            None => Creator::User,
            Some((hash, record)) => {
                Creator::Token(d.authenticate(hash, record.as_ref(), now).map_err(coded)?)
            }
        };
        let held = store::count_by_user(&request.user_id).map_err(store_failed)?;
        let new = d
            .issue(
                &IssueRequest {
                    user_id: &request.user_id,
                    name: &request.name,
                    description: request.description.as_deref(),
                    expires: expiry(request.expires),
                    scope: &scope,
                    creator,
                    tokens_held: held as usize,
                },
                now,
                &entropy,
            )
            .map_err(coded)?;
        records::put(&new.record)?;
        issued(&new)
    }

    fn verify(
        input: String,
        request: Option<wit::Request>,
        now: i64,
    ) -> Result<Principal, TokenError> {
        let d = deployment()?;
        let presented = d.parse(&input).map_err(coded)?;
        let hash = d.hash(&presented);
        let record = records::by_hash(&hash.to_hex())?;
        let (principal, touch) = match &request {
            Some(request) => {
                let request = Request {
                    action: &request.action,
                    resource: request.resource.as_deref(),
                };
                let verified = d
                    .verify(&hash, record.as_ref(), &request, now)
                    .map_err(coded)?;
                (verified.principal, verified.touch)
            }
            None => {
                let authenticated = d.authenticate(&hash, record.as_ref(), now).map_err(coded)?;
                (
                    authenticated.principal(),
                    authenticated.record().touch_due(now),
                )
            }
        };
        if touch {
            // A lost last-used write must not refuse a valid token.
            let _ = store::touch(principal.token_id, now);
        }
        Ok(Principal {
            user_id: principal.user_id.into(),
            token_id: principal.token_id.into(),
            scope: serde_json::to_string(principal.scope).map_err(|e| fail(code::INTERNAL, e))?,
            expires_at: record.as_ref().and_then(|r| r.expires_at()),
        })
    }

    fn list(user_id: String) -> Result<Vec<String>, TokenError> {
        records::of_user(&user_id)?
            .iter()
            .map(records::public_json)
            .collect()
    }

    fn get(user_id: String, id: String) -> Result<String, TokenError> {
        records::public_json(&records::owned(&user_id, &id)?)
    }

    fn update(user_id: String, id: String, edit: Edit) -> Result<String, TokenError> {
        let mut record = records::owned(&user_id, &id)?;
        if let Some(name) = &edit.name {
            record.rename(name).map_err(coded)?;
        }
        if let Some(description) = &edit.description {
            record.describe(description.as_deref()).map_err(coded)?;
        }
        if let Some(active) = edit.active {
            record.set_status(if active {
                Status::Active
            } else {
                Status::Inactive
            });
        }
        records::put(&record)?;
        records::public_json(&record)
    }

    fn rotate(
        user_id: String,
        id: String,
        grace_ms: i64,
        now: i64,
        entropy_bytes: Vec<u8>,
    ) -> Result<Issued, TokenError> {
        let d = deployment()?;
        let entropy = entropy(&entropy_bytes)?;
        let old = records::owned(&user_id, &id)?;
        let rotated = d.rotate(&old, grace_ms, now, &entropy).map_err(coded)?;
        // New first: if the second write is lost, the old token only keeps
        // its original expiry.
        records::put(&rotated.issued.record)?;
        records::put(&rotated.retired)?;
        issued(&rotated.issued)
    }

    fn delete(user_id: String, id: String) -> Result<(), TokenError> {
        records::owned(&user_id, &id)?;
        store::delete(&id).map_err(store_failed)?;
        Ok(())
    }

    fn expiring_within(
        user_id: String,
        window_ms: i64,
        now: i64,
    ) -> Result<Vec<String>, TokenError> {
        records::of_user(&user_id)?
            .iter()
            .filter(|record| record.expires_within(now, window_ms))
            .map(records::public_json)
            .collect()
    }
}
