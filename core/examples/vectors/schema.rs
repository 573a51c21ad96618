//! `tests/vectors/schema.json`: the members of a stored record, from the
//! core's `RECORD_FIELDS`. The npm package generates its record types and
//! checks from this file at build time.

use super::*;

pub(crate) fn schema_vectors() -> Value {
    let fields: Vec<Value> = tessera_core::RECORD_FIELDS
        .iter()
        .map(|f| json!({ "name": f.name, "kind": f.kind, "doc": f.doc }))
        .collect();
    json!({
        "description": "The members of a stored record, in the order its JSON form writes them. What lists show is the same without `hash`. Kinds: string, string? (or null), millis, millis? (or null), hash (64 hex digits), createdBy, scope, status.",
        "record": fields,
    })
}
