//! The token plugin: `tessera-core` compiled to a WebAssembly component,
//! run by wasmtime, with storage callbacks served from SQLite.
//!
//! The component is compiled and pre-instantiated once. Calls borrow an
//! instance from a small pool and give it back afterwards; an instance that
//! trapped is dropped, never reused. The plugin keeps nothing between calls
//! that matters for correctness, so any instance can serve any call.

use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Context, Result};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, Store, StoreLimits, StoreLimitsBuilder};

use crate::db::{Db, StoredToken};

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
pub use service::{Edit, Expiry, IssueRequest, Issued, Principal, Request, TokenError};

/// What the plugin's storage callbacks can reach.
pub struct HostState {
    db: Arc<Db>,
    config: Arc<str>,
    limits: StoreLimits,
}

impl bindings::tessera::tokens::types::Host for HostState {}

type Stored = bindings::tessera::tokens::types::Stored;

fn to_wit(token: StoredToken) -> Stored {
    Stored {
        id: token.id,
        user_id: token.user_id,
        hash: token.hash,
        expires_at: token.expires_at,
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

    fn get_by_hash(&mut self, hash: String) -> Result<Option<Stored>, String> {
        self.db
            .token_by_hash(&hash)
            .map(|t| t.map(to_wit))
            .map_err(message)
    }

    fn get_by_id(&mut self, id: String) -> Result<Option<Stored>, String> {
        self.db
            .token_by_id(&id)
            .map(|t| t.map(to_wit))
            .map_err(message)
    }

    fn put(&mut self, entry: Stored) -> Result<(), String> {
        self.db
            .put_token(&StoredToken {
                id: entry.id,
                user_id: entry.user_id,
                hash: entry.hash,
                expires_at: entry.expires_at,
                json: entry.json,
            })
            .map_err(message)
    }

    fn delete(&mut self, id: String) -> Result<bool, String> {
        self.db.delete_token(&id).map_err(message)
    }

    fn list_by_user(&mut self, user_id: String) -> Result<Vec<Stored>, String> {
        self.db
            .tokens_of(&user_id)
            .map(|list| list.into_iter().map(to_wit).collect())
            .map_err(message)
    }

    fn count_by_user(&mut self, user_id: String) -> Result<u32, String> {
        self.db.count_tokens(&user_id).map_err(message)
    }

    fn touch(&mut self, id: String, at: i64) -> Result<(), String> {
        self.db.touch_token(&id, at).map_err(message)
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
    db: Arc<Db>,
    config: Arc<str>,
    pool: Mutex<Vec<Slot>>,
}

/// A call's outcome: a trap or host failure (outer), or the service's own
/// answer (inner), which may be an error with a stable code.
pub type Outcome<T> = Result<Result<T, TokenError>>;

impl Plugin {
    /// Compiles the component and checks that it links against the host.
    /// `config` is the deployment configuration JSON the plugin reads.
    pub fn new(db: Arc<Db>, config: String) -> Result<Self> {
        let (engine, component) = compiled()?;
        let mut linker = Linker::<HostState>::new(engine);
        bindings::Plugin::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
        // Rust's standard library links WASI imports the plugin never calls
        // (it does no I/O); any call to them traps.
        linker.define_unknown_imports_as_traps(component)?;
        let pre = bindings::PluginPre::new(linker.instantiate_pre(component)?)?;
        let plugin = Self {
            pre,
            db,
            config: config.into(),
            pool: Mutex::new(Vec::new()),
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
            db: self.db.clone(),
            config: self.config.clone(),
            limits: StoreLimitsBuilder::new().memory_size(MEMORY_LIMIT).build(),
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

    /// Issues a token.
    pub fn issue(&self, request: &IssueRequest, now: i64, entropy: &[u8; 32]) -> Outcome<Issued> {
        self.call(|s, store| s.call_issue(store, request, now, entropy))
    }

    /// Verifies an `Authorization` value; without a request, authenticates.
    pub fn verify(&self, input: &str, request: Option<&Request>, now: i64) -> Outcome<Principal> {
        self.call(|s, store| s.call_verify(store, input, request, now))
    }

    /// The user's tokens as JSON records without hashes.
    pub fn list(&self, user_id: &str) -> Outcome<Vec<String>> {
        self.call(|s, store| s.call_list(store, user_id))
    }

    /// One of the user's tokens.
    pub fn get(&self, user_id: &str, id: &str) -> Outcome<String> {
        self.call(|s, store| s.call_get(store, user_id, id))
    }

    /// Edits name, description or status.
    pub fn update(&self, user_id: &str, id: &str, edit: &Edit) -> Outcome<String> {
        self.call(|s, store| s.call_update(store, user_id, id, edit))
    }

    /// Rotates a token.
    pub fn rotate(
        &self,
        user_id: &str,
        id: &str,
        grace_ms: i64,
        now: i64,
        entropy: &[u8; 32],
    ) -> Outcome<Issued> {
        self.call(|s, store| s.call_rotate(store, user_id, id, grace_ms, now, entropy))
    }

    /// Deletes a token.
    pub fn delete(&self, user_id: &str, id: &str) -> Outcome<()> {
        self.call(|s, store| s.call_delete(store, user_id, id))
    }

    /// The user's tokens expiring within `window_ms`.
    pub fn expiring_within(&self, user_id: &str, window_ms: i64, now: i64) -> Outcome<Vec<String>> {
        self.call(|s, store| s.call_expiring_within(store, user_id, window_ms, now))
    }
}
