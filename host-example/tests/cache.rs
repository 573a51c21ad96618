//! The server's cache of verified records never serves a token a committed
//! change revoked: not after a change through the API, not after another
//! process (the CLI) changed the database, and not under concurrent load.
//! Last-used times are written off the request path, and none is lost at a
//! clean shutdown.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::{Server, add_user, basic, bearer, cli, create, temp_dir};

fn whoami(server: &Server, token: &str) -> u16 {
    server
        .send("GET", "/api/whoami", Some(&bearer(token)), None)
        .status
}

#[test]
fn a_token_the_cli_deletes_is_refused_at_the_servers_next_request() {
    let dir = temp_dir("cache-cli");
    add_user(&dir, "ann", "ann-password", true);
    let server = Server::start(&dir, &[]);
    let ann = basic("ann", "ann-password");
    let (token, record) = create(&server, &ann, r#"{"name":"t","scope":{"preset":"all"}}"#);
    let id = record["id"].as_str().unwrap();
    // Verified twice: the second answer comes from the cache.
    assert_eq!(whoami(&server, &token), 200);
    assert_eq!(whoami(&server, &token), 200);

    // Another process deletes it: the very next request is refused.
    let out = cli(&dir, &["token", "delete", "--user", "ann", id], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(whoami(&server, &token), 401);
}

#[test]
fn a_deactivation_through_the_api_is_seen_by_the_next_request_and_undone_by_reactivation() {
    let dir = temp_dir("cache-api");
    add_user(&dir, "ann", "ann-password", true);
    let server = Server::start(&dir, &[]);
    let ann = basic("ann", "ann-password");
    let (token, record) = create(&server, &ann, r#"{"name":"t","scope":{"preset":"all"}}"#);
    let path = format!("/api/usertokens/{}", record["id"].as_str().unwrap());
    assert_eq!(whoami(&server, &token), 200);
    let off = server.send("PATCH", &path, Some(&ann), Some(r#"{"status":"inactive"}"#));
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(whoami(&server, &token), 401);
    let on = server.send("PATCH", &path, Some(&ann), Some(r#"{"status":"active"}"#));
    assert_eq!(on.status, 200, "{}", on.body);
    assert_eq!(whoami(&server, &token), 200);
}

/// Workers verify a set of tokens in a loop while the test deletes them
/// one by one, some through the API and some through the CLI. Every
/// request that *started* after a deletion was acknowledged must be
/// refused; requests that overlap it may go either way.
#[test]
fn under_concurrent_load_no_request_after_a_revocation_is_accepted() {
    let dir = temp_dir("cache-load");
    add_user(&dir, "ann", "ann-password", true);
    let server = Arc::new(Server::start(&dir, &[]));
    let ann = basic("ann", "ann-password");
    let tokens: Vec<(String, String)> = (0..6)
        .map(|n| {
            let (token, record) = create(
                &server,
                &ann,
                &format!(r#"{{"name":"t{n}","scope":{{"preset":"all"}}}}"#),
            );
            (token, record["id"].as_str().unwrap().to_string())
        })
        .collect();
    // When each token's deletion was acknowledged (None: not yet).
    let revoked: Arc<Vec<std::sync::Mutex<Option<Instant>>>> =
        Arc::new(tokens.iter().map(|_| std::sync::Mutex::new(None)).collect());
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let server = server.clone();
            let tokens = tokens.clone();
            let revoked = revoked.clone();
            let stop = stop.clone();
            thread::spawn(move || {
                let mut late_accepts = Vec::new();
                let mut requests = 0;
                let deadline = Instant::now() + Duration::from_secs(60);
                while !stop.load(Ordering::Acquire) && Instant::now() < deadline {
                    for (n, (token, _)) in tokens.iter().enumerate() {
                        let started = Instant::now();
                        let acknowledged = *revoked[n].lock().unwrap();
                        let status = whoami(&server, token);
                        requests += 1;
                        if status == 200 && acknowledged.is_some_and(|at| at <= started) {
                            late_accepts.push((worker, n));
                        }
                        assert!(status == 200 || status == 401, "status {status}");
                    }
                }
                (requests, late_accepts)
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(300));
    for (n, (_, id)) in tokens.iter().enumerate() {
        if n % 2 == 0 {
            let path = format!("/api/usertokens/{id}");
            assert_eq!(server.send("DELETE", &path, Some(&ann), None).status, 204);
        } else {
            let out = cli(&dir, &["token", "delete", "--user", "ann", id], "");
            assert!(out.status.success());
        }
        *revoked[n].lock().unwrap() = Some(Instant::now());
        thread::sleep(Duration::from_millis(150));
    }
    thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Release);
    let mut total = 0;
    for worker in workers {
        let (requests, late) = worker.join().expect("a worker panicked");
        total += requests;
        assert!(late.is_empty(), "accepted after revocation: {late:?}");
    }
    assert!(total > 100, "the load ran ({total} requests)");
    for (token, _) in &tokens {
        assert_eq!(whoami(&server, token), 401);
    }
}

#[test]
fn last_use_is_recorded_off_the_request_path_and_kept_at_shutdown() {
    let dir = temp_dir("cache-touch");
    add_user(&dir, "ann", "ann-password", true);
    let mut server = Server::start(&dir, &[]);
    let ann = basic("ann", "ann-password");
    let (token, record) = create(&server, &ann, r#"{"name":"t","scope":{"preset":"all"}}"#);
    assert!(record["lastUsedAt"].is_null());
    let path = format!("/api/usertokens/{}", record["id"].as_str().unwrap());
    assert_eq!(whoami(&server, &token), 200);
    // The background writer records it within about a second.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let shown = server.send("GET", &path, Some(&ann), None).json();
        if shown["lastUsedAt"].is_i64() {
            break;
        }
        assert!(Instant::now() < deadline, "last use never recorded");
        thread::sleep(Duration::from_millis(100));
    }

    // A second token used just before SIGTERM: the shutdown writes it.
    let (other, _) = create(&server, &ann, r#"{"name":"u","scope":{"preset":"all"}}"#);
    assert_eq!(whoami(&server, &other), 200);
    assert_eq!(server.terminate(Duration::from_secs(30)), Some(true));
    let list = cli(&dir, &["token", "list", "--user", "ann"], "");
    let listed = String::from_utf8_lossy(&list.stdout);
    let used = listed
        .lines()
        .filter(|line| line.contains("\"lastUsedAt\":") && !line.contains("\"lastUsedAt\":null"))
        .count();
    assert!(listed.contains("\"name\":\"u\""), "{listed}");
    assert_eq!(used, 2, "both uses recorded: {listed}");
}

#[test]
fn without_a_cache_the_server_reads_every_record() {
    let dir = temp_dir("cache-off");
    add_user(&dir, "ann", "ann-password", true);
    let server = Server::start_with(&dir, &["--token-cache", "0"]);
    let ann = basic("ann", "ann-password");
    let (token, record) = create(&server, &ann, r#"{"name":"t","scope":{"preset":"all"}}"#);
    assert_eq!(whoami(&server, &token), 200);
    let id = record["id"].as_str().unwrap();
    assert!(
        cli(&dir, &["token", "delete", "--user", "ann", id], "")
            .status
            .success()
    );
    assert_eq!(whoami(&server, &token), 401);
}

/// The plugin keeps the records it read by hash decoded between calls; a
/// record whose stored JSON changed in any way (here by another writer,
/// straight into the database) is decoded again at the next verification.
#[test]
fn the_plugin_decodes_a_record_again_whenever_its_stored_json_changed() {
    use serde_json::Value;
    use tessera_host::db::{Db, Origin, TokenWrite};
    use tessera_host::plugin::{Actor, Expiry, IssueRequest, Plugin};

    const NOW: i64 = 1_800_000_000_000;
    let db = Arc::new(Db::in_memory().expect("database"));
    let plugin = Plugin::new(
        db.clone(),
        tessera_host::config::default_config().to_string(),
    )
    .expect("plugin");
    let issue = |scope: &str, entropy: u8| {
        let request = IssueRequest {
            name: "t".into(),
            description: None,
            expires: Expiry::Days(30),
            scope: scope.into(),
            allowed_ips: Vec::new(),
        };
        let actor = Actor::user("ann", tessera_core::Standing::OWNER);
        let issued = plugin
            .issue(&Origin::operator(0), &actor, &request, NOW, &[entropy; 32])
            .expect("no trap")
            .expect("issued");
        let id = serde_json::from_str::<Value>(&issued.record).expect("record")["id"]
            .as_str()
            .expect("id")
            .to_string();
        (issued.token, id)
    };
    let (token, id) = issue(r#"{"preset":"read"}"#, 1);
    let (_, wide) = issue(r#"{"preset":"all"}"#, 2);
    let verify = |token: &str| {
        plugin
            .verify(&format!("Bearer {token}"), None, None, NOW)
            .expect("no trap")
    };
    let rewrite = |change: &dyn Fn(&mut Value)| {
        let stored = db.token_by_id(&id).expect("read").expect("stored");
        let mut record: Value = serde_json::from_str(&stored.json).expect("JSON");
        change(&mut record);
        let mut stored = stored;
        stored.json = record.to_string();
        db.apply_writes(&[TokenWrite::Put(stored)], &Origin::operator(0))
            .expect("write");
    };
    let read_scope = verify(&token).expect("valid").scope;
    assert_eq!(verify(&token).expect("valid again").scope, read_scope);

    rewrite(&|record| record["status"] = "inactive".into());
    let refused = verify(&token).expect_err("an inactive token is refused");
    assert_eq!(refused.code, tessera_core::code::TOKEN_INACTIVE);
    rewrite(&|record| record["status"] = "active".into());
    assert_eq!(verify(&token).expect("active again").scope, read_scope);

    let wide_scope = serde_json::from_str::<Value>(&db.token_by_id(&wide).unwrap().unwrap().json)
        .unwrap()["scope"]
        .clone();
    rewrite(&|record| record["scope"] = wide_scope.clone());
    let widened = verify(&token).expect("valid").scope;
    assert_ne!(widened, read_scope);
    assert_eq!(serde_json::from_str::<Value>(&widened).unwrap(), wide_scope);
}
