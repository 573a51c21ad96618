//! The token service's answers: reading a callout's response, how long it
//! may be cached, and its form in shared data.

use serde::Deserialize;
use tessera_core::{Enablement, Standing, TokenHash, TokenRecord};

use crate::config::CacheConfig;

/// What the token service said about a hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The stored record (whose hash the core still compares).
    Found(Box<Found>),
    /// No token has this hash.
    NotFound,
}

impl Answer {
    /// The record, if one was found.
    pub fn record(&self) -> Option<&TokenRecord> {
        match self {
            Self::Found(found) => Some(&found.record),
            Self::NotFound => None,
        }
    }

    /// The standing of the record's user, as the token service sent it
    /// (for no record, one that changes nothing: the token is unknown).
    pub fn owner(&self) -> Standing {
        match self {
            Self::Found(found) => found.owner,
            Self::NotFound => Standing::OWNER,
        }
    }
}

/// A record the token service sent, with the answer's text as it came: a
/// shared-data slot stores that text, so the filter never writes records
/// itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The record.
    pub record: TokenRecord,
    /// Its user's standing, from which the core decides whether the user's
    /// tokens may be used.
    pub owner: Standing,
    /// The introspection answer it was read from (`{"record": …}`).
    body: String,
}

impl Found {
    /// Reads an introspection answer's body (`{"record": …, "owner": …,
    /// "cacheSeconds": …}`): the record, its user's standing and the
    /// lifetime the service suggests. An answer without a readable owner is
    /// no answer.
    pub fn from_body(body: &[u8]) -> Option<(Self, Option<u32>)> {
        let found: FoundBody = crate::json::from_slice(body).ok()?;
        let text = String::from_utf8(body.to_vec()).ok()?;
        let owner = Standing {
            admin: found.owner.admin,
            tokens: Enablement::parse(&found.owner.tokens)?,
            members_enabled: found.owner.members_enabled,
        };
        Some((
            Self {
                record: found.record,
                owner,
                body: text,
            },
            found.cache_seconds,
        ))
    }
}

/// Why a callout gave no usable answer. The text is for the log and never
/// holds a token, hash or credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure(pub String);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FoundBody {
    record: TokenRecord,
    owner: OwnerBody,
    #[serde(default)]
    cache_seconds: Option<u32>,
}

/// A user's standing as the token service writes it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OwnerBody {
    admin: bool,
    tokens: String,
    members_enabled: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NotFoundBody {
    code: String,
    #[serde(default)]
    cache_seconds: Option<u32>,
}

/// Reads a callout response: `status` is `None` when the callout failed
/// (timeout, reset, no such cluster). Returns the answer and until when it
/// may be reused (ms since the epoch; `now_ms` or earlier means "do not
/// cache").
pub fn read(
    status: Option<u16>,
    cache_control: Option<&str>,
    body: &[u8],
    now_ms: i64,
    cache: &CacheConfig,
) -> Result<(Answer, i64), Failure> {
    let status = status.ok_or_else(|| Failure("the token service did not answer".into()))?;
    let (answer, host_seconds, limit) = match status {
        200 => {
            let (found, cache_seconds) = Found::from_body(body).ok_or_else(|| {
                Failure("RECORD_INVALID: the token service sent an unreadable record".into())
            })?;
            (
                Answer::Found(Box::new(found)),
                cache_seconds,
                cache.positive_seconds,
            )
        }
        404 => {
            let missing: NotFoundBody = crate::json::from_slice(body).map_err(|_| {
                Failure("the token service answered 404 without a NOT_FOUND body".into())
            })?;
            if missing.code != tessera_core::code::NOT_FOUND {
                return Err(Failure(
                    "the token service answered 404 without a NOT_FOUND body".into(),
                ));
            }
            (
                Answer::NotFound,
                missing.cache_seconds,
                cache.negative_seconds,
            )
        }
        401 | 403 => {
            return Err(Failure(format!(
                "the token service refused the service credential ({status})"
            )));
        }
        other => return Err(Failure(format!("the token service answered {other}"))),
    };
    let seconds = host_seconds
        .or_else(|| cache_control.and_then(max_age))
        .map_or(limit, |host| host.min(limit));
    Ok((answer, now_ms.saturating_add(i64::from(seconds) * 1000)))
}

/// `max-age=N` from a `Cache-Control` value.
fn max_age(value: &str) -> Option<u32> {
    value.split(',').find_map(|part| {
        part.trim()
            .strip_prefix("max-age=")
            .and_then(|n| n.parse().ok())
    })
}

/// One shared-data slot: a direct-mapped cache entry that every worker
/// reads, so that a record fetched by one worker serves them all, and a
/// marker that a callout for a hash is under way somewhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Slot {
    /// Nothing useful (never written, or unreadable).
    Empty,
    /// A callout for `hash` is under way until `deadline` (ms).
    Pending {
        /// The hash being looked up, in hex.
        hash: String,
        /// When the callout has surely ended.
        deadline: i64,
    },
    /// An answer for `hash`, reusable until `until` (ms).
    Answered {
        /// The hash it answers, in hex.
        hash: String,
        /// Until when it may be reused.
        until: i64,
        /// When its callout was sent (ms): the record is at least that
        /// recent (see [`crate::feed::Feed::acceptable`]).
        since: i64,
        /// The answer.
        answer: Answer,
    },
}

impl Slot {
    /// The slot's bytes in shared data.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Empty => Vec::new(),
            Self::Pending { hash, deadline } => format!("P {hash} {deadline}").into_bytes(),
            Self::Answered {
                hash,
                until,
                since,
                answer: Answer::NotFound,
            } => format!("N {hash} {until} {since}").into_bytes(),
            Self::Answered {
                hash,
                until,
                since,
                answer: Answer::Found(found),
            } => {
                let mut bytes = format!("F {hash} {until} {since} ").into_bytes();
                bytes.extend_from_slice(found.body.as_bytes());
                bytes
            }
        }
    }

    /// Reads a slot; anything unreadable is [`Slot::Empty`].
    pub fn decode(bytes: &[u8]) -> Self {
        Self::try_decode(bytes).unwrap_or(Self::Empty)
    }

    fn try_decode(bytes: &[u8]) -> Option<Self> {
        let number = |part: &[u8]| -> Option<i64> { core::str::from_utf8(part).ok()?.parse().ok() };
        let mut parts = bytes.splitn(5, |b| *b == b' ');
        let kind = parts.next()?;
        let hash = core::str::from_utf8(parts.next()?).ok()?.to_owned();
        let time = number(parts.next()?)?;
        let since = parts.next().map(number);
        match (kind, since, parts.next()) {
            (b"P", None, None) => Some(Self::Pending {
                hash,
                deadline: time,
            }),
            (b"N", Some(Some(since)), None) => Some(Self::Answered {
                hash,
                until: time,
                since,
                answer: Answer::NotFound,
            }),
            (b"F", Some(Some(since)), Some(json)) => Some(Self::Answered {
                hash,
                until: time,
                since,
                answer: Answer::Found(Box::new(Found::from_body(json)?.0)),
            }),
            _ => None,
        }
    }
}

/// The shared-data key of the slot a hash maps to. Slots are bounded, so
/// tokens an attacker invents with valid checksums cannot grow shared data
/// without limit; two hashes in one slot simply evict each other.
pub fn slot_key(hash: &TokenHash, slots: u32) -> String {
    let hex = hash.to_hex();
    let n = u32::from_str_radix(&hex[..8], 16).unwrap_or(0);
    format!("tessera.slot.{}", n % slots)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const RECORD: &str = r#"{"id":"c0b8b86a21e27de5eee2ec5125d3f74c","userId":"u1","name":"n","description":null,"hash":"99424311a5764d4b5e5fe56554337fa23cd2b1d3b34a97ad3be2ea3020b82569","hint":"tsr_QCOQ…","createdBy":{"kind":"user"},"createdAt":1,"expiresAt":null,"scope":{"preset":"read"},"status":"active","lastUsedAt":null,"rotatedFrom":null}"#;

    /// A member who inherits an enabled default.
    const OWNER: &str = r#"{"admin":false,"tokens":"inherit","membersEnabled":true}"#;

    #[test]
    fn answers_carry_the_owners_standing_or_are_unreadable() {
        let body = format!(
            r#"{{"record":{RECORD},"owner":{{"admin":false,"tokens":"off","membersEnabled":true}}}}"#
        );
        let (answer, _) = read(Some(200), None, body.as_bytes(), 0, &cache()).unwrap();
        assert_eq!(answer.owner().tokens, Enablement::Off);
        assert!(!answer.owner().tokens_enabled());
        for owner in [
            "",
            r#","owner":{"admin":false,"tokens":"maybe","membersEnabled":true}"#,
            r#","owner":{"admin":false,"membersEnabled":true}"#,
            r#","owner":null"#,
        ] {
            let body = format!(r#"{{"record":{RECORD}{owner}}}"#);
            assert!(
                read(Some(200), None, body.as_bytes(), 0, &cache()).is_err(),
                "{owner}"
            );
        }
    }

    fn cache() -> CacheConfig {
        CacheConfig {
            positive_seconds: 30,
            negative_seconds: 5,
            ..CacheConfig::default()
        }
    }

    #[test]
    fn found_records_are_cached_for_the_shorter_lifetime() {
        let body = format!(r#"{{"record":{RECORD},"owner":{OWNER},"cacheSeconds":10}}"#);
        let (answer, until) = read(Some(200), None, body.as_bytes(), 1000, &cache()).unwrap();
        assert_eq!(answer.record().unwrap().user_id(), "u1");
        assert_eq!(until, 11_000);
        let body = format!(r#"{{"record":{RECORD},"owner":{OWNER},"cacheSeconds":100}}"#);
        let (_, until) = read(Some(200), None, body.as_bytes(), 1000, &cache()).unwrap();
        assert_eq!(until, 31_000);
        let body = format!(r#"{{"record":{RECORD},"owner":{OWNER}}}"#);
        let (_, until) = read(Some(200), Some("max-age=2"), body.as_bytes(), 0, &cache()).unwrap();
        assert_eq!(until, 2000);
        let (_, until) = read(Some(200), None, body.as_bytes(), 0, &cache()).unwrap();
        assert_eq!(until, 30_000);
    }

    #[test]
    fn not_found_uses_the_negative_lifetime() {
        let body = br#"{"code":"NOT_FOUND","message":"x","cacheSeconds":60}"#;
        let (answer, until) = read(Some(404), None, body, 0, &cache()).unwrap();
        assert_eq!(answer, Answer::NotFound);
        assert_eq!(until, 5000);
        let zero = br#"{"code":"NOT_FOUND","cacheSeconds":0}"#;
        assert_eq!(read(Some(404), None, zero, 7, &cache()).unwrap().1, 7);
    }

    #[test]
    fn failures_are_not_answers() {
        let body = format!(r#"{{"record":{RECORD},"owner":{OWNER}}}"#);
        for (status, body) in [
            (None, body.as_bytes()),
            (Some(401), &b"{}"[..]),
            (Some(503), &b"{}"[..]),
            (Some(200), &b"{\"record\":{}}"[..]),
            (Some(404), &b"<html>"[..]),
            (Some(404), &br#"{"code":"UNAUTHENTICATED"}"#[..]),
        ] {
            assert!(read(status, None, body, 0, &cache()).is_err(), "{status:?}");
        }
    }

    #[test]
    fn slots_round_trip() {
        let body = format!("{{\"record\":{RECORD},\"owner\":{OWNER},\"cacheSeconds\":30}}");
        let (found, seconds) = Found::from_body(body.as_bytes()).unwrap();
        assert_eq!(seconds, Some(30));
        assert_eq!(
            found.record,
            serde_json::from_str::<TokenRecord>(RECORD).unwrap()
        );
        for slot in [
            Slot::Empty,
            Slot::Pending {
                hash: "ab".into(),
                deadline: 5,
            },
            Slot::Answered {
                hash: "ab".into(),
                until: 9,
                since: 3,
                answer: Answer::NotFound,
            },
            Slot::Answered {
                hash: "ab".into(),
                until: -1,
                since: 4,
                answer: Answer::Found(Box::new(found)),
            },
        ] {
            assert_eq!(Slot::decode(&slot.encode()), slot);
        }
        assert_eq!(Slot::decode(b"F ab 1 2 {not json"), Slot::Empty);
        assert_eq!(Slot::decode(b"N ab 1"), Slot::Empty, "no since");
        assert_eq!(Slot::decode(b"X ab 1"), Slot::Empty);
    }

    #[test]
    fn slot_keys_stay_within_the_slot_count() {
        let hash = TokenHash::from_hex(&"ff".repeat(32)).unwrap();
        assert_eq!(slot_key(&hash, 16), "tessera.slot.15");
        assert_eq!(slot_key(&hash, 1), "tessera.slot.0");
    }
}
