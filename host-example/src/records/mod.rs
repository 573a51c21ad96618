//! Token records as the plugin's storage callbacks see them: the database,
//! and, in a server, a cache of recently verified records in front of it.
//!
//! The cache never serves a record a committed change has made stale:
//! - changes made through this process evict what they wrote before the
//!   write is acknowledged;
//! - on SQLite, every lookup first reads the WAL index header, which moves
//!   with every commit of any connection (see [`crate::db::CommitMark`]).
//!   When it has moved, `PRAGMA data_version` tells whether another
//!   connection (another process: a CLI, a second host) committed, and the
//!   whole cache is dropped if so; the process's own commits evict what
//!   they wrote themselves. While the header stays put no database lock is
//!   taken;
//!   a database without a header to read asks `data_version` every time;
//! - on PostgreSQL, a trigger sends the hash of every changed or deleted
//!   token with `NOTIFY`; a listener connection evicts it. While that
//!   connection is down the cache is bypassed, and it starts empty again
//!   once the listener is back.
//!
//! Last-used times are noted in memory and written once a second, off the
//! request path (see [`touches`]).

mod cache;
mod listen;
mod touches;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;

use crate::db::{CommitMark, Db, FoundToken, Origin, StoredToken, TokenWrite};

pub use self::cache::Cache;
use self::touches::Touches;

/// How often noted last-used times are written.
const TOUCH_INTERVAL: Duration = Duration::from_secs(1);

/// The token records of a host.
pub struct Records {
    db: Arc<Db>,
    cached: Option<Cached>,
}

/// What a cached [`Records`] keeps besides the database.
struct Cached {
    cache: Arc<Cache>,
    touches: Arc<Touches>,
    freshness: Freshness,
    /// Tells the background threads to finish.
    stop: Arc<AtomicBool>,
}

/// How the cache learns of changes made elsewhere.
enum Freshness {
    /// SQLite: what the cache's content was checked against.
    DataVersion(Mutex<Seen>),
    /// PostgreSQL: whether the listener is connected and listening.
    Notifications(Arc<AtomicBool>),
}

/// What a SQLite cache last checked: the commit mark read just before it
/// asked `data_version`, and the answer.
#[derive(Default)]
struct Seen {
    mark: Option<CommitMark>,
    version: Option<i64>,
}

impl Seen {
    /// Whether another connection committed since the last check, given
    /// the commit mark read just before this call. `data_version` is asked
    /// only when the mark moved or could not be read; an error leaves what
    /// was seen as it was, so the next check asks again.
    fn stale(
        &mut self,
        mark: Option<CommitMark>,
        data_version: impl FnOnce() -> Result<i64>,
    ) -> Result<bool> {
        if mark.is_some() && self.mark == mark {
            return Ok(false);
        }
        let version = data_version()?;
        let stale = self.version != Some(version);
        *self = Seen {
            mark,
            version: Some(version),
        };
        Ok(stale)
    }
}

/// The answer of a lookup that may not do I/O.
pub enum Lookup {
    /// The answer: the record with its user's standing, or no token with
    /// this hash.
    Found(Option<FoundToken>),
    /// The answer needs the database.
    NeedsDatabase,
}

impl Records {
    /// Records read and written straight through to the database (a CLI
    /// command, tests).
    pub fn direct(db: Arc<Db>) -> Self {
        Self { db, cached: None }
    }

    /// Records with a cache of at most `capacity` verified records, and
    /// last-used times written in the background.
    pub fn cached(db: Arc<Db>, capacity: usize) -> Self {
        let cache = Arc::new(Cache::new(capacity));
        let touches = Arc::new(Touches::new());
        let stop = Arc::new(AtomicBool::new(false));
        let freshness = match &*db {
            Db::Sqlite(_) => Freshness::DataVersion(Mutex::default()),
            Db::Postgres(_) => {
                let live = Arc::new(AtomicBool::new(false));
                listen::spawn(db.clone(), cache.clone(), live.clone(), stop.clone());
                Freshness::Notifications(live)
            }
        };
        spawn_touch_writer(db.clone(), cache.clone(), touches.clone(), stop.clone());
        Self {
            db,
            cached: Some(Cached {
                cache,
                touches,
                freshness,
                stop,
            }),
        }
    }

    /// The database behind the records.
    pub fn db(&self) -> &Arc<Db> {
        &self.db
    }

    /// Whether lookups that miss the cache wait on a database server (and
    /// so should leave the async workers).
    pub fn remote(&self) -> bool {
        matches!(&*self.db, Db::Postgres(_))
    }

    /// The epoch to keep a database read under, or `None` when the cache
    /// cannot be trusted now (no cache, or PostgreSQL's listener is down).
    /// Asking first catches up with changes made elsewhere, so the epoch
    /// moves past every change committed before the call; anything read
    /// afterwards and kept under the returned epoch is served only while
    /// the epoch stays the same.
    pub fn fresh_epoch(&self) -> Result<Option<u64>> {
        let Some(cached) = &self.cached else {
            return Ok(None);
        };
        match &cached.freshness {
            Freshness::DataVersion(seen) => {
                // The mark is read before anything else: a commit that
                // completes after this read moves it away from what `seen`
                // keeps, so the next lookup asks again.
                let mark = self.db.commit_mark();
                let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
                if seen.stale(mark, || self.db.data_version())? {
                    cached.cache.flush();
                }
                Ok(Some(cached.cache.epoch()))
            }
            Freshness::Notifications(live) => {
                Ok(live.load(Ordering::Acquire).then(|| cached.cache.epoch()))
            }
        }
    }

    /// The token with this hash, from the cache when it is fresh, else from
    /// the database. With `io` false, a lookup the cache cannot answer
    /// answers [`Lookup::NeedsDatabase`] instead of waiting on a server.
    pub fn by_hash(&self, hash: &str, io: bool) -> Result<Lookup> {
        let epoch = self.fresh_epoch()?;
        if let (Some(_), Some(cached)) = (epoch, &self.cached)
            && let Some(token) = cached.cache.get(hash)
        {
            return Ok(Lookup::Found(Some(token)));
        }
        if !io && self.remote() {
            return Ok(Lookup::NeedsDatabase);
        }
        let token = self.db.token_by_hash(hash)?;
        if let (Some(epoch), Some(cached), Some(token)) = (epoch, &self.cached, &token) {
            cached.cache.insert(epoch, token.clone());
        }
        Ok(Lookup::Found(token))
    }

    /// Applies an operation's writes in one transaction, and evicts every
    /// written token from the cache before returning, whatever the outcome
    /// (a failed commit may still have committed).
    /// The audit log's events for them, made by `origin`, share the
    /// transaction.
    pub fn apply(&self, writes: &[TokenWrite], origin: &Origin) -> Result<()> {
        let result = self.db.apply_writes(writes, origin);
        if let Some(cached) = &self.cached {
            for write in writes {
                match write {
                    TokenWrite::Put(token) => {
                        cached.cache.evict_id(&token.id);
                        cached.cache.evict_hash(&token.hash);
                    }
                    TokenWrite::Delete(id) => cached.cache.evict_id(id),
                }
            }
        }
        result
    }

    /// Makes a change to users' standing (their token enablement, the
    /// members' default) through `change`, then forgets every cached record
    /// whatever the outcome (a failed commit may still have committed):
    /// SQLite's `data_version` only moves for other connections' commits.
    /// Every such change this process makes goes through here.
    pub fn change_standing<T>(&self, change: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        let result = change(&self.db);
        self.forget_all();
        result
    }

    /// Forgets every cached record.
    pub fn forget_all(&self) {
        if let Some(cached) = &self.cached {
            cached.cache.flush();
        }
    }

    /// Every token of a user, always from the database.
    pub fn of_user(&self, user_id: &str) -> Result<Vec<StoredToken>> {
        self.db.tokens_of(user_id)
    }

    /// Records a use of token `id`: noted for the background writer when
    /// cached, written at once otherwise.
    pub fn touch(&self, id: &str, at: i64) -> Result<()> {
        match &self.cached {
            Some(cached) => {
                cached.touches.note(id, at);
                Ok(())
            }
            None => self.db.touch_token(id, at),
        }
    }

    /// Writes the noted last-used times now (a server does this at
    /// shutdown).
    pub fn flush_touches(&self) {
        if let Some(cached) = &self.cached {
            write_touches(&self.db, &cached.cache, &cached.touches);
        }
    }

    /// How many records the cache may hold (0 without a cache).
    pub fn cache_capacity(&self) -> usize {
        self.cached.as_ref().map_or(0, |c| c.cache.capacity())
    }

    /// How many records the cache holds (0 without a cache).
    pub fn cached_len(&self) -> usize {
        self.cached.as_ref().map_or(0, |c| c.cache.len())
    }
}

impl Drop for Records {
    fn drop(&mut self) {
        if let Some(cached) = &self.cached {
            cached.stop.store(true, Ordering::Release);
            write_touches(&self.db, &cached.cache, &cached.touches);
        }
    }
}

/// Writes what `touches` holds in one transaction, then evicts those
/// tokens so their next lookup reads the new time.
fn write_touches(db: &Db, cache: &Cache, touches: &Touches) {
    let batch = touches.take();
    if batch.is_empty() {
        return;
    }
    if let Err(error) = db.touch_tokens(&batch) {
        // One unreadable record fails the batch's transaction: the others
        // are written one by one.
        let lost = batch
            .iter()
            .filter(|(id, at)| db.touch_token(id, *at).is_err())
            .count();
        if lost > 0 {
            crate::log::warn(format_args!(
                "could not record the last use of {lost} token(s): {error:#}"
            ));
        }
    }
    for (id, _) in &batch {
        cache.evict_id(id);
    }
}

/// Writes noted last-used times every [`TOUCH_INTERVAL`] until `stop`.
fn spawn_touch_writer(
    db: Arc<Db>,
    cache: Arc<Cache>,
    touches: Arc<Touches>,
    stop: Arc<AtomicBool>,
) {
    let spawned = std::thread::Builder::new()
        .name("tessera-touches".into())
        .spawn(move || {
            while !stop.load(Ordering::Acquire) {
                std::thread::sleep(TOUCH_INTERVAL);
                write_touches(&db, &cache, &touches);
            }
        });
    if let Err(error) = spawned {
        crate::log::warn(format_args!(
            "no last-used writer thread ({error}); last-used times are written at shutdown"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Sqlite;

    fn token(id: &str, json: &str) -> StoredToken {
        StoredToken {
            id: id.into(),
            user_id: "u".into(),
            hash: format!("hash-{id}"),
            json: json.into(),
        }
    }

    fn found(records: &Records, hash: &str) -> Option<StoredToken> {
        match records.by_hash(hash, true).unwrap() {
            Lookup::Found(found) => found.map(|found| found.token),
            Lookup::NeedsDatabase => panic!("SQLite lookups always answer"),
        }
    }

    #[test]
    fn another_connections_commit_is_seen_at_the_next_lookup() {
        let dir = std::env::temp_dir().join(format!("tessera-records-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db");
        let records = Records::cached(Arc::new(Db::open(&path).unwrap()), 100);
        records
            .apply(
                &[TokenWrite::Put(token("a", "{}"))],
                &crate::db::Origin::operator(0),
            )
            .unwrap();
        assert!(found(&records, "hash-a").is_some());
        assert_eq!(records.cached_len(), 1);
        // Another connection (as another process would) changes the record,
        // then deletes it: each is visible at once.
        let other = Sqlite::open(&path).unwrap();
        other
            .apply_writes(
                &[TokenWrite::Put(token("a", r#"{"status":"inactive"}"#))],
                &crate::db::Origin::operator(0),
            )
            .unwrap();
        assert_eq!(
            found(&records, "hash-a").unwrap().json,
            r#"{"status":"inactive"}"#
        );
        other
            .apply_writes(
                &[TokenWrite::Delete("a".into())],
                &crate::db::Origin::operator(0),
            )
            .unwrap();
        assert_eq!(found(&records, "hash-a"), None);
        drop(records);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_users_standing_is_read_with_the_record_and_never_served_stale() {
        use tessera_core::Enablement;
        let owner = |records: &Records| match records.by_hash("hash-a", true).unwrap() {
            Lookup::Found(Some(found)) => found.owner,
            _ => panic!("the record is there"),
        };
        let dir = std::env::temp_dir().join(format!("tessera-standing-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db");
        let db = Arc::new(Db::open(&path).unwrap());
        let records = Records::cached(db.clone(), 100);
        records
            .apply(
                &[TokenWrite::Put(token("a", "{}"))],
                &crate::db::Origin::operator(0),
            )
            .unwrap();
        // A user id that is no user of the host is enabled.
        assert_eq!(owner(&records).tokens, Enablement::On);
        assert_eq!(records.cached_len(), 1);
        // Another connection adds the user, a member who inherits the
        // default (off): seen at once.
        let other = Sqlite::open(&path).unwrap();
        other
            .add_user("u", "x", false, &crate::db::Origin::operator(0))
            .unwrap();
        assert!(!owner(&records).tokens_enabled());
        // Another connection turns the default on: seen at once.
        other
            .set_setting(
                "members-can-create-tokens",
                "true",
                &crate::db::Origin::operator(0),
            )
            .unwrap();
        assert!(owner(&records).tokens_enabled());
        // This process switches the user off; it forgets what it cached.
        assert!(
            db.set_user_tokens("u", Enablement::Off, &crate::db::Origin::operator(0))
                .unwrap()
        );
        records.forget_all();
        assert_eq!(owner(&records).tokens, Enablement::Off);
        assert!(!owner(&records).tokens_enabled());
        // Another connection switches them on again.
        other
            .set_user_tokens("u", Enablement::On, &crate::db::Origin::operator(0))
            .unwrap();
        assert!(owner(&records).tokens_enabled());
        assert!(
            !db.set_user_tokens("nobody", Enablement::On, &crate::db::Origin::operator(0))
                .unwrap()
        );
        drop(records);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn own_writes_evict_and_touches_are_written_in_the_background() {
        let db = Arc::new(Db::in_memory().unwrap());
        let records = Records::cached(db.clone(), 100);
        records
            .apply(
                &[TokenWrite::Put(token("a", r#"{"lastUsedAt":null}"#))],
                &crate::db::Origin::operator(0),
            )
            .unwrap();
        assert!(found(&records, "hash-a").is_some());
        records.touch("a", 42).unwrap();
        // Not written yet: the use is only noted.
        assert_eq!(
            db.token_by_id("a").unwrap().unwrap().json,
            r#"{"lastUsedAt":null}"#
        );
        records.flush_touches();
        assert_eq!(
            db.token_by_id("a").unwrap().unwrap().json,
            r#"{"lastUsedAt":42}"#
        );
        assert_eq!(
            found(&records, "hash-a").unwrap().json,
            r#"{"lastUsedAt":42}"#
        );
        records
            .apply(
                &[TokenWrite::Delete("a".into())],
                &crate::db::Origin::operator(0),
            )
            .unwrap();
        assert_eq!(found(&records, "hash-a"), None);
    }

    #[test]
    fn dropping_the_records_writes_pending_touches() {
        let db = Arc::new(Db::in_memory().unwrap());
        let records = Records::cached(db.clone(), 100);
        records
            .apply(
                &[TokenWrite::Put(token("a", r#"{"lastUsedAt":null}"#))],
                &crate::db::Origin::operator(0),
            )
            .unwrap();
        records.touch("a", 7).unwrap();
        drop(records);
        assert_eq!(
            db.token_by_id("a").unwrap().unwrap().json,
            r#"{"lastUsedAt":7}"#
        );
    }

    #[test]
    fn data_version_is_asked_only_when_the_commit_mark_moved() {
        use crate::db::CommitMark;
        let (a, b) = (CommitMark::numbered(1), CommitMark::numbered(2));
        let never = || -> Result<i64> { panic!("data_version asked for an unmoved mark") };
        let mut seen = Seen::default();
        // The first check asks, and drops whatever the cache held.
        assert!(seen.stale(Some(a), || Ok(7)).unwrap());
        assert!(!seen.stale(Some(a), never).unwrap());
        // The mark moved through this process's own commit: asked, kept.
        assert!(!seen.stale(Some(b), || Ok(7)).unwrap());
        assert!(!seen.stale(Some(b), never).unwrap());
        // It moved through another connection's: asked, dropped.
        assert!(seen.stale(Some(a), || Ok(8)).unwrap());
        // A failed question changes nothing: the next check asks again.
        assert!(seen.stale(Some(b), || anyhow::bail!("busy")).is_err());
        assert!(seen.stale(Some(b), || Ok(9)).unwrap());
        // Without a mark to read, every check asks.
        assert!(!seen.stale(None, || Ok(9)).unwrap());
        assert!(seen.stale(None, || Ok(10)).unwrap());
        assert!(!seen.stale(None, || Ok(10)).unwrap());
    }

    /// A fresh directory of this test process.
    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("tessera-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn own_commits_keep_the_cache_and_others_drop_it() {
        let dir = scratch("own-commits");
        let path = dir.join("t.db");
        let records = Records::cached(Arc::new(Db::open(&path).unwrap()), 100);
        assert!(records.db().commit_mark().is_some(), "a WAL index to read");
        let origin = crate::db::Origin::operator(0);
        records
            .apply(&[TokenWrite::Put(token("a", "{}"))], &origin)
            .unwrap();
        assert!(found(&records, "hash-a").is_some());
        // This process's own write of another token moves the WAL index,
        // but `data_version` says no other connection wrote: `a` stays.
        records
            .apply(&[TokenWrite::Put(token("b", "{}"))], &origin)
            .unwrap();
        assert!(found(&records, "hash-b").is_some());
        assert_eq!(records.cached_len(), 2);
        // Another connection's write of an unrelated token drops it all.
        let other = Sqlite::open(&path).unwrap();
        other
            .apply_writes(&[TokenWrite::Put(token("c", "{}"))], &origin)
            .unwrap();
        assert!(found(&records, "hash-c").is_some());
        assert_eq!(records.cached_len(), 1);
        drop((records, other));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Another connection deletes cached tokens one by one while two
    /// threads keep looking them up: once a deletion has returned, no
    /// lookup that starts afterwards finds the token.
    #[test]
    fn a_deletion_acknowledged_elsewhere_is_never_served_from_the_cache() {
        use std::sync::atomic::AtomicUsize;
        const TOKENS: usize = 40;
        let dir = scratch("acknowledged");
        let path = dir.join("t.db");
        let records = Arc::new(Records::cached(Arc::new(Db::open(&path).unwrap()), 1000));
        assert!(records.db().commit_mark().is_some(), "a WAL index to read");
        let origin = crate::db::Origin::operator(0);
        let ids: Vec<String> = (0..TOKENS).map(|n| format!("t{n}")).collect();
        for id in &ids {
            records
                .apply(&[TokenWrite::Put(token(id, "{}"))], &origin)
                .unwrap();
            assert!(found(&records, &format!("hash-{id}")).is_some());
        }
        assert_eq!(records.cached_len(), TOKENS);
        let acknowledged = Arc::new(AtomicUsize::new(0));
        let readers: Vec<_> = (0..2)
            .map(|reader| {
                let (records, acknowledged) = (records.clone(), acknowledged.clone());
                std::thread::spawn(move || {
                    let mut lookups = 0u32;
                    let deadline = std::time::Instant::now() + Duration::from_secs(60);
                    loop {
                        let done = acknowledged.load(Ordering::Acquire);
                        if done == TOKENS || std::time::Instant::now() > deadline {
                            return lookups;
                        }
                        // The last token deleted, and one still there (kept
                        // hot in the cache).
                        if done > 0 {
                            let gone = format!("hash-t{}", done - 1);
                            assert_eq!(
                                found(&records, &gone),
                                None,
                                "{gone} served after its deletion"
                            );
                        }
                        let live = format!(
                            "hash-t{}",
                            done + (lookups as usize + reader) % (TOKENS - done)
                        );
                        found(&records, &live);
                        lookups += 1;
                    }
                })
            })
            .collect();
        let other = Sqlite::open(&path).unwrap();
        for (n, id) in ids.iter().enumerate() {
            std::thread::sleep(Duration::from_millis(2));
            other
                .apply_writes(&[TokenWrite::Delete(id.clone())], &origin)
                .unwrap();
            acknowledged.store(n + 1, Ordering::Release);
        }
        for reader in readers {
            assert!(reader.join().unwrap() > 0, "the reader looked nothing up");
        }
        for id in &ids {
            assert_eq!(found(&records, &format!("hash-{id}")), None);
        }
        drop((records, other));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
