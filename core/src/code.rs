//! The stable error codes every Tessera surface shares.
//!
//! Each error type of the core maps its variants onto one of these strings
//! through a `code()` method. The strings are the contract: they become the
//! JavaScript `err.code`, the `code` field of HTTP error bodies, the reason in
//! filter logs and `expect.error` in the shared test vectors. Variants may gain
//! detail over time; the string a given situation maps to does not change.

/// The input is not shaped like a token: empty, an unsupported
/// `Authorization` scheme, the wrong length, a character outside base62, or a
/// body that does not encode 32 bytes.
pub const TOKEN_MALFORMED: &str = "TOKEN_MALFORMED";
/// The input is shaped like a token but carries another deployment's prefix.
pub const TOKEN_PREFIX: &str = "TOKEN_PREFIX";
/// The input is shaped like a token but its CRC32 checksum does not match.
pub const TOKEN_CHECKSUM: &str = "TOKEN_CHECKSUM";
/// No stored record matches the token's hash.
pub const TOKEN_UNKNOWN: &str = "TOKEN_UNKNOWN";
/// The token exists but has been deactivated.
pub const TOKEN_INACTIVE: &str = "TOKEN_INACTIVE";
/// The token exists but its expiry time has passed.
pub const TOKEN_EXPIRED: &str = "TOKEN_EXPIRED";
/// The token is valid but its scope does not allow the requested action or
/// resource.
pub const SCOPE_DENIED: &str = "SCOPE_DENIED";
/// A requested scope is empty, names actions the catalog does not have, or
/// carries a malformed resource pattern.
pub const SCOPE_INVALID: &str = "SCOPE_INVALID";
/// A token made by a token asked for more than its parent's scope.
pub const SCOPE_EXCEEDS_PARENT: &str = "SCOPE_EXCEEDS_PARENT";
/// A requested expiry is in the past, zero days, or otherwise meaningless.
pub const EXPIRY_INVALID: &str = "EXPIRY_INVALID";
/// A requested expiry is later than the deployment's policy allows (which
/// includes "never" when the policy requires expiry).
pub const EXPIRY_EXCEEDS_POLICY: &str = "EXPIRY_EXCEEDS_POLICY";
/// A token made by a token asked to outlive its parent.
pub const EXPIRY_EXCEEDS_PARENT: &str = "EXPIRY_EXCEEDS_PARENT";
/// A token name is empty, too long or holds control characters.
pub const NAME_INVALID: &str = "NAME_INVALID";
/// A token description is too long or holds control characters.
pub const DESCRIPTION_INVALID: &str = "DESCRIPTION_INVALID";
/// A user id is empty, too long or holds control characters.
pub const USER_INVALID: &str = "USER_INVALID";
/// A parent token belongs to another user or lacks the token-creation action.
pub const PARENT_INVALID: &str = "PARENT_INVALID";
/// The user already holds as many tokens as the policy allows.
pub const LIMIT_REACHED: &str = "LIMIT_REACHED";
/// A deployment prefix is not 1 to 16 characters of `[a-z0-9]`.
pub const PREFIX_INVALID: &str = "PREFIX_INVALID";
/// An action catalog has an empty, malformed or duplicate action.
pub const CATALOG_INVALID: &str = "CATALOG_INVALID";
/// A server-side pepper is shorter than 16 bytes.
pub const PEPPER_INVALID: &str = "PEPPER_INVALID";
/// A stored record could not be read back (corrupt or from a newer format).
pub const RECORD_INVALID: &str = "RECORD_INVALID";
/// The storage behind an adapter failed; adapters use it to fail closed.
pub const STORE_FAILED: &str = "STORE_FAILED";
/// No token with this id (that belongs to the caller): adapters' lookups by
/// id, such as edits, rotation and deletion.
pub const NOT_FOUND: &str = "NOT_FOUND";

/// The caller may not do this: a user whose deployment does not let them
/// create tokens, or an operation that needs an administrator.
pub const FORBIDDEN: &str = "FORBIDDEN";
/// The token was already rotated and is in its grace period: it cannot be
/// rotated again or re-activated. Use the token that replaced it.
pub const TOKEN_ROTATED: &str = "TOKEN_ROTATED";
/// A deployment policy is out of range (`maxLifetimeDays` or
/// `maxTokensPerUser` below 1).
pub const POLICY_INVALID: &str = "POLICY_INVALID";
/// A request body or argument that cannot be read at all: the wrong type,
/// a missing field, a number out of range.
pub const BAD_REQUEST: &str = "BAD_REQUEST";

/// The one HTTP 401 body, whatever the reason (the log has the reason).
pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
/// An edit tried to change a field that is fixed at creation (scope,
/// expiry).
pub const IMMUTABLE_FIELD: &str = "IMMUTABLE_FIELD";
/// A request body over the size limit.
pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
/// An unexpected failure inside a host; details are in its log.
pub const INTERNAL: &str = "INTERNAL";

/// Codes that only adapters produce (HTTP hosts, plugins, packages), kept
/// here so that every surface spells them the same way.
pub const ADAPTER: &[&str] = &[
    UNAUTHENTICATED,
    IMMUTABLE_FIELD,
    PAYLOAD_TOO_LARGE,
    INTERNAL,
];

/// An error with a stable code, implemented by every error type of the
/// core so that adapters can map them all the same way.
pub trait ErrorCode: core::fmt::Display {
    /// The stable code.
    fn code(&self) -> &'static str;
}

macro_rules! error_codes {
    ($($error:ty),* $(,)?) => {
        $(impl ErrorCode for $error {
            fn code(&self) -> &'static str {
                <$error>::code(self)
            }
        })*
    };
}

error_codes!(
    crate::ParseError,
    crate::Denial,
    crate::IssueError,
    crate::RotateError,
    crate::EditError,
    crate::ScopeError,
    crate::ConfigError,
    crate::PrefixError,
    crate::PepperError,
    crate::PolicyError,
    crate::CatalogError,
    crate::LifecycleError,
);

/// Every code a token operation can produce on any surface (the core's, and
/// the storage codes every adapter shares), in a fixed order, so that
/// adapters can check their own lists (a TypeScript union) against it.
pub const ALL: &[&str] = &[
    TOKEN_MALFORMED,
    TOKEN_PREFIX,
    TOKEN_CHECKSUM,
    TOKEN_UNKNOWN,
    TOKEN_INACTIVE,
    TOKEN_EXPIRED,
    SCOPE_DENIED,
    SCOPE_INVALID,
    SCOPE_EXCEEDS_PARENT,
    EXPIRY_INVALID,
    EXPIRY_EXCEEDS_POLICY,
    EXPIRY_EXCEEDS_PARENT,
    NAME_INVALID,
    DESCRIPTION_INVALID,
    USER_INVALID,
    PARENT_INVALID,
    LIMIT_REACHED,
    PREFIX_INVALID,
    CATALOG_INVALID,
    PEPPER_INVALID,
    RECORD_INVALID,
    STORE_FAILED,
    NOT_FOUND,
    FORBIDDEN,
    TOKEN_ROTATED,
    POLICY_INVALID,
    BAD_REQUEST,
];

/// What kind of failure a code is: what each adapter maps to its protocol
/// (an HTTP status, a filter's answer, an `isUnauthenticated` helper), so
/// that no adapter keeps a list of codes of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Class {
    /// The credential is not valid (HTTP 401, one undifferentiated body).
    Unauthenticated,
    /// The caller is known but may not do this (HTTP 403).
    Forbidden,
    /// The input can be read but is not acceptable (HTTP 422, or 400 for
    /// [`BAD_REQUEST`]).
    Invalid,
    /// No such token belongs to the caller (HTTP 404).
    NotFound,
    /// The token's state does not allow this now (HTTP 409).
    Conflict,
    /// A limit is reached (HTTP 429 or 403; the host uses 403).
    Limited,
    /// Storage failed; the operation failed closed (HTTP 503).
    Unavailable,
    /// A bug or a bad deployment configuration (HTTP 500).
    Internal,
}

impl Class {
    /// The class's name in snake case, as logs and JSON show it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::Invalid => "invalid",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::Limited => "limited",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }
}

/// The class of a code, or `None` for a string that is not a code.
///
/// Every code of [`ALL`] and [`ADAPTER`] has one.
pub fn class(code: &str) -> Option<Class> {
    Some(match code {
        TOKEN_MALFORMED | TOKEN_PREFIX | TOKEN_CHECKSUM | TOKEN_UNKNOWN | TOKEN_INACTIVE
        | TOKEN_EXPIRED | UNAUTHENTICATED => Class::Unauthenticated,
        SCOPE_DENIED | PARENT_INVALID | FORBIDDEN => Class::Forbidden,
        // Asking for more than the acting token has is an unacceptable
        // request, the same on create, rotate, update and delete.
        SCOPE_INVALID
        | SCOPE_EXCEEDS_PARENT
        | EXPIRY_EXCEEDS_PARENT
        | EXPIRY_INVALID
        | EXPIRY_EXCEEDS_POLICY
        | NAME_INVALID
        | DESCRIPTION_INVALID
        | USER_INVALID
        | BAD_REQUEST
        | IMMUTABLE_FIELD
        | PAYLOAD_TOO_LARGE => Class::Invalid,
        NOT_FOUND => Class::NotFound,
        TOKEN_ROTATED => Class::Conflict,
        LIMIT_REACHED => Class::Limited,
        STORE_FAILED => Class::Unavailable,
        PREFIX_INVALID | CATALOG_INVALID | PEPPER_INVALID | POLICY_INVALID | RECORD_INVALID
        | INTERNAL => Class::Internal,
        _ => return None,
    })
}

/// Whether a code means "not authenticated": the codes every adapter
/// answers with one undifferentiated 401.
pub fn is_unauthenticated(code: &str) -> bool {
    class(code) == Some(Class::Unauthenticated)
}

/// A default message for people, for adapters that have none of their own
/// (a denial carries no detail worth repeating). It never repeats input.
pub fn message(code: &str) -> &'static str {
    match code {
        TOKEN_MALFORMED => "the input is not shaped like a token",
        TOKEN_PREFIX => "the token belongs to another deployment",
        TOKEN_CHECKSUM => "the token's checksum does not match",
        TOKEN_UNKNOWN => "the token is not known",
        TOKEN_INACTIVE => "the token is inactive",
        TOKEN_EXPIRED => "the token has expired",
        SCOPE_DENIED => "the token's scope does not allow this request",
        SCOPE_INVALID => "the scope is empty, unknown or malformed",
        SCOPE_EXCEEDS_PARENT => "the token's scope is beyond the acting token's",
        EXPIRY_INVALID => "the expiry is not a valid choice",
        EXPIRY_EXCEEDS_POLICY => "the expiry is later than the deployment's policy allows",
        EXPIRY_EXCEEDS_PARENT => "the token would outlive the acting token",
        NAME_INVALID => "a token name must be 1 to 100 characters without control characters",
        DESCRIPTION_INVALID => {
            "a description must be at most 1000 characters without control characters"
        }
        USER_INVALID => "the user id must be 1 to 256 bytes without control characters",
        PARENT_INVALID => "the acting token may not create tokens for this user",
        LIMIT_REACHED => "the user holds as many tokens as the policy allows",
        PREFIX_INVALID => "a token prefix must be 1 to 16 characters of [a-z0-9]",
        CATALOG_INVALID => "the action catalog is malformed",
        PEPPER_INVALID => "a pepper must be at least 16 bytes, written in hex",
        POLICY_INVALID => "maxLifetimeDays and maxTokensPerUser must be at least 1",
        RECORD_INVALID => "a stored record cannot be read",
        STORE_FAILED => "the token store failed",
        NOT_FOUND => "no such token",
        FORBIDDEN => "the caller may not do this",
        TOKEN_ROTATED => "the token was rotated; use the token that replaced it",
        UNAUTHENTICATED => "a valid token or password is required",
        IMMUTABLE_FIELD => "this field is fixed at creation; create a new token instead",
        BAD_REQUEST => "the request cannot be read",
        PAYLOAD_TOO_LARGE => "the request body is too large",
        INTERNAL => "the server failed; see its log",
        _ => "an unknown failure",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_class_and_a_message() {
        for code in ALL.iter().chain(ADAPTER) {
            assert!(class(code).is_some(), "{code} has no class");
            assert_ne!(
                message(code),
                message("NO_SUCH_CODE"),
                "{code} has no message"
            );
        }
        assert_eq!(class("NO_SUCH_CODE"), None);
        assert!(is_unauthenticated(TOKEN_EXPIRED));
        assert!(!is_unauthenticated(SCOPE_DENIED));
    }
}
