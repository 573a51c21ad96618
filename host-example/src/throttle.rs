//! Counting failed sign-ins: a sliding window per key (a user name, a
//! client address), in memory that stays bounded however many distinct keys
//! an attacker makes up.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hash};
use std::sync::Mutex;

/// Failures per key within a sliding window; past `limit`, the key is
/// refused until its oldest counted failure leaves the window.
pub struct Throttle {
    limit: usize,
    window_ms: i64,
    capacity: usize,
    /// Keys are hashed with a per-process random key: a stored entry costs
    /// the same for a 3-byte name as for a 1 KiB one, and an attacker cannot
    /// aim collisions.
    hasher: RandomState,
    entries: Mutex<HashMap<u64, VecDeque<i64>>>,
}

impl Throttle {
    /// At most `limit` failures per key in `window_ms`, remembering at most
    /// `capacity` keys.
    pub fn new(limit: usize, window_ms: i64, capacity: usize) -> Self {
        Self {
            limit: limit.max(1),
            window_ms: window_ms.max(1),
            capacity: capacity.max(1),
            hasher: RandomState::new(),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn key(&self, key: impl Hash) -> u64 {
        self.hasher.hash_one(key)
    }

    /// How long `key` must wait (ms) before another attempt, or `None` when
    /// it may try now.
    pub fn wait_ms(&self, key: impl Hash, now: i64) -> Option<i64> {
        let key = self.key(key);
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let failures = entries.get(&key)?;
        if failures.len() < self.limit {
            return None;
        }
        let oldest = *failures.front()?;
        let free_at = oldest.saturating_add(self.window_ms);
        (free_at > now).then(|| free_at - now)
    }

    /// Counts a failure of `key` at `now`.
    pub fn fail(&self, key: impl Hash, now: i64) {
        let key = self.key(key);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if !entries.contains_key(&key) && entries.len() >= self.capacity {
            self.make_room(&mut entries, now);
        }
        let failures = entries.entry(key).or_default();
        failures.push_back(now);
        while failures.len() > self.limit {
            failures.pop_front();
        }
    }

    /// Forgets keys whose failures have all left the window; if none has,
    /// the key whose latest failure is oldest, so the table never grows
    /// past its capacity.
    fn make_room(&self, entries: &mut HashMap<u64, VecDeque<i64>>, now: i64) {
        let horizon = now.saturating_sub(self.window_ms);
        entries.retain(|_, failures| failures.back().is_some_and(|&t| t > horizon));
        if entries.len() >= self.capacity {
            let stalest = entries
                .iter()
                .min_by_key(|(_, failures)| failures.back().copied().unwrap_or(i64::MIN))
                .map(|(&key, _)| key);
            if let Some(key) = stalest {
                entries.remove(&key);
            }
        }
    }

    /// How many keys are remembered (for tests and logs).
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_limit_until_the_window_slides() {
        let throttle = Throttle::new(3, 1_000, 100);
        for t in [0, 10, 20] {
            assert_eq!(throttle.wait_ms("ann", t), None);
            throttle.fail("ann", t);
        }
        assert_eq!(throttle.wait_ms("ann", 30), Some(970));
        assert_eq!(throttle.wait_ms("bob", 30), None, "keys are separate");
        // The oldest failure leaves the window at 1000: one more try.
        assert_eq!(throttle.wait_ms("ann", 1_000), None);
        throttle.fail("ann", 1_000);
        assert_eq!(throttle.wait_ms("ann", 1_001), Some(9));
    }

    #[test]
    fn memory_stays_bounded_under_many_distinct_keys() {
        let throttle = Throttle::new(3, 1_000, 50);
        for i in 0..10_000 {
            throttle.fail(format!("made-up-{i}"), i);
            assert!(throttle.len() <= 50);
        }
        // A key under attack keeps its count while stale keys come and go.
        for t in 0..3 {
            throttle.fail("ann", 20_000 + t);
        }
        for i in 0..49 {
            throttle.fail(format!("other-{i}"), 20_010);
        }
        assert!(throttle.wait_ms("ann", 20_011).is_some());
    }
}
