//! A crash in the middle of a burst of writes: every creation acknowledged
//! with 201 survives `kill -9`, and nothing half-written appears. The audit
//! log, written in the same transactions, agrees: every acknowledged
//! creation and deletion has its event, and no event lacks its change.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use common::{Server, add_user, basic, bearer, create, temp_dir};
use serde_json::Value;

#[test]
fn acknowledged_tokens_survive_kill_9() {
    let dir = temp_dir("crash");
    add_user(&dir, "ann", "ann-password", true);
    let server = Server::start(&dir, &[]);
    // Creating with a token avoids a password hash per request, so the
    // burst is dense.
    let (parent, _) = create(
        &server,
        &basic("ann", "ann-password"),
        r#"{"name":"parent","scope":{"preset":"all"}}"#,
    );
    let acknowledged = Arc::new(Mutex::new(Vec::<(String, Value)>::new()));
    let deletions = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let addr = server.addr;
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let acknowledged = acknowledged.clone();
            let deletions = deletions.clone();
            let stop = stop.clone();
            let auth = bearer(&parent);
            thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let body =
                        format!(r#"{{"name":"burst-{worker}-{n}","scope":{{"preset":"read"}}}}"#);
                    let headers = [("Authorization", auth.as_str())];
                    let create = std::panic::catch_unwind(|| {
                        common::request(
                            addr,
                            "POST",
                            "/api/usertokens",
                            &headers,
                            Some(body.as_bytes()),
                        )
                    });
                    match create {
                        Ok(response) if response.status == 201 => {
                            let json = response.json();
                            let token = json["token"].as_str().unwrap_or_default().to_string();
                            // Every third is deleted again at once.
                            if n % 3 == 0 {
                                let id = json["record"]["id"].as_str().unwrap_or_default();
                                let path = format!("/api/usertokens/{id}");
                                let deleted = std::panic::catch_unwind(|| {
                                    common::request(addr, "DELETE", &path, &headers, None)
                                });
                                match deleted {
                                    Ok(response) if response.status == 204 => {
                                        deletions.lock().unwrap().push(id.to_owned());
                                        continue;
                                    }
                                    Ok(_) => {}
                                    Err(_) => break,
                                }
                            }
                            acknowledged
                                .lock()
                                .unwrap()
                                .push((token, json["record"].clone()));
                            // Interleave verifications with the writes.
                            let _ = std::panic::catch_unwind(|| {
                                common::request(addr, "GET", "/api/whoami", &headers, None)
                            });
                        }
                        // The server died mid-request: stop.
                        _ => break,
                    }
                }
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(1500));
    server.kill();
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        let _ = worker.join();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 10,
        "only {} creations before the kill",
        acknowledged.len()
    );
    eprintln!(
        "{} creations acknowledged before kill -9",
        acknowledged.len()
    );

    let deletions = deletions.lock().unwrap().clone();
    let restarted = Server::start(&dir, &[]);
    let exported = common::cli(&dir, &["audit", "export"], "");
    assert!(exported.status.success());
    let events: Vec<Value> = String::from_utf8(exported.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let ids = |name: &str| -> std::collections::HashSet<String> {
        events
            .iter()
            .filter(|e| e["event"] == name)
            .map(|e| e["tokenId"].as_str().unwrap().to_owned())
            .collect()
    };
    let (created, deleted) = (ids("token.created"), ids("token.deleted"));
    for (_, record) in &acknowledged {
        let id = record["id"].as_str().unwrap();
        assert!(
            created.contains(id),
            "an acknowledged creation without its event"
        );
    }
    for id in &deletions {
        assert!(
            deleted.contains(id),
            "an acknowledged deletion without its event"
        );
    }
    let ann = basic("ann", "ann-password");
    let stored = restarted
        .send("GET", "/api/usertokens", Some(&ann), None)
        .json();
    let stored: std::collections::HashSet<String> = stored
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    for id in &stored {
        assert!(created.contains(id), "a token without its creation event");
        assert!(
            !deleted.contains(id),
            "a deletion event for a token still stored"
        );
    }
    for id in &created {
        assert!(
            stored.contains(id) || deleted.contains(id),
            "a creation event for a token never stored"
        );
    }
    eprintln!(
        "{} events, {} deletions acknowledged",
        events.len(),
        deletions.len()
    );
    let acknowledged: Vec<_> = acknowledged
        .into_iter()
        .filter(|(_, record)| !deletions.iter().any(|id| record["id"] == id.as_str()))
        .collect();
    for (token, record) in &acknowledged {
        let response = restarted.send("GET", "/api/whoami", Some(&bearer(token)), None);
        assert_eq!(
            response.status, 200,
            "an acknowledged token was lost: {record}"
        );
        assert_eq!(response.json()["tokenId"], record["id"]);
    }
    // Every stored record reads back whole: the list would fail with
    // RECORD_INVALID on a torn one.
    let list = restarted.send(
        "GET",
        "/api/usertokens",
        Some(&basic("ann", "ann-password")),
        None,
    );
    assert_eq!(list.status, 200, "{}", list.body);
    let records = list.json();
    let records = records.as_array().unwrap();
    assert!(records.len() > acknowledged.len(), "parent plus the burst");
    for record in records {
        for field in [
            "id",
            "userId",
            "name",
            "hint",
            "createdAt",
            "scope",
            "status",
        ] {
            assert!(!record[field].is_null(), "{field} missing in {record}");
        }
    }
}
