//! Replays the shared vectors in `tests/vectors/*.json` through the core,
//! reading nothing but the JSON, as the other surfaces do.

use std::collections::HashMap;
use std::fs;
use std::net::IpAddr;
use std::path::PathBuf;

use serde_json::{Value, json};
use tessera_core::{
    Actor, AllowedIps, Catalog, CreateRequest, Creator, Deployment, DeploymentConfig, Edit,
    Enablement, Expiry, IssueRequest, Issuer, Request, Scope, ScopeSpec, Standing, TokenRecord,
    Write, code, hash, token_id,
};

fn load(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/vectors")
        .join(name);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("vector JSON")
}

fn deployments(file: &Value) -> HashMap<String, Deployment> {
    file["deployments"]
        .as_object()
        .expect("deployments")
        .iter()
        .map(|(name, config)| {
            let config: DeploymentConfig = serde_json::from_value(config.clone()).expect("config");
            (name.clone(), config.build().expect("valid config"))
        })
        .collect()
}

fn entropy(case: &Value) -> [u8; 32] {
    let text = case["entropy"].as_str().expect("entropy");
    let bytes: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex"))
        .collect();
    bytes.try_into().expect("32 bytes")
}

fn record(value: &Value) -> TokenRecord {
    serde_json::from_value(value.clone()).expect("record")
}

fn request<'v>(value: &'v Value, ip: Option<IpAddr>) -> Request<'v> {
    Request {
        action: value["action"].as_str().expect("action"),
        resource: value["resource"].as_str(),
        ip,
    }
}

/// The client address a case names in `ip`, if any.
fn ip(case: &Value) -> Option<IpAddr> {
    case.get("ip")
        .and_then(Value::as_str)
        .map(|text| text.parse().expect("an address"))
}

/// The allowed IP ranges a request names, none when absent.
fn allowed_ips(request: &Value) -> Vec<String> {
    request
        .get("allowedIps")
        .map(|list| serde_json::from_value(list.clone()).expect("allowedIps"))
        .unwrap_or_default()
}

/// Every code the vectors expect, to check that together they cover the
/// core's codes.
fn expected_codes(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(code)) = map.get("error") {
                into.push(code.clone());
            }
            map.values().for_each(|v| expected_codes(v, into));
        }
        Value::Array(list) => list.iter().for_each(|v| expected_codes(v, into)),
        _ => {}
    }
}

#[test]
fn format_vectors() {
    let file = load("format.json");
    let config: DeploymentConfig = serde_json::from_value(json!({
        "prefix": file["prefix"], "catalog": [{ "action": "a.b" }]
    }))
    .unwrap();
    let d = config.build().unwrap();
    assert_eq!(
        tessera_core::token_pattern(d.prefix()),
        file["pattern"].as_str().unwrap()
    );
    let pattern = regex::Regex::new(&format!("^{}$", file["pattern"].as_str().unwrap())).unwrap();
    for case in file["issued"].as_array().unwrap() {
        let token = case["token"].as_str().unwrap();
        assert_eq!(token.len() as u64, file["length"].as_u64().unwrap());
        assert!(pattern.is_match(token));
        let issued = d
            .issue(
                &IssueRequest {
                    user_id: "u",
                    name: "n",
                    description: None,
                    expires: Expiry::Never,
                    scope: &ScopeSpec::preset(tessera_core::Preset::All),
                    allowed_ips: &[],
                    creator: Creator::User,
                    tokens_held: 0,
                },
                0,
                &entropy(case),
            )
            .unwrap();
        assert_eq!(issued.token.expose(), token);
        assert_eq!(issued.record.id(), case["id"].as_str().unwrap());
        assert_eq!(token_id(token), case["id"].as_str().unwrap());
        assert_eq!(issued.record.hint(), case["hint"].as_str().unwrap());
    }
    for case in file["parse"].as_array().unwrap() {
        let got = match d.parse(case["input"].as_str().unwrap()) {
            Ok(p) => json!({ "token": p.expose() }),
            Err(e) => json!({ "error": e.code() }),
        };
        assert_eq!(got, case["expect"], "{}", case["name"]);
    }
}

#[test]
fn hash_vectors() {
    let file = load("hash.json");
    for case in file["cases"].as_array().unwrap() {
        let pepper = case["pepper"].as_str().map(|hex| {
            let config: DeploymentConfig = serde_json::from_value(json!({
                "prefix": "tsr", "catalog": [], "pepper": hex
            }))
            .unwrap();
            config.build().unwrap()
        });
        let token = case["token"].as_str().unwrap();
        let got = match &pepper {
            Some(d) => d.hash(&d.parse(token).unwrap()).to_hex(),
            None => hash(token, None).to_hex(),
        };
        assert_eq!(got, case["hash"].as_str().unwrap());
    }
}

#[test]
fn scope_vectors() {
    let file = load("scope.json");
    let base: Catalog = serde_json::from_value(file["catalog"].clone()).unwrap();
    let grown: Catalog = serde_json::from_value(file["grownCatalog"].clone()).unwrap();
    let resolve = |v: &Value| {
        let spec: ScopeSpec = serde_json::from_value(v.clone()).unwrap();
        Scope::resolve(&spec, &base)
    };
    for case in file["allows"].as_array().unwrap() {
        let scope = resolve(&case["scope"]).unwrap();
        assert_eq!(serde_json::to_value(&scope).unwrap(), case["resolved"]);
        let catalog = if case["catalog"] == "grown" {
            &grown
        } else {
            &base
        };
        let got = scope.allows(&request(&case["request"], None), catalog);
        assert_eq!(json!(got), case["expect"], "{case}");
    }
    for case in file["subset"].as_array().unwrap() {
        let (a, b) = (resolve(&case["a"]).unwrap(), resolve(&case["b"]).unwrap());
        assert_eq!(json!(a.is_subset(&b, &base)), case["expect"], "{case}");
    }
    for case in file["invalid"].as_array().unwrap() {
        let got = serde_json::from_value::<ScopeSpec>(case["scope"].clone())
            .map_err(|_| code::SCOPE_INVALID)
            .and_then(|spec| Scope::resolve(&spec, &base).map_err(|e| e.code()));
        assert_eq!(
            got.unwrap_err(),
            case["expect"]["error"].as_str().unwrap(),
            "{case}"
        );
    }
}

#[test]
fn issue_vectors() {
    let file = load("issue.json");
    let deployments = deployments(&file);
    let parents: HashMap<&str, (&str, TokenRecord)> = file["parents"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(label, p)| {
            (
                label.as_str(),
                (p["token"].as_str().unwrap(), record(&p["record"])),
            )
        })
        .collect();
    for case in file["cases"].as_array().unwrap() {
        let d = &deployments[case["deployment"].as_str().unwrap()];
        let now = case["now"].as_i64().unwrap();
        let req = &case["request"];
        let scope: ScopeSpec = serde_json::from_value(req["scope"].clone()).unwrap();
        let expires: Expiry = req
            .get("expires")
            .map(|e| serde_json::from_value(e.clone()).unwrap())
            .unwrap_or_default();
        let parent = case["parent"].as_str().map(|label| &parents[label]);
        let authenticated = parent.map(|(token, rec)| {
            let hash = d.hash(&d.parse(token).unwrap());
            d.authenticate(&hash, Some(rec), Standing::OWNER, ip(case), now)
        });
        let creator = match authenticated {
            None => Ok(Creator::User),
            Some(Ok(a)) => Ok(Creator::Token(a)),
            Some(Err(denial)) => Err(denial.code()),
        };
        let allowed = allowed_ips(req);
        let got = creator.and_then(|creator| {
            d.issue(
                &IssueRequest {
                    user_id: req["userId"].as_str().unwrap(),
                    name: req["name"].as_str().unwrap(),
                    description: req.get("description").and_then(Value::as_str),
                    expires,
                    scope: &scope,
                    allowed_ips: &allowed,
                    creator,
                    tokens_held: req["tokensHeld"].as_u64().unwrap() as usize,
                },
                now,
                &entropy(case),
            )
            .map_err(|e| e.code())
        });
        let got = match got {
            Ok(issued) => json!({ "token": issued.token.expose(), "record": issued.record }),
            Err(code) => json!({ "error": code }),
        };
        assert_eq!(got, case["expect"], "{}", case["name"]);
    }
}

#[test]
fn verify_vectors() {
    let file = load("verify.json");
    let deployments = deployments(&file);
    let records: Vec<TokenRecord> = file["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(record)
        .collect();
    for case in file["cases"].as_array().unwrap() {
        let d = &deployments[case["deployment"].as_str().unwrap()];
        let got = d
            .parse(case["input"].as_str().unwrap())
            .map_err(|e| e.code())
            .and_then(|p| {
                let h = d.hash(&p);
                let found = records.iter().find(|r| r.hash() == &h);
                d.verify(
                    &h,
                    found,
                    standing(&case["owner"]),
                    &request(&case["request"], ip(case)),
                    case["now"].as_i64().unwrap(),
                )
                .map(|v| {
                    json!({
                        "userId": v.principal.user_id,
                        "tokenId": v.principal.token_id,
                        "touch": v.touch,
                    })
                })
                .map_err(|e| e.code())
            });
        let got = got.unwrap_or_else(|code| json!({ "error": code }));
        assert_eq!(got, case["expect"], "{}", case["name"]);
    }
}

#[test]
fn rotate_vectors() {
    let file = load("rotate.json");
    let deployments = deployments(&file);
    for case in file["cases"].as_array().unwrap() {
        let d = &deployments[case["deployment"].as_str().unwrap()];
        let got = d.rotate(
            &record(&case["record"]),
            case["graceMs"].as_i64().unwrap(),
            case["now"].as_i64().unwrap(),
            &entropy(case),
        );
        let got = match got {
            Ok(r) => json!({
                "token": r.issued.token.expose(),
                "record": r.issued.record,
                "retired": r.retired,
            }),
            Err(e) => json!({ "error": e.code() }),
        };
        assert_eq!(got, case["expect"], "{}", case["name"]);
    }
}

/// A standing as the vectors write it.
fn standing(value: &Value) -> Standing {
    Standing {
        admin: value["admin"].as_bool().expect("admin"),
        tokens: Enablement::parse(value["tokens"].as_str().expect("tokens")).expect("enablement"),
        members_enabled: value["membersEnabled"].as_bool().expect("membersEnabled"),
    }
}

/// The actor of a lifecycle case; a token actor is authenticated against
/// the file's records with its owner's standing, as an adapter would after
/// a store lookup (a refusal is the case's outcome).
fn actor<'r>(
    d: &Deployment,
    actor: &'r Value,
    records: &'r [TokenRecord],
    now: i64,
) -> Result<Actor<'r>, &'static str> {
    let kind = actor["kind"].as_str().expect("kind");
    if kind == "issuer" {
        return Ok(Actor::issuer(
            issuer(&actor["issuer"]),
            actor["userId"].as_str().expect("userId"),
            (!actor["owner"].is_null()).then(|| standing(&actor["owner"])),
            actor["allowed"].as_bool().expect("allowed"),
        ));
    }
    let standing = standing(&actor["standing"]);
    match kind {
        "user" => Ok(Actor::user(
            actor["userId"].as_str().expect("userId"),
            standing,
        )),
        "administrator" => Ok(Actor::administrator(
            actor["adminId"].as_str().expect("adminId"),
            standing,
            actor["userId"].as_str().expect("userId"),
        )),
        _ => {
            let presented = d
                .parse(actor["token"].as_str().expect("token"))
                .expect("parses");
            let hash = d.hash(&presented);
            let record = records.iter().find(|r| r.hash() == &hash);
            d.authenticate(&hash, record, standing, ip(actor), now)
                .map(Actor::token)
                .map_err(|denial| denial.code())
        }
    }
}

/// An issuer as the vectors write it: `{"administrator": {adminId,
/// standing}}` or `{"serviceKey": name}`.
fn issuer(value: &Value) -> Issuer<'_> {
    match value.get("serviceKey") {
        Some(key) => Issuer::ServiceKey {
            key_id: key.as_str().expect("serviceKey"),
        },
        None => {
            let admin = &value["administrator"];
            Issuer::Administrator {
                admin_id: admin["adminId"].as_str().expect("adminId"),
                standing: standing(&admin["standing"]),
            }
        }
    }
}

fn writes(writes: &[Write]) -> Value {
    writes
        .iter()
        .map(|w| match w {
            Write::Put(record) => json!({ "put": record }),
            Write::Delete(id) => json!({ "delete": id }),
        })
        .collect()
}

#[test]
fn lifecycle_vectors() {
    let file = load("lifecycle.json");
    let ds = deployments(&file);
    let now = file["now"].as_i64().expect("now");
    let all: Vec<TokenRecord> = file["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(record)
        .collect();
    for case in file["cases"].as_array().expect("cases") {
        let d = &ds[case["deployment"].as_str().expect("deployment")];
        let actor = match actor(d, &case["actor"], &all, now) {
            Ok(actor) => actor,
            Err(code) => {
                assert_eq!(json!({ "error": code }), case["expect"], "{}", case["name"]);
                continue;
            }
        };
        // What an adapter's list_by_user returns.
        let records: Vec<TokenRecord> = all
            .iter()
            .filter(|r| r.user_id() == actor.user_id())
            .cloned()
            .collect();
        let life = d.lifecycle(actor, &records, now);
        let op = &case["operation"];
        let id = op["id"].as_str().unwrap_or_default();
        let ids = |list: Vec<&TokenRecord>| json!({ "ids": list.iter().map(|r| r.id()).collect::<Vec<_>>() });
        let got = match op["op"].as_str().expect("op") {
            "create" => {
                let request = &op["request"];
                let scope: ScopeSpec =
                    serde_json::from_value(request["scope"].clone()).expect("scope");
                let expires: Expiry =
                    serde_json::from_value(request["expires"].clone()).expect("expiry");
                let allowed = allowed_ips(request);
                life.create(
                    &CreateRequest {
                        name: request["name"].as_str().expect("name"),
                        description: request["description"].as_str(),
                        expires,
                        scope: &scope,
                        allowed_ips: &allowed,
                    },
                    &entropy(op),
                )
                .map(|m| json!({ "token": m.token.expose(), "writes": writes(&m.writes) }))
            }
            "rotate" => life
                .rotate(id, op["graceMs"].as_i64().expect("graceMs"), &entropy(op))
                .map(|m| json!({ "token": m.token.expose(), "writes": writes(&m.writes) })),
            "update" => {
                let edit = &op["edit"];
                let edit = Edit {
                    name: edit.get("name").and_then(Value::as_str),
                    description: edit.get("description").map(Value::as_str),
                    status: edit
                        .get("status")
                        .map(|s| serde_json::from_value(s.clone()).expect("status")),
                };
                life.update(id, &edit, op["cascade"].as_bool().expect("cascade"))
                    .map(|c| json!({ "writes": writes(&c.writes) }))
            }
            "delete" => life
                .delete(id, op["cascade"].as_bool().expect("cascade"))
                .map(|c| json!({ "writes": writes(&c.writes) })),
            "deactivateAll" => life
                .deactivate_all()
                .map(|c| json!({ "writes": writes(&c.writes) })),
            "list" => life.list().map(ids),
            "get" => life.get(id).map(|r| ids(vec![r])),
            "expiringWithin" => life
                .expiring_within(op["windowMs"].as_i64().expect("windowMs"))
                .map(ids),
            other => panic!("unknown operation {other}"),
        };
        let got = got.unwrap_or_else(|e| json!({ "error": e.code() }));
        assert_eq!(got, case["expect"], "{}", case["name"]);
    }
}

#[test]
fn network_vectors() {
    let file = load("network.json");
    for case in file["parse"].as_array().expect("parse") {
        let entries: Vec<&str> = case["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| e.as_str().expect("entry"))
            .collect();
        let got = match AllowedIps::parse(&entries) {
            Ok(list) => json!({ "ranges": list.to_strings() }),
            Err(error) => json!({ "error": error.code(), "index": error.index() }),
        };
        assert_eq!(got, case["expect"], "{}", case["name"]);
    }
    let list = |value: &Value| {
        let entries: Vec<&str> = value
            .as_array()
            .expect("ranges")
            .iter()
            .map(|e| e.as_str().expect("range"))
            .collect();
        AllowedIps::parse(&entries).expect("valid ranges")
    };
    for case in file["match"].as_array().expect("match") {
        let address = case["address"]
            .as_str()
            .map(|a| a.parse().expect("address"));
        let got = if list(&case["ranges"]).allows(address) {
            json!({ "allowed": true })
        } else {
            json!({ "error": code::IP_DENIED })
        };
        assert_eq!(got, case["expect"], "{}", case["name"]);
    }
    for case in file["within"].as_array().expect("within") {
        let got = if list(&case["child"]).within(&list(&case["parent"])) {
            json!({ "within": true })
        } else {
            json!({ "error": code::IPS_EXCEED_PARENT })
        };
        assert_eq!(got, case["expect"], "{}", case["name"]);
    }
}

#[test]
fn vectors_cover_every_code_the_core_produces() {
    let mut seen = Vec::new();
    for name in [
        "format.json",
        "scope.json",
        "issue.json",
        "verify.json",
        "rotate.json",
        "lifecycle.json",
        "network.json",
    ] {
        expected_codes(&load(name), &mut seen);
    }
    // Configuration and storage codes belong to adapters and config tests.
    let adapter_only = [
        code::PREFIX_INVALID,
        code::CATALOG_INVALID,
        code::PEPPER_INVALID,
        code::POLICY_INVALID,
        code::BAD_REQUEST,
        code::RECORD_INVALID,
        code::STORE_FAILED,
        code::NOT_FOUND,
    ];
    for code in code::ALL {
        if !adapter_only.contains(code) {
            assert!(seen.iter().any(|s| s == code), "no vector expects {code}");
        }
    }
    for code in &seen {
        assert!(code::ALL.contains(&code.as_str()), "unknown code {code}");
    }
}
