//! Issuing a token for a user (Workbench's user tokens) through the real
//! binary: `POST /api/usertokens` with a `userId`, by an administrator (by
//! password or session) or a service key (`Authorization: Service …`),
//! only when the deployment's `issue-for-users` setting is on. The record
//! names the issuer, the user sees the token in their list and it works
//! for them, the audit log says who issued it; members, tokens, wrong keys,
//! unknown and disabled users get nothing. The same scenario runs on SQLite
//! and (with `--ignored`) on PostgreSQL.

mod common;

use std::path::Path;

use common::{Server, add_user_db, basic, bearer, cli, cli_ok, create, temp_dir};
use serde_json::{Value, json};

const KEY: &str = "workbench-service-key-0123456789abcdef";
const SERVICE: &str = "Service workbench-service-key-0123456789abcdef";

fn issue(server: &Server, auth: &str, user: &str) -> common::Response {
    let body = json!({ "name": "for you", "scope": { "preset": "read" }, "userId": user });
    server.send(
        "POST",
        "/api/usertokens",
        Some(auth),
        Some(&body.to_string()),
    )
}

/// The ids of `user`'s tokens, as an administrator's console lists them.
fn tokens_of(server: &Server, admin: &str, user: &str) -> Vec<String> {
    let list = server.send(
        "GET",
        &format!("/api/admin/users/{user}/tokens"),
        Some(admin),
        None,
    );
    assert_eq!(list.status, 200, "{}", list.body);
    list.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

fn refused(response: &common::Response, status: u16, code: &str) {
    assert_eq!(response.status, status, "{}", response.body);
    assert_eq!(response.code(), code, "{}", response.body);
}

fn created_event(server: &Server, admin: &str, id: &str) -> Value {
    let page = server.send(
        "GET",
        &format!("/api/audit?event=token.created&tokenId={id}"),
        Some(admin),
        None,
    );
    assert_eq!(page.status, 200, "{}", page.body);
    page.json()["events"][0].clone()
}

fn scenario(db: &str, dir: &Path) {
    add_user_db(db, "ann", "ann-password", true);
    add_user_db(db, "bob", "bob-password", false);
    add_user_db(db, "carol", "carol-password", false);
    cli_ok(db, &["user", "set", "bob", "--tokens", "on"]);
    cli_ok(db, &["user", "set", "carol", "--tokens", "off"]);
    let keys = dir.join("service-keys");
    std::fs::write(&keys, format!("# provisioning\nworkbench {KEY}\n")).unwrap();
    let server = Server::start_logged_db(db, dir, &[], &["--service-keys", keys.to_str().unwrap()]);
    let ann = basic("ann", "ann-password");
    let bob = basic("bob", "bob-password");

    // Off by default: nobody issues for anyone.
    refused(&issue(&server, &ann, "bob"), 403, "FORBIDDEN");
    refused(&issue(&server, SERVICE, "bob"), 403, "FORBIDDEN");
    assert!(tokens_of(&server, &ann, "bob").is_empty());

    // Only an administrator turns it on.
    let on = r#"{"issueForUsers":true}"#;
    refused(
        &server.send("PUT", "/api/settings", Some(&bob), Some(on)),
        403,
        "FORBIDDEN",
    );
    let set = server.send("PUT", "/api/settings", Some(&ann), Some(on));
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(
        set.json(),
        json!({ "membersCanCreateTokens": false, "issueForUsers": true })
    );
    refused(
        &server.send("PUT", "/api/settings", Some(&ann), Some("{}")),
        400,
        "BAD_REQUEST",
    );
    for bad in [
        r#"{"issueForUsers":"yes"}"#,
        r#"{"issueForUsers":true,"extra":1}"#,
        "[true]",
    ] {
        refused(
            &server.send("PUT", "/api/settings", Some(&ann), Some(bad)),
            400,
            "BAD_REQUEST",
        );
    }

    // An administrator issues for bob: the record names them, bob lists
    // the token, and it works as bob's.
    let by_admin = issue(&server, &ann, "bob");
    assert_eq!(by_admin.status, 201, "{}", by_admin.body);
    let by_admin = by_admin.json();
    let record = &by_admin["record"];
    assert_eq!(record["userId"], "bob");
    assert_eq!(
        record["createdBy"],
        json!({ "kind": "admin", "userId": "ann" })
    );
    let admin_id = record["id"].as_str().unwrap().to_owned();
    let token = by_admin["token"].as_str().unwrap();
    let whoami = server.send("GET", "/api/whoami", Some(&bearer(token)), None);
    assert_eq!(whoami.status, 200, "{}", whoami.body);
    assert_eq!(whoami.json()["userId"], "bob");
    let listed = server.send("GET", "/api/usertokens", Some(&bob), None);
    assert!(listed.body.contains(&admin_id), "{}", listed.body);

    // A service key issues for bob; the record and the log name the key.
    let by_key = issue(&server, SERVICE, "bob");
    assert_eq!(by_key.status, 201, "{}", by_key.body);
    let by_key = by_key.json();
    assert_eq!(
        by_key["record"]["createdBy"],
        json!({ "kind": "service", "keyId": "workbench" })
    );
    let key_id = by_key["record"]["id"].as_str().unwrap().to_owned();
    let event = created_event(&server, &ann, &key_id);
    assert_eq!(event["userId"], "bob");
    assert_eq!(event["actor"], json!({ "kind": "service" }));
    assert_eq!(event["detail"], json!({ "serviceKey": "workbench" }));
    assert_eq!(event["address"], "127.0.0.1");
    let event = created_event(&server, &ann, &admin_id);
    assert_eq!(event["actor"], json!({ "kind": "admin", "userId": "ann" }));
    // Bob reads both events: they concern him.
    let own = server.send("GET", "/api/audit?event=token.created", Some(&bob), None);
    assert!(own.body.contains(&admin_id) && own.body.contains(&key_id));

    // An administrator naming themselves creates an ordinary token.
    let own = issue(&server, &ann, "ann");
    assert_eq!(own.status, 201, "{}", own.body);
    assert_eq!(own.json()["record"]["createdBy"], json!({ "kind": "user" }));

    // What a member, a token, a wrong key and bad bodies get.
    let before = tokens_of(&server, &ann, "carol").len() + tokens_of(&server, &ann, "bob").len();
    refused(&issue(&server, &bob, "ann"), 403, "FORBIDDEN");
    refused(&issue(&server, &bob, "carol"), 403, "FORBIDDEN");
    let (bob_all, _) = create(&server, &bob, r#"{"name":"all","scope":{"preset":"all"}}"#);
    refused(
        &issue(&server, &bearer(&bob_all), "carol"),
        403,
        "FORBIDDEN",
    );
    let (ann_all, _) = create(&server, &ann, r#"{"name":"all","scope":{"preset":"all"}}"#);
    refused(&issue(&server, &bearer(&ann_all), "bob"), 403, "FORBIDDEN");
    // An inactive token is no credential at all.
    let ann_all_id = tessera_core::token_id(&ann_all);
    let off = server.send(
        "PATCH",
        &format!("/api/usertokens/{ann_all_id}"),
        Some(&ann),
        Some(r#"{"status":"inactive"}"#),
    );
    assert_eq!(off.status, 200, "{}", off.body);
    refused(
        &issue(&server, &bearer(&ann_all), "bob"),
        401,
        "UNAUTHENTICATED",
    );
    refused(
        &issue(
            &server,
            "Service not-the-key-but-long-enough-0123456789",
            "bob",
        ),
        401,
        "UNAUTHENTICATED",
    );
    refused(&issue(&server, "Service ", "bob"), 401, "UNAUTHENTICATED");
    let no_user = server.send(
        "POST",
        "/api/usertokens",
        Some(SERVICE),
        Some(r#"{"name":"x","scope":{"preset":"read"}}"#),
    );
    refused(&no_user, 400, "BAD_REQUEST");
    let wrong_type = server.send(
        "POST",
        "/api/usertokens",
        Some(&ann),
        Some(r#"{"name":"x","scope":{"preset":"read"},"userId":7}"#),
    );
    refused(&wrong_type, 400, "BAD_REQUEST");
    // A key does nothing else: not list, not the console, not introspect.
    for (method, path) in [
        ("GET", "/api/usertokens"),
        ("GET", "/api/admin/users/bob/tokens"),
        ("GET", "/api/whoami"),
        ("GET", "/api/audit"),
    ] {
        let answer = server.send(method, path, Some(SERVICE), None);
        assert_eq!(answer.status, 401, "{method} {path}: {}", answer.body);
    }
    // Unknown and disabled users.
    refused(&issue(&server, &ann, "zed"), 404, "NOT_FOUND");
    refused(&issue(&server, SERVICE, "zed"), 404, "NOT_FOUND");
    refused(&issue(&server, &ann, &"z".repeat(4000)), 404, "NOT_FOUND");
    refused(&issue(&server, &ann, "carol"), 403, "FORBIDDEN");
    refused(&issue(&server, SERVICE, "carol"), 403, "FORBIDDEN");
    let after = tokens_of(&server, &ann, "carol").len() + tokens_of(&server, &ann, "bob").len();
    assert_eq!(
        after,
        before + 1,
        "only bob's own all-scope token was added"
    );

    // The CLI turns it off again; a running server sees it at once.
    cli_ok(db, &["settings", "set", "issue-for-users", "false"]);
    refused(&issue(&server, &ann, "bob"), 403, "FORBIDDEN");
    refused(&issue(&server, SERVICE, "bob"), 403, "FORBIDDEN");
    let changes = server.send("GET", "/api/audit?event=setting.changed", Some(&ann), None);
    assert!(changes.body.contains("issue-for-users"), "{}", changes.body);

    // The key's secret is in no log, list or export.
    let exported = cli_ok(db, &["audit", "export"]);
    assert!(!exported.contains(KEY));
    assert!(!server.log_text().contains(KEY));
}

#[test]
fn administrators_and_service_keys_issue_tokens_for_users_only_when_allowed() {
    let dir = temp_dir("issuing");
    scenario(&common::sqlite(&dir), &dir);
}

#[test]
fn a_malformed_key_file_or_a_key_shared_with_introspection_stops_the_server() {
    let dir = temp_dir("issuing-keys");
    let keys = dir.join("keys");
    let secret = dir.join("secret");
    std::fs::write(&secret, KEY).unwrap();
    for (text, with_introspection, why) in [
        (format!("workbench {KEY}\n"), true, "introspection"),
        ("workbench short\n".to_string(), false, "shorter than 32"),
        (format!("a {KEY}\nb {KEY}\n"), false, "another key's secret"),
    ] {
        std::fs::write(&keys, &text).unwrap();
        let mut args = vec!["serve", "--listen", "127.0.0.1:0", "--service-keys"];
        args.push(keys.to_str().unwrap());
        if with_introspection {
            args.extend(["--introspection-secret-file", secret.to_str().unwrap()]);
        }
        let out = cli(&dir, &args, "");
        assert!(!out.status.success(), "{text}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(why), "{stderr}");
        assert!(!stderr.contains(KEY), "a secret in an error: {stderr}");
    }
}

#[test]
#[ignore = "needs PostgreSQL: run scripts/test-postgres.sh"]
fn the_same_on_postgresql() {
    let cluster = common::pg::PgCluster::start("issuing");
    let url = cluster.database("issuing");
    let dir = temp_dir("pg-issuing");
    scenario(&url, &dir);
}
