//! The shared vectors (`tests/vectors/*.json`) run through the plugin: the
//! component in wasmtime, with its storage in SQLite, exactly as the
//! server uses it.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use common::lifecycle::stored;
use serde_json::{Value, json};
use tessera_core::{Enablement, Standing};
use tessera_host::db::{Db, TokenWrite};
use tessera_host::plugin::{Actor, Expiry, IssueRequest, Plugin, Request};

fn load(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/vectors")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("vector file")).expect("JSON")
}

fn entropy(case: &Value) -> [u8; 32] {
    let hex = case["entropy"].as_str().expect("entropy");
    let bytes: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
        .collect();
    bytes.try_into().expect("32 bytes")
}

/// A plugin for a vector deployment over a fresh in-memory database holding
/// `records`.
fn plugin(file: &Value, deployment: &str, records: &[&Value]) -> (Arc<Db>, Plugin) {
    let db = Arc::new(Db::in_memory().expect("database"));
    for record in records {
        db.apply_writes(
            &[TokenWrite::Put(stored(record))],
            &tessera_host::db::Origin::operator(0),
        )
        .expect("put");
    }
    let config = file["deployments"][deployment].to_string();
    let plugin = Plugin::new(db.clone(), config).expect("plugin");
    (db, plugin)
}

/// The record as lists show it: without the hash.
fn public(record: &Value) -> Value {
    let mut record = record.clone();
    record.as_object_mut().expect("object").remove("hash");
    record
}

fn stored_json(db: &Db, id: &str) -> Value {
    let token = db.token_by_id(id).expect("read").expect("stored");
    serde_json::from_str(&token.json).expect("JSON")
}

fn expiry(value: Option<&Value>) -> Expiry {
    match value {
        None => Expiry::Never,
        Some(v) if v == "never" => Expiry::Never,
        Some(v) if v.get("days").is_some() => Expiry::Days(v["days"].as_i64().expect("days")),
        Some(v) => Expiry::At(v["at"].as_i64()),
    }
}

#[test]
fn verify_vectors_through_the_plugin() {
    let file = load("verify.json");
    let records: Vec<&Value> = file["records"]
        .as_array()
        .expect("records")
        .iter()
        .collect();
    for case in file["cases"].as_array().expect("cases") {
        let (db, plugin) = plugin(&file, case["deployment"].as_str().expect("name"), &records);
        // The owner's standing, as the users table and the default hold it.
        let owner = &case["owner"];
        for record in &records {
            let user = record["userId"].as_str().expect("userId");
            if db.user(user).expect("user").is_none() {
                db.add_user(
                    user,
                    "not-a-password-hash",
                    false,
                    &tessera_host::db::Origin::operator(0),
                )
                .expect("add");
            }
            db.set_user_admin(
                user,
                owner["admin"].as_bool().expect("admin"),
                &tessera_host::db::Origin::operator(0),
            )
            .expect("admin");
            let tokens = Enablement::parse(owner["tokens"].as_str().expect("tokens"));
            db.set_user_tokens(
                user,
                tokens.expect("setting"),
                &tessera_host::db::Origin::operator(0),
            )
            .expect("tokens");
        }
        let default = owner["membersEnabled"].as_bool().expect("membersEnabled");
        db.set_setting(
            "members-can-create-tokens",
            &default.to_string(),
            &tessera_host::db::Origin::operator(0),
        )
        .expect("default");
        let request = Request {
            action: case["request"]["action"].as_str().expect("action").into(),
            resource: case["request"]["resource"].as_str().map(Into::into),
        };
        let now = case["now"].as_i64().expect("now");
        let input = case["input"].as_str().expect("input");
        let ip = case["ip"]
            .as_str()
            .map(|ip| ip.parse().expect("an address"));
        let outcome = plugin
            .verify(input, Some(&request), ip, now)
            .expect("no trap");
        let expect = &case["expect"];
        match outcome {
            Ok(principal) => {
                assert_eq!(principal.user_id, expect["userId"], "{}", case["name"]);
                assert_eq!(principal.token_id, expect["tokenId"], "{}", case["name"]);
                // The plugin writes last-used exactly when the core says so.
                let last_used = stored_json(&db, &principal.token_id)["lastUsedAt"].clone();
                let touched = last_used == json!(now);
                assert_eq!(json!(touched), expect["touch"], "{}", case["name"]);
            }
            Err(error) => assert_eq!(json!(error.code), expect["error"], "{}", case["name"]),
        }
    }
}

#[test]
fn issue_vectors_through_the_plugin() {
    let file = load("issue.json");
    for case in file["cases"].as_array().expect("cases") {
        let name = &case["name"];
        let request = &case["request"];
        let parent = case["parent"].as_str().map(|label| &file["parents"][label]);
        let parent_record = parent.map(|p| &p["record"]);
        let (db, plugin) = plugin(
            &file,
            case["deployment"].as_str().expect("deployment"),
            parent_record.as_slice(),
        );
        let user = request["userId"].as_str().expect("userId");
        let parent_token = parent.map(|p| p["token"].as_str().expect("token"));
        if parent_record.is_some_and(|p| p["userId"] != user) {
            // A token acts for its own user: through the plugin, another
            // user's parent cannot even be expressed.
            assert_eq!(case["expect"]["error"], "PARENT_INVALID", "{name}");
            continue;
        }
        // The plugin counts the user's live tokens for the limit.
        let held = request["tokensHeld"].as_u64().expect("held");
        for n in 0..held {
            let record = json!({
                "id": format!("held-{n}"), "userId": user, "name": "held", "description": null,
                "hash": format!("{n:064x}"), "hint": "tsr_held…", "createdBy": { "kind": "user" },
                "createdAt": 0, "expiresAt": null, "scope": { "preset": "read" },
                "status": "active", "lastUsedAt": null, "rotatedFrom": null,
            });
            db.apply_writes(
                &[TokenWrite::Put(stored(&record))],
                &tessera_host::db::Origin::operator(0),
            )
            .expect("put");
        }
        let issue = IssueRequest {
            name: request["name"].as_str().expect("name").into(),
            description: request["description"].as_str().map(Into::into),
            expires: expiry(request.get("expires")),
            scope: request["scope"].to_string(),
            allowed_ips: request
                .get("allowedIps")
                .map(|list| serde_json::from_value(list.clone()).expect("allowedIps"))
                .unwrap_or_default(),
        };
        let ip = case["ip"]
            .as_str()
            .map(|ip| ip.parse().expect("an address"));
        let actor = match parent_token {
            Some(token) => Actor::token(token, ip),
            None => Actor::user(user, Standing::OWNER),
        };
        let now = case["now"].as_i64().expect("now");
        let outcome = plugin
            .issue(
                &tessera_host::db::Origin::operator(0),
                &actor,
                &issue,
                now,
                &entropy(case),
            )
            .expect("no trap");
        let expect = &case["expect"];
        match outcome {
            Ok(issued) => {
                assert_eq!(issued.token, expect["token"], "{name}");
                let record: Value = serde_json::from_str(&issued.record).expect("JSON");
                assert_eq!(record, public(&expect["record"]), "{name}");
                let id = record["id"].as_str().expect("id");
                assert_eq!(stored_json(&db, id), expect["record"], "{name}");
            }
            Err(error) => assert_eq!(json!(error.code), expect["error"], "{name}"),
        }
    }
}

#[test]
fn rotate_vectors_through_the_plugin() {
    let file = load("rotate.json");
    for case in file["cases"].as_array().expect("cases") {
        let name = &case["name"];
        let old = &case["record"];
        let (db, plugin) = plugin(
            &file,
            case["deployment"].as_str().expect("deployment"),
            &[old],
        );
        let outcome = plugin
            .rotate(
                &tessera_host::db::Origin::operator(0),
                &Actor::user(old["userId"].as_str().expect("user"), Standing::OWNER),
                old["id"].as_str().expect("id"),
                case["graceMs"].as_i64().expect("grace"),
                case["now"].as_i64().expect("now"),
                &entropy(case),
            )
            .expect("no trap");
        let expect = &case["expect"];
        match outcome {
            Ok(issued) => {
                assert_eq!(issued.token, expect["token"], "{name}");
                let record: Value = serde_json::from_str(&issued.record).expect("JSON");
                assert_eq!(record, public(&expect["record"]), "{name}");
                let new_id = record["id"].as_str().expect("id");
                assert_eq!(stored_json(&db, new_id), expect["record"], "{name}");
                let old_id = old["id"].as_str().expect("id");
                assert_eq!(stored_json(&db, old_id), expect["retired"], "{name}");
            }
            Err(error) => {
                assert_eq!(json!(error.code), expect["error"], "{name}");
                // A refused rotation changes nothing.
                assert_eq!(
                    &stored_json(&db, old["id"].as_str().expect("id")),
                    old,
                    "{name}"
                );
            }
        }
    }
}

#[test]
fn a_failing_store_fails_closed() {
    let file = load("verify.json");
    let records: Vec<&Value> = file["records"]
        .as_array()
        .expect("records")
        .iter()
        .collect();
    let case = &file["cases"][0];
    let (db, plugin) = plugin(&file, "open", &records);
    // A record that is not the core's JSON: reading it back is an error,
    // never an acceptance.
    let mut broken = stored(records[0]);
    broken.json = r#"{"id":"torn"#.into();
    db.apply_writes(
        &[TokenWrite::Put(broken)],
        &tessera_host::db::Origin::operator(0),
    )
    .expect("put");
    let request = Request {
        action: "apps.read".into(),
        resource: None,
    };
    let outcome = plugin
        .verify(
            case["input"].as_str().expect("input"),
            Some(&request),
            None,
            case["now"].as_i64().expect("now"),
        )
        .expect("no trap");
    assert_eq!(outcome.expect_err("refused").code, "RECORD_INVALID");
}
