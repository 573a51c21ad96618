//! Last-used writes, coalesced: a verification notes the time in memory
//! and a background thread writes what accumulated once a second, in one
//! transaction of its own. A write that fails or never happens (the process
//! killed in between) loses a last-used time, never anything else: no other
//! change waits on it or shares its transaction.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// Pending last-used times, at most one per token.
pub struct Touches {
    pending: Mutex<HashMap<String, i64>>,
}

/// Beyond this many tokens waiting, further uses are not recorded until
/// the next write: memory stays bounded whatever the traffic.
const MAX_PENDING: usize = 100_000;

impl Touches {
    /// Nothing pending.
    pub fn new() -> Self {
        Self {
            pending: Mutex::new(HashMap::new()),
        }
    }

    fn pending(&self) -> MutexGuard<'_, HashMap<String, i64>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Notes a use of token `id` at `at`; the latest time wins.
    pub fn note(&self, id: &str, at: i64) {
        let mut pending = self.pending();
        if let Some(time) = pending.get_mut(id) {
            *time = (*time).max(at);
        } else if pending.len() < MAX_PENDING {
            pending.insert(id.to_owned(), at);
        }
    }

    /// Takes everything pending, to write.
    pub fn take(&self) -> Vec<(String, i64)> {
        std::mem::take(&mut *self.pending()).into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_coalesce_per_token_and_the_latest_wins() {
        let touches = Touches::new();
        touches.note("a", 5);
        touches.note("a", 9);
        touches.note("a", 7);
        touches.note("b", 1);
        let mut taken = touches.take();
        taken.sort();
        assert_eq!(taken, [("a".to_owned(), 9), ("b".to_owned(), 1)]);
        assert!(touches.take().is_empty());
    }
}
