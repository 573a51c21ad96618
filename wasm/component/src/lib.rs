//! `tessera-core` as a WebAssembly component (world `plugin` in
//! `wit/tessera.wit`).
//!
//! This crate is an adapter: it reads the host's storage through imported
//! callbacks, hands records to the core, writes back what the core returns
//! and maps every error to its stable code. It holds no state between calls
//! but the parsed deployment configuration, which it re-reads per instance.

#![deny(unsafe_code)]

mod errors;
mod records;
mod service;

/// The bindings `wit-bindgen` generates; the only place `unsafe` appears
/// (in generated glue code, not in ours).
#[allow(unsafe_code, missing_docs)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "plugin",
    });

    use super::service::Plugin;

    export!(Plugin);
}
