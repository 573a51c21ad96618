//! Expiry: when a token stops working, chosen once at creation.
//!
//! Times are milliseconds since the Unix epoch as plain `i64`s; the caller
//! supplies `now`. A token is expired when `now >= expires_at`.

use serde::{Deserialize, Serialize};

use crate::rfc3339::parse_rfc3339;

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;
/// Days ahead an "expires at" without a date lands on.
pub const DEFAULT_DAYS: i64 = 365;
/// The latest expiry any token may have: 9999-12-31T23:59:59.999Z. Beyond
/// it RFC 3339 has no four-digit year and JavaScript's `Date` breaks, so a
/// later choice is `EXPIRY_INVALID` rather than a token no page can show.
pub const MAX_EXPIRES_AT: i64 = 253_402_300_799_999;

/// The expiry asked for at creation: the one grammar every surface reads.
///
/// JSON: `"never"`, `{ "days": 30 }` (`-1` means never), `{ "at":
/// "2027-01-15T08:00:00Z" }` (RFC 3339 text; milliseconds since the epoch
/// are accepted too), or `{ "at": null }` (a year ahead). As text (a
/// command line): `never`, a number of days, or an RFC 3339 time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "ExpiryJson")]
pub enum Expiry {
    /// The token never expires (when the policy allows that). The default.
    #[default]
    Never,
    /// The token expires this many days from `now`; `-1` means never.
    Days(i64),
    /// The token expires at this time; without one, a year ahead (or the
    /// policy's or parent's limit, whichever is sooner).
    At(Option<i64>),
}

/// How an expiry reads from JSON, before its time is checked.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
enum ExpiryJson {
    Never,
    Days(i64),
    At(Option<AtJson>),
}

/// An `at`: RFC 3339 text, or milliseconds since the epoch.
#[derive(Deserialize)]
#[serde(untagged)]
enum AtJson {
    Millis(i64),
    Text(alloc::string::String),
}

/// Why an expiry could not be read: not `never`, a number of days or an
/// RFC 3339 time. Adapters answer it as a malformed request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpiryTextError;

impl core::fmt::Display for ExpiryTextError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("an expiry is \"never\", a number of days, or an RFC 3339 time")
    }
}

impl core::error::Error for ExpiryTextError {}

impl TryFrom<ExpiryJson> for Expiry {
    type Error = ExpiryTextError;

    fn try_from(json: ExpiryJson) -> Result<Self, ExpiryTextError> {
        Ok(match json {
            ExpiryJson::Never => Self::Never,
            ExpiryJson::Days(days) => Self::Days(days),
            ExpiryJson::At(None) => Self::At(None),
            ExpiryJson::At(Some(AtJson::Millis(at))) => Self::At(Some(at)),
            ExpiryJson::At(Some(AtJson::Text(text))) => {
                Self::At(Some(parse_rfc3339(&text).ok_or(ExpiryTextError)?))
            }
        })
    }
}

impl core::str::FromStr for Expiry {
    type Err = ExpiryTextError;

    /// `never`, a number of days (`-1` means never), or an RFC 3339 time.
    fn from_str(text: &str) -> Result<Self, ExpiryTextError> {
        if text == "never" {
            return Ok(Self::Never);
        }
        if let Ok(days) = text.parse::<i64>() {
            return Ok(Self::Days(days));
        }
        parse_rfc3339(text)
            .map(|at| Self::At(Some(at)))
            .ok_or(ExpiryTextError)
    }
}

/// What a deployment allows. Every field is optional in JSON:
/// `{ "allowNonExpiring": true, "maxLifetimeDays": 366, "maxTokensPerUser": 50 }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Policy {
    /// Whether tokens may be created without an expiry. Default `true`.
    pub allow_non_expiring: bool,
    /// The longest lifetime of a token that expires, in days.
    pub max_lifetime_days: Option<u32>,
    /// The most tokens one user may hold.
    pub max_tokens_per_user: Option<u32>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            allow_non_expiring: true,
            max_lifetime_days: None,
            max_tokens_per_user: None,
        }
    }
}

/// Why a policy was refused: a limit below 1 (`POLICY_INVALID`). A
/// lifetime of zero days would issue tokens that are expired at once, and a
/// limit of zero tokens would forbid what the policy claims to allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyError;

impl PolicyError {
    /// The stable code: `POLICY_INVALID`.
    pub fn code(&self) -> &'static str {
        crate::code::POLICY_INVALID
    }
}

impl core::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(crate::code::message(crate::code::POLICY_INVALID))
    }
}

impl core::error::Error for PolicyError {}

/// Why an expiry was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExpiryFault {
    Invalid,
    ExceedsPolicy,
    ExceedsParent,
}

impl Policy {
    /// Checks that every limit the policy sets is at least 1.
    pub fn check(&self) -> Result<(), PolicyError> {
        let positive = |limit: Option<u32>| limit.is_none_or(|n| n >= 1);
        if positive(self.max_lifetime_days) && positive(self.max_tokens_per_user) {
            Ok(())
        } else {
            Err(PolicyError)
        }
    }

    /// The latest expiry the policy allows for a token created at `now`.
    pub(crate) fn latest(&self, now: i64) -> Option<i64> {
        self.max_lifetime_days
            .map(|days| now.saturating_add(i64::from(days).saturating_mul(DAY_MS)))
    }
}

/// Turns an expiry choice into an `expires_at`, checking it against the
/// policy and, for a token made by a token, the parent's `expires_at`.
pub(crate) fn resolve(
    expiry: Expiry,
    now: i64,
    policy: &Policy,
    parent: Option<Option<i64>>,
) -> Result<Option<i64>, ExpiryFault> {
    let policy_latest = policy.latest(now);
    let parent_latest = parent.flatten();
    let requested = match expiry {
        Expiry::Never | Expiry::Days(-1) => None,
        Expiry::Days(days) if days >= 1 => Some(
            days.checked_mul(DAY_MS)
                .and_then(|span| now.checked_add(span))
                .ok_or(ExpiryFault::Invalid)?,
        ),
        Expiry::Days(_) => return Err(ExpiryFault::Invalid),
        Expiry::At(Some(at)) if at > now => Some(at),
        Expiry::At(Some(_)) => return Err(ExpiryFault::Invalid),
        Expiry::At(None) => {
            let default = now.saturating_add(DEFAULT_DAYS * DAY_MS);
            let capped = [
                Some(default),
                policy_latest,
                parent_latest,
                Some(MAX_EXPIRES_AT),
            ]
            .into_iter()
            .flatten()
            .min();
            return Ok(capped);
        }
    };
    match requested {
        Some(at) if at > MAX_EXPIRES_AT => Err(ExpiryFault::Invalid),
        None if !policy.allow_non_expiring => Err(ExpiryFault::ExceedsPolicy),
        None if parent_latest.is_some() => Err(ExpiryFault::ExceedsParent),
        Some(at) if policy_latest.is_some_and(|latest| at > latest) => {
            Err(ExpiryFault::ExceedsPolicy)
        }
        Some(at) if parent_latest.is_some_and(|latest| at > latest) => {
            Err(ExpiryFault::ExceedsParent)
        }
        resolved => Ok(resolved),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn choices_resolve_as_documented() {
        let open = Policy::default();
        assert_eq!(resolve(Expiry::Never, NOW, &open, None), Ok(None));
        assert_eq!(resolve(Expiry::Days(-1), NOW, &open, None), Ok(None));
        assert_eq!(
            resolve(Expiry::Days(2), NOW, &open, None),
            Ok(Some(NOW + 2 * DAY_MS))
        );
        assert_eq!(
            resolve(Expiry::At(None), NOW, &open, None),
            Ok(Some(NOW + 365 * DAY_MS))
        );
        assert_eq!(
            resolve(Expiry::At(Some(NOW + 1)), NOW, &open, None),
            Ok(Some(NOW + 1))
        );
    }

    #[test]
    fn meaningless_choices_are_invalid() {
        let open = Policy::default();
        for bad in [
            Expiry::Days(0),
            Expiry::Days(-2),
            Expiry::Days(i64::MAX),
            Expiry::At(Some(NOW)),
            Expiry::At(Some(NOW - 1)),
            Expiry::Days(100_000_000),
            Expiry::At(Some(MAX_EXPIRES_AT + 1)),
        ] {
            assert_eq!(
                resolve(bad, NOW, &open, None),
                Err(ExpiryFault::Invalid),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn one_grammar_as_json_and_as_text() {
        let json = |text: &str| serde_json::from_str::<Expiry>(text).map_err(|_| ());
        assert_eq!(json(r#""never""#), Ok(Expiry::Never));
        assert_eq!(json(r#"{"days":-1}"#), Ok(Expiry::Days(-1)));
        assert_eq!(json(r#"{"at":null}"#), Ok(Expiry::At(None)));
        assert_eq!(json(r#"{"at":1800000000000}"#), Ok(Expiry::At(Some(NOW))));
        assert_eq!(
            json(r#"{"at":"2027-01-15T08:00:00Z"}"#),
            Ok(Expiry::At(Some(NOW)))
        );
        for bad in [
            r#"{"at":"tomorrow"}"#,
            r#"{"at":true}"#,
            r#"{"days":1.5}"#,
            r#"{"days":1,"at":null}"#,
            r#""always""#,
            r#"{"weeks":1}"#,
        ] {
            assert_eq!(json(bad), Err(()), "{bad}");
        }
        assert_eq!("never".parse(), Ok(Expiry::Never));
        assert_eq!("30".parse(), Ok(Expiry::Days(30)));
        assert_eq!("2027-01-15T08:00:00Z".parse(), Ok(Expiry::At(Some(NOW))));
        assert_eq!("soon".parse::<Expiry>(), Err(ExpiryTextError));
    }

    #[test]
    fn the_latest_expiry_is_the_last_millisecond_of_9999() {
        let open = Policy::default();
        assert_eq!(
            resolve(Expiry::At(Some(MAX_EXPIRES_AT)), NOW, &open, None),
            Ok(Some(MAX_EXPIRES_AT))
        );
        let late = MAX_EXPIRES_AT - DAY_MS;
        assert_eq!(
            resolve(Expiry::At(None), late, &open, None),
            Ok(Some(MAX_EXPIRES_AT))
        );
    }

    #[test]
    fn policies_need_limits_of_at_least_one() {
        assert_eq!(Policy::default().check(), Ok(()));
        for (days, tokens) in [(Some(0), None), (None, Some(0))] {
            let policy = Policy {
                max_lifetime_days: days,
                max_tokens_per_user: tokens,
                ..Policy::default()
            };
            assert_eq!(policy.check(), Err(PolicyError));
        }
    }

    #[test]
    fn policy_and_parent_cap_the_lifetime() {
        let strict = Policy {
            allow_non_expiring: false,
            max_lifetime_days: Some(30),
            max_tokens_per_user: None,
        };
        assert_eq!(
            resolve(Expiry::Never, NOW, &strict, None),
            Err(ExpiryFault::ExceedsPolicy)
        );
        assert_eq!(
            resolve(Expiry::Days(31), NOW, &strict, None),
            Err(ExpiryFault::ExceedsPolicy)
        );
        assert_eq!(
            resolve(Expiry::Days(30), NOW, &strict, None),
            Ok(Some(NOW + 30 * DAY_MS))
        );
        assert_eq!(
            resolve(Expiry::At(None), NOW, &strict, None),
            Ok(Some(NOW + 30 * DAY_MS))
        );
        let open = Policy::default();
        let parent = Some(Some(NOW + DAY_MS));
        assert_eq!(
            resolve(Expiry::Never, NOW, &open, parent),
            Err(ExpiryFault::ExceedsParent)
        );
        assert_eq!(
            resolve(Expiry::Days(2), NOW, &open, parent),
            Err(ExpiryFault::ExceedsParent)
        );
        assert_eq!(
            resolve(Expiry::At(None), NOW, &open, parent),
            Ok(Some(NOW + DAY_MS))
        );
        assert_eq!(resolve(Expiry::Never, NOW, &open, Some(None)), Ok(None));
    }
}
