//! `tests/vectors/verify.json`: verification, step by step, and when last-used is due.

use super::*;
use tessera_core::{Enablement, Standing};

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

pub(crate) fn verify_vectors() -> Value {
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
    let gated = make_within(
        &open,
        "verify-gated",
        "u5",
        json!({"preset": "read"}),
        Expiry::At(Some(NOW + DAY)),
        &["10.0.0.0/8", "2001:db8::/32"],
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
    // The same valid token under owners of every standing: the user's
    // enablement is checked right after the hash, before status.
    let owners = [
        (
            "owner: an administrator whose own setting is off",
            true,
            Enablement::Off,
            false,
            None,
        ),
        (
            "owner: a member switched on",
            false,
            Enablement::On,
            false,
            None,
        ),
        (
            "owner: a member who inherits an enabled default",
            false,
            Enablement::Inherit,
            true,
            None,
        ),
        (
            "owner: a member who inherits the default, off",
            false,
            Enablement::Inherit,
            false,
            Some("TOKENS_DISABLED"),
        ),
        (
            "owner: a member switched off",
            false,
            Enablement::Off,
            true,
            Some("TOKENS_DISABLED"),
        ),
    ];
    let owned = owners
        .iter()
        .map(|&(name, admin, tokens, members_enabled, intended)| {
            let owner = Standing {
                admin,
                tokens,
                members_enabled,
            };
            (
                (name, "open", t(&custom), "apps.read", None, NOW, intended),
                owner,
            )
        });
    let disabled_inactive = (
        (
            "owner disabled and token inactive: TOKENS_DISABLED first",
            "open",
            t(&inactive),
            "apps.read",
            None,
            NOW,
            Some("TOKENS_DISABLED"),
        ),
        Standing {
            admin: false,
            tokens: Enablement::Off,
            members_enabled: true,
        },
    );
    let unknown_disabled = (
        (
            "unknown token of a disabled owner: still TOKEN_UNKNOWN",
            "open",
            t(&spiced),
            "apps.read",
            None,
            NOW,
            Some("TOKEN_UNKNOWN"),
        ),
        Standing {
            admin: false,
            tokens: Enablement::Off,
            members_enabled: false,
        },
    );
    // Requests from a client address: a token usable only from
    // 10.0.0.0/8 and 2001:db8::/32, and an unrestricted one.
    let addressed: Vec<(VerifyCase<'_>, Option<&str>)> = [
        (
            "restricted token from inside an IPv4 range",
            &gated,
            Some("10.20.30.40"),
            "orgs.read",
            NOW,
            None,
        ),
        (
            "restricted token from an IPv4-mapped address inside",
            &gated,
            Some("::ffff:10.20.30.40"),
            "orgs.read",
            NOW,
            None,
        ),
        (
            "restricted token from inside an IPv6 range",
            &gated,
            Some("2001:db8:5::1"),
            "orgs.read",
            NOW,
            None,
        ),
        (
            "restricted token from outside its ranges",
            &gated,
            Some("192.0.2.1"),
            "orgs.read",
            NOW,
            Some("IP_DENIED"),
        ),
        (
            "restricted token from an IPv6 address outside",
            &gated,
            Some("2001:db9::1"),
            "orgs.read",
            NOW,
            Some("IP_DENIED"),
        ),
        (
            "restricted token from an unknown address",
            &gated,
            None,
            "orgs.read",
            NOW,
            Some("IP_DENIED"),
        ),
        (
            "the address is checked before the scope",
            &gated,
            Some("192.0.2.1"),
            "apps.write",
            NOW,
            Some("IP_DENIED"),
        ),
        (
            "the scope still holds inside the ranges",
            &gated,
            Some("10.0.0.1"),
            "apps.write",
            NOW,
            Some("SCOPE_DENIED"),
        ),
        (
            "expiry is checked before the address",
            &gated,
            Some("192.0.2.1"),
            "orgs.read",
            NOW + 2 * DAY,
            Some("TOKEN_EXPIRED"),
        ),
        (
            "unrestricted token from any address",
            &custom,
            Some("192.0.2.1"),
            "apps.read",
            NOW,
            None,
        ),
    ]
    .into_iter()
    .map(|(name, issued, ip, action, now, intended)| {
        ((name, "open", t(issued), action, None, now, intended), ip)
    })
    .collect();
    let cases: Vec<(VerifyCase<'_>, Standing, Option<&str>)> = cases
        .into_iter()
        .map(|case| (case, Standing::OWNER))
        .chain(owned)
        .chain([disabled_inactive, unknown_disabled])
        .map(|(case, owner)| (case, owner, None))
        .chain(
            addressed
                .into_iter()
                .map(|(case, ip)| (case, Standing::OWNER, ip)),
        )
        .collect();
    let records: Vec<&Issued> = vec![
        &custom, &read, &inactive, &narrowed, &recent, &stale, &spiced, &gated,
    ];
    let out: Vec<Value> = cases
        .into_iter()
        .map(|((name, dep, input, action, resource, now, intended), owner, ip)| {
            let d = deployment(dep);
            let address = ip.map(|ip| ip.parse().expect("an address"));
            let request = Request { action, resource, ip: address };
            let got = d.parse(&input).map_err(|e| e.code()).and_then(|p| {
                let h = d.hash(&p);
                let found = records.iter().map(|i| &i.record).find(|r| r.hash() == &h);
                d.verify(&h, found, owner, &request, now)
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
                "ip": ip,
                "now": now,
                "owner": {
                    "admin": owner.admin,
                    "tokens": owner.tokens.as_str(),
                    "membersEnabled": owner.members_enabled,
                },
                "expect": expect,
            })
        })
        .collect();
    json!({
        "about": "Verification end to end: parse the input, hash it under the named deployment, look it up among `records` by hash, verify at `now` with `owner` as the standing of the record's user that the lookup returned (`tokens`: `inherit`, `on` or `off`; tokens are enabled for administrators always, for members by their setting or, for `inherit`, by `membersEnabled`). `ip` is the client's address (null when the caller cannot tell it), checked against the record's `allowedIps` after expiry and before scope. On success, `touch` says whether last-used is worth writing.",
        "deployments": deployments(),
        "records": records.iter().map(|i| record_json(&i.record)).collect::<Vec<_>>(),
        "cases": out,
    })
}
