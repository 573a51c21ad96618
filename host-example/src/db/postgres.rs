//! PostgreSQL storage, for several hosts sharing one system of record.
//!
//! A small pool of connections, each with its prepared statements cached,
//! so a lookup is one round trip. A connection that failed is dropped, and
//! the next call opens a new one: when the server comes back, the host
//! recovers by itself. Calls while the server is away fail (the plugin then
//! fails closed with `STORE_FAILED`) after at most the connect timeout.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use postgres::{Client, Config, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::audit::{self, Columns, Entry, NewEvent, Origin, Page, Query};
use super::{Changes, FoundToken, Session, StoredToken, TokenWrite, User};
use serde_json::json;
use tessera_core::{AuditEvent, Enablement};

/// Inserts a token or replaces the one with its id.
const PUT_TOKEN: &str = "INSERT INTO tokens (id, user_id, hash, record)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (id) DO UPDATE SET user_id = EXCLUDED.user_id,
         hash = EXCLUDED.hash, record = EXCLUDED.record";

/// Sets a token's last use in its record, never to an earlier time (a
/// gateway's report may arrive late).
const TOUCH_TOKEN: &str = "UPDATE tokens SET record =
         jsonb_set(record::jsonb, '{lastUsedAt}', to_jsonb($2::BIGINT))::text
     WHERE id = $1 AND COALESCE((record::jsonb ->> 'lastUsedAt')::BIGINT, 0) < $2";

/// The audit log's first use of a token (see the SQLite backend's).
const FIRST_USE: &str =
    "INSERT INTO audit (at, event, user_id, token_id, actor, actor_user, actor_token)
     SELECT $2, 'token.first-used', user_id, id, 'token', user_id, id FROM tokens
     WHERE id = $1 AND (record::jsonb ->> 'lastUsedAt') IS NULL";

/// Appends one event.
const APPEND: &str = "INSERT INTO audit
     (at, event, user_id, token_id, actor, actor_user, actor_token, address, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// Appends `event` in the transaction `tx`.
fn append(
    tx: &mut impl postgres::GenericClient,
    event: &NewEvent<'_>,
) -> Result<(), postgres::Error> {
    let origin = event.origin;
    tx.execute(
        APPEND,
        &[
            &origin.at,
            &event.event.name(),
            &event.user_id,
            &event.token_id,
            &origin.kind.as_str(),
            &origin.user,
            &origin.token_id,
            &event.address(),
            &event.detail,
        ],
    )?;
    Ok(())
}

fn read_entry(row: postgres::Row) -> Entry {
    Entry::from(Columns {
        seq: row.get(0),
        at: row.get(1),
        event: row.get(2),
        user_id: row.get(3),
        token_id: row.get(4),
        actor: row.get(5),
        actor_user: row.get(6),
        actor_token: row.get(7),
        address: row.get(8),
        detail: row.get(9),
    })
}

/// Connections kept open for reuse.
pub const POOL_SIZE: usize = 16;

/// How long opening a connection may take before the call fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A key for `pg_advisory_xact_lock`, so hosts starting together migrate
/// one after the other.
const MIGRATION_LOCK: i64 = 0x0074_6573_7365_7261;

/// Each migration brings the schema from its index to the next version.
const MIGRATIONS: &[&str] = &[
    // 1: tokens (looked up by hash, listed by user), users, settings.
    "CREATE TABLE tokens (
         id TEXT PRIMARY KEY,
         user_id TEXT NOT NULL,
         hash TEXT NOT NULL UNIQUE,
         expires_at BIGINT,
         record TEXT NOT NULL
     );
     CREATE INDEX tokens_by_user ON tokens (user_id);
     CREATE TABLE users (
         name TEXT PRIMARY KEY,
         password_hash TEXT NOT NULL,
         admin BOOLEAN NOT NULL DEFAULT FALSE
     );
     CREATE TABLE settings (
         key TEXT PRIMARY KEY,
         value TEXT NOT NULL
     );",
    // 2: the expiry lives in the record, where the core reads it; the
    // column was written and never read.
    "ALTER TABLE tokens DROP COLUMN expires_at;",
    // 3: browser sessions of the token page, by the hash of their secret.
    "CREATE TABLE sessions (
         id TEXT PRIMARY KEY,
         user_name TEXT NOT NULL,
         created_at BIGINT NOT NULL,
         last_seen_at BIGINT NOT NULL
     );
     CREATE INDEX sessions_by_user ON sessions (user_name);",
    // 4: the change feed: the hash of every token changed or deleted, in
    // commit order (writers take turns on an advisory lock from their first
    // change to their commit, so sequence order is commit order), whoever
    // wrote it; a change of the last use alone is left out. The newest
    // 100,000 are kept. Each change also notifies its hash, so hosts that
    // cache records evict it.
    "CREATE TABLE token_changes (
         seq BIGSERIAL PRIMARY KEY,
         hash TEXT NOT NULL
     );
     CREATE FUNCTION tessera_token_changed() RETURNS trigger LANGUAGE plpgsql AS $$
     DECLARE
         added BIGINT;
     BEGIN
         IF TG_OP = 'UPDATE' AND OLD.hash = NEW.hash AND OLD.user_id = NEW.user_id THEN
             BEGIN
                 IF (OLD.record::jsonb - 'lastUsedAt') = (NEW.record::jsonb - 'lastUsedAt') THEN
                     RETURN NULL;
                 END IF;
             EXCEPTION WHEN invalid_text_representation THEN
                 -- A record that is not JSON: counted as a change.
                 NULL;
             END;
         END IF;
         PERFORM pg_advisory_xact_lock(7310575189646861171);
         INSERT INTO token_changes (hash) VALUES (OLD.hash) RETURNING seq INTO added;
         DELETE FROM token_changes WHERE seq <= added - 100000;
         PERFORM pg_notify('tessera_tokens', OLD.hash);
         RETURN NULL;
     END $$;
     CREATE TRIGGER tokens_changed AFTER UPDATE ON tokens FOR EACH ROW
         WHEN (OLD.* IS DISTINCT FROM NEW.*)
         EXECUTE FUNCTION tessera_token_changed();
     CREATE TRIGGER tokens_deleted AFTER DELETE ON tokens FOR EACH ROW
         EXECUTE FUNCTION tessera_token_changed();",
    // 5: per-user enablement (`inherit`, `on`, `off`). A change of a
    // user's standing, or of the default for members, changes every token
    // it governs: their hashes enter the feed, and hosts that cache records
    // are told to forget them all (`*`).
    "ALTER TABLE users ADD COLUMN tokens TEXT NOT NULL DEFAULT 'inherit'
         CHECK (tokens IN ('inherit', 'on', 'off'));
     CREATE FUNCTION tessera_standing_changed() RETURNS trigger LANGUAGE plpgsql AS $$
     DECLARE
         newest BIGINT;
     BEGIN
         PERFORM pg_advisory_xact_lock(7310575189646861171);
         IF TG_TABLE_NAME = 'users' THEN
             INSERT INTO token_changes (hash) SELECT hash FROM tokens WHERE user_id = NEW.name;
         ELSE
             INSERT INTO token_changes (hash) SELECT t.hash FROM tokens t
                 JOIN users u ON u.name = t.user_id
                 WHERE u.tokens = 'inherit' AND NOT u.admin;
         END IF;
         SELECT max(seq) INTO newest FROM token_changes;
         DELETE FROM token_changes WHERE seq <= newest - 100000;
         PERFORM pg_notify('tessera_tokens', '*');
         RETURN NULL;
     END $$;
     CREATE TRIGGER users_standing_changed AFTER UPDATE ON users FOR EACH ROW
         WHEN (OLD.tokens IS DISTINCT FROM NEW.tokens OR OLD.admin IS DISTINCT FROM NEW.admin)
         EXECUTE FUNCTION tessera_standing_changed();
     CREATE TRIGGER users_added AFTER INSERT ON users FOR EACH ROW
         EXECUTE FUNCTION tessera_standing_changed();
     CREATE TRIGGER members_default_changed AFTER INSERT OR UPDATE ON settings FOR EACH ROW
         WHEN (NEW.key = 'members-can-create-tokens')
         EXECUTE FUNCTION tessera_standing_changed();",
    // 6: the audit log, append-only: every token event and settings
    // change, written in the transaction of the change it records.
    "CREATE TABLE audit (
         seq BIGSERIAL PRIMARY KEY,
         at BIGINT NOT NULL,
         event TEXT NOT NULL,
         user_id TEXT,
         token_id TEXT,
         actor TEXT NOT NULL,
         actor_user TEXT,
         actor_token TEXT,
         address TEXT,
         detail TEXT
     );
     CREATE INDEX audit_by_user ON audit (user_id, seq);
     CREATE INDEX audit_by_actor ON audit (actor_user, seq);
     CREATE INDEX audit_by_token ON audit (token_id, seq);
     CREATE FUNCTION tessera_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
         RAISE EXCEPTION 'the audit log is append-only';
     END $$;
     CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit FOR EACH ROW
         EXECUTE FUNCTION tessera_audit_append_only();
     CREATE TRIGGER audit_never_truncated BEFORE TRUNCATE ON audit
         EXECUTE FUNCTION tessera_audit_append_only();",
    // 7: webhook subscriptions (the audit log is their outbox) and the
    // expiry notices already noted, one per token and threshold.
    "CREATE TABLE webhooks (
         id TEXT PRIMARY KEY,
         owner TEXT,
         url TEXT NOT NULL,
         secret TEXT NOT NULL,
         events TEXT NOT NULL,
         created_at BIGINT NOT NULL,
         cursor BIGINT NOT NULL,
         attempts BIGINT NOT NULL DEFAULT 0,
         next_attempt_at BIGINT NOT NULL DEFAULT 0,
         last_error TEXT,
         delivered BIGINT NOT NULL DEFAULT 0,
         lease_owner TEXT,
         lease_until BIGINT NOT NULL DEFAULT 0
     );
     CREATE INDEX webhooks_by_owner ON webhooks (owner);
     CREATE TABLE expiry_notices (
         token_id TEXT NOT NULL,
         threshold BIGINT NOT NULL,
         PRIMARY KEY (token_id, threshold)
     );",
];

mod webhooks;

/// One connection and the statements prepared on it.
struct Connection {
    client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl Connection {
    fn prepare(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }
}

/// A PostgreSQL database.
pub struct Postgres {
    config: Config,
    tls: MakeRustlsConnect,
    pool: Mutex<Vec<Connection>>,
}

impl Postgres {
    /// Connects to `url` (`postgres://user:password@host:port/database`,
    /// with libpq's `sslmode` and `sslrootcert` parameters; see
    /// [`super::tls`]) and migrates the schema.
    pub fn connect(url: &str) -> Result<Self> {
        let (mut config, tls) = super::tls::connect_config(url)?;
        config.connect_timeout(CONNECT_TIMEOUT);
        let db = Self {
            config,
            tls,
            pool: Mutex::new(Vec::new()),
        };
        let mut connection = db.open().context("cannot connect to PostgreSQL")?;
        migrate(&mut connection.client)?;
        db.pool().push(connection);
        Ok(db)
    }

    fn pool(&self) -> MutexGuard<'_, Vec<Connection>> {
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn open(&self) -> Result<Connection> {
        Ok(Connection {
            client: self.config.connect(self.tls.clone())?,
            statements: HashMap::new(),
        })
    }

    /// Runs `call` on a pooled connection. The `postgres` client drives its
    /// own runtime, which may not start inside the server's: on a server
    /// thread the call first moves off the async worker.
    fn with<R>(
        &self,
        call: impl FnOnce(&mut Connection) -> Result<R, postgres::Error>,
    ) -> Result<R> {
        if tokio::runtime::Handle::try_current().is_ok() {
            tokio::task::block_in_place(|| self.pooled(call))
        } else {
            self.pooled(call)
        }
    }

    /// Runs `call` on a pooled connection. A connection that failed is
    /// dropped rather than pooled again.
    fn pooled<R>(
        &self,
        call: impl FnOnce(&mut Connection) -> Result<R, postgres::Error>,
    ) -> Result<R> {
        let pooled = self.pool().pop();
        let mut connection = match pooled {
            Some(connection) if !connection.client.is_closed() => connection,
            _ => self.open()?,
        };
        let result = call(&mut connection);
        if result.is_ok() && !connection.client.is_closed() {
            let mut pool = self.pool();
            if pool.len() < POOL_SIZE {
                pool.push(connection);
            }
        }
        Ok(result?)
    }

    /// The token with this hash.
    pub fn token_by_hash(&self, hash: &str) -> Result<Option<FoundToken>> {
        self.with(|c| {
            let sql = "SELECT t.id, t.user_id, t.hash, t.record,
                     coalesce(u.admin, FALSE), u.tokens,
                     (SELECT value FROM settings WHERE key = 'members-can-create-tokens')
                 FROM tokens t LEFT JOIN users u ON u.name = t.user_id
                 WHERE t.hash = $1";
            let statement = c.prepare(sql)?;
            Ok(c.client.query_opt(&statement, &[&hash])?.map(|row| {
                let admin: bool = row.get(4);
                let tokens: Option<String> = row.get(5);
                let default: Option<String> = row.get(6);
                FoundToken {
                    owner: super::standing(admin, tokens.as_deref(), default.as_deref()),
                    token: read_token(row),
                }
            }))
        })
    }

    /// The token with this id.
    pub fn token_by_id(&self, id: &str) -> Result<Option<StoredToken>> {
        self.with(|c| {
            let sql = "SELECT id, user_id, hash, record FROM tokens WHERE id = $1";
            let statement = c.prepare(sql)?;
            Ok(c.client.query_opt(&statement, &[&id])?.map(read_token))
        })
    }

    /// Applies writes in order, in one transaction: all or none.
    pub fn apply_writes(&self, writes: &[TokenWrite], origin: &Origin) -> Result<()> {
        self.with(|c| {
            let put = c.prepare(PUT_TOKEN)?;
            let delete = c.prepare("DELETE FROM tokens WHERE id = $1")?;
            let select =
                c.prepare("SELECT id, user_id, hash, record FROM tokens WHERE id = $1 FOR UPDATE")?;
            let mut tx = c.client.transaction()?;
            let mut before = Vec::with_capacity(writes.len());
            for write in writes {
                before.push(tx.query_opt(&select, &[&write.id()])?.map(read_token));
            }
            for write in writes {
                match write {
                    TokenWrite::Put(token) => {
                        tx.execute(&put, &[&token.id, &token.user_id, &token.hash, &token.json])?;
                    }
                    TokenWrite::Delete(id) => {
                        tx.execute(&delete, &[id])?;
                    }
                }
            }
            for event in &audit::token_write_events(writes, &before, origin) {
                append(&mut tx, event)?;
            }
            tx.commit()
        })
    }

    /// Every token whose record expires between `from` and `to` (ms since
    /// the epoch, both included).
    pub fn tokens_expiring(&self, from: i64, to: i64) -> Result<Vec<StoredToken>> {
        self.with(|c| {
            let sql = "SELECT id, user_id, hash, record FROM tokens
                 WHERE (record::jsonb ->> 'expiresAt')::BIGINT BETWEEN $1 AND $2";
            let statement = c.prepare(sql)?;
            Ok(c.client
                .query(&statement, &[&from, &to])?
                .into_iter()
                .map(read_token)
                .collect())
        })
    }

    /// Every token of a user.
    pub fn tokens_of(&self, user_id: &str) -> Result<Vec<StoredToken>> {
        self.with(|c| {
            let sql = "SELECT id, user_id, hash, record FROM tokens WHERE user_id = $1";
            let statement = c.prepare(sql)?;
            Ok(c.client
                .query(&statement, &[&user_id])?
                .into_iter()
                .map(read_token)
                .collect())
        })
    }

    /// Records a use of a token in its record's `lastUsedAt`.
    pub fn touch_token(&self, id: &str, at: i64) -> Result<()> {
        self.touch_tokens(&[(id.to_owned(), at)])
    }

    /// Records uses of several tokens in one transaction, with the audit
    /// log's event for each token used for the first time.
    pub fn touch_tokens(&self, uses: &[(String, i64)]) -> Result<()> {
        self.with(|c| {
            let first = c.prepare(FIRST_USE)?;
            let statement = c.prepare(TOUCH_TOKEN)?;
            let mut tx = c.client.transaction()?;
            for (id, at) in uses {
                tx.execute(&first, &[id, at])?;
                tx.execute(&statement, &[id, at])?;
            }
            tx.commit()
        })
    }

    /// A connection of its own (not pooled) listening on `channel`, named
    /// so operators can tell it apart in `pg_stat_activity`.
    pub fn listener(&self, channel: &str) -> Result<Client> {
        let mut config = self.config.clone();
        config.application_name("tessera-host cache listener");
        let mut client = config.connect(self.tls.clone())?;
        client.batch_execute(&format!("LISTEN {channel}"))?;
        Ok(client)
    }

    /// A page of the change feed after `after` (see [`super::Changes`]).
    pub fn changes(&self, after: Option<i64>, limit: usize) -> Result<Changes> {
        self.with(|c| {
            let bounds_sql = "SELECT min(seq), max(seq) FROM token_changes";
            let page_sql =
                "SELECT seq, hash FROM token_changes WHERE seq > $1 ORDER BY seq LIMIT $2";
            let bounds_statement = c.prepare(bounds_sql)?;
            let page_statement = c.prepare(page_sql)?;
            // One snapshot: the bounds and the page agree.
            let mut tx = c
                .client
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let row = tx.query_one(&bounds_statement, &[])?;
            let bounds = super::FeedBounds {
                oldest: row.get(0),
                newest: row.get::<_, Option<i64>>(1).unwrap_or(0),
            };
            let rows = match bounds.start(after) {
                Some(after) => Some(
                    tx.query(&page_statement, &[&after, &(limit as i64 + 1)])?
                        .iter()
                        .map(|row| (row.get(0), row.get(1)))
                        .collect(),
                ),
                None => None,
            };
            tx.commit()?;
            Ok(bounds.page(after, rows, limit))
        })
    }

    /// Adds a user; refuses a name that exists.
    pub fn add_user(
        &self,
        name: &str,
        password_hash: &str,
        admin: bool,
        origin: &Origin,
    ) -> Result<()> {
        let event = NewEvent::about(
            AuditEvent::UserAdded,
            Some(name),
            json!({ "admin": admin }),
            origin,
        );
        let added = self.with(|c| {
            let mut tx = c.client.transaction()?;
            let added = tx.execute(
                "INSERT INTO users (name, password_hash, admin) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO NOTHING",
                &[&name, &password_hash, &admin],
            )?;
            if added > 0 {
                append(&mut tx, &event)?;
                tx.commit()?;
            }
            Ok(added)
        })?;
        if added == 0 {
            bail!("a user named {name:?} already exists");
        }
        Ok(())
    }

    /// Replaces a user's password hash and ends their sessions, in one
    /// transaction; false when there is no such user.
    pub fn set_password(&self, name: &str, password_hash: &str, origin: &Origin) -> Result<bool> {
        let detail = json!({ "sessionsEnded": true });
        let event = NewEvent::about(AuditEvent::UserPassword, Some(name), detail, origin);
        let changed = self.with(|c| {
            let mut tx = c.client.transaction()?;
            let changed = tx.execute(
                "UPDATE users SET password_hash = $2 WHERE name = $1",
                &[&name, &password_hash],
            )?;
            tx.execute("DELETE FROM sessions WHERE user_name = $1", &[&name])?;
            if changed > 0 {
                append(&mut tx, &event)?;
            }
            tx.commit()?;
            Ok(changed)
        })?;
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
        self.with(|c| {
            let mut tx = c.client.transaction()?;
            tx.execute(
                "DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2",
                &[&idle_before, &created_before],
            )?;
            tx.execute(
                "INSERT INTO sessions (id, user_name, created_at, last_seen_at)
                 VALUES ($1, $2, $3, $4)",
                &[
                    &session.id,
                    &session.user,
                    &session.created_at,
                    &session.last_seen_at,
                ],
            )?;
            tx.commit()
        })
    }

    /// The session with this id (the hash of its secret).
    pub fn session(&self, id: &str) -> Result<Option<Session>> {
        self.with(|c| {
            let statement = c.prepare(
                "SELECT id, user_name, created_at, last_seen_at FROM sessions WHERE id = $1",
            )?;
            Ok(c.client.query_opt(&statement, &[&id])?.map(|row| Session {
                id: row.get(0),
                user: row.get(1),
                created_at: row.get(2),
                last_seen_at: row.get(3),
            }))
        })
    }

    /// Records activity on a session.
    pub fn touch_session(&self, id: &str, at: i64) -> Result<()> {
        self.with(|c| {
            let statement = c.prepare("UPDATE sessions SET last_seen_at = $2 WHERE id = $1")?;
            c.client.execute(&statement, &[&id, &at])?;
            Ok(())
        })
    }

    /// Ends a session; false when there was none.
    pub fn delete_session(&self, id: &str) -> Result<bool> {
        let deleted = self.with(|c| {
            c.client
                .execute("DELETE FROM sessions WHERE id = $1", &[&id])
        })?;
        Ok(deleted > 0)
    }

    /// The user with this name.
    pub fn user(&self, name: &str) -> Result<Option<User>> {
        self.with(|c| {
            let statement =
                c.prepare("SELECT name, password_hash, admin, tokens FROM users WHERE name = $1")?;
            Ok(c.client.query_opt(&statement, &[&name])?.map(read_user))
        })
    }

    /// Every user, by name.
    pub fn users(&self) -> Result<Vec<User>> {
        self.with(|c| {
            let statement =
                c.prepare("SELECT name, password_hash, admin, tokens FROM users ORDER BY name")?;
            Ok(c.client
                .query(&statement, &[])?
                .into_iter()
                .map(read_user)
                .collect())
        })
    }

    /// Makes a user an administrator, or a member.
    pub fn set_user_admin(&self, name: &str, admin: bool, origin: &Origin) -> Result<bool> {
        let event = NewEvent::about(
            AuditEvent::UserAdmin,
            Some(name),
            json!({ "admin": admin }),
            origin,
        );
        self.update_user(
            "UPDATE users SET admin = $2 WHERE name = $1",
            &admin,
            &event,
        )
    }

    /// Sets whether a user may generate and use tokens.
    pub fn set_user_tokens(&self, name: &str, tokens: Enablement, origin: &Origin) -> Result<bool> {
        let detail = json!({ "tokens": tokens.as_str() });
        let event = NewEvent::about(AuditEvent::UserTokens, Some(name), detail, origin);
        self.update_user(
            "UPDATE users SET tokens = $2 WHERE name = $1",
            &tokens.as_str(),
            &event,
        )
    }

    /// Runs an update of one user (`$1` the name, `$2` the value) and
    /// appends its event, in one transaction; false (and no event) when
    /// there is no such user.
    fn update_user(
        &self,
        sql: &str,
        value: &(dyn postgres::types::ToSql + Sync),
        event: &NewEvent<'_>,
    ) -> Result<bool> {
        let name = event.user_id.as_deref().unwrap_or_default();
        self.with(|c| {
            let mut tx = c.client.transaction()?;
            let changed = tx.execute(sql, &[&name, value])? == 1;
            if changed {
                append(&mut tx, event)?;
            }
            tx.commit()?;
            Ok(changed)
        })
    }

    /// How many users exist.
    pub fn user_count(&self) -> Result<u64> {
        let count: i64 = self.with(|c| {
            Ok(c.client
                .query_one("SELECT COUNT(*) FROM users", &[])?
                .get(0))
        })?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// A setting's value.
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        self.with(|c| {
            let statement = c.prepare("SELECT value FROM settings WHERE key = $1")?;
            Ok(c.client
                .query_opt(&statement, &[&key])?
                .map(|row| row.get(0)))
        })
    }

    /// Sets a setting.
    pub fn set_setting(&self, key: &str, value: &str, origin: &Origin) -> Result<()> {
        let detail = json!({ "key": key, "value": value });
        let event = NewEvent::about(AuditEvent::SettingChanged, None, detail, origin);
        self.with(|c| {
            let mut tx = c.client.transaction()?;
            tx.execute(
                "INSERT INTO settings (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                &[&key, &value],
            )?;
            append(&mut tx, &event)?;
            tx.commit()
        })
    }

    /// Appends an event that records no change of its own.
    pub fn record_event(&self, event: &NewEvent<'_>) -> Result<()> {
        self.with(|c| append(&mut c.client, event))
    }

    /// A page of the audit log, newest first.
    pub fn audit(&self, query: &Query) -> Result<Page> {
        let limit = i64::try_from(query.limit)
            .unwrap_or(i64::MAX)
            .saturating_add(1);
        let rows = self.with(|c| {
            let statement = c.prepare(AUDIT_PAGE)?;
            c.client.query(
                &statement,
                &[
                    &query.user,
                    &query.token_id,
                    &query.event.map(AuditEvent::name),
                    &query.since,
                    &query.before,
                    &limit,
                ],
            )
        })?;
        Ok(Page::of(
            rows.into_iter().map(read_entry).collect(),
            query.limit,
        ))
    }

    /// At most `limit` events after `after`, oldest first.
    pub fn audit_after(&self, after: i64, limit: usize) -> Result<Vec<Entry>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.with(|c| {
            let statement = c.prepare(AUDIT_AFTER)?;
            c.client.query(&statement, &[&after, &limit])
        })?;
        Ok(rows.into_iter().map(read_entry).collect())
    }
}

/// A page of the audit log (see [`Postgres::audit`]).
const AUDIT_PAGE: &str =
    "SELECT seq, at, event, user_id, token_id, actor, actor_user, actor_token, address, detail
     FROM audit
     WHERE ($1::TEXT IS NULL OR user_id = $1 OR actor_user = $1)
         AND ($2::TEXT IS NULL OR token_id = $2) AND ($3::TEXT IS NULL OR event = $3)
         AND ($4::BIGINT IS NULL OR at >= $4) AND ($5::BIGINT IS NULL OR seq < $5)
     ORDER BY seq DESC LIMIT $6";

/// Events after a sequence number, oldest first.
const AUDIT_AFTER: &str =
    "SELECT seq, at, event, user_id, token_id, actor, actor_user, actor_token, address, detail
     FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2";

fn read_user(row: postgres::Row) -> User {
    let tokens: String = row.get(3);
    User {
        name: row.get(0),
        password_hash: row.get(1),
        admin: row.get(2),
        tokens: Enablement::parse(&tokens).unwrap_or(Enablement::Off),
    }
}

fn read_token(row: postgres::Row) -> StoredToken {
    StoredToken {
        id: row.get(0),
        user_id: row.get(1),
        hash: row.get(2),
        json: row.get(3),
    }
}

/// Applies the migrations the database has not seen, in one transaction
/// under an advisory lock.
fn migrate(client: &mut Client) -> Result<()> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS tessera_schema (version INTEGER NOT NULL)")?;
    let version: i32 = match tx.query_opt("SELECT version FROM tessera_schema", &[])? {
        Some(row) => row.get(0),
        None => {
            tx.execute("INSERT INTO tessera_schema (version) VALUES (0)", &[])?;
            0
        }
    };
    let known = i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX);
    if version > known {
        bail!("the database is at schema version {version}, newer than this build knows ({known})");
    }
    for (index, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        tx.batch_execute(sql)
            .with_context(|| format!("migration {}", index + 1))?;
    }
    tx.execute("UPDATE tessera_schema SET version = $1", &[&known])?;
    tx.commit()?;
    Ok(())
}
