//! `rampart serve`: the dashboard and JSON API over the history store.
//!
//! Data flow: a request passes the security-header layer, then the route's guard (who is
//! asking — a session cookie for pages, a bearer token for the API — whether their role may
//! use this route, and for a state-changing page request whether its CSRF token and origin
//! hold), then the handler, which reads or writes the store on a blocking thread. Every route
//! is declared once in [`routes::ROUTES`] with its method, path and role: the router, the
//! guard, the OpenAPI document and the role tests all walk that table.
//!
//! The store is synchronous (rusqlite / postgres): it sits behind a mutex and is used from
//! `spawn_blocking`, so a slow query never stalls the async workers.

mod api;
pub mod auth;
mod html;
mod pages;
pub mod routes;
#[cfg(test)]
mod tests;
pub mod tls;

use rampart_store::Store;
use std::net::SocketAddr;
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
    pub(crate) store: Arc<Mutex<Store>>,
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
        AppState {
            store: Arc::new(Mutex::new(store)),
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

    /// Runs `f` on the store on a blocking thread.
    pub(crate) async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, rampart_store::StoreError> + Send + 'static,
    ) -> Result<T, String> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = store
                .lock()
                .map_err(|_| "the store lock was poisoned by an earlier failure".to_string())?;
            f(&mut guard).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| format!("store task failed: {e}"))?
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
