//! Last uses, reported to the token service off the request path: each
//! allowed request notes its token's id, and the root context's tick sends
//! what accumulated (`POST /api/last-used`, the service credential) at most
//! once an interval, each token at most once a minute per worker, like the
//! core's own rule for last-used writes. A report that fails is not sent
//! again: it loses last-used times, never a request.
//!
//! Pure state, no host calls: `glue` sends the reports.

use crate::HashMap;

/// Where and how often to report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsesSettings {
    /// The token service's path for reports.
    pub path: String,
    /// The least time between two reports, in milliseconds.
    pub interval_ms: u64,
}

/// A token is reported at most once in this many milliseconds per worker.
const REPORT_EVERY_MS: i64 = 60_000;

/// The most uses one report carries (the token service's limit).
pub const MAX_PER_REPORT: usize = 10_000;

/// Tokens remembered as reported beyond this many: the older are forgotten.
const MAX_REPORTED: usize = 100_000;

/// One worker's pending and recent reports.
#[derive(Debug)]
pub struct Uses {
    settings: UsesSettings,
    pending: HashMap<String, i64>,
    reported: HashMap<String, i64>,
    in_flight: Option<u32>,
    next_report: i64,
}

impl Uses {
    /// Nothing noted yet.
    pub fn new(settings: UsesSettings) -> Self {
        Self {
            settings,
            pending: HashMap::default(),
            reported: HashMap::default(),
            in_flight: None,
            next_report: 0,
        }
    }

    /// How often the root context should tick for reports.
    pub fn interval_ms(&self) -> u64 {
        self.settings.interval_ms
    }

    /// The path reports go to.
    pub fn path(&self) -> &str {
        &self.settings.path
    }

    /// Notes a use of token `id` at `now`, unless it was reported within
    /// the last minute; beyond [`MAX_PER_REPORT`] pending tokens, new ones
    /// wait for a later use.
    pub fn note(&mut self, id: &str, now: i64) {
        if self
            .reported
            .get(id)
            .is_some_and(|at| now - at < REPORT_EVERY_MS)
        {
            return;
        }
        if let Some(at) = self.pending.get_mut(id) {
            *at = (*at).max(now);
        } else if self.pending.len() < MAX_PER_REPORT {
            self.pending.insert(id.to_owned(), now);
        }
    }

    /// The body of the report due at `now`, if one is: what was noted,
    /// which then counts as reported.
    pub fn take(&mut self, now: i64) -> Option<String> {
        if self.pending.is_empty() || self.in_flight.is_some() || now < self.next_report {
            return None;
        }
        self.next_report = now + self.settings.interval_ms as i64;
        if self.reported.len() > MAX_REPORTED {
            self.reported.retain(|_, at| now - *at < REPORT_EVERY_MS);
            if self.reported.len() > MAX_REPORTED {
                self.reported.clear();
            }
        }
        let mut body = String::from("{\"uses\":[");
        for (i, (id, at)) in self.pending.drain().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str("{\"id\":");
            crate::json::push_string(&mut body, &id);
            body.push_str(&format!(",\"at\":{at}}}"));
            self.reported.insert(id, at);
        }
        body.push_str("]}");
        Some(body)
    }

    /// The report went out as callout `token`.
    pub fn sent(&mut self, token: u32) {
        self.in_flight = Some(token);
    }

    /// Whether callout `token` is this worker's report.
    pub fn owns(&self, token: u32) -> bool {
        self.in_flight == Some(token)
    }

    /// The report's answer arrived (or failed); whether it was accepted.
    pub fn landed(&mut self, status: Option<u16>) -> bool {
        self.in_flight = None;
        status == Some(204)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uses() -> Uses {
        Uses::new(UsesSettings {
            path: "/api/last-used".into(),
            interval_ms: 1000,
        })
    }

    fn body(text: &str) -> Vec<(String, i64)> {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        let mut uses: Vec<(String, i64)> = value["uses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                (
                    u["id"].as_str().unwrap().to_owned(),
                    u["at"].as_i64().unwrap(),
                )
            })
            .collect();
        uses.sort();
        uses
    }

    #[test]
    fn uses_are_reported_once_an_interval_and_each_token_once_a_minute() {
        let mut uses = uses();
        assert_eq!(uses.take(0), None, "nothing noted");
        uses.note("a", 10);
        uses.note("a", 20);
        uses.note("b", 15);
        let report = uses.take(30).expect("due");
        assert_eq!(body(&report), [("a".into(), 20), ("b".into(), 15)]);
        uses.sent(7);
        uses.note("c", 40);
        assert_eq!(uses.take(2000), None, "one report in flight at a time");
        assert!(uses.owns(7) && uses.landed(Some(204)));
        assert_eq!(uses.take(500), None, "within the interval");
        uses.note("a", 1100);
        let report = uses.take(1100).expect("due again");
        assert_eq!(
            body(&report),
            [("c".into(), 40)],
            "a was reported a moment ago"
        );
        uses.note("a", 60_020);
        assert_eq!(body(&uses.take(60_020).unwrap()), [("a".into(), 60_020)]);
        assert!(!uses.landed(Some(503)), "a failure is not an acceptance");
    }

    #[test]
    fn pending_uses_stay_bounded() {
        let mut uses = uses();
        for n in 0..(MAX_PER_REPORT + 50) {
            uses.note(&format!("{n:032x}"), 1);
        }
        assert_eq!(body(&uses.take(2).unwrap()).len(), MAX_PER_REPORT);
    }
}
