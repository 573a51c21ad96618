//! The verified-record cache: token records by hash, bounded by count.
//!
//! Every change that may make an entry stale bumps the cache's *epoch*. A
//! lookup that missed notes the epoch before it reads the database and
//! keeps what it read only if the epoch is still the same afterwards, so a
//! record read before a change can never be put back after the change
//! evicted it. Only records that exist are kept: an unknown hash always
//! goes to the database, so a flood of made-up tokens cannot fill the cache.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::db::FoundToken;

/// The records of recently verified tokens.
pub struct Cache {
    inner: Mutex<Inner>,
    capacity: usize,
}

struct Inner {
    by_hash: HashMap<String, FoundToken>,
    /// Each cached token's id and its hash, to evict by id.
    hash_of: HashMap<String, String>,
    epoch: u64,
}

impl Cache {
    /// A cache of at most `capacity` records (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                by_hash: HashMap::new(),
                hash_of: HashMap::new(),
                epoch: 0,
            }),
            capacity: capacity.max(1),
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        // Every method leaves the maps consistent before it can panic.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current epoch, to pass to [`Cache::insert`] after a database read.
    pub fn epoch(&self) -> u64 {
        self.inner().epoch
    }

    /// The record cached under `hash`, with its user's standing.
    pub fn get(&self, hash: &str) -> Option<FoundToken> {
        self.inner().by_hash.get(hash).cloned()
    }

    /// Keeps `token`, read from the database while the epoch was `epoch`,
    /// unless something was evicted since. When full, an arbitrary entry
    /// makes room (hot tokens come back on their next use).
    pub fn insert(&self, epoch: u64, found: FoundToken) {
        let mut inner = self.inner();
        if inner.epoch != epoch {
            return;
        }
        let token = &found.token;
        if inner.by_hash.len() >= self.capacity && !inner.by_hash.contains_key(&token.hash) {
            let victim = inner.by_hash.keys().next().cloned();
            if let Some(old) = victim.and_then(|victim| inner.by_hash.remove(&victim)) {
                inner.hash_of.remove(&old.token.id);
            }
        }
        inner.hash_of.insert(token.id.clone(), token.hash.clone());
        inner.by_hash.insert(token.hash.clone(), found);
    }

    /// Forgets the token with this hash.
    pub fn evict_hash(&self, hash: &str) {
        let mut inner = self.inner();
        inner.epoch += 1;
        if let Some(old) = inner.by_hash.remove(hash) {
            inner.hash_of.remove(&old.token.id);
        }
    }

    /// Forgets the token with this id.
    pub fn evict_id(&self, id: &str) {
        let mut inner = self.inner();
        inner.epoch += 1;
        if let Some(hash) = inner.hash_of.remove(id) {
            inner.by_hash.remove(&hash);
        }
    }

    /// Forgets everything.
    pub fn flush(&self) {
        let mut inner = self.inner();
        inner.epoch += 1;
        inner.by_hash.clear();
        inner.hash_of.clear();
    }

    /// The most records it keeps.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many records are cached.
    pub fn len(&self) -> usize {
        self.inner().by_hash.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::StoredToken;

    fn token(id: &str) -> FoundToken {
        FoundToken {
            token: StoredToken {
                id: id.into(),
                user_id: "u".into(),
                hash: format!("h-{id}"),
                json: "{}".into(),
            },
            owner: tessera_core::Standing::OWNER,
        }
    }

    #[test]
    fn a_read_from_before_an_eviction_is_not_kept() {
        let cache = Cache::new(8);
        let epoch = cache.epoch();
        cache.evict_hash("h-a");
        cache.insert(epoch, token("a"));
        assert_eq!(cache.get("h-a"), None);
        cache.insert(cache.epoch(), token("a"));
        assert_eq!(cache.get("h-a"), Some(token("a")));
    }

    #[test]
    fn evicting_by_id_and_flushing_forget_records() {
        let cache = Cache::new(8);
        cache.insert(cache.epoch(), token("a"));
        cache.insert(cache.epoch(), token("b"));
        cache.evict_id("a");
        assert_eq!(cache.get("h-a"), None);
        assert!(cache.get("h-b").is_some());
        cache.flush();
        assert!(cache.is_empty());
    }

    #[test]
    fn the_cache_never_grows_past_its_capacity() {
        let cache = Cache::new(3);
        for i in 0..100 {
            cache.insert(cache.epoch(), token(&i.to_string()));
            assert!(cache.len() <= 3);
        }
        let inner = cache.inner();
        assert_eq!(inner.hash_of.len(), inner.by_hash.len());
    }
}
