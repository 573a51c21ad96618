//! The record a store keeps for each token, and its edits.
//!
//! A record holds metadata and the token's hash, never the token. Only name,
//! description, status and last-used time change after creation; expiry and
//! scope have no setters at all.

use alloc::string::String;
use core::fmt;

use serde::{Deserialize, Serialize};

use crate::code;
use crate::hash::TokenHash;
use crate::network::AllowedIps;
use crate::scope::Scope;

/// The longest token name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// The longest token description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1000;
/// The longest user id, in bytes.
pub const MAX_USER_ID_LEN: usize = 256;
/// How long after a recorded use another one is worth writing.
pub const TOUCH_INTERVAL_MS: i64 = 60_000;

/// Whether a token is accepted at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Accepted (subject to expiry and scope).
    #[default]
    Active,
    /// Refused until reactivated.
    Inactive,
}

/// Who created a token. JSON: `{ "kind": "user" }`, `{ "kind": "token",
/// "tokenId": "…" }`, `{ "kind": "admin", "userId": "…" }` or
/// `{ "kind": "service", "keyId": "…" }`, and nothing else (read by
/// [`CreatedBy`]'s own `Deserialize`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "lowercase",
    rename_all_fields = "camelCase"
)]
pub enum CreatedBy {
    /// The user, authenticated by the host (a password, a session).
    User,
    /// Another token of the same user.
    Token {
        /// The parent token's id.
        token_id: String,
    },
    /// An administrator, for the user (when the deployment lets tokens be
    /// issued for users).
    Admin {
        /// The administrator's user id.
        user_id: String,
    },
    /// A service key the host holds, for the user (when the deployment lets
    /// tokens be issued for users).
    Service {
        /// The key's name.
        key_id: String,
    },
}

/// The members of a `createdBy` object.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum CreatorField {
    Kind,
    TokenId,
    UserId,
    KeyId,
}

/// The kinds of creator.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum CreatorKind {
    User,
    Token,
    Admin,
    Service,
}

/// Reads a `createdBy` object member by member, in any order. Written out
/// instead of serde's internally tagged form, which buffers the whole object
/// first: that buffering was most of what the Envoy filter's JSON reading
/// cost in code size. Unlike that form, it refuses members it does not know.
impl<'de> Deserialize<'de> for CreatedBy {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Creator;

        impl<'de> serde::de::Visitor<'de> for Creator {
            type Value = CreatedBy;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a createdBy object: user, token, admin or service")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<CreatedBy, A::Error> {
                use serde::de::Error;
                let mut kind = None;
                // The one member beside `kind`, with its name.
                let mut id: Option<(CreatorField, String)> = None;
                while let Some(field) = map.next_key()? {
                    match field {
                        CreatorField::Kind if kind.is_some() => {
                            return Err(A::Error::duplicate_field("kind"));
                        }
                        CreatorField::Kind => kind = Some(map.next_value::<CreatorKind>()?),
                        _ if id.is_some() => {
                            return Err(A::Error::custom("createdBy has one id at most"));
                        }
                        field => id = Some((field, map.next_value::<String>()?)),
                    }
                }
                match (kind, id) {
                    (None, _) => Err(A::Error::missing_field("kind")),
                    (Some(CreatorKind::User), None) => Ok(CreatedBy::User),
                    (Some(CreatorKind::Token), Some((CreatorField::TokenId, token_id))) => {
                        Ok(CreatedBy::Token { token_id })
                    }
                    (Some(CreatorKind::Admin), Some((CreatorField::UserId, user_id))) => {
                        Ok(CreatedBy::Admin { user_id })
                    }
                    (Some(CreatorKind::Service), Some((CreatorField::KeyId, key_id))) => {
                        Ok(CreatedBy::Service { key_id })
                    }
                    (Some(CreatorKind::User), Some(_)) => {
                        Err(A::Error::custom("a token created by its user has no id"))
                    }
                    (Some(CreatorKind::Token), _) => Err(A::Error::missing_field("tokenId")),
                    (Some(CreatorKind::Admin), _) => Err(A::Error::missing_field("userId")),
                    (Some(CreatorKind::Service), _) => Err(A::Error::missing_field("keyId")),
                }
            }
        }

        deserializer.deserialize_map(Creator)
    }
}

/// One member of a record's JSON form: its name, its type in the schema's
/// small vocabulary, and what it holds. Adapters that must name the members
/// (the npm package's TypeScript declarations and record checks) generate
/// them from [`RECORD_FIELDS`] instead of restating them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// The JSON member name.
    pub name: &'static str,
    /// `string`, `string?` (or null), `millis`, `millis?`, `hash`,
    /// `createdBy`, `scope`, `ips` (a list of CIDR ranges) or `status`.
    pub kind: &'static str,
    /// What the member holds, in one sentence.
    pub doc: &'static str,
}

/// The members of a stored record, in the order its JSON form writes them.
/// What lists show is the same without `hash`.
pub const RECORD_FIELDS: &[Field] = &[
    Field {
        name: "id",
        kind: "string",
        doc: "The public id: 32 hex digits, usable in URLs and logs.",
    },
    Field {
        name: "userId",
        kind: "string",
        doc: "The owner.",
    },
    Field {
        name: "name",
        kind: "string",
        doc: "The display name.",
    },
    Field {
        name: "description",
        kind: "string?",
        doc: "An optional description.",
    },
    Field {
        name: "hash",
        kind: "hash",
        doc: "The SHA-256 (or peppered HMAC) of the token in 64 hex digits: the lookup key, never shown.",
    },
    Field {
        name: "hint",
        kind: "string",
        doc: "The prefix and first four body characters, such as `tsr_AbCd…`.",
    },
    Field {
        name: "createdBy",
        kind: "createdBy",
        doc: "Who created the token: the user, another token of the same user, an administrator or a service key.",
    },
    Field {
        name: "createdAt",
        kind: "millis",
        doc: "When the token was created, in milliseconds since the epoch.",
    },
    Field {
        name: "expiresAt",
        kind: "millis?",
        doc: "When the token expires, in milliseconds since the epoch; `null` for never.",
    },
    Field {
        name: "scope",
        kind: "scope",
        doc: "The scope as frozen at creation (custom actions sorted).",
    },
    Field {
        name: "allowedIps",
        kind: "ips",
        doc: "The CIDR ranges the token may be used from, in normal form, as frozen at creation; empty for anywhere.",
    },
    Field {
        name: "status",
        kind: "status",
        doc: "Active, or inactive (refused until reactivated).",
    },
    Field {
        name: "lastUsedAt",
        kind: "millis?",
        doc: "The last recorded use, in milliseconds since the epoch.",
    },
    Field {
        name: "rotatedFrom",
        kind: "string?",
        doc: "The id of the token this one replaced by rotation.",
    },
    Field {
        name: "replacedBy",
        kind: "string?",
        doc: "The id of the token that replaced this one by rotation: set when it is rotated, never cleared.",
    },
];

/// A stored token record; the JSON shape is documented in the README.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenRecord {
    pub(crate) id: String,
    pub(crate) user_id: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) hash: TokenHash,
    pub(crate) hint: String,
    pub(crate) created_by: CreatedBy,
    pub(crate) created_at: i64,
    pub(crate) expires_at: Option<i64>,
    pub(crate) scope: Scope,
    #[serde(default)]
    pub(crate) allowed_ips: AllowedIps,
    pub(crate) status: Status,
    pub(crate) last_used_at: Option<i64>,
    pub(crate) rotated_from: Option<String>,
    #[serde(default)]
    pub(crate) replaced_by: Option<String>,
}

/// The fields of a [`TokenRecord`], for adapters that move records as plain
/// values instead of through serde (the npm package's WebAssembly module
/// leaves its JSON parser out this way).
///
/// Building a record from parts checks exactly what reading its JSON form
/// checks: the scope is already a checked [`Scope`] and the hash a
/// [`TokenHash`]; the other fields are taken as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct RecordParts {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub description: Option<String>,
    pub hash: TokenHash,
    pub hint: String,
    pub created_by: CreatedBy,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub scope: Scope,
    pub allowed_ips: AllowedIps,
    pub status: Status,
    pub last_used_at: Option<i64>,
    pub rotated_from: Option<String>,
    pub replaced_by: Option<String>,
}

/// What verification reads of a stored record (see
/// [`TokenRecord::for_verification`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct VerificationParts {
    pub hash: TokenHash,
    pub status: Status,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub scope: Scope,
    pub allowed_ips: AllowedIps,
}

impl TokenRecord {
    /// Builds a record from its fields, as reading its stored JSON would.
    pub fn from_parts(parts: RecordParts) -> Self {
        let RecordParts {
            id,
            user_id,
            name,
            description,
            hash,
            hint,
            created_by,
            created_at,
            expires_at,
            scope,
            allowed_ips,
            status,
            last_used_at,
            rotated_from,
            replaced_by,
        } = parts;
        Self {
            id,
            user_id,
            name,
            description,
            hash,
            hint,
            created_by,
            created_at,
            expires_at,
            scope,
            allowed_ips,
            status,
            last_used_at,
            rotated_from,
            replaced_by,
        }
    }

    /// A record holding only what [`Deployment::authenticate`] and
    /// [`Deployment::verify`] read, with a blank id, user, name and hint.
    /// Verifying it gives the outcome verifying the whole stored record
    /// gives (the denial, `touch` and `recheck_at`), but a principal with
    /// blank ids. It is for adapters that check a record a store handed
    /// them and take the caller's ids from that record themselves: they
    /// need not carry the rest of it into the core on every request.
    ///
    /// [`Deployment::authenticate`]: crate::Deployment::authenticate
    /// [`Deployment::verify`]: crate::Deployment::verify
    pub fn for_verification(parts: VerificationParts) -> Self {
        let VerificationParts {
            hash,
            status,
            expires_at,
            last_used_at,
            scope,
            allowed_ips,
        } = parts;
        Self {
            id: String::new(),
            user_id: String::new(),
            name: String::new(),
            description: None,
            hash,
            hint: String::new(),
            created_by: CreatedBy::User,
            created_at: 0,
            expires_at,
            scope,
            allowed_ips,
            status,
            last_used_at,
            rotated_from: None,
            replaced_by: None,
        }
    }

    /// The public id (32 hex digits), usable in URLs and logs.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// The owner.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }
    /// The display name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The optional description.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// The lookup key. Never show it to users.
    pub fn hash(&self) -> &TokenHash {
        &self.hash
    }
    /// The non-secret hint, such as `tsr_AbCd…`.
    pub fn hint(&self) -> &str {
        &self.hint
    }
    /// Who created the token.
    pub fn created_by(&self) -> &CreatedBy {
        &self.created_by
    }
    /// When the token was created (ms since the epoch).
    pub fn created_at(&self) -> i64 {
        self.created_at
    }
    /// When the token expires (ms since the epoch), or `None` for never.
    pub fn expires_at(&self) -> Option<i64> {
        self.expires_at
    }
    /// What the token allows.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }
    /// The network ranges the token may be used from; empty for anywhere.
    pub fn allowed_ips(&self) -> &AllowedIps {
        &self.allowed_ips
    }
    /// Active or inactive.
    pub fn status(&self) -> Status {
        self.status
    }
    /// The last recorded use (ms since the epoch), if any.
    pub fn last_used_at(&self) -> Option<i64> {
        self.last_used_at
    }
    /// The id of the token this one replaced by rotation, if any.
    pub fn rotated_from(&self) -> Option<&str> {
        self.rotated_from.as_deref()
    }
    /// The id of the token that replaced this one by rotation, if any: set
    /// once, when it is rotated, and never cleared, so a token in its grace
    /// period stays retiring even if its successor is deleted.
    pub fn replaced_by(&self) -> Option<&str> {
        self.replaced_by.as_deref()
    }

    /// Whether the token is expired at `now` (`now >= expires_at`).
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }

    /// Whether the token is still valid at `now` but expires within
    /// `window_ms`: the "expiring soon" query.
    pub fn expires_within(&self, now: i64, window_ms: i64) -> bool {
        self.expires_at
            .is_some_and(|at| now < at && at <= now.saturating_add(window_ms))
    }

    /// Activates or deactivates the token.
    pub fn set_status(&mut self, status: Status) {
        self.status = status;
    }

    /// Renames the token.
    pub fn rename(&mut self, name: &str) -> Result<(), EditError> {
        self.name = check_name(name).ok_or(EditError::Name)?;
        Ok(())
    }

    /// Replaces the description; `None` or an empty one removes it.
    pub fn describe(&mut self, description: Option<&str>) -> Result<(), EditError> {
        self.description = check_description(description).ok_or(EditError::Description)?;
        Ok(())
    }

    /// Records a use at `now`.
    pub fn touch(&mut self, now: i64) {
        self.last_used_at = Some(now);
    }

    /// Whether a use at `now` is worth writing: none recorded yet, or the
    /// last is at least a minute old.
    pub fn touch_due(&self, now: i64) -> bool {
        self.last_used_at
            .is_none_or(|last| now >= last.saturating_add(TOUCH_INTERVAL_MS))
    }

    /// Until when an outcome of verifying this record at `now` may be
    /// reused, as long as neither the record nor its user's standing
    /// changes: never past the token's expiry, nor past the time its next
    /// use falls due for recording (see [`TokenRecord::touch_due`]). When a
    /// use is due at `now`, the caller records it, which changes the
    /// record; the bound is then a minute ahead, so a use whose recording
    /// was lost is noted again within the minute. Before this time, the
    /// same token, request and client address get the same outcome.
    pub fn recheck_at(&self, now: i64) -> i64 {
        let touch_due_at = self
            .last_used_at
            .map(|last| last.saturating_add(TOUCH_INTERVAL_MS))
            .filter(|&due| now < due)
            .unwrap_or_else(|| now.saturating_add(TOUCH_INTERVAL_MS));
        self.expires_at
            .map_or(touch_due_at, |expires_at| expires_at.min(touch_due_at))
    }

    /// The record as lists and details show it: everything but the hash.
    pub fn info(&self) -> TokenInfo<'_> {
        TokenInfo {
            id: &self.id,
            user_id: &self.user_id,
            name: &self.name,
            description: self.description.as_deref(),
            hint: &self.hint,
            created_by: &self.created_by,
            created_at: self.created_at,
            expires_at: self.expires_at,
            scope: &self.scope,
            allowed_ips: &self.allowed_ips,
            status: self.status,
            last_used_at: self.last_used_at,
            rotated_from: self.rotated_from.as_deref(),
            replaced_by: self.replaced_by.as_deref(),
        }
    }
}

/// A record without its hash: what lists and detail views serialize.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct TokenInfo<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub hint: &'a str,
    pub created_by: &'a CreatedBy,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub scope: &'a Scope,
    pub allowed_ips: &'a AllowedIps,
    pub status: Status,
    pub last_used_at: Option<i64>,
    pub rotated_from: Option<&'a str>,
    pub replaced_by: Option<&'a str>,
}

/// A name, trimmed, if it is 1 to 100 characters without control or
/// format characters (Unicode category Cf: zero-width joiners and spaces,
/// bidirectional overrides, soft hyphens), which would let a name look like
/// another in a list.
pub(crate) fn check_name(name: &str) -> Option<String> {
    let name = name.trim();
    let chars = name.chars().count();
    ((1..=MAX_NAME_CHARS).contains(&chars) && !name.chars().any(|c| c.is_control() || is_format(c)))
        .then(|| name.into())
}

/// Whether `c` is a Unicode format character (general category Cf, as of
/// Unicode 16).
pub(crate) fn is_format(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}

/// A description, trimmed (`None` when empty), if it is at most 1,000
/// characters with no control characters but newlines and tabs.
pub(crate) fn check_description(description: Option<&str>) -> Option<Option<String>> {
    let Some(text) = description.map(str::trim).filter(|t| !t.is_empty()) else {
        return Some(None);
    };
    let fits = text.chars().count() <= MAX_DESCRIPTION_CHARS
        && !text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t');
    fits.then(|| Some(text.into()))
}

/// Whether a user id is 1 to 256 bytes without control characters.
pub(crate) fn check_user_id(user_id: &str) -> bool {
    (1..=MAX_USER_ID_LEN).contains(&user_id.len()) && !user_id.chars().any(char::is_control)
}

/// Why an edit of name or description was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EditError {
    /// The name is empty, longer than 100 characters or has control
    /// characters.
    Name,
    /// The description is longer than 1,000 characters or has control
    /// characters.
    Description,
}

impl EditError {
    /// The stable code: `NAME_INVALID` or `DESCRIPTION_INVALID`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Name => code::NAME_INVALID,
            Self::Description => code::DESCRIPTION_INVALID,
        }
    }
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name => write!(
                f,
                "a token name must be 1 to {MAX_NAME_CHARS} characters without control characters"
            ),
            Self::Description => write!(
                f,
                "a description must be at most {MAX_DESCRIPTION_CHARS} characters without control characters"
            ),
        }
    }
}

impl core::error::Error for EditError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(check_name("  CI  ").as_deref(), Some("CI"));
        assert_eq!(check_name("   "), None);
        assert_eq!(check_name("a\u{7}b"), None);
        for format in [
            '\u{200B}',
            '\u{202E}',
            '\u{2066}',
            '\u{FEFF}',
            '\u{AD}',
            '\u{E0041}',
        ] {
            let name: String = ["ci", format.encode_utf8(&mut [0; 4]), "prod"].concat();
            assert_eq!(check_name(&name), None, "{format:?}");
        }
        assert!(check_name(&"é".repeat(100)).is_some());
        assert_eq!(check_name(&"é".repeat(101)), None);
    }

    /// A record with this expiry and last use.
    fn timed(expires_at: Option<i64>, last_used_at: Option<i64>) -> TokenRecord {
        let json = r#"{"id":"abc","userId":"u1","name":"CI","description":null,
            "hash":"0000000000000000000000000000000000000000000000000000000000000001",
            "hint":"tsr_AbCd…","createdBy":{"kind":"user"},"createdAt":1,"expiresAt":null,
            "scope":{"preset":"all"},"status":"active","lastUsedAt":null,"rotatedFrom":null}"#;
        let mut record: TokenRecord = serde_json::from_str(json).unwrap();
        record.expires_at = expires_at;
        record.last_used_at = last_used_at;
        record
    }

    #[test]
    fn the_outcome_of_an_unchanged_record_holds_until_its_recheck_time() {
        const NOW: i64 = 1_000_000;
        const MINUTE: i64 = TOUCH_INTERVAL_MS;
        // (expiry, last use, recheck time, whether the outcome changes then)
        let cases = [
            // No use recorded: due now, so a minute ahead.
            (None, None, NOW + MINUTE, false),
            (Some(NOW + 5_000), None, NOW + 5_000, true),
            // Last used 30 s ago: the next use is due in 30 s.
            (None, Some(NOW - 30_000), NOW + 30_000, true),
            (Some(NOW + 90_000), Some(NOW - 30_000), NOW + 30_000, true),
            (Some(NOW + 10_000), Some(NOW - 30_000), NOW + 10_000, true),
            (Some(NOW + 90_000), Some(NOW - MINUTE), NOW + MINUTE, false),
            (None, Some(NOW - 600_000), NOW + MINUTE, false),
            (Some(NOW + 1), Some(NOW - 600_000), NOW + 1, true),
        ];
        for (expires_at, last_used_at, expected, changes) in cases {
            let record = timed(expires_at, last_used_at);
            let recheck = record.recheck_at(NOW);
            assert_eq!(recheck, expected, "{expires_at:?} {last_used_at:?}");
            // Every time before it answers as `now` does.
            let outcome = |t: i64| (record.is_expired(t), record.touch_due(t));
            for t in [NOW, NOW + 1, (NOW + recheck) / 2, recheck - 1]
                .into_iter()
                .filter(|&t| t < recheck)
            {
                assert_eq!(
                    outcome(t),
                    outcome(NOW),
                    "at {t}: {expires_at:?} {last_used_at:?}"
                );
            }
            let after = outcome(recheck) != outcome(NOW);
            assert_eq!(
                after, changes,
                "at {recheck}: {expires_at:?} {last_used_at:?}"
            );
        }
    }

    #[test]
    fn descriptions_allow_newlines_and_drop_empties() {
        assert_eq!(check_description(None), Some(None));
        assert_eq!(check_description(Some("  ")), Some(None));
        assert_eq!(
            check_description(Some("line\nline")),
            Some(Some("line\nline".into()))
        );
        assert_eq!(check_description(Some("bad\u{0}")), None);
    }

    #[test]
    fn from_parts_builds_what_the_json_form_reads() {
        let json = r#"{"id":"abc","userId":"u1","name":"CI","description":null,
            "hash":"0000000000000000000000000000000000000000000000000000000000000001",
            "hint":"tsr_AbCd…","createdBy":{"kind":"token","tokenId":"p"},
            "createdAt":1,"expiresAt":null,"scope":{"actions":["a.b"],"resources":["x/**"]},
            "allowedIps":["10.0.0.0/8"],"status":"inactive","lastUsedAt":5,"rotatedFrom":"old","replacedBy":"new"}"#;
        let read: TokenRecord = serde_json::from_str(json).unwrap();
        let built = TokenRecord::from_parts(RecordParts {
            id: read.id().into(),
            user_id: read.user_id().into(),
            name: read.name().into(),
            description: read.description().map(Into::into),
            hash: *read.hash(),
            hint: read.hint().into(),
            created_by: read.created_by().clone(),
            created_at: read.created_at(),
            expires_at: read.expires_at(),
            scope: read.scope().clone(),
            allowed_ips: read.allowed_ips().clone(),
            status: read.status(),
            last_used_at: read.last_used_at(),
            rotated_from: read.rotated_from().map(Into::into),
            replaced_by: read.replaced_by().map(Into::into),
        });
        assert_eq!(built, read);
        assert_eq!(built.status(), Status::Inactive);
        assert_eq!(built.allowed_ips().to_strings(), ["10.0.0.0/8"]);
    }

    #[test]
    fn the_schema_names_every_member_in_order() {
        let json = r#"{"id":"abc","userId":"u1","name":"CI","description":null,
            "hash":"0000000000000000000000000000000000000000000000000000000000000001",
            "hint":"tsr_AbCd…","createdBy":{"kind":"user"},"createdAt":1,"expiresAt":null,
            "scope":{"preset":"all"},"status":"active","lastUsedAt":null,"rotatedFrom":null}"#;
        let record: TokenRecord = serde_json::from_str(json).unwrap();
        let written = serde_json::to_string(&record).unwrap();
        let value: serde_json::Value = serde_json::from_str(&written).unwrap();
        let members: alloc::vec::Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut names: alloc::vec::Vec<&str> = RECORD_FIELDS.iter().map(|f| f.name).collect();
        names.sort_unstable();
        assert_eq!(members, names, "serde_json sorts object keys");
        let order: alloc::vec::Vec<usize> = RECORD_FIELDS
            .iter()
            .map(|f| written.find(&alloc::format!("\"{}\":", f.name)).unwrap())
            .collect();
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "written in schema order"
        );
    }

    #[test]
    fn user_ids_are_bounded() {
        assert!(check_user_id("u1"));
        assert!(!check_user_id(""));
        assert!(!check_user_id(&"u".repeat(257)));
        assert!(!check_user_id("u\n1"));
    }

    #[test]
    fn created_by_reads_exactly_its_four_forms() {
        let read = |text: &str| serde_json::from_str::<CreatedBy>(text);
        assert_eq!(read(r#"{"kind":"user"}"#).unwrap(), CreatedBy::User);
        let token = CreatedBy::Token {
            token_id: "abc".into(),
        };
        assert_eq!(read(r#"{"kind":"token","tokenId":"abc"}"#).unwrap(), token);
        assert_eq!(read(r#"{"tokenId":"abc","kind":"token"}"#).unwrap(), token);
        let admin = CreatedBy::Admin {
            user_id: "root".into(),
        };
        assert_eq!(read(r#"{"kind":"admin","userId":"root"}"#).unwrap(), admin);
        let service = CreatedBy::Service {
            key_id: "workbench".into(),
        };
        assert_eq!(
            read(r#"{"keyId":"workbench","kind":"service"}"#).unwrap(),
            service
        );
        for bad in [
            r#"{}"#,
            r#"{"kind":"admin"}"#,
            r#"{"kind":"admin","tokenId":"abc"}"#,
            r#"{"kind":"service","userId":"abc"}"#,
            r#"{"kind":"service","keyId":"a","userId":"b"}"#,
            r#"{"kind":"token","userId":"abc"}"#,
            r#"{"kind":"robot","keyId":"abc"}"#,
            r#"{"kind":"token"}"#,
            r#"{"kind":"user","tokenId":"abc"}"#,
            r#"{"kind":"user","userId":"abc"}"#,
            r#"{"kind":"user","kind":"user"}"#,
            r#"{"kind":"token","tokenId":"a","tokenId":"b"}"#,
            r#"{"kind":"user","extra":1}"#,
            r#"{"kind":"token","tokenId":7}"#,
            r#""user""#,
            r#"["user"]"#,
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
        // Written as before: the tag first.
        assert_eq!(
            serde_json::to_string(&token).unwrap(),
            r#"{"kind":"token","tokenId":"abc"}"#
        );
        assert_eq!(
            serde_json::to_string(&admin).unwrap(),
            r#"{"kind":"admin","userId":"root"}"#
        );
        assert_eq!(
            serde_json::to_string(&service).unwrap(),
            r#"{"kind":"service","keyId":"workbench"}"#
        );
    }
}
