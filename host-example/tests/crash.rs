//! A crash in the middle of a burst of writes: every creation acknowledged
//! with 201 survives `kill -9`, and nothing half-written appears.

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
    let stop = Arc::new(AtomicBool::new(false));
    let addr = server.addr;
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let acknowledged = acknowledged.clone();
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

    let restarted = Server::start(&dir, &[]);
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
