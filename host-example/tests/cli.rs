//! The command line: users, settings and tokens for scripts.

mod common;

use common::{BIN, Server, add_user, cli, temp_dir};

fn stdout(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8")
}

#[test]
fn token_commands_create_list_verify_and_revoke() {
    let dir = temp_dir("cli-tokens");
    let created = cli(
        &dir,
        &[
            "token",
            "create",
            "--user",
            "ann",
            "--name",
            "script",
            "--expires",
            "30",
            "--scope",
            r#"{"preset":"read"}"#,
        ],
        "",
    );
    let token = stdout(&created).trim().to_string();
    assert_eq!(token.len(), 53, "{token}");
    let list = stdout(&cli(&dir, &["token", "list", "--user", "ann"], ""));
    assert_eq!(list.lines().count(), 1);
    assert!(!list.contains(&token[4..]), "the list shows the token");
    let record: serde_json::Value = serde_json::from_str(list.trim()).expect("JSON");
    let id = record["id"].as_str().expect("id");

    let ok = stdout(&cli(
        &dir,
        &["token", "verify", "-", "--action", "apps.read"],
        &format!("{token}\n"),
    ));
    assert!(ok.contains("user ann"), "{ok}");
    let denied = cli(
        &dir,
        &["token", "verify", &token, "--action", "apps.write"],
        "",
    );
    assert!(!denied.status.success());
    assert!(String::from_utf8_lossy(&denied.stderr).contains("SCOPE_DENIED"));
    // The token never appears in error output.
    assert!(!String::from_utf8_lossy(&denied.stderr).contains(&token[4..]));

    stdout(&cli(&dir, &["token", "delete", "--user", "ann", id], ""));
    let gone = cli(&dir, &["token", "verify", &token], "");
    assert!(String::from_utf8_lossy(&gone.stderr).contains("TOKEN_UNKNOWN"));
    let again = cli(&dir, &["token", "delete", "--user", "ann", id], "");
    assert!(String::from_utf8_lossy(&again.stderr).contains("NOT_FOUND"));
}

#[test]
fn allowed_ips_from_the_command_line() {
    let dir = temp_dir("cli-allowed-ips");
    let create = |ips: &[&str]| {
        let mut args = vec!["token", "create", "--user", "ann", "--name", "office"];
        for ip in ips {
            args.extend(["--allow-ip", ip]);
        }
        cli(&dir, &args, "")
    };
    let bad = create(&["10.0.0.1/8"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("IPS_INVALID"));
    assert_eq!(
        stdout(&cli(&dir, &["token", "list", "--user", "ann"], "")),
        ""
    );

    let made = create(&["2001:db8::/32", "10.0.0.0/8"]);
    let token = stdout(&made).trim().to_string();
    let record = String::from_utf8_lossy(&made.stderr).to_string();
    assert!(
        record.contains(r#""allowedIps":["10.0.0.0/8","2001:db8::/32"]"#),
        "{record}"
    );
    let verify = |ip: Option<&str>| {
        let mut args = vec!["token", "verify", token.as_str(), "--action", "apps.read"];
        if let Some(ip) = ip {
            args.extend(["--ip", ip]);
        }
        cli(&dir, &args, "")
    };
    assert!(stdout(&verify(Some("10.1.2.3"))).contains("user ann"));
    assert!(stdout(&verify(Some("2001:db8::9"))).contains("user ann"));
    for refused in [verify(Some("192.0.2.1")), verify(None)] {
        assert!(!refused.status.success());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("IP_DENIED"));
    }
    let garbage = verify(Some("not-an-address"));
    assert!(!garbage.status.success(), "clap refuses it");
}

#[test]
fn bad_arguments_fail_with_a_message() {
    let dir = temp_dir("cli-errors");
    add_user(&dir, "ann", "ann-password", false);
    let duplicate = cli(&dir, &["user", "add", "ann"], "long-enough\n");
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("already exists"));
    let empty = cli(&dir, &["user", "add", "bob"], "");
    assert!(String::from_utf8_lossy(&empty.stderr).contains("no password"));
    // New passwords: at least 8 characters, at most 1,024 bytes.
    for password in ["seven77".to_string(), "x".repeat(1025)] {
        for args in [&["user", "add", "bob"][..], &["user", "passwd", "ann"][..]] {
            let short = cli(&dir, args, &format!("{password}\n"));
            assert!(!short.status.success());
            let stderr = String::from_utf8_lossy(&short.stderr);
            assert!(stderr.contains("PASSWORD_INVALID"), "{stderr}");
        }
    }
    let ok = cli(&dir, &["user", "add", "bob"], "eight888\n");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let scope = cli(
        &dir,
        &[
            "token",
            "create",
            "--user",
            "ann",
            "--name",
            "x",
            "--scope",
            r#"{"actions":["nope"]}"#,
        ],
        "",
    );
    assert!(String::from_utf8_lossy(&scope.stderr).contains("SCOPE_INVALID"));
    let expiry = cli(
        &dir,
        &[
            "token",
            "create",
            "--user",
            "ann",
            "--name",
            "x",
            "--expires",
            "soon",
        ],
        "",
    );
    assert!(!expiry.status.success());
    let unknown = cli(&dir, &["user", "passwd", "nobody"], "long-enough\n");
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no user named"));
    let config = dir.join("bad.json");
    std::fs::write(&config, r#"{"prefix":"NOPE","catalog":[]}"#).unwrap();
    let out = std::process::Command::new(BIN)
        .args(["--db"])
        .arg(dir.join("tessera.db"))
        .arg("--config")
        .arg(&config)
        .args(["token", "list", "--user", "ann"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("PREFIX_INVALID"));
}

#[test]
fn a_fresh_server_says_how_to_add_a_user() {
    let dir = temp_dir("cli-fresh");
    let mut child = std::process::Command::new(BIN)
        .arg("--db")
        .arg(dir.join("tessera.db"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    let first = lines.next().unwrap().unwrap();
    let second = lines.next().unwrap().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        first.starts_with("tessera-host listening on http://127.0.0.1:"),
        "{first}"
    );
    assert!(
        second.contains("tessera-host user add NAME --admin"),
        "{second}"
    );
    assert!(dir.join("tessera.db").exists());
    // With a user, the hint is gone.
    add_user(&dir, "ann", "ann-password", true);
    let server = Server::start(&dir, &[]);
    assert_eq!(server.send("GET", "/healthz", None, None).status, 200);
}
