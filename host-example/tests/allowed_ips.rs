//! Per-token network allowlists through the real binary: `allowedIps` in
//! the create body and the record, normalised and checked by the core;
//! a token used from outside its ranges is refused with 403 `IP_DENIED` on
//! the API and on ext_authz, and the audit log notes where it came from; a
//! token made by a token stays within its parent's ranges; the ranges are
//! frozen (an edit cannot change them, a rotation keeps them). Other client
//! addresses are simulated with `X-Forwarded-For` from a trusted proxy
//! (`--trusted-proxy 127.0.0.1`), which an untrusted peer cannot forge.

mod common;

use std::path::Path;

use common::{Server, add_user_db, basic, bearer, temp_dir};
use serde_json::{Value, json};

const SERVICE: &str = common::GATEWAY_CREDENTIAL;

/// Sends `method path` with a token, as if from `from` (reported by the
/// trusted proxy in `X-Forwarded-For`), or from the loopback peer.
fn send_from(
    server: &Server,
    method: &str,
    path: &str,
    auth: &str,
    from: Option<&str>,
    body: Option<&str>,
) -> common::Response {
    let mut headers = vec![("Authorization", auth)];
    if let Some(from) = from {
        headers.push(("X-Forwarded-For", from));
    }
    server.send_with(method, path, &headers, body)
}

fn refused(response: &common::Response, status: u16, code: &str) {
    assert_eq!(response.status, status, "{}", response.body);
    assert_eq!(response.code(), code, "{}", response.body);
}

/// Creates a token by password; the answer, whatever it is.
fn create(server: &Server, auth: &str, body: Value) -> common::Response {
    server.send(
        "POST",
        "/api/usertokens",
        Some(auth),
        Some(&body.to_string()),
    )
}

fn created(response: &common::Response) -> (String, Value) {
    assert_eq!(response.status, 201, "{}", response.body);
    let json = response.json();
    (
        json["token"].as_str().unwrap().to_owned(),
        json["record"].clone(),
    )
}

/// Starts a host with an administrator, ann, serving ext_authz; with
/// `trusted`, it believes `X-Forwarded-For` from the loopback peer (as from
/// a local reverse proxy). Returns the server and ann's credentials.
fn start(name: &str, trusted: bool) -> (Server, String) {
    let dir = temp_dir(name);
    let db = common::sqlite(&dir);
    add_user_db(&db, "ann", "ann-password", true);
    (serve(&db, &dir, trusted), basic("ann", "ann-password"))
}

fn serve(db: &str, dir: &Path, trusted: bool) -> Server {
    let trust: &[&str] = if trusted {
        &["--trusted-proxy", "127.0.0.1"]
    } else {
        &[]
    };
    common::serve_gateways(db, dir, trust)
}

#[test]
fn allowed_ips_are_created_checked_and_enforced_on_every_route() {
    let (server, ann) = start("allowed-ips", true);

    // Bad lists are refused with a code, and nothing is created.
    for (list, status, code) in [
        (json!(["203.0.113.7/33"]), 422, "IPS_INVALID"),
        (json!(["10.0.0.1/8"]), 422, "IPS_INVALID"),
        (json!(["localhost"]), 422, "IPS_INVALID"),
        (json!(vec!["10.0.0.1"; 65]), 422, "IPS_INVALID"),
        (json!("10.0.0.0/8"), 400, "BAD_REQUEST"),
        (json!([10]), 400, "BAD_REQUEST"),
    ] {
        let body = json!({ "name": "bad", "scope": { "preset": "all" }, "allowedIps": list });
        refused(&create(&server, &ann, body), status, code);
    }
    let list = server.send("GET", "/api/usertokens", Some(&ann), None);
    assert_eq!(list.json().as_array().unwrap().len(), 0, "{}", list.body);

    // A restricted token: the list is kept in normal form and shown.
    let body = json!({
        "name": "office", "scope": { "preset": "all" },
        "allowedIps": ["2001:db8::/32", "10.1.0.0/16", "10.0.0.0/8"],
    });
    let (gated, record) = created(&create(&server, &ann, body));
    assert_eq!(record["allowedIps"], json!(["10.0.0.0/8", "2001:db8::/32"]));
    let (open, open_record) = created(&create(
        &server,
        &ann,
        json!({ "name": "anywhere", "scope": { "preset": "all" } }),
    ));
    assert_eq!(open_record["allowedIps"], json!([]));
    let shown = server.send(
        "GET",
        &format!("/api/usertokens/{}", record["id"].as_str().unwrap()),
        Some(&ann),
        None,
    );
    assert_eq!(shown.json()["allowedIps"], record["allowedIps"]);

    // Inside its ranges (IPv4, IPv4-mapped, IPv6) it works; outside, or
    // from the loopback peer itself, it is refused with 403 IP_DENIED.
    let gated_auth = bearer(&gated);
    for inside in ["10.1.2.3", "::ffff:10.1.2.3", "2001:db8::5"] {
        let answer = send_from(
            &server,
            "GET",
            "/api/whoami",
            &gated_auth,
            Some(inside),
            None,
        );
        assert_eq!(answer.status, 200, "{inside}: {}", answer.body);
    }
    for outside in [Some("192.0.2.1"), Some("2001:db9::1"), None] {
        let answer = send_from(&server, "GET", "/api/whoami", &gated_auth, outside, None);
        refused(&answer, 403, "IP_DENIED");
        assert!(answer.header("www-authenticate").is_none());
    }
    // A chain of proxies: the rightmost untrusted address decides, so a
    // client cannot prepend an address of its choice.
    let answer = send_from(
        &server,
        "GET",
        "/api/whoami",
        &gated_auth,
        Some("10.1.2.3, 192.0.2.1"),
        None,
    );
    refused(&answer, 403, "IP_DENIED");
    // The unrestricted token works from anywhere.
    let answer = send_from(
        &server,
        "GET",
        "/api/whoami",
        &bearer(&open),
        Some("192.0.2.1"),
        None,
    );
    assert_eq!(answer.status, 200, "{}", answer.body);

    // The audit log notes a refusal with the address it came from.
    let page = server.send(
        "GET",
        &format!(
            "/api/audit?event=token.refused&tokenId={}",
            record["id"].as_str().unwrap()
        ),
        Some(&ann),
        None,
    );
    assert_eq!(page.status, 200, "{}", page.body);
    let event = &page.json()["events"][0];
    assert_eq!(event["detail"]["code"], "IP_DENIED", "{}", page.body);
    assert_eq!(event["address"], "192.0.2.1", "{}", page.body);

    // Acting on tokens: outside its ranges it can do nothing, not even
    // delete itself; inside, it makes only tokens within its ranges.
    let answer = send_from(
        &server,
        "GET",
        "/api/usertokens",
        &gated_auth,
        Some("192.0.2.1"),
        None,
    );
    refused(&answer, 403, "IP_DENIED");
    let own = format!("/api/usertokens/{}", record["id"].as_str().unwrap());
    let answer = send_from(
        &server,
        "DELETE",
        &own,
        &gated_auth,
        Some("192.0.2.1"),
        None,
    );
    refused(&answer, 403, "IP_DENIED");
    let child = |ips: Value| {
        json!({ "name": "child", "scope": { "preset": "read" }, "expires": { "days": 1 }, "allowedIps": ips })
            .to_string()
    };
    for ips in [
        json!(null),
        json!([]),
        json!(["192.168.0.0/16"]),
        json!(["10.0.0.0/7"]),
    ] {
        let answer = send_from(
            &server,
            "POST",
            "/api/usertokens",
            &gated_auth,
            Some("10.1.2.3"),
            Some(&child(ips.clone())),
        );
        refused(&answer, 422, "IPS_EXCEED_PARENT");
    }
    let answer = send_from(
        &server,
        "POST",
        "/api/usertokens",
        &gated_auth,
        Some("10.1.2.3"),
        Some(&child(json!(["10.1.0.0/16"]))),
    );
    let (_, child_record) = created(&answer);
    assert_eq!(child_record["allowedIps"], json!(["10.1.0.0/16"]));
    assert_eq!(child_record["createdBy"]["tokenId"], record["id"]);
    // A restricted token may not touch a token usable from anywhere.
    let open_path = format!("/api/usertokens/{}", open_record["id"].as_str().unwrap());
    let answer = send_from(
        &server,
        "DELETE",
        &open_path,
        &gated_auth,
        Some("10.1.2.3"),
        None,
    );
    refused(&answer, 422, "IPS_EXCEED_PARENT");
    assert_eq!(
        server.send("GET", &open_path, Some(&ann), None).status,
        200,
        "the open token is still there"
    );

    // Frozen: an edit cannot change the ranges; a rotation keeps them.
    let answer = server.send("PATCH", &own, Some(&ann), Some(r#"{"allowedIps":[]}"#));
    refused(&answer, 422, "IMMUTABLE_FIELD");
    let rotated = server.send("POST", &format!("{own}/rotate"), Some(&ann), Some("{}"));
    let (next, next_record) = created(&rotated);
    assert_eq!(next_record["allowedIps"], record["allowedIps"]);
    let answer = send_from(
        &server,
        "GET",
        "/api/whoami",
        &bearer(&next),
        Some("192.0.2.1"),
        None,
    );
    refused(&answer, 403, "IP_DENIED");

    // ext_authz: the same rule, with the address Envoy reports (the old
    // token ended with its rotation; its successor carries its ranges).
    let next_auth = bearer(&next);
    let gate = |from: &str| {
        send_from(
            &server,
            "GET",
            "/ext_authz/api/apps",
            &next_auth,
            Some(from),
            None,
        )
    };
    let answer = gate("10.9.9.9");
    assert_eq!(answer.status, 200, "{}", answer.body);
    let answer = gate("192.0.2.1");
    refused(&answer, 403, "IP_DENIED");

    // The introspection answer gateways decide from carries the ranges.
    let hash = tessera_core::hash(&next, None).to_hex();
    let answer = server.send(
        "GET",
        &format!("/api/introspect/{hash}"),
        Some(&format!("Service {SERVICE}")),
        None,
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["record"]["allowedIps"], record["allowedIps"]);
}

#[test]
fn an_untrusted_peer_cannot_claim_an_address() {
    let (server, ann) = start("allowed-ips-untrusted", false);
    let body =
        json!({ "name": "office", "scope": { "preset": "all" }, "allowedIps": ["10.0.0.0/8"] });
    let (gated, _) = created(&create(&server, &ann, body));
    // Without --trusted-proxy, X-Forwarded-For is ignored: the peer
    // (127.0.0.1) is the client, outside the token's range.
    for path in ["/api/whoami", "/ext_authz/api/apps"] {
        let answer = send_from(
            &server,
            "GET",
            path,
            &bearer(&gated),
            Some("10.1.2.3"),
            None,
        );
        refused(&answer, 403, "IP_DENIED");
    }
    // A token allowed from the loopback range works from here.
    let body = json!({ "name": "local", "scope": { "preset": "all" }, "allowedIps": ["127.0.0.0/8", "::1"] });
    let (local, _) = created(&create(&server, &ann, body));
    let answer = server.send("GET", "/api/whoami", Some(&bearer(&local)), None);
    assert_eq!(answer.status, 200, "{}", answer.body);
}
