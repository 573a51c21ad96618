//! The token plugin: `tessera-core` compiled to a WebAssembly component,
//! run by wasmtime, with storage callbacks served from the host's token
//! records (see [`crate::records`]).
//!
//! The component is compiled and pre-instantiated once. Calls borrow an
//! instance from a small pool and give it back afterwards; an instance that
//! trapped is dropped, never reused. The plugin keeps nothing between calls
//! that matters for correctness (records it decoded are reused only for
//! byte-identical stored JSON), so any instance can serve any call.
//!
//! Over cached records, a successful verification is remembered and
//! answered again without a call while it holds: for the same input,
//! request and address, until the records' epoch moves or the time the
//! plugin returned with it (see [`crate::verdicts`]).

use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Context, Result};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, Store, StoreLimits, StoreLimitsBuilder};

use crate::db::{Db, Origin, StoredToken, TokenWrite};
use crate::records::{Lookup, Records};
use crate::verdicts::{Key, Verdicts};

/// The component, built by `build.rs` from `wasm/component`.
const COMPONENT: &[u8] = include_bytes!(env!("TESSERA_COMPONENT_WASM"));

/// The most memory one plugin instance may use.
const MEMORY_LIMIT: usize = 64 << 20;

/// Instances kept warm for reuse.
const POOL_SIZE: usize = 16;

/// Host bindings generated from `wit/tessera.wit`.
#[allow(missing_docs)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "plugin",
    });
}

use bindings::exports::tessera::tokens::service;
pub use bindings::tessera::tokens::types::{Enablement, Standing};
pub use service::{
    Actor, AdministratorActor, Edit, Expiry, IssueRequest, Issued, Issuer, IssuerActor, Principal,
    Request, Status, TokenActor, TokenError, Updated, UserActor,
};

/// What the plugin's storage callbacks can reach.
pub struct HostState {
    records: Arc<Records>,
    config: Arc<str>,
    limits: StoreLimits,
    /// Whether callbacks may wait on the database during this call.
    io: bool,
    /// Set when a callback needed the database while `io` was false.
    missed: bool,
    /// Who makes the writes of the call under way, for the audit log; a
    /// write without one is refused.
    origin: Option<Origin>,
}

/// What a callback answers when it may not wait on the database: the
/// plugin fails closed with it, and the host, seeing `missed`, calls again
/// where waiting is allowed.
const NEEDS_DATABASE: &str = "the record is not cached";

impl bindings::tessera::tokens::types::Host for HostState {}

type Stored = bindings::tessera::tokens::types::Stored;
type Found = bindings::tessera::tokens::types::Found;
type Write = bindings::tessera::tokens::types::Write;

fn to_wit(token: StoredToken) -> Stored {
    Stored {
        id: token.id,
        user_id: token.user_id,
        hash: token.hash,
        json: token.json,
    }
}

/// Storage failures reach the plugin as messages; it fails closed with
/// `STORE_FAILED`. The full error goes to the host's log.
fn message(error: anyhow::Error) -> String {
    crate::log::warn(format_args!("storage callback failed: {error:#}"));
    "the token store is unavailable".into()
}

impl bindings::tessera::tokens::store::Host for HostState {
    fn config(&mut self) -> String {
        self.config.to_string()
    }

    fn get_by_hash(&mut self, hash: String) -> Result<Option<Found>, String> {
        match self.records.by_hash(&hash, self.io).map_err(message)? {
            Lookup::Found(found) => Ok(found.map(|found| Found {
                stored: to_wit(found.token),
                owner: standing(found.owner),
            })),
            Lookup::NeedsDatabase => {
                self.missed = true;
                Err(NEEDS_DATABASE.into())
            }
        }
    }

    fn apply(&mut self, writes: Vec<Write>) -> Result<(), String> {
        let writes: Vec<TokenWrite> = writes
            .into_iter()
            .map(|write| match write {
                Write::Put(entry) => TokenWrite::Put(StoredToken {
                    id: entry.id,
                    user_id: entry.user_id,
                    hash: entry.hash,
                    json: entry.json,
                }),
                Write::Delete(id) => TokenWrite::Delete(id),
            })
            .collect();
        let Some(origin) = &self.origin else {
            return Err(message(anyhow::anyhow!(
                "a write came from a call that names no origin"
            )));
        };
        self.records.apply(&writes, origin).map_err(message)
    }

    fn list_by_user(&mut self, user_id: String) -> Result<Vec<Stored>, String> {
        self.records
            .of_user(&user_id)
            .map(|list| list.into_iter().map(to_wit).collect())
            .map_err(message)
    }

    fn touch(&mut self, id: String, at: i64) -> Result<(), String> {
        // The plugin ignores a failed last-used write (a valid token is
        // never refused for it); `message` logs it here.
        self.records.touch(&id, at).map_err(message)
    }
}

/// The engine and the compiled component, shared by every [`Plugin`] of
/// the process: compiling takes far longer than instantiating.
fn compiled() -> Result<&'static (Engine, Component)> {
    static COMPILED: OnceLock<(Engine, Component)> = OnceLock::new();
    if let Some(compiled) = COMPILED.get() {
        return Ok(compiled);
    }
    let mut config = Config::new();
    config.wasm_component_model(true);
    let engine = Engine::new(&config)?;
    let component = Component::new(&engine, COMPONENT)
        .map_err(anyhow::Error::from)
        .context("cannot compile the token plugin")?;
    Ok(COMPILED.get_or_init(|| (engine, component)))
}

/// One warm instance and the store it lives in.
struct Slot {
    store: Store<HostState>,
    service: bindings::Plugin,
}

/// The plugin, ready to serve calls from any thread.
pub struct Plugin {
    pre: bindings::PluginPre<HostState>,
    records: Arc<Records>,
    config: Arc<str>,
    pool: Mutex<Vec<Slot>>,
    /// Successful verifications, reused while they hold; only over cached
    /// records, whose epoch tells when a record or standing changed.
    verdicts: Option<Verdicts>,
}

/// What the memo of verifications says before a call.
enum Recalled {
    /// No memo, or the records cannot vouch for one now.
    Off,
    /// The plugin's answer to this very call, still holding.
    Hit(Principal),
    /// Nothing remembered: the answer may be kept under this key and epoch.
    Miss(Key, u64),
}

/// A call's outcome: a trap or host failure (outer), or the service's own
/// answer (inner), which may be an error with a stable code.
pub type Outcome<T> = Result<Result<T, TokenError>>;

impl Plugin {
    /// Compiles the component and checks that it links against the host.
    /// `config` is the deployment configuration JSON the plugin reads. The
    /// plugin reads and writes `db` directly, without a cache.
    pub fn new(db: Arc<Db>, config: String) -> Result<Self> {
        Self::with_records(Arc::new(Records::direct(db)), config)
    }

    /// As [`Plugin::new`], over `records` (a server's, with their cache).
    pub fn with_records(records: Arc<Records>, config: String) -> Result<Self> {
        let (engine, component) = compiled()?;
        let mut linker = Linker::<HostState>::new(engine);
        bindings::Plugin::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
        // Rust's standard library links WASI imports the plugin never calls
        // (it does no I/O); any call to them traps.
        linker.define_unknown_imports_as_traps(component)?;
        let pre = bindings::PluginPre::new(linker.instantiate_pre(component)?)?;
        let capacity = records.cache_capacity();
        let plugin = Self {
            pre,
            records,
            config: config.into(),
            pool: Mutex::new(Vec::new()),
            // Without randomness for the keys' salt, nothing is remembered.
            verdicts: crate::clock::entropy()
                .ok()
                .filter(|_| capacity > 0)
                .map(|salt| Verdicts::new(capacity, salt)),
        };
        // A broken plugin or configuration stops the host before it serves.
        if let Err(error) = plugin.call(|s, store| s.call_check(store))? {
            anyhow::bail!(
                "the deployment configuration is invalid: {} ({})",
                error.message,
                error.code
            );
        }
        Ok(plugin)
    }

    fn instantiate(&self) -> Result<Slot> {
        let state = HostState {
            records: self.records.clone(),
            config: self.config.clone(),
            limits: StoreLimitsBuilder::new().memory_size(MEMORY_LIMIT).build(),
            io: true,
            missed: false,
            origin: None,
        };
        let mut store = Store::new(self.pre.engine(), state);
        store.limiter(|state| &mut state.limits);
        let service = self.pre.instantiate(&mut store)?;
        Ok(Slot { store, service })
    }

    fn give_back(&self, slot: Slot) {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < POOL_SIZE {
            pool.push(slot);
        }
    }

    /// Runs `call` on a pooled instance. An instance that trapped is dropped.
    fn call<T>(
        &self,
        call: impl FnOnce(
            &service::Guest,
            &mut Store<HostState>,
        ) -> wasmtime::Result<Result<T, TokenError>>,
    ) -> Outcome<T> {
        let slot = self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut slot = match slot {
            Some(slot) => slot,
            None => self.instantiate()?,
        };
        let outcome = call(slot.service.tessera_tokens_service(), &mut slot.store);
        if outcome.is_ok() {
            self.give_back(slot);
        }
        outcome.map_err(|trap| anyhow::Error::from(trap).context("the token plugin trapped"))
    }

    /// Runs `call` as [`Plugin::call`] does, with `origin` named for the
    /// audit log's events of its writes.
    fn call_as<T>(
        &self,
        origin: &Origin,
        call: impl FnOnce(
            &service::Guest,
            &mut Store<HostState>,
        ) -> wasmtime::Result<Result<T, TokenError>>,
    ) -> Outcome<T> {
        self.call(|s, store| {
            store.data_mut().origin = Some(origin.clone());
            let outcome = call(s, &mut *store);
            store.data_mut().origin = None;
            outcome
        })
    }

    /// Issues a token for the actor's user.
    pub fn issue(
        &self,
        origin: &Origin,
        actor: &Actor,
        request: &IssueRequest,
        now: i64,
        entropy: &[u8; 32],
    ) -> Outcome<Issued> {
        self.call_as(origin, |s, store| {
            s.call_issue(store, actor, request, now, entropy)
        })
    }

    /// The token records the plugin reads and writes.
    pub fn records(&self) -> &Arc<Records> {
        &self.records
    }

    /// Verifies an `Authorization` value from the client address `ip`
    /// (`None` when unknown: only a token without allowed IP ranges
    /// passes); without a request, authenticates.
    pub fn verify(
        &self,
        input: &str,
        request: Option<&Request>,
        ip: Option<IpAddr>,
        now: i64,
    ) -> Outcome<Principal> {
        let recalled = self.recall(input, request, ip, now);
        if let Recalled::Hit(principal) = recalled {
            return Ok(Ok(principal));
        }
        let ip = ip.map(|ip| ip.to_string());
        let outcome =
            self.call(|s, store| s.call_verify(store, input, request, ip.as_deref(), now));
        self.remember(recalled, now, &outcome);
        outcome
    }

    /// As [`Plugin::verify`], but without waiting on a database server:
    /// `None` when the answer needs one (the record is not cached). A
    /// verification writes nothing but a noted last use, so calling again
    /// with [`Plugin::verify`] is safe.
    pub fn verify_cached(
        &self,
        input: &str,
        request: Option<&Request>,
        ip: Option<IpAddr>,
        now: i64,
    ) -> Option<Outcome<Principal>> {
        let recalled = self.recall(input, request, ip, now);
        if let Recalled::Hit(principal) = recalled {
            return Some(Ok(Ok(principal)));
        }
        let mut missed = false;
        let ip = ip.map(|ip| ip.to_string());
        let outcome = self.call(|s, store| {
            store.data_mut().io = false;
            let outcome = s.call_verify(&mut *store, input, request, ip.as_deref(), now);
            let state = store.data_mut();
            missed = std::mem::replace(&mut state.missed, false);
            state.io = true;
            outcome
        });
        if missed {
            return None;
        }
        self.remember(recalled, now, &outcome);
        Some(outcome)
    }

    /// What the memo holds for this verification, after the records have
    /// caught up with changes made elsewhere.
    fn recall(
        &self,
        input: &str,
        request: Option<&Request>,
        ip: Option<IpAddr>,
        now: i64,
    ) -> Recalled {
        let Some(verdicts) = &self.verdicts else {
            return Recalled::Off;
        };
        // A failed freshness check skips the memo; the call then fails
        // the same way, closed.
        let Ok(Some(epoch)) = self.records.fresh_epoch() else {
            return Recalled::Off;
        };
        let Some(key) = verdicts.key(input, request, ip) else {
            return Recalled::Off;
        };
        match verdicts.get(&key, epoch, now) {
            Some(principal) => Recalled::Hit(principal),
            None => Recalled::Miss(key, epoch),
        }
    }

    /// Keeps a successful answer under the epoch read before the call.
    fn remember(&self, recalled: Recalled, now: i64, outcome: &Outcome<Principal>) {
        if let (Recalled::Miss(key, epoch), Some(verdicts), Ok(Ok(principal))) =
            (recalled, &self.verdicts, outcome)
        {
            verdicts.insert(key, epoch, now, principal.clone());
        }
    }

    /// How many verifications the memo holds (0 without one).
    pub fn remembered(&self) -> usize {
        self.verdicts.as_ref().map_or(0, Verdicts::len)
    }

    /// How many verifications the memo answered without a call so far.
    pub fn recalled(&self) -> u64 {
        self.verdicts.as_ref().map_or(0, Verdicts::hits)
    }

    /// The actor's user's tokens as JSON records without hashes.
    pub fn list(&self, actor: &Actor, now: i64) -> Outcome<Vec<String>> {
        self.call(|s, store| s.call_list(store, actor, now))
    }

    /// One of the actor's user's tokens.
    pub fn get(&self, actor: &Actor, id: &str, now: i64) -> Outcome<String> {
        self.call(|s, store| s.call_get(store, actor, id, now))
    }

    /// Edits name, description or status; a deactivation cascades on
    /// request.
    pub fn update(
        &self,
        origin: &Origin,
        actor: &Actor,
        id: &str,
        edit: &Edit,
        cascade: bool,
        now: i64,
    ) -> Outcome<Updated> {
        self.call_as(origin, |s, store| {
            s.call_update(store, actor, id, edit, cascade, now)
        })
    }

    /// Rotates a token.
    pub fn rotate(
        &self,
        origin: &Origin,
        actor: &Actor,
        id: &str,
        grace_ms: i64,
        now: i64,
        entropy: &[u8; 32],
    ) -> Outcome<Issued> {
        self.call_as(origin, |s, store| {
            s.call_rotate(store, actor, id, grace_ms, now, entropy)
        })
    }

    /// Deletes a token (and, with `cascade`, every token it created); the
    /// deleted ids.
    pub fn delete(
        &self,
        origin: &Origin,
        actor: &Actor,
        id: &str,
        cascade: bool,
        now: i64,
    ) -> Outcome<Vec<String>> {
        self.call_as(origin, |s, store| {
            s.call_delete(store, actor, id, cascade, now)
        })
    }

    /// Deactivates every active token of the actor's user; their ids.
    pub fn deactivate_all(&self, origin: &Origin, actor: &Actor, now: i64) -> Outcome<Vec<String>> {
        self.call_as(origin, |s, store| s.call_deactivate_all(store, actor, now))
    }

    /// The actor's user's tokens expiring within `window_ms`.
    pub fn expiring_within(&self, actor: &Actor, window_ms: i64, now: i64) -> Outcome<Vec<String>> {
        self.call(|s, store| s.call_expiring_within(store, actor, window_ms, now))
    }
}

impl From<tessera_core::Expiry> for Expiry {
    fn from(expiry: tessera_core::Expiry) -> Self {
        match expiry {
            tessera_core::Expiry::Days(days) => Self::Days(days),
            tessera_core::Expiry::At(at) => Self::At(at),
            tessera_core::Expiry::Never => Self::Never,
        }
    }
}

/// A user's standing as the plugin takes it.
fn standing(standing: tessera_core::Standing) -> Standing {
    Standing {
        admin: standing.admin,
        tokens: match standing.tokens {
            tessera_core::Enablement::Inherit => Enablement::Inherit,
            tessera_core::Enablement::On => Enablement::On,
            tessera_core::Enablement::Off => Enablement::Off,
        },
        members_enabled: standing.members_enabled,
    }
}

impl Actor {
    /// A user the host authenticated by password or session, with their
    /// standing as the host looked it up.
    pub fn user(user_id: &str, owner: tessera_core::Standing) -> Self {
        Self::User(UserActor {
            user_id: user_id.into(),
            standing: standing(owner),
        })
    }

    /// An administrator (`admin_id`, with their standing as the host
    /// looked it up) acting on `user_id`'s tokens.
    pub fn administrator(admin_id: &str, admin: tessera_core::Standing, user_id: &str) -> Self {
        Self::Administrator(AdministratorActor {
            admin_id: admin_id.into(),
            standing: standing(admin),
            user_id: user_id.into(),
        })
    }

    /// An administrator (`admin_id`, with their standing as the host
    /// looked it up) issuing a token for `user_id`, whose standing the host
    /// looked up too (`None`: no such user); `allowed` is the deployment's
    /// setting.
    pub fn administrator_issuing(
        admin_id: &str,
        admin: tessera_core::Standing,
        user_id: &str,
        owner: Option<tessera_core::Standing>,
        allowed: bool,
    ) -> Self {
        let issuer = Issuer::Administrator(UserActor {
            user_id: admin_id.into(),
            standing: standing(admin),
        });
        Self::issuing(issuer, user_id, owner, allowed)
    }

    /// A service key (its name) issuing a token for `user_id`, as
    /// [`Actor::administrator_issuing`].
    pub fn service_key_issuing(
        key_id: &str,
        user_id: &str,
        owner: Option<tessera_core::Standing>,
        allowed: bool,
    ) -> Self {
        Self::issuing(Issuer::ServiceKey(key_id.into()), user_id, owner, allowed)
    }

    fn issuing(
        issuer: Issuer,
        user_id: &str,
        owner: Option<tessera_core::Standing>,
        allowed: bool,
    ) -> Self {
        Self::Issuer(IssuerActor {
            issuer,
            user_id: user_id.into(),
            owner: owner.map(standing),
            allowed,
        })
    }

    /// A token (its `Authorization` value or bare token) acting for its
    /// user from the client address `ip` (`None` when unknown); the plugin
    /// reads the user's standing with the token's record.
    pub fn token(credential: &str, ip: Option<IpAddr>) -> Self {
        Self::Token(TokenActor {
            credential: credential.into(),
            ip: ip.map(|ip| ip.to_string()),
        })
    }
}
