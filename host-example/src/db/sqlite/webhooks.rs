//! Webhook subscriptions and expiry notices on SQLite.

use anyhow::Result;
use rusqlite::{OptionalExtension, Row, params};

use super::{Sqlite, append};
use crate::db::audit::NewEvent;
use crate::db::webhooks::Webhook;

fn read(row: &Row<'_>) -> rusqlite::Result<Webhook> {
    Ok(Webhook {
        id: row.get(0)?,
        owner: row.get(1)?,
        url: row.get(2)?,
        secret: row.get(3)?,
        events: row.get(4)?,
        created_at: row.get(5)?,
        cursor: row.get(6)?,
        attempts: row.get(7)?,
        next_attempt_at: row.get(8)?,
        last_error: row.get(9)?,
        delivered: row.get(10)?,
    })
}

impl Sqlite {
    /// The newest audit event: SQLite commits one writer at a time, so no
    /// event below it can still appear.
    pub fn audit_watermark(&self) -> Result<i64> {
        Ok(self
            .conn()
            .prepare_cached("SELECT coalesce(max(seq), 0) FROM audit")?
            .query_row([], |row| row.get(0))?)
    }

    /// Stores a new subscription; it starts after the newest audit event.
    pub fn webhook_create(&self, hook: &Webhook) -> Result<Webhook> {
        let conn = self.conn();
        conn.prepare_cached(
            "INSERT INTO webhooks (id, owner, url, secret, events, created_at, cursor)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, (SELECT coalesce(max(seq), 0) FROM audit))",
        )?
        .execute(params![
            hook.id,
            hook.owner,
            hook.url,
            hook.secret,
            hook.events,
            hook.created_at
        ])?;
        drop(conn);
        self.webhook(&hook.id)?
            .ok_or_else(|| anyhow::anyhow!("a stored subscription vanished"))
    }

    /// One subscription.
    pub fn webhook(&self, id: &str) -> Result<Option<Webhook>> {
        let sql = format!(
            "SELECT {} FROM webhooks WHERE id = ?1",
            crate::db::webhooks::COLUMNS
        );
        Ok(self
            .conn()
            .prepare_cached(&sql)?
            .query_row([id], read)
            .optional()?)
    }

    /// Every subscription, oldest first; with `owner`, only that user's.
    pub fn webhooks(&self, owner: Option<&str>) -> Result<Vec<Webhook>> {
        let sql = format!(
            "SELECT {} FROM webhooks WHERE ?1 IS NULL OR owner = ?1 ORDER BY created_at, id",
            crate::db::webhooks::COLUMNS
        );
        let conn = self.conn();
        let mut statement = conn.prepare_cached(&sql)?;
        let rows = statement.query_map([owner], read)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deletes a subscription; false when there was none.
    pub fn webhook_delete(&self, id: &str) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached("DELETE FROM webhooks WHERE id = ?1")?
            .execute([id])?
            > 0)
    }

    /// Takes the subscription `id` for delivery by `host` until
    /// `lease_until`, if it is due at `now` and nobody holds it.
    pub fn webhook_claim(&self, id: &str, host: &str, now: i64, lease_until: i64) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached(
                "UPDATE webhooks SET lease_owner = ?2, lease_until = ?4
                 WHERE id = ?1 AND next_attempt_at <= ?3 AND lease_until <= ?3",
            )?
            .execute(params![id, host, now, lease_until])?
            > 0)
    }

    /// Records the outcome of `host`'s attempt: the cursor reached, and
    /// for a failure the attempts, when to try again and why. Releases the
    /// lease. False when `host` no longer held it (nothing changes).
    pub fn webhook_settle(
        &self,
        id: &str,
        host: &str,
        cursor: i64,
        delivered: bool,
        failure: Option<(i64, i64, &str)>,
    ) -> Result<bool> {
        let conn = self.conn();
        let changed = match failure {
            None => conn
                .prepare_cached(
                    "UPDATE webhooks SET delivered = delivered + ?4, cursor = ?3,
                         attempts = 0, next_attempt_at = 0, last_error = NULL,
                         lease_owner = NULL, lease_until = 0
                     WHERE id = ?1 AND lease_owner = ?2",
                )?
                .execute(params![id, host, cursor, i64::from(delivered)])?,
            Some((attempts, next_at, error)) => conn
                .prepare_cached(
                    "UPDATE webhooks SET cursor = ?3, attempts = ?4, next_attempt_at = ?5,
                         last_error = ?6, lease_owner = NULL, lease_until = 0
                     WHERE id = ?1 AND lease_owner = ?2",
                )?
                .execute(params![id, host, cursor, attempts, next_at, error])?,
        };
        Ok(changed > 0)
    }

    /// Notes an expiry notice of a token for `threshold`, with its audit
    /// event, once: false when it was noted before.
    pub fn note_expiry(
        &self,
        token_id: &str,
        threshold: u32,
        event: &NewEvent<'_>,
    ) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let fresh = tx
            .prepare_cached(
                "INSERT INTO expiry_notices (token_id, threshold) VALUES (?1, ?2)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![token_id, threshold])?
            > 0;
        if fresh {
            append(&tx, event)?;
        }
        tx.commit()?;
        Ok(fresh)
    }
}
