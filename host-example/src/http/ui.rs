//! The token page: a small browser UI for managing one's own tokens,
//! served from assets embedded in the binary (no build step, no external
//! fonts, scripts or CDNs).
//!
//! The page talks to the same JSON API as every other client, with HTTP
//! Basic credentials it keeps in JavaScript memory only. Every response
//! carries a strict Content-Security-Policy: scripts, styles, images and
//! requests come from this origin alone, inline scripts and styles are
//! refused, and no other site may frame the page.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The page's HTML.
const INDEX_HTML: &str = include_str!("../../ui/index.html");
/// The page's script (plain JavaScript, type-checked with `tsc --checkJs`).
const APP_JS: &str = include_str!("../../ui/app.js");
/// The page's stylesheet.
const APP_CSS: &str = include_str!("../../ui/app.css");
/// The page's icon.
const ICON_SVG: &str = include_str!("../../ui/icon.svg");

/// Everything the page may load comes from its own origin; nothing inline.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; font-src 'none'; object-src 'none'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /`: the token page.
pub async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

/// `GET /ui/app.js`.
pub async fn script() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

/// `GET /ui/app.css`.
pub async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", APP_CSS)
}

/// `GET /ui/icon.svg`.
pub async fn icon() -> Response {
    asset("image/svg+xml", ICON_SVG)
}

/// An embedded asset with its content type and the security headers. The
/// assets change only with the binary, so browsers revalidate each time
/// (`no-cache`) rather than keep a stale page after an upgrade.
pub(super) fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    let fixed = [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    response
}
