//! Storage for the host: token records (what the plugin's storage
//! callbacks read and write), users and settings.
//!
//! Two backends answer the same calls: SQLite, embedded, the default for
//! one machine; and PostgreSQL, when several hosts (or other services) share
//! one system of record. `--db` picks one: a file path, or a
//! `postgres://` URL. Neither caches anything; the cache of a server lives
//! in [`crate::records`], which tells it of every change.

mod audit;
mod postgres;
mod sqlite;
mod tls;
mod webhooks;

use std::path::Path;

use anyhow::Result;
use tessera_core::{Enablement, Standing};

pub use self::audit::{ActorKind, Entry, EntryActor, NewEvent, Origin, Page, Query};
pub use self::postgres::{POOL_SIZE as POSTGRES_POOL_SIZE, Postgres};
pub use self::sqlite::{CommitMark, Sqlite};
pub use self::webhooks::Webhook;

/// A stored token: the indexed columns and the record JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredToken {
    /// The token's public id.
    pub id: String,
    /// The owner.
    pub user_id: String,
    /// The lookup hash, hex.
    pub hash: String,
    /// The record in its stable JSON shape.
    pub json: String,
}

/// A token found by its hash, with its user's standing (what the core needs
/// to refuse a disabled user's token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundToken {
    /// The token.
    pub token: StoredToken,
    /// Its user's standing. A user id that is no user of the host (a
    /// service principal the operator issued tokens for with the CLI) has
    /// no setting to manage and is enabled (`on`).
    pub owner: Standing,
}

/// The settings key of the deployment's default for members: whether
/// members whose own setting is `inherit` may generate and use tokens. Its
/// name predates per-user settings, when it governed creation only.
pub const MEMBERS_DEFAULT_KEY: &str = "members-can-create-tokens";
/// The setting that lets administrators and service keys issue tokens for
/// users.
pub const ISSUE_FOR_USERS_KEY: &str = "issue-for-users";

/// A standing from its stored columns: the user's admin flag and setting
/// (absent for a user id that is no user of the host: enabled) and the
/// default's value.
pub(crate) fn standing(admin: bool, tokens: Option<&str>, default: Option<&str>) -> Standing {
    Standing {
        admin,
        // The column's CHECK admits only the three names; anything else
        // would be a corrupt row, read as the safest setting.
        tokens: tokens.map_or(Enablement::On, |name| {
            Enablement::parse(name).unwrap_or(Enablement::Off)
        }),
        members_enabled: default == Some("true"),
    }
}

/// One change of an operation's writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenWrite {
    /// Insert or replace the token with this id.
    Put(StoredToken),
    /// Delete the token with this id.
    Delete(String),
}

impl TokenWrite {
    /// The id of the token this write changes.
    pub fn id(&self) -> &str {
        match self {
            Self::Put(token) => &token.id,
            Self::Delete(id) => id,
        }
    }
}

/// A user who can sign in with a password.
#[derive(Clone, Debug)]
pub struct User {
    /// The user name, which is also the user id tokens belong to.
    pub name: String,
    /// The argon2 PHC string.
    pub password_hash: String,
    /// Whether the user administers the deployment.
    pub admin: bool,
    /// Whether the user may generate and use tokens (administrators always
    /// may, whatever this says).
    pub tokens: Enablement,
}

/// A browser session of the token page. The cookie holds a secret; the
/// database only its SHA-256 (`id`), so a copy of the database signs no
/// one in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The SHA-256 of the session's secret, hex.
    pub id: String,
    /// The user signed in.
    pub user: String,
    /// When the user signed in (ms since the epoch).
    pub created_at: i64,
    /// The session's latest request (ms since the epoch).
    pub last_seen_at: i64,
}

/// A page of the change feed: the hashes of tokens changed or deleted
/// after a cursor, for gateways that cache answers and must forget them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changes {
    /// Where the next page starts.
    pub cursor: i64,
    /// The hashes, oldest change first (a hash may repeat).
    pub hashes: Vec<String>,
    /// The caller must forget everything it cached: it started without a
    /// cursor, or its cursor is older than what the feed keeps (or from
    /// another database).
    pub reset: bool,
    /// More changes follow this page.
    pub more: bool,
}

/// The sequence numbers the feed holds, read in the page's transaction.
pub(crate) struct FeedBounds {
    /// The oldest kept, if any.
    pub oldest: Option<i64>,
    /// The newest ever written (0 before the first change).
    pub newest: i64,
}

impl FeedBounds {
    /// Where to read a page from, or `None` when the caller must reset.
    pub fn start(&self, after: Option<i64>) -> Option<i64> {
        let after = after?;
        let pruned = self.oldest.is_some_and(|oldest| after < oldest - 1);
        (after <= self.newest && !pruned).then_some(after)
    }

    /// The page for `after`, given the rows read from [`FeedBounds::start`]
    /// (at most `limit + 1`).
    pub fn page(
        &self,
        after: Option<i64>,
        rows: Option<Vec<(i64, String)>>,
        limit: usize,
    ) -> Changes {
        let Some(mut rows) = rows else {
            return Changes {
                cursor: self.newest,
                hashes: Vec::new(),
                reset: true,
                more: false,
            };
        };
        let more = rows.len() > limit;
        rows.truncate(limit);
        Changes {
            cursor: rows.last().map_or(after.unwrap_or(0), |(seq, _)| *seq),
            hashes: rows.into_iter().map(|(_, hash)| hash).collect(),
            reset: false,
            more,
        }
    }
}

/// The database: one of the two backends.
pub enum Db {
    /// An embedded SQLite file (or memory).
    Sqlite(Sqlite),
    /// A PostgreSQL server, through a pool of connections.
    Postgres(Box<Postgres>),
}

/// Whether `spec` names a PostgreSQL database rather than a file.
pub fn is_postgres_url(spec: &str) -> bool {
    spec.starts_with("postgres://") || spec.starts_with("postgresql://")
}

macro_rules! dispatch {
    ($self:ident, $method:ident($($arg:expr),*)) => {
        match $self {
            Db::Sqlite(db) => db.$method($($arg),*),
            Db::Postgres(db) => db.$method($($arg),*),
        }
    };
}

impl Db {
    /// Opens the database `spec` names: a `postgres://` URL, or a SQLite
    /// file (created if missing). Both migrate their schema at open.
    pub fn connect(spec: &str) -> Result<Self> {
        if is_postgres_url(spec) {
            Ok(Self::Postgres(Box::new(Postgres::connect(spec)?)))
        } else {
            Self::open(Path::new(spec))
        }
    }

    /// Opens (creating if needed) the SQLite file at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        Ok(Self::Sqlite(Sqlite::open(path)?))
    }

    /// An in-memory SQLite database, for tests and benchmarks.
    pub fn in_memory() -> Result<Self> {
        Ok(Self::Sqlite(Sqlite::in_memory()?))
    }

    /// The token with this hash, and its user's standing, in one read.
    pub fn token_by_hash(&self, hash: &str) -> Result<Option<FoundToken>> {
        dispatch!(self, token_by_hash(hash))
    }

    /// The token with this id.
    pub fn token_by_id(&self, id: &str) -> Result<Option<StoredToken>> {
        dispatch!(self, token_by_id(id))
    }

    /// Applies writes in order, in one transaction: all or none, with the
    /// audit log's events for them, made by `origin`.
    pub fn apply_writes(&self, writes: &[TokenWrite], origin: &Origin) -> Result<()> {
        dispatch!(self, apply_writes(writes, origin))
    }

    /// Every token of a user.
    pub fn tokens_of(&self, user_id: &str) -> Result<Vec<StoredToken>> {
        dispatch!(self, tokens_of(user_id))
    }

    /// Records a use of a token in its record's `lastUsedAt`.
    pub fn touch_token(&self, id: &str, at: i64) -> Result<()> {
        dispatch!(self, touch_token(id, at))
    }

    /// Records uses of several tokens in one transaction.
    pub fn touch_tokens(&self, uses: &[(String, i64)]) -> Result<()> {
        dispatch!(self, touch_tokens(uses))
    }

    /// SQLite's `data_version` (changes when another connection commits);
    /// PostgreSQL has none and answers an error.
    pub fn data_version(&self) -> Result<i64> {
        match self {
            Db::Sqlite(db) => db.data_version(),
            Db::Postgres(_) => anyhow::bail!("PostgreSQL has no data_version"),
        }
    }

    /// SQLite's commit mark (see [`CommitMark`]); `None` on
    /// PostgreSQL.
    pub fn commit_mark(&self) -> Option<CommitMark> {
        match self {
            Db::Sqlite(db) => db.commit_mark(),
            Db::Postgres(_) => None,
        }
    }

    /// A PostgreSQL connection listening on `channel`; SQLite has none.
    pub fn listener(&self, channel: &str) -> Result<::postgres::Client> {
        match self {
            Db::Postgres(db) => db.listener(channel),
            Db::Sqlite(_) => anyhow::bail!("SQLite has no notifications"),
        }
    }

    /// A page of at most `limit` hashes from the change feed after `after`.
    pub fn changes(&self, after: Option<i64>, limit: usize) -> Result<Changes> {
        dispatch!(self, changes(after, limit))
    }

    /// Adds a user; refuses a name that exists.
    pub fn add_user(
        &self,
        name: &str,
        password_hash: &str,
        admin: bool,
        origin: &Origin,
    ) -> Result<()> {
        dispatch!(self, add_user(name, password_hash, admin, origin))
    }

    /// Replaces a user's password hash and ends every session of theirs,
    /// in one transaction; false when there is no such user.
    pub fn set_password(&self, name: &str, password_hash: &str, origin: &Origin) -> Result<bool> {
        dispatch!(self, set_password(name, password_hash, origin))
    }

    /// Stores a new session, first forgetting ended ones: last seen before
    /// `idle_before` or created before `created_before`.
    pub fn create_session(
        &self,
        session: &Session,
        idle_before: i64,
        created_before: i64,
    ) -> Result<()> {
        dispatch!(self, create_session(session, idle_before, created_before))
    }

    /// The session with this id (the hash of its secret).
    pub fn session(&self, id: &str) -> Result<Option<Session>> {
        dispatch!(self, session(id))
    }

    /// Records activity on a session.
    pub fn touch_session(&self, id: &str, at: i64) -> Result<()> {
        dispatch!(self, touch_session(id, at))
    }

    /// Ends a session; false when there was none.
    pub fn delete_session(&self, id: &str) -> Result<bool> {
        dispatch!(self, delete_session(id))
    }

    /// The user with this name.
    pub fn user(&self, name: &str) -> Result<Option<User>> {
        dispatch!(self, user(name))
    }

    /// How many users exist.
    pub fn user_count(&self) -> Result<u64> {
        dispatch!(self, user_count())
    }

    /// Sets whether a user may generate and use tokens; false when there is
    /// no such user. Gateways see every token of theirs change in the feed.
    pub fn set_user_tokens(&self, name: &str, tokens: Enablement, origin: &Origin) -> Result<bool> {
        dispatch!(self, set_user_tokens(name, tokens, origin))
    }

    /// Makes a user an administrator, or a member; false when there is no
    /// such user. Gateways see every token of theirs change in the feed.
    pub fn set_user_admin(&self, name: &str, admin: bool, origin: &Origin) -> Result<bool> {
        dispatch!(self, set_user_admin(name, admin, origin))
    }

    /// Every user, by name.
    pub fn users(&self) -> Result<Vec<User>> {
        dispatch!(self, users())
    }

    /// A setting's value.
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        dispatch!(self, setting(key))
    }

    /// Sets a setting.
    pub fn set_setting(&self, key: &str, value: &str, origin: &Origin) -> Result<()> {
        dispatch!(self, set_setting(key, value, origin))
    }

    /// Appends an event that records no change of its own (a refusal).
    pub fn record_event(&self, event: &NewEvent<'_>) -> Result<()> {
        dispatch!(self, record_event(event))
    }

    /// A page of the audit log, newest first.
    pub fn audit(&self, query: &Query) -> Result<Page> {
        dispatch!(self, audit(query))
    }

    /// At most `limit` events after `after`, oldest first (for export).
    pub fn audit_after(&self, after: i64, limit: usize) -> Result<Vec<Entry>> {
        dispatch!(self, audit_after(after, limit))
    }

    /// Every token whose record expires between `from` and `to`.
    pub fn tokens_expiring(&self, from: i64, to: i64) -> Result<Vec<StoredToken>> {
        dispatch!(self, tokens_expiring(from, to))
    }

    /// Stores a new webhook subscription, starting after the newest event.
    pub fn webhook_create(&self, hook: &Webhook) -> Result<Webhook> {
        dispatch!(self, webhook_create(hook))
    }

    /// One webhook subscription.
    pub fn webhook(&self, id: &str) -> Result<Option<Webhook>> {
        dispatch!(self, webhook(id))
    }

    /// Every webhook subscription, or one user's.
    pub fn webhooks(&self, owner: Option<&str>) -> Result<Vec<Webhook>> {
        dispatch!(self, webhooks(owner))
    }

    /// Deletes a webhook subscription; false when there was none.
    pub fn webhook_delete(&self, id: &str) -> Result<bool> {
        dispatch!(self, webhook_delete(id))
    }

    /// Takes a due subscription for delivery by `host` until `lease_until`.
    pub fn webhook_claim(&self, id: &str, host: &str, now: i64, lease_until: i64) -> Result<bool> {
        dispatch!(self, webhook_claim(id, host, now, lease_until))
    }

    /// Records the outcome of `host`'s delivery attempt and releases the
    /// subscription: the cursor reached, whether an event was delivered,
    /// and for a failure `(attempts, next attempt at, why)`. False when
    /// `host` no longer held it.
    pub fn webhook_settle(
        &self,
        id: &str,
        host: &str,
        cursor: i64,
        delivered: bool,
        failure: Option<(i64, i64, &str)>,
    ) -> Result<bool> {
        dispatch!(self, webhook_settle(id, host, cursor, delivered, failure))
    }

    /// Notes an expiry notice once per token and threshold, with its event.
    pub fn note_expiry(
        &self,
        token_id: &str,
        threshold: u32,
        event: &NewEvent<'_>,
    ) -> Result<bool> {
        dispatch!(self, note_expiry(token_id, threshold, event))
    }

    /// The newest audit event below which no event can still appear (a
    /// webhook delivers nothing above it yet).
    pub fn audit_watermark(&self) -> Result<i64> {
        dispatch!(self, audit_watermark())
    }
}
