//! The API documentation: the OpenAPI document at `GET /api/openapi.json`
//! and a page at `GET /api/docs` that renders it and lets a user try each
//! operation with a token they paste. Both are served from the binary; the
//! page loads nothing from any other origin.

use std::sync::OnceLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::openapi;
use super::ui::asset;

/// The documentation page's HTML.
const DOCS_HTML: &str = include_str!("../../ui/docs.html");

/// The document as JSON text, made once: it depends on nothing but the
/// code.
fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| openapi::document().to_string())
}

/// `GET /api/openapi.json`.
pub async fn openapi() -> Response {
    let mut response = document().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `GET /api/docs`.
pub async fn page() -> Response {
    asset("text/html; charset=utf-8", DOCS_HTML)
}
