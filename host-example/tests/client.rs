//! The command-line client against a real server: `login` through a
//! pseudo-terminal (no echo) and through standard input, the saved
//! credentials' file modes, `TESSERA_TOKEN`, scope errors that name the
//! missing action, offline refusal of a bad token, `logout`.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{BIN, Server, add_user, basic, create, temp_dir};

/// Runs a client command with its own config home and extra environment.
fn client(home: &Path, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env("XDG_CONFIG_HOME", home)
        .env_remove("TESSERA_TOKEN")
        .env_remove("TESSERA_URL")
        .current_dir(home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("run the client");
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes());
    child.wait_with_output().expect("wait")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn credentials(home: &Path) -> PathBuf {
    home.join("tessera").join("credentials")
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn login_then_commands_with_the_saved_token() {
    let dir = temp_dir("client");
    add_user(&dir, "ann", "ann-password", true);
    let server = Server::start(&dir, &[]);
    let url = format!("http://{}", server.addr);
    let ann = basic("ann", "ann-password");
    let (read, _) = create(
        &server,
        &ann,
        r#"{"name":"r","expires":{"days":1},"scope":{"preset":"read"}}"#,
    );
    let (cli_token, _) = create(&server, &ann, r#"{"name":"c","scope":{"preset":"cli"}}"#);
    let (custom, _) = create(
        &server,
        &ann,
        r#"{"name":"w","scope":{"actions":["apps.write"]}}"#,
    );

    // Through a pseudo-terminal: the token is typed but never shown.
    let home = temp_dir("client-home");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/pty_run.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(&read)
        .args([BIN, "login", "--url", &url])
        .env("XDG_CONFIG_HOME", &home)
        .env_remove("TESSERA_TOKEN")
        .output()
        .expect("python3");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("Token"), "{shown}");
    assert!(shown.contains("logged in to"), "{shown}");
    assert!(
        !shown.contains(&read[4..]),
        "the terminal echoed the token: {shown}"
    );
    assert_eq!(mode(&credentials(&home)), 0o600);
    assert_eq!(mode(credentials(&home).parent().unwrap()), 0o700);

    // The read token lists apps but cannot create one; the error names the action.
    let list = client(&home, &["apps", "list"], "", &[]);
    assert!(list.status.success(), "{}", text(&list));
    let denied = client(&home, &["apps", "create", "shop"], "", &[]);
    assert!(!denied.status.success());
    assert!(
        text(&denied).contains("does not include apps.write"),
        "{}",
        text(&denied)
    );
    let whoami = client(&home, &["whoami"], "", &[]);
    assert!(text(&whoami).contains("user ann"), "{}", text(&whoami));

    // TESSERA_TOKEN overrides the saved token.
    let with_env = client(
        &home,
        &["apps", "create", "shop"],
        "",
        &[("TESSERA_TOKEN", &custom)],
    );
    assert!(with_env.status.success(), "{}", text(&with_env));
    let deploy = client(
        &home,
        &["deploy", "shop"],
        "",
        &[("TESSERA_TOKEN", &custom)],
    );
    assert!(
        text(&deploy).contains("does not include deploy.run"),
        "{}",
        text(&deploy)
    );

    // Login through standard input replaces the saved token.
    let out = client(
        &home,
        &["login", "--url", &url],
        &format!("{cli_token}\n"),
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(client(&home, &["deploy", "shop"], "", &[]).status.success());
    assert!(
        !std::fs::read_to_string(credentials(&home))
            .unwrap()
            .contains(&read)
    );

    // Loose permissions: refused, with the fix.
    std::fs::set_permissions(credentials(&home), std::fs::Permissions::from_mode(0o644)).unwrap();
    let loose = client(&home, &["apps", "list"], "", &[]);
    assert!(!loose.status.success());
    assert!(text(&loose).contains("chmod 600"), "{}", text(&loose));
    std::fs::set_permissions(credentials(&home), std::fs::Permissions::from_mode(0o600)).unwrap();

    // Logout forgets it.
    assert!(client(&home, &["logout"], "", &[]).status.success());
    assert!(!credentials(&home).exists());
    let out = client(&home, &["apps", "list"], "", &[]);
    assert!(text(&out).contains("not logged in"), "{}", text(&out));
    drop(server);

    // A day later the read token has expired, and the client says when.
    let later = Server::start(&dir, &["--clock-offset-ms", "90000000"]);
    let url = format!("http://{}", later.addr);
    let out = client(&home, &["login", "--url", &url], &format!("{read}\n"), &[]);
    assert!(text(&out).contains("refused this token"), "{}", text(&out));
    drop(later);
    let now = Server::start(&dir, &[]);
    let url = format!("http://{}", now.addr);
    assert!(
        client(&home, &["login", "--url", &url], &format!("{read}\n"), &[])
            .status
            .success()
    );
    drop(now);
    let later = Server::start(&dir, &["--clock-offset-ms", "90000000"]);
    // The client shares the server's shifted clock, as real ones share time.
    let out = client(
        &home,
        &["--clock-offset-ms", "90000000", "apps", "list"],
        "",
        &[("TESSERA_URL", &format!("http://{}", later.addr))],
    );
    assert!(
        text(&out).contains("your token expired on"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_bad_token_is_refused_before_any_request() {
    // A listener that counts connections stands where the server would be.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let home = temp_dir("client-offline");
    let typo = "tsr_0000000000000000000000000000000000000000000000001";
    for bad in [typo, "not a token", "ghp_abc"] {
        let out = client(&home, &["login", "--url", &url], &format!("{bad}\n"), &[]);
        assert!(!out.status.success());
        assert!(text(&out).contains("nothing was sent"), "{}", text(&out));
    }
    assert!(
        listener.accept().is_err(),
        "the client connected to the server"
    );
    assert!(!credentials(&home).exists());
    let unreachable = client(
        &home,
        &["whoami"],
        "",
        &[
            ("TESSERA_TOKEN", typo),
            ("TESSERA_URL", "http://127.0.0.1:9"),
        ],
    );
    assert!(
        text(&unreachable).contains("cannot reach the Tessera server"),
        "{}",
        text(&unreachable)
    );
}
