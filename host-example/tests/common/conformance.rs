//! One storage conformance suite, run against every backend: the calls the
//! plugin and the server make, and the token service on top of them.

use std::sync::Arc;

use serde_json::{Value, json};
use tessera_core::{Enablement, Standing};
use tessera_host::config::default_config;
use tessera_host::db::{Db, Session, StoredToken, TokenWrite};
use tessera_host::plugin::{Actor, Edit, Expiry, IssueRequest, Plugin, Request, Status};

fn token(id: &str, user: &str, hash: &str) -> StoredToken {
    StoredToken {
        id: id.into(),
        user_id: user.into(),
        hash: hash.into(),
        json: json!({ "id": id, "lastUsedAt": null, "name": "n…" }).to_string(),
    }
}

fn json(stored: &StoredToken) -> Value {
    serde_json::from_str(&stored.json).expect("stored JSON")
}

/// Runs every check on an empty database.
pub fn run(db: Arc<Db>) {
    storage(&db);
    writes_are_atomic(&db);
    users_and_settings(&db);
    standing(&db);
    sessions(&db);
    service(db.clone());
    super::lifecycle::replay(db);
}

/// A token's user's standing comes with its record, read in one go, and
/// every change of it puts the user's tokens in the change feed.
fn standing(db: &Db) {
    let start = db.changes(None, 1000).unwrap().cursor;
    put(db, token("s1", "stan", "h-s1"));
    put(db, token("s2", "stan", "h-s2"));
    put(db, token("o1", "olga", "h-o1"));
    let owner = |hash: &str| db.token_by_hash(hash).unwrap().expect("found").owner;
    let changed = |after: i64| -> Vec<String> {
        let mut hashes = db.changes(Some(after), 1000).unwrap().hashes;
        hashes.sort();
        hashes.dedup();
        hashes
    };
    // Not a user yet: enabled, and nothing changed.
    assert_eq!(owner("h-s1").tokens, Enablement::On);
    assert!(owner("h-s1").tokens_enabled());
    assert!(changed(start).is_empty());
    // Stan becomes a member who inherits the default (off).
    db.add_user("stan", "x", false, &tessera_host::db::Origin::operator(0))
        .unwrap();
    let expected = Standing {
        admin: false,
        tokens: Enablement::Inherit,
        members_enabled: false,
    };
    assert_eq!(owner("h-s1"), expected);
    assert_eq!(changed(start), ["h-s1", "h-s2"]);
    let after_add = db.changes(Some(start), 1000).unwrap().cursor;
    // The default on: his tokens change, Olga's (no user) do not.
    db.set_setting(
        "members-can-create-tokens",
        "true",
        &tessera_host::db::Origin::operator(0),
    )
    .unwrap();
    assert!(owner("h-s2").tokens_enabled());
    assert_eq!(changed(after_add), ["h-s1", "h-s2"]);
    let after_default = db.changes(Some(after_add), 1000).unwrap().cursor;
    // Switched off, then made an administrator: both are changes.
    assert!(
        db.set_user_tokens(
            "stan",
            Enablement::Off,
            &tessera_host::db::Origin::operator(0)
        )
        .unwrap()
    );
    assert_eq!(owner("h-s1").tokens, Enablement::Off);
    assert!(!owner("h-s1").tokens_enabled());
    assert_eq!(changed(after_default), ["h-s1", "h-s2"]);
    assert!(
        db.set_user_admin("stan", true, &tessera_host::db::Origin::operator(0))
            .unwrap()
    );
    assert!(owner("h-s1").tokens_enabled());
    let user = db.user("stan").unwrap().expect("stan");
    assert_eq!((user.admin, user.tokens), (true, Enablement::Off));
    assert!(db.users().unwrap().iter().any(|u| u.name == "stan"));
    // Setting what is already set changes nothing; unknown users are no
    // error, and false.
    let quiet = db.changes(Some(after_default), 1000).unwrap().cursor;
    assert!(
        db.set_user_tokens(
            "stan",
            Enablement::Off,
            &tessera_host::db::Origin::operator(0)
        )
        .unwrap()
    );
    assert!(changed(quiet).is_empty());
    assert!(
        !db.set_user_tokens(
            "nobody",
            Enablement::On,
            &tessera_host::db::Origin::operator(0)
        )
        .unwrap()
    );
    assert!(
        !db.set_user_admin("nobody", true, &tessera_host::db::Origin::operator(0))
            .unwrap()
    );
    assert_eq!(owner("h-o1").tokens, Enablement::On);
    db.apply_writes(
        &[
            TokenWrite::Delete("s1".into()),
            TokenWrite::Delete("s2".into()),
            TokenWrite::Delete("o1".into()),
        ],
        &tessera_host::db::Origin::operator(0),
    )
    .unwrap();
    db.set_setting(
        "members-can-create-tokens",
        "false",
        &tessera_host::db::Origin::operator(0),
    )
    .unwrap();
}

/// An operation's writes land together or not at all.
fn writes_are_atomic(db: &Db) {
    db.apply_writes(
        &[
            TokenWrite::Put(token("w1", "u3", "h-w1")),
            TokenWrite::Put(token("w2", "u3", "h-w2")),
        ],
        &tessera_host::db::Origin::operator(0),
    )
    .unwrap();
    assert_eq!(db.tokens_of("u3").unwrap().len(), 2);
    // The second put collides with w1's hash (unique): neither the delete
    // before it nor the put after it may take effect.
    let failed = db.apply_writes(
        &[
            TokenWrite::Delete("w2".into()),
            TokenWrite::Put(token("w3", "u3", "h-w1")),
            TokenWrite::Put(token("w4", "u3", "h-w4")),
        ],
        &tessera_host::db::Origin::operator(0),
    );
    assert!(failed.is_err());
    let mut ids: Vec<String> = db
        .tokens_of("u3")
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    ids.sort();
    assert_eq!(ids, ["w1", "w2"]);
    db.apply_writes(
        &[
            TokenWrite::Delete("w1".into()),
            TokenWrite::Delete("w2".into()),
        ],
        &tessera_host::db::Origin::operator(0),
    )
    .unwrap();
    assert_eq!(db.tokens_of("u3").unwrap().len(), 0);
}

/// Stores one record, as an operation of one write.
fn put(db: &Db, token: StoredToken) {
    db.apply_writes(
        &[TokenWrite::Put(token)],
        &tessera_host::db::Origin::operator(0),
    )
    .unwrap();
}

fn storage(db: &Db) {
    assert_eq!(db.token_by_hash("h-a").unwrap(), None);
    assert_eq!(db.token_by_id("a").unwrap(), None);
    put(db, token("a", "u1", "h-a"));
    put(db, token("b", "u1", "h-b"));
    put(db, token("c", "u2", "h-c"));
    let found = db.token_by_hash("h-a").unwrap().expect("a by hash");
    // u1 is no user of the host: not governed by enablement.
    assert_eq!(found.owner.tokens, Enablement::On);
    let a = found.token;
    assert_eq!((a.id.as_str(), a.user_id.as_str()), ("a", "u1"));
    assert_eq!(json(&a), json(&token("a", "u1", "h-a")));
    assert_eq!(db.token_by_id("c").unwrap().expect("c by id").hash, "h-c");
    assert_eq!(db.tokens_of("u1").unwrap().len(), 2);
    assert_eq!(db.tokens_of("nobody").unwrap().len(), 0);
    let mut ids: Vec<String> = db
        .tokens_of("u1")
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    ids.sort();
    assert_eq!(ids, ["a", "b"]);
    // Replacing a record under a new hash leaves no trace of the old one.
    put(db, token("a", "u1", "h-a2"));
    assert_eq!(db.token_by_hash("h-a").unwrap(), None);
    assert_eq!(
        db.token_by_hash("h-a2")
            .unwrap()
            .expect("new hash")
            .token
            .id,
        "a"
    );
    assert_eq!(db.tokens_of("u1").unwrap().len(), 2);
    // Touch writes lastUsedAt into the record and nothing else.
    db.touch_token("a", 1_800_000_000_123).unwrap();
    let touched = json(&db.token_by_id("a").unwrap().expect("a"));
    assert_eq!(touched["lastUsedAt"], json!(1_800_000_000_123_i64));
    assert_eq!(touched["name"], "n…");
    db.touch_token("missing", 1).unwrap();
    let delete_a = [TokenWrite::Delete("a".into())];
    db.apply_writes(&delete_a, &tessera_host::db::Origin::operator(0))
        .unwrap();
    assert_eq!(db.token_by_id("a").unwrap(), None);
    // Deleting what is not there is no error and changes nothing.
    db.apply_writes(&delete_a, &tessera_host::db::Origin::operator(0))
        .unwrap();
    assert_eq!(db.token_by_hash("h-a2").unwrap(), None);
    assert_eq!(db.tokens_of("u1").unwrap().len(), 1);
}

fn users_and_settings(db: &Db) {
    assert_eq!(db.user_count().unwrap(), 0);
    db.add_user(
        "ann",
        "hash-1",
        true,
        &tessera_host::db::Origin::operator(0),
    )
    .unwrap();
    db.add_user(
        "bob",
        "hash-2",
        false,
        &tessera_host::db::Origin::operator(0),
    )
    .unwrap();
    assert!(
        db.add_user(
            "ann",
            "other",
            false,
            &tessera_host::db::Origin::operator(0)
        )
        .is_err()
    );
    let ann = db.user("ann").unwrap().expect("ann");
    assert!(ann.admin);
    assert_eq!(ann.password_hash, "hash-1");
    assert!(!db.user("bob").unwrap().expect("bob").admin);
    assert!(db.user("carol").unwrap().is_none());
    assert!(
        db.set_password("ann", "hash-3", &tessera_host::db::Origin::operator(0))
            .unwrap()
    );
    assert!(
        !db.set_password("carol", "x", &tessera_host::db::Origin::operator(0))
            .unwrap()
    );
    assert_eq!(
        db.user("ann").unwrap().expect("ann").password_hash,
        "hash-3"
    );
    assert_eq!(db.user_count().unwrap(), 2);
    assert_eq!(db.setting("k").unwrap(), None);
    db.set_setting("k", "v1", &tessera_host::db::Origin::operator(0))
        .unwrap();
    db.set_setting("k", "v2", &tessera_host::db::Origin::operator(0))
        .unwrap();
    assert_eq!(db.setting("k").unwrap().as_deref(), Some("v2"));
}

fn sessions(db: &Db) {
    let session = |id: &str, user: &str, at: i64| Session {
        id: id.into(),
        user: user.into(),
        created_at: at,
        last_seen_at: at,
    };
    db.add_user(
        "dee",
        "hash-d",
        false,
        &tessera_host::db::Origin::operator(0),
    )
    .unwrap();
    db.add_user(
        "eve",
        "hash-e",
        false,
        &tessera_host::db::Origin::operator(0),
    )
    .unwrap();
    db.create_session(&session("s1", "dee", 100), 0, 0).unwrap();
    db.create_session(&session("s2", "dee", 100), 0, 0).unwrap();
    db.create_session(&session("s3", "eve", 100), 0, 0).unwrap();
    assert!(db.create_session(&session("s1", "eve", 100), 0, 0).is_err());
    assert_eq!(db.session("s1").unwrap(), Some(session("s1", "dee", 100)));
    db.touch_session("s1", 150).unwrap();
    assert_eq!(db.session("s1").unwrap().unwrap().last_seen_at, 150);
    assert!(db.delete_session("s1").unwrap());
    assert!(!db.delete_session("s1").unwrap());
    assert_eq!(db.session("s1").unwrap(), None);
    // A password change ends every session of that user, no one else's.
    assert!(
        db.set_password("dee", "hash-d2", &tessera_host::db::Origin::operator(0))
            .unwrap()
    );
    assert_eq!(db.session("s2").unwrap(), None);
    assert!(db.session("s3").unwrap().is_some());
    // Creating a session forgets the ones that ended.
    db.create_session(&session("s4", "eve", 200), 101, 0)
        .unwrap();
    assert_eq!(db.session("s3").unwrap(), None, "idle");
    db.create_session(&session("s5", "eve", 300), 0, 201)
        .unwrap();
    assert_eq!(db.session("s4").unwrap(), None, "too old");
    assert!(db.session("s5").unwrap().is_some());
}

/// The token service over this backend: issue, verify, last-used,
/// deactivate, rotate, delete.
fn service(db: Arc<Db>) {
    let plugin = Plugin::new(db.clone(), default_config().to_string()).expect("plugin");
    let now = 1_800_000_000_000;
    let svc = Actor::user("svc", Standing::OWNER);
    let issue = |name: &str, entropy: u8| {
        let request = IssueRequest {
            name: name.into(),
            description: None,
            expires: Expiry::Days(30),
            scope: r#"{"preset":"read"}"#.into(),
            allowed_ips: Vec::new(),
        };
        plugin
            .issue(
                &tessera_host::db::Origin::operator(0),
                &svc,
                &request,
                now,
                &[entropy; 32],
            )
            .unwrap()
            .expect("issued")
    };
    let read = Request {
        action: "apps.read".into(),
        resource: None,
    };
    let first = issue("first", 1);
    let id = serde_json::from_str::<Value>(&first.record).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let principal = plugin
        .verify(&first.token, Some(&read), None, now)
        .unwrap()
        .expect("valid");
    assert_eq!(principal.user_id, "svc");
    let stored = json(&db.token_by_id(&id).unwrap().expect("stored"));
    assert_eq!(stored["lastUsedAt"], json!(now));
    let off = Edit {
        name: None,
        description: None,
        status: Some(Status::Inactive),
    };
    plugin
        .update(
            &tessera_host::db::Origin::operator(0),
            &svc,
            &id,
            &off,
            false,
            now,
        )
        .unwrap()
        .expect("updated");
    let refused = plugin.verify(&first.token, Some(&read), None, now).unwrap();
    assert_eq!(refused.expect_err("inactive").code, "TOKEN_INACTIVE");
    let on = Edit {
        status: Some(Status::Active),
        ..off
    };
    plugin
        .update(
            &tessera_host::db::Origin::operator(0),
            &svc,
            &id,
            &on,
            false,
            now,
        )
        .unwrap()
        .expect("updated");
    let rotated = plugin
        .rotate(
            &tessera_host::db::Origin::operator(0),
            &svc,
            &id,
            0,
            now,
            &[2; 32],
        )
        .unwrap()
        .expect("rotated");
    let old = plugin.verify(&first.token, Some(&read), None, now).unwrap();
    assert_eq!(old.expect_err("rotated out").code, "TOKEN_EXPIRED");
    assert!(
        plugin
            .verify(&rotated.token, Some(&read), None, now)
            .unwrap()
            .is_ok()
    );
    assert_eq!(plugin.list(&svc, now).unwrap().expect("list").len(), 2);
    plugin
        .delete(
            &tessera_host::db::Origin::operator(0),
            &svc,
            &id,
            false,
            now,
        )
        .unwrap()
        .expect("deleted");
    assert_eq!(plugin.list(&svc, now).unwrap().expect("list").len(), 1);
    let second = issue("second", 3);
    assert!(
        plugin
            .verify(&second.token, Some(&read), None, now)
            .unwrap()
            .is_ok()
    );
}
