//! The deployment's token prefix.

use alloc::boxed::Box;
use core::fmt;

use crate::code;

/// The longest prefix a deployment may choose.
pub const MAX_PREFIX_LEN: usize = 16;

/// A deployment's token prefix: 1 to 16 characters of `[a-z0-9]`.
///
/// The prefix tells people and secret scanners whose token they are looking
/// at; the sample host uses `tsr`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Prefix(Box<str>);

impl Prefix {
    /// Checks and wraps a prefix.
    pub fn new(prefix: &str) -> Result<Self, PrefixError> {
        if is_prefix(prefix.as_bytes()) {
            Ok(Self(prefix.into()))
        } else {
            Err(PrefixError)
        }
    }

    /// The prefix as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `bytes` would be a valid prefix.
pub(crate) fn is_prefix(bytes: &[u8]) -> bool {
    (1..=MAX_PREFIX_LEN).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

impl fmt::Debug for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Prefix").field(&self.as_str()).finish()
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A prefix that is empty, longer than 16 characters, or not `[a-z0-9]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefixError;

impl PrefixError {
    /// The stable code: `PREFIX_INVALID`.
    pub fn code(&self) -> &'static str {
        code::PREFIX_INVALID
    }
}

impl fmt::Display for PrefixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a token prefix must be 1 to 16 characters of [a-z0-9]")
    }
}

impl core::error::Error for PrefixError {}
