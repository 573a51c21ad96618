//! Who is calling: a user by password (HTTP Basic) or by token.

use axum::http::{HeaderMap, header};

use super::{ApiError, App};
use crate::auth;
use crate::plugin::Request;

/// An authenticated caller.
pub struct Caller {
    /// The user the request acts for.
    pub user: String,
    /// How the caller authenticated.
    pub via: Via,
}

/// How a caller authenticated.
pub enum Via {
    /// A password; `admin` tells whether the user administers the service.
    Password {
        /// Whether the user is an administrator.
        admin: bool,
    },
    /// A token; `header` is the `Authorization` value, kept to present the
    /// token as a parent when it creates a token.
    Token {
        /// The token's public id.
        token_id: String,
        /// The token's scope as JSON.
        scope: String,
        /// When the token expires (ms since the epoch).
        expires_at: Option<i64>,
        /// The raw `Authorization` value.
        header: String,
    },
}

/// Which credentials a route accepts.
#[derive(Clone, Copy)]
pub enum Accept {
    /// A password, or a token whose scope allows the action (any valid
    /// token when `None`).
    PasswordOrToken(Option<&'static str>),
    /// Only a token whose scope allows the action (any valid token when
    /// `None`).
    Token(Option<&'static str>),
    /// Only a password.
    Password,
}

/// Authenticates the request's `Authorization` header.
pub async fn authenticate(
    app: &App,
    headers: &HeaderMap,
    accept: Accept,
) -> Result<Caller, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::unauthenticated("no Authorization header"));
    };
    let Ok(value) = value.to_str() else {
        return Err(ApiError::unauthenticated(
            "an Authorization header that is not text",
        ));
    };
    if auth::is_basic(value) {
        if matches!(accept, Accept::Token(_)) {
            return Err(ApiError::unauthenticated(
                "a password where only tokens are accepted",
            ));
        }
        return password(app, value).await;
    }
    let action = match accept {
        Accept::PasswordOrToken(action) | Accept::Token(action) => action,
        Accept::Password => {
            return Err(ApiError::unauthenticated(
                "a token where only passwords are accepted",
            ));
        }
    };
    let request = action.map(|action| Request {
        action: action.into(),
        resource: None,
    });
    let principal = app
        .plugin
        .verify(value, request.as_ref(), app.clock.now())?
        .map_err(|error| match action {
            Some(action) if error.code == tessera_core::code::SCOPE_DENIED => ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                tessera_core::code::SCOPE_DENIED,
                format!("the token's scope does not allow {action}"),
            ),
            _ => ApiError::from_auth(error),
        })?;
    Ok(Caller {
        user: principal.user_id,
        via: Via::Token {
            token_id: principal.token_id,
            scope: principal.scope,
            expires_at: principal.expires_at,
            header: value.into(),
        },
    })
}

async fn password(app: &App, value: &str) -> Result<Caller, ApiError> {
    let Some((name, password)) = auth::parse_basic(value) else {
        return Err(ApiError::unauthenticated("malformed Basic credentials"));
    };
    let user = app.db.user(&name)?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    // argon2 takes tens of milliseconds: keep it off the async workers.
    let matches =
        tokio::task::spawn_blocking(move || auth::verify_password(&password, hash.as_deref()))
            .await
            .map_err(|e| ApiError::internal(&e.into()))?;
    match user {
        Some(user) if matches => Ok(Caller {
            user: user.name,
            via: Via::Password { admin: user.admin },
        }),
        _ => Err(ApiError::unauthenticated("wrong user name or password")),
    }
}
