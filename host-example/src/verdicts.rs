//! The plugin's successful verifications, remembered while they hold.
//!
//! A verification's outcome depends on the presented input, the request,
//! the client's address, the time, the token's record and its user's
//! standing. A remembered outcome is reused only for the same input,
//! request and address; only while the records' cache epoch (see
//! [`crate::records::Cache`]) is the one it was decided under, which every
//! change to a record or a standing moves; and only before the time the
//! plugin said the outcome could change on its own (its `recheck-at`: the
//! token's expiry, or when its next use falls due for recording). So a hit
//! gives exactly what the plugin would answer, without calling it.
//!
//! Denials are never remembered: a flood of made-up or refused tokens
//! always reaches the plugin and cannot fill the memo. Entries are found by
//! a salted SHA-256 digest of what they depend on, so the memo holds no
//! token and its keys cannot confirm a guessed one. Inputs longer than any
//! token with its scheme are not remembered, and the memo is bounded both
//! in entries and in the bytes of the principals it keeps.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use sha2::{Digest, Sha256};

use crate::plugin::{Principal, Request};

/// The longest input remembered: a token with its scheme and some room.
pub const MAX_INPUT: usize = 256;

/// The most bytes of principals (ids and scope JSON) kept in all.
const MAX_BYTES: usize = 16 << 20;

/// What a verification depends on besides time and records: a digest of
/// the input, the request and the client's address.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key([u8; 32]);

/// One remembered outcome.
struct Verdict {
    principal: Arc<Principal>,
    /// When it was decided: a clock that went back answers anew.
    decided_at: i64,
}

impl Verdict {
    /// What it counts against [`MAX_BYTES`].
    fn weight(&self) -> usize {
        let p = &self.principal;
        p.user_id.len() + p.token_id.len() + p.scope.len() + 128
    }
}

/// Remembered successful verifications, at most `capacity` of them, all
/// decided under one epoch.
pub struct Verdicts {
    inner: Mutex<Inner>,
    capacity: usize,
    salt: [u8; 32],
    hits: AtomicU64,
}

#[derive(Default)]
struct Inner {
    epoch: u64,
    by_key: HashMap<Key, Verdict>,
    bytes: usize,
}

impl Inner {
    /// Starts over under `epoch`; the old entries are returned, to be
    /// dropped once the lock is released.
    fn restart(&mut self, epoch: u64) -> HashMap<Key, Verdict> {
        self.epoch = epoch;
        self.bytes = 0;
        std::mem::take(&mut self.by_key)
    }
}

impl Verdicts {
    /// A memo of at most `capacity` outcomes (at least one), its keys
    /// salted with `salt`.
    pub fn new(capacity: usize, salt: [u8; 32]) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            capacity: capacity.max(1),
            salt,
            hits: AtomicU64::new(0),
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        // No method can panic while the map is half-changed.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The key of verifying `input` for `request` from `ip`, or `None`
    /// when the input is too long to remember. Each part is written with
    /// its length or a tag first, so no two different calls share one.
    pub fn key(&self, input: &str, request: Option<&Request>, ip: Option<IpAddr>) -> Option<Key> {
        fn text(hasher: &mut Sha256, text: &str) {
            hasher.update((text.len() as u64).to_le_bytes());
            hasher.update(text.as_bytes());
        }
        if input.len() > MAX_INPUT {
            return None;
        }
        let mut hasher = Sha256::new();
        hasher.update(self.salt);
        text(&mut hasher, input);
        match request {
            None => hasher.update([0]),
            Some(request) => {
                hasher.update([1]);
                text(&mut hasher, &request.action);
                match &request.resource {
                    None => hasher.update([0]),
                    Some(resource) => {
                        hasher.update([1]);
                        text(&mut hasher, resource);
                    }
                }
            }
        }
        match ip {
            None => hasher.update([0]),
            Some(IpAddr::V4(v4)) => {
                hasher.update([4]);
                hasher.update(v4.octets());
            }
            Some(IpAddr::V6(v6)) => {
                hasher.update([6]);
                hasher.update(v6.octets());
            }
        }
        Some(Key(hasher.finalize().into()))
    }

    /// The principal remembered under `key`, if it was decided under
    /// `epoch` (the current one) and still holds at `now`.
    pub fn get(&self, key: &Key, epoch: u64, now: i64) -> Option<Principal> {
        let mut inner = self.inner();
        if inner.epoch != epoch {
            // Everything kept was decided under an older epoch (or this
            // caller's is older, and it must ask the plugin).
            if inner.epoch < epoch {
                let old = inner.restart(epoch);
                drop(inner);
                drop(old);
            }
            return None;
        }
        let verdict = inner.by_key.get(key)?;
        let holds = now >= verdict.decided_at && now < verdict.principal.recheck_at;
        let principal = holds.then(|| verdict.principal.clone())?;
        drop(inner);
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(Principal::clone(&principal))
    }

    /// Remembers the principal the plugin verified at `now`, with the
    /// records at `epoch` as read *before* the call: if anything changed
    /// since, the entry is never served (or not kept at all).
    pub fn insert(&self, key: Key, epoch: u64, now: i64, principal: Principal) {
        let verdict = Verdict {
            principal: Arc::new(principal),
            decided_at: now,
        };
        let weight = verdict.weight();
        if weight > MAX_BYTES {
            return;
        }
        let mut inner = self.inner();
        if epoch < inner.epoch {
            return;
        }
        // `get` ran under the same epoch just before, so this only happens
        // when the epoch moved in between: start over under the new one.
        let old = (epoch > inner.epoch).then(|| inner.restart(epoch));
        if let Some(replaced) = inner.by_key.remove(&key) {
            inner.bytes -= replaced.weight();
        }
        while inner.by_key.len() >= self.capacity || inner.bytes + weight > MAX_BYTES {
            // An arbitrary entry makes room; a hot one comes back on its
            // next use.
            let Some(victim) = inner.by_key.keys().next().copied() else {
                break;
            };
            if let Some(evicted) = inner.by_key.remove(&victim) {
                inner.bytes -= evicted.weight();
            }
        }
        inner.bytes += weight;
        inner.by_key.insert(key, verdict);
        drop(inner);
        drop(old);
    }

    /// How many outcomes are remembered.
    pub fn len(&self) -> usize {
        self.inner().by_key.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many calls a remembered outcome answered so far.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn principal(recheck_at: i64) -> Principal {
        Principal {
            user_id: "ann".into(),
            token_id: "t1".into(),
            scope: r#"{"preset":"all"}"#.into(),
            expires_at: None,
            recheck_at,
        }
    }

    fn request(action: &str, resource: Option<&str>) -> Request {
        Request {
            action: action.into(),
            resource: resource.map(Into::into),
        }
    }

    fn verdicts(capacity: usize) -> Verdicts {
        Verdicts::new(capacity, [9; 32])
    }

    #[test]
    fn every_part_of_a_call_is_in_its_key() {
        let memo = verdicts(8);
        let key =
            |input: &str, request: Option<&Request>, ip| memo.key(input, request, ip).unwrap();
        let ip4: IpAddr = "10.0.0.1".parse().unwrap();
        let ip6: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        let read = request("apps.read", None);
        let keys = [
            key("tsr_a", None, None),
            key("tsr_b", None, None),
            key("tsr_a", Some(&read), None),
            key("tsr_a", Some(&request("apps.write", None)), None),
            key("tsr_a", Some(&request("apps.read", Some(""))), None),
            key("tsr_a", Some(&request("apps.read", Some("x"))), None),
            key("tsr_a", Some(&read), Some(ip4)),
            key("tsr_a", Some(&read), Some(ip6)),
            // The lengths keep parts from running into each other.
            key("tsr_aapps.read", Some(&request("", None)), None),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert!(a != b, "two calls share a key");
            }
        }
        assert!(key("tsr_a", Some(&read), Some(ip4)) == keys[6]);
        // Another salt, another key; an input too long is not remembered.
        let other = Verdicts::new(8, [8; 32]);
        assert!(other.key("tsr_a", None, None).unwrap() != keys[0]);
        assert!(memo.key(&"a".repeat(MAX_INPUT), None, None).is_some());
        assert!(memo.key(&"a".repeat(MAX_INPUT + 1), None, None).is_none());
    }

    #[test]
    fn an_outcome_holds_until_its_recheck_time_and_only_in_its_epoch() {
        let verdicts = verdicts(8);
        let key = verdicts.key("tsr_a", None, None).unwrap();
        verdicts.insert(key, 3, NOW, principal(NOW + 1_000));
        assert!(verdicts.get(&key, 3, NOW).is_some());
        assert!(verdicts.get(&key, 3, NOW + 999).is_some());
        assert!(verdicts.get(&key, 3, NOW + 1_000).is_none());
        // A clock that went back asks again.
        assert!(verdicts.get(&key, 3, NOW - 1).is_none());
        assert!(
            verdicts
                .get(&verdicts.key("tsr_b", None, None).unwrap(), 3, NOW)
                .is_none()
        );
        // A newer epoch forgets everything, and an older one is never served.
        assert!(verdicts.get(&key, 4, NOW).is_none());
        assert!(verdicts.is_empty());
        verdicts.insert(key, 3, NOW, principal(i64::MAX));
        assert!(
            verdicts.is_empty(),
            "a decision from an older epoch was kept"
        );
        verdicts.insert(key, 4, NOW, principal(i64::MAX));
        assert!(verdicts.get(&key, 4, NOW + 10_000_000).is_some());
        assert!(verdicts.get(&key, 3, NOW).is_none());
        assert_eq!(verdicts.len(), 1, "an older caller's miss forgot nothing");
    }

    #[test]
    fn the_memo_never_grows_past_its_capacity() {
        let verdicts = verdicts(3);
        for i in 0..50 {
            let key = verdicts.key(&format!("tsr_{i}"), None, None).unwrap();
            verdicts.insert(key, 0, NOW, principal(i64::MAX));
            assert!(verdicts.len() <= 3);
            assert!(verdicts.get(&key, 0, NOW).is_some());
        }
        assert_eq!(verdicts.hits(), 50);
    }

    #[test]
    fn the_memo_never_holds_more_than_its_bytes() {
        let verdicts = verdicts(1_000_000);
        let wide = |scope_len: usize| Principal {
            scope: "x".repeat(scope_len),
            ..principal(i64::MAX)
        };
        for i in 0..40 {
            let key = verdicts.key(&format!("tsr_{i}"), None, None).unwrap();
            verdicts.insert(key, 0, NOW, wide(1 << 20));
            let inner = verdicts.inner();
            assert!(inner.bytes <= MAX_BYTES);
            let counted: usize = inner.by_key.values().map(Verdict::weight).sum();
            assert_eq!(inner.bytes, counted);
        }
        assert!(
            verdicts.len() < 16,
            "{} entries of 1 MiB kept",
            verdicts.len()
        );
        // One bigger than the whole budget is not kept at all.
        let key = verdicts.key("tsr_huge", None, None).unwrap();
        verdicts.insert(key, 0, NOW, wide(MAX_BYTES + 1));
        assert!(verdicts.get(&key, 0, NOW).is_none());
    }
}
