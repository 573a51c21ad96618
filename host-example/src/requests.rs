//! The bodies of the HTTP API's token requests, read from raw bytes: the
//! creation (`POST /api/usertokens`), the edit (`PATCH
//! /api/usertokens/{id}`) and the rotation (`POST …/rotate`).
//!
//! Only serde and the core here, no HTTP or plugin types, so the fuzz target
//! `host_bodies` (in `fuzz/`) compiles this very file and feeds it
//! arbitrary bytes. Every refusal is a [`BodyError`] with a stable code.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tessera_core::code;

/// Fields of a record that are fixed at creation: an edit naming one is
/// refused with `IMMUTABLE_FIELD`.
pub const IMMUTABLE: &[&str] = &[
    "scope",
    "allowedIps",
    "expires",
    "expiresAt",
    "id",
    "userId",
    "createdAt",
    "createdBy",
    "hint",
    "lastUsedAt",
    "rotatedFrom",
    "replacedBy",
];

/// A body that cannot be used: a stable code and a sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodyError {
    /// `BAD_REQUEST` or `IMMUTABLE_FIELD`.
    pub code: &'static str,
    /// What is wrong, for the caller.
    pub message: String,
}

impl BodyError {
    fn bad(message: impl Into<String>) -> Self {
        Self {
            code: code::BAD_REQUEST,
            message: message.into(),
        }
    }
}

/// The JSON object in `bytes`; an empty body is an empty object.
fn object(bytes: &[u8]) -> Result<Map<String, Value>, BodyError> {
    if bytes.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(BodyError::bad("the body must be a JSON object")),
        Err(e) => Err(BodyError::bad(format!("the body is not valid JSON: {e}"))),
    }
}

/// A body read as `T`. Every body is a JSON object: serde would also read a
/// struct from an array by position (so `[]` would pass as a body of
/// defaults), which no client means.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, BodyError> {
    let fields = object(bytes)?;
    serde_json::from_value(Value::Object(fields)).map_err(|e| BodyError::bad(e.to_string()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    expires: Option<Value>,
    scope: Value,
    #[serde(default, rename = "allowedIps")]
    allowed_ips: Option<Vec<String>>,
    #[serde(default, rename = "userId")]
    user_id: Option<String>,
}

/// A creation request as the API received it; the core checks its values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Create {
    /// The token's name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// When it expires.
    pub expires: tessera_core::Expiry,
    /// Its scope, as JSON text.
    pub scope: String,
    /// The CIDR ranges it may be used from; empty for anywhere.
    pub allowed_ips: Vec<String>,
    /// The user it is for, when an administrator or a service key issues it
    /// for someone else.
    pub user_id: Option<String>,
}

/// Reads `{ "name", "description"?, "expires"?, "scope", "allowedIps"?,
/// "userId"? }`; the expiry in the core's one grammar: `"never"`, `{ "days":
/// n }` or `{ "at": RFC 3339 | null }`, absent meaning never; `allowedIps` a
/// list of strings (absent or null for anywhere), which the core parses.
pub fn create(bytes: &[u8]) -> Result<Create, BodyError> {
    let body: CreateBody = parse(bytes)?;
    let expires = match body.expires.filter(|v| !v.is_null()) {
        None => tessera_core::Expiry::Never,
        Some(value) => serde_json::from_value(value).map_err(|_| {
            BodyError::bad(
                "expires must be \"never\", {\"days\": n} or {\"at\": \"RFC 3339 time\" | null}",
            )
        })?,
    };
    Ok(Create {
        name: body.name,
        description: body.description,
        expires,
        scope: body.scope.to_string(),
        allowed_ips: body.allowed_ips.unwrap_or_default(),
        user_id: body.user_id,
    })
}

/// A token's status, as an edit sets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Usable.
    Active,
    /// Refused until re-activated.
    Inactive,
}

/// An edit: each field present is changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Change {
    /// A new name.
    pub name: Option<String>,
    /// A new description (`Some(None)` removes it).
    pub description: Option<Option<String>>,
    /// A new status.
    pub status: Option<Status>,
}

/// Reads `{ "name"?, "description"?, "status"? }`; a field fixed at
/// creation is refused with `IMMUTABLE_FIELD`, anything else unknown with
/// `BAD_REQUEST`.
pub fn update(bytes: &[u8]) -> Result<Change, BodyError> {
    let mut change = Change::default();
    for (key, value) in object(bytes)? {
        match (key.as_str(), value) {
            ("name", Value::String(name)) => change.name = Some(name),
            ("description", Value::String(text)) => change.description = Some(Some(text)),
            ("description", Value::Null) => change.description = Some(None),
            ("status", Value::String(status)) if status == "active" => {
                change.status = Some(Status::Active)
            }
            ("status", Value::String(status)) if status == "inactive" => {
                change.status = Some(Status::Inactive)
            }
            (key, _) if IMMUTABLE.contains(&key) => {
                return Err(BodyError {
                    code: code::IMMUTABLE_FIELD,
                    message: format!("{key} is fixed at creation; create a new token instead"),
                });
            }
            ("name" | "description" | "status", _) => {
                return Err(BodyError::bad(format!(
                    "{key} has the wrong type (status is \"active\" or \"inactive\")"
                )));
            }
            (key, _) => return Err(BodyError::bad(format!("unknown field {key}"))),
        }
    }
    Ok(change)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RotateBody {
    #[serde(default)]
    grace_seconds: i64,
}

/// Reads `{ "graceSeconds"? }` and returns the grace period in
/// milliseconds (the core refuses a negative or too long one).
pub fn rotate(bytes: &[u8]) -> Result<i64, BodyError> {
    let body: RotateBody = parse(bytes)?;
    body.grace_seconds
        .checked_mul(1000)
        .ok_or_else(|| BodyError::bad("graceSeconds is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_parse_or_refuse_with_a_code() {
        let made = create(br#"{"name":"n","scope":{"preset":"read"},"expires":{"days":3}}"#);
        assert_eq!(made.unwrap().expires, tessera_core::Expiry::Days(3));
        assert_eq!(create(b"[]").unwrap_err().code, code::BAD_REQUEST);
        assert_eq!(create(b"{").unwrap_err().code, code::BAD_REQUEST);
        assert_eq!(
            create(br#"{"name":"n","scope":{},"expires":"soon"}"#)
                .unwrap_err()
                .code,
            code::BAD_REQUEST
        );
        let change = update(br#"{"status":"inactive","description":null}"#).unwrap();
        assert_eq!(change.status, Some(Status::Inactive));
        assert_eq!(change.description, Some(None));
        assert_eq!(
            update(br#"{"scope":{}}"#).unwrap_err().code,
            code::IMMUTABLE_FIELD
        );
        assert_eq!(update(br#"{"x":1}"#).unwrap_err().code, code::BAD_REQUEST);
        assert_eq!(update(b"").unwrap(), Change::default());
        assert_eq!(rotate(br#"{"graceSeconds":60}"#).unwrap(), 60_000);
        assert_eq!(rotate(b"").unwrap(), 0);
        assert!(rotate(br#"{"graceSeconds":9223372036854775807}"#).is_err());
    }
}
