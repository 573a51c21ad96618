//! PostgreSQL as the system of record: the storage conformance suite,
//! several hosts on one database, and an outage in the middle of a run.
//!
//! These need a PostgreSQL installation (`initdb`, `pg_ctl`), so they are
//! ignored by a plain `cargo test`; `scripts/test-postgres.sh` installs
//! PostgreSQL and runs them with `--ignored`.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::thread;

use common::pg::PgCluster;
use common::{Server, add_user_db, basic, bearer, create};
use tessera_host::db::Db;

#[test]
#[ignore = "needs PostgreSQL: run scripts/test-postgres.sh"]
fn postgres_passes_the_storage_conformance_suite() {
    let cluster = PgCluster::start("conformance");
    let db = Db::connect(&cluster.database("conformance")).expect("PostgreSQL");
    common::conformance::run(Arc::new(db));
}

#[test]
#[ignore = "needs PostgreSQL: run scripts/test-postgres.sh"]
fn a_session_started_on_one_host_works_on_another_and_ends_on_both() {
    let cluster = PgCluster::start("sessions");
    let url = cluster.database("sessions");
    add_user_db(&url, "ann", "ann-password", true);
    let a = Server::start_db(&url);
    let b = Server::start_db(&url);
    let signed_in = a.send(
        "POST",
        "/api/session",
        None,
        Some(r#"{"user":"ann","password":"ann-password"}"#),
    );
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    let set = signed_in.header("set-cookie").unwrap();
    let cookie = set.split(';').next().unwrap().to_string();
    let csrf = signed_in.json()["csrfToken"].as_str().unwrap().to_string();
    let headers = [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())];
    let on_b = b.send_with("GET", "/api/usertokens", &headers, None);
    assert_eq!(on_b.status, 200, "{}", on_b.body);
    assert_eq!(
        b.send_with("DELETE", "/api/session", &headers, None).status,
        204
    );
    assert_eq!(
        a.send_with("GET", "/api/usertokens", &headers, None).status,
        401
    );
}

#[test]
#[ignore = "needs PostgreSQL: run scripts/test-postgres.sh"]
fn two_hosts_share_one_database() {
    let cluster = PgCluster::start("two-hosts");
    let url = cluster.database("two_hosts");
    add_user_db(&url, "ann", "ann-password", true);
    let a = Server::start_db(&url);
    let b = Server::start_db(&url);
    let ann = basic("ann", "ann-password");

    // Created through A, verified through B.
    let (token, record) = create(&a, &ann, r#"{"name":"t","scope":{"preset":"all"}}"#);
    assert_eq!(
        b.send("GET", "/api/whoami", Some(&bearer(&token)), None)
            .status,
        200
    );

    // Deactivated through B, refused through A at once: no host caches.
    let path = format!("/api/usertokens/{}", record["id"].as_str().unwrap());
    let off = b.send("PATCH", &path, Some(&ann), Some(r#"{"status":"inactive"}"#));
    assert_eq!(off.status, 200);
    assert_eq!(
        a.send("GET", "/api/whoami", Some(&bearer(&token)), None)
            .status,
        401
    );
    let on = a.send("PATCH", &path, Some(&ann), Some(r#"{"status":"active"}"#));
    assert_eq!(on.status, 200);

    // Hundreds of concurrent creations on both hosts all land, once each.
    let parent = bearer(&token);
    let created = Arc::new(Mutex::new(Vec::new()));
    let addrs = [a.addr, b.addr];
    let workers: Vec<_> = (0..8)
        .map(|worker| {
            let created = created.clone();
            let parent = parent.clone();
            let addr = addrs[worker % 2];
            thread::spawn(move || {
                for n in 0..40 {
                    let body =
                        format!(r#"{{"name":"c-{worker}-{n}","scope":{{"preset":"read"}}}}"#);
                    let headers = [("Authorization", parent.as_str())];
                    let response = common::request(
                        addr,
                        "POST",
                        "/api/usertokens",
                        &headers,
                        Some(body.as_bytes()),
                    );
                    assert_eq!(response.status, 201, "{}", response.body);
                    let id = response.json()["record"]["id"]
                        .as_str()
                        .unwrap()
                        .to_string();
                    created.lock().unwrap().push(id);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("a worker failed");
    }
    let created = created.lock().unwrap().clone();
    assert_eq!(created.len(), 320);
    let unique: HashSet<&String> = created.iter().collect();
    assert_eq!(unique.len(), created.len(), "duplicate ids");
    let listed = a.send("GET", "/api/usertokens", Some(&ann), None).json();
    let listed: HashSet<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed.len(), created.len() + 1);
    assert!(created.iter().all(|id| listed.contains(id)));
}

#[test]
#[ignore = "needs PostgreSQL: run scripts/test-postgres.sh"]
fn an_outage_fails_closed_and_the_host_recovers_by_itself() {
    let cluster = PgCluster::start("outage");
    let url = cluster.database("outage");
    add_user_db(&url, "ann", "ann-password", true);
    let host = Server::start_db(&url);
    let ann = basic("ann", "ann-password");
    let (before, _) = create(&host, &ann, r#"{"name":"before","scope":{"preset":"all"}}"#);
    let auth = bearer(&before);
    assert_eq!(
        host.send("GET", "/api/whoami", Some(&auth), None).status,
        200
    );

    cluster.stop();
    let during = host.send("GET", "/api/whoami", Some(&auth), None);
    assert_eq!(
        (during.status, during.code().as_str()),
        (503, "STORE_FAILED"),
        "{}",
        during.body
    );
    let create_during = host.send(
        "POST",
        "/api/usertokens",
        Some(&auth),
        Some(r#"{"name":"x","scope":{"preset":"read"}}"#),
    );
    assert_eq!(create_during.status, 503, "{}", create_during.body);

    cluster.resume();
    // The pool drops dead connections and opens new ones: no restart.
    assert_eq!(
        host.send("GET", "/api/whoami", Some(&auth), None).status,
        200
    );
    let (after, _) = create(
        &host,
        &auth,
        r#"{"name":"after","scope":{"preset":"read"}}"#,
    );
    assert_eq!(
        host.send("GET", "/api/whoami", Some(&bearer(&after)), None)
            .status,
        200
    );
    let names: Vec<String> = host
        .send("GET", "/api/usertokens", Some(&ann), None)
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(cluster.dir().exists());
}
