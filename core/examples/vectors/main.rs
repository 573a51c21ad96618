//! Writes the shared test vectors in `tests/vectors/*.json`.
//!
//! Every case is written here with the outcome it is meant to have (a token
//! accepted, or a given error code); the generator runs the core on it and
//! stops if the core disagrees, so a vector never records a bug by accident.
//! Values the core computes (tokens, hashes, records) are then written out
//! for the other surfaces to reproduce. CI runs this and fails on any diff.
//!
//! Run: `cargo run -p tessera-core --example vectors`

mod codes;
mod format;
mod hash;
mod issue;
mod lifecycle;
mod network;
mod rotate;
mod schema;
mod scope;
mod verify;

use std::fs;
use std::path::PathBuf;

use serde_json::{Value, json};
use tessera_core::{
    Authenticated, Catalog, Creator, Deployment, DeploymentConfig, Expiry, IssueRequest, Issued,
    Request, Scope, ScopeSpec, Status, TokenRecord, hash, token_id, token_pattern,
};

/// The fixed clock of every vector: 2027-01-15T08:00:00Z.
const NOW: i64 = 1_800_000_000_000;
const DAY: i64 = 86_400_000;
const PEPPER_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    fs::create_dir_all(&dir).expect("create tests/vectors");
    let files = [
        ("format.json", format::format_vectors()),
        ("hash.json", hash::hash_vectors()),
        ("scope.json", scope::scope_vectors()),
        ("issue.json", issue::issue_vectors()),
        ("verify.json", verify::verify_vectors()),
        ("rotate.json", rotate::rotate_vectors()),
        ("lifecycle.json", lifecycle::vectors()),
        ("network.json", network::network_vectors()),
        ("codes.json", codes::code_vectors()),
        ("schema.json", schema::schema_vectors()),
    ];
    for (name, value) in files {
        let mut text = serde_json::to_string_pretty(&value).expect("serialize");
        text.push('\n');
        fs::write(dir.join(name), text).expect("write vector file");
        println!("wrote tests/vectors/{name}");
    }
}

/// Deterministic, random-looking entropy for a label.
fn entropy(label: &str) -> [u8; 32] {
    *hash(label, None).as_bytes()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn base_catalog() -> Value {
    json!([
        { "action": "apps.read", "kinds": ["read"] },
        { "action": "apps.write", "kinds": [] },
        { "action": "deploy.run", "kinds": ["cli"] },
        { "action": "deploy.read", "kinds": ["read", "cli"] },
        { "action": "orgs.read", "kinds": ["read"] },
        { "action": "tokens.create", "kinds": [] }
    ])
}

/// The base catalog after the deployment added three actions.
fn grown_catalog() -> Value {
    let mut grown = base_catalog();
    let list = grown.as_array_mut().expect("array");
    list.push(json!({ "action": "apps.delete", "kinds": [] }));
    list.push(json!({ "action": "apps.audit", "kinds": ["read"] }));
    list.push(json!({ "action": "deploy.rollback", "kinds": ["cli"] }));
    grown
}

fn config(policy: Value, pepper: bool) -> Value {
    let mut config = json!({ "prefix": "tsr", "catalog": base_catalog(), "policy": policy });
    if pepper {
        config["pepper"] = json!(PEPPER_HEX);
    }
    config
}

fn deployments() -> Value {
    json!({
        "open": config(json!({}), false),
        "strict": config(json!({ "allowNonExpiring": false, "maxLifetimeDays": 366, "maxTokensPerUser": 3 }), false),
        "peppered": config(json!({}), true),
    })
}

fn deployment(name: &str) -> Deployment {
    let config: DeploymentConfig =
        serde_json::from_value(deployments()[name].clone()).expect("config");
    config.build().expect("valid config")
}

fn catalog(value: Value) -> Catalog {
    serde_json::from_value(value).expect("catalog")
}

fn spec(value: &Value) -> ScopeSpec {
    serde_json::from_value(value.clone()).expect("scope spec")
}

/// Issues a token for building other vectors, from a label's entropy.
fn make(d: &Deployment, label: &str, user: &str, scope: Value, expires: Expiry) -> Issued {
    make_within(d, label, user, scope, expires, &[])
}

/// A fixture token usable only from the IP ranges `ips`.
fn make_within(
    d: &Deployment,
    label: &str,
    user: &str,
    scope: Value,
    expires: Expiry,
    ips: &[&str],
) -> Issued {
    let scope = spec(&scope);
    let ips: Vec<String> = ips.iter().map(|ip| ip.to_string()).collect();
    d.issue(
        &IssueRequest {
            user_id: user,
            name: label,
            description: None,
            expires,
            scope: &scope,
            allowed_ips: &ips,
            creator: Creator::User,
            tokens_held: 0,
        },
        NOW - DAY,
        &entropy(label),
    )
    .expect("fixture token issues")
}

fn record_json(record: &TokenRecord) -> Value {
    serde_json::to_value(record).expect("record")
}

fn make_token(d: &Deployment, bytes: &[u8; 32]) -> String {
    let scope = ScopeSpec::preset(tessera_core::Preset::All);
    let issued = d
        .issue(
            &IssueRequest {
                user_id: "u",
                name: "n",
                description: None,
                expires: Expiry::Never,
                scope: &scope,
                allowed_ips: &[],
                creator: Creator::User,
                tokens_held: 0,
            },
            NOW,
            bytes,
        )
        .expect("issues");
    issued.token.expose().to_string()
}
