//! Turning failures into the WIT `token-error` with a stable code.

use core::fmt::Display;

use tessera_core::code::{self, ErrorCode};

use crate::bindings::exports::tessera::tokens::service::TokenError;

/// A `token-error` with `code` and a message.
pub(crate) fn fail(code: &str, message: impl Display) -> TokenError {
    TokenError {
        code: code.into(),
        message: message.to_string(),
    }
}

/// Maps any core error to its code and message.
pub(crate) fn coded(error: impl ErrorCode) -> TokenError {
    fail(error.code(), &error)
}

/// A storage callback that failed: the operation fails closed.
pub(crate) fn store_failed(message: String) -> TokenError {
    fail(
        code::STORE_FAILED,
        format_args!("storage failed: {message}"),
    )
}
