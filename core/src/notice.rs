//! Expiry notices: which warning a token's owner is due about its expiry,
//! decided from the record and `now`. A host notes each notice once (per
//! token and threshold) and tells the owner, for instance by webhook.

use crate::expiry::DAY_MS;
use crate::record::{Status, TokenRecord};

/// How long after a token expired its `Expired` notice is still due: a host
/// that was down for a while still tells, one that starts on an old
/// database does not announce every token that ever expired.
pub const EXPIRED_NOTICE_MS: i64 = DAY_MS;

/// The most warning thresholds a deployment may name.
pub const MAX_THRESHOLDS: usize = 8;

/// A notice due about a token's expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpiryNotice {
    /// The token expires within this many days (a threshold).
    Expiring {
        /// The threshold, in days.
        days: u32,
    },
    /// The token has expired.
    Expired,
}

impl ExpiryNotice {
    /// The threshold the notice is noted under: its days, or 0 for
    /// `Expired`. A host keeps one notice per token and threshold.
    pub fn threshold(self) -> u32 {
        match self {
            Self::Expiring { days } => days,
            Self::Expired => 0,
        }
    }
}

impl TokenRecord {
    /// The expiry notice due at `now` under the warning thresholds `days`
    /// (in any order): `Expired` for a token that expired within
    /// [`EXPIRED_NOTICE_MS`]; else `Expiring` with the smallest threshold
    /// whose window holds its expiry. None for a token that never expires,
    /// an inactive one, or one replaced by rotation (its end was chosen).
    pub fn expiry_notice(&self, now: i64, days: &[u32]) -> Option<ExpiryNotice> {
        let expires_at = self.expires_at?;
        if self.status != Status::Active || self.replaced_by.is_some() {
            return None;
        }
        if now >= expires_at {
            return (now - expires_at <= EXPIRED_NOTICE_MS).then_some(ExpiryNotice::Expired);
        }
        days.iter()
            .copied()
            .filter(|&d| d > 0 && self.expires_within(now, i64::from(d).saturating_mul(DAY_MS)))
            .min()
            .map(|days| ExpiryNotice::Expiring { days })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(expires_at: Option<i64>, status: &str, replaced: bool) -> TokenRecord {
        serde_json::from_value(serde_json::json!({
            "id": "595c3b15cab909edd0bb8a26fc56eb4f", "userId": "u1", "name": "n",
            "description": null, "hint": "tsr_h0Yd…", "createdBy": {"kind": "user"},
            "hash": "3fb506051a57cdf10ada045e9f46d598f130b3f517c6c697c41b9b5b04fd8891",
            "createdAt": 0, "expiresAt": expires_at, "scope": {"preset": "all"},
            "status": status, "lastUsedAt": null, "rotatedFrom": null,
            "replacedBy": if replaced { Some("x") } else { None },
        }))
        .expect("record")
    }

    #[test]
    fn the_smallest_threshold_that_holds_the_expiry() {
        let now = 100 * DAY_MS;
        let at = |days_left: i64| record(Some(now + days_left), "active", false);
        let thresholds = [7, 1, 30];
        assert_eq!(at(40 * DAY_MS).expiry_notice(now, &thresholds), None);
        assert_eq!(
            at(20 * DAY_MS).expiry_notice(now, &thresholds),
            Some(ExpiryNotice::Expiring { days: 30 })
        );
        assert_eq!(
            at(3 * DAY_MS).expiry_notice(now, &thresholds),
            Some(ExpiryNotice::Expiring { days: 7 })
        );
        assert_eq!(
            at(DAY_MS / 2).expiry_notice(now, &thresholds),
            Some(ExpiryNotice::Expiring { days: 1 })
        );
        assert_eq!(at(DAY_MS / 2).expiry_notice(now, &[]), None);
        assert_eq!(
            at(0).expiry_notice(now, &thresholds),
            Some(ExpiryNotice::Expired)
        );
        assert_eq!(
            at(-DAY_MS).expiry_notice(now, &thresholds),
            Some(ExpiryNotice::Expired)
        );
        assert_eq!(at(-DAY_MS - 1).expiry_notice(now, &thresholds), None);
        assert_eq!(ExpiryNotice::Expired.threshold(), 0);
    }

    #[test]
    fn never_for_tokens_whose_end_is_no_news() {
        let now = 100 * DAY_MS;
        let soon = Some(now + DAY_MS / 2);
        assert_eq!(record(None, "active", false).expiry_notice(now, &[7]), None);
        assert_eq!(
            record(soon, "inactive", false).expiry_notice(now, &[7]),
            None
        );
        assert_eq!(record(soon, "active", true).expiry_notice(now, &[7]), None);
        assert_eq!(record(soon, "active", false).expiry_notice(now, &[0]), None);
    }
}
