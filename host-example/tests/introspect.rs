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
