//! Rules every request and response of the API share, applied once around
//! the router: a state-changing request must declare a JSON body, and no API
//! response may be stored by a cache (some carry a token shown once).

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;

/// Whether a `Content-Type` value is JSON (`application/json`, with or
/// without parameters such as `charset`).
fn is_json(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// Refuses a `POST`, `PUT` or `PATCH` under `/api/` whose body is not
/// declared `application/json` (415 `UNSUPPORTED_MEDIA_TYPE`), even an empty
/// one: a cross-site HTML form can only send form encodings and
/// `text/plain`, so none of its submissions gets this far. Marks every
/// `/api/` response `Cache-Control: no-store` unless its route chose
/// otherwise.
pub async fn api_rules(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    if !api {
        return next.run(request).await;
    }
    let writes = matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH
    );
    let json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_json);
    let mut response = if writes && !json {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            tessera_core::code::UNSUPPORTED_MEDIA_TYPE,
            "the request body must be application/json (send Content-Type: application/json)",
        )
        .into_response()
    } else {
        next.run(request).await
    };
    // A route that allows caching says so itself (introspection answers,
    // which carry no secret, for gateways).
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
        assert!(!is_json("application/jsonp"));
        assert!(!is_json(""));
    }
}
