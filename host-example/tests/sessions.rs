//! Browser sessions through the real binary: sign-in sets an `HttpOnly`,
//! `SameSite=Strict` cookie, cookie requests need the CSRF token, and a
//! session ends at sign-out, when idle, when too old and when the password
//! changes.

mod common;

use common::*;
use serde_json::Value;

/// A signed-in browser: its cookie and CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
}

impl Browser {
    fn headers(&self) -> Vec<(&str, String)> {
        vec![
            ("Cookie", format!("tessera_session={}", self.cookie)),
            ("X-CSRF-Token", self.csrf.clone()),
        ]
    }

    fn send(&self, server: &Server, method: &str, path: &str, body: Option<&str>) -> Response {
        let owned = self.headers();
        let headers: Vec<(&str, &str)> = owned.iter().map(|(n, v)| (*n, v.as_str())).collect();
        server.send_with(method, path, &headers, body)
    }
}

/// The cookie's value in a `Set-Cookie` header.
fn cookie_of(response: &Response) -> String {
    let set = response.header("set-cookie").expect("Set-Cookie");
    let first = set.split(';').next().unwrap();
    first.strip_prefix("tessera_session=").unwrap().to_string()
}

fn sign_in(server: &Server, user: &str, password: &str) -> Browser {
    let body = serde_json::json!({ "user": user, "password": password }).to_string();
    let response = server.send("POST", "/api/session", None, Some(&body));
    assert_eq!(response.status, 200, "{}", response.body);
    let json: Value = response.json();
    Browser {
        cookie: cookie_of(&response),
        csrf: json["csrfToken"].as_str().unwrap().to_string(),
    }
}

fn setup(name: &str, serve_args: &[&str]) -> (std::path::PathBuf, Server) {
    let dir = temp_dir(name);
    add_user(&dir, "ann", "ann-password", true);
    add_user(&dir, "bob", "bob-password", false);
    let server = Server::start_with(&dir, serve_args);
    (dir, server)
}

#[test]
fn signing_in_sets_a_strict_http_only_cookie() {
    let (_dir, server) = setup("session-cookie", &[]);
    let wrong = server.send(
        "POST",
        "/api/session",
        None,
        Some(r#"{"user":"ann","password":"nope"}"#),
    );
    assert_eq!(wrong.status, 401);
    assert!(wrong.header("set-cookie").is_none());
    let body = r#"{"user":"ann","password":"ann-password"}"#;
    let response = server.send("POST", "/api/session", None, Some(body));
    assert_eq!(response.status, 200);
    let set = response.header("set-cookie").unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(set.contains(attribute), "{set}");
    }
    assert!(
        !set.contains("Secure"),
        "plain HTTP, not told otherwise: {set}"
    );
    assert_eq!(response.json()["user"], "ann");
    assert_eq!(response.json()["admin"], true);
    // The secret is 32 random bytes; the database keeps only its hash.
    let secret = cookie_of(&response);
    assert_eq!(secret.len(), 43);
    let db = std::fs::read(sqlite(&_dir)).unwrap();
    let wal = std::fs::read(format!("{}-wal", sqlite(&_dir))).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()));
    }
    // Told so, or told by a trusted proxy, the cookie is Secure.
    drop(server);
    let secure = Server::start_with(&_dir, &["--secure-cookies"]);
    let response = secure.send("POST", "/api/session", None, Some(body));
    assert!(response.header("set-cookie").unwrap().contains("; Secure"));
    drop(secure);
    let proxied = Server::start_with(&_dir, &["--trusted-proxy", "127.0.0.1"]);
    let response = proxied.send_with(
        "POST",
        "/api/session",
        &[("X-Forwarded-Proto", "https")],
        Some(body),
    );
    assert!(response.header("set-cookie").unwrap().contains("; Secure"));
}

#[test]
fn a_cookie_works_only_with_its_csrf_token() {
    let (_dir, server) = setup("session-csrf", &[]);
    let ann = sign_in(&server, "ann", "ann-password");
    let create = r#"{"name":"from-page","scope":{"preset":"read"}}"#;
    let created = ann.send(&server, "POST", "/api/usertokens", Some(create));
    assert_eq!(created.status, 201, "{}", created.body);
    // The cookie alone (what a cross-site request would carry) is refused,
    // as is a wrong token or another session's token.
    let cookie = format!("tessera_session={}", ann.cookie);
    let bobs = sign_in(&server, "bob", "bob-password").csrf;
    for csrf in [None, Some("wrong"), Some(bobs.as_str())] {
        let mut headers = vec![("Cookie", cookie.clone())];
        if let Some(csrf) = csrf {
            headers.push(("X-CSRF-Token", csrf.to_string()));
        }
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let refused = server.send_with("POST", "/api/usertokens", &headers, Some(create));
        assert_eq!(refused.status, 401, "{headers:?}");
        let read = server.send_with("GET", "/api/usertokens", &headers, None);
        assert_eq!(read.status, 401);
    }
    let list = ann.send(&server, "GET", "/api/usertokens", None);
    assert_eq!(list.json().as_array().unwrap().len(), 1);
    // The page learns its CSRF token after a reload from the cookie.
    let current = server.send_with("GET", "/api/session", &[("Cookie", &cookie)], None);
    assert_eq!(current.status, 200);
    assert_eq!(current.json()["csrfToken"], ann.csrf.as_str());
    // Sessions sign in users, not tokens: token-only routes refuse them.
    assert_eq!(ann.send(&server, "GET", "/api/whoami", None).status, 401);
    // Administrators' routes see the session's user.
    assert_eq!(ann.send(&server, "GET", "/api/settings", None).status, 200);
    let bob = sign_in(&server, "bob", "bob-password");
    assert_eq!(bob.send(&server, "GET", "/api/settings", None).status, 403);
}

#[test]
fn session_sign_in_refuses_bad_bodies_and_is_throttled() {
    let (_dir, server) = setup("session-attacks", &["--sign-in-attempts", "2"]);
    for body in [
        "[]",
        r#"{"user":1,"password":"x"}"#,
        r#"{"user":"ann"}"#,
        "{",
    ] {
        let refused = server.send("POST", "/api/session", None, Some(body));
        assert_eq!(refused.status, 400, "{body}");
    }
    let huge = format!(r#"{{"user":"ann","password":"{}"}}"#, "x".repeat(20_000));
    assert_eq!(
        server
            .send("POST", "/api/session", None, Some(&huge))
            .status,
        413
    );
    for _ in 0..2 {
        let wrong = server.send(
            "POST",
            "/api/session",
            None,
            Some(r#"{"user":"ann","password":"wrong-guess"}"#),
        );
        assert_eq!(wrong.status, 401);
    }
    let right = server.send(
        "POST",
        "/api/session",
        None,
        Some(r#"{"user":"ann","password":"ann-password"}"#),
    );
    assert_eq!(
        right.status, 429,
        "the session route is throttled like Basic"
    );
    assert_eq!(right.code(), "TOO_MANY_ATTEMPTS");
}

#[test]
fn a_session_reaches_only_its_own_users_tokens() {
    let (_dir, server) = setup("session-other", &[]);
    let ann = sign_in(&server, "ann", "ann-password");
    let created = ann.send(
        &server,
        "POST",
        "/api/usertokens",
        Some(r#"{"name":"anns","scope":{"preset":"read"}}"#),
    );
    let id = created.json()["record"]["id"].as_str().unwrap().to_string();
    let bob = sign_in(&server, "bob", "bob-password");
    let path = format!("/api/usertokens/{id}");
    assert_eq!(bob.send(&server, "GET", &path, None).status, 404);
    let off = bob.send(&server, "PATCH", &path, Some(r#"{"status":"inactive"}"#));
    assert_eq!(off.status, 404);
    assert_eq!(bob.send(&server, "DELETE", &path, None).status, 404);
    let wrong_type = bob.send(&server, "PUT", "/api/password", Some(r#"{"password":5}"#));
    assert_eq!(wrong_type.status, 400);
    assert_eq!(ann.send(&server, "GET", &path, None).status, 200);
}

#[test]
fn signing_out_ends_the_session_on_the_server() {
    let (_dir, server) = setup("session-out", &[]);
    let ann = sign_in(&server, "ann", "ann-password");
    let out = ann.send(&server, "DELETE", "/api/session", None);
    assert_eq!(out.status, 204);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    // A copy of the cookie kept from before is worthless now.
    assert_eq!(
        ann.send(&server, "GET", "/api/usertokens", None).status,
        401
    );
    assert_eq!(
        ann.send(&server, "DELETE", "/api/session", None).status,
        401
    );
}

#[test]
fn sessions_end_when_idle_or_too_old() {
    let (dir, server) = setup("session-idle", &[]);
    let ann = sign_in(&server, "ann", "ann-password");
    assert_eq!(
        ann.send(&server, "GET", "/api/usertokens", None).status,
        200
    );
    drop(server);
    let minutes = |m: i64| (m * 60_000).to_string();
    // 29 minutes later the session still works (and counts as activity)...
    let later = Server::start(&dir, &["--clock-offset-ms", &minutes(29)]);
    assert_eq!(ann.send(&later, "GET", "/api/usertokens", None).status, 200);
    drop(later);
    // ...and 30 idle minutes after that, it has ended.
    let idle = Server::start(&dir, &["--clock-offset-ms", &minutes(29 + 31)]);
    assert_eq!(ann.send(&idle, "GET", "/api/usertokens", None).status, 401);
    drop(idle);
    // However active, a session ends 12 hours after sign-in (an idle limit
    // of 1000 minutes stands in for activity).
    let now = Server::start(&dir, &[]);
    let bob = sign_in(&now, "bob", "bob-password");
    drop(now);
    let active = ["--session-idle-minutes", "1000"];
    let before = Server::launch_with(&dir, &["--clock-offset-ms", &minutes(12 * 60 - 1)], &active);
    assert_eq!(
        bob.send(&before, "GET", "/api/usertokens", None).status,
        200
    );
    drop(before);
    let old = Server::launch_with(&dir, &["--clock-offset-ms", &minutes(12 * 60 + 1)], &active);
    assert_eq!(bob.send(&old, "GET", "/api/usertokens", None).status, 401);
}

#[test]
fn a_password_change_ends_every_session_but_renews_the_callers() {
    let (dir, server) = setup("session-passwd", &[]);
    let here = sign_in(&server, "ann", "ann-password");
    let elsewhere = sign_in(&server, "ann", "ann-password");
    let bob = sign_in(&server, "bob", "bob-password");
    let changed = here.send(
        &server,
        "PUT",
        "/api/password",
        Some(r#"{"password":"new-ann-password"}"#),
    );
    assert_eq!(changed.status, 204, "{}", changed.body);
    let renewed = Browser {
        cookie: cookie_of(&changed),
        csrf: changed.header("x-csrf-token").unwrap().to_string(),
    };
    assert_eq!(
        here.send(&server, "GET", "/api/usertokens", None).status,
        401
    );
    assert_eq!(
        elsewhere
            .send(&server, "GET", "/api/usertokens", None)
            .status,
        401
    );
    assert_eq!(
        renewed.send(&server, "GET", "/api/usertokens", None).status,
        200
    );
    assert_eq!(
        bob.send(&server, "GET", "/api/usertokens", None).status,
        200
    );
    // The CLI's passwd ends sessions too.
    let out = cli(&dir, &["user", "passwd", "ann"], "third-password\n");
    assert!(out.status.success());
    assert_eq!(
        renewed.send(&server, "GET", "/api/usertokens", None).status,
        401
    );
}
