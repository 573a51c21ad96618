//! Browser sessions for the token page: the password is exchanged once for
//! a random secret in an `HttpOnly`, `SameSite=Strict` cookie; the database
//! keeps only the secret's SHA-256. A session ends after 30 minutes without
//! a request, 12 hours after sign-in, at sign-out, and when the user's
//! password changes. Every request a cookie authenticates must also carry
//! the session's CSRF token in `X-CSRF-Token`, which no cross-site form can
//! send.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::body::JsonBody;
use super::caller::{Accept, Credentials, Via, authenticate};
use super::{ApiError, App};
use crate::auth;
use crate::clock::entropy;
use crate::db::{Session, User};

/// The session cookie's name.
pub const COOKIE: &str = "tessera_session";

/// The header that carries the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How often a session's last-seen time is written at most: a session is
/// idle for its limit give or take this much.
const TOUCH_EVERY_MS: i64 = 60_000;

/// Session lifetimes `tessera-host serve` takes.
#[derive(clap::Args, Clone, Debug)]
pub struct SessionOptions {
    /// A session ends after this many minutes without a request.
    #[arg(long, default_value_t = 30)]
    pub session_idle_minutes: u32,
    /// A session ends this many hours after sign-in, however active.
    #[arg(long, default_value_t = 12)]
    pub session_hours: u32,
    /// Marks the cookie `Secure` (HTTPS only). Set it when a TLS proxy
    /// fronts the server; a trusted proxy's `X-Forwarded-Proto: https` sets
    /// it per request too.
    #[arg(long)]
    pub secure_cookies: bool,
}

impl SessionOptions {
    fn idle_ms(&self) -> i64 {
        i64::from(self.session_idle_minutes) * 60_000
    }

    fn lifetime_ms(&self) -> i64 {
        i64::from(self.session_hours) * 3_600_000
    }
}

/// The stored id of a secret: its SHA-256, hex.
fn id_of(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The CSRF token of a session: derived from its secret, so nothing more
/// is stored, and useless without the cookie it belongs to.
fn csrf_of(secret: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"tessera csrf\0");
    hasher.update(secret.as_bytes());
    URL_SAFE_NO_PAD.encode(hasher.finalize())
}

/// The session secret in the request's cookies, if any.
pub fn secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_string())
}

/// The user a session cookie signs in, when the session is live and the
/// request carries its CSRF token; `Err` with the reason otherwise (which
/// the caller turns into the one 401).
pub fn resolve(app: &App, secret: &str, headers: &HeaderMap) -> Result<User, ApiError> {
    let presented = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !auth::same(presented.as_bytes(), csrf_of(secret).as_bytes()) {
        return Err(ApiError::unauthenticated(
            "a session cookie without its CSRF token",
        ));
    }
    live(app, secret)
}

/// The user of a live session (no CSRF check: for `GET /api/session`,
/// which only tells the page who it is and its CSRF token).
fn live(app: &App, secret: &str) -> Result<User, ApiError> {
    let id = id_of(secret);
    let Some(session) = app.db.session(&id)? else {
        return Err(ApiError::unauthenticated("an unknown or ended session"));
    };
    let now = app.clock.now();
    let options = &app.sessions;
    if now - session.last_seen_at >= options.idle_ms() {
        app.db.delete_session(&id)?;
        return Err(ApiError::unauthenticated("a session idle for too long"));
    }
    if now - session.created_at >= options.lifetime_ms() {
        app.db.delete_session(&id)?;
        return Err(ApiError::unauthenticated("a session past its lifetime"));
    }
    if now - session.last_seen_at >= TOUCH_EVERY_MS {
        app.db.touch_session(&id, now)?;
    }
    app.db
        .user(&session.user)?
        .ok_or_else(|| ApiError::unauthenticated("a session of a removed user"))
}

/// Starts a session for `user`: stores it and returns the cookie's
/// secret.
fn start(app: &App, user: &str) -> Result<String, ApiError> {
    let secret = URL_SAFE_NO_PAD.encode(entropy()?);
    let now = app.clock.now();
    let session = Session {
        id: id_of(&secret),
        user: user.to_string(),
        created_at: now,
        last_seen_at: now,
    };
    let options = &app.sessions;
    app.db.create_session(
        &session,
        now - options.idle_ms(),
        now - options.lifetime_ms(),
    )?;
    Ok(secret)
}

/// The `Set-Cookie` value that stores `secret` (or, for `None`, removes
/// the cookie).
fn cookie(app: &App, credentials: &Credentials, secret: Option<&str>) -> HeaderValue {
    let secure = if app.sessions.secure_cookies || credentials.https {
        "; Secure"
    } else {
        ""
    };
    let text = match secret {
        Some(secret) => format!(
            "{COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            app.sessions.lifetime_ms() / 1000
        ),
        None => format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    };
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The body of a signed-in answer: who, and the CSRF token to send back.
fn signed_in(user: &User, secret: &str) -> serde_json::Value {
    json!({ "user": user.name, "admin": user.admin, "csrfToken": csrf_of(secret) })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignInBody {
    user: String,
    password: String,
}

/// `POST /api/session` with `{ "user", "password" }`: signs in (throttled
/// like every password) and sets the session cookie.
pub async fn sign_in(
    State(app): State<Arc<App>>,
    credentials: Credentials,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let body: SignInBody = body.parse()?;
    let user = app
        .sign_in
        .check(&app, &body.user, body.password, credentials.client)
        .await?;
    let secret = start(&app, &user.name)?;
    let mut response = axum::Json(signed_in(&user, &secret)).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        cookie(&app, &credentials, Some(&secret)),
    );
    Ok(response)
}

/// `GET /api/session`: who the cookie signs in, with the CSRF token (the
/// page asks after a reload). A cross-site page cannot read the answer.
pub async fn current(
    State(app): State<Arc<App>>,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    let Some(secret) = secret(&credentials.headers) else {
        return Err(ApiError::unauthenticated("no session cookie"));
    };
    let user = live(&app, &secret)?;
    Ok(axum::Json(signed_in(&user, &secret)).into_response())
}

/// `DELETE /api/session`: signs out, here and in the database.
pub async fn sign_out(
    State(app): State<Arc<App>>,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    authenticate(&app, &credentials, Accept::Password).await?;
    if let Some(secret) = secret(&credentials.headers) {
        app.db.delete_session(&id_of(&secret))?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie(&app, &credentials, None));
    Ok(response)
}

/// After a password change through a session: the old sessions ended with
/// the change, so the caller gets a new one (other browsers stay signed
/// out).
pub fn renew(
    app: &App,
    credentials: &Credentials,
    via: &Via,
    user: &str,
    response: &mut Response,
) -> Result<(), ApiError> {
    if let Via::Password { session: true, .. } = via {
        let secret = start(app, user)?;
        response
            .headers_mut()
            .insert(header::SET_COOKIE, cookie(app, credentials, Some(&secret)));
        let csrf =
            HeaderValue::from_str(&csrf_of(&secret)).map_err(|e| ApiError::internal(&e.into()))?;
        response.headers_mut().insert(CSRF_HEADER, csrf);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_parse_and_tokens_derive() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; tessera_session=abc ; b=2"),
        );
        assert_eq!(secret(&headers).as_deref(), Some("abc"));
        assert_eq!(secret(&HeaderMap::new()), None);
        assert_ne!(csrf_of("abc"), csrf_of("abd"));
        assert_ne!(id_of("abc"), csrf_of("abc"));
        assert_eq!(id_of("abc").len(), 64);
    }
}
