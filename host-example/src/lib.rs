//! `tessera-host`: a token service around the Tessera plugin.
//!
//! The token logic runs as a WebAssembly component (`wasm/component`, the
//! core compiled for `wasm32-wasip2`) inside wasmtime; this crate owns all
//! I/O: SQLite storage, the clock, randomness, HTTP and the command line.

#![forbid(unsafe_code)]

pub mod auth;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod db;
pub mod http;
pub mod log;
pub mod plugin;
pub mod proxies;
pub mod records;
pub mod requests;
pub mod scan;
pub mod service_keys;
pub mod settings;
pub mod throttle;
pub mod verdicts;
pub mod webhooks;
