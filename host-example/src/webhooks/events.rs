//! Which audit events a webhook delivers, under which type, and the body
//! it posts: `{type, timestamp, data}` as Standard Webhooks suggests.

use serde_json::{Value, json};

use crate::db::Entry;

/// The event types a subscription may ask for (all, when it names none).
pub const TYPES: &[&str] = &[
    "token.expiring",
    "token.expired",
    "token.leaked",
    "token.deactivated",
    "token.deleted",
];

/// The webhook type of an audit event, if it is one a subscription may
/// receive: a deactivation by GitHub's secret scanning (its detail names
/// where the token leaked) is `token.leaked`.
pub fn type_of(entry: &Entry) -> Option<&'static str> {
    match entry.event.as_str() {
        "token.deactivated" => Some(
            if entry
                .detail
                .as_ref()
                .and_then(|d| d.get("leakedAt"))
                .is_some()
            {
                "token.leaked"
            } else {
                "token.deactivated"
            },
        ),
        "token.deleted" => Some("token.deleted"),
        "token.expiring" => Some("token.expiring"),
        "token.expired" => Some("token.expired"),
        _ => None,
    }
}

/// The message's id: the event's place in the audit log, the same at every
/// attempt and on every host.
pub fn message_id(entry: &Entry) -> String {
    format!("evt_{}", entry.seq)
}

/// The body posted for an event of type `kind`.
pub fn body(kind: &str, entry: &Entry) -> String {
    let timestamp =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(entry.at) * 1_000_000)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
    json!({
        "type": kind,
        "timestamp": timestamp,
        "data": {
            "userId": entry.user_id,
            "tokenId": entry.token_id,
            "actor": entry.actor,
            "address": entry.address,
            "detail": entry.detail.clone().unwrap_or(Value::Null),
        },
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Entry;

    fn entry(event: &str, detail: Option<Value>) -> Entry {
        Entry {
            seq: 42,
            at: 1_800_000_000_000,
            event: event.into(),
            user_id: Some("ann".into()),
            token_id: Some("t1".into()),
            actor: crate::db::EntryActor {
                kind: "scanner".into(),
                user_id: None,
                token_id: None,
            },
            address: None,
            detail,
        }
    }

    #[test]
    fn types_and_bodies() {
        let leaked = entry(
            "token.deactivated",
            Some(json!({ "leakedAt": "https://x" })),
        );
        assert_eq!(type_of(&leaked), Some("token.leaked"));
        assert_eq!(
            type_of(&entry("token.deactivated", None)),
            Some("token.deactivated")
        );
        assert_eq!(type_of(&entry("token.created", None)), None);
        assert_eq!(type_of(&entry("token.refused", None)), None);
        assert_eq!(message_id(&leaked), "evt_42");
        let body: Value = serde_json::from_str(&body("token.leaked", &leaked)).unwrap();
        assert_eq!(body["type"], "token.leaked");
        assert_eq!(body["timestamp"], "2027-01-15T08:00:00Z");
        assert_eq!(body["data"]["detail"]["leakedAt"], "https://x");
        assert!(TYPES.iter().all(|t| t.starts_with("token.")));
    }
}
