//! `rampart alerts ack|list|tick`, and the routed dispatcher every alert-raising verb sends
//! through: `[[alerts.route]]` from rampart.toml in front of the command line's own sinks
//! (`--webhook`, `--sns-topic`), which take the alerts no route matched.

use crate::cli::{Exit, Global};
use crate::cmd::output;
use anyhow::Context;
use rampart_detect::Alert;
use rampart_detect::sink::{Dispatcher, Sink, SinkReport, WebhookSink};
use rampart_route::state::{Ack, Journal, Persist, State, StateFile};
use rampart_route::transport::LiveTransport;
use rampart_route::{OrgTree, Router, Routes, TickReport};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  rampart alerts list --open\n  rampart alerts ack 3f2a9c1e --by ana --comment \"my key rotation\"\n  rampart alerts tick   # from cron or a timer: due digests, escalations, retries\n\nExit codes: 0 done; 1 an error, or deliveries still queued after `tick` (they are kept and retried)."
)]
pub struct AlertsArgs {
    /// The routing state file when no history store is configured (`detect` keeps it beside
    /// its `--spool`, by default in the current directory); with `[store]` the state is there.
    #[arg(long, value_name = "FILE", global = true, default_value = DEFAULT_STATE)]
    pub state: PathBuf,
    #[command(subcommand)]
    pub command: AlertsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum AlertsCommand {
    /// Acknowledge an alert: its escalations stop, PagerDuty is told.
    Ack {
        /// The alert id (`rampart alerts list`; a unique prefix of 6+ characters will do).
        id: String,
        /// Who acknowledges (default: $USER).
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
        #[arg(long, value_name = "TEXT")]
        comment: Option<String>,
    },
    /// The routed alerts, newest first.
    List {
        /// Only alerts not acknowledged.
        #[arg(long)]
        open: bool,
    },
    /// Send due digests and escalations and retry queued deliveries.
    Tick,
}

/// The routing state's file name, kept beside the spool (`--spool`'s directory).
const DEFAULT_STATE: &str = "rampart-routes.json";

/// Retries within a run before a delivery is left queued for the next tick (as the plain
/// dispatcher retries: 3 times, 200 ms doubling).
const RETRIES: u32 = 3;
const BACKOFF: Duration = Duration::from_millis(200);

/// How often `detect --follow` ticks the router while waiting for events.
const TICK_EVERY: Duration = Duration::from_secs(30);

/// How often a long run rewrites the state snapshot (deliveries are journaled as they happen;
/// the snapshot is also written after a failure and when the run ends).
const SAVE_EVERY: Duration = Duration::from_secs(5);

fn unix_now() -> i64 {
    crate::cmd::store::now().timestamp()
}

/// The routes of `g.config` (none when the file does not exist), with the organization tree
/// they match OUs against.
pub(crate) fn routes(g: &Global) -> anyhow::Result<(Routes, OrgTree)> {
    let text = match std::fs::read_to_string(&g.config) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((Routes::default(), OrgTree::default()));
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", g.config.display())),
    };
    let shown = g.config.display().to_string();
    let routes = rampart_route::config::parse(&text, &shown, &rampart_route::config::SystemSecrets)
        .map_err(anyhow::Error::msg)?;
    let org = match &routes.org_snapshot {
        None => OrgTree::default(),
        Some(p) => {
            let path = match g.config.parent().filter(|d| !d.as_os_str().is_empty()) {
                Some(dir) if Path::new(p).is_relative() => dir.join(p),
                _ => PathBuf::from(p),
            };
            let snap = rampart_snapshot::Snapshot::load(&path).map_err(|e| {
                anyhow::anyhow!("[alerts] org_snapshot: {e}; run `rampart collect -o {p}`")
            })?;
            let org = snap.organization.ok_or_else(|| {
                anyhow::anyhow!(
                    "[alerts] org_snapshot {}: no organization in it (collected from a single account?); OU routes need the management account's view",
                    path.display()
                )
            })?;
            OrgTree::from_organization(&org)
        }
    };
    Ok((routes, org))
}

#[cfg(feature = "aws")]
fn sns_publisher(g: &Global) -> anyhow::Result<Box<dyn rampart_detect::sink::SnsPublisher>> {
    let aws = rampart_aws::BlockingAws::connect(&crate::cmd::collect::options(g))
        .map_err(|e| anyhow::anyhow!("SNS routes: {e}"))?;
    Ok(Box::new(crate::cmd::detect::SdkPublisher(aws)))
}

#[cfg(not(feature = "aws"))]
fn sns_publisher(_g: &Global) -> anyhow::Result<Box<dyn rampart_detect::sink::SnsPublisher>> {
    anyhow::bail!(
        "an [[alerts.route]] publishes to SNS, but this rampart was built without AWS access (--no-default-features); build with the default `aws` feature"
    )
}

/// The routing state in the history store (`[store]`): snapshot, delivery log, acks.
struct StorePersist {
    store: rampart_store::Store,
}

impl Journal for StorePersist {
    fn delivered(&mut self, route: &str, keys: &[String]) -> Result<(), String> {
        self.store
            .record_route_delivery(route, keys, unix_now())
            .map_err(|e| e.to_string())
    }
}

impl Persist for StorePersist {
    fn load(&mut self) -> Result<State, String> {
        let saved = self.store.routing_state().map_err(|e| e.to_string())?;
        State::restore_from(
            saved.snapshot.as_deref(),
            saved
                .delivered
                .into_iter()
                .map(|(route, key)| (route, vec![key])),
        )
        .map_err(|e| format!("{}: routing state: {e}", self.describe()))
    }
    fn save(&mut self, s: &State) -> Result<(), String> {
        let now = unix_now();
        // a day of margin: the router forgets an alert's deliveries with the alert itself
        let forget = now - rampart_route::router::RETENTION_SECS - 86400;
        self.store
            .save_routing_state(&s.to_json(), now, forget)
            .map_err(|e| e.to_string())
    }
    fn acked(&mut self, id: &str, ack: &Ack) -> Result<(), String> {
        self.store
            .record_alert_ack(&rampart_store::AlertAck {
                alert_id: id.to_string(),
                by: ack.by.clone(),
                comment: ack.comment.clone(),
                at: ack.at,
            })
            .map_err(|e| e.to_string())
    }
    /// `rampart alerts ack`'s and the dashboard's acknowledgements (one table).
    fn acks(&mut self) -> Result<Vec<(String, Ack)>, String> {
        Ok(self
            .store
            .alert_acks()
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|a| {
                (
                    a.alert_id,
                    Ack {
                        by: a.by,
                        comment: a.comment,
                        at: a.at,
                    },
                )
            })
            .collect())
    }
    fn describe(&self) -> String {
        format!("the store {}", self.store.url())
    }
}

/// The history store when one is configured (`[store]`, `--store`), else `file`.
fn persistence(g: &Global, file: &Path) -> anyhow::Result<Box<dyn Persist>> {
    Ok(match crate::cmd::store::configured_url(g)? {
        Some(url) => Box::new(StorePersist {
            store: crate::cmd::store::open(&url)?,
        }),
        None => Box::new(StateFile::new(file)),
    })
}

/// The router with its state and transport.
struct Live {
    router: Router,
    persist: Box<dyn Persist>,
    transport: LiveTransport,
    last_tick: Instant,
    last_save: Instant,
    /// Errors of the latest attempt per route (the run's result reports them).
    errors: Vec<String>,
    delivered: u64,
}

fn live(g: &Global, routes: Routes, org: OrgTree, state: &Path) -> anyhow::Result<Live> {
    let sns = if routes
        .routes
        .iter()
        .any(|r| matches!(r.destination, rampart_route::Destination::Sns { .. }))
    {
        Some(sns_publisher(g)?)
    } else {
        None
    };
    let mut persist = persistence(g, state)?;
    let st = persist.load().map_err(anyhow::Error::msg)?;
    let mut router = Router::new(routes, org, st);
    router.adopt_acks(persist.acks().map_err(anyhow::Error::msg)?, unix_now());
    Ok(Live {
        router,
        persist,
        transport: LiveTransport::new(sns),
        last_tick: Instant::now(),
        last_save: Instant::now(),
        errors: Vec::new(),
        delivered: 0,
    })
}

impl Live {
    /// Ticks, retrying what failed a few times within the run, then saves the state.
    fn tick(&mut self) -> TickReport {
        // acks made meanwhile (the dashboard, another `rampart alerts ack`) stop escalations
        // before they fire, also in a long `detect --follow`
        let adopt_error = match self.persist.acks() {
            Ok(acks) => {
                self.router.adopt_acks(acks, unix_now());
                None
            }
            Err(e) => Some(e),
        };
        let mut rep = self
            .router
            .tick(unix_now(), &mut self.transport, self.persist.as_mut());
        for attempt in 0..RETRIES {
            if rep.failed == 0 || self.router.state.outbox.is_empty() {
                break;
            }
            std::thread::sleep(BACKOFF * 2u32.pow(attempt));
            let now = unix_now();
            self.router.retry_now(now);
            let again = self
                .router
                .tick(now, &mut self.transport, self.persist.as_mut());
            rep.delivered += again.delivered;
            rep.alerts_delivered += again.alerts_delivered;
            rep.escalated += again.escalated;
            rep.digests += again.digests;
            rep.failed = again.failed;
            rep.queued = again.queued;
            rep.errors = again.errors;
        }
        rep.errors.extend(adopt_error);
        if rep.failed > 0 || self.last_save.elapsed() >= SAVE_EVERY {
            self.save(&mut rep.errors);
        }
        self.last_tick = Instant::now();
        self.delivered += rep.delivered;
        self.errors = rep.errors.clone();
        rep
    }
}

impl Live {
    fn save(&mut self, errors: &mut Vec<String>) {
        if let Err(e) = self.persist.save(&self.router.state) {
            errors.push(e);
        }
        self.last_save = Instant::now();
    }
}

impl Drop for Live {
    /// The run's routing state is written when it ends, however it ends short of a crash.
    fn drop(&mut self) {
        let mut errors = Vec::new();
        self.save(&mut errors);
        for e in errors {
            eprintln!("rampart: error: {e}");
        }
    }
}

/// Alerts to their routes and, where none matched, to the command line's sinks.
pub(crate) struct Routed {
    /// Sinks every alert goes to (stdout, `-o FILE`).
    all: Dispatcher,
    /// `--webhook`, `--sns-topic`: alerts no route took (all alerts without routes).
    fallback: Dispatcher,
    live: Option<Live>,
}

/// The dispatcher of an alert-raising verb: `output` (stdout or `-o`) gets every alert;
/// `[[alerts.route]]` routes from `g.config` (state beside `spool`); `webhook`/`sns_topic`
/// take what no route matched (or everything when there are no routes).
pub(crate) fn dispatcher(
    g: &Global,
    output: Option<Box<dyn Sink>>,
    webhook: Option<&str>,
    sns_topic: Option<&str>,
    spool: &Path,
) -> anyhow::Result<Routed> {
    let mut all = Dispatcher::new(spool.to_path_buf());
    if let Some(o) = output {
        all.add(o);
    }
    let mut fallback = Dispatcher::new(spool.to_path_buf());
    if let Some(url) = webhook {
        fallback.add(Box::new(WebhookSink::new(url).map_err(anyhow::Error::msg)?));
    }
    if let Some(topic) = sns_topic {
        fallback.add(crate::cmd::detect::sns_sink(g, topic)?);
    }
    let (routes, org) = routes(g)?;
    let live = if routes.is_empty() {
        None
    } else {
        Some(live(g, routes, org, &state_beside(spool))?)
    };
    Ok(Routed {
        all,
        fallback,
        live,
    })
}

/// `rampart-routes.json` in the spool's directory.
pub(crate) fn state_beside(spool: &Path) -> PathBuf {
    match spool.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => dir.join(DEFAULT_STATE),
        None => PathBuf::from(DEFAULT_STATE),
    }
}

impl Routed {
    /// Delivers a batch: every alert to the output sinks, routed alerts to their routes.
    pub(crate) fn send(&mut self, alerts: &[Alert]) {
        if alerts.is_empty() {
            return;
        }
        self.all.send(alerts);
        match &mut self.live {
            None => self.fallback.send(alerts),
            Some(l) => {
                let unrouted = l.router.submit(alerts, unix_now());
                self.fallback.send(&unrouted);
                l.tick();
            }
        }
    }

    /// Due digests, escalations and retries, at most every 30 s (`detect --follow`).
    pub(crate) fn tick_periodically(&mut self) {
        if let Some(l) = &mut self.live
            && l.last_tick.elapsed() >= TICK_EVERY
        {
            l.tick();
        }
    }

    /// Per-sink results; routes report as one sink each (errors: deliveries still queued).
    pub(crate) fn reports(&self) -> Vec<SinkReport> {
        let mut out = self.all.reports();
        out.extend(self.fallback.reports());
        if let Some(l) = &self.live {
            let queued = l.router.state.outbox.len();
            let mut errors = l.errors.clone();
            if queued > 0 {
                errors.push(format!(
                    "routes: {queued} delivery(ies) queued in {}; `rampart alerts tick` retries them",
                    l.persist.describe()
                ));
            }
            out.push(SinkReport {
                name: "routes".into(),
                delivered: l.delivered,
                spooled: queued as u64,
                errors,
            });
        }
        out
    }
}

pub fn run(g: &Global, a: &AlertsArgs) -> anyhow::Result<Exit> {
    let (routes, org) = routes(g)?;
    match &a.command {
        AlertsCommand::List { open } => {
            let mut persist = persistence(g, &a.state)?;
            let st = persist.load().map_err(anyhow::Error::msg)?;
            let mut router = Router::new(routes, org, st);
            // shown as acknowledged at once; the next tick tells PagerDuty and saves it
            router.adopt_acks(persist.acks().map_err(anyhow::Error::msg)?, unix_now());
            let rows = router.list(*open);
            if rows.is_empty() {
                output::note(g, "rampart: no routed alerts");
                return Ok(Exit::Ok);
            }
            let mut text = String::new();
            for r in rows {
                let status = match &r.ack {
                    Some(ack) => format!(
                        "acked by {} at {}{}",
                        ack.by,
                        rampart_route::rfc3339(ack.at),
                        ack.comment
                            .as_deref()
                            .map(|c| format!(" ({c})"))
                            .unwrap_or_default()
                    ),
                    None => match &r.escalation {
                        Some((to, due)) => {
                            format!(
                                "open; escalates to {to} at {}",
                                rampart_route::rfc3339(*due)
                            )
                        }
                        None => "open".into(),
                    },
                };
                let pending = if r.pending.is_empty() {
                    String::new()
                } else {
                    format!("; pending: {}", r.pending.join(", "))
                };
                text.push_str(&format!(
                    "{}  {}  routes: {}  {status}{pending}\n  {}\n",
                    r.id,
                    rampart_route::rfc3339(r.routed_at),
                    r.routes.join(", "),
                    r.summary
                ));
            }
            output::emit(g, &text)?;
            Ok(Exit::Ok)
        }
        AlertsCommand::Ack { id, by, comment } => {
            let mut l = live(g, routes, org, &a.state)?;
            let who = by
                .clone()
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "unknown".into());
            let id = l
                .router
                .ack(id, &who, comment.as_deref(), unix_now())
                .map_err(|e| anyhow::anyhow!("{}: {e}", l.persist.describe()))?;
            if let Some(ack) = l.router.state.alerts.get(&id).and_then(|s| s.ack.clone()) {
                l.persist.acked(&id, &ack).map_err(anyhow::Error::msg)?;
            }
            l.persist
                .save(&l.router.state)
                .map_err(anyhow::Error::msg)?;
            output::note(g, format!("rampart: alert {id} acknowledged by {who}"));
            // tell PagerDuty now (the rest of the outbox waits for the next tick)
            if l.router.state.outbox.iter().any(|p| {
                matches!(
                    p.kind,
                    rampart_route::state::PendingKind::Acknowledged { .. }
                )
            }) {
                return tick_and_report(g, &mut l);
            }
            Ok(Exit::Ok)
        }
        AlertsCommand::Tick => {
            let mut l = live(g, routes, org, &a.state)?;
            // asked for by a person or a timer: queued deliveries are retried now, whatever
            // their backoff (a long-running `detect --follow` keeps its backoff)
            l.router.retry_now(unix_now());
            tick_and_report(g, &mut l)
        }
    }
}

fn tick_and_report(g: &Global, l: &mut Live) -> anyhow::Result<Exit> {
    let rep = l.tick();
    output::note(
        g,
        format!(
            "rampart: {} message(s) delivered ({} alert(s)), {} escalation(s), {} digest(s), {} still queued",
            rep.delivered, rep.alerts_delivered, rep.escalated, rep.digests, rep.queued
        ),
    );
    for e in &rep.errors {
        eprintln!("rampart: error: {e}");
    }
    Ok(if rep.failed > 0 || !rep.errors.is_empty() {
        Exit::Error
    } else {
        Exit::Ok
    })
}
