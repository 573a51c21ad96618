//! The HTTP API end to end: the real binary on a free port, driven with raw
//! HTTP requests.

mod common;

use common::{Server, add_user, basic, bearer, cli, create, temp_dir};
use serde_json::Value;

const DAY_MS: i64 = 86_400_000;

/// A server with an administrator `ann` and a member `bob`.
fn setup(name: &str) -> (std::path::PathBuf, Server, String) {
    let dir = temp_dir(name);
    add_user(&dir, "ann", "ann-password", true);
    add_user(&dir, "bob", "bob-password", false);
    let server = Server::start(&dir, &[]);
    (dir, server, basic("ann", "ann-password"))
}

#[test]
fn a_token_is_shown_once_and_never_listed() {
    let (_dir, server, ann) = setup("shown-once");
    let (token, record) = create(&server, &ann, r#"{"name":"ci","scope":{"preset":"read"}}"#);
    assert_eq!(token.len(), 53);
    assert!(token.starts_with("tsr_"));
    assert!(record.get("hash").is_none(), "{record}");
    let hash = tessera_core::hash(&token, None).to_hex();
    let id = record["id"].as_str().unwrap();
    for path in [
        "/api/usertokens".to_string(),
        format!("/api/usertokens/{id}"),
    ] {
        let response = server.send("GET", &path, Some(&ann), None);
        assert_eq!(response.status, 200);
        assert!(!response.body.contains(&token[4..20]), "{}", response.body);
        assert!(!response.body.contains(&hash), "{}", response.body);
        assert!(response.body.contains(id));
    }
    let list = server
        .send("GET", "/api/usertokens", Some(&ann), None)
        .json();
    assert_eq!(list[0]["hint"], Value::from(format!("{}…", &token[..8])));
}

#[test]
fn passwords_and_tokens_authenticate_where_each_is_accepted() {
    let (_dir, server, ann) = setup("auth-kinds");
    let (token, record) = create(
        &server,
        &ann,
        r#"{"name":"r","expires":{"days":3},"scope":{"preset":"read"}}"#,
    );
    let whoami = server.send("GET", "/api/whoami", Some(&bearer(&token)), None);
    assert_eq!(whoami.status, 200);
    assert_eq!(whoami.json()["userId"], "ann");
    assert_eq!(whoami.json()["tokenId"], record["id"]);
    assert_eq!(whoami.json()["scope"], record["scope"]);
    assert!(record["expiresAt"].is_i64());
    assert_eq!(whoami.json()["expiresAt"], record["expiresAt"]);
    let user_token = server.send(
        "GET",
        "/api/whoami",
        Some(&format!("usertoken {token}")),
        None,
    );
    assert_eq!(user_token.status, 200);
    // The sample API takes tokens only; token management takes both.
    assert_eq!(
        server.send("GET", "/api/apps", Some(&ann), None).status,
        401
    );
    assert_eq!(
        server
            .send("GET", "/api/usertokens", Some(&bearer(&token)), None)
            .status,
        200
    );
    // Every 401 looks the same, whatever the reason.
    let mut wrong_checksum = token.clone();
    wrong_checksum.replace_range(52..53, if token.ends_with('A') { "B" } else { "A" });
    let unknown = "tsr_0000000000000000000000000000000000000000000000000".to_string();
    let failures = [
        server.send("GET", "/api/whoami", None, None),
        server.send("GET", "/api/whoami", Some("Bearer nonsense"), None),
        server.send("GET", "/api/whoami", Some(&bearer(&wrong_checksum)), None),
        server.send("GET", "/api/whoami", Some(&bearer(&unknown)), None),
        server.send("GET", "/api/usertokens", Some(&basic("ann", "wrong")), None),
        server.send("GET", "/api/usertokens", Some(&basic("nobody", "x")), None),
    ];
    for failure in &failures {
        assert_eq!(failure.status, 401, "{}", failure.body);
        assert_eq!(failure.body, failures[0].body);
        assert!(
            failure
                .header("www-authenticate")
                .unwrap()
                .contains("Bearer")
        );
    }
    assert_eq!(failures[0].code(), "UNAUTHENTICATED");
}

#[test]
fn the_catalog_is_offered_to_signed_in_callers() {
    let (_dir, server, ann) = setup("catalog");
    let catalog = server.send("GET", "/api/catalog", Some(&ann), None);
    assert_eq!(catalog.status, 200);
    let entries = catalog.json();
    let actions: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"apps.read") && actions.contains(&"tokens.create"),
        "{actions:?}"
    );
    assert_eq!(server.send("GET", "/api/catalog", None, None).status, 401);
}

#[test]
fn scopes_decide_the_sample_api() {
    let (_dir, server, ann) = setup("scopes");
    let (read, _) = create(&server, &ann, r#"{"name":"r","scope":{"preset":"read"}}"#);
    let (cli_token, _) = create(&server, &ann, r#"{"name":"c","scope":{"preset":"cli"}}"#);
    let (writer, _) = create(
        &server,
        &ann,
        r#"{"name":"w","scope":{"actions":["apps"]}}"#,
    );
    let app = Some(r#"{"name":"shop"}"#);
    let deploy = Some(r#"{"app":"shop"}"#);
    assert_eq!(
        server
            .send("GET", "/api/apps", Some(&bearer(&read)), None)
            .status,
        200
    );
    let denied = server.send("POST", "/api/apps", Some(&bearer(&read)), app);
    assert_eq!(
        (denied.status, denied.code().as_str()),
        (403, "SCOPE_DENIED")
    );
    assert_eq!(
        server
            .send("POST", "/api/apps", Some(&bearer(&writer)), app)
            .status,
        201
    );
    assert_eq!(
        server
            .send("POST", "/api/deploys", Some(&bearer(&writer)), deploy)
            .status,
        403
    );
    assert_eq!(
        server
            .send("POST", "/api/deploys", Some(&bearer(&cli_token)), deploy)
            .status,
        202
    );
    let apps = server
        .send("GET", "/api/apps", Some(&bearer(&cli_token)), None)
        .json();
    assert_eq!(apps["apps"], serde_json::json!(["shop"]));
}

#[test]
fn a_token_made_by_a_token_stays_within_its_parent() {
    let (_dir, server, ann) = setup("attenuation");
    let (parent, parent_record) = create(
        &server,
        &ann,
        r#"{"name":"p","expires":{"days":10},"scope":{"actions":["tokens.create","apps.read"]}}"#,
    );
    let parent_auth = bearer(&parent);
    let (child, child_record) = create(
        &server,
        &parent_auth,
        r#"{"name":"c","expires":{"days":5},"scope":{"actions":["apps.read"]}}"#,
    );
    assert_eq!(child_record["createdBy"]["kind"], "token");
    assert_eq!(child_record["createdBy"]["tokenId"], parent_record["id"]);
    assert_eq!(
        server
            .send("GET", "/api/apps", Some(&bearer(&child)), None)
            .status,
        200
    );
    let refusals = [
        (
            r#"{"name":"c","expires":{"days":5},"scope":{"actions":["apps.write"]}}"#,
            422,
            "SCOPE_EXCEEDS_PARENT",
        ),
        (
            r#"{"name":"c","expires":{"days":5},"scope":{"preset":"all"}}"#,
            422,
            "SCOPE_EXCEEDS_PARENT",
        ),
        (
            r#"{"name":"c","expires":"never","scope":{"actions":["apps.read"]}}"#,
            422,
            "EXPIRY_EXCEEDS_PARENT",
        ),
        (
            r#"{"name":"c","expires":{"days":11},"scope":{"actions":["apps.read"]}}"#,
            422,
            "EXPIRY_EXCEEDS_PARENT",
        ),
    ];
    for (body, status, code) in refusals {
        let response = server.send("POST", "/api/usertokens", Some(&parent_auth), Some(body));
        assert_eq!(
            (response.status, response.code().as_str()),
            (status, code),
            "{body}"
        );
    }
    // The child lacks tokens.create, so it cannot make tokens at all.
    let grandchild = server.send(
        "POST",
        "/api/usertokens",
        Some(&bearer(&child)),
        Some(r#"{"name":"g","expires":{"days":1},"scope":{"actions":["apps.read"]}}"#),
    );
    assert_eq!(
        (grandchild.status, grandchild.code().as_str()),
        (403, "PARENT_INVALID")
    );
}

#[test]
fn only_name_description_and_status_change() {
    let (_dir, server, ann) = setup("immutable");
    let (_, record) = create(
        &server,
        &ann,
        r#"{"name":"n","expires":{"days":3},"scope":{"preset":"read"}}"#,
    );
    let path = format!("/api/usertokens/{}", record["id"].as_str().unwrap());
    for body in [
        r#"{"scope":{"preset":"all"}}"#,
        r#"{"expiresAt":null}"#,
        r#"{"name":"x","expires":"never"}"#,
    ] {
        let response = server.send("PATCH", &path, Some(&ann), Some(body));
        assert_eq!(
            (response.status, response.code().as_str()),
            (422, "IMMUTABLE_FIELD"),
            "{body}"
        );
    }
    let unchanged = server.send("GET", &path, Some(&ann), None).json();
    assert_eq!(unchanged["name"], "n");
    assert_eq!(unchanged["expiresAt"], record["expiresAt"]);
    let renamed = server.send(
        "PATCH",
        &path,
        Some(&ann),
        Some(r#"{"name":"deploys","description":"from CI"}"#),
    );
    assert_eq!(renamed.status, 200);
    assert_eq!(renamed.json()["name"], "deploys");
    assert_eq!(renamed.json()["description"], "from CI");
    let bad = server.send("PATCH", &path, Some(&ann), Some(r#"{"name":""}"#));
    assert_eq!((bad.status, bad.code().as_str()), (422, "NAME_INVALID"));
    assert_eq!(
        server
            .send("PATCH", &path, Some(&ann), Some(r#"{"colour":"red"}"#))
            .status,
        400
    );
    assert_eq!(
        server
            .send("PATCH", &path, Some(&ann), Some(r#"{"status":"paused"}"#))
            .status,
        400
    );
}

#[test]
fn other_users_tokens_are_invisible() {
    let (dir, server, ann) = setup("isolation");
    cli(
        &dir,
        &["settings", "set", "members-can-create-tokens", "true"],
        "",
    );
    let bob = basic("bob", "bob-password");
    let (_, ann_record) = create(&server, &ann, r#"{"name":"a","scope":{"preset":"read"}}"#);
    let (_, bob_record) = create(&server, &bob, r#"{"name":"b","scope":{"preset":"read"}}"#);
    let path = format!("/api/usertokens/{}", ann_record["id"].as_str().unwrap());
    for (method, body) in [
        ("GET", None),
        ("PATCH", Some(r#"{"status":"inactive"}"#)),
        ("DELETE", None),
    ] {
        let response = server.send(method, &path, Some(&bob), body);
        assert_eq!(
            (response.status, response.code().as_str()),
            (404, "NOT_FOUND"),
            "{method}"
        );
    }
    let missing = server.send(
        "GET",
        "/api/usertokens/ffffffffffffffffffffffffffffffff",
        Some(&bob),
        None,
    );
    assert_eq!(
        missing.body,
        server.send("GET", &path, Some(&bob), None).body
    );
    let list = server
        .send("GET", "/api/usertokens", Some(&bob), None)
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], bob_record["id"]);
    assert_eq!(
        server.send("GET", &path, Some(&ann), None).json()["status"],
        "active"
    );
}

#[test]
fn deactivated_tokens_are_refused_until_reactivated_and_deleted_ones_for_good() {
    let (_dir, server, ann) = setup("status");
    let (token, record) = create(&server, &ann, r#"{"name":"s","scope":{"preset":"read"}}"#);
    let path = format!("/api/usertokens/{}", record["id"].as_str().unwrap());
    let auth = bearer(&token);
    assert_eq!(
        server.send("GET", "/api/whoami", Some(&auth), None).status,
        200
    );
    assert_eq!(
        server
            .send("PATCH", &path, Some(&ann), Some(r#"{"status":"inactive"}"#))
            .status,
        200
    );
    assert_eq!(
        server.send("GET", "/api/whoami", Some(&auth), None).status,
        401
    );
    assert_eq!(
        server
            .send("PATCH", &path, Some(&ann), Some(r#"{"status":"active"}"#))
            .status,
        200
    );
    assert_eq!(
        server.send("GET", "/api/whoami", Some(&auth), None).status,
        200
    );
    assert_eq!(server.send("DELETE", &path, Some(&ann), None).status, 204);
    assert_eq!(
        server.send("GET", "/api/whoami", Some(&auth), None).status,
        401
    );
    assert_eq!(server.send("GET", &path, Some(&ann), None).status, 404);
    assert_eq!(server.send("DELETE", &path, Some(&ann), None).status, 404);
}

#[test]
fn expiry_rotation_and_restarts_follow_the_clock() {
    let (dir, server, ann) = setup("clock");
    let (day, _) = create(
        &server,
        &ann,
        r#"{"name":"day","expires":{"days":1},"scope":{"preset":"read"}}"#,
    );
    let (old, old_record) = create(
        &server,
        &ann,
        r#"{"name":"old","expires":{"days":30},"scope":{"preset":"read"}}"#,
    );
    let (never, _) = create(
        &server,
        &ann,
        r#"{"name":"never","scope":{"preset":"all"}}"#,
    );
    let rotate = format!(
        "/api/usertokens/{}/rotate",
        old_record["id"].as_str().unwrap()
    );
    let rotated = server.send(
        "POST",
        &rotate,
        Some(&ann),
        Some(r#"{"graceSeconds":3600}"#),
    );
    assert_eq!(rotated.status, 201, "{}", rotated.body);
    let new = rotated.json()["token"].as_str().unwrap().to_string();
    assert_eq!(rotated.json()["record"]["rotatedFrom"], old_record["id"]);
    assert_eq!(rotated.json()["record"]["name"], "old");
    for token in [&day, &old, &new, &never] {
        assert_eq!(
            server
                .send("GET", "/api/whoami", Some(&bearer(token)), None)
                .status,
            200
        );
    }
    let soon = server
        .send("GET", "/api/usertokens/expiring?days=2", Some(&ann), None)
        .json();
    let names: Vec<&str> = soon
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"day") && names.contains(&"old"),
        "{names:?}"
    );
    assert!(!names.contains(&"never"));
    drop(server);

    // Two hours later: the grace period is over, the rest still works,
    // and everything survived the restart.
    let later = Server::start(&dir, &["--clock-offset-ms", &(2 * 3_600_000).to_string()]);
    assert_eq!(
        later
            .send("GET", "/api/whoami", Some(&bearer(&old)), None)
            .status,
        401
    );
    for token in [&day, &new, &never] {
        assert_eq!(
            later
                .send("GET", "/api/whoami", Some(&bearer(token)), None)
                .status,
            200
        );
    }
    drop(later);

    // Exactly one day later the day token is expired.
    let next_day = Server::start(&dir, &["--clock-offset-ms", &DAY_MS.to_string()]);
    assert_eq!(
        next_day
            .send("GET", "/api/whoami", Some(&bearer(&day)), None)
            .status,
        401
    );
    assert_eq!(
        next_day
            .send("GET", "/api/whoami", Some(&bearer(&new)), None)
            .status,
        200
    );
    let expired_rotation = next_day.send("POST", &rotate, Some(&ann), Some("{}"));
    assert_eq!(expired_rotation.code(), "TOKEN_EXPIRED");
}

#[test]
fn members_create_tokens_only_when_an_administrator_allows_it() {
    let (dir, server, ann) = setup("admin");
    let bob = basic("bob", "bob-password");
    let body = r#"{"name":"b","scope":{"preset":"read"}}"#;
    let refused = server.send("POST", "/api/usertokens", Some(&bob), Some(body));
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (403, "FORBIDDEN")
    );
    let out = cli(
        &dir,
        &["settings", "set", "members-can-create-tokens", "true"],
        "",
    );
    assert!(out.status.success());
    assert_eq!(
        server
            .send("POST", "/api/usertokens", Some(&bob), Some(body))
            .status,
        201
    );
    let settings = server.send("GET", "/api/settings", Some(&ann), None);
    assert_eq!(settings.json()["membersCanCreateTokens"], true);
    assert_eq!(
        server
            .send(
                "PUT",
                "/api/settings",
                Some(&bob),
                Some(r#"{"membersCanCreateTokens":false}"#)
            )
            .status,
        403
    );
    let off = server.send(
        "PUT",
        "/api/settings",
        Some(&ann),
        Some(r#"{"membersCanCreateTokens":false}"#),
    );
    assert_eq!(off.status, 200);
    assert_eq!(
        server
            .send("POST", "/api/usertokens", Some(&bob), Some(body))
            .status,
        403
    );
    let bad = cli(
        &dir,
        &["settings", "set", "members-can-create-tokens", "maybe"],
        "",
    );
    assert!(!bad.status.success());
}

#[test]
fn garbage_input_gets_a_clear_4xx_and_stores_nothing() {
    let (_dir, server, ann) = setup("garbage");
    let (token, _) = create(&server, &ann, r#"{"name":"keep","scope":{"preset":"all"}}"#);
    let cases: [(&str, u16, &str); 10] = [
        ("{not json", 400, "BAD_REQUEST"),
        ("[]", 400, "BAD_REQUEST"),
        (r#"{"name":"x"}"#, 400, "BAD_REQUEST"),
        (
            r#"{"name":"x","scope":{"preset":"all"},"extra":1}"#,
            400,
            "BAD_REQUEST",
        ),
        (
            r#"{"name":"x","scope":{"actions":[]}}"#,
            422,
            "SCOPE_INVALID",
        ),
        (
            r#"{"name":"x","expires":{"at":"tomorrow"},"scope":{"preset":"all"}}"#,
            400,
            "BAD_REQUEST",
        ),
        (
            r#"{"name":"x","expires":{"at":"10000-01-01T00:00:00Z"},"scope":{"preset":"all"}}"#,
            400,
            "BAD_REQUEST",
        ),
        (
            r#"{"name":"x","expires":{"days":100000000},"scope":{"preset":"all"}}"#,
            422,
            "EXPIRY_INVALID",
        ),
        (
            r#"{"name":"x","expires":{"days":1,"at":null},"scope":{"preset":"all"}}"#,
            400,
            "BAD_REQUEST",
        ),
        (
            "{\"name\":\"ci\\u200bprod\",\"scope\":{\"preset\":\"all\"}}",
            422,
            "NAME_INVALID",
        ),
    ];
    for (body, status, code) in cases {
        let response = server.send("POST", "/api/usertokens", Some(&ann), Some(body));
        assert_eq!(
            (response.status, response.code().as_str()),
            (status, code),
            "{body}"
        );
    }
    let huge = format!(
        r#"{{"name":"{}","scope":{{"preset":"all"}}}}"#,
        "x".repeat(100_000)
    );
    let response = server.send("POST", "/api/usertokens", Some(&ann), Some(&huge));
    assert_eq!(
        (response.status, response.code().as_str()),
        (413, "PAYLOAD_TOO_LARGE")
    );
    let long_token = format!("tsr_{}", "a".repeat(10_240));
    let response = server.send("GET", "/api/whoami", Some(&bearer(&long_token)), None);
    assert_eq!(response.status, 401);
    let control = common::request(
        server.addr,
        "GET",
        "/api/whoami",
        &[("Authorization", "Bearer tsr_\u{1}\u{7}abc")],
        None,
    );
    assert!((400..500).contains(&control.status), "{control:?}");
    // Nothing was stored, and the server still answers.
    let list = server
        .send("GET", "/api/usertokens", Some(&ann), None)
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(
        server
            .send("GET", "/api/whoami", Some(&bearer(&token)), None)
            .status,
        200
    );
    assert_eq!(server.send("GET", "/healthz", None, None).body, "ok");
}

#[test]
fn passwords_change_and_tokens_keep_working() {
    let (dir, server, ann) = setup("password");
    let (token, _) = create(&server, &ann, r#"{"name":"t","scope":{"preset":"all"}}"#);
    let changed = server.send(
        "PUT",
        "/api/password",
        Some(&ann),
        Some(r#"{"password":"new-password"}"#),
    );
    assert_eq!(changed.status, 204);
    assert_eq!(
        server
            .send("GET", "/api/usertokens", Some(&ann), None)
            .status,
        401
    );
    let new = basic("ann", "new-password");
    assert_eq!(
        server
            .send("GET", "/api/usertokens", Some(&new), None)
            .status,
        200
    );
    assert_eq!(
        server
            .send("GET", "/api/whoami", Some(&bearer(&token)), None)
            .status,
        200
    );
    let out = cli(&dir, &["user", "passwd", "ann"], "third-password\n");
    assert!(out.status.success());
    assert_eq!(
        server
            .send("GET", "/api/usertokens", Some(&new), None)
            .status,
        401
    );
    assert_eq!(
        server
            .send(
                "GET",
                "/api/usertokens",
                Some(&basic("ann", "third-password")),
                None
            )
            .status,
        200
    );
    assert_eq!(
        server
            .send("GET", "/api/whoami", Some(&bearer(&token)), None)
            .status,
        200
    );
}
