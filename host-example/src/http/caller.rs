//! Who is calling: a user by password (HTTP Basic, or a session cookie
//! from signing in with one) or by token, and from which address.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use super::{ApiError, App, session};
use crate::auth;
use crate::db::{ActorKind, Origin};
use crate::plugin::Request;

/// What a request presents: its headers (credentials among them) and the
/// client's address, as the deployment's trusted proxies let it be known.
pub struct Credentials {
    /// The request's headers.
    pub headers: HeaderMap,
    /// The client's address: the peer's, or what a trusted proxy reports.
    pub client: IpAddr,
    /// Whether a trusted proxy says the client used HTTPS.
    pub https: bool,
}

impl FromRequestParts<Arc<App>> for Credentials {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        let proxies = &app.sign_in.proxies;
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok());
        let client = proxies.client(peer, forwarded);
        let https = proxies.trusts(peer)
            && parts
                .headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
        Ok(Self {
            headers: parts.headers.clone(),
            client,
            https,
        })
    }
}

/// An authenticated caller.
pub struct Caller {
    /// The user the request acts for.
    pub user: String,
    /// The client's address (see [`Credentials::client`]).
    pub client: IpAddr,
    /// How the caller authenticated.
    pub via: Via,
}

impl Caller {
    /// The caller as the audit log's origin of a change made at `at`:
    /// `admin` when they act as an administrator on another user's tokens
    /// or on settings.
    pub fn origin(&self, admin: bool, at: i64) -> Origin {
        let (kind, token_id) = match &self.via {
            _ if admin => (ActorKind::Admin, None),
            Via::Password { .. } => (ActorKind::Password, None),
            Via::Token { token_id, .. } => (ActorKind::Token, Some(token_id.clone())),
        };
        Origin {
            kind,
            user: Some(self.user.clone()),
            token_id,
            address: Some(self.client),
            at,
            cascade_of: None,
            detail: None,
        }
    }
}

/// How a caller authenticated.
pub enum Via {
    /// A password, in this request or when signing in to the session whose
    /// cookie it carries.
    Password {
        /// Whether the user is an administrator.
        admin: bool,
        /// Whether a session cookie (not the password itself) came with
        /// the request.
        session: bool,
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

/// The secret of an `Authorization: Service <secret>` header, if the
/// request has one: the introspection credential gateways present, or a
/// service key that issues tokens for users.
pub fn service_secret(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Service "))
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

/// Authenticates the request's `Authorization` header, or, without one,
/// its session cookie where passwords are accepted.
pub async fn authenticate(
    app: &Arc<App>,
    credentials: &Credentials,
    accept: Accept,
) -> Result<Caller, ApiError> {
    let headers = &credentials.headers;
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return match session::secret(headers) {
            Some(_) if matches!(accept, Accept::Token(_)) => Err(ApiError::unauthenticated(
                "a session where only tokens are accepted",
            )),
            Some(secret) => {
                let user = session::resolve(app, &secret, headers)?;
                Ok(Caller {
                    user: user.name,
                    client: credentials.client,
                    via: Via::Password {
                        admin: user.admin,
                        session: true,
                    },
                })
            }
            None => Err(ApiError::unauthenticated("no Authorization header")),
        };
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
        return password(app, value, credentials).await;
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
    let verified = app
        .verify(value, request, Some(credentials.client), app.clock.now())
        .await?;
    if let Err(error) = &verified
        && NOTED_REFUSALS.contains(&error.code.as_str())
    {
        note_refusal(app, value, &error.code, credentials.client).await;
    }
    let principal = verified.map_err(|error| match action {
        Some(action) if error.code == tessera_core::code::SCOPE_DENIED => ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            tessera_core::code::SCOPE_DENIED,
            format!("the token's scope does not allow {action}"),
        ),
        _ => ApiError::from_auth(error),
    })?;
    Ok(Caller {
        user: principal.user_id,
        client: credentials.client,
        via: Via::Token {
            token_id: principal.token_id,
            scope: principal.scope,
            expires_at: principal.expires_at,
            header: value.into(),
        },
    })
}

/// The refusals of a real token that the audit log notes: its user's
/// tokens were disabled, or it was presented from outside its allowed IP
/// ranges (with the address it came from).
pub const NOTED_REFUSALS: &[&str] = &[
    tessera_core::code::TOKENS_DISABLED,
    tessera_core::code::IP_DENIED,
];

/// Notes in the audit log that the token in `value` was refused with
/// `code`, with its owner as its record says.
async fn note_refusal(app: &Arc<App>, value: &str, code: &str, client: IpAddr) {
    let Ok(presented) = tessera_core::Presented::parse_any(value) else {
        return;
    };
    let id = presented.id();
    let code = code.to_owned();
    let _ = app
        .blocking(move |app| {
            if let Ok(Some(token)) = app.db.token_by_id(&id) {
                app.note_refusal(&id, &token.user_id, &code, Some(client));
            }
        })
        .await;
}

async fn password(app: &App, value: &str, credentials: &Credentials) -> Result<Caller, ApiError> {
    let Some((name, password)) = auth::parse_basic(value) else {
        return Err(ApiError::unauthenticated("malformed Basic credentials"));
    };
    let user = app
        .sign_in
        .check(app, &name, password, credentials.client)
        .await?;
    Ok(Caller {
        user: user.name,
        client: credentials.client,
        via: Via::Password {
            admin: user.admin,
            session: false,
        },
    })
}
