//! Request bodies: JSON within the size limit, or a clear 400/413.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::ApiError;

/// A JSON body, read whole (up to the limit) and parsed.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        tessera_core::code::PAYLOAD_TOO_LARGE,
                        format!("the body is over {} bytes", super::BODY_LIMIT),
                    )
                } else {
                    ApiError::bad_request("the body could not be read")
                }
            })?;
        if bytes.is_empty() {
            return Ok(Self(Value::Object(Default::default())));
        }
        serde_json::from_slice(&bytes)
            .map(Self)
            .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))
    }
}

impl JsonBody {
    /// The body as `T`, or 400 naming what is wrong. Every body is a JSON
    /// object: serde would also read a struct from an array by position
    /// (so `[]` would pass as a body of defaults), which no client means.
    pub fn parse<T: DeserializeOwned>(self) -> Result<T, ApiError> {
        if !self.0.is_object() {
            return Err(ApiError::bad_request("the body must be a JSON object"));
        }
        serde_json::from_value(self.0).map_err(|e| ApiError::bad_request(format!("{e}")))
    }
}
