//! Webhooks that tell people about their tokens: expiring soon (once per
//! token and warning threshold), expired, leaked, deactivated, deleted.
//!
//! The audit log is the outbox. Every change's event is written in the
//! change's own transaction, and the sweep notes expiry notices the same
//! way, once per token and threshold; a subscription's cursor is the last
//! event it has handled. A delivery thread on every host claims due
//! subscriptions (a lease in the database: one host at a time each), serves
//! them side by side, posts each one's next event with Standard Webhooks
//! headers, and moves its cursor only after a 2xx. A failure is retried with exponential backoff; a crash (kill -9
//! included) leaves the cursor where it was, so the event goes again with
//! the same id. Several hosts on one PostgreSQL share the work.

pub mod deliver;
pub mod events;
pub mod sign;
pub mod sweep;

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::db::Db;

/// How the delivery thread works.
#[derive(Clone, Debug)]
pub struct Options {
    /// How often it looks for work.
    pub tick: Duration,
    /// The first retry's delay; each next one doubles, up to `retry_max`.
    pub retry_base_ms: i64,
    /// The longest delay between attempts.
    pub retry_max_ms: i64,
    /// How long one attempt may take.
    pub timeout: Duration,
    /// Whether webhooks may go to loopback and private networks (off:
    /// a member cannot make the host call into its own network).
    pub private_networks: bool,
    /// The warning thresholds, in days, for tokens about to expire.
    pub expiry_days: Vec<u32>,
    /// How often expiring tokens are looked for.
    pub sweep_every: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            tick: Duration::from_millis(500),
            retry_base_ms: 5_000,
            retry_max_ms: 3_600_000,
            timeout: Duration::from_secs(10),
            private_networks: false,
            expiry_days: vec![7, 1],
            sweep_every: Duration::from_secs(60),
        }
    }
}

/// The `serve` flags of webhooks.
#[derive(Clone, Debug, clap::Args)]
pub struct WebhookFlags {
    /// The first retry's delay for a failed webhook delivery, in
    /// milliseconds; each next one doubles, up to an hour.
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub webhook_retry_ms: u32,
    /// How often the delivery thread looks for work, in milliseconds.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(10..))]
    pub webhook_tick_ms: u32,
    /// Lets webhooks go to loopback and private networks (off: a user
    /// cannot make the host post into its own network).
    #[arg(long)]
    pub webhooks_to_private_networks: bool,
    /// The warning thresholds, in days, for tokens about to expire: each
    /// token's owner is told once per threshold (`token.expiring`).
    #[arg(long, value_delimiter = ',', default_value = "7,1", value_parser = clap::value_parser!(u32).range(1..=3660))]
    pub expiry_warning_days: Vec<u32>,
    /// How often tokens about to expire are looked for, in seconds.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..))]
    pub expiry_sweep_seconds: u32,
    /// How long one delivery may take, in seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=300))]
    pub webhook_timeout_seconds: u32,
}

impl WebhookFlags {
    /// The delivery thread's options.
    pub fn options(&self) -> Options {
        let mut days = self.expiry_warning_days.clone();
        days.sort_unstable();
        days.dedup();
        days.truncate(tessera_core::MAX_THRESHOLDS);
        Options {
            tick: Duration::from_millis(u64::from(self.webhook_tick_ms)),
            retry_base_ms: i64::from(self.webhook_retry_ms),
            private_networks: self.webhooks_to_private_networks,
            expiry_days: days,
            sweep_every: Duration::from_secs(u64::from(self.expiry_sweep_seconds)),
            timeout: Duration::from_secs(u64::from(self.webhook_timeout_seconds)),
            ..Options::default()
        }
    }
}

/// Starts the delivery thread (and the expiry sweep) for `db`. It runs
/// until the process ends; every step it takes is in the database, so an
/// end at any moment loses nothing.
pub fn start(db: Arc<Db>, clock: Clock, options: Options) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("webhooks".into())
        .spawn(move || deliver::run(&db, clock, &options))?;
    Ok(())
}
