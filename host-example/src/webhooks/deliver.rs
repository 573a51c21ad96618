//! The delivery thread: claims due subscriptions, posts their next events
//! and records how far each got.

use std::net::{IpAddr, ToSocketAddrs};
use std::sync::OnceLock;
use std::time::Instant;

use anyhow::Result;
use axum::http::Uri;
use tessera_core::AllowedIps;
use ureq::Agent;

use super::{Options, events, sign, sweep};
use crate::clock::Clock;
use crate::db::{Db, Entry, Webhook};
use crate::log;

/// How long a claim holds a subscription: longer than one attempt.
const LEASE_MS: i64 = 60_000;
/// The most events one subscription gets per tick, so one busy endpoint
/// does not hold up the others.
const PER_TICK: usize = 50;
/// How many subscriptions are served at once.
const PARALLEL: usize = 16;
/// How many audit events one look reads.
const BATCH: usize = 200;

/// Networks no webhook goes to unless the host allows it: loopback,
/// private, link-local, shared (CGNAT), unique-local, multicast and
/// unspecified addresses.
const PRIVATE: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "224.0.0.0/3",
    "::/127",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
];

/// Whether `address` is in a network webhooks stay out of by default. The
/// list is parsed once.
pub fn is_private(address: IpAddr) -> bool {
    static NETWORKS: OnceLock<Option<AllowedIps>> = OnceLock::new();
    NETWORKS
        .get_or_init(|| AllowedIps::parse(PRIVATE).ok())
        .as_ref()
        .is_none_or(|private| private.allows(Some(address)))
}

/// A checked subscription URL: its host (brackets of an IPv6 address
/// removed) and port.
struct Target {
    host: String,
    port: u16,
}

/// Checks a subscription's URL: `http` or `https` with a host, at most
/// 2,048 bytes, and, unless private networks are allowed, no address in
/// one written in the URL (a name is checked as it resolves, before every
/// delivery).
fn target(url: &str, private_networks: bool) -> Result<Target, String> {
    if url.len() > 2048 {
        return Err("the URL is longer than 2,048 bytes".into());
    }
    let uri: Uri = url
        .parse()
        .map_err(|_| "the URL is not a URL".to_string())?;
    let default_port = match uri.scheme_str() {
        Some("http") => 80,
        Some("https") => 443,
        _ => return Err("the URL must be http or https".into()),
    };
    let host = uri.host().ok_or("the URL has no host")?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(address) = host.parse::<IpAddr>()
        && !private_networks
        && is_private(address)
    {
        return Err("webhooks may not go to loopback or private networks".into());
    }
    Ok(Target {
        host: host.to_owned(),
        port: uri.port_u16().unwrap_or(default_port),
    })
}

/// Checks a subscription's URL as [`target`] does, when it is created.
pub fn check_url(url: &str, private_networks: bool) -> Result<(), String> {
    target(url, private_networks).map(|_| ())
}

/// Checks the URL and resolves its host, refusing it when it lands in a
/// private network (unless allowed).
fn check_destination(url: &str, private_networks: bool) -> Result<(), String> {
    let target = target(url, private_networks)?;
    if private_networks {
        return Ok(());
    }
    let addresses = (target.host.as_str(), target.port)
        .to_socket_addrs()
        .map_err(|_| "the host does not resolve".to_string())?;
    for address in addresses {
        if is_private(address.ip()) {
            return Err("the host resolves to a loopback or private network".into());
        }
    }
    Ok(())
}

fn agent(options: &Options) -> Agent {
    Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(options.timeout))
        .build()
        .into()
}

/// Runs forever: sweeps for expiry notices now and then, and delivers.
pub fn run(db: &Db, clock: Clock, options: &Options) {
    let mut id = [0u8; 8];
    let host = match getrandom::fill(&mut id) {
        Ok(()) => id.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        Err(_) => format!("{}", std::process::id()),
    };
    let agent = agent(options);
    let mut swept: Option<Instant> = None;
    loop {
        if swept.is_none_or(|at| at.elapsed() >= options.sweep_every) {
            swept = Some(Instant::now());
            if let Err(error) = sweep::sweep(db, clock.now(), &options.expiry_days) {
                log::warn(format_args!("expiry sweep failed: {error:#}"));
            }
        }
        if let Err(error) = tick(db, &host, clock, options, &agent) {
            log::warn(format_args!("webhook delivery failed: {error:#}"));
        }
        std::thread::sleep(options.tick);
    }
}

/// One look at every subscription. Due ones are served side by side (at
/// most [`PARALLEL`] at a time), so an endpoint that is slow or never
/// answers holds up only its own subscription.
fn tick(db: &Db, host: &str, clock: Clock, options: &Options, agent: &Agent) -> Result<()> {
    let hooks = db.webhooks(None)?;
    if hooks.iter().all(|h| h.next_attempt_at > clock.now()) {
        return Ok(());
    }
    let watermark = db.audit_watermark()?;
    let due: Vec<Webhook> = hooks
        .into_iter()
        .filter(|h| h.cursor < watermark && h.next_attempt_at <= clock.now())
        .collect();
    for batch in due.chunks(PARALLEL) {
        std::thread::scope(|scope| {
            for hook in batch {
                scope.spawn(move || {
                    if let Err(error) = serve(db, host, &hook.id, watermark, clock, options, agent)
                    {
                        log::warn(format_args!("webhook delivery failed: {error:#}"));
                    }
                });
            }
        });
    }
    Ok(())
}

/// Delivers up to [`PER_TICK`] events of one subscription, each under a
/// claim of its own, stopping at the first failure.
fn serve(
    db: &Db,
    host: &str,
    id: &str,
    watermark: i64,
    clock: Clock,
    options: &Options,
    agent: &Agent,
) -> Result<()> {
    let lease_ms = LEASE_MS.max(2 * i64::try_from(options.timeout.as_millis()).unwrap_or(LEASE_MS));
    for _ in 0..PER_TICK {
        let Some(hook) = db.webhook(id)? else {
            break;
        };
        let now = clock.now();
        if hook.cursor >= watermark
            || hook.next_attempt_at > now
            || !db.webhook_claim(&hook.id, host, now, now + lease_ms)?
        {
            break;
        }
        // Read again under the claim: another host may have delivered and
        // released it since the read above, and its cursor is the truth.
        let Some(hook) = db.webhook(id)? else {
            break;
        };
        if hook.cursor >= watermark {
            db.webhook_settle(&hook.id, host, hook.cursor, false, None)?;
            break;
        }
        let (cursor, delivered, failure) = attempt(db, &hook, watermark, clock, options, agent)?;
        let failure = failure.map(|why| {
            let attempts = hook.attempts + 1;
            let delay = options
                .retry_base_ms
                .saturating_mul(1i64 << (attempts - 1).clamp(0, 30))
                .min(options.retry_max_ms);
            (attempts, clock.now() + delay, why)
        });
        let failed = failure.is_some();
        db.webhook_settle(
            &hook.id,
            host,
            cursor,
            delivered,
            failure.as_ref().map(|(a, n, why)| (*a, *n, why.as_str())),
        )?;
        if failed {
            break;
        }
    }
    Ok(())
}

/// Whether the subscription follows `entry`: its owner's (or everyone's)
/// event of a type it asked for.
fn follows(hook: &Webhook, kind: &str, entry: &Entry) -> bool {
    let mine = hook
        .owner
        .as_deref()
        .is_none_or(|owner| entry.user_id.as_deref() == Some(owner));
    mine && hook.events.split(',').any(|wanted| wanted == kind)
}

/// Delivers the subscription's next event, if any, below `watermark`:
/// the cursor reached, whether an event was delivered, and, when one
/// could not be, why.
fn attempt(
    db: &Db,
    hook: &Webhook,
    watermark: i64,
    clock: Clock,
    options: &Options,
    agent: &Agent,
) -> Result<(i64, bool, Option<String>)> {
    let mut cursor = hook.cursor;
    for entry in db.audit_after(hook.cursor, BATCH)? {
        if entry.seq > watermark {
            break;
        }
        let Some(kind) = events::type_of(&entry).filter(|kind| follows(hook, kind, &entry)) else {
            cursor = entry.seq;
            continue;
        };
        return Ok(match post(hook, kind, &entry, clock, options, agent) {
            Ok(()) => (entry.seq, true, None),
            Err(why) => (cursor, false, Some(why)),
        });
    }
    Ok((cursor, false, None))
}

/// Posts one event; a 2xx is delivered, anything else a reason to retry.
/// Reasons never hold the URL, the secret or the body.
fn post(
    hook: &Webhook,
    kind: &str,
    entry: &Entry,
    clock: Clock,
    options: &Options,
    agent: &Agent,
) -> Result<(), String> {
    check_destination(&hook.url, options.private_networks)?;
    let body = events::body(kind, entry);
    let id = events::message_id(entry);
    let timestamp = clock.now().div_euclid(1000);
    let signature =
        sign::signature(&hook.secret, &id, timestamp, &body).map_err(|e| format!("{e}"))?;
    let response = agent
        .post(&hook.url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .send(body.as_str())
        .map_err(|error| match error {
            ureq::Error::Timeout(_) => "the endpoint did not answer in time".to_string(),
            ureq::Error::Io(e) => format!("cannot reach the endpoint ({})", e.kind()),
            _ => "cannot reach the endpoint".to_string(),
        })?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(format!("the endpoint answered {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        assert!(check_url("https://hooks.example.com/tessera", false).is_ok());
        for bad in [
            "ftp://example.com/",
            "not a url",
            "/relative",
            "http://127.0.0.1:8080/",
            "http://[::1]/",
            "http://10.1.2.3/",
            "http://169.254.169.254/latest/meta-data",
            "http://[fd00::1]/",
            "http://[::ffff:192.168.1.1]/",
        ] {
            assert!(check_url(bad, false).is_err(), "{bad}");
        }
        assert!(check_url("http://127.0.0.1:8080/", true).is_ok());
        assert!(check_url(&format!("https://example.com/{}", "a".repeat(2048)), true).is_err());
        assert!(is_private("127.0.0.1".parse().unwrap()));
        assert!(!is_private("93.184.216.34".parse().unwrap()));
    }
}
