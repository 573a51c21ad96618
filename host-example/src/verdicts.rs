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
//! a SHA-256 digest of what they depend on, so the memo holds no token.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};

use sha2::{Digest, Sha256};

use crate::plugin::{Principal, Request};

/// What a verification depends on besides time and records: a digest of
/// the input, the request and the client's address.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key([u8; 32]);

impl Key {
    /// The key of verifying `input` for `request` from `ip`. Each part is
    /// written with its length or a tag first, so no two different calls
    /// share one.
    pub fn new(input: &str, request: Option<&Request>, ip: Option<IpAddr>) -> Self {
        fn text(hasher: &mut Sha256, text: &str) {
            hasher.update((text.len() as u64).to_le_bytes());
            hasher.update(text.as_bytes());
        }
        let mut hasher = Sha256::new();
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
        Self(hasher.finalize().into())
    }
}

/// One remembered outcome.
struct Verdict {
    principal: Principal,
    /// When it was decided: a clock that went back answers anew.
    decided_at: i64,
}

/// Remembered successful verifications, at most `capacity` of them, all
/// decided under one epoch.
pub struct Verdicts {
    inner: Mutex<Inner>,
    capacity: usize,
}

struct Inner {
    epoch: u64,
    by_key: HashMap<Key, Verdict>,
}

impl Verdicts {
    /// A memo of at most `capacity` outcomes (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                epoch: 0,
                by_key: HashMap::new(),
            }),
            capacity: capacity.max(1),
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        // No method can panic while the map is half-changed.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The principal remembered under `key`, if it was decided under
    /// `epoch` (the current one) and still holds at `now`.
    pub fn get(&self, key: &Key, epoch: u64, now: i64) -> Option<Principal> {
        let mut inner = self.inner();
        if inner.epoch != epoch {
            // Everything kept was decided under an older epoch (or this
            // caller's is older, and it must ask the plugin).
            if inner.epoch < epoch {
                inner.by_key.clear();
                inner.epoch = epoch;
            }
            return None;
        }
        let verdict = inner.by_key.get(key)?;
        let holds =
            now >= verdict.decided_at && verdict.principal.recheck_at.is_none_or(|at| now < at);
        holds.then(|| verdict.principal.clone())
    }

    /// Remembers the principal the plugin verified at `now`, with the
    /// records at `epoch` as read *before* the call: if anything changed
    /// since, the entry is never served (or not kept at all).
    pub fn insert(&self, key: Key, epoch: u64, now: i64, principal: Principal) {
        let mut inner = self.inner();
        if epoch < inner.epoch {
            return;
        }
        if epoch > inner.epoch {
            inner.by_key.clear();
            inner.epoch = epoch;
        }
        if inner.by_key.len() >= self.capacity && !inner.by_key.contains_key(&key) {
            // An arbitrary entry makes room; a hot one comes back on its
            // next use.
            if let Some(victim) = inner.by_key.keys().next().copied() {
                inner.by_key.remove(&victim);
            }
        }
        inner.by_key.insert(
            key,
            Verdict {
                principal,
                decided_at: now,
            },
        );
    }

    /// How many outcomes are remembered.
    pub fn len(&self) -> usize {
        self.inner().by_key.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn principal(recheck_at: Option<i64>) -> Principal {
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

    #[test]
    fn every_part_of_a_call_is_in_its_key() {
        let ip4: IpAddr = "10.0.0.1".parse().unwrap();
        let ip6: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        let read = request("apps.read", None);
        let keys = [
            Key::new("tsr_a", None, None),
            Key::new("tsr_b", None, None),
            Key::new("tsr_a", Some(&read), None),
            Key::new("tsr_a", Some(&request("apps.write", None)), None),
            Key::new("tsr_a", Some(&request("apps.read", Some(""))), None),
            Key::new("tsr_a", Some(&request("apps.read", Some("x"))), None),
            Key::new("tsr_a", Some(&read), Some(ip4)),
            Key::new("tsr_a", Some(&read), Some(ip6)),
            // The lengths keep parts from running into each other.
            Key::new("tsr_aapps.read", Some(&request("", None)), None),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert!(a != b, "two calls share a key");
            }
        }
        assert!(Key::new("tsr_a", Some(&read), Some(ip4)) == keys[6]);
    }

    #[test]
    fn an_outcome_holds_until_its_recheck_time_and_only_in_its_epoch() {
        let verdicts = Verdicts::new(8);
        let key = Key::new("tsr_a", None, None);
        verdicts.insert(key, 3, NOW, principal(Some(NOW + 1_000)));
        assert!(verdicts.get(&key, 3, NOW).is_some());
        assert!(verdicts.get(&key, 3, NOW + 999).is_some());
        assert!(verdicts.get(&key, 3, NOW + 1_000).is_none());
        // A clock that went back asks again.
        assert!(verdicts.get(&key, 3, NOW - 1).is_none());
        assert!(
            verdicts
                .get(&Key::new("tsr_b", None, None), 3, NOW)
                .is_none()
        );
        // A newer epoch forgets everything, and an older one is never served.
        assert!(verdicts.get(&key, 4, NOW).is_none());
        assert!(verdicts.is_empty());
        verdicts.insert(key, 3, NOW, principal(None));
        assert!(
            verdicts.is_empty(),
            "a decision from an older epoch was kept"
        );
        verdicts.insert(key, 4, NOW, principal(None));
        assert!(verdicts.get(&key, 4, NOW + 10_000_000).is_some());
        assert!(verdicts.get(&key, 3, NOW).is_none());
        assert_eq!(verdicts.len(), 1, "an older caller's miss forgot nothing");
    }

    #[test]
    fn the_memo_never_grows_past_its_capacity() {
        let verdicts = Verdicts::new(3);
        for i in 0..50 {
            let key = Key::new(&format!("tsr_{i}"), None, None);
            verdicts.insert(key, 0, NOW, principal(None));
            assert!(verdicts.len() <= 3);
            assert!(verdicts.get(&key, 0, NOW).is_some());
        }
    }
}
