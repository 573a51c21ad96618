//! `GET /api/audit`: the audit log, newest first, a page at a time.
//! Administrators read every event; anyone else only the events about
//! their own account and tokens, or done by them. Only a password (or a
//! session signed in with one) reads it: a token, however broad, does not,
//! so a leaked token cannot learn where its user works from.
//!
//! Also here: noting refusals of a disabled user's token, which change
//! nothing and so are written on their own, at most once a minute per
//! token, whatever the traffic.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tessera_core::AuditEvent;

use super::caller::{Accept, Credentials, Via, authenticate};
use super::{ApiError, App};
use crate::db::{self, ActorKind, NewEvent, Origin};
use crate::log;

/// The most events one page holds, and how many it holds unless asked.
const MAX_LIMIT: usize = 500;
const DEFAULT_LIMIT: usize = 100;

/// The query of `GET /api/audit`, every member optional and checked here
/// (a wrong type is a 400 with the rule, not the parser's words).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditQuery {
    user: Option<String>,
    token_id: Option<String>,
    event: Option<String>,
    since: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

fn number(value: Option<&str>, name: &str) -> Result<Option<i64>, ApiError> {
    value
        .map(|text| {
            text.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                ApiError::bad_request(format!("{name} is a whole number of at least 0"))
            })
        })
        .transpose()
}

/// `GET /api/audit?user=&tokenId=&event=&since=&cursor=&limit=`.
pub async fn list(
    State(app): State<Arc<App>>,
    credentials: Credentials,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&app, &credentials, Accept::Password).await?;
    let Ok(Query(query)) = query else {
        return Err(ApiError::bad_request(
            "the filters are user, tokenId, event, since, cursor and limit",
        ));
    };
    let admin = matches!(caller.via, Via::Password { admin: true, .. });
    let user = match query.user {
        Some(user) if !admin && user != caller.user => {
            // As for tokens: another user's log does not exist for a member.
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                tessera_core::code::NOT_FOUND,
                "no such user",
            ));
        }
        Some(user) => Some(user),
        None if admin => None,
        None => Some(caller.user.clone()),
    };
    let event = match query.event.as_deref() {
        Some(name) => Some(AuditEvent::parse(name).ok_or_else(|| {
            ApiError::bad_request(format!(
                "unknown event {:?}",
                name.chars().take(40).collect::<String>()
            ))
        })?),
        None => None,
    };
    let limit = match number(query.limit.as_deref(), "limit")? {
        None => DEFAULT_LIMIT,
        Some(n) if (1..=MAX_LIMIT as i64).contains(&n) => n as usize,
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "limit is from 1 to {MAX_LIMIT}"
            )));
        }
    };
    let query = db::Query {
        user,
        token_id: query.token_id,
        event,
        since: number(query.since.as_deref(), "since")?,
        before: number(query.cursor.as_deref(), "cursor")?,
        limit,
    };
    let page = app
        .blocking(move |app| app.db.audit(&query))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::internal(&e))?;
    Ok(axum::Json(page).into_response())
}

/// When each token's latest refusal was written, to write at most one a
/// minute per token. Bounded: when full it starts again empty (a few more
/// events, never unbounded memory).
#[derive(Default)]
pub struct Refusals {
    written: Mutex<HashMap<String, i64>>,
}

/// How long after a written refusal the next of the same token is left out.
const REFUSAL_INTERVAL_MS: i64 = 60_000;
const MAX_REMEMBERED: usize = 10_000;

impl Refusals {
    /// Whether a refusal of `token_id` at `now` is to be written.
    fn due(&self, token_id: &str, now: i64) -> bool {
        let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        if written
            .get(token_id)
            .is_some_and(|at| now - at < REFUSAL_INTERVAL_MS)
        {
            return false;
        }
        if written.len() >= MAX_REMEMBERED {
            written.clear();
        }
        written.insert(token_id.to_owned(), now);
        true
    }
}

impl App {
    /// Notes in the audit log that token `token_id` of `user_id` was
    /// refused with `code` (its user may not use tokens). A failed write is
    /// logged; the refusal stands either way.
    pub fn note_refusal(&self, token_id: &str, user_id: &str, code: &str, client: Option<IpAddr>) {
        let now = self.clock.now();
        if !self.refusals.due(token_id, now) {
            return;
        }
        let origin = Origin {
            kind: ActorKind::Token,
            user: Some(user_id.to_owned()),
            token_id: Some(token_id.to_owned()),
            address: client,
            at: now,
            cascade_of: None,
            detail: None,
        };
        let mut event = NewEvent::about(
            AuditEvent::TokenRefused,
            Some(user_id),
            serde_json::json!({ "code": code }),
            &origin,
        );
        event.token_id = Some(token_id.to_owned());
        if let Err(error) = self.db.record_event(&event) {
            log::warn(format_args!(
                "could not note a refusal in the audit log: {error:#}"
            ));
        }
    }
}
