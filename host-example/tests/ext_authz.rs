//! The ext_authz gate reads a request's `Authorization` as the Envoy
//! filter does: a value with bytes that are not UTF-8 (obs-text, which
//! HTTP/1.1 allows) is a token presented malformed (401 with
//! `error="invalid_token"`), not a missing header, and the gate keeps
//! serving.

mod common;

use common::{bearer, request_bytes, serve_gateways, temp_dir};

/// The `WWW-Authenticate` of a 401, after checking the status and code.
fn unauthenticated(response: &common::Response) -> String {
    assert_eq!(response.status, 401, "{}", response.body);
    assert_eq!(response.code(), "UNAUTHENTICATED", "{}", response.body);
    response
        .header("www-authenticate")
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn an_authorization_that_is_not_text_is_a_malformed_token() {
    let dir = temp_dir("ext-authz-bytes");
    let db = common::sqlite(&dir);
    let server = serve_gateways(&db, &dir, &[]);

    let mut head =
        b"GET /ext_authz/api/apps HTTP/1.1\r\nHost: gate\r\nAuthorization: Bearer tsr_".to_vec();
    head.extend_from_slice(&[0xff, 0xfe]);
    let www = unauthenticated(&request_bytes(server.addr, &head));
    assert!(www.contains("error=\"invalid_token\""), "{www}");

    // Without the header: 401 without an error attribute (RFC 6750).
    let www = unauthenticated(&server.send("GET", "/ext_authz/api/apps", None, None));
    assert!(!www.contains("error="), "{www}");
    // A token with a wrong checksum is refused the same way as the bytes.
    let unchecked = format!("tsr_{}", "A".repeat(49));
    let www = unauthenticated(&server.send(
        "GET",
        "/ext_authz/api/apps",
        Some(&bearer(&unchecked)),
        None,
    ));
    assert!(www.contains("error=\"invalid_token\""), "{www}");
    // And the gate still serves.
    assert_eq!(server.send("GET", "/healthz", None, None).status, 200);
}
