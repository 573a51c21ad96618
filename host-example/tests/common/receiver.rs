//! A webhook endpoint on loopback for the tests: it records every request
//! and answers with a status the test sets, and checks Standard Webhooks
//! signatures.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use serde_json::Value;

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: String,
    /// The status it answered.
    pub status: u16,
}

/// A webhook endpoint on loopback that records every request and answers
/// with the status set in `status`.
pub struct Receiver {
    pub url: String,
    status: Arc<AtomicU16>,
    seen: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let status = Arc::new(AtomicU16::new(200));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (answer, log) = (status.clone(), seen.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let path = line.split(' ').nth(1).unwrap_or_default().to_owned();
                let mut headers = HashMap::new();
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = header.trim_end().split_once(':') {
                        headers.insert(name.to_ascii_lowercase(), value.trim().to_owned());
                    }
                }
                let length: usize = headers
                    .get("content-length")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0; length.min(1 << 20)];
                let _ = reader.read_exact(&mut body);
                let code = answer.load(Ordering::SeqCst);
                log.lock().unwrap().push(Received {
                    path,
                    headers,
                    body: String::from_utf8_lossy(&body).into_owned(),
                    status: code,
                });
                let _ = write!(
                    stream,
                    "HTTP/1.1 {code} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
            }
        });
        Self { url, status, seen }
    }

    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    pub fn seen(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits (at most 20 s) until a request on `path` of event `kind` was
    /// answered 200; returns every request of that message id.
    pub fn delivered(&self, path: &str, kind: &str) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let seen = self.seen();
            let done = seen
                .iter()
                .find(|r| r.path == path && r.status == 200 && body(r)["type"] == kind);
            if let Some(done) = done {
                let id = done.headers["webhook-id"].clone();
                return seen
                    .into_iter()
                    .filter(|r| r.path == path && r.headers["webhook-id"] == id)
                    .collect();
            }
            assert!(
                Instant::now() < deadline,
                "no {kind} delivered on {path}: {seen:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

pub fn body(received: &Received) -> Value {
    serde_json::from_str(&received.body).unwrap_or(Value::Null)
}

/// Checks a request's Standard Webhooks signature against `secret`.
pub fn signed_by(received: &Received, secret: &str) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key).unwrap();
    let signed = format!(
        "{}.{}.{}",
        received.headers["webhook-id"], received.headers["webhook-timestamp"], received.body
    );
    mac.update(signed.as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    received.headers["webhook-signature"]
        .split(' ')
        .any(|s| s == expected)
}
