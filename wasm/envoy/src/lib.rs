//! The Envoy (proxy-wasm) filter over `tessera-core` (work in progress).
#![forbid(unsafe_code)]
