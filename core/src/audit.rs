//! The audit log's vocabulary: the names of the events a host records, and
//! which token events a write makes, decided from the record before and
//! after it. Every store that keeps an audit log names the same change
//! alike, whoever wrote it and through whichever operation.

use alloc::vec::Vec;

use crate::record::{Status, TokenRecord};

/// An event of the audit log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuditEvent {
    /// A token was created (by its user, a token, an administrator, a
    /// rotation or the operator).
    TokenCreated,
    /// A token was rotated: it now names its replacement and ends with its
    /// grace period.
    TokenRotated,
    /// A token's name changed.
    TokenRenamed,
    /// A token's description changed or was removed.
    TokenDescribed,
    /// A token was deactivated.
    TokenDeactivated,
    /// A token was activated again.
    TokenReactivated,
    /// A token was used for the first time.
    TokenFirstUsed,
    /// A token was deleted.
    TokenDeleted,
    /// A token was refused because its user may not use tokens, or it came
    /// from outside its allowed IPs.
    TokenRefused,
    /// A token expires within a warning threshold (its detail names the
    /// days); noted once per token and threshold.
    TokenExpiring,
    /// A token expired; noted once per token.
    TokenExpired,
    /// A token's record changed in a way a store could not name (a record
    /// it could not read, before or after).
    TokenChanged,
    /// A user was added.
    UserAdded,
    /// A user's own token setting (`inherit`, `on`, `off`) changed.
    UserTokens,
    /// A user became, or stopped being, an administrator.
    UserAdmin,
    /// A user's password changed.
    UserPassword,
    /// A deployment-wide setting changed.
    SettingChanged,
}

impl AuditEvent {
    /// Every event, in the order of their names' documentation.
    pub const ALL: [Self; 17] = [
        Self::TokenCreated,
        Self::TokenRotated,
        Self::TokenRenamed,
        Self::TokenDescribed,
        Self::TokenDeactivated,
        Self::TokenReactivated,
        Self::TokenFirstUsed,
        Self::TokenDeleted,
        Self::TokenRefused,
        Self::TokenExpiring,
        Self::TokenExpired,
        Self::TokenChanged,
        Self::UserAdded,
        Self::UserTokens,
        Self::UserAdmin,
        Self::UserPassword,
        Self::SettingChanged,
    ];

    /// The stable name stored and shown (`token.created`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::TokenCreated => "token.created",
            Self::TokenRotated => "token.rotated",
            Self::TokenRenamed => "token.renamed",
            Self::TokenDescribed => "token.described",
            Self::TokenDeactivated => "token.deactivated",
            Self::TokenReactivated => "token.reactivated",
            Self::TokenFirstUsed => "token.first-used",
            Self::TokenDeleted => "token.deleted",
            Self::TokenRefused => "token.refused",
            Self::TokenExpiring => "token.expiring",
            Self::TokenExpired => "token.expired",
            Self::TokenChanged => "token.changed",
            Self::UserAdded => "user.added",
            Self::UserTokens => "user.tokens",
            Self::UserAdmin => "user.admin",
            Self::UserPassword => "user.password",
            Self::SettingChanged => "setting.changed",
        }
    }

    /// The event with this name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|event| event.name() == name)
    }
}

/// The events a write of one token makes: `before` is the stored record
/// (`None` when there was none), `after` the record written (`None` for a
/// deletion). A change of a later use only, or no change at all, makes
/// none.
pub fn token_events(before: Option<&TokenRecord>, after: Option<&TokenRecord>) -> Vec<AuditEvent> {
    let (before, after) = match (before, after) {
        (None, None) => return Vec::new(),
        (None, Some(_)) => return alloc::vec![AuditEvent::TokenCreated],
        (Some(_), None) => return alloc::vec![AuditEvent::TokenDeleted],
        (Some(before), Some(after)) => (before, after),
    };
    let mut events = Vec::new();
    if before.replaced_by.is_none() && after.replaced_by.is_some() {
        events.push(AuditEvent::TokenRotated);
    }
    if before.name != after.name {
        events.push(AuditEvent::TokenRenamed);
    }
    if before.description != after.description {
        events.push(AuditEvent::TokenDescribed);
    }
    match (before.status, after.status) {
        (Status::Active, Status::Inactive) => events.push(AuditEvent::TokenDeactivated),
        (Status::Inactive, Status::Active) => events.push(AuditEvent::TokenReactivated),
        _ => {}
    }
    if before.last_used_at.is_none() && after.last_used_at.is_some() {
        events.push(AuditEvent::TokenFirstUsed);
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> TokenRecord {
        serde_json::from_str(
            r#"{"createdAt": 1800000000000, "createdBy": {"kind": "user"}, "description": null,
            "expiresAt": null, "hint": "tsr_h0Yd\u2026", "id": "595c3b15cab909edd0bb8a26fc56eb4f",
            "hash": "3fb506051a57cdf10ada045e9f46d598f130b3f517c6c697c41b9b5b04fd8891",
            "lastUsedAt": null, "name": "CI deploys", "replacedBy": null, "rotatedFrom": null,
            "scope": {"actions": ["apps.read"]}, "status": "active", "userId": "u1"}"#,
        )
        .expect("record")
    }

    #[test]
    fn names_are_unique_and_parse_back() {
        for event in AuditEvent::ALL {
            assert_eq!(AuditEvent::parse(event.name()), Some(event));
        }
        assert_eq!(AuditEvent::parse("token.unknown"), None);
    }

    #[test]
    fn creation_and_deletion_are_told_by_the_missing_side() {
        let r = record();
        assert_eq!(token_events(None, Some(&r)), [AuditEvent::TokenCreated]);
        assert_eq!(token_events(Some(&r), None), [AuditEvent::TokenDeleted]);
        assert_eq!(token_events(None, None), []);
        assert_eq!(token_events(Some(&r), Some(&r)), []);
    }

    #[test]
    fn an_edit_names_each_change_it_made() {
        let before = record();
        let mut after = before.clone();
        after.name = "deploy".into();
        after.description = Some("x".into());
        after.status = Status::Inactive;
        assert_eq!(
            token_events(Some(&before), Some(&after)),
            [
                AuditEvent::TokenRenamed,
                AuditEvent::TokenDescribed,
                AuditEvent::TokenDeactivated
            ]
        );
        assert_eq!(
            token_events(Some(&after), Some(&before)),
            [
                AuditEvent::TokenRenamed,
                AuditEvent::TokenDescribed,
                AuditEvent::TokenReactivated
            ]
        );
    }

    #[test]
    fn rotation_and_first_use_are_events_and_later_uses_are_not() {
        let before = record();
        let mut rotated = before.clone();
        rotated.replaced_by = Some("b".into());
        rotated.expires_at = Some(5);
        assert_eq!(
            token_events(Some(&before), Some(&rotated)),
            [AuditEvent::TokenRotated]
        );
        let mut used = before.clone();
        used.last_used_at = Some(10);
        assert_eq!(
            token_events(Some(&before), Some(&used)),
            [AuditEvent::TokenFirstUsed]
        );
        let mut again = used.clone();
        again.last_used_at = Some(20);
        assert_eq!(token_events(Some(&used), Some(&again)), []);
    }
}
