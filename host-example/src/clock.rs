//! Time and randomness: the two things the core needs and never fetches.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Result, anyhow};

/// The host's clock, in milliseconds since the Unix epoch, shifted by a
/// fixed offset that tests use to reach expiry without sleeping.
#[derive(Clone, Copy, Debug, Default)]
pub struct Clock {
    offset_ms: i64,
}

impl Clock {
    /// A clock `offset_ms` ahead of the system's (behind, if negative).
    pub fn with_offset(offset_ms: i64) -> Self {
        Self { offset_ms }
    }

    /// The current time.
    pub fn now(&self) -> i64 {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        since_epoch.saturating_add(self.offset_ms)
    }
}

/// 32 bytes from the operating system's CSPRNG.
pub fn entropy() -> Result<[u8; 32]> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow!("no randomness from the OS: {e}"))?;
    Ok(bytes)
}
