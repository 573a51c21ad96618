//! `tests/vectors/lifecycle.json` through the plugin over a real backend:
//! each case's actor, operation and records go in, and what the backend
//! holds afterwards must be exactly the writes the vector expects (or, for a
//! refusal, exactly what it held before).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};
use tessera_core::{Enablement, Standing};
use tessera_host::db::{Db, StoredToken, TokenWrite};
use tessera_host::plugin::{Actor, Edit, Expiry, IssueRequest, Plugin, Status};

fn load() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/lifecycle.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("vector file")).expect("JSON")
}

/// A record of the vectors as the store row the host keeps.
pub fn stored(record: &Value) -> StoredToken {
    StoredToken {
        id: record["id"].as_str().expect("id").into(),
        user_id: record["userId"].as_str().expect("userId").into(),
        hash: record["hash"].as_str().expect("hash").into(),
        json: record.to_string(),
    }
}

fn entropy(hex: &Value) -> [u8; 32] {
    let hex = hex.as_str().expect("entropy");
    let bytes: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
        .collect();
    bytes.try_into().expect("32 bytes")
}

/// A standing as the vectors write it.
fn standing(value: &Value) -> Standing {
    Standing {
        admin: value["admin"].as_bool().expect("admin"),
        tokens: Enablement::parse(value["tokens"].as_str().expect("tokens")).expect("setting"),
        members_enabled: value["membersEnabled"].as_bool().expect("membersEnabled"),
    }
}

/// The actor of a case. A token actor's standing is its owner's, which
/// the plugin reads from the backend with the token's record: the backend
/// is given it first (every user of the file gets it, the owner among
/// them).
fn actor(db: &Db, value: &Value, users: &BTreeSet<String>) -> Actor {
    if value["kind"] == "issuer" {
        let user = value["userId"].as_str().expect("userId");
        let owner = (!value["owner"].is_null()).then(|| standing(&value["owner"]));
        let allowed = value["allowed"].as_bool().expect("allowed");
        let by = &value["issuer"];
        return match by.get("serviceKey") {
            Some(key) => {
                Actor::service_key_issuing(key.as_str().expect("key"), user, owner, allowed)
            }
            None => Actor::administrator_issuing(
                by["administrator"]["adminId"].as_str().expect("adminId"),
                standing(&by["administrator"]["standing"]),
                user,
                owner,
                allowed,
            ),
        };
    }
    let standing = standing(&value["standing"]);
    match value["kind"].as_str().expect("kind") {
        "user" => Actor::user(value["userId"].as_str().expect("userId"), standing),
        "administrator" => Actor::administrator(
            value["adminId"].as_str().expect("adminId"),
            standing,
            value["userId"].as_str().expect("userId"),
        ),
        _ => {
            for user in users {
                if db.user(user).expect("user").is_none() {
                    db.add_user(
                        user,
                        "not-a-password-hash",
                        false,
                        &tessera_host::db::Origin::operator(0),
                    )
                    .expect("add");
                }
                db.set_user_admin(user, standing.admin, &tessera_host::db::Origin::operator(0))
                    .expect("admin");
                db.set_user_tokens(
                    user,
                    standing.tokens,
                    &tessera_host::db::Origin::operator(0),
                )
                .expect("tokens");
            }
            let default = if standing.members_enabled {
                "true"
            } else {
                "false"
            };
            db.set_setting(
                "members-can-create-tokens",
                default,
                &tessera_host::db::Origin::operator(0),
            )
            .expect("default");
            let ip = value["ip"]
                .as_str()
                .map(|ip| ip.parse().expect("an address"));
            Actor::token(value["token"].as_str().expect("token"), ip)
        }
    }
}

/// The allowed IP ranges a request names, none when absent.
pub fn allowed_ips(request: &Value) -> Vec<String> {
    request
        .get("allowedIps")
        .map(|list| serde_json::from_value(list.clone()).expect("allowedIps"))
        .unwrap_or_default()
}

fn expiry(value: &Value) -> Expiry {
    match value {
        Value::String(s) if s == "never" => Expiry::Never,
        v if v.get("days").is_some() => Expiry::Days(v["days"].as_i64().expect("days")),
        v => Expiry::At(v["at"].as_i64()),
    }
}

/// Every record the backend holds for the users of the file, by id.
fn snapshot(db: &Db, users: &BTreeSet<String>) -> Vec<Value> {
    let mut all: Vec<Value> = users
        .iter()
        .flat_map(|user| db.tokens_of(user).expect("list"))
        .map(|t| serde_json::from_str(&t.json).expect("stored JSON"))
        .collect();
    all.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    all
}

/// What the backend must hold after `writes` on `before`.
fn after(before: &[Value], writes: &[Value]) -> Vec<Value> {
    let mut all = before.to_vec();
    for write in writes {
        if let Some(record) = write.get("put") {
            all.retain(|r| r["id"] != record["id"]);
            all.push(record.clone());
        } else {
            all.retain(|r| r["id"] != write["delete"]);
        }
    }
    all.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    all
}

fn ids(list: &[String]) -> Value {
    list.iter()
        .map(|json| serde_json::from_str::<Value>(json).expect("record")["id"].clone())
        .collect()
}

/// Replays every lifecycle vector through a plugin over `db`, resetting the
/// users' records before each case.
pub fn replay(db: Arc<Db>) {
    let file = load();
    let now = file["now"].as_i64().expect("now");
    let records = file["records"].as_array().expect("records");
    let users: BTreeSet<String> = records
        .iter()
        .map(|r| r["userId"].as_str().expect("userId").to_string())
        .collect();
    let mut fixture = records.clone();
    fixture.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    for case in file["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().expect("name");
        let reset: Vec<TokenWrite> = snapshot(&db, &users)
            .iter()
            .map(|r| TokenWrite::Delete(r["id"].as_str().expect("id").into()))
            .chain(records.iter().map(|r| TokenWrite::Put(stored(r))))
            .collect();
        db.apply_writes(&reset, &tessera_host::db::Origin::operator(0))
            .expect("reset");
        let config =
            file["deployments"][case["deployment"].as_str().expect("deployment")].to_string();
        let plugin = Plugin::new(db.clone(), config).expect("plugin");
        let actor = actor(&db, &case["actor"], &users);
        let op = &case["operation"];
        let id = op["id"].as_str().unwrap_or_default();
        let expect = &case["expect"];
        let got: Result<Value, String> = match op["op"].as_str().expect("op") {
            "create" => {
                let request = &op["request"];
                let request = IssueRequest {
                    name: request["name"].as_str().expect("name").into(),
                    description: request["description"].as_str().map(Into::into),
                    expires: expiry(&request["expires"]),
                    scope: request["scope"].to_string(),
                    allowed_ips: allowed_ips(request),
                };
                plugin
                    .issue(
                        &tessera_host::db::Origin::operator(0),
                        &actor,
                        &request,
                        now,
                        &entropy(&op["entropy"]),
                    )
                    .expect("no trap")
                    .map(|issued| json!({ "token": issued.token }))
                    .map_err(|e| e.code)
            }
            "rotate" => plugin
                .rotate(
                    &tessera_host::db::Origin::operator(0),
                    &actor,
                    id,
                    op["graceMs"].as_i64().expect("grace"),
                    now,
                    &entropy(&op["entropy"]),
                )
                .expect("no trap")
                .map(|issued| json!({ "token": issued.token }))
                .map_err(|e| e.code),
            "update" => {
                let edit = &op["edit"];
                let edit = Edit {
                    name: edit["name"].as_str().map(Into::into),
                    description: edit.get("description").map(|d| d.as_str().map(Into::into)),
                    status: edit["status"].as_str().map(|s| {
                        if s == "active" {
                            Status::Active
                        } else {
                            Status::Inactive
                        }
                    }),
                };
                plugin
                    .update(
                        &tessera_host::db::Origin::operator(0),
                        &actor,
                        id,
                        &edit,
                        op["cascade"].as_bool().expect("cascade"),
                        now,
                    )
                    .expect("no trap")
                    .map(|updated| json!({ "affected": updated.affected }))
                    .map_err(|e| e.code)
            }
            "delete" => plugin
                .delete(
                    &tessera_host::db::Origin::operator(0),
                    &actor,
                    id,
                    op["cascade"].as_bool().expect("cascade"),
                    now,
                )
                .expect("no trap")
                .map(|deleted| json!({ "affected": deleted }))
                .map_err(|e| e.code),
            "deactivateAll" => plugin
                .deactivate_all(&tessera_host::db::Origin::operator(0), &actor, now)
                .expect("no trap")
                .map(|deactivated| json!({ "affected": deactivated }))
                .map_err(|e| e.code),
            "list" => plugin
                .list(&actor, now)
                .expect("no trap")
                .map(|list| json!({ "ids": ids(&list) }))
                .map_err(|e| e.code),
            "get" => plugin
                .get(&actor, id, now)
                .expect("no trap")
                .map(|one| json!({ "ids": ids(&[one]) }))
                .map_err(|e| e.code),
            "expiringWithin" => plugin
                .expiring_within(&actor, op["windowMs"].as_i64().expect("window"), now)
                .expect("no trap")
                .map(|list| json!({ "ids": ids(&list) }))
                .map_err(|e| e.code),
            other => panic!("unknown operation {other}"),
        };
        let held = snapshot(&db, &users);
        match (got, expect.get("error")) {
            (Err(code), Some(wanted)) => {
                assert_eq!(json!(code), *wanted, "{name}");
                assert_eq!(held, fixture, "{name}: a refusal changed the store");
            }
            (Ok(value), None) => {
                if let Some(token) = expect.get("token") {
                    assert_eq!(value["token"], *token, "{name}");
                }
                if let Some(wanted) = expect.get("ids") {
                    assert_eq!(value["ids"], *wanted, "{name}");
                }
                let writes = expect
                    .get("writes")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                if let Some(affected) = value.get("affected") {
                    let wanted: Vec<&Value> = writes
                        .iter()
                        .map(|w| w.get("delete").unwrap_or_else(|| &w["put"]["id"]))
                        .collect();
                    assert_eq!(
                        affected.as_array().expect("ids").iter().collect::<Vec<_>>(),
                        wanted,
                        "{name}"
                    );
                }
                assert_eq!(
                    held,
                    after(&fixture, &writes),
                    "{name}: the store holds something else"
                );
            }
            (got, wanted) => panic!("{name}: got {got:?}, wanted {wanted:?}"),
        }
    }
}
