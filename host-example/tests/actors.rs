//! The actor rule end to end through the HTTP API: each escalation the
//! rule closes, reproduced as a client would try it, and refused.

mod common;

use common::{Server, add_user, basic, bearer, cli, create, temp_dir};
use serde_json::{Value, json};

/// A server with an administrator `ann` and a member `bob`, optionally with
/// a policy.
fn setup(name: &str, policy: Value) -> (std::path::PathBuf, Server, String) {
    let dir = temp_dir(name);
    add_user(&dir, "ann", "ann-password", true);
    add_user(&dir, "bob", "bob-password", false);
    let mut config = tessera_host::config::default_config();
    config["policy"] = policy;
    let path = dir.join("config.json");
    std::fs::write(&path, config.to_string()).expect("write config");
    let server = Server::start(&dir, &["--config", path.to_str().expect("utf-8")]);
    (dir, server, basic("ann", "ann-password"))
}

fn id(record: &Value) -> String {
    record["id"].as_str().expect("id").to_string()
}

/// The status and code of a response.
fn outcome(response: &common::Response) -> (u16, String) {
    let code = if response.body.is_empty() {
        String::new()
    } else {
        response.code()
    };
    (response.status, code)
}

#[test]
fn a_narrow_token_cannot_mint_an_all_powerful_one_by_rotation() {
    let (_dir, server, ann) = setup("actors-rotate", json!({}));
    let (all, all_record) = create(&server, &ann, r#"{"name":"all","scope":{"preset":"all"}}"#);
    let (narrow, narrow_record) = create(
        &server,
        &ann,
        r#"{"name":"narrow","expires":{"days":1},"scope":{"actions":["tokens.read","tokens.create"]}}"#,
    );
    let narrow_auth = bearer(&narrow);
    let deploy = server.send("POST", "/api/deploys", Some(&narrow_auth), Some("{}"));
    assert_eq!(deploy.status, 403);
    // It can see the ids…
    let listed = server.send("GET", "/api/usertokens", Some(&narrow_auth), None);
    assert_eq!(listed.status, 200);
    assert!(listed.body.contains(&id(&all_record)));
    // …but rotating the all-scope token is refused, and changes nothing.
    let path = format!("/api/usertokens/{}/rotate", id(&all_record));
    let refused = server.send("POST", &path, Some(&narrow_auth), Some("{}"));
    assert_eq!(outcome(&refused), (422, "SCOPE_EXCEEDS_PARENT".into()));
    assert!(!refused.body.contains("tsr_"));
    assert_eq!(
        server
            .send("GET", "/api/apps", Some(&bearer(&all)), None)
            .status,
        200,
        "the all-scope token still works"
    );
    // A token it could have made itself but that outlives it: refused too.
    let (_, long_record) = create(
        &server,
        &ann,
        r#"{"name":"long","scope":{"actions":["tokens.read"]}}"#,
    );
    let path = format!("/api/usertokens/{}/rotate", id(&long_record));
    let refused = server.send("POST", &path, Some(&narrow_auth), Some("{}"));
    assert_eq!(outcome(&refused), (422, "EXPIRY_EXCEEDS_PARENT".into()));
    // Rotating itself works, and the new token expires no later than it.
    let path = format!("/api/usertokens/{}/rotate", id(&narrow_record));
    let rotated = server.send(
        "POST",
        &path,
        Some(&narrow_auth),
        Some(r#"{"graceSeconds":60}"#),
    );
    assert_eq!(rotated.status, 201, "{}", rotated.body);
    let new = rotated.json();
    assert!(new["record"]["expiresAt"].as_i64() <= narrow_record["expiresAt"].as_i64());
    assert_eq!(new["record"]["scope"], narrow_record["scope"]);
    // In its grace period the old token cannot rotate itself again.
    let again = server.send("POST", &path, Some(&narrow_auth), Some("{}"));
    assert_eq!(outcome(&again), (409, "TOKEN_ROTATED".into()));
}

#[test]
fn a_write_token_cannot_reactivate_or_delete_a_wider_token_but_may_kill_itself() {
    let (_dir, server, ann) = setup("actors-update", json!({}));
    let (all, all_record) = create(&server, &ann, r#"{"name":"all","scope":{"preset":"all"}}"#);
    let all_path = format!("/api/usertokens/{}", id(&all_record));
    let off = server.send(
        "PATCH",
        &all_path,
        Some(&ann),
        Some(r#"{"status":"inactive"}"#),
    );
    assert_eq!(off.status, 200);
    let (writer, writer_record) = create(
        &server,
        &ann,
        r#"{"name":"writer","scope":{"actions":["tokens.write"]}}"#,
    );
    let writer_auth = bearer(&writer);
    let on = server.send(
        "PATCH",
        &all_path,
        Some(&writer_auth),
        Some(r#"{"status":"active"}"#),
    );
    assert_eq!(outcome(&on), (422, "SCOPE_EXCEEDS_PARENT".into()));
    assert_eq!(
        server
            .send("GET", "/api/apps", Some(&bearer(&all)), None)
            .status,
        401,
        "the all-scope token stays inactive"
    );
    let delete = server.send("DELETE", &all_path, Some(&writer_auth), None);
    assert_eq!(outcome(&delete), (422, "SCOPE_EXCEEDS_PARENT".into()));
    // A read-only token may not edit anything, but may deactivate itself…
    let (reader, reader_record) = create(
        &server,
        &ann,
        r#"{"name":"reader","scope":{"actions":["apps.read"]}}"#,
    );
    let reader_path = format!("/api/usertokens/{}", id(&reader_record));
    let rename = server.send(
        "PATCH",
        &reader_path,
        Some(&bearer(&reader)),
        Some(r#"{"name":"x"}"#),
    );
    assert_eq!(outcome(&rename), (403, "SCOPE_DENIED".into()));
    let kill = server.send(
        "PATCH",
        &reader_path,
        Some(&bearer(&reader)),
        Some(r#"{"status":"inactive"}"#),
    );
    assert_eq!(kill.status, 200, "{}", kill.body);
    assert_eq!(
        server
            .send("GET", "/api/apps", Some(&bearer(&reader)), None)
            .status,
        401
    );
    // …and a write token may delete itself.
    let writer_path = format!("/api/usertokens/{}", id(&writer_record));
    let gone = server.send("DELETE", &writer_path, Some(&writer_auth), None);
    assert_eq!(gone.status, 204);
    assert_eq!(
        server
            .send("GET", "/api/whoami", Some(&writer_auth), None)
            .status,
        401
    );
}

#[test]
fn rotation_is_a_creation_for_members_and_limits() {
    let (dir, server, ann) = setup("actors-limits", json!({ "maxTokensPerUser": 3 }));
    let bob = basic("bob", "bob-password");
    let out = cli(
        &dir,
        &["settings", "set", "members-can-create-tokens", "true"],
        "",
    );
    assert!(out.status.success());
    let (_, bob_record) = create(&server, &bob, r#"{"name":"b","scope":{"preset":"read"}}"#);
    let out = cli(
        &dir,
        &["settings", "set", "members-can-create-tokens", "false"],
        "",
    );
    assert!(out.status.success());
    let body = r#"{"name":"b2","scope":{"preset":"read"}}"#;
    let create_refused = server.send("POST", "/api/usertokens", Some(&bob), Some(body));
    assert_eq!(outcome(&create_refused), (403, "FORBIDDEN".into()));
    let path = format!("/api/usertokens/{}/rotate", id(&bob_record));
    let rotate_refused = server.send("POST", &path, Some(&bob), Some("{}"));
    assert_eq!(outcome(&rotate_refused), (403, "FORBIDDEN".into()));

    // Ann at the limit of 3 can rotate, but a token in its grace period
    // cannot be rotated again: the live tokens never exceed the limit.
    let mut ids = Vec::new();
    for n in 0..3 {
        let (_, record) = create(
            &server,
            &ann,
            &format!(r#"{{"name":"t{n}","scope":{{"preset":"read"}}}}"#),
        );
        ids.push(id(&record));
    }
    let fourth = server.send("POST", "/api/usertokens", Some(&ann), Some(body));
    assert_eq!(outcome(&fourth), (422, "LIMIT_REACHED".into()));
    let path = format!("/api/usertokens/{}/rotate", ids[0]);
    let grace = r#"{"graceSeconds":3600}"#;
    assert_eq!(
        server.send("POST", &path, Some(&ann), Some(grace)).status,
        201
    );
    for _ in 0..5 {
        let again = server.send("POST", &path, Some(&ann), Some(grace));
        assert_eq!(outcome(&again), (409, "TOKEN_ROTATED".into()));
    }
    let listed = server
        .send("GET", "/api/usertokens", Some(&ann), None)
        .json();
    assert_eq!(
        listed.as_array().expect("list").len(),
        4,
        "3 live tokens and 1 retiring"
    );
    // Nor can the retiring token be re-activated once deactivated.
    let old = format!("/api/usertokens/{}", ids[0]);
    let off = server.send("PATCH", &old, Some(&ann), Some(r#"{"status":"inactive"}"#));
    assert_eq!(off.status, 200);
    let on = server.send("PATCH", &old, Some(&ann), Some(r#"{"status":"active"}"#));
    assert_eq!(outcome(&on), (409, "TOKEN_ROTATED".into()));
}

#[test]
fn deleting_or_deactivating_with_cascade_reaches_every_descendant() {
    let (_dir, server, ann) = setup("actors-cascade", json!({}));
    let parent_body =
        r#"{"name":"p","expires":{"days":10},"scope":{"actions":["tokens.create","apps.read"]}}"#;
    let (parent, parent_record) = create(&server, &ann, parent_body);
    let child_body =
        r#"{"name":"c","expires":{"days":5},"scope":{"actions":["tokens.create","apps.read"]}}"#;
    let (child, child_record) = create(&server, &bearer(&parent), child_body);
    let grandchild_body = r#"{"name":"g","expires":{"days":2},"scope":{"actions":["apps.read"]}}"#;
    let (grandchild, grandchild_record) = create(&server, &bearer(&child), grandchild_body);
    let works = |token: &str| {
        server
            .send("GET", "/api/apps", Some(&bearer(token)), None)
            .status
    };

    // Deactivation with cascade: all three off; re-activation never cascades.
    let path = format!("/api/usertokens/{}", id(&parent_record));
    let off = server.send(
        "PATCH",
        &format!("{path}?cascade=true"),
        Some(&ann),
        Some(r#"{"status":"inactive"}"#),
    );
    assert_eq!(off.status, 200, "{}", off.body);
    let off = off.json();
    assert_eq!(off["record"]["status"], "inactive");
    assert_eq!(
        off["deactivated"],
        json!([id(&child_record), id(&grandchild_record)])
    );
    assert_eq!(
        (works(&parent), works(&child), works(&grandchild)),
        (401, 401, 401)
    );
    let on = server.send(
        "PATCH",
        &format!("{path}?cascade=true"),
        Some(&ann),
        Some(r#"{"status":"active"}"#),
    );
    assert_eq!(on.status, 200);
    assert_eq!(on.json()["deactivated"], json!([]));
    assert_eq!(
        (works(&parent), works(&child), works(&grandchild)),
        (200, 401, 401)
    );

    // Deletion without cascade leaves the children; with it, none remain.
    let bad = server.send("DELETE", &format!("{path}?cascade=maybe"), Some(&ann), None);
    assert_eq!(outcome(&bad), (400, "BAD_REQUEST".into()));
    let child_path = format!("/api/usertokens/{}", id(&child_record));
    for p in [
        &child_path,
        &format!("/api/usertokens/{}", id(&grandchild_record)),
    ] {
        let on = server.send("PATCH", p, Some(&ann), Some(r#"{"status":"active"}"#));
        assert_eq!(on.status, 200);
    }
    let deleted = server.send("DELETE", &format!("{path}?cascade=true"), Some(&ann), None);
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(
        deleted.json()["deleted"],
        json!([
            id(&parent_record),
            id(&child_record),
            id(&grandchild_record)
        ])
    );
    assert_eq!(
        (works(&parent), works(&child), works(&grandchild)),
        (401, 401, 401)
    );
    let listed = server
        .send("GET", "/api/usertokens", Some(&ann), None)
        .json();
    assert_eq!(listed, json!([]));
}

#[test]
fn another_users_token_is_not_found_for_every_operation() {
    let (dir, server, ann) = setup("actors-owner", json!({}));
    let out = cli(
        &dir,
        &["settings", "set", "members-can-create-tokens", "true"],
        "",
    );
    assert!(out.status.success());
    let (_, ann_record) = create(&server, &ann, r#"{"name":"a","scope":{"preset":"all"}}"#);
    let (bob_token, _) = create(
        &server,
        &basic("bob", "bob-password"),
        r#"{"name":"b","scope":{"preset":"all"}}"#,
    );
    let path = format!("/api/usertokens/{}", id(&ann_record));
    let bob = bearer(&bob_token);
    for (method, path, body) in [
        ("GET", path.clone(), None),
        ("PATCH", path.clone(), Some(r#"{"status":"inactive"}"#)),
        ("POST", format!("{path}/rotate"), Some("{}")),
        ("DELETE", format!("{path}?cascade=true"), None),
    ] {
        let refused = server.send(method, &path, Some(&bob), body);
        assert_eq!(
            outcome(&refused),
            (404, "NOT_FOUND".into()),
            "{method} {path}"
        );
    }
    assert_eq!(
        server.send("GET", &path, Some(&ann), None).json()["status"],
        "active"
    );
}

#[test]
fn concurrent_rotations_of_one_token_yield_one_successor() {
    let (_dir, server, ann) = setup("actors-race", json!({ "maxTokensPerUser": 3 }));
    let (_, record) = create(&server, &ann, r#"{"name":"t","scope":{"preset":"read"}}"#);
    // A token authenticates in microseconds (a password takes argon2's
    // milliseconds), so the eight requests overlap as much as they can.
    let (admin, _) = create(&server, &ann, r#"{"name":"a","scope":{"preset":"all"}}"#);
    let auth = bearer(&admin);
    let path = format!("/api/usertokens/{}/rotate", id(&record));
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let rotations: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    server
                        .send("POST", &path, Some(&auth), Some(r#"{"graceSeconds":600}"#))
                        .status
                })
            })
            .collect();
        rotations
            .into_iter()
            .map(|r| r.join().expect("joined"))
            .collect()
    });
    assert_eq!(
        statuses.iter().filter(|&&s| s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|&s| s == 201 || s == 409),
        "{statuses:?}"
    );
    let listed = server
        .send("GET", "/api/usertokens", Some(&ann), None)
        .json();
    assert_eq!(
        listed.as_array().expect("list").len(),
        3,
        "t, its one successor, and a"
    );
}

#[test]
fn rotation_refuses_bad_bodies_and_targets_that_cannot_be_renewed() {
    let (_dir, server, ann) = setup("actors-rotate-input", json!({}));
    let (_, record) = create(
        &server,
        &ann,
        r#"{"name":"t","expires":{"days":30},"scope":{"preset":"read"}}"#,
    );
    let path = format!("/api/usertokens/{}", id(&record));
    let rotate = format!("{path}/rotate");
    let before = server.send("GET", &path, Some(&ann), None).body;
    for (body, wanted) in [
        (r#"{"graceSeconds":"soon"}"#, (400, "BAD_REQUEST")),
        (r#"{"graceSeconds":1,"extra":true}"#, (400, "BAD_REQUEST")),
        ("[]", (400, "BAD_REQUEST")),
        (
            r#"{"graceSeconds":9223372036854775807}"#,
            (400, "BAD_REQUEST"),
        ),
        (r#"{"graceSeconds":-1}"#, (422, "EXPIRY_INVALID")),
    ] {
        let refused = server.send("POST", &rotate, Some(&ann), Some(body));
        assert_eq!((refused.status, refused.code().as_str()), wanted, "{body}");
    }
    let huge = format!(r#"{{"graceSeconds":1,"pad":"{}"}}"#, "x".repeat(100_000));
    let too_large = server.send("POST", &rotate, Some(&ann), Some(&huge));
    assert_eq!(too_large.status, 413);
    // An inactive target is not renewed: 409 with its state's code.
    let off = server.send("PATCH", &path, Some(&ann), Some(r#"{"status":"inactive"}"#));
    assert_eq!(off.status, 200);
    let inactive = server.send("POST", &rotate, Some(&ann), Some("{}"));
    assert_eq!(outcome(&inactive), (409, "TOKEN_INACTIVE".into()));
    // Nothing was created or changed by any refusal.
    let listed = server
        .send("GET", "/api/usertokens", Some(&ann), None)
        .json();
    assert_eq!(listed.as_array().expect("list").len(), 1);
    let now = server.send("GET", &path, Some(&ann), None).json();
    let mut then: Value = serde_json::from_str(&before).expect("JSON");
    then["status"] = json!("inactive");
    assert_eq!(now, then);
}

#[test]
fn an_inactive_token_acts_on_nothing() {
    let (_dir, server, ann) = setup("actors-dead-actor", json!({}));
    let (target, target_record) =
        create(&server, &ann, r#"{"name":"t","scope":{"preset":"read"}}"#);
    let (actor, actor_record) = create(&server, &ann, r#"{"name":"a","scope":{"preset":"all"}}"#);
    let off = server.send(
        "PATCH",
        &format!("/api/usertokens/{}", id(&actor_record)),
        Some(&ann),
        Some(r#"{"status":"inactive"}"#),
    );
    assert_eq!(off.status, 200);
    let auth = bearer(&actor);
    let target_path = format!("/api/usertokens/{}", id(&target_record));
    for (method, path, body) in [
        ("GET", "/api/usertokens".to_string(), None),
        (
            "POST",
            "/api/usertokens".to_string(),
            Some(r#"{"name":"x","scope":{"preset":"read"}}"#),
        ),
        (
            "PATCH",
            target_path.clone(),
            Some(r#"{"status":"inactive"}"#),
        ),
        ("POST", format!("{target_path}/rotate"), Some("{}")),
        ("DELETE", target_path.clone(), None),
    ] {
        let refused = server.send(method, &path, Some(&auth), body);
        assert_eq!(
            outcome(&refused),
            (401, "UNAUTHENTICATED".into()),
            "{method} {path}"
        );
    }
    assert_eq!(
        server
            .send("GET", "/api/apps", Some(&bearer(&target)), None)
            .status,
        200,
        "the target is untouched"
    );
}
