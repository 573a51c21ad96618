//! `tests/vectors/issue.json`: issuing, by a user or by a parent token, under each policy.

use super::*;

/// One issue case: which deployment, the request JSON, an optional parent
/// label, and the intended error code (`None` for success).
struct IssueCase {
    name: &'static str,
    deployment: &'static str,
    request: Value,
    parent: Option<&'static str>,
    /// The address the parent is presented from, if any.
    ip: Option<&'static str>,
    error: Option<&'static str>,
}

fn issue_case(name: &'static str, request: Value, error: Option<&'static str>) -> IssueCase {
    IssueCase {
        name,
        deployment: "open",
        request,
        parent: None,
        ip: None,
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
        (
            "parent-restricted",
            make_within(
                open,
                "parent-restricted",
                "u1",
                json!({"preset": "all"}),
                Expiry::Days(10),
                &["10.0.0.0/8", "2001:db8::/32"],
            ),
        ),
    ]
}

pub(crate) fn issue_vectors() -> Value {
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
        ip: None,
        error,
    };
    let child_from = |name, request: Value, parent, ip, error| IssueCase {
        name,
        deployment: "open",
        request: base(request),
        parent: Some(parent),
        ip: Some(ip),
        error,
    };
    let strict = |name, request: Value, error| IssueCase {
        name,
        deployment: "strict",
        request: base(request),
        parent: None,
        ip: None,
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
        issue_case(
            "allowed IP ranges are normalised",
            base(
                json!({"allowedIps": ["2001:db8::/32", "10.1.0.0/16", "10.0.0.0/8", "192.0.2.7", "10.0.0.0/8"]}),
            ),
            None,
        ),
        issue_case(
            "an IPv4 prefix longer than 32",
            base(json!({"allowedIps": ["203.0.113.7/33"]})),
            Some("IPS_INVALID"),
        ),
        issue_case(
            "a range with host bits set",
            base(json!({"allowedIps": ["10.0.0.0/8", "10.0.0.1/8"]})),
            Some("IPS_INVALID"),
        ),
        issue_case(
            "an allowed IP that is not an address",
            base(json!({"allowedIps": ["localhost"]})),
            Some("IPS_INVALID"),
        ),
        child_from(
            "child narrows its restricted parent's ranges",
            json!({"expires": {"days": 5}, "allowedIps": ["10.1.0.0/16", "2001:db8:1::/48"]}),
            "parent-restricted",
            "10.1.2.3",
            None,
        ),
        child_from(
            "child of a restricted parent asks for anywhere",
            json!({"expires": {"days": 5}}),
            "parent-restricted",
            "10.1.2.3",
            Some("IPS_EXCEED_PARENT"),
        ),
        child_from(
            "child widens its parent's range",
            json!({"expires": {"days": 5}, "allowedIps": ["10.0.0.0/7"]}),
            "parent-restricted",
            "10.1.2.3",
            Some("IPS_EXCEED_PARENT"),
        ),
        child_from(
            "child names a range outside its parent's",
            json!({"expires": {"days": 5}, "allowedIps": ["10.1.0.0/16", "192.168.0.0/16"]}),
            "parent-restricted",
            "10.1.2.3",
            Some("IPS_EXCEED_PARENT"),
        ),
        child_from(
            "restricted parent presented from outside its ranges",
            json!({"expires": {"days": 5}, "allowedIps": ["10.1.0.0/16"]}),
            "parent-restricted",
            "192.0.2.1",
            Some("IP_DENIED"),
        ),
        child(
            "restricted parent presented from an unknown address",
            json!({"expires": {"days": 5}, "allowedIps": ["10.1.0.0/16"]}),
            "parent-restricted",
            Some("IP_DENIED"),
        ),
        child_from(
            "restricted parent presented from an IPv4-mapped address",
            json!({"expires": {"days": 5}, "allowedIps": ["10.1.0.0/16"]}),
            "parent-restricted",
            "::ffff:10.9.9.9",
            None,
        ),
        child(
            "child of an unrestricted parent may name ranges",
            json!({"expires": "never", "scope": {"preset": "read"}, "allowedIps": ["192.0.2.0/24"]}),
            "parent-never",
            None,
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
            let got = run_issue(&d, &case.request, parent, case.ip, &bytes);
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
                "ip": case.ip,
                "expect": expect,
            })
        })
        .collect();
    json!({
        "about": "Issuing. `request.expires` is \"never\", {\"days\": n} or {\"at\": ms|null}; a case with `parent` presents that parent's token (authenticated at `now` against its record, which the store holds, from the client address `ip`, null when unknown) as the creator. `request.allowedIps` (absent for none) lists the CIDR ranges the new token may be used from.",
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
    ip: Option<&str>,
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
            let ip = ip.map(|ip| ip.parse().expect("an address"));
            Some(
                d.authenticate(
                    &hash,
                    Some(&p.record),
                    tessera_core::Standing::OWNER,
                    ip,
                    NOW,
                )
                .map_err(|e| e.code())?,
            )
        }
    };
    let allowed: Vec<String> = request
        .get("allowedIps")
        .map(|list| serde_json::from_value(list.clone()).expect("allowedIps"))
        .unwrap_or_default();
    d.issue(
        &IssueRequest {
            user_id: request["userId"].as_str().expect("userId"),
            name: request["name"].as_str().expect("name"),
            description: request.get("description").and_then(Value::as_str),
            expires,
            scope: &scope,
            allowed_ips: &allowed,
            creator: authenticated.map_or(Creator::User, Creator::Token),
            tokens_held: request["tokensHeld"].as_u64().expect("tokensHeld") as usize,
        },
        NOW,
        bytes,
    )
    .map_err(|e| e.code())
}
