//! The stable error codes every Tessera surface shares.
//!
//! Each error type of the core maps its variants onto one of these strings
//! through a `code()` method. The strings are the contract: they become the
//! JavaScript `err.code`, the `code` field of HTTP error bodies, the reason in
//! filter logs and `expect.error` in the shared test vectors. Variants may gain
//! detail over time; the string a given situation maps to does not change.

/// Declares the code table once: the [`Code`] enum, one string constant per
/// code, and each code's class and default message.
macro_rules! code_table {
    ($( $(#[doc = $doc:literal])* $variant:ident = $name:ident, $class:ident, $message:literal; )*) => {
        /// A stable code, with its string ([`Code::as_str`]), its class
        /// ([`Code::class`]) and a default message ([`Code::message`]).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $( $(#[doc = $doc])* $variant, )*
        }

        $( $(#[doc = $doc])* pub const $name: &str = stringify!($name); )*

        impl Code {
            /// The code's string, such as `"TOKEN_EXPIRED"`.
            pub const fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $name, )* }
            }

            /// What kind of failure the code is.
            pub const fn class(self) -> Class {
                match self { $( Self::$variant => Class::$class, )* }
            }

            /// A message for people, which never repeats input.
            pub const fn message(self) -> &'static str {
                match self { $( Self::$variant => $message, )* }
            }

            /// Every code, in the table's order.
            const EVERY: &[Self] = &[ $( Self::$variant, )* ];

            /// The code with this string, if any. A search of the table
            /// rather than a `match` on strings, which compiles to a
            /// comparison tree about 1 KB larger in the WebAssembly modules.
            pub fn parse(code: &str) -> Option<Self> {
                Self::EVERY.iter().copied().find(|c| c.as_str() == code)
            }
        }
    };
}

code_table! {
    /// The input is not shaped like a token: empty, an unsupported
    /// `Authorization` scheme, the wrong length, a character outside base62, or a
    /// body that does not encode 32 bytes.
    TokenMalformed = TOKEN_MALFORMED, Unauthenticated, "the input is not shaped like a token";
    /// The input is shaped like a token but carries another deployment's prefix.
    TokenPrefix = TOKEN_PREFIX, Unauthenticated, "the token belongs to another deployment";
    /// The input is shaped like a token but its CRC32 checksum does not match.
    TokenChecksum = TOKEN_CHECKSUM, Unauthenticated, "the token's checksum does not match";
    /// No stored record matches the token's hash.
    TokenUnknown = TOKEN_UNKNOWN, Unauthenticated, "the token is not known";
    /// The token exists but has been deactivated.
    TokenInactive = TOKEN_INACTIVE, Unauthenticated, "the token is inactive";
    /// The token exists but its expiry time has passed.
    TokenExpired = TOKEN_EXPIRED, Unauthenticated, "the token has expired";
    /// The token is valid but its user may not use tokens: a member whom an
    /// administrator has not enabled (or has disabled). Nothing is deleted;
    /// enabling the user again restores the token.
    TokensDisabled = TOKENS_DISABLED, Unauthenticated, "the token's user may not use tokens";
    /// The token is valid but its scope does not allow the requested action or
    /// resource.
    ScopeDenied = SCOPE_DENIED, Forbidden, "the token's scope does not allow this request";
    /// A requested scope is empty, names actions the catalog does not have, or
    /// carries a malformed resource pattern.
    ScopeInvalid = SCOPE_INVALID, Invalid, "the scope is empty, unknown or malformed";
    /// A network allowlist entry is not an address or CIDR range, has a
    /// prefix too long for its family or bits set beyond its prefix, or
    /// the list is too long.
    IpsInvalid = IPS_INVALID, Invalid, "an allowed IP range is malformed";
    /// A token-made token's allowlist reaches beyond its parent's.
    IpsExceedParent = IPS_EXCEED_PARENT, Invalid, "the allowed IP ranges reach beyond the parent token's";
    /// The request comes from outside the token's allowlist.
    IpDenied = IP_DENIED, Forbidden, "the token may not be used from this address";
    /// A token made by a token asked for more than its parent's scope.
    ScopeExceedsParent = SCOPE_EXCEEDS_PARENT, Invalid, "the token's scope is beyond the acting token's";
    /// A requested expiry is in the past, zero days, or otherwise meaningless.
    ExpiryInvalid = EXPIRY_INVALID, Invalid, "the expiry is not a valid choice";
    /// A requested expiry is later than the deployment's policy allows (which
    /// includes "never" when the policy requires expiry).
    ExpiryExceedsPolicy = EXPIRY_EXCEEDS_POLICY, Invalid, "the expiry is later than the deployment's policy allows";
    /// A token made by a token asked to outlive its parent.
    ExpiryExceedsParent = EXPIRY_EXCEEDS_PARENT, Invalid, "the token would outlive the acting token";
    /// A token name is empty, too long or holds control characters.
    NameInvalid = NAME_INVALID, Invalid, "a token name must be 1 to 100 characters without control characters";
    /// A token description is too long or holds control characters.
    DescriptionInvalid = DESCRIPTION_INVALID, Invalid, "a description must be at most 1000 characters without control characters";
    /// A user id is empty, too long or holds control characters.
    UserInvalid = USER_INVALID, Invalid, "the user id must be 1 to 256 bytes without control characters";
    /// A parent token belongs to another user or lacks the token-creation action.
    ParentInvalid = PARENT_INVALID, Forbidden, "the acting token may not create tokens for this user";
    /// The user already holds as many tokens as the policy allows.
    LimitReached = LIMIT_REACHED, Limited, "the user holds as many tokens as the policy allows";
    /// A deployment prefix is not 1 to 16 characters of `[a-z0-9]`.
    PrefixInvalid = PREFIX_INVALID, Internal, "a token prefix must be 1 to 16 characters of [a-z0-9]";
    /// An action catalog has an empty, malformed or duplicate action.
    CatalogInvalid = CATALOG_INVALID, Internal, "the action catalog is malformed";
    /// A server-side pepper is shorter than 16 bytes.
    PepperInvalid = PEPPER_INVALID, Internal, "a pepper must be at least 16 bytes, written in hex";
    /// A stored record could not be read back (corrupt or from a newer format).
    RecordInvalid = RECORD_INVALID, Internal, "a stored record cannot be read";
    /// The storage behind an adapter failed; adapters use it to fail closed.
    StoreFailed = STORE_FAILED, Unavailable, "the token store failed";
    /// No token with this id (that belongs to the caller): adapters' lookups by
    /// id, such as edits, rotation and deletion.
    NotFound = NOT_FOUND, NotFound, "no such token";
    /// The caller may not do this: a user whose deployment does not let them
    /// create tokens, or an operation that needs an administrator.
    Forbidden = FORBIDDEN, Forbidden, "the caller may not do this";
    /// The token was already rotated and is in its grace period: it cannot be
    /// rotated again or re-activated. Use the token that replaced it.
    TokenRotated = TOKEN_ROTATED, Conflict, "the token was rotated; use the token that replaced it";
    /// A deployment policy is out of range (`maxLifetimeDays` or
    /// `maxTokensPerUser` below 1).
    PolicyInvalid = POLICY_INVALID, Internal, "maxLifetimeDays and maxTokensPerUser must be at least 1";
    /// A request body or argument that cannot be read at all: the wrong type,
    /// a missing field, a number out of range.
    BadRequest = BAD_REQUEST, Invalid, "the request cannot be read";
    /// The one HTTP 401 body, whatever the reason (the log has the reason).
    Unauthenticated = UNAUTHENTICATED, Unauthenticated, "a valid token or password is required";
    /// An edit tried to change a field that is fixed at creation (scope,
    /// expiry).
    ImmutableField = IMMUTABLE_FIELD, Invalid, "this field is fixed at creation; create a new token instead";
    /// A request body over the size limit.
    PayloadTooLarge = PAYLOAD_TOO_LARGE, Invalid, "the request body is too large";
    /// An unexpected failure inside a host; details are in its log.
    Internal = INTERNAL, Internal, "the server failed; see its log";
    /// Too many failed sign-ins for this user name or from this address.
    TooManyAttempts = TOO_MANY_ATTEMPTS, Limited, "too many failed sign-ins; wait before trying again";
    /// The server is at its limit of work of this kind (password hashing).
    Overloaded = OVERLOADED, Unavailable, "the server is busy; try again shortly";
    /// A state-changing request whose body is not declared as JSON.
    UnsupportedMediaType = UNSUPPORTED_MEDIA_TYPE, Invalid, "the request body must be application/json";
    /// A new password that is too short or too long.
    PasswordInvalid = PASSWORD_INVALID, Invalid, "a password must be at least 8 characters and at most 1024 bytes";
}

/// Codes that only adapters produce (HTTP hosts, plugins, packages), kept
/// here so that every surface spells them the same way.
pub const ADAPTER: &[&str] = &[
    UNAUTHENTICATED,
    IMMUTABLE_FIELD,
    PAYLOAD_TOO_LARGE,
    INTERNAL,
    TOO_MANY_ATTEMPTS,
    OVERLOADED,
    UNSUPPORTED_MEDIA_TYPE,
    PASSWORD_INVALID,
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
    IPS_INVALID,
    IPS_EXCEED_PARENT,
    IP_DENIED,
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
    TOKENS_DISABLED,
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
    Code::parse(code).map(Code::class)
}

/// Whether a code means "not authenticated": the codes every adapter
/// answers with one undifferentiated 401.
pub fn is_unauthenticated(code: &str) -> bool {
    class(code) == Some(Class::Unauthenticated)
}

/// A default message for people, for adapters that have none of their own
/// (a denial carries no detail worth repeating). It never repeats input.
pub fn message(code: &str) -> &'static str {
    Code::parse(code).map_or("an unknown failure", Code::message)
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
