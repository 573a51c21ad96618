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

/// The one HTTP 401 body, whatever the reason (the log has the reason).
pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
/// An edit tried to change a field that is fixed at creation (scope,
/// expiry).
pub const IMMUTABLE_FIELD: &str = "IMMUTABLE_FIELD";
/// A request body or argument that cannot be read at all.
pub const BAD_REQUEST: &str = "BAD_REQUEST";
/// The caller is authenticated but may not do this (an admin-only setting,
/// token creation disabled for members).
pub const FORBIDDEN: &str = "FORBIDDEN";
/// A request body over the size limit.
pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
/// An unexpected failure inside a host; details are in its log.
pub const INTERNAL: &str = "INTERNAL";

/// Codes that only adapters produce (HTTP hosts, plugins, packages), kept
/// here so that every surface spells them the same way.
pub const ADAPTER: &[&str] = &[
    UNAUTHENTICATED,
    IMMUTABLE_FIELD,
    BAD_REQUEST,
    FORBIDDEN,
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
    crate::CatalogError,
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
];
