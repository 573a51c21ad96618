//! Writes the shared test vectors in `tests/vectors/*.json`.
//!
//! Every case is written here with the outcome it is meant to have (a token
//! accepted, or a given error code); the generator runs the core on it and
//! stops if the core disagrees, so a vector never records a bug by accident.
//! Values the core computes (tokens, hashes, records) are then written out
//! for the other surfaces to reproduce. CI runs this and fails on any diff.
//!
//! Run: `cargo run -p tessera-core --example vectors`

mod lifecycle;

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
        ("format.json", format_vectors()),
        ("hash.json", hash_vectors()),
        ("scope.json", scope_vectors()),
        ("issue.json", issue_vectors()),
        ("verify.json", verify_vectors()),
        ("rotate.json", rotate_vectors()),
        ("lifecycle.json", lifecycle::vectors()),
        ("codes.json", code_vectors()),
    ];
    for (name, value) in files {
        let mut text = serde_json::to_string_pretty(&value).expect("serialize");
        text.push('\n');
        fs::write(dir.join(name), text).expect("write vector file");
        println!("wrote tests/vectors/{name}");
    }
}

/// The code table: each code's class and default message, in `code::ALL`
/// order, then the adapter-only codes. The npm package generates its code
/// union and messages from this file at build time.
fn code_vectors() -> Value {
    let entry = |code: &&str| {
        json!({
            "code": code,
            "class": tessera_core::code::class(code).expect("every code has a class").as_str(),
            "message": tessera_core::code::message(code),
        })
    };
    json!({
        "description": "Every stable code: `codes` as the core produces them (code::ALL, in order), `adapter` those only adapters produce (code::ADAPTER). Each has a class, which adapters map to their protocol (HTTP status, 401 or 403), and a default message.",
        "codes": tessera_core::code::ALL.iter().map(entry).collect::<Vec<_>>(),
        "adapter": tessera_core::code::ADAPTER.iter().map(entry).collect::<Vec<_>>(),
    })
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
    let scope = spec(&scope);
    d.issue(
        &IssueRequest {
            user_id: user,
            name: label,
            description: None,
            expires,
            scope: &scope,
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

fn format_vectors() -> Value {
    let d = deployment("open");
    let issued: Vec<Value> = [[0u8; 32], [0xff; 32], entropy("format")]
        .iter()
        .map(|bytes| {
            let token = make_token(&d, bytes);
            json!({
                "entropy": hex(bytes),
                "token": token,
                "id": token_id(&token),
                "hint": d.parse(&token).expect("parses").hint(),
            })
        })
        .collect();
    let t = make_token(&d, &entropy("format"));
    let flip_last = {
        let mut s = t.clone();
        let last = if s.ends_with('A') { "B" } else { "A" };
        s.replace_range(52..53, last);
        s
    };
    let flip_body = {
        let mut s = t.clone();
        let c = if &s[20..21] == "x" { "y" } else { "x" };
        s.replace_range(20..21, c);
        s
    };
    let too_big = format!("tsr_{}000000", "z".repeat(43));
    let ok = |name: &str, input: String| (name.to_string(), input, None);
    let err = |name: &str, input: String, code: &'static str| (name.to_string(), input, Some(code));
    let cases = vec![
        ok("bare token", t.clone()),
        ok("Bearer scheme", format!("Bearer {t}")),
        ok("scheme in lower case", format!("bearer {t}")),
        ok("UserToken scheme", format!("UserToken {t}")),
        ok(
            "surrounding whitespace and a tab",
            format!("  usertoken\t {t}  "),
        ),
        err("empty", String::new(), "TOKEN_MALFORMED"),
        err("scheme without token", "Bearer".into(), "TOKEN_MALFORMED"),
        err(
            "unsupported scheme",
            format!("Basic {t}"),
            "TOKEN_MALFORMED",
        ),
        err("no prefix", t[4..].to_string(), "TOKEN_MALFORMED"),
        err(
            "upper-case prefix",
            t.replacen("tsr", "TSR", 1),
            "TOKEN_MALFORMED",
        ),
        err(
            "another deployment's prefix",
            t.replacen("tsr", "ghp", 1),
            "TOKEN_PREFIX",
        ),
        err(
            "one character short",
            t[..52].to_string(),
            "TOKEN_MALFORMED",
        ),
        err("one character long", format!("{t}0"), "TOKEN_MALFORMED"),
        err(
            "character outside base62",
            t.replacen(&t[30..31], "-", 1),
            "TOKEN_MALFORMED",
        ),
        err(
            "trailing garbage after a space",
            format!("Bearer {t} x"),
            "TOKEN_MALFORMED",
        ),
        err("body above 2^256", too_big, "TOKEN_MALFORMED"),
        err("checksum character changed", flip_last, "TOKEN_CHECKSUM"),
        err("body character changed", flip_body, "TOKEN_CHECKSUM"),
        err("ten kilobytes", "a".repeat(10_240), "TOKEN_MALFORMED"),
    ];
    let parse: Vec<Value> = cases
        .into_iter()
        .map(|(name, input, code)| {
            let outcome = d.parse(&input).map(|p| p.expose().to_string());
            let expect = match (code, outcome) {
                (None, Ok(token)) => json!({ "token": token }),
                (Some(code), Err(e)) if e.code() == code => json!({ "error": code }),
                (intended, got) => panic!("format case {name}: meant {intended:?}, got {got:?}"),
            };
            json!({ "name": name, "input": input, "expect": expect })
        })
        .collect();
    json!({
        "about": "Token format: composition from entropy, and parsing of bare tokens and Authorization headers.",
        "prefix": "tsr",
        "length": 53,
        "pattern": token_pattern(d.prefix()),
        "issued": issued,
        "parse": parse,
    })
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
                creator: Creator::User,
                tokens_held: 0,
            },
            NOW,
            bytes,
        )
        .expect("issues");
    issued.token.expose().to_string()
}

fn hash_vectors() -> Value {
    let open = deployment("open");
    let peppered = deployment("peppered");
    let cases: Vec<Value> = ["hash-a", "hash-b"]
        .iter()
        .flat_map(|label| {
            let token = make_token(&open, &entropy(label));
            let p = open.parse(&token).expect("parses");
            let plain = open.hash(&p).to_hex();
            let keyed = peppered.hash(&p).to_hex();
            assert_ne!(plain, keyed);
            [
                json!({ "token": token, "pepper": null, "hash": plain }),
                json!({ "token": token, "pepper": PEPPER_HEX, "hash": keyed }),
            ]
        })
        .collect();
    json!({
        "about": "Stored hashes: SHA-256 of the token string, or HMAC-SHA-256 keyed with the pepper (hex).",
        "cases": cases,
    })
}

fn scope_vectors() -> Value {
    let base = catalog(base_catalog());
    let grown = catalog(grown_catalog());
    let allows_cases = [
        (json!({"preset": "all"}), "apps.delete", None, "grown", true),
        (json!({"preset": "all"}), "nope.nope", None, "grown", false),
        (json!({"preset": "read"}), "apps.read", None, "base", true),
        (json!({"preset": "read"}), "apps.write", None, "base", false),
        (json!({"preset": "read"}), "apps.audit", None, "grown", true),
        (
            json!({"preset": "cli"}),
            "deploy.rollback",
            None,
            "grown",
            true,
        ),
        (json!({"preset": "cli"}), "apps.read", None, "grown", false),
        (
            json!({"actions": ["apps"]}),
            "apps.write",
            None,
            "grown",
            true,
        ),
        (
            json!({"actions": ["apps"]}),
            "apps.delete",
            None,
            "grown",
            false,
        ),
        (
            json!({"actions": ["apps.read"]}),
            "apps.audit",
            None,
            "grown",
            false,
        ),
        (
            json!({"actions": ["deploy.run", "apps.read"]}),
            "deploy.run",
            None,
            "base",
            true,
        ),
        (
            json!({"preset": "all", "resources": ["orgs/acme/**"]}),
            "apps.read",
            Some("orgs/acme"),
            "base",
            true,
        ),
        (
            json!({"preset": "all", "resources": ["orgs/acme/**"]}),
            "apps.read",
            Some("orgs/acme/apps/7"),
            "base",
            true,
        ),
        (
            json!({"preset": "all", "resources": ["orgs/acme/**"]}),
            "apps.read",
            Some("orgs/acmecorp"),
            "base",
            false,
        ),
        (
            json!({"preset": "all", "resources": ["orgs/acme/**"]}),
            "apps.read",
            None,
            "base",
            false,
        ),
        (
            json!({"preset": "read", "resources": ["orgs/*/apps"]}),
            "apps.read",
            Some("orgs/x/apps"),
            "base",
            true,
        ),
        (
            json!({"preset": "read", "resources": ["orgs/*/apps"]}),
            "apps.read",
            Some("orgs/x/y/apps"),
            "base",
            false,
        ),
        (
            json!({"preset": "read", "resources": ["orgs/*/apps"]}),
            "apps.read",
            Some("orgs/../apps"),
            "base",
            false,
        ),
    ];
    let allows: Vec<Value> = allows_cases
        .into_iter()
        .map(|(scope_json, action, resource, which, intended)| {
            let scope = Scope::resolve(&spec(&scope_json), &base).expect("valid scope");
            let cat = if which == "grown" { &grown } else { &base };
            let got = scope.allows(&Request { action, resource }, cat);
            assert_eq!(
                got, intended,
                "allows {scope_json} {action} {resource:?} ({which})"
            );
            json!({
                "scope": scope_json,
                "resolved": scope,
                "request": { "action": action, "resource": resource },
                "catalog": which,
                "expect": got,
            })
        })
        .collect();
    let subset_cases = [
        (json!({"preset": "read"}), json!({"preset": "all"}), true),
        (json!({"preset": "all"}), json!({"preset": "read"}), false),
        (json!({"preset": "read"}), json!({"preset": "cli"}), false),
        (
            json!({"preset": "read"}),
            json!({"actions": ["apps.read", "deploy.read", "orgs.read"]}),
            false,
        ),
        (
            json!({"actions": ["apps.read", "orgs.read"]}),
            json!({"preset": "read"}),
            true,
        ),
        (
            json!({"actions": ["apps.read", "apps.write"]}),
            json!({"preset": "read"}),
            false,
        ),
        (
            json!({"actions": ["deploy.read"]}),
            json!({"preset": "cli"}),
            true,
        ),
        (
            json!({"actions": ["apps.read"]}),
            json!({"actions": ["apps"]}),
            true,
        ),
        (
            json!({"actions": ["apps"]}),
            json!({"actions": ["apps.read"]}),
            false,
        ),
        (
            json!({"preset": "all", "resources": ["orgs/acme/**"]}),
            json!({"preset": "all"}),
            true,
        ),
        (
            json!({"preset": "all"}),
            json!({"preset": "all", "resources": ["orgs/acme/**"]}),
            false,
        ),
        (
            json!({"preset": "all", "resources": ["orgs/acme/apps/*"]}),
            json!({"preset": "all", "resources": ["orgs/acme/**"]}),
            true,
        ),
        (
            json!({"preset": "all", "resources": ["orgs/acme/**"]}),
            json!({"preset": "all", "resources": ["orgs/acme/*"]}),
            false,
        ),
        (
            json!({"preset": "all", "resources": ["orgs/*/apps"]}),
            json!({"preset": "all", "resources": ["orgs/acme/apps"]}),
            false,
        ),
        (
            json!({"preset": "all", "resources": ["x/**"]}),
            json!({"preset": "all", "resources": ["x", "x/*", "x/*/*/**"]}),
            true,
        ),
    ];
    let subset: Vec<Value> = subset_cases
        .into_iter()
        .map(|(a, b, intended)| {
            let sa = Scope::resolve(&spec(&a), &base).expect("valid a");
            let sb = Scope::resolve(&spec(&b), &base).expect("valid b");
            let got = sa.is_subset(&sb, &base);
            assert_eq!(got, intended, "subset {a} <= {b}");
            json!({ "a": a, "b": b, "expect": got })
        })
        .collect();
    let invalid_cases = [
        json!({}),
        json!({"preset": "all", "actions": ["apps.read"]}),
        json!({"actions": []}),
        json!({"actions": ["apps.remove"]}),
        json!({"actions": ["Apps.Read"]}),
        json!({"preset": "all", "resources": []}),
        json!({"preset": "all", "resources": ["orgs//acme"]}),
        json!({"preset": "all", "resources": ["**/apps"]}),
        json!({"preset": "all", "resources": ["orgs/ac*"]}),
        json!({"preset": "all", "resources": ["orgs/../x"]}),
    ];
    let invalid: Vec<Value> = invalid_cases
        .into_iter()
        .map(|scope_json| {
            let error = Scope::resolve(&spec(&scope_json), &base)
                .expect_err("meant to be invalid")
                .code();
            assert_eq!(error, "SCOPE_INVALID");
            json!({ "scope": scope_json, "expect": { "error": error } })
        })
        .collect();
    json!({
        "about": "Scopes: scopes are resolved against `catalog` at issue; `allows` cases check a request under the catalog named by `catalog` (base, or grown after issue); `subset` asks whether every request `a` allows, `b` allows.",
        "catalog": base_catalog(),
        "grownCatalog": grown_catalog(),
        "allows": allows,
        "subset": subset,
        "invalid": invalid,
    })
}

/// One issue case: which deployment, the request JSON, an optional parent
/// label, and the intended error code (`None` for success).
struct IssueCase {
    name: &'static str,
    deployment: &'static str,
    request: Value,
    parent: Option<&'static str>,
    error: Option<&'static str>,
}

fn issue_case(name: &'static str, request: Value, error: Option<&'static str>) -> IssueCase {
    IssueCase {
        name,
        deployment: "open",
        request,
        parent: None,
        error,
    }
}

fn parents(open: &Deployment) -> Vec<(&'static str, Issued)> {
    let parent_scope = json!({"actions": ["apps.read", "deploy.run", "tokens.create"], "resources": ["orgs/acme/**"]});
    let mut inactive = make(
        open,
        "parent-inactive",
        "u1",
        parent_scope.clone(),
        Expiry::Days(10),
    );
    inactive.record.set_status(Status::Inactive);
    vec![
        (
            "parent",
            make(open, "parent", "u1", parent_scope.clone(), Expiry::Days(10)),
        ),
        (
            "parent-of-u2",
            make(
                open,
                "parent-of-u2",
                "u2",
                parent_scope.clone(),
                Expiry::Days(10),
            ),
        ),
        (
            "parent-without-create",
            make(
                open,
                "parent-without-create",
                "u1",
                json!({"actions": ["apps.read"]}),
                Expiry::Days(10),
            ),
        ),
        ("parent-inactive", inactive),
        (
            "parent-expired",
            make(
                open,
                "parent-expired",
                "u1",
                parent_scope.clone(),
                Expiry::Days(1),
            ),
        ),
        (
            "parent-never",
            make(
                open,
                "parent-never",
                "u1",
                json!({"preset": "all"}),
                Expiry::Never,
            ),
        ),
    ]
}

fn issue_vectors() -> Value {
    let open = deployment("open");
    let base = |extra: Value| {
        let mut request = json!({ "userId": "u1", "name": "CI deploys", "scope": {"preset": "all"}, "tokensHeld": 0 });
        for (k, v) in extra.as_object().expect("object") {
            request[k] = v.clone();
        }
        request
    };
    let child = |name, request: Value, parent, error| IssueCase {
        name,
        deployment: "open",
        request: base(request),
        parent: Some(parent),
        error,
    };
    let strict = |name, request: Value, error| IssueCase {
        name,
        deployment: "strict",
        request: base(request),
        parent: None,
        error,
    };
    let cases = vec![
        issue_case(
            "custom scope for 30 days",
            base(
                json!({"description": "deploys from CI", "expires": {"days": 30}, "scope": {"actions": ["deploy.run", "apps.read"]}}),
            ),
            None,
        ),
        issue_case("never expires by default", base(json!({})), None),
        issue_case(
            "-1 days means never",
            base(json!({"expires": {"days": -1}})),
            None,
        ),
        issue_case(
            "expires at a given time",
            base(json!({"expires": {"at": NOW + 7 * DAY}})),
            None,
        ),
        issue_case(
            "expires at without a date is a year ahead",
            base(json!({"expires": {"at": null}})),
            None,
        ),
        issue_case(
            "a whole resource selects its current actions",
            base(json!({"scope": {"actions": ["apps"], "resources": ["orgs/acme/**"]}})),
            None,
        ),
        issue_case(
            "name is trimmed, empty description dropped",
            base(json!({"name": "  padded  ", "description": "   "})),
            None,
        ),
        issue_case(
            "empty user id",
            base(json!({"userId": ""})),
            Some("USER_INVALID"),
        ),
        issue_case(
            "blank name",
            base(json!({"name": "   "})),
            Some("NAME_INVALID"),
        ),
        issue_case(
            "name of 101 characters",
            base(json!({"name": "n".repeat(101)})),
            Some("NAME_INVALID"),
        ),
        issue_case(
            "description with a control character",
            base(json!({"description": "bell\u{7}"})),
            Some("DESCRIPTION_INVALID"),
        ),
        issue_case(
            "empty custom list",
            base(json!({"scope": {"actions": []}})),
            Some("SCOPE_INVALID"),
        ),
        issue_case(
            "unknown action",
            base(json!({"scope": {"actions": ["apps.remove"]}})),
            Some("SCOPE_INVALID"),
        ),
        issue_case(
            "preset and list together",
            base(json!({"scope": {"preset": "read", "actions": ["apps.read"]}})),
            Some("SCOPE_INVALID"),
        ),
        issue_case(
            "malformed resource pattern",
            base(json!({"scope": {"preset": "read", "resources": ["orgs/**/apps"]}})),
            Some("SCOPE_INVALID"),
        ),
        issue_case(
            "zero days",
            base(json!({"expires": {"days": 0}})),
            Some("EXPIRY_INVALID"),
        ),
        issue_case(
            "minus two days",
            base(json!({"expires": {"days": -2}})),
            Some("EXPIRY_INVALID"),
        ),
        issue_case(
            "expiry in the past",
            base(json!({"expires": {"at": NOW - 1}})),
            Some("EXPIRY_INVALID"),
        ),
        issue_case(
            "expiry exactly now",
            base(json!({"expires": {"at": NOW}})),
            Some("EXPIRY_INVALID"),
        ),
        strict(
            "policy requires expiry",
            json!({"expires": "never"}),
            Some("EXPIRY_EXCEEDS_POLICY"),
        ),
        strict(
            "policy caps the lifetime",
            json!({"expires": {"days": 367}}),
            Some("EXPIRY_EXCEEDS_POLICY"),
        ),
        strict(
            "policy's longest lifetime",
            json!({"expires": {"days": 366}}),
            None,
        ),
        strict(
            "default expiry is capped by the policy",
            json!({"expires": {"at": null}}),
            None,
        ),
        strict(
            "token limit reached",
            json!({"expires": {"days": 1}, "tokensHeld": 3}),
            Some("LIMIT_REACHED"),
        ),
        strict(
            "one below the token limit",
            json!({"expires": {"days": 1}, "tokensHeld": 2}),
            None,
        ),
        child(
            "child within its parent",
            json!({"expires": {"days": 5}, "scope": {"actions": ["apps.read"], "resources": ["orgs/acme/apps/*"]}}),
            "parent",
            None,
        ),
        child(
            "child's default expiry is capped by its parent",
            json!({"expires": {"at": null}, "scope": {"actions": ["deploy.run"], "resources": ["orgs/acme/**"]}}),
            "parent",
            None,
        ),
        child(
            "child asks for an action its parent lacks",
            json!({"expires": {"days": 5}, "scope": {"actions": ["apps.write"], "resources": ["orgs/acme/**"]}}),
            "parent",
            Some("SCOPE_EXCEEDS_PARENT"),
        ),
        child(
            "child asks for a preset above a custom parent",
            json!({"expires": {"days": 5}, "scope": {"preset": "read", "resources": ["orgs/acme/**"]}}),
            "parent",
            Some("SCOPE_EXCEEDS_PARENT"),
        ),
        child(
            "child drops its parent's resource narrowing",
            json!({"expires": {"days": 5}, "scope": {"actions": ["apps.read"]}}),
            "parent",
            Some("SCOPE_EXCEEDS_PARENT"),
        ),
        child(
            "child never expires under an expiring parent",
            json!({"expires": "never", "scope": {"actions": ["apps.read"], "resources": ["orgs/acme/**"]}}),
            "parent",
            Some("EXPIRY_EXCEEDS_PARENT"),
        ),
        child(
            "child outlives its parent",
            json!({"expires": {"days": 11}, "scope": {"actions": ["apps.read"], "resources": ["orgs/acme/**"]}}),
            "parent",
            Some("EXPIRY_EXCEEDS_PARENT"),
        ),
        child(
            "child of a never-expiring parent may never expire",
            json!({"expires": "never", "scope": {"preset": "read"}}),
            "parent-never",
            None,
        ),
        child(
            "parent belongs to another user",
            json!({"expires": {"days": 1}, "scope": {"actions": ["apps.read"], "resources": ["orgs/acme/**"]}}),
            "parent-of-u2",
            Some("PARENT_INVALID"),
        ),
        child(
            "parent lacks the token-creation action",
            json!({"expires": {"days": 1}, "scope": {"actions": ["apps.read"]}}),
            "parent-without-create",
            Some("PARENT_INVALID"),
        ),
        child(
            "parent is inactive",
            json!({"expires": {"days": 1}, "scope": {"actions": ["apps.read"], "resources": ["orgs/acme/**"]}}),
            "parent-inactive",
            Some("TOKEN_INACTIVE"),
        ),
        child(
            "parent has expired",
            json!({"expires": {"days": 1}, "scope": {"actions": ["apps.read"], "resources": ["orgs/acme/**"]}}),
            "parent-expired",
            Some("TOKEN_EXPIRED"),
        ),
    ];
    let parents = parents(&open);
    let parent_json: serde_json::Map<String, Value> = parents
        .iter()
        .map(|(label, issued)| {
            (
                label.to_string(),
                json!({ "token": issued.token.expose(), "record": record_json(&issued.record) }),
            )
        })
        .collect();
    let out: Vec<Value> = cases
        .iter()
        .enumerate()
        .map(|(n, case)| {
            let d = deployment(case.deployment);
            let bytes = entropy(&format!("issue-{n}"));
            let parent = case
                .parent
                .map(|label| &parents.iter().find(|(l, _)| *l == label).expect("parent").1);
            let got = run_issue(&d, &case.request, parent, &bytes);
            let expect = match (case.error, got) {
                (None, Ok(issued)) => {
                    json!({ "token": issued.token.expose(), "record": record_json(&issued.record) })
                }
                (Some(code), Err(got)) if got == code => json!({ "error": code }),
                (intended, got) => panic!(
                    "issue case {}: meant {intended:?}, got {:?}",
                    case.name,
                    got.map(|i| i.record)
                ),
            };
            json!({
                "name": case.name,
                "deployment": case.deployment,
                "now": NOW,
                "entropy": hex(&bytes),
                "request": case.request,
                "parent": case.parent,
                "expect": expect,
            })
        })
        .collect();
    json!({
        "about": "Issuing. `request.expires` is \"never\", {\"days\": n} or {\"at\": ms|null}; a case with `parent` presents that parent's token (authenticated at `now` against its record, which the store holds) as the creator.",
        "deployments": deployments(),
        "parents": parent_json,
        "cases": out,
    })
}

/// Runs one issue request the way an adapter would: authenticate the parent
/// (if any) at `now`, then issue.
fn run_issue(
    d: &Deployment,
    request: &Value,
    parent: Option<&Issued>,
    bytes: &[u8; 32],
) -> Result<Issued, &'static str> {
    let scope = spec(&request["scope"]);
    let expires: Expiry = match request.get("expires") {
        Some(e) => serde_json::from_value(e.clone()).expect("expiry"),
        None => Expiry::Never,
    };
    let authenticated: Option<Authenticated<'_>> = match parent {
        None => None,
        Some(p) => {
            let presented = d.parse(p.token.expose()).expect("parent parses");
            let hash = d.hash(&presented);
            Some(
                d.authenticate(&hash, Some(&p.record), NOW)
                    .map_err(|e| e.code())?,
            )
        }
    };
    d.issue(
        &IssueRequest {
            user_id: request["userId"].as_str().expect("userId"),
            name: request["name"].as_str().expect("name"),
            description: request.get("description").and_then(Value::as_str),
            expires,
            scope: &scope,
            creator: authenticated.map_or(Creator::User, Creator::Token),
            tokens_held: request["tokensHeld"].as_u64().expect("tokensHeld") as usize,
        },
        NOW,
        bytes,
    )
    .map_err(|e| e.code())
}

/// Name, deployment, input, action, resource, now and intended error.
type VerifyCase<'a> = (
    &'a str,
    &'a str,
    String,
    &'a str,
    Option<&'a str>,
    i64,
    Option<&'a str>,
);

fn verify_vectors() -> Value {
    let open = deployment("open");
    let peppered = deployment("peppered");
    let custom = make(
        &open,
        "verify-custom",
        "u1",
        json!({"actions": ["apps.read", "deploy.run"]}),
        Expiry::Never,
    );
    let read = make(
        &open,
        "verify-read",
        "u1",
        json!({"preset": "read"}),
        Expiry::At(Some(NOW + DAY)),
    );
    let mut inactive = make(
        &open,
        "verify-inactive",
        "u2",
        json!({"preset": "all"}),
        Expiry::Never,
    );
    inactive.record.set_status(Status::Inactive);
    let narrowed = make(
        &open,
        "verify-narrowed",
        "u3",
        json!({"preset": "all", "resources": ["orgs/acme/**"]}),
        Expiry::Never,
    );
    let mut recent = make(
        &open,
        "verify-recent",
        "u1",
        json!({"preset": "all"}),
        Expiry::Never,
    );
    recent.record.touch(NOW - 30_000);
    let mut stale = make(
        &open,
        "verify-stale",
        "u1",
        json!({"preset": "all"}),
        Expiry::Never,
    );
    stale.record.touch(NOW - 60_000);
    let spiced = make(
        &peppered,
        "verify-peppered",
        "u4",
        json!({"preset": "all"}),
        Expiry::Never,
    );
    let unknown = make(
        &open,
        "verify-unknown",
        "u1",
        json!({"preset": "all"}),
        Expiry::Never,
    );
    let expires_at = NOW + DAY;
    let t = |i: &Issued| i.token.expose().to_string();
    let cases: Vec<VerifyCase<'_>> = vec![
        (
            "custom scope allows a listed action",
            "open",
            format!("Bearer {}", t(&custom)),
            "apps.read",
            None,
            NOW,
            None,
        ),
        (
            "custom scope denies an unlisted action",
            "open",
            format!("Bearer {}", t(&custom)),
            "apps.write",
            None,
            NOW,
            Some("SCOPE_DENIED"),
        ),
        (
            "UserToken scheme",
            "open",
            format!("UserToken {}", t(&custom)),
            "deploy.run",
            None,
            NOW,
            None,
        ),
        (
            "action not in the catalog",
            "open",
            t(&custom),
            "nope.nope",
            None,
            NOW,
            Some("SCOPE_DENIED"),
        ),
        (
            "read preset allows a read action",
            "open",
            t(&read),
            "orgs.read",
            None,
            NOW,
            None,
        ),
        (
            "read preset denies a write",
            "open",
            t(&read),
            "apps.write",
            None,
            NOW,
            Some("SCOPE_DENIED"),
        ),
        (
            "one millisecond before expiry",
            "open",
            t(&read),
            "apps.read",
            None,
            expires_at - 1,
            None,
        ),
        (
            "exactly at expiry",
            "open",
            t(&read),
            "apps.read",
            None,
            expires_at,
            Some("TOKEN_EXPIRED"),
        ),
        (
            "after expiry, even for a denied action",
            "open",
            t(&read),
            "apps.write",
            None,
            expires_at + 1,
            Some("TOKEN_EXPIRED"),
        ),
        (
            "inactive",
            "open",
            t(&inactive),
            "apps.read",
            None,
            NOW,
            Some("TOKEN_INACTIVE"),
        ),
        (
            "unknown token with a valid checksum",
            "open",
            t(&unknown),
            "apps.read",
            None,
            NOW,
            Some("TOKEN_UNKNOWN"),
        ),
        (
            "malformed header",
            "open",
            "Bearer nope".into(),
            "apps.read",
            None,
            NOW,
            Some("TOKEN_MALFORMED"),
        ),
        (
            "bad checksum",
            "open",
            format!("{}0", &t(&custom)[..52]),
            "apps.read",
            None,
            NOW,
            Some("TOKEN_CHECKSUM"),
        ),
        (
            "narrowed scope, matching resource",
            "open",
            t(&narrowed),
            "apps.write",
            Some("orgs/acme/apps/1"),
            NOW,
            None,
        ),
        (
            "narrowed scope, other resource",
            "open",
            t(&narrowed),
            "apps.write",
            Some("orgs/other/apps/1"),
            NOW,
            Some("SCOPE_DENIED"),
        ),
        (
            "narrowed scope, no resource",
            "open",
            t(&narrowed),
            "apps.write",
            None,
            NOW,
            Some("SCOPE_DENIED"),
        ),
        (
            "used 30 seconds ago: no touch",
            "open",
            t(&recent),
            "apps.read",
            None,
            NOW,
            None,
        ),
        (
            "used 60 seconds ago: touch",
            "open",
            t(&stale),
            "apps.read",
            None,
            NOW,
            None,
        ),
        (
            "peppered deployment",
            "peppered",
            t(&spiced),
            "apps.read",
            None,
            NOW,
            None,
        ),
        (
            "peppered token under a plain deployment",
            "open",
            t(&spiced),
            "apps.read",
            None,
            NOW,
            Some("TOKEN_UNKNOWN"),
        ),
    ];
    let records: Vec<&Issued> = vec![
        &custom, &read, &inactive, &narrowed, &recent, &stale, &spiced,
    ];
    let out: Vec<Value> = cases
        .into_iter()
        .map(|(name, dep, input, action, resource, now, intended)| {
            let d = deployment(dep);
            let request = Request { action, resource };
            let got = d.parse(&input).map_err(|e| e.code()).and_then(|p| {
                let h = d.hash(&p);
                let found = records.iter().map(|i| &i.record).find(|r| r.hash() == &h);
                d.verify(&h, found, &request, now)
                    .map(|v| json!({ "userId": v.principal.user_id, "tokenId": v.principal.token_id, "touch": v.touch }))
                    .map_err(|e| e.code())
            });
            let expect = match (intended, got) {
                (None, Ok(principal)) => principal,
                (Some(code), Err(got)) if got == code => json!({ "error": code }),
                (intended, got) => panic!("verify case {name}: meant {intended:?}, got {got:?}"),
            };
            json!({
                "name": name,
                "deployment": dep,
                "input": input,
                "request": { "action": action, "resource": resource },
                "now": now,
                "expect": expect,
            })
        })
        .collect();
    json!({
        "about": "Verification end to end: parse the input, hash it under the named deployment, look it up among `records` by hash, verify at `now`. On success, `touch` says whether last-used is worth writing.",
        "deployments": deployments(),
        "records": records.iter().map(|i| record_json(&i.record)).collect::<Vec<_>>(),
        "cases": out,
    })
}

/// Name, deployment, old token, grace, now and intended error.
type RotateCase<'a> = (&'a str, &'a str, &'a Issued, i64, i64, Option<&'a str>);

fn rotate_vectors() -> Value {
    let open = deployment("open");
    let strict = deployment("strict");
    let month = make(
        &open,
        "rotate-month",
        "u1",
        json!({"preset": "read"}),
        Expiry::Days(30),
    );
    let never = make(
        &open,
        "rotate-never",
        "u1",
        json!({"preset": "all"}),
        Expiry::Never,
    );
    let mut inactive = make(
        &open,
        "rotate-inactive",
        "u1",
        json!({"preset": "all"}),
        Expiry::Days(30),
    );
    inactive.record.set_status(Status::Inactive);
    let soon = make(
        &open,
        "rotate-soon",
        "u1",
        json!({"preset": "all"}),
        Expiry::At(Some(NOW + 60_000)),
    );
    let cases: Vec<RotateCase<'_>> = vec![
        (
            "keeps the lifetime, old token gets an hour",
            "open",
            &month,
            3_600_000,
            NOW,
            None,
        ),
        (
            "never-expiring stays never; old gets no grace",
            "open",
            &never,
            0,
            NOW,
            None,
        ),
        (
            "grace never extends the old expiry",
            "open",
            &soon,
            3_600_000,
            NOW,
            None,
        ),
        (
            "inactive token",
            "open",
            &inactive,
            0,
            NOW,
            Some("TOKEN_INACTIVE"),
        ),
        (
            "expired token",
            "open",
            &month,
            0,
            NOW + 40 * DAY,
            Some("TOKEN_EXPIRED"),
        ),
        (
            "negative grace",
            "open",
            &month,
            -1,
            NOW,
            Some("EXPIRY_INVALID"),
        ),
        (
            "never-expiring under a policy that requires expiry",
            "strict",
            &never,
            0,
            NOW,
            Some("EXPIRY_EXCEEDS_POLICY"),
        ),
    ];
    let out: Vec<Value> = cases
        .into_iter()
        .enumerate()
        .map(|(n, (name, dep, old, grace, now, intended))| {
            let d = if dep == "strict" { &strict } else { &open };
            let bytes = entropy(&format!("rotate-{n}"));
            let got = d.rotate(&old.record, grace, now, &bytes);
            let expect = match (intended, got) {
                (None, Ok(r)) => json!({
                    "token": r.issued.token.expose(),
                    "record": record_json(&r.issued.record),
                    "retired": record_json(&r.retired),
                }),
                (Some(code), Err(e)) if e.code() == code => json!({ "error": code }),
                (intended, got) => panic!(
                    "rotate case {name}: meant {intended:?}, got {:?}",
                    got.map(|r| r.retired)
                ),
            };
            json!({
                "name": name,
                "deployment": dep,
                "record": record_json(&old.record),
                "graceMs": grace,
                "now": now,
                "entropy": hex(&bytes),
                "expect": expect,
            })
        })
        .collect();
    json!({
        "about": "Rotation: a new token with the old one's owner, name, scope and lifetime; the old record's expiry becomes min(its expiry, now + graceMs).",
        "deployments": deployments(),
        "cases": out,
    })
}
