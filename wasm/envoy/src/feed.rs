//! The revocation feed: each worker's root context polls the token
//! service's `GET /api/revocations?after=CURSOR` on its tick and forgets
//! every answer it holds for the hashes that changed, so answers can be
//! cached for minutes while a revoked token is refused within about one
//! polling interval.
//!
//! Two rules keep a cached answer from outliving a change:
//! - an answer remembers when its callout was sent (`since`). One sent
//!   before this worker learnt that its hash changed may hold the old
//!   record, so it is never used ([`Feed::acceptable`]); after a `reset`,
//!   no answer sent before it is used;
//! - caches are trusted only while the feed answers: when the last good
//!   poll is older than two intervals plus the callout timeout, every
//!   request calls out ([`Feed::trusted`]).
//!
//! Pure state, no host calls: `glue` sends the polls and evicts.

use crate::HashMap;

use serde::Deserialize;
use tessera_core::TokenHash;

use crate::answer::Failure;

/// Where and how often to poll.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedSettings {
    /// The feed's path on the token service.
    pub path: String,
    /// How often to poll, in milliseconds.
    pub interval_ms: u64,
}

/// One page of the feed as the token service sends it.
#[derive(Debug, Deserialize)]
struct Page {
    cursor: i64,
    hashes: Vec<String>,
    reset: bool,
    more: bool,
}

/// What a landed poll asks the worker to forget.
#[derive(Debug, PartialEq, Eq)]
pub enum Forget {
    /// Every cached answer.
    All,
    /// The answers for these hashes.
    These(Vec<TokenHash>),
}

/// Hashes remembered as changed beyond this many: the memory is emptied and
/// every older answer refused, as after a reset.
const MAX_CHANGED: usize = 100_000;

/// One worker's view of the feed.
#[derive(Debug)]
pub struct Feed {
    settings: FeedSettings,
    /// The longest any cached answer lives (ms), so older changes can be
    /// forgotten.
    lifetime_ms: i64,
    timeout_ms: i64,
    cursor: Option<i64>,
    in_flight: Option<(u32, i64)>,
    next_poll: i64,
    trusted_until: i64,
    /// When this worker learnt that each hash changed (ms).
    changed: HashMap<TokenHash, i64>,
    /// No answer sent at or before this time (ms) is used.
    horizon: i64,
    failing: bool,
}

impl Feed {
    /// A feed not yet polled: nothing is trusted until the first answer.
    pub fn new(settings: FeedSettings, lifetime_ms: i64, timeout_ms: i64) -> Self {
        Self {
            settings,
            lifetime_ms,
            timeout_ms,
            cursor: None,
            in_flight: None,
            next_poll: 0,
            trusted_until: 0,
            changed: HashMap::default(),
            horizon: 0,
            failing: false,
        }
    }

    /// How often the root context should tick for the feed.
    pub fn interval_ms(&self) -> u64 {
        self.settings.interval_ms
    }

    /// Whether a poll has been answered since the start (until then no
    /// cached answer is used, so the first poll should come at once).
    pub fn started(&self) -> bool {
        self.cursor.is_some()
    }

    /// Whether a poll should be sent now.
    pub fn due(&self, now: i64) -> bool {
        self.in_flight.is_none() && now >= self.next_poll
    }

    /// The path of the next poll.
    pub fn path(&self) -> String {
        match self.cursor {
            Some(cursor) => format!("{}?after={cursor}", self.settings.path),
            None => self.settings.path.clone(),
        }
    }

    /// A poll went out as callout `token` at `now`.
    pub fn sent(&mut self, token: u32, now: i64) {
        self.in_flight = Some((token, now));
    }

    /// A poll could not be sent; try again after an interval.
    pub fn not_sent(&mut self, now: i64) {
        self.next_poll = now + self.settings.interval_ms as i64;
    }

    /// Whether callout `token` is this feed's poll.
    pub fn owns(&self, token: u32) -> bool {
        self.in_flight.is_some_and(|(t, _)| t == token)
    }

    /// Reads the poll's answer. On success, what to forget; on failure the
    /// reason (logged once per outage by the caller: see the returned flag,
    /// true when the feed just started or stopped failing).
    pub fn landed(
        &mut self,
        status: Option<u16>,
        body: &[u8],
        now: i64,
    ) -> (Result<Forget, Failure>, bool) {
        let Some((_, sent_at)) = self.in_flight.take() else {
            return (Err(Failure("an unexpected feed answer".into())), false);
        };
        let result = match status {
            Some(200) => crate::json::from_slice::<Page>(body)
                .map_err(|_| Failure("the revocation feed sent an unreadable page".into())),
            Some(other) => Err(Failure(format!("the revocation feed answered {other}"))),
            None => Err(Failure("the revocation feed did not answer".into())),
        };
        let was_failing = self.failing;
        let page = match result {
            Ok(page) => page,
            Err(failure) => {
                self.failing = true;
                self.next_poll = now + self.settings.interval_ms as i64;
                return (Err(failure), !was_failing);
            }
        };
        self.failing = false;
        self.cursor = Some(page.cursor);
        // Everything committed before the poll was sent is now known.
        self.trusted_until = sent_at + 2 * self.settings.interval_ms as i64 + self.timeout_ms;
        self.next_poll = if page.more {
            now
        } else {
            sent_at + self.settings.interval_ms as i64
        };
        let forget = if page.reset {
            self.reset(now);
            Forget::All
        } else {
            let hashes: Vec<TokenHash> = page
                .hashes
                .iter()
                .filter_map(|hex| TokenHash::from_hex(hex))
                .collect();
            for hash in &hashes {
                self.changed.insert(*hash, now);
            }
            self.bound(now);
            Forget::These(hashes)
        };
        (Ok(forget), was_failing)
    }

    fn reset(&mut self, now: i64) {
        self.changed.clear();
        self.horizon = now;
    }

    /// Forgets changes older than any answer could be, and everything when
    /// too many remain.
    fn bound(&mut self, now: i64) {
        if self.changed.len() <= MAX_CHANGED / 2 {
            return;
        }
        let oldest_useful = now - self.lifetime_ms - self.timeout_ms;
        self.changed.retain(|_, at| *at >= oldest_useful);
        if self.changed.len() > MAX_CHANGED {
            self.reset(now);
        }
    }

    /// Whether cached answers may be used at `now`.
    pub fn trusted(&self, now: i64) -> bool {
        now < self.trusted_until
    }

    /// Whether an answer for `hash` from a callout sent at `since` may be
    /// used or kept.
    pub fn acceptable(&self, hash: &TokenHash, since: i64) -> bool {
        since > self.horizon && self.changed.get(hash).is_none_or(|at| since > *at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed() -> Feed {
        Feed::new(
            FeedSettings {
                path: "/api/revocations".into(),
                interval_ms: 250,
            },
            300_000,
            1000,
        )
    }

    fn hash(n: u8) -> TokenHash {
        TokenHash::from_bytes([n; 32])
    }

    fn page(cursor: i64, hashes: &[TokenHash], reset: bool, more: bool) -> Vec<u8> {
        let hashes: Vec<String> = hashes.iter().map(TokenHash::to_hex).collect();
        serde_json::json!({ "cursor": cursor, "hashes": hashes, "reset": reset, "more": more })
            .to_string()
            .into_bytes()
    }

    #[test]
    fn nothing_is_trusted_before_the_first_answer_and_a_reset_forgets_all() {
        let mut feed = feed();
        assert!(!feed.trusted(0) && !feed.started());
        assert!(feed.due(0));
        assert_eq!(feed.path(), "/api/revocations");
        feed.sent(7, 1000);
        assert!(feed.owns(7) && !feed.due(1000));
        let (forget, _) = feed.landed(Some(200), &page(41, &[], true, false), 1010);
        assert_eq!(forget, Ok(Forget::All));
        assert_eq!(feed.path(), "/api/revocations?after=41");
        assert!(feed.started());
        assert!(feed.trusted(1010));
        // Trust lasts two intervals and a timeout past the poll's sending.
        assert!(feed.trusted(2499) && !feed.trusted(2500));
        // Answers sent before the reset are refused, later ones used.
        assert!(!feed.acceptable(&hash(1), 1010));
        assert!(feed.acceptable(&hash(1), 1011));
        assert!(!feed.due(1249) && feed.due(1250));
    }

    #[test]
    fn a_changed_hash_refuses_answers_sent_before_the_change_was_learnt() {
        let mut feed = feed();
        feed.sent(1, 0);
        assert!(
            feed.landed(Some(200), &page(1, &[], true, false), 5)
                .0
                .is_ok()
        );
        feed.sent(2, 300);
        let (forget, _) = feed.landed(Some(200), &page(2, &[hash(9)], false, false), 310);
        assert_eq!(forget, Ok(Forget::These(vec![hash(9)])));
        assert!(!feed.acceptable(&hash(9), 200), "sent before: maybe stale");
        assert!(!feed.acceptable(&hash(9), 310));
        assert!(feed.acceptable(&hash(9), 311));
        assert!(
            feed.acceptable(&hash(8), 200),
            "other hashes are unaffected"
        );
    }

    #[test]
    fn a_failing_feed_stops_trust_and_reports_the_outage_once() {
        let mut feed = feed();
        feed.sent(1, 0);
        assert!(
            feed.landed(Some(200), &page(1, &[], true, false), 5)
                .0
                .is_ok()
        );
        assert!(feed.trusted(1000));
        feed.sent(2, 250);
        let (result, report) = feed.landed(Some(503), b"", 260);
        assert!(result.is_err() && report);
        feed.sent(3, 510);
        let (result, report) = feed.landed(None, b"", 520);
        assert!(result.is_err() && !report, "reported once");
        assert!(!feed.trusted(1500));
        feed.sent(4, 1600);
        let (result, report) = feed.landed(Some(200), &page(1, &[], false, false), 1610);
        assert!(result.is_ok() && report, "the recovery is reported");
        assert!(feed.trusted(1610));
        let (result, _) = feed.landed(Some(200), b"{}", 1700);
        assert!(result.is_err(), "an answer nobody asked for");
        feed.sent(5, 1700);
        assert!(feed.landed(Some(200), b"not json", 1710).0.is_err());
    }

    #[test]
    fn more_pages_are_fetched_at_once_and_memory_stays_bounded() {
        let mut feed = feed();
        feed.sent(1, 0);
        assert!(
            feed.landed(Some(200), &page(1, &[], true, false), 5)
                .0
                .is_ok()
        );
        let many: Vec<TokenHash> = (0..=255u8).map(hash).collect();
        feed.sent(2, 300);
        assert!(
            feed.landed(Some(200), &page(300, &many, false, true), 310)
                .0
                .is_ok()
        );
        assert!(feed.due(310), "more follows: poll again now");
        assert!(feed.changed.len() <= MAX_CHANGED);
    }
}
