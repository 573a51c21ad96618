//! Webhook subscriptions and expiry notices on PostgreSQL. Several hosts
//! share them: a subscription is delivered by whichever host claims it, one
//! at a time.

use anyhow::Result;
use postgres::Row;

use super::{Postgres, append};
use crate::db::audit::NewEvent;
use crate::db::webhooks::Webhook;

const SELECT_ONE: &str = "SELECT id, owner, url, secret, events, created_at, cursor, attempts, \
     next_attempt_at, last_error, delivered FROM webhooks WHERE id = $1";
const SELECT_ALL: &str = "SELECT id, owner, url, secret, events, created_at, cursor, attempts, \
     next_attempt_at, last_error, delivered FROM webhooks \
     WHERE $1::TEXT IS NULL OR owner = $1 ORDER BY created_at, id";

fn read(row: &Row) -> Webhook {
    Webhook {
        id: row.get(0),
        owner: row.get(1),
        url: row.get(2),
        secret: row.get(3),
        events: row.get(4),
        created_at: row.get(5),
        cursor: row.get(6),
        attempts: row.get(7),
        next_attempt_at: row.get(8),
        last_error: row.get(9),
        delivered: row.get(10),
    }
}

impl Postgres {
    /// The newest audit event below which no event can still appear.
    /// Sequence numbers are drawn before their transactions commit, so a
    /// later one may be visible while an earlier one is not yet: SHARE mode
    /// waits for every transaction that has appended (they hold ROW
    /// EXCLUSIVE until they end), and any that appends later draws a larger
    /// number.
    pub fn audit_watermark(&self) -> Result<i64> {
        self.with(|c| {
            let mut tx = c.client.transaction()?;
            tx.batch_execute("LOCK TABLE audit IN SHARE MODE")?;
            let max: i64 = tx
                .query_one("SELECT coalesce(max(seq), 0) FROM audit", &[])?
                .get(0);
            tx.commit()?;
            Ok(max)
        })
    }

    /// Stores a new subscription; it starts after the newest audit event.
    pub fn webhook_create(&self, hook: &Webhook) -> Result<Webhook> {
        self.with(|c| {
            let insert = c.prepare(
                "INSERT INTO webhooks (id, owner, url, secret, events, created_at, cursor)
                 VALUES ($1, $2, $3, $4, $5, $6, (SELECT coalesce(max(seq), 0) FROM audit))",
            )?;
            c.client.execute(
                &insert,
                &[
                    &hook.id,
                    &hook.owner,
                    &hook.url,
                    &hook.secret,
                    &hook.events,
                    &hook.created_at,
                ],
            )
        })?;
        self.webhook(&hook.id)?
            .ok_or_else(|| anyhow::anyhow!("a stored subscription vanished"))
    }

    /// One subscription.
    pub fn webhook(&self, id: &str) -> Result<Option<Webhook>> {
        self.with(|c| {
            let statement = c.prepare(SELECT_ONE)?;
            Ok(c.client.query_opt(&statement, &[&id])?.as_ref().map(read))
        })
    }

    /// Every subscription, oldest first; with `owner`, only that user's.
    pub fn webhooks(&self, owner: Option<&str>) -> Result<Vec<Webhook>> {
        self.with(|c| {
            let statement = c.prepare(SELECT_ALL)?;
            Ok(c.client
                .query(&statement, &[&owner])?
                .iter()
                .map(read)
                .collect())
        })
    }

    /// Deletes a subscription; false when there was none.
    pub fn webhook_delete(&self, id: &str) -> Result<bool> {
        self.with(|c| {
            let statement = c.prepare("DELETE FROM webhooks WHERE id = $1")?;
            Ok(c.client.execute(&statement, &[&id])? > 0)
        })
    }

    /// Takes the subscription `id` for delivery by `host` until
    /// `lease_until`, if it is due at `now` and nobody holds it.
    pub fn webhook_claim(&self, id: &str, host: &str, now: i64, lease_until: i64) -> Result<bool> {
        self.with(|c| {
            let statement = c.prepare(
                "UPDATE webhooks SET lease_owner = $2, lease_until = $4
                 WHERE id = $1 AND next_attempt_at <= $3 AND lease_until <= $3",
            )?;
            Ok(c.client
                .execute(&statement, &[&id, &host, &now, &lease_until])?
                > 0)
        })
    }

    /// Records the outcome of `host`'s attempt (see
    /// [`crate::db::Db::webhook_settle`]).
    pub fn webhook_settle(
        &self,
        id: &str,
        host: &str,
        cursor: i64,
        delivered: bool,
        failure: Option<(i64, i64, &str)>,
    ) -> Result<bool> {
        self.with(|c| {
            Ok(match failure {
                None => {
                    let statement = c.prepare(
                        "UPDATE webhooks SET
                             delivered = delivered + $4,
                             cursor = $3, attempts = 0, next_attempt_at = 0, last_error = NULL,
                             lease_owner = NULL, lease_until = 0
                         WHERE id = $1 AND lease_owner = $2",
                    )?;
                    c.client
                        .execute(&statement, &[&id, &host, &cursor, &i64::from(delivered)])?
                }
                Some((attempts, next_at, error)) => {
                    let statement = c.prepare(
                        "UPDATE webhooks SET cursor = $3, attempts = $4, next_attempt_at = $5,
                             last_error = $6, lease_owner = NULL, lease_until = 0
                         WHERE id = $1 AND lease_owner = $2",
                    )?;
                    c.client.execute(
                        &statement,
                        &[&id, &host, &cursor, &attempts, &next_at, &error],
                    )?
                }
            } > 0)
        })
    }

    /// Notes an expiry notice of a token for `threshold`, with its audit
    /// event, once (whichever host comes first): false when it was noted
    /// before.
    pub fn note_expiry(
        &self,
        token_id: &str,
        threshold: u32,
        event: &NewEvent<'_>,
    ) -> Result<bool> {
        let threshold = i64::from(threshold);
        self.with(|c| {
            let insert = c.prepare(
                "INSERT INTO expiry_notices (token_id, threshold) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
            )?;
            let mut tx = c.client.transaction()?;
            let fresh = tx.execute(&insert, &[&token_id, &threshold])? > 0;
            if fresh {
                append(&mut tx, event)?;
            }
            tx.commit()?;
            Ok(fresh)
        })
    }
}
