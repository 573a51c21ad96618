//! HTTP errors: a status and a JSON body `{ "code", "message" }` with the
//! stable codes every surface shares.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use tessera_core::code::{self, Class};

use crate::log;
use crate::plugin::TokenError;

/// The `WWW-Authenticate` challenge on every 401: `Bearer` only. A `Basic`
/// challenge would make browsers show their own password prompt and then
/// cache the password and send it with cross-site requests.
const CHALLENGE: &str = r#"Bearer realm="tessera""#;

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// The same error with `Retry-After: seconds`.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// The stable code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The one 401, for a caller that logged the reason itself.
    pub fn unauthenticated_quietly() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            code::UNAUTHENTICATED,
            "a valid token or password is required",
        )
    }

    /// The one 401: the same body whatever the reason, which goes to the
    /// log instead (never the token itself).
    pub fn unauthenticated(reason: &str) -> Self {
        log::info(format_args!("401 UNAUTHENTICATED: {reason}"));
        Self::unauthenticated_quietly()
    }

    /// 400 for a body or parameter that cannot be read.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code::BAD_REQUEST, message)
    }

    /// 403 for an authenticated caller who may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code::FORBIDDEN, message)
    }

    /// 500 for a failure inside the host (details go to the log).
    pub fn internal(error: &anyhow::Error) -> Self {
        log::warn(format_args!("internal error: {error:#}"));
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            code::INTERNAL,
            "the server failed; see its log",
        )
    }

    /// Maps an error from authenticating a caller by token: every token
    /// problem is the same 401, a scope problem is 403.
    pub fn from_auth(error: TokenError) -> Self {
        if code::is_unauthenticated(&error.code) {
            Self::unauthenticated(&error.code)
        } else {
            Self::from_operation(error)
        }
    }

    /// Maps an error from an operation by an authenticated caller through
    /// its class (`tessera_core::code::class`): 404 for another user's (or
    /// no) token, 403 for what the caller may not do, 409 for a token whose
    /// state forbids it (rotated, inactive, expired), 503 when storage
    /// failed, 400/413/422 for input the caller can fix.
    pub fn from_operation(error: TokenError) -> Self {
        let status = match (code::class(&error.code), error.code.as_str()) {
            (_, code::BAD_REQUEST) => StatusCode::BAD_REQUEST,
            (_, code::PAYLOAD_TOO_LARGE) => StatusCode::PAYLOAD_TOO_LARGE,
            (Some(Class::NotFound), _) => StatusCode::NOT_FOUND,
            (Some(Class::Forbidden), _) => StatusCode::FORBIDDEN,
            (Some(Class::Conflict | Class::Unauthenticated), _) => StatusCode::CONFLICT,
            (Some(Class::Invalid | Class::Limited), _) => StatusCode::UNPROCESSABLE_ENTITY,
            (Some(Class::Unavailable), _) => StatusCode::SERVICE_UNAVAILABLE,
            _ => {
                log::warn(format_args!("{}: {}", error.code, error.message));
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        Self::new(status, &error.code, error.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "code": self.code, "message": self.message });
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(CHALLENGE),
            );
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        Self::internal(&error)
    }
}
