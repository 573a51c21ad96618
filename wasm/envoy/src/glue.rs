//! The proxy-wasm glue: contexts that read the request, call the decision
//! functions and carry out their replies. No decision is made here.
//!
//! Lookups go: this worker's decoded cache, then the shared-data slot every
//! worker reads, then one callout per hash. Requests that miss while a
//! callout for their hash is under way wait for it: on this worker they are
//! listed in the flight and answered when it lands; on another worker the
//! slot holds a pending marker and the root context's tick polls the slot.
//! A request whose callout owner went away (client disconnect cancels its
//! callout) is picked up by the same tick, which calls out from the root.

use crate::HashMap;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use log::{debug, error, info, warn};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel, MapType};
use tessera_core::TokenHash;

use crate::answer::{self, Answer, Failure, Slot, slot_key};
use crate::cache::LocalCache;
use crate::config::Settings;
use crate::decide::{self, Lookup, Reply, Start};
use crate::feed::{Feed, Forget};
use crate::uses::Uses;

/// How often the root context polls while requests wait on another worker.
const POLL: Duration = Duration::from_millis(10);

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|id| Box::new(Root { id }));
}}

/// One worker's state (each worker runs its own VM instance).
struct Worker {
    settings: Option<Rc<Settings>>,
    root_id: u32,
    cache: LocalCache,
    flights: HashMap<TokenHash, Flight>,
    /// Callouts under way: the hash and when the callout was sent.
    callouts: HashMap<u32, (TokenHash, i64)>,
    /// The revocation feed, unless turned off.
    feed: Option<Feed>,
    /// Last uses to report, unless turned off.
    uses: Option<Uses>,
}

/// The requests of this worker waiting for one hash.
#[derive(Default)]
struct Flight {
    waiters: Vec<(u32, Lookup)>,
    /// The context whose callout is under way on this worker, if any.
    owner: Option<u32>,
}

thread_local! {
    /// The worker's state, made on first use (its maps are keyed with
    /// random seeds, which a constant cannot hold); constant initialisation
    /// keeps the standard library's lazy-initialisation code out of every
    /// access.
    static WORKER: RefCell<Option<Worker>> = const { RefCell::new(None) };
}

/// Runs `f` on the worker's state. Calls never nest.
fn with_worker<R>(f: impl FnOnce(&mut Worker) -> R) -> R {
    WORKER.with(|w| f(w.borrow_mut().get_or_insert_with(Worker::new)))
}

impl Worker {
    fn new() -> Self {
        Worker {
            settings: None,
            root_id: 0,
            cache: LocalCache::new(1),
            flights: HashMap::default(),
            callouts: HashMap::default(),
            feed: None,
            uses: None,
        }
    }
}

fn now_ms() -> i64 {
    hostcalls::get_current_time()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

struct Root {
    id: u32,
}

impl Context for Root {
    fn on_http_call_response(&mut self, token: u32, _: usize, body_size: usize, _: usize) {
        let (polled, reported) = with_worker(|w| {
            (
                w.feed.as_ref().is_some_and(|f| f.owns(token)),
                w.uses.as_ref().is_some_and(|u| u.owns(token)),
            )
        });
        if polled {
            feed_landed(self, body_size);
        } else if reported {
            uses_landed(self);
        } else {
            landed(self, token, body_size, self.id);
        }
    }
}

impl RootContext for Root {
    fn on_configure(&mut self, _: usize) -> bool {
        let bytes = self.get_plugin_configuration().unwrap_or_default();
        let settings = match Settings::from_json(&bytes) {
            Ok(settings) => settings,
            Err(e) => {
                error!("{e}");
                return false;
            }
        };
        // Every slot exists from the start, so claiming one is always a
        // compare-and-swap (a missing key would let two workers claim it).
        for slot in 0..settings.cache.slots {
            let key = format!("tessera.slot.{slot}");
            if let Ok((None, _)) = hostcalls::get_shared_data(&key) {
                let _ = hostcalls::set_shared_data(&key, Some(b""), None);
            }
        }
        let capacity = settings.cache.local_entries as usize;
        let lifetime_ms = i64::from(
            settings
                .cache
                .positive_seconds
                .max(settings.cache.negative_seconds),
        ) * 1000;
        let feed = settings
            .feed
            .clone()
            .map(|feed| Feed::new(feed, lifetime_ms, settings.timeout_ms as i64));
        let uses = settings.uses.clone().map(Uses::new);
        with_worker(|w| {
            w.cache = LocalCache::new(capacity);
            w.feed = feed;
            w.uses = uses;
            w.settings = Some(Rc::new(settings));
            w.root_id = self.id;
        });
        let _ = hostcalls::set_tick_period(rest_period());
        info!("configured");
        true
    }

    fn on_tick(&mut self) {
        let now = now_ms();
        poll_feed(self, now);
        report_uses(self, now);
        let idle: Vec<TokenHash> = with_worker(|w| {
            w.flights
                .iter()
                .filter(|(_, f)| f.owner.is_none() && !f.waiters.is_empty())
                .map(|(hash, _)| *hash)
                .collect()
        });
        if idle.is_empty() {
            let _ = hostcalls::set_tick_period(rest_period());
            return;
        }
        let Some(settings) = settings() else { return };
        for hash in idle {
            match shared(&settings, &hash, now) {
                Shared::Answered(answer, until) => settle(&hash, Ok((answer, until)), now, self.id),
                Shared::PendingElsewhere => {}
                Shared::Claimed => call_out(self, &settings, hash, self.id),
            }
        }
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Filter {
            id: context_id,
            waiting: None,
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

fn settings() -> Option<Rc<Settings>> {
    with_worker(|w| w.settings.clone())
}

/// The tick period when no request waits: the feed's interval (short until
/// its first answer), or none.
fn rest_period() -> Duration {
    with_worker(|w| {
        let feed = w.feed.as_ref().map(|feed| match feed.started() {
            false => POLL,
            true => Duration::from_millis(feed.interval_ms()),
        });
        let uses = w
            .uses
            .as_ref()
            .map(|uses| Duration::from_millis(uses.interval_ms()));
        feed.into_iter().chain(uses).min().unwrap_or(Duration::ZERO)
    })
}

/// Sends the report of last uses from the root context, when one is due.
fn report_uses(root: &Root, now: i64) {
    let Some((body, path)) = with_worker(|w| {
        let uses = w.uses.as_mut()?;
        Some((uses.take(now)?, uses.path().to_owned()))
    }) else {
        return;
    };
    let Some(settings) = settings() else { return };
    match call_service(root, &settings, &path, Some(body.as_bytes())) {
        Ok(token) => with_worker(|w| {
            if let Some(uses) = w.uses.as_mut() {
                uses.sent(token);
            }
        }),
        Err(status) => debug!("a last-use report could not be sent ({status:?})"),
    }
}

/// A last-use report landed: a failure loses last uses, nothing else.
fn uses_landed(ctx: &dyn Context) {
    let status = ctx
        .get_http_call_response_header(":status")
        .and_then(|s| s.parse().ok());
    let accepted = with_worker(|w| w.uses.as_mut().map(|u| u.landed(status)));
    if accepted == Some(false) {
        debug!("a last-use report was not accepted ({status:?})");
    }
}

/// Notes that a token let a request through at `now`, for the next report.
fn note_use(token_id: &str, now: i64) {
    with_worker(|w| {
        if let Some(uses) = w.uses.as_mut() {
            uses.note(token_id, now);
        }
    });
}

/// Whether cached answers may be used now (always, without a feed).
fn trusted(now: i64) -> bool {
    with_worker(|w| w.feed.as_ref().is_none_or(|feed| feed.trusted(now)))
}

/// Whether an answer for `hash` from a callout sent at `since` may be used.
fn acceptable(hash: &TokenHash, since: i64) -> bool {
    with_worker(|w| {
        w.feed
            .as_ref()
            .is_none_or(|feed| feed.acceptable(hash, since))
    })
}

/// Sends the next poll of the revocation feed from the root context, when
/// one is due.
fn poll_feed(root: &Root, now: i64) {
    let due = with_worker(|w| w.feed.as_ref().filter(|f| f.due(now)).map(Feed::path));
    let (Some(path), Some(settings)) = (due, settings()) else {
        return;
    };
    let sent = call_service(root, &settings, &path, None);
    with_worker(|w| {
        let Some(feed) = w.feed.as_mut() else { return };
        match sent {
            Ok(token) => feed.sent(token, now),
            Err(status) => {
                debug!("the revocation feed poll could not be sent ({status:?})");
                feed.not_sent(now);
            }
        }
    });
}

/// A feed poll landed: forget what changed, locally and in shared data.
fn feed_landed(ctx: &dyn Context, body_size: usize) {
    let Some(settings) = settings() else { return };
    let status = ctx
        .get_http_call_response_header(":status")
        .and_then(|s| s.parse().ok());
    let body = ctx
        .get_http_call_response_body(0, body_size)
        .unwrap_or_default();
    let now = now_ms();
    let landed = with_worker(|w| {
        let (result, report) = w.feed.as_mut()?.landed(status, &body, now);
        if let Ok(forget) = &result {
            match forget {
                Forget::All => w.cache.clear(),
                Forget::These(hashes) => hashes.iter().for_each(|hash| w.cache.remove(hash)),
            }
        }
        Some((result, report))
    });
    let Some((result, report)) = landed else {
        return;
    };
    match result {
        Ok(Forget::These(hashes)) => {
            if report {
                info!("the revocation feed answers again");
            }
            for hash in &hashes {
                forget_shared(&settings, hash);
            }
        }
        Ok(Forget::All) => {
            if report {
                info!("the revocation feed answers again");
            }
        }
        Err(Failure(reason)) => {
            if report {
                warn!("{reason}: cached answers are not used until it answers");
            }
        }
    }
}

/// Empties the shared slot of `hash` if it holds an answer for it.
fn forget_shared(settings: &Settings, hash: &TokenHash) {
    let key = slot_key(hash, settings.cache.slots);
    if let Ok((Some(bytes), cas)) = hostcalls::get_shared_data(&key)
        && matches!(Slot::decode(&bytes), Slot::Answered { hash: h, .. } if h == hash.to_hex())
    {
        let _ = hostcalls::set_shared_data(&key, Some(b""), cas);
    }
}

/// One request.
struct Filter {
    id: u32,
    waiting: Option<TokenHash>,
}

impl Filter {
    /// The client's address: Envoy's downstream remote address (see
    /// [`decide::source_ip`]).
    fn client_ip(&self) -> Option<core::net::IpAddr> {
        self.get_property(vec!["source", "address"])
            .and_then(|bytes| decide::source_ip(&bytes))
    }
}

impl Context for Filter {
    fn on_http_call_response(&mut self, token: u32, _: usize, body_size: usize, _: usize) {
        landed(self, token, body_size, self.id);
    }

    fn on_done(&mut self) -> bool {
        let Some(hash) = self.waiting.take() else {
            return true;
        };
        // The request ended; if it was still waiting and owned the callout,
        // Envoy cancels the callout with it. Its pending marker is taken
        // back and the root's tick serves whoever is left.
        let (owned, others) = with_worker(|w| {
            let Some(flight) = w.flights.get_mut(&hash) else {
                return (false, false);
            };
            flight.waiters.retain(|(id, _)| *id != self.id);
            let owned = flight.owner == Some(self.id);
            let others = !flight.waiters.is_empty();
            if owned {
                flight.owner = None;
                w.callouts.retain(|_, (h, _)| *h != hash);
            }
            if !others {
                w.flights.remove(&hash);
            }
            (owned, others)
        });
        if owned {
            if let Some(settings) = settings() {
                release(&settings, &hash);
            }
            if others {
                let _ = hostcalls::set_tick_period(POLL);
            }
        }
        true
    }
}

/// Takes back this hash's pending marker, if its slot still holds it.
fn release(settings: &Settings, hash: &TokenHash) {
    let key = slot_key(hash, settings.cache.slots);
    if let Ok((Some(bytes), cas)) = hostcalls::get_shared_data(&key)
        && matches!(Slot::decode(&bytes), Slot::Pending { hash: h, .. } if h == hash.to_hex())
    {
        let _ = hostcalls::set_shared_data(&key, Some(b""), cas);
    }
}

impl HttpContext for Filter {
    fn on_http_request_headers(&mut self, _: usize, _: bool) -> Action {
        let Some(settings) = settings() else {
            return apply(&decide::unconfigured(), false, 0);
        };
        let method = request_header(":method").unwrap_or_default();
        let path = request_header(":path").unwrap_or_default();
        let authorization = || request_header("authorization");
        let mut lookup = match decide::start(&settings, &method, &path, authorization) {
            Start::Reply(reply) => return apply(&reply, false, 0),
            Start::Lookup(lookup) => lookup,
        };
        let now = now_ms();
        let hash = lookup.hash;
        let cached = if trusted(now) {
            with_worker(|w| w.cache.get(&hash, now))
        } else {
            None
        };
        if let Some(answer) = cached {
            if decide::needs_ip(answer.record()) {
                lookup.ip = self.client_ip();
            }
            return apply(
                &decide::finish(&settings, &lookup, answer.record(), answer.owner(), now),
                false,
                now,
            );
        }
        // The record is yet to come (and this stream may be resumed from
        // another context), so the address is read now.
        lookup.ip = self.client_ip();
        let joined = with_worker(|w| {
            let flight = w.flights.entry(hash).or_default();
            flight.waiters.push((self.id, lookup.clone()));
            flight.owner.is_some() || flight.waiters.len() > 1
        });
        self.waiting = Some(hash);
        if joined {
            return Action::Pause;
        }
        match shared(&settings, &hash, now) {
            Shared::Answered(answer, until) => {
                with_worker(|w| {
                    w.flights.remove(&hash);
                    w.cache.insert(hash, answer.clone(), until, now);
                });
                self.waiting = None;
                apply(
                    &decide::finish(&settings, &lookup, answer.record(), answer.owner(), now),
                    false,
                    now,
                )
            }
            Shared::PendingElsewhere => {
                let _ = hostcalls::set_tick_period(POLL);
                Action::Pause
            }
            Shared::Claimed => {
                call_out(self, &settings, hash, self.id);
                Action::Pause
            }
        }
    }
}

/// What the shared slot of a hash says.
enum Shared {
    /// A fresh answer.
    Answered(Rc<Answer>, i64),
    /// Another worker's callout for this hash is under way.
    PendingElsewhere,
    /// This worker now owns the lookup and must call out.
    Claimed,
}

fn shared(settings: &Settings, hash: &TokenHash, now: i64) -> Shared {
    let key = slot_key(hash, settings.cache.slots);
    let hex = hash.to_hex();
    let trusted = trusted(now);
    for _ in 0..4 {
        let (bytes, cas) = hostcalls::get_shared_data(&key).unwrap_or((None, None));
        match Slot::decode(bytes.as_deref().unwrap_or_default()) {
            Slot::Answered {
                hash: h,
                until,
                since,
                answer,
            } if h == hex && now < until && trusted && acceptable(hash, since) => {
                return Shared::Answered(Rc::new(answer), until);
            }
            Slot::Pending { hash: h, deadline } if h == hex && now < deadline => {
                return Shared::PendingElsewhere;
            }
            _ => {}
        }
        let marker = Slot::Pending {
            hash: hex.clone(),
            // The callout's own timeout, plus a margin for its answer.
            deadline: now + settings.timeout_ms as i64 + 100,
        };
        if hostcalls::set_shared_data(&key, Some(&marker.encode()), cas).is_ok() {
            return Shared::Claimed;
        }
    }
    // The slot is contended; call out rather than wait.
    Shared::Claimed
}

/// Sends a request to the token service with the service credential, from
/// the context `ctx`: `GET path`, or `POST path` with a JSON `body`; the
/// callout's token.
fn call_service(
    ctx: &dyn Context,
    settings: &Settings,
    path: &str,
    body: Option<&[u8]>,
) -> Result<u32, proxy_wasm::types::Status> {
    let mut headers = vec![
        (":method", if body.is_some() { "POST" } else { "GET" }),
        (":path", path),
        (":authority", settings.authority.as_str()),
        ("authorization", settings.service_authorization.as_str()),
    ];
    if body.is_some() {
        headers.push(("content-type", "application/json"));
    }
    let timeout = Duration::from_millis(settings.timeout_ms);
    ctx.dispatch_http_call(&settings.cluster, headers, body, vec![], timeout)
}

/// Sends the one callout for `hash`, from the context `ctx` (a request or
/// the root), and records it.
fn call_out(ctx: &dyn Context, settings: &Settings, hash: TokenHash, owner: u32) {
    let path = format!("{}{}", settings.path, hash.to_hex());
    match call_service(ctx, settings, &path, None) {
        Ok(token) => with_worker(|w| {
            w.callouts.insert(token, (hash, now_ms()));
            w.flights.entry(hash).or_default().owner = Some(owner);
        }),
        Err(status) => {
            let failure = Failure(format!("the callout could not be sent ({status:?})"));
            settle(&hash, Err(failure), 0, owner);
        }
    }
}

/// A callout landed in context `current`: read it, share it, answer every
/// request waiting for it.
fn landed(ctx: &dyn Context, token: u32, body_size: usize, current: u32) {
    let Some((hash, since)) = with_worker(|w| w.callouts.remove(&token)) else {
        return;
    };
    let Some(settings) = settings() else { return };
    let status = ctx
        .get_http_call_response_header(":status")
        .and_then(|s| s.parse().ok());
    let cache_control = ctx.get_http_call_response_header("cache-control");
    let body = ctx
        .get_http_call_response_body(0, body_size)
        .unwrap_or_default();
    let now = now_ms();
    let result = answer::read(
        status,
        cache_control.as_deref(),
        &body,
        now,
        &settings.cache,
    );
    let key = slot_key(&hash, settings.cache.slots);
    let slot = match &result {
        Ok((answer, until)) if *until > now => Slot::Answered {
            hash: hash.to_hex(),
            until: *until,
            since,
            answer: answer.clone(),
        },
        _ => Slot::Empty,
    };
    let _ = hostcalls::set_shared_data(&key, Some(&slot.encode()), None);
    settle(
        &hash,
        result.map(|(a, until)| (Rc::new(a), until)),
        since,
        current,
    );
}

/// Answers every request of this worker waiting for `hash`, then makes
/// `current` the effective context again. The answer is kept in this
/// worker's cache unless a change to the hash was learnt after `since`,
/// when its callout was sent (the waiting requests still get it: they
/// began before the change was known here).
fn settle(hash: &TokenHash, result: Result<(Rc<Answer>, i64), Failure>, since: i64, current: u32) {
    let now = now_ms();
    let Some(settings) = settings() else { return };
    let keep = acceptable(hash, since);
    let waiters = with_worker(|w| {
        if let Ok((answer, until)) = &result
            && keep
        {
            w.cache.insert(*hash, answer.clone(), *until, now);
        }
        w.flights
            .remove(hash)
            .map(|f| f.waiters)
            .unwrap_or_default()
    });
    if let Err(Failure(reason)) = &result {
        warn!("token service unavailable: {reason}");
    }
    for (id, lookup) in waiters {
        let reply = match &result {
            Ok((answer, _)) => {
                decide::finish(&settings, &lookup, answer.record(), answer.owner(), now)
            }
            Err(_) => decide::unavailable(&settings),
        };
        if hostcalls::set_effective_context(id).is_ok() {
            apply(&reply, true, now);
        }
    }
    let _ = hostcalls::set_effective_context(current);
}

/// A request header's value. Its bytes are read as they are: a value that
/// is not UTF-8 (obs-text, which HTTP/1.1 allows) reads as U+FFFD, so such
/// a token is malformed, where proxy-wasm's string getter would panic the
/// VM.
fn request_header(name: &str) -> Option<String> {
    hostcalls::get_map_value_bytes(MapType::HttpRequestHeaders, name)
        .ok()
        .flatten()
        .map(|bytes| String::from_utf8(bytes).unwrap_or_else(|_| "\u{fffd}".into()))
}

/// Carries out a reply in the effective context; `resume` for a request
/// that was paused. `decided_at` is the time (ms since the epoch) a
/// lookup's decision was made at, or 0 for a reply decided before any
/// lookup. A reply that names a token notes its use at that time (Envoy is
/// not asked again); without a time (0, also what a failed clock reads) no
/// use is noted, rather than one dated 1970.
fn apply(reply: &Reply, resume: bool, decided_at: i64) -> Action {
    match reply {
        Reply::Forward { headers, token_id } => {
            for (name, value) in headers {
                let _ =
                    hostcalls::set_map_value(MapType::HttpRequestHeaders, name, value.as_deref());
            }
            if let Some(id) = token_id {
                debug!("allow token={id}");
                if decided_at > 0 {
                    note_use(id, decided_at);
                }
            }
            if resume {
                let _ = hostcalls::resume_http_request();
            }
            Action::Continue
        }
        Reply::Deny(denied) => {
            match &denied.token_id {
                Some(id) => info!("deny {} {} token={id}", denied.status, denied.reason),
                None => info!("deny {} {}", denied.status, denied.reason),
            }
            let body = denied.body();
            let mut headers = vec![("content-type", "application/json")];
            if let Some(www) = &denied.www_authenticate {
                headers.push(("www-authenticate", www.as_str()));
            }
            let _ = hostcalls::send_http_response(
                u32::from(denied.status),
                headers,
                Some(body.as_bytes()),
            );
            Action::Pause
        }
    }
}
