//! Webhook subscriptions as stored: where to deliver, what, and how far
//! delivery has come. The audit log is the outbox: every change's event is
//! written in the change's own transaction, and a subscription's `cursor`
//! is the last event it has handled, so nothing is lost by a crash and an
//! event's id (its sequence number) never changes between attempts.

/// A subscription.
#[derive(Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Its public id.
    pub id: String,
    /// The user whose tokens it follows; `None` for every user (created by
    /// an administrator).
    pub owner: Option<String>,
    /// Where events are posted.
    pub url: String,
    /// The Standard Webhooks signing secret (`whsec_…`): shown once, never
    /// listed or logged.
    pub secret: String,
    /// The event types it receives, comma-separated.
    pub events: String,
    /// When it was created (ms since the epoch).
    pub created_at: i64,
    /// The last audit sequence number it has handled.
    pub cursor: i64,
    /// Failed attempts at the event after `cursor`.
    pub attempts: i64,
    /// When the next attempt is due (ms since the epoch).
    pub next_attempt_at: i64,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
    /// How many events it has delivered.
    pub delivered: i64,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("id", &self.id)
            .field("owner", &self.owner)
            .field("url", &self.url)
            .field("events", &self.events)
            .field("cursor", &self.cursor)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// The columns every query of a subscription reads, in [`Webhook`]'s order.
pub(super) const COLUMNS: &str = "id, owner, url, secret, events, created_at, cursor, attempts, \
     next_attempt_at, last_error, delivered";
