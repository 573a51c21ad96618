//! The OpenAPI document against the running binary: every operation it
//! lists is served (the router answers it, not its "no such route"), no
//! method it omits is served on any of its paths, unknown paths are not
//! served, and the documentation page and its script come from the binary
//! under the page's Content-Security-Policy.

mod common;

use common::{Response, Server, temp_dir};
use serde_json::Value;

const METHODS: &[&str] = &["get", "post", "put", "patch", "delete"];

/// The router's own refusals (no route, or no such method on it) have no
/// body; every handler's answer has one (an error is `{code, message}`).
fn unrouted(response: &Response) -> bool {
    matches!(response.status, 404 | 405) && response.body.is_empty()
}

/// A concrete path for a template: each `{parameter}` filled in.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|segment| match segment {
            "{path}" => "api/apps",
            s if s.starts_with('{') => "0123456789abcdef0123456789abcdef",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn send(server: &Server, method: &str, path: &str) -> Response {
    let method = method.to_uppercase();
    let body = matches!(method.as_str(), "POST" | "PUT" | "PATCH").then_some("{}");
    let headers: &[(&str, &str)] = match body {
        Some(_) => &[("Content-Type", "application/json")],
        None => &[],
    };
    server.send_with(&method, path, headers, body)
}

#[test]
fn the_document_lists_exactly_what_the_server_serves() {
    let dir = temp_dir("openapi");
    let server = Server::start(&dir, &[]);
    let answer = server.send("GET", "/api/openapi.json", None, None);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let doc: Value = answer.json();
    assert_eq!(doc["openapi"], "3.1.0");
    // The library's own model of the document is what it serves.
    assert_eq!(doc, tessera_host::http::openapi_document());

    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 30, "{} paths", paths.len());
    let mut served = 0;
    for (template, item) in paths {
        let path = concrete(template);
        for method in METHODS {
            let response = send(&server, method, &path);
            if item.get(*method).is_some() {
                assert!(
                    !unrouted(&response),
                    "{method} {template} is documented but not served: {response:?}"
                );
                served += 1;
            } else {
                assert!(
                    unrouted(&response) && response.status == 405,
                    "{method} {template} is served but not documented: {}",
                    response.status
                );
            }
        }
    }
    assert!(served >= 40, "{served} operations");
    for path in [
        "/api/nothing",
        "/api/usertokens/a/b/c",
        "/ui/a/b.js",
        "/docs",
    ] {
        for method in METHODS {
            let response = send(&server, method, path);
            assert!(
                unrouted(&response),
                "{method} {path} is served: {response:?}"
            );
        }
    }
    // An asset the binary does not hold is the handler's 404.
    let missing = server.send("GET", "/ui/missing.js", None, None);
    assert_eq!(
        (missing.status, missing.code()),
        (404, "NOT_FOUND".to_string())
    );
    // The operations the issue names are there, as the routes take them.
    let create = &doc["paths"]["/api/usertokens"]["post"];
    assert_eq!(create["operationId"], "createToken");
    assert_eq!(create["x-tessera-action"], "tokens.create");
    let body = &doc["components"]["schemas"]["CreateToken"]["properties"];
    for member in ["name", "description", "expires", "scope", "userId"] {
        assert!(body.get(member).is_some(), "{member}");
    }
    // The record's members are the core's.
    let token = &doc["components"]["schemas"]["Token"]["properties"];
    for field in tessera_core::RECORD_FIELDS {
        assert_eq!(
            token.get(field.name).is_some(),
            field.name != "hash",
            "{}",
            field.name
        );
    }
}

#[test]
fn the_policy_is_for_signed_in_users_and_tokens_only() {
    let dir = temp_dir("openapi-policy");
    common::add_user(&dir, "ann", "ann-password", false);
    let server = Server::start(&dir, &[]);
    let anonymous = server.send("GET", "/api/policy", None, None);
    assert_eq!(
        (anonymous.status, anonymous.code()),
        (401, "UNAUTHENTICATED".to_string())
    );
    let wrong = server.send(
        "GET",
        "/api/policy",
        Some(&common::basic("ann", "nope-nope")),
        None,
    );
    assert_eq!(wrong.status, 401);
    let policy = server.send(
        "GET",
        "/api/policy",
        Some(&common::basic("ann", "ann-password")),
        None,
    );
    assert_eq!(policy.status, 200, "{}", policy.body);
    let policy = policy.json();
    for member in ["allowNonExpiring", "maxLifetimeDays", "maxTokensPerUser"] {
        assert!(policy.get(member).is_some(), "{member}: {policy}");
    }
}

#[test]
fn the_documentation_page_comes_from_the_binary_under_the_pages_policy() {
    let dir = temp_dir("openapi-page");
    let server = Server::start(&dir, &[]);
    for (path, media) in [
        ("/api/docs", "text/html; charset=utf-8"),
        ("/ui/docs.js", "text/javascript; charset=utf-8"),
        ("/ui/api.js", "text/javascript; charset=utf-8"),
        ("/ui/detail.js", "text/javascript; charset=utf-8"),
    ] {
        let page = server.send("GET", path, None, None);
        assert_eq!(page.status, 200, "{path}");
        assert_eq!(page.header("content-type"), Some(media));
        let csp = page.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(
            !page.body.contains("http://") && !page.body.contains("https://"),
            "{path} names another origin"
        );
    }
}
