//! A proxy-wasm HTTP filter that authenticates Tessera tokens at the edge.
//!
//! # What it does not do
//!
//! It holds no token logic of its own and never sees a token store. It
//! parses and checksums the presented token and hashes it with the core,
//! asks the token service for the record stored under that hash (sending
//! only the hash), caches the answer, and lets the core decide status,
//! expiry (by Envoy's clock) and scope. It reports last uses to the token
//! service in batches, off the request path, and never writes records.
//!
//! # Layout
//!
//! - [`config`]: the plugin configuration, checked whole at load.
//! - [`rules`]: path prefixes and methods to catalog actions.
//! - [`decide`]: the decisions as plain functions over data.
//! - [`answer`]: the token service's answers and their cached form.
//! - [`cache`]: each worker's cache of decoded answers.
//! - [`feed`]: the revocation feed each worker polls.
//! - [`uses`]: last uses, reported to the token service in batches.
//! - [`json`]: the small JSON reader and writer the documents above need.
//! - `glue` (wasm only): the proxy-wasm contexts that carry decisions out.
#![forbid(unsafe_code)]

pub mod answer;
pub mod cache;
pub mod config;
pub mod decide;
pub mod feed;
pub mod json;

/// A hash map keyed with std's random SipHash, over the `hashbrown` tables
/// proxy-wasm links anyway (one copy of the table code instead of two).
pub type HashMap<K, V> = hashbrown::HashMap<K, V, std::hash::RandomState>;
pub mod rules;
pub mod uses;

#[cfg(target_arch = "wasm32")]
mod glue;

#[cfg(test)]
mod vectors;
