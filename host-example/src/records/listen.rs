//! The PostgreSQL listener: a connection of its own that `LISTEN`s on the
//! channel the `tokens` trigger notifies, and evicts each changed token's
//! hash from the cache.
//!
//! The cache is trusted only while this connection is known to be up:
//! `live` is set after `LISTEN` took effect and the cache was emptied (so
//! nothing read before can survive), and cleared, with the cache emptied
//! again, the moment the connection fails, closes or stops answering.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use postgres::fallible_iterator::FallibleIterator;

use super::Cache;
use crate::db::Db;

/// The channel the `tokens` trigger notifies (see the PostgreSQL schema).
pub const CHANNEL: &str = "tessera_tokens";

/// How long one wait for notifications lasts before the stop flag and the
/// connection's health are checked.
const WAIT: Duration = Duration::from_millis(250);

/// How often an idle connection is asked whether it still answers.
const PROBE_EVERY: Duration = Duration::from_secs(2);

/// The longest pause between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Starts the listener thread; it runs until `stop`.
pub fn spawn(db: Arc<Db>, cache: Arc<Cache>, live: Arc<AtomicBool>, stop: Arc<AtomicBool>) {
    let spawned = std::thread::Builder::new()
        .name("tessera-listen".into())
        .spawn(move || run(&db, &cache, &live, &stop));
    if let Err(error) = spawned {
        // Without a listener the cache stays bypassed: slower, never stale.
        crate::log::warn(format_args!(
            "no cache listener thread ({error}); every lookup reads PostgreSQL"
        ));
    }
}

fn run(db: &Db, cache: &Cache, live: &AtomicBool, stop: &AtomicBool) {
    let mut backoff = Duration::from_millis(50);
    let mut reported = false;
    while !stop.load(Ordering::Acquire) {
        let mut client = match db.listener(CHANNEL) {
            Ok(client) => client,
            Err(error) => {
                if !reported {
                    crate::log::warn(format_args!(
                        "cache listener cannot connect ({error:#}); lookups bypass the cache"
                    ));
                    reported = true;
                }
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        // LISTEN is in effect: any later commit will be heard. Whatever the
        // cache holds may predate it, so it starts empty.
        cache.flush();
        live.store(true, Ordering::Release);
        if reported {
            crate::log::info(format_args!("cache listener connected again"));
            reported = false;
        }
        backoff = Duration::from_millis(50);
        let error = listen(&mut client, cache, stop);
        live.store(false, Ordering::Release);
        cache.flush();
        if let Some(error) = error {
            crate::log::warn(format_args!(
                "cache listener lost its connection ({error}); lookups bypass the cache"
            ));
            reported = true;
        }
    }
}

/// Evicts notified hashes until the connection fails (the error) or `stop`
/// (`None`).
fn listen(client: &mut postgres::Client, cache: &Cache, stop: &AtomicBool) -> Option<String> {
    let mut probed = Instant::now();
    while !stop.load(Ordering::Acquire) {
        if let Err(error) = evict_notified(client, cache) {
            return Some(error.to_string());
        }
        if client.is_closed() {
            return Some("the server closed it".into());
        }
        if probed.elapsed() >= PROBE_EVERY {
            if let Err(error) = client.is_valid(WAIT * 4) {
                return Some(error.to_string());
            }
            probed = Instant::now();
        }
    }
    None
}

/// Evicts what arrives for [`WAIT`] after the last notification.
fn evict_notified(client: &mut postgres::Client, cache: &Cache) -> Result<(), postgres::Error> {
    let mut notifications = client.notifications();
    let mut waiting = notifications.timeout_iter(WAIT);
    while let Some(notification) = waiting.next()? {
        // `*`: a user's standing or the default for members changed, which
        // may concern any number of records.
        match notification.payload() {
            "*" => cache.flush(),
            hash => cache.evict_hash(hash),
        }
    }
    Ok(())
}
