//! The audit log through the real binary: every token event and settings
//! change, with who, from where and when; who may read which events
//! (`GET /api/audit`), paging, bad filters, `tessera-host audit export`,
//! and never a secret in any of it. The same scenario runs on SQLite and
//! (with `--ignored`) on PostgreSQL.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Server, add_user_db, basic, bearer, cli_ok, create, temp_dir};
use serde_json::{Value, json};

/// Every event `auth` may read with `query`, following the cursor.
fn read_all(server: &Server, auth: &str, query: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let path = match &cursor {
            Some(c) => format!("/api/audit?limit=3&cursor={c}{query}"),
            None => format!("/api/audit?limit=3{query}"),
        };
        let page = server.send("GET", &path, Some(auth), None);
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        let page = page.json();
        events.extend(page["events"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return events,
        }
    }
    panic!("the cursor never ended");
}

fn of<'a>(events: &'a [Value], event: &str, token: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["event"] == event && e["tokenId"] == token)
        .collect()
}

/// Waits (at most 5 s) until `auth` reads an event `event` of `token`.
fn await_event(server: &Server, auth: &str, event: &str, token: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let events = read_all(server, auth, &format!("&tokenId={token}&event={event}"));
        if let Some(found) = events.first() {
            return found.clone();
        }
        assert!(Instant::now() < deadline, "no {event} of {token}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn scenario(db: &str, dir: &Path) {
    add_user_db(db, "ann", "ann-password", true);
    add_user_db(db, "bob", "bob-password", false);
    add_user_db(db, "carol", "carol-password", false);
    cli_ok(
        db,
        &["settings", "set", "members-can-create-tokens", "true"],
    );
    let server = Server::start_logged_db(db, dir, &[], &[]);
    let ann = basic("ann", "ann-password");
    let bob = basic("bob", "bob-password");
    let carol = basic("carol", "carol-password");
    let all = r#"{"name":"ci","scope":{"preset":"all"}}"#;

    // Bob by password, then a child by his token; carol one of her own.
    let (parent, parent_json) = create(&server, &bob, all);
    let parent_id = parent_json["id"].as_str().unwrap().to_owned();
    let (child, child_json) = create(
        &server,
        &bearer(&parent),
        r#"{"name":"child","scope":{"preset":"read"}}"#,
    );
    let child_id = child_json["id"].as_str().unwrap().to_owned();
    let (carol_token, carol_json) = create(&server, &carol, all);
    let carol_id = carol_json["id"].as_str().unwrap().to_owned();

    let created = await_event(&server, &ann, "token.created", &parent_id);
    assert_eq!(created["userId"], "bob");
    assert_eq!(
        created["actor"],
        json!({ "kind": "password", "userId": "bob" })
    );
    assert_eq!(created["address"], "127.0.0.1");
    let by_token = await_event(&server, &ann, "token.created", &child_id);
    assert_eq!(
        by_token["actor"],
        json!({ "kind": "token", "userId": "bob", "tokenId": parent_id })
    );

    // One edit, each change its event, in one request.
    let edited = server.send(
        "PATCH",
        &format!("/api/usertokens/{child_id}"),
        Some(&bob),
        Some(r#"{"name":"renamed","description":"d","status":"inactive"}"#),
    );
    assert_eq!(edited.status, 200, "{}", edited.body);
    for event in ["token.renamed", "token.described", "token.deactivated"] {
        await_event(&server, &bob, event, &child_id);
    }
    let back = server.send(
        "PATCH",
        &format!("/api/usertokens/{child_id}"),
        Some(&bob),
        Some(r#"{"status":"active"}"#),
    );
    assert_eq!(back.status, 200, "{}", back.body);
    await_event(&server, &bob, "token.reactivated", &child_id);

    // First use, written with the batched last use.
    assert_eq!(
        server
            .send("GET", "/api/whoami", Some(&bearer(&child)), None)
            .status,
        200
    );
    let used = await_event(&server, &bob, "token.first-used", &child_id);
    assert_eq!(used["actor"]["tokenId"], child_id.as_str());
    // A second use is no event.
    server.send("GET", "/api/whoami", Some(&bearer(&child)), None);

    // A rotation: the old token rotated, the new one created.
    let rotated = server.send(
        "POST",
        &format!("/api/usertokens/{parent_id}/rotate"),
        Some(&bob),
        Some(r#"{"graceSeconds":60}"#),
    );
    assert_eq!(rotated.status, 201, "{}", rotated.body);
    let rotated = rotated.json();
    let new_token = rotated["token"].as_str().unwrap().to_owned();
    let new_id = rotated["record"]["id"].as_str().unwrap().to_owned();
    await_event(&server, &bob, "token.rotated", &parent_id);
    await_event(&server, &bob, "token.created", &new_id);

    // What a member may read: their own events, never another user's.
    let bobs = read_all(&server, &bob, "");
    assert!(!bobs.is_empty());
    for event in &bobs {
        assert!(
            event["userId"] == "bob" || event["actor"]["userId"] == "bob",
            "bob reads {event}"
        );
    }
    assert!(of(&bobs, "token.created", &carol_id).is_empty());
    let carols = read_all(&server, &carol, "");
    assert!(
        carols
            .iter()
            .all(|e| e["userId"] == "carol" || e["actor"]["userId"] == "carol")
    );
    let asked = server.send("GET", "/api/audit?user=carol", Some(&bob), None);
    assert_eq!((asked.status, asked.code()), (404, "NOT_FOUND".into()));
    let own = server.send("GET", "/api/audit?user=bob", Some(&bob), None);
    assert_eq!(own.status, 200);
    // Another user's token id is only a filter: it finds nothing.
    let theirs = server.send(
        "GET",
        &format!("/api/audit?tokenId={carol_id}"),
        Some(&bob),
        None,
    );
    assert_eq!(theirs.json()["events"], json!([]));
    // Carol deactivates her token: an inactive token reads nothing either.
    let inactive = server.send(
        "PATCH",
        &format!("/api/usertokens/{carol_id}"),
        Some(&carol),
        Some(r#"{"status":"inactive"}"#),
    );
    assert_eq!(inactive.status, 200, "{}", inactive.body);
    // No token reads the log, not even an administrator's broadest (nor a
    // rotated one, `parent`, or an inactive one, carol's).
    let (ann_token, _) = create(&server, &ann, all);
    for token in [&ann_token, &parent, &child, &carol_token] {
        let answer = server.send("GET", "/api/audit", Some(&bearer(token)), None);
        assert_eq!(answer.status, 401, "{}", answer.body);
    }
    assert_eq!(server.send("GET", "/api/audit", None, None).status, 401);
    let wrong = basic("bob", "not-his-password");
    assert_eq!(
        server.send("GET", "/api/audit", Some(&wrong), None).status,
        401
    );

    // An administrator reads everyone's, and filters by user.
    let everything = read_all(&server, &ann, "");
    assert!(!of(&everything, "token.created", &carol_id).is_empty());
    let only_carol = read_all(&server, &ann, "&user=carol");
    assert!(
        only_carol
            .iter()
            .all(|e| e["userId"] == "carol" || e["actor"]["userId"] == "carol")
    );
    assert!(!only_carol.is_empty());

    // The administrator deletes bob's rotated-in token and its tree... the
    // child was made by the old one; delete the old one with cascade.
    let deleted = server.send(
        "DELETE",
        &format!("/api/admin/users/bob/tokens/{parent_id}?cascade=true"),
        Some(&ann),
        None,
    );
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    let root = await_event(&server, &ann, "token.deleted", &parent_id);
    assert_eq!(root["actor"], json!({ "kind": "admin", "userId": "ann" }));
    assert_eq!(root["userId"], "bob");
    assert_eq!(root["detail"]["cascade"], json!([child_id]));
    let leaf = await_event(&server, &ann, "token.deleted", &child_id);
    assert_eq!(leaf["detail"]["cascadeOf"], parent_id.as_str());
    // Bob sees what was done to his tokens, by whom.
    await_event(&server, &bob, "token.deleted", &child_id);

    // Switching bob off is an event; his refused token is one, once a
    // minute however often it is tried.
    let off = server.send(
        "PUT",
        "/api/users/bob/tokens",
        Some(&ann),
        Some(r#"{"tokens":"off"}"#),
    );
    assert_eq!(off.status, 200, "{}", off.body);
    for _ in 0..5 {
        assert_eq!(
            server
                .send("GET", "/api/whoami", Some(&bearer(&new_token)), None)
                .status,
            401
        );
    }
    let refused = read_all(
        &server,
        &ann,
        &format!("&tokenId={new_id}&event=token.refused"),
    );
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["detail"]["code"], "TOKENS_DISABLED");
    assert_eq!(refused[0]["userId"], "bob");
    let switched = read_all(&server, &ann, "&event=user.tokens&user=bob");
    assert_eq!(switched[0]["detail"]["tokens"], "off");
    assert_eq!(
        switched[0]["actor"],
        json!({ "kind": "admin", "userId": "ann" })
    );
    // A member may not switch anyone, and that leaves no event.
    let by_member = server.send(
        "PUT",
        "/api/users/carol/tokens",
        Some(&bob),
        Some(r#"{"tokens":"on"}"#),
    );
    assert_eq!(by_member.status, 403);
    assert!(read_all(&server, &ann, "&event=user.tokens&user=carol").is_empty());

    // Settings changes: by the operator (CLI) and by an administrator.
    let settings = read_all(&server, &ann, "&event=setting.changed");
    assert!(
        settings
            .iter()
            .any(|e| e["actor"] == json!({ "kind": "operator" })
                && e["detail"] == json!({ "key": "members-can-create-tokens", "value": "true" }))
    );
    let put = server.send(
        "PUT",
        "/api/settings",
        Some(&ann),
        Some(r#"{"membersCanCreateTokens":false}"#),
    );
    assert_eq!(put.status, 200, "{}", put.body);
    let latest = &read_all(&server, &ann, "&event=setting.changed")[0];
    assert_eq!(latest["detail"]["value"], "false");
    assert_eq!(latest["actor"]["userId"], "ann");
    let users = read_all(&server, &ann, "&event=user.added");
    assert_eq!(users.len(), 3);
    // A password change: the user's own, by password; the event says so
    // and holds nothing of either password.
    let changed = server.send(
        "PUT",
        "/api/password",
        Some(&carol),
        Some(r#"{"password":"carols-new-password"}"#),
    );
    assert_eq!(changed.status, 204, "{}", changed.body);
    let password = &read_all(&server, &ann, "&event=user.password&user=carol")[0];
    assert_eq!(
        password["actor"],
        json!({ "kind": "password", "userId": "carol" })
    );

    // Bad filters are a 400 with a clear message, never a 500.
    for bad in [
        "limit=0",
        "limit=501",
        "limit=ten",
        "cursor=-1",
        "cursor=abc",
        "since=yesterday",
        "event=token.exploded",
        "colour=red",
    ] {
        let answer = server.send("GET", &format!("/api/audit?{bad}"), Some(&ann), None);
        assert_eq!(
            (answer.status, answer.code()),
            (400, "BAD_REQUEST".into()),
            "{bad}"
        );
    }
    // A huge filter value is only a filter.
    let long = "x".repeat(4000);
    let answer = server.send(
        "GET",
        &format!("/api/audit?tokenId={long}"),
        Some(&ann),
        None,
    );
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["events"], json!([]));
    // The log is append-only through the API.
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        let answer = server.send(method, "/api/audit", Some(&ann), Some("{}"));
        assert_eq!(answer.status, 405, "{method}");
    }
    // `since` keeps later events only.
    let since = everything.last().unwrap()["at"].as_i64().unwrap();
    assert!(read_all(&server, &ann, &format!("&since={since}")).len() >= everything.len());
    let future = since + 86_400_000 * 365;
    assert!(read_all(&server, &ann, &format!("&since={future}")).is_empty());

    // The export: every event, oldest first, the API's in reverse.
    let full = read_all(&server, &ann, "");
    let exported = cli_ok(db, &["audit", "export"]);
    let lines: Vec<Value> = exported
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    let mut newest_first = lines.clone();
    newest_first.reverse();
    assert_eq!(newest_first, full);
    let middle = lines[lines.len() / 2]["seq"].as_i64().unwrap();
    let rest = cli_ok(db, &["audit", "export", "--after", &middle.to_string()]);
    assert_eq!(rest.lines().count(), lines.len() - lines.len() / 2 - 1);

    // No secret anywhere: tokens, their hashes, password hashes.
    for token in [&parent, &child, &carol_token, &ann_token, &new_token] {
        let hash = tessera_core::hash(token, None).to_hex();
        assert!(!exported.contains(token.as_str()), "a token in the log");
        assert!(!exported.contains(&hash), "a token hash in the log");
    }
    assert!(!exported.contains("$argon2"), "a password hash in the log");
    assert!(!exported.contains("password\":"), "{exported}");
}

#[test]
fn the_audit_log_records_who_did_what_and_shows_each_their_own() {
    let dir = temp_dir("audit");
    scenario(&common::sqlite(&dir), &dir);
}

#[test]
#[ignore = "needs PostgreSQL: run scripts/test-postgres.sh"]
fn the_same_on_postgresql() {
    let cluster = common::pg::PgCluster::start("audit");
    let url = cluster.database("audit");
    let dir = temp_dir("pg-audit");
    scenario(&url, &dir);
}
