//! The routing state machine, with time passed in: `submit` decides where each alert goes
//! (now, into a digest, or held back by a rate limit) and schedules its escalation; `tick`
//! fires due escalations and digests and makes the deliveries that are due, retrying failed
//! ones later with backoff. Nothing is dropped: a failed delivery stays in the outbox.

use crate::config::{Route, Routes};
use crate::format::{self, Kind, Outgoing};
use crate::matcher::{OrgTree, Subject, select};
use crate::state::{Ack, Journal, Pending, PendingKind, Scheduled, State, Stored};
use rampart_detect::Alert;

/// A refused delivery: a message safe to print, and how long the receiver asked to wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub retry_after: Option<i64>,
}

/// Makes the requests (HTTP, SNS). Errors must not contain secrets.
pub trait Transport {
    fn send(&mut self, out: &Outgoing) -> Result<(), Refusal>;
}

/// Longest wait between two attempts of one delivery.
pub const MAX_BACKOFF_SECS: i64 = 300;

/// Wait before attempt `attempts + 1`: 5 s, 10 s, 20 s, … capped at [`MAX_BACKOFF_SECS`].
pub fn backoff(attempts: u32) -> i64 {
    (5i64 << attempts.saturating_sub(1).min(16)).min(MAX_BACKOFF_SECS)
}

/// How long routed alerts with nothing left to do are remembered (the delivery log keeps a
/// re-read alert from going out twice within it).
pub const RETENTION_SECS: i64 = 30 * 86400;

/// What a tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Messages delivered (a digest counts once).
    pub delivered: u64,
    /// Alerts those messages carried.
    pub alerts_delivered: u64,
    pub escalated: u64,
    pub digests: u64,
    /// Attempts that failed (the deliveries stay queued).
    pub failed: u64,
    /// Deliveries still queued after the tick.
    pub queued: u64,
    /// One line per failing route (no secrets).
    pub errors: Vec<String>,
}

/// An alert as `rampart alerts list` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub id: String,
    pub summary: String,
    pub routed_at: i64,
    pub routes: Vec<String>,
    pub ack: Option<Ack>,
    /// Routes still to deliver to (queued or buffered).
    pub pending: Vec<String>,
    /// The next escalation: target route and due time.
    pub escalation: Option<(String, i64)>,
}

pub struct Router {
    routes: Routes,
    org: OrgTree,
    pub state: State,
}

impl Router {
    pub fn new(routes: Routes, org: OrgTree, state: State) -> Router {
        Router { routes, org, state }
    }

    pub fn routes(&self) -> &Routes {
        &self.routes
    }

    /// Routes a batch at `now`; returns the alerts no route took (for the CLI's own sinks).
    pub fn submit(&mut self, alerts: &[Alert], now: i64) -> Vec<Alert> {
        let mut unrouted = Vec::new();
        for a in alerts {
            let picked = select(&self.routes.routes, &Subject::of(a), &self.org);
            if picked.is_empty() {
                unrouted.push(a.clone());
                continue;
            }
            let id = a.id();
            let names: Vec<String> = picked.iter().map(|r| r.name.clone()).collect();
            let stored = self.state.alerts.entry(id.clone()).or_insert_with(|| Stored {
                record: serde_json::to_value(a).unwrap_or_default(),
                routed_at: now,
                routes: Vec::new(),
                ack: None,
            });
            for n in &names {
                if !stored.routes.contains(n) {
                    stored.routes.push(n.clone());
                }
            }
            let acked = stored.ack.is_some();
            let routes: Vec<Route> = picked.into_iter().cloned().collect();
            for r in &routes {
                if self.state.claimed(&r.name, &id) {
                    continue;
                }
                self.place(r, a, &id, now);
                if !acked {
                    self.schedule_escalation(r, &id, now);
                }
            }
        }
        unrouted
    }

    /// Now, into the digest, or (over the rate limit) into the digest due at the window's end.
    fn place(&mut self, r: &Route, a: &Alert, id: &str, now: i64) {
        if let Some(d) = r.digest
            && a.severity() <= d.max_severity
        {
            let due = now.div_euclid(d.window_secs) * d.window_secs + d.window_secs;
            self.state.buffer(&r.name, id, due);
            return;
        }
        if let Some(limit) = r.rate_limit {
            let start = now.div_euclid(limit.per_secs) * limit.per_secs;
            let w = self
                .state
                .rate
                .entry(r.name.clone())
                .or_insert(crate::state::Window { start, sent: 0 });
            if w.start != start {
                *w = crate::state::Window { start, sent: 0 };
            }
            if w.sent >= limit.count {
                self.state.buffer(&r.name, id, start + limit.per_secs);
                return;
            }
            w.sent += 1;
        }
        self.state.enqueue(Pending {
            route: r.name.clone(),
            key: id.to_string(),
            ids: vec![id.to_string()],
            kind: PendingKind::Alert,
            attempts: 0,
            next_try: now,
            last_error: None,
        });
    }

    fn schedule_escalation(&mut self, r: &Route, id: &str, now: i64) {
        if let Some(e) = &r.escalation
            && !self
                .state
                .escalations
                .iter()
                .any(|s| s.id == id && s.to == e.to)
        {
            self.state.escalations.push(Scheduled {
                id: id.to_string(),
                from: r.name.clone(),
                to: e.to.clone(),
                due: now + e.after_secs,
                after_secs: e.after_secs,
            });
        }
    }

    /// Acknowledges an alert (a unique id prefix of at least 6 characters will do): its
    /// escalations are cancelled and PagerDuty routes that paged it are told. Returns the id.
    pub fn ack(
        &mut self,
        id: &str,
        by: &str,
        comment: Option<&str>,
        now: i64,
    ) -> Result<String, String> {
        let id = self.resolve(id)?;
        let stored = self.state.alerts.get_mut(&id).expect("resolved");
        if let Some(a) = &stored.ack {
            return Err(format!(
                "alert {id} was already acknowledged by {} at {}",
                a.by,
                crate::rfc3339(a.at)
            ));
        }
        stored.ack = Some(Ack {
            by: by.to_string(),
            comment: comment.map(str::to_string),
            at: now,
        });
        let routes = stored.routes.clone();
        self.state.escalations.retain(|s| s.id != id);
        // every route that paged it (the first routes, and escalation targets delivered to)
        let paged: Vec<String> = self
            .routes
            .routes
            .iter()
            .filter(|r| matches!(r.destination, crate::config::Destination::PagerDuty { .. }))
            .filter(|r| routes.contains(&r.name) || self.state.is_delivered(&r.name, &id))
            .map(|r| r.name.clone())
            .collect();
        for route in paged {
            let key = format!("ack:{id}");
            if self.state.is_delivered(&route, &key) {
                continue;
            }
            self.state.enqueue(Pending {
                route,
                key,
                ids: vec![id.clone()],
                kind: PendingKind::Acknowledged { by: by.to_string() },
                attempts: 0,
                next_try: now,
                last_error: None,
            });
        }
        Ok(id)
    }

    fn resolve(&self, id: &str) -> Result<String, String> {
        let id = id.trim().to_ascii_lowercase();
        if self.state.alerts.contains_key(&id) {
            return Ok(id);
        }
        if id.len() >= 6 {
            let found: Vec<&String> = self
                .state
                .alerts
                .keys()
                .filter(|k| k.starts_with(&id))
                .collect();
            match found[..] {
                [one] => return Ok(one.clone()),
                [] => {}
                _ => return Err(format!("{id} names {} alerts; give more of the id", found.len())),
            }
        }
        Err(format!(
            "no routed alert {id}; `rampart alerts list` shows the routed alerts"
        ))
    }

    /// Makes every queued delivery due now (a caller retrying within a run).
    pub fn retry_now(&mut self, now: i64) {
        for p in &mut self.state.outbox {
            p.next_try = p.next_try.min(now);
        }
    }

    /// Fires due escalations and digests, then makes the due deliveries.
    pub fn tick(
        &mut self,
        now: i64,
        transport: &mut dyn Transport,
        journal: &mut dyn Journal,
    ) -> TickReport {
        let mut rep = TickReport::default();
        self.fire_escalations(now, &mut rep);
        self.fire_digests(now, &mut rep);
        self.deliver(now, transport, journal, &mut rep);
        self.state.prune(now - RETENTION_SECS);
        rep.queued = self.state.outbox.len() as u64
            + self.state.digests.values().map(|b| b.ids.len() as u64).sum::<u64>();
        rep
    }

    fn fire_escalations(&mut self, now: i64, rep: &mut TickReport) {
        let (due, later): (Vec<Scheduled>, Vec<Scheduled>) = std::mem::take(&mut self.state.escalations)
            .into_iter()
            .partition(|s| s.due <= now);
        self.state.escalations = later;
        for s in due {
            let acked = self.state.alerts.get(&s.id).is_none_or(|a| a.ack.is_some());
            let Some(target) = self.routes.get(&s.to).cloned() else {
                continue;
            };
            if acked || self.state.claimed(&target.name, &s.id) {
                continue;
            }
            rep.escalated += 1;
            self.state.enqueue(Pending {
                route: target.name.clone(),
                key: s.id.clone(),
                ids: vec![s.id.clone()],
                kind: PendingKind::Escalation {
                    from: s.from.clone(),
                    after_secs: s.after_secs,
                },
                attempts: 0,
                next_try: now,
                last_error: None,
            });
            if let Some(stored) = self.state.alerts.get_mut(&s.id)
                && !stored.routes.contains(&target.name)
            {
                stored.routes.push(target.name.clone());
            }
            self.schedule_escalation(&target, &s.id, now);
        }
    }

    fn fire_digests(&mut self, now: i64, rep: &mut TickReport) {
        let due: Vec<String> = self
            .state
            .digests
            .iter()
            .filter(|(_, b)| b.due <= now)
            .map(|(r, _)| r.clone())
            .collect();
        for route in due {
            let b = self.state.digests.remove(&route).expect("listed");
            let key = format!("digest:{route}:{}", b.due);
            let ids: Vec<String> = b
                .ids
                .into_iter()
                .filter(|id| !self.state.is_delivered(&route, id))
                .collect();
            if ids.is_empty() || self.state.is_delivered(&route, &key) {
                continue;
            }
            rep.digests += 1;
            self.state.enqueue(Pending {
                route,
                key,
                ids,
                kind: PendingKind::Digest,
                attempts: 0,
                next_try: now,
                last_error: None,
            });
        }
    }

    fn deliver(
        &mut self,
        now: i64,
        transport: &mut dyn Transport,
        journal: &mut dyn Journal,
        rep: &mut TickReport,
    ) {
        // a route that refused in this tick is not tried again before its next retry time: an
        // outage costs one failed request per route and tick, not one per queued alert
        let mut down: Vec<(String, i64, String)> = Vec::new();
        let mut i = 0;
        while i < self.state.outbox.len() {
            let p = &self.state.outbox[i];
            if p.next_try > now {
                i += 1;
                continue;
            }
            if let Some((_, until, msg)) = down.iter().find(|(r, _, _)| *r == p.route) {
                let (until, msg) = (*until, msg.clone());
                let p = &mut self.state.outbox[i];
                p.next_try = until;
                p.last_error = Some(msg);
                i += 1;
                continue;
            }
            let Some(route) = self.routes.get(&p.route) else {
                rep.errors.push(format!(
                    "route `{}` is no longer configured; {} kept in the outbox",
                    p.route, p.key
                ));
                i += 1;
                continue;
            };
            let out = match self.message(route, p, now) {
                Ok(o) => o,
                Err(e) => {
                    rep.errors.push(format!("route `{}`: {e}", p.route));
                    i += 1;
                    continue;
                }
            };
            match transport.send(&out) {
                Ok(()) => {
                    let p = self.state.outbox.remove(i);
                    let mut keys = vec![p.key.clone()];
                    if p.kind == PendingKind::Digest {
                        keys.extend(p.ids.iter().cloned());
                    }
                    if let Err(e) = journal.delivered(&p.route, &keys) {
                        rep.errors.push(e);
                    }
                    self.state.mark_delivered(&p.route, &keys);
                    rep.delivered += 1;
                    rep.alerts_delivered += p.ids.len() as u64;
                }
                Err(refusal) => {
                    rep.failed += 1;
                    let p = &mut self.state.outbox[i];
                    p.attempts += 1;
                    let wait = backoff(p.attempts).max(refusal.retry_after.unwrap_or(0));
                    p.next_try = now + wait;
                    p.last_error = Some(refusal.message.clone());
                    rep.errors.push(format!(
                        "route `{}`: {}; retried in {}",
                        p.route,
                        refusal.message,
                        format::human(wait)
                    ));
                    down.push((p.route.clone(), now + wait, refusal.message));
                    i += 1;
                }
            }
        }
    }

    fn alert(&self, id: &str) -> Result<Alert, String> {
        let s = self
            .state
            .alerts
            .get(id)
            .ok_or_else(|| format!("alert {id} is not in the routing state"))?;
        Alert::from_record(&s.record).map_err(|e| format!("alert {id}: {e}"))
    }

    fn message(&self, route: &Route, p: &Pending, now: i64) -> Result<Outgoing, String> {
        if p.kind == PendingKind::Digest {
            let alerts = p
                .ids
                .iter()
                .map(|id| self.alert(id))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(format::digest(&route.destination, &route.name, &p.key, &alerts, now));
        }
        let a = self.alert(&p.ids[0])?;
        let kind = match &p.kind {
            PendingKind::Escalation { from, after_secs } => Kind::Escalation {
                from: from.clone(),
                after_secs: *after_secs,
            },
            PendingKind::Acknowledged { by } => Kind::Acknowledged { by: by.clone() },
            _ => Kind::Alert,
        };
        Ok(format::outgoing(&route.destination, &a, &kind, now))
    }

    /// The routed alerts, newest first; only those not acknowledged with `open`.
    pub fn list(&self, open: bool) -> Vec<Listed> {
        let mut out: Vec<Listed> = self
            .state
            .alerts
            .iter()
            .filter(|(_, s)| !open || s.ack.is_none())
            .map(|(id, s)| Listed {
                id: id.clone(),
                summary: Alert::from_record(&s.record)
                    .map(|a| a.summary())
                    .unwrap_or_else(|e| format!("(unreadable record: {e})")),
                routed_at: s.routed_at,
                routes: s.routes.clone(),
                ack: s.ack.clone(),
                pending: s
                    .routes
                    .iter()
                    .filter(|r| !self.state.is_delivered(r, id))
                    .filter(|r| self.state.claimed(r, id))
                    .cloned()
                    .collect(),
                escalation: self
                    .state
                    .escalations
                    .iter()
                    .filter(|e| &e.id == id)
                    .min_by_key(|e| e.due)
                    .map(|e| (e.to.clone(), e.due)),
            })
            .collect();
        out.sort_by(|a, b| b.routed_at.cmp(&a.routed_at).then(a.id.cmp(&b.id)));
        out
    }
}
