//! The audit log's rows: who did what to which token or setting, when and
//! from where. Both backends write them in the transaction of the change
//! they record, and refuse to change or delete them afterwards.
//!
//! An event names a token by its id and a user by name; it never holds a
//! token, a hash or a password.

use std::net::IpAddr;

use serde::Serialize;
use serde_json::{Value, json};
use tessera_core::{AuditEvent, TokenRecord, token_events};

use super::{StoredToken, TokenWrite};

/// Who acts, as the audit log names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActorKind {
    /// A user by password or by a session signed in with one.
    Password,
    /// A token, for its user.
    Token,
    /// An administrator, on another user's tokens or on settings.
    Admin,
    /// Whoever runs `tessera-host` on the machine (the CLI).
    Operator,
    /// GitHub's secret scanning, reporting leaked tokens.
    Scanner,
    /// A service key the host holds, issuing a token for a user.
    Service,
}

impl ActorKind {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Token => "token",
            Self::Admin => "admin",
            Self::Operator => "operator",
            Self::Scanner => "scanner",
            Self::Service => "service",
        }
    }
}

/// Who makes a change, from where and when: what the audit log records
/// beside the change itself.
#[derive(Clone, Debug)]
pub struct Origin {
    /// Who acts.
    pub kind: ActorKind,
    /// The acting user, if a user acts.
    pub user: Option<String>,
    /// The acting token's id, if a token acts.
    pub token_id: Option<String>,
    /// The client's address, if the change came over the network.
    pub address: Option<IpAddr>,
    /// When (ms since the epoch).
    pub at: i64,
    /// The token a cascading operation was asked for: the other tokens it
    /// changes are recorded as changed through it.
    pub cascade_of: Option<String>,
    /// What every event of the change adds (a JSON object; never a
    /// secret): where a reported token leaked, say.
    pub detail: Option<Value>,
}

impl Origin {
    /// The operator at the machine, at `at`.
    pub fn operator(at: i64) -> Self {
        Self {
            kind: ActorKind::Operator,
            user: None,
            token_id: None,
            address: None,
            at,
            cascade_of: None,
            detail: None,
        }
    }

    /// The same origin, for an operation that cascades from `id`.
    pub fn cascading_from(&self, id: &str) -> Self {
        Self {
            cascade_of: Some(id.to_owned()),
            ..self.clone()
        }
    }
}

/// An event about to be written, with its origin.
#[derive(Clone, Debug)]
pub struct NewEvent<'a> {
    /// What happened.
    pub event: AuditEvent,
    /// Whose token or account it concerns.
    pub user_id: Option<String>,
    /// The token it concerns.
    pub token_id: Option<String>,
    /// More about it, as JSON (never a secret).
    pub detail: Option<String>,
    /// Who, where from, when.
    pub origin: &'a Origin,
}

impl<'a> NewEvent<'a> {
    /// An event about a user or a setting.
    pub fn about(
        event: AuditEvent,
        user_id: Option<&str>,
        detail: Value,
        origin: &'a Origin,
    ) -> Self {
        Self {
            event,
            user_id: user_id.map(str::to_owned),
            token_id: None,
            detail: Some(detail.to_string()),
            origin,
        }
    }

    /// The address as stored.
    pub fn address(&self) -> Option<String> {
        self.origin.address.map(|address| address.to_string())
    }
}

/// The events of a batch of token writes, given what each written id held
/// before (`before[i]` for `writes[i]`). The core names the events; this
/// adds who and the cascade. A record that cannot be read (never one the
/// plugin wrote) still makes an event, `token.changed`: the log never
/// blocks a write and never leaves one out.
pub fn token_write_events<'a>(
    writes: &[TokenWrite],
    before: &[Option<StoredToken>],
    origin: &'a Origin,
) -> Vec<NewEvent<'a>> {
    let mut events = Vec::new();
    let changed: Vec<&str> = writes.iter().map(TokenWrite::id).collect();
    for (write, before) in writes.iter().zip(before) {
        let (after, user_id) = match (write, before) {
            (TokenWrite::Put(token), _) => (Some(token), &token.user_id),
            (TokenWrite::Delete(_), Some(token)) => (None, &token.user_id),
            (TokenWrite::Delete(_), None) => continue,
        };
        let id = write.id();
        let old = before.as_ref().map(|token| record(&token.json));
        let new = after.map(|token| record(&token.json));
        let named = match (old, new) {
            (None, None) => Vec::new(),
            (None, Some(_)) => vec![AuditEvent::TokenCreated],
            (Some(_), None) => vec![AuditEvent::TokenDeleted],
            (Some(Some(old)), Some(Some(new))) => token_events(Some(&old), Some(&new)),
            (Some(_), Some(_)) => vec![AuditEvent::TokenChanged],
        };
        let detail = detail(origin, id, &changed);
        for event in named {
            events.push(NewEvent {
                event,
                user_id: Some(user_id.clone()),
                token_id: Some(id.to_owned()),
                detail: detail.clone(),
                origin,
            });
        }
    }
    events
}

/// What the events of token `id` add: the origin's detail, and how the
/// token stands in a cascade.
fn detail(origin: &Origin, id: &str, changed: &[&str]) -> Option<String> {
    let mut detail = match &origin.detail {
        Some(Value::Object(members)) => members.clone(),
        _ => serde_json::Map::new(),
    };
    match origin.cascade_of.as_deref() {
        Some(root) if root == id && changed.len() > 1 => {
            let others: Vec<&str> = changed.iter().copied().filter(|c| *c != id).collect();
            detail.insert("cascade".into(), json!(others));
        }
        Some(root) if root != id => {
            detail.insert("cascadeOf".into(), json!(root));
        }
        _ => {}
    }
    (!detail.is_empty()).then(|| Value::Object(detail).to_string())
}

fn record(json: &str) -> Option<TokenRecord> {
    serde_json::from_str(json).ok()
}

/// One event of the audit log, as read back.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// Its place in the log: later events have larger numbers.
    pub seq: i64,
    /// When (ms since the epoch).
    pub at: i64,
    /// What happened (`token.created`, …).
    pub event: String,
    /// Whose token or account it concerns.
    pub user_id: Option<String>,
    /// The token it concerns.
    pub token_id: Option<String>,
    /// Who acted.
    pub actor: EntryActor,
    /// The client's address, if the change came over the network.
    pub address: Option<String>,
    /// More about it.
    pub detail: Option<Value>,
}

/// Who acted, as read back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryActor {
    /// `password`, `token`, `admin`, `operator` or `scanner`.
    pub kind: String,
    /// The acting user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The acting token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
}

/// The columns of a read row, in [`SELECT_ENTRY`]'s order.
#[allow(missing_docs)]
pub struct Columns {
    pub seq: i64,
    pub at: i64,
    pub event: String,
    pub user_id: Option<String>,
    pub token_id: Option<String>,
    pub actor: String,
    pub actor_user: Option<String>,
    pub actor_token: Option<String>,
    pub address: Option<String>,
    pub detail: Option<String>,
}

impl From<Columns> for Entry {
    fn from(c: Columns) -> Self {
        Self {
            seq: c.seq,
            at: c.at,
            event: c.event,
            user_id: c.user_id,
            token_id: c.token_id,
            actor: EntryActor {
                kind: c.actor,
                user_id: c.actor_user,
                token_id: c.actor_token,
            },
            address: c.address,
            // Only this module writes the column, always JSON; a row that
            // is not reads as having no detail rather than failing a page.
            detail: c
                .detail
                .and_then(|detail| serde_json::from_str(&detail).ok()),
        }
    }
}

/// The columns read, in [`Columns`]' order.
pub const SELECT_ENTRY: &str = "SELECT seq, at, event, user_id, token_id, actor, actor_user, actor_token, address, detail FROM audit";

/// Which events to read: newest first, before a cursor.
#[derive(Clone, Debug, Default)]
pub struct Query {
    /// Only events concerning this user or done by them.
    pub user: Option<String>,
    /// Only events concerning this token.
    pub token_id: Option<String>,
    /// Only events of this kind.
    pub event: Option<AuditEvent>,
    /// Only events at or after this time (ms since the epoch).
    pub since: Option<i64>,
    /// Only events before this one (the previous page's cursor).
    pub before: Option<i64>,
    /// At most this many.
    pub limit: usize,
}

/// A page of the audit log, newest first.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    /// The events.
    pub events: Vec<Entry>,
    /// The cursor of the next (older) page, if there is one.
    pub next: Option<String>,
}

impl Page {
    /// The page of `rows` (at most `limit + 1`, newest first).
    pub fn of(mut rows: Vec<Entry>, limit: usize) -> Self {
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = if more {
            rows.last().map(|entry| entry.seq.to_string())
        } else {
            None
        };
        Self { events: rows, next }
    }
}
