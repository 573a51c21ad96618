//! `tests/vectors/codes.json`: the code table.

use super::*;

/// The code table: each code's class and default message, in `code::ALL`
/// order, then the adapter-only codes. The npm package generates its code
/// union and messages from this file at build time.
pub(crate) fn code_vectors() -> Value {
    let entry = |code: &&str| {
        json!({
            "code": code,
            "class": tessera_core::code::class(code).expect("every code has a class").as_str(),
            "message": tessera_core::code::message(code),
        })
    };
    json!({
        "description": "Every stable code: `codes` as the core produces them (code::ALL, in order), `adapter` those only adapters produce (code::ADAPTER). Each has a class, which adapters map to their protocol (HTTP status, 401 or 403), and a default message.",
        "codes": tessera_core::code::ALL.iter().map(entry).collect::<Vec<_>>(),
        "adapter": tessera_core::code::ADAPTER.iter().map(entry).collect::<Vec<_>>(),
    })
}
