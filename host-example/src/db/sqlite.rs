//! SQLite storage, the embedded default: token records, users and settings.
//!
//! One connection behind a mutex (statements take microseconds), WAL
//! journaling with `synchronous = FULL`, so a write acknowledged to a client
//! survives a crash of the process or the machine. The schema is versioned
//! with `PRAGMA user_version` and migrated in code at open.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;
use tessera_core::AuditEvent;

/// Each migration brings the schema from its index to the next version.
const MIGRATIONS: &[&str] = &[
    // 1: tokens, users, settings.
    "CREATE TABLE tokens (
         id TEXT PRIMARY KEY,
         user_id TEXT NOT NULL,
         hash TEXT NOT NULL UNIQUE,
         expires_at INTEGER,
         record TEXT NOT NULL
     ) STRICT;
     CREATE INDEX tokens_by_user ON tokens (user_id);
     CREATE TABLE users (
         name TEXT PRIMARY KEY,
         password_hash TEXT NOT NULL,
         admin INTEGER NOT NULL DEFAULT 0
     ) STRICT;
     CREATE TABLE settings (
         key TEXT PRIMARY KEY,
         value TEXT NOT NULL
     ) STRICT;",
    // 2: the expiry lives in the record, where the core reads it; the
    // column was written and never read.
    "ALTER TABLE tokens DROP COLUMN expires_at;",
    // 3: browser sessions of the token page, by the hash of their secret.
    "CREATE TABLE sessions (
         id TEXT PRIMARY KEY,
         user_name TEXT NOT NULL,
         created_at INTEGER NOT NULL,
         last_seen_at INTEGER NOT NULL
     ) STRICT;
     CREATE INDEX sessions_by_user ON sessions (user_name);",
    // 4: the change feed: the hash of every token changed or deleted, in
    // commit order, whoever wrote it (a change of the last use alone is
    // left out). The newest 100,000 are kept.
    "CREATE TABLE token_changes (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         hash TEXT NOT NULL
     ) STRICT;
     CREATE TRIGGER token_changed AFTER UPDATE ON tokens
     WHEN OLD.hash IS NOT NEW.hash OR OLD.user_id IS NOT NEW.user_id OR CASE
         WHEN json_valid(OLD.record) AND json_valid(NEW.record)
         THEN json_remove(OLD.record, '$.lastUsedAt') IS NOT json_remove(NEW.record, '$.lastUsedAt')
         ELSE OLD.record IS NOT NEW.record
     END
     BEGIN
         INSERT INTO token_changes (hash) VALUES (OLD.hash);
         DELETE FROM token_changes WHERE seq <= last_insert_rowid() - 100000;
     END;
     CREATE TRIGGER token_deleted AFTER DELETE ON tokens
     BEGIN
         INSERT INTO token_changes (hash) VALUES (OLD.hash);
         DELETE FROM token_changes WHERE seq <= last_insert_rowid() - 100000;
     END;",
    // 5: per-user enablement (`inherit`, `on`, `off`). A change of a
    // user's standing, or of the default for members, changes every token
    // it governs for gateways: their hashes enter the feed.
    "ALTER TABLE users ADD COLUMN tokens TEXT NOT NULL DEFAULT 'inherit'
         CHECK (tokens IN ('inherit', 'on', 'off'));
     CREATE TRIGGER user_standing_changed AFTER UPDATE ON users
     WHEN OLD.tokens IS NOT NEW.tokens OR OLD.admin IS NOT NEW.admin
     BEGIN
         INSERT INTO token_changes (hash) SELECT hash FROM tokens WHERE user_id = NEW.name;
         DELETE FROM token_changes WHERE seq <= (SELECT max(seq) FROM token_changes) - 100000;
     END;
     CREATE TRIGGER user_added AFTER INSERT ON users
     BEGIN
         INSERT INTO token_changes (hash) SELECT hash FROM tokens WHERE user_id = NEW.name;
         DELETE FROM token_changes WHERE seq <= (SELECT max(seq) FROM token_changes) - 100000;
     END;
     CREATE TRIGGER members_default_set AFTER INSERT ON settings
     WHEN NEW.key = 'members-can-create-tokens'
     BEGIN
         INSERT INTO token_changes (hash) SELECT t.hash FROM tokens t
             JOIN users u ON u.name = t.user_id
             WHERE u.tokens = 'inherit' AND NOT u.admin;
         DELETE FROM token_changes WHERE seq <= (SELECT max(seq) FROM token_changes) - 100000;
     END;
     CREATE TRIGGER members_default_changed AFTER UPDATE ON settings
     WHEN NEW.key = 'members-can-create-tokens' AND OLD.value IS NOT NEW.value
     BEGIN
         INSERT INTO token_changes (hash) SELECT t.hash FROM tokens t
             JOIN users u ON u.name = t.user_id
             WHERE u.tokens = 'inherit' AND NOT u.admin;
         DELETE FROM token_changes WHERE seq <= (SELECT max(seq) FROM token_changes) - 100000;
     END;",
    // 6: the audit log, append-only: every token event and settings
    // change, written in the transaction of the change it records.
    "CREATE TABLE audit (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         at INTEGER NOT NULL,
         event TEXT NOT NULL,
         user_id TEXT,
         token_id TEXT,
         actor TEXT NOT NULL,
         actor_user TEXT,
         actor_token TEXT,
         address TEXT,
         detail TEXT
     ) STRICT;
     CREATE INDEX audit_by_user ON audit (user_id, seq);
     CREATE INDEX audit_by_actor ON audit (actor_user, seq);
     CREATE INDEX audit_by_token ON audit (token_id, seq);
     CREATE TRIGGER audit_kept_as_written BEFORE UPDATE ON audit
     BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
     CREATE TRIGGER audit_never_deleted BEFORE DELETE ON audit
     BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
    "CREATE TABLE webhooks (
         id TEXT PRIMARY KEY,
         owner TEXT,
         url TEXT NOT NULL,
         secret TEXT NOT NULL,
         events TEXT NOT NULL,
         created_at INTEGER NOT NULL,
         cursor INTEGER NOT NULL,
         attempts INTEGER NOT NULL DEFAULT 0,
         next_attempt_at INTEGER NOT NULL DEFAULT 0,
         last_error TEXT,
         delivered INTEGER NOT NULL DEFAULT 0,
         lease_owner TEXT,
         lease_until INTEGER NOT NULL DEFAULT 0
     ) STRICT;
     CREATE INDEX webhooks_by_owner ON webhooks (owner);
     CREATE TABLE expiry_notices (
         token_id TEXT NOT NULL,
         threshold INTEGER NOT NULL,
         PRIMARY KEY (token_id, threshold)
     ) STRICT;",
];

mod wal_index;
mod webhooks;

pub use self::wal_index::CommitMark;
use self::wal_index::WalIndex;

use super::audit::{self, Columns, Entry, NewEvent, Origin, Page, Query};
use super::{Changes, FoundToken, Session, StoredToken, TokenWrite, User};
use tessera_core::Enablement;

/// A token by hash, with its user's standing: the user's row (if any) and
/// the default for members, in one statement.
const FOUND_BY_HASH: &str = "SELECT t.id, t.user_id, t.hash, t.record,
         coalesce(u.admin, 0), u.tokens,
         (SELECT value FROM settings WHERE key = 'members-can-create-tokens')
     FROM tokens t LEFT JOIN users u ON u.name = t.user_id
     WHERE t.hash = ?1";

/// Inserts a token or replaces the one with its id.
const PUT_TOKEN: &str = "INSERT INTO tokens (id, user_id, hash, record)
     VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (id) DO UPDATE SET user_id = ?2, hash = ?3, record = ?4";

/// Sets a token's last use in its record, never to an earlier time (a
/// gateway's report may arrive late).
const TOUCH_TOKEN: &str = "UPDATE tokens SET record = json_set(record, '$.lastUsedAt', ?2)
     WHERE id = ?1 AND json_valid(record)
         AND coalesce(json_extract(record, '$.lastUsedAt'), 0) < ?2";

/// The audit log's first use of a token: written with the use, when the
/// record has none yet. The token acts; its address is not kept with the
/// batched use.
const FIRST_USE: &str =
    "INSERT INTO audit (at, event, user_id, token_id, actor, actor_user, actor_token)
     SELECT ?2, 'token.first-used', user_id, id, 'token', user_id, id FROM tokens
     WHERE id = ?1 AND json_valid(record) AND json_extract(record, '$.lastUsedAt') IS NULL";

/// Appends one event.
const APPEND: &str = "INSERT INTO audit
     (at, event, user_id, token_id, actor, actor_user, actor_token, address, detail)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

/// Appends `event` in the transaction `tx`.
fn append(tx: &Connection, event: &NewEvent<'_>) -> Result<()> {
    let origin = event.origin;
    tx.prepare_cached(APPEND)?.execute(params![
        origin.at,
        event.event.name(),
        event.user_id,
        event.token_id,
        origin.kind.as_str(),
        origin.user,
        origin.token_id,
        event.address(),
        event.detail,
    ])?;
    Ok(())
}

fn read_entry(row: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry::from(Columns {
        seq: row.get(0)?,
        at: row.get(1)?,
        event: row.get(2)?,
        user_id: row.get(3)?,
        token_id: row.get(4)?,
        actor: row.get(5)?,
        actor_user: row.get(6)?,
        actor_token: row.get(7)?,
        address: row.get(8)?,
        detail: row.get(9)?,
    }))
}

/// A SQLite database.
pub struct Sqlite {
    conn: Mutex<Connection>,
    /// The `-shm` file, to see commits without a database lock; `None` in
    /// memory, outside WAL mode, or when its header could not be read at
    /// open.
    wal_index: Option<WalIndex>,
}

impl Sqlite {
    /// Opens (creating if needed) and migrates the database at `path`.
    /// The file is created readable by its owner only (it holds password
    /// hashes), and SQLite gives its `-wal` and `-shm` files the same mode.
    pub fn open(path: &Path) -> Result<Self> {
        owner_only(path)?;
        let conn = Connection::open(path)
            .with_context(|| format!("cannot open the database {}", path.display()))?;
        Self::setup(conn)
    }

    /// An in-memory database, for tests and benchmarks.
    pub fn in_memory() -> Result<Self> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> Result<Self> {
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn)?;
        Ok(Self {
            wal_index: WalIndex::open(&conn),
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written:
        // every statement is atomic, so the connection stays usable.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The token with this hash, and its user's standing.
    pub fn token_by_hash(&self, hash: &str) -> Result<Option<FoundToken>> {
        let conn = self.conn();
        let mut statement = conn.prepare_cached(FOUND_BY_HASH)?;
        Ok(statement
            .query_row([hash], |row| {
                let admin: bool = row.get(4)?;
                let tokens: Option<String> = row.get(5)?;
                let default: Option<String> = row.get(6)?;
                Ok(FoundToken {
                    token: read_token(row)?,
                    owner: super::standing(admin, tokens.as_deref(), default.as_deref()),
                })
            })
            .optional()?)
    }

    /// The token with this id.
    pub fn token_by_id(&self, id: &str) -> Result<Option<StoredToken>> {
        self.token_where("id", id)
    }

    fn token_where(&self, column: &str, value: &str) -> Result<Option<StoredToken>> {
        let sql = format!("SELECT id, user_id, hash, record FROM tokens WHERE {column} = ?1");
        let conn = self.conn();
        let mut statement = conn.prepare_cached(&sql)?;
        Ok(statement.query_row([value], read_token).optional()?)
    }

    /// Applies writes in order, in one transaction: all or none.
    pub fn apply_writes(&self, writes: &[TokenWrite], origin: &Origin) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut before = Vec::with_capacity(writes.len());
        for write in writes {
            before.push(
                tx.prepare_cached("SELECT id, user_id, hash, record FROM tokens WHERE id = ?1")?
                    .query_row([write.id()], read_token)
                    .optional()?,
            );
        }
        for write in writes {
            match write {
                TokenWrite::Put(token) => {
                    tx.prepare_cached(PUT_TOKEN)?.execute(params![
                        token.id,
                        token.user_id,
                        token.hash,
                        token.json
                    ])?;
                }
                TokenWrite::Delete(id) => {
                    tx.prepare_cached("DELETE FROM tokens WHERE id = ?1")?
                        .execute([id])?;
                }
            }
        }
        for event in audit::token_write_events(writes, &before, origin) {
            append(&tx, &event)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every token whose record expires between `from` and `to` (ms since
    /// the epoch, both included).
    pub fn tokens_expiring(&self, from: i64, to: i64) -> Result<Vec<StoredToken>> {
        let conn = self.conn();
        let mut statement = conn.prepare_cached(
            "SELECT id, user_id, hash, record FROM tokens
             WHERE json_valid(record)
               AND CAST(json_extract(record, '$.expiresAt') AS INTEGER) BETWEEN ?1 AND ?2",
        )?;
        let rows = statement.query_map([from, to], read_token)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every token of a user.
    pub fn tokens_of(&self, user_id: &str) -> Result<Vec<StoredToken>> {
        let conn = self.conn();
        let mut statement =
            conn.prepare_cached("SELECT id, user_id, hash, record FROM tokens WHERE user_id = ?1")?;
        let rows = statement.query_map([user_id], read_token)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records a use of a token in its record's `lastUsedAt` (see
    /// [`Sqlite::touch_tokens`]).
    pub fn touch_token(&self, id: &str, at: i64) -> Result<()> {
        self.touch_tokens(&[(id.to_owned(), at)])
    }

    /// Records uses of several tokens in one transaction, with the audit
    /// log's event for each token used for the first time.
    pub fn touch_tokens(&self, uses: &[(String, i64)]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for (id, at) in uses {
            tx.prepare_cached(FIRST_USE)?.execute(params![id, at])?;
            tx.prepare_cached(TOUCH_TOKEN)?.execute(params![id, at])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// SQLite's `PRAGMA data_version`: it changes when another connection
    /// (another process) commits a change, and only then.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self
            .conn()
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |row| row.get(0))?)
    }

    /// A mark that moves with every commit of any connection, this one's
    /// included, read without a lock (see [`CommitMark`]); `None` when the
    /// database has no WAL index to read, or it cannot be read now.
    pub fn commit_mark(&self) -> Option<CommitMark> {
        self.wal_index.as_ref()?.mark()
    }

    /// A page of the change feed after `after` (see [`super::Changes`]).
    pub fn changes(&self, after: Option<i64>, limit: usize) -> Result<Changes> {
        let mut conn = self.conn();
        // One read transaction: the bounds and the page agree.
        let tx = conn.transaction()?;
        let (oldest, newest): (Option<i64>, Option<i64>) =
            tx.query_row("SELECT min(seq), max(seq) FROM token_changes", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?;
        let bounds = super::FeedBounds {
            oldest,
            newest: newest.unwrap_or(0),
        };
        let rows = match bounds.start(after) {
            Some(after) => {
                let mut statement = tx.prepare_cached(
                    "SELECT seq, hash FROM token_changes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                )?;
                let rows = statement
                    .query_map(params![after, limit as i64 + 1], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                Some(rows)
            }
            None => None,
        };
        Ok(bounds.page(after, rows, limit))
    }

    /// Adds a user; refuses a name that exists.
    pub fn add_user(
        &self,
        name: &str,
        password_hash: &str,
        admin: bool,
        origin: &Origin,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let added = tx
            .execute(
                "INSERT INTO users (name, password_hash, admin) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO NOTHING",
                params![name, password_hash, admin],
            )
            .context("cannot add the user")?;
        if added == 0 {
            bail!("a user named {name:?} already exists");
        }
        let detail = json!({ "admin": admin });
        append(
            &tx,
            &NewEvent::about(AuditEvent::UserAdded, Some(name), detail, origin),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Replaces a user's password hash and ends their sessions, in one
    /// transaction; false when there is no such user.
    pub fn set_password(&self, name: &str, password_hash: &str, origin: &Origin) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE users SET password_hash = ?2 WHERE name = ?1",
            params![name, password_hash],
        )?;
        tx.execute("DELETE FROM sessions WHERE user_name = ?1", [name])?;
        if changed > 0 {
            let detail = json!({ "sessionsEnded": true });
            append(
                &tx,
                &NewEvent::about(AuditEvent::UserPassword, Some(name), detail, origin),
            )?;
        }
        tx.commit()?;
        Ok(changed > 0)
    }

    /// Stores a new session, first forgetting sessions that ended: last
    /// seen before `idle_before` or created before `created_before`.
    pub fn create_session(
        &self,
        session: &Session,
        idle_before: i64,
        created_before: i64,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "DELETE FROM sessions WHERE last_seen_at < ?1 OR created_at < ?2",
            params![idle_before, created_before],
        )?;
        tx.execute(
            "INSERT INTO sessions (id, user_name, created_at, last_seen_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                session.id,
                session.user,
                session.created_at,
                session.last_seen_at
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The session with this id (the hash of its secret).
    pub fn session(&self, id: &str) -> Result<Option<Session>> {
        let conn = self.conn();
        let mut statement = conn.prepare_cached(
            "SELECT id, user_name, created_at, last_seen_at FROM sessions WHERE id = ?1",
        )?;
        Ok(statement
            .query_row([id], |row| {
                Ok(Session {
                    id: row.get(0)?,
                    user: row.get(1)?,
                    created_at: row.get(2)?,
                    last_seen_at: row.get(3)?,
                })
            })
            .optional()?)
    }

    /// Records activity on a session.
    pub fn touch_session(&self, id: &str, at: i64) -> Result<()> {
        self.conn()
            .prepare_cached("UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1")?
            .execute(params![id, at])?;
        Ok(())
    }

    /// Ends a session; false when there was none.
    pub fn delete_session(&self, id: &str) -> Result<bool> {
        Ok(self
            .conn()
            .execute("DELETE FROM sessions WHERE id = ?1", [id])?
            > 0)
    }

    /// The user with this name.
    pub fn user(&self, name: &str) -> Result<Option<User>> {
        let conn = self.conn();
        let mut statement = conn.prepare_cached(
            "SELECT name, password_hash, admin, tokens FROM users WHERE name = ?1",
        )?;
        Ok(statement.query_row([name], read_user).optional()?)
    }

    /// Every user, by name.
    pub fn users(&self) -> Result<Vec<User>> {
        let conn = self.conn();
        let mut statement = conn
            .prepare_cached("SELECT name, password_hash, admin, tokens FROM users ORDER BY name")?;
        let users = statement.query_map([], read_user)?;
        Ok(users.collect::<rusqlite::Result<_>>()?)
    }

    /// Makes a user an administrator, or a member.
    pub fn set_user_admin(&self, name: &str, admin: bool, origin: &Origin) -> Result<bool> {
        let detail = json!({ "admin": admin });
        let event = NewEvent::about(AuditEvent::UserAdmin, Some(name), detail, origin);
        self.update_user(
            "UPDATE users SET admin = ?2 WHERE name = ?1",
            params![name, admin],
            &event,
        )
    }

    /// Sets whether a user may generate and use tokens.
    pub fn set_user_tokens(&self, name: &str, tokens: Enablement, origin: &Origin) -> Result<bool> {
        let detail = json!({ "tokens": tokens.as_str() });
        let event = NewEvent::about(AuditEvent::UserTokens, Some(name), detail, origin);
        self.update_user(
            "UPDATE users SET tokens = ?2 WHERE name = ?1",
            params![name, tokens.as_str()],
            &event,
        )
    }

    /// Runs an update of one user and appends its event, in one
    /// transaction; false (and no event) when there is no such user.
    fn update_user(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        event: &NewEvent<'_>,
    ) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let changed = tx.execute(sql, params)? == 1;
        if changed {
            append(&tx, event)?;
        }
        tx.commit()?;
        Ok(changed)
    }

    /// How many users exist.
    pub fn user_count(&self) -> Result<u64> {
        Ok(self
            .conn()
            .query_row("SELECT COUNT(*) FROM users", [], |row| row.get(0))?)
    }

    /// A setting's value.
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
            .query_row([key], |row| row.get(0))
            .optional()?)
    }

    /// Sets a setting.
    pub fn set_setting(&self, key: &str, value: &str, origin: &Origin) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = ?2",
            params![key, value],
        )?;
        let detail = json!({ "key": key, "value": value });
        append(
            &tx,
            &NewEvent::about(AuditEvent::SettingChanged, None, detail, origin),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Appends an event that records no change of its own.
    pub fn record_event(&self, event: &NewEvent<'_>) -> Result<()> {
        append(&self.conn(), event)
    }

    /// A page of the audit log, newest first.
    pub fn audit(&self, query: &Query) -> Result<Page> {
        let conn = self.conn();
        let sql = format!(
            "{} WHERE (?1 IS NULL OR user_id = ?1 OR actor_user = ?1)
                 AND (?2 IS NULL OR token_id = ?2) AND (?3 IS NULL OR event = ?3)
                 AND (?4 IS NULL OR at >= ?4) AND (?5 IS NULL OR seq < ?5)
             ORDER BY seq DESC LIMIT ?6",
            audit::SELECT_ENTRY
        );
        let mut statement = conn.prepare_cached(&sql)?;
        let rows = statement.query_map(
            params![
                query.user,
                query.token_id,
                query.event.map(AuditEvent::name),
                query.since,
                query.before,
                i64::try_from(query.limit)
                    .unwrap_or(i64::MAX)
                    .saturating_add(1),
            ],
            read_entry,
        )?;
        Ok(Page::of(rows.collect::<Result<_, _>>()?, query.limit))
    }

    /// At most `limit` events after `after`, oldest first.
    pub fn audit_after(&self, after: i64, limit: usize) -> Result<Vec<Entry>> {
        let conn = self.conn();
        let sql = format!(
            "{} WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            audit::SELECT_ENTRY
        );
        let mut statement = conn.prepare_cached(&sql)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = statement.query_map(params![after, limit], read_entry)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Creates the database file with mode 0600 if it is missing, and takes
/// group and other access away from an existing one (and its `-wal` and
/// `-shm` files), which may hold password hashes.
#[cfg(unix)]
fn owner_only(path: &Path) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if path.as_os_str() == ":memory:" {
        return Ok(());
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create the database {}", path.display()))?;
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let Ok(metadata) = std::fs::metadata(&file) else {
            continue;
        };
        let mode = metadata.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode & 0o700))
                .with_context(|| format!("cannot restrict access to {}", file.display()))?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn owner_only(_: &Path) -> Result<()> {
    Ok(())
}

fn read_user(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    let tokens: String = row.get(3)?;
    Ok(User {
        name: row.get(0)?,
        password_hash: row.get(1)?,
        admin: row.get(2)?,
        tokens: Enablement::parse(&tokens).unwrap_or(Enablement::Off),
    })
}

fn read_token(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredToken> {
    Ok(StoredToken {
        id: row.get(0)?,
        user_id: row.get(1)?,
        hash: row.get(2)?,
        json: row.get(3)?,
    })
}

/// Applies the migrations the database has not seen, each in a transaction.
fn migrate(conn: &mut Connection) -> Result<()> {
    let version: usize = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version > MIGRATIONS.len() {
        bail!(
            "the database is at schema version {version}, newer than this build knows ({})",
            MIGRATIONS.len()
        );
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .with_context(|| format!("migration {}", index + 1))?;
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op() -> Origin {
        Origin::operator(7)
    }

    fn events(db: &Sqlite) -> Vec<Entry> {
        db.audit_after(0, 100).unwrap()
    }

    #[test]
    fn the_audit_log_refuses_changes_and_deletions() {
        let db = Sqlite::in_memory().unwrap();
        db.add_user("ann", "h", true, &op()).unwrap();
        assert_eq!(events(&db).len(), 1);
        let conn = db.conn();
        for sql in ["UPDATE audit SET event = 'x'", "DELETE FROM audit"] {
            let error = conn.execute(sql, []).unwrap_err();
            assert!(error.to_string().contains("append-only"), "{sql}: {error}");
        }
        drop(conn);
        assert_eq!(events(&db)[0].event, "user.added");
    }

    #[test]
    fn a_change_whose_event_cannot_be_written_is_not_made() {
        let db = Sqlite::in_memory().unwrap();
        db.apply_writes(&[TokenWrite::Put(token("a", "u1"))], &op())
            .unwrap();
        // The store fails half-way: after the token write, at its event.
        db.conn()
            .execute_batch(
                "CREATE TRIGGER audit_broken BEFORE INSERT ON audit
                 BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
            )
            .unwrap();
        assert!(
            db.apply_writes(&[TokenWrite::Put(token("b", "u1"))], &op())
                .is_err()
        );
        assert!(
            db.apply_writes(&[TokenWrite::Delete("a".into())], &op())
                .is_err()
        );
        assert!(db.add_user("ann", "h", true, &op()).is_err());
        assert!(db.set_setting("k", "v", &op()).is_err());
        db.touch_token("a", 42).unwrap_err();
        assert!(
            db.token_by_id("b").unwrap().is_none(),
            "a write without its event"
        );
        assert!(
            db.token_by_id("a").unwrap().is_some(),
            "a deletion without its event"
        );
        assert!(db.user("ann").unwrap().is_none());
        assert_eq!(db.setting("k").unwrap(), None);
        assert_eq!(
            db.token_by_id("a").unwrap().unwrap().json,
            r#"{"lastUsedAt":null}"#
        );
        db.conn()
            .execute_batch("DROP TRIGGER audit_broken")
            .unwrap();
        db.apply_writes(&[TokenWrite::Delete("a".into())], &op())
            .unwrap();
        let names: Vec<String> = events(&db).into_iter().map(|e| e.event).collect();
        // Records that are not the core's still get an event.
        assert_eq!(names, ["token.created", "token.deleted"]);
    }

    #[test]
    fn a_first_use_is_an_event_and_later_uses_are_not() {
        let db = Sqlite::in_memory().unwrap();
        db.apply_writes(&[TokenWrite::Put(token("a", "u1"))], &op())
            .unwrap();
        db.touch_tokens(&[("a".into(), 10), ("missing".into(), 10)])
            .unwrap();
        db.touch_token("a", 20).unwrap();
        let used: Vec<Entry> = events(&db)
            .into_iter()
            .filter(|e| e.event == "token.first-used")
            .collect();
        assert_eq!(used.len(), 1);
        assert_eq!((used[0].at, used[0].user_id.as_deref()), (10, Some("u1")));
        assert_eq!(used[0].actor.token_id.as_deref(), Some("a"));
    }

    fn token(id: &str, user: &str) -> StoredToken {
        StoredToken {
            id: id.into(),
            user_id: user.into(),
            hash: format!("hash-{id}"),
            json: r#"{"lastUsedAt":null}"#.into(),
        }
    }

    #[test]
    fn tokens_round_trip_and_touch_updates_the_record() {
        let db = Sqlite::in_memory().unwrap();
        let puts = ["a", "b"].map(|id| TokenWrite::Put(token(id, "u1")));
        db.apply_writes(&puts, &op()).unwrap();
        db.apply_writes(&[TokenWrite::Put(token("c", "u2"))], &op())
            .unwrap();
        assert_eq!(db.tokens_of("u1").unwrap().len(), 2);
        assert_eq!(
            db.token_by_hash("hash-a").unwrap().map(|found| found.token),
            Some(token("a", "u1"))
        );
        db.touch_token("a", 42).unwrap();
        let touched = db.token_by_id("a").unwrap().unwrap();
        assert_eq!(touched.json, r#"{"lastUsedAt":42}"#);
        db.apply_writes(&[TokenWrite::Delete("a".into())], &op())
            .unwrap();
        // Deleting what is not there is no error and changes nothing.
        db.apply_writes(&[TokenWrite::Delete("a".into())], &op())
            .unwrap();
        assert_eq!(db.tokens_of("u1").unwrap().len(), 1);
    }

    #[test]
    fn users_are_unique() {
        let db = Sqlite::in_memory().unwrap();
        db.add_user("ann", "h", true, &op()).unwrap();
        assert!(db.add_user("ann", "h", false, &op()).is_err());
        let ann = db.user("ann").unwrap().unwrap();
        assert_eq!((ann.admin, ann.tokens), (true, Enablement::Inherit));
        assert!(db.set_password("ann", "h2", &op()).unwrap());
        assert!(!db.set_password("bob", "h2", &op()).unwrap());
    }

    #[test]
    fn a_version_1_database_migrates_and_keeps_its_tokens() {
        let dir = std::env::temp_dir().join(format!("tessera-db-v1-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("v1.db");
        let old = Connection::open(&path).unwrap();
        old.execute_batch(MIGRATIONS[0]).unwrap();
        old.execute(
            "INSERT INTO tokens (id, user_id, hash, expires_at, record) VALUES ('a', 'u1', 'h', 5, '{}')",
            [],
        )
        .unwrap();
        old.pragma_update(None, "user_version", 1).unwrap();
        drop(old);
        let db = Sqlite::open(&path).unwrap();
        let token = db.token_by_hash("h").unwrap().expect("kept").token;
        assert_eq!((token.id.as_str(), token.json.as_str()), ("a", "{}"));
        db.apply_writes(
            &[TokenWrite::Put(StoredToken {
                hash: "h2".into(),
                ..token
            })],
            &op(),
        )
        .unwrap();
        assert_eq!(db.tokens_of("u1").unwrap().len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn migrations_run_once_and_refuse_newer_schemas() {
        let dir = std::env::temp_dir().join(format!("tessera-db-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db");
        Sqlite::open(&path)
            .unwrap()
            .set_setting("k", "v", &op())
            .unwrap();
        assert_eq!(
            Sqlite::open(&path)
                .unwrap()
                .setting("k")
                .unwrap()
                .as_deref(),
            Some("v")
        );
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        assert!(Sqlite::open(&path).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
