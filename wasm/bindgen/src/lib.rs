//! The wasm-bindgen adapter of `tessera-core`, compiled into the
//! `tessera-tokens` npm package.
//!
//! # What this crate does not do
//!
//! It holds no token logic. Every function moves data between JavaScript and
//! the core and maps the core's errors onto its stable codes. It reads no
//! clock and draws no randomness: the TypeScript layer passes `now` and 32
//! bytes from `crypto.getRandomValues`, so the module needs no `getrandom`.
//!
//! # How data crosses
//!
//! Records come in as plain arguments (strings, numbers, arrays of strings)
//! and are built with `TokenRecord::from_parts`; records and results go out
//! as JSON text written by [`json`], which JavaScript parses natively. No
//! serde format crate is linked: that keeps a JSON parser and float
//! formatting out of the module, about half of its size.
//!
//! # How errors cross
//!
//! Functions that may fail throw a string `CODE: message`, which the
//! TypeScript layer turns into a `TokenError`. The verification hot paths
//! never throw: they return a number, non-negative for success and `-1 - i`
//! for the `i`-th code of [`codes`], because a thrown JavaScript exception
//! costs microseconds.

#![forbid(unsafe_code)]

mod deployment;
mod fail;
mod index;
pub mod json;
mod lifecycle;
mod owner;
mod record;
mod token;

pub use deployment::Deployment;
pub use index::RecordIndex;
pub use lifecycle::RecordSet;
pub use owner::Owner;
pub use record::Record;
pub use token::{hash_token, present, token_pattern};

use wasm_bindgen::prelude::wasm_bindgen;

/// An RFC 3339 time as milliseconds since the epoch, read by the core's one
/// parser; `None` when the text is not one.
#[wasm_bindgen]
pub fn rfc3339_millis(text: &str) -> Option<f64> {
    tessera_core::parse_rfc3339(text).map(|ms| ms as f64)
}

/// Every stable error code of the core, comma-separated and in the core's
/// order: the table the hot paths' negative return values index into, and
/// what the package's tests compare its TypeScript union against.
#[wasm_bindgen]
pub fn codes() -> String {
    tessera_core::code::ALL.join(",")
}
