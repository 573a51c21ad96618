//! Signing in with a password, defended: failed attempts are counted per
//! user name and per client address and refused past a threshold before any
//! hashing; argon2 runs on a bounded pool that answers "busy" instead of
//! queueing memory; every failure is logged with who and from where.

use std::net::IpAddr;
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use tokio::sync::oneshot;

use super::{ApiError, App};
use crate::db::User;
use crate::proxies::{IpRange, TrustedProxies, throttle_key};
use crate::throttle::Throttle;
use crate::{auth, log};

/// How many user names and client addresses the throttles remember each.
const REMEMBERED_KEYS: usize = 50_000;

/// The longest user name shown in the log; longer ones are cut.
const LOGGED_NAME_CHARS: usize = 64;

/// The sign-in limits `tessera-host serve` takes.
#[derive(clap::Args, Clone, Debug)]
pub struct SignInOptions {
    /// Failed sign-ins allowed per user name, and per client address, in
    /// the window; further attempts get 429 until the window slides.
    #[arg(long, default_value_t = 10)]
    pub sign_in_attempts: usize,
    /// The sliding window for failed sign-ins, in seconds.
    #[arg(long, default_value_t = 600)]
    pub sign_in_window_seconds: u64,
    /// Password hashes computed at once (default: the number of cores).
    /// Each argon2 hash holds 19 MiB while it runs.
    #[arg(long)]
    pub hash_workers: Option<usize>,
    /// Sign-ins that may wait for a hashing worker; beyond them the server
    /// answers 503 at once (default: twice the workers).
    #[arg(long)]
    pub hash_queue: Option<usize>,
    /// A proxy (address or CIDR range) whose `X-Forwarded-For` and
    /// `X-Forwarded-Proto` are believed; repeat for several. Without one,
    /// the client is always the connection's peer.
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    pub trusted_proxies: Vec<IpRange>,
}

/// Work for a hashing thread.
type Job = Box<dyn FnOnce() + Send>;

/// Password hashing on a fixed set of threads with a bounded queue.
///
/// The threads are the pool's own, not Tokio's blocking pool: an argon2
/// hash allocates 19 MiB, and the allocator keeps a freed block in the
/// arena of the thread that used it, so hashes spread over a growing set of
/// threads would each leave one behind. A fixed set bounds that to one per
/// worker.
pub struct HashPool {
    jobs: SyncSender<Job>,
}

impl HashPool {
    /// A pool of `workers` threads with `queue` places to wait.
    pub fn new(workers: usize, queue: usize) -> std::io::Result<Self> {
        let (jobs, waiting) = sync_channel::<Job>(queue);
        let waiting = Arc::new(Mutex::new(waiting));
        for index in 0..workers.max(1) {
            let waiting = waiting.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{index}"))
                .spawn(move || {
                    loop {
                        // One worker at a time waits on the queue; a
                        // poisoned lock only means a job panicked.
                        let next = waiting.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match next {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })?;
        }
        Ok(Self { jobs })
    }

    /// Runs `work` on a hashing thread, or answers 503 `OVERLOADED` at once
    /// when every thread is busy and every queue place taken.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        self.jobs.try_send(job).map_err(|error| match error {
            TrySendError::Full(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                tessera_core::code::OVERLOADED,
                "the server is busy checking passwords; try again shortly",
            )
            .retry_after(1),
            TrySendError::Disconnected(_) => {
                ApiError::internal(&anyhow::anyhow!("the password hashing threads are gone"))
            }
        })?;
        result.await.map_err(|e| ApiError::internal(&e.into()))
    }
}

/// The sign-in defences of one server.
pub struct SignIn {
    by_name: Throttle,
    by_address: Throttle,
    /// The pool every password hash runs on (sign-ins and changes).
    pub pool: HashPool,
    /// Whose `X-Forwarded-*` headers are believed.
    pub proxies: TrustedProxies,
}

impl SignIn {
    /// The defences `options` describe; fails when the hashing threads
    /// cannot start.
    pub fn new(options: &SignInOptions) -> std::io::Result<Self> {
        let window_ms =
            i64::try_from(options.sign_in_window_seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
        let workers = options.hash_workers.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
        });
        let queue = options.hash_queue.unwrap_or(2 * workers);
        Ok(Self {
            by_name: Throttle::new(options.sign_in_attempts, window_ms, REMEMBERED_KEYS),
            by_address: Throttle::new(options.sign_in_attempts, window_ms, REMEMBERED_KEYS),
            pool: HashPool::new(workers, queue)?,
            proxies: TrustedProxies::new(options.trusted_proxies.clone()),
        })
    }

    /// Checks `name` and `password` for a client at `client`: the user, or
    /// 429 when the name or the address has failed too often (before any
    /// hashing, and the same whether or not the user exists), 503 when the
    /// hashing pool is full, else the one 401.
    pub async fn check(
        &self,
        app: &App,
        name: &str,
        password: String,
        client: IpAddr,
    ) -> Result<User, ApiError> {
        let now = app.clock.now();
        let address = throttle_key(client);
        let wait = self
            .by_name
            .wait_ms(name, now)
            .max(self.by_address.wait_ms(address, now));
        let shown = Shown(name);
        if let Some(wait) = wait {
            log::warn(format_args!(
                "sign-in refused: user={shown} client={client} reason=too many failed attempts"
            ));
            let seconds = u64::try_from(wait.saturating_add(999) / 1000)
                .unwrap_or(1)
                .max(1);
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                tessera_core::code::TOO_MANY_ATTEMPTS,
                format!("too many failed sign-ins; try again in {seconds} s"),
            )
            .retry_after(seconds));
        }
        let user = app.db.user(name)?;
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let matches = self
            .pool
            .run(move || auth::verify_password(&password, hash.as_deref()))
            .await?;
        match user {
            Some(user) if matches => Ok(user),
            user => {
                self.by_name.fail(name, now);
                self.by_address.fail(address, now);
                let reason = if user.is_some() {
                    "wrong password"
                } else {
                    "no such user"
                };
                log::warn(format_args!(
                    "sign-in failed: user={shown} client={client} reason={reason}"
                ));
                Err(ApiError::unauthenticated_quietly())
            }
        }
    }
}

/// A user name as the log shows it: quoted, escaped, cut to a few dozen
/// characters, so that no name can forge a log line or flood the log.
struct Shown<'a>(&'a str);

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cut: String = self.0.chars().take(LOGGED_NAME_CHARS).collect();
        write!(f, "{cut:?}")?;
        if cut.len() < self.0.len() {
            f.write_str("…")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_the_log_are_escaped_and_cut() {
        assert_eq!(Shown("ann").to_string(), "\"ann\"");
        assert_eq!(
            Shown("x\n2026-01-01 INFO forged").to_string(),
            "\"x\\n2026-01-01 INFO forged\""
        );
        let long = "a".repeat(1000);
        assert_eq!(Shown(&long).to_string().len(), 64 + 2 + "…".len());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_full_pool_answers_busy_at_once() {
        let pool = Arc::new(HashPool::new(1, 1).unwrap());
        let (started, running) = std::sync::mpsc::channel::<()>();
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let blocker = tokio::spawn({
            let pool = pool.clone();
            async move {
                pool.run(move || {
                    started.send(()).unwrap();
                    wait.recv().unwrap();
                    1
                })
                .await
            }
        });
        // Let the task submit its job, and the one worker take it.
        tokio::task::yield_now().await;
        running.recv().unwrap();
        let queued = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(|| 2).await }
        });
        tokio::task::yield_now().await;
        // One running, one waiting: the third is refused without waiting.
        let refused = pool.run(|| 3).await.unwrap_err();
        assert_eq!(refused.code(), tessera_core::code::OVERLOADED);
        release.send(()).unwrap();
        assert_eq!(blocker.await.unwrap().unwrap(), 1);
        assert_eq!(queued.await.unwrap().unwrap(), 2);
        assert_eq!(pool.run(|| 4).await.unwrap(), 4);
    }
}
