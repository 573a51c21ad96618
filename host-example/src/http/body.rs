//! Request bodies: read whole within the size limit (or a clear 413), then
//! parsed by [`crate::requests`], whose refusals carry stable codes.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::{ApiError, App};
use crate::requests::{self, BodyError};

/// A request body, read whole (up to the limit, within the body timeout).
pub struct JsonBody(pub Bytes);

impl FromRequest<Arc<App>> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, app: &Arc<App>) -> Result<Self, ApiError> {
        // A body that trickles in a byte at a time would otherwise hold the
        // connection for as long as each byte beats the idle timeout.
        let read = Bytes::from_request(request, app);
        let Ok(read) = tokio::time::timeout(app.body_timeout, read).await else {
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                tessera_core::code::BAD_REQUEST,
                format!(
                    "the body did not arrive within {} s",
                    app.body_timeout.as_secs()
                ),
            ));
        };
        read.map(Self).map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    tessera_core::code::PAYLOAD_TOO_LARGE,
                    format!("the body is over {} bytes", super::BODY_LIMIT),
                )
            } else {
                ApiError::bad_request("the body could not be read")
            }
        })
    }
}

impl JsonBody {
    /// The body as `T` (a JSON object), or 400 naming what is wrong.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        Ok(requests::parse(&self.0)?)
    }
}

impl From<BodyError> for ApiError {
    fn from(error: BodyError) -> Self {
        let status = if error.code == tessera_core::code::BAD_REQUEST {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        ApiError::new(status, error.code, error.message)
    }
}
