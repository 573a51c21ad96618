//! HTTP errors: a status and a JSON body `{ "code", "message" }` with the
//! stable codes every surface shares.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::log;
use crate::plugin::TokenError;

/// The `WWW-Authenticate` challenge on every 401.
const CHALLENGE: &str = r#"Bearer realm="tessera", Basic realm="tessera""#;

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    /// The one 401: the same body whatever the reason, which goes to the
    /// log instead (never the token itself).
    pub fn unauthenticated(reason: &str) -> Self {
        log::info(format_args!("401 UNAUTHENTICATED: {reason}"));
        Self::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "a valid token or password is required",
        )
    }

    /// 400 for a body or parameter that cannot be read.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }

    /// 403 for an authenticated caller who may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "FORBIDDEN", message)
    }

    /// 500 for a failure inside the host (details go to the log).
    pub fn internal(error: &anyhow::Error) -> Self {
        log::warn(format_args!("internal error: {error:#}"));
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "the server failed; see its log",
        )
    }

    /// Maps an error from authenticating a caller by token: every token
    /// problem is the same 401, a scope problem is 403.
    pub fn from_auth(error: TokenError) -> Self {
        match error.code.as_str() {
            "SCOPE_DENIED" => Self::new(StatusCode::FORBIDDEN, "SCOPE_DENIED", error.message),
            "STORE_FAILED" | "RECORD_INVALID" | "INTERNAL" | "BAD_REQUEST" => {
                Self::from_operation(error)
            }
            reason => Self::unauthenticated(reason),
        }
    }

    /// Maps an error from an operation by an authenticated caller: 404 for
    /// another user's (or no) token, 503 when storage failed, 422 with the
    /// core's code for everything the caller can fix.
    pub fn from_operation(error: TokenError) -> Self {
        let status = match error.code.as_str() {
            "NOT_FOUND" => StatusCode::NOT_FOUND,
            "STORE_FAILED" => StatusCode::SERVICE_UNAVAILABLE,
            "RECORD_INVALID" | "INTERNAL" => {
                log::warn(format_args!("{}: {}", error.code, error.message));
                StatusCode::INTERNAL_SERVER_ERROR
            }
            "BAD_REQUEST" => StatusCode::BAD_REQUEST,
            "SCOPE_DENIED" | "PARENT_INVALID" => StatusCode::FORBIDDEN,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
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
        response
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        Self::internal(&error)
    }
}
