//! The command-line client of a running `tessera-host`: `login` once with
//! a token, then call the API with it, as the platforms' CLIs do.

mod api;
mod credentials;

use std::io::{BufRead, IsTerminal};

use anyhow::{Result, bail};
use serde_json::json;
use tessera_core::Presented;

use crate::clock::Clock;

pub use api::DEFAULT_URL;

/// Reads a token: from the terminal without echo, or one line of standard
/// input when it is not a terminal.
fn read_token() -> Result<String> {
    let token = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Token (input is hidden): ")?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line
    };
    Ok(token.trim().to_string())
}

/// `login`: checks the token offline (shape and checksum, so a typo never
/// leaves the machine), then against the server, then saves it.
pub fn login(url: Option<String>) -> Result<()> {
    let url = url
        .or_else(|| std::env::var("TESSERA_URL").ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| DEFAULT_URL.into());
    let url = url.trim_end_matches('/').to_string();
    let token = read_token()?;
    if let Err(error) = Presented::parse_any(&token) {
        bail!(
            "that is not a valid Tessera token: {error} ({}); nothing was sent",
            error.code()
        );
    }
    let answer = api::whoami(&url, &token)?;
    match answer.status {
        200 => {}
        401 => bail!("the server at {url} refused this token (unknown, inactive or expired)"),
        status => bail!("the server at {url} answered {status} to /api/whoami"),
    }
    let user = answer.body["userId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let token_id = answer.body["tokenId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let path = credentials::save(&credentials::Credentials {
        url: url.clone(),
        token,
        expires_at: answer.body["expiresAt"].as_i64(),
    })?;
    println!(
        "logged in to {url} as {user} (token {token_id}); saved in {}",
        path.display()
    );
    Ok(())
}

/// `scan`: finds tokens in `paths` (and, with `git`, in their history),
/// prints where with each token's hint, and with `revoke` has every token
/// found deactivate itself on the server. `Err(Found)` when any was found.
pub fn scan(
    paths: Vec<std::path::PathBuf>,
    git: bool,
    revoke: bool,
    url: Option<String>,
) -> Result<()> {
    let paths = if paths.is_empty() {
        vec![std::path::PathBuf::from(".")]
    } else {
        paths
    };
    let mut findings = crate::scan::scan_paths(&paths);
    if git {
        for path in &paths {
            findings.extend(crate::scan::scan_history(path).map_err(ScanFailed)?);
        }
    }
    for finding in &findings {
        println!("{}: {} (a Tessera token)", finding.place, finding.hint);
    }
    let tokens = crate::scan::distinct(&findings);
    if revoke && !tokens.is_empty() {
        let url = api::server_url(url).map_err(ScanFailed)?;
        for (token, finding) in &tokens {
            match api::deactivate_self(&url, token).map_err(ScanFailed)? {
                api::SelfRevoke::Deactivated(id) => {
                    println!("deactivated {} (token {id}) at {url}", finding.hint)
                }
                api::SelfRevoke::AlreadyRefused => println!(
                    "{}: {url} already refuses it (inactive, expired or not its token)",
                    finding.hint
                ),
            }
        }
    }
    if findings.is_empty() {
        println!("no Tessera tokens found");
        return Ok(());
    }
    Err(Found {
        places: findings.len(),
        tokens: tokens.len(),
    }
    .into())
}

/// `scan` found tokens: the process exits with 1.
#[derive(Debug)]
pub struct Found {
    /// Places found.
    pub places: usize,
    /// Distinct tokens among them.
    pub tokens: usize,
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} Tessera token(s) found in {} place(s)",
            self.tokens, self.places
        )
    }
}

impl std::error::Error for Found {}

/// `scan` could not do its work (git failed, the server is unreachable):
/// the process exits with 2, so a hook never takes it for "nothing found".
#[derive(Debug)]
pub struct ScanFailed(pub anyhow::Error);

impl std::fmt::Display for ScanFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for ScanFailed {}

/// `github-keys fetch`: downloads GitHub's secret scanning keys, checks
/// them, and replaces `out` atomically (a failed download or a bad document
/// leaves the old file as it was).
pub fn fetch_github_keys(out: &std::path::Path, url: Option<String>) -> Result<()> {
    let url = url.unwrap_or_else(|| crate::http::GITHUB_KEYS_URL.to_string());
    let text = api::download(&url)?;
    let keys = crate::http::GithubKeys::parse(&text)?;
    let partial = out.with_extension("partial");
    std::fs::write(&partial, &text)?;
    std::fs::rename(&partial, out)?;
    println!(
        "saved {} key(s) from {url} in {} (restart `serve --github-keys` to use them)",
        keys.len(),
        out.display()
    );
    Ok(())
}

/// `logout`: forgets the saved token.
pub fn logout() -> Result<()> {
    if credentials::remove()? {
        println!("logged out");
    } else {
        println!("not logged in");
    }
    Ok(())
}

/// `whoami`.
pub fn whoami(clock: Clock) -> Result<()> {
    let me =
        api::Client::signed_in()?.call("GET", "/api/whoami", "any action", None, clock.now())?;
    let expires = me["expiresAt"]
        .as_i64()
        .map_or_else(|| "never".to_string(), api::date);
    println!(
        "user {}, token {}, scope {}, expires {expires}",
        me["userId"].as_str().unwrap_or_default(),
        me["tokenId"].as_str().unwrap_or_default(),
        me["scope"]
    );
    Ok(())
}

/// `apps list`.
pub fn apps_list(clock: Clock) -> Result<()> {
    let answer =
        api::Client::signed_in()?.call("GET", "/api/apps", "apps.read", None, clock.now())?;
    let apps = answer["apps"].as_array().cloned().unwrap_or_default();
    if apps.is_empty() {
        println!("no apps");
    }
    for app in apps {
        println!("{}", app.as_str().unwrap_or_default());
    }
    Ok(())
}

/// `apps create NAME`.
pub fn apps_create(name: &str, clock: Clock) -> Result<()> {
    let body = json!({ "name": name });
    api::Client::signed_in()?.call("POST", "/api/apps", "apps.write", Some(&body), clock.now())?;
    println!("created app {name}");
    Ok(())
}

/// `deploy APP`.
pub fn deploy(app: &str, clock: Clock) -> Result<()> {
    let body = json!({ "app": app });
    api::Client::signed_in()?.call(
        "POST",
        "/api/deploys",
        "deploy.run",
        Some(&body),
        clock.now(),
    )?;
    println!("deploy of {app} started");
    Ok(())
}
