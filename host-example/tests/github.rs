//! GitHub secret scanning alerts through the real binary, signed with ECDSA
//! P-256 keys this test makes with `openssl`: a valid alert deactivates the
//! real tokens in it (and nothing else); a wrong key, an altered body, an
//! unknown key id or no signature change nothing; a replay answers the same.

mod common;

use std::path::Path;

use base64::Engine;
use common::*;
use serde_json::{Value, json};

/// A P-256 key pair: `NAME.key` (private), `NAME.pub` (public, PEM).
fn key_pair(dir: &Path, name: &str) -> String {
    let key = format!("{name}.key");
    let public = format!("{name}.pub");
    openssl(
        dir,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            &key,
        ],
    );
    openssl(dir, &["ec", "-in", &key, "-pubout", "-out", &public]);
    std::fs::read_to_string(dir.join(public)).unwrap()
}

/// The base64 DER signature of `body` by `NAME.key`.
fn sign(dir: &Path, name: &str, body: &[u8]) -> String {
    std::fs::write(dir.join("body.json"), body).unwrap();
    let key = format!("{name}.key");
    let der = openssl(dir, &["dgst", "-sha256", "-sign", &key, "body.json"]);
    base64::engine::general_purpose::STANDARD.encode(der)
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn post(server: &Server, key_id: &str, signature: &str, body: &[u8]) -> Response {
    request(
        server.addr,
        "POST",
        "/api/github/secret-scanning",
        &[
            ("Github-Public-Key-Identifier", key_id),
            ("Github-Public-Key-Signature", signature),
        ],
        Some(body),
    )
}

#[test]
fn signed_alerts_deactivate_real_tokens_and_nothing_else() {
    let dir = temp_dir("github");
    add_user(&dir, "ann", "ann-password", true);
    add_user(&dir, "bob", "bob-password", false);
    let members = cli(
        &dir,
        &["settings", "set", "members-can-create-tokens", "true"],
        "",
    );
    assert!(members.status.success());
    let github = key_pair(&dir, "github");
    key_pair(&dir, "intruder");
    let keys = json!({ "public_keys": [
        { "key_identifier": "k1", "key": github, "is_current": true }
    ]});
    std::fs::write(dir.join("keys.json"), keys.to_string()).unwrap();
    let server = Server::start_logged(
        &dir,
        &[],
        &["--github-keys", dir.join("keys.json").to_str().unwrap()],
    );
    let ann = basic("ann", "ann-password");
    let bob = basic("bob", "bob-password");
    let (leaked, _) = create(
        &server,
        &ann,
        r#"{"name":"leaked","scope":{"preset":"all"}}"#,
    );
    let (also, _) = create(
        &server,
        &bob,
        r#"{"name":"also","scope":{"preset":"read"}}"#,
    );
    let (kept, _) = create(
        &server,
        &ann,
        r#"{"name":"kept","scope":{"preset":"read"}}"#,
    );
    let mut typo = leaked.clone().into_bytes();
    typo[9] = if typo[9] == b'q' { b'r' } else { b'q' };
    let typo = String::from_utf8(typo).unwrap();

    // A thousand findings: the two real tokens (repeated), a typo, and
    // strings of every other kind.
    let mut findings = vec![
        json!({"token": leaked, "type": "tessera_token", "url": "https://github.com/x/y/blob/a/f", "source": "content"}),
        json!({"token": also, "type": "tessera_token", "url": "https://gist.github.com/z", "source": "gist"}),
        json!({"token": typo, "type": "tessera_token", "url": "u", "source": "content"}),
        json!({"token": format!("Bearer {kept}"), "type": "tessera_token", "url": "u", "source": "content"}),
    ];
    for i in 0..996 {
        let token = match i % 4 {
            0 => leaked.clone(),
            1 => format!("tsr_{}", "A1b".repeat(16) + &(i % 10).to_string()),
            2 => format!("ghp_{i:036}"),
            _ => "not a token at all".to_string(),
        };
        findings.push(
            json!({"token": token, "type": "tessera_token", "url": "u", "source": "content"}),
        );
    }
    let body = serde_json::to_vec(&findings).unwrap();
    let whoami = |token: &str| {
        server
            .send("GET", "/api/whoami", Some(&bearer(token)), None)
            .status
    };

    // Refused before anything is looked at: a signature by another key, an
    // altered body, an unknown key id, no signature.
    let forged = sign(&dir, "intruder", &body);
    let genuine = sign(&dir, "github", &body);
    let mut altered = body.clone();
    let last = altered.len() - 2;
    altered[last] = b' ';
    for (key_id, signature, payload) in [
        ("k1", forged.as_str(), body.as_slice()),
        ("k1", genuine.as_str(), altered.as_slice()),
        ("k2", genuine.as_str(), body.as_slice()),
        ("k1", "", body.as_slice()),
        ("k1", "bm90IGEgc2lnbmF0dXJl", body.as_slice()),
    ] {
        let refused = post(&server, key_id, signature, payload);
        assert_eq!(refused.status, 401, "{key_id} {signature:.12}");
    }
    for token in [&leaked, &also, &kept] {
        assert_eq!(whoami(token), 200, "nothing changed yet");
    }
    // Bob's tokens are switched off before the alert: his leaked token
    // cannot act, even on itself, and must still be deactivated.
    let off = cli(&dir, &["user", "set", "bob", "--tokens", "off"], "");
    assert!(off.status.success());
    assert_eq!(whoami(&also), 401);

    // The genuine alert: GitHub's answer format, one verdict per finding.
    let answer = post(&server, "k1", &genuine, &body);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let verdicts: Vec<Value> = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(verdicts.len(), 1000);
    for (finding, verdict) in findings.iter().zip(&verdicts) {
        let token = finding["token"].as_str().unwrap();
        assert_eq!(verdict["token_hash"], sha256_hex(token));
        assert_eq!(verdict["token_type"], "tessera_token");
        let real = token == leaked || token == also;
        let expected = if real {
            "true_positive"
        } else {
            "false_positive"
        };
        assert_eq!(verdict["label"], expected, "{token:.12}");
    }
    assert_eq!(whoami(&leaked), 401);
    // Bob enabled again: his leaked token stays refused, deactivated.
    let on = cli(&dir, &["user", "set", "bob", "--tokens", "inherit"], "");
    assert!(on.status.success());
    assert_eq!(
        whoami(&also),
        401,
        "another user's leaked token too, even a disabled one's"
    );
    let bobs = server
        .send("GET", "/api/usertokens", Some(&bob), None)
        .json();
    assert_eq!(bobs[0]["status"], "inactive", "{bobs}");
    assert_eq!(
        whoami(&kept),
        200,
        "a token only named after 'Bearer' is untouched"
    );
    // Deactivated, not deleted.
    let listed = server
        .send("GET", "/api/usertokens", Some(&ann), None)
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let log = server.log_text();
    assert!(
        log.contains("leaked at \"https://github.com/x/y/blob/a/f\"; deactivated"),
        "{log}"
    );
    assert!(!log.contains(&leaked) && !log.contains(&also));
    // The audit log names the scanner and where each token leaked, once
    // per token (the alert repeats one 250 times), and nothing else.
    let events = server
        .send(
            "GET",
            "/api/audit?event=token.deactivated",
            Some(&ann),
            None,
        )
        .json();
    let events = events["events"].as_array().unwrap();
    let mut leaked_at: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            assert_eq!(e["actor"], json!({ "kind": "scanner" }), "{e}");
            (
                e["tokenId"].as_str().unwrap().to_owned(),
                e["detail"]["leakedAt"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    leaked_at.sort();
    let mut expected = vec![
        (
            tessera_core::token_id(&leaked),
            "https://github.com/x/y/blob/a/f".to_owned(),
        ),
        (
            tessera_core::token_id(&also),
            "https://gist.github.com/z".to_owned(),
        ),
    ];
    expected.sort();
    assert_eq!(leaked_at, expected);

    // A replay changes nothing and answers the same.
    let again = post(&server, "k1", &genuine, &body);
    assert_eq!(again.status, 200);
    let replayed: Vec<Value> = serde_json::from_str(&again.body).unwrap();
    assert_eq!(replayed, verdicts);
    assert_eq!(whoami(&kept), 200);
    let after = server
        .send(
            "GET",
            "/api/audit?event=token.deactivated",
            Some(&ann),
            None,
        )
        .json();
    assert_eq!(
        after["events"].as_array().unwrap().len(),
        2,
        "a replay is no event"
    );
}

/// A leaked token with allowed IPs cannot act from GitHub's address, and is
/// still deactivated; its owner's webhook says where it leaked.
#[test]
fn a_leaked_restricted_token_is_deactivated_and_its_owner_told() {
    let dir = temp_dir("github-restricted");
    add_user(&dir, "ann", "ann-password", true);
    let github = key_pair(&dir, "github");
    let keys = json!({ "public_keys": [
        { "key_identifier": "k1", "key": github, "is_current": true }
    ]});
    std::fs::write(dir.join("keys.json"), keys.to_string()).unwrap();
    let server = Server::start_logged(
        &dir,
        &[],
        &[
            "--github-keys",
            dir.join("keys.json").to_str().unwrap(),
            "--webhooks-to-private-networks",
            "--webhook-tick-ms",
            "50",
        ],
    );
    let receiver = common::receiver::Receiver::start();
    let ann = basic("ann", "ann-password");
    let hook = server.send(
        "POST",
        "/api/webhooks",
        Some(&ann),
        Some(
            &json!({ "url": format!("{}/ann", receiver.url), "events": ["token.leaked"] })
                .to_string(),
        ),
    );
    assert_eq!(hook.status, 201, "{}", hook.body);
    let secret = hook.json()["secret"].as_str().unwrap().to_owned();
    let (gated, record) = create(
        &server,
        &ann,
        r#"{"name":"office","scope":{"preset":"all"},"allowedIps":["10.0.0.0/8"]}"#,
    );
    let url = "https://github.com/acme/app/blob/main/.env";
    let body = serde_json::to_vec(&json!([
        { "token": gated, "type": "tessera_token", "url": url, "source": "content" }
    ]))
    .unwrap();
    let answer = post(&server, "k1", &sign(&dir, "github", &body), &body);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()[0]["label"], "true_positive");
    let id = record["id"].as_str().unwrap();
    let stored = server
        .send("GET", &format!("/api/usertokens/{id}"), Some(&ann), None)
        .json();
    assert_eq!(stored["status"], "inactive", "{stored}");
    let told = receiver.delivered("/ann", "token.leaked");
    let message = common::receiver::body(&told[0]);
    assert!(common::receiver::signed_by(&told[0], &secret));
    assert_eq!(message["data"]["tokenId"], id);
    assert_eq!(message["data"]["detail"]["leakedAt"], url);
    assert_eq!(message["data"]["actor"]["kind"], "scanner");
    assert!(
        !told[0].body.contains(&gated[4..]),
        "the token is never sent"
    );
}

#[test]
fn signed_but_malformed_or_oversized_alerts_are_refused() {
    let dir = temp_dir("github-bodies");
    add_user(&dir, "ann", "ann-password", true);
    let github = key_pair(&dir, "github");
    let keys = json!({ "public_keys": [{ "key_identifier": "k1", "key": github }] });
    std::fs::write(dir.join("keys.json"), keys.to_string()).unwrap();
    let keys_path = dir.join("keys.json");
    let server = Server::start_with(&dir, &["--github-keys", keys_path.to_str().unwrap()]);
    let ann = basic("ann", "ann-password");
    let (token, _) = create(
        &server,
        &ann,
        r#"{"name":"short","expires":{"days":1},"scope":{"preset":"read"}}"#,
    );
    drop(server);
    // A genuine signature on something that is not a list of findings.
    let server = Server::start_with(&dir, &["--github-keys", keys_path.to_str().unwrap()]);
    for body in [
        &b"{\"token\":\"x\"}"[..],
        b"[{\"type\":\"t\"}]",
        b"not json",
    ] {
        let signature = sign(&dir, "github", body);
        assert_eq!(post(&server, "k1", &signature, body).status, 400);
    }
    // More findings than an alert may carry.
    let many: Vec<Value> = (0..10_001).map(|_| json!({ "token": "a" })).collect();
    let body = serde_json::to_vec(&many).unwrap();
    let signature = sign(&dir, "github", &body);
    assert_eq!(post(&server, "k1", &signature, &body).status, 413);
    drop(server);
    // An expired token that leaked is still a real one.
    let later = Server::launch_with(
        &dir,
        &["--clock-offset-ms", &(2 * 86_400_000).to_string()],
        &["--github-keys", keys_path.to_str().unwrap()],
    );
    let body = serde_json::to_vec(&json!([{ "token": token, "type": "t", "url": "u" }])).unwrap();
    let signature = sign(&dir, "github", &body);
    let answer = post(&later, "k1", &signature, &body);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()[0]["label"], "true_positive");
}

#[test]
fn without_keys_the_endpoint_is_off() {
    let dir = temp_dir("github-off");
    let server = Server::start(&dir, &[]);
    let off = post(&server, "k1", "x", b"[]");
    assert_eq!(off.status, 404);
}

/// Serves `body` with `status` once per connection on a loopback port, for
/// `github-keys fetch --url`; returns the URL.
fn serve_once(status: &'static str, body: String) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/keys", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        if let Ok((mut stream, _)) = listener.accept() {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let answer = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    url
}

#[test]
fn github_keys_fetch_saves_a_checked_document_only() {
    let dir = temp_dir("github-fetch");
    let public = key_pair(&dir, "github");
    let out = dir.join("keys.json");
    let document =
        json!({ "public_keys": [{ "key_identifier": "k9", "key": public }] }).to_string();
    let fetch = |url: &str| {
        cli(
            &dir,
            &[
                "github-keys",
                "fetch",
                "--out",
                out.to_str().unwrap(),
                "--url",
                url,
            ],
            "",
        )
    };
    let fetched = fetch(&serve_once("200 OK", document.clone()));
    assert!(
        fetched.status.success(),
        "{}",
        String::from_utf8_lossy(&fetched.stderr)
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), document);
    // A bad document or a failed download leaves the saved file alone.
    for (status, body) in [
        ("200 OK", "{\"public_keys\": []}"),
        ("500 Internal Server Error", "{}"),
    ] {
        let failed = fetch(&serve_once(status, body.to_string()));
        assert!(!failed.status.success());
        assert_eq!(std::fs::read_to_string(&out).unwrap(), document);
    }
    // The saved document is what `serve --github-keys` takes.
    let server = Server::start_with(&dir, &["--github-keys", out.to_str().unwrap()]);
    assert_eq!(post(&server, "k9", "x", b"[]").status, 401);
}
