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
use std::time::{Duration, Instant};

use common::pg::PgCluster;
use common::{Server, add_user_db, basic, bearer, create};
use tessera_host::db::Db;

/// A throwaway cluster named `name` with one database (`name`, `-` as `_`)
/// holding the administrator ann; the database's URL.
fn cluster_with_ann(name: &str) -> (PgCluster, String) {
    let cluster = PgCluster::start(name);
    let url = cluster.database(&name.replace('-', "_"));
    add_user_db(&url, "ann", "ann-password", true);
    (cluster, url)
}

fn whoami(host: &Server, token: &str) -> u16 {
    host.send("GET", "/api/whoami", Some(&bearer(token)), None)
        .status
}

/// Waits until `host` refuses `token` (at most `limit`: a correctness bound,
/// far above the milliseconds propagation takes), then checks it stays
/// refused. How long it took.
fn refused_within(host: &Server, token: &str, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let status = whoami(host, token);
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(start.elapsed() < limit, "still accepted after {limit:?}");
    }
    let took = start.elapsed();
    for _ in 0..3 {
        assert_eq!(whoami(host, token), 401, "accepted again after a refusal");
    }
    took
}

/// The `pid` of each cache listener connected to the cluster.
fn listeners(cluster: &PgCluster) -> Vec<i32> {
    cluster
        .admin()
        .query(
            "SELECT pid FROM pg_stat_activity
             WHERE application_name = 'tessera-host cache listener'",
            &[],
        )
        .expect("pg_stat_activity")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// Waits (boundedly) until `count` listeners other than `old` are connected.
fn wait_for_listeners(cluster: &PgCluster, count: usize, old: &[i32]) -> Vec<i32> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now: Vec<i32> = listeners(cluster)
            .into_iter()
            .filter(|pid| !old.contains(pid))
            .collect();
        if now.len() >= count {
            return now;
        }
        assert!(Instant::now() < deadline, "listeners: {now:?}");
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
#[ignore = "needs PostgreSQL: run scripts/test-postgres.sh"]
fn a_revocation_on_one_host_reaches_another_hosts_cache_in_milliseconds() {
    let (cluster, url) = cluster_with_ann("propagation");
    let a = Server::start_db(&url);
    let b = Server::start_db(&url);
    wait_for_listeners(&cluster, 2, &[]);
    let ann = basic("ann", "ann-password");
    let (parent, _) = create(&a, &ann, r#"{"name":"p","scope":{"preset":"all"}}"#);
    let parent = bearer(&parent);
    let tokens: Vec<(String, String)> = (0..100)
        .map(|n| {
            let (token, record) = create(
                &a,
                &parent,
                &format!(r#"{{"name":"t{n}","scope":{{"preset":"read"}}}}"#),
            );
            (token, record["id"].as_str().unwrap().to_string())
        })
        .collect();
    // First uses on B, written in the background (each write evicts its
    // record once, so only notifications can evict them afterwards: the
    // next last-use write is a minute away).
    for (token, _) in &tokens {
        assert_eq!(whoami(&b, token), 200);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while a
        .send("GET", "/api/usertokens", Some(&parent), None)
        .json()
        .as_array()
        .unwrap()
        .iter()
        .any(|record| record["name"] != "p" && record["lastUsedAt"].is_null())
    {
        assert!(Instant::now() < deadline, "first uses never written");
        thread::sleep(Duration::from_millis(50));
    }
    for (token, _) in &tokens {
        assert_eq!(whoami(&b, token), 200);
    }
    let mut took = Vec::new();
    for (token, id) in &tokens {
        let deleted = a.send(
            "DELETE",
            &format!("/api/usertokens/{id}"),
            Some(&parent),
            None,
        );
        assert_eq!(deleted.status, 204, "{}", deleted.body);
        took.push(refused_within(&b, token, Duration::from_secs(10)));
    }
    took.sort();
    let at = |q: f64| took[((took.len() - 1) as f64 * q).round() as usize];
    // What is printed includes one request to B (the one refused).
    println!(
        "revocation propagation A → B over {} deletions, from A's 204 to B's first 401: \
         p50 {:?}, p99 {:?}, max {:?}",
        took.len(),
        at(0.5),
        at(0.99),
        took[took.len() - 1]
    );
}

#[test]
#[ignore = "needs PostgreSQL: run scripts/test-postgres.sh"]
fn a_lost_listener_connection_empties_the_cache_and_never_leaves_it_stale() {
    let (cluster, url) = cluster_with_ann("listener");
    let host = Server::start_db(&url);
    let first = wait_for_listeners(&cluster, 1, &[]);
    let ann = basic("ann", "ann-password");
    let (token, _) = create(&host, &ann, r#"{"name":"t","scope":{"preset":"all"}}"#);
    let mut admin = cluster.admin();
    let mut db = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    // The first use is written in the background and evicts the record
    // once; after that the record stays cached (its next last-use write is
    // a minute away).
    assert_eq!(whoami(&host, &token), 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    while db
        .query_one("SELECT record FROM tokens", &[])
        .expect("the record")
        .get::<_, String>(0)
        .contains(r#""lastUsedAt":null"#)
    {
        assert!(Instant::now() < deadline, "the first use was never written");
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(whoami(&host, &token), 200);

    // The control: with the trigger off, a deletion notifies no one and
    // the cached record is still served. This is what the listener is for.
    db.batch_execute(
        "ALTER TABLE tokens DISABLE TRIGGER USER;
         CREATE TABLE kept AS SELECT * FROM tokens;
         DELETE FROM tokens;",
    )
    .expect("delete silently");
    assert_eq!(whoami(&host, &token), 200, "the record was cached");

    // The listener's connection dies: the host empties its cache and reads
    // the database again, so the silent deletion is seen.
    admin
        .execute("SELECT pg_terminate_backend($1)", &[&first[0]])
        .expect("terminate the listener");
    let deadline = Instant::now() + Duration::from_secs(10);
    while whoami(&host, &token) != 401 {
        assert!(
            Instant::now() < deadline,
            "a stale record outlived its listener"
        );
        thread::sleep(Duration::from_millis(5));
    }
    wait_for_listeners(&cluster, 1, &first);
    assert_eq!(whoami(&host, &token), 401);

    // Back, and the cache works again: restored silently, read once,
    // cached; deleted with the trigger on, refused.
    db.batch_execute(
        "INSERT INTO tokens SELECT * FROM kept;
         ALTER TABLE tokens ENABLE TRIGGER USER;",
    )
    .expect("restore");
    assert_eq!(whoami(&host, &token), 200);
    assert_eq!(whoami(&host, &token), 200);
    db.batch_execute("DELETE FROM tokens").expect("delete");
    refused_within(&host, &token, Duration::from_secs(10));
}

/// The change feed on PostgreSQL: changes made concurrently through two
/// hosts all appear, once each per change, in pages that follow one
/// another; uses never appear.
#[test]
#[ignore = "needs PostgreSQL: run scripts/test-postgres.sh"]
fn the_change_feed_holds_every_change_made_through_any_host() {
    let (_cluster, url) = cluster_with_ann("feed");
    let dir = common::temp_dir("pg-feed");
    let secret = dir.join("secret");
    std::fs::write(&secret, "a-long-service-credential").unwrap();
    let args = ["--introspection-secret-file", secret.to_str().unwrap()];
    let a = Server::start_db_with(&url, &args);
    let b = Server::start_db_with(&url, &args);
    let service = Some("Service a-long-service-credential");
    let start = a.send("GET", "/api/revocations", service, None).json();
    assert_eq!(start["reset"], true);
    let ann = basic("ann", "ann-password");
    let (parent, _) = create(&a, &ann, r#"{"name":"p","scope":{"preset":"all"}}"#);
    let parent = bearer(&parent);
    let tokens: Vec<(String, String)> = (0..60)
        .map(|n| {
            let host = if n % 2 == 0 { &a } else { &b };
            let (token, record) = create(
                host,
                &parent,
                &format!(r#"{{"name":"t{n}","scope":{{"preset":"read"}}}}"#),
            );
            assert_eq!(whoami(host, &token), 200);
            (token, record["id"].as_str().unwrap().to_string())
        })
        .collect();
    // Deactivations and deletions, concurrently through both hosts.
    let workers: Vec<_> = tokens
        .chunks(15)
        .enumerate()
        .map(|(n, chunk)| {
            let chunk = chunk.to_vec();
            let addr = if n % 2 == 0 { a.addr } else { b.addr };
            let parent = parent.clone();
            thread::spawn(move || {
                for (i, (_, id)) in chunk.iter().enumerate() {
                    let path = format!("/api/usertokens/{id}");
                    let headers = [("Authorization", parent.as_str())];
                    let (method, body) = if i % 2 == 0 {
                        ("PATCH", Some(&br#"{"status":"inactive"}"#[..]))
                    } else {
                        ("DELETE", None)
                    };
                    let done = common::request(addr, method, &path, &headers, body);
                    assert!(done.status == 200 || done.status == 204, "{}", done.body);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("a worker failed");
    }
    let mut cursor = start["cursor"].as_i64().unwrap();
    let mut seen = Vec::new();
    for _ in 0..100 {
        let page = b
            .send(
                "GET",
                &format!("/api/revocations?after={cursor}"),
                service,
                None,
            )
            .json();
        assert_eq!(page["reset"], false, "{page}");
        seen.extend(
            page["hashes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h.as_str().unwrap().to_string()),
        );
        let next = page["cursor"].as_i64().unwrap();
        assert!(next >= cursor);
        cursor = next;
        if page["more"] == false {
            break;
        }
    }
    let expected: HashSet<String> = tokens
        .iter()
        .map(|(token, _)| tessera_core::hash(token, None).to_hex())
        .collect();
    assert_eq!(seen.len(), tokens.len(), "one entry per change: {seen:?}");
    assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), expected);

    // A write of a record that is not JSON still lands, and is a change.
    let mut db = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    let torn = db
        .query_one(
            "UPDATE tokens SET record = '{\"torn' WHERE user_id = 'ann' AND record::jsonb ->> 'name' = 'p'
             RETURNING hash",
            &[],
        )
        .expect("a torn record is written");
    let page = b
        .send(
            "GET",
            &format!("/api/revocations?after={cursor}"),
            service,
            None,
        )
        .json();
    assert_eq!(
        page["hashes"],
        serde_json::json!([torn.get::<_, String>(0)])
    );
}

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
    let (_cluster, url) = cluster_with_ann("sessions");
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
    let (_cluster, url) = cluster_with_ann("two-hosts");
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

    // Deactivated through B, refused through A once the change's
    // notification reached A's cache (and for good after that).
    let path = format!("/api/usertokens/{}", record["id"].as_str().unwrap());
    let off = b.send("PATCH", &path, Some(&ann), Some(r#"{"status":"inactive"}"#));
    assert_eq!(off.status, 200);
    refused_within(&a, &token, Duration::from_secs(10));
    let on = a.send("PATCH", &path, Some(&ann), Some(r#"{"status":"active"}"#));
    assert_eq!(on.status, 200);
    assert_eq!(whoami(&a, &token), 200);

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
    let (cluster, url) = cluster_with_ann("outage");
    // Gateways' routes too: introspection, the feed, ext_authz.
    let dir = common::temp_dir("pg-outage");
    let secret = dir.join("secret");
    std::fs::write(&secret, "a-long-service-credential").unwrap();
    let gate = dir.join("ext_authz.json");
    let filter = serde_json::json!({
        "deployment": tessera_host::config::default_config(),
        "tokenService": { "cluster": "tessera", "credential": "a-long-service-credential" },
        "rules": [{ "prefix": "/api/apps", "action": "apps.read" }],
    });
    std::fs::write(&gate, filter.to_string()).unwrap();
    let host = Server::start_db_with(
        &url,
        &[
            "--introspection-secret-file",
            secret.to_str().unwrap(),
            "--ext-authz-config",
            gate.to_str().unwrap(),
        ],
    );
    let service = Some("Service a-long-service-credential");
    let ann = basic("ann", "ann-password");
    let (before, _) = create(&host, &ann, r#"{"name":"before","scope":{"preset":"all"}}"#);
    let auth = bearer(&before);
    assert_eq!(
        host.send("GET", "/api/whoami", Some(&auth), None).status,
        200
    );

    cluster.stop();
    // The cache's listener notices the lost connection (within
    // milliseconds) and from then on every lookup goes to the database.
    let deadline = Instant::now() + Duration::from_secs(10);
    let during = loop {
        let during = host.send("GET", "/api/whoami", Some(&auth), None);
        if during.status != 200 || Instant::now() > deadline {
            break during;
        }
        thread::sleep(Duration::from_millis(10));
    };
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
    let feed_during = host.send("GET", "/api/revocations", service, None);
    assert_eq!(
        (feed_during.status, feed_during.code().as_str()),
        (503, "STORE_FAILED"),
        "{}",
        feed_during.body
    );
    let check_during = host.send("GET", "/ext_authz/api/apps", Some(&auth), None);
    assert_eq!(
        (check_during.status, check_during.code().as_str()),
        (503, "STORE_FAILED"),
        "{}",
        check_during.body
    );

    cluster.resume();
    // The pool drops dead connections and opens new ones: no restart.
    assert_eq!(
        host.send("GET", "/api/whoami", Some(&auth), None).status,
        200
    );
    assert_eq!(
        host.send("GET", "/api/revocations", service, None).status,
        200
    );
    assert_eq!(
        host.send("GET", "/ext_authz/api/apps", Some(&auth), None)
            .status,
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
