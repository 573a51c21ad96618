//! Replays the shared verification vectors (`tests/vectors/verify.json`)
//! through the filter's decision functions: every case must get the
//! decision the core gives (the same code, 401 for unauthenticated codes
//! and 403 for `SCOPE_DENIED`, and the same principal when allowed).

use serde_json::{Value, json};
use tessera_core::TokenRecord;

use crate::config::Settings;
use crate::decide::{Reply, Start, Target, finish, start};

fn settings(deployment: &Value) -> Settings {
    let config = json!({
        "deployment": deployment,
        "tokenService": { "cluster": "tessera", "credential": "0123456789abcdef" },
        "rules": [{ "prefix": "/unused", "public": true }],
        "unmatched": "authenticate"
    });
    Settings::from_json(config.to_string().as_bytes()).unwrap()
}

#[test]
fn verify_vectors_match_the_core() {
    let text = include_str!("../../../tests/vectors/verify.json");
    let vectors: Value = serde_json::from_str(text).unwrap();
    let records: Vec<TokenRecord> = serde_json::from_value(vectors["records"].clone()).unwrap();
    let cases = vectors["cases"].as_array().unwrap();
    assert!(cases.len() >= 20, "the vectors lost cases");
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let settings = settings(&vectors["deployments"][case["deployment"].as_str().unwrap()]);
        let expect = &case["expect"];
        let input = case["input"].as_str().unwrap();
        // No rule matches `/x`, so the token is parsed and looked up; the
        // vector, not a rule, names the action.
        let ip = case["ip"].as_str().map(|ip| ip.parse().unwrap());
        let reply = match start(&settings, "GET", "/x", || Some(input)) {
            Start::Reply(reply) => reply,
            Start::Lookup(mut lookup) => {
                lookup.ip = ip;
                let request = &case["request"];
                lookup.target = Target::Action {
                    action: request["action"].as_str().unwrap().to_owned(),
                    resource: request["resource"].as_str().map(str::to_owned),
                };
                // What the token service would answer: the record and its
                // user's standing, read back the way the filter reads it.
                let found = records.iter().find(|r| *r.hash() == lookup.hash).map(|r| {
                    let body = serde_json::json!({ "record": r, "owner": case["owner"] });
                    crate::answer::Found::from_body(body.to_string().as_bytes())
                        .expect("an answer the filter reads")
                        .0
                });
                let now = case["now"].as_i64().unwrap();
                match &found {
                    Some(found) => {
                        finish(&settings, &lookup, Some(&found.record), found.owner, now)
                    }
                    None => finish(&settings, &lookup, None, tessera_core::Standing::OWNER, now),
                }
            }
        };
        match (reply, expect["error"].as_str()) {
            (Reply::Deny(denied), Some(code)) => {
                assert_eq!(denied.reason, code, "{name}");
                let status = match code {
                    "SCOPE_DENIED" | "IP_DENIED" => 403,
                    _ => 401,
                };
                assert_eq!(denied.status, status, "{name}");
            }
            (Reply::Forward { headers, token_id }, None) => {
                let user = headers.iter().find(|(n, _)| n == "x-tessera-user-id");
                assert_eq!(
                    user.and_then(|(_, v)| v.as_deref()),
                    expect["userId"].as_str(),
                    "{name}"
                );
                assert_eq!(token_id.as_deref(), expect["tokenId"].as_str(), "{name}");
            }
            (reply, expected) => panic!("{name}: got {reply:?}, expected {expected:?}"),
        }
    }
}
