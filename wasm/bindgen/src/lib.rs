//! The wasm-bindgen adapter of `tessera-core` (work in progress).
#![forbid(unsafe_code)]
