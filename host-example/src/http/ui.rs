//! The token page: a small browser UI for managing one's own tokens,
//! served from assets embedded in the binary (no build step, no external
//! fonts, scripts or CDNs).
//!
//! The page talks to the same JSON API as every other client, with HTTP
//! Basic credentials it keeps in JavaScript memory only. Every response
//! carries a strict Content-Security-Policy: scripts, styles, images and
//! requests come from this origin alone, inline scripts and styles are
//! refused, and no other site may frame the page.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::ApiError;

/// The page's HTML.
const INDEX_HTML: &str = include_str!("../../ui/index.html");

/// Every asset the pages load from `/ui/`, by file name: the token page's
/// ES modules (one per view, sharing `api.js` and `dom.js`), the
/// documentation page's script, the stylesheet and the icon. The scripts
/// are plain JavaScript, type-checked with `tsc --checkJs`.
const ASSETS: &[(&str, &str, &str)] = &[
    ("app.js", JAVASCRIPT, include_str!("../../ui/app.js")),
    ("api.js", JAVASCRIPT, include_str!("../../ui/api.js")),
    ("dom.js", JAVASCRIPT, include_str!("../../ui/dom.js")),
    ("page.js", JAVASCRIPT, include_str!("../../ui/page.js")),
    ("list.js", JAVASCRIPT, include_str!("../../ui/list.js")),
    ("create.js", JAVASCRIPT, include_str!("../../ui/create.js")),
    ("shown.js", JAVASCRIPT, include_str!("../../ui/shown.js")),
    ("admin.js", JAVASCRIPT, include_str!("../../ui/admin.js")),
    (
        "console.js",
        JAVASCRIPT,
        include_str!("../../ui/console.js"),
    ),
    ("audit.js", JAVASCRIPT, include_str!("../../ui/audit.js")),
    ("detail.js", JAVASCRIPT, include_str!("../../ui/detail.js")),
    (
        "account.js",
        JAVASCRIPT,
        include_str!("../../ui/account.js"),
    ),
    (
        "webhooks.js",
        JAVASCRIPT,
        include_str!("../../ui/webhooks.js"),
    ),
    ("docs.js", JAVASCRIPT, include_str!("../../ui/docs.js")),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../ui/app.css"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_str!("../../ui/icon.svg"),
    ),
];

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// Everything the page may load comes from its own origin; nothing inline.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; font-src 'none'; object-src 'none'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /`: the token page.
pub async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

/// `GET /ui/{asset}`: one of [`ASSETS`], or 404.
pub async fn asset_named(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(file, _, _)| *file == name) {
        Some((_, content_type, body)) => asset(content_type, body),
        None => ApiError::new(
            StatusCode::NOT_FOUND,
            tessera_core::code::NOT_FOUND,
            "no such asset",
        )
        .into_response(),
    }
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
