//! `GET /api/introspect/{hash}` for gateways: the stored record by hash,
//! only for callers with the service credential.

mod common;

use common::{Server, add_user, basic, create, temp_dir};

#[test]
fn introspection_answers_only_the_service_credential() {
    let dir = temp_dir("introspect");
    add_user(&dir, "ann", "ann-password", true);
    let secret_file = dir.join("service-secret");
    std::fs::write(&secret_file, "a-long-service-credential\n").unwrap();
    let server = Server::start(&dir, &[]);
    let (token, _) = create(
        &server,
        &basic("ann", "ann-password"),
        r#"{"name":"t","scope":{"preset":"read"}}"#,
    );
    let hash = tessera_core::hash(&token, None).to_hex();
    // Off unless configured.
    let off = server.send(
        "GET",
        &format!("/api/introspect/{hash}"),
        Some("Service a-long-service-credential"),
        None,
    );
    assert_eq!(off.status, 404);
    drop(server);

    let server = Server::start_with(
        &dir,
        &[
            "--introspection-secret-file",
            secret_file.to_str().unwrap(),
            "--introspection-cache-seconds",
            "7",
        ],
    );
    let path = format!("/api/introspect/{hash}");
    let found = server.send(
        "GET",
        &path,
        Some("Service a-long-service-credential"),
        None,
    );
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.json()["record"]["hash"], hash.as_str());
    assert_eq!(found.json()["cacheSeconds"], 7);
    assert_eq!(found.header("cache-control"), Some("max-age=7"));
    let unknown = server.send(
        "GET",
        &format!("/api/introspect/{}", "0".repeat(64)),
        Some("Service a-long-service-credential"),
        None,
    );
    assert_eq!(
        (unknown.status, unknown.code().as_str()),
        (404, "NOT_FOUND")
    );
    assert_eq!(unknown.json()["cacheSeconds"], 7);
    for auth in [
        None,
        Some("Service wrong"),
        Some("Bearer a-long-service-credential"),
    ] {
        assert_eq!(server.send("GET", &path, auth, None).status, 401);
    }
    let bad = server.send(
        "GET",
        "/api/introspect/xyz",
        Some("Service a-long-service-credential"),
        None,
    );
    assert_eq!(bad.status, 400);
}

/// A server with the user ann (an administrator) and introspection on,
/// with the credential `Service a-long-service-credential`; its directory.
fn serving_gateways(name: &str) -> (std::path::PathBuf, Server) {
    let dir = temp_dir(name);
    add_user(&dir, "ann", "ann-password", true);
    let secret_file = dir.join("service-secret");
    std::fs::write(&secret_file, "a-long-service-credential\n").unwrap();
    let server = Server::start_with(
        &dir,
        &["--introspection-secret-file", secret_file.to_str().unwrap()],
    );
    (dir, server)
}

/// `GET /api/revocations`: the change feed gateways poll. A first request
/// resets; later pages carry the hashes of tokens deactivated, rotated or
/// deleted (through the API or the CLI), never a mere use; bad cursors are
/// refused and old ones reset; only the service credential may read it.
#[test]
fn the_change_feed_carries_every_revocation_in_order() {
    let (dir, server) = serving_gateways("feed");
    let service = Some("Service a-long-service-credential");
    let feed = |after: Option<i64>| {
        let path = match after {
            Some(after) => format!("/api/revocations?after={after}"),
            None => "/api/revocations".to_string(),
        };
        let page = server.send("GET", &path, service, None);
        assert_eq!(page.status, 200, "{}", page.body);
        page.json()
    };
    let first = feed(None);
    assert_eq!(first["reset"], true);
    let start = first["cursor"].as_i64().unwrap();

    let ann = basic("ann", "ann-password");
    let hash_of = |token: &str| tessera_core::hash(token, None).to_hex();
    let (a, a_record) = create(&server, &ann, r#"{"name":"a","scope":{"preset":"all"}}"#);
    let (b, b_record) = create(&server, &ann, r#"{"name":"b","scope":{"preset":"all"}}"#);
    let (c, c_record) = create(&server, &ann, r#"{"name":"c","scope":{"preset":"all"}}"#);
    // Creations and uses are not changes.
    assert_eq!(
        server
            .send("GET", "/api/whoami", Some(&common::bearer(&a)), None)
            .status,
        200
    );
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let quiet = feed(Some(start));
    assert_eq!(quiet["hashes"], serde_json::json!([]), "{quiet}");
    assert_eq!(quiet["cursor"].as_i64(), Some(start));

    let id = |record: &serde_json::Value| record["id"].as_str().unwrap().to_string();
    let off = server.send(
        "PATCH",
        &format!("/api/usertokens/{}", id(&a_record)),
        Some(&ann),
        Some(r#"{"status":"inactive"}"#),
    );
    assert_eq!(off.status, 200);
    let rotated = server.send(
        "POST",
        &format!("/api/usertokens/{}/rotate", id(&b_record)),
        Some(&ann),
        Some(r#"{"graceSeconds":0}"#),
    );
    assert_eq!(rotated.status, 201, "{}", rotated.body);
    let deleted = common::cli(
        &dir,
        &["token", "delete", "--user", "ann", &id(&c_record)],
        "",
    );
    assert!(deleted.status.success());

    let page = feed(Some(start));
    assert_eq!(page["reset"], false);
    let hashes: Vec<String> = page["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    assert_eq!(hashes, [hash_of(&a), hash_of(&b), hash_of(&c)], "{page}");
    let cursor = page["cursor"].as_i64().unwrap();
    assert!(cursor > start);
    assert_eq!(feed(Some(cursor))["hashes"], serde_json::json!([]));

    // A cursor from the future (another database) resets; bad ones are 400.
    assert_eq!(feed(Some(cursor + 1000))["reset"], true);
    for bad in ["-1", "x", "1.5"] {
        let refused = server.send(
            "GET",
            &format!("/api/revocations?after={bad}"),
            service,
            None,
        );
        assert_eq!(refused.status, 400, "{bad}: {}", refused.body);
    }
    // Only the service credential reads the feed.
    for auth in [
        None,
        Some(ann.as_str()),
        Some("Service wrong-credential-here"),
    ] {
        assert_eq!(
            server.send("GET", "/api/revocations", auth, None).status,
            401
        );
    }
}

/// `POST /api/last-used`: a gateway's report of uses is written like the
/// host's own (in the background, never moving a time back, a future time
/// taken as now); malformed, oversized or foreign reports are refused.
#[test]
fn a_gateway_reports_last_uses() {
    let (_dir, server) = serving_gateways("last-used");
    let service = "Service a-long-service-credential";
    let ann = basic("ann", "ann-password");
    let (_, record) = create(&server, &ann, r#"{"name":"a","scope":{"preset":"all"}}"#);
    let id = record["id"].as_str().unwrap();
    let path = format!("/api/usertokens/{id}");
    let report = |body: &str, auth: &str| {
        server.send_with(
            "POST",
            "/api/last-used",
            &[
                ("Authorization", auth),
                ("Content-Type", "application/json"),
            ],
            Some(body),
        )
    };
    let last_use = || server.send("GET", &path, Some(&ann), None).json()["lastUsedAt"].clone();
    let wait_for = |expected: &dyn Fn(&serde_json::Value) -> bool| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let seen = last_use();
            if expected(&seen) {
                return seen;
            }
            assert!(std::time::Instant::now() < deadline, "still {seen}");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let minute_ago = now - 60_000;
    let accepted = report(
        &format!(r#"{{"uses":[{{"id":"{id}","at":{minute_ago}}}]}}"#),
        service,
    );
    assert_eq!(accepted.status, 204, "{}", accepted.body);
    wait_for(&|seen| *seen == minute_ago);
    // An older report never moves it back.
    let older = minute_ago - 60_000;
    assert_eq!(
        report(
            &format!(r#"{{"uses":[{{"id":"{id}","at":{older}}}]}}"#),
            service
        )
        .status,
        204
    );
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(last_use(), minute_ago);
    // A time ahead of the host's clock counts as now.
    let far = now + 1_000_000_000;
    assert_eq!(
        report(
            &format!(r#"{{"uses":[{{"id":"{id}","at":{far}}}]}}"#),
            service
        )
        .status,
        204
    );
    let clamped = wait_for(&|seen| seen.as_i64() != Some(minute_ago));
    assert!(clamped.as_i64().unwrap() < far, "{clamped}");

    for bad in [
        r#"{"uses":[{"id":"nothex","at":1}]}"#.to_string(),
        format!(r#"{{"uses":[{{"id":"{id}","at":-5}}]}}"#),
        format!(r#"{{"uses":[{{"id":"{id}","at":1,"extra":true}}]}}"#),
        r#"{"uses":{}}"#.to_string(),
        format!(
            r#"{{"uses":[{}]}}"#,
            vec![format!(r#"{{"id":"{id}","at":1}}"#); 10_001].join(",")
        ),
    ] {
        assert_eq!(
            report(&bad, service).status,
            400,
            "{}",
            &bad[..bad.len().min(80)]
        );
    }
    let body = format!(r#"{{"uses":[{{"id":"{id}","at":1}}]}}"#);
    assert_eq!(report(&body, &ann).status, 401);
    assert_eq!(report(&body, "Service wrong-credential-here").status, 401);
}
