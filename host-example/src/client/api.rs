//! Calls to a running `tessera-host` with the saved (or `TESSERA_TOKEN`)
//! token, and failures turned into sentences a person can act on.

use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use ureq::Agent;

use super::credentials::{self, Credentials};

/// Where a client talks to when nothing else says: the server's default.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// A signed-in client.
pub struct Client {
    agent: Agent,
    credentials: Credentials,
}

/// The HTTP agent: answers of every status come back as responses.
fn agent() -> Agent {
    Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(15)))
        .build()
        .into()
}

/// A JSON answer: status and body.
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body, parsed (`null` when it is not JSON).
    pub body: Value,
}

/// Sends one request with `authorization`.
fn send(
    agent: &Agent,
    method: &str,
    url: &str,
    authorization: &str,
    body: Option<&Value>,
) -> Result<Answer> {
    let unreachable = |e: ureq::Error| anyhow!("cannot reach the Tessera server at {url}: {e}");
    let mut response = match (method, body) {
        ("GET", _) => agent
            .get(url)
            .header("Authorization", authorization)
            .call()
            .map_err(unreachable)?,
        (method, body) => {
            let request = if method == "PATCH" {
                agent.patch(url)
            } else {
                agent.post(url)
            };
            request
                .header("Authorization", authorization)
                .header("Content-Type", "application/json")
                .send(body.map(Value::to_string).unwrap_or_default())
                .map_err(unreachable)?
        }
    };
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    Ok(Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    })
}

/// Asks the server who a token belongs to; used by `login`.
pub fn whoami(url: &str, token: &str) -> Result<Answer> {
    send(
        &agent(),
        "GET",
        &format!("{url}/api/whoami"),
        &format!("Bearer {token}"),
        None,
    )
}

/// What asking a found token to deactivate itself came to.
pub enum SelfRevoke {
    /// It was active and is now inactive (its id).
    Deactivated(String),
    /// The server already refuses it (inactive, expired, unknown there).
    AlreadyRefused,
}

/// Asks the server to deactivate `token`, authenticated by the token
/// itself (a token may always deactivate itself).
pub fn deactivate_self(url: &str, token: &str) -> Result<SelfRevoke> {
    let agent = agent();
    let authorization = format!("Bearer {token}");
    let who = send(
        &agent,
        "GET",
        &format!("{url}/api/whoami"),
        &authorization,
        None,
    )?;
    match who.status {
        200 => {}
        401 => return Ok(SelfRevoke::AlreadyRefused),
        status => bail!("the server at {url} answered {status} to /api/whoami"),
    }
    let Some(id) = who.body["tokenId"].as_str().map(str::to_string) else {
        bail!("the server at {url} did not say which token this is");
    };
    let body = serde_json::json!({ "status": "inactive" });
    let path = format!("{url}/api/usertokens/{id}");
    let answer = send(&agent, "PATCH", &path, &authorization, Some(&body))?;
    match answer.status {
        200 => Ok(SelfRevoke::Deactivated(id)),
        401 => Ok(SelfRevoke::AlreadyRefused),
        status => bail!("the server at {url} answered {status} when deactivating token {id}"),
    }
}

/// The server a command talks to: `--url`, else `TESSERA_URL`, else the
/// saved login's, else the default.
pub fn server_url(url: Option<String>) -> Result<String> {
    let url = match url.or_else(|| std::env::var("TESSERA_URL").ok().filter(|v| !v.is_empty())) {
        Some(url) => url,
        None => credentials::load()?.map_or_else(|| DEFAULT_URL.to_string(), |saved| saved.url),
    };
    Ok(url.trim_end_matches('/').to_string())
}

/// Downloads `url` as text (for `github-keys fetch`); any status but 200
/// is an error.
pub fn download(url: &str) -> Result<String> {
    let mut response = agent()
        .get(url)
        .header("Accept", "application/json")
        .header("User-Agent", "tessera-host")
        .call()
        .map_err(|e| anyhow!("cannot reach {url}: {e}"))?;
    let status = response.status().as_u16();
    if status != 200 {
        bail!("{url} answered {status}");
    }
    response
        .body_mut()
        .read_to_string()
        .map_err(|e| anyhow!("cannot read the answer of {url}: {e}"))
}

/// A date for people.
pub fn date(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}

impl Client {
    /// The client for the saved sign-in; `TESSERA_TOKEN` overrides the
    /// saved token, `TESSERA_URL` the saved URL.
    pub fn signed_in() -> Result<Self> {
        let saved = credentials::load()?;
        let env = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        let credentials = match (env("TESSERA_TOKEN"), saved) {
            (Some(token), saved) => Credentials {
                url: env("TESSERA_URL")
                    .or(saved.map(|s| s.url))
                    .unwrap_or_else(|| DEFAULT_URL.into()),
                token,
                expires_at: None,
            },
            (None, Some(mut saved)) => {
                if let Some(url) = env("TESSERA_URL") {
                    saved.url = url;
                }
                saved
            }
            (None, None) => bail!("not logged in: run `tessera-host login` (or set TESSERA_TOKEN)"),
        };
        Ok(Self {
            agent: agent(),
            credentials,
        })
    }

    /// Calls `method path` for `action`, and turns a refusal into a
    /// sentence: an expired token names its expiry, a missing scope names
    /// the action.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        action: &str,
        body: Option<&Value>,
        now: i64,
    ) -> Result<Value> {
        let url = format!("{}{path}", self.credentials.url.trim_end_matches('/'));
        let authorization = format!("Bearer {}", self.credentials.token);
        let answer = send(&self.agent, method, &url, &authorization, body)?;
        match answer.status {
            200..=299 => Ok(answer.body),
            401 => match self.credentials.expires_at {
                Some(at) if now >= at => bail!(
                    "your token expired on {}; create a new one and run `tessera-host login`",
                    date(at)
                ),
                _ => bail!(
                    "the server refused your token (it may have been deactivated, deleted or \
                     rotated out); run `tessera-host login` with a valid one"
                ),
            },
            403 if answer.body["code"] == tessera_core::code::SCOPE_DENIED => {
                bail!("your token's scope does not include {action}; create a token that has it")
            }
            status => bail!(
                "the server answered {status}: {} ({})",
                answer.body["message"].as_str().unwrap_or("no message"),
                answer.body["code"].as_str().unwrap_or("no code")
            ),
        }
    }
}
