//! Test harness: the real `tessera-host` binary on `127.0.0.1:0`, its CLI,
//! and a raw HTTP/1.1 client that can send what well-behaved clients
//! refuse to (control characters, oversized headers).

#![allow(dead_code)]

pub mod conformance;
pub mod lifecycle;
pub mod pg;
pub mod receiver;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine;
use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_tessera-host");

/// A fresh directory for one test's database.
pub fn temp_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tessera-host-{name}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The SQLite database of a test directory, as a `--db` value.
pub fn sqlite(dir: &Path) -> String {
    dir.join("tessera.db").to_string_lossy().into_owned()
}

/// Runs a CLI command on the database in `dir`, feeding `stdin`.
pub fn cli(dir: &Path, args: &[&str], stdin: &str) -> Output {
    cli_db(&sqlite(dir), args, stdin)
}

/// Runs a CLI command on the database `db` (a path or a URL).
pub fn cli_db(db: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(["--db", db])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tessera-host");
    // A command that fails before reading its input closes the pipe early.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes());
    child.wait_with_output().expect("wait")
}

/// Runs the CLI on `db`, asserting that it succeeds; its standard output.
pub fn cli_ok(db: &str, args: &[&str]) -> String {
    let out = cli_db(db, args, "");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Adds a user through the CLI.
pub fn add_user(dir: &Path, name: &str, password: &str, admin: bool) {
    add_user_db(&sqlite(dir), name, password, admin);
}

/// Adds a user through the CLI to the database `db`.
pub fn add_user_db(db: &str, name: &str, password: &str, admin: bool) {
    let mut args = vec!["user", "add", name];
    if admin {
        args.push("--admin");
    }
    let out = cli_db(db, &args, &format!("{password}\n"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running server; killed on drop.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The file its standard error (the log) goes to, when kept.
    pub log: Option<PathBuf>,
}

impl Server {
    /// Starts `tessera-host serve` on a free port with extra global
    /// arguments (before `serve`).
    pub fn start(dir: &Path, extra: &[&str]) -> Self {
        Self::launch(&sqlite(dir), extra, &[])
    }

    /// Starts `tessera-host serve` with extra arguments for `serve` itself.
    pub fn start_with(dir: &Path, serve_args: &[&str]) -> Self {
        Self::launch(&sqlite(dir), &[], serve_args)
    }

    /// Starts `tessera-host serve` on the database `db` (a path or a URL).
    pub fn start_db(db: &str) -> Self {
        Self::launch(db, &[], &[])
    }

    /// Starts `tessera-host serve` on the database `db` with extra
    /// arguments for `serve`.
    pub fn start_db_with(db: &str, serve_args: &[&str]) -> Self {
        Self::launch(db, &[], serve_args)
    }

    /// Starts `tessera-host` with global arguments `extra` and `serve`
    /// arguments `serve_args`.
    pub fn launch_with(dir: &Path, extra: &[&str], serve_args: &[&str]) -> Self {
        Self::launch(&sqlite(dir), extra, serve_args)
    }

    /// Starts `tessera-host` with global arguments `extra` and `serve`
    /// arguments `serve_args`, its log (standard error) kept in
    /// `dir/server.log`.
    pub fn start_logged(dir: &Path, extra: &[&str], serve_args: &[&str]) -> Self {
        Self::start_logged_db(&sqlite(dir), dir, extra, serve_args)
    }

    /// Starts `tessera-host serve` on the database `db` (a path or a URL)
    /// with global arguments `extra` and `serve` arguments `serve_args`,
    /// its log kept in `dir/server.log`.
    pub fn start_logged_db(db: &str, dir: &Path, extra: &[&str], serve_args: &[&str]) -> Self {
        let log = dir.join("server.log");
        let file = std::fs::File::create(&log).expect("log file");
        let mut server = Self::spawn(db, extra, serve_args, Stdio::from(file));
        server.log = Some(log);
        server
    }

    fn launch(db: &str, extra: &[&str], serve_args: &[&str]) -> Self {
        Self::spawn(db, extra, serve_args, Stdio::null())
    }

    fn spawn(db: &str, extra: &[&str], serve_args: &[&str], stderr: Stdio) -> Self {
        let mut child = Command::new(BIN)
            .args(["--db", db])
            .args(extra)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(serve_args)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start tessera-host");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("the server printed its address")
                .expect("read stdout");
            if let Some(rest) = line.strip_prefix("tessera-host listening on http://") {
                break rest.parse().expect("an address");
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self {
            child,
            addr,
            log: None,
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server has logged so far (with `start_logged`).
    pub fn log_text(&self) -> String {
        self.log
            .as_ref()
            .map(|path| std::fs::read_to_string(path).unwrap_or_default())
            .unwrap_or_default()
    }

    /// Sends SIGTERM and waits (at most `limit`) for the process to exit;
    /// whether it exited successfully.
    pub fn terminate(&mut self, limit: Duration) -> Option<bool> {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success());
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return Some(status.success());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Sends a request with extra headers.
    pub fn send_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Response {
        request(self.addr, method, path, headers, body.map(str::as_bytes))
    }

    /// Kills the server with SIGKILL, as a crash would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends a request.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: Option<&str>,
    ) -> Response {
        let mut headers = Vec::new();
        if let Some(auth) = auth {
            headers.push(("Authorization", auth));
        }
        request(self.addr, method, path, &headers, body.map(str::as_bytes))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response: status, headers (lower-case names) and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `code` of a JSON error body.
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_string()
    }
}

/// Sends raw HTTP/1.1 with `Connection: close` and reads the whole answer.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Response {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = body.unwrap_or_default();
    let declared = headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
    let writes = matches!(method, "POST" | "PUT" | "PATCH");
    if !declared && (writes || !body.is_empty()) {
        head.push_str("Content-Type: application/json\r\n");
    }
    if writes || !body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    // The server may answer (413) and close before reading all of a large
    // body, so a failed write is not an error here.
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse_response(&raw)
}

/// Sends `head` (a request line and headers, `\r\n`-separated, without
/// the blank line) byte for byte, with no body, and reads the whole answer:
/// for header values that are not text.
pub fn request_bytes(addr: SocketAddr, head: &[u8]) -> Response {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let _ = stream.write_all(head);
    let _ = stream.write_all(b"\r\nConnection: close\r\n\r\n");
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse_response(&raw)
}

/// The credential gateways present in tests that start a host serving them.
pub const GATEWAY_CREDENTIAL: &str = "a-long-service-credential";

/// Starts a host on `db` serving gateways (introspection, the feed and
/// ext_authz for one rule, `/api/apps` needing `apps.read`), with its log
/// kept and `extra` serve arguments.
pub fn serve_gateways(db: &str, dir: &Path, extra: &[&str]) -> Server {
    let secret = dir.join("secret");
    std::fs::write(&secret, GATEWAY_CREDENTIAL).unwrap();
    let gate = dir.join("ext_authz.json");
    let filter = serde_json::json!({
        "deployment": tessera_host::config::default_config(),
        "tokenService": { "cluster": "tessera", "credential": GATEWAY_CREDENTIAL },
        "rules": [{ "prefix": "/api/apps", "action": "apps.read" }],
    });
    std::fs::write(&gate, filter.to_string()).unwrap();
    let mut args = vec![
        "--introspection-secret-file",
        secret.to_str().unwrap(),
        "--ext-authz-config",
        gate.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    Server::start_logged_db(db, dir, &[], &args)
}

fn parse_response(raw: &[u8]) -> Response {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// Runs `openssl` with these arguments in `dir` and returns its output.
pub fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is installed");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A `Basic` authorization value.
pub fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

/// A `Bearer` authorization value.
pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Creates a token with `auth` and returns `(token, record)`.
pub fn create(server: &Server, auth: &str, body: &str) -> (String, Value) {
    let response = server.send("POST", "/api/usertokens", Some(auth), Some(body));
    assert_eq!(response.status, 201, "{}", response.body);
    let json = response.json();
    (
        json["token"].as_str().expect("token").to_string(),
        json["record"].clone(),
    )
}
