//! Per-user enablement through the real binary: tokens are enabled for
//! administrators always and for each member by their own setting
//! (`inherit`, `on`, `off`; `inherit` follows `members-can-create-tokens`).
//! A member who is not enabled can neither create tokens nor use the ones
//! they hold, on every route that takes a token (the API, ext_authz, the
//! introspection answer gateways decide from, the change feed that makes
//! them forget), and enabling them again restores the tokens. The same
//! scenario runs on SQLite and (with `--ignored`) on PostgreSQL.

mod common;

use std::path::Path;

use common::{Server, add_user_db, basic, bearer, cli_db, cli_ok, create, temp_dir};
use serde_json::{Value, json};

const SERVICE: Option<&str> = Some("Service a-long-service-credential");

fn whoami(server: &Server, token: &str) -> u16 {
    server
        .send("GET", "/api/whoami", Some(&bearer(token)), None)
        .status
}

fn gate(server: &Server, token: &str) -> u16 {
    server
        .send("GET", "/ext_authz/api/apps", Some(&bearer(token)), None)
        .status
}

/// Starts a host on `db` serving gateways (introspection, the feed,
/// ext_authz), with its log kept.
fn serve(db: &str, dir: &Path) -> Server {
    common::serve_gateways(db, dir, &[])
}

fn introspect(server: &Server, token: &str) -> Value {
    let hash = tessera_core::hash(token, None).to_hex();
    let answer = server.send("GET", &format!("/api/introspect/{hash}"), SERVICE, None);
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()
}

fn feed_after(server: &Server, cursor: i64) -> Value {
    let page = server.send(
        "GET",
        &format!("/api/revocations?after={cursor}"),
        SERVICE,
        None,
    );
    assert_eq!(page.status, 200, "{}", page.body);
    page.json()
}

fn scenario(db: &str, dir: &Path) {
    add_user_db(db, "ann", "ann-password", true);
    add_user_db(db, "bob", "bob-password", false);
    let server = serve(db, dir);
    let ann = basic("ann", "ann-password");
    let bob = basic("bob", "bob-password");
    let body = r#"{"name":"ci","scope":{"preset":"all"}}"#;

    // By default members may not create tokens.
    let refused = server.send("POST", "/api/usertokens", Some(&bob), Some(body));
    assert_eq!((refused.status, refused.code()), (403, "FORBIDDEN".into()));

    // The default on: bob creates a token and uses it everywhere.
    cli_ok(
        db,
        &["settings", "set", "members-can-create-tokens", "true"],
    );
    let (token, _) = create(&server, &bob, body);
    let (ann_token, _) = create(&server, &ann, body);
    assert_eq!(whoami(&server, &token), 200);
    assert_eq!(gate(&server, &token), 200);
    assert_eq!(
        introspect(&server, &token)["owner"],
        json!({ "admin": false, "tokens": "inherit", "membersEnabled": true })
    );
    let cursor = server.send("GET", "/api/revocations", SERVICE, None).json()["cursor"]
        .as_i64()
        .expect("cursor");

    // An administrator switches bob off through the API.
    let users = server.send("GET", "/api/users", Some(&ann), None);
    assert_eq!(users.status, 200, "{}", users.body);
    assert!(users.json()["users"].as_array().unwrap().iter().any(|u| u
        == &json!({ "name": "bob", "admin": false, "tokens": "inherit", "tokensEnabled": true })));
    let off = server.send(
        "PUT",
        "/api/users/bob/tokens",
        Some(&ann),
        Some(r#"{"tokens":"off"}"#),
    );
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(off.json()["tokensEnabled"], false);
    // Refused at ext_authz first: the audit log notes it, once a minute per
    // token, with the client address as the host tells it (the peer here:
    // no proxy is trusted, so no X-Forwarded-For is believed).
    assert_eq!(gate(&server, &token), 401);
    let id = tessera_core::token_id(&token);
    let refused = server
        .send(
            "GET",
            &format!("/api/audit?event=token.refused&tokenId={id}"),
            Some(&ann),
            None,
        )
        .json();
    let refused = refused["events"].as_array().unwrap();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["userId"], "bob");
    assert_eq!(refused[0]["address"], "127.0.0.1");

    // At once: refused on every route, with the one 401 body, the reason
    // in the log; never the token there.
    let denied = server.send("GET", "/api/whoami", Some(&bearer(&token)), None);
    assert_eq!(
        (denied.status, denied.code()),
        (401, "UNAUTHENTICATED".into())
    );
    assert_eq!(gate(&server, &token), 401);
    assert_eq!(
        server
            .send("GET", "/api/usertokens", Some(&bearer(&token)), None)
            .status,
        401
    );
    let log = server.log_text();
    assert!(log.contains("TOKENS_DISABLED"), "{log}");
    assert!(!log.contains(&token), "the log holds a token");
    // Bob can no longer create, but still sees (and could delete) his
    // tokens: nothing was deleted.
    let refused = server.send("POST", "/api/usertokens", Some(&bob), Some(body));
    assert_eq!((refused.status, refused.code()), (403, "FORBIDDEN".into()));
    let listed = server.send("GET", "/api/usertokens", Some(&bob), None);
    assert_eq!(listed.json().as_array().unwrap().len(), 1);
    // Gateways learn it: the answer says so, and the feed names the token.
    assert_eq!(introspect(&server, &token)["owner"]["tokens"], "off");
    let hash = tessera_core::hash(&token, None).to_hex();
    let page = feed_after(&server, cursor);
    assert!(
        page["hashes"].as_array().unwrap().contains(&json!(hash)),
        "{page}"
    );
    // Ann's token is untouched.
    assert_eq!(whoami(&server, &ann_token), 200);

    // Another process (the CLI) sets bob back to the default (on): the
    // running server sees it at the next request.
    let said = cli_ok(db, &["user", "set", "bob", "--tokens", "inherit"]);
    assert!(
        said.contains("bob: member, tokens inherit (enabled)"),
        "{said}"
    );
    let said = cli_ok(db, &["user", "set", "ann", "--tokens", "inherit"]);
    assert!(
        said.contains("ann: admin, tokens inherit (enabled)"),
        "{said}"
    );
    assert_eq!(whoami(&server, &token), 200);
    assert_eq!(gate(&server, &token), 200);

    // The default off: bob (inherit) is refused again; an administrator
    // never is, whatever their own setting.
    let cursor = feed_after(&server, cursor)["cursor"].as_i64().unwrap();
    cli_ok(
        db,
        &["settings", "set", "members-can-create-tokens", "false"],
    );
    assert_eq!(whoami(&server, &token), 401);
    assert!(
        feed_after(&server, cursor)["hashes"]
            .as_array()
            .unwrap()
            .contains(&json!(hash))
    );
    let said = cli_ok(db, &["user", "set", "bob", "--tokens", "inherit"]);
    assert!(
        said.contains("(disabled: their tokens are refused"),
        "{said}"
    );
    cli_ok(db, &["user", "set", "ann", "--tokens", "off"]);
    assert_eq!(whoami(&server, &ann_token), 200);

    // Switched on, bob works although the default is off, and creates.
    let on = server.send(
        "PUT",
        "/api/users/bob/tokens",
        Some(&ann),
        Some(r#"{"tokens":"on"}"#),
    );
    assert_eq!(on.status, 200, "{}", on.body);
    assert_eq!(whoami(&server, &token), 200);
    create(&server, &bob, body);
    let listing = cli_ok(db, &["user", "list"]);
    assert!(
        listing.contains("bob\tmember\ttokens on\tenabled"),
        "{listing}"
    );
    assert!(
        listing.contains("ann\tadmin\ttokens off\tenabled"),
        "{listing}"
    );

    // Only administrators manage it; bad input is a clear error.
    let by_member = server.send(
        "PUT",
        "/api/users/bob/tokens",
        Some(&bob),
        Some(r#"{"tokens":"on"}"#),
    );
    assert_eq!(by_member.status, 403);
    assert_eq!(
        server.send("GET", "/api/users", Some(&bob), None).status,
        403
    );
    // A token (even an administrator's) is not a password.
    assert_eq!(
        server
            .send("GET", "/api/users", Some(&bearer(&ann_token)), None)
            .status,
        401
    );
    let unknown = server.send(
        "PUT",
        "/api/users/nobody/tokens",
        Some(&ann),
        Some(r#"{"tokens":"on"}"#),
    );
    assert_eq!((unknown.status, unknown.code()), (404, "NOT_FOUND".into()));
    for bad in [r#"{"tokens":"maybe"}"#, r#"{"tokens":true}"#, r#"{}"#] {
        let answer = server.send("PUT", "/api/users/bob/tokens", Some(&ann), Some(bad));
        assert_eq!(answer.status, 400, "{bad}: {}", answer.body);
    }
    assert_eq!(
        whoami(&server, &token),
        200,
        "a refused change changed nothing"
    );
    for args in [
        &["user", "set", "nobody", "--tokens", "on"][..],
        &["user", "set", "bob", "--tokens", "maybe"][..],
    ] {
        assert!(!cli_db(db, args, "").status.success(), "{args:?}");
    }
}

#[test]
fn a_disabled_member_can_neither_create_nor_use_tokens_until_enabled_again() {
    let dir = temp_dir("enablement");
    scenario(&common::sqlite(&dir), &dir);
}

#[test]
#[ignore = "needs PostgreSQL: run scripts/test-postgres.sh"]
fn the_same_on_postgresql() {
    let cluster = common::pg::PgCluster::start("enablement");
    let url = cluster.database("enablement");
    let dir = temp_dir("pg-enablement");
    scenario(&url, &dir);
}
