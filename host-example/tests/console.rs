//! The administrator's console through the real binary: an administrator
//! lists another user's tokens (with filters), deactivates, re-activates and
//! deletes them (cascades included) and deactivates all of them at once; a
//! member can do none of it, a token cannot either, and an administrator can
//! never rename, rotate or create another user's tokens. A user may
//! deactivate all of their own tokens at once.

mod common;

use common::{Server, add_user, basic, bearer, cli, create, temp_dir};
use serde_json::{Value, json};

fn id(record: &Value) -> String {
    record["id"].as_str().expect("id").to_string()
}

fn ids(list: &Value) -> Vec<String> {
    let mut ids: Vec<String> = list.as_array().expect("a list").iter().map(id).collect();
    ids.sort();
    ids
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

#[test]
fn an_administrator_manages_another_users_tokens_and_a_member_cannot() {
    let dir = temp_dir("console");
    add_user(&dir, "ann", "ann-password", true);
    add_user(&dir, "bob", "bob-password", false);
    add_user(&dir, "carol", "carol-password", false);
    let on = cli(
        &dir,
        &["settings", "set", "members-can-create-tokens", "true"],
        "",
    );
    assert!(on.status.success());
    let server = Server::start(&dir, &[]);
    let ann = basic("ann", "ann-password");
    let bob = basic("bob", "bob-password");
    let carol = basic("carol", "carol-password");
    let whoami = |token: &str| {
        server
            .send("GET", "/api/whoami", Some(&bearer(token)), None)
            .status
    };

    let (parent, parent_record) = create(
        &server,
        &bob,
        r#"{"name":"parent","expires":{"days":10},"scope":{"preset":"all"}}"#,
    );
    let (child, child_record) = create(
        &server,
        &bearer(&parent),
        r#"{"name":"child","expires":{"days":5},"scope":{"preset":"read"}}"#,
    );
    let (solo, solo_record) = create(
        &server,
        &bob,
        r#"{"name":"solo","scope":{"preset":"read"}}"#,
    );
    let (carols, carol_record) = create(
        &server,
        &carol,
        r#"{"name":"carol's","scope":{"preset":"read"}}"#,
    );
    let (anns, _) = create(
        &server,
        &ann,
        r#"{"name":"ann's","scope":{"preset":"all"}}"#,
    );
    let bobs = |query: &str| {
        let listed = server.send(
            "GET",
            &format!("/api/admin/users/bob/tokens{query}"),
            Some(&ann),
            None,
        );
        assert_eq!(listed.status, 200, "{query}: {}", listed.body);
        assert!(!listed.body.contains(&parent) && !listed.body.contains(&solo));
        listed.json()
    };

    // Listing, with filters; never a token value or hash.
    let all = bobs("");
    assert_eq!(
        ids(&all),
        sorted(vec![
            id(&parent_record),
            id(&child_record),
            id(&solo_record)
        ])
    );
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|r| r.get("hash").is_none())
    );
    assert_eq!(ids(&bobs("?createdBy=token")), vec![id(&child_record)]);
    assert_eq!(ids(&bobs("?createdBy=user")).len(), 2);
    assert_eq!(whoami(&solo), 200);
    // Last uses are written off the request path, within about a second.
    let mut never_used = Vec::new();
    for _ in 0..50 {
        never_used = ids(&bobs("?neverUsed=true"));
        if !never_used.contains(&id(&solo_record)) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // The parent was used too: it created the child.
    assert_eq!(never_used, vec![id(&child_record)]);
    // Expiring within 7 days: the child (5 days), not the parent (10 days)
    // or the solo token (a year ahead); within 30 days, the parent too.
    assert_eq!(ids(&bobs("?expiringDays=7")), vec![id(&child_record)]);
    assert_eq!(
        ids(&bobs("?expiringDays=30&createdBy=user")),
        vec![id(&parent_record)]
    );
    for bad in [
        "?status=gone",
        "?createdBy=admin",
        "?neverUsed=maybe",
        "?other=1",
        "?expiringDays=-1",
        "?expiringDays=soon",
        "?expiringDays=999999999999999",
    ] {
        let refused = server.send(
            "GET",
            &format!("/api/admin/users/bob/tokens{bad}"),
            Some(&ann),
            None,
        );
        assert_eq!(refused.status, 400, "{bad}");
    }

    // Deactivating with cascade reaches what the token made.
    let path = |record: &Value| format!("/api/admin/users/bob/tokens/{}", id(record));
    let off = server.send(
        "PATCH",
        &format!("{}?cascade=true", path(&parent_record)),
        Some(&ann),
        Some(r#"{"status":"inactive"}"#),
    );
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(off.json()["deactivated"], json!([id(&child_record)]));
    assert_eq!(
        (whoami(&parent), whoami(&child), whoami(&solo)),
        (401, 401, 200)
    );
    assert_eq!(ids(&bobs("?status=inactive")).len(), 2);
    // Re-activation (no cascade) of the parent alone.
    let back = server.send(
        "PATCH",
        &path(&parent_record),
        Some(&ann),
        Some(r#"{"status":"active"}"#),
    );
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!((whoami(&parent), whoami(&child)), (200, 401));

    // What an administrator may never do to another user's token.
    let renamed = server.send(
        "PATCH",
        &path(&solo_record),
        Some(&ann),
        Some(r#"{"name":"mine now"}"#),
    );
    assert_eq!((renamed.status, renamed.code()), (403, "FORBIDDEN".into()));
    // Rotating or creating needs the owner's own routes: the console has none,
    // and the owner's routes act on the caller's own tokens only.
    let rotate = server.send(
        "POST",
        &format!("/api/usertokens/{}/rotate", id(&solo_record)),
        Some(&ann),
        Some("{}"),
    );
    assert_eq!(rotate.status, 404);
    // The reach is the named user: carol's token under bob's name is not found.
    let elsewhere = server.send(
        "DELETE",
        &format!("/api/admin/users/bob/tokens/{}", id(&carol_record)),
        Some(&ann),
        None,
    );
    assert_eq!(
        (elsewhere.status, elsewhere.code()),
        (404, "NOT_FOUND".into())
    );
    assert_eq!(whoami(&carols), 200);

    // A member is no administrator; a token is no password.
    for (method, route, body) in [
        ("GET", "/api/admin/users/carol/tokens".to_string(), None),
        (
            "PATCH",
            format!("/api/admin/users/carol/tokens/{}", id(&carol_record)),
            Some(r#"{"status":"inactive"}"#),
        ),
        (
            "DELETE",
            format!("/api/admin/users/carol/tokens/{}", id(&carol_record)),
            None,
        ),
        (
            "POST",
            "/api/admin/users/carol/tokens/deactivate".to_string(),
            None,
        ),
    ] {
        let by_member = server.send(method, &route, Some(&bob), body);
        assert_eq!(
            (by_member.status, by_member.code()),
            (403, "FORBIDDEN".into()),
            "{method} {route}"
        );
        let by_token = server.send(method, &route, Some(&bearer(&anns)), body);
        assert_eq!(by_token.status, 401, "{method} {route}");
    }
    assert_eq!(
        whoami(&carols),
        200,
        "nothing a member tried changed carol's token"
    );

    // Deactivate all of bob's tokens in one action.
    let all_off = server.send(
        "POST",
        "/api/admin/users/bob/tokens/deactivate",
        Some(&ann),
        None,
    );
    assert_eq!(all_off.status, 200, "{}", all_off.body);
    let deactivated: Vec<String> =
        serde_json::from_value(all_off.json()["deactivated"].clone()).expect("ids");
    assert_eq!(
        sorted(deactivated),
        sorted(vec![id(&parent_record), id(&solo_record)]),
        "the active ones"
    );
    assert_eq!(
        (whoami(&parent), whoami(&child), whoami(&solo)),
        (401, 401, 401)
    );
    assert_eq!(whoami(&anns), 200);
    let again = server.send(
        "POST",
        "/api/admin/users/bob/tokens/deactivate",
        Some(&ann),
        None,
    );
    assert_eq!(again.json()["deactivated"], json!([]));

    // Deleting with cascade.
    let deleted = server.send(
        "DELETE",
        &format!("{}?cascade=true", path(&parent_record)),
        Some(&ann),
        None,
    );
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(
        sorted(serde_json::from_value(deleted.json()["deleted"].clone()).unwrap()),
        sorted(vec![id(&parent_record), id(&child_record)])
    );
    assert_eq!(ids(&bobs("")), vec![id(&solo_record)]);

    // A user deactivates all of their own tokens; a token may not.
    let by_token = server.send(
        "POST",
        "/api/usertokens/deactivate",
        Some(&bearer(&carols)),
        None,
    );
    assert_eq!(
        (by_token.status, by_token.code()),
        (403, "FORBIDDEN".into())
    );
    assert_eq!(whoami(&carols), 200);
    let own = server.send("POST", "/api/usertokens/deactivate", Some(&carol), None);
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.json()["deactivated"], json!([id(&carol_record)]));
    assert_eq!(whoami(&carols), 401);
    assert_eq!(whoami(&anns), 200, "only carol's");
}
