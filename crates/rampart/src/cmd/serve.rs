//! `rampart serve`: the dashboard and API over the history store, and its users and tokens.
//! With a `[schedule]` section it also runs the scheduler (`rampart schedule run`) in the same
//! process, and the Drift page's apply button applies through `rampart apply`'s code.

use crate::cli::{Exit, Global};
use crate::cmd::output;
use crate::cmd::store::{for_reading, now, parse_age};
use anyhow::{Context, bail};
use rampart_schedule::{ScheduleConfig, Scheduler, Shutdown};
use rampart_serve::{AppState, JobError, Listen, Role, auth};
use rampart_store::{ApiTokenRecord, AuditLogEntry, Store, UserRecord};
use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ServeArgs {
    #[command(subcommand)]
    pub command: Option<ServeCommand>,
    /// Address to listen on; anything but loopback needs TLS or --behind-proxy.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// TLS certificate chain (PEM): serve HTTPS (cookies Secure; a non-loopback --listen allowed).
    #[arg(long, requires = "tls_key", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM), with --tls-cert.
    #[arg(long, requires = "tls_cert", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// A reverse proxy terminates TLS in front: allows a non-loopback --listen, marks session
    /// cookies Secure and takes the client address from X-Forwarded-For.
    #[arg(long)]
    pub behind_proxy: bool,
    /// Do not run the `[schedule]` jobs in this process (e.g. `rampart schedule run` runs
    /// them elsewhere).
    #[arg(long)]
    pub no_schedule: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum ServeCommand {
    /// Local users of the dashboard (roles viewer < operator < admin).
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens for automation (Authorization: Bearer TOKEN).
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Add a user; the password comes from a prompt, --password-file, or stdin when piped.
    Add {
        name: String,
        #[arg(long)]
        role: Role,
        /// Read the password from this file's first line (`-`: stdin).
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// List users and their roles.
    List,
    /// Remove a user and end their sessions.
    Remove { name: String },
    /// Change a user's role.
    SetRole {
        name: String,
        #[arg(long)]
        role: Role,
    },
    /// Set a new password (ends the user's sessions).
    Passwd {
        name: String,
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create a token; it is printed once and only its SHA-256 is stored.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: Role,
        /// Lifetime: `30d`, `12w`, `24h`.
        #[arg(long, default_value = "30d")]
        expires: String,
    },
    /// List tokens (never their values).
    List,
    /// Revoke a token at once.
    Revoke { name: String },
}

/// Who runs a CLI change, for the audit log.
fn cli_actor() -> String {
    std::env::var("USER").unwrap_or_else(|_| "cli".into())
}

fn audit(store: &mut Store, action: &str, target: &str, detail: String) -> anyhow::Result<()> {
    store
        .append_audit(&AuditLogEntry {
            at: now(),
            actor: cli_actor(),
            via: "cli".into(),
            action: action.into(),
            target: target.into(),
            detail,
        })
        .map_err(|e| anyhow::anyhow!("{e}"))
}

fn se<T>(r: Result<T, rampart_store::StoreError>) -> anyhow::Result<T> {
    r.map_err(|e| anyhow::anyhow!("{e}"))
}

/// The new password: from a file (`-` = stdin), a no-echo prompt (asked twice), or stdin.
fn read_password(file: Option<&Path>) -> anyhow::Result<String> {
    let first_line = |text: String| text.lines().next().unwrap_or_default().to_string();
    let password = match file {
        Some(p) if p == Path::new("-") => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            first_line(line)
        }
        Some(p) => first_line(
            std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the password file {}", p.display()))?,
        ),
        None if std::io::stdin().is_terminal() => {
            let a = rpassword::prompt_password("Password: ")?;
            let b = rpassword::prompt_password("Again: ")?;
            if a != b {
                bail!("the two passwords differ; run the command again");
            }
            a
        }
        None => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            first_line(line)
        }
    };
    auth::check_password_policy(&password).map_err(anyhow::Error::msg)?;
    Ok(password)
}

pub fn run(g: &Global, a: &ServeArgs) -> anyhow::Result<Exit> {
    let mut store = for_reading(g)?;
    match &a.command {
        None => {
            let listen = Listen {
                addr: a.listen,
                tls: a.tls_cert.clone().zip(a.tls_key.clone()),
                behind_proxy: a.behind_proxy,
            };
            listen.check().map_err(anyhow::Error::msg)?;
            if se(store.users())?.is_empty() {
                output::note(
                    g,
                    "rampart serve: no users yet; add one with `rampart serve user add NAME --role admin`",
                );
            }
            let scheduler = if a.no_schedule {
                None
            } else {
                embedded_scheduler(g)?
            };
            let state =
                AppState::new(store, &listen).with_jobs(Arc::new(DashboardApply { g: g.clone() }));
            start(g, state, &listen, None, scheduler)?;
        }
        Some(ServeCommand::User(c)) => user(g, &mut store, c)?,
        Some(ServeCommand::Token(c)) => token(g, &mut store, c)?,
    }
    Ok(Exit::Ok)
}

/// The scheduler of `[schedule]` when it schedules any job, with a note on what runs when.
fn embedded_scheduler(g: &Global) -> anyhow::Result<Option<Scheduler>> {
    if !g.config.exists() {
        return Ok(None);
    }
    let cfg = ScheduleConfig::load(&g.config).map_err(anyhow::Error::msg)?;
    if cfg.schedules.is_empty() {
        return Ok(None);
    }
    let sched = crate::cmd::schedule::scheduler(g, &cfg, None)?;
    let plan: Vec<String> = sched
        .plan()
        .map_err(anyhow::Error::msg)?
        .iter()
        .map(|p| {
            format!(
                "{} {} (next {} UTC{})",
                p.job,
                p.schedule.spec,
                p.next.format("%Y-%m-%d %H:%M"),
                if p.reason == "scheduled" {
                    String::new()
                } else {
                    format!(", {}", p.reason)
                }
            )
        })
        .collect();
    output::note(
        g,
        format!(
            "rampart serve: scheduler on ({}): {}; --no-schedule turns it off",
            g.config.display(),
            plan.join(", ")
        ),
    );
    Ok(Some(sched))
}

/// Runs the server (and the scheduler, when given) until Ctrl-C or SIGTERM, printing its URL
/// (and a login link when given). On the signal the server drains its connections and the
/// scheduler starts nothing new; a job still running is recorded `running` and marked
/// interrupted (and run again) at the next start, as with `rampart schedule run`.
pub fn start(
    g: &Global,
    state: AppState,
    listen: &Listen,
    login_link: Option<&str>,
    scheduler: Option<Scheduler>,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let stop = Shutdown::new();
    let scheduler = match scheduler {
        Some(s) => {
            let stop = stop.clone();
            let quiet = g.quiet;
            Some(
                std::thread::Builder::new()
                    .name("rampart-scheduler".into())
                    .spawn(move || {
                        if let Err(e) = s.run_until(&stop)
                            && !quiet
                        {
                            eprintln!(
                                "rampart: the scheduler stopped: {e}; the dashboard keeps running, restart `rampart serve` to schedule again"
                            );
                        }
                    })
                    .context("cannot start the scheduler thread")?,
            )
        }
        None => None,
    };
    let served = runtime.block_on(rampart_serve::serve(state, listen, |addr| {
        let scheme = if listen.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let mut text =
            format!("rampart serve: dashboard at {scheme}://{addr}/ (Ctrl-C or SIGTERM stops)");
        if let Some(link) = login_link {
            text.push_str(&format!(
                "\nOne-time login (valid 10 minutes): {scheme}://{addr}/login/link/{link}"
            ));
        }
        output::note(g, text);
    }));
    stop.trigger();
    if let Some(t) = scheduler {
        let _ = t.join();
        output::note(g, "rampart serve: stopped (server and scheduler)");
    } else {
        output::note(g, "rampart serve: stopped");
    }
    served
}

/// The Drift page's apply button: `rampart apply` of the recorded plan (see
/// [`crate::cmd::apply::apply_recorded`]).
struct DashboardApply {
    g: Global,
}

impl rampart_serve::Jobs for DashboardApply {
    fn apply(&self, run_id: i64, confirm_destructive: bool) -> Result<String, JobError> {
        crate::cmd::apply::apply_recorded(&self.g, run_id, confirm_destructive)
    }
}

fn user(g: &Global, store: &mut Store, c: &UserCommand) -> anyhow::Result<()> {
    match c {
        UserCommand::Add {
            name,
            role,
            password_file,
        } => {
            if name.trim().is_empty() || name.contains(':') {
                bail!("user name {name:?}: use a non-empty name without ':'");
            }
            let hash = auth::hash_password(&read_password(password_file.as_deref())?)
                .map_err(anyhow::Error::msg)?;
            let added = se(store.add_user(&UserRecord {
                name: name.clone(),
                role: role.as_str().into(),
                password_hash: hash,
                created_at: now(),
            }))?;
            if !added {
                bail!(
                    "user {name} exists already; `rampart serve user set-role` or `passwd` change it"
                );
            }
            audit(store, "user.add", name, format!("role {role}"))?;
            output::emit(g, &format!("added {name} ({role})\n"))?;
        }
        UserCommand::List => {
            let mut text = String::new();
            for u in se(store.users())? {
                text.push_str(&format!(
                    "{:<20} {:<9} since {}\n",
                    u.name,
                    u.role,
                    u.created_at.format("%Y-%m-%d")
                ));
            }
            output::emit(g, &text)?;
        }
        UserCommand::Remove { name } => {
            if !se(store.remove_user(name))? {
                bail!("no user {name}; `rampart serve user list` lists them");
            }
            audit(store, "user.remove", name, String::new())?;
            output::emit(g, &format!("removed {name}\n"))?;
        }
        UserCommand::SetRole { name, role } => {
            if !se(store.set_user_role(name, role.as_str()))? {
                bail!("no user {name}; `rampart serve user list` lists them");
            }
            audit(store, "user.set-role", name, format!("role {role}"))?;
            output::emit(g, &format!("{name} is now {role}\n"))?;
        }
        UserCommand::Passwd {
            name,
            password_file,
        } => {
            if se(store.user(name))?.is_none() {
                bail!("no user {name}; `rampart serve user list` lists them");
            }
            let hash = auth::hash_password(&read_password(password_file.as_deref())?)
                .map_err(anyhow::Error::msg)?;
            se(store.set_user_password(name, &hash))?;
            audit(store, "user.passwd", name, String::new())?;
            output::emit(
                g,
                &format!("password of {name} changed; their sessions ended\n"),
            )?;
        }
    }
    Ok(())
}

fn token(g: &Global, store: &mut Store, c: &TokenCommand) -> anyhow::Result<()> {
    match c {
        TokenCommand::Create {
            name,
            role,
            expires,
        } => {
            let life = parse_age(expires).map_err(|e| anyhow::anyhow!("--expires: {e}"))?;
            let secret = format!("rpt_{}", auth::random_secret());
            let created_at = now();
            let created = se(store.create_api_token(&ApiTokenRecord {
                name: name.clone(),
                token_hash: auth::digest(&secret),
                role: role.as_str().into(),
                created_by: cli_actor(),
                created_at,
                expires_at: created_at + life,
                revoked_at: None,
            }))?;
            if !created {
                bail!("a token named {name} exists already; choose another name or revoke it");
            }
            audit(
                store,
                "token.create",
                name,
                format!("role {role}, expires in {expires}"),
            )?;
            output::note(
                g,
                format!(
                    "token {name} ({role}) expires {}; it is shown only now:",
                    (created_at + life).format("%Y-%m-%d %H:%M UTC")
                ),
            );
            output::emit(g, &format!("{secret}\n"))?;
        }
        TokenCommand::List => {
            let mut text = String::new();
            for t in se(store.api_tokens())? {
                let state = match t.revoked_at {
                    Some(r) => format!("revoked {}", r.format("%Y-%m-%d")),
                    None if t.expires_at <= now() => "expired".into(),
                    None => format!("expires {}", t.expires_at.format("%Y-%m-%d")),
                };
                text.push_str(&format!(
                    "{:<20} {:<9} {state}, created by {}\n",
                    t.name, t.role, t.created_by
                ));
            }
            output::emit(g, &text)?;
        }
        TokenCommand::Revoke { name } => {
            if !se(store.revoke_api_token(name, now()))? {
                bail!("no live token {name}; `rampart serve token list` lists them");
            }
            audit(store, "token.revoke", name, String::new())?;
            output::emit(g, &format!("revoked {name}\n"))?;
        }
    }
    Ok(())
}

/// `rampart demo --serve`: the dashboard on the demo history, entered through a one-time
/// login link as the `demo` admin (whose password is random and never shown).
pub fn demo(g: &Global, history_url: &str, listen: SocketAddr) -> anyhow::Result<()> {
    let listen = Listen {
        addr: listen,
        tls: None,
        behind_proxy: false,
    };
    listen.check().map_err(anyhow::Error::msg)?;
    let mut store = crate::cmd::store::open(history_url)?;
    if se(store.user("demo"))?.is_none() {
        let hash = auth::hash_password(&auth::random_secret()).map_err(anyhow::Error::msg)?;
        se(store.add_user(&UserRecord {
            name: "demo".into(),
            role: Role::Admin.as_str().into(),
            password_hash: hash,
            created_at: now(),
        }))?;
    }
    let link = auth::random_secret();
    se(store.create_login_link(
        &auth::digest(&link),
        "demo",
        now() + chrono::Duration::minutes(10),
    ))?;
    start(g, AppState::new(store, &listen), &listen, Some(&link), None)
}
