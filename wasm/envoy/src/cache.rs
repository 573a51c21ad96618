//! Each worker's cache of decoded answers, in front of shared data.
//!
//! Shared data holds answers as bytes for every worker; decoding a record
//! on every request would cost more than the rest of the filter, so each
//! worker keeps the answers it decoded, with the same lifetime. The cache is
//! bounded: when full, expired entries go first, then everything.

use crate::HashMap;
use std::rc::Rc;

use tessera_core::TokenHash;

use crate::answer::Answer;

/// A bounded map from hash to answer, each with the time it may be used
/// until (ms since the epoch).
#[derive(Debug)]
pub struct LocalCache {
    entries: HashMap<TokenHash, (Rc<Answer>, i64)>,
    capacity: usize,
}

impl LocalCache {
    /// An empty cache of at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::default(),
            capacity: capacity.max(1),
        }
    }

    /// The answer for `hash`, if it is still fresh at `now_ms`.
    pub fn get(&mut self, hash: &TokenHash, now_ms: i64) -> Option<Rc<Answer>> {
        match self.entries.get(hash) {
            Some((answer, until)) if now_ms < *until => Some(answer.clone()),
            Some(_) => {
                self.entries.remove(hash);
                None
            }
            None => None,
        }
    }

    /// Keeps `answer` until `until`; answers already stale are not kept.
    pub fn insert(&mut self, hash: TokenHash, answer: Rc<Answer>, until: i64, now_ms: i64) {
        if until <= now_ms {
            self.entries.remove(&hash);
            return;
        }
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&hash) {
            self.entries.retain(|_, (_, until)| now_ms < *until);
            if self.entries.len() >= self.capacity {
                self.entries.clear();
            }
        }
        self.entries.insert(hash, (answer, until));
    }

    /// Forgets the answer for `hash`.
    pub fn remove(&mut self, hash: &TokenHash) {
        self.entries.remove(hash);
    }

    /// Forgets every answer.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// How many entries the cache holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(n: u8) -> TokenHash {
        TokenHash::from_bytes([n; 32])
    }

    #[test]
    fn answers_expire() {
        let mut cache = LocalCache::new(4);
        cache.insert(hash(1), Rc::new(Answer::NotFound), 10, 0);
        assert!(cache.get(&hash(1), 9).is_some());
        assert!(cache.get(&hash(1), 10).is_none());
        assert!(cache.is_empty());
        cache.insert(hash(2), Rc::new(Answer::NotFound), 5, 5);
        assert!(cache.is_empty(), "a stale answer is not kept");
    }

    #[test]
    fn the_cache_stays_bounded() {
        let mut cache = LocalCache::new(2);
        cache.insert(hash(1), Rc::new(Answer::NotFound), 5, 0);
        cache.insert(hash(2), Rc::new(Answer::NotFound), 100, 0);
        cache.insert(hash(3), Rc::new(Answer::NotFound), 100, 6);
        assert_eq!(cache.len(), 2, "the expired entry made room");
        assert!(cache.get(&hash(2), 6).is_some());
        cache.insert(hash(4), Rc::new(Answer::NotFound), 100, 6);
        assert_eq!(cache.len(), 1, "a full cache of fresh entries starts over");
        assert!(cache.get(&hash(4), 6).is_some());
    }
}
