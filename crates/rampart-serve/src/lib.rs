//! `rampart serve`: the dashboard and JSON API over the history store.
//!
//! Data flow: a request passes the security-header layer, then the route's guard (who is
//! asking — a session cookie for pages, a bearer token for the API — whether their role may
//! use this route, and for a state-changing page request whether its CSRF token and origin
//! hold), then the handler, which reads or writes the store on a blocking thread. Every route
//! is declared once in [`routes::ROUTES`] with its method, path and role: the router, the
//! guard, the OpenAPI document and the role tests all walk that table.
//!
//! The store is synchronous (rusqlite / postgres): a few connections, each behind a mutex,
//! used from `spawn_blocking`, so a slow query never stalls the async workers nor the other
//! requests (SQLite in WAL mode reads concurrently; PostgreSQL serves each connection in its
//! own process). Aggregates that are expensive to compute (the weekly report, the overview)
//! are cached until the store records or prunes a run, and at most a minute ([`cache`]).

mod api;
pub mod auth;
mod cache;
mod html;
mod pages;
pub mod routes;
#[cfg(test)]
mod tests;
pub mod tls;

use rampart_store::Store;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub use auth::Role;

/// What the binary can do that this crate cannot (it has no AWS SDK): the Drift page's apply
/// button. Absent, the dashboard shows the CLI command instead.
pub trait Jobs: Send + Sync {
    /// Applies the pending changes of plan run `run_id` (the plan the admin saw);
    /// `confirm_destructive`: the admin typed the confirmation its destructive changes need.
    /// Blocking; returns a one-line outcome.
    fn apply(&self, run_id: i64, confirm_destructive: bool) -> Result<String, JobError>;
}

/// Why an apply did not complete: refused before changing anything (the plan is stale, a
/// confirmation is missing) or failed while applying (AWS errors; the audit log says which).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    Refused(String),
    Failed(String),
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobError::Refused(m) => write!(f, "refused: {m}"),
            JobError::Failed(m) => write!(f, "failed: {m}"),
        }
    }
}

/// How the server listens and who it trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    pub addr: SocketAddr,
    /// TLS certificate and key files (PEM).
    pub tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
    /// A reverse proxy terminates TLS and forwards the client's address in X-Forwarded-For.
    pub behind_proxy: bool,
}

impl Listen {
    /// Refuses what would expose logins in clear: a non-loopback address needs TLS
    /// (`--tls-cert`/`--tls-key`) or an explicit `--behind-proxy`.
    pub fn check(&self) -> Result<(), String> {
        if self.tls.is_some() && self.behind_proxy {
            return Err("--tls-cert and --behind-proxy exclude each other: either rampart serve terminates TLS itself, or the proxy in front does".into());
        }
        if self.tls.is_some() {
            return Ok(());
        }
        if !self.addr.ip().is_loopback() && !self.behind_proxy {
            return Err(format!(
                "refusing to listen on {} without TLS: logins would cross the network in clear; listen on 127.0.0.1, or put a TLS-terminating proxy in front and pass --behind-proxy",
                self.addr
            ));
        }
        Ok(())
    }

    /// Session cookies get `Secure` when the browser reaches us over HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.tls.is_some() || self.behind_proxy
    }
}

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub(crate) pool: Arc<Pool>,
    pub(crate) cache: Arc<cache::Caches>,
    pub(crate) secure_cookies: bool,
    pub(crate) behind_proxy: bool,
    pub(crate) session_ttl: chrono::Duration,
    pub(crate) throttle: Arc<Mutex<auth::Throttle>>,
    pub(crate) jobs: Option<Arc<dyn Jobs>>,
    /// Set while an apply runs: a second one is refused rather than racing the first.
    pub(crate) applying: Arc<std::sync::atomic::AtomicBool>,
}

impl AppState {
    pub fn new(store: Store, listen: &Listen) -> AppState {
        let pool = Arc::new(Pool::open(store));
        AppState {
            pool,
            cache: Arc::default(),
            secure_cookies: listen.secure_cookies(),
            behind_proxy: listen.behind_proxy,
            session_ttl: chrono::Duration::hours(8),
            throttle: Arc::new(Mutex::new(auth::Throttle::default())),
            jobs: None,
            applying: Arc::default(),
        }
    }

    /// Lets the Drift page apply changes through the binary's AWS code.
    pub fn with_jobs(mut self, jobs: Arc<dyn Jobs>) -> AppState {
        self.jobs = Some(jobs);
        self
    }

    /// Runs `f` on a free connection of the store, on a blocking thread.
    pub(crate) async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, rampart_store::StoreError> + Send + 'static,
    ) -> Result<T, String> {
        let pool = self.pool.clone();
        // Wait here, not on a blocking thread: each waiting thread would grow the allocator's
        // per-thread arenas (under load, hundreds of MB), and none runs sooner for it.
        let slot = pool
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| "the store connections are closed".to_string())?;
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let mut guard = pool.acquire()?;
            f(&mut guard).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| format!("store task failed: {e}"))?
    }
}

/// How many connections the server holds to a store on disk or on a server.
const CONNECTIONS: usize = 4;

/// Each connection's own SQLite page cache: the pool's together stay well below the server's
/// memory budget (the operating system caches the file besides).
const CACHE_MB_PER_CONNECTION: u32 = 16;

/// The server's connections to the store. An in-memory store has one (no second connection
/// sees it); a store that refuses more connections keeps the ones it gave.
pub(crate) struct Pool {
    conns: Vec<Arc<Mutex<Store>>>,
    next: AtomicUsize,
    /// One permit per connection: the store work running or about to run.
    slots: Arc<tokio::sync::Semaphore>,
}

impl Pool {
    fn open(store: Store) -> Pool {
        if let Err(e) = store.limit_cache(CACHE_MB_PER_CONNECTION) {
            tracing::warn!("{e}");
        }
        let mut conns = Vec::with_capacity(CONNECTIONS);
        for _ in 1..CONNECTIONS {
            match store.open_another(CACHE_MB_PER_CONNECTION) {
                Ok(Some(another)) => conns.push(Arc::new(Mutex::new(another))),
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!("serving with fewer store connections: {e}");
                    break;
                }
            }
        }
        conns.insert(0, Arc::new(Mutex::new(store)));
        Pool {
            slots: Arc::new(tokio::sync::Semaphore::new(conns.len())),
            conns,
            next: AtomicUsize::new(0),
        }
    }

    /// A free connection, else the next one in turn (waiting for it).
    fn acquire(&self) -> Result<std::sync::MutexGuard<'_, Store>, String> {
        for conn in &self.conns {
            if let Ok(guard) = conn.try_lock() {
                return Ok(guard);
            }
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.conns.len();
        self.conns[i]
            .lock()
            .map_err(|_| "the store lock was poisoned by an earlier failure".to_string())
    }
}

/// The synchronous PostgreSQL client blocks on its own runtime when dropped, which panics
/// inside tokio's (the server's state is dropped there at shutdown): the connections are
/// closed on a plain thread instead.
impl Drop for Pool {
    fn drop(&mut self) {
        let conns = std::mem::take(&mut self.conns);
        let _ = std::thread::spawn(move || drop(conns)).join();
    }
}

/// The whole application: every route of [`routes::ROUTES`] behind its guard, the static
/// assets, and the security headers on every response.
pub fn app(state: AppState) -> axum::Router {
    routes::router(state)
}

/// Serves until Ctrl-C or SIGTERM. `on_ready` gets the bound address (port 0 resolved).
pub async fn serve(
    state: AppState,
    listen: &Listen,
    on_ready: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    serve_until(state, listen, on_ready, stop_signal()).await
}

/// glibc gives each thread that meets contention its own malloc arena (up to 8 per core) and
/// keeps their freed pages: under 20 concurrent clients the server's peak RSS grew from ~250 MB
/// to ~450 MB with no more live data. Two arenas keep it within the dashboard's memory budget
/// (254 MB) at no measured cost in throughput (BENCHMARKS.md, "Dashboard under load").
fn cap_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; M_ARENA_MAX takes any positive count.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM (what `kill` and service managers send).
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Serves until `shutdown` completes, over TLS when `listen.tls` names a certificate and key.
pub async fn serve_until(
    state: AppState,
    listen: &Listen,
    on_ready: impl FnOnce(SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use axum::serve::ListenerExt;
    listen.check().map_err(anyhow::Error::msg)?;
    cap_malloc_arenas();
    let tls = match &listen.tls {
        Some((cert, key)) => Some(tls::server_config(cert, key).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(listen.addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", listen.addr))?;
    on_ready(listener.local_addr()?);
    let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
    match tls {
        Some(config) => {
            // tap_io: axum derives the peer's SocketAddr for any listener wrapped this way.
            let listener = tls::TlsListener::new(listener, config)?.tap_io(|_| {});
            axum::serve(listener, service)
                .with_graceful_shutdown(shutdown)
                .await?
        }
        None => {
            axum::serve(listener, service)
                .with_graceful_shutdown(shutdown)
                .await?
        }
    }
    Ok(())
}
