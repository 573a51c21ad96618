//! The HTTP API: token management under `/api/usertokens`, a sample API
//! whose routes map to catalog actions, and administration.

mod admin;
mod audit;
mod body;
mod caller;
mod console;
mod docs;
mod error;
mod ext_authz;
mod github;
mod guard;
mod introspect;
mod openapi;
mod routes;
mod sample;
mod serve;
mod session;
mod signin;
mod tokens;
mod ui;
mod webhooks;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use anyhow::Result;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::MethodRouter;
use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::db::{Db, FoundToken};
use crate::log;
use crate::plugin::{Outcome, Plugin, Principal, Request};
use crate::records::Lookup;

pub use error::ApiError;
pub use ext_authz::Gate;
pub use github::{GithubKeys, KEYS_URL as GITHUB_KEYS_URL};
pub use introspect::Introspection;
pub use openapi::{document as openapi_document, template as openapi_template};
pub use serve::ConnectionOptions;
pub use session::SessionOptions;
pub use signin::{SignIn, SignInOptions};

/// The largest request body accepted; larger ones get 413.
pub const BODY_LIMIT: usize = 16 * 1024;

/// What every handler can reach.
pub struct App {
    /// The token plugin.
    pub plugin: Plugin,
    /// Users, settings (and the plugin's token storage).
    pub db: Arc<Db>,
    /// The host's clock.
    pub clock: Clock,
    /// The sample API's apps, kept in memory.
    pub apps: Mutex<Vec<String>>,
    /// Introspection for gateways, when a service credential is set.
    pub introspection: Option<Introspection>,
    /// The deployment's action catalog as JSON, for `GET /api/catalog`.
    pub catalog: String,
    /// The deployment's token policy as JSON, for `GET /api/policy`.
    pub policy: String,
    /// Taken around each token write (create, update, rotate, delete): each
    /// reads the user's records, lets the core decide and writes, so two at
    /// once in this process could both pass a check only one may (two
    /// rotations of one token, two creations at the limit).
    pub writing: Mutex<()>,
    /// Password checks: throttles, the hashing pool, trusted proxies.
    pub sign_in: SignIn,
    /// How long browser sessions last.
    pub sessions: SessionOptions,
    /// How long a request body may take to arrive.
    pub body_timeout: std::time::Duration,
    /// GitHub's secret scanning keys, when alerts are accepted.
    pub github: Option<GithubKeys>,
    /// Envoy ext_authz checks with the filter's rules, when configured.
    pub gate: Option<Gate>,
    /// The keys with which other systems issue tokens for users.
    pub service_keys: crate::service_keys::ServiceKeys,
    /// Turns on the blocking pool for verifications that must read a
    /// database server, as many as it has pooled connections.
    pub database_turns: tokio::sync::Semaphore,
    /// Which refusals of disabled users' tokens the audit log has noted.
    pub refusals: audit::Refusals,
    /// How webhooks are delivered (the API checks subscriptions' URLs by it).
    pub webhooks: crate::webhooks::Options,
}

impl App {
    /// Runs `work`, which may wait on the database, without holding an
    /// async worker: inline on SQLite (local and quick), on the blocking
    /// pool with PostgreSQL, as many at once as the host has pooled
    /// connections.
    pub async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&App) -> T + Send + 'static,
    ) -> Result<T> {
        if !self.plugin.records().remote() {
            return Ok(work(self));
        }
        let _turn = self.database_turns.acquire().await?;
        let app = self.clone();
        Ok(tokio::task::spawn_blocking(move || work(&app)).await?)
    }

    /// The record stored under `hash`: from the cache of verified records
    /// when it can answer without waiting, else where waiting is allowed
    /// (see [`App::blocking`]).
    pub async fn record_by_hash(self: &Arc<Self>, hash: String) -> Result<Option<FoundToken>> {
        if let Lookup::Found(token) = self.plugin.records().by_hash(&hash, false)? {
            return Ok(token);
        }
        match self
            .blocking(move |app| app.plugin.records().by_hash(&hash, true))
            .await??
        {
            Lookup::Found(token) => Ok(token),
            Lookup::NeedsDatabase => anyhow::bail!("a lookup that may wait did not"),
        }
    }

    /// Verifies an `Authorization` value (see [`Plugin::verify`]) without
    /// holding an async worker on I/O it may wait for: here when the cache
    /// (or SQLite, local and quick) answers, else on the blocking pool (see
    /// [`App::blocking`]).
    pub async fn verify(
        self: &Arc<Self>,
        value: &str,
        request: Option<Request>,
        ip: Option<IpAddr>,
        now: i64,
    ) -> Outcome<Principal> {
        if let Some(outcome) = self.plugin.verify_cached(value, request.as_ref(), ip, now) {
            return outcome;
        }
        let value = value.to_owned();
        self.blocking(move |app| app.plugin.verify(&value, request.as_ref(), ip, now))
            .await?
    }
}

/// The router with every route of the table in [`routes`], each path's
/// methods merged.
pub fn router(app: Arc<App>) -> Router {
    let mut paths: Vec<(&'static str, MethodRouter<Arc<App>>)> = Vec::new();
    for route in routes::all() {
        match paths.iter_mut().find(|(path, _)| *path == route.path) {
            Some((_, methods)) => {
                let merged = std::mem::take(methods).merge(route.handler);
                *methods = merged;
            }
            None => paths.push((route.path, route.handler)),
        }
    }
    let mut router = Router::new();
    for (path, methods) in paths {
        router = router.route(path, methods);
    }
    router
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(guard::api_rules))
        .with_state(app)
}

/// Serves until SIGINT or SIGTERM, then finishes the requests in flight.
/// Prints the bound address on standard output first (tests read it when
/// they bind port 0).
pub async fn serve(app: Arc<App>, listen: SocketAddr, options: ConnectionOptions) -> Result<()> {
    let listener = TcpListener::bind(listen).await?;
    let bound = listener.local_addr()?;
    println!("tessera-host listening on http://{bound}");
    if app.db.user_count()? == 0 {
        println!(
            "no users yet: add one with `tessera-host user add NAME --admin` (it asks for the password)"
        );
    }
    log::info(format_args!("serving on {bound}"));
    serve::serve(listener, router(app), options, shutdown()).await;
    log::info(format_args!("stopped"));
    Ok(())
}

async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => return interrupt.await.unwrap_or(()),
            };
        tokio::select! {
            _ = interrupt => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    interrupt.await.unwrap_or(());
}
