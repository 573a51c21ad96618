//! `tessera-host scan` through the real binary: a directory and a git
//! history planted with real, mistyped and foreign tokens; exit codes; and
//! `--revoke` against a running server.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// A mistyped copy of `token`: one body character changed.
fn mistyped(token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    bytes[12] = if bytes[12] == b'x' { b'y' } else { b'x' };
    String::from_utf8(bytes).unwrap()
}

fn git(repo: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .output()
        .expect("git");
    assert!(status.status.success(), "git {args:?}: {status:?}");
}

fn text(out: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn scan_finds_real_tokens_only_and_never_prints_them() {
    let dir = temp_dir("scan");
    add_user(&dir, "ann", "ann-password", true);
    let server = Server::start(&dir, &[]);
    let ann = basic("ann", "ann-password");
    let (token, record) = create(
        &server,
        &ann,
        r#"{"name":"leaky","scope":{"preset":"all"}}"#,
    );
    let hint = record["hint"].as_str().unwrap().to_string();
    drop(server);

    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("nested/deeper")).unwrap();
    std::fs::create_dir_all(tree.join(".git")).unwrap();
    let random_shape = format!("tsr_{}", "Ab3".repeat(16) + "x");
    std::fs::write(
        tree.join("config.env"),
        format!("A=1\nTOKEN={token}\nOTHER=ghp_{}\n", "a".repeat(36)),
    )
    .unwrap();
    std::fs::write(
        tree.join("nested/deeper/notes.md"),
        format!(
            "typo: {}\nshape only: {random_shape}\nglued: x{token}\n\nagain ({token})\n",
            mistyped(&token)
        ),
    )
    .unwrap();
    std::fs::write(tree.join(".git/ignored"), &token).unwrap();
    std::fs::write(tree.join("clean.txt"), "nothing to see\n").unwrap();

    let out = cli(&dir, &["scan", tree.to_str().unwrap()], "");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let places: Vec<&str> = stdout.lines().collect();
    let env = format!(
        "{}:2: {hint} (a Tessera token)",
        tree.join("config.env").display()
    );
    let notes = tree.join("nested/deeper/notes.md").display().to_string();
    assert_eq!(
        places,
        [env, format!("{notes}:5: {hint} (a Tessera token)")],
        "{stdout}"
    );
    assert!(
        stderr.contains("1 Tessera token(s) found in 2 place(s)"),
        "{stderr}"
    );
    assert!(!stdout.contains(&token) && !stderr.contains(&token));

    let clean = cli(
        &dir,
        &["scan", tree.join("clean.txt").to_str().unwrap()],
        "",
    );
    assert_eq!(clean.status.code(), Some(0));
    assert!(text(&clean).0.contains("no Tessera tokens found"));
}

#[test]
fn scan_git_finds_a_token_that_was_committed_and_removed() {
    let dir = temp_dir("scan-git");
    add_user(&dir, "ann", "ann-password", true);
    let made = cli(
        &dir,
        &["token", "create", "--user", "ann", "--name", "ci"],
        "",
    );
    assert!(made.status.success());
    let token = text(&made).0.trim().to_string();
    assert!(token.starts_with("tsr_"), "{token}");
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    std::fs::write(repo.join("deploy.sh"), "#!/bin/sh\necho start\n").unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "first"]);
    std::fs::write(
        repo.join("deploy.sh"),
        format!("#!/bin/sh\necho start\ncurl -H 'Authorization: Bearer {token}' x\n"),
    )
    .unwrap();
    git(&repo, &["commit", "-qam", "oops"]);
    std::fs::write(repo.join("deploy.sh"), "#!/bin/sh\necho start\n").unwrap();
    git(&repo, &["commit", "-qam", "remove the token"]);

    let now = cli(&dir, &["scan", repo.to_str().unwrap()], "");
    assert_eq!(now.status.code(), Some(0), "the working tree is clean");
    let history = cli(&dir, &["scan", "--git", repo.to_str().unwrap()], "");
    let (stdout, stderr) = text(&history);
    assert_eq!(history.status.code(), Some(1), "{stdout}{stderr}");
    let line = stdout.lines().next().unwrap();
    assert!(
        line.ends_with(":deploy.sh:3: tsr_") || line.contains(":deploy.sh:3: tsr_"),
        "{line}"
    );
    assert!(!stdout.contains(&token));
    // Not a repository: the scan cannot finish, and says so with 2.
    let not_repo = dir.join("plain");
    std::fs::create_dir_all(&not_repo).unwrap();
    let failed = cli(&dir, &["scan", "--git", not_repo.to_str().unwrap()], "");
    assert_eq!(failed.status.code(), Some(2), "{:?}", text(&failed));
}

#[test]
fn scan_revoke_has_each_token_found_deactivate_itself() {
    let dir = temp_dir("scan-revoke");
    add_user(&dir, "ann", "ann-password", true);
    let server = Server::start(&dir, &[]);
    let ann = basic("ann", "ann-password");
    let (token, _) = create(
        &server,
        &ann,
        r#"{"name":"leaky","scope":{"preset":"read"}}"#,
    );
    let (kept, _) = create(
        &server,
        &ann,
        r#"{"name":"kept","scope":{"preset":"read"}}"#,
    );
    let leak = dir.join("leak.txt");
    std::fs::write(&leak, format!("{token}\n{token}\n")).unwrap();
    let url = format!("http://{}", server.addr);
    let args = ["scan", "--revoke", "--url", &url, leak.to_str().unwrap()];
    let out = cli(&dir, &args, "");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert_eq!(stdout.matches("deactivated tsr_").count(), 1, "{stdout}");
    let whoami = |t: &str| {
        server
            .send("GET", "/api/whoami", Some(&bearer(t)), None)
            .status
    };
    assert_eq!(whoami(&token), 401, "the leaked token is refused now");
    assert_eq!(whoami(&kept), 200, "nothing else was touched");
    // Deactivated, not deleted: the owner decides.
    let list = server
        .send("GET", "/api/usertokens", Some(&ann), None)
        .json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let again = cli(&dir, &args, "");
    assert!(text(&again).0.contains("already refuses it"));
    // No server: the scan cannot finish.
    drop(server);
    let gone = cli(&dir, &args, "");
    assert_eq!(gone.status.code(), Some(2), "{:?}", text(&gone));
}
