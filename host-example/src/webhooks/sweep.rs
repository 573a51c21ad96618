//! The expiry sweep: notes, once per token and threshold, the tokens the
//! core says are due a notice (`TokenRecord::expiry_notice`), each with its
//! audit event (`token.expiring` with the threshold, or `token.expired`),
//! which webhooks then deliver.

use anyhow::Result;
use serde_json::json;
use tessera_core::{AuditEvent, EXPIRED_NOTICE_MS, ExpiryNotice, TokenRecord};

use crate::db::{Db, NewEvent, Origin};

/// Notes the notices due at `now`; returns how many were new.
pub fn sweep(db: &Db, now: i64, days: &[u32]) -> Result<usize> {
    let horizon = days.iter().copied().max().unwrap_or(0);
    let to = now.saturating_add(i64::from(horizon).saturating_mul(tessera_core::DAY_MS));
    let mut noted = 0;
    for stored in db.tokens_expiring(now - EXPIRED_NOTICE_MS, to)? {
        let Ok(record) = serde_json::from_str::<TokenRecord>(&stored.json) else {
            continue;
        };
        let Some(notice) = record.expiry_notice(now, days) else {
            continue;
        };
        let (event, detail) = match notice {
            ExpiryNotice::Expiring { days } => (
                AuditEvent::TokenExpiring,
                json!({ "days": days, "expiresAt": record.expires_at() }),
            ),
            ExpiryNotice::Expired => (
                AuditEvent::TokenExpired,
                json!({ "expiresAt": record.expires_at() }),
            ),
        };
        let origin = Origin::operator(now);
        let mut entry = NewEvent::about(event, Some(record.user_id()), detail, &origin);
        entry.token_id = Some(record.id().to_owned());
        if db.note_expiry(record.id(), notice.threshold(), &entry)? {
            noted += 1;
        }
    }
    Ok(noted)
}
