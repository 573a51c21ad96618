//! `tests/vectors/scope.json`: what scopes allow, under a catalog that grows, and `is_subset`.

use super::*;

pub(crate) fn scope_vectors() -> Value {
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
            let got = scope.allows(
                &Request {
                    action,
                    resource,
                    ip: None,
                },
                cat,
            );
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
