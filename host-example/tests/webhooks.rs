//! Webhooks through the real binary and a real receiver the test runs on
//! loopback: Standard Webhooks headers and signatures, the owner's events
//! and the deployment-wide ones, an expiry warning once per threshold,
//! retries through an outage with the same id, and a kill -9 between the
//! change and its delivery that loses nothing and changes no id. Also what
//! a member may not do: follow others' tokens, read or delete another's
//! subscription, or point one into the host's own network.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::receiver::{Receiver, body, signed_by};
use common::{Server, add_user_db, basic, bearer, cli_ok, create, temp_dir};
use serde_json::{Value, json};

fn subscribe(server: &Server, auth: &str, body: Value) -> common::Response {
    server.send("POST", "/api/webhooks", Some(auth), Some(&body.to_string()))
}

fn serve(db: &str, dir: &std::path::Path) -> Server {
    std::fs::create_dir_all(dir).unwrap();
    Server::start_logged_db(
        db,
        dir,
        &[],
        &[
            "--webhooks-to-private-networks",
            "--webhook-retry-ms",
            "100",
            "--webhook-tick-ms",
            "50",
            "--expiry-warning-days",
            "7,1",
            "--expiry-sweep-seconds",
            "1",
        ],
    )
}

#[test]
fn webhooks_are_signed_retried_and_survive_a_kill() {
    let dir = temp_dir("webhooks");
    scenario(&common::sqlite(&dir), &dir);
}

#[test]
#[ignore = "needs PostgreSQL (scripts/test-postgres.sh)"]
fn the_same_on_postgresql() {
    let cluster = common::pg::PgCluster::start("webhooks");
    let url = cluster.database("webhooks");
    scenario(&url, &temp_dir("pg-webhooks"));
}

/// Two hosts on one PostgreSQL deliver every event exactly once between
/// them, whichever host made the change.
#[test]
#[ignore = "needs PostgreSQL (scripts/test-postgres.sh)"]
fn several_hosts_deliver_each_event_once() {
    let cluster = common::pg::PgCluster::start("webhooks-hosts");
    let db = cluster.database("webhooks");
    let dir = temp_dir("pg-webhooks-hosts");
    add_user_db(&db, "ann", "ann-password", true);
    let hosts = [serve(&db, &dir.join("a")), serve(&db, &dir.join("b"))];
    let receiver = Receiver::start();
    let ann = basic("ann", "ann-password");
    let hook = subscribe(
        &hosts[0],
        &ann,
        json!({ "url": format!("{}/all", receiver.url), "events": ["token.deleted"] }),
    );
    assert_eq!(hook.status, 201, "{}", hook.body);
    let mut ids = Vec::new();
    for n in 0..12 {
        let host = &hosts[n % 2];
        let (_, record) = create(host, &ann, r#"{"name":"t","scope":{"preset":"read"}}"#);
        let id = record["id"].as_str().unwrap().to_owned();
        let gone =
            hosts[(n + 1) % 2].send("DELETE", &format!("/api/usertokens/{id}"), Some(&ann), None);
        assert_eq!(gone.status, 204, "{}", gone.body);
        ids.push(id);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while receiver.seen().len() < ids.len() {
        assert!(Instant::now() < deadline, "{:?}", receiver.seen());
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500)); // any duplicate would arrive now
    let seen = receiver.seen();
    assert_eq!(seen.len(), ids.len(), "each event once: {seen:?}");
    let mut delivered: Vec<String> = seen
        .iter()
        .map(|r| body(r)["data"]["tokenId"].as_str().unwrap().to_owned())
        .collect();
    delivered.sort();
    ids.sort();
    assert_eq!(delivered, ids);
    // In the order the log has them, under distinct ids.
    let order: Vec<i64> = seen
        .iter()
        .map(|r| r.headers["webhook-id"][4..].parse().unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
}

fn scenario(db: &str, dir: &std::path::Path) {
    let db = db.to_owned();
    add_user_db(&db, "ann", "ann-password", true);
    add_user_db(&db, "bob", "bob-password", false);
    cli_ok(&db, &["user", "set", "bob", "--tokens", "on"]);
    let mut server = serve(&db, dir);
    let receiver = Receiver::start();
    let (ann, bob) = (basic("ann", "ann-password"), basic("bob", "bob-password"));

    // A member follows only their own tokens, never by token.
    let everyone = json!({ "url": format!("{}/ann", receiver.url), "deploymentWide": true });
    let refused = subscribe(&server, &bob, everyone.clone());
    assert_eq!((refused.status, refused.code()), (403, "FORBIDDEN".into()));
    let (token, _) = create(&server, &bob, r#"{"name":"t","scope":{"preset":"all"}}"#);
    let by_token = subscribe(&server, &bearer(&token), json!({ "url": receiver.url }));
    assert_eq!(by_token.status, 401, "{}", by_token.body);
    for (body, status) in [
        (
            json!({ "url": receiver.url, "events": ["token.created"] }),
            422,
        ),
        (json!({ "url": receiver.url, "events": [] }), 422),
        (json!({ "url": "ftp://example.com/" }), 422),
        (json!({ "url": receiver.url, "extra": 1 }), 400),
        (json!({}), 400),
        (
            json!({ "url": receiver.url, "events": "token.deleted" }),
            400,
        ),
        (json!({ "url": 7 }), 400),
        (
            json!({ "url": format!("{}/{}", receiver.url, "a".repeat(2048)) }),
            422,
        ),
    ] {
        let answer = subscribe(&server, &bob, body.clone());
        assert_eq!(answer.status, status, "{body}: {}", answer.body);
    }

    let mine = subscribe(
        &server,
        &bob,
        json!({ "url": format!("{}/bob", receiver.url) }),
    );
    assert_eq!(mine.status, 201, "{}", mine.body);
    let bob_secret = mine.json()["secret"].as_str().unwrap().to_owned();
    let bob_hook = mine.json()["id"].as_str().unwrap().to_owned();
    let all = subscribe(
        &server,
        &ann,
        json!({ "url": format!("{}/ann", receiver.url), "deploymentWide": true, "events": ["token.deleted"] }),
    );
    assert_eq!(all.status, 201, "{}", all.body);
    let ann_secret = all.json()["secret"].as_str().unwrap().to_owned();
    let ann_hook = all.json()["id"].as_str().unwrap().to_owned();
    // Lists never show a secret; a member sees only theirs.
    let listed = server.send("GET", "/api/webhooks", Some(&bob), None);
    assert!(!listed.body.contains(&bob_secret) && !listed.body.contains(&ann_hook));
    assert_eq!(listed.json().as_array().unwrap().len(), 1);
    let gone = server.send(
        "DELETE",
        &format!("/api/webhooks/{ann_hook}"),
        Some(&bob),
        None,
    );
    assert_eq!(gone.status, 404);

    // An expiry warning, once per threshold: the 7-day one for a token that
    // expires in 2 days, signed with the subscription's secret.
    let (_, soon) = create(
        &server,
        &bob,
        r#"{"name":"soon","scope":{"preset":"read"},"expires":{"days":2}}"#,
    );
    let warned = receiver.delivered("/bob", "token.expiring");
    let warning = warned.last().unwrap();
    assert!(signed_by(warning, &bob_secret), "{warning:?}");
    assert_eq!(body(warning)["data"]["tokenId"], soon["id"]);
    assert_eq!(body(warning)["data"]["detail"]["days"], 7);
    assert!(warning.headers["webhook-id"].starts_with("evt_"));
    std::thread::sleep(Duration::from_millis(1500)); // another sweep
    let warnings = receiver
        .seen()
        .into_iter()
        .filter(|r| r.path == "/bob" && body(r)["type"] == "token.expiring")
        .count();
    assert_eq!(warnings, 1, "one warning per token and threshold");

    // An outage: the deactivation is retried with the same id until the
    // receiver answers again.
    receiver.answer(503);
    let id = soon["id"].as_str().unwrap();
    let off = server.send(
        "PATCH",
        &format!("/api/usertokens/{id}"),
        Some(&bob),
        Some(r#"{"status":"inactive"}"#),
    );
    assert_eq!(off.status, 200, "{}", off.body);
    let deadline = Instant::now() + Duration::from_secs(20);
    while receiver
        .seen()
        .iter()
        .filter(|r| body(r)["type"] == "token.deactivated")
        .count()
        < 3
    {
        assert!(
            Instant::now() < deadline,
            "no retries: {:?}",
            receiver.seen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let failing = server.send("GET", "/api/webhooks", Some(&bob), None).json();
    assert!(failing[0]["attempts"].as_i64().unwrap() >= 1, "{failing}");
    assert_eq!(failing[0]["lastError"], "the endpoint answered 503");
    receiver.answer(200);
    let attempts = receiver.delivered("/bob", "token.deactivated");
    assert!(attempts.len() >= 3, "{attempts:?}");
    assert!(attempts.iter().all(|r| signed_by(r, &bob_secret)));
    assert_eq!(attempts.iter().filter(|r| r.status == 200).count(), 1);

    // A kill -9 after the change and before its delivery: nothing is lost
    // and no id changes; the deployment-wide subscription gets it too.
    receiver.answer(503);
    let deleted = server.send("DELETE", &format!("/api/usertokens/{id}"), Some(&bob), None);
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    std::thread::sleep(Duration::from_millis(300));
    server.kill();
    receiver.answer(200);
    server = serve(&db, dir);
    for (path, secret) in [("/bob", &bob_secret), ("/ann", &ann_secret)] {
        let attempts = receiver.delivered(path, "token.deleted");
        assert_eq!(attempts.iter().filter(|r| r.status == 200).count(), 1);
        assert!(attempts.iter().all(|r| signed_by(r, secret)));
        assert_eq!(body(&attempts[0])["data"]["tokenId"], id);
    }
    // Each message id names one event: no event went out under two ids.
    let mut ids: HashMap<(String, String), String> = HashMap::new();
    for r in receiver.seen() {
        let key = (r.path.clone(), r.headers["webhook-id"].clone());
        let kind = body(&r)["type"].as_str().unwrap_or_default().to_owned();
        let data = body(&r)["data"].to_string();
        let previous = ids.insert(key, format!("{kind}{data}"));
        assert!(previous.is_none_or(|p| p == format!("{kind}{data}")));
    }
    // Bob's subscription saw nothing of ann's own tokens.
    assert!(
        receiver
            .seen()
            .iter()
            .all(|r| r.path != "/bob" || body(r)["data"]["userId"] == "bob")
    );
    let listed = server.send("GET", "/api/webhooks", Some(&ann), None).json();
    let bob_row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == bob_hook)
        .unwrap()
        .clone();
    assert_eq!(bob_row["delivered"], 3, "{listed}");
    assert_eq!(bob_row["attempts"], 0);
    let deleted = server.send(
        "DELETE",
        &format!("/api/webhooks/{bob_hook}"),
        Some(&ann),
        None,
    );
    assert_eq!(deleted.status, 204, "an administrator removes anyone's");
    for (auth, id) in [(&bob, bob_hook.as_str()), (&bob, "no-such-webhook")] {
        let gone = server.send("DELETE", &format!("/api/webhooks/{id}"), Some(auth), None);
        assert_eq!(gone.status, 404, "{id}");
    }
}

/// An endpoint that accepts and never answers holds up only its own
/// subscription: another's events arrive while it is still held (with a
/// 60-second delivery timeout, a delivery thread that served one
/// subscription after another would wait that long first).
#[test]
fn a_silent_endpoint_does_not_hold_up_the_others() {
    let dir = temp_dir("webhooks-tarpit");
    let db = common::sqlite(&dir);
    add_user_db(&db, "ann", "ann-password", true);
    let server = Server::start_logged_db(
        &db,
        &dir,
        &[],
        &[
            "--webhooks-to-private-networks",
            "--webhook-tick-ms",
            "50",
            "--webhook-timeout-seconds",
            "60",
        ],
    );
    let tarpit = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let tarpit_url = format!("http://{}/", tarpit.local_addr().unwrap());
    let held = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let holding = held.clone();
    std::thread::spawn(move || {
        for stream in tarpit.incoming().flatten() {
            holding.lock().unwrap().push(stream); // read nothing, answer nothing
        }
    });
    let receiver = Receiver::start();
    let ann = basic("ann", "ann-password");
    for url in [tarpit_url, format!("{}/ok", receiver.url)] {
        let made = subscribe(
            &server,
            &ann,
            json!({ "url": url, "events": ["token.deleted"] }),
        );
        assert_eq!(made.status, 201, "{}", made.body);
    }
    let (_, record) = create(&server, &ann, r#"{"name":"t","scope":{"preset":"read"}}"#);
    let id = record["id"].as_str().unwrap();
    let gone = server.send("DELETE", &format!("/api/usertokens/{id}"), Some(&ann), None);
    assert_eq!(gone.status, 204);
    let deadline = Instant::now() + Duration::from_secs(20);
    while held.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the tarpit was never called");
        std::thread::sleep(Duration::from_millis(20));
    }
    let delivered = receiver.delivered("/ok", "token.deleted");
    assert_eq!(body(&delivered[0])["data"]["tokenId"], id);
    assert_eq!(held.lock().unwrap().len(), 1, "still held, never retried");
}

#[test]
fn webhooks_stay_out_of_private_networks_by_default() {
    let dir = temp_dir("webhooks-private");
    let db = common::sqlite(&dir);
    add_user_db(&db, "ann", "ann-password", true);
    let server = Server::start_db(&db);
    let ann = basic("ann", "ann-password");
    for url in [
        "http://127.0.0.1:9/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.7/hook",
    ] {
        let answer = subscribe(&server, &ann, json!({ "url": url }));
        assert_eq!(answer.status, 422, "{url}: {}", answer.body);
    }
    let listed = server.send("GET", "/api/webhooks", Some(&ann), None);
    assert_eq!(listed.json(), json!([]));
}
