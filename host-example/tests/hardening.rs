//! The host under attack, through the real binary: password guessing,
//! sign-in floods, slow and idle clients, too many connections, shutdown
//! with requests in flight, cross-site requests, weak passwords and the
//! files on disk.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;

fn ann_and_bob(dir: &std::path::Path) {
    add_user(dir, "ann", "ann-password", true);
    add_user(dir, "bob", "bob-password", false);
}

/// A sign-in from `client` (believed through `X-Forwarded-For` when the
/// server trusts 127.0.0.1 as a proxy).
fn sign_in_from(server: &Server, client: &str, user: &str, password: &str) -> Response {
    let auth = basic(user, password);
    server.send_with(
        "GET",
        "/api/usertokens",
        &[("Authorization", &auth), ("X-Forwarded-For", client)],
        None,
    )
}

#[test]
fn password_guessing_is_throttled_per_name_and_per_address() {
    let dir = temp_dir("throttle");
    ann_and_bob(&dir);
    let server = Server::start_logged(
        &dir,
        &[],
        &["--sign-in-attempts", "3", "--trusted-proxy", "127.0.0.1"],
    );
    // Per name: three wrong passwords for ann from three addresses...
    for i in 1..=3 {
        let guess = format!("guess-{i}");
        let wrong = sign_in_from(&server, &format!("203.0.113.{i}"), "ann", &guess);
        assert_eq!(wrong.status, 401, "{}", wrong.body);
    }
    // ...and the right one is refused too, before any hashing.
    let right = sign_in_from(&server, "203.0.113.4", "ann", "ann-password");
    assert_eq!(right.status, 429, "{}", right.body);
    assert_eq!(right.code(), "TOO_MANY_ATTEMPTS");
    let wait: u64 = right.header("retry-after").unwrap().parse().unwrap();
    assert!(wait > 0 && wait <= 600, "{wait}");
    // Another user from that address is not affected.
    assert_eq!(
        sign_in_from(&server, "203.0.113.4", "bob", "bob-password").status,
        200
    );
    // A name that does not exist is throttled the same way, with the same
    // answer: a 429 tells nothing about who exists.
    for i in 1..=3 {
        let wrong = sign_in_from(&server, &format!("203.0.113.{}", 10 + i), "ghost", "x");
        assert_eq!(wrong.status, 401);
    }
    let ghost = sign_in_from(&server, "203.0.113.20", "ghost", "x");
    assert_eq!((ghost.status, ghost.code()), (429, right.code()));
    assert_eq!(ghost.json()["message"], right.json()["message"]);
    // Per address: three made-up names from one address, then even bob's
    // right password from there is refused; from elsewhere it works.
    for name in ["n1", "n2", "n3"] {
        assert_eq!(sign_in_from(&server, "198.51.100.7", name, "x").status, 401);
    }
    let blocked = sign_in_from(&server, "198.51.100.7", "bob", "bob-password");
    assert_eq!(blocked.status, 429);
    assert_eq!(
        sign_in_from(&server, "198.51.100.8", "bob", "bob-password").status,
        200
    );
    // IPv6 clients are counted by their /64.
    for i in 1..=3 {
        let address = format!("2001:db8:1:2::{i}");
        assert_eq!(
            sign_in_from(&server, &address, &format!("v{i}"), "x").status,
            401
        );
    }
    let same_64 = sign_in_from(&server, "2001:db8:1:2:ffff::9", "bob", "bob-password");
    assert_eq!(same_64.status, 429);
    // Every failure is in the log with the name, the address and the
    // reason; no password ever is.
    let log = server.log_text();
    assert!(
        log.contains(r#"sign-in failed: user="ann" client=203.0.113.1 reason=wrong password"#),
        "{log}"
    );
    assert!(log.contains(r#"user="ghost" client=203.0.113.11 reason=no such user"#));
    assert!(log.contains(r#"sign-in refused: user="ann" client=203.0.113.4"#));
    for secret in ["ann-password", "bob-password", "guess-1"] {
        assert!(!log.contains(secret), "{secret} in the log");
    }
}

#[test]
fn forwarded_for_is_ignored_from_an_untrusted_peer() {
    let dir = temp_dir("untrusted-xff");
    ann_and_bob(&dir);
    let server = Server::start_logged(&dir, &[], &["--sign-in-attempts", "2"]);
    // A guesser who makes up an X-Forwarded-For per try is still one
    // address: the peer's.
    for i in 1..=2 {
        let wrong = sign_in_from(&server, &format!("203.0.113.{i}"), &format!("n{i}"), "x");
        assert_eq!(wrong.status, 401);
    }
    let next = sign_in_from(&server, "203.0.113.9", "bob", "bob-password");
    assert_eq!(next.status, 429);
    assert!(server.log_text().contains("client=127.0.0.1"));
}

/// The server's resident memory in KiB.
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .expect("VmRSS")
}

#[test]
fn a_sign_in_flood_gets_busy_answers_not_memory() {
    let dir = temp_dir("flood");
    ann_and_bob(&dir);
    // Every flood connection claims another address, so the throttle stays
    // out of the way and the hashing pool is what is tested.
    let server = Server::start_logged(
        &dir,
        &[],
        &["--trusted-proxy", "127.0.0.1", "--hash-workers", "2"],
    );
    assert_eq!(server.send("GET", "/healthz", None, None).status, 200);
    let before = resident_kib(server.pid());
    let mut statuses = Vec::new();
    for round in 0..3 {
        let handles: Vec<_> = (0..100)
            .map(|i| {
                let addr = server.addr;
                std::thread::spawn(move || {
                    let client = format!("10.{round}.{}.{}", i / 250, i % 250 + 1);
                    let auth = basic(&format!("made-up-{round}-{i}"), "guess");
                    let response = request(
                        addr,
                        "GET",
                        "/api/usertokens",
                        &[("Authorization", &auth), ("X-Forwarded-For", &client)],
                        None,
                    );
                    (response.status, response.header("retry-after").is_some())
                })
            })
            .collect();
        statuses.extend(handles.into_iter().map(|h| h.join().expect("client")));
    }
    let after = resident_kib(server.pid());
    let busy = statuses.iter().filter(|(s, _)| *s == 503).count();
    let refused = statuses.iter().filter(|(s, _)| *s == 401).count();
    assert_eq!(busy + refused, statuses.len(), "{statuses:?}");
    assert!(busy > 0, "a full pool answers 503");
    assert!(statuses.iter().all(|(s, retry)| *s != 503 || *retry));
    let growth_mib = after.saturating_sub(before) / 1024;
    eprintln!(
        "sign-in flood, 3 x 100 connections: {refused} hashed (401), {busy} busy (503); \
         resident memory {} MiB -> {} MiB (+{growth_mib} MiB)",
        before / 1024,
        after / 1024
    );
    // Unbounded, 96 hashes at once held 1.8 GiB; two workers hold 19 MiB
    // each (plus allocator slack).
    assert!(growth_mib < 100, "grew by {growth_mib} MiB");
    // The server still answers, and a real user still signs in.
    let ann = request(
        server.addr,
        "GET",
        "/api/usertokens",
        &[
            ("Authorization", &basic("ann", "ann-password")),
            ("X-Forwarded-For", "192.0.2.1"),
        ],
        None,
    );
    assert_eq!(ann.status, 200);
}

/// Reads until the server closes the connection (or `limit` passes) and
/// returns how long that took and what it sent.
fn until_closed(stream: &mut TcpStream, limit: Duration) -> (Duration, String) {
    let start = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut received = Vec::new();
    let mut buffer = [0u8; 1024];
    while start.elapsed() < limit {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    (
        start.elapsed(),
        String::from_utf8_lossy(&received).into_owned(),
    )
}

#[test]
fn slow_and_idle_clients_are_cut_off() {
    let dir = temp_dir("slow");
    let server = Server::start_with(
        &dir,
        &[
            "--header-timeout-seconds",
            "1",
            "--idle-timeout-seconds",
            "2",
        ],
    );
    let limit = Duration::from_secs(15);
    // Headers that never end.
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let (held, _) = until_closed(&mut slow, limit);
    assert!(held < limit, "a slow client held its connection {held:?}");
    // A connection that never sends a byte.
    let mut silent = TcpStream::connect(server.addr).unwrap();
    let (held_silent, _) = until_closed(&mut silent, limit);
    assert!(held_silent < limit);
    // A keep-alive connection after its answer.
    let mut idle = TcpStream::connect(server.addr).unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (held_idle, answer) = until_closed(&mut idle, limit);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(held_idle < limit);
    eprintln!(
        "held with a 1 s header timeout and a 2 s idle timeout: slow headers {held:?}, \
         silent {held_silent:?}, idle keep-alive {held_idle:?}"
    );
}

#[test]
fn a_body_that_trickles_in_is_cut_off() {
    let dir = temp_dir("slow-body");
    add_user(&dir, "ann", "ann-password", true);
    let server = Server::start_with(&dir, &["--body-timeout-seconds", "1"]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    let head = format!(
        "POST /api/usertokens HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"na",
        basic("ann", "ann-password")
    );
    stream.write_all(head.as_bytes()).unwrap();
    let (held, answer) = until_closed(&mut stream, Duration::from_secs(15));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(held < Duration::from_secs(15));
}

#[test]
fn connections_past_the_cap_are_turned_away() {
    let dir = temp_dir("cap");
    let server = Server::start_with(&dir, &["--max-connections", "3"]);
    let holders: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    // Give the server a moment to accept all three (bounded retries).
    let mut refused = String::new();
    for _ in 0..50 {
        let mut extra = TcpStream::connect(server.addr).unwrap();
        let _ = extra.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        let (_, answer) = until_closed(&mut extra, Duration::from_secs(5));
        if answer.starts_with("HTTP/1.1 503") {
            refused = answer;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(refused.contains("OVERLOADED"), "{refused}");
    assert!(refused.to_ascii_lowercase().contains("retry-after: 1"));
    drop(holders);
    // Once they are gone, requests are served again.
    let mut served = false;
    for _ in 0..100 {
        if server.send("GET", "/healthz", None, None).status == 200 {
            served = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(served);
}

#[test]
fn sigterm_finishes_the_requests_in_flight() {
    let dir = temp_dir("sigterm");
    ann_and_bob(&dir);
    let mut server =
        Server::start_logged(&dir, &[], &["--hash-workers", "1", "--hash-queue", "16"]);
    // Eight creations by password, one argon2 at a time: when the first is
    // answered, the others are accepted and waiting. Then the signal.
    let (events, happened) = std::sync::mpsc::channel::<&str>();
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let addr = server.addr;
            let events = events.clone();
            std::thread::spawn(move || {
                let body = format!(r#"{{"name":"t{i}","scope":{{"preset":"read"}}}}"#);
                let head = format!(
                    "POST /api/usertokens HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
                     Authorization: {}\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\n\r\n{body}",
                    basic("ann", "ann-password"),
                    body.len()
                );
                let mut stream = TcpStream::connect(addr).expect("connect");
                stream
                    .set_read_timeout(Some(Duration::from_secs(60)))
                    .unwrap();
                stream.write_all(head.as_bytes()).expect("send");
                let _ = events.send("sent");
                let mut raw = Vec::new();
                let _ = stream.read_to_end(&mut raw);
                let _ = events.send("answered");
                (String::from_utf8_lossy(&raw).into_owned(), Instant::now())
            })
        })
        .collect();
    let mut sent = 0;
    while sent < 8 {
        if happened
            .recv_timeout(Duration::from_secs(30))
            .expect("progress")
            == "sent"
        {
            sent += 1;
        }
    }
    loop {
        if happened
            .recv_timeout(Duration::from_secs(30))
            .expect("an answer")
            == "answered"
        {
            break;
        }
    }
    let signalled = Instant::now();
    let exited = server.terminate(Duration::from_secs(60));
    let answers: Vec<(String, Instant)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(exited, Some(true), "the server exits cleanly");
    let created: Vec<String> = answers
        .iter()
        .map(|(raw, _)| {
            assert!(raw.starts_with("HTTP/1.1 201"), "{raw}");
            let body = raw.split_once("\r\n\r\n").unwrap().1;
            let json: serde_json::Value = serde_json::from_str(body).unwrap();
            json["record"]["id"].as_str().unwrap().to_string()
        })
        .collect();
    let after_signal = answers.iter().filter(|(_, at)| *at > signalled).count();
    assert!(after_signal > 0, "some answers came after SIGTERM");
    assert!(server.log_text().contains("shutting down"));
    // Every acknowledged token is stored.
    let again = Server::start(&dir, &[]);
    let list = again.send(
        "GET",
        "/api/usertokens",
        Some(&basic("ann", "ann-password")),
        None,
    );
    let stored = list.json();
    for id in &created {
        assert!(
            stored.as_array().unwrap().iter().any(|r| r["id"] == *id),
            "{id} was acknowledged and lost"
        );
    }
}

#[test]
fn cross_site_shapes_are_refused_and_nothing_is_cached() {
    let dir = temp_dir("headers");
    ann_and_bob(&dir);
    let server = Server::start(&dir, &[]);
    let ann = basic("ann", "ann-password");
    let body = r#"{"name":"x","scope":{"preset":"read"}}"#;
    // What an HTML form can send: refused before anything happens.
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let response = server.send_with(
            "POST",
            "/api/usertokens",
            &[("Authorization", &ann), ("Content-Type", content_type)],
            Some(body),
        );
        assert_eq!(response.status, 415, "{content_type}");
        assert_eq!(response.code(), "UNSUPPORTED_MEDIA_TYPE");
    }
    let list = server.send("GET", "/api/usertokens", Some(&ann), None);
    assert_eq!(list.json(), serde_json::json!([]), "nothing was created");
    // JSON is accepted, and a response with a token is never cached.
    let created = server.send("POST", "/api/usertokens", Some(&ann), Some(body));
    assert_eq!(created.status, 201);
    assert_eq!(created.header("cache-control"), Some("no-store"));
    assert_eq!(list.header("cache-control"), Some("no-store"));
    // The one challenge is Bearer: no browser password prompt.
    let denied = server.send("GET", "/api/usertokens", None, None);
    assert_eq!(denied.status, 401);
    assert_eq!(denied.header("cache-control"), Some("no-store"));
    let challenge = denied.header("www-authenticate").unwrap();
    assert_eq!(challenge, r#"Bearer realm="tessera""#);
}

#[test]
fn new_passwords_have_a_minimum_and_a_maximum() {
    let dir = temp_dir("passwords");
    ann_and_bob(&dir);
    let server = Server::start(&dir, &[]);
    let ann = basic("ann", "ann-password");
    let long = "x".repeat(1025);
    for password in ["a", "seven77", long.as_str()] {
        let body = serde_json::json!({ "password": password }).to_string();
        let response = server.send("PUT", "/api/password", Some(&ann), Some(&body));
        assert_eq!(response.status, 422, "{password:.10}");
        assert_eq!(response.code(), "PASSWORD_INVALID");
    }
    let ok = server.send(
        "PUT",
        "/api/password",
        Some(&ann),
        Some(r#"{"password":"eight888"}"#),
    );
    assert_eq!(ok.status, 204, "{}", ok.body);
    let with_new = basic("ann", "eight888");
    assert_eq!(
        server
            .send("GET", "/api/usertokens", Some(&with_new), None)
            .status,
        200
    );
}

#[test]
fn the_database_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("modes");
    ann_and_bob(&dir);
    let server = Server::start(&dir, &[]);
    let ann = basic("ann", "ann-password");
    create(&server, &ann, r#"{"name":"x","scope":{"preset":"read"}}"#);
    let mut seen = 0;
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", sqlite(&dir));
        if let Ok(metadata) = std::fs::metadata(&path) {
            seen += 1;
            let mode = metadata.permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{path} is {mode:o}");
        }
    }
    assert!(seen >= 2, "the database and its WAL exist");
    // An existing world-readable file is tightened at open.
    drop(server);
    let path = sqlite(&dir);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = cli(
        &dir,
        &["settings", "set", "members-can-create-tokens", "false"],
        "",
    );
    assert!(out.status.success());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}
